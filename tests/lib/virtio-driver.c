// SPDX-License-Identifier: GPL-2.0
/* kavm tests: in-process virtio driver playing guest and transport. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <kavm/compiler.h>
#include <kavm/loop.h>
#include <kavm/virtio.h>
#include <kavm/virtqueue.h>

#include "virtio-driver.h"

#define F(bit) (1ull << (bit))
#define VDRV_RAM_BASE 0x10000ull

static struct vdrv *to_vdrv(struct virtio_dev *vdev)
{
	return vdev->transport_priv;
}

static int vdrv_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	if (q < VDRV_MAX_QUEUES)
		__atomic_fetch_add(&to_vdrv(vdev)->irq[q], 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int vdrv_notify_config(struct virtio_dev *vdev)
{
	__atomic_fetch_add(&to_vdrv(vdev)->config_irq, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int vdrv_queue_eventfds(struct virtio_dev *vdev, unsigned int q, int *kick, int *call)
{
	struct vdrv *d = to_vdrv(vdev);

	if (!d->eventfds)
		return -ENOTSUP;
	if (q >= VDRV_MAX_QUEUES)
		return -EINVAL;
	if (d->kick_fd[q] < 0)
		d->kick_fd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->call_fd[q] < 0)
		d->call_fd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->kick_fd[q] < 0 || d->call_fd[q] < 0)
		return -errno;
	*kick = d->kick_fd[q];
	*call = d->call_fd[q];
	return 0;
}

static const struct virtio_transport_ops vdrv_transport = {
	.notify_queue = vdrv_notify_queue,
	.notify_config = vdrv_notify_config,
	.queue_eventfds = vdrv_queue_eventfds,
};

int vdrv_init(struct vdrv *d, struct loop *loop)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < VDRV_MAX_QUEUES; i++)
		d->kick_fd[i] = d->call_fd[i] = -1;
	guest_mem_init(&d->mem);
	d->loop = loop;
	return guest_mem_add_ram(&d->mem, 0, VDRV_RAM_SIZE);
}

void vdrv_exit(struct vdrv *d)
{
	unsigned int i;

	guest_mem_exit(&d->mem);
	for (i = 0; i < VDRV_MAX_QUEUES; i++) {
		if (d->kick_fd[i] >= 0)
			close(d->kick_fd[i]);
		if (d->call_fd[i] >= 0)
			close(d->call_fd[i]);
		d->kick_fd[i] = d->call_fd[i] = -1;
	}
}

void vdrv_use_eventfds(struct vdrv *d)
{
	d->eventfds = true;
}

/* Through the kick eventfd once the device has it (a vhost backend reads it), else direct. */
static void vdrv_do_kick(struct vdrv *d, unsigned int q)
{
	uint64_t one = 1;

	if (q >= VDRV_MAX_QUEUES || d->kick_fd[q] < 0)
		d->vdev->ops->queue_notify(d->vdev, q);
	else if (write(d->kick_fd[q], &one, sizeof(one)) != sizeof(one))
		d->kick_lost++; /* EAGAIN: the counter is full, so a kick is pending anyway */
}

static int64_t vdrv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* Interrupt me at the next used entry: used_event (avail->ring[size]) = last_used. */
static void vdrv_want_call(struct vdrv *d, unsigned int qi)
{
	struct vdrv_queue *q = &d->q[qi];
	volatile uint16_t *used_event;

	if (!(d->features & F(VIRTIO_RING_F_EVENT_IDX)))
		return;
	used_event = vdrv_ptr(d, q->avail_gpa + 4 + 2ull * q->size, 2);
	*used_event = q->last_used;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int vdrv_wait_used(struct vdrv *d, unsigned int qi, int timeout_ms)
{
	struct vdrv_queue *q = &d->q[qi];
	int64_t deadline = vdrv_now_ms() + timeout_ms;
	struct pollfd p = { .fd = d->call_fd[qi], .events = POLLIN };
	uint64_t n;

	for (;;) {
		if (READ_ONCE(q->used->idx) != q->last_used)
			return 1;
		vdrv_want_call(d, qi);
		if (READ_ONCE(q->used->idx) != q->last_used)
			return 1;
		if (vdrv_now_ms() >= deadline)
			return 0;
		/* Short sleeps: the kavm loop (link events, reconnects) runs here too. */
		if (p.fd >= 0 && poll(&p, 1, 1) > 0 && read(p.fd, &n, sizeof(n)) == sizeof(n))
			d->irq[qi] += n;
		loop_run_once(d->loop, p.fd >= 0 ? 0 : 1);
	}
}

void vdrv_attach(struct vdrv *d, struct virtio_dev *vdev)
{
	d->vdev = vdev;
	vdev->transport = &vdrv_transport;
	vdev->transport_priv = d;
}

void *vdrv_ptr(struct vdrv *d, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&d->mem, gpa, len);
}

static void vdrv_set_status(struct vdrv *d, uint8_t s)
{
	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->status = s;
	pthread_mutex_unlock(&d->vdev->lock);
}

uint8_t vdrv_status(struct vdrv *d)
{
	uint8_t s;

	pthread_mutex_lock(&d->vdev->lock);
	s = d->vdev->status;
	pthread_mutex_unlock(&d->vdev->lock);
	return s;
}

bool vdrv_needs_reset(struct vdrv *d)
{
	return vdrv_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

void vdrv_reset(struct vdrv *d)
{
	struct virtio_dev *vdev = d->vdev;

	pthread_mutex_lock(&vdev->lock);
	vdev->status = 0;
	vdev->guest_features = 0;
	vdev->ops->reset(vdev);
	pthread_mutex_unlock(&vdev->lock);
	memset(d->q, 0, sizeof(d->q));
	d->nq = 0;
	d->next_gpa = VDRV_RAM_BASE;
}

int vdrv_negotiate(struct vdrv *d, uint64_t features)
{
	struct virtio_dev *vdev = d->vdev;
	int ret;

	vdrv_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	pthread_mutex_lock(&vdev->lock);
	ret = vdev->ops->set_guest_features(vdev, features);
	if (!ret) {
		vdev->guest_features = features;
		vdev->status |= VIRTIO_CONFIG_S_FEATURES_OK;
	}
	pthread_mutex_unlock(&vdev->lock);
	d->features = ret ? 0 : features;
	return ret;
}

static uint64_t vdrv_alloc(struct vdrv *d, uint64_t size, uint64_t align)
{
	uint64_t gpa = ALIGN_UP(d->next_gpa, align);

	d->next_gpa = gpa + size;
	memset(vdrv_ptr(d, gpa, size), 0, size);
	return gpa;
}

int vdrv_setup_queue(struct vdrv *d, unsigned int qi, uint16_t size)
{
	struct vdrv_queue *q = &d->q[qi];
	struct virtio_queue_config cfg;
	unsigned int i;
	int ret;

	q->size = size;
	q->desc_gpa = vdrv_alloc(d, 16ull * size, 16);
	q->avail_gpa = vdrv_alloc(d, 6 + 2ull * size, 2);
	q->used_gpa = vdrv_alloc(d, 6 + 8ull * size, 4);
	q->buf_gpa = vdrv_alloc(d, (uint64_t)size * VDRV_BUF_SIZE, 4096);
	q->ind_gpa = vdrv_alloc(d, (uint64_t)size * VDRV_IND_MAX * 16, 16);
	q->desc = vdrv_ptr(d, q->desc_gpa, 16ull * size);
	q->avail = vdrv_ptr(d, q->avail_gpa, 6 + 2ull * size);
	q->used = vdrv_ptr(d, q->used_gpa, 6 + 8ull * size);
	q->nfree = size;
	for (i = 0; i < size; i++)
		q->free[i] = size - 1 - i;
	cfg = (struct virtio_queue_config){
		.size = size, .desc = q->desc_gpa, .avail = q->avail_gpa, .used = q->used_gpa
	};
	pthread_mutex_lock(&d->vdev->lock);
	ret = d->vdev->ops->queue_enable(d->vdev, qi, &cfg);
	pthread_mutex_unlock(&d->vdev->lock);
	if (qi >= d->nq)
		d->nq = qi + 1;
	return ret;
}

int vdrv_driver_ok(struct vdrv *d)
{
	int ret;

	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->status |= VIRTIO_CONFIG_S_DRIVER_OK;
	ret = d->vdev->ops->start(d->vdev);
	pthread_mutex_unlock(&d->vdev->lock);
	vdrv_run(d);
	return ret;
}

/* The queues a virtio-net driver sets up: a control queue only with CTRL_VQ, pairs past one with MQ. */
static unsigned int vdrv_net_queues(struct vdrv *d)
{
	unsigned int nq = d->vdev->ops->num_queues(d->vdev);

	if (!(d->features & F(VIRTIO_NET_F_CTRL_VQ)) && nq > 2)
		nq = 2;
	if (!(d->features & F(VIRTIO_NET_F_MQ)) && nq > 3)
		nq = 3;
	d->ctrlq = nq - 1;
	return min(nq, (unsigned int)VDRV_MAX_QUEUES);
}

int vdrv_probe(struct vdrv *d, uint64_t want, uint16_t qsize)
{
	unsigned int i, nq;
	int ret;

	vdrv_reset(d);
	ret = vdrv_negotiate(d, d->vdev->ops->get_host_features(d->vdev) & want);
	if (ret)
		return ret;
	nq = vdrv_net_queues(d);
	for (i = 0; i < nq; i++) {
		ret = vdrv_setup_queue(d, i, qsize);
		if (ret)
			return ret;
	}
	return vdrv_driver_ok(d);
}

int vdrv_probe_nowait(struct vdrv *d, uint64_t want, uint16_t qsize)
{
	unsigned int i, nq;
	int ret;

	vdrv_reset(d);
	ret = vdrv_negotiate(d, d->vdev->ops->get_host_features(d->vdev) & want);
	if (ret)
		return ret;
	nq = vdrv_net_queues(d);
	for (i = 0; i < nq; i++) {
		ret = vdrv_setup_queue(d, i, qsize);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->status |= VIRTIO_CONFIG_S_DRIVER_OK;
	ret = d->vdev->ops->start(d->vdev);
	pthread_mutex_unlock(&d->vdev->lock);
	return ret;
}

void vdrv_config_read(struct vdrv *d, uint32_t offset, void *data, uint32_t len)
{
	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->ops->config_read(d->vdev, offset, data, len);
	pthread_mutex_unlock(&d->vdev->lock);
}

void vdrv_run(struct vdrv *d)
{
	while (loop_run_once(d->loop, 0) > 0)
		;
}

void vdrv_kick(struct vdrv *d, unsigned int q)
{
	vdrv_do_kick(d, q);
	vdrv_run(d);
}

bool vdrv_kick_prepare(struct vdrv *d, unsigned int qi)
{
	struct vdrv_queue *q = &d->q[qi];
	const volatile uint16_t *avail_event;
	uint16_t old = q->kicked_idx, new = q->avail_idx;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->kicked_idx = new;
	if (!(d->features & F(VIRTIO_RING_F_EVENT_IDX)))
		return !(READ_ONCE(q->used->flags) & VRING_USED_F_NO_NOTIFY);
	/* used->ring[size]: past the used entries, as the ring layout puts it. */
	avail_event = vdrv_ptr(d, q->used_gpa + 4 + 8ull * q->size, 2);
	return vring_need_event(*avail_event, new, old);
}

bool vdrv_notify(struct vdrv *d, unsigned int qi)
{
	bool kick = vdrv_kick_prepare(d, qi);

	if (kick)
		vdrv_do_kick(d, qi);
	vdrv_run(d);
	return kick;
}

void vdrv_publish(struct vdrv *d, unsigned int qi, uint16_t head)
{
	struct vdrv_queue *q = &d->q[qi];

	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail_idx++;
	WRITE_ONCE(q->avail->idx, q->avail_idx);
}

static void vdrv_fill_desc(struct vring_desc *t, unsigned int i, uint64_t addr,
			   const struct vdrv_seg *s, int next)
{
	t[i].addr = addr;
	t[i].len = s->len;
	t[i].flags = (s->write ? VRING_DESC_F_WRITE : 0) | (next >= 0 ? VRING_DESC_F_NEXT : 0);
	t[i].next = next >= 0 ? next : 0;
}

int vdrv_build(struct vdrv *d, unsigned int qi, const struct vdrv_seg *segs, unsigned int n,
	       bool indirect)
{
	struct vdrv_queue *q = &d->q[qi];
	struct vring_desc *ind;
	uint16_t head, idx[VDRV_IND_MAX] = { 0 };
	unsigned int i;

	if (!n || n > VDRV_IND_MAX || n > q->nfree)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		if (segs[i].len > VDRV_BUF_SIZE)
			return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t buf;

		idx[i] = q->free[--q->nfree];
		buf = q->buf_gpa + (uint64_t)idx[i] * VDRV_BUF_SIZE;
		if (segs[i].data)
			memcpy(vdrv_ptr(d, buf, segs[i].len), segs[i].data, segs[i].len);
	}
	head = idx[0];
	ind = vdrv_ptr(d, q->ind_gpa + (uint64_t)head * VDRV_IND_MAX * 16, VDRV_IND_MAX * 16);
	for (i = 0; i < n; i++) {
		uint64_t buf = q->buf_gpa + (uint64_t)idx[i] * VDRV_BUF_SIZE;

		if (indirect)
			vdrv_fill_desc(ind, i, buf, &segs[i], i + 1 < n ? (int)i + 1 : -1);
		else
			vdrv_fill_desc(q->desc, idx[i], buf, &segs[i], i + 1 < n ? idx[i + 1] : -1);
	}
	if (indirect) {
		q->desc[head].addr = q->ind_gpa + (uint64_t)head * VDRV_IND_MAX * 16;
		q->desc[head].len = n * 16;
		q->desc[head].flags = VRING_DESC_F_INDIRECT;
	}
	memcpy(q->chain[head], idx, n * sizeof(idx[0]));
	q->chain_len[head] = n;
	return head;
}

int vdrv_post(struct vdrv *d, unsigned int qi, const struct vdrv_seg *segs, unsigned int n,
	      bool indirect)
{
	int head = vdrv_build(d, qi, segs, n, indirect);

	if (head >= 0)
		vdrv_publish(d, qi, head);
	return head;
}

uint64_t vdrv_buf_gpa(struct vdrv *d, unsigned int qi, uint16_t desc)
{
	return d->q[qi].buf_gpa + (uint64_t)desc * VDRV_BUF_SIZE;
}

int vdrv_net_tx(struct vdrv *d, const struct virtio_net_hdr_v1 *hdr, const void *frame, size_t len,
		bool indirect)
{
	return vdrv_net_tx_on(d, 0, hdr, frame, len, indirect);
}

int vdrv_net_tx_on(struct vdrv *d, unsigned int pair, const struct virtio_net_hdr_v1 *hdr,
		   const void *frame, size_t len, bool indirect)
{
	struct vdrv_seg segs[VDRV_IND_MAX];
	unsigned int n = 0;
	size_t off = 0;

	segs[n++] = (struct vdrv_seg){ hdr, sizeof(*hdr), false };
	while (off < len && n < VDRV_IND_MAX) {
		size_t chunk = min(len - off, (size_t)VDRV_BUF_SIZE);

		segs[n++] = (struct vdrv_seg){ (const uint8_t *)frame + off, chunk, false };
		off += chunk;
	}
	if (off < len)
		return -E2BIG;
	return vdrv_post(d, 2 * pair + 1, segs, n, indirect);
}

int vdrv_net_rx_fill(struct vdrv *d, unsigned int n)
{
	return vdrv_net_rx_fill_on(d, 0, n);
}

int vdrv_net_rx_fill_on(struct vdrv *d, unsigned int pair, unsigned int n)
{
	struct vdrv_seg seg = { NULL, VDRV_BUF_SIZE, true };
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n && ret >= 0; i++)
		ret = vdrv_post(d, 2 * pair, &seg, 1, false);
	vdrv_notify(d, 2 * pair);
	return ret < 0 ? ret : 0;
}

ssize_t vdrv_net_rx(struct vdrv *d, struct virtio_net_hdr_v1 *hdr, void *frame, size_t max)
{
	return vdrv_net_rx_on(d, 0, hdr, frame, max);
}

ssize_t vdrv_net_rx_on(struct vdrv *d, unsigned int pair, struct virtio_net_hdr_v1 *hdr,
		       void *frame, size_t max)
{
	unsigned int rxq = 2 * pair;
	size_t got = 0, total;
	unsigned int nbuf, i;
	uint16_t head;
	uint32_t len;
	uint8_t *p;

	if (!vdrv_used(d, rxq, &head, &len))
		return 0;
	if (len < sizeof(*hdr))
		return -EINVAL;
	p = vdrv_ptr(d, vdrv_buf_gpa(d, rxq, head), len);
	memcpy(hdr, p, sizeof(*hdr));
	nbuf = (d->features & F(VIRTIO_NET_F_MRG_RXBUF)) ? hdr->num_buffers : 1;
	total = len - sizeof(*hdr);
	if (total > max)
		return -E2BIG;
	memcpy(frame, p + sizeof(*hdr), total);
	got = total;
	for (i = 1; i < nbuf; i++) {
		if (!vdrv_used(d, rxq, &head, &len) || got + len > max)
			return -EIO;
		memcpy((uint8_t *)frame + got, vdrv_ptr(d, vdrv_buf_gpa(d, rxq, head), len), len);
		got += len;
	}
	return got;
}

int vdrv_net_ctrl(struct vdrv *d, uint8_t class, uint8_t cmd, const void *data, size_t len)
{
	uint8_t hdr[2] = { class, cmd };
	struct vdrv_seg segs[3] = {
		{ hdr, 2, false },
		{ data, len, false },
		{ NULL, 1, true },
	};
	unsigned int cq = d->ctrlq ?: 2;
	uint16_t head, ack_desc;
	uint32_t used_len;
	int h;

	if (len) {
		h = vdrv_post(d, cq, segs, 3, false);
	} else {
		segs[1] = segs[2];
		h = vdrv_post(d, cq, segs, 2, false);
	}
	if (h < 0)
		return h;
	ack_desc = d->q[cq].chain[h][d->q[cq].chain_len[h] - 1];
	*(uint8_t *)vdrv_ptr(d, vdrv_buf_gpa(d, cq, ack_desc), 1) = 0xee;
	vdrv_notify(d, cq);
	if (!vdrv_used(d, cq, &head, &used_len) || head != h || used_len != 1)
		return -1;
	return *(uint8_t *)vdrv_ptr(d, vdrv_buf_gpa(d, cq, ack_desc), 1);
}

int vdrv_used(struct vdrv *d, unsigned int qi, uint16_t *head, uint32_t *len)
{
	struct vdrv_queue *q = &d->q[qi];
	struct vring_used_elem *u;
	unsigned int i;

	if (READ_ONCE(q->used->idx) == q->last_used)
		return 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	u = &q->used->ring[q->last_used & (q->size - 1)];
	*head = u->id;
	*len = u->len;
	q->last_used++;
	if (*head < q->size) {
		for (i = 0; i < q->chain_len[*head]; i++)
			q->free[q->nfree++] = q->chain[*head][i];
		q->chain_len[*head] = 0;
	}
	return 1;
}

bool vdrv_enable_cb(struct vdrv *d, unsigned int qi)
{
	struct vdrv_queue *q = &d->q[qi];

	/* used_event sits past the avail ring's entries. */
	WRITE_ONCE(q->avail->ring[q->size], q->last_used);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return READ_ONCE(q->used->idx) == q->last_used;
}

static struct tpeer *to_tpeer(struct net_client *nc)
{
	return container_of(nc, struct tpeer, nc);
}

static ssize_t tpeer_receive_iov(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct tpeer *p = to_tpeer(nc);

	if (p->refuse)
		return 0;
	p->last_len = iov_to_buf(iov, iovcnt, 0, p->last, sizeof(p->last));
	p->count++;
	return p->last_len;
}

static bool tpeer_has_vnet_hdr(struct net_client *nc)
{
	return to_tpeer(nc)->vnet_hdr;
}

static int tpeer_set_vnet_hdr_len(struct net_client *nc, int len)
{
	to_tpeer(nc)->hdr_len = len;
	return 0;
}

static int tpeer_set_offload(struct net_client *nc, const struct net_offload *off)
{
	to_tpeer(nc)->off = *off;
	return 0;
}

static const struct net_client_ops tpeer_ops = {
	.type = "test-peer",
	.receive_iov = tpeer_receive_iov,
	.has_vnet_hdr = tpeer_has_vnet_hdr,
	.set_vnet_hdr_len = tpeer_set_vnet_hdr_len,
	.set_offload = tpeer_set_offload,
};

int tpeer_init(struct tpeer *p, bool vnet_hdr)
{
	memset(p, 0, sizeof(*p));
	p->vnet_hdr = vnet_hdr;
	return net_client_init(&p->nc, &tpeer_ops, "peer");
}

void tpeer_exit(struct tpeer *p)
{
	net_client_exit(&p->nc);
}
