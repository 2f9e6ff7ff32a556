// SPDX-License-Identifier: GPL-2.0
/*
 * Fault suite for the userspace net path, after the ones Firecracker and
 * Cloud Hypervisor run: sequenced, checksummed frames through a real tap (a
 * netns per test) while the host breaks things. The threads are kavm's: an
 * I/O thread turns the loop (device, tap, kicks by eventfd), a vCPU thread
 * plays the guest through the in-process driver (interrupts counted, NAPI
 * style), and the test's own thread is the host: packet sockets on the tap
 * and the faults (link down/up, deletion, backpressure, resets, teardown).
 *
 * Every case asserts: no frame corrupted or out of order; every frame sent
 * was received or is in a drop counter, exactly (kavm's net_stats and
 * virtio-net's counters, the kernel's for the tap's own queue and the host
 * socket); every guest chain came back; no hang (the harness timeout and a
 * loop-turn budget); no leak (fds, and LeakSanitizer in build/san). The time
 * to recover is printed as a TAP comment, not asserted.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <kavm/compiler.h>
#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/rtnl.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>
#include <kavm/virtqueue.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define FT_LSAN 1
#endif

#define IFNAME "kflt0"
#define RXQ 0
#define TXQ 1
#define QSIZE 256
#define CFG_STATUS 6 /* offset of status in virtio-net's config */
#define MS 1000000ull
/* Loop turns a case may take: a few per frame batch; a spinning loop spends it in a second. */
#define LOOP_TURNS 400000

/* ---- frames: Ethernet, then magic, sequence, length, direction; CRC32 last */

#define FT_ETHERTYPE 0x88b5
#define FT_MAGIC 0x4b464c54u /* "KFLT" */
#define FT_MIN 60
#define FT_MAX 1514
#define FT_HDR_OFF 14

enum ft_dir { G2H = 1, H2G = 2 };

struct ft_hdr {
	uint32_t magic;
	uint32_t seq;
	uint16_t len;
	uint8_t dir;
	uint8_t pad;
} __attribute__((packed));

/* What a receiver made of one direction. */
struct ft_stream {
	uint32_t next; /* lowest sequence number still in order */
	uint64_t ok, corrupt, reordered;
	uint8_t bad[32]; /* the first corrupted frame's start, for the report */
	size_t bad_len;
};

static uint64_t ft_total(const struct ft_stream *s)
{
	return s->ok + s->corrupt + s->reordered;
}

static void ft_corrupt(struct ft_stream *s, const uint8_t *f, size_t n)
{
	if (!s->corrupt++) {
		s->bad_len = n;
		memcpy(s->bad, f, min(n, sizeof(s->bad)));
	}
}

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* Sizes cycle through 60..1514: every case sees small and full frames. */
static size_t ft_len(uint32_t seq)
{
	return FT_MIN + (seq * 7919u) % (FT_MAX - FT_MIN + 1);
}

static uint32_t ft_crc(const uint8_t *f, size_t len)
{
	return crc32(0, f, len - 4);
}

static size_t ft_make(uint8_t *f, uint32_t seq, enum ft_dir dir)
{
	struct ft_hdr h = { FT_MAGIC, seq, ft_len(seq), dir, 0 };
	uint32_t x = seq * 2654435761u + dir, crc;
	size_t i;

	memcpy(f, dir == G2H ? host_mac : guest_mac, 6);
	memcpy(f + 6, dir == G2H ? guest_mac : host_mac, 6);
	f[12] = FT_ETHERTYPE >> 8;
	f[13] = FT_ETHERTYPE & 0xff;
	memcpy(f + FT_HDR_OFF, &h, sizeof(h));
	for (i = FT_HDR_OFF + sizeof(h); i < h.len - 4u; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		f[i] = x;
	}
	crc = ft_crc(f, h.len);
	memcpy(f + h.len - 4, &crc, 4);
	return h.len;
}

/* Count one received frame; true when it is intact and in order. */
static bool ft_check(struct ft_stream *s, const uint8_t *f, size_t n, enum ft_dir dir)
{
	struct ft_hdr h;
	uint32_t crc;

	/* Only this suite talks on the tap: anything else is a frame damaged on the way. */
	if (n < FT_MIN || n > FT_MAX || f[12] != FT_ETHERTYPE >> 8 ||
	    f[13] != (FT_ETHERTYPE & 0xff)) {
		ft_corrupt(s, f, n);
		return false;
	}
	memcpy(&h, f + FT_HDR_OFF, sizeof(h));
	memcpy(&crc, f + n - 4, 4);
	if (h.magic != FT_MAGIC || h.len != n || h.dir != dir || n != ft_len(h.seq) ||
	    crc != ft_crc(f, n)) {
		ft_corrupt(s, f, n);
		return false;
	}
	if (h.seq < s->next) {
		s->reordered++;
		return false;
	}
	s->next = h.seq + 1;
	s->ok++;
	return true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- the guest: a vCPU thread driving virtio-net through the in-process driver */

struct guest {
	struct vdrv d;
	pthread_t thread;
	bool started;
	int kick[2]; /* RX and TX notify: eventfds the loop reads, as ioeventfds */
	/* Set by the host thread. */
	atomic_bool stop, tx_on, rx_on;
	atomic_uint tx_rate;   /* frames per second; 0: as fast as the ring takes them */
	atomic_uint reset_req; /* resets asked so far */
	/* Set by the guest thread for the host thread. */
	atomic_uint reset_done;
	atomic_bool tx_stopped; /* saw tx_on false: posts nothing more */
	_Atomic uint64_t tx_posted, tx_reaped, tx_abandoned; /* chains; abandoned at a reset */
	_Atomic uint64_t rx_ok, rx_discarded; /* frames; discarded: used, not read, at a reset */
	_Atomic uint64_t rx_last_ns, reset_ns;
	_Atomic uint32_t reset_seq; /* first TX sequence number after the last reset */
	atomic_uint link;	    /* status read at the last config interrupt */
	_Atomic uint64_t link_ns;
	atomic_int err;
	/* Guest thread only (the host reads them after the join). */
	uint32_t tx_seq;
	uint64_t rate_t0, rate_base;
	unsigned int seen_rx_irq, seen_cfg, resets;
	struct ft_stream rx;
	uint8_t frame[FT_MAX];
	uint8_t rxbuf[65536];
};

static void guest_kick(struct guest *g, unsigned int q)
{
	uint64_t one = 1;

	if (vdrv_kick_prepare(&g->d, q) && write(g->kick[q], &one, sizeof(one)) != sizeof(one))
		g->err = -errno;
}

/* Frames the rate allows now, at most a burst: a sender held up does not save up. */
static unsigned int guest_tx_due(struct guest *g, uint64_t now)
{
	unsigned int rate = g->tx_rate;
	uint64_t allowed;

	if (!rate)
		return 64;
	allowed = g->rate_base + (now - g->rate_t0) * rate / 1000000000ull;
	if (allowed > g->tx_posted + 64) {
		g->rate_t0 = now;
		g->rate_base = allowed = g->tx_posted + 64;
	}
	return allowed > g->tx_posted ? allowed - g->tx_posted : 0;
}

static bool guest_tx_step(struct guest *g)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	uint64_t now = now_ns();
	unsigned int n = 0, due;
	bool busy = false;
	uint16_t head;
	uint32_t len;

	while (vdrv_used(&g->d, TXQ, &head, &len)) {
		g->tx_reaped++;
		busy = true;
	}
	if (!g->tx_on) {
		g->rate_t0 = now;
		g->rate_base = g->tx_posted;
		g->tx_stopped = true;
		return busy;
	}
	g->tx_stopped = false;
	for (due = guest_tx_due(g, now); n < due && g->d.q[TXQ].nfree >= 2; n++) {
		size_t flen = ft_make(g->frame, g->tx_seq, G2H);

		/* Direct and indirect chains in turn. */
		if (vdrv_net_tx(&g->d, &hdr, g->frame, flen, g->tx_seq & 1) < 0) {
			g->err = -ENOSPC;
			break;
		}
		g->tx_seq++;
		g->tx_posted++;
	}
	if (n)
		guest_kick(g, TXQ);
	return busy || n;
}

static bool guest_rx_reap(struct guest *g)
{
	struct virtio_net_hdr_v1 hdr;
	bool busy = false;
	ssize_t n;

	while ((n = vdrv_net_rx(&g->d, &hdr, g->rxbuf, sizeof(g->rxbuf))) != 0) {
		busy = true;
		if (n < 0) {
			g->rx.corrupt++;
			continue;
		}
		if (ft_check(&g->rx, g->rxbuf, n, H2G)) {
			g->rx_ok++;
			g->rx_last_ns = now_ns();
		}
	}
	return busy;
}

static bool guest_rx_step(struct guest *g)
{
	struct vdrv_seg seg = { NULL, VDRV_BUF_SIZE, true };
	unsigned int irq = __atomic_load_n(&g->d.irq[RXQ], __ATOMIC_ACQUIRE), n = 0;
	bool busy = false;

	/* NAPI: look after an interrupt, until re-arming finds the ring empty. */
	if (irq != g->seen_rx_irq) {
		g->seen_rx_irq = irq;
		do
			busy |= guest_rx_reap(g);
		while (!vdrv_enable_cb(&g->d, RXQ));
	}
	if (!g->rx_on)
		return busy;
	for (; g->d.q[RXQ].nfree && n < 64; n++)
		if (vdrv_post(&g->d, RXQ, &seg, 1, false) < 0)
			break;
	if (n)
		guest_kick(g, RXQ);
	return busy || n;
}

static void guest_link_read(struct guest *g)
{
	uint16_t status;

	vdrv_config_read(&g->d, CFG_STATUS, &status, sizeof(status));
	if (status != g->link) {
		g->link = status;
		g->link_ns = now_ns();
	}
}

static bool guest_link_step(struct guest *g)
{
	unsigned int c = __atomic_load_n(&g->d.config_irq, __ATOMIC_ACQUIRE);

	if (c == g->seen_cfg)
		return false;
	g->seen_cfg = c;
	guest_link_read(g);
	return true;
}

/*
 * A device reset, as Linux's virtnet_freeze/restore or remove/probe does it:
 * status 0, and once that is done the guest owns every buffer again. Used RX
 * entries it had not read go with the ring. The memory of TX frames still
 * out is reused at once, poisoned here in the order the device takes them
 * (the one it may be sending first): a device that reads a buffer after its
 * reset puts poison on the wire.
 */
static void guest_reset(struct guest *g)
{
	struct vdrv_queue *tx = &g->d.q[TXQ];
	struct vring_used *rx_used = g->d.q[RXQ].used;
	uint16_t rx_last = g->d.q[RXQ].last_used, i, n = 0;
	uint64_t out[QSIZE];
	unsigned int k;

	for (i = READ_ONCE(tx->used->idx); i != tx->avail_idx && n < QSIZE; i++) {
		uint16_t head = tx->avail->ring[i & (tx->size - 1)];

		/* The frame's data segment (after the header's) first. */
		for (k = tx->chain_len[head]; k-- > 0 && n < QSIZE;)
			out[n++] = vdrv_buf_gpa(&g->d, TXQ, tx->chain[head][k]);
	}
	vdrv_reset(&g->d);
	for (i = 0; i < n; i++)
		memset(vdrv_ptr(&g->d, out[i], VDRV_BUF_SIZE), 0xa5, VDRV_BUF_SIZE);
	g->rx_discarded += (uint16_t)(READ_ONCE(rx_used->idx) - rx_last);
	g->tx_abandoned += g->tx_posted - g->tx_reaped - g->tx_abandoned;
	if (vdrv_probe_nowait(&g->d, ~0ull, QSIZE))
		g->err = -EIO;
	g->reset_seq = g->tx_seq;
	g->reset_ns = now_ns();
	guest_link_read(g);
	g->reset_done++;
}

static void *guest_main(void *arg)
{
	struct timespec nap = { 0, 100000 };
	struct guest *g = arg;

	g->rate_t0 = now_ns();
	while (!g->stop) {
		bool busy;

		if (g->reset_req != g->resets) {
			g->resets++;
			guest_reset(g);
			continue;
		}
		busy = guest_link_step(g);
		busy |= guest_tx_step(g);
		busy |= guest_rx_step(g);
		if (!busy)
			nanosleep(&nap, NULL);
	}
	return NULL;
}

/* ---- the rig: a tap kavm has by fd=, virtio-net on it, the threads, the host side */

struct rig_opts {
	int sndbuf;	/* TUNSETSNDBUF on the tap fd; 0: the default */
	int txqueuelen; /* the tap's kernel queue; 0: the default (1000) */
	int rcvbuf;	/* the host reader's socket; 0: 8 MiB */
	bool slow;	/* the tap's frames drain through a tbf: writes meet EAGAIN */
};

static struct rig {
	struct loop *loop;
	struct guest g;
	struct net_client *tap;
	struct virtio_net *vn;
	struct kavm_rtnl *rtnl;
	int fds_before;
	/* I/O thread */
	pthread_t io;
	bool io_started;
	atomic_bool io_stop, over_budget;
	_Atomic unsigned long turns, busy_turns;
	unsigned long turn_budget;
	/* host side (the test's thread) */
	int rxsock, txsock;
	bool reading, sending;
	unsigned int rate; /* host frames per second */
	uint64_t rate_t0, rate_base;
	uint32_t sent; /* frames the host sent: the next sequence number */
	uint64_t send_fail, pkt_drops, last_rx_ns;
	struct ft_stream rx;
} R;

static int sh(const char *cmd)
{
	return system(cmd) ? -1 : 0;
}

static int fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

static int tap_fd_create(int sndbuf)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, IFNAME);
	if (ioctl(fd, TUNSETIFF, &ifr) || (sndbuf && ioctl(fd, TUNSETSNDBUF, &sndbuf))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * The host's reader: every frame the tap's stack receives (what kavm wrote),
 * none the host sent itself. Not bound to the tap: a bound packet socket is unhooked
 * while the tap is down and hooked again only after the "up" event that
 * lets kavm write, so frames written in between would reach no socket.
 */
static int host_reader_open(int rcvbuf)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { ARRAY_SIZE(code), code };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	code[1].k = if_nametoindex(IFNAME);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* The host's sender: protocol 0, so it receives nothing. */
static int host_sender_open(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	sll.sll_ifindex = if_nametoindex(IFNAME);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* A loop handler per queue: the kick eventfd, as an ioeventfd is read. */
static void kick_fn(int fd, uint32_t events, void *opaque)
{
	struct virtio_dev *vdev = virtio_net_vdev(R.vn);
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n))
		vdev->ops->queue_notify(vdev, (uintptr_t)opaque);
}

static void *io_main(void *arg)
{
	while (!R.io_stop) {
		int n = loop_run_once(R.loop, 2);

		R.turns++;
		R.busy_turns += n > 0;
		if (R.turns > R.turn_budget) {
			R.over_budget = true;
			break;
		}
	}
	return NULL;
}

static int io_start(void)
{
	R.io_stop = false;
	if (pthread_create(&R.io, NULL, io_main, NULL))
		return -EAGAIN;
	R.io_started = true;
	return 0;
}

static void io_stop(void)
{
	if (!R.io_started)
		return;
	R.io_stop = true;
	pthread_join(R.io, NULL);
	R.io_started = false;
}

/*
 * A slow path behind the tap: its frames are redirected into a veth whose
 * tbf drains at 20 Mbit/s. The skbs waiting there stay charged to the tap's
 * send buffer, so kavm's writes meet EAGAIN. The host reader on the tap
 * sees every frame as it is written (packet taps come before tc ingress).
 */
static int rig_slow_path(void)
{
	return sh("ip link add kv0 type veth peer name kv1 && ip link set kv0 up && "
		  "ip link set kv1 up && "
		  "tc qdisc add dev kv0 root tbf rate 20mbit burst 4kb limit 1mb && "
		  "tc qdisc add dev " IFNAME " ingress && "
		  "tc filter add dev " IFNAME " ingress u32 match u32 0 0 "
		  "action mirred egress redirect dev kv0");
}

static int rig_nic(int tapfd)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet0" };
	struct netdev_opts o;
	char spec[64], err[128];
	int ret;

	snprintf(spec, sizeof(spec), "tap,id=n0,fd=%d", tapfd);
	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (!ret)
		ret = netdev_open(&o, R.loop, &R.tap);
	if (ret) {
		close(tapfd);
		return ret;
	}
	p.mem = &R.g.d.mem;
	p.loop = R.loop;
	p.backend = R.tap;
	memcpy(p.mac, guest_mac, 6);
	ret = virtio_net_init(&p, &R.vn);
	if (ret)
		return ret;
	vdrv_attach(&R.g.d, virtio_net_vdev(R.vn));
	return 0;
}

static int rig_kicks(void)
{
	uintptr_t q;

	for (q = 0; q < 2; q++) {
		R.g.kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (R.g.kick[q] < 0 ||
		    loop_add_fd(R.loop, R.g.kick[q], EPOLLIN, kick_fn, (void *)q))
			return -EIO;
	}
	return 0;
}

static int rig_host(const struct rig_opts *o)
{
	R.rxsock = host_reader_open(o->rcvbuf ?: 8 << 20);
	if (R.rxsock < 0)
		return R.rxsock;
	R.txsock = host_sender_open();
	if (R.txsock < 0)
		return R.txsock;
	R.reading = true;
	return kavm_rtnl_open(&R.rtnl);
}

static int rig_setup(const struct rig_opts *o)
{
	char cmd[128];
	int fd, ret;

	kt_unshare_netns();
	sh("sysctl -qw net.ipv6.conf.default.disable_ipv6=1");
	R.rxsock = R.txsock = R.g.kick[0] = R.g.kick[1] = -1;
	R.fds_before = fds_open();
	R.turn_budget = LOOP_TURNS;
	fd = tap_fd_create(o->sndbuf);
	if (fd < 0)
		return fd;
	if (loop_create(&R.loop) || vdrv_init(&R.g.d, R.loop))
		return -ENOMEM;
	ret = rig_nic(fd);
	if (ret)
		return ret;
	snprintf(cmd, sizeof(cmd), "ip link set " IFNAME " up txqueuelen %d",
		 o->txqueuelen ?: 1000);
	if (sh(cmd) || (o->slow && rig_slow_path()) || rig_kicks() || rig_host(o))
		return -EIO;
	vdrv_run(&R.g.d); /* the tap's netlink "up" */
	ret = vdrv_probe(&R.g.d, ~0ull, QSIZE);
	if (ret)
		return ret;
	guest_link_read(&R.g);
	R.g.seen_cfg = R.g.d.config_irq;
	ret = io_start();
	if (ret)
		return ret;
	if (pthread_create(&R.g.thread, NULL, guest_main, &R.g))
		return -EAGAIN;
	R.g.started = true;
	return 0;
}

/* What SIGTERM does first: the vCPUs and the loop stop. */
static void rig_stop(void)
{
	if (R.g.started) {
		R.g.stop = true;
		pthread_join(R.g.thread, NULL);
		R.g.started = false;
	}
	io_stop();
}

/* Then kavm's exits: the transport (kicks), the NIC, the backend, the loop. */
static void rig_exit_nic(void)
{
	unsigned int q;

	for (q = 0; q < 2; q++) {
		if (R.g.kick[q] < 0)
			continue;
		loop_del_fd(R.loop, R.g.kick[q]);
		close(R.g.kick[q]);
		R.g.kick[q] = -1;
	}
	virtio_net_exit(R.vn);
	R.vn = NULL;
}

static void rig_teardown(void)
{
	rig_stop();
	if (R.loop)
		rig_exit_nic();
	netdev_close(R.tap);
	R.tap = NULL;
	loop_destroy(R.loop);
	R.loop = NULL;
	vdrv_exit(&R.g.d);
	kavm_rtnl_close(R.rtnl);
	R.rtnl = NULL;
	if (R.rxsock >= 0)
		close(R.rxsock);
	if (R.txsock >= 0)
		close(R.txsock);
	R.rxsock = R.txsock = -1;
}

/* After the teardown: every fd closed, and (ASan build) no allocation left unreachable. */
static void expect_no_leak(void)
{
	EXPECT_EQ(fds_open(), R.fds_before);
#ifdef FT_LSAN
	EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0);
#endif
}

/* ---- the host side, on the test's thread */

static void host_read(void)
{
	static uint8_t bufs[32][2048];
	struct mmsghdr msgs[32];
	struct iovec iov[32];
	struct tpacket_stats st;
	socklen_t sl = sizeof(st);
	int n, i;

	for (i = 0; i < 32; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while ((n = recvmmsg(R.rxsock, msgs, 32, MSG_DONTWAIT | MSG_TRUNC, NULL)) > 0) {
		for (i = 0; i < n; i++) {
			if (msgs[i].msg_len > sizeof(bufs[i]))
				ft_corrupt(&R.rx, bufs[i], sizeof(bufs[i]));
			else if (ft_check(&R.rx, bufs[i], msgs[i].msg_len, G2H))
				R.last_rx_ns = now_ns();
		}
	}
	/* Reading resets the kernel's counts: keep the sum. */
	if (!getsockopt(R.rxsock, SOL_PACKET, PACKET_STATISTICS, &st, &sl))
		R.pkt_drops += st.tp_drops;
}

static void host_send(uint64_t now)
{
	uint64_t allowed = R.rate_base + (now - R.rate_t0) * R.rate / 1000000000ull;
	uint8_t buf[FT_MAX];
	unsigned int n;

	for (n = 0; R.sent < allowed && n < 64; n++) {
		size_t len = ft_make(buf, R.sent, H2G);

		/* Not sent (down, gone, EAGAIN): the same number goes next time. */
		if (send(R.txsock, buf, len, MSG_DONTWAIT) != (ssize_t)len) {
			R.send_fail++;
			R.rate_t0 = now;
			R.rate_base = R.sent;
			return;
		}
		R.sent++;
	}
}

static void host_sending(bool on, unsigned int rate)
{
	R.sending = on;
	R.rate = rate;
	R.rate_t0 = now_ns();
	R.rate_base = R.sent;
}

static void host_step(void)
{
	struct pollfd p = { R.rxsock, POLLIN, 0 };

	if (R.sending)
		host_send(now_ns());
	if (R.reading) {
		poll(&p, 1, 1);
		host_read();
	} else {
		usleep(500);
	}
}

static void host_pump(unsigned int ms)
{
	uint64_t end = now_ns() + ms * MS;

	do
		host_step();
	while (now_ns() < end && !R.over_budget);
}

/* Pump until cond(arg) holds; the ms it took, or -1 after max_ms. */
static int host_pump_until(bool (*cond)(uint64_t), uint64_t arg, unsigned int max_ms)
{
	uint64_t t0 = now_ns(), end = t0 + max_ms * MS;

	while (!cond(arg)) {
		if (now_ns() > end || R.over_budget)
			return -1;
		host_step();
	}
	return (now_ns() - t0 + MS / 2) / MS;
}

static bool host_got_frame_since(uint64_t t)
{
	return R.last_rx_ns > t;
}

static bool host_got_seq(uint64_t seq)
{
	return R.rx.next > seq;
}

static bool guest_got_frame_since(uint64_t t)
{
	return R.g.rx_last_ns > t;
}

static bool guest_link_is(uint64_t status)
{
	return R.g.link == status;
}

static bool guest_reset_done(uint64_t n)
{
	return R.g.reset_done >= n;
}

static bool guest_tx_reaped(uint64_t n)
{
	return R.g.tx_reaped >= n;
}

static bool guest_tx_backlog_below(uint64_t n)
{
	return R.g.tx_posted - R.g.tx_reaped - R.g.tx_abandoned < n;
}

static bool guest_tx_drained(uint64_t unused)
{
	return R.g.tx_stopped && R.g.tx_posted == R.g.tx_reaped + R.g.tx_abandoned;
}

/* Nothing new reached the guest for 100 ms. */
static bool guest_rx_quiet(uint64_t unused)
{
	return now_ns() - R.g.rx_last_ns > 100 * MS;
}

static bool host_rx_quiet(uint64_t unused)
{
	return now_ns() - R.last_rx_ns > 100 * MS;
}

/* Recovery times: the worst and the median of a case's faults. */
struct rec {
	int ms[512];
	unsigned int n;
};

static void rec_add(struct rec *r, int ms)
{
	if (r->n < ARRAY_SIZE(r->ms))
		r->ms[r->n++] = ms;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void rec_print(struct rec *r, const char *what)
{
	qsort(r->ms, r->n, sizeof(r->ms[0]), int_cmp);
	if (r->n)
		printf("# %s: recovered in %d ms (worst of %u; median %d ms)\n", what,
		       r->ms[r->n - 1], r->n, r->ms[r->n / 2]);
}

/* ---- counters, taken with the threads stopped */

struct snap {
	struct virtio_net_stats vn;
	struct net_stats nic, tap;
	unsigned int nicq, tapq;  /* frames waiting in the NIC's and the tap's queue */
	struct kavm_link_stats k; /* the tap's kernel counters */
	bool k_valid;
	uint64_t qdisc_drops;
};

/* Drops of the tap's root qdisc (host -> tap), from tc. */
static uint64_t qdisc_drops(void)
{
	FILE *f = popen("tc -s qdisc show dev " IFNAME " 2>/dev/null", "r");
	uint64_t sum = 0, n;
	bool root = false;
	char line[256];
	const char *p;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "qdisc ", 6))
			root = strstr(line, " root ") && !strstr(line, "ingress");
		p = strstr(line, "(dropped ");
		if (root && p && sscanf(p, "(dropped %" SCNu64, &n) == 1)
			sum += n;
	}
	pclose(f);
	return sum;
}

static void snap_kernel(struct snap *s)
{
	struct kavm_link_info li;

	s->k_valid = !kavm_rtnl_link_get(R.rtnl, IFNAME, &li) && li.has_stats;
	if (s->k_valid)
		s->k = li.stats;
	s->qdisc_drops = s->k_valid ? qdisc_drops() : 0;
}

static void snap_take(struct snap *s)
{
	virtio_net_get_stats(R.vn, &s->vn);
	s->nic = R.tap->peer->stats;
	s->tap = R.tap->stats;
	s->nicq = net_queue_len(R.tap->peer->incoming);
	s->tapq = net_queue_len(R.tap->incoming);
	snap_kernel(s);
	host_read();
}

/* Guest -> host losses kavm counts: the link down, or the tap's write failed or was purged. */
static uint64_t tx_lost_kavm(const struct snap *s)
{
	return s->nic.tx_link_down + s->nic.queue_drops + s->tap.rx_link_down + s->tap.rx_errors +
	       s->tap.rx_purged;
}

/* Frames kavm's tap read: each went to net_send(). */
static uint64_t rx_reads(const struct snap *s)
{
	return s->tap.tx_packets + s->tap.tx_queued + s->tap.tx_link_down + s->tap.queue_drops;
}

/* Host -> guest losses kavm counts, from the tap's read to the guest's ring. */
static uint64_t rx_lost_kavm(const struct snap *s)
{
	return s->tap.tx_link_down + s->tap.queue_drops + s->nic.rx_errors + s->nic.rx_link_down +
	       s->nic.rx_purged + s->vn.rx_filtered + s->vn.engine.rx_too_big +
	       s->vn.engine.rx_short;
}

static void expect_intact(const struct ft_stream *st)
{
	unsigned int i;

	if (st->corrupt) {
		printf("# first corrupted frame (%zu bytes):", st->bad_len);
		for (i = 0; i < min(st->bad_len, sizeof(st->bad)); i++)
			printf(" %02x", st->bad[i]);
		printf("\n");
	}
	EXPECT_EQ(st->corrupt, 0u);
	EXPECT_EQ(st->reordered, 0u);
}

/*
 * Guest -> host, exactly: the frames the device took were written to the
 * tap, or kavm counted them lost, or they still wait in the tap's queue; and
 * every frame written reached the host socket or its drops (the kernel's
 * count). The tap's rx_dropped is no extra loss: it counts the writes that
 * failed (EIO), which kavm counts too.
 */
static void expect_tx_accounted(const struct snap *s, const char *name)
{
	const struct net_engine_stats *e = &s->vn.engine;
	uint64_t lost = tx_lost_kavm(s) + R.pkt_drops;

	expect_intact(&R.rx);
	EXPECT_EQ(e->tx_bad_desc + e->tx_bad_hdr + e->tx_too_big, 0u);
	EXPECT_EQ(e->tx_frames, s->tap.rx_packets + tx_lost_kavm(s) + s->tapq);
	EXPECT_EQ(s->tap.rx_packets, ft_total(&R.rx) + R.pkt_drops);
	/* kavm and the kernel agree on what was written. */
	if (s->k_valid)
		EXPECT_EQ(s->tap.rx_packets, s->k.rx_packets);
	/* Every chain the guest posted came back, or went with a reset. */
	EXPECT_EQ(R.g.tx_posted, R.g.tx_reaped + R.g.tx_abandoned);
	printf("# %s: guest->host: guest posted %" PRIu64 ", device took %" PRIu64
	       ", host received %" PRIu64 ", counted lost %" PRIu64 " (link down %" PRIu64
	       ", tap write failed %" PRIu64 ", purged %" PRIu64 ", host socket %" PRIu64
	       "), waiting %u, tx_paused %" PRIu64 "\n",
	       name, (uint64_t)R.g.tx_posted, e->tx_frames, R.rx.ok, lost,
	       s->nic.tx_link_down + s->tap.rx_link_down, s->tap.rx_errors, s->tap.rx_purged,
	       R.pkt_drops, s->tapq, e->tx_paused);
}

/*
 * Host -> guest, exactly, in three steps: what the host sent was read by
 * kavm or dropped by the kernel (tap queue full) or still waits there
 * (kernel_left); what kavm read reached the guest's ring or is counted or
 * waits in the NIC's queue; what reached the ring the guest read, or threw
 * away with a reset.
 */
static void expect_rx_accounted(const struct snap *s, const char *name, uint64_t kernel_left)
{
	const struct net_engine_stats *e = &s->vn.engine;
	uint64_t kernel = s->k.tx_dropped + s->qdisc_drops, reads = rx_reads(s);

	expect_intact(&R.g.rx);
	if (s->k_valid) {
		EXPECT_EQ(s->k.tx_packets, reads);
		EXPECT_EQ((uint64_t)R.sent, reads + kernel + kernel_left);
	}
	EXPECT_EQ(reads, e->rx_frames + rx_lost_kavm(s) + s->nicq);
	EXPECT_EQ(e->rx_frames, ft_total(&R.g.rx) + R.g.rx_discarded);
	printf("# %s: host->guest: host sent %u, guest received %" PRIu64 ", counted lost %" PRIu64
	       " (kernel tap queue full %" PRIu64 ", kavm %" PRIu64 ", guest reset %" PRIu64
	       "), waiting %" PRIu64 " (NIC %u, kernel %" PRIu64 ")\n",
	       name, R.sent, R.g.rx.ok, kernel + rx_lost_kavm(s) + R.g.rx_discarded, kernel,
	       rx_lost_kavm(s), (uint64_t)R.g.rx_discarded, s->nicq + kernel_left, s->nicq,
	       kernel_left);
}

static void expect_healthy(void)
{
	EXPECT_FALSE(R.over_budget);
	EXPECT_EQ(R.g.err, 0);
	printf("# loop: %lu turns, %lu busy\n", (unsigned long)R.turns,
	       (unsigned long)R.busy_turns);
}

/* Guest TX stops; every chain comes back and the host socket goes quiet. */
static int drain_tx(void)
{
	R.g.tx_on = false;
	if (host_pump_until(guest_tx_drained, 0, 5000) < 0)
		return -ETIMEDOUT;
	return host_pump_until(host_rx_quiet, 0, 2000) < 0 ? -ETIMEDOUT : 0;
}

/* The host stops; the guest reads what is left until it goes quiet. */
static int drain_rx(void)
{
	host_sending(false, 0);
	return host_pump_until(guest_rx_quiet, 0, 5000) < 0 ? -ETIMEDOUT : 0;
}

/* ---- the cases */

#define CYCLES 8

static int link_set(bool up)
{
	return kavm_rtnl_set_up(R.rtnl, IFNAME, up);
}

/* 1: tap down, then up, while the guest transmits: no corruption, every frame counted. */
TEST_TIMEOUT(tap_down_up_under_guest_tx, 60)
{
	struct rec rec = { 0 };
	struct snap s;
	unsigned int i;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ 0 }), 0);
	R.g.tx_rate = 20000;
	R.g.tx_on = true;
	ASSERT_GE(host_pump_until(host_got_frame_since, 0, 2000), 0);
	host_pump(100);
	for (i = 0; i < CYCLES; i++) {
		uint64_t t;

		ASSERT_EQ(link_set(false), 0);
		host_pump(20 + 5 * i);
		t = now_ns();
		ASSERT_EQ(link_set(true), 0);
		ms = host_pump_until(host_got_frame_since, t, 2000);
		ASSERT_GE(ms, 0);
		rec_add(&rec, ms);
		host_pump(20);
	}
	ASSERT_EQ(drain_tx(), 0);
	rig_stop();
	snap_take(&s);
	expect_tx_accounted(&s, "tap down/up under TX");
	EXPECT_GT(s.nic.tx_link_down + s.tap.rx_link_down, 0u);
	/* The guest saw every change, and the link is up at the end. */
	EXPECT_EQ(R.g.d.config_irq, 2u * CYCLES);
	EXPECT_EQ(R.g.link, (unsigned int)VIRTIO_NET_S_LINK_UP);
	expect_healthy();
	rec_print(&rec, "tap down/up under TX");
	rig_teardown();
	expect_no_leak();
}

/* 2: tap down, then up, while the host sends to the guest. */
TEST_TIMEOUT(tap_down_up_under_guest_rx, 60)
{
	struct rec rec = { 0 };
	struct snap s;
	unsigned int i;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ 0 }), 0);
	R.g.rx_on = true;
	host_sending(true, 20000);
	ASSERT_GE(host_pump_until(guest_got_frame_since, 0, 2000), 0);
	host_pump(100);
	for (i = 0; i < CYCLES; i++) {
		uint64_t t;

		ASSERT_EQ(link_set(false), 0);
		host_pump(20 + 5 * i);
		t = now_ns();
		ASSERT_EQ(link_set(true), 0);
		ms = host_pump_until(guest_got_frame_since, t, 2000);
		ASSERT_GE(ms, 0);
		rec_add(&rec, ms);
		host_pump(20);
	}
	ASSERT_EQ(drain_rx(), 0);
	rig_stop();
	snap_take(&s);
	expect_rx_accounted(&s, "tap down/up under RX", 0);
	EXPECT_GT(R.send_fail, 0u); /* the host met the link down */
	EXPECT_EQ(R.g.d.config_irq, 2u * CYCLES);
	EXPECT_EQ(R.g.link, (unsigned int)VIRTIO_NET_S_LINK_UP);
	expect_healthy();
	rec_print(&rec, "tap down/up under RX");
	rig_teardown();
	expect_no_leak();
}

/*
 * 3: the tap deleted while frames flow both ways. The NIC ends with its link
 * down (seen by the guest), TX completing into nowhere and counted, and the
 * teardown after it is clean. The kernel frees what its queue held for the
 * tap without counting it: shown apart, bounded by the queue.
 */
TEST_TIMEOUT(tap_deleted_under_tx_and_rx, 60)
{
	struct snap before, s;
	uint64_t t, left;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ 0 }), 0);
	R.g.rx_on = true;
	R.g.tx_rate = 10000;
	R.g.tx_on = true;
	host_sending(true, 10000);
	ASSERT_GE(host_pump_until(host_got_frame_since, 0, 2000), 0);
	ASSERT_GE(host_pump_until(guest_got_frame_since, 0, 2000), 0);
	host_pump(150);
	snap_kernel(&before);
	ASSERT_TRUE(before.k_valid);
	t = now_ns();
	ASSERT_EQ(kavm_rtnl_link_del(R.rtnl, IFNAME), 0);
	host_sending(false, 0);
	ms = host_pump_until(guest_link_is, 0, 2000);
	ASSERT_GE(ms, 0);
	printf("# tap deleted: link down seen by the guest in %" PRIu64 " ms\n",
	       (uint64_t)((R.g.link_ns - t + MS / 2) / MS));
	/* TX goes on completing into nowhere. */
	EXPECT_GE(host_pump_until(guest_tx_reaped, R.g.tx_reaped + 500, 2000), 0);
	ASSERT_EQ(drain_tx(), 0);
	ASSERT_GE(host_pump_until(guest_rx_quiet, 0, 5000), 0);
	rig_stop();
	snap_take(&s);
	ASSERT_FALSE(s.k_valid); /* the tap is gone: its last kernel counts stand */
	s.k = before.k;
	expect_tx_accounted(&s, "tap deleted");
	expect_rx_accounted(&s, "tap deleted", 0);
	left = R.sent - rx_reads(&s) - s.k.tx_dropped - before.qdisc_drops;
	printf("# tap deleted: %" PRIu64
	       " frames freed with the tap's kernel queue (not counted by the kernel)\n",
	       left);
	EXPECT_LE(left, 1000u);
	EXPECT_EQ(R.g.link, 0u);
	expect_healthy();
	rig_teardown();
	expect_no_leak();
}

/*
 * 4a: EAGAIN under guest TX: a 16 KiB send buffer behind a 20 Mbit/s path,
 * and a host reader that stops reading for a while (its socket drops, which
 * the kernel counts). Then the path opens: the guest's backlog clears.
 */
TEST_TIMEOUT(eagain_backpressure_guest_tx, 60)
{
	struct rec rec = { 0 };
	struct snap s;
	uint64_t t;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ .sndbuf = 16384, .slow = true, .rcvbuf = 65536 }),
		  0);
	R.g.tx_rate = 20000;
	R.g.tx_on = true;
	host_pump(150);
	R.reading = false;
	host_pump(100);
	R.reading = true;
	host_pump(100);
	ASSERT_EQ(sh("tc qdisc change dev kv0 root tbf rate 10gbit burst 1mb limit 10mb"), 0);
	t = now_ns();
	/* Recovered: the guest's chains come back as fast as it posts them. */
	ms = host_pump_until(guest_tx_backlog_below, 8, 3000);
	ASSERT_GE(ms, 0);
	rec_add(&rec, (now_ns() - t + MS / 2) / MS);
	host_pump(100);
	ASSERT_EQ(drain_tx(), 0);
	rig_stop();
	snap_take(&s);
	expect_tx_accounted(&s, "EAGAIN under TX");
	EXPECT_GT(s.vn.engine.tx_paused, 0u); /* writes met EAGAIN */
	EXPECT_GT(R.pkt_drops, 0u);	      /* the reader's pause cost frames, counted */
	expect_healthy();
	rec_print(&rec, "EAGAIN under TX");
	rig_teardown();
	expect_no_leak();
}

/*
 * 4b: the guest posts no RX buffers while the host floods: kavm stops
 * reading the tap (the loop goes idle), the tap's kernel queue (64) fills
 * and the kernel drops and counts the rest. Then the guest posts again.
 */
TEST_TIMEOUT(eagain_backpressure_guest_rx, 60)
{
	struct rec rec = { 0 };
	unsigned long busy;
	struct snap s;
	uint64_t t;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ .txqueuelen = 64 }), 0);
	R.g.rx_on = true;
	host_sending(true, 20000);
	host_pump(100);
	R.g.rx_on = false;
	host_pump(100); /* the posted buffers fill up */
	busy = R.busy_turns;
	host_pump(200);
	/* Paused, not spinning: the tap is out of the loop until the guest posts. */
	EXPECT_LE(R.busy_turns - busy, 5u);
	t = now_ns();
	R.g.rx_on = true;
	ms = host_pump_until(guest_got_frame_since, t, 2000);
	ASSERT_GE(ms, 0);
	rec_add(&rec, ms);
	host_pump(100);
	ASSERT_EQ(drain_rx(), 0);
	rig_stop();
	snap_take(&s);
	expect_rx_accounted(&s, "EAGAIN under RX", 0);
	EXPECT_GT(s.k.tx_dropped + s.qdisc_drops, 0u); /* the kernel queue did fill */
	EXPECT_GT(s.vn.engine.rx_no_buf, 0u);
	expect_healthy();
	rec_print(&rec, "EAGAIN under RX");
	rig_teardown();
	expect_no_leak();
}

/* Link changes on another interface, n of them, as a busy host makes them. */
static int link_churn(unsigned int n)
{
	FILE *f;
	unsigned int i;

	if (sh("ip tuntap add kd0 mode tap"))
		return -EIO;
	f = popen("ip -batch -", "w");
	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		fprintf(f, "link set kd0 %s\n", i & 1 ? "down" : "up");
	return pclose(f) ? -EIO : 0;
}

/*
 * 1b: the tap set up again while kavm's loop is busy and other links
 * change: kavm's rtnetlink socket overflows and the kernel drops the tap's
 * "up" event (ENOBUFS). The guest's link must still come up, and TX flow.
 */
TEST_TIMEOUT(tap_up_event_lost_to_a_netlink_overflow, 60)
{
	struct rec rec = { 0 };
	struct snap s;
	uint64_t t;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ 0 }), 0);
	R.g.tx_rate = 10000;
	R.g.tx_on = true;
	host_pump(100);
	ASSERT_EQ(link_set(false), 0);
	ASSERT_GE(host_pump_until(guest_link_is, 0, 2000), 0);
	io_stop();
	ASSERT_EQ(link_churn(2000), 0);
	ASSERT_EQ(link_set(true), 0);
	t = now_ns();
	ASSERT_EQ(io_start(), 0);
	ms = host_pump_until(guest_link_is, VIRTIO_NET_S_LINK_UP, 2000);
	ASSERT_GE(ms, 0);
	ms = host_pump_until(host_got_frame_since, t, 2000);
	ASSERT_GE(ms, 0);
	rec_add(&rec, (now_ns() - t + MS / 2) / MS);
	host_pump(50);
	ASSERT_EQ(drain_tx(), 0);
	rig_stop();
	snap_take(&s);
	expect_tx_accounted(&s, "tap up, its event lost");
	expect_healthy();
	rec_print(&rec, "tap up, its event lost");
	rig_teardown();
	expect_no_leak();
}

#define RESETS 300

/*
 * 5a: the guest resets the device (from its vCPU thread) while it sends
 * 100000 frames a second, then reuses the memory of the frames still out.
 * The device must not send from them once the reset is done.
 */
TEST_TIMEOUT(guest_reset_under_tx, 60)
{
	struct rec rec = { 0 };
	struct snap s;
	unsigned int i;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ 0 }), 0);
	R.g.tx_rate = 100000;
	R.g.tx_on = true;
	host_pump(50);
	for (i = 1; i <= RESETS; i++) {
		uint64_t t = now_ns();

		R.g.reset_req = i;
		ASSERT_GE(host_pump_until(guest_reset_done, i, 2000), 0);
		ms = host_pump_until(host_got_seq, R.g.reset_seq, 2000);
		ASSERT_GE(ms, 0);
		rec_add(&rec, (now_ns() - t + MS / 2) / MS);
		host_pump(1 + i % 4);
	}
	ASSERT_EQ(drain_tx(), 0);
	rig_stop();
	snap_take(&s);
	expect_tx_accounted(&s, "guest reset under TX");
	printf("# guest reset under TX: %" PRIu64 " chains abandoned by the guest's resets\n",
	       (uint64_t)R.g.tx_abandoned);
	expect_healthy();
	rec_print(&rec, "guest reset under TX");
	rig_teardown();
	expect_no_leak();
}

/*
 * 5b: the guest resets the device while the host sends: frames wait for the
 * device to start again; those the guest had not read go with its ring.
 */
TEST_TIMEOUT(guest_reset_under_rx, 60)
{
	struct rec rec = { 0 };
	struct snap s;
	unsigned int i;
	int ms;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ 0 }), 0);
	R.g.rx_on = true;
	host_sending(true, 20000);
	host_pump(50);
	for (i = 1; i <= RESETS; i++) {
		uint64_t t = now_ns();

		R.g.reset_req = i;
		ASSERT_GE(host_pump_until(guest_reset_done, i, 2000), 0);
		ms = host_pump_until(guest_got_frame_since, R.g.reset_ns, 2000);
		ASSERT_GE(ms, 0);
		rec_add(&rec, (now_ns() - t + MS / 2) / MS);
		host_pump(1 + i % 4);
	}
	ASSERT_EQ(drain_rx(), 0);
	rig_stop();
	snap_take(&s);
	expect_rx_accounted(&s, "guest reset under RX", 0);
	expect_healthy();
	rec_print(&rec, "guest reset under RX");
	rig_teardown();
	expect_no_leak();
}

/* Stop the loop with a frame waiting in each direction's queue (retries while not yet so). */
static int stop_with_frames_queued(void)
{
	unsigned int tries;

	for (tries = 0; tries < 100; tries++) {
		io_stop();
		if (net_queue_len(R.tap->incoming) == 1 &&
		    net_queue_len(R.tap->peer->incoming) == 1)
			return 0;
		if (io_start())
			return -EAGAIN;
		host_pump(10);
	}
	return -ETIMEDOUT;
}

/*
 * 6: what SIGTERM does, with frames queued both ways: a guest frame in the
 * tap's queue (EAGAIN) and more posted, a host frame in the NIC's queue (no
 * RX buffers) and more in the tap's kernel queue. The vCPUs and the loop
 * stop, then the exits run in kavm's order (transport, NIC, backend, loop).
 */
TEST_TIMEOUT(teardown_with_frames_queued_both_ways, 60)
{
	struct snap s0, s;
	uint64_t left, got;

	ASSERT_EQ(rig_setup(&(struct rig_opts){ .sndbuf = 16384, .slow = true, .txqueuelen = 64 }),
		  0);
	R.g.tx_on = true;
	host_sending(true, 5000);
	host_pump(200);
	host_sending(false, 0);
	ASSERT_EQ(stop_with_frames_queued(), 0);
	rig_stop();
	snap_take(&s0);
	ASSERT_EQ(s0.tapq, 1u);
	ASSERT_EQ(s0.nicq, 1u);
	ASSERT_GT(R.g.tx_posted, s0.vn.engine.tx_frames); /* more posted, not taken */
	left = R.sent - s0.k.tx_packets - s0.k.tx_dropped - s0.qdisc_drops;
	ASSERT_GT(left, 0u);
	got = R.rx.ok;
	rig_exit_nic();
	/* The NIC's frame left the tap's queue, counted; nothing more was taken or written. */
	EXPECT_EQ(net_queue_len(R.tap->incoming), 0u);
	EXPECT_EQ(R.tap->stats.rx_purged, s0.tap.rx_purged + 1);
	EXPECT_EQ(R.tap->stats.rx_packets, s0.tap.rx_packets);
	EXPECT_EQ(R.tap->peer, NULL);
	host_pump(50);
	EXPECT_EQ(R.rx.ok, got);
	s = s0;
	s.tap = R.tap->stats;
	s.tapq = 0;
	/* The guest's chains the device never took stay the guest's. */
	R.g.tx_abandoned = R.g.tx_posted - R.g.tx_reaped;
	expect_tx_accounted(&s, "teardown");
	/* The NIC's queued frame is purged by its exit (counted in its rx_purged, then freed). */
	s0.nic.rx_purged += s0.nicq;
	s0.nicq = 0;
	expect_rx_accounted(&s0, "teardown", left);
	printf("# teardown: %" PRIu64 " host frames were left in the tap's kernel queue\n", left);
	expect_healthy();
	rig_teardown();
	expect_no_leak();
}

/*
 * The race guest_reset_under_tx meets by chance, made certain: a peer that,
 * inside its receive of a guest frame, lets the vCPU reset the device and
 * reuse the frame's memory, then reads the frame. The device hands the peer
 * guest memory with its lock dropped; the reset returned at once, and the
 * peer sent poison. The reset must not be done while a send reads a buffer.
 */
static struct {
	struct vdrv d;
	struct loop *loop;
	struct net_client peer;
	struct virtio_net *vn;
	sem_t go, reset;
	unsigned int frames;
	struct ft_stream got;
} P;

static ssize_t racing_peer_receive(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	uint8_t frame[FT_MAX];
	struct timespec ts;
	size_t len;

	if (P.frames++ == 0) {
		sem_post(&P.go);
		/* Give the reset its chance; a reset that waits for us makes this time out. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * MS;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		sem_timedwait(&P.reset, &ts);
	}
	len = iov_to_buf(iov, iovcnt, 0, frame, sizeof(frame));
	ft_check(&P.got, frame, len, G2H);
	return len;
}

static const struct net_client_ops racing_peer_ops = {
	.type = "racing-peer",
	.receive_iov = racing_peer_receive,
};

/* The vCPU: reset, then reuse the memory of the TX frames still out. */
static void *racing_vcpu(void *arg)
{
	struct vdrv_queue *tx = &P.d.q[TXQ];
	uint64_t out[VDRV_IND_MAX];
	unsigned int n = 0, h, i;

	sem_wait(&P.go);
	for (h = 0; h < tx->size; h++)
		for (i = 0; i < tx->chain_len[h] && n < ARRAY_SIZE(out); i++)
			out[n++] = vdrv_buf_gpa(&P.d, TXQ, tx->chain[h][i]);
	vdrv_reset(&P.d);
	for (i = 0; i < n; i++)
		memset(vdrv_ptr(&P.d, out[i], VDRV_BUF_SIZE), 0xa5, VDRV_BUF_SIZE);
	sem_post(&P.reset);
	return NULL;
}

TEST_TIMEOUT(reset_waits_for_the_frame_in_the_peer, 30)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet0" };
	struct virtio_net_hdr_v1 hdr = { 0 };
	uint8_t frame[FT_MAX];
	struct vring_used *used;
	pthread_t vcpu;
	size_t len;

	R.fds_before = fds_open();
	ASSERT_EQ(sem_init(&P.go, 0, 0) || sem_init(&P.reset, 0, 0), 0);
	ASSERT_EQ(loop_create(&P.loop), 0);
	ASSERT_EQ(vdrv_init(&P.d, P.loop), 0);
	ASSERT_EQ(net_client_init(&P.peer, &racing_peer_ops, "peer"), 0);
	p.mem = &P.d.mem;
	p.loop = P.loop;
	p.backend = &P.peer;
	memcpy(p.mac, guest_mac, 6);
	ASSERT_EQ(virtio_net_init(&p, &P.vn), 0);
	vdrv_attach(&P.d, virtio_net_vdev(P.vn));
	ASSERT_EQ(vdrv_probe(&P.d, ~0ull, QSIZE), 0);
	len = ft_make(frame, 0, G2H);
	ASSERT_GE(vdrv_net_tx(&P.d, &hdr, frame, len, false), 0);
	used = P.d.q[TXQ].used;
	ASSERT_EQ(pthread_create(&vcpu, NULL, racing_vcpu, NULL), 0);
	vdrv_kick(&P.d, TXQ);
	pthread_join(vcpu, NULL);
	/* The peer got the frame as the guest wrote it; the reset ring got nothing back. */
	EXPECT_EQ(P.frames, 1u);
	EXPECT_EQ(P.got.ok, 1u);
	EXPECT_EQ(P.got.corrupt, 0u);
	EXPECT_EQ(used->idx, 0);
	virtio_net_exit(P.vn);
	net_client_exit(&P.peer);
	loop_destroy(P.loop);
	vdrv_exit(&P.d);
	sem_destroy(&P.go);
	sem_destroy(&P.reset);
	expect_no_leak();
}
