// SPDX-License-Identifier: GPL-2.0
/*
 * kavm_switch data path: every port's rx_handler. A frame is learned,
 * checked, then sent to the one port its destination was learned on, or
 * flooded to every other port; broadcast and multicast also go up the
 * ingress device's own stack, and so do frames for the device's own MAC
 * (as with the eBPF switch, so the host can still talk on a port).
 *
 * Runs under RCU with BH off (netif_receive_skb), which is what lets it
 * use this CPU's counters without further locking.
 */
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/dst.h>

#include "kavm_switch.h"

#define CREATE_TRACE_POINTS
#include "kavm_switch_trace.h"

static void kavm_drop(struct kavm_port *port, struct sk_buff *skb, enum kavm_drop_reason why,
		      enum kavm_stats counter)
{
	kavm_stats_add(port, counter, 1);
	trace_kavm_drop(port->sw, port->dev, skb, why);
	kfree_skb(skb);
}

/* skb->data is past the Ethernet header, as the rx path left it. */
static bool kavm_fits(const struct net_device *dev, const struct sk_buff *skb)
{
	return skb->len <= dev->mtu + VLAN_HLEN || skb_is_gso(skb);
}

static void kavm_xmit(struct kavm_port *to, struct sk_buff *skb)
{
	struct net_device *dev = to->dev;
	unsigned int len;
	int rc;

	if (unlikely(!netif_running(dev) || !kavm_fits(dev, skb))) {
		kavm_drop(to, skb, KAVM_DROP_TX, KAVM_STATS_DROP_TX);
		return;
	}
	skb_forward_csum(skb);
	/* An rx timestamp read as a departure time would hold it in fq. */
	skb_clear_tstamp(skb);
	/* A tunnel's metadata dst must not steer another tunnel port. */
	skb_dst_drop(skb);
	skb->dev = dev;
	skb_push(skb, ETH_HLEN);
	len = skb->len;
	rc = dev_queue_xmit(skb);
	if (likely(!net_xmit_eval(rc))) {
		kavm_stats_add(to, KAVM_STATS_TX, 1);
		kavm_stats_add(to, KAVM_STATS_TX_BYTES, len);
	} else {
		kavm_stats_add(to, KAVM_STATS_DROP_TX, 1);
	}
}

static void kavm_xmit_copy(struct kavm_port *to, struct sk_buff *skb)
{
	struct sk_buff *nskb = skb_clone(skb, GFP_ATOMIC);

	if (unlikely(!nskb)) {
		kavm_stats_add(to, KAVM_STATS_DROP_TX, 1);
		trace_kavm_drop(to->sw, to->dev, skb, KAVM_DROP_NOMEM);
		return;
	}
	kavm_xmit(to, nskb);
}

/*
 * Every running port but the ingress one gets one copy; KEEP leaves the
 * original to the caller, else the last port takes it.
 */
static void kavm_flood(struct kavm_port *from, struct sk_buff *skb, bool keep)
{
	struct kavm_port *p, *prev = NULL;

	trace_kavm_flood(from->sw, from->dev, skb);
	kavm_stats_add(from, KAVM_STATS_FLOODED, 1);
	list_for_each_entry_rcu(p, &from->sw->ports, list) {
		if (p == from || !netif_running(p->dev))
			continue;
		if (prev)
			kavm_xmit_copy(prev, skb);
		prev = p;
	}
	if (!prev) {
		if (!keep)
			consume_skb(skb);
	} else if (keep) {
		kavm_xmit_copy(prev, skb);
	} else {
		kavm_xmit(prev, skb);
	}
}

static void kavm_learn(struct kavm_port *port, const u8 *src)
{
	int ret = kavm_fdb_learn(port->sw, port, src);

	if (ret > 0)
		kavm_stats_add(port, KAVM_STATS_LEARNED, 1);
	else if (ret == -ENOSPC)
		kavm_stats_add(port, KAVM_STATS_FDB_FULL, 1);
}

/* Known unicast: to its port; unknown or aged: flooded. Consumes skb. */
static void kavm_forward_unicast(struct kavm_port *port, struct sk_buff *skb, const u8 *dst)
{
	struct kavm_fdb *f = kavm_fdb_find_rcu(port->sw, dst);
	struct kavm_port *to;

	if (!f || kavm_fdb_expired(port->sw, f)) {
		kavm_flood(port, skb, false);
		return;
	}
	to = READ_ONCE(f->port);
	if (unlikely(to == port)) {
		kavm_drop(port, skb, KAVM_DROP_LOOP, KAVM_STATS_DROP_LOOP);
		return;
	}
	trace_kavm_forward(port->sw, port->dev, to->dev, skb);
	kavm_stats_add(port, KAVM_STATS_FORWARDED, 1);
	kavm_xmit(to, skb);
}

rx_handler_result_t kavm_handle_frame(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	const struct ethhdr *eth;
	struct kavm_port *port;

	if (unlikely(skb->pkt_type == PACKET_LOOPBACK))
		return RX_HANDLER_PASS;
	port = rcu_dereference(skb->dev->rx_handler_data);
	kavm_stats_add(port, KAVM_STATS_RX, 1);
	kavm_stats_add(port, KAVM_STATS_RX_BYTES, skb->len + ETH_HLEN);
	eth = eth_hdr(skb);
	if (unlikely(!is_valid_ether_addr(eth->h_source))) {
		kavm_drop(port, skb, KAVM_DROP_INVALID_SRC, KAVM_STATS_DROP_INVALID);
		return RX_HANDLER_CONSUMED;
	}
	if ((port->flags & KAVM_PORT_F_NO_SPOOF) && !ether_addr_equal(eth->h_source, port->mac)) {
		kavm_drop(port, skb, KAVM_DROP_SPOOF, KAVM_STATS_DROP_SPOOF);
		return RX_HANDLER_CONSUMED;
	}
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (unlikely(!skb)) {
		kavm_stats_add(port, KAVM_STATS_DROP_TX, 1);
		return RX_HANDLER_CONSUMED;
	}
	*pskb = skb;
	eth = eth_hdr(skb);
	/* A port's declared MAC is a static entry: no lookup to learn it. */
	if (!port->has_mac || !ether_addr_equal(eth->h_source, port->mac))
		kavm_learn(port, eth->h_source);

	if (is_multicast_ether_addr(eth->h_dest)) {
		kavm_flood(port, skb, true);
		kavm_stats_add(port, KAVM_STATS_TO_HOST, 1);
		return RX_HANDLER_PASS;
	}
	if (ether_addr_equal(eth->h_dest, skb->dev->dev_addr)) {
		kavm_stats_add(port, KAVM_STATS_TO_HOST, 1);
		return RX_HANDLER_PASS;
	}
	kavm_forward_unicast(port, skb, eth->h_dest);
	return RX_HANDLER_CONSUMED;
}
