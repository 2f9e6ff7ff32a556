// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net over tap, in-process: frames/s guest->tap and tap->guest for 64
 * and 1500 byte frames through the real device model, beside a raw
 * write()/read() loop on the same tap fd in the same run (the ceiling for a
 * userspace backend). Root; runs in its own netns.
 *
 *   virtio-net-tap [frames]          all four figures
 *   virtio-net-tap [frames] tx|rx S  one direction and size (for callgrind)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../lib/virtio-driver.h"

#define IFNAME "kbench0"
#define RX_BATCH 256 /* frames injected per round: below the tap's 500-frame queue */

static struct loop *loop;
static struct vdrv D;
static struct virtio_net *vn;
static int tapfd, pkt;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void frame_fill(uint8_t *f, size_t len, uint8_t last)
{
	memset(f, 0, len);
	memcpy(f, "\x52\x54\x00\x12\x34\x56\x02\x00\x00\x00\x00\x01\x88\xb5", 14);
	f[len - 1] = last;
}

/* Ceiling, guest->tap: write() of [vnet hdr | frame] straight into the tap. */
static double raw_tx(unsigned long n, size_t len)
{
	static uint8_t buf[12 + 1514];
	unsigned long i;
	double t;

	frame_fill(buf + 12, len, 0);
	memset(buf, 0, 12);
	t = now();
	for (i = 0; i < n; i++)
		if (write(tapfd, buf, 12 + len) < 0)
			return -1;
	return n / (now() - t);
}

/* Every TX slot of the driver holds [zero vnet hdr | frame]; chains are one descriptor. */
static __attribute__((noinline)) double bench_kavm_tx(unsigned long n, size_t len)
{
	struct vdrv_seg seg = { NULL, 12 + len, false };
	unsigned long sent = 0, done = 0;
	unsigned int i;
	uint16_t head;
	uint32_t ulen;
	double t;

	for (i = 0; i < 256; i++) {
		memset(vdrv_ptr(&D, vdrv_buf_gpa(&D, 1, i), 12), 0, 12);
		frame_fill(vdrv_ptr(&D, vdrv_buf_gpa(&D, 1, i) + 12, len), len, 0);
	}
	t = now();
	while (done < n) {
		while (sent < n && vdrv_post(&D, 1, &seg, 1, false) >= 0)
			sent++;
		vdrv_kick(&D, 1);
		while (vdrv_used(&D, 1, &head, &ulen))
			done++;
	}
	return n / (now() - t);
}

static int inject(unsigned int n, size_t len)
{
	static uint8_t f[1514];
	struct mmsghdr m[RX_BATCH];
	struct iovec iov = { f, len };
	unsigned int i;

	frame_fill(f, len, 1);
	memset(m, 0, sizeof(m));
	for (i = 0; i < n; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	return sendmmsg(pkt, m, n, 0) == (int)n ? 0 : -1;
}

/* Ceiling, tap->guest: read() until the injected batch is in. Only the reading is timed. */
static double raw_rx(unsigned long n, size_t len)
{
	static uint8_t buf[70000];
	unsigned long got = 0;
	double busy = 0, t;

	while (got < n) {
		unsigned int batch = 0;

		if (inject(RX_BATCH, len))
			return -1;
		t = now();
		while (batch < RX_BATCH)
			if (read(tapfd, buf, sizeof(buf)) > 0)
				batch++;
		busy += now() - t;
		got += batch;
	}
	return got / busy;
}

static __attribute__((noinline)) double bench_kavm_rx(unsigned long n, size_t len)
{
	static uint8_t buf[70000];
	struct virtio_net_hdr_v1 hdr;
	unsigned long got = 0;
	double busy = 0, t;

	vdrv_net_rx_fill(&D, 255);
	while (got < n) {
		unsigned int batch = 0;

		if (inject(RX_BATCH, len))
			return -1;
		t = now();
		while (batch < RX_BATCH) {
			unsigned int k = 0;

			loop_run_once(loop, 0);
			while (vdrv_net_rx(&D, &hdr, buf, sizeof(buf)) > 0)
				k++;
			if (k)
				vdrv_net_rx_fill(&D, k);
			batch += k;
		}
		busy += now() - t;
		got += batch;
	}
	return got / busy;
}

static int setup(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet0" };
	struct net_client *tap;
	struct netdev_opts o;
	char spec[64], err[128];
	int len = 12;

	if (unshare(CLONE_NEWNET) || system("sysctl -qw net.ipv6.conf.default.disable_ipv6=1"))
		return -1;
	tapfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	strcpy(ifr.ifr_name, IFNAME);
	if (tapfd < 0 || ioctl(tapfd, TUNSETIFF, &ifr) || ioctl(tapfd, TUNSETVNETHDRSZ, &len))
		return -1;
	if (system("ip link set " IFNAME " up") || loop_create(&loop) || vdrv_init(&D, loop))
		return -1;
	snprintf(spec, sizeof(spec), "tap,id=b0,fd=%d", tapfd);
	if (netdev_parse(spec, &o, err, sizeof(err)) || netdev_open(&o, loop, &tap))
		return -1;
	p.mem = &D.mem;
	p.loop = loop;
	p.backend = tap;
	memcpy(p.mac, "\x52\x54\x00\x12\x34\x56", 6);
	if (virtio_net_init(&p, &vn))
		return -1;
	vdrv_attach(&D, virtio_net_vdev(vn));
	if (vdrv_probe(&D, ~0ull, 256))
		return -1;
	pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sll.sll_ifindex = if_nametoindex(IFNAME);
	return pkt < 0 || bind(pkt, (struct sockaddr *)&sll, sizeof(sll)) ? -1 : 0;
}

/*
 * The raw loops read and write the same fd kavm polls. kavm's tap handler is
 * only in the loop while it runs, so the raw reads must not race with it:
 * the raw figures are taken while the loop is not turning.
 */
#define ROUNDS 7

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

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 51200;
	const size_t sizes[] = { 64, 1500 };
	unsigned int i;

	if (geteuid())
		return fprintf(stderr, "virtio-net-tap: needs root\n"), 4;
	if (setup())
		return perror("virtio-net-tap: setup"), 1;
	if (argc > 3) {
		size_t s = strtoul(argv[3], NULL, 0);
		double r = !strcmp(argv[2], "tx") ? bench_kavm_tx(n, s) : bench_kavm_rx(n, s);

		printf("%s %zu B: %.0f frames/s\n", argv[2], s, r);
		return 0;
	}
	printf("%-12s %6s %14s %14s %8s   (median of %d alternating rounds of %lu frames)\n",
	       "direction", "bytes", "raw frames/s", "kavm frames/s", "ratio", ROUNDS, n);
	for (i = 0; i < 4; i++) {
		bool tx = i < 2;
		size_t s = sizes[i % 2];
		double raw[ROUNDS], kv[ROUNDS];
		unsigned int r;

		for (r = 0; r < ROUNDS; r++) {
			raw[r] = tx ? raw_tx(n, s) : raw_rx(n, s);
			kv[r] = tx ? bench_kavm_tx(n, s) : bench_kavm_rx(n, s);
		}
		printf("%-12s %6zu %14.0f %14.0f %8.2f\n", tx ? "guest->tap" : "tap->guest", s,
		       median(raw), median(kv), median(kv) / median(raw));
	}
	return 0;
}
