/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm guest memory: RAM regions backed by memfd (so vhost-user peers can map
 * them) and the listeners that learn of them: KVM memory slots first, the
 * vhost memory table and vhost-user later. A listener registered late gets
 * every existing region replayed to it.
 *
 * Lock: regions and listeners change only during setup (before vCPUs run).
 * Translation (guest_mem_ptr) is lock-free and may run on any thread.
 */
#ifndef KAVM_MEMORY_H
#define KAVM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kavm/list.h>

#define GUEST_MEM_MAX_REGIONS 8

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	void *hva;
	int fd; /* memfd backing the region, -1 for anonymous */
	uint64_t fd_offset;
	unsigned int slot; /* index in guest_mem.regions, stable for the region's life */
};

struct mem_listener {
	const char *name;
	int (*region_add)(struct mem_listener *l, const struct guest_mem_region *r);
	void (*region_del)(struct mem_listener *l, const struct guest_mem_region *r);
	struct list_head link;
};

/* How RAM added from now on is backed (guest_mem.flags). */
#define GUEST_MEM_HUGETLB (1u << 0) /* memfd from the huge page pool (MFD_HUGETLB) */
#define GUEST_MEM_LOCKED (1u << 1)  /* mlock()ed: populated now, never swapped */

struct guest_mem {
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nr_regions;
	unsigned int flags; /* GUEST_MEM_*, set before the first guest_mem_add_ram() */
	struct list_head listeners;
};

void guest_mem_init(struct guest_mem *mem);
/* Unmaps every region, telling listeners first. */
void guest_mem_exit(struct guest_mem *mem);

/*
 * Map size bytes of fresh, zeroed, memfd-backed RAM at gpa; listeners are
 * told. With GUEST_MEM_HUGETLB the pages are reserved at once (-ENOMEM:
 * the pool is short; size must be a multiple of the huge page size); with
 * GUEST_MEM_LOCKED a failed mlock() is returned as its -errno.
 */
int guest_mem_add_ram(struct guest_mem *mem, uint64_t gpa, uint64_t size);
int guest_mem_listener_register(struct guest_mem *mem, struct mem_listener *l);
void guest_mem_listener_unregister(struct guest_mem *mem, struct mem_listener *l);

/*
 * Host pointer for guest range [gpa, gpa+len), or NULL if any byte of it is
 * outside RAM or the range wraps. The range must lie within one region.
 */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/*
 * The default huge page size and how many such pages a new mapping can
 * still get (free, not reserved, plus what overcommit allows) and the
 * pool's size now, from /proc/meminfo. -ENOENT: no huge pages in this kernel.
 */
struct hugepage_info {
	uint64_t page_size;
	uint64_t available;
	uint64_t total;
};
int guest_mem_hugepage_info(struct hugepage_info *hi);

/* Total bytes of guest RAM over all regions. */
uint64_t guest_mem_ram_size(const struct guest_mem *mem);

#endif /* KAVM_MEMORY_H */
