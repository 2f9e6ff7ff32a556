// SPDX-License-Identifier: GPL-2.0
/*
 * kavm per-client packet queue, after QEMU's net/queue.c: frames a receiver
 * could not take wait here, in order, until it flushes. A sender with a sent
 * callback stops after its first queued frame (net_send_iov() returned 0) and
 * resumes when the callback runs, so with N senders the queue holds at most
 * max_len + N frames; a frame from a sender without a callback is refused
 * (counted) once max_len is reached, and a hard cap of 2 * max_len holds even
 * against a misbehaving sender.
 *
 * Re-entry: deliver() and the sent callbacks may call back into the net core
 * (a tap meeting EIO flushes its own queue and changes the link from inside
 * its receive; a NIC restarts TX from its sent callback). So a frame is off
 * the list while it is delivered, a flush inside a delivery leaves the work
 * to the one under way, and a purge detaches its frames before it calls
 * anyone back. Every queued frame gets exactly one sent callback: its length
 * when delivered, 0 when purged.
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
	unsigned int count; /* listed, plus the one in flight */
	unsigned int max_len;
	unsigned int delivering;      /* deliver() calls under way: re-entry appends, flush waits */
	struct net_packet *in_flight; /* off the list while a flush delivers it */
	bool in_flight_purged;	      /* its sender was called back: the flush only frees it */
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

	q->delivering++;
	ret = q->deliver(sender, iov, iovcnt, q->opaque);
	q->delivering--;
	return ret;
}

ssize_t net_queue_send_iov(struct net_queue *q, struct net_client *sender, const struct iovec *iov,
			   int iovcnt, net_sent_fn sent_cb)
{
	ssize_t ret;

	/* Keep order: nothing overtakes frames already waiting or being delivered. */
	if (q->delivering || q->count) {
		ret = net_queue_append(q, sender, iov, iovcnt, sent_cb);
		return ret < 0 ? ret : 0;
	}
	ret = net_queue_deliver(q, sender, iov, iovcnt);
	if (ret == 0) {
		ret = net_queue_append(q, sender, iov, iovcnt, sent_cb);
		return ret < 0 ? ret : 0;
	}
	/* Frames deliver() made others queue meanwhile (re-entry) follow it now. */
	if (q->count)
		net_queue_flush(q);
	return ret;
}

/*
 * Deliver the head off the list: whatever deliver() re-enters (a flush, a
 * purge, a send) then cannot unlink or free the frame under it.
 */
static ssize_t net_queue_deliver_head(struct net_queue *q, struct net_packet *p)
{
	struct iovec iov = { p->data, p->size };
	ssize_t ret;

	list_del(&p->link);
	q->in_flight = p;
	q->in_flight_purged = false;
	ret = net_queue_deliver(q, p->sender, &iov, 1);
	q->in_flight = NULL;
	return ret;
}

bool net_queue_flush(struct net_queue *q)
{
	/* Re-entered from deliver(): the flush or send under way goes on with the rest. */
	if (q->delivering)
		return false;
	while (!list_empty(&q->packets)) {
		struct net_packet *p = list_first_entry(&q->packets, struct net_packet, link);
		ssize_t ret = net_queue_deliver_head(q, p);
		bool purged = q->in_flight_purged;

		if (ret == 0 && !purged) {
			list_add(&p->link, &q->packets); /* still full: back at the head */
			return false;
		}
		q->count--;
		if (p->sent_cb && !purged)
			p->sent_cb(p->sender, ret);
		free(p);
	}
	return true;
}

unsigned int net_queue_purge(struct net_queue *q, struct net_client *from)
{
	struct net_packet *p, *n, *fl = NULL;
	unsigned int purged = 0;
	LIST_HEAD(gone);

	list_for_each_entry_safe(p, n, &q->packets, link) {
		if (from && p->sender != from)
			continue;
		list_del(&p->link);
		list_add_tail(&p->link, &gone);
		q->count--;
	}
	/* The frame a flush is delivering: called back now, freed by that flush. */
	if (q->in_flight && !q->in_flight_purged && (!from || q->in_flight->sender == from)) {
		fl = q->in_flight;
		q->in_flight_purged = true;
	}
	/* Callbacks last, on a list of our own: one may send, flush or purge here again. */
	if (fl) {
		purged++;
		if (fl->sent_cb)
			fl->sent_cb(fl->sender, 0);
	}
	list_for_each_entry_safe(p, n, &gone, link) {
		purged++;
		if (p->sent_cb)
			p->sent_cb(p->sender, 0);
		free(p);
	}
	return purged;
}
