/* SPDX-License-Identifier: GPL-2.0 */
/* kavmctl: helpers shared by the bridge, tap and link objects (errors, printing). */
#ifndef KAVMCTL_NETUTIL_H
#define KAVMCTL_NETUTIL_H

#include <kavm/json.h>
#include <kavm/rtnl.h>

/*
 * Print "kavmctl: WHAT: strerror(-err)[: reason]" where the reason is the
 * kernel's extack text or the library's own (R may be NULL); returns err.
 */
int kavmctl_net_err(const struct kavm_rtnl *r, int err, const char *what);
/* Open the route socket or print why not. */
int kavmctl_rtnl_open(struct kavm_rtnl **r);
/*
 * One change on NAME over a route socket of its own: open it, run FN, and
 * say "OBJECT NAME: VERB: why" when FN fails; returns FN's result.
 */
int kavmctl_rtnl_change(const char *object, const char *verb, const char *name,
			int (*fn)(struct kavm_rtnl *r, const char *name, const void *arg),
			const void *arg);
/* "on"/"off" -> 1/0, else -EINVAL. */
int kavmctl_parse_onoff(const char *s);
/* A decimal number in [min, max] into *out, else -EINVAL. */
int kavmctl_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* Print a usage error, then the object's grammar on stderr; returns KAVMCTL_EUSAGE. */
int kavmctl_usage_err(void (*usage)(void), const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Run a usage callback (it prints to stdout, for `help`) with its output on stderr. */
void kavmctl_usage_to_stderr(void (*usage)(void));
/* Consume "-s"/"-j" among a show command's arguments; 1 if ARG was one. */
int kavmctl_show_flag(const char *arg);

/*
 * The facts every link line carries, as "key value" pairs in text and the same
 * keys in JSON: ifindex, ifname, kind, admin, operstate, mtu, address, master.
 */
void kavmctl_print_link_head(struct json_writer *jw, const struct kavm_link_info *li);
/*
 * With -s: the 64-bit counters; text: a second indented line of rx_bytes N
 * ..., JSON: "stats64": {"rx": {"bytes": N, ...}, "tx": {...}} as ip -j -s.
 */
void kavmctl_print_link_stats(struct json_writer *jw, const struct kavm_link_info *li);
/* A bridge's own facts (stp, forward_delay, vlan_filtering, ports from the dump V). */
bool kavmctl_is_bridge(const struct kavm_link_info *li);
void kavmctl_print_bridge_details(struct json_writer *jw, const struct kavm_link_info *v, int n,
				  const struct kavm_link_info *br);
/* A tap's own facts (owner, vnet_hdr, multi_queue, persist, queues). */
bool kavmctl_is_tap(const struct kavm_link_info *li);
void kavmctl_print_tap_details(struct json_writer *jw, const struct kavm_link_info *li);
/* A VXLAN device's own facts (id, remote or group, local, dev, dstport). */
bool kavmctl_is_vxlan(const struct kavm_link_info *li);
void kavmctl_print_vxlan_details(struct json_writer *jw, const struct kavm_link_info *li);
/* "key on|off" in text, a JSON bool. */
void kavmctl_print_onoff(struct json_writer *jw, const char *key, bool v);
void kavmctl_print_uint(struct json_writer *jw, const char *key, uint64_t v);

/*
 * "OBJECT show [NAME]" over one link dump: every link match() accepts (only
 * NAME's when given, -ENODEV if it is not there), each printed by print()
 * with the whole dump at hand (a bridge lists its ports from it). r NULL:
 * a route socket of its own for this one call.
 */
struct kavmctl_show {
	const char *object; /* "bridge", "tap", "link": for messages */
	void (*usage)(void);
	bool (*match)(const struct kavm_link_info *li);
	void (*print)(struct json_writer *jw, const struct kavm_link_info *all, int n,
		      const struct kavm_link_info *li);
};
int kavmctl_show_links(struct kavm_rtnl *r, const struct kavmctl_show *s, int argc, char **argv);

#endif /* KAVMCTL_NETUTIL_H */
