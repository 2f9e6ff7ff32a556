// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace exits: per VM and vCPU, KVM exits by reason with their
 * handling time (kvm_exit to the next kvm_entry), the exits that went on to
 * kavm (KVM_RUN returning, by KVM_EXIT_* reason), and port I/O and MMIO by
 * address. Rows are the last interval's, busiest first.
 */
#include <stdlib.h>
#include <string.h>

#include "kavm-trace.h"

struct row {
	const struct bpf_trace_entry *e;
	uint64_t count;
	uint64_t total;
	uint64_t sum_ns;
	uint64_t hist[KT_HIST_SLOTS];
};

struct rows {
	struct row *r;
	size_t n;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static struct kt_vm *row_vm(struct kt_ctx *c, uint32_t vm)
{
	return vm < KT_MAX_VMS && c->vms[vm].used ? &c->vms[vm] : NULL;
}

/* This interval's rows of a map of plain counters (or exits), busiest first. */
static int rows_make(struct kt_ctx *c, enum bpf_trace_map map, const struct kt_snap *cur,
		     struct rows *out)
{
	size_t i, j;

	out->n = 0;
	out->r = calloc(cur->n ? cur->n : 1, sizeof(*out->r));
	if (!out->r)
		return -1;
	for (i = 0; i < cur->n; i++) {
		const struct bpf_trace_entry *e = &cur->e[i], *p = kt_snap_prev(c, map, e);
		struct row *r = &out->r[out->n];

		r->e = e;
		if (map == BPF_TRACE_EXITS) {
			r->total = e->val.exit.count;
			r->count = kt_delta(e->val.exit.count, p ? p->val.exit.count : 0);
			r->sum_ns = kt_delta(e->val.exit.sum_ns, p ? p->val.exit.sum_ns : 0);
			for (j = 0; j < KT_HIST_SLOTS; j++)
				r->hist[j] =
					kt_delta(e->val.exit.hist[j], p ? p->val.exit.hist[j] : 0);
		} else {
			r->total = e->val.count;
			r->count = kt_delta(e->val.count, p ? p->val.count : 0);
		}
		if (r->count && row_vm(c, e->key.exit.vm) /* vm is every key's first field */)
			out->n++;
	}
	qsort(out->r, out->n, sizeof(*out->r), row_cmp);
	return 0;
}

static void exit_json(struct kt_ctx *c, const struct row *r)
{
	const struct kt_exit_key *k = &r->e->key.exit;
	const struct kt_exit_val *v = &r->e->val.exit;
	struct json_writer *jw = kt_json_begin(c, "exit", row_vm(c, k->vm));
	char name[48];
	unsigned int i;

	kt_exit_name(k->isa, k->reason, name, sizeof(name));
	jw_uint_field(jw, "vcpu", k->vcpu);
	jw_string_field(jw, "isa", kt_isa_name(k->isa));
	jw_string_field(jw, "reason", name);
	jw_uint_field(jw, "code", k->reason);
	jw_uint_field(jw, "count", r->count);
	jw_double_field(jw, "rate", r->count / c->dt);
	jw_uint_field(jw, "total", r->total);
	jw_uint_field(jw, "min_ns", v->min_ns);
	jw_uint_field(jw, "avg_ns", r->sum_ns / r->count);
	jw_uint_field(jw, "max_ns", v->max_ns);
	jw_name(jw, "hist_log2_ns");
	jw_start_array(jw);
	for (i = 0; i < KT_HIST_SLOTS; i++)
		jw_uint(jw, r->hist[i]);
	jw_end_array(jw);
	kt_json_end(jw);
}

static void exits_print(struct kt_ctx *c, const struct rows *rows)
{
	size_t i;

	if (!c->o.json)
		printf("\n%-16s %4s %-22s %10s %10s %12s %9s %9s %9s\n", "VM", "VCPU",
		       "EXIT REASON", "COUNT", "RATE/s", "TOTAL", "MIN_us", "AVG_us", "MAX_us");
	for (i = 0; i < rows->n; i++) {
		const struct row *r = &rows->r[i];
		const struct kt_exit_key *k = &r->e->key.exit;
		const struct kt_exit_val *v = &r->e->val.exit;
		char name[48];

		if (c->o.json) {
			exit_json(c, r);
			continue;
		}
		kt_exit_name(k->isa, k->reason, name, sizeof(name));
		printf("%-16s %4u %-22s %10llu %10.1f %12llu %9.2f %9.2f %9.2f\n",
		       row_vm(c, k->vm)->reg.name, k->vcpu, name, (unsigned long long)r->count,
		       r->count / c->dt, (unsigned long long)r->total, v->min_ns / 1e3,
		       r->sum_ns / 1e3 / r->count, v->max_ns / 1e3);
		if (c->o.hist)
			kt_hist_print(r->hist, KT_HIST_SLOTS);
	}
}

static void uexits_print(struct kt_ctx *c, const struct rows *rows)
{
	size_t i;

	if (!c->o.json)
		printf("\n%-16s %4s %-22s %10s %10s %12s\n", "VM", "VCPU", "TO KAVM (KVM_RUN)",
		       "COUNT", "RATE/s", "TOTAL");
	for (i = 0; i < rows->n; i++) {
		const struct row *r = &rows->r[i];
		const struct kt_uexit_key *k = &r->e->key.uexit;
		struct kt_vm *vm = row_vm(c, k->vm);
		struct json_writer *jw;
		char name[48];

		kt_uexit_name(k->reason, name, sizeof(name));
		if (!c->o.json) {
			printf("%-16s %4u %-22s %10llu %10.1f %12llu\n", vm->reg.name, k->vcpu,
			       name, (unsigned long long)r->count, r->count / c->dt,
			       (unsigned long long)r->total);
			continue;
		}
		jw = kt_json_begin(c, "userspace_exit", vm);
		jw_uint_field(jw, "vcpu", k->vcpu);
		jw_string_field(jw, "reason", name);
		jw_uint_field(jw, "count", r->count);
		jw_double_field(jw, "rate", r->count / c->dt);
		jw_uint_field(jw, "total", r->total);
		kt_json_end(jw);
	}
}

/* Per VM: how many of the interval's exits went on to kavm. */
static void summary_print(struct kt_ctx *c, const struct rows *exits, const struct rows *uexits)
{
	unsigned int vm;
	size_t i;

	for (vm = 0; vm < KT_MAX_VMS; vm++) {
		uint64_t n = 0, u = 0;
		struct json_writer *jw;

		if (!c->vms[vm].used)
			continue;
		for (i = 0; i < exits->n; i++)
			n += exits->r[i].e->key.exit.vm == vm ? exits->r[i].count : 0;
		for (i = 0; i < uexits->n; i++)
			u += uexits->r[i].e->key.uexit.vm == vm &&
					     uexits->r[i].e->key.uexit.reason < KT_UEXIT_ERRNO ?
				     uexits->r[i].count :
				     0;
		if (!c->o.json && !n && u) {
			printf("%-16s exits ? (this kernel's KVM reports none), to kavm %llu "
			       "(%.1f/s)\n",
			       c->vms[vm].reg.name, (unsigned long long)u, u / c->dt);
			continue;
		}
		if (!c->o.json) {
			printf("%-16s exits %llu (%.1f/s), to kavm %llu (%.1f%%)\n",
			       c->vms[vm].reg.name, (unsigned long long)n, n / c->dt,
			       (unsigned long long)u, n ? 100.0 * u / n : 0.0);
			continue;
		}
		jw = kt_json_begin(c, "exit_summary", &c->vms[vm]);
		jw_uint_field(jw, "exits", n);
		jw_double_field(jw, "rate", n / c->dt);
		jw_uint_field(jw, "userspace_exits", u);
		/* Without kvm_exit events (a kernel that lacks them) there is no share. */
		if (n)
			jw_double_field(jw, "userspace_share", (double)u / n);
		else
			jw_string_field(jw, "userspace_share", NULL);
		kt_json_end(jw);
	}
}

static void addrs_print(struct kt_ctx *c, const struct rows *rows, bool pio)
{
	unsigned int shown = 0;
	size_t i;

	if (!c->o.json)
		printf("\n%-16s %-18s %-16s %10s %10s %12s   (top %u)\n", "VM",
		       pio ? "PORT" : "MMIO GPA", "ACCESS", "COUNT", "RATE/s", "TOTAL", c->o.top);
	for (i = 0; i < rows->n && shown < c->o.top; i++) {
		const struct row *r = &rows->r[i];
		const struct kt_addr_key *k = &r->e->key.addr;
		bool is_pio = k->kind == KT_ADDR_PIO_IN || k->kind == KT_ADDR_PIO_OUT;
		struct kt_vm *vm = row_vm(c, k->vm);
		struct json_writer *jw;

		if (is_pio != pio)
			continue;
		shown++;
		if (!c->o.json) {
			printf("%-16s 0x%-16llx %-16s %10llu %10.1f %12llu\n", vm->reg.name,
			       (unsigned long long)k->addr, kt_addr_kind(k->kind),
			       (unsigned long long)r->count, r->count / c->dt,
			       (unsigned long long)r->total);
			continue;
		}
		jw = kt_json_begin(c, pio ? "pio" : "mmio", vm);
		jw_uint_field(jw, pio ? "port" : "gpa", k->addr);
		jw_string_field(jw, "access", kt_addr_kind(k->kind));
		jw_uint_field(jw, "count", r->count);
		jw_double_field(jw, "rate", r->count / c->dt);
		jw_uint_field(jw, "total", r->total);
		kt_json_end(jw);
	}
}

void kt_exits_show(struct kt_ctx *c)
{
	struct kt_snap cur[3] = {};
	struct rows exits = {}, uexits = {}, addrs = {};
	static const enum bpf_trace_map maps[] = { BPF_TRACE_EXITS, BPF_TRACE_UEXITS,
						   BPF_TRACE_ADDRS };
	unsigned int i;

	for (i = 0; i < 3; i++)
		kt_snap_take(c, maps[i], &cur[i]);
	if (!rows_make(c, BPF_TRACE_EXITS, &cur[0], &exits) &&
	    !rows_make(c, BPF_TRACE_UEXITS, &cur[1], &uexits) &&
	    !rows_make(c, BPF_TRACE_ADDRS, &cur[2], &addrs)) {
		if (!c->o.json)
			kt_title(c, "exits");
		summary_print(c, &exits, &uexits);
		exits_print(c, &exits);
		uexits_print(c, &uexits);
		addrs_print(c, &addrs, true);
		addrs_print(c, &addrs, false);
		fflush(stdout);
	}
	free(exits.r);
	free(uexits.r);
	free(addrs.r);
	for (i = 0; i < 3; i++)
		kt_snap_keep(c, maps[i], &cur[i]);
}
