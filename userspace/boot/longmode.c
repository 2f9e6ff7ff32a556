// SPDX-License-Identifier: GPL-2.0
/*
 * kavm 64-bit boot CPU state: identity-mapped page tables for the first
 * 4 GiB, a flat GDT (code 0x10, data 0x18, as boot.rst's 64-bit protocol
 * asks), paging and long mode on, RSI = the zero page. Every vCPU's LAPIC
 * gets LINT0 = ExtINT and LINT1 = NMI, as a PC BIOS leaves them.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include <kavm/boot.h>
#include <kavm/log.h>

#define X86_CR0_PE 0x1ULL
#define X86_CR0_ET 0x10ULL
#define X86_CR0_PG 0x80000000ULL
#define X86_CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define PTE_PRESENT_RW 0x3ULL
#define PTE_HUGE 0x80ULL

#define GDT_CODE 2 /* selector 0x10 */
#define GDT_DATA 3 /* selector 0x18 */
#define GDT_TSS 4  /* selector 0x20 */

static int boot_write_page_tables(struct guest_mem *mem)
{
	uint64_t *pml4 = guest_mem_ptr(mem, BOOT_PML4_ADDR, 0x1000);
	uint64_t *pdpt = guest_mem_ptr(mem, BOOT_PDPT_ADDR, 0x1000);
	uint64_t *pd = guest_mem_ptr(mem, BOOT_PD_ADDR, 4 * 0x1000);
	unsigned int i;

	if (!pml4 || !pdpt || !pd)
		return -ENOSPC;
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = BOOT_PDPT_ADDR | PTE_PRESENT_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 0x1000ULL) | PTE_PRESENT_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT_RW | PTE_HUGE;
	return 0;
}

static struct kvm_segment boot_segment(unsigned int index, uint8_t type, bool code)
{
	return (struct kvm_segment){ .base = 0,
				     .limit = 0xfffff,
				     .selector = index * 8,
				     .type = type,
				     .present = 1,
				     .s = 1,
				     .l = code,
				     .db = !code,
				     .g = 1 };
}

static int boot_write_gdt(struct guest_mem *mem)
{
	uint64_t *gdt = guest_mem_ptr(mem, BOOT_GDT_ADDR, 6 * 8);

	if (!gdt)
		return -ENOSPC;
	memset(gdt, 0, 6 * 8);
	gdt[GDT_CODE] = 0x00af9b000000ffffULL; /* 64-bit code, present, DPL 0 */
	gdt[GDT_DATA] = 0x00cf93000000ffffULL; /* 4 GiB data, present, DPL 0 */
	gdt[GDT_TSS] = 0x00008b0000000fffULL;  /* busy 64-bit TSS at 0 */
	return 0;
}

static int boot_setup_bsp_sregs(struct kvm_vcpu *vcpu)
{
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s))
		return -errno;
	s.gdt.base = BOOT_GDT_ADDR;
	s.gdt.limit = 6 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cs = boot_segment(GDT_CODE, 0xb, true);
	s.ds = s.es = s.fs = s.gs = s.ss = boot_segment(GDT_DATA, 0x3, false);
	s.tr = (struct kvm_segment){
		.limit = 0xfff, .selector = GDT_TSS * 8, .type = 0xb, .present = 1
	};
	s.cr3 = BOOT_PML4_ADDR;
	s.cr4 = X86_CR4_PAE;
	s.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	s.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s))
		return -errno;
	return 0;
}

static int boot_setup_bsp(struct kvm_vcpu *vcpu, uint64_t rip, uint64_t rsi)
{
	struct kvm_regs regs = { .rip = rip, .rsi = rsi, .rflags = 2 };
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	int ret;

	ret = boot_setup_bsp_sregs(vcpu);
	if (ret)
		return ret;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) || ioctl(vcpu->fd, KVM_SET_FPU, &fpu))
		return -errno;
	return 0;
}

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static void lapic_set_lvt(struct kvm_lapic_state *l, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], 4);
	v = (v & ~0x700U) | mode << 8;
	memcpy(&l->regs[reg], &v, 4);
}

static int boot_setup_lint(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic_state l;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &l))
		return -errno;
	lapic_set_lvt(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_lvt(&l, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &l))
		return -errno;
	return 0;
}

int boot_setup_cpus(struct kvm_vm *vm, uint64_t rip, uint64_t rsi)
{
	unsigned int i;
	int ret;

	ret = boot_write_page_tables(&vm->mem);
	if (!ret)
		ret = boot_write_gdt(&vm->mem);
	if (!ret)
		ret = boot_setup_bsp(&vm->vcpus[0], rip, rsi);
	for (i = 0; !ret && !vm->cfg->no_irqchip && i < vm->nr_vcpus; i++)
		ret = boot_setup_lint(&vm->vcpus[i]);
	if (ret)
		pr_err("boot CPU state: %s", strerror(-ret));
	return ret;
}
