// SPDX-License-Identifier: GPL-2.0
/*
 * kavm tap backend (after QEMU's net/tap.c): an existing tap by name, an
 * inherited fd, or a new tap. Non-blocking I/O in the loop: read until EAGAIN
 * (or a budget), writev; EAGAIN on write queues the frame and waits for
 * EPOLLOUT; a full guest pauses reading until the guest refills. Link events
 * (tap deleted or set down) come from an rtnetlink socket: kavm stops polling,
 * tells the guest the link is down and lets TX complete into nowhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>
#include <kavm/kswitch.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/seccomp.h>
#include <kavm/tap.h>
#include <kavm/vhost-net.h>
#include <kavm/virtqueue.h>

/* Frames read per readiness event: bounded work per loop turn. */
#define TAP_READ_BUDGET 64
/* vnet header (12) + the largest GSO frame the kernel hands us + slack. */
#define TAP_BUF_SIZE (12 + 65536 + 256)
/* The header length until the NIC negotiates: virtio 1.x's virtio_net_hdr_v1. */
#define TAP_VNET_HDR_LEN 12

struct tap {
	struct net_client nc;
	struct loop *loop;
	int fd;
	int nlfd; /* rtnetlink RTMGRP_LINK: our tap deleted or set down/up */
	int ifindex;
	char ifname[IFNAMSIZ];
	bool created;		 /* kavm made it: closing the fd removes it */
	bool vnet_hdr;		 /* IFF_VNET_HDR */
	bool read_on;		 /* not paused by a full receiver */
	bool write_on;		 /* a write hit EAGAIN: wait for EPOLLOUT */
	bool polled;		 /* fd is in the loop */
	bool up;		 /* the interface is up (IFF_UP) */
	bool gone;		 /* deleted: the fd is dead for good */
	struct bpf_switch *swh;	 /* a port of eBPF switch sw, kept open to leave it on close */
	struct kswitch *ksw;	 /* or of kmod switch sw: its genl socket, kept for the same */
	bool poll_off;		 /* not reading: vhost-net has the fd (or may get it) */
	bool detached;		 /* a queue the NIC does not use (TUNSETQUEUE): EPOLLERR */
	struct vhost_net *vhost; /* vhost=on */
	char sw[BPF_SWITCH_NAME_MAX + 1];
	void (*release)(void *opaque, int fd); /* the fd's owner, when another backend */
	void *opaque;
	/*
	 * queues=N: queue 0, which owns the link (netlink, switch, name); itself
	 * for queue 0. The others hang off q0->nc.queue_next, one fd each.
	 */
	struct tap *q0;
	uint8_t buf[TAP_BUF_SIZE];
};

static struct tap *to_tap(struct net_client *nc)
{
	return container_of(nc, struct tap, nc);
}

static void tap_fd_event(int fd, uint32_t events, void *opaque);

/* Re-derive what the loop waits for from the state; a dead or down tap is not polled. */
static void tap_update_poll(struct tap *t)
{
	uint32_t ev = (t->read_on && !t->poll_off ? EPOLLIN : 0) | (t->write_on ? EPOLLOUT : 0);
	bool want = t->up && !t->gone && !t->detached && ev;

	if (!want) {
		if (t->polled)
			loop_del_fd(t->loop, t->fd);
		t->polled = false;
		return;
	}
	if (t->polled)
		loop_mod_fd(t->loop, t->fd, ev);
	else
		t->polled = !loop_add_fd(t->loop, t->fd, ev, tap_fd_event, t);
}

/* The interface's state, for every queue of it: one link. */
static void tap_set_up(struct tap *t, bool up, bool gone)
{
	bool was, now;
	struct net_client *q;

	t = t->q0;
	was = t->up && !t->gone;
	now = up && !(t->gone || gone);
	for (q = &t->nc; q; q = q->queue_next) {
		to_tap(q)->up = up;
		to_tap(q)->gone = to_tap(q)->gone || gone;
	}
	if (was == now)
		return;
	if (was)
		pr_warn("tap %s: %s; guest link down, its TX is dropped\n", t->ifname,
			t->gone ? "deleted" : "set down");
	else
		pr_info("tap %s: up; guest link up\n", t->ifname);
	for (q = &t->nc; q; q = q->queue_next) {
		to_tap(q)->write_on = false;
		tap_update_poll(to_tap(q));
	}
	net_client_set_link(&t->nc, now);
	for (q = &t->nc; !now && q; q = q->queue_next)
		net_client_flush_queued(q); /* queued TX drains into nowhere */
}

static void tap_sent(struct net_client *nc, ssize_t len)
{
	struct tap *t = to_tap(nc);

	t->read_on = true;
	tap_update_poll(t);
}

static void tap_read(struct tap *t)
{
	unsigned int i;

	for (i = 0; i < TAP_READ_BUDGET && t->read_on && !t->poll_off; i++) {
		ssize_t n = read(t->fd, t->buf, sizeof(t->buf));

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* EBADFD: the device went away under us. */
			tap_set_up(t, t->up, errno == EBADFD);
			return;
		}
		if (net_send(&t->nc, t->buf, n, tap_sent) == 0) {
			/* Copied into the peer's queue; read again when it drains. */
			t->read_on = false;
			tap_update_poll(t);
		}
	}
}

static void tap_fd_event(int fd, uint32_t events, void *opaque)
{
	struct tap *t = opaque;

	if (events & (EPOLLERR | EPOLLHUP)) {
		tap_set_up(t, false, true);
		return;
	}
	if (events & EPOLLOUT) {
		t->write_on = false;
		tap_update_poll(t);
		net_client_flush_queued(&t->nc);
	}
	if (events & EPOLLIN)
		tap_read(t);
}

static ssize_t tap_receive_iov(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct tap *t = to_tap(nc);
	ssize_t n;

	if (t->gone || !t->up)
		return -ENETDOWN; /* a frame queued before the link went: dropped, counted */
	n = writev(t->fd, iov, iovcnt);
	if (n >= 0)
		return n ?: 1;
	if (errno == EAGAIN) {
		t->write_on = true;
		tap_update_poll(t);
		return 0;
	}
	if (errno == EIO) {
		/*
		 * Set down before the netlink event reached us. This calls the
		 * sender back (link status) from inside its send: the net core
		 * and the NIC allow that (no lock held across the send).
		 */
		tap_set_up(t, false, false);
		return -ENETDOWN;
	}
	pr_warn_ratelimited("tap %s: write: %s\n", t->ifname, strerror(errno));
	return -errno;
}

static void tap_nl_msg(struct tap *t, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_index != t->ifindex)
		return;
	/*
	 * AF_BRIDGE: a bridge speaking of its port, not of the link. It sends
	 * RTM_DELLINK when the tap leaves it (ip link set nomaster, kavmctl
	 * link detach), and the tap is still there.
	 */
	if (ifi->ifi_family == AF_BRIDGE)
		return;
	if (h->nlmsg_type == RTM_DELLINK)
		tap_set_up(t, false, true);
	else if (h->nlmsg_type == RTM_NEWLINK)
		tap_set_up(t, ifi->ifi_flags & IFF_UP, false);
}

/*
 * The kernel dropped link events that did not fit our socket (ENOBUFS): a
 * busy loop, or a host with many links changing. The tap's own may be among
 * them, and no other will come: read its state instead. The ioctls go
 * through the netlink socket, as the loop thread may not make one.
 */
static void tap_nl_resync(struct tap *t)
{
	struct ifreq ifr = { 0 };

	pr_warn_ratelimited("tap %s: link events lost (%s); reading the link state\n", t->ifname,
			    strerror(ENOBUFS));
	memcpy(ifr.ifr_name, t->ifname, IFNAMSIZ);
	if (ioctl(t->nlfd, SIOCGIFINDEX, &ifr)) {
		if (errno == ENODEV)
			tap_set_up(t, false, true);
		return;
	}
	if (ifr.ifr_ifindex != t->ifindex) {
		tap_set_up(t, false, true); /* deleted, its name taken by another link */
		return;
	}
	if (!ioctl(t->nlfd, SIOCGIFFLAGS, &ifr))
		tap_set_up(t, ifr.ifr_flags & IFF_UP, false);
}

static void tap_nl_event(int fd, uint32_t events, void *opaque)
{
	struct tap *t = opaque;
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool lost = false;
	ssize_t n;

	for (;;) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		int len;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			lost = true;
			continue;
		}
		if (n <= 0)
			break;
		for (len = n; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			tap_nl_msg(t, h);
	}
	/* After the events still queued: they are older than the state read now. */
	if (lost)
		tap_nl_resync(t);
}

static int tap_nl_open(struct tap *t)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	int ret;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto err_close;
	}
	ret = loop_add_fd(t->loop, fd, EPOLLIN, tap_nl_event, t);
	if (ret)
		goto err_close;
	t->nlfd = fd;
	return 0;
err_close:
	close(fd);
	return ret;
}

static bool tap_has_vnet_hdr(struct net_client *nc)
{
	return to_tap(nc)->vnet_hdr;
}

static int tap_set_vnet_hdr_len(struct net_client *nc, int len)
{
	struct tap *t = to_tap(nc);

	if (!t->vnet_hdr || len != TAP_VNET_HDR_LEN)
		return -EINVAL;
	return ioctl(t->fd, TUNSETVNETHDRSZ, &len) ? -errno : 0;
}

static int tap_set_offload(struct net_client *nc, const struct net_offload *o)
{
	struct tap *t = to_tap(nc);
	unsigned int f = 0;

	if (!t->vnet_hdr)
		return -EINVAL;
	if (o->csum) {
		f |= TUN_F_CSUM;
		f |= (o->tso4 ? TUN_F_TSO4 : 0) | (o->tso6 ? TUN_F_TSO6 : 0);
		f |= (o->ecn ? TUN_F_TSO_ECN : 0) | (o->ufo ? TUN_F_UFO : 0);
	}
	return ioctl(t->fd, TUNSETOFFLOAD, f) ? -errno : 0;
}

/*
 * The NIC uses this queue (VQ_PAIRS_SET) or not: the kernel steers frames
 * to attached queues only. A detached queue's fd polls EPOLLERR, which is
 * not the tap going away: it leaves the loop before the detach and joins it
 * after the attach. Loop thread.
 */
static int tap_queue_enable(struct net_client *nc, bool on)
{
	struct tap *t = to_tap(nc);
	struct ifreq ifr = { .ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };

	if (t->q0 == t || t->detached == !on)
		return 0; /* queue 0 stays: the NIC always uses its first pair */
	if (!on) {
		t->detached = true;
		tap_update_poll(t);
	}
	if (ioctl(t->fd, TUNSETQUEUE, &ifr)) {
		pr_warn_ratelimited("tap %s: %s queue: %s\n", t->ifname, on ? "attach" : "detach",
				    strerror(errno));
		return -errno; /* detach failed: stays out of the loop, harmless */
	}
	t->detached = !on;
	tap_update_poll(t);
	return 0;
}

static struct vhost_net *tap_get_vhost_net(struct net_client *nc)
{
	return to_tap(nc)->vhost;
}

static void tap_poll(struct net_client *nc, bool on)
{
	struct tap *t = to_tap(nc);

	t->poll_off = !on;
	tap_update_poll(t);
}

/*
 * vhost=on: the NIC starts vhost-net at DRIVER_OK and only then may the tap
 * be read, by the kernel. Until then (and if vhost fails, until the NIC says
 * so) kavm leaves the fd alone, as QEMU does.
 */
static int tap_vhost_open(struct tap *t, const char *id, bool vhost, int vhost_fd)
{
	int ret;

	if (!vhost)
		return 0;
	if (!t->vnet_hdr) {
		/* netopts refuses vnet_hdr=off; an fd= tap may lack the header */
		pr_err("netdev %s: vhost=on: tap %s has no vnet header", id, t->ifname);
		return -EINVAL;
	}
	ret = vhost_net_open(id, t->fd, vhost_fd, &t->vhost);
	if (ret)
		return ret;
	t->poll_off = true;
	tap_update_poll(t);
	return 0;
}

/* Out of the loop for good: no fd or netlink event reaches the tap after this. */
static void tap_stop(struct tap *t)
{
	t->gone = true;
	tap_update_poll(t);
	if (t->nlfd >= 0) {
		loop_del_fd(t->loop, t->nlfd);
		close(t->nlfd);
		t->nlfd = -1;
	}
}

static void tap_switch_leave(struct tap *t)
{
	int ret;

	if (t->ksw) {
		/* By ifindex over the socket opened at start: no name lookup, no new socket. */
		ret = kswitch_leave(t->ksw, t->sw, t->ifindex);
		if (ret)
			pr_warn("tap %s: leave switch %s: %s", t->ifname, t->sw, strerror(-ret));
		t->ksw = NULL;
	}
	if (!t->swh)
		return;
	/* Before the fd closes: a tap kavm made is gone after, and its port with it. */
	ret = bpf_switch_leave(t->swh, t->ifindex);
	if (ret)
		pr_warn("tap %s: leave switch %s: %s", t->ifname, t->sw, strerror(-ret));
	t->swh = NULL;
}

static void tap_release_fd(struct tap *t)
{
	if (t->release)
		t->release(t->opaque, t->fd);
	else
		close(t->fd); /* a tap we created is not persistent: this removes it */
}

static void tap_cleanup(struct net_client *nc)
{
	struct tap *t = to_tap(nc);

	/* The other queues first: the interface kavm made goes with its last fd. */
	if (nc->queue_next)
		tap_cleanup(nc->queue_next);
	nc->queue_next = NULL;

	/*
	 * Unlink after leaving the loop: purging our frames from the peer's
	 * queue calls tap_sent(), which must find the tap already out of it.
	 */
	tap_stop(t);
	net_client_exit(&t->nc);
	vhost_net_close(t->vhost); /* before the tap it reads goes */
	tap_switch_leave(t);
	tap_release_fd(t);
	free(t);
}

static const struct net_client_ops tap_client_ops = {
	.type = "tap",
	.receive_iov = tap_receive_iov,
	.cleanup = tap_cleanup,
	.has_vnet_hdr = tap_has_vnet_hdr,
	.set_vnet_hdr_len = tap_set_vnet_hdr_len,
	.set_offload = tap_set_offload,
	.get_vhost_net = tap_get_vhost_net,
	.poll = tap_poll,
	.queue_enable = tap_queue_enable,
};

/* Attach to (or create) the tap by name; fills t->fd, t->ifname, t->created. */
static int tap_attach_name(struct tap *t, const struct netdev_opts *o)
{
	struct ifreq ifr = { 0 };
	int ret;

	t->created = !o->ifname[0] || !if_nametoindex(o->ifname);
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (o->vnet_hdr != 0 ? IFF_VNET_HDR : 0) |
			(o->queues > 1 ? IFF_MULTI_QUEUE : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	if (ioctl(t->fd, TUNSETIFF, &ifr)) {
		ret = -errno;
		close(t->fd);
		return ret;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->vnet_hdr = o->vnet_hdr != 0;
	return 0;
}

/*
 * The fd's framing is the kernel's (its TUNGETIFF flags), not ours to pick:
 * a header kavm does not expect shifts every frame both ways, and one it
 * expects but the kernel does not strip leaves its checks on guest bytes.
 * want_vnet_hdr: -1 takes the fd's IFF_VNET_HDR; 0 or 1 must match it.
 */
static int tap_fd_framing(const char *id, int fd, const struct ifreq *ifr, int want_vnet_hdr,
			  bool *vnet_hdr)
{
	bool has = ifr->ifr_flags & IFF_VNET_HDR;

	if (!(ifr->ifr_flags & IFF_TAP)) {
		pr_err("netdev %s: tap fd %d (%s) is a tun device, not a tap (no IFF_TAP)", id, fd,
		       ifr->ifr_name);
		return -EINVAL;
	}
	if (want_vnet_hdr >= 0 && want_vnet_hdr != has) {
		pr_err("netdev %s: tap fd %d (%s) %s IFF_VNET_HDR but vnet_hdr=%s was asked", id,
		       fd, ifr->ifr_name, has ? "has" : "has no", want_vnet_hdr ? "on" : "off");
		return -EINVAL;
	}
	*vnet_hdr = has;
	return 0;
}

/* An inherited fd: learn its name and flags; kavm did not create it. Says why it fails. */
static int tap_attach_fd(struct tap *t, const struct netdev_opts *o)
{
	struct ifreq ifr = { 0 };
	int ret;

	if (ioctl(o->fd, TUNGETIFF, &ifr)) {
		ret = -errno;
		pr_err("netdev %s: tap fd %d: %s", o->id, o->fd, strerror(-ret));
		return ret;
	}
	ret = tap_fd_framing(o->id, o->fd, &ifr, o->vnet_hdr, &t->vnet_hdr);
	if (ret)
		return ret;
	t->fd = o->fd;
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	return 0;
}

static int tap_read_flags(struct tap *t)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	memcpy(ifr.ifr_name, t->ifname, IFNAMSIZ);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	t->up = ifr.ifr_flags & IFF_UP;
	close(s);
	return ret;
}

static int tap_setup(struct tap *t)
{
	int len = TAP_VNET_HDR_LEN, ret;

	t->ifindex = if_nametoindex(t->ifname);
	if (!t->ifindex)
		return -ENODEV;
	if (fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK))
		return -errno;
	if (t->vnet_hdr && ioctl(t->fd, TUNSETVNETHDRSZ, &len))
		return -errno;
	ret = tap_read_flags(t);
	if (ret)
		return ret;
	ret = tap_nl_open(t);
	if (ret)
		return ret;
	t->read_on = true;
	t->nc.link_down = !t->up;
	tap_update_poll(t);
	return 0;
}

/* Switch SW of the kmod engine: t->ksw holds its socket once the tap is a port. */
static int tap_kswitch_join(struct tap *t, const char *id)
{
	struct kswitch *k = t->ksw;
	int ret;

	t->ksw = NULL;
	ret = kswitch_port_add(k, t->sw, t->ifname, 0, NULL);
	if (ret) {
		if (*kswitch_errmsg(k))
			pr_err("netdev %s: switch %s (kmod): attach %s: %s: %s", id, t->sw,
			       t->ifname, strerror(-ret), kswitch_errmsg(k));
		else
			pr_err("netdev %s: switch %s (kmod): attach %s: %s", id, t->sw, t->ifname,
			       strerror(-ret));
		kswitch_close(k);
		return ret;
	}
	t->ksw = k;
	return 0;
}

/*
 * switch=SW: the eBPF switch or kavm_switch.ko's switch of that name, never
 * both (kavmctl refuses to make the second; a name taken in both is refused).
 */
static int tap_switch_join(struct tap *t, const char *id, const char *sw)
{
	struct bpf_switch *bsw = NULL;
	bool bpf_has;
	int ret;

	if (!sw || !sw[0])
		return 0;
	snprintf(t->sw, sizeof(t->sw), "%s", sw);
	ret = kswitch_find(t->sw, &t->ksw);
	if (ret && ret != -ENOENT) {
		pr_err("netdev %s: switch %s: kavm_switch.ko: %s", id, t->sw, strerror(-ret));
		return ret;
	}
	ret = bpf_switch_open(t->sw, &bsw);
	bpf_has = !ret;
	bpf_switch_close(bsw);
	if (bpf_has && t->ksw) {
		pr_err("netdev %s: switch %s: both an eBPF switch and a kmod switch are named %s; delete one",
		       id, t->sw, t->sw);
		kswitch_close(t->ksw);
		t->ksw = NULL;
		return -EEXIST;
	}
	if (t->ksw)
		return tap_kswitch_join(t, id);
	ret = bpf_switch_join(t->sw, t->ifname, &t->swh);
	if (ret == -ENOENT)
		pr_err("netdev %s: switch %s: no such switch (make it with kavmctl switch add %s [--engine kmod])",
		       id, t->sw, t->sw);
	else if (ret)
		pr_err("netdev %s: switch %s: attach %s: %s", id, t->sw, t->ifname, strerror(-ret));
	if (!ret)
		sandbox_allow_switch_leave();
	return ret;
}

static struct tap *tap_alloc(const char *id, struct loop *loop)
{
	struct tap *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (net_client_init(&t->nc, &tap_client_ops, id)) {
		free(t);
		return NULL;
	}
	t->loop = loop;
	t->nlfd = -1;
	t->fd = -1;
	t->q0 = t;
	return t;
}

/* Undo tap_setup() and free; the fd stays with the caller. */
static void tap_free(struct tap *t)
{
	tap_stop(t);
	net_client_exit(&t->nc);
	vhost_net_close(t->vhost);
	free(t);
}

/*
 * Queue i > 0 of a queues=N tap: one more fd on q0's interface
 * (IFF_MULTI_QUEUE), with its own vhost-net device when vhost=on. The link
 * (netlink, switch) stays with q0.
 */
static int tap_queue_open(struct tap *q0, const char *id, bool vhost, struct tap **out)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE };
	int len = TAP_VNET_HDR_LEN, ret;
	struct tap *t = tap_alloc(id, q0->loop);

	if (!t)
		return -ENOMEM;
	t->q0 = q0;
	t->vnet_hdr = q0->vnet_hdr;
	t->ifindex = q0->ifindex;
	memcpy(t->ifname, q0->ifname, IFNAMSIZ);
	memcpy(ifr.ifr_name, q0->ifname, IFNAMSIZ);
	ifr.ifr_flags |= t->vnet_hdr ? IFF_VNET_HDR : 0;
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (ioctl(t->fd, TUNSETIFF, &ifr) || (t->vnet_hdr && ioctl(t->fd, TUNSETVNETHDRSZ, &len))) {
		ret = -errno;
		goto err_close;
	}
	t->up = q0->up;
	t->nc.link_down = q0->nc.link_down;
	t->read_on = true;
	tap_update_poll(t);
	ret = tap_vhost_open(t, id, vhost, -1);
	if (ret)
		goto err_close;
	*out = t;
	return 0;
err_close:
	tap_stop(t);
	close(t->fd);
err_free:
	tap_free(t);
	return ret;
}

/* Queues 1 .. queues - 1 after q0, chained; on failure the caller closes q0 and those made. */
static int tap_queues_open(struct tap *q0, const char *id, int queues, bool vhost)
{
	struct net_client **next = &q0->nc.queue_next;
	struct tap *t = NULL;
	int i, ret;

	for (i = 1; i < queues; i++) {
		ret = tap_queue_open(q0, id, vhost, &t);
		if (ret) {
			pr_err("netdev %s: tap %s: queue %d: %s", id, q0->ifname, i,
			       strerror(-ret));
			return ret;
		}
		*next = &t->nc;
		next = &t->nc.queue_next;
	}
	return 0;
}

static int tap_open(const struct netdev_opts *o, struct loop *loop, struct net_client **out)
{
	struct tap *t = tap_alloc(o->id, loop);
	int ret;

	if (!t)
		return -ENOMEM;
	ret = o->fd >= 0 ? tap_attach_fd(t, o) : tap_attach_name(t, o);
	if (ret)
		goto err_free;
	ret = tap_setup(t);
	if (ret)
		goto err_close;
	ret = tap_vhost_open(t, o->id, o->vhost == 1, o->vhostfd);
	if (ret)
		goto err_close_quiet; /* tap_vhost_open() said why */
	ret = tap_switch_join(t, o->id, o->sw);
	if (ret)
		goto err_close_quiet;
	ret = tap_queues_open(t, o->id, o->queues, o->vhost == 1);
	if (ret) {
		tap_cleanup(&t->nc); /* the queues made, the switch, the fd */
		return ret;
	}
	*out = &t->nc;
	return 0;
err_close:
	pr_err("netdev %s: tap %s: %s", o->id, t->ifname, strerror(-ret));
err_close_quiet:
	tap_stop(t); /* out of the loop while the fd is still open */
	close(t->fd);
	tap_free(t);
	return ret;
err_free:
	if (o->fd < 0) /* else tap_attach_fd() said why */
		pr_err("netdev %s: tap %s: %s", o->id, o->ifname[0] ? o->ifname : "(new)",
		       strerror(-ret));
	tap_free(t);
	return ret;
}

int tap_client_new_fd(const struct tap_fd_args *a, struct loop *loop, struct net_client **out)
{
	struct tap *t = tap_alloc(a->id, loop);
	struct ifreq ifr = { 0 };
	int ret;

	if (!t)
		return -ENOMEM;
	if (ioctl(a->fd, TUNGETIFF, &ifr)) {
		ret = -errno;
		goto err_free;
	}
	ret = tap_fd_framing(a->id, a->fd, &ifr, a->vnet_hdr, &t->vnet_hdr);
	if (ret)
		goto err_free_quiet;
	t->fd = a->fd;
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	ret = tap_setup(t);
	if (ret)
		goto err_free;
	ret = tap_vhost_open(t, a->id, a->vhost, a->vhost_fd);
	if (ret)
		goto err_free_quiet; /* tap_vhost_open() said why */
	ret = tap_switch_join(t, a->id, a->switch_name);
	if (ret)
		goto err_free_quiet;
	t->release = a->release;
	t->opaque = a->opaque;
	ret = tap_queues_open(t, a->id, a->queues, a->vhost);
	if (ret) {
		/* The queues made and the switch go; the fd goes back to its owner, who frees. */
		tap_stop(t);
		t->release = NULL;
		t->fd = -1;
		tap_cleanup(&t->nc);
		return ret;
	}
	*out = &t->nc;
	return 0;
err_free:
	pr_err("netdev %s: tap %s: %s", a->id, t->ifname[0] ? t->ifname : "(fd)", strerror(-ret));
err_free_quiet:
	tap_free(t);
	return ret;
}

static void tap_close(struct net_client *nc)
{
	tap_cleanup(nc);
}

const char *tap_client_ifname(struct net_client *nc)
{
	return nc && nc->ops == &tap_client_ops ? to_tap(nc)->ifname : NULL;
}

const struct net_backend_ops net_tap_backend = {
	.type = "tap",
	.open = tap_open,
	.close = tap_close,
};
