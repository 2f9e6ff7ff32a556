// SPDX-License-Identifier: GPL-2.0
/*
 * kavm per-client packet queue, after QEMU's net/queue.c: frames a receiver
 * could not take wait here, in order, until it flushes. A sender with a sent
 * callback stops after its first queued frame (net_send_iov() returned 0) and
 * resumes when the callback runs, so with N senders the queue holds at most
 * max_len + N frames; a frame from a sender without a callback is refused
 * (counted) once max_len is reached, and a hard cap of 2 * max_len holds even
 * against a misbehaving sender.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/list.h>
#include <kavm/net.h>
#include <kavm/virtqueue.h>

struct net_packet {
	struct list_head link;
	struct net_client *sender;
	net_sent_fn sent_cb;
	size_t size;
	uint8_t data[];
};

struct net_queue {
	struct list_head packets;
	unsigned int count;
	unsigned int max_len;
	bool delivering; /* deliver() re-entered us: append instead */
	net_queue_deliver_fn deliver;
	void *opaque;
};

struct net_queue *net_queue_new(unsigned int max_len, net_queue_deliver_fn deliver, void *opaque)
{
	struct net_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	INIT_LIST_HEAD(&q->packets);
	q->max_len = max_len;
	q->deliver = deliver;
	q->opaque = opaque;
	return q;
}

void net_queue_free(struct net_queue *q)
{
	if (!q)
		return;
	net_queue_purge(q, NULL);
	free(q);
}

unsigned int net_queue_len(const struct net_queue *q)
{
	return q->count;
}

int net_queue_append(struct net_queue *q, struct net_client *sender, const struct iovec *iov,
		     int iovcnt, net_sent_fn sent_cb)
{
	size_t size = iov_length(iov, iovcnt);
	struct net_packet *p;

	if (q->count >= 2 * q->max_len || (q->count >= q->max_len && !sent_cb))
		return -ENOBUFS;
	p = malloc(sizeof(*p) + size);
	if (!p)
		return -ENOMEM;
	p->sender = sender;
	p->sent_cb = sent_cb;
	p->size = iov_to_buf(iov, iovcnt, 0, p->data, size);
	list_add_tail(&p->link, &q->packets);
	q->count++;
	return 0;
}

static ssize_t net_queue_deliver(struct net_queue *q, struct net_client *sender,
				 const struct iovec *iov, int iovcnt)
{
	ssize_t ret;

	q->delivering = true;
	ret = q->deliver(sender, iov, iovcnt, q->opaque);
	q->delivering = false;
	return ret;
}

ssize_t net_queue_send_iov(struct net_queue *q, struct net_client *sender, const struct iovec *iov,
			   int iovcnt, net_sent_fn sent_cb)
{
	ssize_t ret;

	/* Keep order: nothing overtakes frames already waiting. */
	if (q->delivering || q->count) {
		ret = net_queue_append(q, sender, iov, iovcnt, sent_cb);
		return ret < 0 ? ret : 0;
	}
	ret = net_queue_deliver(q, sender, iov, iovcnt);
	if (ret == 0) {
		ret = net_queue_append(q, sender, iov, iovcnt, sent_cb);
		return ret < 0 ? ret : 0;
	}
	return ret;
}

bool net_queue_flush(struct net_queue *q)
{
	while (!list_empty(&q->packets)) {
		struct net_packet *p = list_first_entry(&q->packets, struct net_packet, link);
		struct iovec iov = { p->data, p->size };
		ssize_t ret;

		ret = net_queue_deliver(q, p->sender, &iov, 1);
		if (ret == 0)
			return false; /* still full: stays at the head */
		list_del(&p->link);
		q->count--;
		if (p->sent_cb)
			p->sent_cb(p->sender, ret);
		free(p);
	}
	return true;
}

void net_queue_purge(struct net_queue *q, struct net_client *from)
{
	struct net_packet *p, *n;

	list_for_each_entry_safe(p, n, &q->packets, link) {
		if (from && p->sender != from)
			continue;
		list_del(&p->link);
		q->count--;
		if (p->sent_cb)
			p->sent_cb(p->sender, 0);
		free(p);
	}
}
