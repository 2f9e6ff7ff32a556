// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user against a scripted bad backend: a small vhost-user server in a
 * child process that behaves until one request, then lies (wrong request
 * type, short or huge size, bad flags, out-of-range values, refusals,
 * file descriptors), closes mid-message, or never replies. Each violation
 * must be named by kavm in one log line, the device's link must be down,
 * and kavm (this process) must go on, never waiting longer than the reply
 * deadline. The violations come at start (netdev open: kavm refuses to
 * start), at a reconnect's handshake, at DRIVER_OK, at a device reset and
 * between requests. With queues=N: GET_QUEUE_NUM's lies (short, 0, absurd,
 * fewer pairs than asked), no MQ at all, the last ring refused; and the
 * backend records what it got, so that VQ_PAIRS_SET is seen to enable and
 * disable the backend's rings.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <kavm/compiler.h>
#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/seccomp.h>
#include <kavm/vhost-user.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#define F(bit) (1ull << (bit))

/* The requests, as the spec numbers them. */
enum {
	GET_FEATURES = 1,
	SET_FEATURES = 2,
	SET_OWNER = 3,
	SET_MEM_TABLE = 5,
	SET_VRING_NUM = 8,
	SET_VRING_ADDR = 9,
	GET_VRING_BASE = 11,
	SET_VRING_KICK = 12,
	SET_VRING_CALL = 13,
	GET_PROTOCOL_FEATURES = 15,
	SET_PROTOCOL_FEATURES = 16,
	GET_QUEUE_NUM = 17,
	SET_VRING_ENABLE = 18,
};

#define FLAG_VERSION 0x1u
#define FLAG_REPLY 0x4u
#define FLAG_NEED_REPLY 0x8u
#define PROTOCOL_FEATURES 30
#define PROTOCOL_F_MQ 0
#define PROTOCOL_F_REPLY_ACK 3

#define GOOD_FEATURES                                                                              \
	(F(VIRTIO_F_VERSION_1) | F(PROTOCOL_FEATURES) | F(VIRTIO_NET_F_MRG_RXBUF) |                \
	 F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))

enum fault {
	GOOD,		  /* a control: no fault */
	WRONG_REQUEST,	  /* the reply names request `value` */
	SIZE,		  /* the header says `value` bytes; 8 follow at most */
	FLAGS,		  /* the header's flags are `value` */
	VALUE,		  /* the u64 (features, ack) is `value` */
	RING_STATE,	  /* GET_VRING_BASE's reply is index (value >> 32), num (value) */
	CLOSE,		  /* close instead of replying */
	CLOSE_MID_HEADER, /* 6 bytes of the header, then close */
	CLOSE_MID_BODY,	  /* the header and 4 of 8 payload bytes, then close */
	HANG,		  /* never reply */
	HANG_MID_HEADER,  /* 6 bytes of the header, then nothing */
	FDS,		  /* the reply carries `value` file descriptors */
	TWICE,		  /* the reply, twice */
	LATER,		  /* the reply, and 200 ms later a message nobody asked for */
	LATER_PARTIAL,	  /* the reply, and 200 ms later 4 bytes nobody asked for */
	SLOW,		  /* the reply, 300 ms late (within the deadline): fine */
};

/* How the test reaches the faulty request. */
enum phase {
	AT_OPEN,      /* netdev open's handshake: kavm refuses to start */
	AT_RECONNECT, /* the first connection ends after DRIVER_OK; the next ones are bad */
	SERVED,	      /* kavm listens (server=on); the backend dials, and again after it left */
	AT_START,     /* DRIVER_OK hands out the rings */
	AT_RESET,     /* the driver resets the device: GET_VRING_BASE */
	IDLE,	      /* after DRIVER_OK, nothing asked */
};

struct scenario {
	uint32_t req;	  /* the request whose reply goes wrong */
	enum fault fault; /* how */
	uint64_t value;
	enum phase phase;
	const char *line;    /* what kavm says, after "vhost-user vu0: "; NULL: nothing */
	uint64_t features;   /* what GET_FEATURES offers (0: GOOD_FEATURES) */
	unsigned int ring;   /* for a ring's request: which ring's */
	unsigned int queues; /* kavm's queues= (0: 1) */
};

/* Queue pairs a good backend offers in GET_QUEUE_NUM. */
#define GOOD_QUEUE_NUM 8

/* --- the backend (child process) ----------------------------------------------------- */

/* Where the backend records the requests it got (set before it forks). */
static char E_record[96];

struct msg {
	uint32_t req, flags, size;
	uint8_t payload[256];
};

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		char cbuf[CMSG_SPACE(sizeof(int) * 16)];
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return -1;
		/* The memory table's and the rings' fds: a scripted backend maps nothing. */
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			int *fds = (int *)CMSG_DATA(cm), i;
			int nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < nfds; i++)
				close(fds[i]);
		}
		got += n;
	}
	return 0;
}

static int read_msg(int fd, struct msg *m)
{
	if (read_full(fd, m, 12) || m->size > sizeof(m->payload))
		return -1;
	return read_full(fd, m->payload, m->size);
}

static void send_raw(int fd, const void *buf, size_t len, unsigned int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 16)] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	unsigned int i;

	if (nfds) {
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (i = 0; i < nfds; i++) {
			int null = open("/dev/null", O_RDONLY);

			memcpy(CMSG_DATA(cm) + i * sizeof(int), &null, sizeof(int));
		}
	}
	if (sendmsg(fd, &m, MSG_NOSIGNAL) < 0)
		_exit(3);
}

static void reply(int fd, uint32_t req, uint32_t flags, uint32_t size, const void *p, size_t plen,
		  unsigned int nfds)
{
	uint8_t buf[12 + 16];
	uint32_t h[3] = { req, flags, size };

	memcpy(buf, h, 12);
	memcpy(buf + 12, p, plen);
	send_raw(fd, buf, 12 + plen, nfds);
}

static void hang(void)
{
	for (;;)
		pause();
}

/* The reply a good backend would give to m (payload in p, its size), or none (-1). */
static int good_reply(const struct scenario *sc, const struct msg *m, uint8_t *p)
{
	uint64_t v = 0;
	uint32_t state[2];

	switch (m->req) {
	case GET_FEATURES:
		v = sc->features ?: GOOD_FEATURES;
		break;
	case GET_PROTOCOL_FEATURES:
		v = F(PROTOCOL_F_REPLY_ACK) | F(PROTOCOL_F_MQ);
		break;
	case GET_QUEUE_NUM:
		v = GOOD_QUEUE_NUM;
		break;
	case GET_VRING_BASE:
		memcpy(state, m->payload, 4);
		state[1] = 0;
		memcpy(p, state, 8);
		return 8;
	default:
		if (!(m->flags & FLAG_NEED_REPLY))
			return -1;
	}
	memcpy(p, &v, 8);
	return 8;
}

/* Answer m as the scenario says; false: close the connection. */
static bool answer(int fd, const struct scenario *sc, const struct msg *m, bool faulty)
{
	uint32_t flags = FLAG_VERSION | FLAG_REPLY;
	uint8_t p[16];
	int len = good_reply(sc, m, p);
	enum fault f = faulty ? sc->fault : GOOD;

	if (f == SLOW)
		usleep(300000);
	if (f == CLOSE)
		return false;
	if (f == HANG)
		hang();
	if (len < 0)
		return true;
	switch (f) {
	case WRONG_REQUEST:
		reply(fd, sc->value, flags, len, p, len, 0);
		return true;
	case SIZE:
		reply(fd, m->req, flags, sc->value, p, min((uint64_t)len, sc->value), 0);
		return true;
	case FLAGS:
		reply(fd, m->req, sc->value, len, p, len, 0);
		return true;
	case VALUE:
		memcpy(p, &sc->value, 8);
		break;
	case RING_STATE: {
		uint32_t state[2] = { sc->value >> 32, (uint32_t)sc->value };

		memcpy(p, state, 8);
		break;
	}
	case CLOSE_MID_HEADER:
	case HANG_MID_HEADER:
		send_raw(fd, &m->req, 4, 0);
		send_raw(fd, &flags, 2, 0);
		if (f == HANG_MID_HEADER)
			hang();
		return false;
	case CLOSE_MID_BODY:
		reply(fd, m->req, flags, len, p, 4, 0);
		return false;
	default:
		break;
	}
	reply(fd, m->req, flags, len, p, len, f == FDS ? sc->value : 0);
	if (f == TWICE)
		reply(fd, m->req, flags, len, p, len, 0);
	if (f == LATER || f == LATER_PARTIAL)
		usleep(200000);
	if (f == LATER)
		reply(fd, GET_FEATURES, flags, 8, p, 8, 0);
	if (f == LATER_PARTIAL)
		send_raw(fd, &m->req, 4, 0);
	return true;
}

/* A ring's request: its payload starts with the ring's index. */
static bool ring_request(uint32_t req)
{
	return (req >= SET_VRING_NUM && req <= SET_VRING_CALL) || req == SET_VRING_ENABLE;
}

/* Which connection the fault starts on, and whether the first one ends after the start. */
static unsigned int fault_conn(const struct scenario *sc)
{
	return sc->phase == AT_RECONNECT || sc->phase == SERVED ? 2 : 1;
}

static unsigned int pairs(const struct scenario *sc)
{
	return sc->queues ?: 1;
}

/* Every request as "request index value" (the payload's first two u32s), for a test to read. */
static void record(int rec, const struct msg *m)
{
	uint32_t v[2] = { 0, 0 };

	memcpy(v, m->payload, min((size_t)m->size, sizeof(v)));
	dprintf(rec, "%u %u %u\n", m->req, v[0], v[1]);
}

static void serve(int fd, const struct scenario *sc, unsigned int conn)
{
	bool enabled_tx = false;
	struct msg m;
	int rec = open(E_record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	while (!read_msg(fd, &m)) {
		bool faulty = m.req == sc->req && conn >= fault_conn(sc) &&
			      (!ring_request(m.req) || m.payload[0] == sc->ring);

		record(rec, &m);
		if (!answer(fd, sc, &m, faulty))
			break;
		/* The last ring's enable ends the start (acked: kavm waits for nothing more). */
		enabled_tx |= m.req == SET_VRING_ENABLE && m.payload[0] == 2 * pairs(sc) - 1;
		if (fault_conn(sc) == 2 && conn == 1 && enabled_tx) {
			usleep(100000);
			break; /* the first connection ends; kavm dials again */
		}
	}
	close(rec);
}

/* The next connection: accepted on lfd, or (lfd < 0) dialled to kavm's socket. */
static int backend_conn(int lfd, const struct sockaddr_un *sa)
{
	int fd;

	if (lfd >= 0)
		return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || !connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
			return fd;
		close(fd);
		usleep(10000);
	}
}

static void backend_main(int lfd, const struct sockaddr_un *sa, const struct scenario *sc)
{
	unsigned int conn;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (conn = 1;; conn++) {
		fd = backend_conn(lfd, sa);
		if (fd < 0)
			_exit(2);
		serve(fd, sc, conn);
		close(fd);
	}
}

/* --- kavm's side (this process) ------------------------------------------------------- */

static struct env {
	char dir[64], sock[96], log[96];
	pid_t backend;
	int saved_stderr;
	struct loop *loop;
	struct vdrv d;
	struct net_client *nc;
	struct virtio_net *vn;
} E;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static int backend_start(const struct scenario *sc)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	snprintf(E.dir, sizeof(E.dir), "/tmp/kavm-vubad.XXXXXX");
	if (!mkdtemp(E.dir))
		return -errno;
	snprintf(E.sock, sizeof(E.sock), "%s/backend.sock", E.dir);
	snprintf(E.log, sizeof(E.log), "%s/kavm.log", E.dir);
	snprintf(E_record, sizeof(E_record), "%s/requests", E.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", E.sock);
	/* Listening before kavm dials: no race with the child's start. */
	lfd = sc->phase == SERVED ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sc->phase != SERVED &&
	    (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4)))
		return -errno;
	E.backend = fork();
	if (E.backend == 0)
		backend_main(lfd, &sa, sc);
	if (lfd >= 0)
		close(lfd);
	return E.backend < 0 ? -errno : 0;
}

/* kavm's messages go to a file while the scenario runs. */
static void capture_start(void)
{
	int fd = open(E.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	fflush(stderr);
	E.saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

static void capture_stop(void)
{
	fflush(stderr);
	dup2(E.saved_stderr, 2);
	close(E.saved_stderr);
}

/* The lines kavm wrote about vu0, and how many contain want. */
static unsigned int log_lines(const char *want, unsigned int *total, char *first, size_t size)
{
	unsigned int n = 0;
	char line[512];
	FILE *f = fopen(E.log, "r");

	*total = 0;
	first[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, "vhost-user vu0: "))
			continue;
		/* A reconnecting client says the first connection ended and it dials again. */
		if (strstr(line, "closed the connection; guest link down, reconnecting") ||
		    strstr(line, "trying again") || strstr(line, "reconnected to"))
			continue;
		if (!*total)
			snprintf(first, size, "%s", line);
		(*total)++;
		n += want && strstr(line, want);
	}
	if (f)
		fclose(f);
	return n;
}

static bool link_up(void)
{
	struct virtio_dev *vdev = virtio_net_vdev(E.vn);
	uint16_t status;

	pthread_mutex_lock(&vdev->lock);
	vdev->ops->config_read(vdev, 6, &status, 2);
	pthread_mutex_unlock(&vdev->lock);
	return status & VIRTIO_NET_S_LINK_UP;
}

/* One turn of kavm's loop; *longest: the longest turn so far (a turn waits at most 10 ms). */
static void turn(long long *longest)
{
	long long t = now_ms();

	loop_run_once(E.loop, 10);
	*longest = max(*longest, now_ms() - t);
}

/* Run kavm's loop until the line shows up (or ms pass). */
static void run_until_line(const char *want, int ms, long long *longest)
{
	long long end = now_ms() + ms;
	unsigned int total;
	char first[512];

	while (now_ms() < end) {
		turn(longest);
		if (want && log_lines(want, &total, first, sizeof(first)))
			break;
	}
	/* What the line promised: the wake-up that drops the connection has run. */
	for (end = now_ms() + 100; now_ms() < end;)
		turn(longest);
}

static int nic_up(const struct scenario *sc)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vu0" };
	struct netdev_opts o;
	char spec[192], err[128];
	int ret;

	snprintf(spec, sizeof(spec), "vhost-user,id=vu0,socket=%s,%s,queues=%u", E.sock,
		 sc->phase == SERVED	   ? "server=on" :
		 sc->phase == AT_RECONNECT ? "reconnect=1" :
					     "reconnect=0",
		 pairs(sc));
	if (loop_create(&E.loop) || vdrv_init(&E.d, E.loop))
		return -ENOMEM;
	vdrv_use_eventfds(&E.d);
	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (!ret)
		ret = netdev_open(&o, E.loop, &E.nc);
	if (ret)
		return ret;
	p.mem = &E.d.mem;
	p.loop = E.loop;
	p.backend = E.nc;
	p.mac[0] = 0x52;
	ret = virtio_net_init(&p, &E.vn);
	if (ret)
		return ret;
	vdrv_attach(&E.d, virtio_net_vdev(E.vn));
	return vdrv_probe(&E.d, ~0ull, 64);
}

static void env_down(void)
{
	int status;

	if (E.vn)
		virtio_net_exit(E.vn);
	if (E.nc)
		netdev_close(E.nc);
	vdrv_exit(&E.d);
	loop_destroy(E.loop);
	if (E.backend > 0) {
		kill(E.backend, SIGKILL);
		waitpid(E.backend, &status, 0);
	}
	unlink(E.sock);
	unlink(E.log);
	unlink(E_record);
	rmdir(E.dir);
	memset(&E, 0, sizeof(E));
}

/* Drive the scenario to its request; ms the longest kavm waited for anything. */
static int drive(const struct scenario *sc, long long *waited)
{
	long long t;
	int ret;

	t = now_ms();
	ret = nic_up(sc);
	*waited = now_ms() - t;
	if (sc->phase == AT_OPEN)
		return ret;
	if (ret)
		return ret;
	if (sc->phase == AT_RESET) {
		run_until_line(NULL, 100, waited);
		t = now_ms();
		vdrv_reset(&E.d); /* a vCPU writing status 0 */
		*waited = max(*waited, now_ms() - t);
	}
	/* A reconnect's hung handshake costs the deadline, then the backoff, again. */
	run_until_line(sc->line, sc->phase == AT_RECONNECT ? 8000 : 3000, waited);
	return 0;
}

static void run_scenario(const struct scenario *sc)
{
	unsigned int hits, total;
	char first[512];
	long long waited;
	int ret;

	ASSERT_EQ(backend_start(sc), 0);
	capture_start();
	ret = drive(sc, &waited);
	hits = log_lines(sc->line, &total, first, sizeof(first));
	capture_stop();
	fprintf(stderr, "# kavm said: %s", total ? first : "nothing\n");
	/* Bounded: one deadline, with slack for a loaded machine. */
	EXPECT_LT(waited, VHOST_USER_REPLY_TIMEOUT_MS + 1500);
	if (!sc->line) {
		EXPECT_EQ(ret, 0);
		EXPECT_EQ(total, 0u);
		EXPECT_TRUE(E.vn && link_up());
	} else if (sc->phase == AT_OPEN) {
		EXPECT_LT(ret, 0);
		EXPECT_EQ(hits, 1u);
		EXPECT_EQ(total, 1u);
	} else {
		struct vhost_user_stats st;

		ASSERT_EQ(ret, 0);
		EXPECT_GE(hits, 1u);
		/* Named once per attempt, never anything else (a reconnect makes more). */
		EXPECT_EQ(hits, total);
		if (sc->phase != AT_RECONNECT)
			EXPECT_EQ(total, 1u);
		EXPECT_FALSE(link_up());
		/* Told once that the link went down, never up again (a reset silences it). */
		EXPECT_EQ(E.d.config_irq, sc->phase == AT_RESET ? 0u : 1u);
		EXPECT_FALSE(vhost_user_running(vhost_user_of(E.nc)));
		vhost_user_get_stats(vhost_user_of(E.nc), &st);
		EXPECT_GE(st.violations, 1u);
	}
	env_down();
}

#define SCENARIO(name, ...)                                                                        \
	TEST_TIMEOUT(name, 30)                                                                     \
	{                                                                                          \
		static const struct scenario sc = { __VA_ARGS__ };                                 \
		run_scenario(&sc);                                                                 \
	}

/* Controls: a slow but timely backend, and one without protocol features, are fine. */
SCENARIO(good_backend_slow_replies_within_the_deadline, GET_FEATURES, SLOW, 0, AT_START, NULL)
SCENARIO(good_backend_without_protocol_features, 0, GOOD, 0, AT_START, NULL,
	 F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF))

/* At start-up: kavm refuses to start, with the line. */
SCENARIO(open_backend_lacks_version_1, GET_FEATURES, VALUE, F(VIRTIO_NET_F_MRG_RXBUF), AT_OPEN,
	 "GET_FEATURES: the backend lacks VIRTIO_F_VERSION_1 (features 0x8000)")
SCENARIO(open_backend_closes_instead_of_replying, GET_FEATURES, CLOSE, 0, AT_OPEN,
	 "GET_FEATURES: the backend closed the connection instead of replying")

/* A reconnect's handshake. */
SCENARIO(reconnect_wrong_reply_type, GET_FEATURES, WRONG_REQUEST, GET_PROTOCOL_FEATURES,
	 AT_RECONNECT, "GET_FEATURES: the reply is for request 15 (GET_PROTOCOL_FEATURES)")
SCENARIO(reconnect_short_reply, GET_FEATURES, SIZE, 4, AT_RECONNECT,
	 "GET_FEATURES: the reply's payload is 4 bytes, not 8")
SCENARIO(reconnect_huge_size, GET_FEATURES, SIZE, 0xffffffffu, AT_RECONNECT,
	 "GET_FEATURES: the reply's payload is 4294967295 bytes, not 8")
SCENARIO(reconnect_no_reply_flag, GET_FEATURES, FLAGS, FLAG_VERSION, AT_RECONNECT,
	 "GET_FEATURES: the reply's flags 0x1 lack the reply bit")
SCENARIO(reconnect_wrong_version, GET_FEATURES, FLAGS, 0x2 | FLAG_REPLY, AT_RECONNECT,
	 "GET_FEATURES: the reply has version 2, not 1")
SCENARIO(reconnect_unknown_flags, GET_FEATURES, FLAGS, 0x100 | FLAG_VERSION | FLAG_REPLY,
	 AT_RECONNECT, "GET_FEATURES: the reply's flags 0x105 have unknown bits 0x100")
SCENARIO(reconnect_need_reply_in_reply, GET_PROTOCOL_FEATURES, FLAGS,
	 FLAG_NEED_REPLY | FLAG_VERSION | FLAG_REPLY, AT_RECONNECT,
	 "GET_PROTOCOL_FEATURES: the reply's flags 0xd have unknown bits 0x8")
SCENARIO(reconnect_closes_mid_header, GET_FEATURES, CLOSE_MID_HEADER, 0, AT_RECONNECT,
	 "GET_FEATURES: the backend closed the connection mid-reply (6 of 12 header bytes)")
SCENARIO(reconnect_closes_mid_payload, GET_FEATURES, CLOSE_MID_BODY, 0, AT_RECONNECT,
	 "GET_FEATURES: the backend closed the connection mid-reply (4 of 8 payload bytes)")
SCENARIO(reconnect_never_replies, GET_FEATURES, HANG, 0, AT_RECONNECT,
	 "GET_FEATURES: no reply within 2000 ms")
SCENARIO(reconnect_stops_mid_header, GET_FEATURES, HANG_MID_HEADER, 0, AT_RECONNECT,
	 "GET_FEATURES: the reply stopped for 2000 ms (6 of 12 header bytes)")
SCENARIO(reconnect_reply_with_an_fd, GET_PROTOCOL_FEATURES, FDS, 1, AT_RECONNECT,
	 "GET_PROTOCOL_FEATURES: the reply carried 1 file descriptor(s)")
SCENARIO(reconnect_reply_with_too_many_fds, GET_PROTOCOL_FEATURES, FDS, 12, AT_RECONNECT,
	 "GET_PROTOCOL_FEATURES: the reply carried more than 8 file descriptors")
SCENARIO(reconnect_set_owner_refused, SET_OWNER, VALUE, 1, AT_RECONNECT,
	 "SET_OWNER: the backend refused it (ack 0x1)")
SCENARIO(reconnect_backend_lost_a_feature_the_guest_uses, GET_FEATURES, VALUE,
	 GOOD_FEATURES & ~F(VIRTIO_NET_F_MRG_RXBUF), AT_RECONNECT,
	 "start: the backend lacks features 0x8000 the guest uses")
SCENARIO(reconnect_reply_twice, GET_FEATURES, TWICE, 0, AT_RECONNECT,
	 "GET_PROTOCOL_FEATURES: the reply is for request 1 (GET_FEATURES)")

/* DRIVER_OK hands out the rings. */
SCENARIO(start_ack_short, SET_FEATURES, SIZE, 4, AT_START,
	 "SET_FEATURES: the reply's payload is 4 bytes, not 8")
SCENARIO(start_mem_table_refused, SET_MEM_TABLE, VALUE, 1, AT_START,
	 "SET_MEM_TABLE: the backend refused it (ack 0x1)")
SCENARIO(start_ack_all_ones, SET_MEM_TABLE, VALUE, ~0ull, AT_START,
	 "SET_MEM_TABLE: the backend refused it (ack 0xffffffffffffffff)")
SCENARIO(start_ack_for_another_request, SET_VRING_ADDR, WRONG_REQUEST, SET_VRING_NUM, AT_START,
	 "SET_VRING_ADDR: the reply is for request 8 (SET_VRING_NUM)")
SCENARIO(start_never_acks, SET_VRING_KICK, HANG, 0, AT_START,
	 "SET_VRING_KICK: no reply within 2000 ms")
SCENARIO(start_closes, SET_VRING_CALL, CLOSE, 0, AT_START,
	 "SET_VRING_CALL: the backend closed the connection instead of replying")
SCENARIO(start_ack_with_an_fd, SET_VRING_NUM, FDS, 1, AT_START,
	 "SET_VRING_NUM: the reply carried 1 file descriptor(s)")
SCENARIO(start_ack_unknown_request, SET_VRING_ENABLE, WRONG_REQUEST, 0xdeadbeefu, AT_START,
	 "SET_VRING_ENABLE: the reply is for request 3735928559 (an unknown request)")

/* A device reset takes the rings back. */
SCENARIO(reset_ring_base_for_another_ring, GET_VRING_BASE, RING_STATE, 1ull << 32, AT_RESET,
	 "GET_VRING_BASE: the reply is for ring 1, not ring 0")
SCENARIO(reset_ring_base_out_of_range, GET_VRING_BASE, RING_STATE, 70000, AT_RESET,
	 "GET_VRING_BASE: ring 0's base 70000 is out of range (at most 65535)")
SCENARIO(reset_never_replies, GET_VRING_BASE, HANG, 0, AT_RESET,
	 "GET_VRING_BASE: no reply within 2000 ms")
SCENARIO(reset_reply_with_fds, GET_VRING_BASE, FDS, 3, AT_RESET,
	 "GET_VRING_BASE: the reply carried 3 file descriptor(s)")
SCENARIO(reset_closes_mid_payload, GET_VRING_BASE, CLOSE_MID_BODY, 0, AT_RESET,
	 "GET_VRING_BASE: the backend closed the connection mid-reply (4 of 8 payload bytes)")

/* Nothing asked. */
SCENARIO(idle_unsolicited_message, SET_VRING_ENABLE, LATER, 0, IDLE,
	 "between requests: the backend sent a message nobody asked for (request 1, flags 0x5, "
	 "size 8)",
	 .ring = 1)
SCENARIO(idle_partial_message, SET_VRING_ENABLE, LATER_PARTIAL, 0, IDLE,
	 "between requests: the backend sent 4 bytes nobody asked for", .ring = 1)
SCENARIO(idle_reply_twice, SET_VRING_ENABLE, TWICE, 0, IDLE,
	 "between requests: the backend sent a message nobody asked for (request 18, flags 0x5, "
	 "size 8)",
	 .ring = 1)

/* Multiqueue (queues=2 or 4): VHOST_USER_PROTOCOL_F_MQ and GET_QUEUE_NUM, then every ring. */
SCENARIO(mq_good_backend_two_pairs, 0, GOOD, 0, AT_START, NULL, .queues = 2)
SCENARIO(mq_open_backend_offers_fewer_pairs, GET_QUEUE_NUM, VALUE, 1, AT_OPEN,
	 "GET_QUEUE_NUM: queues=2, but the backend offers only 1 queue pair(s)", .queues = 2)
SCENARIO(mq_open_backend_without_mq, GET_PROTOCOL_FEATURES, VALUE, F(PROTOCOL_F_REPLY_ACK), AT_OPEN,
	 "handshake: queues=2, but the backend offers no multiqueue (VHOST_USER_PROTOCOL_F_MQ)",
	 .queues = 2)
SCENARIO(mq_reconnect_queue_num_short, GET_QUEUE_NUM, SIZE, 4, AT_RECONNECT,
	 "GET_QUEUE_NUM: the reply's payload is 4 bytes, not 8", .queues = 2)
SCENARIO(mq_reconnect_queue_num_zero, GET_QUEUE_NUM, VALUE, 0, AT_RECONNECT,
	 "GET_QUEUE_NUM: the backend claims 0 queue pairs (1 to 32768 make sense)", .queues = 2)
SCENARIO(mq_reconnect_queue_num_absurd, GET_QUEUE_NUM, VALUE, ~0ull, AT_RECONNECT,
	 "GET_QUEUE_NUM: the backend claims 18446744073709551615 queue pairs (1 to 32768 make "
	 "sense)",
	 .queues = 2)
SCENARIO(mq_reconnect_backend_came_back_smaller, GET_QUEUE_NUM, VALUE, 3, AT_RECONNECT,
	 "GET_QUEUE_NUM: queues=4, but the backend offers only 3 queue pair(s)", .queues = 4)
SCENARIO(mq_reconnect_queue_num_never_replies, GET_QUEUE_NUM, HANG, 0, AT_RECONNECT,
	 "GET_QUEUE_NUM: no reply within 2000 ms", .queues = 2)
SCENARIO(mq_start_last_ring_refused, SET_VRING_CALL, VALUE, 1, AT_START,
	 "SET_VRING_CALL: the backend refused it (ack 0x1)", .ring = 3, .queues = 2)
SCENARIO(mq_reset_last_ring_base_out_of_range, GET_VRING_BASE, RING_STATE, (3ull << 32) | 70000,
	 AT_RESET, "GET_VRING_BASE: ring 3's base 70000 is out of range (at most 65535)", .ring = 3,
	 .queues = 2)

/* The last (request, index) the backend recorded: its value, or -1; *n how many there were. */
static long long recorded(uint32_t req, uint32_t index, unsigned int *n)
{
	unsigned int r, i, v;
	long long last = -1;
	FILE *f = fopen(E_record, "r");

	*n = 0;
	while (f && fscanf(f, "%u %u %u", &r, &i, &v) == 3) {
		if (r != req || i != index)
			continue;
		last = v;
		(*n)++;
	}
	if (f)
		fclose(f);
	return last;
}

static int set_pairs(unsigned int n)
{
	uint8_t le[2] = { n & 0xff, n >> 8 };

	return vdrv_net_ctrl(&E.d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le, 2);
}

/* Rings [from, to) were last told `on`; each ring of the pairs counted `times` enables. */
static void expect_enabled(unsigned int from, unsigned int to, long long on, unsigned int times)
{
	unsigned int r, n;

	for (r = from; r < to; r++) {
		EXPECT_EQ(recorded(SET_VRING_ENABLE, r, &n), on);
		EXPECT_EQ(n, times);
	}
}

/*
 * A recording backend with queues=4: DRIVER_OK sets up all 8 rings, enables
 * pair 0 and disables the others (the guest uses one pair until
 * VQ_PAIRS_SET); VQ_PAIRS_SET 4 enables them, VQ_PAIRS_SET 2 disables
 * pairs 2 and 3 again; a reset takes back all 8 rings.
 */
TEST_TIMEOUT(mq_vq_pairs_set_enables_and_disables_rings, 30)
{
	static const struct scenario sc = { .phase = AT_START, .queues = 4 };
	unsigned int r, n, total;
	long long waited = 0;
	char first[512];

	ASSERT_EQ(backend_start(&sc), 0);
	capture_start();
	ASSERT_EQ(nic_up(&sc), 0);
	run_until_line(NULL, 100, &waited);
	for (r = 0; r < 8; r++) {
		EXPECT_EQ(recorded(SET_VRING_NUM, r, &n), 64);
		/* Index r with no VU_VRING_NOFD bit: an eventfd came with it. */
		EXPECT_EQ(recorded(SET_VRING_KICK, r, &n), 0);
		EXPECT_EQ(n, 1u);
		EXPECT_EQ(recorded(SET_VRING_CALL, r, &n), 0);
		EXPECT_EQ(n, 1u);
	}
	EXPECT_GE(recorded(GET_QUEUE_NUM, 0, &n), 0);
	EXPECT_EQ(n, 1u);
	expect_enabled(0, 2, 1, 1);
	expect_enabled(2, 8, 0, 1);
	EXPECT_EQ(set_pairs(4), VIRTIO_NET_OK);
	expect_enabled(0, 2, 1, 1);
	expect_enabled(2, 8, 1, 2);
	EXPECT_EQ(set_pairs(2), VIRTIO_NET_OK);
	expect_enabled(2, 4, 1, 2);
	expect_enabled(4, 8, 0, 3);
	/* Out of range: refused by the NIC, nothing reaches the backend. */
	EXPECT_EQ(set_pairs(5), VIRTIO_NET_ERR);
	expect_enabled(4, 8, 0, 3);
	vdrv_reset(&E.d);
	for (r = 0; r < 8; r++) {
		EXPECT_EQ(recorded(GET_VRING_BASE, r, &n), 0);
		EXPECT_EQ(n, 1u);
	}
	EXPECT_EQ(vhost_user_started_pairs(vhost_user_of(E.nc)), 0u);
	log_lines(NULL, &total, first, sizeof(first));
	capture_stop();
	fprintf(stderr, "# kavm said: %s", total ? first : "nothing\n");
	EXPECT_EQ(total, 0u);
	EXPECT_TRUE(link_up());
	env_down();
}

/* --- the same life under kavm's sandbox ---------------------------------------------- */

static int vcpu_go[2] = { -1, -1 };

/* A vCPU: under its list, it resets the device (GET_VRING_BASE) when told to. */
static void *vcpu_thread(void *arg)
{
	char c;

	if (sandbox_apply(SANDBOX_VCPU, "vCPU 0") || read(vcpu_go[0], &c, 1) != 1)
		return (void *)1;
	vdrv_reset(&E.d);
	return NULL;
}

/* Run the loop until the link is want; false after ms. */
static bool loop_until_link(bool want, int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		loop_run_once(E.loop, 10);
		if (link_up() == want)
			return true;
	}
	return false;
}

/*
 * In a child, as kavm runs once the guest does: this thread is the I/O
 * thread under its list, a second one a vCPU under its own. The backend
 * leaves after DRIVER_OK; kavm must get it back (dialling or accepting
 * again), restart the rings, and take them back at a reset. Exits 0, or
 * the step that failed; a forbidden call ends it with status 1 and a line.
 */
static void sandboxed_life(const struct scenario *sc)
{
	pthread_t vcpu;
	void *vret;

	if (nic_up(sc) || !link_up())
		_exit(10);
	if (pipe(vcpu_go) || pthread_create(&vcpu, NULL, vcpu_thread, NULL))
		_exit(11);
	if (sandbox_prepare() || sandbox_apply(SANDBOX_IO, "the I/O thread"))
		_exit(12);
	if (!loop_until_link(false, 3000))
		_exit(13);
	if (!loop_until_link(true, 3000))
		_exit(14);
	if (!vhost_user_running(vhost_user_of(E.nc)))
		_exit(17);
	if (write(vcpu_go[1], "x", 1) != 1 || pthread_join(vcpu, &vret) || vret)
		_exit(15);
	if (!vhost_user_connected(vhost_user_of(E.nc)) || vhost_user_running(vhost_user_of(E.nc)))
		_exit(16);
	/* kavm's exit runs on the I/O thread, under its list. */
	virtio_net_exit(E.vn);
	netdev_close(E.nc);
	_exit(0);
}

static void run_sandboxed(const struct scenario *sc)
{
	char cmd[192];
	int status;
	pid_t pid;

	ASSERT_EQ(backend_start(sc), 0);
	capture_start();
	pid = fork();
	if (pid == 0)
		sandboxed_life(sc);
	waitpid(pid, &status, 0);
	capture_stop();
	snprintf(cmd, sizeof(cmd), "grep -h seccomp %s | sed 's/^/# /' >&2", E.log);
	if (system(cmd))
		fprintf(stderr, "# kavm's sandbox said nothing\n");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
	/* A sandboxed server leaves its socket, as after a crash; the next one removes it. */
	if (sc->phase == SERVED)
		EXPECT_EQ(access(E.sock, F_OK), 0);
	env_down();
}

#define SANDBOXED(name, ph)                                                                        \
	TEST_TIMEOUT(name, 30)                                                                     \
	{                                                                                          \
		static const struct scenario sc = { .phase = ph };                                 \
		run_sandboxed(&sc);                                                                \
	}

/* Redialling needs socket (AF_UNIX only) and connect; a reset's GET_VRING_BASE poll and recvmsg. */
SANDBOXED(sandboxed_kavm_redials_and_resets, AT_RECONNECT)
/* Accepting again needs accept4. */
SANDBOXED(sandboxed_kavm_server_accepts_again, SERVED)
