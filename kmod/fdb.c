// SPDX-License-Identifier: GPL-2.0
/*
 * kavm_switch forwarding table: MAC -> port, learned from source addresses,
 * aged out, or static (added by the admin, or a port's declared MAC).
 *
 * A fixed hash of RCU lists: the data path looks up without a lock; every
 * writer holds fdb_lock. A plain table rather than an LRU so that a guest
 * sending from many source MACs only fills it (learning stops, frames
 * flood) and never evicts another port's or a static entry.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "kavm_switch.h"

#define KAVM_FDB_BUCKETS (1U << KAVM_FDB_HASH_BITS)
/* gc runs at half the ageing time, at least this often. */
#define KAVM_FDB_GC_MAX_INTERVAL (10 * HZ)

static struct hlist_head *kavm_fdb_bucket(struct kavm_switch *sw, const u8 *mac)
{
	return &sw->fdb_hash[hash_32(jhash(mac, ETH_ALEN, sw->hash_salt), KAVM_FDB_HASH_BITS)];
}

struct kavm_fdb *kavm_fdb_find_rcu(struct kavm_switch *sw, const u8 *mac)
{
	struct kavm_fdb *f;

	hlist_for_each_entry_rcu(f, kavm_fdb_bucket(sw, mac), node,
				 lockdep_is_held(&sw->fdb_lock))
		if (ether_addr_equal(f->mac, mac))
			return f;
	return NULL;
}

bool kavm_fdb_expired(const struct kavm_switch *sw, const struct kavm_fdb *f)
{
	return !(READ_ONCE(f->flags) & KAVM_FDB_F_STATIC) &&
	       time_after(jiffies, READ_ONCE(f->updated) + READ_ONCE(sw->ageing));
}

static void kavm_fdb_insert(struct kavm_switch *sw, struct kavm_fdb *f)
{
	lockdep_assert_held(&sw->fdb_lock);
	hlist_add_head_rcu(&f->node, kavm_fdb_bucket(sw, f->mac));
	sw->fdb_count++;
	sw->fdb_seq++;
}

/* Announce, unlink and free after readers are done; fdb_lock held. */
static void kavm_fdb_unlink(struct kavm_switch *sw, struct kavm_fdb *f)
{
	lockdep_assert_held(&sw->fdb_lock);
	kavm_notify_fdb(sw, f, KAVM_CMD_FDB_DEL_NTF, GFP_ATOMIC);
	hlist_del_rcu(&f->node);
	sw->fdb_count--;
	sw->fdb_seq++;
	kfree_rcu(f, rcu);
}

static struct kavm_fdb *kavm_fdb_alloc(struct kavm_port *port, const u8 *mac, u8 flags,
				       gfp_t gfp)
{
	struct kavm_fdb *f = kmalloc(sizeof(*f), gfp);

	if (!f)
		return NULL;
	f->port = port;
	f->updated = jiffies;
	ether_addr_copy(f->mac, mac);
	f->flags = flags;
	return f;
}

/* A MAC seen on another port: moves are rare, so they take the lock. */
static int kavm_fdb_move(struct kavm_switch *sw, struct kavm_fdb *f, struct kavm_port *port)
{
	int ret = 0;

	spin_lock(&sw->fdb_lock);
	/* It may have become static, or been unlinked, since the lookup. */
	if (!(f->flags & KAVM_FDB_F_STATIC) && kavm_fdb_find_rcu(sw, f->mac) == f) {
		WRITE_ONCE(f->port, port);
		WRITE_ONCE(f->updated, jiffies);
		sw->fdb_seq++;
		ret = 1;
	}
	spin_unlock(&sw->fdb_lock);
	if (ret)
		kavm_notify_fdb(sw, f, KAVM_CMD_FDB_ADD_NTF, GFP_ATOMIC);
	return ret;
}

/* Data path, under RCU with BH off. */
int kavm_fdb_learn(struct kavm_switch *sw, struct kavm_port *port, const u8 *mac)
{
	struct kavm_fdb *f = kavm_fdb_find_rcu(sw, mac);
	struct kavm_fdb *nf;
	int ret = 1;

	if (likely(f)) {
		if (unlikely(READ_ONCE(f->flags) & KAVM_FDB_F_STATIC))
			return 0;
		if (unlikely(READ_ONCE(f->port) != port))
			return kavm_fdb_move(sw, f, port);
		/* Once a tick at most: a write per frame would bounce the line. */
		if (READ_ONCE(f->updated) != jiffies)
			WRITE_ONCE(f->updated, jiffies);
		return 0;
	}
	if (READ_ONCE(sw->fdb_count) >= READ_ONCE(sw->fdb_max))
		return -ENOSPC;
	nf = kavm_fdb_alloc(port, mac, 0, GFP_ATOMIC | __GFP_NOWARN);
	if (!nf)
		return 0;
	spin_lock(&sw->fdb_lock);
	if (kavm_fdb_find_rcu(sw, mac)) {
		ret = 0; /* another CPU learned it meanwhile */
	} else if (sw->fdb_count >= sw->fdb_max) {
		ret = -ENOSPC;
	} else {
		kavm_fdb_insert(sw, nf);
		kavm_notify_fdb(sw, nf, KAVM_CMD_FDB_ADD_NTF, GFP_ATOMIC);
		nf = NULL;
	}
	spin_unlock(&sw->fdb_lock);
	kfree(nf);
	return ret;
}

/* An existing entry becomes static on PORT, unless a port declared it. */
static int kavm_fdb_make_static(struct kavm_fdb *f, struct kavm_port *port, u8 flags,
				struct netlink_ext_ack *extack)
{
	if (f->flags & KAVM_FDB_F_PORT_MAC) {
		kavm_errmsg(extack, "%pM is the declared MAC of port %s", f->mac,
			    f->port->dev->name);
		return -EBUSY;
	}
	WRITE_ONCE(f->flags, flags);
	WRITE_ONCE(f->port, port);
	WRITE_ONCE(f->updated, jiffies);
	return 0;
}

/* RTNL held: entries are only added, moved to or removed from ports under it. */
int kavm_fdb_add_static(struct kavm_switch *sw, struct kavm_port *port, const u8 *mac, u8 flags,
			struct netlink_ext_ack *extack)
{
	struct kavm_fdb *f, *nf;
	int ret = 0;

	ASSERT_RTNL();
	flags |= KAVM_FDB_F_STATIC;
	nf = kavm_fdb_alloc(port, mac, flags, GFP_KERNEL_ACCOUNT);
	if (!nf)
		return -ENOMEM;
	spin_lock_bh(&sw->fdb_lock);
	f = kavm_fdb_find_rcu(sw, mac);
	if (f) {
		ret = kavm_fdb_make_static(f, port, flags, extack);
		if (!ret)
			sw->fdb_seq++;
	} else if (sw->fdb_count >= sw->fdb_max) {
		kavm_errmsg(extack, "switch %s: the fdb is full (%u entries)", sw->name,
			    sw->fdb_max);
		ret = -ENOSPC;
	} else {
		kavm_fdb_insert(sw, nf);
		f = nf;
		nf = NULL;
	}
	spin_unlock_bh(&sw->fdb_lock);
	kfree(nf);
	/* Static entries only go under RTNL, which we hold: f stays. */
	if (!ret)
		kavm_notify_fdb(sw, f, KAVM_CMD_FDB_ADD_NTF, GFP_KERNEL);
	return ret;
}

int kavm_fdb_del(struct kavm_switch *sw, const u8 *mac, struct netlink_ext_ack *extack)
{
	struct kavm_fdb *f;
	int ret = 0;

	spin_lock_bh(&sw->fdb_lock);
	f = kavm_fdb_find_rcu(sw, mac);
	if (!f) {
		kavm_errmsg(extack, "switch %s: no fdb entry for %pM", sw->name, mac);
		ret = -ENOENT;
	} else if (f->flags & KAVM_FDB_F_PORT_MAC) {
		kavm_errmsg(extack, "%pM is the declared MAC of port %s: detach the port instead",
			    mac, f->port->dev->name);
		ret = -EBUSY;
	} else {
		kavm_fdb_unlink(sw, f);
	}
	spin_unlock_bh(&sw->fdb_lock);
	return ret;
}

/* After the port's rx_handler is gone: nothing learns on it any more. */
void kavm_fdb_flush_port(struct kavm_switch *sw, const struct kavm_port *port)
{
	struct hlist_node *tmp;
	struct kavm_fdb *f;
	unsigned int i;

	for (i = 0; i < KAVM_FDB_BUCKETS; i++) {
		spin_lock_bh(&sw->fdb_lock);
		hlist_for_each_entry_safe(f, tmp, &sw->fdb_hash[i], node)
			if (f->port == port)
				kavm_fdb_unlink(sw, f);
		spin_unlock_bh(&sw->fdb_lock);
	}
}

static unsigned long kavm_fdb_gc_interval(const struct kavm_switch *sw)
{
	return min_t(unsigned long, READ_ONCE(sw->ageing), KAVM_FDB_GC_MAX_INTERVAL) / 2 + 1;
}

/*
 * Forwarding already treats an old entry as unknown; gc only frees it. One
 * bucket per lock hold keeps BH-off stretches short on a full table.
 */
static void kavm_fdb_gc(struct work_struct *work)
{
	struct kavm_switch *sw = container_of(work, struct kavm_switch, gc_work.work);
	struct hlist_node *tmp;
	struct kavm_fdb *f;
	unsigned int i;

	for (i = 0; i < KAVM_FDB_BUCKETS; i++) {
		if (hlist_empty(&sw->fdb_hash[i]))
			continue;
		spin_lock_bh(&sw->fdb_lock);
		hlist_for_each_entry_safe(f, tmp, &sw->fdb_hash[i], node)
			if (kavm_fdb_expired(sw, f))
				kavm_fdb_unlink(sw, f);
		spin_unlock_bh(&sw->fdb_lock);
		cond_resched();
	}
	queue_delayed_work(system_long_wq, &sw->gc_work, kavm_fdb_gc_interval(sw));
}

/* The ageing time changed: collect now, and from then on at the new pace. */
void kavm_fdb_gc_reschedule(struct kavm_switch *sw)
{
	mod_delayed_work(system_long_wq, &sw->gc_work, 0);
}

int kavm_fdb_init(struct kavm_switch *sw)
{
	sw->fdb_hash = kvcalloc(KAVM_FDB_BUCKETS, sizeof(*sw->fdb_hash), GFP_KERNEL_ACCOUNT);
	if (!sw->fdb_hash)
		return -ENOMEM;
	spin_lock_init(&sw->fdb_lock);
	sw->hash_salt = get_random_u32();
	/* Never 0: a dump's first pass has prev_seq 0 and compares nothing. */
	sw->fdb_seq = 1;
	INIT_DELAYED_WORK(&sw->gc_work, kavm_fdb_gc);
	queue_delayed_work(system_long_wq, &sw->gc_work, kavm_fdb_gc_interval(sw));
	return 0;
}

/* The switch has no port left: every entry goes. The hash is freed with it. */
void kavm_fdb_fini(struct kavm_switch *sw)
{
	struct hlist_node *tmp;
	struct kavm_fdb *f;
	unsigned int i;

	cancel_delayed_work_sync(&sw->gc_work);
	spin_lock_bh(&sw->fdb_lock);
	for (i = 0; i < KAVM_FDB_BUCKETS; i++)
		hlist_for_each_entry_safe(f, tmp, &sw->fdb_hash[i], node)
			kavm_fdb_unlink(sw, f);
	spin_unlock_bh(&sw->fdb_lock);
}
