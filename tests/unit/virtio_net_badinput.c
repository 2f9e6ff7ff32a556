// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net against a hostile driver: one case per validation rule, each
 * ending in the response the rule names -- NEEDS_RESET with a config
 * interrupt (ring damage), used.len 0 and a counter (request damage),
 * VIRTIO_NET_ERR (control), or FEATURES_OK refused -- and then a good frame
 * must round-trip both ways (after a reset where the rule demands one).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/loop.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#define F(bit) (1ull << (bit))
#define ALL_FEATURES (~0ull)
#define RXQ 0
#define TXQ 1
#define CTRLQ 2
#define STAT(field) offsetof(struct virtio_net_stats, field)

static struct ctx {
	struct loop *loop;
	struct vdrv d;
	struct tpeer peer;
	struct virtio_net *vn;
} C;

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int ctx_setup(uint64_t want)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet0" };
	int ret;

	if (loop_create(&C.loop) || vdrv_init(&C.d, C.loop) || tpeer_init(&C.peer, true))
		return -ENOMEM;
	p.mem = &C.d.mem;
	p.loop = C.loop;
	p.backend = &C.peer.nc;
	memcpy(p.mac, guest_mac, 6);
	ret = virtio_net_init(&p, &C.vn);
	if (ret)
		return ret;
	vdrv_attach(&C.d, virtio_net_vdev(C.vn));
	return want ? vdrv_probe(&C.d, want, 256) : 0;
}

static uint64_t stat(size_t off)
{
	struct virtio_net_stats st;

	virtio_net_get_stats(C.vn, &st);
	return *(uint64_t *)((uint8_t *)&st + off);
}

static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	size_t i;

	memcpy(f, guest_mac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5; /* local experimental ethertype */
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
}

/* A good frame each way; 0 when both arrive byte-identical. */
static int roundtrip(void)
{
	struct virtio_net_hdr_v1 hdr = { 0 }, rhdr;
	static uint8_t frame[1514], in[1514 + 12], out[65536];
	unsigned int before = C.peer.count;
	uint16_t head;
	uint32_t len;
	ssize_t n;

	make_frame(frame, sizeof(frame), 1);
	if (vdrv_net_tx(&C.d, &hdr, frame, sizeof(frame), false) < 0)
		return -1;
	vdrv_kick(&C.d, TXQ);
	if (C.peer.count != before + 1 || C.peer.last_len != sizeof(frame) + 12 ||
	    memcmp(C.peer.last + 12, frame, sizeof(frame)))
		return -2;
	if (vdrv_used(&C.d, TXQ, &head, &len) != 1)
		return -3;
	if (vdrv_net_rx_fill(&C.d, 4))
		return -4;
	memset(in, 0, 12);
	make_frame(in + 12, sizeof(frame), 2);
	if (net_send(&C.peer.nc, in, sizeof(in), NULL) != sizeof(in))
		return -5;
	vdrv_run(&C.d);
	n = vdrv_net_rx(&C.d, &rhdr, out, sizeof(out));
	if (n != (ssize_t)sizeof(frame) || memcmp(out, in + 12, sizeof(frame)))
		return -6;
	return 0;
}

/* Ring damage: NEEDS_RESET, a config interrupt, then a reset brings the device back. */
static void expect_reset(struct kt_test *_t, unsigned int irq_before, uint64_t damage_before)
{
	EXPECT_TRUE(vdrv_needs_reset(&C.d));
	EXPECT_GT(C.d.config_irq, irq_before);
	EXPECT_EQ(stat(STAT(ring_damage)), damage_before + 1);
	ASSERT_EQ(vdrv_probe(&C.d, ALL_FEATURES, 256), 0);
	ASSERT_FALSE(vdrv_needs_reset(&C.d));
	/* A frame that met a damaged RX ring was kept; it arrives first now. */
	ASSERT_EQ(vdrv_net_rx_fill(&C.d, 4), 0);
	{
		struct virtio_net_hdr_v1 hdr;
		static uint8_t out[4096];

		while (vdrv_net_rx(&C.d, &hdr, out, sizeof(out)) == 200)
			;
	}
	ASSERT_EQ(roundtrip(), 0);
}

/* Request damage: head completed with used.len 0, counter + 1, no reset. */
static void expect_used0(struct kt_test *_t, unsigned int q, int head, size_t counter,
			 uint64_t before)
{
	uint16_t h;
	uint32_t len;

	ASSERT_GE(head, 0);
	ASSERT_EQ(vdrv_used(&C.d, q, &h, &len), 1);
	EXPECT_EQ(h, head);
	EXPECT_EQ(len, 0u);
	EXPECT_EQ(stat(counter), before + 1);
	EXPECT_FALSE(vdrv_needs_reset(&C.d));
	EXPECT_EQ(C.d.config_irq, 0u);
	if (q == 0) {
		/* The frame skipped the bad buffer and sits in the next one. */
		struct virtio_net_hdr_v1 hdr;
		static uint8_t out[4096];

		ASSERT_EQ(vdrv_net_rx(&C.d, &hdr, out, sizeof(out)), 200);
	}
	ASSERT_EQ(roundtrip(), 0);
}

static void expect_ctrl_err(struct kt_test *_t, int ack, uint64_t before)
{
	EXPECT_EQ(ack, VIRTIO_NET_ERR);
	EXPECT_EQ(stat(STAT(ctrl_err)), before + 1);
	EXPECT_FALSE(vdrv_needs_reset(&C.d));
	ASSERT_EQ(roundtrip(), 0);
}

/* ---- ring damage ---- */

#define RING_CASE(name, want, ...)                                                                 \
	TEST(ring_##name)                                                                          \
	{                                                                                          \
		unsigned int irq;                                                                  \
		uint64_t dmg;                                                                      \
		ASSERT_EQ(ctx_setup(want), 0);                                                     \
		irq = C.d.config_irq;                                                              \
		dmg = stat(STAT(ring_damage));                                                     \
		__VA_ARGS__;                                                                       \
		expect_reset(_t, irq, dmg);                                                        \
	}

/* A built, unpublished two-segment TX chain: header + a 100-byte frame. */
static int tx_chain(bool indirect)
{
	static struct virtio_net_hdr_v1 hdr;
	static uint8_t frame[100];
	struct vdrv_seg segs[2] = { { &hdr, 12, false }, { frame, sizeof(frame), false } };

	make_frame(frame, sizeof(frame), 3);
	return vdrv_build(&C.d, TXQ, segs, 2, indirect);
}

static struct vring_desc *desc(unsigned int q, unsigned int i)
{
	return &C.d.q[q].desc[i];
}

static struct vring_desc *ind_table(int head)
{
	return vdrv_ptr(&C.d, desc(TXQ, head)->addr, 16 * 2);
}

static void publish_kick(unsigned int q, int head)
{
	vdrv_publish(&C.d, q, head);
	vdrv_kick(&C.d, q);
}

/* RX rings are read when a frame arrives, not on the kick. */
static void peer_sends(void)
{
	static uint8_t in[12 + 200];

	make_frame(in + 12, 200, 4);
	net_send(&C.peer.nc, in, sizeof(in), NULL);
	vdrv_run(&C.d);
}

static void set_avail_idx(unsigned int q, uint16_t idx)
{
	C.d.q[q].avail->idx = idx;
}

RING_CASE(tx_head_out_of_range, ALL_FEATURES, publish_kick(TXQ, 256))
RING_CASE(tx_head_max, ALL_FEATURES, publish_kick(TXQ, 0xffff))
RING_CASE(rx_head_out_of_range, ALL_FEATURES, {
	vdrv_publish(&C.d, RXQ, 300);
	peer_sends();
})
RING_CASE(ctrl_head_out_of_range, ALL_FEATURES, publish_kick(CTRLQ, 4096))
RING_CASE(tx_next_out_of_range, ALL_FEATURES, {
	int h = tx_chain(false);
	desc(TXQ, h)->next = 999;
	publish_kick(TXQ, h);
})
RING_CASE(tx_self_loop, ALL_FEATURES, {
	int h = tx_chain(false);
	desc(TXQ, h)->next = h;
	publish_kick(TXQ, h);
})
RING_CASE(tx_two_desc_loop, ALL_FEATURES, {
	int h = tx_chain(false);
	struct vring_desc *second = desc(TXQ, desc(TXQ, h)->next);
	second->flags |= VRING_DESC_F_NEXT;
	second->next = h;
	publish_kick(TXQ, h);
})
RING_CASE(tx_chain_longer_than_queue, ALL_FEATURES, {
	/* Every descriptor points to the next, the last back to 0: 257+ hops. */
	unsigned int i;
	for (i = 0; i < 256; i++) {
		desc(TXQ, i)->addr = vdrv_buf_gpa(&C.d, TXQ, i);
		desc(TXQ, i)->len = 64;
		desc(TXQ, i)->flags = VRING_DESC_F_NEXT;
		desc(TXQ, i)->next = (i + 1) % 256;
	}
	publish_kick(TXQ, 0);
})
RING_CASE(tx_avail_idx_runaway, ALL_FEATURES, {
	set_avail_idx(TXQ, 257);
	vdrv_kick(&C.d, TXQ);
})
RING_CASE(tx_avail_idx_backwards, ALL_FEATURES, {
	set_avail_idx(TXQ, 0xffff);
	vdrv_kick(&C.d, TXQ);
})
RING_CASE(rx_avail_idx_runaway, ALL_FEATURES, {
	set_avail_idx(RXQ, 1000);
	peer_sends();
})
RING_CASE(ctrl_avail_idx_runaway, ALL_FEATURES, {
	set_avail_idx(CTRLQ, 0x8000);
	vdrv_kick(&C.d, CTRLQ);
})
RING_CASE(rx_chain_loop, ALL_FEATURES, {
	desc(RXQ, 0)->addr = vdrv_buf_gpa(&C.d, RXQ, 0);
	desc(RXQ, 0)->len = 4096;
	desc(RXQ, 0)->flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT;
	desc(RXQ, 0)->next = 0;
	vdrv_publish(&C.d, RXQ, 0);
	peer_sends();
})
RING_CASE(ctrl_chain_loop, ALL_FEATURES, {
	desc(CTRLQ, 3)->addr = vdrv_buf_gpa(&C.d, CTRLQ, 3);
	desc(CTRLQ, 3)->len = 2;
	desc(CTRLQ, 3)->flags = VRING_DESC_F_NEXT;
	desc(CTRLQ, 3)->next = 3;
	publish_kick(CTRLQ, 3);
})

/* Indirect tables */
RING_CASE(indirect_not_negotiated, ALL_FEATURES & ~F(VIRTIO_RING_F_INDIRECT_DESC),
	  publish_kick(TXQ, tx_chain(true)))
RING_CASE(indirect_len_not_multiple, ALL_FEATURES, {
	int h = tx_chain(true);
	desc(TXQ, h)->len = 20;
	publish_kick(TXQ, h);
})
RING_CASE(indirect_len_zero, ALL_FEATURES, {
	int h = tx_chain(true);
	desc(TXQ, h)->len = 0;
	publish_kick(TXQ, h);
})
RING_CASE(indirect_too_large, ALL_FEATURES, {
	int h = tx_chain(true);
	desc(TXQ, h)->len = 16 * 2048;
	publish_kick(TXQ, h);
})
RING_CASE(indirect_outside_ram, ALL_FEATURES, {
	int h = tx_chain(true);
	desc(TXQ, h)->addr = VDRV_RAM_SIZE - 16;
	publish_kick(TXQ, h);
})
RING_CASE(indirect_nested, ALL_FEATURES, {
	int h = tx_chain(true);
	ind_table(h)[1].flags |= VRING_DESC_F_INDIRECT;
	publish_kick(TXQ, h);
})
RING_CASE(indirect_with_next, ALL_FEATURES, {
	int h = tx_chain(true);
	desc(TXQ, h)->flags |= VRING_DESC_F_NEXT;
	publish_kick(TXQ, h);
})
RING_CASE(indirect_next_out_of_range, ALL_FEATURES, {
	int h = tx_chain(true);
	ind_table(h)[0].next = 2;
	publish_kick(TXQ, h);
})
RING_CASE(indirect_loop, ALL_FEATURES, {
	int h = tx_chain(true);
	ind_table(h)[1].flags |= VRING_DESC_F_NEXT;
	ind_table(h)[1].next = 0;
	publish_kick(TXQ, h);
})

/* Queue registers refused at enable; the kick on the queue raises NEEDS_RESET. */
static void bad_enable(uint16_t size, uint64_t desc_gpa, uint64_t avail, uint64_t used)
{
	struct virtio_queue_config cfg = {
		.size = size, .desc = desc_gpa, .avail = avail, .used = used
	};
	struct virtio_dev *vdev = virtio_net_vdev(C.vn);
	int ret;

	vdrv_reset(&C.d);
	vdrv_negotiate(&C.d, vdev->ops->get_host_features(vdev));
	vdrv_setup_queue(&C.d, RXQ, 256);
	vdrv_setup_queue(&C.d, CTRLQ, 256);
	pthread_mutex_lock(&vdev->lock);
	ret = vdev->ops->queue_enable(vdev, TXQ, &cfg);
	pthread_mutex_unlock(&vdev->lock);
	/* An accepted enable leaves NEEDS_RESET clear: expect_reset() then fails. */
	(void)ret;
	vdrv_driver_ok(&C.d);
	vdrv_kick(&C.d, TXQ);
}

#define R VDRV_RAM_SIZE
RING_CASE(desc_ring_outside_ram, 0, bad_enable(256, R, 0x1000, 0x2000))
RING_CASE(avail_ring_outside_ram, 0, bad_enable(256, 0x1000, R + 0x1000, 0x3000))
RING_CASE(used_ring_outside_ram, 0, bad_enable(256, 0x1000, 0x3000, R - 8))
RING_CASE(desc_ring_straddles_end, 0, bad_enable(256, R - 16 * 128, 0x1000, 0x2000))
RING_CASE(ring_address_wraps, 0, bad_enable(256, 0xfffffffffffff000ull, 0x1000, 0x2000))
RING_CASE(queue_size_not_power_of_2, 0, bad_enable(100, 0x1000, 0x3000, 0x4000))
RING_CASE(queue_size_over_max, 0, bad_enable(512, 0x1000, 0x3000, 0x4000))
RING_CASE(queue_size_zero, 0, bad_enable(0, 0x1000, 0x3000, 0x4000))
RING_CASE(desc_misaligned, 0, bad_enable(256, 0x1008, 0x3000, 0x4000))
RING_CASE(used_misaligned, 0, bad_enable(256, 0x1000, 0x3000, 0x4002))

/* ---- request damage: used.len 0 and a counter ---- */

#define REQ_CASE(name, want, q, counter, ...)                                                      \
	TEST(req_##name)                                                                           \
	{                                                                                          \
		uint64_t before;                                                                   \
		int head;                                                                          \
		ASSERT_EQ(ctx_setup(want), 0);                                                     \
		before = stat(STAT(counter));                                                      \
		__VA_ARGS__;                                                                       \
		expect_used0(_t, q, head, STAT(counter), before);                                  \
	}

/* Post a TX frame of len bytes behind hdr and kick; returns the head. */
static int tx_with(const struct virtio_net_hdr_v1 *hdr, size_t len)
{
	static uint8_t frame[70000];
	int h;

	make_frame(frame, len < 14 ? 14 : len, 5);
	h = vdrv_net_tx(&C.d, hdr, frame, len, false);
	vdrv_kick(&C.d, TXQ);
	return h;
}

static int tx_corrupt_frame_desc(uint64_t addr, uint16_t add_flags)
{
	int h = tx_chain(false);
	struct vring_desc *f = desc(TXQ, desc(TXQ, h)->next);

	if (addr)
		f->addr = addr;
	f->flags |= add_flags;
	publish_kick(TXQ, h);
	return h;
}

#define HDR(...) (&(struct virtio_net_hdr_v1){ __VA_ARGS__ })
#define CSUM VIRTIO_NET_HDR_F_NEEDS_CSUM
#define TSO4 VIRTIO_NET_HDR_GSO_TCPV4

REQ_CASE(tx_buf_outside_ram, ALL_FEATURES, TXQ, engine.tx_bad_desc,
	 head = tx_corrupt_frame_desc(VDRV_RAM_SIZE, 0))
REQ_CASE(tx_buf_wraps, ALL_FEATURES, TXQ, engine.tx_bad_desc,
	 head = tx_corrupt_frame_desc(~0ull - 10, 0))
REQ_CASE(tx_buf_writable, ALL_FEATURES, TXQ, engine.tx_bad_desc,
	 head = tx_corrupt_frame_desc(0, VRING_DESC_F_WRITE))
REQ_CASE(tx_readable_after_writable, ALL_FEATURES, TXQ, engine.tx_bad_desc, {
	struct vdrv_seg segs[3] = { { NULL, 12, false }, { NULL, 64, true }, { NULL, 64, false } };
	head = vdrv_post(&C.d, TXQ, segs, 3, false);
	vdrv_kick(&C.d, TXQ);
})
REQ_CASE(tx_too_many_segments, ALL_FEATURES, TXQ, engine.tx_bad_desc, {
	struct vdrv_seg segs[70];
	unsigned int i;
	for (i = 0; i < 70; i++)
		segs[i] = (struct vdrv_seg){ NULL, 20, false };
	head = vdrv_post(&C.d, TXQ, segs, 70, false);
	vdrv_kick(&C.d, TXQ);
})
REQ_CASE(tx_hdr_short, ALL_FEATURES, TXQ, engine.tx_bad_hdr, {
	struct vdrv_seg seg = { NULL, 8, false };
	head = vdrv_post(&C.d, TXQ, &seg, 1, false);
	vdrv_kick(&C.d, TXQ);
})
REQ_CASE(tx_frame_shorter_than_eth, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(0), 10))
REQ_CASE(tx_frame_over_mtu, ALL_FEATURES, TXQ, engine.tx_too_big, head = tx_with(HDR(0), 1600))
REQ_CASE(tx_hdr_unknown_flag, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = 0x80), 100))
REQ_CASE(tx_hdr_data_valid, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = VIRTIO_NET_HDR_F_DATA_VALID), 100))
REQ_CASE(tx_csum_not_negotiated,
	 ALL_FEATURES & ~F(VIRTIO_NET_F_CSUM) & ~F(VIRTIO_NET_F_HOST_TSO4) &
		 ~F(VIRTIO_NET_F_HOST_TSO6),
	 TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 16), 100))
REQ_CASE(tx_csum_beyond_frame, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 90, .csum_offset = 16), 100))
REQ_CASE(tx_csum_fields_max, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 0xffff, .csum_offset = 0xffff), 100))
REQ_CASE(tx_tso4_not_negotiated, ALL_FEATURES & ~F(VIRTIO_NET_F_HOST_TSO4), TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 16, .gso_type = TSO4,
			    .gso_size = 1448, .hdr_len = 66),
			3000))
REQ_CASE(tx_gso_udp, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 6,
			    .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 1400),
			3000))
REQ_CASE(tx_gso_ecn, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 16,
			    .gso_type = TSO4 | VIRTIO_NET_HDR_GSO_ECN, .gso_size = 1448),
			3000))
REQ_CASE(tx_gso_unknown_type, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 16, .gso_type = 7,
			    .gso_size = 1448),
			3000))
REQ_CASE(tx_gso_size_zero, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 16, .gso_type = TSO4),
			3000))
REQ_CASE(tx_gso_without_csum, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.gso_type = TSO4, .gso_size = 1448), 3000))
REQ_CASE(tx_gso_hdr_len_beyond_frame, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 16, .gso_type = TSO4,
			    .gso_size = 1448, .hdr_len = 5000),
			3000))
REQ_CASE(tx_gso_over_64k, ALL_FEATURES, TXQ, engine.tx_bad_hdr,
	 head = tx_with(HDR(.flags = CSUM, .csum_start = 34, .csum_offset = 16, .gso_type = TSO4,
			    .gso_size = 1448, .hdr_len = 66),
			66000))

/* RX: the bad buffer comes back empty, the frame lands in the next good one. */
static int rx_bad_then_good(uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vdrv_seg seg = { NULL, 4096, true };
	int h = vdrv_build(&C.d, RXQ, &seg, 1, false);

	if (addr)
		desc(RXQ, h)->addr = addr;
	desc(RXQ, h)->len = len;
	desc(RXQ, h)->flags = flags;
	vdrv_publish(&C.d, RXQ, h);
	vdrv_post(&C.d, RXQ, &seg, 1, false);
	vdrv_kick(&C.d, RXQ);
	peer_sends();
	return h;
}

#define W VRING_DESC_F_WRITE
REQ_CASE(rx_buf_readable, ALL_FEATURES, RXQ, engine.rx_bad_desc,
	 head = rx_bad_then_good(0, 4096, 0))
REQ_CASE(rx_buf_outside_ram, ALL_FEATURES, RXQ, engine.rx_bad_desc,
	 head = rx_bad_then_good(VDRV_RAM_SIZE + 4096, 4096, W))
REQ_CASE(rx_buf_smaller_than_hdr, ALL_FEATURES, RXQ, engine.rx_bad_desc,
	 head = rx_bad_then_good(0, 8, W))
REQ_CASE(rx_buf_zero_len, ALL_FEATURES, RXQ, engine.rx_bad_desc, head = rx_bad_then_good(0, 0, W))
REQ_CASE(rx_buf_too_small_without_mrg, ALL_FEATURES & ~F(VIRTIO_NET_F_MRG_RXBUF), RXQ,
	 engine.rx_bad_desc, head = rx_bad_then_good(0, 100, W))

/* ---- control queue: VIRTIO_NET_ERR and a counter ---- */

#define CTRL_CASE(name, want, ...)                                                                 \
	TEST(ctrl_##name)                                                                          \
	{                                                                                          \
		uint64_t before;                                                                   \
		int ack;                                                                           \
		ASSERT_EQ(ctx_setup(want), 0);                                                     \
		before = stat(STAT(ctrl_err));                                                     \
		__VA_ARGS__;                                                                       \
		expect_ctrl_err(_t, ack, before);                                                  \
	}

static const uint8_t on = 1;

CTRL_CASE(unknown_class, ALL_FEATURES, ack = vdrv_net_ctrl(&C.d, 9, 0, &on, 1))
CTRL_CASE(vlan_not_offered, ALL_FEATURES,
	  ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, "\1\0", 2))
CTRL_CASE(unknown_rx_cmd, ALL_FEATURES, ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, 7, &on, 1))
CTRL_CASE(rx_extra_not_offered, ALL_FEATURES,
	  ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI, &on, 1))
CTRL_CASE(rx_promisc_no_data, ALL_FEATURES,
	  ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, NULL, 0))
CTRL_CASE(rx_promisc_two_bytes, ALL_FEATURES,
	  ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "\1\1", 2))
CTRL_CASE(rx_without_ctrl_rx, ALL_FEATURES & ~F(VIRTIO_NET_F_CTRL_RX),
	  ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1))
CTRL_CASE(mac_table_entries_overflow, ALL_FEATURES, {
	uint8_t t[8] = { 0, 0, 0, 0x80, 0, 0, 0, 0 };
	ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 8);
})
CTRL_CASE(mac_table_truncated, ALL_FEATURES, {
	uint8_t t[4 + 6] = { 2, 0, 0, 0, 0x52, 0x54, 0, 0, 0, 1 };
	ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 10);
})
CTRL_CASE(mac_table_missing_multicast, ALL_FEATURES, {
	uint8_t t[4] = { 0 };
	ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 4);
})
CTRL_CASE(mac_table_trailing_bytes, ALL_FEATURES, {
	uint8_t t[11] = { 0 };
	ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 11);
})
CTRL_CASE(mac_addr_short, ALL_FEATURES,
	  ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			      "\x52\x54\x00\x00\x00", 5))
CTRL_CASE(mac_addr_without_feature, ALL_FEATURES & ~F(VIRTIO_NET_F_CTRL_MAC_ADDR),
	  ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			      "\x52\x54\x00\x00\x00\x07", 6))
CTRL_CASE(header_one_byte, ALL_FEATURES, {
	struct vdrv_seg segs[2] = { { "\0", 1, false }, { NULL, 1, true } };
	int h = vdrv_post(&C.d, CTRLQ, segs, 2, false);
	uint16_t head;
	uint32_t len;
	vdrv_kick(&C.d, CTRLQ);
	ack = -1;
	if (vdrv_used(&C.d, CTRLQ, &head, &len) && head == h && len == 1)
		ack = *(uint8_t *)vdrv_ptr(&C.d,
					   vdrv_buf_gpa(&C.d, CTRLQ, C.d.q[CTRLQ].chain[h][1]), 1);
})
CTRL_CASE(command_too_long, ALL_FEATURES, {
	static uint8_t big[4096];
	big[0] = 1;
	ack = vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, big, 4000);
})

REQ_CASE(ctrl_no_status_byte, ALL_FEATURES, CTRLQ, ctrl_bad_desc, {
	struct vdrv_seg segs[2] = { { "\0\0", 2, false }, { &on, 1, false } };
	head = vdrv_post(&C.d, CTRLQ, segs, 2, false);
	vdrv_kick(&C.d, CTRLQ);
})
REQ_CASE(ctrl_buf_outside_ram, ALL_FEATURES, CTRLQ, ctrl_bad_desc, {
	struct vdrv_seg segs[2] = { { "\0\0", 2, false }, { NULL, 1, true } };
	head = vdrv_build(&C.d, CTRLQ, segs, 2, false);
	desc(CTRLQ, head)->addr = VDRV_RAM_SIZE;
	publish_kick(CTRLQ, head);
})

/* ---- feature negotiation: FEATURES_OK refused, a correct set then works ---- */

#define FEAT_CASE(name, expr)                                                                      \
	TEST(features_##name)                                                                      \
	{                                                                                          \
		struct virtio_dev *vdev;                                                           \
		uint64_t host;                                                                     \
		ASSERT_EQ(ctx_setup(0), 0);                                                        \
		vdev = virtio_net_vdev(C.vn);                                                      \
		host = vdev->ops->get_host_features(vdev);                                         \
		vdrv_reset(&C.d);                                                                  \
		EXPECT_EQ(vdrv_negotiate(&C.d, (expr)), -EINVAL);                                  \
		EXPECT_FALSE(vdrv_status(&C.d) & VIRTIO_CONFIG_S_FEATURES_OK);                     \
		ASSERT_EQ(vdrv_probe(&C.d, ALL_FEATURES, 256), 0);                                 \
		ASSERT_EQ(roundtrip(), 0);                                                         \
	}

FEAT_CASE(unoffered_guest_ufo, host | F(VIRTIO_NET_F_GUEST_UFO))
FEAT_CASE(without_version_1, host & ~F(VIRTIO_F_VERSION_1))
FEAT_CASE(guest_tso4_without_guest_csum, host & ~F(VIRTIO_NET_F_GUEST_CSUM))
FEAT_CASE(host_tso6_without_csum,
	  (host & ~F(VIRTIO_NET_F_CSUM) & ~F(VIRTIO_NET_F_HOST_TSO4)) | F(VIRTIO_NET_F_HOST_TSO6))
FEAT_CASE(ctrl_rx_without_ctrl_vq, host & ~F(VIRTIO_NET_F_CTRL_VQ) & ~F(VIRTIO_NET_F_CTRL_MAC_ADDR))

TEST(config_read_out_of_bounds)
{
	struct virtio_dev *vdev;
	uint8_t buf[8];

	ASSERT_EQ(ctx_setup(ALL_FEATURES), 0);
	vdev = virtio_net_vdev(C.vn);
	memset(buf, 0xaa, sizeof(buf));
	vdev->ops->config_read(vdev, 0xfffffffc, buf, 8);
	EXPECT_EQ(buf[0] | buf[7], 0);
	vdev->ops->config_read(vdev, 0, buf, 6);
	EXPECT_MEMEQ(buf, guest_mac, 6);
	ASSERT_EQ(roundtrip(), 0);
}

/* No driver kicks, yet a damaged device stays quiet: no busy loop, no second interrupt. */
TEST(damaged_device_stays_quiet)
{
	unsigned int irq;

	ASSERT_EQ(ctx_setup(ALL_FEATURES), 0);
	publish_kick(TXQ, 300);
	ASSERT_TRUE(vdrv_needs_reset(&C.d));
	irq = C.d.config_irq;
	vdrv_kick(&C.d, TXQ);
	vdrv_kick(&C.d, RXQ);
	peer_sends();
	EXPECT_EQ(C.d.config_irq, irq);
	EXPECT_EQ(loop_run_once(C.loop, 0), 0);
	ASSERT_EQ(vdrv_probe(&C.d, ALL_FEATURES, 256), 0);
	/* The frame sent while broken was kept, not lost: it arrives after the reset. */
	ASSERT_EQ(vdrv_net_rx_fill(&C.d, 4), 0);
	{
		struct virtio_net_hdr_v1 hdr;
		static uint8_t out[4096];

		EXPECT_EQ(vdrv_net_rx(&C.d, &hdr, out, sizeof(out)), 200);
	}
	ASSERT_EQ(roundtrip(), 0);
}

/*
 * With EVENT_IDX a driver kicks only when its avail idx passes avail_event
 * (Linux's virtqueue_kick_prepare): after each control command the device
 * must ask for the next kick, or a guest's second command is never seen.
 */
TEST(control_queue_rearms_avail_event)
{
	uint16_t *avail_event;
	int i;

	ASSERT_EQ(ctx_setup(ALL_FEATURES), 0);
	avail_event = vdrv_ptr(&C.d, C.d.q[2].used_gpa + 4 + 8 * C.d.q[2].size, 2);
	for (i = 1; i <= 3; i++) {
		EXPECT_EQ(
			vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
			VIRTIO_NET_OK);
		/* vring_need_event(avail_event, new = i + 1, old = i): a kick is due. */
		EXPECT_EQ(*avail_event, (uint16_t)i);
	}
}

/* A peer offering GSO the guest did not take: dropped and counted, never written. */
TEST(peer_gso_the_guest_did_not_take)
{
	static uint8_t in[12 + 3000];
	struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)in;
	uint64_t before;
	uint16_t head;
	uint32_t len;

	ASSERT_EQ(
		ctx_setup(ALL_FEATURES & ~F(VIRTIO_NET_F_GUEST_TSO4) & ~F(VIRTIO_NET_F_GUEST_TSO6)),
		0);
	before = stat(STAT(engine.rx_too_big));
	ASSERT_EQ(vdrv_net_rx_fill(&C.d, 4), 0);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = 1448;
	make_frame(in + 12, 3000, 6);
	EXPECT_EQ(net_send(&C.peer.nc, in, sizeof(in), NULL), (ssize_t)sizeof(in));
	vdrv_run(&C.d);
	EXPECT_EQ(stat(STAT(engine.rx_too_big)), before + 1);
	EXPECT_EQ(vdrv_used(&C.d, RXQ, &head, &len), 0);
	ASSERT_EQ(roundtrip(), 0);
}

/* A vnet-header peer handing over less than a header: dropped and counted, never written. */
TEST(peer_frame_shorter_than_its_vnet_header)
{
	static const uint8_t in[8] = { 0 };
	uint64_t before;
	uint16_t head;
	uint32_t len;

	ASSERT_EQ(ctx_setup(ALL_FEATURES), 0);
	before = stat(STAT(engine.rx_short));
	ASSERT_EQ(vdrv_net_rx_fill(&C.d, 4), 0);
	EXPECT_EQ(net_send(&C.peer.nc, in, sizeof(in), NULL), (ssize_t)sizeof(in));
	vdrv_run(&C.d);
	EXPECT_EQ(stat(STAT(engine.rx_short)), before + 1);
	EXPECT_EQ(vdrv_used(&C.d, RXQ, &head, &len), 0);
	ASSERT_EQ(roundtrip(), 0);
}

/* The RX filter the control queue programs (QEMU's receive_filter rules). */
static int rx_one_to(const uint8_t *dst)
{
	static uint8_t in[12 + 100], out[4096];
	struct virtio_net_hdr_v1 hdr;

	memset(in, 0, 12);
	make_frame(in + 12, 100, 9);
	memcpy(in + 12, dst, 6);
	net_send(&C.peer.nc, in, sizeof(in), NULL);
	vdrv_run(&C.d);
	return vdrv_net_rx(&C.d, &hdr, out, sizeof(out)) == 100;
}

TEST(rx_filter_follows_the_control_queue)
{
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0, 0, 9 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 0x16 };
	static const uint8_t mac3[6] = { 0x52, 0x54, 0x00, 0, 0, 3 };
	uint8_t table[4 + 6 + 4] = { 1, 0, 0, 0, 0x52, 0x54, 0x00, 0, 0, 9, 0, 0, 0, 0 };

	ASSERT_EQ(ctx_setup(ALL_FEATURES), 0);
	ASSERT_EQ(vdrv_net_rx_fill(&C.d, 16), 0);
	EXPECT_EQ(rx_one_to(other), 1); /* promiscuous after reset */
	ASSERT_EQ(vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "", 1),
		  VIRTIO_NET_OK);
	EXPECT_EQ(rx_one_to(guest_mac), 1);
	EXPECT_EQ(rx_one_to(bcast), 1);
	EXPECT_EQ(rx_one_to(other), 0);
	EXPECT_EQ(rx_one_to(mcast), 0);
	EXPECT_EQ(stat(STAT(rx_filtered)), 2u);
	ASSERT_EQ(vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				sizeof(table)),
		  VIRTIO_NET_OK);
	EXPECT_EQ(rx_one_to(other), 1);
	ASSERT_EQ(vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, "\1", 1),
		  VIRTIO_NET_OK);
	EXPECT_EQ(rx_one_to(mcast), 1);
	ASSERT_EQ(vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac3, 6),
		  VIRTIO_NET_OK);
	EXPECT_EQ(rx_one_to(mac3), 1);
	EXPECT_EQ(rx_one_to(guest_mac), 0);
	ASSERT_EQ(vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "\1", 1),
		  VIRTIO_NET_OK);
	EXPECT_EQ(stat(STAT(ctrl_ok)), 5u);
	ASSERT_EQ(roundtrip(), 0);
}

/* A legal but unusual RX buffer: the 12-byte header split over two segments. */
TEST(rx_header_split_over_segments)
{
	struct vdrv_seg segs[2] = { { NULL, 4, true }, { NULL, 4092, true } };
	static uint8_t in[12 + 300], frame[300];
	struct virtio_net_hdr_v1 hdr;
	uint8_t *a, *b;
	uint16_t head;
	uint32_t len;
	int h;

	ASSERT_EQ(ctx_setup(ALL_FEATURES), 0);
	h = vdrv_post(&C.d, RXQ, segs, 2, false);
	ASSERT_GE(h, 0);
	vdrv_kick(&C.d, RXQ);
	memset(in, 0, 12);
	make_frame(in + 12, 300, 8);
	memcpy(frame, in + 12, 300);
	ASSERT_EQ(net_send(&C.peer.nc, in, sizeof(in), NULL), (ssize_t)sizeof(in));
	vdrv_run(&C.d);
	a = vdrv_ptr(&C.d, vdrv_buf_gpa(&C.d, RXQ, C.d.q[RXQ].chain[h][0]), 4);
	b = vdrv_ptr(&C.d, vdrv_buf_gpa(&C.d, RXQ, C.d.q[RXQ].chain[h][1]), 4092);
	ASSERT_EQ(vdrv_used(&C.d, RXQ, &head, &len), 1);
	EXPECT_EQ(head, h);
	EXPECT_EQ(len, 312u);
	memcpy(&hdr, a, 4);
	memcpy((uint8_t *)&hdr + 4, b, 8);
	EXPECT_EQ(hdr.num_buffers, 1);
	EXPECT_MEMEQ(b + 8, frame, 300);
	ASSERT_EQ(roundtrip(), 0);
}
