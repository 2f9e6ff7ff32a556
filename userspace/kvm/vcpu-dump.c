// SPDX-License-Identifier: GPL-2.0
/*
 * kavm vCPU state dump: what a guest was doing when it died (triple fault,
 * KVM internal error, failed entry), in the spirit of QEMU's "info registers"
 * on a KVM error. Registers, segments, tables, pending events and the code
 * bytes at RIP: enough to tell a guest bug from a VMM or host bug.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include <kavm/compiler.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/memory.h>

static void dump_seg(unsigned int id, const char *name, const struct kvm_segment *s)
{
	pr_err("vCPU %u: %s=%04x base=%016llx limit=%08x type=%x dpl=%u p=%u l=%u db=%u\n", id,
	       name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl,
	       s->present, s->l, s->db);
}

static void dump_code(struct kvm_vcpu *vcpu, uint64_t rip)
{
	struct kvm_translation tr = { .linear_address = rip };
	char hex[16 * 3 + 1] = "";
	const uint8_t *p;
	unsigned int i;

	if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) || !tr.valid) {
		pr_err("vCPU %u: code: rip %#llx is not mapped\n", vcpu->id,
		       (unsigned long long)rip);
		return;
	}
	p = guest_mem_ptr(&vcpu->vm->mem, tr.physical_address, 16);
	if (!p) {
		pr_err("vCPU %u: code: rip %#llx -> gpa %#llx outside RAM\n", vcpu->id,
		       (unsigned long long)rip, (unsigned long long)tr.physical_address);
		return;
	}
	for (i = 0; i < 16; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, " %02x", p[i]);
	pr_err("vCPU %u: code at gpa %#llx:%s\n", vcpu->id, (unsigned long long)tr.physical_address,
	       hex);
}

static void dump_events(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev))
		return;
	pr_err("vCPU %u: exception inj=%u pend=%u nr=%u err=%#x(%u) irq inj=%u nr=%u "
	       "nmi inj=%u pend=%u masked=%u shadow=%#x\n",
	       vcpu->id, ev.exception.injected, ev.exception.pending, ev.exception.nr,
	       ev.exception.error_code, ev.exception.has_error_code, ev.interrupt.injected,
	       ev.interrupt.nr, ev.nmi.injected, ev.nmi.pending, ev.nmi.masked,
	       ev.interrupt.shadow);
}

void kvm_vcpu_dump(struct kvm_vcpu *vcpu)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	unsigned int id = vcpu->id;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) || ioctl(vcpu->fd, KVM_GET_SREGS, &s)) {
		pr_err("vCPU %u: registers unavailable\n", id);
		return;
	}
	pr_err("vCPU %u: rip=%016llx rsp=%016llx rflags=%08llx\n", id, (unsigned long long)r.rip,
	       (unsigned long long)r.rsp, (unsigned long long)r.rflags);
	pr_err("vCPU %u: rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", id,
	       (unsigned long long)r.rax, (unsigned long long)r.rbx, (unsigned long long)r.rcx,
	       (unsigned long long)r.rdx);
	pr_err("vCPU %u: rsi=%016llx rdi=%016llx rbp=%016llx r8=%016llx\n", id,
	       (unsigned long long)r.rsi, (unsigned long long)r.rdi, (unsigned long long)r.rbp,
	       (unsigned long long)r.r8);
	pr_err("vCPU %u: cr0=%08llx cr2=%016llx cr3=%016llx cr4=%08llx efer=%llx apic_base=%llx\n",
	       id, (unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
	       (unsigned long long)s.cr4, (unsigned long long)s.efer,
	       (unsigned long long)s.apic_base);
	/*
	 * The VMCB is undefined after a SHUTDOWN intercept, so KVM on AMD has
	 * already reset the vCPU: only the events below are the guest's.
	 */
	if (r.rip == 0xfff0 && s.cs.selector == 0xf000)
		pr_err("vCPU %u: these are reset values: KVM reset the vCPU at the shutdown (AMD)\n",
		       id);
	dump_seg(id, "cs", &s.cs);
	dump_seg(id, "ss", &s.ss);
	dump_seg(id, "tr", &s.tr);
	pr_err("vCPU %u: gdt=%016llx/%#x idt=%016llx/%#x\n", id, (unsigned long long)s.gdt.base,
	       s.gdt.limit, (unsigned long long)s.idt.base, s.idt.limit);
	dump_events(vcpu);
	dump_code(vcpu, r.rip);
}
