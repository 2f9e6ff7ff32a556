// SPDX-License-Identifier: GPL-2.0
/* kavm guest RAM: memfd-backed regions announced to memory listeners. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kavm/log.h>
#include <kavm/memory.h>

void guest_mem_init(struct guest_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
	INIT_LIST_HEAD(&mem->listeners);
}

static bool guest_mem_overlaps(const struct guest_mem *mem, uint64_t gpa, uint64_t size)
{
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return true;
	}
	return false;
}

static int guest_mem_announce(struct guest_mem *mem, const struct guest_mem_region *r)
{
	struct mem_listener *l, *undo;
	int ret;

	list_for_each_entry(l, &mem->listeners, link) {
		ret = l->region_add(l, r);
		if (ret) {
			pr_err("guest RAM at %#llx: %s listener: %s", (unsigned long long)r->gpa,
			       l->name, strerror(-ret));
			goto err_undo;
		}
	}
	return 0;

err_undo:
	list_for_each_entry(undo, &mem->listeners, link) {
		if (undo == l)
			break;
		if (undo->region_del)
			undo->region_del(undo, r);
	}
	return ret;
}

/*
 * Normal RAM is mapped MAP_NORESERVE (the guest touches what it uses);
 * huge pages are reserved by the mmap itself, so a short pool is -ENOMEM
 * here rather than a SIGBUS in the middle of the guest's run.
 */
static void *guest_mem_map(const struct guest_mem *mem, int fd, uint64_t size)
{
	int flags = MAP_SHARED;

	if (!(mem->flags & GUEST_MEM_HUGETLB))
		flags |= MAP_NORESERVE;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
}

static uint64_t read_ulong_file(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int guest_mem_hugepage_info(struct hugepage_info *hi)
{
	unsigned long long total = 0, free = 0, rsvd = 0, surp = 0, kb = 0, v, over;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "HugePages_Total: %llu", &v) == 1)
			total = v;
		else if (sscanf(line, "HugePages_Free: %llu", &v) == 1)
			free = v;
		else if (sscanf(line, "HugePages_Rsvd: %llu", &v) == 1)
			rsvd = v;
		else if (sscanf(line, "HugePages_Surp: %llu", &v) == 1)
			surp = v;
		else if (sscanf(line, "Hugepagesize: %llu kB", &v) == 1)
			kb = v;
	}
	fclose(f);
	if (!kb)
		return -ENOENT;
	over = read_ulong_file("/proc/sys/vm/nr_overcommit_hugepages");
	hi->page_size = kb << 10;
	hi->total = total;
	hi->available = (free > rsvd ? free - rsvd : 0) + (over > surp ? over - surp : 0);
	return 0;
}

int guest_mem_add_ram(struct guest_mem *mem, uint64_t gpa, uint64_t size)
{
	struct guest_mem_region *r;
	char name[32];
	void *hva;
	int fd, ret;

	if (!size || gpa + size < gpa || (gpa | size) & 0xfff)
		return -EINVAL;
	if (mem->nr_regions == GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	if (guest_mem_overlaps(mem, gpa, size))
		return -EEXIST;
	snprintf(name, sizeof(name), "kavm-ram-%u", mem->nr_regions);
	fd = memfd_create(name, MFD_CLOEXEC | (mem->flags & GUEST_MEM_HUGETLB ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size)) {
		ret = -errno;
		goto err_close;
	}
	hva = guest_mem_map(mem, fd, size);
	if (hva == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	/*
	 * Locking a shared mapping faults every page in: RAM is there before
	 * the guest runs. The system call itself: ASan makes mlock() a no-op,
	 * and the sanitizer builds of the tests must see what kavm does.
	 */
	if (mem->flags & GUEST_MEM_LOCKED && syscall(SYS_mlock, hva, size)) {
		ret = -errno;
		goto err_unmap;
	}
	r = &mem->regions[mem->nr_regions];
	*r = (struct guest_mem_region){
		.gpa = gpa, .size = size, .hva = hva, .fd = fd, .slot = mem->nr_regions
	};
	ret = guest_mem_announce(mem, r);
	if (ret)
		goto err_unmap;
	mem->nr_regions++;
	return 0;

err_unmap:
	munmap(hva, size);
err_close:
	close(fd);
	return ret;
}

void guest_mem_exit(struct guest_mem *mem)
{
	struct mem_listener *l;

	while (mem->nr_regions) {
		struct guest_mem_region *r = &mem->regions[--mem->nr_regions];

		list_for_each_entry(l, &mem->listeners, link)
			if (l->region_del)
				l->region_del(l, r);
		munmap(r->hva, r->size);
		if (r->fd >= 0)
			close(r->fd);
	}
}

int guest_mem_listener_register(struct guest_mem *mem, struct mem_listener *l)
{
	unsigned int i;
	int ret;

	for (i = 0; i < mem->nr_regions; i++) {
		ret = l->region_add(l, &mem->regions[i]);
		if (ret)
			goto err_undo;
	}
	list_add_tail(&l->link, &mem->listeners);
	return 0;

err_undo:
	while (i--)
		if (l->region_del)
			l->region_del(l, &mem->regions[i]);
	return ret;
}

void guest_mem_listener_unregister(struct guest_mem *mem, struct mem_listener *l)
{
	unsigned int i;

	list_del(&l->link);
	for (i = 0; i < mem->nr_regions; i++)
		if (l->region_del)
			l->region_del(l, &mem->regions[i]);
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && range_ok(gpa - r->gpa, len, r->size))
			return (char *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

uint64_t guest_mem_ram_size(const struct guest_mem *mem)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++)
		total += mem->regions[i].size;
	return total;
}
