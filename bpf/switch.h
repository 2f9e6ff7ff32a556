/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm eBPF switch: map layouts shared by bpf/switch.bpf.c and the loader.
 *
 * One switch is one set of maps and one pair of programs (tc and XDP),
 * pinned under /sys/fs/bpf/kavm/<switch>/; every port of the switch runs the
 * same program instances, which tell ports apart by the ingress ifindex.
 * Included by BPF code (vmlinux.h types) and by userspace (linux/types.h).
 */
#ifndef KAVM_BPF_SWITCH_H
#define KAVM_BPF_SWITCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Ports with an ifindex below this are also found in an array by ifindex,
 * which the datapath reads without hashing; the rest only by hash.
 */
#define KAVM_SW_FAST_IFINDEX 4096
/* Ports per switch: bounds the flood loop the verifier walks. */
#define KAVM_SW_MAX_PORTS 32
/* Forwarding table entries (learned + static) per switch. */
#define KAVM_SW_FDB_SIZE 4096
/* Default ageing of learned entries, as the Linux bridge's 300 s. */
#define KAVM_SW_AGEING_NS_DEFAULT (300ULL * 1000000000ULL)
/*
 * A learned entry's timestamp is refreshed at most this often: a write per
 * frame would bounce the entry's cache line between CPUs for nothing.
 */
#define KAVM_SW_REFRESH_NS (1000000000ULL)

/* struct kavm_sw_port.flags */
#define KAVM_SW_PORT_UPLINK (1U << 0)	  /* flood target, never XDP, may carry many MACs */
#define KAVM_SW_PORT_NO_SPOOF (1U << 1)	  /* drop frames whose source is not .mac */
#define KAVM_SW_PORT_XDP (1U << 2)	  /* an XDP program runs on this port */
#define KAVM_SW_PORT_OWN_CLSACT (1U << 3) /* the loader created the clsact qdisc */
#define KAVM_SW_PORT_HAS_MAC (1U << 4)	  /* .mac is the VM's: a static fdb entry, never learned */

/* ports: ifindex -> port */
struct kavm_sw_port {
	__u32 slot;	 /* index into slots[] and stats[] */
	__u32 flags;	 /* KAVM_SW_PORT_* */
	__u8 mac[6];	 /* the VM's MAC (--mac), for --no-spoof and learning */
	__u8 dev_mac[6]; /* the device's own MAC: frames to it go to the host */
	__u32 ifindex;	 /* in ports_fast: which ifindex this copy is valid for (0: none) */
};

/* fdb: MAC -> entry. The key is the MAC in the low 6 bytes of a u64. */
struct kavm_sw_fdb_key {
	__u8 mac[6];
	__u16 pad; /* always 0 */
};

#define KAVM_SW_FDB_STATIC (1U << 0) /* added by kavmctl: never ages, never moves */

struct kavm_sw_fdb_entry {
	__u32 ifindex;
	__u16 slot;  /* the port's slot, for its TX counter */
	__u16 flags; /* KAVM_SW_FDB_* */
	__u64 seen_ns; /* bpf_ktime_get_coarse_ns() (a tick-grained clock, cheaper) at the last refresh */
};

/* config[0] */
#define KAVM_SW_CFG_XDP (1U << 0) /* switch made with --xdp */

struct kavm_sw_config {
	__u64 ageing_ns;    /* learned entries older than this are unknown; 0: default */
	__u32 flags;	    /* KAVM_SW_CFG_* */
	__u32 nr_slots;	    /* slots[] in use are below this (flood loop bound) */
	__u64 netns_cookie; /* the netns whose ifindexes the ports are (SO_NETNS_COOKIE) */
};

/* Per-port counters, one per CPU; stats[KAVM_SW_MAX_PORTS] holds switch-wide ones. */
enum kavm_sw_counter {
	KAVM_SW_RX, /* frames that entered the switch on this port */
	KAVM_SW_RX_BYTES,
	KAVM_SW_FWD,	      /* known unicast redirected by tc */
	KAVM_SW_FWD_XDP,      /* known unicast redirected by XDP */
	KAVM_SW_FLOOD,	      /* broadcast, multicast, unknown unicast flooded */
	KAVM_SW_TO_HOST,      /* passed up to the host's stack */
	KAVM_SW_TX,	      /* copies sent out of this port (forward or flood) */
	KAVM_SW_LEARN,	      /* new or moved fdb entries */
	KAVM_SW_DROP_SPOOF,   /* source MAC not the port's (--no-spoof) */
	KAVM_SW_DROP_INVALID, /* runt frame or multicast source MAC */
	KAVM_SW_DROP_LOOP,    /* destination is the ingress port itself */
	KAVM_SW_NOT_PORT,     /* ran on a device that is not a port: passed */
	KAVM_SW_FDB_FULL,     /* could not learn: table full */
	KAVM_SW_NR_COUNTERS,
};

struct kavm_sw_stats {
	__u64 c[KAVM_SW_NR_COUNTERS];
};

#endif /* KAVM_BPF_SWITCH_H */
