// SPDX-License-Identifier: GPL-2.0
/*
 * kavm eBPF switch: an L2 learning switch between taps, in tc and XDP.
 *
 * kavm_sw_tc runs at clsact ingress of every port: it learns the source MAC,
 * redirects known unicast to the destination port, floods broadcast,
 * multicast and unknown unicast to the other ports (bpf_clone_redirect) and
 * passes frames for the device's own MAC to the host. kavm_sw_xdp runs on
 * taps in --xdp mode: known unicast to another tap leaves by a devmap
 * redirect without an skb; anything else gets XDP_PASS and meets the tc
 * program, so XDP is a fast path, never a second policy.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "switch.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_ALEN 6
#define E2BIG 7

/* Learned entries are refreshed at most this often (see KAVM_SW_REFRESH_NS). */
const volatile __u64 refresh_ns = KAVM_SW_REFRESH_NS;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KAVM_SW_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct kavm_sw_port);
} ports SEC(".maps");

/* ifindex -> a copy of ports[ifindex] for small ifindexes (.ifindex 0: not a port). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KAVM_SW_FAST_IFINDEX);
	__type(key, __u32);
	__type(value, struct kavm_sw_port);
} ports_fast SEC(".maps");

/* slot -> ifindex (0: free); the flood set. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KAVM_SW_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} slots SEC(".maps");

/*
 * A plain hash, not an LRU: a guest sending from many MACs must not be able
 * to evict other ports' (or static) entries; a full table stops learning and
 * counts KAVM_SW_FDB_FULL instead, the frames still flood.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KAVM_SW_FDB_SIZE);
	__type(key, struct kavm_sw_fdb_key);
	__type(value, struct kavm_sw_fdb_entry);
} fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kavm_sw_config);
} sw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KAVM_SW_MAX_PORTS + 1);
	__type(key, __u32);
	__type(value, struct kavm_sw_stats);
} stats SEC(".maps");

/*
 * slot -> the taps XDP may redirect to (ndo_xdp_xmit capable). An array by
 * slot, which the fdb entry carries, costs XDP one hash lookup less than
 * a DEVMAP_HASH by ifindex.
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, KAVM_SW_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports SEC(".maps");

enum sw_action {
	SW_DROP,
	SW_HOST,
	SW_FWD,
	SW_FLOOD,
	SW_FLOOD_HOST,
};

static __always_inline struct kavm_sw_stats *stats_of(__u32 slot)
{
	return bpf_map_lookup_elem(&stats, &slot);
}

/* An array read for the usual small ifindexes, a hash lookup for the others. */
static __always_inline const struct kavm_sw_port *port_of(__u32 in)
{
	const struct kavm_sw_port *p;

	if (in < KAVM_SW_FAST_IFINDEX) {
		p = bpf_map_lookup_elem(&ports_fast, &in);
		return p && p->ifindex == in ? p : NULL;
	}
	return bpf_map_lookup_elem(&ports, &in);
}

static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

static __always_inline void fdb_key(struct kavm_sw_fdb_key *k, const __u8 *mac)
{
	__builtin_memcpy(k->mac, mac, ETH_ALEN);
	k->pad = 0;
}

static __always_inline __u64 ageing_of(const struct kavm_sw_config *cfg)
{
	return cfg->ageing_ns ? cfg->ageing_ns : KAVM_SW_AGEING_NS_DEFAULT;
}

/*
 * The clock for learned entries, read only where one is involved: frames
 * between declared MACs and static entries never need it. Tick-grained is
 * plenty for ageing in seconds and cheaper than bpf_ktime_get_ns().
 */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* Record that src lives behind the ingress port. */
static __always_inline void learn(const __u8 *src, __u32 in, const struct kavm_sw_port *port,
				  struct kavm_sw_stats *st)
{
	struct kavm_sw_fdb_entry *e, n = {};
	struct kavm_sw_fdb_key k;
	__u64 now;
	long ret;

	/*
	 * The VMM declared this port's MAC: the loader made it a static entry,
	 * so the hash lookup would find nothing to do.
	 */
	if ((port->flags & KAVM_SW_PORT_HAS_MAC) && mac_eq(src, port->mac))
		return;
	fdb_key(&k, src);
	e = bpf_map_lookup_elem(&fdb, &k);
	if (e && (e->flags & KAVM_SW_FDB_STATIC))
		return;
	now = now_ns();
	if (e) {
		if (e->ifindex == in) {
			if (now - e->seen_ns >= refresh_ns)
				e->seen_ns = now;
			return;
		}
	}
	n.ifindex = in;
	n.slot = port->slot;
	n.seen_ns = now;
	/*
	 * A move replaces the whole value so no reader sees half of it. Losing
	 * a race with another CPU learning the same MAC is no failure.
	 */
	ret = bpf_map_update_elem(&fdb, &k, &n, e ? BPF_EXIST : BPF_NOEXIST);
	if (!ret)
		st->c[KAVM_SW_LEARN]++;
	else if (ret == -E2BIG)
		st->c[KAVM_SW_FDB_FULL]++;
}

/* The live entry for dst, or NULL; an aged one is removed on the way. */
static __always_inline struct kavm_sw_fdb_entry *fdb_find(const __u8 *dst,
							  const struct kavm_sw_config *cfg)
{
	struct kavm_sw_fdb_entry *e;
	struct kavm_sw_fdb_key k;

	fdb_key(&k, dst);
	e = bpf_map_lookup_elem(&fdb, &k);
	if (!e || (e->flags & KAVM_SW_FDB_STATIC))
		return e;
	if (now_ns() - e->seen_ns < ageing_of(cfg))
		return e;
	bpf_map_delete_elem(&fdb, &k);
	return NULL;
}

/*
 * The switching decision shared by both hooks. On SW_FWD, *out is the
 * destination's fdb entry.
 */
static __always_inline enum sw_action decide(struct ethhdr *eth, __u32 in,
					     const struct kavm_sw_port *port,
					     struct kavm_sw_stats *st,
					     struct kavm_sw_fdb_entry **out)
{
	const struct kavm_sw_config *cfg;
	struct kavm_sw_fdb_entry *e;
	__u32 zero = 0;

	if (eth->h_source[0] & 1) {
		st->c[KAVM_SW_DROP_INVALID]++;
		return SW_DROP;
	}
	if ((port->flags & KAVM_SW_PORT_NO_SPOOF) && !mac_eq(eth->h_source, port->mac)) {
		st->c[KAVM_SW_DROP_SPOOF]++;
		return SW_DROP;
	}
	cfg = bpf_map_lookup_elem(&sw_config, &zero);
	if (!cfg)
		return SW_DROP;
	learn(eth->h_source, in, port, st);
	if (eth->h_dest[0] & 1)
		return SW_FLOOD_HOST;
	if (mac_eq(eth->h_dest, port->dev_mac))
		return SW_HOST;
	e = fdb_find(eth->h_dest, cfg);
	if (!e)
		return SW_FLOOD;
	if (e->ifindex == in) {
		st->c[KAVM_SW_DROP_LOOP]++;
		return SW_DROP;
	}
	*out = e;
	return SW_FWD;
}

static __always_inline void count_tx(__u32 slot)
{
	struct kavm_sw_stats *st = stats_of(slot);

	if (st)
		st->c[KAVM_SW_TX]++;
}

/* A copy to every other port; the caller decides what happens to the original. */
static __always_inline void flood(struct __sk_buff *skb, __u32 in)
{
	__u32 zero = 0, nr, i;
	struct kavm_sw_config *cfg;

	cfg = bpf_map_lookup_elem(&sw_config, &zero);
	if (!cfg)
		return;
	nr = cfg->nr_slots;
	for (i = 0; i < KAVM_SW_MAX_PORTS; i++) {
		/* A copy for the helper: &i on the stack would lose i's bounds. */
		__u32 slot = i, *ifindex;

		if (i >= nr)
			break;
		ifindex = bpf_map_lookup_elem(&slots, &slot);
		if (!ifindex || !*ifindex || *ifindex == in)
			continue;
		/* Fails for a port whose device is gone: the others still get theirs. */
		if (!bpf_clone_redirect(skb, *ifindex, 0))
			count_tx(i);
	}
}

SEC("tc")
int kavm_sw_tc(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = (void *)(long)skb->data;
	struct kavm_sw_fdb_entry *dst = NULL;
	const struct kavm_sw_port *port;
	struct kavm_sw_stats *st;
	__u32 in = skb->ifindex;
	enum sw_action act;

	port = port_of(in);
	if (!port) {
		st = stats_of(KAVM_SW_MAX_PORTS);
		if (st)
			st->c[KAVM_SW_NOT_PORT]++;
		return TC_ACT_OK;
	}
	st = stats_of(port->slot);
	if (!st)
		return TC_ACT_OK;
	st->c[KAVM_SW_RX]++;
	st->c[KAVM_SW_RX_BYTES] += skb->len;
	if ((void *)(eth + 1) > data_end) {
		st->c[KAVM_SW_DROP_INVALID]++;
		return TC_ACT_SHOT;
	}
	act = decide(eth, in, port, st, &dst);
	switch (act) {
	case SW_FWD:
		st->c[KAVM_SW_FWD]++;
		count_tx(dst->slot);
		return bpf_redirect(dst->ifindex, 0);
	case SW_HOST:
		st->c[KAVM_SW_TO_HOST]++;
		return TC_ACT_OK;
	case SW_FLOOD:
	case SW_FLOOD_HOST:
		/* Packet pointers are dead after bpf_clone_redirect(). */
		st->c[KAVM_SW_FLOOD]++;
		flood(skb, in);
		if (act == SW_FLOOD)
			return TC_ACT_SHOT;
		st->c[KAVM_SW_TO_HOST]++;
		return TC_ACT_OK;
	default:
		return TC_ACT_SHOT;
	}
}

SEC("xdp")
int kavm_sw_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct kavm_sw_fdb_entry *dst = NULL;
	const struct kavm_sw_port *port;
	__u32 in = ctx->ingress_ifindex;
	struct kavm_sw_stats *st;
	enum sw_action act;
	long ret;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	port = port_of(in);
	if (!port)
		return XDP_PASS;
	st = stats_of(port->slot);
	if (!st)
		return XDP_PASS;
	/* Counted here only when XDP finishes the frame; XDP_PASS meets tc, which counts. */
	act = decide(eth, in, port, st, &dst);
	if (act == SW_DROP) {
		st->c[KAVM_SW_RX]++;
		st->c[KAVM_SW_RX_BYTES] += data_end - (void *)eth;
		return XDP_DROP;
	}
	if (act != SW_FWD)
		return XDP_PASS;
	/* Not in tx_ports (an uplink, or a device without XDP transmit): tc does it. */
	ret = bpf_redirect_map(&tx_ports, dst->slot, XDP_PASS);
	if (ret != XDP_REDIRECT)
		return XDP_PASS;
	st->c[KAVM_SW_RX]++;
	st->c[KAVM_SW_RX_BYTES] += data_end - (void *)eth;
	st->c[KAVM_SW_FWD_XDP]++;
	count_tx(dst->slot);
	return XDP_REDIRECT;
}

char LICENSE[] SEC("license") = "GPL";
