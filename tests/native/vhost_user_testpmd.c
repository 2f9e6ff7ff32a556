// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user against a real backend: DPDK's testpmd forwarding between two
 * vhost ports (io mode), each port a kavm virtio-net NIC driven in-process by
 * the guest-side driver, which kicks through the kick eventfd and sleeps on
 * the call eventfd as a guest would. Frames of 64 to 9000 bytes go both ways
 * byte-identical; testpmd killed and restarted under traffic: kavm carries
 * on, the guest sees its link go down and up, traffic resumes every time and
 * every frame lost is counted; the same with kavm listening (server=on).
 * With queues=2 and 4 on both sides (testpmd's vhost ports and kavm's
 * netdevs): every pair carries frames byte-identical on its own rings,
 * counted per queue by testpmd and by the guests; VQ_PAIRS_SET to one pair
 * disables the backend's other rings; a reset and a testpmd restart bring
 * every pair back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/vhost-user.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/testpmd.h"
#include "../lib/virtio-driver.h"

#define F(bit) (1ull << (bit))
#define RXQ 0
#define TXQ 1
#define ETH_TYPE_TEST 0x88b5
/* Frames out at once per side: below the 256-entry rings, chained 9000-byte frames included. */
#define WINDOW 32
#define SEQ_WARMUP 0xffffffffu

struct side {
	struct vdrv d;
	struct net_client *nc;
	struct virtio_net *vn;
	uint8_t mac[6];
	uint32_t next_seq;
	unsigned int pairs;		    /* queues= of its netdev */
	uint64_t rx_frames[VDRV_MAX_PAIRS]; /* frames the guest took from each pair's RX */
};

static struct env {
	struct loop *loop;
	struct testpmd tp;
	struct side s[2];
} E;

/* The pair a frame is sent on is in its bytes: one that changed pairs differs. */
static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src, uint32_t seq,
		       unsigned int pair)
{
	size_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TYPE_TEST >> 8;
	f[13] = ETH_TYPE_TEST & 0xff;
	memcpy(f + 14, &seq, 4);
	for (i = 18; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seq + pair * 31);
}

static bool link_up(struct side *s)
{
	struct virtio_dev *vdev = virtio_net_vdev(s->vn);
	uint16_t status;

	pthread_mutex_lock(&vdev->lock);
	vdev->ops->config_read(vdev, 6, &status, 2);
	pthread_mutex_unlock(&vdev->lock);
	return status & VIRTIO_NET_S_LINK_UP;
}

/* Run the loop until both links are up (want) or down; false at the timeout. */
static bool wait_links(bool want, int timeout_ms)
{
	int i;

	for (i = 0; i < timeout_ms; i++) {
		if (link_up(&E.s[0]) == want && link_up(&E.s[1]) == want)
			return true;
		loop_run_once(E.loop, 1);
	}
	return false;
}

/* Every pair's RX ring full, as Linux keeps them. */
static int rx_fill_all(struct side *s)
{
	unsigned int p;
	int ret = 0;

	for (p = 0; !ret && p < s->pairs; p++)
		ret = vdrv_net_rx_fill_on(&s->d, p, 256);
	return ret;
}

static int side_open(struct side *s, unsigned int i, const char *spec, unsigned int pairs)
{
	struct virtio_net_params p = { .mtu = 9000, .loop = E.loop };
	struct netdev_opts o;
	char err[160];
	int ret;

	ret = vdrv_init(&s->d, E.loop);
	if (ret)
		return ret;
	vdrv_use_eventfds(&s->d);
	s->mac[0] = 0x52;
	s->mac[5] = 0x10 + i;
	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "# %s: %s\n", spec, err);
		return ret;
	}
	ret = netdev_open(&o, E.loop, &s->nc);
	if (ret)
		return ret;
	p.mem = &s->d.mem;
	p.backend = s->nc;
	p.name = o.id;
	memcpy(p.mac, s->mac, 6);
	ret = virtio_net_init(&p, &s->vn);
	if (ret)
		return ret;
	vdrv_attach(&s->d, virtio_net_vdev(s->vn));
	ret = vdrv_probe(&s->d, ~0ull, 256);
	if (ret)
		return ret;
	s->pairs = pairs;
	return rx_fill_all(s);
}

static void side_close(struct side *s)
{
	if (s->vn)
		virtio_net_exit(s->vn);
	if (s->nc)
		netdev_close(s->nc);
	vdrv_exit(&s->d);
	memset(s, 0, sizeof(*s));
}

/* Reclaim TX buffers the backend is done with. */
static void tx_reclaim(struct side *s, unsigned int pair)
{
	uint16_t head;
	uint32_t len;

	while (vdrv_used(&s->d, 2 * pair + TXQ, &head, &len))
		;
}

static int tx_on(struct side *s, unsigned int pair, const struct side *to, size_t len, uint32_t seq)
{
	static uint8_t frame[9014];
	struct virtio_net_hdr_v1 hdr = { 0 };
	int ret;

	make_frame(frame, len, to->mac, s->mac, seq, pair);
	tx_reclaim(s, pair);
	ret = vdrv_net_tx_on(&s->d, pair, &hdr, frame, len, false);
	if (ret < 0)
		return ret;
	vdrv_notify(&s->d, 2 * pair + TXQ);
	return 0;
}

static int tx_one(struct side *s, const struct side *to, size_t len, uint32_t seq)
{
	return tx_on(s, 0, to, len, seq);
}

/*
 * One frame at the receiving side within timeout_ms: its length (0 at the
 * timeout), the frame checked against what its sequence number says it is.
 */
static ssize_t rx_on(struct side *s, unsigned int pair, const struct side *from, uint32_t *seq,
		     int timeout_ms)
{
	static uint8_t got[9014 + 64], want[9014];
	struct virtio_net_hdr_v1 hdr;
	ssize_t n;

	if (!vdrv_wait_used(&s->d, 2 * pair + RXQ, timeout_ms))
		return 0;
	n = vdrv_net_rx_on(&s->d, pair, &hdr, got, sizeof(got));
	vdrv_net_rx_fill_on(&s->d, pair, s->d.q[2 * pair + RXQ].nfree);
	if (n < 18)
		return n < 0 ? n : -EINVAL;
	memcpy(seq, got + 14, 4);
	make_frame(want, n, s->mac, from->mac, *seq, pair);
	if (memcmp(got, want, n)) {
		fprintf(stderr, "# frame %u of %zd bytes on pair %u differs\n", *seq, n, pair);
		return -EBADMSG;
	}
	s->rx_frames[pair]++;
	return n;
}

static ssize_t rx_one(struct side *s, const struct side *from, uint32_t *seq, int timeout_ms)
{
	return rx_on(s, 0, from, seq, timeout_ms);
}

/* testpmd forwards only once both its ports are up: probe until a frame makes it. */
static int warm_up_on(struct side *a, struct side *b, unsigned int pair)
{
	uint32_t seq;
	int i;

	for (i = 0; i < 100; i++) {
		if (tx_on(a, pair, b, 64, SEQ_WARMUP))
			return -ENOSPC;
		if (rx_on(b, pair, a, &seq, 100) > 0)
			break;
	}
	/* Late duplicates of the probe, if any. */
	while (rx_on(b, pair, a, &seq, 50) > 0)
		;
	return i < 100 ? 0 : -ETIMEDOUT;
}

static int warm_up(struct side *a, struct side *b)
{
	return warm_up_on(a, b, 0);
}

/* n frames of len from a to b on pair, WINDOW at a time: every one intact, in order. */
static int stream_on(struct side *a, struct side *b, unsigned int pair, unsigned int n, size_t len)
{
	unsigned int sent = 0, got = 0, burst;
	uint32_t seq, first = a->next_seq;
	ssize_t r;

	while (got < n) {
		for (burst = 0; sent < n && burst < WINDOW && sent - got < WINDOW; burst++, sent++)
			if (tx_on(a, pair, b, len, a->next_seq++))
				return -ENOSPC;
		r = rx_on(b, pair, a, &seq, 2000);
		if (r <= 0) {
			fprintf(stderr, "# %zu-byte frames on pair %u: %u of %u arrived (%zd)\n",
				len, pair, got, n, r);
			return r ? (int)r : -ETIMEDOUT;
		}
		if ((size_t)r != len || seq != first + got) {
			fprintf(stderr, "# got frame %u (%zd bytes), want %u (%zu)\n", seq, r,
				first + got, len);
			return -EBADMSG;
		}
		got++;
	}
	tx_reclaim(a, pair);
	return 0;
}

static int stream(struct side *a, struct side *b, unsigned int n, size_t len)
{
	return stream_on(a, b, 0, n, len);
}

/*
 * testpmd and two NICs on its ports, queues pairs each (testpmd's vhost
 * ports and kavm's netdevs alike); kavm dials (reconnect=1) or listens
 * (server=on).
 */
static int env_up_mq(bool kavm_server, unsigned int queues)
{
	char spec[256];
	unsigned int i;

	REQUIRE_ROOT();
	if (!testpmd_available())
		SKIP("dpdk-testpmd is not installed (tests/install-deps.sh)");
	if (loop_create(&E.loop) || testpmd_init(&E.tp, kavm_server))
		return -ENOMEM;
	E.tp.queues = queues;
	if (testpmd_start(&E.tp)) {
		testpmd_dump_log(&E.tp);
		return -ECHILD;
	}
	for (i = 0; i < 2; i++) {
		snprintf(spec, sizeof(spec), "vhost-user,id=vu%u,socket=%s,%s,queues=%u", i,
			 E.tp.sock[i], kavm_server ? "server=on" : "reconnect=1", queues);
		if (side_open(&E.s[i], i, spec, queues)) {
			testpmd_dump_log(&E.tp);
			return -EIO;
		}
	}
	return 0;
}

static int env_up(bool kavm_server)
{
	return env_up_mq(kavm_server, 1);
}

static void env_down(void)
{
	if (getenv("KAVM_TESTPMD_LOG")) {
		testpmd_stop(&E.tp, SIGTERM);
		testpmd_dump_log(&E.tp);
	}
	side_close(&E.s[0]);
	side_close(&E.s[1]);
	testpmd_exit(&E.tp);
	loop_destroy(E.loop);
}

TEST_TIMEOUT(frames_64_to_9000_both_ways_byte_identical, 120)
{
	static const size_t sizes[] = { 60, 64, 65, 128, 1500, 1514, 4000, 4097, 9000 };
	struct vhost_user_stats st;
	unsigned int i;

	ASSERT_EQ(env_up(false), 0);
	ASSERT_TRUE(wait_links(true, 5000));
	ASSERT_EQ(warm_up(&E.s[0], &E.s[1]), 0);
	ASSERT_EQ(warm_up(&E.s[1], &E.s[0]), 0);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(stream(&E.s[0], &E.s[1], 200, sizes[i]), 0);
		EXPECT_EQ(stream(&E.s[1], &E.s[0], 200, sizes[i]), 0);
	}
	/* A burst deeper than the ring: the backend's flow control, not loss. */
	EXPECT_EQ(stream(&E.s[0], &E.s[1], 5000, 64), 0);
	/* A driver reset takes the rings back (GET_VRING_BASE) and DRIVER_OK hands them out again. */
	ASSERT_EQ(vdrv_probe(&E.s[0].d, ~0ull, 256), 0);
	ASSERT_EQ(rx_fill_all(&E.s[0]), 0);
	ASSERT_EQ(warm_up(&E.s[1], &E.s[0]), 0);
	EXPECT_EQ(stream(&E.s[0], &E.s[1], 200, 1500), 0);
	EXPECT_EQ(stream(&E.s[1], &E.s[0], 200, 1500), 0);
	/* Mergeable RX buffers carried the 9000-byte frames: the guest took them. */
	EXPECT_TRUE(E.s[1].d.features & F(VIRTIO_NET_F_MRG_RXBUF));
	vhost_user_get_stats(vhost_user_of(E.s[0].nc), &st);
	EXPECT_EQ(st.connects, 1u);
	EXPECT_EQ(st.disconnects, 0u);
	EXPECT_EQ(st.violations, 0u);
	EXPECT_EQ(st.starts, 2u);
	env_down();
}

struct tally {
	uint64_t sent, got, dup, late; /* late: sent before a restart, arrived after it */
};

/*
 * Frames a sent that b may still receive: take what arrives within
 * timeout_ms, each sequence number once (a second copy is a duplicate).
 */
static void drain(struct side *a, struct side *b, uint32_t from, uint32_t to, uint8_t *seen,
		  struct tally *t, int timeout_ms)
{
	uint32_t seq;
	ssize_t r;

	while ((r = rx_one(b, a, &seq, timeout_ms)) > 0) {
		if (seq == SEQ_WARMUP || seq < from || seq >= to)
			continue;
		if (seen[seq - from]++)
			t->dup++;
		else
			t->got++;
	}
}

/* A burst from each side, kicked, and testpmd dies before it is through. */
static void burst_both(uint32_t *first)
{
	unsigned int i, k;

	for (i = 0; i < 2; i++) {
		first[i] = E.s[i].next_seq;
		for (k = 0; k < WINDOW; k++)
			if (tx_one(&E.s[i], &E.s[!i], 1500, E.s[i].next_seq++))
				break;
	}
}

/*
 * One restart: traffic flows both ways (every frame arrives), a burst goes
 * out, testpmd dies (SIGKILL or SIGTERM), both guests see their link go
 * down, testpmd comes back, both links come up again and what is left of
 * the burst arrives. Returns the burst's frames lost (never counted twice).
 */
static int restart_once(unsigned int cycle, int sig, struct tally *t)
{
	static uint8_t seen[2][WINDOW];
	uint32_t first[2];
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (warm_up(&E.s[i], &E.s[!i]) || stream(&E.s[i], &E.s[!i], 64, 1500)) {
			fprintf(stderr, "# cycle %u: traffic %u->%u did not resume\n", cycle, i,
				!i);
			return -1;
		}
	burst_both(first);
	testpmd_stop(&E.tp, sig);
	if (!wait_links(false, 5000)) {
		fprintf(stderr, "# cycle %u: the guests never saw the link go down\n", cycle);
		return -1;
	}
	if (testpmd_start(&E.tp) || !wait_links(true, 10000)) {
		testpmd_dump_log(&E.tp);
		fprintf(stderr, "# cycle %u: the links did not come back\n", cycle);
		return -1;
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 2; i++) {
		struct tally c = { .sent = WINDOW };

		drain(&E.s[i], &E.s[!i], first[i], first[i] + WINDOW, seen[i], &c, 300);
		t->sent += c.sent;
		t->got += c.got;
		t->dup += c.dup;
		fprintf(stderr,
			"# cycle %2u (%s): %u->%u: burst of %u: %llu arrived, %llu lost, %llu duplicates\n",
			cycle, sig == SIGKILL ? "SIGKILL" : "SIGTERM", i, !i, WINDOW,
			(unsigned long long)c.got, (unsigned long long)(c.sent - c.got),
			(unsigned long long)c.dup);
	}
	return 0;
}

static unsigned int restart_cycles(void)
{
	const char *s = getenv("KAVM_VU_RESTARTS");

	return s ? (unsigned int)atoi(s) : 20;
}

TEST_TIMEOUT(testpmd_restarts_under_traffic, 600)
{
	unsigned int cycles = restart_cycles(), i;
	struct vhost_user_stats st[2];
	struct tally t = { 0 };

	ASSERT_EQ(env_up(false), 0);
	ASSERT_TRUE(wait_links(true, 5000));
	for (i = 0; i < cycles; i++)
		ASSERT_EQ(restart_once(i, i % 2 ? SIGTERM : SIGKILL, &t), 0);
	/* And once more after the last restart: the data path is whole. */
	ASSERT_EQ(warm_up(&E.s[0], &E.s[1]), 0);
	EXPECT_EQ(stream(&E.s[0], &E.s[1], 500, 9000), 0);
	EXPECT_EQ(stream(&E.s[1], &E.s[0], 500, 64), 0);
	fprintf(stderr,
		"# %u restarts: bursts sent %llu, arrived %llu, lost %llu, duplicates %llu\n",
		cycles, (unsigned long long)t.sent, (unsigned long long)t.got,
		(unsigned long long)(t.sent - t.got), (unsigned long long)t.dup);
	for (i = 0; i < 2; i++) {
		vhost_user_get_stats(vhost_user_of(E.s[i].nc), &st[i]);
		EXPECT_EQ(st[i].disconnects, (uint64_t)cycles);
		EXPECT_EQ(st[i].connects, (uint64_t)cycles + 1);
		EXPECT_EQ(st[i].starts, (uint64_t)cycles + 1);
		EXPECT_EQ(st[i].violations, 0u);
	}
	env_down();
}

/* kavm listens (server=on), testpmd dials in (client=1), also after a crash. */
TEST_TIMEOUT(kavm_as_server_testpmd_reconnects, 180)
{
	struct vhost_user_stats st;
	struct tally t = { 0 };
	unsigned int i;

	ASSERT_EQ(env_up(true), 0);
	ASSERT_TRUE(wait_links(true, 5000));
	ASSERT_EQ(warm_up(&E.s[0], &E.s[1]), 0);
	ASSERT_EQ(warm_up(&E.s[1], &E.s[0]), 0);
	EXPECT_EQ(stream(&E.s[0], &E.s[1], 300, 9000), 0);
	EXPECT_EQ(stream(&E.s[1], &E.s[0], 300, 60), 0);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(restart_once(i, i % 2 ? SIGTERM : SIGKILL, &t), 0);
	ASSERT_EQ(warm_up(&E.s[0], &E.s[1]), 0);
	EXPECT_EQ(stream(&E.s[0], &E.s[1], 300, 1514), 0);
	vhost_user_get_stats(vhost_user_of(E.s[1].nc), &st);
	EXPECT_EQ(st.connects, 3u);
	EXPECT_EQ(st.disconnects, 2u);
	EXPECT_EQ(st.violations, 0u);
	env_down();
	/* kavm's listening sockets went with it. */
	EXPECT_NE(access(E.tp.sock[0], F_OK), 0);
}

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET through the control queue, as Linux's ethtool -L. */
static int set_pairs(struct side *s, unsigned int n)
{
	uint8_t le[2] = { n & 0xff, n >> 8 };

	return vdrv_net_ctrl(&s->d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le, 2);
}

/* Every pair both ways: each frame arrives byte-identical on the pair it was sent on. */
static int traffic_every_pair(unsigned int frames)
{
	unsigned int p;
	int ret = 0;

	for (p = 0; !ret && p < E.s[0].pairs; p++) {
		ret = warm_up_on(&E.s[0], &E.s[1], p) ?: warm_up_on(&E.s[1], &E.s[0], p);
		if (!ret)
			ret = stream_on(&E.s[0], &E.s[1], p, frames, 1500)	 ?:
				      stream_on(&E.s[1], &E.s[0], p, frames, 64) ?:
				      stream_on(&E.s[0], &E.s[1], p, frames / 8, 9000);
		if (ret)
			fprintf(stderr, "# pair %u: %s\n", p, strerror(-ret));
	}
	return ret;
}

/*
 * A frame put on pair 1 of a side that uses one pair only: the backend's
 * rings of pair 1 are disabled, so it stays in the ring until the pair is
 * enabled again, and then arrives.
 */
static void disabled_pair_holds_its_frame(void)
{
	uint32_t seq;

	ASSERT_EQ(set_pairs(&E.s[0], 1), VIRTIO_NET_OK);
	EXPECT_EQ(tx_on(&E.s[0], 1, &E.s[1], 200, E.s[0].next_seq), 0);
	EXPECT_EQ(rx_on(&E.s[1], 1, &E.s[0], &seq, 500), 0);
	ASSERT_EQ(set_pairs(&E.s[0], E.s[0].pairs), VIRTIO_NET_OK);
	EXPECT_EQ(rx_on(&E.s[1], 1, &E.s[0], &seq, 2000), 200);
	EXPECT_EQ(seq, E.s[0].next_seq);
	E.s[0].next_seq++;
}

static void multiqueue(unsigned int queues)
{
	struct vhost_user_stats st;
	unsigned int i, p;

	ASSERT_EQ(env_up_mq(false, queues), 0);
	ASSERT_TRUE(wait_links(true, 5000));
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(E.s[i].d.features & F(VIRTIO_NET_F_MQ));
		EXPECT_EQ(vhost_user_started_pairs(vhost_user_of(E.s[i].nc)), queues);
		ASSERT_EQ(set_pairs(&E.s[i], queues), VIRTIO_NET_OK);
	}
	EXPECT_EQ(traffic_every_pair(200), 0);
	disabled_pair_holds_its_frame();
	/* A reset takes every ring back (GET_VRING_BASE) and DRIVER_OK hands them all out. */
	ASSERT_EQ(vdrv_probe(&E.s[0].d, ~0ull, 256), 0);
	ASSERT_EQ(rx_fill_all(&E.s[0]), 0);
	ASSERT_EQ(set_pairs(&E.s[0], queues), VIRTIO_NET_OK);
	EXPECT_EQ(traffic_every_pair(100), 0);
	/* testpmd restarts: kavm gives the new one every started ring, pairs still enabled. */
	testpmd_stop(&E.tp, SIGKILL);
	ASSERT_TRUE(wait_links(false, 5000));
	ASSERT_EQ(testpmd_start(&E.tp), 0);
	ASSERT_TRUE(wait_links(true, 10000));
	EXPECT_EQ(traffic_every_pair(200), 0);
	for (i = 0; i < 2; i++) {
		vhost_user_get_stats(vhost_user_of(E.s[i].nc), &st);
		EXPECT_EQ(st.violations, 0u);
		EXPECT_EQ(st.connects, 2u);
		EXPECT_EQ(vhost_user_started_pairs(vhost_user_of(E.s[i].nc)), queues);
	}
	/* Each pair carried traffic, by testpmd's own per-queue counts and the guests'. */
	ASSERT_EQ(testpmd_finish(&E.tp), 0);
	for (p = 0; p < queues; p++) {
		fprintf(stderr,
			"# pair %u: testpmd took %lld frames from port 0, %lld from port 1; "
			"the guests received %llu and %llu\n",
			p, testpmd_stream_rx(&E.tp, 0, p), testpmd_stream_rx(&E.tp, 1, p),
			(unsigned long long)E.s[1].rx_frames[p],
			(unsigned long long)E.s[0].rx_frames[p]);
		for (i = 0; i < 2; i++) {
			EXPECT_GE(testpmd_stream_rx(&E.tp, i, p), 200);
			EXPECT_GE(E.s[i].rx_frames[p], 500u);
		}
	}
	env_down();
}

TEST_TIMEOUT(two_pairs_each_carry_frames_byte_identical, 180)
{
	multiqueue(2);
}

TEST_TIMEOUT(four_pairs_each_carry_frames_byte_identical, 180)
{
	multiqueue(4);
}
