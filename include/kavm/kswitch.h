/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm: a client of kavm_switch.ko's generic netlink family "kavm"
 * (include/uapi/linux/kavm_switch.h), over libnl-genl-3.
 *
 * One socket per user (struct kswitch), in the caller's network namespace,
 * NETLINK_EXT_ACK on. Every call returns 0 (or a count) or -errno; after a
 * failure kswitch_errmsg() gives the kernel's extack text verbatim ("eth0 is
 * already a port of br0"), or "" when it said nothing. Dumps that the kernel
 * marks interrupted (NLM_F_DUMP_INTR: a change ran meanwhile) are redone.
 * Devices are named by interface name, or by a decimal ifindex.
 */
#ifndef KAVM_KSWITCH_H
#define KAVM_KSWITCH_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kavm_switch.h>

#define KSWITCH_NR_STATS (KAVM_STATS_MAX + 1)

struct kswitch;

struct kswitch_info {
	char name[KAVM_SWITCH_NAME_MAX + 1];
	uint32_t ageing_ms;
	uint32_t fdb_max;
	uint32_t nports;
	uint32_t nfdb;
	uint64_t stats[KSWITCH_NR_STATS]; /* indexed by enum kavm_stats; the ports' sum */
};

struct kswitch_port_info {
	char ifname[IF_NAMESIZE];
	uint32_t ifindex;
	uint32_t flags; /* KAVM_PORT_F_* */
	bool has_mac;
	uint8_t mac[6];
	uint64_t stats[KSWITCH_NR_STATS];
};

struct kswitch_fdb_info {
	uint8_t mac[6];
	char ifname[IF_NAMESIZE];
	uint32_t ifindex;
	uint32_t flags;	 /* KAVM_FDB_F_* */
	uint32_t age_ms; /* learned entries only */
};

/*
 * One reply of the module, a message of LEN bytes (at least its nlmsg_len),
 * parsed into the struct KIND names; -EPROTO when it is not a whole generic
 * netlink message. What kswitch_get() and the dumps use on every reply; the
 * fuzzer (tests/fuzz/netlink.c) feeds it anything.
 */
enum kswitch_reply { KSWITCH_REPLY_SWITCH, KSWITCH_REPLY_PORT, KSWITCH_REPLY_FDB };
struct nlmsghdr;
int kswitch_parse_reply(const struct nlmsghdr *nlh, size_t len, enum kswitch_reply kind,
			void *item);

/* -ENOENT when the kernel has no "kavm" family (kavm_switch.ko not loaded). */
int kswitch_open(struct kswitch **out);
void kswitch_close(struct kswitch *k);
const char *kswitch_errmsg(const struct kswitch *k);

/*
 * The switch NAME of the kmod engine, without loading the module: 0 and an
 * open socket in *out, -ENOENT when kavm_switch.ko is not loaded or has no
 * switch NAME here, else -errno. What kavm's switch= does at start.
 */
int kswitch_find(const char *name, struct kswitch **out);
/*
 * Removes port IFINDEX from switch NAME over K's socket (no new socket, no
 * family lookup: it runs under kavm's sandbox at exit) and closes K,
 * whatever happens.
 */
int kswitch_leave(struct kswitch *k, const char *name, uint32_t ifindex);

/* ageing_ms, fdb_max: 0 for the module's defaults (300 s, 4096 entries). */
int kswitch_new(struct kswitch *k, const char *name, uint32_t ageing_ms, uint32_t fdb_max);
int kswitch_del(struct kswitch *k, const char *name);
/* Changes what is not 0. */
int kswitch_set(struct kswitch *k, const char *name, uint32_t ageing_ms, uint32_t fdb_max);
int kswitch_get(struct kswitch *k, const char *name, struct kswitch_info *out);
/* Every switch of this namespace; *out is malloc()ed, the count is returned. */
int kswitch_list(struct kswitch *k, struct kswitch_info **out);

/* mac may be NULL; KAVM_PORT_F_NO_SPOOF needs it. */
int kswitch_port_add(struct kswitch *k, const char *name, const char *dev, uint32_t flags,
		     const uint8_t *mac);
int kswitch_port_del(struct kswitch *k, const char *name, const char *dev);
int kswitch_ports(struct kswitch *k, const char *name, struct kswitch_port_info **out);

int kswitch_fdb_add(struct kswitch *k, const char *name, const uint8_t mac[6], const char *dev);
int kswitch_fdb_del(struct kswitch *k, const char *name, const uint8_t mac[6]);
int kswitch_fdb(struct kswitch *k, const char *name, struct kswitch_fdb_info **out);

/* One announcement of the "events" group. */
struct kswitch_event {
	uint8_t cmd; /* KAVM_CMD_*_NTF */
	char name[KAVM_SWITCH_NAME_MAX + 1];
	char ifname[IF_NAMESIZE]; /* ports and fdb entries */
	bool has_mac;		  /* fdb entries */
	uint8_t mac[6];
	uint32_t fdb_flags;
};

/*
 * Joins the "events" group and calls fn for each change in this network
 * namespace until fn returns non-zero (returned) or reading fails (-errno).
 * The socket serves nothing else afterwards.
 */
int kswitch_monitor(struct kswitch *k, int (*fn)(const struct kswitch_event *ev, void *arg),
		    void *arg);

/* "rx", "forwarded", ... for enum kavm_stats; NULL for the padding and unknown ones. */
const char *kswitch_stat_name(int i);

#endif /* KAVM_KSWITCH_H */
