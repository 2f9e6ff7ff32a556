// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace net and drops. net: per VM tap, frames and bytes each way
 * ("rx" is to the guest: the host transmits on the tap; "tx" is from the
 * guest: the tap hands the frame to the host), read from the tap's own link
 * statistics, so that no program runs per frame for them; the frames the
 * kernel freed as drops with their reasons, and how many a vhost worker
 * moved, counted by BPF.
 * drops: every dropped frame on a traced tap as it happens, with the
 * kernel's reason and the function that freed it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kavm-trace.h"

static const char *const tap_names[KT_TAP_NR_COUNTERS] = {
	[KT_TAP_RX_PACKETS] = "rx_packets",
	[KT_TAP_RX_BYTES] = "rx_bytes",
	[KT_TAP_TX_PACKETS] = "tx_packets",
	[KT_TAP_TX_BYTES] = "tx_bytes",
	[KT_TAP_DROPS] = "drops",
	[KT_TAP_VHOST_RX_PACKETS] = "vhost_rx_packets",
	[KT_TAP_VHOST_TX_PACKETS] = "vhost_tx_packets",
};

static void tap_json(struct kt_ctx *c, const struct kt_slot *s, const uint64_t *d,
		     const uint64_t *total)
{
	struct json_writer *jw = kt_json_begin(c, "net", &c->vms[s->vm]);
	unsigned int i;

	jw_string_field(jw, "ifname", s->ifname);
	jw_uint_field(jw, "ifindex", s->ifindex);
	for (i = 0; i < KT_TAP_NR_COUNTERS; i++)
		jw_uint_field(jw, tap_names[i], d[i]);
	jw_double_field(jw, "rx_pps", d[KT_TAP_RX_PACKETS] / c->dt);
	jw_double_field(jw, "tx_pps", d[KT_TAP_TX_PACKETS] / c->dt);
	jw_name(jw, "total");
	jw_start_object(jw);
	for (i = 0; i < KT_TAP_NR_COUNTERS; i++)
		jw_uint_field(jw, tap_names[i], total[i]);
	jw_end_object(jw);
	kt_json_end(jw);
}

static void tap_print(struct kt_ctx *c, const struct kt_slot *s, const uint64_t *d)
{
	printf("%-16s %-15s %10.1f %12.0f %10.1f %12.0f %8llu %7.0f%% %7.0f%%\n",
	       c->vms[s->vm].reg.name, s->ifname, d[KT_TAP_RX_PACKETS] / c->dt,
	       d[KT_TAP_RX_BYTES] / c->dt, d[KT_TAP_TX_PACKETS] / c->dt, d[KT_TAP_TX_BYTES] / c->dt,
	       (unsigned long long)d[KT_TAP_DROPS],
	       d[KT_TAP_RX_PACKETS] ? 100.0 * d[KT_TAP_VHOST_RX_PACKETS] / d[KT_TAP_RX_PACKETS] : 0,
	       d[KT_TAP_TX_PACKETS] ? 100.0 * d[KT_TAP_VHOST_TX_PACKETS] / d[KT_TAP_TX_PACKETS] :
				      0);
}

/*
 * The tap's frames and bytes each way, from its own link statistics: the
 * totals since tracing began into tot, this interval's into d. A tap whose
 * counters cannot be read (gone meanwhile) shows what it had.
 */
static void tap_link_counts(struct kt_ctx *c, struct kt_slot *s, uint64_t *tot, uint64_t *d)
{
	uint64_t now[KT_LINK_COUNTERS];
	unsigned int i;

	if (kt_slot_link_stats(c, s, now)) {
		memset(d, 0, KT_LINK_COUNTERS * sizeof(*d));
		for (i = 0; i < KT_LINK_COUNTERS; i++)
			tot[i] = s->linked ? s->last[i] - s->base[i] : 0;
		return;
	}
	if (!s->linked) {
		memcpy(s->base, now, sizeof(now));
		memcpy(s->last, now, sizeof(now));
		s->linked = true;
	}
	for (i = 0; i < KT_LINK_COUNTERS; i++) {
		tot[i] = now[i] - s->base[i];
		d[i] = kt_delta(now[i], s->last[i]);
	}
	memcpy(s->last, now, sizeof(now));
}

/* Every traced tap gets a line, traffic or not: a silent tap is news too. */
static void taps_show(struct kt_ctx *c, const struct kt_snap *cur)
{
	struct bpf_trace_entry key = {};
	unsigned int slot, i;

	if (!c->o.json)
		printf("\n%-16s %-15s %10s %12s %10s %12s %8s %8s %8s\n", "VM", "TAP", "RX pkt/s",
		       "RX B/s", "TX pkt/s", "TX B/s", "DROPS", "VHOST_RX", "VHOST_TX");
	for (slot = 0; slot < KT_MAX_TAPS; slot++) {
		const struct bpf_trace_entry *e, *p;
		uint64_t d[KT_TAP_NR_COUNTERS], tot[KT_TAP_NR_COUNTERS] = {};

		if (!c->slots[slot].used)
			continue;
		key.key.slot = slot;
		e = kt_snap_find(cur, &key);
		p = kt_snap_prev(c, BPF_TRACE_TAPS, &key);
		if (e)
			memcpy(tot, e->val.tap.c, sizeof(tot));
		for (i = KT_LINK_COUNTERS; i < KT_TAP_NR_COUNTERS; i++)
			d[i] = kt_delta(tot[i], p ? p->val.tap.c[i] : 0);
		tap_link_counts(c, &c->slots[slot], tot, d);
		if (c->o.json)
			tap_json(c, &c->slots[slot], d, tot);
		else
			tap_print(c, &c->slots[slot], d);
	}
}

static void reasons_show(struct kt_ctx *c, const struct kt_snap *cur)
{
	bool header = false;
	size_t i;

	for (i = 0; i < cur->n; i++) {
		const struct bpf_trace_entry *e = &cur->e[i];
		const struct bpf_trace_entry *p = kt_snap_prev(c, BPF_TRACE_DROP_REASONS, e);
		const struct kt_slot *s = &c->slots[e->key.drop.slot % KT_MAX_TAPS];
		const char *reason = bpf_trace_drop_reason(c->bt, e->key.drop.reason);
		uint64_t d = kt_delta(e->val.count, p ? p->val.count : 0);
		struct json_writer *jw;

		if (!d || !s->used)
			continue;
		if (!c->o.json) {
			if (!header)
				printf("\n%-16s %-15s %-28s %10s %12s\n", "VM", "TAP",
				       "DROP REASON", "COUNT", "TOTAL");
			header = true;
			printf("%-16s %-15s %-28s %10llu %12llu\n", c->vms[s->vm].reg.name,
			       s->ifname, reason ? reason : "?", (unsigned long long)d,
			       (unsigned long long)e->val.count);
			continue;
		}
		jw = kt_json_begin(c, "drop_reason", &c->vms[s->vm]);
		jw_string_field(jw, "ifname", s->ifname);
		jw_uint_field(jw, "ifindex", s->ifindex);
		jw_string_field(jw, "reason", reason);
		jw_uint_field(jw, "reason_code", e->key.drop.reason);
		jw_uint_field(jw, "count", d);
		jw_uint_field(jw, "total", e->val.count);
		kt_json_end(jw);
	}
}

void kt_net_show(struct kt_ctx *c)
{
	struct kt_snap taps = {}, reasons = {};

	kt_snap_take(c, BPF_TRACE_TAPS, &taps);
	kt_snap_take(c, BPF_TRACE_DROP_REASONS, &reasons);
	if (!c->o.json)
		kt_title(c, "net");
	taps_show(c, &taps);
	reasons_show(c, &reasons);
	fflush(stdout);
	kt_snap_keep(c, BPF_TRACE_TAPS, &taps);
	kt_snap_keep(c, BPF_TRACE_DROP_REASONS, &reasons);
}

/* The event's CLOCK_MONOTONIC stamp as wall-clock seconds. */
static double event_time(uint64_t ts)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return real.tv_sec + real.tv_nsec / 1e9 -
	       ((mono.tv_sec * 1000000000ULL + mono.tv_nsec) - (double)ts) / 1e9;
}

static void drop_json(struct kt_ctx *c, const struct kt_drop_event *e, const char *reason,
		      const char *proto, const char *where, double t)
{
	const struct kt_slot *s = &c->slots[e->slot % KT_MAX_TAPS];
	struct json_writer *jw = jw_new(stdout);

	jw_start_object(jw);
	jw_string_field(jw, "type", "drop");
	jw_double_field(jw, "ts", t);
	jw_string_field(jw, "vm", c->vms[e->vm % KT_MAX_VMS].reg.name);
	jw_int_field(jw, "pid", c->vms[e->vm % KT_MAX_VMS].reg.pid);
	jw_string_field(jw, "ifname", s->ifname);
	jw_uint_field(jw, "ifindex", e->ifindex);
	jw_string_field(jw, "reason", reason);
	jw_uint_field(jw, "reason_code", e->reason);
	jw_string_field(jw, "protocol", proto);
	jw_uint_field(jw, "protocol_code", (uint16_t)((e->protocol >> 8) | (e->protocol << 8)));
	jw_uint_field(jw, "len", e->len);
	jw_string_field(jw, "location", where);
	jw_uint_field(jw, "location_addr", e->location);
	jw_string_field(jw, "comm", e->comm);
	jw_uint_field(jw, "task_pid", e->pid);
	jw_end_object(jw);
	jw_destroy(jw);
}

static void on_drop(const struct kt_drop_event *e, void *arg)
{
	struct kt_ctx *c = arg;
	const struct kt_slot *s = &c->slots[e->slot % KT_MAX_TAPS];
	const char *reason = bpf_trace_drop_reason(c->bt, e->reason);
	char proto[16], where[128], comm[17], when[32];
	double t = event_time(e->ts);
	time_t secs = (time_t)t;
	struct tm tm;

	if (e->vm >= KT_MAX_VMS || !c->vms[e->vm].used || !s->used)
		return;
	kt_proto_name(e->protocol, proto, sizeof(proto));
	kt_ksym_name(e->location, where, sizeof(where));
	if (c->o.json) {
		drop_json(c, e, reason ? reason : "?", proto, where, t);
		return;
	}
	memcpy(comm, e->comm, 16);
	comm[16] = '\0';
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s.%06d %-16s %-15s %-24s %-8s %5u %-36s %s(%u)\n", when,
	       (int)((t - (double)secs) * 1e6), c->vms[e->vm].reg.name, s->ifname,
	       reason ? reason : "?", proto, e->len, where, comm, e->pid);
}

int kt_drops_poll(struct kt_ctx *c, int timeout_ms)
{
	int ret = bpf_trace_poll_drops(c->bt, timeout_ms, on_drop, c);

	fflush(stdout);
	return ret;
}
