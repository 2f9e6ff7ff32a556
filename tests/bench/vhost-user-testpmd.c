// SPDX-License-Identifier: GPL-2.0
/*
 * Guest to guest, in-process: frames/s from one kavm virtio-net NIC to
 * another for 64 and 1500 byte frames, through DPDK testpmd over vhost-user
 * (io forwarding between its two vhost ports), beside the same two NICs'
 * userspace tap path in the same run (NIC A -> tap A -> tc redirect -> tap B
 * -> NIC B, every frame through kavm's loop). The guest-side driver is the
 * same for both: it keeps up to a window of frames out, kicks as Linux does
 * (EVENT_IDX) and reaps B's RX ring. testpmd, which polls all the time, is
 * stopped (SIGSTOP) while the taps are measured. Then multiqueue: two more
 * NICs with queues=2 on a second testpmd (its vhost ports at queues=2),
 * first with one pair in use (VQ_PAIRS_SET 1), then with both, alternating
 * in the same run: the ratio is 2 pairs over 1 on the same rings and the
 * same testpmd. One driver thread feeds every pair in turn, as one vCPU
 * would. Root; runs in its own netns; needs dpdk-testpmd
 * (tests/install-deps.sh).
 *
 *   vhost-user-testpmd [frames]
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../lib/testpmd.h"
#include "../lib/virtio-driver.h"

#define RXQ 0
#define TXQ 1
#define WINDOW 128 /* frames out at once: a 256-entry TX ring of 2-descriptor chains */
#define ROUNDS 5
#define ETH_TYPE_TEST 0x88b5

struct nic {
	struct vdrv d;
	struct net_client *nc;
	struct virtio_net *vn;
	uint8_t mac[6];
};

/* [0], [1]: over vhost-user and testpmd; [2], [3]: over taps; [4], [5]: queues=2 on tp2. */
static struct nic N[6];
static struct loop *loop;
static struct testpmd tp, tp2;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int nic_open(struct nic *n, unsigned int i, const char *spec, bool eventfds)
{
	struct virtio_net_params p = { .mtu = 1500, .loop = loop };
	struct netdev_opts o;
	char err[160];

	if (vdrv_init(&n->d, loop))
		return -1;
	if (eventfds)
		vdrv_use_eventfds(&n->d);
	n->mac[0] = 0x52;
	n->mac[5] = 0x20 + i;
	if (netdev_parse(spec, &o, err, sizeof(err))) {
		fprintf(stderr, "vhost-user-testpmd: %s: %s\n", spec, err);
		return -1;
	}
	if (netdev_open(&o, loop, &n->nc))
		return -1;
	p.mem = &n->d.mem;
	p.backend = n->nc;
	p.name = o.id;
	memcpy(p.mac, n->mac, 6);
	if (virtio_net_init(&p, &n->vn))
		return -1;
	vdrv_attach(&n->d, virtio_net_vdev(n->vn));
	if (vdrv_probe(&n->d, ~0ull, 256))
		return -1;
	if (vdrv_net_rx_fill_on(&n->d, 0, 256))
		return -1;
	/* A queues=2 NIC: pair 1's RX ring full too, ready for VQ_PAIRS_SET 2. */
	return n->d.features & (1ull << VIRTIO_NET_F_MQ) ? vdrv_net_rx_fill_on(&n->d, 1, 256) : 0;
}

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET on both NICs: how many pairs they use from now on. */
static int set_pairs(struct nic *a, struct nic *b, unsigned int n)
{
	uint8_t le[2] = { n, 0 };

	return vdrv_net_ctrl(&a->d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le, 2) !=
		       VIRTIO_NET_OK ||
	       vdrv_net_ctrl(&b->d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le, 2) !=
		       VIRTIO_NET_OK;
}

static int post_frame(struct nic *a, const struct nic *b, unsigned int pair, size_t len)
{
	static uint8_t frame[1514];
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct vdrv_seg segs[2] = { { &hdr, sizeof(hdr), false }, { frame, len, false } };

	memcpy(frame, b->mac, 6);
	memcpy(frame + 6, a->mac, 6);
	frame[12] = ETH_TYPE_TEST >> 8;
	frame[13] = ETH_TYPE_TEST & 0xff;
	return vdrv_post(&a->d, 2 * pair + TXQ, segs, 2, false);
}

/* Reap what reached b on pair; how many of them were ours. */
static unsigned int reap(struct nic *b, unsigned int pair)
{
	static uint8_t buf[2048];
	struct virtio_net_hdr_v1 hdr;
	unsigned int k = 0, mine = 0;
	ssize_t r;

	while ((r = vdrv_net_rx_on(&b->d, pair, &hdr, buf, sizeof(buf))) != 0) {
		k++;
		mine += r >= 14 && buf[12] == (ETH_TYPE_TEST >> 8) &&
			buf[13] == (ETH_TYPE_TEST & 0xff);
	}
	if (k)
		vdrv_net_rx_fill_on(&b->d, pair, k);
	return mine;
}

/* One turn on one pair: reclaim, fill the window, kick, reap; frames that arrived. */
static unsigned int turn(struct nic *a, struct nic *b, unsigned int p, unsigned long quota,
			 size_t len, unsigned long *sent, unsigned long *got)
{
	unsigned int k;
	uint16_t head;
	uint32_t ulen;

	while (vdrv_used(&a->d, 2 * p + TXQ, &head, &ulen))
		;
	while (sent[p] < quota && sent[p] - got[p] < WINDOW && post_frame(a, b, p, len) >= 0)
		sent[p]++;
	vdrv_notify(&a->d, 2 * p + TXQ); /* runs kavm's loop: the tap path moves here */
	k = reap(b, p);
	got[p] += k;
	return k;
}

/*
 * n frames of len from a to b, spread over pairs [0, pairs) (a window on
 * each); frames/s that arrived (*lost: those that did not).
 */
static double run_pairs(struct nic *a, struct nic *b, unsigned int pairs, unsigned long n,
			size_t len, unsigned long *lost)
{
	unsigned long sent[2] = { 0 }, got[2] = { 0 }, all = 0, quota = n / pairs;
	double t = now(), last = t;
	unsigned int p, k;

	while (all < quota * pairs && now() - last < 1.0) {
		for (p = 0, k = 0; p < pairs; p++)
			k += turn(a, b, p, quota, len, sent, got);
		all += k;
		if (k)
			last = now();
		else
			vdrv_wait_used(&b->d, RXQ, 1);
	}
	*lost = quota * pairs - all;
	/* Up to the last frame that arrived: a stall at the end is loss, not time. */
	return all && last > t ? all / (last - t) : 0;
}

static double run(struct nic *a, struct nic *b, unsigned long n, size_t len, unsigned long *lost)
{
	return run_pairs(a, b, 1, n, len, lost);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_double);
	return v[ROUNDS / 2];
}

static int setup_taps(void)
{
	if (system("ip link set kbva up && ip link set kbvb up && "
		   "tc qdisc add dev kbva ingress && tc qdisc add dev kbvb ingress && "
		   "tc filter add dev kbva parent ffff: u32 match u32 0 0 action mirred egress redirect dev kbvb && "
		   "tc filter add dev kbvb parent ffff: u32 match u32 0 0 action mirred egress redirect dev kbva"))
		return -1;
	return 0;
}

static int setup(void)
{
	char spec[256];
	unsigned int i;

	if (unshare(CLONE_NEWNET) || system("ip link set lo up") ||
	    system("sysctl -qw net.ipv6.conf.default.disable_ipv6=1"))
		return -1;
	if (loop_create(&loop) || testpmd_init(&tp, false) || testpmd_start(&tp) ||
	    testpmd_init(&tp2, false))
		return -1;
	tp2.queues = 2;
	if (testpmd_start(&tp2))
		return -1;
	for (i = 0; i < 2; i++) {
		snprintf(spec, sizeof(spec), "vhost-user,id=vu%u,socket=%s", i, tp.sock[i]);
		if (nic_open(&N[i], i, spec, true))
			return -1;
		snprintf(spec, sizeof(spec), "vhost-user,id=mq%u,socket=%s,queues=2", i,
			 tp2.sock[i]);
		if (nic_open(&N[4 + i], 4 + i, spec, true))
			return -1;
	}
	if (nic_open(&N[2], 2, "tap,id=ta,ifname=kbva,vnet_hdr=on", false) ||
	    nic_open(&N[3], 3, "tap,id=tb,ifname=kbvb,vnet_hdr=on", false) || setup_taps())
		return -1;
	vdrv_run(&N[2].d); /* the taps' "up" events */
	return 0;
}

/* testpmd forwards once both its ports are up: until a frame makes it each way. */
static int warm_up(struct nic *a, struct nic *b, unsigned int pairs)
{
	unsigned long lost;
	int i;

	for (i = 0; i < 50; i++)
		if (run_pairs(a, b, pairs, pairs, 64, &lost) > 0 && !lost &&
		    run_pairs(b, a, pairs, pairs, 64, &lost) > 0 && !lost)
			return 0;
	return -1;
}

/* One testpmd polls at a time: the other would take a core from the one measured. */
static void only(struct testpmd *on, struct testpmd *off)
{
	kill(off->pid, SIGSTOP);
	kill(on->pid, SIGCONT);
}

/* queues=2 NICs on tp2: 1 pair in use, then 2, alternating; the medians and their ratio. */
static int bench_pairs(unsigned long n, const size_t *sizes, unsigned long *lost)
{
	unsigned int i, r, pairs;

	only(&tp2, &tp);
	if (set_pairs(&N[4], &N[5], 2) || warm_up(&N[4], &N[5], 2))
		return -1;
	for (i = 0; i < 2; i++) {
		double f[2][ROUNDS];

		for (r = 0; r < ROUNDS; r++) {
			for (pairs = 1; pairs <= 2; pairs++) {
				unsigned long l;

				if (set_pairs(&N[4], &N[5], pairs))
					return -1;
				f[pairs - 1][r] = run_pairs(&N[4], &N[5], pairs, n, sizes[i], &l);
				*lost += l;
			}
		}
		printf("%-12s %6zu %16.0f %16.0f %8.2f\n", "1 vs 2 pairs", sizes[i], median(f[0]),
		       median(f[1]), median(f[1]) / median(f[0]));
	}
	only(&tp, &tp2);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000, lost_vu = 0, lost_tap = 0,
		      lost_mq = 0;
	const size_t sizes[] = { 64, 1500 };
	unsigned int i, r;
	int ret = 0;

	if (geteuid())
		return fprintf(stderr, "vhost-user-testpmd: needs root\n"), 4;
	if (!testpmd_available())
		return fprintf(stderr, "vhost-user-testpmd: needs dpdk-testpmd\n"), 4;
	if (setup() || (only(&tp, &tp2), warm_up(&N[0], &N[1], 1))) {
		testpmd_dump_log(&tp);
		testpmd_dump_log(&tp2);
		testpmd_exit(&tp);
		testpmd_exit(&tp2);
		return perror("vhost-user-testpmd: setup"), 1;
	}
	printf("%-12s %6s %16s %16s %8s   (guest A -> guest B; median of %d alternating rounds of %lu frames)\n",
	       "A -> B", "bytes", "tap frames/s", "vhost-user f/s", "ratio", ROUNDS, n);
	for (i = 0; i < 2; i++) {
		double vu[ROUNDS], tap[ROUNDS];

		for (r = 0; r < ROUNDS; r++) {
			unsigned long l;

			vu[r] = run(&N[0], &N[1], n, sizes[i], &l);
			lost_vu += l;
			/* testpmd polls without pause: it would take a core from the tap path. */
			kill(tp.pid, SIGSTOP);
			tap[r] = run(&N[2], &N[3], n, sizes[i], &l);
			lost_tap += l;
			kill(tp.pid, SIGCONT);
		}
		printf("%-12s %6zu %16.0f %16.0f %8.2f\n", "A -> B", sizes[i], median(tap),
		       median(vu), median(vu) / median(tap));
	}
	printf("frames lost: vhost-user %lu, tap %lu (of %lu each)\n", lost_vu, lost_tap,
	       n * ROUNDS * 2);
	printf("%-12s %6s %16s %16s %8s   (queues=2 NICs, testpmd at queues=2; 1 pair in use, "
	       "then 2, alternating)\n",
	       "A -> B", "bytes", "1 pair f/s", "2 pairs f/s", "2 / 1");
	if (bench_pairs(n, sizes, &lost_mq)) {
		fprintf(stderr, "vhost-user-testpmd: the queues=2 NICs did not forward\n");
		testpmd_dump_log(&tp2);
		ret = 1;
	}
	printf("frames lost on the queues=2 NICs: %lu (of %lu)\n", lost_mq, n * ROUNDS * 2 * 2);
	for (i = 0; i < 6; i++) {
		virtio_net_exit(N[i].vn);
		netdev_close(N[i].nc);
		vdrv_exit(&N[i].d);
	}
	testpmd_exit(&tp);
	kill(tp2.pid, SIGCONT);
	testpmd_exit(&tp2);
	loop_destroy(loop);
	return ret;
}
