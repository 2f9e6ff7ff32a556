// SPDX-License-Identifier: GPL-2.0
/* Split virtqueue: chains, indirect tables, EVENT_IDX and flag-based suppression. */
#include <errno.h>
#include <string.h>

#include <kavm/memory.h>
#include <kavm/virtio.h>
#include <kavm/virtqueue.h>

#include "../harness.h"

#define QS 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

static struct guest_mem mem;
static struct virtqueue vq;
static struct vring_desc *desc;
static struct vring_avail *avail;
static struct vring_used *used;

static int setup(uint64_t features)
{
	struct virtio_queue_config cfg = { .size = QS, .desc = DESC, .avail = AVAIL, .used = USED };

	guest_mem_init(&mem);
	if (guest_mem_add_ram(&mem, 0, 1 << 20))
		return -1;
	desc = guest_mem_ptr(&mem, DESC, 16 * QS);
	avail = guest_mem_ptr(&mem, AVAIL, 6 + 2 * QS);
	used = guest_mem_ptr(&mem, USED, 6 + 8 * QS);
	return vq_enable(&vq, &mem, &cfg, 256, features);
}

static void add(uint16_t head)
{
	avail->ring[avail->idx % QS] = head;
	avail->idx++;
}

TEST(chain_out_then_in)
{
	struct vq_elem el;

	ASSERT_EQ(setup(0), 0);
	desc[3] = (struct vring_desc){ BUF, 100, VRING_DESC_F_NEXT, 5 };
	desc[5] = (struct vring_desc){ BUF + 0x1000, 200, VRING_DESC_F_NEXT, 1 };
	desc[1] = (struct vring_desc){ BUF + 0x2000, 300, VRING_DESC_F_WRITE, 0 };
	add(3);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	EXPECT_EQ(el.head, 3);
	EXPECT_EQ(el.nr_out, 2);
	EXPECT_EQ(el.nr_in, 1);
	EXPECT_EQ(el.out_len, 300u);
	EXPECT_EQ(el.in_len, 300u);
	EXPECT_EQ(el.err, 0);
	EXPECT_TRUE(el.iov[2].iov_base == guest_mem_ptr(&mem, BUF + 0x2000, 300));
	EXPECT_EQ(vq_pop(&vq, &el), 0);
	vq_push(&vq, 3, 42);
	EXPECT_EQ(used->idx, 1);
	EXPECT_EQ(used->ring[0].id, 3u);
	EXPECT_EQ(used->ring[0].len, 42u);
}

TEST(indirect_table)
{
	struct vring_desc *t;
	struct vq_elem el;

	ASSERT_EQ(setup(1ull << VIRTIO_RING_F_INDIRECT_DESC), 0);
	t = guest_mem_ptr(&mem, BUF, 48);
	t[0] = (struct vring_desc){ BUF + 0x1000, 10, VRING_DESC_F_NEXT, 2 };
	t[2] = (struct vring_desc){ BUF + 0x2000, 20, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ BUF + 0x3000, 30, VRING_DESC_F_WRITE, 0 };
	desc[0] = (struct vring_desc){ BUF, 48, VRING_DESC_F_INDIRECT, 0 };
	add(0);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	EXPECT_EQ(el.nr_out, 2);
	EXPECT_EQ(el.nr_in, 1);
	EXPECT_EQ(el.in_len, 30u);
}

TEST(unpop_gives_entries_back)
{
	struct vq_elem el;

	ASSERT_EQ(setup(0), 0);
	desc[0] = (struct vring_desc){ BUF, 10, VRING_DESC_F_WRITE, 0 };
	desc[1] = (struct vring_desc){ BUF, 10, VRING_DESC_F_WRITE, 0 };
	add(0);
	add(1);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	vq_unpop(&vq, 2);
	EXPECT_EQ(vq_avail_count(&vq), 2);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	EXPECT_EQ(el.head, 0);
}

TEST(event_idx_suppresses_interrupts)
{
	uint16_t *used_event;
	unsigned int i, irqs = 0;

	ASSERT_EQ(setup(1ull << VIRTIO_RING_F_EVENT_IDX), 0);
	used_event = (uint16_t *)&avail->ring[QS];
	/* The driver wants an interrupt once the 4th entry (index 3) is used. */
	*used_event = 3;
	for (i = 0; i < 6; i++) {
		vq_push(&vq, 0, 0);
		irqs += vq_should_notify(&vq);
	}
	/* The first push always signals (nothing signalled yet), then only crossing 3. */
	EXPECT_EQ(irqs, 2u);
}

TEST(event_idx_rearms_kicks)
{
	uint16_t *avail_event;
	struct vq_elem el;

	ASSERT_EQ(setup(1ull << VIRTIO_RING_F_EVENT_IDX), 0);
	avail_event = (uint16_t *)&used->ring[QS];
	desc[0] = (struct vring_desc){ BUF, 10, 0, 0 };
	add(0);
	add(0);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	EXPECT_FALSE(vq_enable_notify(&vq));
	EXPECT_EQ(*avail_event, 2);
}

/*
 * RX took entries, found them too few for its frame and gave them back: the
 * kick it asks for must lie past the entries it saw, for the driver's idx is
 * already past them and vring_need_event() would never fire (vhost: avail_idx).
 */
TEST(event_idx_rearms_past_entries_seen_not_taken)
{
	uint16_t *avail_event;
	struct vq_elem el;

	ASSERT_EQ(setup(1ull << VIRTIO_RING_F_EVENT_IDX), 0);
	avail_event = (uint16_t *)&used->ring[QS];
	desc[0] = (struct vring_desc){ BUF, 10, VRING_DESC_F_WRITE, 0 };
	add(0);
	add(0);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	EXPECT_EQ(vq_pop(&vq, &el), 0);
	vq_unpop(&vq, 2);
	/* Nothing new since the device looked: wait for a kick at the third entry. */
	EXPECT_FALSE(vq_enable_notify(&vq));
	EXPECT_EQ(*avail_event, 2);
	EXPECT_TRUE(vring_need_event(*avail_event, 3, 2));
	/* One added meanwhile: the device is told to look again. */
	add(0);
	EXPECT_TRUE(vq_enable_notify(&vq));
	EXPECT_EQ(vq_avail_count(&vq), 3);
}

TEST(no_interrupt_flag_without_event_idx)
{
	ASSERT_EQ(setup(0), 0);
	vq_push(&vq, 0, 0);
	EXPECT_TRUE(vq_should_notify(&vq));
	avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vq_push(&vq, 0, 0);
	EXPECT_FALSE(vq_should_notify(&vq));
	vq_disable_notify(&vq);
	EXPECT_EQ(used->flags & VRING_USED_F_NO_NOTIFY, VRING_USED_F_NO_NOTIFY);
	EXPECT_FALSE(vq_enable_notify(&vq));
	EXPECT_EQ(used->flags & VRING_USED_F_NO_NOTIFY, 0);
}

TEST(full_ring_is_not_damage)
{
	struct vq_elem el;
	unsigned int i;

	ASSERT_EQ(setup(0), 0);
	for (i = 0; i < QS; i++) {
		desc[i] = (struct vring_desc){ BUF, 10, 0, 0 };
		add(i);
	}
	/* Exactly a queue's worth ahead is legal; one more is not. */
	for (i = 0; i < QS; i++)
		ASSERT_EQ(vq_pop(&vq, &el), 1);
	avail->idx = vq.last_avail + QS + 1;
	EXPECT_EQ(vq_pop(&vq, &el), -EIO);
	EXPECT_TRUE(vq.broken);
	EXPECT_EQ(vq.damage, 1u);
}

/* An indirect table may lie at any guest address: read it without a misaligned access. */
TEST(indirect_table_at_odd_address)
{
	struct vring_desc t[2] = {
		{ BUF + 0x1000, 10, VRING_DESC_F_NEXT, 1 },
		{ BUF + 0x2000, 30, VRING_DESC_F_WRITE, 0 },
	};
	struct vq_elem el;

	ASSERT_EQ(setup(1ull << VIRTIO_RING_F_INDIRECT_DESC), 0);
	memcpy(guest_mem_ptr(&mem, BUF + 3, sizeof(t)), t, sizeof(t));
	desc[0] = (struct vring_desc){ BUF + 3, sizeof(t), VRING_DESC_F_INDIRECT, 0 };
	add(0);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	EXPECT_EQ(el.nr_out, 1);
	EXPECT_EQ(el.nr_in, 1);
	EXPECT_EQ(el.out_len, 10u);
	EXPECT_EQ(el.in_len, 30u);
	EXPECT_TRUE(el.iov[1].iov_base == guest_mem_ptr(&mem, BUF + 0x2000, 30));
}

/* avail->idx is read once per batch: moving it mid-batch changes nothing until then. */
TEST(avail_idx_read_once_per_batch)
{
	struct vq_elem el;

	ASSERT_EQ(setup(0), 0);
	desc[0] = (struct vring_desc){ BUF, 10, VRING_DESC_F_WRITE, 0 };
	add(0);
	add(0);
	ASSERT_EQ(vq_pop(&vq, &el), 1);
	vq_push(&vq, 0, 0);
	/* A runaway index, seen only once the two entries promised are taken. */
	avail->idx += 1000;
	EXPECT_EQ(vq_pop(&vq, &el), 1);
	EXPECT_FALSE(vq.broken);
	vq_push(&vq, 0, 0);
	EXPECT_EQ(vq_pop(&vq, &el), -EIO);
	EXPECT_TRUE(vq.broken);
}

/* Taken and not yet used: never more than the ring holds, whatever avail->idx says. */
TEST(elements_in_use_bounded_by_ring_size)
{
	struct vq_elem el;
	unsigned int i;

	ASSERT_EQ(setup(0), 0);
	for (i = 0; i < QS; i++) {
		desc[i] = (struct vring_desc){ BUF, 10, VRING_DESC_F_WRITE, 0 };
		add(i);
	}
	for (i = 0; i < QS; i++)
		ASSERT_EQ(vq_pop(&vq, &el), 1);
	/* All QS descriptors are with the device: a further entry cannot be real. */
	add(0);
	EXPECT_EQ(vq_pop(&vq, &el), -EIO);
	EXPECT_TRUE(vq.broken);
	EXPECT_EQ(vq.damage, 1u);
}
