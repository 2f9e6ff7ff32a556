// SPDX-License-Identifier: GPL-2.0
/* kavm net clients: peers, delivery with flow control, link state, backends, options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/net.h>
#include <kavm/vhost-user.h>
#include <kavm/virtqueue.h>

/* One line per backend. */
static const struct net_backend_ops *const net_backends[] = {
	&net_tap_backend,     &net_bridge_backend, &net_vhost_user_backend,
	&net_hubport_backend, &net_socket_backend,
};

/* The control socket's: told of every link change (loop thread, like all of net.c). */
static void (*net_link_watch_fn)(struct net_client *nc, void *opaque);
static void *net_link_watch_opaque;

static ssize_t net_deliver(struct net_client *sender, const struct iovec *iov, int iovcnt,
			   void *opaque)
{
	struct net_client *nc = opaque;
	ssize_t ret;

	if (nc->receive_disabled)
		return 0;
	if (nc->ops->can_receive && !nc->ops->can_receive(nc))
		return 0;
	ret = nc->ops->receive_iov(nc, iov, iovcnt);
	if (ret == 0) {
		nc->receive_disabled = true;
		return 0;
	}
	if (ret < 0) {
		/* Dropped by the receiver; the sender goes on. */
		if (ret == -ENETDOWN)
			nc->stats.rx_link_down++;
		else
			nc->stats.rx_errors++;
		return iov_length(iov, iovcnt);
	}
	nc->stats.rx_packets++;
	nc->stats.rx_bytes += ret;
	return ret;
}

int net_client_init(struct net_client *nc, const struct net_client_ops *ops, const char *name)
{
	memset(nc, 0, sizeof(*nc));
	nc->ops = ops;
	snprintf(nc->name, sizeof(nc->name), "%s", name);
	nc->incoming = net_queue_new(NET_QUEUE_LEN, net_deliver, nc);
	return nc->incoming ? 0 : -ENOMEM;
}

void net_client_exit(struct net_client *nc)
{
	struct net_client *peer = nc->peer;

	/*
	 * Unlink before purging: the purge calls nc's sender back, and a sender
	 * that sends again from there (a NIC restarting TX) must find no peer
	 * (counted in tx_link_down), not queue a frame that outlives it.
	 */
	if (peer) {
		peer->peer = NULL;
		nc->peer = NULL;
		peer->stats.rx_purged += net_queue_purge(peer->incoming, nc);
	}
	nc->stats.rx_purged += net_queue_purge(nc->incoming, NULL);
	net_queue_free(nc->incoming);
	nc->incoming = NULL;
}

int net_client_connect(struct net_client *a, struct net_client *b)
{
	if (a->peer || b->peer)
		return -EBUSY;
	a->peer = b;
	b->peer = a;
	return 0;
}

ssize_t net_send_iov(struct net_client *sender, const struct iovec *iov, int iovcnt,
		     net_sent_fn sent_cb)
{
	struct net_client *peer = sender->peer;
	size_t len = iov_length(iov, iovcnt);
	ssize_t ret;

	if (!peer || sender->link_down || peer->link_down) {
		/* As QEMU: report success, the frame goes nowhere. */
		sender->stats.tx_link_down++;
		return len;
	}
	if (sender->filter)
		sender->filter->observe(sender->filter, sender, false, iov, iovcnt);
	if (peer->filter)
		peer->filter->observe(peer->filter, peer, true, iov, iovcnt);
	ret = net_queue_send_iov(peer->incoming, sender, iov, iovcnt, sent_cb);
	if (ret == 0) {
		sender->stats.tx_queued++;
		return 0;
	}
	if (ret < 0) {
		sender->stats.queue_drops++;
		return len;
	}
	sender->stats.tx_packets++;
	sender->stats.tx_bytes += len;
	return ret;
}

ssize_t net_send(struct net_client *sender, const void *buf, size_t len, net_sent_fn sent_cb)
{
	struct iovec iov = { (void *)buf, len };

	return net_send_iov(sender, &iov, 1, sent_cb);
}

bool net_client_flush_queued(struct net_client *nc)
{
	nc->receive_disabled = false;
	return net_queue_flush(nc->incoming);
}

void net_client_purge_sent(struct net_client *nc)
{
	if (nc->peer)
		nc->peer->stats.rx_purged += net_queue_purge(nc->peer->incoming, nc);
}

void net_client_set_link(struct net_client *nc, bool up)
{
	struct net_client *q;

	for (q = nc; q; q = q->queue_next)
		q->link_down = !up;
	if (nc->ops->link_status_changed)
		nc->ops->link_status_changed(nc);
	if (nc->peer && nc->peer->ops->link_status_changed)
		nc->peer->ops->link_status_changed(nc->peer);
	if (net_link_watch_fn)
		net_link_watch_fn(nc, net_link_watch_opaque);
}

void net_link_watch(void (*fn)(struct net_client *nc, void *opaque), void *opaque)
{
	net_link_watch_fn = fn;
	net_link_watch_opaque = opaque;
}

unsigned int net_client_nr_queues(const struct net_client *nc)
{
	unsigned int n = 0;

	for (; nc; nc = nc->queue_next)
		n++;
	return n;
}

struct net_client *net_client_queue(struct net_client *nc, unsigned int i)
{
	while (nc && i--)
		nc = nc->queue_next;
	return nc;
}

bool net_client_link_up(const struct net_client *nc)
{
	return !nc->link_down && nc->peer && !nc->peer->link_down;
}

bool net_peer_has_vnet_hdr(struct net_client *nc)
{
	return nc->peer && nc->peer->ops->has_vnet_hdr && nc->peer->ops->has_vnet_hdr(nc->peer);
}

int net_peer_set_vnet_hdr_len(struct net_client *nc, int len)
{
	if (!nc->peer || !nc->peer->ops->set_vnet_hdr_len)
		return -EOPNOTSUPP;
	return nc->peer->ops->set_vnet_hdr_len(nc->peer, len);
}

int net_peer_set_offload(struct net_client *nc, const struct net_offload *off)
{
	if (!nc->peer || !nc->peer->ops->set_offload)
		return -EOPNOTSUPP;
	return nc->peer->ops->set_offload(nc->peer, off);
}

struct vhost_net *net_peer_vhost_net(struct net_client *nc)
{
	if (!nc->peer || !nc->peer->ops->get_vhost_net)
		return NULL;
	return nc->peer->ops->get_vhost_net(nc->peer);
}

void net_peer_poll(struct net_client *nc, bool on)
{
	if (nc->peer && nc->peer->ops->poll)
		nc->peer->ops->poll(nc->peer, on);
}

int net_peer_queue_enable(struct net_client *nc, bool on)
{
	if (!nc->peer || !nc->peer->ops->queue_enable)
		return -EOPNOTSUPP;
	return nc->peer->ops->queue_enable(nc->peer, on);
}

const struct net_backend_ops *net_backend_find(const char *type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(net_backends); i++)
		if (!strcmp(net_backends[i]->type, type))
			return net_backends[i];
	return NULL;
}

const struct net_backend_ops *net_backend_nth(unsigned int i)
{
	return i < ARRAY_SIZE(net_backends) ? net_backends[i] : NULL;
}

int netdev_open(const struct netdev_opts *o, struct loop *loop, struct net_client **out)
{
	const struct net_backend_ops *b = net_backend_find(o->type);
	int ret;

	if (!b)
		return -ENOENT;
	ret = b->open(o, loop, out);
	if (ret)
		return ret;
	(*out)->backend = b;
	return 0;
}

void netdev_close(struct net_client *nc)
{
	if (nc && nc->backend)
		nc->backend->close(nc);
}
