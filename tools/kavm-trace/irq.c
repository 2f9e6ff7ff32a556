// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace irq: interrupts per VM. "inj_virq" is KVM injecting a vector
 * into a vCPU on its way into the guest (kvm_inj_virq, on the vCPU's own
 * thread; interrupts posted by APICv/AVIC hardware do not pass there);
 * "msi" and "gsi" are interrupts raised for the VM (kvm_msi_set_irq,
 * kvm_set_irq) by kavm or a worker of its (vhost), counted by vector or GSI.
 */
#include <stdlib.h>

#include "kavm-trace.h"

static const char *irq_kind(uint32_t kind)
{
	return kind == KT_IRQ_INJ_VIRQ ? "inj_virq" : kind == KT_IRQ_MSI ? "msi" : "gsi";
}

struct irq_row {
	const struct bpf_trace_entry *e;
	uint64_t count;
};

static int irq_cmp(const void *a, const void *b)
{
	const struct irq_row *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static void irq_row_print(struct kt_ctx *c, const struct irq_row *r)
{
	const struct kt_irq_key *k = &r->e->key.irq;
	struct kt_vm *vm = &c->vms[k->vm];
	struct json_writer *jw;
	char vcpu[16] = "-";

	if (!c->o.json) {
		if (k->kind == KT_IRQ_INJ_VIRQ)
			snprintf(vcpu, sizeof(vcpu), "%u", k->vcpu);
		printf("%-16s %-9s %4s %10s%-6u %10llu %10.1f %12llu\n", vm->reg.name,
		       irq_kind(k->kind), vcpu, k->kind == KT_IRQ_GSI ? "gsi " : "vector ", k->num,
		       (unsigned long long)r->count, r->count / c->dt,
		       (unsigned long long)r->e->val.count);
		return;
	}
	jw = kt_json_begin(c, "irq", vm);
	jw_string_field(jw, "source", irq_kind(k->kind));
	if (k->kind == KT_IRQ_INJ_VIRQ)
		jw_uint_field(jw, "vcpu", k->vcpu);
	jw_uint_field(jw, k->kind == KT_IRQ_GSI ? "gsi" : "vector", k->num);
	jw_uint_field(jw, "count", r->count);
	jw_double_field(jw, "rate", r->count / c->dt);
	jw_uint_field(jw, "total", r->e->val.count);
	kt_json_end(jw);
}

void kt_irq_show(struct kt_ctx *c)
{
	struct kt_snap cur = {};
	struct irq_row *rows;
	size_t i, n = 0;

	if (kt_snap_take(c, BPF_TRACE_IRQS, &cur))
		return;
	rows = calloc(cur.n ? cur.n : 1, sizeof(*rows));
	if (!rows)
		goto out;
	for (i = 0; i < cur.n; i++) {
		const struct bpf_trace_entry *p = kt_snap_prev(c, BPF_TRACE_IRQS, &cur.e[i]);
		uint32_t vm = cur.e[i].key.irq.vm;

		rows[n].e = &cur.e[i];
		rows[n].count = kt_delta(cur.e[i].val.count, p ? p->val.count : 0);
		if (rows[n].count && vm < KT_MAX_VMS && c->vms[vm].used)
			n++;
	}
	qsort(rows, n, sizeof(*rows), irq_cmp);
	if (!c->o.json) {
		kt_title(c, "irq");
		printf("\n%-16s %-9s %4s %16s %10s %10s %12s\n", "VM", "SOURCE", "VCPU",
		       "VECTOR/GSI", "COUNT", "RATE/s", "TOTAL");
	}
	for (i = 0; i < n; i++)
		irq_row_print(c, &rows[i]);
	fflush(stdout);
	free(rows);
out:
	kt_snap_keep(c, BPF_TRACE_IRQS, &cur);
}
