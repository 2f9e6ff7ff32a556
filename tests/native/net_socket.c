// SPDX-License-Identifier: GPL-2.0
/*
 * socket netdevs talking to each other through the net core and the loop,
 * each test in its own netns: TCP listen/connect, UDP, multicast; peers
 * that break the framing or leave; the same under the I/O thread's seccomp
 * list; and a filter-dump of it read back by tshark.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/net-dump.h>
#include <kavm/net-socket.h>
#include <kavm/seccomp.h>
#include <kavm/virtqueue.h>

#include "../harness.h"

#define NFRAMES 300

/* A NIC: checks every frame's sequence number and pattern as it comes. */
struct nic {
	struct net_client nc;
	int accept;
	unsigned int got, bad;
	uint32_t next; /* the sequence number expected next */
	uint64_t bytes;
	unsigned int link_events;
};

static struct loop *loop;
/* UDP carries at most 65507 bytes a datagram: the datagram tests keep below. */
static size_t size_cap = NET_SOCKET_MAX_FRAME;
static struct nic nics[2];
static struct net_client *nd[2];

/* Sizes from 60 to the largest a socket netdev carries, and back. */
static size_t frame_size(uint32_t seq)
{
	static const size_t sizes[] = { 60, 1514, 9000, 65536, NET_SOCKET_MAX_FRAME, 61, 4000 };

	size_t n = sizes[seq % (sizeof(sizes) / sizeof(sizes[0]))];

	return n < size_cap ? n : size_cap;
}

/* An Ethernet frame: broadcast, source 02:00:00:00:<who>:<seq>, type 0x88b5, a pattern. */
static void frame_fill(uint8_t *f, size_t len, unsigned int who, uint32_t seq)
{
	size_t i;

	memset(f, 0xff, 6);
	memcpy(f + 6, (uint8_t[]){ 2, 0, 0, 0, who, seq & 0xff }, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, 4);
	for (i = 18; i < len; i++)
		f[i] = (uint8_t)(seq + i);
}

static ssize_t nic_receive(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	static uint8_t want[NET_SOCKET_MAX_FRAME];
	struct nic *n = (struct nic *)nc;
	size_t len = iov_length(iov, iovcnt);

	if (!n->accept)
		return 0;
	frame_fill(want, frame_size(n->next), n == &nics[0] ? 1 : 0, n->next);
	if (len != frame_size(n->next) || memcmp(iov[0].iov_base, want, len))
		n->bad++;
	n->next++;
	n->got++;
	n->bytes += len;
	return len;
}

static void nic_link(struct net_client *nc)
{
	((struct nic *)nc)->link_events++;
}

static const struct net_client_ops nic_ops = {
	.type = "test-nic",
	.receive_iov = nic_receive,
	.link_status_changed = nic_link,
};

static int open_nd(unsigned int i, const char *spec)
{
	struct netdev_opts o;
	char err[128];
	int ret;

	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s: %s\n", spec, err);
		return ret;
	}
	ret = netdev_open(&o, loop, &nd[i]);
	if (ret)
		return ret;
	if (net_client_init(&nics[i].nc, &nic_ops, i ? "nic1" : "nic0"))
		return -ENOMEM;
	nics[i].accept = 1;
	return net_client_connect(&nics[i].nc, nd[i]);
}

static int setup(void)
{
	kt_unshare_netns();
	memset(nics, 0, sizeof(nics));
	return loop_create(&loop);
}

/* Turn the loop until cond holds or 10 s pass. */
#define RUN_UNTIL(cond)                                                                            \
	({                                                                                         \
		int _i;                                                                            \
		for (_i = 0; _i < 1000 && !(cond); _i++)                                           \
			loop_run_once(loop, 10);                                                   \
		(cond);                                                                            \
	})

static unsigned int sent[2];

static void nic_sent(struct net_client *nc, ssize_t len)
{
}

/* NIC i sends frames until n are out or the netdev makes it wait. */
static void send_some(unsigned int i, unsigned int n)
{
	static uint8_t f[NET_SOCKET_MAX_FRAME];

	while (sent[i] < n) {
		size_t len = frame_size(sent[i]);

		frame_fill(f, len, i, sent[i]);
		sent[i]++;
		if (net_send(&nics[i].nc, f, len, nic_sent) == 0)
			return;
	}
}

/* Both ways at once, NFRAMES each, with the loop turning in between. */
static bool exchange(void)
{
	int turns;

	sent[0] = sent[1] = 0;
	for (turns = 0; turns < 5000; turns++) {
		send_some(0, NFRAMES);
		send_some(1, NFRAMES);
		if (nics[0].got == NFRAMES && nics[1].got == NFRAMES)
			return true;
		loop_run_once(loop, 10);
	}
	return false;
}

TEST(tcp_listen_and_connect_carry_frames_both_ways_in_order)
{
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(open_nd(0, "socket,id=s0,listen=127.0.0.1:5555"), 0);
	EXPECT_FALSE(net_client_link_up(&nics[0].nc)); /* no peer yet */
	ASSERT_EQ(open_nd(1, "socket,id=s1,connect=127.0.0.1:5555"), 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[0].nc) && net_client_link_up(&nics[1].nc)));
	ASSERT_TRUE(exchange());
	EXPECT_EQ(nics[0].bad, 0u);
	EXPECT_EQ(nics[1].bad, 0u);
	EXPECT_EQ(nd[0]->stats.tx_packets, (uint64_t)NFRAMES);
	EXPECT_EQ(nd[1]->stats.rx_packets, (uint64_t)NFRAMES);
	netdev_close(nd[0]);
	netdev_close(nd[1]);
}

TEST(a_full_receiver_stops_the_reads_and_nothing_is_lost)
{
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(open_nd(0, "socket,id=s0,listen=127.0.0.1:5555"), 0);
	ASSERT_EQ(open_nd(1, "socket,id=s1,connect=127.0.0.1:5555"), 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[0].nc) && net_client_link_up(&nics[1].nc)));
	nics[1].accept = 0;
	sent[0] = 0;
	send_some(0, NFRAMES);
	ASSERT_TRUE(RUN_UNTIL(net_queue_len(nics[1].nc.incoming) > 0));
	for (int i = 0; i < 50; i++) {
		send_some(0, NFRAMES);
		loop_run_once(loop, 10);
	}
	/* s1 read one frame, could not hand it over, and reads no more. */
	EXPECT_EQ(net_queue_len(nics[1].nc.incoming), 1u);
	EXPECT_EQ(nics[1].got, 0u);
	nics[1].accept = 1;
	net_client_flush_queued(&nics[1].nc);
	ASSERT_TRUE(RUN_UNTIL((send_some(0, NFRAMES), nics[1].got == NFRAMES)));
	EXPECT_EQ(nics[1].bad, 0u);
	netdev_close(nd[0]);
	netdev_close(nd[1]);
}

/* Datagrams are dropped when the socket's buffer is full (as QEMU's): one at a time. */
static bool exchange_paced(void)
{
	unsigned int i;

	sent[0] = sent[1] = 0;
	for (i = 1; i <= NFRAMES; i++) {
		send_some(0, i);
		send_some(1, i);
		if (!RUN_UNTIL(nics[0].got == i && nics[1].got == i))
			return false;
	}
	return true;
}

TEST(udp_pair)
{
	ASSERT_EQ(setup(), 0);
	size_cap = 9000;
	ASSERT_EQ(open_nd(0, "socket,id=s0,udp=127.0.0.1:6001,localaddr=127.0.0.1:6000"), 0);
	ASSERT_EQ(open_nd(1, "socket,id=s1,udp=127.0.0.1:6000,localaddr=127.0.0.1:6001"), 0);
	EXPECT_TRUE(net_client_link_up(&nics[0].nc));
	ASSERT_TRUE(exchange_paced());
	EXPECT_EQ(nics[0].bad, 0u);
	EXPECT_EQ(nics[1].bad, 0u);
	netdev_close(nd[0]);
	netdev_close(nd[1]);
}

TEST(mcast_group_reaches_the_other_member_and_loops_back_as_qemu)
{
	uint8_t f[100];

	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(system("ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"), 0);
	ASSERT_EQ(open_nd(0, "socket,id=m0,mcast=239.1.2.3:7000,localaddr=127.0.0.1"), 0);
	ASSERT_EQ(open_nd(1, "socket,id=m1,mcast=239.1.2.3:7000,localaddr=127.0.0.1"), 0);
	/* NIC 1 expects NIC 0's frames; the sender's own copy comes back to it too. */
	nics[1].next = 0;
	frame_fill(f, 60, 0, 0);
	ASSERT_EQ(net_send(&nics[0].nc, f, 60, NULL), 60);
	ASSERT_TRUE(RUN_UNTIL(nics[1].got == 1 && nics[0].got == 1));
	EXPECT_EQ(nics[1].bad, 0u);
	EXPECT_EQ(nics[1].bytes, 60u);
	EXPECT_EQ(nics[0].bytes, 60u);
	netdev_close(nd[0]);
	netdev_close(nd[1]);
}

/* --- peers that break the framing or leave; what kavm says, read from stderr */

static char errbuf[4096];
static int saved_stderr = -1;

static void capture_stderr(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

static const char *captured(void)
{
	ssize_t n = pread(2, errbuf, sizeof(errbuf) - 1, 0);

	errbuf[n > 0 ? n : 0] = 0;
	return errbuf;
}

static int raw_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST(an_oversized_length_closes_the_connection_and_says_so)
{
	int fd;

	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(open_nd(0, "socket,id=s0,listen=127.0.0.1:5555"), 0);
	capture_stderr();
	fd = raw_connect(5555);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[0].nc)));
	ASSERT_EQ(write(fd, "\x00\x01\x86\xa0", 4), 4); /* 100000 */
	ASSERT_TRUE(RUN_UNTIL(!net_client_link_up(&nics[0].nc)));
	EXPECT_TRUE(strstr(captured(), "kavm: warning: netdev s0: the peer sent a frame of 100000 "
				       "bytes (at most 69632); link down, waiting for a new "
				       "connection on 127.0.0.1:5555\n") != NULL);
	EXPECT_EQ(nics[0].got, 0u);
	/* The next peer is taken: listen= waits for one again, as QEMU's does. */
	close(fd);
	fd = raw_connect(5555);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[0].nc)));
	close(fd);
	netdev_close(nd[0]);
	dup2(saved_stderr, 2);
	fprintf(stderr, "%s", errbuf);
}

TEST(a_peer_leaving_mid_frame_is_named_and_the_link_goes_down)
{
	int fd;

	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(open_nd(0, "socket,id=s0,listen=127.0.0.1:5555"), 0);
	capture_stderr();
	fd = raw_connect(5555);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[0].nc)));
	ASSERT_EQ(write(fd,
			"\x00\x00\x00\x64"
			"0123456789",
			14),
		  14); /* 10 of 100 bytes */
	close(fd);
	ASSERT_TRUE(RUN_UNTIL(!net_client_link_up(&nics[0].nc)));
	EXPECT_TRUE(strstr(captured(), "netdev s0: the peer closed the connection in the middle "
				       "of a frame (10 of 100 bytes); link down") != NULL);
	EXPECT_EQ(nics[0].got, 0u);
	netdev_close(nd[0]);
	dup2(saved_stderr, 2);
	fprintf(stderr, "%s", errbuf);
}

TEST(a_connect_peer_closing_leaves_the_link_down_for_good)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5556) };
	int lfd, c, one = 1;

	ASSERT_EQ(setup(), 0);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ASSERT_EQ(listen(lfd, 1), 0);
	ASSERT_EQ(open_nd(1, "socket,id=s1,connect=127.0.0.1:5556"), 0);
	c = accept(lfd, NULL, NULL);
	ASSERT_GE(c, 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[1].nc)));
	capture_stderr();
	close(c);
	ASSERT_TRUE(RUN_UNTIL(!net_client_link_up(&nics[1].nc)));
	EXPECT_TRUE(strstr(captured(),
			   "kavm: netdev s1: the peer closed the connection; link down, "
			   "connection to 127.0.0.1:5556 closed\n") != NULL);
	/* Frames the guest sends now go nowhere, counted; nothing blocks. */
	EXPECT_EQ(net_send(&nics[1].nc, "x", 1, NULL), 1);
	EXPECT_EQ(nics[1].nc.stats.tx_link_down, 1u);
	netdev_close(nd[1]);
	dup2(saved_stderr, 2);
	fprintf(stderr, "%s", errbuf);
}

TEST(a_refused_connect_is_one_line_at_start)
{
	struct netdev_opts o;
	char err[128];

	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(netdev_parse("socket,id=s1,connect=127.0.0.1:5999", &o, err, sizeof(err)), 0);
	capture_stderr();
	EXPECT_EQ(netdev_open(&o, loop, &nd[1]), -ECONNREFUSED);
	EXPECT_STREQ(captured(), "kavm: netdev s1: connect 127.0.0.1:5999: Connection refused\n");
	dup2(saved_stderr, 2);
}

/* The loop thread's allow-list covers a whole connection's life: accept, frames, a re-accept. */
TEST(sandboxed_io_thread_runs_the_socket_backend)
{
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(open_nd(0, "socket,id=s0,listen=127.0.0.1:5555"), 0);
	ASSERT_EQ(open_nd(1, "socket,id=s1,connect=127.0.0.1:5555"), 0);
	ASSERT_EQ(sandbox_prepare(), 0);
	ASSERT_EQ(sandbox_apply(SANDBOX_IO, "the I/O thread"), 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[0].nc) && net_client_link_up(&nics[1].nc)));
	ASSERT_TRUE(exchange());
	/* s1 leaves (as a peer would): s0 closes the stream and listens again. */
	netdev_close(nd[1]);
	ASSERT_TRUE(RUN_UNTIL(!net_client_link_up(&nics[0].nc)));
	netdev_close(nd[0]);
}

/* --- filter-dump on a socket netdev, read back by tshark */

TEST(filter_dump_of_a_socket_netdev_reads_back_in_tshark_in_order)
{
	struct net_filter_opts f;
	struct netdev_opts o;
	struct net_dump *d;
	char err[128], cmd[512], line[256], path[] = "/tmp/kavm-dump-XXXXXX";
	unsigned int n = 0, bad = 0;
	FILE *p;

	if (system("command -v tshark >/dev/null"))
		SKIP("no tshark (tests/install-deps.sh installs it)");
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(open_nd(0, "socket,id=s0,listen=127.0.0.1:5555"), 0);
	ASSERT_EQ(open_nd(1, "socket,id=s1,connect=127.0.0.1:5555"), 0);
	close(mkstemp(path));
	snprintf(cmd, sizeof(cmd), "filter-dump,id=d0,netdev=s0,file=%s,maxlen=128", path);
	ASSERT_EQ(net_filter_parse(cmd, &f, err, sizeof(err)), 0);
	ASSERT_EQ(netdev_parse("socket,id=s0,listen=127.0.0.1:5555", &o, err, sizeof(err)), 0);
	ASSERT_EQ(net_dump_open(&f, &o, nd[0], &d), 0);
	ASSERT_TRUE(RUN_UNTIL(net_client_link_up(&nics[0].nc) && net_client_link_up(&nics[1].nc)));
	ASSERT_TRUE(exchange());
	net_dump_close(d);
	/* Every frame both ways: length, source address, sequence number; snaplen 128. */
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -T fields -E separator=' ' -e frame.len -e frame.cap_len "
		 "-e eth.src -e eth.type 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	ASSERT_TRUE(p != NULL);
	{
		uint32_t next[2] = { 0, 0 };

		while (fgets(line, sizeof(line), p)) {
			unsigned int len, cap, who, seq;
			unsigned int m[4];

			if (sscanf(line, "%u %u %x:%x:%x:%x:%x:%x 0x%x", &len, &cap, &m[0], &m[1],
				   &m[2], &m[3], &who, &seq, &m[0]) != 9 ||
			    who > 1 || seq != (next[who] & 0xff) || len != frame_size(next[who]) ||
			    cap != (len < 128 ? len : 128))
				bad++;
			else
				next[who]++;
			n++;
		}
		EXPECT_EQ(next[0], (uint32_t)NFRAMES); /* s0 received them from NIC 0 */
		EXPECT_EQ(next[1], (uint32_t)NFRAMES); /* s0 sent them to NIC 0 */
	}
	EXPECT_EQ(pclose(p), 0);
	EXPECT_EQ(n, 2u * NFRAMES);
	EXPECT_EQ(bad, 0u);
	unlink(path);
	netdev_close(nd[0]);
	netdev_close(nd[1]);
}
