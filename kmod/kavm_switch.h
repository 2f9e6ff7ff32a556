/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm_switch: an Ethernet switch between VM taps, in the kernel.
 *
 * Internal types shared by the module's files. The control plane (generic
 * netlink, the netdevice notifier, namespace exit) runs under RTNL; the data
 * plane (the ports' rx_handler) reads ports and fdb entries under RCU.
 */
#ifndef _KAVM_SWITCH_H
#define _KAVM_SWITCH_H

#include <linux/etherdevice.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/netns/generic.h>

#include <linux/kavm_switch.h>

#define KAVM_FDB_HASH_BITS 10
#define KAVM_NR_STATS (KAVM_STATS_MAX + 1)

/* Why the data path dropped a frame (the drop tracepoint's reason). */
enum kavm_drop_reason {
	KAVM_DROP_INVALID_SRC,
	KAVM_DROP_SPOOF,
	KAVM_DROP_LOOP,
	KAVM_DROP_NOMEM,
	KAVM_DROP_TX,
};

/* Per network namespace. */
struct kavm_net {
	struct list_head switches; /* RTNL */
	/* Bumped under RTNL on every switch or port change: dumps compare it. */
	unsigned int genid;
};

/* One CPU's counters of one port, indexed by enum kavm_stats. */
struct kavm_pcpu_stats {
	u64_stats_t c[KAVM_NR_STATS];
	struct u64_stats_sync syncp;
};

struct kavm_port {
	struct list_head list; /* in sw->ports: RTNL for writers, RCU for readers */
	struct kavm_switch *sw;
	struct net_device *dev;
	netdevice_tracker dev_tracker;
	u32 flags;	      /* KAVM_PORT_F_*, fixed while the port exists */
	bool has_mac;
	u8 mac[ETH_ALEN];     /* the VM's MAC: a static entry, the no-spoof source */
	struct kavm_pcpu_stats __percpu *stats;
	struct rcu_head rcu;
};

struct kavm_fdb {
	struct hlist_node node; /* in sw->fdb_hash: fdb_lock for writers, RCU for readers */
	/* A learned entry moves with its MAC: WRITE_ONCE, read with READ_ONCE. */
	struct kavm_port *port;
	unsigned long updated;	/* jiffies of the last refresh, READ_ONCE/WRITE_ONCE */
	u8 mac[ETH_ALEN];
	u8 flags;		/* KAVM_FDB_F_* */
	struct rcu_head rcu;
};

struct kavm_switch {
	struct list_head list; /* in kavm_net.switches, RTNL */
	struct net *net;
	char name[KAVM_SWITCH_NAME_MAX + 1];
	struct list_head ports; /* RTNL for writers, RCU for readers (flooding) */
	unsigned int nports;	/* RTNL */
	unsigned long ageing;	/* jiffies; READ_ONCE, written under RTNL */
	u32 ageing_ms;		/* as asked for, for replies; RTNL */
	u32 fdb_max;		/* READ_ONCE, written under RTNL */

	spinlock_t fdb_lock;	/* fdb_hash writers, fdb_count, fdb_seq */
	struct hlist_head *fdb_hash;
	u32 hash_salt;		/* a guest cannot aim its MACs at one bucket */
	u32 fdb_count;
	/* Bumped when an entry comes, goes or moves: fdb dumps compare it. */
	u32 fdb_seq;
	struct delayed_work gc_work;
	struct rcu_head rcu;
};

extern unsigned int kavm_net_id;

/* Data path only: BH is off there, so this CPU's counters are ours. */
static inline void kavm_stats_add(struct kavm_port *port, enum kavm_stats i, u64 v)
{
	struct kavm_pcpu_stats *s = this_cpu_ptr(port->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->c[i], v);
	u64_stats_update_end(&s->syncp);
}

static inline struct kavm_net *kavm_net(const struct net *net)
{
	return net_generic(net, kavm_net_id);
}

/* switch.c: switches and ports (RTNL held by every caller) */
int kavm_switch_check_name(const char *name);
struct kavm_switch *kavm_switch_find(struct net *net, const char *name);
int kavm_switch_new(struct net *net, const char *name, u32 ageing_ms, u32 fdb_max,
		    struct kavm_switch **out);
void kavm_switch_del(struct kavm_switch *sw);
void kavm_switch_set_ageing(struct kavm_switch *sw, u32 ageing_ms);
void kavm_switch_destroy_net(struct net *net);
void kavm_switch_stats(const struct kavm_switch *sw, u64 sum[KAVM_NR_STATS]);

struct kavm_port *kavm_port_find(const struct kavm_switch *sw, const struct net_device *dev);
/* The port a device is, in any switch, or NULL. */
struct kavm_port *kavm_port_of_dev(const struct net_device *dev);
int kavm_port_add(struct kavm_switch *sw, struct net_device *dev, u32 flags, const u8 *mac,
		  struct netlink_ext_ack *extack);
void kavm_port_del(struct kavm_port *port);
void kavm_port_stats(const struct kavm_port *port, u64 c[KAVM_NR_STATS]);
int kavm_netdev_notifier_register(void);
void kavm_netdev_notifier_unregister(void);

/* fdb.c */
int kavm_fdb_init(struct kavm_switch *sw);
void kavm_fdb_fini(struct kavm_switch *sw);
struct kavm_fdb *kavm_fdb_find_rcu(struct kavm_switch *sw, const u8 *mac);
bool kavm_fdb_expired(const struct kavm_switch *sw, const struct kavm_fdb *f);
/* 1 when the MAC is new here or moved to this port, -ENOSPC when the table is full. */
int kavm_fdb_learn(struct kavm_switch *sw, struct kavm_port *port, const u8 *mac);
int kavm_fdb_add_static(struct kavm_switch *sw, struct kavm_port *port, const u8 *mac, u8 flags,
			struct netlink_ext_ack *extack);
int kavm_fdb_del(struct kavm_switch *sw, const u8 *mac, struct netlink_ext_ack *extack);
void kavm_fdb_flush_port(struct kavm_switch *sw, const struct kavm_port *port);
void kavm_fdb_gc_reschedule(struct kavm_switch *sw);

/* forward.c */
rx_handler_result_t kavm_handle_frame(struct sk_buff **pskb);

/* netlink.c */
/* An extack message naming objects; the caller points at the attribute. */
void kavm_errmsg(struct netlink_ext_ack *extack, const char *fmt, ...) __printf(2, 3);
int kavm_genl_register(void);
void kavm_genl_unregister(void);
void kavm_notify_switch(const struct kavm_switch *sw, u8 cmd);
void kavm_notify_port(const struct kavm_port *port, u8 cmd);
void kavm_notify_fdb(const struct kavm_switch *sw, const struct kavm_fdb *f, u8 cmd, gfp_t gfp);

#endif /* _KAVM_SWITCH_H */
