// SPDX-License-Identifier: GPL-2.0
/*
 * kavm_switch control plane: switches of a network namespace and their
 * ports. Every function here runs under RTNL, which also serialises them
 * against device unregistration (the netdevice notifier below).
 */
#include <linux/ctype.h>
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "kavm_switch.h"

int kavm_switch_check_name(const char *name)
{
	const char *c;

	if (!*name)
		return -EINVAL;
	for (c = name; *c; c++)
		if (!isalnum(*c) && *c != '-' && *c != '_' && *c != '.')
			return -EINVAL;
	return 0;
}

struct kavm_switch *kavm_switch_find(struct net *net, const char *name)
{
	struct kavm_switch *sw;

	ASSERT_RTNL();
	list_for_each_entry(sw, &kavm_net(net)->switches, list)
		if (!strcmp(sw->name, name))
			return sw;
	return NULL;
}

int kavm_switch_new(struct net *net, const char *name, u32 ageing_ms, u32 fdb_max,
		    struct kavm_switch **out)
{
	struct kavm_net *kn = kavm_net(net);
	struct kavm_switch *sw;
	int ret;

	ASSERT_RTNL();
	sw = kzalloc(sizeof(*sw), GFP_KERNEL_ACCOUNT);
	if (!sw)
		return -ENOMEM;
	/* No reference: the namespace's exit deletes its switches first. */
	sw->net = net;
	strscpy(sw->name, name, sizeof(sw->name));
	INIT_LIST_HEAD(&sw->ports);
	sw->ageing_ms = ageing_ms;
	sw->ageing = msecs_to_jiffies(ageing_ms);
	sw->fdb_max = fdb_max;
	ret = kavm_fdb_init(sw);
	if (ret) {
		kfree(sw);
		return ret;
	}
	list_add_tail(&sw->list, &kn->switches);
	kn->genid++;
	kavm_notify_switch(sw, KAVM_CMD_SWITCH_NEW_NTF);
	*out = sw;
	return 0;
}

static void kavm_switch_free_rcu(struct rcu_head *head)
{
	struct kavm_switch *sw = container_of(head, struct kavm_switch, rcu);

	kvfree(sw->fdb_hash);
	kfree(sw);
}

void kavm_switch_del(struct kavm_switch *sw)
{
	struct kavm_port *port, *tmp;

	ASSERT_RTNL();
	list_for_each_entry_safe(port, tmp, &sw->ports, list)
		kavm_port_del(port);
	kavm_fdb_fini(sw);
	list_del(&sw->list);
	kavm_net(sw->net)->genid++;
	kavm_notify_switch(sw, KAVM_CMD_SWITCH_DEL_NTF);
	call_rcu(&sw->rcu, kavm_switch_free_rcu);
}

void kavm_switch_set_ageing(struct kavm_switch *sw, u32 ageing_ms)
{
	sw->ageing_ms = ageing_ms;
	WRITE_ONCE(sw->ageing, msecs_to_jiffies(ageing_ms));
	kavm_fdb_gc_reschedule(sw);
}

/* The namespace is going: its devices are gone already (we are a subsys). */
void kavm_switch_destroy_net(struct net *net)
{
	struct kavm_net *kn = kavm_net(net);
	struct kavm_switch *sw, *tmp;

	rtnl_lock();
	list_for_each_entry_safe(sw, tmp, &kn->switches, list)
		kavm_switch_del(sw);
	rtnl_unlock();
}

void kavm_port_stats(const struct kavm_port *port, u64 c[KAVM_NR_STATS])
{
	u64 v[KAVM_NR_STATS];
	unsigned int start, i;
	int cpu;

	memset(c, 0, sizeof(u64) * KAVM_NR_STATS);
	for_each_possible_cpu(cpu) {
		const struct kavm_pcpu_stats *s = per_cpu_ptr(port->stats, cpu);

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < KAVM_NR_STATS; i++)
				v[i] = u64_stats_read(&s->c[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < KAVM_NR_STATS; i++)
			c[i] += v[i];
	}
}

void kavm_switch_stats(const struct kavm_switch *sw, u64 sum[KAVM_NR_STATS])
{
	u64 c[KAVM_NR_STATS];
	struct kavm_port *port;
	unsigned int i;

	memset(sum, 0, sizeof(u64) * KAVM_NR_STATS);
	list_for_each_entry(port, &sw->ports, list) {
		kavm_port_stats(port, c);
		for (i = 0; i < KAVM_NR_STATS; i++)
			sum[i] += c[i];
	}
}

static bool kavm_dev_is_port(const struct net_device *dev)
{
	return rcu_access_pointer(dev->rx_handler) == kavm_handle_frame;
}

struct kavm_port *kavm_port_of_dev(const struct net_device *dev)
{
	return kavm_dev_is_port(dev) ? rtnl_dereference(dev->rx_handler_data) : NULL;
}

struct kavm_port *kavm_port_find(const struct kavm_switch *sw, const struct net_device *dev)
{
	struct kavm_port *port = kavm_port_of_dev(dev);

	return port && port->sw == sw ? port : NULL;
}

/* Whether DEV may become a port of SW; the extack names who holds it. */
static int kavm_port_check_dev(struct kavm_switch *sw, struct net_device *dev,
			       struct netlink_ext_ack *extack)
{
	struct kavm_port *other = kavm_port_of_dev(dev);
	struct net_device *master;

	if (other) {
		kavm_errmsg(extack, "%s is already a port of switch %s", dev->name,
			    other->sw->name);
		return other->sw == sw ? -EEXIST : -EBUSY;
	}
	if (dev->flags & IFF_LOOPBACK) {
		kavm_errmsg(extack, "%s is a loopback device", dev->name);
		return -EINVAL;
	}
	if (dev->type != ARPHRD_ETHER || dev->addr_len != ETH_ALEN) {
		kavm_errmsg(extack, "%s is not an Ethernet device", dev->name);
		return -EINVAL;
	}
	master = netdev_master_upper_dev_get(dev);
	if (master) {
		kavm_errmsg(extack, "%s is already a port of %s", dev->name, master->name);
		return -EBUSY;
	}
	if (netdev_is_rx_handler_busy(dev)) {
		kavm_errmsg(extack, "%s has an rx_handler already (macvlan, ipvlan, ...)",
			    dev->name);
		return -EBUSY;
	}
	if (sw->nports >= KAVM_SWITCH_MAX_PORTS) {
		kavm_errmsg(extack, "switch %s is full (%u ports)", sw->name,
			    KAVM_SWITCH_MAX_PORTS);
		return -ENOSPC;
	}
	return 0;
}

static void kavm_port_free_rcu(struct rcu_head *head)
{
	struct kavm_port *port = container_of(head, struct kavm_port, rcu);

	netdev_put(port->dev, &port->dev_tracker);
	free_percpu(port->stats);
	kfree(port);
}

static struct kavm_port *kavm_port_alloc(struct kavm_switch *sw, struct net_device *dev,
					 u32 flags, const u8 *mac)
{
	struct kavm_port *port = kzalloc(sizeof(*port), GFP_KERNEL_ACCOUNT);

	if (!port)
		return NULL;
	port->stats = __netdev_alloc_pcpu_stats(struct kavm_pcpu_stats, GFP_KERNEL_ACCOUNT);
	if (!port->stats) {
		kfree(port);
		return NULL;
	}
	port->sw = sw;
	port->dev = dev;
	port->flags = flags;
	if (mac) {
		port->has_mac = true;
		ether_addr_copy(port->mac, mac);
	}
	netdev_hold(dev, &port->dev_tracker, GFP_KERNEL);
	return port;
}

int kavm_port_add(struct kavm_switch *sw, struct net_device *dev, u32 flags, const u8 *mac,
		  struct netlink_ext_ack *extack)
{
	struct kavm_port *port;
	int ret;

	ASSERT_RTNL();
	ret = kavm_port_check_dev(sw, dev, extack);
	if (ret)
		return ret;
	port = kavm_port_alloc(sw, dev, flags, mac);
	if (!port)
		return -ENOMEM;
	/* Frames for the VMs behind a NIC must reach us: as a bridge port. */
	ret = dev_set_promiscuity(dev, 1);
	if (ret) {
		kavm_errmsg(extack, "%s: cannot turn promiscuous mode on", dev->name);
		goto err_free;
	}
	ret = netdev_rx_handler_register(dev, kavm_handle_frame, port);
	if (ret) {
		kavm_errmsg(extack, "%s has an rx_handler already", dev->name);
		goto err_promisc;
	}
	if (mac) {
		ret = kavm_fdb_add_static(sw, port, mac, KAVM_FDB_F_PORT_MAC, extack);
		if (ret)
			goto err_unregister;
	}
	list_add_tail_rcu(&port->list, &sw->ports);
	sw->nports++;
	kavm_net(sw->net)->genid++;
	kavm_notify_port(port, KAVM_CMD_PORT_ADD_NTF);
	return 0;

err_unregister:
	netdev_rx_handler_unregister(dev);
err_promisc:
	dev_set_promiscuity(dev, -1);
err_free:
	/* The data path may have seen it (it learns once registered). */
	kavm_fdb_flush_port(sw, port);
	call_rcu(&port->rcu, kavm_port_free_rcu);
	return ret;
}

void kavm_port_del(struct kavm_port *port)
{
	struct kavm_switch *sw = port->sw;
	struct net_device *dev = port->dev;

	ASSERT_RTNL();
	/* Waits for every CPU in our rx_handler: nothing learns on it after. */
	netdev_rx_handler_unregister(dev);
	dev_set_promiscuity(dev, -1);
	list_del_rcu(&port->list);
	sw->nports--;
	kavm_net(sw->net)->genid++;
	kavm_fdb_flush_port(sw, port);
	kavm_notify_port(port, KAVM_CMD_PORT_DEL_NTF);
	/* Other ports may still be sending to it: free after they are done. */
	call_rcu(&port->rcu, kavm_port_free_rcu);
}

/* A port's device going away (deleted, or moved to another namespace) leaves its switch. */
static int kavm_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct kavm_port *port = kavm_port_of_dev(dev);

	if (!port)
		return NOTIFY_DONE;
	switch (event) {
	case NETDEV_UNREGISTER:
		kavm_port_del(port);
		break;
	case NETDEV_PRE_TYPE_CHANGE:
		/* A port must stay Ethernet, as a bridge port must. */
		return notifier_from_errno(-EBUSY);
	}
	return NOTIFY_DONE;
}

static struct notifier_block kavm_netdev_notifier = {
	.notifier_call = kavm_netdev_event,
};

int kavm_netdev_notifier_register(void)
{
	return register_netdevice_notifier(&kavm_netdev_notifier);
}

void kavm_netdev_notifier_unregister(void)
{
	unregister_netdevice_notifier(&kavm_netdev_notifier);
}
