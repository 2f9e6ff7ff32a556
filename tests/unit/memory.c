// SPDX-License-Identifier: GPL-2.0
/* Unit tests: guest RAM regions, listener replay, bounds-checked translation. */
#include <errno.h>
#include <sys/mman.h>

#include <kavm/memory.h>

#include "../harness.h"

struct rec_listener {
	struct mem_listener l;
	int added, removed;
	uint64_t last_gpa;
};

static int rec_add(struct mem_listener *l, const struct guest_mem_region *r)
{
	struct rec_listener *rl = container_of(l, struct rec_listener, l);

	rl->added++;
	rl->last_gpa = r->gpa;
	return 0;
}

static void rec_del(struct mem_listener *l, const struct guest_mem_region *r)
{
	container_of(l, struct rec_listener, l)->removed++;
}

TEST(memory_listeners_see_every_region_even_late)
{
	struct rec_listener early = { .l = { "early", rec_add, rec_del } };
	struct rec_listener late = { .l = { "late", rec_add, rec_del } };
	struct guest_mem mem;

	guest_mem_init(&mem);
	ASSERT_EQ(guest_mem_listener_register(&mem, &early.l), 0);
	ASSERT_EQ(guest_mem_add_ram(&mem, 0, 1 << 20), 0);
	ASSERT_EQ(guest_mem_add_ram(&mem, 1ull << 32, 1 << 20), 0);
	EXPECT_EQ(early.added, 2);
	ASSERT_EQ(guest_mem_listener_register(&mem, &late.l), 0);
	EXPECT_EQ(late.added, 2);
	EXPECT_EQ(late.last_gpa, 1ull << 32);
	EXPECT_EQ(guest_mem_ram_size(&mem), 2u << 20);
	guest_mem_exit(&mem);
	EXPECT_EQ(early.removed, 2);
	EXPECT_EQ(late.removed, 2);
}

TEST(memory_refuses_overlap_and_misalignment)
{
	struct guest_mem mem;

	guest_mem_init(&mem);
	ASSERT_EQ(guest_mem_add_ram(&mem, 0x100000, 0x100000), 0);
	EXPECT_EQ(guest_mem_add_ram(&mem, 0x180000, 0x100000), -EEXIST);
	EXPECT_EQ(guest_mem_add_ram(&mem, 0x1000, 0x123), -EINVAL);
	EXPECT_EQ(guest_mem_add_ram(&mem, 0x1000, 0), -EINVAL);
	EXPECT_EQ(guest_mem_add_ram(&mem, UINT64_MAX & ~0xfffull, 0x2000), -EINVAL);
	guest_mem_exit(&mem);
}

TEST(memory_translation_is_bounds_checked)
{
	struct guest_mem mem;
	char *p;

	guest_mem_init(&mem);
	ASSERT_EQ(guest_mem_add_ram(&mem, 0x10000, 0x10000), 0);
	p = guest_mem_ptr(&mem, 0x10000, 0x10000);
	ASSERT_NE(p, NULL);
	p[0xffff] = 7;
	EXPECT_EQ(*(char *)guest_mem_ptr(&mem, 0x1ffff, 1), 7);
	EXPECT_EQ(guest_mem_ptr(&mem, 0x1ffff, 2), NULL);
	EXPECT_EQ(guest_mem_ptr(&mem, 0xffff, 2), NULL);
	EXPECT_EQ(guest_mem_ptr(&mem, 0x10000, UINT64_MAX), NULL);
	EXPECT_EQ(guest_mem_ptr(&mem, UINT64_MAX, 2), NULL);
	guest_mem_exit(&mem);
}

/* GUEST_MEM_LOCKED: the region is locked and resident before anyone touches it. */
TEST(locked_ram_is_resident_at_once)
{
	struct guest_mem mem;
	unsigned char vec[256];
	unsigned int i, resident = 0;

	guest_mem_init(&mem);
	mem.flags = GUEST_MEM_LOCKED;
	/* 1 MiB: below the default RLIMIT_MEMLOCK (8 MiB) of an unprivileged user. */
	ASSERT_EQ(guest_mem_add_ram(&mem, 0, 1 << 20), 0);
	ASSERT_EQ(mincore(mem.regions[0].hva, 1 << 20, vec), 0);
	for (i = 0; i < 256; i++)
		resident += vec[i] & 1;
	EXPECT_EQ(resident, 256u);
	guest_mem_exit(&mem);
}
