// SPDX-License-Identifier: GPL-2.0
/* Unit tests: zero page fields, e820 layout with the PCI hole, initrd placement, bzImage checks. */
#include <errno.h>
#include <elf.h>
#include <stdlib.h>

#include <kavm/boot.h>
#include <kavm/log.h>

#include "../harness.h"

static void mem_with(struct guest_mem *mem, uint64_t size)
{
	guest_mem_init(mem);
	ASSERT_EQ(guest_mem_add_ram(mem, 0, min(size, KVM_LOW_RAM_MAX)), 0);
	if (size > KVM_LOW_RAM_MAX)
		ASSERT_EQ(guest_mem_add_ram(mem, KVM_HIGH_RAM_BASE, size - KVM_LOW_RAM_MAX), 0);
}

TEST(e820_small_guest_is_base_reserved_and_one_ram_block)
{
	struct boot_e820_entry t[8];
	struct guest_mem mem;
	unsigned int n;

	mem_with(&mem, 256 << 20);
	n = e820_build(&mem, t, 8);
	ASSERT_EQ(n, 3u);
	EXPECT_EQ(t[0].addr, 0u);
	EXPECT_EQ(t[0].size, (uint64_t)BOOT_EBDA_START);
	EXPECT_EQ(t[0].type, 1u);
	EXPECT_EQ(t[1].addr, (uint64_t)BOOT_EBDA_START);
	EXPECT_EQ(t[1].addr + t[1].size, 0x100000u);
	EXPECT_EQ(t[1].type, 2u);
	EXPECT_EQ(t[2].addr, 0x100000u);
	EXPECT_EQ(t[2].addr + t[2].size, 256u << 20);
	EXPECT_EQ(t[2].type, 1u);
	guest_mem_exit(&mem);
}

TEST(e820_large_guest_leaves_the_pci_hole_out)
{
	struct boot_e820_entry t[8];
	struct guest_mem mem;
	unsigned int n, i;
	uint64_t ram = 0;

	mem_with(&mem, 4ULL << 30);
	n = e820_build(&mem, t, 8);
	ASSERT_EQ(n, 4u);
	EXPECT_EQ(t[2].addr + t[2].size, KVM_LOW_RAM_MAX);
	EXPECT_EQ(t[3].addr, KVM_HIGH_RAM_BASE);
	EXPECT_EQ(t[3].size, 1ULL << 30);
	for (i = 0; i < n; i++) {
		/* Nothing in the map touches [MMIO base, 4 GiB). */
		EXPECT_TRUE(t[i].addr + t[i].size <= KVM_PCI_MMIO_BASE ||
			    t[i].addr >= KVM_HIGH_RAM_BASE);
		if (t[i].type == 1)
			ram += t[i].size;
	}
	EXPECT_EQ(ram, (4ULL << 30) - (0x100000 - BOOT_EBDA_START));
	guest_mem_exit(&mem);
}

TEST(zero_page_carries_header_loader_cmdline_initrd_e820)
{
	struct boot_image img = { .is_bzimage = true };
	struct boot_initrd rd = { .addr = 0x7000000, .size = 12345 };
	struct boot_params *bp = calloc(1, sizeof(*bp));
	struct guest_mem mem;

	ASSERT_TRUE(bp != NULL);
	mem_with(&mem, 256 << 20);
	img.hdr.setup_sects = 27;
	img.hdr.boot_flag = BOOT_FLAG_MAGIC;
	img.hdr.header = BOOT_HDR_MAGIC;
	img.hdr.version = 0x020f;
	img.hdr.xloadflags = XLF_KERNEL_64;
	img.hdr.init_size = 0x1234000;
	img.hdr_len = offsetof(struct setup_header, init_size) + 4;
	memset(bp, 0xee, sizeof(*bp));
	bootparams_fill(bp, &img, &mem, BOOT_CMDLINE_ADDR, &rd);
	EXPECT_EQ(bp->hdr.setup_sects, 27);
	EXPECT_EQ(bp->hdr.version, 0x020f);
	EXPECT_EQ(bp->hdr.init_size, 0x1234000u);
	EXPECT_EQ(bp->hdr.header, (uint32_t)BOOT_HDR_MAGIC);
	EXPECT_EQ(bp->hdr.type_of_loader, 0xff);
	EXPECT_TRUE(bp->hdr.loadflags & CAN_USE_HEAP);
	EXPECT_EQ(bp->hdr.cmd_line_ptr, (uint32_t)BOOT_CMDLINE_ADDR);
	EXPECT_EQ(bp->hdr.ramdisk_image, 0x7000000u);
	EXPECT_EQ(bp->hdr.ramdisk_size, 12345u);
	EXPECT_EQ(bp->ext_ramdisk_image, 0u);
	EXPECT_EQ(bp->e820_entries, 3);
	/* Fields kavm does not own are zero, not left-over bytes. */
	EXPECT_EQ(bp->screen_info.orig_video_isVGA, 0);
	EXPECT_EQ(bp->acpi_rsdp_addr, 0u);
	free(bp);
	guest_mem_exit(&mem);
}

TEST(initrd_goes_high_below_the_kernel_limit_and_ram_end)
{
	struct boot_image img = { .kernel_end = 0x2000000 };
	struct guest_mem mem;
	uint64_t addr;

	mem_with(&mem, 256 << 20);
	img.hdr.initrd_addr_max = 0x37ffffff;
	ASSERT_EQ(initrd_place(&mem, &img, 10000, &addr), 0);
	EXPECT_EQ(addr, ((256ULL << 20) - 10000) & ~0xfffULL);
	EXPECT_EQ(addr & 0xfff, 0u);
	img.hdr.initrd_addr_max = 0x3fffff0; /* limit below RAM end */
	ASSERT_EQ(initrd_place(&mem, &img, 4096, &addr), 0);
	EXPECT_LE(addr + 4096, 0x3fffff1u);
	EXPECT_GE(addr, img.kernel_end);
	guest_mem_exit(&mem);
}

TEST(initrd_that_does_not_fit_is_refused)
{
	struct boot_image img = { .kernel_end = 0x2000000 };
	struct guest_mem mem;
	uint64_t addr;

	mem_with(&mem, 64 << 20);
	img.hdr.initrd_addr_max = 0x37ffffff;
	EXPECT_EQ(initrd_place(&mem, &img, 63 << 20, &addr), -ENOSPC);
	EXPECT_EQ(initrd_place(&mem, &img, 1ULL << 40, &addr), -ENOSPC);
	guest_mem_exit(&mem);
}

static uint8_t *fake_bzimage(size_t size, uint16_t version, uint16_t xlf)
{
	uint8_t *b = calloc(1, size);
	struct setup_header h = { 0 };

	h.setup_sects = 4;
	h.boot_flag = BOOT_FLAG_MAGIC;
	h.header = BOOT_HDR_MAGIC;
	h.version = version;
	h.xloadflags = xlf;
	h.syssize = (size - 5 * 512) / 16;
	h.init_size = 0x100000;
	memcpy(b + 0x1f1, &h, sizeof(h));
	b[0x201] = 0x6a; /* jump offset: header up to 0x26c */
	memset(b + 5 * 512, 0xcc, size - 5 * 512);
	return b;
}

TEST(bzimage_loads_protected_mode_part_at_1m_and_enters_at_0x200)
{
	struct boot_image img;
	struct guest_mem mem;
	uint8_t *b = fake_bzimage(64 * 1024, 0x020f, XLF_KERNEL_64);

	log_level = LOG_LEVEL_ERR - 1;
	mem_with(&mem, 64 << 20);
	ASSERT_EQ(bzimage_load(&mem, "test", b, 64 * 1024, &img), 0);
	EXPECT_EQ(img.entry, 0x100200u);
	EXPECT_TRUE(img.is_bzimage);
	EXPECT_EQ(*(uint8_t *)guest_mem_ptr(&mem, 0x100000, 1), 0xcc);
	EXPECT_GE(img.kernel_end, 0x200000u);
	guest_mem_exit(&mem);
	free(b);
}

TEST(relocatable_bzimage_reserves_its_aligned_decompression_area)
{
	struct setup_header *h;
	struct boot_image img;
	struct guest_mem mem;
	uint8_t *b = fake_bzimage(64 * 1024, 0x020f, XLF_KERNEL_64);

	h = (struct setup_header *)(b + 0x1f1);
	h->relocatable_kernel = 1;
	h->kernel_alignment = 0x200000;
	h->init_size = 0x1000000;
	mem_with(&mem, 64 << 20);
	ASSERT_EQ(bzimage_load(&mem, "test", b, 64 * 1024, &img), 0);
	/* Decompressed at 2 MiB (next alignment), init_size from there. */
	EXPECT_EQ(img.kernel_end, 0x200000u + 0x1000000u);
	guest_mem_exit(&mem);
	free(b);
}

TEST(bzimage_refuses_old_32bit_truncated_and_foreign_images)
{
	struct boot_image img;
	struct guest_mem mem;
	uint8_t *b;

	log_level = LOG_LEVEL_ERR - 1;
	mem_with(&mem, 64 << 20);
	b = fake_bzimage(64 * 1024, 0x020f, 0);
	EXPECT_EQ(bzimage_load(&mem, "test", b, 64 * 1024, &img), -EINVAL);
	free(b);
	b = fake_bzimage(64 * 1024, 0x0206, XLF_KERNEL_64);
	EXPECT_EQ(bzimage_load(&mem, "test", b, 64 * 1024, &img), -EINVAL);
	free(b);
	b = fake_bzimage(64 * 1024, 0x020f, XLF_KERNEL_64);
	EXPECT_EQ(bzimage_load(&mem, "test", b, 32 * 1024, &img), -EINVAL);
	EXPECT_EQ(bzimage_load(&mem, "test", b, 0x200, &img), -ENOEXEC);
	b[0x1fe] = 0;
	EXPECT_EQ(bzimage_load(&mem, "test", b, 64 * 1024, &img), -ENOEXEC);
	EXPECT_EQ(elf_load(&mem, "test", b, 64 * 1024, &img), -ENOEXEC);
	free(b);
	guest_mem_exit(&mem);
}

TEST(elf_vmlinux_segments_land_at_physical_addresses)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
		uint8_t text[64];
	} f = { 0 };
	struct boot_image img;
	struct guest_mem mem;
	uint8_t *p;

	log_level = LOG_LEVEL_ERR - 1;
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_type = ET_EXEC;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_entry = 0x1000000;
	f.eh.e_phoff = offsetof(typeof(f), ph);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 2;
	f.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD,
				.p_offset = offsetof(typeof(f), text),
				.p_vaddr = 0xffffffff81000000ULL,
				.p_paddr = 0x1000000,
				.p_filesz = 64,
				.p_memsz = 4096 };
	f.ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_paddr = 0x7000000, .p_memsz = 16 };
	memset(f.text, 0x90, sizeof(f.text));
	mem_with(&mem, 64 << 20);
	p = guest_mem_ptr(&mem, 0x1000000, 4096);
	memset(p, 0xee, 4096);
	ASSERT_EQ(elf_load(&mem, "test", &f, sizeof(f), &img), 0);
	EXPECT_EQ(img.entry, 0x1000000u);
	EXPECT_FALSE(img.is_bzimage);
	EXPECT_EQ(img.kernel_end, 0x1001000u);
	EXPECT_EQ(p[0], 0x90);
	EXPECT_EQ(p[63], 0x90);
	EXPECT_EQ(p[64], 0); /* bss zeroed */
	EXPECT_EQ(p[4095], 0);
	EXPECT_EQ(img.hdr.header, (uint32_t)BOOT_HDR_MAGIC);
	/* Truncated: the segment's bytes run past the end of the file. */
	EXPECT_EQ(elf_load(&mem, "test", &f, sizeof(f) - 8, &img), -EINVAL);
	/* A segment outside RAM. */
	f.ph[0].p_paddr = 0x7ff0000;
	EXPECT_EQ(elf_load(&mem, "test", &f, sizeof(f), &img), -ENOSPC);
	f.eh.e_machine = EM_386;
	EXPECT_EQ(elf_load(&mem, "test", &f, sizeof(f), &img), -EINVAL);
	guest_mem_exit(&mem);
}
