/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kavm_switch.ko: the generic netlink family "kavm", shared by kmod/ and the
 * admin tool (tools/kavmctl through userspace/netlink/kswitch.c).
 *
 * A switch is named, lives in one network namespace and is made of ports
 * (net devices of that namespace: taps, veths, a VXLAN or NIC as uplink).
 * Requests carry one flat attribute space; every request names its switch
 * with KAVM_A_SWITCH_NAME. Changes need CAP_NET_ADMIN in the namespace's
 * user namespace; every change is announced on the "events" group with a
 * *_NTF command carrying the same attributes as the matching GET reply.
 */
#ifndef _UAPI_LINUX_KAVM_SWITCH_H
#define _UAPI_LINUX_KAVM_SWITCH_H

#define KAVM_GENL_NAME "kavm"
#define KAVM_GENL_VERSION 1
#define KAVM_GENL_MCGRP_EVENTS "events"

/* Names: letters, digits, '-', '_', '.'; at most this many bytes. */
#define KAVM_SWITCH_NAME_MAX 31
/* Ports per switch: bounds the flood loop and a port dump. */
#define KAVM_SWITCH_MAX_PORTS 256
#define KAVM_SWITCH_AGEING_MS_DEFAULT 300000
#define KAVM_SWITCH_AGEING_MS_MIN 10
#define KAVM_SWITCH_AGEING_MS_MAX 1000000000
#define KAVM_SWITCH_FDB_MAX_DEFAULT 4096
#define KAVM_SWITCH_FDB_MAX_LIMIT 1048576

enum kavm_cmd {
	KAVM_CMD_SWITCH_NEW = 1, /* NAME [AGEING_MS] [FDB_MAX] */
	KAVM_CMD_SWITCH_DEL,	 /* NAME: detaches every port */
	KAVM_CMD_SWITCH_GET,	 /* NAME, or a dump of every switch */
	KAVM_CMD_SWITCH_SET,	 /* NAME [AGEING_MS] [FDB_MAX] */
	KAVM_CMD_PORT_ADD,	 /* NAME IFINDEX|IFNAME [PORT_FLAGS] [PORT_MAC] */
	KAVM_CMD_PORT_DEL,	 /* NAME IFINDEX|IFNAME */
	KAVM_CMD_PORT_GET,	 /* NAME [IFINDEX|IFNAME], or a dump of NAME's ports */
	KAVM_CMD_FDB_ADD,	 /* NAME FDB_MAC IFINDEX|IFNAME: a static entry */
	KAVM_CMD_FDB_DEL,	 /* NAME FDB_MAC */
	KAVM_CMD_FDB_GET,	 /* NAME FDB_MAC, or a dump of NAME's entries */

	/* Notifications on the "events" group, never requests. */
	KAVM_CMD_SWITCH_NEW_NTF,
	KAVM_CMD_SWITCH_DEL_NTF,
	KAVM_CMD_SWITCH_CHANGE_NTF,
	KAVM_CMD_PORT_ADD_NTF,
	KAVM_CMD_PORT_DEL_NTF,
	KAVM_CMD_FDB_ADD_NTF, /* static entries, and learned ones as they appear or move */
	KAVM_CMD_FDB_DEL_NTF, /* deleted or aged out */

	__KAVM_CMD_MAX,
	KAVM_CMD_MAX = __KAVM_CMD_MAX - 1
};

enum kavm_attr {
	KAVM_A_SWITCH_NAME = 1,	 /* string, at most KAVM_SWITCH_NAME_MAX */
	KAVM_A_SWITCH_AGEING_MS, /* u32: learned entries older than this are forgotten */
	KAVM_A_SWITCH_FDB_MAX,	 /* u32: entries (learned and static) per switch */
	KAVM_A_SWITCH_NPORTS,	 /* u32, in replies */
	KAVM_A_SWITCH_NFDB,	 /* u32, in replies */
	KAVM_A_SWITCH_STATS,	 /* nest of KAVM_STATS_*: the ports' counters summed */
	KAVM_A_PORT_IFINDEX,	 /* u32 */
	KAVM_A_PORT_IFNAME,	 /* string, at most IFNAMSIZ - 1 */
	KAVM_A_PORT_FLAGS,	 /* u32, KAVM_PORT_F_* */
	KAVM_A_PORT_MAC,	 /* binary, 6: the VM's MAC, a static entry on the port */
	KAVM_A_PORT_STATS,	 /* nest of KAVM_STATS_* */
	KAVM_A_FDB_MAC,		 /* binary, 6 */
	KAVM_A_FDB_FLAGS,	 /* u32, KAVM_FDB_F_*, in replies */
	KAVM_A_FDB_AGE_MS,	 /* u32: since last seen, learned entries only */
	KAVM_A_PAD,

	__KAVM_A_MAX,
	KAVM_A_MAX = __KAVM_A_MAX - 1
};

/* KAVM_A_PORT_FLAGS */
#define KAVM_PORT_F_UPLINK (1U << 0)   /* a link to the outside: may carry many MACs */
#define KAVM_PORT_F_NO_SPOOF (1U << 1) /* drop frames whose source is not KAVM_A_PORT_MAC */
#define KAVM_PORT_F_ALL (KAVM_PORT_F_UPLINK | KAVM_PORT_F_NO_SPOOF)

/* KAVM_A_FDB_FLAGS */
#define KAVM_FDB_F_STATIC (1U << 0)   /* never ages, never moves */
#define KAVM_FDB_F_PORT_MAC (1U << 1) /* made from a port's KAVM_A_PORT_MAC */

/* Counters in KAVM_A_*_STATS, each a u64 attribute of this type. */
enum kavm_stats {
	KAVM_STATS_RX = 1, /* frames that entered the switch on the port */
	KAVM_STATS_RX_BYTES,
	KAVM_STATS_FORWARDED, /* known unicast sent to one port */
	KAVM_STATS_FLOODED,   /* broadcast, multicast, unknown unicast flooded */
	KAVM_STATS_TO_HOST,   /* passed up to the host's stack on the port */
	KAVM_STATS_TX,	      /* copies sent out of the port */
	KAVM_STATS_TX_BYTES,
	KAVM_STATS_LEARNED,	 /* new or moved fdb entries */
	KAVM_STATS_DROP_SPOOF,	 /* source MAC not the port's */
	KAVM_STATS_DROP_INVALID, /* multicast or zero source MAC */
	KAVM_STATS_DROP_LOOP,	 /* destination is the ingress port itself */
	KAVM_STATS_DROP_TX,	 /* the egress device refused it (down, too big, no memory) */
	KAVM_STATS_FDB_FULL,	 /* could not learn: the table is full */
	KAVM_STATS_PAD,

	__KAVM_STATS_MAX,
	KAVM_STATS_MAX = __KAVM_STATS_MAX - 1
};

#endif /* _UAPI_LINUX_KAVM_SWITCH_H */
