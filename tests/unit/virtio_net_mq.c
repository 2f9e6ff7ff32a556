// SPDX-License-Identifier: GPL-2.0
/*
 * Multiqueue virtio-net (VIRTIO_NET_F_MQ) against the in-process driver: a
 * backend of two queues (two test peers chained as a multiqueue tap's
 * clients are) makes a NIC of two pairs. Without MQ the NIC is the one-pair
 * device it was (control queue 2); with MQ the control queue is the last,
 * only pair 0 moves frames until VQ_PAIRS_SET, bad pair counts are refused,
 * each pair's TX reaches its own backend queue and each backend queue's
 * frames land in its own pair's RX ring, and a reset goes back to one pair.
 */
#include <errno.h>
#include <string.h>

#include <linux/virtio_net.h>

#include <kavm/compiler.h>
#include <kavm/loop.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#define QSIZE 64
#define F(bit) (1ull << (bit))

static struct ctx {
	struct loop *loop;
	struct vdrv d;
	struct tpeer peer[2];
	struct virtio_net *vn;
} C;

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int ctx_setup(uint64_t want)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "mq0" };
	int ret;

	memset(&C, 0, sizeof(C));
	if (loop_create(&C.loop) || vdrv_init(&C.d, C.loop) || tpeer_init(&C.peer[0], true) ||
	    tpeer_init(&C.peer[1], true))
		return -ENOMEM;
	C.peer[0].nc.queue_next = &C.peer[1].nc;
	p.mem = &C.d.mem;
	p.loop = C.loop;
	p.backend = &C.peer[0].nc;
	memcpy(p.mac, guest_mac, 6);
	ret = virtio_net_init(&p, &C.vn);
	if (ret)
		return ret;
	vdrv_attach(&C.d, virtio_net_vdev(C.vn));
	ret = vdrv_probe(&C.d, want, QSIZE);
	vdrv_run(&C.d);
	return ret;
}

static void ctx_teardown(void)
{
	virtio_net_exit(C.vn);
	C.peer[0].nc.queue_next = NULL;
	tpeer_exit(&C.peer[1]);
	tpeer_exit(&C.peer[0]);
	vdrv_exit(&C.d);
	loop_destroy(C.loop);
}

/* A frame from the guest on pair's TX queue. */
static int tx_on(unsigned int pair, uint8_t tag)
{
	static struct virtio_net_hdr_v1 hdr;
	uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct vdrv_seg segs[2] = { { &hdr, sizeof(hdr), false }, { f, sizeof(f), false } };
	int h;

	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = tag;
	h = vdrv_post(&C.d, 2 * pair + 1, segs, 2, false);
	if (h < 0)
		return h;
	vdrv_notify(&C.d, 2 * pair + 1);
	vdrv_run(&C.d);
	return 0;
}

/* Backend queue q sends a frame to the guest; returns what net_send() said. */
static ssize_t rx_from(unsigned int q, uint8_t tag)
{
	uint8_t f[12 + 60] = { 0 };

	memcpy(f + 12, guest_mac, 6);
	f[12 + 12] = 0x88;
	f[12 + 13] = 0xb5;
	f[12 + 14] = tag;
	return net_send(&C.peer[q].nc, f, sizeof(f), NULL);
}

/* The tag of the frame in pair's RX ring, -1 if none. */
static int rx_tag(unsigned int pair)
{
	uint16_t head;
	uint32_t len;
	uint8_t *p;

	if (!vdrv_used(&C.d, 2 * pair, &head, &len) || len < 12 + 15)
		return -1;
	p = vdrv_ptr(&C.d, vdrv_buf_gpa(&C.d, 2 * pair, head), len);
	return p[12 + 14];
}

static void rx_fill(unsigned int pair)
{
	struct vdrv_seg seg = { NULL, VDRV_BUF_SIZE, true };
	unsigned int i;

	for (i = 0; i < 8; i++)
		vdrv_post(&C.d, 2 * pair, &seg, 1, false);
	vdrv_notify(&C.d, 2 * pair);
	vdrv_run(&C.d);
}

static int pairs_set(uint16_t n)
{
	uint8_t le[2] = { n & 0xff, n >> 8 };

	return vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le, 2);
}

TEST(two_backend_queues_make_two_pairs)
{
	uint16_t max_pairs;
	unsigned int in_use;

	ASSERT_EQ(ctx_setup(~F(VIRTIO_NET_F_MQ)), 0);
	EXPECT_TRUE(virtio_net_vdev(C.vn)->ops->get_host_features(virtio_net_vdev(C.vn)) &
		    F(VIRTIO_NET_F_MQ));
	vdrv_config_read(&C.d, offsetof(struct virtio_net_config, max_virtqueue_pairs), &max_pairs,
			 2);
	EXPECT_EQ(max_pairs, 2);
	EXPECT_EQ(virtio_net_vdev(C.vn)->ops->num_queues(virtio_net_vdev(C.vn)), 5u);
	EXPECT_EQ(virtio_net_nr_pairs(C.vn, &in_use), 2u);
	EXPECT_EQ(in_use, 1u);
	/* Without MQ: the control queue is 2, and asking for pairs is an error. */
	EXPECT_EQ(C.d.ctrlq, 2u);
	EXPECT_EQ(pairs_set(2), VIRTIO_NET_ERR);
	ASSERT_EQ(tx_on(0, 7), 0);
	EXPECT_EQ(C.peer[0].count, 1u);
	EXPECT_EQ(C.peer[0].last[12 + 14], 7);
	ctx_teardown();
}

TEST(vq_pairs_set_is_checked_and_each_pair_has_its_own_queue)
{
	unsigned int in_use;

	ASSERT_EQ(ctx_setup(~0ull), 0);
	EXPECT_EQ(C.d.ctrlq, 4u);
	rx_fill(0);
	rx_fill(1);
	/* Pair 1 is off until VQ_PAIRS_SET: its backend queue's frame waits. */
	EXPECT_EQ(rx_from(1, 0x11), 0);
	EXPECT_EQ(rx_tag(1), -1);
	EXPECT_EQ(pairs_set(0), VIRTIO_NET_ERR);
	EXPECT_EQ(pairs_set(3), VIRTIO_NET_ERR);
	EXPECT_EQ(
		vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, "\x02", 1),
		VIRTIO_NET_ERR);
	EXPECT_EQ(vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MQ, 1, "\x02\x00", 2), VIRTIO_NET_ERR);
	EXPECT_EQ(pairs_set(2), VIRTIO_NET_OK);
	vdrv_run(&C.d);
	EXPECT_EQ(virtio_net_nr_pairs(C.vn, &in_use), 2u);
	EXPECT_EQ(in_use, 2u);
	/* The waiting frame went in on pair 1 once it was on, none on pair 0. */
	EXPECT_EQ(rx_tag(1), 0x11);
	EXPECT_EQ(rx_tag(0), -1);
	EXPECT_GT(rx_from(0, 0x10), 0);
	EXPECT_EQ(rx_tag(0), 0x10);
	EXPECT_EQ(rx_tag(1), -1);
	ASSERT_EQ(tx_on(1, 0x21), 0);
	ASSERT_EQ(tx_on(0, 0x20), 0);
	EXPECT_EQ(C.peer[1].count, 1u);
	EXPECT_EQ(C.peer[1].last[12 + 14], 0x21);
	EXPECT_EQ(C.peer[0].count, 1u);
	EXPECT_EQ(C.peer[0].last[12 + 14], 0x20);
	/* A reset: one pair again until the driver asks. */
	vdrv_reset(&C.d);
	EXPECT_EQ(virtio_net_nr_pairs(C.vn, &in_use), 2u);
	EXPECT_EQ(in_use, 1u);
	ctx_teardown();
}
