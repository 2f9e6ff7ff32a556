// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net RX and control queue against a driver that moves the rings
 * under the device: an RX buffer laid over the driver's own avail index (so
 * the frame the device copies republishes the ring), another vCPU moving
 * avail->idx while a frame is placed, and another vCPU handing back unusable
 * buffers as fast as the device completes them. The device must write only
 * inside its arrays (run under build/san), end in a defined state (frame
 * delivered, waiting, or NEEDS_RESET), and take at most a ring's worth of
 * buffers per call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/compiler.h>
#include <kavm/loop.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#define RXQ 0
#define TXQ 1
#define CTRLQ 2
#define QSIZE 256
#define STAT(field) offsetof(struct virtio_net_stats, field)
/* The header buffer and a 4-byte buffer the tests aim elsewhere. */
#define HDR_DESC 0
#define SMALL_DESC 1

static struct ctx {
	struct loop *loop;
	struct vdrv d;
	struct tpeer peer;
	struct virtio_net *vn;
} C;

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int ctx_setup(void)
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
	return vdrv_probe(&C.d, ~0ull, QSIZE);
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
	f[13] = 0xb5;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
}

/* A 200-byte frame from the peer reaches the guest intact (RX buffers posted first). */
static int rx_one(void)
{
	static uint8_t in[12 + 200], out[65536];
	struct virtio_net_hdr_v1 hdr;
	ssize_t n;

	memset(in, 0, 12);
	make_frame(in + 12, 200, 9);
	if (vdrv_net_rx_fill(&C.d, 4))
		return -1;
	net_send(&C.peer.nc, in, sizeof(in), NULL);
	vdrv_run(&C.d);
	n = vdrv_net_rx(&C.d, &hdr, out, sizeof(out));
	return n == 200 && !memcmp(out, in + 12, 200) ? 0 : -2;
}

/* After NEEDS_RESET: a reset brings the device back and frames flow again. */
static void expect_recovers(struct kt_test *_t)
{
	struct virtio_net_hdr_v1 hdr;
	static uint8_t out[65536];

	ASSERT_EQ(vdrv_probe(&C.d, ~0ull, QSIZE), 0);
	ASSERT_FALSE(vdrv_needs_reset(&C.d));
	/* The frame that met the broken ring was kept: it comes first, whole. */
	ASSERT_EQ(vdrv_net_rx_fill(&C.d, 8), 0);
	while (vdrv_net_rx(&C.d, &hdr, out, sizeof(out)) > 0)
		;
	ASSERT_EQ(rx_one(), 0);
}

static void set_desc(unsigned int q, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags)
{
	C.d.q[q].desc[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags };
}

/*
 * The frame the device will copy when the RX ring holds the header buffer at
 * ring[0] and the 4-byte buffer everywhere else: as it fills the small buffer
 * for its k-th element, it writes value(k) there. Computed by walking the
 * ring as the device does; each element's bytes follow the last one's.
 */
static void craft_stream(uint8_t *s, size_t len, uint32_t (*value)(unsigned int pops))
{
	size_t off = 0;
	unsigned int pop;

	memset(s, 0, len);
	for (pop = 0; off < len; pop++) {
		uint32_t v;

		if ((pop & (QSIZE - 1)) == 0) {
			off += 12;
			continue;
		}
		v = value(pop + 1);
		if (off + 4 <= len)
			memcpy(s + off, &v, 4);
		off += 4;
	}
}

/* Buffer over avail {flags, idx}: flags 0, idx 200 entries past what the device took. */
static uint32_t republish(unsigned int pops)
{
	return (uint32_t)(uint16_t)(pops + 200) << 16;
}

static void ring_small_everywhere(void)
{
	struct vdrv_queue *q = &C.d.q[RXQ];
	unsigned int i;

	set_desc(RXQ, HDR_DESC, vdrv_buf_gpa(&C.d, RXQ, HDR_DESC), 12, VRING_DESC_F_WRITE);
	for (i = 0; i < QSIZE; i++)
		q->avail->ring[i] = i ? SMALL_DESC : HDR_DESC;
}

/*
 * One vCPU is enough: the RX buffer is the driver's own avail index, and the
 * frame's bytes keep publishing 200 more entries. Before the device read the
 * index once per batch and bounded a frame's buffers, it took 1024 buffers
 * for one frame and wrote past its used[] array.
 */
TEST(rx_buffer_over_own_avail_ring)
{
	static uint8_t stream[6000];
	struct vdrv_queue *q;
	uint64_t dmg;

	ASSERT_EQ(ctx_setup(), 0);
	q = &C.d.q[RXQ];
	ring_small_everywhere();
	set_desc(RXQ, SMALL_DESC, q->avail_gpa, 4, VRING_DESC_F_WRITE);
	craft_stream(stream, sizeof(stream), republish);
	dmg = stat(STAT(ring_damage));
	q->avail->idx = QSIZE;
	net_send(&C.peer.nc, stream, sizeof(stream), NULL);
	vdrv_run(&C.d);
	EXPECT_TRUE(vdrv_needs_reset(&C.d));
	EXPECT_EQ(stat(STAT(ring_damage)), dmg + 1);
	EXPECT_EQ(stat(STAT(engine.rx_frames)), 0u);
	expect_recovers(_t);
}

/* Another vCPU keeps avail->idx 64 entries past the buffers the frame has taken. */
struct mover {
	struct vring_avail *avail;
	const volatile uint32_t *progress; /* the small buffer: elements taken so far */
	bool stop;
	unsigned long moves;
};

static void *move_avail_idx(void *arg)
{
	struct mover *m = arg;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&m->avail->idx, (uint16_t)(*m->progress + 64), __ATOMIC_RELEASE);
		m->moves++;
	}
	return NULL;
}

static uint32_t count_pops(unsigned int pops)
{
	return pops;
}

TEST(rx_avail_idx_moved_during_one_call)
{
	static uint8_t stream[6000];
	struct mover m = { 0 };
	struct vdrv_queue *q;
	unsigned int turns;
	pthread_t t;
	uint64_t dmg;

	ASSERT_EQ(ctx_setup(), 0);
	q = &C.d.q[RXQ];
	ring_small_everywhere();
	set_desc(RXQ, SMALL_DESC, vdrv_buf_gpa(&C.d, RXQ, SMALL_DESC), 4, VRING_DESC_F_WRITE);
	craft_stream(stream, sizeof(stream), count_pops);
	m.avail = q->avail;
	m.progress = vdrv_ptr(&C.d, vdrv_buf_gpa(&C.d, RXQ, SMALL_DESC), 4);
	memset((void *)m.progress, 0, 4);
	q->avail->idx = 64;
	dmg = stat(STAT(ring_damage));
	ASSERT_EQ(pthread_create(&t, NULL, move_avail_idx, &m), 0);
	net_send(&C.peer.nc, stream, sizeof(stream), NULL);
	/* The driver kicks as it goes; bounded per call, it may take a few calls. */
	for (turns = 0; turns < 100000 && !vdrv_needs_reset(&C.d); turns++)
		vdrv_kick(&C.d, RXQ);
	__atomic_store_n(&m.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	printf("# %lu index moves, %u loop turns\n", m.moves, turns);
	/* It never fits (256 buffers hold ~1 KiB): the only way out is NEEDS_RESET. */
	EXPECT_TRUE(vdrv_needs_reset(&C.d));
	EXPECT_EQ(stat(STAT(ring_damage)), dmg + 1);
	expect_recovers(_t);
}

/*
 * Another vCPU hands every completed buffer straight back to the device. The
 * buffers are unusable (device-readable), so each comes back with used.len
 * 0 -- and, before RX had a budget, a frame arriving meanwhile kept the
 * device in one call for as long as the driver went on.
 */
struct recycler {
	struct vdrv_queue *q;
	unsigned long max; /* stop after this many */
	unsigned long recycled;
	uint16_t avail_idx, last_used;
	bool kick; /* buffers made available since the main thread last kicked */
	bool done;
};

static void *recycle_used(void *arg)
{
	struct recycler *r = arg;
	struct vdrv_queue *q = r->q;

	while (r->recycled < r->max) {
		uint16_t used = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);

		for (; r->last_used != used && r->recycled < r->max; r->recycled++) {
			uint16_t head = q->used->ring[r->last_used++ & (q->size - 1)].id;

			q->avail->ring[r->avail_idx++ & (q->size - 1)] = head;
			__atomic_store_n(&q->avail->idx, r->avail_idx, __ATOMIC_RELEASE);
			/* A vCPU would write the notify register: the loop thread does it. */
			__atomic_store_n(&r->kick, true, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Fill queue qi with QSIZE unusable buffers (flags) and start recycling them. */
static int start_recycler(struct recycler *r, pthread_t *t, unsigned int qi, uint16_t flags)
{
	struct vdrv_queue *q = &C.d.q[qi];
	unsigned int i;

	for (i = 0; i < QSIZE; i++) {
		set_desc(qi, i, vdrv_buf_gpa(&C.d, qi, i), 64, flags);
		q->avail->ring[i] = i;
	}
	*r = (struct recycler){ .q = q, .max = 100000, .avail_idx = QSIZE };
	__atomic_store_n(&q->avail->idx, QSIZE, __ATOMIC_RELEASE);
	return pthread_create(t, NULL, recycle_used, r);
}

/* The driver's view once the recycler stopped: it owns the ring again. */
static void stop_recycler(struct recycler *r, pthread_t t)
{
	pthread_join(t, NULL);
	r->q->avail_idx = r->q->kicked_idx = r->avail_idx;
	r->q->last_used = r->last_used;
}

/*
 * Run the loop turn by turn while the recycler runs, kicking queue qi when it
 * asks; the most that one turn or one kick added to counter.
 */
static uint64_t turns_while_recycling(struct recycler *r, unsigned int qi, size_t counter,
				      unsigned int *turns)
{
	uint64_t most = 0, before;

	for (*turns = 0; !__atomic_load_n(&r->done, __ATOMIC_ACQUIRE); (*turns)++) {
		before = stat(counter);
		loop_run_once(C.loop, 0);
		most = max(most, stat(counter) - before);
		if (!__atomic_exchange_n(&r->kick, false, __ATOMIC_ACQ_REL))
			continue;
		before = stat(counter);
		C.d.vdev->ops->queue_notify(C.d.vdev, qi);
		most = max(most, stat(counter) - before);
	}
	return most;
}

TEST(rx_recycled_bad_buffers_bounded_per_call)
{
	static uint8_t in[12 + 200], out[65536];
	struct virtio_net_hdr_v1 hdr;
	uint64_t first, most, before;
	struct recycler r;
	unsigned int turns;
	uint16_t head;
	uint32_t len;
	pthread_t t;

	ASSERT_EQ(ctx_setup(), 0);
	memset(in, 0, 12);
	make_frame(in + 12, 200, 7);
	before = stat(STAT(engine.rx_bad_desc));
	ASSERT_EQ(start_recycler(&r, &t, RXQ, 0), 0);
	/* One device call: the peer's frame meets the recycled ring. */
	net_send(&C.peer.nc, in, sizeof(in), NULL);
	first = stat(STAT(engine.rx_bad_desc)) - before;
	most = turns_while_recycling(&r, RXQ, STAT(engine.rx_bad_desc), &turns);
	stop_recycler(&r, t);
	vdrv_kick(&C.d, RXQ);
	printf("# %lu recycled; first call %llu buffers, then at most %llu per turn over %u "
	       "turns\n",
	       r.recycled, (unsigned long long)first, (unsigned long long)most, turns);
	EXPECT_LE(first, (uint64_t)QSIZE);
	EXPECT_LE(most, (uint64_t)QSIZE);
	EXPECT_GT(stat(STAT(engine.rx_deferred)), 0u);
	/* The ring's last unusable buffers went back; the frame waits for good ones. */
	EXPECT_EQ(stat(STAT(engine.rx_bad_desc)) - before, (uint64_t)QSIZE + r.recycled);
	while (vdrv_used(&C.d, RXQ, &head, &len))
		EXPECT_EQ(len, 0u);
	EXPECT_EQ(stat(STAT(engine.rx_frames)), 0u);
	ASSERT_EQ(vdrv_net_rx_fill(&C.d, 4), 0);
	ASSERT_EQ(vdrv_net_rx(&C.d, &hdr, out, sizeof(out)), 200);
	EXPECT_MEMEQ(out, in + 12, 200);
	EXPECT_FALSE(vdrv_needs_reset(&C.d));
	EXPECT_EQ(rx_one(), 0);
}

/* The control queue: commands without room for the ack, handed back at once. */
TEST(ctrl_recycled_bad_buffers_bounded_per_call)
{
	uint64_t most, before;
	struct recycler r;
	unsigned int turns;
	pthread_t t;
	uint8_t on = 1;

	ASSERT_EQ(ctx_setup(), 0);
	before = stat(STAT(ctrl_bad_desc));
	ASSERT_EQ(start_recycler(&r, &t, CTRLQ, 0), 0);
	vdrv_kick(&C.d, CTRLQ);
	most = turns_while_recycling(&r, CTRLQ, STAT(ctrl_bad_desc), &turns);
	stop_recycler(&r, t);
	vdrv_kick(&C.d, CTRLQ);
	printf("# %lu recycled; at most %llu per turn over %u turns\n", r.recycled,
	       (unsigned long long)most, turns);
	EXPECT_LE(most, (uint64_t)QSIZE);
	EXPECT_EQ(stat(STAT(ctrl_bad_desc)) - before, (uint64_t)QSIZE + r.recycled);
	{
		uint16_t head;
		uint32_t len;

		while (vdrv_used(&C.d, CTRLQ, &head, &len))
			EXPECT_EQ(len, 0u);
	}
	EXPECT_EQ(vdrv_net_ctrl(&C.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
		  VIRTIO_NET_OK);
	EXPECT_FALSE(vdrv_needs_reset(&C.d));
}
