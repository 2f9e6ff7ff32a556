/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm_switch tracepoints: kavm_switch:forward, kavm_switch:flood and
 * kavm_switch:drop (with the reason), for perf and trace-cmd.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kavm_switch

#if !defined(_KAVM_SWITCH_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KAVM_SWITCH_TRACE_H

#include <linux/if_ether.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/tracepoint.h>

#include "kavm_switch.h"

TRACE_DEFINE_ENUM(KAVM_DROP_INVALID_SRC);
TRACE_DEFINE_ENUM(KAVM_DROP_SPOOF);
TRACE_DEFINE_ENUM(KAVM_DROP_LOOP);
TRACE_DEFINE_ENUM(KAVM_DROP_NOMEM);
TRACE_DEFINE_ENUM(KAVM_DROP_TX);

#define kavm_show_drop_reason(r)					\
	__print_symbolic(r,						\
			 { KAVM_DROP_INVALID_SRC, "invalid_src" },	\
			 { KAVM_DROP_SPOOF, "spoof" },			\
			 { KAVM_DROP_LOOP, "loop" },			\
			 { KAVM_DROP_NOMEM, "nomem" },			\
			 { KAVM_DROP_TX, "tx" })

/* Frames are traced with the Ethernet header in front (skb->data past it). */
DECLARE_EVENT_CLASS(kavm_frame,
	TP_PROTO(const struct kavm_switch *sw, const struct net_device *in,
		 const struct sk_buff *skb),
	TP_ARGS(sw, in, skb),
	TP_STRUCT__entry(
		__string(sw, sw->name)
		__string(in, in->name)
		__field(unsigned int, len)
		__array(u8, src, ETH_ALEN)
		__array(u8, dst, ETH_ALEN)
	),
	TP_fast_assign(
		__assign_str(sw, sw->name);
		__assign_str(in, in->name);
		__entry->len = skb->len + ETH_HLEN;
		memcpy(__entry->src, eth_hdr(skb)->h_source, ETH_ALEN);
		memcpy(__entry->dst, eth_hdr(skb)->h_dest, ETH_ALEN);
	),
	TP_printk("switch %s in %s len %u src %pM dst %pM", __get_str(sw), __get_str(in),
		  __entry->len, __entry->src, __entry->dst)
);

DEFINE_EVENT(kavm_frame, kavm_flood,
	TP_PROTO(const struct kavm_switch *sw, const struct net_device *in,
		 const struct sk_buff *skb),
	TP_ARGS(sw, in, skb)
);

TRACE_EVENT(kavm_forward,
	TP_PROTO(const struct kavm_switch *sw, const struct net_device *in,
		 const struct net_device *out, const struct sk_buff *skb),
	TP_ARGS(sw, in, out, skb),
	TP_STRUCT__entry(
		__string(sw, sw->name)
		__string(in, in->name)
		__string(out, out->name)
		__field(unsigned int, len)
		__array(u8, src, ETH_ALEN)
		__array(u8, dst, ETH_ALEN)
	),
	TP_fast_assign(
		__assign_str(sw, sw->name);
		__assign_str(in, in->name);
		__assign_str(out, out->name);
		__entry->len = skb->len + ETH_HLEN;
		memcpy(__entry->src, eth_hdr(skb)->h_source, ETH_ALEN);
		memcpy(__entry->dst, eth_hdr(skb)->h_dest, ETH_ALEN);
	),
	TP_printk("switch %s in %s out %s len %u src %pM dst %pM", __get_str(sw),
		  __get_str(in), __get_str(out), __entry->len, __entry->src, __entry->dst)
);

/* dev is the port the frame came in on, or for KAVM_DROP_TX the one it failed to leave by. */
TRACE_EVENT(kavm_drop,
	TP_PROTO(const struct kavm_switch *sw, const struct net_device *dev,
		 const struct sk_buff *skb, enum kavm_drop_reason reason),
	TP_ARGS(sw, dev, skb, reason),
	TP_STRUCT__entry(
		__string(sw, sw->name)
		__string(dev, dev->name)
		__field(unsigned int, len)
		__array(u8, src, ETH_ALEN)
		__array(u8, dst, ETH_ALEN)
		__field(unsigned int, reason)
	),
	TP_fast_assign(
		__assign_str(sw, sw->name);
		__assign_str(dev, dev->name);
		__entry->len = skb->len + ETH_HLEN;
		memcpy(__entry->src, eth_hdr(skb)->h_source, ETH_ALEN);
		memcpy(__entry->dst, eth_hdr(skb)->h_dest, ETH_ALEN);
		__entry->reason = reason;
	),
	TP_printk("switch %s dev %s len %u src %pM dst %pM reason %s", __get_str(sw),
		  __get_str(dev), __entry->len, __entry->src, __entry->dst,
		  kavm_show_drop_reason(__entry->reason))
);

#endif /* _KAVM_SWITCH_TRACE_H */

/* Out of the kernel tree: define_trace.h finds this file through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kavm_switch_trace
#include <trace/define_trace.h>
