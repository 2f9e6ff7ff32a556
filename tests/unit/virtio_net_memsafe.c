// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net writes guest memory only where the driver lets it. Guest RAM
 * starts filled with a canary; a random driver then posts RX buffers of
 * random sizes, the peer sends frames of random sizes (GSO frames over many
 * mergeable buffers, frames that wait for buffers, frames that find too few
 * and must be given back), and the driver resets the device now and then.
 * After every step: each used buffer holds the frame's bytes up to used.len
 * and the canary after it; RAM outside the rings and buffers is untouched;
 * and after a reset nothing more is written at all. A device bug that
 * scribbles over guest memory shows up here as a changed canary, where in a
 * real guest it would be a random crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/loop.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#define F(bit) (1ull << (bit))
#define RXQ 0
#define CANARY 0xa5
#define QSIZE 256
#define FEATURES                                                                                   \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |     \
	 F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |           \
	 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_CTRL_VQ) |        \
	 F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS))

static struct ctx {
	struct loop *loop;
	struct vdrv d;
	struct tpeer peer;
	struct virtio_net *vn;
	uint32_t posted[QSIZE]; /* length posted per RX descriptor, 0 if not posted */
	uint64_t rng;
	unsigned int sent, received, resets, waits, partial;
} C;

/* xorshift: the same run every time, so a failure can be replayed. */
static uint32_t rnd(void)
{
	C.rng ^= C.rng << 13;
	C.rng ^= C.rng >> 7;
	C.rng ^= C.rng << 17;
	return (uint32_t)C.rng;
}

static int setup(void)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet0" };

	if (loop_create(&C.loop) || vdrv_init(&C.d, C.loop) || tpeer_init(&C.peer, true))
		return -ENOMEM;
	p.mem = &C.d.mem;
	p.loop = C.loop;
	p.backend = &C.peer.nc;
	memcpy(p.mac, "\x52\x54\x00\x12\x34\x56", 6);
	if (virtio_net_init(&p, &C.vn))
		return -EINVAL;
	vdrv_attach(&C.d, virtio_net_vdev(C.vn));
	C.rng = 0x9e3779b97f4a7c15ull;
	return 0;
}

static void teardown(void)
{
	virtio_net_exit(C.vn);
	tpeer_exit(&C.peer);
	vdrv_exit(&C.d);
	loop_destroy(C.loop);
}

static uint8_t *ram(uint64_t gpa, uint64_t len)
{
	return vdrv_ptr(&C.d, gpa, len);
}

/* The first byte in [gpa, gpa+len) that is not the canary, or -1. */
static int64_t canary_broken(uint64_t gpa, uint64_t len)
{
	const uint8_t *p = ram(gpa, len);
	uint64_t i;

	for (i = 0; i < len; i++)
		if (p[i] != CANARY)
			return gpa + i;
	return -1;
}

/* Probe, then paint the RX buffers and all RAM past the driver's rings. */
static int probe_and_paint(void)
{
	int ret = vdrv_probe(&C.d, FEATURES, QSIZE);

	if (ret)
		return ret;
	memset(ram(C.d.q[RXQ].buf_gpa, (uint64_t)QSIZE * VDRV_BUF_SIZE), CANARY,
	       (uint64_t)QSIZE * VDRV_BUF_SIZE);
	memset(ram(C.d.next_gpa, VDRV_RAM_SIZE - C.d.next_gpa), CANARY,
	       VDRV_RAM_SIZE - C.d.next_gpa);
	memset(C.posted, 0, sizeof(C.posted));
	return 0;
}

/* Post buffers of random lengths (a whole header fits in the first: 12 up) until n more. */
static void post_rx(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vdrv_seg seg = { NULL, 12 + rnd() % (VDRV_BUF_SIZE - 11), true };
		int head = vdrv_post(&C.d, RXQ, &seg, 1, false);

		if (head < 0)
			break;
		C.posted[head] = seg.len;
	}
	vdrv_notify(&C.d, RXQ);
}

static uint64_t posted_bytes(void)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < QSIZE; i++)
		n += C.posted[i];
	return n;
}

/* A frame of len bytes (header included) from the peer, GSO when over the MTU. */
static void peer_send(uint8_t *frame, size_t len)
{
	struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)frame;
	size_t i;

	for (i = sizeof(*h); i < len; i++)
		frame[i] = (uint8_t)rnd();
	memset(h, 0, sizeof(*h));
	memcpy(frame + sizeof(*h), "\x52\x54\x00\x12\x34\x56", 6);
	if (len - sizeof(*h) > 1514) {
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = 1448;
		h->hdr_len = 54;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = 34;
		h->csum_offset = 16;
	}
	net_send(&C.peer.nc, frame, len, NULL);
	vdrv_run(&C.d);
}

/*
 * Take every used buffer: its length fits what was posted, the canary
 * follows it, and the buffers of one frame hold that frame (got: it came).
 */
static void drain_rx(const uint8_t *sent, size_t sent_len, bool *got)
{
	static uint8_t frame[70000];
	size_t off = 0;
	unsigned int nbuf = 0, want = 0;
	uint16_t head;
	uint32_t len;

	while (vdrv_used(&C.d, RXQ, &head, &len)) {
		uint64_t gpa = vdrv_buf_gpa(&C.d, RXQ, head);
		uint32_t cap = C.posted[head];

		EXPECT_GT(cap, 0u);
		EXPECT_LE(len, cap);
		if (len > cap || !cap)
			return;
		EXPECT_EQ(canary_broken(gpa + len, VDRV_BUF_SIZE - len), -1);
		if (nbuf == 0)
			want = ((struct virtio_net_hdr_v1 *)ram(gpa, 12))->num_buffers;
		if (off + len <= sizeof(frame))
			memcpy(frame + off, ram(gpa, len), len);
		off += len;
		nbuf++;
		memset(ram(gpa, VDRV_BUF_SIZE), CANARY, VDRV_BUF_SIZE);
		C.posted[head] = 0;
		if (nbuf < want)
			continue;
		/* num_buffers is the device's: compare the rest of the header and the data. */
		EXPECT_EQ(off, sent_len);
		EXPECT_MEMEQ(frame, sent, 10);
		EXPECT_MEMEQ(frame + 12, sent + 12, sent_len - 12);
		*got = true;
		C.received++;
		off = 0;
		nbuf = 0;
	}
}

/* RAM the device has no business writing: everything past the rings, and idle buffers. */
static void check_untouched(void)
{
	unsigned int i;

	EXPECT_EQ(canary_broken(C.d.next_gpa, VDRV_RAM_SIZE - C.d.next_gpa), -1);
	for (i = 0; i < QSIZE; i++)
		if (!C.posted[i])
			EXPECT_EQ(canary_broken(vdrv_buf_gpa(&C.d, RXQ, i), VDRV_BUF_SIZE), -1);
}

/* A reset: afterwards the device writes nothing, even with frames queued for it. */
static void reset_and_check(uint8_t *frame)
{
	uint64_t rx = C.d.q[RXQ].buf_gpa;

	bool got = false;

	vdrv_reset(&C.d);
	memset(ram(rx, (uint64_t)QSIZE * VDRV_BUF_SIZE), CANARY, (uint64_t)QSIZE * VDRV_BUF_SIZE);
	peer_send(frame, 12 + 64);
	vdrv_run(&C.d);
	EXPECT_EQ(canary_broken(rx, (uint64_t)QSIZE * VDRV_BUF_SIZE), -1);
	C.resets++;
	C.sent++;
	ASSERT_EQ(probe_and_paint(), 0);
	/* The frame that waited across the reset arrives whole in the new rings. */
	post_rx(QSIZE);
	drain_rx(frame, 12 + 64, &got);
	EXPECT_TRUE(got);
}

TEST_TIMEOUT(rx_writes_only_what_the_driver_gave, 300)
{
	static uint8_t frame[65536 + 12 + 14];
	unsigned int i;

	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(probe_and_paint(), 0);
	post_rx(QSIZE);
	for (i = 0; i < 4000; i++) {
		size_t len = 12 + 14 + rnd() % (rnd() % 4 ? 1501 : 65536 - 14 + 1);
		bool got = false;

		/* Some room, but not enough: the device takes buffers and gives them back. */
		if (posted_bytes() && posted_bytes() < len)
			C.partial++;
		peer_send(frame, len);
		drain_rx(frame, len, &got);
		if (!got)
			C.waits++;
		/* Too few buffers: the frame waits (or was given back) until refills, a few at a time. */
		while (!got && C.d.q[RXQ].nfree) {
			post_rx(1 + rnd() % 16);
			drain_rx(frame, len, &got);
		}
		EXPECT_TRUE(got);
		C.sent++;
		/* Scanning all RAM is slow: every few frames, and the buffers' tails always. */
		if (i % 16 == 0)
			check_untouched();
		/* Fewer buffers than the frames take, on average: the ring runs dry. */
		if (rnd() % 3 == 0)
			post_rx(rnd() % 8);
		if (rnd() % 500 == 0)
			reset_and_check(frame);
	}
	check_untouched();
	printf("# %u frames, %u received, %u waited for buffers (%u found too few), %u resets\n",
	       C.sent, C.received, C.waits, C.partial, C.resets);
	EXPECT_EQ(C.received, C.sent);
	EXPECT_GT(C.waits, 100u);
	EXPECT_GT(C.partial, 50u);
	EXPECT_GT(C.resets, 2u);
	teardown();
}
