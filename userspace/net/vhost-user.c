// SPDX-License-Identifier: GPL-2.0
/*
 * kavm vhost-user frontend: the socket protocol of QEMU's
 * docs/interop/vhost-user.rst, guest RAM shared by memfd, and the life of the
 * connection (connected or accepted at start, lost, re-established) with the
 * link state that follows it. Every reply is checked before it is believed:
 * request type, flags, size, value, no file descriptors, and a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/memory.h>
#include <kavm/net.h>
#include <kavm/vhost-user.h>

enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
};

static const char *const vu_request_names[] = {
	[VU_GET_FEATURES] = "GET_FEATURES",
	[VU_SET_FEATURES] = "SET_FEATURES",
	[VU_SET_OWNER] = "SET_OWNER",
	[VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VU_SET_VRING_ERR] = "SET_VRING_ERR",
	[VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
};

#define VU_VERSION 0x1u
#define VU_VERSION_MASK 0x3u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)
#define VU_F_PROTOCOL_FEATURES 30
#define VU_PROTOCOL_F_MQ 0
#define VU_PROTOCOL_F_REPLY_ACK 3
/* GET_QUEUE_NUM above virtio-net's own limit (VQ_PAIRS_MAX) is a lie, not a big backend. */
#define VU_QUEUE_NUM_MAX 0x8000
/* SET_VRING_KICK/CALL/ERR payload: no fd follows. */
#define VU_VRING_NOFD (1ull << 8)
/* The spec's baseline: a message carries at most 8 fds (SET_MEM_TABLE's regions). */
#define VU_MAX_FDS 8

_Static_assert(GUEST_MEM_MAX_REGIONS <= VU_MAX_FDS, "one fd per RAM region in SET_MEM_TABLE");

#define F(bit) (1ull << (bit))

/*
 * What the backend implements of the NIC's features: the ring layout and
 * the vnet header's offloads. The rest (MAC, status, MTU, control queue)
 * stays kavm's, and so is never sent.
 */
#define VU_BACKEND_FEATURES                                                                        \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |     \
	 F(VIRTIO_F_NOTIFY_ON_EMPTY) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) |          \
	 F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |      \
	 F(VIRTIO_NET_F_HOST_ECN) | F(VIRTIO_NET_F_HOST_UFO) | F(VIRTIO_NET_F_GUEST_TSO4) |        \
	 F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN) | F(VIRTIO_NET_F_GUEST_UFO))

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __packed;

struct vu_state {
	uint32_t index;
	uint32_t num;
} __packed;

struct vu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
} __packed;

struct vu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
} __packed;

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region regions[VU_MAX_FDS];
} __packed;

/* Queue pair 1 and up (queues=N): a NIC pair's peer; pair 0 is vhost_user.nc itself. */
struct vu_queue {
	struct net_client nc;
	struct vhost_user *vu;
	unsigned int index;
};

/* One RAM region as the listener learnt it; the fd stays guest_mem's. */
struct vu_ram {
	uint64_t gpa, size, offset;
	void *hva;
	int fd;
};

struct vhost_user {
	struct net_client nc;
	struct loop *loop;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool server;
	unsigned int reconnect_ms; /* longest wait between attempts; 0: never redial */
	unsigned int pairs;	   /* queues=N: 2N rings, ring 2i RX and 2i + 1 TX of pair i */
	struct vu_queue q[VHOST_USER_MAX_PAIRS]; /* [1, pairs): the other pairs' clients */
	/* Loop thread only, or the main thread before the loop runs: */
	int listen_fd;			  /* server=on */
	int wake_fd;			  /* eventfd: the connection broke on some thread */
	int timer_fd;			  /* the next reconnect attempt */
	int err_fd[VHOST_USER_MAX_RINGS]; /* SET_VRING_ERR, one per ring */
	bool conn_polled, listen_polled;
	unsigned int backoff_ms;
	bool retry_logged; /* one line per outage for failed attempts */
	/*
	 * The socket and what it negotiated: lock. A vCPU (GET_VRING_BASE at a
	 * reset) and the loop share them. Taken after the NIC's vdev->lock,
	 * never held across a call into the NIC (a link change).
	 */
	pthread_mutex_t lock;
	int fd;				    /* the connection, -1 while none */
	bool broken;			    /* logged and going: no request goes out on it */
	bool running;			    /* the rings are the backend's */
	unsigned int started;		    /* pairs whose rings the backend has while running */
	bool pair_on[VHOST_USER_MAX_PAIRS]; /* the NIC uses pair i (VQ_PAIRS_SET); [0] always */
	bool link_up;			    /* what the NIC was last told */
	const char *op;	       /* the request under way, for the one line a failure prints */
	uint64_t features;     /* GET_FEATURES of the backend connected now */
	uint64_t protocol;     /* protocol features both sides use */
	struct guest_mem *mem; /* the NIC's RAM, from the first start (NIC-serialised) */
	struct mem_listener listener;
	unsigned int nr_ram;
	struct vu_ram ram[GUEST_MEM_MAX_REGIONS];
	struct vhost_user_stats stats;
};

static struct vhost_user *to_vu(struct net_client *nc)
{
	return container_of(nc, struct vhost_user, nc);
}

static const char *vu_request_name(uint32_t req)
{
	if (req < ARRAY_SIZE(vu_request_names) && vu_request_names[req])
		return vu_request_names[req];
	return "an unknown request";
}

static int64_t vu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/*
 * The connection can no longer be trusted: say why in one line, stop
 * sending on it, and have the loop drop it (which takes the link down).
 * Any thread; lock held. Returns err for the caller to pass up.
 */
static int vu_fail(struct vhost_user *vu, int err, const char *fmt, ...) __printf(3, 4);
static int vu_fail(struct vhost_user *vu, int err, const char *fmt, ...)
{
	uint64_t one = 1;
	char why[256];
	va_list ap;

	if (vu->broken)
		return err;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("vhost-user %s: %s: %s%s", vu->nc.name, vu->op, why,
	       vu->link_up ? "; guest link down" : "");
	vu->broken = true;
	vu->running = false;
	vu->stats.violations++;
	/* A full counter means a wake-up is pending already. */
	if (write(vu->wake_fd, &one, sizeof(one)) != sizeof(one))
		pr_debug("wake the loop: %s", strerror(errno));
	return err;
}

/* 1 when the connection is ready for events, 0 at the deadline, < 0 on error. */
static int vu_wait(struct vhost_user *vu, short events, int64_t deadline)
{
	struct pollfd p = { .fd = vu->fd, .events = events };
	int64_t left;
	int ret;

	do {
		left = deadline - vu_now_ms();
		ret = poll(&p, 1, left > 0 ? (int)left : 0);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	/* POLLHUP/POLLERR: let the read or write say what happened. */
	return ret;
}

static ssize_t vu_sendmsg(int fd, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct cmsghdr align;
	} c;
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds) {
		memset(&c, 0, sizeof(c));
		msg.msg_control = c.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	/* MSG_NOSIGNAL: a backend gone away is an error here, not a SIGPIPE. */
	return sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Send one message whole (the fds ride with its first byte) before deadline. */
static int vu_send(struct vhost_user *vu, uint32_t req, uint32_t flags, const void *payload,
		   uint32_t size, const int *fds, unsigned int nfds, int64_t deadline)
{
	uint8_t buf[sizeof(struct vu_hdr) + sizeof(struct vu_mem_table)];
	struct vu_hdr hdr = { req, VU_VERSION | flags, size };
	size_t len = sizeof(hdr) + size, off = 0;
	ssize_t n;
	int ret;

	memcpy(buf, &hdr, sizeof(hdr));
	if (size)
		memcpy(buf + sizeof(hdr), payload, size);
	while (off < len) {
		ret = vu_wait(vu, POLLOUT, deadline);
		if (ret == 0)
			return vu_fail(vu, -ETIMEDOUT, "the backend took no data for %d ms",
				       VHOST_USER_REPLY_TIMEOUT_MS);
		if (ret < 0)
			return vu_fail(vu, ret, "poll: %s", strerror(-ret));
		n = vu_sendmsg(vu->fd, buf + off, len - off, off ? NULL : fds, off ? 0 : nfds);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return vu_fail(vu, -errno, "the backend closed the connection");
		if (n < 0)
			return vu_fail(vu, -errno, "send: %s", strerror(errno));
		off += n;
	}
	return 0;
}

/* Close what a reply smuggled in; how many there were. */
static unsigned int vu_close_fds(struct msghdr *msg)
{
	struct cmsghdr *cm;
	unsigned int n = 0, i, count;
	int fd;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			close(fd);
		}
		n += count;
	}
	return n;
}

/* One read of a reply: bytes, 0 at end of file, -EAGAIN, or < 0 after vu_fail(). */
static ssize_t vu_recvmsg(struct vhost_user *vu, void *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct cmsghdr align;
	} c;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = c.buf,
			      .msg_controllen = sizeof(c.buf) };
	unsigned int nfds;
	ssize_t n;

	n = recvmsg(vu->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	if (n < 0)
		return vu_fail(vu, -errno, "receive: %s", strerror(errno));
	nfds = vu_close_fds(&msg);
	if (msg.msg_flags & MSG_CTRUNC)
		return vu_fail(vu, -EPROTO, "the reply carried more than %d file descriptors",
			       VU_MAX_FDS);
	if (nfds)
		return vu_fail(vu, -EPROTO, "the reply carried %u file descriptor(s)", nfds);
	return n;
}

/* Exactly len bytes of the reply's header or payload, before deadline. */
static int vu_recv_exact(struct vhost_user *vu, void *buf, size_t len, bool header,
			 int64_t deadline)
{
	const char *what = header ? "header" : "payload";
	size_t got = 0;
	ssize_t n;
	int ret;

	while (got < len) {
		ret = vu_wait(vu, POLLIN, deadline);
		if (ret == 0 && !got && header)
			return vu_fail(vu, -ETIMEDOUT, "no reply within %d ms",
				       VHOST_USER_REPLY_TIMEOUT_MS);
		if (ret == 0)
			return vu_fail(vu, -ETIMEDOUT,
				       "the reply stopped for %d ms (%zu of %zu %s bytes)",
				       VHOST_USER_REPLY_TIMEOUT_MS, got, len, what);
		if (ret < 0)
			return vu_fail(vu, ret, "poll: %s", strerror(-ret));
		n = vu_recvmsg(vu, (uint8_t *)buf + got, len - got);
		if (n == -EAGAIN)
			continue;
		if (n < 0)
			return n;
		if (n == 0 && !got && header)
			return vu_fail(vu, -ECONNRESET,
				       "the backend closed the connection instead of replying");
		if (n == 0)
			return vu_fail(vu, -ECONNRESET,
				       "the backend closed the connection mid-reply (%zu of %zu %s "
				       "bytes)",
				       got, len, what);
		got += n;
	}
	return 0;
}

static int vu_check_hdr(struct vhost_user *vu, const struct vu_hdr *h, uint32_t req, uint32_t size)
{
	if (h->request != req)
		return vu_fail(vu, -EPROTO, "the reply is for request %u (%s)", h->request,
			       vu_request_name(h->request));
	if ((h->flags & VU_VERSION_MASK) != VU_VERSION)
		return vu_fail(vu, -EPROTO, "the reply has version %u, not %u",
			       h->flags & VU_VERSION_MASK, VU_VERSION);
	if (!(h->flags & VU_FLAG_REPLY))
		return vu_fail(vu, -EPROTO, "the reply's flags %#x lack the reply bit", h->flags);
	if (h->flags & ~(VU_VERSION_MASK | VU_FLAG_REPLY))
		return vu_fail(vu, -EPROTO, "the reply's flags %#x have unknown bits %#x", h->flags,
			       h->flags & ~(VU_VERSION_MASK | VU_FLAG_REPLY));
	if (h->size != size)
		return vu_fail(vu, -EPROTO, "the reply's payload is %u bytes, not %u", h->size,
			       size);
	return 0;
}

static int vu_recv_reply(struct vhost_user *vu, uint32_t req, void *payload, uint32_t size,
			 int64_t deadline)
{
	struct vu_hdr h;
	int ret;

	ret = vu_recv_exact(vu, &h, sizeof(h), true, deadline);
	if (!ret)
		ret = vu_check_hdr(vu, &h, req, size);
	if (!ret)
		ret = vu_recv_exact(vu, payload, size, false, deadline);
	return ret;
}

/* A request with a reply of its own (GET_*): its payload of size bytes. Lock held. */
static int vu_get(struct vhost_user *vu, uint32_t req, const void *arg, uint32_t arg_size,
		  void *reply, uint32_t size)
{
	int64_t deadline = vu_now_ms() + VHOST_USER_REPLY_TIMEOUT_MS;
	int ret;

	if (vu->fd < 0 || vu->broken)
		return -ENOTCONN;
	vu->op = vu_request_name(req);
	ret = vu_send(vu, req, 0, arg, arg_size, NULL, 0, deadline);
	if (!ret)
		ret = vu_recv_reply(vu, req, reply, size, deadline);
	return ret;
}

/* A request without a reply of its own: acknowledged once REPLY_ACK is on. Lock held. */
static int vu_set(struct vhost_user *vu, uint32_t req, const void *arg, uint32_t size,
		  const int *fds, unsigned int nfds)
{
	int64_t deadline = vu_now_ms() + VHOST_USER_REPLY_TIMEOUT_MS;
	bool ack = vu->protocol & F(VU_PROTOCOL_F_REPLY_ACK);
	uint64_t val;
	int ret;

	if (vu->fd < 0 || vu->broken)
		return -ENOTCONN;
	vu->op = vu_request_name(req);
	ret = vu_send(vu, req, ack ? VU_FLAG_NEED_REPLY : 0, arg, size, fds, nfds, deadline);
	if (ret || !ack)
		return ret;
	ret = vu_recv_reply(vu, req, &val, sizeof(val), deadline);
	if (!ret && val)
		ret = vu_fail(vu, -EPROTO, "the backend refused it (ack %#llx)",
			      (unsigned long long)val);
	return ret;
}

static int vu_set_u64(struct vhost_user *vu, uint32_t req, uint64_t v)
{
	return vu_set(vu, req, &v, sizeof(v), NULL, 0);
}

static int vu_set_state(struct vhost_user *vu, uint32_t req, unsigned int index, unsigned int num)
{
	struct vu_state s = { .index = index, .num = num };

	return vu_set(vu, req, &s, sizeof(s), NULL, 0);
}

static int vu_set_ring_fd(struct vhost_user *vu, uint32_t req, unsigned int index, int fd)
{
	uint64_t v = index | (fd < 0 ? VU_VRING_NOFD : 0);

	return vu_set(vu, req, &v, sizeof(v), fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

static int vu_get_u64(struct vhost_user *vu, uint32_t req, uint64_t *v)
{
	return vu_get(vu, req, NULL, 0, v, sizeof(*v));
}

/* queues=N past one: the backend's MQ, and at least N pairs (GET_QUEUE_NUM). Lock held. */
static int vu_check_queue_num(struct vhost_user *vu)
{
	uint64_t n;
	int ret;

	if (vu->pairs == 1)
		return 0;
	vu->op = "handshake";
	if (!(vu->protocol & F(VU_PROTOCOL_F_MQ)))
		return vu_fail(vu, -EOPNOTSUPP,
			       "queues=%u, but the backend offers no multiqueue "
			       "(VHOST_USER_PROTOCOL_F_MQ)",
			       vu->pairs);
	ret = vu_get_u64(vu, VU_GET_QUEUE_NUM, &n);
	if (ret)
		return ret;
	if (n == 0 || n > VU_QUEUE_NUM_MAX)
		return vu_fail(vu, -EPROTO,
			       "the backend claims %llu queue pairs (1 to %u make sense)",
			       (unsigned long long)n, VU_QUEUE_NUM_MAX);
	if (n < vu->pairs)
		return vu_fail(vu, -EOPNOTSUPP,
			       "queues=%u, but the backend offers only %llu queue pair(s)",
			       vu->pairs, (unsigned long long)n);
	return 0;
}

/* GET_FEATURES, the protocol features (REPLY_ACK, MQ), GET_QUEUE_NUM, SET_OWNER. Lock held. */
static int vu_handshake(struct vhost_user *vu)
{
	uint64_t proto;
	int ret;

	vu->protocol = 0;
	ret = vu_get_u64(vu, VU_GET_FEATURES, &vu->features);
	if (ret)
		return ret;
	/* kavm's NIC is virtio 1.x only, and so is the header layout both sides assume. */
	if (!(vu->features & F(VIRTIO_F_VERSION_1)))
		return vu_fail(vu, -EPROTO, "the backend lacks VIRTIO_F_VERSION_1 (features %#llx)",
			       (unsigned long long)vu->features);
	if (vu->features & F(VU_F_PROTOCOL_FEATURES)) {
		ret = vu_get_u64(vu, VU_GET_PROTOCOL_FEATURES, &proto);
		if (ret)
			return ret;
		/* REPLY_ACK lets every request be checked; MQ only when queues= asks for it. */
		proto &= F(VU_PROTOCOL_F_REPLY_ACK) | (vu->pairs > 1 ? F(VU_PROTOCOL_F_MQ) : 0);
		ret = vu_set_u64(vu, VU_SET_PROTOCOL_FEATURES, proto);
		if (ret)
			return ret;
		vu->protocol = proto;
	}
	ret = vu_check_queue_num(vu);
	if (ret)
		return ret;
	return vu_set(vu, VU_SET_OWNER, NULL, 0, NULL, 0);
}

/* --- memory table ------------------------------------------------------------------- */

static int vu_send_mem_table(struct vhost_user *vu)
{
	struct vu_mem_table m = { .nregions = vu->nr_ram };
	int fds[VU_MAX_FDS];
	unsigned int i;

	for (i = 0; i < vu->nr_ram; i++) {
		m.regions[i] = (struct vu_region){
			.gpa = vu->ram[i].gpa,
			.size = vu->ram[i].size,
			.uaddr = (uintptr_t)vu->ram[i].hva,
			.mmap_offset = vu->ram[i].offset,
		};
		fds[i] = vu->ram[i].fd;
	}
	return vu_set(vu, VU_SET_MEM_TABLE, &m, 8 + vu->nr_ram * sizeof(m.regions[0]), fds,
		      vu->nr_ram);
}

static int vu_region_add(struct mem_listener *l, const struct guest_mem_region *r)
{
	struct vhost_user *vu = container_of(l, struct vhost_user, listener);
	int ret = 0;

	/* The backend maps RAM by fd: anonymous memory cannot be shared with it. */
	if (r->fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&vu->lock);
	if (vu->nr_ram == ARRAY_SIZE(vu->ram)) {
		ret = -ENOSPC;
	} else {
		vu->ram[vu->nr_ram++] = (struct vu_ram){ .gpa = r->gpa,
							 .size = r->size,
							 .offset = r->fd_offset,
							 .hva = r->hva,
							 .fd = r->fd };
		if (vu->running)
			ret = vu_send_mem_table(vu);
	}
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

static void vu_region_del(struct mem_listener *l, const struct guest_mem_region *r)
{
	struct vhost_user *vu = container_of(l, struct vhost_user, listener);
	unsigned int i;

	pthread_mutex_lock(&vu->lock);
	for (i = 0; i < vu->nr_ram; i++) {
		if (vu->ram[i].gpa != r->gpa)
			continue;
		memmove(&vu->ram[i], &vu->ram[i + 1], (vu->nr_ram - i - 1) * sizeof(vu->ram[0]));
		vu->nr_ram--;
		if (vu->running)
			vu_send_mem_table(vu);
		break;
	}
	pthread_mutex_unlock(&vu->lock);
}

/* Without vu->lock: registering replays the regions through vu_region_add(). */
static int vu_attach_mem(struct vhost_user *vu, struct guest_mem *mem)
{
	int ret;

	if (vu->mem == mem)
		return 0;
	if (vu->mem)
		return -EBUSY; /* one VM per netdev */
	ret = guest_mem_listener_register(mem, &vu->listener);
	if (ret)
		return ret;
	vu->mem = mem;
	return 0;
}

/* --- the rings ---------------------------------------------------------------------- */

static int vu_set_ring(struct vhost_user *vu, unsigned int i, const struct vhost_net_ring *r)
{
	struct vu_addr addr = {
		.index = i,
		.desc = (uintptr_t)r->desc,
		.used = (uintptr_t)r->used,
		.avail = (uintptr_t)r->avail,
	};
	int ret;

	ret = vu_set_state(vu, VU_SET_VRING_NUM, i, r->size);
	if (!ret)
		ret = vu_set_state(vu, VU_SET_VRING_BASE, i, r->last_avail);
	if (!ret)
		ret = vu_set(vu, VU_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
	if (!ret)
		ret = vu_set_ring_fd(vu, VU_SET_VRING_KICK, i, r->kick_fd);
	if (!ret)
		ret = vu_set_ring_fd(vu, VU_SET_VRING_CALL, i, r->call_fd);
	if (!ret)
		ret = vu_set_ring_fd(vu, VU_SET_VRING_ERR, i, vu->err_fd[i]);
	return ret;
}

/* SET_VRING_ENABLE for both rings of pair i. Lock held. */
static int vu_enable_pair(struct vhost_user *vu, unsigned int i, bool on)
{
	int ret;

	ret = vu_set_state(vu, VU_SET_VRING_ENABLE, 2 * i, on);
	if (!ret)
		ret = vu_set_state(vu, VU_SET_VRING_ENABLE, 2 * i + 1, on);
	return ret;
}

static int vu_start_locked(struct vhost_user *vu, uint64_t features,
			   const struct vhost_net_ring *rings, unsigned int nr_pairs)
{
	uint64_t f = features & VU_BACKEND_FEATURES, lacking;
	bool proto = vu->features & F(VU_F_PROTOCOL_FEATURES);
	unsigned int i;
	int ret;

	if (vu->fd < 0 || vu->broken)
		return -ENOTCONN;
	if (vu->running)
		return -EBUSY;
	if (!nr_pairs || nr_pairs > vu->pairs)
		return -EINVAL;
	vu->op = "start";
	/* A backend that came back smaller than the one the guest negotiated with. */
	lacking = f & ~vu->features;
	if (lacking)
		return vu_fail(vu, -EPROTO, "the backend lacks features %#llx the guest uses",
			       (unsigned long long)lacking);
	ret = vu_set_u64(vu, VU_SET_FEATURES, f | (proto ? F(VU_F_PROTOCOL_FEATURES) : 0));
	if (!ret)
		ret = vu_send_mem_table(vu);
	for (i = 0; !ret && i < 2 * nr_pairs; i++)
		ret = vu_set_ring(vu, i, &rings[i]);
	/*
	 * With protocol features rings start disabled; the last step lets the
	 * backend go, on the pairs the guest uses only (as QEMU, the others
	 * are told so: a backend must not steer frames to them).
	 */
	for (i = 0; !ret && proto && i < nr_pairs; i++)
		ret = vu_enable_pair(vu, i, !i || vu->pair_on[i]);
	if (ret)
		return ret;
	vu->running = true;
	vu->started = nr_pairs;
	vu->stats.starts++;
	return 0;
}

int vhost_user_start(struct vhost_user *vu, struct guest_mem *mem, uint64_t features,
		     const struct vhost_net_ring *rings, unsigned int nr_pairs)
{
	int ret;

	ret = vu_attach_mem(vu, mem);
	if (ret) {
		pr_err("vhost-user %s: guest RAM: %s", vu->nc.name, strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&vu->lock);
	ret = vu_start_locked(vu, features, rings, nr_pairs);
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

static int vu_get_vring_base(struct vhost_user *vu, unsigned int i)
{
	struct vu_state s = { .index = i }, r;
	int ret;

	ret = vu_get(vu, VU_GET_VRING_BASE, &s, sizeof(s), &r, sizeof(r));
	if (ret)
		return ret;
	if (r.index != i)
		return vu_fail(vu, -EPROTO, "the reply is for ring %u, not ring %u", r.index, i);
	if (r.num > UINT16_MAX)
		return vu_fail(vu, -ERANGE, "ring %u's base %u is out of range (at most %u)", i,
			       r.num, UINT16_MAX);
	return 0;
}

void vhost_user_stop(struct vhost_user *vu)
{
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&vu->lock);
	/* GET_VRING_BASE stops a ring: the backend touches it no more once it replied. */
	for (i = 0; vu->running && !ret && i < 2 * vu->started; i++)
		ret = vu_get_vring_base(vu, i);
	vu->running = false;
	vu->started = 0;
	pthread_mutex_unlock(&vu->lock);
}

unsigned int vhost_user_started_pairs(struct vhost_user *vu)
{
	unsigned int n;

	pthread_mutex_lock(&vu->lock);
	n = vu->running ? vu->started : 0;
	pthread_mutex_unlock(&vu->lock);
	return n;
}

bool vhost_user_running(struct vhost_user *vu)
{
	bool running;

	pthread_mutex_lock(&vu->lock);
	running = vu->running;
	pthread_mutex_unlock(&vu->lock);
	return running;
}

bool vhost_user_connected(struct vhost_user *vu)
{
	bool connected;

	pthread_mutex_lock(&vu->lock);
	connected = vu->fd >= 0 && !vu->broken;
	pthread_mutex_unlock(&vu->lock);
	return connected;
}

void vhost_user_get_stats(struct vhost_user *vu, struct vhost_user_stats *st)
{
	pthread_mutex_lock(&vu->lock);
	*st = vu->stats;
	pthread_mutex_unlock(&vu->lock);
}

uint64_t vhost_user_mask_features(struct vhost_user *vu, uint64_t offered)
{
	uint64_t f;

	pthread_mutex_lock(&vu->lock);
	f = offered & (~VU_BACKEND_FEATURES | vu->features);
	pthread_mutex_unlock(&vu->lock);
	return f;
}

/* --- the connection's life (loop thread, or the main thread at open) ----------------- */

static void vu_conn_event(int fd, uint32_t events, void *opaque);
static void vu_listen_event(int lfd, uint32_t events, void *opaque);

/* A fresh connection: shake hands. On failure the connection is closed again. */
static int vu_establish(struct vhost_user *vu, int fd)
{
	int ret;

	pthread_mutex_lock(&vu->lock);
	vu->fd = fd;
	vu->broken = false;
	vu->running = false;
	ret = vu_handshake(vu);
	if (ret) {
		vu->fd = -1;
		vu->broken = false;
		close(fd);
	} else {
		vu->stats.connects++;
	}
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

/* The handshake went through: watch the connection and tell the NIC (which restarts). */
static void vu_go_live(struct vhost_user *vu)
{
	vu->backoff_ms = VHOST_USER_BACKOFF_MIN_MS;
	vu->retry_logged = false;
	vu->conn_polled = !loop_add_fd(vu->loop, vu->fd, EPOLLIN | EPOLLRDHUP, vu_conn_event, vu);
	pthread_mutex_lock(&vu->lock);
	vu->link_up = true;
	pthread_mutex_unlock(&vu->lock);
	net_client_set_link(&vu->nc, true);
}

static void vu_arm_timer(struct vhost_user *vu, unsigned int ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (ms % 1000) * 1000000l } };

	if (timerfd_settime(vu->timer_fd, 0, &its, NULL))
		pr_err("vhost-user %s: reconnect timer: %s", vu->nc.name, strerror(errno));
}

/* Disconnected: a server listens again, a client with reconnect= redials later. */
static void vu_await_backend(struct vhost_user *vu)
{
	if (vu->server && !vu->listen_polled)
		vu->listen_polled =
			!loop_add_fd(vu->loop, vu->listen_fd, EPOLLIN, vu_listen_event, vu);
	else if (!vu->server && vu->reconnect_ms)
		vu_arm_timer(vu, vu->backoff_ms);
}

/* Drop the connection (broken, or closed by the backend): the guest sees its link go down. */
static void vu_drop(struct vhost_user *vu)
{
	bool was_up;

	pthread_mutex_lock(&vu->lock);
	if (vu->fd < 0) {
		pthread_mutex_unlock(&vu->lock);
		return;
	}
	if (vu->conn_polled)
		loop_del_fd(vu->loop, vu->fd);
	vu->conn_polled = false;
	close(vu->fd);
	vu->fd = -1;
	vu->broken = false;
	vu->running = false;
	was_up = vu->link_up;
	vu->link_up = false;
	vu->stats.disconnects++;
	pthread_mutex_unlock(&vu->lock);
	/* Without the lock: the NIC takes its own and may come back (vhost_user_running()). */
	if (was_up)
		net_client_set_link(&vu->nc, false);
	vu_await_backend(vu);
}

/* What the backend sent while no request was out: its end, or a message nobody asked for. */
static void vu_idle_input(struct vhost_user *vu)
{
	struct vu_hdr h = { 0 };
	ssize_t n;

	n = recv(vu->fd, &h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return; /* the reply a vCPU was waiting for, taken already */
	vu->op = "between requests";
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		pr_warn("vhost-user %s: the backend closed the connection; guest link down%s",
			vu->nc.name,
			vu->server	 ? ", waiting for it to connect again" :
			vu->reconnect_ms ? ", reconnecting" :
					   " for good (no reconnect=)");
		vu->broken = true;
		vu->running = false;
	} else if (n < 0) {
		vu_fail(vu, -errno, "receive: %s", strerror(errno));
	} else if (n < (ssize_t)sizeof(h)) {
		vu_fail(vu, -EPROTO, "the backend sent %zd bytes nobody asked for", n);
	} else {
		vu_fail(vu, -EPROTO,
			"the backend sent a message nobody asked for (request %u, flags %#x, "
			"size %u)",
			h.request, h.flags, h.size);
	}
}

/* server=on, while no backend is connected: one knocks. */
static void vu_listen_event(int lfd, uint32_t events, void *opaque)
{
	struct vhost_user *vu = opaque;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return; /* gone again before we took it */
	if (vu_establish(vu, fd))
		return; /* said why; still listening */
	loop_del_fd(vu->loop, lfd);
	vu->listen_polled = false;
	pr_info("vhost-user %s: the backend connected to %s; guest link up", vu->nc.name, vu->path);
	vu_go_live(vu);
}

/* The connection while no request is out: the backend went, or misbehaves. */
static void vu_conn_event(int fd, uint32_t events, void *opaque)
{
	struct vhost_user *vu = opaque;
	bool broken;

	pthread_mutex_lock(&vu->lock);
	if (fd == vu->fd && !vu->broken)
		vu_idle_input(vu);
	broken = vu->broken;
	pthread_mutex_unlock(&vu->lock);
	if (broken)
		vu_drop(vu);
}

/* Some thread found the connection broken (vu_fail()): drop it here, on the loop. */
static void vu_wake_event(int fd, uint32_t events, void *opaque)
{
	struct vhost_user *vu = opaque;
	uint64_t n;
	bool broken;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&vu->lock);
	broken = vu->broken;
	pthread_mutex_unlock(&vu->lock);
	if (broken)
		vu_drop(vu);
}

/* Client: one attempt; the fd, or -errno. */
static int vu_dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	memcpy(sa.sun_path, path, sizeof(sa.sun_path));
	/* Non-blocking: a backend whose backlog is full is a failed attempt, not a wait. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static void vu_timer_event(int fd, uint32_t events, void *opaque)
{
	struct vhost_user *vu = opaque;
	uint64_t n;
	int cfd;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	cfd = vu_dial(vu->path);
	if (cfd < 0 && !vu->retry_logged)
		pr_info("vhost-user %s: reconnect to %s: %s; trying again, at least every %u s",
			vu->nc.name, vu->path, strerror(-cfd), vu->reconnect_ms / 1000);
	vu->retry_logged |= cfd < 0;
	if (cfd < 0 || vu_establish(vu, cfd)) {
		vu->backoff_ms = min(vu->backoff_ms * 2, vu->reconnect_ms);
		vu_arm_timer(vu, vu->backoff_ms);
		return;
	}
	pr_info("vhost-user %s: reconnected to %s; guest link up", vu->nc.name, vu->path);
	vu_go_live(vu);
}

static void vu_err_event(int fd, uint32_t events, void *opaque)
{
	struct vhost_user *vu = opaque;
	unsigned int q;
	uint64_t n;

	for (q = 0; q + 1 < 2 * vu->pairs && vu->err_fd[q] != fd; q++)
		;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&vu->lock);
	vu->stats.ring_errors++;
	pthread_mutex_unlock(&vu->lock);
	/* The backend's to explain; the guest sees whatever the backend did to the ring. */
	pr_warn_ratelimited("vhost-user %s: the backend reports an error on ring %u (pair %u %s)",
			    vu->nc.name, q, q / 2, q % 2 ? "TX" : "RX");
}

/* --- open and close ------------------------------------------------------------------ */

/*
 * server=on at start: wait for the backend as QEMU does, but let SIGINT,
 * SIGTERM and SIGHUP (blocked for kavm's signalfd) end kavm meanwhile.
 */
static int vu_accept_wait(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	sigset_t mask;
	int fd;

	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, SIGINT);
	sigdelset(&mask, SIGTERM);
	sigdelset(&mask, SIGHUP);
	for (;;) {
		if (ppoll(&p, 1, NULL, &mask) < 0 && errno != EINTR)
			return -errno;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
}

static int vu_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	memcpy(sa.sun_path, path, sizeof(sa.sun_path));
	/* A socket left by an earlier run goes (as QEMU); anything else at path stays. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static int vu_open_server(struct vhost_user *vu)
{
	int fd;

	vu->listen_fd = vu_listen(vu->path);
	if (vu->listen_fd < 0) {
		pr_err("netdev %s: vhost-user: listen on %s: %s", vu->nc.name, vu->path,
		       strerror(-vu->listen_fd));
		return vu->listen_fd;
	}
	pr_info("vhost-user %s: waiting for a backend to connect to %s", vu->nc.name, vu->path);
	fd = vu_accept_wait(vu->listen_fd);
	if (fd < 0) {
		pr_err("netdev %s: vhost-user: accept on %s: %s", vu->nc.name, vu->path,
		       strerror(-fd));
		return fd;
	}
	return vu_establish(vu, fd);
}

static int vu_open_client(struct vhost_user *vu)
{
	int fd = vu_dial(vu->path);

	if (fd < 0) {
		pr_err("netdev %s: vhost-user: connect to %s: %s", vu->nc.name, vu->path,
		       strerror(-fd));
		return fd;
	}
	return vu_establish(vu, fd);
}

static void vu_close_fd(struct vhost_user *vu, int *fd)
{
	if (*fd < 0)
		return;
	loop_del_fd(vu->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* The clients of pairs [1, n), newest first. */
static void vu_queues_exit(struct vhost_user *vu, unsigned int n)
{
	while (n-- > 1)
		net_client_exit(&vu->q[n].nc);
}

static void vu_free(struct vhost_user *vu)
{
	unsigned int i;

	vu_close_fd(vu, &vu->fd);
	vu_close_fd(vu, &vu->timer_fd);
	vu_close_fd(vu, &vu->wake_fd);
	for (i = 0; i < 2 * vu->pairs; i++)
		vu_close_fd(vu, &vu->err_fd[i]);
	if (vu->listen_fd >= 0) {
		vu_close_fd(vu, &vu->listen_fd);
		/*
		 * Under the sandbox (kavm's exit runs there) the socket stays,
		 * as after a crash: deleting files is no I/O thread's business,
		 * and the next server removes a stale socket before it binds.
		 */
		if (prctl(PR_GET_SECCOMP) == 0)
			unlink(vu->path);
	}
	if (vu->mem)
		guest_mem_listener_unregister(vu->mem, &vu->listener);
	vu_queues_exit(vu, vu->pairs);
	net_client_exit(&vu->nc);
	pthread_mutex_destroy(&vu->lock);
	free(vu);
}

/* Every fd the connection's life needs is made now, before the sandbox forbids it. */
static int vu_make_fds(struct vhost_user *vu)
{
	unsigned int i;
	int ret = 0;

	vu->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vu->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (vu->wake_fd < 0 || vu->timer_fd < 0)
		return -errno;
	ret = loop_add_fd(vu->loop, vu->wake_fd, EPOLLIN, vu_wake_event, vu);
	if (!ret)
		ret = loop_add_fd(vu->loop, vu->timer_fd, EPOLLIN, vu_timer_event, vu);
	for (i = 0; !ret && i < 2 * vu->pairs; i++) {
		vu->err_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vu->err_fd[i] < 0)
			return -errno;
		ret = loop_add_fd(vu->loop, vu->err_fd[i], EPOLLIN, vu_err_event, vu);
	}
	return ret;
}

static ssize_t vu_receive_iov(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	/* Frames go through the rings, never through this client: a stray one is an error. */
	return -EOPNOTSUPP;
}

static bool vu_has_vnet_hdr(struct net_client *nc)
{
	/* The header stays in the rings: the backend reads and writes it itself. */
	return true;
}

static void vu_cleanup(struct net_client *nc)
{
	vu_free(to_vu(nc));
}

static const struct net_client_ops vu_client_ops = {
	.type = "vhost-user",
	.receive_iov = vu_receive_iov,
	.cleanup = vu_cleanup,
	.has_vnet_hdr = vu_has_vnet_hdr,
};

struct vhost_user *vhost_user_of(struct net_client *nc)
{
	return nc && nc->ops == &vu_client_ops ? to_vu(nc) : NULL;
}

/*
 * The NIC uses pair i from now on (VQ_PAIRS_SET), or no longer: the
 * backend's rings of that pair follow at once while it has them, and at the
 * next start otherwise. Loop thread, the NIC's vdev->lock held (taken
 * before ours); a refusal was logged and drops the connection.
 */
static int vu_queue_enable(struct net_client *nc, bool on)
{
	struct vu_queue *q = container_of(nc, struct vu_queue, nc);
	struct vhost_user *vu = q->vu;
	int ret = 0;

	pthread_mutex_lock(&vu->lock);
	if (vu->pair_on[q->index] != on) {
		vu->pair_on[q->index] = on;
		if (vu->running && q->index < vu->started) {
			vu->op = "VQ_PAIRS_SET";
			ret = vu_enable_pair(vu, q->index, on);
		}
	}
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

static const struct net_client_ops vu_queue_ops = {
	.type = "vhost-user",
	.receive_iov = vu_receive_iov,
	.has_vnet_hdr = vu_has_vnet_hdr,
	.queue_enable = vu_queue_enable,
};

/* Pairs 1 .. pairs - 1: a client each, chained after pair 0's as a tap's queues are. */
static int vu_queues_init(struct vhost_user *vu, const char *id)
{
	struct net_client **next = &vu->nc.queue_next;
	unsigned int i;
	int ret;

	vu->pair_on[0] = true;
	for (i = 1; i < vu->pairs; i++) {
		ret = net_client_init(&vu->q[i].nc, &vu_queue_ops, id);
		if (ret) {
			vu_queues_exit(vu, i);
			return ret;
		}
		vu->q[i].vu = vu;
		vu->q[i].index = i;
		*next = &vu->q[i].nc;
		next = &vu->q[i].nc.queue_next;
	}
	return 0;
}

static struct vhost_user *vu_alloc(const struct netdev_opts *o, struct loop *loop)
{
	struct vhost_user *vu = calloc(1, sizeof(*vu));
	unsigned int i;

	if (!vu)
		return NULL;
	if (net_client_init(&vu->nc, &vu_client_ops, o->id)) {
		free(vu);
		return NULL;
	}
	vu->pairs = o->queues > 1 ? min((unsigned int)o->queues, VHOST_USER_MAX_PAIRS) : 1;
	if (vu_queues_init(vu, o->id)) {
		net_client_exit(&vu->nc);
		free(vu);
		return NULL;
	}
	pthread_mutex_init(&vu->lock, NULL);
	vu->loop = loop;
	vu->fd = vu->listen_fd = vu->wake_fd = vu->timer_fd = -1;
	for (i = 0; i < ARRAY_SIZE(vu->err_fd); i++)
		vu->err_fd[i] = -1;
	snprintf(vu->path, sizeof(vu->path), "%s", o->socket);
	vu->server = o->server == 1;
	vu->reconnect_ms = o->reconnect > 0 ? o->reconnect * 1000u : 0;
	vu->backoff_ms = VHOST_USER_BACKOFF_MIN_MS;
	vu->op = "handshake";
	vu->listener = (struct mem_listener){
		.name = "vhost-user",
		.region_add = vu_region_add,
		.region_del = vu_region_del,
	};
	return vu;
}

static int vu_open(const struct netdev_opts *o, struct loop *loop, struct net_client **out)
{
	struct vhost_user *vu = vu_alloc(o, loop);
	int ret;

	if (!vu)
		return -ENOMEM;
	ret = vu_make_fds(vu);
	if (ret) {
		pr_err("netdev %s: vhost-user: %s", o->id, strerror(-ret));
		goto err_free;
	}
	ret = vu->server ? vu_open_server(vu) : vu_open_client(vu);
	if (ret)
		goto err_free; /* said why */
	vu_go_live(vu);
	*out = &vu->nc;
	return 0;
err_free:
	vu_free(vu);
	return ret;
}

static void vu_close(struct net_client *nc)
{
	vu_cleanup(nc);
}

const struct net_backend_ops net_vhost_user_backend = {
	.type = "vhost-user",
	.open = vu_open,
	.close = vu_close,
};
