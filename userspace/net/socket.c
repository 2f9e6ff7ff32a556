// SPDX-License-Identifier: GPL-2.0
/*
 * kavm socket backend, after QEMU's net/socket.c and speaking its wire
 * format: listen= or connect= is TCP with each frame behind a 4-byte
 * big-endian length, udp= and mcast= one frame per datagram. Sockets are
 * made, bound and connected at start (the input level, before the sandbox);
 * the loop thread then only accepts (listen=), reads, sends and closes.
 *
 * A stream that goes wrong (a length over NET_SOCKET_MAX_FRAME, a peer that
 * closes, mid-frame or not) is closed with one line naming the netdev and
 * the link goes down; listen= then waits for the next peer, as QEMU does.
 * Reads stop at SOCKET_READ_BUDGET frames per event and while the receiver
 * is full; a frame the socket takes only part of is finished from our own
 * buffer on EPOLLOUT before the next is taken.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/net-socket.h>
#include <kavm/virtqueue.h>

/* Frames (or datagrams) taken per readiness event: bounded work per loop turn. */
#define SOCKET_READ_BUDGET 64
/* How long start-up waits for connect='s handshake before the loop takes it over. */
#define SOCKET_CONNECT_WAIT_MS 1000
/* A frame's iovec as the NIC hands it, plus the length in front. */
#define SOCKET_IOV_MAX 64

enum sock_mode {
	SOCK_LISTEN,
	SOCK_CONNECT,
	SOCK_UDP,
	SOCK_MCAST,
};

static const char *const sock_mode_names[] = { "listen", "connect", "udp", "mcast" };

struct net_sock {
	struct net_client nc;
	struct loop *loop;
	enum sock_mode mode;
	char where[64];		/* the address as given, for messages */
	int fd;			/* the connection, or the datagram socket; -1: none */
	int listen_fd;		/* listen=: where the next peer comes from; -1 otherwise */
	bool listen_polled;	/* listen_fd is in the loop */
	bool connecting;	/* connect=: the TCP handshake is under way */
	bool read_on;		/* not paused by a full receiver */
	bool out_wait;		/* a send met EAGAIN: wait for EPOLLOUT */
	uint32_t polled;	/* events fd is in the loop for; 0: not in it */
	struct sockaddr_in dst; /* udp=, mcast=: where frames go */
	size_t tx_len, tx_off;	/* the unsent tail of a TCP frame, in tx_buf */
	uint8_t tx_buf[NET_SOCKET_LEN_SIZE + NET_SOCKET_MAX_FRAME];
	struct net_stream_rx rx; /* TCP; datagrams are read into rx.buf too */
};

static struct net_sock *to_sock(struct net_client *nc)
{
	return container_of(nc, struct net_sock, nc);
}

static bool sock_stream(const struct net_sock *s)
{
	return s->mode == SOCK_LISTEN || s->mode == SOCK_CONNECT;
}

/* --- the stream parser: the length, then exactly that many bytes */

void net_stream_rx_reset(struct net_stream_rx *rx)
{
	rx->hdr_got = rx->len = rx->got = 0;
}

void *net_stream_rx_space(struct net_stream_rx *rx, size_t *want)
{
	if (rx->hdr_got < NET_SOCKET_LEN_SIZE) {
		*want = NET_SOCKET_LEN_SIZE - rx->hdr_got;
		return rx->hdr + rx->hdr_got;
	}
	*want = rx->len - rx->got;
	return rx->buf + rx->got;
}

int net_stream_rx_advance(struct net_stream_rx *rx, size_t n)
{
	if (rx->hdr_got < NET_SOCKET_LEN_SIZE) {
		rx->hdr_got += n;
		if (rx->hdr_got < NET_SOCKET_LEN_SIZE)
			return 0;
		rx->len = (uint32_t)rx->hdr[0] << 24 | rx->hdr[1] << 16 | rx->hdr[2] << 8 |
			  rx->hdr[3];
		rx->got = 0;
		if (rx->len > NET_SOCKET_MAX_FRAME)
			return -EMSGSIZE;
		if (rx->len == 0) {
			/* QEMU would hand an empty frame to its NIC; no NIC wants one. */
			rx->empty++;
			rx->hdr_got = 0;
		}
		return 0;
	}
	rx->got += n;
	if (rx->got < rx->len)
		return 0;
	rx->hdr_got = 0;
	return 1;
}

bool net_stream_rx_mid_frame(const struct net_stream_rx *rx)
{
	return rx->hdr_got > 0;
}

/* --- addresses */

static int sock_resolve(const char *host, struct in_addr *addr)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;

	if (!*host) {
		addr->s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET, host, addr) == 1)
		return 0;
	if (getaddrinfo(host, NULL, &hints, &ai))
		return -EADDRNOTAVAIL;
	*addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
	freeaddrinfo(ai);
	return 0;
}

static int sock_parse_port(const char *s, in_port_t *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = htons(v);
	return 0;
}

int net_socket_parse_addr(const char *s, bool need_port, struct sockaddr_in *sa)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	int ret;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon && need_port)
		return -EINVAL;
	if (colon) {
		ret = sock_parse_port(colon + 1, &sa->sin_port);
		if (ret)
			return ret;
	}
	if (strlen(s) >= sizeof(host))
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
	if (!colon && !*host)
		return -EINVAL;
	return sock_resolve(host, &sa->sin_addr);
}

/* --- polling */

static void sock_fd_event(int fd, uint32_t events, void *opaque);
static void sock_listen_event(int fd, uint32_t events, void *opaque);

/* Re-derive what the loop waits for on the connection from the state. */
static void sock_update_poll(struct net_sock *s)
{
	uint32_t ev = 0;

	if (s->fd >= 0 && !s->connecting && s->read_on)
		ev |= EPOLLIN;
	if (s->fd >= 0 && (s->connecting || s->out_wait || s->tx_len))
		ev |= EPOLLOUT;
	if (ev == s->polled)
		return;
	if (!ev)
		loop_del_fd(s->loop, s->fd);
	else if (s->polled)
		loop_mod_fd(s->loop, s->fd, ev);
	else if (loop_add_fd(s->loop, s->fd, ev, sock_fd_event, s))
		ev = 0;
	s->polled = ev;
}

static void sock_listen_poll(struct net_sock *s, bool on)
{
	if (s->listen_fd < 0 || on == s->listen_polled)
		return;
	if (on)
		s->listen_polled =
			!loop_add_fd(s->loop, s->listen_fd, EPOLLIN, sock_listen_event, s);
	else
		loop_del_fd(s->loop, s->listen_fd);
	s->listen_polled = s->listen_polled && on;
}

/* --- connection state */

/* The stream is over: one line, the link down, what waited for it dropped. */
static void sock_close_stream(struct net_sock *s, const char *why)
{
	if (s->polled)
		loop_del_fd(s->loop, s->fd);
	s->polled = 0;
	close(s->fd);
	s->fd = -1;
	s->connecting = s->out_wait = false;
	s->tx_len = s->tx_off = 0;
	net_stream_rx_reset(&s->rx);
	if (s->mode == SOCK_LISTEN) {
		pr_warn("netdev %s: %s; link down, waiting for a new connection on %s", s->nc.name,
			why, s->where);
		sock_listen_poll(s, true);
	} else {
		pr_err("netdev %s: %s; link down, connection to %s closed", s->nc.name, why,
		       s->where);
	}
	net_client_set_link(&s->nc, false);
	net_client_flush_queued(&s->nc); /* queued frames drain into nowhere */
}

static void sock_connected(struct net_sock *s)
{
	s->connecting = false;
	s->read_on = true;
	sock_update_poll(s);
	net_client_set_link(&s->nc, true);
	net_client_flush_queued(&s->nc);
}

static void sock_listen_event(int fd, uint32_t events, void *opaque)
{
	struct net_sock *s = opaque;
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char addr[INET_ADDRSTRLEN];
	int c;

	c = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			pr_warn_ratelimited("netdev %s: accept on %s: %s", s->nc.name, s->where,
					    strerror(errno));
		return;
	}
	/* One peer at a time, as QEMU: the next waits until this one leaves. */
	sock_listen_poll(s, false);
	s->fd = c;
	pr_info("netdev %s: connection from %s:%u; link up", s->nc.name,
		inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr)) ?: "?",
		ntohs(peer.sin_port));
	sock_connected(s);
}

static void sock_connect_done(struct net_sock *s)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "connect to %s: %s", s->where, strerror(err));
		sock_close_stream(s, why);
		return;
	}
	pr_info("netdev %s: connected to %s; link up", s->nc.name, s->where);
	sock_connected(s);
}

/* --- receiving from the socket */

static void sock_sent(struct net_client *nc, ssize_t len)
{
	struct net_sock *s = to_sock(nc);

	s->read_on = true;
	sock_update_poll(s);
}

/* A frame for our receiver; false: it is queued there, stop reading until sock_sent(). */
static bool sock_deliver(struct net_sock *s, const void *buf, size_t len)
{
	if (net_send(&s->nc, buf, len, sock_sent))
		return true;
	s->read_on = false;
	sock_update_poll(s);
	return false;
}

static void sock_stream_error(struct net_sock *s, ssize_t n, int err)
{
	char why[160];

	if (n < 0)
		snprintf(why, sizeof(why), "read: %s", strerror(err));
	else if (net_stream_rx_mid_frame(&s->rx) && s->rx.hdr_got < NET_SOCKET_LEN_SIZE)
		snprintf(why, sizeof(why),
			 "the peer closed the connection in the middle of a frame (%u of %d "
			 "length bytes)",
			 s->rx.hdr_got, NET_SOCKET_LEN_SIZE);
	else if (net_stream_rx_mid_frame(&s->rx))
		snprintf(why, sizeof(why),
			 "the peer closed the connection in the middle of a frame (%u of %u bytes)",
			 s->rx.got, s->rx.len);
	else
		snprintf(why, sizeof(why), "the peer closed the connection");
	sock_close_stream(s, why);
}

static void sock_read_stream(struct net_sock *s)
{
	unsigned int frames = 0;

	while (frames < SOCKET_READ_BUDGET && s->fd >= 0 && s->read_on) {
		size_t want;
		void *space = net_stream_rx_space(&s->rx, &want);
		ssize_t n = recv(s->fd, space, want, MSG_DONTWAIT);
		int ret;

		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			sock_stream_error(s, n, errno);
			return;
		}
		ret = net_stream_rx_advance(&s->rx, n);
		if (ret == -EMSGSIZE) {
			char why[128];

			snprintf(why, sizeof(why), "the peer sent a frame of %u bytes (at most %d)",
				 s->rx.len, NET_SOCKET_MAX_FRAME);
			sock_close_stream(s, why);
			return;
		}
		if (ret == 1) {
			frames++;
			sock_deliver(s, s->rx.buf, s->rx.len);
		}
	}
}

static void sock_read_dgram(struct net_sock *s)
{
	unsigned int i;

	for (i = 0; i < SOCKET_READ_BUDGET && s->read_on; i++) {
		ssize_t n = recv(s->fd, s->rx.buf, sizeof(s->rx.buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pr_warn_ratelimited("netdev %s: recv: %s", s->nc.name,
						    strerror(errno));
			return;
		}
		if (n == 0)
			continue;
		if (n > (ssize_t)sizeof(s->rx.buf)) {
			pr_warn_ratelimited(
				"netdev %s: dropped a datagram of %zd bytes (at most %d)",
				s->nc.name, n, NET_SOCKET_MAX_FRAME);
			s->nc.stats.rx_errors++;
			continue;
		}
		sock_deliver(s, s->rx.buf, n);
	}
}

/* --- sending to the socket */

/* The tail of a frame the socket took only part of; true when it is all out. */
static bool sock_send_tail(struct net_sock *s)
{
	ssize_t n;

	while (s->tx_off < s->tx_len) {
		n = send(s->fd, s->tx_buf + s->tx_off, s->tx_len - s->tx_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n < 0) {
			char why[96];

			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			sock_close_stream(s, why);
			return false;
		}
		s->tx_off += n;
	}
	s->tx_len = s->tx_off = 0;
	return true;
}

static void sock_fd_event(int fd, uint32_t events, void *opaque)
{
	struct net_sock *s = opaque;

	if (s->connecting) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			sock_connect_done(s);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (sock_stream(s))
			sock_read_stream(s);
		else
			sock_read_dgram(s);
	}
	if (s->fd < 0 || !(events & EPOLLOUT))
		return;
	if (s->tx_len && !sock_send_tail(s))
		return;
	s->out_wait = false;
	sock_update_poll(s);
	net_client_flush_queued(&s->nc);
}

/* Keep what the socket did not take: the receiver's frame is ours now. */
static void sock_keep_tail(struct net_sock *s, const struct iovec *iov, int iovcnt, size_t sent)
{
	size_t total = iov_length(iov, iovcnt);

	s->tx_len = iov_to_buf(iov, iovcnt, sent, s->tx_buf, total - sent);
	s->tx_off = 0;
	sock_update_poll(s);
}

static ssize_t sock_sendmsg(struct net_sock *s, struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = iovcnt };

	if (!sock_stream(s)) {
		msg.msg_name = &s->dst;
		msg.msg_namelen = sizeof(s->dst);
	}
	return sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static ssize_t sock_receive_stream(struct net_sock *s, struct iovec *v, int cnt, size_t len)
{
	ssize_t n = sock_sendmsg(s, v, cnt);

	if (n < 0 && errno != EAGAIN) {
		char why[96];

		snprintf(why, sizeof(why), "send: %s", strerror(errno));
		sock_close_stream(s, why);
		return -ENETDOWN;
	}
	if (n <= 0) {
		s->out_wait = true;
		sock_update_poll(s);
		return 0;
	}
	if ((size_t)n < NET_SOCKET_LEN_SIZE + len)
		sock_keep_tail(s, v, cnt, n);
	return len;
}

static ssize_t sock_receive_dgram(struct net_sock *s, struct iovec *v, int cnt, size_t len)
{
	ssize_t n = sock_sendmsg(s, v, cnt);

	if (n >= 0)
		return len ?: 1;
	if (errno == EAGAIN || errno == ENOBUFS) {
		s->out_wait = true;
		sock_update_poll(s);
		return 0;
	}
	pr_warn_ratelimited("netdev %s: send to %s: %s", s->nc.name, s->where, strerror(errno));
	return -errno;
}

static ssize_t sock_receive_iov(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct net_sock *s = to_sock(nc);
	size_t len = iov_length(iov, iovcnt);
	struct iovec v[SOCKET_IOV_MAX + 1];
	uint8_t hdr[NET_SOCKET_LEN_SIZE] = { len >> 24, len >> 16, len >> 8, len };
	int cnt = 0;

	if (s->fd < 0 || s->connecting)
		return -ENETDOWN;
	if (s->tx_len || s->out_wait)
		return 0; /* in order: after the frame the socket is still taking */
	if (len > NET_SOCKET_MAX_FRAME || iovcnt > SOCKET_IOV_MAX) {
		pr_warn_ratelimited("netdev %s: dropped a frame of %zu bytes in %d pieces",
				    nc->name, len, iovcnt);
		return -EMSGSIZE;
	}
	if (sock_stream(s))
		v[cnt++] = (struct iovec){ hdr, sizeof(hdr) };
	memcpy(v + cnt, iov, iovcnt * sizeof(*iov));
	cnt += iovcnt;
	if (sock_stream(s))
		return sock_receive_stream(s, v, cnt, len);
	return sock_receive_dgram(s, v, cnt, len);
}

/* --- set-up and teardown */

static void sock_cleanup(struct net_client *nc)
{
	struct net_sock *s = to_sock(nc);

	if (s->polled)
		loop_del_fd(s->loop, s->fd);
	s->polled = 0;
	sock_listen_poll(s, false);
	/* Unlink after leaving the loop: the purge calls sock_sent(). */
	net_client_exit(&s->nc);
	if (s->fd >= 0)
		close(s->fd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
}

static const struct net_client_ops sock_client_ops = {
	.type = "socket",
	.receive_iov = sock_receive_iov,
	.cleanup = sock_cleanup,
};

static int sock_new(int type)
{
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
		one = -errno;
		close(fd);
		return one;
	}
	return fd;
}

static int sock_open_listen(struct net_sock *s, const struct sockaddr_in *sa)
{
	int fd = sock_new(SOCK_STREAM);

	if (fd < 0)
		return fd;
	s->listen_fd = fd;
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 1))
		return -errno;
	sock_listen_poll(s, true);
	return s->listen_polled ? 0 : -ENOMEM;
}

/*
 * A peer that answers within SOCKET_CONNECT_WAIT_MS is taken (or its refusal
 * reported) at start, as one line; a slower one finishes in the loop.
 */
static int sock_connect_wait(struct net_sock *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, SOCKET_CONNECT_WAIT_MS) <= 0) {
		s->connecting = true;
		return 0;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	if (err)
		return -err;
	s->read_on = true;
	return 0;
}

static int sock_open_connect(struct net_sock *s, const struct sockaddr_in *sa)
{
	int fd = sock_new(SOCK_STREAM), one = 1;

	if (fd < 0)
		return fd;
	s->fd = fd;
	/* Frames are small and latency-bound: no Nagle delay behind a partial one. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		s->read_on = true;
		return 0;
	}
	if (errno != EINPROGRESS)
		return -errno;
	return sock_connect_wait(s);
}

static int sock_open_udp(struct net_sock *s, const struct netdev_opts *o)
{
	struct sockaddr_in local;
	int fd = sock_new(SOCK_DGRAM);

	if (fd < 0)
		return fd;
	s->fd = fd;
	net_socket_parse_addr(o->udp, true, &s->dst);
	if (net_socket_parse_addr(o->localaddr, true, &local))
		return -EADDRNOTAVAIL;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)))
		return -errno;
	s->read_on = true;
	return 0;
}

/* QEMU's net_socket_mcast_create(): bound to the group, looped back for VMs on this host. */
static int sock_open_mcast(struct net_sock *s, const struct netdev_opts *o)
{
	struct ip_mreq mreq = { .imr_interface.s_addr = htonl(INADDR_ANY) };
	struct sockaddr_in local;
	int fd = sock_new(SOCK_DGRAM), one = 1;

	if (fd < 0)
		return fd;
	s->fd = fd;
	net_socket_parse_addr(o->mcast, true, &s->dst);
	if (o->localaddr[0] && net_socket_parse_addr(o->localaddr, false, &local))
		return -EADDRNOTAVAIL;
	if (o->localaddr[0])
		mreq.imr_interface = local.sin_addr;
	mreq.imr_multiaddr = s->dst.sin_addr;
	if (bind(fd, (struct sockaddr *)&s->dst, sizeof(s->dst)) ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof(one)))
		return -errno;
	if (o->localaddr[0] &&
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &local.sin_addr, sizeof(local.sin_addr)))
		return -errno;
	s->read_on = true;
	return 0;
}

static int sock_open_mode(struct net_sock *s, const struct netdev_opts *o)
{
	struct sockaddr_in sa;
	int ret;

	ret = net_socket_parse_addr(s->where, true, &sa);
	if (ret)
		return ret;
	switch (s->mode) {
	case SOCK_LISTEN:
		return sock_open_listen(s, &sa);
	case SOCK_CONNECT:
		return sock_open_connect(s, &sa);
	case SOCK_UDP:
		return sock_open_udp(s, o);
	default:
		return sock_open_mcast(s, o);
	}
}

static void sock_pick_mode(struct net_sock *s, const struct netdev_opts *o)
{
	const char *addr[] = { o->listen, o->connect, o->udp, o->mcast };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(addr) && !addr[i][0]; i++)
		;
	s->mode = i < ARRAY_SIZE(addr) ? i : SOCK_MCAST;
	snprintf(s->where, sizeof(s->where), "%s", i < ARRAY_SIZE(addr) ? addr[i] : "");
}

static int sock_open(const struct netdev_opts *o, struct loop *loop, struct net_client **out)
{
	struct net_sock *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	if (net_client_init(&s->nc, &sock_client_ops, o->id)) {
		free(s);
		return -ENOMEM;
	}
	s->loop = loop;
	s->fd = s->listen_fd = -1;
	sock_pick_mode(s, o);
	ret = sock_open_mode(s, o);
	if (ret) {
		pr_err("netdev %s: %s %s: %s", o->id, sock_mode_names[s->mode], s->where,
		       ret == -EADDRNOTAVAIL ? "cannot resolve the host" : strerror(-ret));
		sock_cleanup(&s->nc);
		return ret;
	}
	/* Until a peer is there the guest sees no carrier, as QEMU's listen= has it. */
	s->nc.link_down = s->mode == SOCK_LISTEN || s->connecting;
	sock_update_poll(s);
	*out = &s->nc;
	return 0;
}

static void sock_close(struct net_client *nc)
{
	sock_cleanup(nc);
}

const struct net_backend_ops net_socket_backend = {
	.type = "socket",
	.open = sock_open,
	.close = sock_close,
};
