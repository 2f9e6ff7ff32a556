// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net + tap on a real tap in a fresh netns, driven by the in-process
 * guest driver: frames both ways arrive byte-identical with and without vnet
 * header offloads (checksum offload and TSO frames with a real header, read
 * back through a PACKET_VNET_HDR socket), backpressure loses no frame in
 * either direction, link changes reach the guest, and tap lifetime rules hold.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#define F(bit) (1ull << (bit))
#define RXQ 0
#define TXQ 1
#define IFNAME "ktap0"

static struct env {
	struct loop *loop;
	struct vdrv d;
	struct net_client *tap;
	struct virtio_net *vn;
	int pkt;   /* AF_PACKET on the tap: the host's side */
	int tapfd; /* our own fd when the test hands one to kavm */
} E;

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static int sh(const char *cmd)
{
	return system(cmd) ? -1 : 0;
}

static int packet_open(bool vnet_hdr)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, big = 8 << 20;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		return -errno;
	sll.sll_ifindex = if_nametoindex(IFNAME);
	if (vnet_hdr && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return fd;
}

/* netns, no IPv6 chatter, a tap kavm opens as "spec", up, a guest driving virtio-net. */
static int env_setup(const char *spec, uint64_t want, bool pkt_vnet_hdr)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet0" };
	struct netdev_opts o;
	char err[128];
	int ret;

	if (loop_create(&E.loop) || vdrv_init(&E.d, E.loop))
		return -ENOMEM;
	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (ret)
		return ret;
	ret = netdev_open(&o, E.loop, &E.tap);
	if (ret)
		return ret;
	if (sh("ip link set " IFNAME " up"))
		return -EIO;
	p.mem = &E.d.mem;
	p.loop = E.loop;
	p.backend = E.tap;
	memcpy(p.mac, guest_mac, 6);
	ret = virtio_net_init(&p, &E.vn);
	if (ret)
		return ret;
	vdrv_attach(&E.d, virtio_net_vdev(E.vn));
	vdrv_run(&E.d); /* the tap's netlink "up" event */
	ret = vdrv_probe(&E.d, want, 256);
	if (ret)
		return ret;
	E.pkt = packet_open(pkt_vnet_hdr);
	return E.pkt < 0 ? E.pkt : 0;
}

static void netns(void)
{
	kt_unshare_netns();
	sh("sysctl -qw net.ipv6.conf.default.disable_ipv6=1");
}

static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src, uint32_t seq)
{
	size_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, 4);
	for (i = 18; i < len; i++)
		f[i] = (uint8_t)(i * 13 + seq);
}

/* Next frame the host side received from the tap (not one it sent itself). */
static ssize_t host_recv(void *buf, size_t len, int timeout_ms)
{
	struct sockaddr_ll sll;
	socklen_t sl = sizeof(sll);
	struct pollfd pfd = { E.pkt, POLLIN, 0 };
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = recvfrom(E.pkt, buf, len, 0, (struct sockaddr *)&sll, &sl);
		if (n < 0)
			return -errno;
		if (sll.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
}

static int host_send(const void *buf, size_t len)
{
	return send(E.pkt, buf, len, 0) == (ssize_t)len ? 0 : -errno;
}

/* Guest -> tap: n frames of len bytes, each must arrive intact and in order. */
static int guest_to_tap(unsigned int n, size_t len, bool indirect)
{
	static uint8_t frame[1514], got[2048];
	struct virtio_net_hdr_v1 hdr = { 0 };
	unsigned int i;
	uint16_t head;
	uint32_t ulen;

	for (i = 0; i < n; i++) {
		make_frame(frame, len, host_mac, guest_mac, i);
		if (vdrv_net_tx(&E.d, &hdr, frame, len, indirect) < 0)
			return -1;
		vdrv_kick(&E.d, TXQ);
		if (host_recv(got, sizeof(got), 1000) != (ssize_t)len || memcmp(got, frame, len))
			return -2;
		while (vdrv_used(&E.d, TXQ, &head, &ulen))
			;
	}
	return 0;
}

/* Tap -> guest: n frames of len bytes, intact and in order. */
static int tap_to_guest(unsigned int n, size_t len)
{
	static uint8_t frame[1514], got[65536];
	struct virtio_net_hdr_v1 hdr;
	unsigned int i, spins;
	ssize_t r = 0;

	for (i = 0; i < n; i++) {
		make_frame(frame, len, guest_mac, host_mac, i);
		if (vdrv_net_rx_fill(&E.d, 2) || host_send(frame, len))
			return -1;
		for (spins = 0;
		     spins < 1000 && (r = vdrv_net_rx(&E.d, &hdr, got, sizeof(got))) == 0; spins++)
			loop_run_once(E.loop, 10);
		if (r != (ssize_t)len || memcmp(got, frame, len))
			return -2;
	}
	return 0;
}

TEST(plain_frames_both_ways_without_vnet_hdr)
{
	struct virtio_dev *vdev;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME ",vnet_hdr=off", ~0ull, false), 0);
	vdev = virtio_net_vdev(E.vn);
	/* No header on the tap: no offload may be offered. */
	EXPECT_FALSE(vdev->ops->get_host_features(vdev) & F(VIRTIO_NET_F_CSUM));
	EXPECT_EQ(guest_to_tap(20, 60, false), 0);
	EXPECT_EQ(guest_to_tap(20, 1514, true), 0);
	EXPECT_EQ(tap_to_guest(20, 60), 0);
	EXPECT_EQ(tap_to_guest(20, 1514), 0);
}

TEST(plain_frames_both_ways_with_vnet_hdr)
{
	struct virtio_dev *vdev;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME ",vnet_hdr=on", ~0ull, false), 0);
	vdev = virtio_net_vdev(E.vn);
	EXPECT_TRUE(vdev->ops->get_host_features(vdev) & F(VIRTIO_NET_F_HOST_TSO4));
	EXPECT_EQ(guest_to_tap(20, 60, true), 0);
	EXPECT_EQ(guest_to_tap(20, 1514, false), 0);
	EXPECT_EQ(tap_to_guest(20, 60), 0);
	EXPECT_EQ(tap_to_guest(20, 1514), 0);
}

TEST(plain_frames_without_mrg_rxbuf_or_event_idx)
{
	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME,
			    ~(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX)), false),
		  0);
	EXPECT_EQ(guest_to_tap(10, 1514, false), 0);
	EXPECT_EQ(tap_to_guest(10, 1514), 0);
}

/* Ethernet + IPv4 + TCP with a payload; the TCP checksum left partial. */
static size_t make_tcp4(uint8_t *f, size_t payload, const uint8_t *dst, const uint8_t *src)
{
	uint16_t tot = htons(20 + 20 + payload);
	size_t i;

	memset(f, 0, 54);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	memcpy(f + 16, &tot, 2);
	f[20] = 0x40; /* DF */
	f[22] = 64;
	f[23] = 6;
	memcpy(f + 26, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
	f[34] = 0x30; /* ports 12345 -> 5201 */
	f[35] = 0x39;
	f[36] = 0x14;
	f[37] = 0x51;
	f[46] = 0x50; /* doff 5 */
	f[47] = 0x18; /* PSH|ACK */
	f[48] = 0xff;
	f[50] = 0x12; /* partial checksum: opaque to kavm */
	f[51] = 0x34;
	for (i = 0; i < payload; i++)
		f[54 + i] = (uint8_t)(i * 31 + 7);
	return 54 + payload;
}

static const struct virtio_net_hdr_v1 tso_hdr = {
	.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
	.hdr_len = 54,
	.gso_size = 1448,
	.csum_start = 34,
	.csum_offset = 16,
};

TEST(tso_and_csum_offload_guest_to_tap)
{
	static uint8_t frame[9000], got[16384];
	struct virtio_net_hdr_v1 hdr = tso_hdr;
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)got;
	size_t len;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, true), 0);
	/* A TSO frame with a real vnet header: the kernel gets it as one GSO skb. */
	len = make_tcp4(frame, 8000, host_mac, guest_mac);
	ASSERT_GE(vdrv_net_tx(&E.d, &hdr, frame, len, false), 0);
	vdrv_kick(&E.d, TXQ);
	ASSERT_EQ(host_recv(got, sizeof(got), 1000), (ssize_t)(len + sizeof(*h)));
	EXPECT_EQ(h->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	EXPECT_EQ(h->gso_size, 1448);
	EXPECT_EQ(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	EXPECT_EQ(h->csum_start, 34);
	EXPECT_EQ(h->csum_offset, 16);
	EXPECT_MEMEQ(got + sizeof(*h), frame, len);
	/* Checksum offload alone: a partial checksum the kernel finishes. */
	hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	hdr.gso_size = hdr.hdr_len = 0;
	len = make_tcp4(frame, 1000, host_mac, guest_mac);
	ASSERT_GE(vdrv_net_tx(&E.d, &hdr, frame, len, true), 0);
	vdrv_kick(&E.d, TXQ);
	ASSERT_EQ(host_recv(got, sizeof(got), 1000), (ssize_t)(len + sizeof(*h)));
	EXPECT_EQ(h->gso_type, VIRTIO_NET_HDR_GSO_NONE);
	EXPECT_EQ(h->csum_start, 34);
	EXPECT_EQ(h->csum_offset, 16);
	EXPECT_MEMEQ(got + sizeof(*h), frame, len);
}

/* Host sends one 8000-byte TSO frame; what the guest gets depends on its offloads. */
static int host_send_tso(uint8_t *frame, size_t *len)
{
	static uint8_t buf[16384];
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54,
		.gso_size = 1448,
		.csum_start = 34,
		.csum_offset = 16,
	};

	*len = make_tcp4(frame, 8000, guest_mac, host_mac);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), frame, *len);
	return host_send(buf, sizeof(h) + *len);
}

static ssize_t guest_rx_wait(struct virtio_net_hdr_v1 *hdr, uint8_t *buf, size_t max)
{
	unsigned int spins;
	ssize_t r = 0;

	for (spins = 0; spins < 200 && (r = vdrv_net_rx(&E.d, hdr, buf, max)) == 0; spins++)
		loop_run_once(E.loop, 10);
	return r;
}

TEST(tso_tap_to_guest_with_guest_tso)
{
	static uint8_t frame[9000], got[65536];
	struct virtio_net_hdr_v1 hdr;
	size_t len;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, true), 0);
	ASSERT_EQ(vdrv_net_rx_fill(&E.d, 8), 0);
	ASSERT_EQ(host_send_tso(frame, &len), 0);
	/* GUEST_TSO4 negotiated -> TUNSETOFFLOAD: the guest gets the frame whole. */
	ASSERT_EQ(guest_rx_wait(&hdr, got, sizeof(got)), (ssize_t)len);
	EXPECT_EQ(hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	EXPECT_EQ(hdr.gso_size, 1448);
	EXPECT_EQ(hdr.num_buffers, 2);
	EXPECT_EQ(hdr.csum_start, 34);
	EXPECT_MEMEQ(got, frame, len);
}

/*
 * A frame bigger than the RX buffers posted waits for more; the guest kicks
 * only past avail_event (EVENT_IDX), so the device must ask for a kick past
 * the buffers it has seen, not past those it took: else the RX path stalls
 * for good (seen in the test host: a 16 MiB transfer stopped at 8 MiB).
 */
TEST(tso_frame_waits_for_enough_rx_buffers)
{
	static uint8_t frame[9000], got[65536];
	struct virtio_net_hdr_v1 hdr;
	struct vdrv_seg buf = { NULL, VDRV_BUF_SIZE, true };
	struct virtio_net_stats st;
	size_t len;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, true), 0);
	ASSERT_TRUE(E.d.features & F(VIRTIO_RING_F_EVENT_IDX));
	ASSERT_EQ(vdrv_net_rx_fill(&E.d, 1), 0);
	ASSERT_EQ(host_send_tso(frame, &len), 0);
	/* 12 + 8054 bytes do not fit one 4096-byte buffer: nothing yet. */
	EXPECT_EQ(guest_rx_wait(&hdr, got, sizeof(got)), 0);
	virtio_net_get_stats(E.vn, &st);
	EXPECT_GE(st.engine.rx_no_buf, 1u);
	/* Two more buffers, posted as Linux posts them: a kick is due, and it comes. */
	ASSERT_GE(vdrv_post(&E.d, RXQ, &buf, 1, false), 0);
	ASSERT_GE(vdrv_post(&E.d, RXQ, &buf, 1, false), 0);
	EXPECT_TRUE(vdrv_notify(&E.d, RXQ));
	ASSERT_EQ(guest_rx_wait(&hdr, got, sizeof(got)), (ssize_t)len);
	EXPECT_EQ(hdr.num_buffers, 2);
	EXPECT_MEMEQ(got, frame, len);
}

TEST(tso_tap_to_guest_segmented_without_guest_offloads)
{
	static uint8_t frame[9000], got[65536], payload[8000];
	struct virtio_net_hdr_v1 hdr;
	size_t len, have = 0;
	ssize_t r;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME,
			    ~(F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
			      F(VIRTIO_NET_F_GUEST_CSUM)),
			    true),
		  0);
	ASSERT_EQ(vdrv_net_rx_fill(&E.d, 16), 0);
	ASSERT_EQ(host_send_tso(frame, &len), 0);
	/* No guest offloads: the kernel segments for us, every segment fits the MTU. */
	while (have < 8000 && (r = guest_rx_wait(&hdr, got, sizeof(got))) > 0) {
		ASSERT_LE(r, 1514);
		EXPECT_EQ(hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		EXPECT_EQ(hdr.flags, 0); /* not even DATA_VALID without GUEST_CSUM */
		ASSERT_LE(have + r - 54, sizeof(payload));
		memcpy(payload + have, got + 54, r - 54);
		have += r - 54;
	}
	ASSERT_EQ(have, 8000u);
	EXPECT_MEMEQ(payload, frame + 54, 8000);
}

static uint32_t frame_seq(const uint8_t *f)
{
	uint32_t seq;

	memcpy(&seq, f + 14, 4);
	return seq;
}

TEST(rx_backpressure_guest_stops_reading_loses_nothing)
{
	static uint8_t frame[1514], got[65536];
	struct virtio_net_stats st;
	struct virtio_net_hdr_v1 hdr;
	unsigned int i, next = 0;
	ssize_t r;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, false), 0);
	/* The guest posts no buffers while the host sends 300 frames. */
	for (i = 0; i < 300; i++) {
		make_frame(frame, 1000, guest_mac, host_mac, i);
		ASSERT_EQ(host_send(frame, 1000), 0);
	}
	for (i = 0; i < 10; i++)
		loop_run_once(E.loop, 10);
	virtio_net_get_stats(E.vn, &st);
	EXPECT_GE(st.engine.rx_no_buf, 1u);
	/* Paused, not spinning: the tap fd is out of the loop until the guest refills. */
	EXPECT_EQ(loop_run_once(E.loop, 100), 0);
	/* A slow reader: 16 buffers at a time. Every frame arrives, in order. */
	while (next < 300) {
		ASSERT_EQ(vdrv_net_rx_fill(&E.d, 16), 0);
		for (i = 0; i < 16 && next < 300; i++, next++) {
			r = guest_rx_wait(&hdr, got, sizeof(got));
			ASSERT_EQ(r, 1000);
			ASSERT_EQ(frame_seq(got), next);
			make_frame(frame, 1000, guest_mac, host_mac, next);
			ASSERT_MEMEQ(got, frame, 1000);
		}
	}
	virtio_net_get_stats(E.vn, &st);
	EXPECT_EQ(st.engine.rx_frames, 300u);
}

/* An fd the test made and hands to kavm ("fd=N"): the test keeps a handle on the tap. */
static int tap_fd_create_flags(short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, IFNAME);
	if (ioctl(fd, TUNSETIFF, &ifr))
		return -errno;
	return fd;
}

static int tap_fd_create(void)
{
	return tap_fd_create_flags(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
}

/*
 * A slow reader behind the tap: what the guest sends is redirected into a
 * veth whose tbf qdisc drains at 2 Mbit/s. The skbs waiting there stay
 * charged to the tap's send buffer (16 KiB here), so kavm's writes hit
 * EAGAIN. The host side reads kv1, the veth's far end.
 */
static int env_setup_slow_tap(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int sndbuf = 16384, fd, ret;
	char spec[64];

	netns();
	E.tapfd = tap_fd_create();
	if (E.tapfd < 0)
		return E.tapfd;
	snprintf(spec, sizeof(spec), "tap,id=n0,fd=%d", E.tapfd);
	ret = env_setup(spec, ~0ull, false);
	if (ret)
		return ret;
	if (sh("ip link add kv0 type veth peer name kv1 && ip link set kv0 up && "
	       "ip link set kv1 up && "
	       "tc qdisc add dev kv0 root tbf rate 2mbit burst 4kb limit 1mb && "
	       "tc qdisc add dev " IFNAME " ingress && "
	       "tc filter add dev " IFNAME " ingress u32 match u32 0 0 "
	       "action mirred egress redirect dev kv0"))
		return -EIO;
	if (ioctl(E.tapfd, TUNSETSNDBUF, &sndbuf))
		return -errno;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	sll.sll_ifindex = if_nametoindex("kv1");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	close(E.pkt);
	E.pkt = fd;
	return 0;
}

/* Post n 1514-byte frames (seq from 0) and kick once. */
static int guest_tx_burst(unsigned int n)
{
	static uint8_t frame[1514];
	struct virtio_net_hdr_v1 hdr = { 0 };
	unsigned int i;

	for (i = 0; i < n; i++) {
		make_frame(frame, 1514, host_mac, guest_mac, i);
		if (vdrv_net_tx(&E.d, &hdr, frame, 1514, false) < 0)
			return -1;
	}
	vdrv_kick(&E.d, TXQ);
	return 0;
}

static unsigned int guest_tx_reap(void)
{
	unsigned int n = 0;
	uint16_t head;
	uint32_t ulen;

	while (vdrv_used(&E.d, TXQ, &head, &ulen))
		n++;
	return n;
}

/* Frames the host gets from the slow reader, in order from seq next, until idle_ms of quiet. */
static int host_recv_in_order(unsigned int *next, int idle_ms)
{
	static uint8_t frame[1514], got[2048];
	ssize_t r;

	while ((r = host_recv(got, sizeof(got), idle_ms)) > 0) {
		make_frame(frame, 1514, host_mac, guest_mac, *next);
		if (r != 1514 || frame_seq(got) != *next || memcmp(got, frame, 1514))
			return -1;
		(*next)++;
	}
	return 0;
}

/* Nothing may be lost, and everything must arrive in order. */
TEST(tx_backpressure_tap_eagain_loses_nothing)
{
	struct virtio_net_stats st;
	unsigned int next = 0, idle = 0, before;

	ASSERT_EQ(env_setup_slow_tap(), 0);
	ASSERT_EQ(guest_tx_burst(100), 0);
	while (next < 100 && idle < 250) {
		if (loop_run_once(E.loop, 20) == 0)
			idle++;
		guest_tx_reap();
		before = next;
		ASSERT_EQ(host_recv_in_order(&next, 0), 0);
		if (next != before)
			idle = 0;
	}
	EXPECT_EQ(next, 100u);
	virtio_net_get_stats(E.vn, &st);
	EXPECT_GE(st.engine.tx_paused, 1u);
	EXPECT_EQ(st.engine.tx_frames, 100u);
}

static uint16_t guest_link_status(void)
{
	struct virtio_dev *vdev = virtio_net_vdev(E.vn);
	uint16_t status;

	vdev->ops->config_read(vdev, 6, &status, 2);
	return status;
}

/* TX while the link is down completes (goes nowhere) and nothing spins. */
static int tx_completes_into_nowhere(unsigned int n)
{
	static uint8_t frame[200], got[2048];
	struct virtio_net_hdr_v1 hdr = { 0 };
	unsigned int i, used = 0;
	uint16_t head;
	uint32_t ulen;

	for (i = 0; i < n; i++) {
		make_frame(frame, 200, host_mac, guest_mac, i);
		if (vdrv_net_tx(&E.d, &hdr, frame, 200, false) < 0)
			return -1;
	}
	vdrv_kick(&E.d, TXQ);
	while (vdrv_used(&E.d, TXQ, &head, &ulen))
		used++;
	if (used != n)
		return -2;
	/* ENETDOWN: the host side's socket sees the tap down, and nothing came. */
	if (host_recv(got, sizeof(got), 50) > 0)
		return -3;
	return loop_run_once(E.loop, 100) == 0 ? 0 : -4;
}

TEST(tap_set_down_and_up_reaches_the_guest)
{
	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, false), 0);
	EXPECT_EQ(guest_link_status(), VIRTIO_NET_S_LINK_UP);
	ASSERT_EQ(sh("ip link set " IFNAME " down"), 0);
	vdrv_run(&E.d);
	EXPECT_EQ(E.d.config_irq, 1u);
	EXPECT_EQ(guest_link_status(), 0);
	EXPECT_EQ(tx_completes_into_nowhere(20), 0);
	ASSERT_EQ(sh("ip link set " IFNAME " up"), 0);
	vdrv_run(&E.d);
	EXPECT_EQ(E.d.config_irq, 2u);
	EXPECT_EQ(guest_link_status(), VIRTIO_NET_S_LINK_UP);
	EXPECT_EQ(guest_to_tap(5, 100, false), 0);
	EXPECT_EQ(tap_to_guest(5, 100), 0);
}

TEST(tap_deleted_under_the_vm)
{
	netns();
	ASSERT_EQ(sh("ip tuntap add " IFNAME " mode tap vnet_hdr"), 0);
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, false), 0);
	EXPECT_EQ(guest_to_tap(3, 100, false), 0);
	close(E.pkt);
	ASSERT_EQ(sh("ip link del " IFNAME), 0);
	vdrv_run(&E.d);
	EXPECT_EQ(E.d.config_irq, 1u);
	EXPECT_EQ(guest_link_status(), 0);
	E.pkt = socket(AF_PACKET, SOCK_RAW, 0); /* nothing will arrive there */
	EXPECT_EQ(tx_completes_into_nowhere(20), 0);
}

/*
 * A tap leaving a bridge: the bridge says so with an RTM_DELLINK of family
 * AF_BRIDGE (its port is gone, not the device). The guest's link stays up
 * and frames still flow. kavm once took it for the tap's deletion and put
 * the guest's link down for good (a VM's tap moved from a bridge to a
 * kavm_switch.ko switch, tests/bench/vm-switch-kmod.sh).
 */
TEST(tap_leaving_a_bridge_stays_up)
{
	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, false), 0);
	/* Left down: a bridge up sends IGMP reports, which would reach the guest. */
	ASSERT_EQ(sh("ip link add kbr0 type bridge && ip link set " IFNAME " master kbr0"), 0);
	vdrv_run(&E.d);
	ASSERT_EQ(sh("ip link set " IFNAME " nomaster"), 0);
	vdrv_run(&E.d);
	ASSERT_EQ(sh("ip link set " IFNAME " master kbr0 && ip link del kbr0"), 0);
	vdrv_run(&E.d);
	EXPECT_EQ(E.d.config_irq, 0u);
	EXPECT_EQ(guest_link_status(), VIRTIO_NET_S_LINK_UP);
	EXPECT_EQ(guest_to_tap(5, 100, false), 0);
	EXPECT_EQ(tap_to_guest(5, 100), 0);
}

TEST(created_tap_is_removed_given_tap_is_left)
{
	struct net_client *nc;
	struct netdev_opts o;
	char err[128];

	netns();
	ASSERT_EQ(loop_create(&E.loop), 0);
	ASSERT_EQ(netdev_parse("tap,id=n0,ifname=kmade0", &o, err, sizeof(err)), 0);
	ASSERT_EQ(netdev_open(&o, E.loop, &nc), 0);
	EXPECT_NE(if_nametoindex("kmade0"), 0u);
	netdev_close(nc);
	EXPECT_EQ(if_nametoindex("kmade0"), 0u);

	ASSERT_EQ(sh("ip tuntap add kgiven0 mode tap && ip link set kgiven0 up"), 0);
	ASSERT_EQ(netdev_parse("tap,id=n1,ifname=kgiven0", &o, err, sizeof(err)), 0);
	ASSERT_EQ(netdev_open(&o, E.loop, &nc), 0);
	netdev_close(nc);
	EXPECT_NE(if_nametoindex("kgiven0"), 0u);
	EXPECT_EQ(sh("ip link show kgiven0 | grep -q ',UP'"), 0);
}

TEST(open_errors_name_the_cause)
{
	struct net_client *nc;
	struct netdev_opts o;
	char err[128];

	netns();
	ASSERT_EQ(loop_create(&E.loop), 0);
	/* Not a tap fd. */
	ASSERT_EQ(netdev_parse("tap,id=n0,fd=0", &o, err, sizeof(err)), 0);
	EXPECT_LT(netdev_open(&o, E.loop, &nc), 0);
	/* A tun (not tap) device of that name exists. */
	ASSERT_EQ(sh("ip tuntap add ktun0 mode tun"), 0);
	ASSERT_EQ(netdev_parse("tap,id=n0,ifname=ktun0", &o, err, sizeof(err)), 0);
	EXPECT_EQ(netdev_open(&o, E.loop, &nc), -EINVAL);
}

/* Two NICs on two taps in a Linux bridge: frames cross from one guest ring to the other. */
static struct vdrv D2;

static int nic_on_tap(struct vdrv *d, const char *spec, const uint8_t *mac, struct virtio_net **out)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet" };
	struct net_client *tap;
	struct netdev_opts o;
	char err[128];
	int ret;

	if (vdrv_init(d, E.loop))
		return -ENOMEM;
	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (!ret)
		ret = netdev_open(&o, E.loop, &tap);
	if (ret)
		return ret;
	p.mem = &d->mem;
	p.loop = E.loop;
	p.backend = tap;
	memcpy(p.mac, mac, 6);
	ret = virtio_net_init(&p, out);
	if (ret)
		return ret;
	vdrv_attach(d, virtio_net_vdev(*out));
	return 0;
}

static int cross(struct vdrv *from, struct vdrv *to, const uint8_t *dst, const uint8_t *src,
		 unsigned int n)
{
	static uint8_t frame[1514], got[65536];
	struct virtio_net_hdr_v1 hdr = { 0 }, rhdr;
	unsigned int i, spins;
	ssize_t r = 0;

	for (i = 0; i < n; i++) {
		make_frame(frame, 1514, dst, src, i);
		if (vdrv_net_tx(from, &hdr, frame, 1514, i & 1) < 0)
			return -1;
		vdrv_kick(from, TXQ);
		for (spins = 0; spins < 200 && (r = vdrv_net_rx(to, &rhdr, got, sizeof(got))) == 0;
		     spins++)
			loop_run_once(E.loop, 10);
		if (r != 1514 || memcmp(got, frame, 1514))
			return -2;
		if (vdrv_net_rx_fill(to, 1))
			return -3;
	}
	return 0;
}

TEST(two_nics_talk_through_a_bridge)
{
	static const uint8_t mac2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
	struct virtio_net *vn2;

	netns();
	ASSERT_EQ(loop_create(&E.loop), 0);
	ASSERT_EQ(nic_on_tap(&E.d, "tap,id=n0,ifname=ktapa", guest_mac, &E.vn), 0);
	ASSERT_EQ(nic_on_tap(&D2, "tap,id=n1,ifname=ktapb", mac2, &vn2), 0);
	ASSERT_EQ(sh("ip link add kbr0 type bridge && ip link set ktapa master kbr0 && "
		     "ip link set ktapb master kbr0 && ip link set kbr0 up && "
		     "ip link set ktapa up && ip link set ktapb up"),
		  0);
	vdrv_run(&E.d);
	ASSERT_EQ(vdrv_probe(&E.d, ~0ull, 256), 0);
	ASSERT_EQ(vdrv_probe(&D2, ~0ull, 256), 0);
	/*
	 * The guests leave promiscuous mode through the control queue, as Linux
	 * does: the bridge's multicast chatter (IGMP) is filtered by the device.
	 */
	ASSERT_EQ(vdrv_net_ctrl(&E.d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "", 1),
		  VIRTIO_NET_OK);
	ASSERT_EQ(vdrv_net_ctrl(&D2, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "", 1),
		  VIRTIO_NET_OK);
	ASSERT_EQ(vdrv_net_rx_fill(&E.d, 32), 0);
	ASSERT_EQ(vdrv_net_rx_fill(&D2, 32), 0);
	EXPECT_EQ(cross(&E.d, &D2, mac2, guest_mac, 50), 0);
	EXPECT_EQ(cross(&D2, &E.d, guest_mac, mac2, 50), 0);
}

/*
 * The tap set down while the guest transmits, before kavm's netlink monitor
 * saw it: the write meets EIO inside the NIC's TX, and the tap's link-down
 * handling calls the NIC back (link status). The NIC held its device lock
 * across the send, so the loop hung for good (killed at the timeout).
 */
TEST_TIMEOUT(tap_set_down_during_guest_tx_neither_hangs_nor_loses_count, 30)
{
	static uint8_t got[2048];
	struct virtio_net_stats st;

	netns();
	ASSERT_EQ(env_setup("tap,id=n0,ifname=" IFNAME, ~0ull, false), 0);
	ASSERT_EQ(guest_to_tap(3, 1514, false), 0);
	/* Down behind the loop's back: the netlink event waits until after the kick. */
	ASSERT_EQ(sh("ip link set " IFNAME " down"), 0);
	ASSERT_EQ(guest_tx_burst(20), 0);
	EXPECT_EQ(guest_tx_reap(), 20u);
	/* One frame met EIO at the tap, the rest found the link down: each one counted. */
	EXPECT_EQ(E.tap->stats.rx_link_down, 1u);
	EXPECT_EQ(E.tap->peer->stats.tx_link_down, 19u);
	virtio_net_get_stats(E.vn, &st);
	EXPECT_EQ(st.engine.tx_frames, 23u);
	EXPECT_EQ(guest_link_status(), 0);
	EXPECT_EQ(E.d.config_irq, 1u);
	/* ENETDOWN: the host side's socket sees the tap down, and nothing came. */
	EXPECT_EQ(host_recv(got, sizeof(got), 50), -ENETDOWN);
	/* Up again: TX goes on. */
	ASSERT_EQ(sh("ip link set " IFNAME " up"), 0);
	vdrv_run(&E.d);
	EXPECT_EQ(guest_link_status(), VIRTIO_NET_S_LINK_UP);
	EXPECT_EQ(guest_to_tap(5, 1514, false), 0);
}

/* A loop handler that sets the tap down: ready before the tap, it runs first in the batch. */
static void tap_down_fn(int fd, uint32_t events, void *opaque)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n))
		sh("ip link set " IFNAME " down");
	loop_del_fd(E.loop, fd);
}

/*
 * The tap set down between EPOLLOUT and its handler, a guest frame waiting
 * in the tap's queue: the flush delivering it meets EIO, and the tap's
 * link-down handling flushes the same queue again. The outer flush then
 * freed the frame a second time.
 */
TEST_TIMEOUT(tap_set_down_between_epollout_and_its_handler, 30)
{
	struct pollfd pfd = { .events = POLLOUT };
	unsigned int next = 0, used;
	uint64_t one = 1;
	int efd;

	ASSERT_EQ(env_setup_slow_tap(), 0);
	ASSERT_EQ(guest_tx_burst(100), 0);
	used = guest_tx_reap();
	ASSERT_EQ(net_queue_len(E.tap->incoming), 1u);
	/* epoll reports in the order fds became ready: first ours, then the tap's EPOLLOUT. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(loop_add_fd(E.loop, efd, EPOLLIN, tap_down_fn, NULL), 0);
	ASSERT_EQ(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	pfd.fd = E.tapfd;
	ASSERT_EQ(poll(&pfd, 1, 5000), 1);
	/*
	 * One turn runs both handlers. The netlink event was not ready when it
	 * began, so a link already down means the flush met EIO: the case wanted.
	 */
	ASSERT_GE(loop_run_once(E.loop, 0), 2);
	EXPECT_EQ(guest_link_status(), 0);
	vdrv_run(&E.d);
	used += guest_tx_reap();
	EXPECT_EQ(used, 100u);
	EXPECT_EQ(net_queue_len(E.tap->incoming), 0u);
	/* Every frame: written and received in order, or dropped at the tap and counted. */
	ASSERT_EQ(host_recv_in_order(&next, 500), 0);
	EXPECT_EQ(E.tap->stats.rx_link_down, 1u);
	EXPECT_EQ(next + E.tap->stats.rx_link_down + E.tap->peer->stats.tx_link_down, 100u);
	ASSERT_EQ(sh("ip link set " IFNAME " up"), 0);
	vdrv_run(&E.d);
	EXPECT_EQ(guest_link_status(), VIRTIO_NET_S_LINK_UP);
}

/*
 * Teardown in kavm's order (the NIC, then its backend) with a frame waiting
 * in the tap's queue and more TX posted. Purging the NIC's frame called its
 * sent callback, which restarted TX and queued a new frame on the tap; the
 * tap's own teardown then completed it on the freed NIC (ASan:
 * heap-use-after-free in vnet_tx_sent).
 */
TEST(nic_teardown_with_tx_waiting_in_the_tap)
{
	struct virtio_net_stats st;
	unsigned int next = 0, used;

	ASSERT_EQ(env_setup_slow_tap(), 0);
	ASSERT_EQ(guest_tx_burst(100), 0);
	used = guest_tx_reap();
	ASSERT_EQ(net_queue_len(E.tap->incoming), 1u);
	virtio_net_get_stats(E.vn, &st);
	ASSERT_LT(st.engine.tx_frames, 100u);
	ASSERT_EQ(used, st.engine.tx_frames);
	virtio_net_exit(E.vn);
	E.vn = NULL;
	/* The NIC stopped before its frame was purged: it took nothing more from the guest. */
	EXPECT_EQ(guest_tx_reap(), 0u);
	EXPECT_EQ(net_queue_len(E.tap->incoming), 0u);
	EXPECT_EQ(E.tap->stats.rx_purged, 1u);
	/* Every frame the NIC took reached the host in order, but the one purged. */
	ASSERT_EQ(host_recv_in_order(&next, 500), 0);
	EXPECT_EQ(next + 1, st.engine.tx_frames);
	netdev_close(E.tap);
	E.tap = NULL;
}

/* netdev_open() for "tap,id=n0,fd=<a new tap with flags><extra>". */
static int open_tap_fd(short flags, const char *extra)
{
	struct netdev_opts o;
	char spec[96], err[128];
	int ret;

	E.tapfd = tap_fd_create_flags(flags);
	if (E.tapfd < 0)
		return E.tapfd;
	snprintf(spec, sizeof(spec), "tap,id=n0,fd=%d%s", E.tapfd, extra);
	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (!ret)
		ret = netdev_open(&o, E.loop, &E.tap);
	if (ret)
		close(E.tapfd);
	return ret;
}

/*
 * fd=: the fd's own framing rules. vnet_hdr=off on a fd with IFF_VNET_HDR was
 * taken at its word: the kernel then ate 10 bytes of every guest frame as a
 * header and put one before every frame to the guest.
 */
TEST(tap_fd_framing_is_the_fds_own)
{
	struct net_client *tap;

	netns();
	ASSERT_EQ(loop_create(&E.loop), 0);
	EXPECT_EQ(open_tap_fd(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, ",vnet_hdr=off"), -EINVAL);
	EXPECT_EQ(open_tap_fd(IFF_TAP | IFF_NO_PI, ",vnet_hdr=on"), -EINVAL);
	EXPECT_EQ(open_tap_fd(IFF_TUN | IFF_NO_PI, ""), -EINVAL);
	/* Without vnet_hdr=, the fd's flag decides, both ways. */
	ASSERT_EQ(open_tap_fd(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, ""), 0);
	EXPECT_TRUE(E.tap->ops->has_vnet_hdr(E.tap));
	tap = E.tap;
	netdev_close(tap);
	ASSERT_EQ(open_tap_fd(IFF_TAP | IFF_NO_PI, ""), 0);
	EXPECT_FALSE(E.tap->ops->has_vnet_hdr(E.tap));
	netdev_close(E.tap);
}

/* A fd without IFF_VNET_HDR given with vnet_hdr=off: frames intact both ways. */
TEST(tap_fd_without_vnet_hdr_carries_frames_intact)
{
	char spec[64];

	netns();
	E.tapfd = tap_fd_create_flags(IFF_TAP | IFF_NO_PI);
	ASSERT_GE(E.tapfd, 0);
	snprintf(spec, sizeof(spec), "tap,id=n0,fd=%d,vnet_hdr=off", E.tapfd);
	ASSERT_EQ(env_setup(spec, ~0ull, false), 0);
	EXPECT_EQ(guest_to_tap(10, 1514, false), 0);
	EXPECT_EQ(tap_to_guest(10, 1514), 0);
}
