// SPDX-License-Identifier: GPL-2.0
/* Unit tests: device bus registration, overlap refusal and dispatch. */
#include <errno.h>

#include <kavm/bus.h>

#include "../harness.h"

struct fake_dev {
	uint64_t last_off;
	uint32_t last_val;
	unsigned int hits;
};

static void fake_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct fake_dev *d = opaque;

	d->hits++;
	d->last_off = off;
	if (is_write)
		memcpy(&d->last_val, data, len < 4 ? len : 4);
	else
		memset(data, 0xa5, len);
}

TEST(bus_dispatch_reaches_the_right_device)
{
	struct fake_dev a = { 0 }, b = { 0 };
	uint32_t v = 0x1234;
	struct bus bus;

	ASSERT_EQ(bus_init(&bus, "pio"), 0);
	ASSERT_EQ(bus_register(&bus, 0x3f8, 8, fake_access, &a, "a"), 0);
	ASSERT_EQ(bus_register(&bus, 0x60, 1, fake_access, &b, "b"), 0);
	ASSERT_EQ(bus_dispatch(&bus, 0x3fb, &v, 1, true), 0);
	EXPECT_EQ(a.hits, 1u);
	EXPECT_EQ(a.last_off, 3u);
	EXPECT_EQ(a.last_val & 0xff, 0x34u);
	EXPECT_EQ(b.hits, 0u);
	ASSERT_EQ(bus_dispatch(&bus, 0x60, &v, 1, false), 0);
	EXPECT_EQ(b.hits, 1u);
	EXPECT_EQ(v & 0xff, 0xa5u);
	bus_exit(&bus);
}

TEST(bus_refuses_overlaps_and_bad_ranges)
{
	struct fake_dev a = { 0 };
	struct bus bus;

	ASSERT_EQ(bus_init(&bus, "mmio"), 0);
	ASSERT_EQ(bus_register(&bus, 0x1000, 0x100, fake_access, &a, "a"), 0);
	EXPECT_EQ(bus_register(&bus, 0x10ff, 1, fake_access, &a, "tail"), -EEXIST);
	EXPECT_EQ(bus_register(&bus, 0xf00, 0x101, fake_access, &a, "head"), -EEXIST);
	EXPECT_EQ(bus_register(&bus, 0x1010, 0x10, fake_access, &a, "inside"), -EEXIST);
	EXPECT_EQ(bus_register(&bus, 0x0, 0x10000, fake_access, &a, "around"), -EEXIST);
	EXPECT_EQ(bus_register(&bus, 0x2000, 0, fake_access, &a, "empty"), -EINVAL);
	EXPECT_EQ(bus_register(&bus, UINT64_MAX - 1, 4, fake_access, &a, "wraps"), -EINVAL);
	/* Adjacent ranges are fine. */
	EXPECT_EQ(bus_register(&bus, 0x1100, 0x10, fake_access, &a, "next"), 0);
	EXPECT_EQ(bus_register(&bus, 0xff0, 0x10, fake_access, &a, "prev"), 0);
	bus_exit(&bus);
}

TEST(bus_unclaimed_and_straddling_accesses_read_all_ones)
{
	struct fake_dev a = { 0 };
	uint32_t v = 0;
	struct bus bus;

	ASSERT_EQ(bus_init(&bus, "mmio"), 0);
	ASSERT_EQ(bus_register(&bus, 0x1000, 4, fake_access, &a, "a"), 0);
	EXPECT_EQ(bus_dispatch(&bus, 0x2000, &v, 4, false), -ENOENT);
	EXPECT_EQ(v, 0xffffffffu);
	v = 0;
	/* Starts inside, ends past the device: nobody claims it. */
	EXPECT_EQ(bus_dispatch(&bus, 0x1002, &v, 4, false), -ENOENT);
	EXPECT_EQ(v, 0xffffffffu);
	EXPECT_EQ(a.hits, 0u);
	EXPECT_EQ(bus_unregister(&bus, 0x1000), 0);
	EXPECT_EQ(bus_dispatch(&bus, 0x1000, &v, 4, false), -ENOENT);
	EXPECT_EQ(bus_unregister(&bus, 0x1000), -ENOENT);
	bus_exit(&bus);
}

TEST(bus_many_ranges_stay_sorted)
{
	struct fake_dev d[100] = { 0 };
	uint8_t v;
	struct bus bus;
	int i;

	ASSERT_EQ(bus_init(&bus, "pio"), 0);
	/* Register in a scrambled order to exercise the insertion. */
	for (i = 0; i < 100; i++) {
		int k = (i * 37) % 100;

		ASSERT_EQ(bus_register(&bus, 0x100 + k * 4, 4, fake_access, &d[k], "d"), 0);
	}
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(bus_dispatch(&bus, 0x100 + i * 4 + 3, &v, 1, false), 0);
		EXPECT_EQ(d[i].hits, 1u);
		EXPECT_EQ(d[i].last_off, 3u);
	}
	bus_exit(&bus);
}
