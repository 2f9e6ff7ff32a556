/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm boot: loading a Linux kernel (bzImage or ELF vmlinux) for the 64-bit
 * boot protocol, the zero page with its e820 map, the MP table, and the
 * long-mode state of the boot CPU.
 */
#ifndef KAVM_BOOT_H
#define KAVM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include <asm/bootparam.h>

#include <kavm/kvm.h>
#include <kavm/memory.h>

/* Low guest memory used by the boot path (all below 640 KiB or in the BIOS area). */
#define BOOT_GDT_ADDR 0x500
#define BOOT_ZERO_PAGE_ADDR 0x7000
#define BOOT_PML4_ADDR 0x9000
#define BOOT_PDPT_ADDR 0xa000
#define BOOT_PD_ADDR 0xb000 /* 4 pages: identity map of the first 4 GiB */
#define BOOT_CMDLINE_ADDR 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_EBDA_START 0x9fc00 /* e820 reserves [this, 1 MiB) */
#define BOOT_ACPI_ADDR 0xe0000	/* RSDP, then the tables: the BIOS area Linux scans */
#define BOOT_ACPI_MAX 0x10000
#define BOOT_MPTABLE_ADDR 0xf0000 /* in the BIOS area Linux scans for "_MP_" */
#define BOOT_RESET_VECTOR 0xffff0 /* F000:FFF0, where a PC's BIOS starts */
#define BOOT_RESET_VECTOR_LEN 16
#define BOOT_MPTABLE_MAX (BOOT_RESET_VECTOR - BOOT_MPTABLE_ADDR)
#define BOOT_KERNEL_ADDR 0x100000

/* setup header fields (Documentation/arch/x86/boot.rst) */
#define BOOT_HDR_MAGIC 0x53726448 /* "HdrS" */
#define BOOT_FLAG_MAGIC 0xaa55
#define BOOT_INITRD_ADDR_MAX_DEFAULT 0x37ffffffU

/* What loading the kernel image found out, for the zero page and the BSP. */
struct boot_image {
	bool is_bzimage;
	struct setup_header hdr; /* bzImage: copied from the image */
	size_t hdr_len;		 /* bytes of hdr valid from the image */
	uint64_t entry;		 /* 64-bit entry point (physical) */
	uint64_t kernel_end;	 /* first byte after what the kernel may use */
};

/*
 * The image's bytes are in buf; name is for messages. Both return -ENOEXEC,
 * silently, for "not this format"; any other error has been printed.
 */
int bzimage_load(struct guest_mem *mem, const char *name, const void *buf, size_t size,
		 struct boot_image *img);
int elf_load(struct guest_mem *mem, const char *name, const void *buf, size_t size,
	     struct boot_image *img);

/* Fill tbl with the guest's e820 map; returns the number of entries. */
unsigned int e820_build(const struct guest_mem *mem, struct boot_e820_entry *tbl, unsigned int max);

struct boot_initrd {
	uint64_t addr, size;
};

/* The zero page: header, loader id, heap, command line, initrd, e820. */
void bootparams_fill(struct boot_params *bp, const struct boot_image *img,
		     const struct guest_mem *mem, uint64_t cmdline_gpa,
		     const struct boot_initrd *initrd);

/*
 * Where an initrd of size bytes goes: as high as possible, page aligned,
 * below the kernel's limit and the end of low RAM, above the kernel.
 * -ENOSPC when it does not fit.
 */
int initrd_place(const struct guest_mem *mem, const struct boot_image *img, uint64_t size,
		 uint64_t *addr);
/* The first address an initrd may not reach. */
uint64_t initrd_limit(const struct guest_mem *mem, const struct boot_image *img);

/* MP table: every CPU, buses PCI (id 0) and ISA (id 1), the IOAPIC, ISA IRQs. */
#define MPTABLE_BUS_PCI 0
#define MPTABLE_BUS_ISA 1
#define MPTABLE_MAX_PCI_IRQS 64

struct mp_pci_irq {
	uint8_t devfn; /* device << 3 | function, bus 0 */
	uint8_t pin;   /* INTA = 1 ... INTD = 4 */
	uint8_t ioapic_pin;
};

/* The PCI code records each INTx route before the table is written. */
int mptable_add_pci_irq(uint8_t devfn, uint8_t pin, uint8_t ioapic_pin);
/* Drop every recorded route (tests; a VM built twice in one process). */
void mptable_reset_pci_irqs(void);
/* Write the table for guest address gpa into buf; returns its length or -ENOSPC. */
int mptable_build(void *buf, size_t size, uint32_t gpa, unsigned int nr_cpus);
/* IOAPIC id in the table: after the CPUs' APIC ids. */
#define MPTABLE_IOAPIC_ID(nr_cpus) (nr_cpus)

/* BSP long mode for the 64-bit boot protocol; every vCPU's LINT0/LINT1. */
int boot_setup_cpus(struct kvm_vm *vm, uint64_t rip, uint64_t rsi);

/* Load cfg's kernel, initrd and command line into guest RAM. */
int boot_load_images(struct kvm_vm *vm);
/* Zero page, MP table and the vCPUs' boot state, once every device is set up. */
int boot_finish(struct kvm_vm *vm);

#endif /* KAVM_BOOT_H */
