// SPDX-License-Identifier: GPL-2.0
/*
 * kavm hubport backend, after QEMU's net/hub.c: every hubport netdev with the
 * same hubid is a port of one in-process hub, and a frame that comes in on a
 * port goes out of every other port, never back to its own. A port takes a
 * frame when at least one other port can send one; a port whose receiver
 * queued a frame is "blocked" until the receiver's sent callback, and frames
 * for it meanwhile wait in the receiver's bounded queue (dropped and counted
 * once it is full, as QEMU's hub does). When a blocked port frees up, the
 * hub flushes every port's incoming queue, so the NICs that were told to wait
 * resume through their own sent callbacks.
 *
 * Threads: the loop thread only, like the whole net core; no locks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/compiler.h>
#include <kavm/list.h>
#include <kavm/log.h>
#include <kavm/net.h>
#include <kavm/virtqueue.h>

struct hub {
	struct list_head link; /* in hubs */
	struct list_head ports;
	int id;
};

struct hub_port {
	struct net_client nc;
	struct list_head link; /* in hub->ports */
	struct hub *hub;       /* NULL once the port is closing */
	bool blocked;	       /* our receiver queued a frame of ours: wait for hub_port_sent() */
};

static LIST_HEAD(hubs);

static struct hub_port *to_port(struct net_client *nc)
{
	return container_of(nc, struct hub_port, nc);
}

static struct hub *hub_find(int id)
{
	struct hub *h;

	list_for_each_entry(h, &hubs, link)
		if (h->id == id)
			return h;
	return NULL;
}

static struct hub *hub_get(int id)
{
	struct hub *h = hub_find(id);

	if (h)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->id = id;
	INIT_LIST_HEAD(&h->ports);
	list_add_tail(&h->link, &hubs);
	return h;
}

static void hub_put(struct hub *h)
{
	if (!list_empty(&h->ports))
		return;
	list_del(&h->link);
	free(h);
}

/* A port freed up: what waited to come in on any port may now go out. */
static void hub_flush(struct hub *h)
{
	struct hub_port *p, *n;

	list_for_each_entry_safe(p, n, &h->ports, link)
		net_client_flush_queued(&p->nc);
}

static void hub_port_sent(struct net_client *nc, ssize_t len)
{
	struct hub_port *p = to_port(nc);

	p->blocked = false;
	if (p->hub)
		hub_flush(p->hub);
}

/* QEMU's qemu_can_send_packet(): a port without a receiver swallows frames. */
static bool hub_port_can_send(const struct hub_port *p)
{
	return !p->blocked;
}

static int hub_port_can_receive(struct net_client *nc)
{
	struct hub_port *src = to_port(nc), *p;

	if (!src->hub)
		return 0;
	list_for_each_entry(p, &src->hub->ports, link)
		if (p != src && hub_port_can_send(p))
			return 1;
	return 0;
}

static void hub_port_forward(struct hub_port *p, const struct iovec *iov, int iovcnt)
{
	/* One frame with a callback per blocked port; the rest queue bounded, or drop. */
	if (p->blocked)
		net_send_iov(&p->nc, iov, iovcnt, NULL);
	else if (net_send_iov(&p->nc, iov, iovcnt, hub_port_sent) == 0)
		p->blocked = true;
}

static ssize_t hub_port_receive_iov(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct hub_port *src = to_port(nc), *p, *n;

	if (!src->hub)
		return -ENETDOWN;
	/* _safe: a receiver may call back into the hub (a sent callback) from here. */
	list_for_each_entry_safe(p, n, &src->hub->ports, link)
		if (p != src)
			hub_port_forward(p, iov, iovcnt);
	return iov_length(iov, iovcnt) ?: 1;
}

static void hub_port_cleanup(struct net_client *nc)
{
	struct hub_port *p = to_port(nc);
	struct hub *h = p->hub;

	/* Out of the hub first: the purge below calls hub_port_sent() for our frames. */
	list_del(&p->link);
	p->hub = NULL;
	net_client_exit(&p->nc);
	hub_put(h);
	free(p);
}

static const struct net_client_ops hub_port_client_ops = {
	.type = "hubport",
	.receive_iov = hub_port_receive_iov,
	.can_receive = hub_port_can_receive,
	.cleanup = hub_port_cleanup,
};

static int hub_port_open(const struct netdev_opts *o, struct loop *loop, struct net_client **out)
{
	struct hub_port *p = calloc(1, sizeof(*p));
	struct hub *h;

	if (!p)
		return -ENOMEM;
	h = hub_get(o->hubid);
	if (!h || net_client_init(&p->nc, &hub_port_client_ops, o->id)) {
		pr_err("netdev %s: hub %d: %s", o->id, o->hubid, strerror(ENOMEM));
		if (h)
			hub_put(h);
		free(p);
		return -ENOMEM;
	}
	p->hub = h;
	list_add_tail(&p->link, &h->ports);
	pr_debug("netdev %s: port of hub %d", o->id, o->hubid);
	*out = &p->nc;
	return 0;
}

static void hub_port_close(struct net_client *nc)
{
	hub_port_cleanup(nc);
}

const struct net_backend_ops net_hubport_backend = {
	.type = "hubport",
	.open = hub_port_open,
	.close = hub_port_close,
};
