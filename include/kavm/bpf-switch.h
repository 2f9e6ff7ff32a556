/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm eBPF switch: create, join and inspect in-kernel switches between taps.
 *
 * A switch lives in bpffs under BPF_SWITCH_PIN_ROOT/<name>/ (maps and both
 * programs pinned), so it outlives the process that made it; any later
 * process (kavmctl, a VMM) opens it by name. Ports are ifindexes of the
 * network namespace the switch was made in. Every function returns 0 (or a
 * count) or -errno and logs nothing, except the end of the verifier's log
 * when it rejects a program (bpf_switch_create() then returns -ENOEXEC).
 *
 * The VMM calls bpf_switch_attach() when its tap is up and
 * bpf_switch_detach() on exit; kavmctl uses the handle API below.
 */
#ifndef KAVM_BPF_SWITCH_H_
#define KAVM_BPF_SWITCH_H_

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/switch.h"

#define BPF_SWITCH_PIN_ROOT "/sys/fs/bpf/kavm"
#define BPF_SWITCH_NAME_MAX 32
/* Our tc filter's handle and priority at clsact ingress: other filters coexist. */
#define BPF_SWITCH_TC_HANDLE 0x6b76 /* "kv" */
#define BPF_SWITCH_TC_PRIO 0x6b76

struct bpf_switch_create_opts {
	bool xdp;	    /* also run the XDP fast path on tap ports */
	uint64_t ageing_ns; /* 0: KAVM_SW_AGEING_NS_DEFAULT */
	/*
	 * Tests only: load the tc program as a socket filter, which may not
	 * read skb->data directly, so that the verifier really rejects it and the
	 * path that shows its log can be checked.
	 */
	bool test_verifier_reject;
};

/* An opened switch: fds of its pinned objects (read-only for callers). */
struct bpf_switch {
	char name[BPF_SWITCH_NAME_MAX + 1];
	int dir_fd;   /* the pin directory, flock()ed by writers */
	int ports_fd; /* maps, see bpf/switch.h */
	int slots_fd;
	int fdb_fd;
	int config_fd;
	int stats_fd;
	int tx_ports_fd;
	int tc_fd; /* programs */
	int xdp_fd;
	int ports_fast_fd; /* a map too, opened last */
};

struct bpf_switch_port_opts {
	bool uplink;   /* a bridge or NIC: flood target, no XDP */
	bool no_spoof; /* drop frames whose source MAC is not .mac */
	bool has_mac;
	uint8_t mac[6];
};

struct bpf_switch_port_info {
	char ifname[IF_NAMESIZE]; /* "" when the device is gone or in another netns */
	uint32_t ifindex;
	struct kavm_sw_port port;
	uint64_t c[KAVM_SW_NR_COUNTERS]; /* summed over CPUs */
};

struct bpf_switch_fdb_info {
	uint8_t mac[6];
	uint32_t ifindex;
	bool is_static;
	uint64_t age_ns; /* since last seen; 0 for static entries */
};

/*
 * Load the programs, make and pin the maps. -EEXIST if the name is taken,
 * -ENOEXEC if the verifier rejected a program (its log is printed),
 * -EREMOTE as bpf_switch_pin_root_check() says.
 */
int bpf_switch_create(const char *name, const struct bpf_switch_create_opts *opts);
/*
 * 0 if pins made under BPF_SWITCH_PIN_ROOT outlive the caller; -EREMOTE if
 * the caller runs in a mount namespace of its own (as under "ip netns
 * exec", which also mounts a fresh /sys) whose /sys/fs/bpf is not the bpffs
 * the outer namespace has: the switches there vanish with it, and the
 * real ones are not seen. setns() into the network namespace alone (as
 * kavmctl -n does) keeps the host's mounts.
 */
int bpf_switch_pin_root_check(void);
/*
 * Detach every port, then remove the pins. -ENOENT if there is no such
 * switch. Like every call that names devices, -EXDEV when called from
 * another network namespace than the switch's: ifindexes there mean other
 * devices.
 */
int bpf_switch_destroy(const char *name);
/* Only remove the pins: for a switch whose network namespace is gone. */
int bpf_switch_destroy_pins(const char *name);

/* Join a device to a switch, and leave it, in one call each. */
int bpf_switch_attach(const char *name, const char *ifname,
		      const struct bpf_switch_port_opts *opts);
int bpf_switch_detach(const char *name, const char *ifname);

/*
 * The VMM's: join IFNAME to switch NAME and keep the switch open in *out, so
 * that bpf_switch_leave() needs no pins, no paths and no device names: it
 * runs under the I/O thread's sandbox, which allows it map updates, a
 * program's info and tc/XDP detach over a route netlink socket
 * (sandbox_allow_switch_leave()). Leave closes SW whatever happens.
 */
int bpf_switch_join(const char *name, const char *ifname, struct bpf_switch **out);
int bpf_switch_leave(struct bpf_switch *sw, uint32_t ifindex);

int bpf_switch_open(const char *name, struct bpf_switch **out);
void bpf_switch_close(struct bpf_switch *sw);

/* -EBUSY (with *other set) when the device runs another switch's program. */
int bpf_switch_port_add(struct bpf_switch *sw, const char *ifname,
			const struct bpf_switch_port_opts *opts,
			char other[BPF_SWITCH_NAME_MAX + 1]);
/* ifname may also be a decimal ifindex, to remove a port whose device is gone. */
int bpf_switch_port_del(struct bpf_switch *sw, const char *ifname);
int bpf_switch_port_del_index(struct bpf_switch *sw, uint32_t ifindex);
/* Fills at most max ports, returns how many there are. */
int bpf_switch_ports(struct bpf_switch *sw, struct bpf_switch_port_info *out, size_t max);

int bpf_switch_config(struct bpf_switch *sw, struct kavm_sw_config *cfg);
/* 1 if the caller is in the switch's network namespace, 0 if not, or -errno. */
int bpf_switch_in_netns(struct bpf_switch *sw);
int bpf_switch_set_ageing(struct bpf_switch *sw, uint64_t ageing_ns);
/* Counters summed over CPUs and ports, plus the switch-wide slot. */
int bpf_switch_totals(struct bpf_switch *sw, uint64_t c[KAVM_SW_NR_COUNTERS]);
const char *bpf_switch_counter_name(enum kavm_sw_counter c);

/* A static entry: never ages, learning never moves it. DEV must be a port. */
int bpf_switch_fdb_add(struct bpf_switch *sw, const uint8_t mac[6], const char *ifname);
int bpf_switch_fdb_del(struct bpf_switch *sw, const uint8_t mac[6]);
/* Live entries (aged ones are hidden); fills at most max, returns the count. */
int bpf_switch_fdb(struct bpf_switch *sw, struct bpf_switch_fdb_info *out, size_t max);

/* Calls fn for every switch name under the pin root; stops at a non-zero return. */
int bpf_switch_for_each(int (*fn)(const char *name, void *arg), void *arg);

/* "aa:bb:cc:dd:ee:ff" <-> bytes. */
int bpf_switch_parse_mac(const char *s, uint8_t mac[6]);
void bpf_switch_format_mac(const uint8_t mac[6], char buf[18]);

#endif /* KAVM_BPF_SWITCH_H_ */
