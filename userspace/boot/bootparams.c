// SPDX-License-Identifier: GPL-2.0
/* kavm zero page: the setup header, command line, initrd and e820 map for Linux. */
#include <errno.h>
#include <string.h>

#include <kavm/boot.h>
#include <kavm/log.h>

#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2

static unsigned int e820_add(struct boot_e820_entry *tbl, unsigned int n, unsigned int max,
			     uint64_t addr, uint64_t size, uint32_t type)
{
	if (n < max && size)
		tbl[n++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	return n;
}

/*
 * Base memory up to the EBDA, the legacy/BIOS area reserved (the MP table
 * lives there), then every RAM region. The PCI hole is simply absent: Linux
 * takes the largest gap below 4 GiB for PCI.
 */
unsigned int e820_build(const struct guest_mem *mem, struct boot_e820_entry *tbl, unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		uint64_t start = r->gpa, end = r->gpa + r->size;

		if (start < BOOT_EBDA_START) {
			n = e820_add(tbl, n, max, start,
				     min(end, (uint64_t)BOOT_EBDA_START) - start, E820_TYPE_RAM);
			start = BOOT_EBDA_START;
		}
		if (start < BOOT_KERNEL_ADDR && end > BOOT_EBDA_START) {
			n = e820_add(tbl, n, max, BOOT_EBDA_START,
				     BOOT_KERNEL_ADDR - BOOT_EBDA_START, E820_TYPE_RESERVED);
			start = BOOT_KERNEL_ADDR;
		}
		if (end > start)
			n = e820_add(tbl, n, max, start, end - start, E820_TYPE_RAM);
	}
	return n;
}

static uint64_t low_ram_end(const struct guest_mem *mem)
{
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++)
		if (mem->regions[i].gpa == 0)
			return mem->regions[i].size;
	return 0;
}

uint64_t initrd_limit(const struct guest_mem *mem, const struct boot_image *img)
{
	uint64_t max_addr =
		img->hdr.initrd_addr_max ? img->hdr.initrd_addr_max : BOOT_INITRD_ADDR_MAX_DEFAULT;

	/* initrd_addr_max is the highest address the last byte may have. */
	return min(low_ram_end(mem), max_addr + 1);
}

int initrd_place(const struct guest_mem *mem, const struct boot_image *img, uint64_t size,
		 uint64_t *addr)
{
	uint64_t limit = initrd_limit(mem, img);

	if (size > limit)
		return -ENOSPC;
	*addr = (limit - size) & ~0xfffULL;
	if (*addr < ALIGN_UP(img->kernel_end, 0x1000ULL))
		return -ENOSPC;
	return 0;
}

void bootparams_fill(struct boot_params *bp, const struct boot_image *img,
		     const struct guest_mem *mem, uint64_t cmdline_gpa,
		     const struct boot_initrd *initrd)
{
	memset(bp, 0, sizeof(*bp));
	if (img->is_bzimage)
		memcpy(&bp->hdr, &img->hdr, img->hdr_len);
	else
		bp->hdr = img->hdr;
	bp->hdr.type_of_loader = 0xff; /* "undefined" boot loader */
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = (uint32_t)cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(cmdline_gpa >> 32);
	if (initrd && initrd->size) {
		bp->hdr.ramdisk_image = (uint32_t)initrd->addr;
		bp->hdr.ramdisk_size = (uint32_t)initrd->size;
		bp->ext_ramdisk_image = (uint32_t)(initrd->addr >> 32);
		bp->ext_ramdisk_size = (uint32_t)(initrd->size >> 32);
	}
	bp->e820_entries = e820_build(mem, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
}
