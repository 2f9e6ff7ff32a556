// SPDX-License-Identifier: GPL-2.0
/*
 * kavm virtio-net device: features, config space, control queue, RX filter,
 * and the glue between the transport, the shared data path (net-engine.c)
 * and the net client core. Up to VNET_MAX_PAIRS RX/TX pairs (VIRTIO_NET_F_MQ),
 * each with its own net client whose peer is the backend's queue of the same
 * number (a multiqueue tap's fd), plus a control queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/memory.h>
#include <kavm/net-engine.h>
#include <kavm/vhost-net.h>
#include <kavm/vhost-user.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

/*
 * Queue numbers: pair i has RX 2i and TX 2i + 1; the control queue is 2
 * without VIRTIO_NET_F_MQ and 2 * max pairs with it (virtio 1.x 5.1.2).
 */
#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_MAX_QUEUES (2 * VNET_MAX_PAIRS + 1)
/* TX chains per loop turn before yielding (vhost's VHOST_NET_WEIGHT idea). */
#define VNET_TX_BUDGET 256
#define VNET_MAC_TABLE 64
/* Largest control command we read: a full MAC table plus headers. */
#define VNET_CTRL_MAX (2 + 2 * (4 + 6 * 128))

#define F(bit) (1ull << (bit))

struct vnet_rx_filter {
	bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
	bool uni_overflow, multi_overflow;
	uint32_t uni_n, multi_n;
	uint8_t uni[VNET_MAC_TABLE][6];
	uint8_t multi[VNET_MAC_TABLE][6];
};

/* Config space as the driver sees it, up to mtu (the features we offer). */
struct vnet_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __packed;

/*
 * vdev.lock protects what the vCPU threads (status, features, queue setup,
 * reset, config reads) share with the data path on the loop thread: the
 * rings, the engine, the config, the filter and the flags marked below. It
 * is never held across a call that can reach another net client's data
 * path (net_send_iov(), a flush or purge of a queue, a link change): the
 * peer may call straight back into us (link_status_changed(), the TX sent
 * callback), and so net_engine_tx() drops it while the peer takes a frame.
 * The peer's setup calls made under it (set_offload, set_vnet_hdr_len,
 * poll) never call back.
 */
/* One RX/TX pair: its net client (peer: the backend's queue) and its data path. */
struct vnet_pair {
	struct virtio_net *vn;
	unsigned int index;
	struct net_client nc;
	struct net_engine eng; /* vdev.lock */
	bool tx_scheduled;     /* a loop_defer(tx) is pending; vdev.lock */
	bool tx_running;       /* a TX run is under way (lock dropped); vdev.lock */
	pthread_t tx_thread;   /* the thread of that run; vdev.lock */
	bool tx_again;	       /* asked to run meanwhile; vdev.lock */
	/*
	 * A loop_defer() of the RX retry is pending; vdev.lock. One at a time:
	 * a kick while one waits must not start a second chain.
	 */
	bool rx_scheduled;
	struct vhost_net *vhost; /* the peer queue's accelerator, or NULL; started/stopped
				  * under vdev.lock */
	bool ext_kicks_polled;	 /* the loop reads the kick fds handed out */
};

struct virtio_net {
	struct virtio_dev vdev;
	struct vnet_pair pairs[VNET_MAX_PAIRS];
	unsigned int max_pairs;		       /* the backend's queues */
	unsigned int cur_pairs;		       /* in use (VQ_PAIRS_SET; 1 after reset); vdev.lock */
	struct virtqueue vqs[VNET_MAX_QUEUES]; /* vdev.lock */
	uint64_t features;		       /* negotiated; vdev.lock */
	struct vnet_config cfg;		       /* vdev.lock */
	struct vnet_rx_filter rxf;	       /* vdev.lock */
	uint64_t host_features;
	uint16_t queue_size;
	bool failed;		       /* ring damage: NEEDS_RESET raised; vdev.lock */
	pthread_cond_t tx_idle;	       /* a pair's tx_running went false; with vdev.lock */
	bool stopped;		       /* virtio_net_exit() began: nothing runs; vdev.lock */
	struct virtio_net_stats stats; /* vdev.lock */
	struct vhost_user *vu; /* the peer is vhost-user: every pair's RX and TX are its own */
	bool vu_ran;	       /* the rings went to the backend since the reset; vdev.lock */
	struct vq_elem ctrl_elem;
	uint8_t ctrl_buf[VNET_CTRL_MAX];
	bool ctrl_scheduled; /* a loop_defer() of the control queue is pending; vdev.lock */
	bool pairs_changed;  /* VQ_PAIRS_SET ran: resume the pairs after unlocking; vdev.lock */
};

static struct virtio_net *to_vnet(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_net, vdev);
}

static struct vnet_pair *to_pair(struct net_client *nc)
{
	return container_of(nc, struct vnet_pair, nc);
}

static unsigned int vnet_ctrlq(const struct virtio_net *vn)
{
	return vn->features & F(VIRTIO_NET_F_MQ) ? 2 * vn->max_pairs : 2;
}

static unsigned int vnet_num_queues_now(const struct virtio_net *vn)
{
	return vnet_ctrlq(vn) + 1;
}

/*
 * vhost-net runs RX and TX: kavm keeps out of both. vdev.lock held. A
 * vhost-user NIC's rings wait for their backend while it is away: kavm's
 * copy of where they stand would be stale the moment it came back.
 */
static bool vnet_vhost_on(struct vnet_pair *p)
{
	return (p->vhost && vhost_net_running(p->vhost)) || p->vn->vu;
}

static bool vnet_live(struct virtio_net *vn)
{
	return (vn->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) && !vn->failed && !vn->stopped;
}

static void vnet_notify(struct virtio_net *vn, unsigned int q)
{
	if (vn->vdev.transport)
		vn->vdev.transport->notify_queue(&vn->vdev, q);
}

/* Called with vdev.lock held; the caller calls virtio_dev_needs_reset() after unlocking. */
static void vnet_ring_damage(struct virtio_net *vn)
{
	vn->failed = true;
	vn->stats.ring_damage++;
}

static uint64_t vnet_get_host_features(struct virtio_dev *vdev)
{
	return to_vnet(vdev)->host_features;
}

static int vnet_set_guest_features(struct virtio_dev *vdev, uint64_t f)
{
	struct virtio_net *vn = to_vnet(vdev);
	struct net_offload off;
	unsigned int i;

	if (f & ~vn->host_features || !(f & F(VIRTIO_F_VERSION_1)))
		return -EINVAL;
	/* Dependencies of virtio 1.x section 5.1.3.1. */
	if ((f & (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))) &&
	    !(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		return -EINVAL;
	if ((f & (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))) &&
	    !(f & F(VIRTIO_NET_F_CSUM)))
		return -EINVAL;
	if ((f & (F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_MAC_ADDR) | F(VIRTIO_NET_F_MQ))) &&
	    !(f & F(VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	vn->features = f;
	off = (struct net_offload){
		.csum = f & F(VIRTIO_NET_F_GUEST_CSUM),
		.tso4 = f & F(VIRTIO_NET_F_GUEST_TSO4),
		.tso6 = f & F(VIRTIO_NET_F_GUEST_TSO6),
	};
	for (i = 0; i < vn->max_pairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		p->eng.features = f;
		if (!p->eng.peer_vnet_hdr)
			continue;
		net_peer_set_vnet_hdr_len(&p->nc, NET_HDR_LEN);
		net_peer_set_offload(&p->nc, &off);
	}
	return 0;
}

static void vnet_config_read(struct virtio_dev *vdev, uint32_t offset, void *data, uint32_t len)
{
	struct virtio_net *vn = to_vnet(vdev);

	if (!range_ok(offset, len, sizeof(vn->cfg))) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, (uint8_t *)&vn->cfg + offset, len);
}

static void vnet_config_write(struct virtio_dev *vdev, uint32_t offset, const void *data,
			      uint32_t len)
{
	/* Virtio 1.x: the MAC is read-only; changes go through the control queue. */
}

/* What the transport offers: every pair and the control queue, MQ or not. */
static unsigned int vnet_num_queues(struct virtio_dev *vdev)
{
	return 2 * to_vnet(vdev)->max_pairs + 1;
}

static uint16_t vnet_max_queue_size(struct virtio_dev *vdev, unsigned int q)
{
	return q < vnet_num_queues(vdev) ? to_vnet(vdev)->queue_size : 0;
}

static int vnet_queue_enable(struct virtio_dev *vdev, unsigned int q,
			     const struct virtio_queue_config *cfg)
{
	struct virtio_net *vn = to_vnet(vdev);

	/* Without MQ the queues past the control queue do not exist. */
	if (q >= vnet_num_queues_now(vn))
		return -EINVAL;
	return vq_enable(&vn->vqs[q], vdev->mem, cfg, vn->queue_size, vn->features);
}

static void vnet_rx_filter_reset(struct vnet_rx_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->promisc = true; /* as QEMU: until the driver says otherwise */
}

static bool mac_in(const uint8_t (*table)[6], uint32_t n, const uint8_t *mac)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!memcmp(table[i], mac, 6))
			return true;
	return false;
}

/* QEMU's receive_filter(): should a frame to dst reach this guest? */
static bool vnet_rx_accept(struct virtio_net *vn, const uint8_t *dst)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct vnet_rx_filter *f = &vn->rxf;

	if (f->promisc)
		return true;
	if (!memcmp(dst, bcast, 6))
		return !f->nobcast;
	if (dst[0] & 1) {
		if (f->nomulti)
			return false;
		return f->allmulti || f->multi_overflow || mac_in(f->multi, f->multi_n, dst);
	}
	if (f->nouni)
		return false;
	return f->alluni || f->uni_overflow || !memcmp(dst, vn->cfg.mac, 6) ||
	       mac_in(f->uni, f->uni_n, dst);
}

/* Clear a *_scheduled flag: its work runs now, or was never queued. */
static void vnet_unschedule(struct virtio_net *vn, bool *scheduled)
{
	pthread_mutex_lock(&vn->vdev.lock);
	*scheduled = false;
	pthread_mutex_unlock(&vn->vdev.lock);
}

static void vnet_rx_retry_work(void *opaque)
{
	struct vnet_pair *p = opaque;

	vnet_unschedule(p->vn, &p->rx_scheduled);
	net_client_flush_queued(&p->nc);
}

/* Pair p may move frames: the driver enabled it (VQ_PAIRS_SET) and set up its ring q. */
static bool vnet_pair_ready(struct vnet_pair *p, unsigned int q)
{
	return p->index < p->vn->cur_pairs && vq_ready(&p->vn->vqs[2 * p->index + q]);
}

static ssize_t vnet_receive_iov(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct vnet_pair *p = to_pair(nc);
	struct virtio_net *vn = p->vn;
	size_t hdr = p->eng.peer_vnet_hdr ? NET_HDR_LEN : 0;
	bool notify = false, damage = false, retry = false;
	uint8_t dst[6];
	ssize_t ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (!vnet_live(vn) || !vnet_pair_ready(p, VNET_RXQ) || vnet_vhost_on(p)) {
		ret = 0; /* wait (queued) for DRIVER_OK, the pair, a reset or vhost's stop */
		goto out_unlock;
	}
	if (iov_to_buf(iov, iovcnt, hdr, dst, 6) != 6) {
		p->eng.stats.rx_short++;
		ret = iov_length(iov, iovcnt);
		goto out_unlock;
	}
	if (!vnet_rx_accept(vn, dst)) {
		vn->stats.rx_filtered++;
		ret = iov_length(iov, iovcnt);
		goto out_unlock;
	}
	ret = net_engine_rx(&p->eng, iov, iovcnt, &notify);
	if (ret < 0) {
		vnet_ring_damage(vn);
		damage = true;
		ret = 0; /* the frame stays queued for the reset device */
	}
	retry = ret == 0 && p->eng.rx_retry && !p->rx_scheduled;
	p->rx_scheduled |= retry;
	p->eng.rx_retry = false;
out_unlock:
	pthread_mutex_unlock(&vn->vdev.lock);
	if (notify)
		vnet_notify(vn, 2 * p->index + VNET_RXQ);
	if (damage)
		virtio_dev_needs_reset(&vn->vdev);
	if (retry && loop_defer(vn->vdev.loop, vnet_rx_retry_work, p))
		vnet_unschedule(vn, &p->rx_scheduled);
	return ret;
}

static void vnet_tx_work(void *opaque);

static void vnet_tx_run(struct vnet_pair *p)
{
	struct virtio_net *vn = p->vn;
	struct virtqueue *vq = &vn->vqs[2 * p->index + VNET_TXQ];
	bool notify = false, damage = false, more = false;
	int ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (p->tx_running) {
		/* Called back by the peer while we send: the run under way goes on. */
		p->tx_again = true;
		goto out_unlock;
	}
	if (!vnet_live(vn) || !vnet_pair_ready(p, VNET_TXQ) || vnet_vhost_on(p))
		goto out_unlock;
	p->tx_running = true;
	p->tx_thread = pthread_self();
	p->tx_again = false;
	vq_disable_notify(vq);
	ret = net_engine_tx(&p->eng, VNET_TX_BUDGET, &notify);
	p->tx_running = false;
	pthread_cond_broadcast(&vn->tx_idle);
	if (ret == -ESTALE) {
		/* Reset while the lock was dropped: the next DRIVER_OK starts again. */
	} else if (ret < 0) {
		vnet_ring_damage(vn);
		damage = true;
	} else if (p->eng.tx_paused) {
		/* The sent callback resumes us; kicks meanwhile are pointless. */
	} else if (ret == VNET_TX_BUDGET || p->tx_again || vq_enable_notify(vq)) {
		more = !p->tx_scheduled;
		p->tx_scheduled = true;
	}
out_unlock:
	pthread_mutex_unlock(&vn->vdev.lock);
	if (notify)
		vnet_notify(vn, 2 * p->index + VNET_TXQ);
	if (damage)
		virtio_dev_needs_reset(&vn->vdev);
	/* Bounded work per turn: the rest runs at the loop's next turn. */
	if (more && loop_defer(vn->vdev.loop, vnet_tx_work, p))
		vnet_unschedule(vn, &p->tx_scheduled);
}

static void vnet_tx_work(void *opaque)
{
	struct vnet_pair *p = opaque;

	vnet_unschedule(p->vn, &p->tx_scheduled);
	vnet_tx_run(p);
}

/* The peer took the frame it had queued for us: TX may go on. */
static void vnet_tx_sent(struct net_client *nc, ssize_t len)
{
	struct vnet_pair *p = to_pair(nc);

	pthread_mutex_lock(&p->vn->vdev.lock);
	p->eng.tx_paused = false;
	pthread_mutex_unlock(&p->vn->vdev.lock);
	vnet_tx_run(p);
}

static int vnet_ctrl_rx(struct virtio_net *vn, uint8_t cmd, const uint8_t *d, size_t len)
{
	bool *flag[] = {
		[VIRTIO_NET_CTRL_RX_PROMISC] = &vn->rxf.promisc,
		[VIRTIO_NET_CTRL_RX_ALLMULTI] = &vn->rxf.allmulti,
		[VIRTIO_NET_CTRL_RX_ALLUNI] = &vn->rxf.alluni,
		[VIRTIO_NET_CTRL_RX_NOMULTI] = &vn->rxf.nomulti,
		[VIRTIO_NET_CTRL_RX_NOUNI] = &vn->rxf.nouni,
		[VIRTIO_NET_CTRL_RX_NOBCAST] = &vn->rxf.nobcast,
	};

	if (!(vn->features & F(VIRTIO_NET_F_CTRL_RX)) || len != 1)
		return -EINVAL;
	/* Commands past ALLMULTI need CTRL_RX_EXTRA, which we do not offer. */
	if (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI || cmd >= ARRAY_SIZE(flag))
		return -EINVAL;
	*flag[cmd] = d[0];
	return 0;
}

/* One table of a MAC_TABLE_SET: u32 entries, then entries * 6 bytes. */
static int vnet_mac_table(const uint8_t *d, size_t len, size_t *used, uint8_t (*table)[6],
			  uint32_t *n, bool *overflow)
{
	uint32_t entries;

	if (len < 4)
		return -EINVAL;
	memcpy(&entries, d, 4);
	if (entries > (len - 4) / 6)
		return -EINVAL;
	*used = 4 + (size_t)entries * 6;
	*overflow = entries > VNET_MAC_TABLE;
	*n = *overflow ? 0 : entries;
	memcpy(table, d + 4, (size_t)*n * 6);
	return 0;
}

static int vnet_ctrl_mac(struct virtio_net *vn, uint8_t cmd, const uint8_t *d, size_t len)
{
	struct vnet_rx_filter *f = &vn->rxf;
	size_t u1, u2;

	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!(vn->features & F(VIRTIO_NET_F_CTRL_MAC_ADDR)) || len != 6)
			return -EINVAL;
		memcpy(vn->cfg.mac, d, 6);
		return 0;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !(vn->features & F(VIRTIO_NET_F_CTRL_RX)))
		return -EINVAL;
	if (vnet_mac_table(d, len, &u1, f->uni, &f->uni_n, &f->uni_overflow))
		goto err_clear;
	if (vnet_mac_table(d + u1, len - u1, &u2, f->multi, &f->multi_n, &f->multi_overflow) ||
	    u1 + u2 != len)
		goto err_clear;
	return 0;
err_clear:
	f->uni_n = f->multi_n = 0;
	f->uni_overflow = f->multi_overflow = false;
	return -EINVAL;
}

/*
 * Pairs [0, cur_pairs) in use, the rest not: the backend's queues follow (a
 * multiqueue tap detaches the others, so the kernel steers no frame to a
 * queue the guest does not read). Loop thread (the backend's poll set
 * changes), vdev.lock held: the peer's queue_enable never calls back.
 */
static void vnet_sync_backend_queues(struct virtio_net *vn)
{
	unsigned int i;

	for (i = 1; i < vn->max_pairs; i++)
		net_peer_queue_enable(&vn->pairs[i].nc, i < vn->cur_pairs);
}

static void vnet_set_pairs(struct virtio_net *vn, unsigned int n)
{
	vn->cur_pairs = n;
	vnet_sync_backend_queues(vn);
}

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET: how many pairs the driver uses from now on. */
static int vnet_ctrl_mq(struct virtio_net *vn, uint8_t cmd, const uint8_t *d, size_t len)
{
	uint16_t n;

	if (!(vn->features & F(VIRTIO_NET_F_MQ)) || cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    len != 2)
		return -EINVAL;
	n = d[0] | d[1] << 8; /* le16 */
	if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > vn->max_pairs)
		return -EINVAL;
	vnet_set_pairs(vn, n);
	vn->pairs_changed = true;
	return 0;
}

/* One control request; returns the used length (1 with an ack, 0 without room for one). */
static uint32_t vnet_ctrl_one(struct virtio_net *vn, const struct vq_elem *el)
{
	const struct iovec *in = el->iov + el->nr_out;
	uint8_t status = VIRTIO_NET_ERR;
	int ret = -EINVAL;

	if (el->err || !el->nr_in || !el->in_len) {
		vn->stats.ctrl_bad_desc++;
		return 0;
	}
	if (el->out_len >= 2 && el->out_len <= sizeof(vn->ctrl_buf)) {
		size_t len = iov_to_buf(el->iov, el->nr_out, 0, vn->ctrl_buf, el->out_len);
		const uint8_t *d = vn->ctrl_buf + 2;

		if (vn->ctrl_buf[0] == VIRTIO_NET_CTRL_RX)
			ret = vnet_ctrl_rx(vn, vn->ctrl_buf[1], d, len - 2);
		else if (vn->ctrl_buf[0] == VIRTIO_NET_CTRL_MAC)
			ret = vnet_ctrl_mac(vn, vn->ctrl_buf[1], d, len - 2);
		else if (vn->ctrl_buf[0] == VIRTIO_NET_CTRL_MQ)
			ret = vnet_ctrl_mq(vn, vn->ctrl_buf[1], d, len - 2);
	}
	if (ret == 0) {
		status = VIRTIO_NET_OK;
		vn->stats.ctrl_ok++;
	} else {
		vn->stats.ctrl_err++;
	}
	iov_from_buf(in, el->nr_in, el->in_len - 1, &status, 1);
	return 1;
}

static void vnet_ctrl_work(void *opaque);

/* Pairs just enabled: take what their backend queues hold, send what their rings hold. */
static void vnet_pairs_resume(struct virtio_net *vn)
{
	unsigned int i;

	for (i = 0; i < vn->max_pairs; i++) {
		net_client_flush_queued(&vn->pairs[i].nc);
		vnet_tx_run(&vn->pairs[i]);
	}
}

static void vnet_ctrl_run(struct virtio_net *vn)
{
	struct virtqueue *vq;
	bool notify = false, damage = false, more = false, resume;
	unsigned int done = 0;
	int ret;

	pthread_mutex_lock(&vn->vdev.lock);
	vq = &vn->vqs[vnet_ctrlq(vn)];
	if (!vnet_live(vn) || !vq_ready(vq))
		goto out_unlock;
	/*
	 * At most a ring's worth per kick: a driver refilling faster waits a
	 * turn. With EVENT_IDX the driver kicks only past avail_event, which
	 * vq_pop() leaves alone: re-arm it, or the next command is never seen.
	 */
	do {
		while (done < vq->size && (ret = vq_pop(vq, &vn->ctrl_elem)) != 0) {
			if (ret < 0) {
				vnet_ring_damage(vn);
				damage = true;
				break;
			}
			vq_push(vq, vn->ctrl_elem.head, vnet_ctrl_one(vn, &vn->ctrl_elem));
			done++;
		}
	} while (!damage && done < vq->size && vq_enable_notify(vq));
	more = !damage && done >= vq->size && !vn->ctrl_scheduled;
	vn->ctrl_scheduled |= more;
	notify = done && vq_should_notify(vq);
out_unlock:
	resume = vn->pairs_changed;
	vn->pairs_changed = false;
	pthread_mutex_unlock(&vn->vdev.lock);
	if (notify)
		vnet_notify(vn, vq - vn->vqs);
	if (damage)
		virtio_dev_needs_reset(&vn->vdev);
	if (resume)
		vnet_pairs_resume(vn);
	/* Budget spent with commands left: they raised no kick, so come back. */
	if (more && loop_defer(vn->vdev.loop, vnet_ctrl_work, vn))
		vnet_unschedule(vn, &vn->ctrl_scheduled);
}

static void vnet_ctrl_work(void *opaque)
{
	struct virtio_net *vn = opaque;

	vnet_unschedule(vn, &vn->ctrl_scheduled);
	vnet_ctrl_run(vn);
}

static bool vnet_queue_broken(struct virtio_net *vn, unsigned int q)
{
	bool broken;

	/* A kick on a queue whose enable was refused (rings outside RAM...). */
	pthread_mutex_lock(&vn->vdev.lock);
	broken = vn->vqs[q].broken && vnet_live(vn);
	if (broken)
		vnet_ring_damage(vn);
	pthread_mutex_unlock(&vn->vdev.lock);
	return broken;
}

static void vnet_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_net *vn = to_vnet(vdev);

	unsigned int ctrlq;

	pthread_mutex_lock(&vdev->lock);
	ctrlq = vnet_ctrlq(vn);
	pthread_mutex_unlock(&vdev->lock);
	if (q > ctrlq)
		return;
	if (vnet_queue_broken(vn, q)) {
		virtio_dev_needs_reset(vdev);
		return;
	}
	if (q == ctrlq)
		vnet_ctrl_run(vn);
	else if (q % 2 == VNET_RXQ)
		net_client_flush_queued(&vn->pairs[q / 2].nc); /* refilled: take what waits */
	else
		vnet_tx_run(&vn->pairs[q / 2]);
}

/* Loop thread: a kick on an eventfd vhost-net was given, while kavm runs the queue. */
static void vnet_ext_kick_fn(int fd, uint32_t events, void *opaque)
{
	struct vnet_pair *p = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* Both queues: the fd does not say which (the other's costs one look). */
	net_client_flush_queued(&p->nc);
	vnet_tx_run(p);
}

/*
 * vhost-net would not start: kavm moves the frames after all. The kicks stay
 * on the eventfds handed out, so the loop reads those from now on; while
 * vhost runs later on, vnet_tx_run() and the RX path keep out.
 */
static void vnet_vhost_fallback(struct vnet_pair *p, const struct vhost_net_ring *r, const char *op,
				int err)
{
	unsigned int q;

	/* The pair's client names it: "n0" for the first, "n0.1" for the next. */
	pr_warn("virtio-net %s: vhost-net did not start (%s: %s); kavm moves the frames",
		p->nc.name, op, strerror(-err));
	net_peer_poll(&p->nc, true);
	if (p->ext_kicks_polled)
		return;
	for (q = 0; q < VHOST_NET_QUEUES; q++)
		if (r[q].kick_fd >= 0)
			loop_add_fd(p->vn->vdev.loop, r[q].kick_fd, EPOLLIN, vnet_ext_kick_fn, p);
	p->ext_kicks_polled = true;
}

/* Pair p's RX and TX rings as vhost-net wants them, with the transport's eventfds. */
static int vnet_vhost_rings(struct vnet_pair *p, struct vhost_net_ring *r)
{
	struct virtio_net *vn = p->vn;
	const struct virtio_transport_ops *t = vn->vdev.transport;
	unsigned int q;
	int ret;

	for (q = 0; q < VHOST_NET_QUEUES; q++)
		r[q].kick_fd = r[q].call_fd = -1;
	if (!t || !t->queue_eventfds)
		return -EOPNOTSUPP;
	/* vhost-net numbers its rings RX 0, TX 1, as virtio-net does within a pair. */
	for (q = 0; q < VHOST_NET_QUEUES; q++) {
		struct virtqueue *vq = &vn->vqs[2 * p->index + q];

		if (!vq_ready(vq))
			return -ENXIO;
		ret = t->queue_eventfds(&vn->vdev, 2 * p->index + q, &r[q].kick_fd, &r[q].call_fd);
		if (ret)
			return ret;
		r[q].size = vq->size;
		r[q].last_avail = vq->last_avail;
		r[q].desc = (void *)vq->desc;
		r[q].avail = (void *)vq->avail;
		r[q].used = (void *)vq->used;
	}
	return 0;
}

/*
 * Loop thread, at DRIVER_OK: hand pair p's RX and TX to its vhost-net
 * device (one per pair, on the backend's queue p); true if it took them.
 */
static bool vnet_vhost_start(struct vnet_pair *p)
{
	struct virtio_net *vn = p->vn;
	struct vhost_net_ring r[VHOST_NET_QUEUES];
	uint64_t one = 1;
	unsigned int q;
	int ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (!vnet_live(vn) || vnet_vhost_on(p)) {
		/* Reset meanwhile (the next DRIVER_OK starts again), or started. */
		ret = vnet_vhost_on(p);
		pthread_mutex_unlock(&vn->vdev.lock);
		return ret;
	}
	net_peer_poll(&p->nc, false);
	ret = vnet_vhost_rings(p, r);
	if (ret) {
		vnet_vhost_fallback(p, r, "rings", ret);
	} else {
		ret = vhost_net_start(p->vhost, vn->vdev.mem, vn->features, r);
		if (ret)
			vnet_vhost_fallback(p, r, vhost_net_failed_op(p->vhost), ret);
	}
	pthread_mutex_unlock(&vn->vdev.lock);
	/*
	 * A kick that reached the loop's eventfd before the switch is not
	 * vhost's to see: give it one of its own for each ring.
	 */
	for (q = 0; !ret && q < VHOST_NET_QUEUES; q++)
		if (write(r[q].kick_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("virtio-net %s: kick vhost-net: %s", p->nc.name, strerror(errno));
	return !ret;
}

/*
 * The rings of the pairs the backend gets: every pair with VIRTIO_NET_F_MQ
 * (VQ_PAIRS_SET only enables and disables them), pair 0 without. Their
 * count, or -errno. vdev.lock held.
 */
static int vnet_vu_rings(struct virtio_net *vn, struct vhost_net_ring *r)
{
	unsigned int n = vn->features & F(VIRTIO_NET_F_MQ) ? vn->max_pairs : 1, i, q;
	int ret;

	for (i = 0; i < n; i++) {
		ret = vnet_vhost_rings(&vn->pairs[i], &r[2 * i]);
		if (ret)
			return ret;
	}
	/* After a lost connection: on from where the guest last saw each ring used. */
	for (q = 0; vn->vu_ran && q < 2 * n; q++)
		r[q].last_avail = READ_ONCE(vn->vqs[q].used->idx);
	return n;
}

/*
 * Loop thread, at DRIVER_OK and whenever the backend (re)connects: hand RX
 * and TX to vhost-user, or leave them waiting while it is away. After a lost
 * connection the backend's place in each ring went with it: the rings go on
 * from their used index, so chains it took and had not completed are taken
 * again (a TX frame may go out twice) and what it held of completed ones is
 * lost (Documentation/vhost-user.md). False: the backend would not take them.
 */
static bool vnet_vu_start(struct virtio_net *vn)
{
	struct vhost_net_ring r[2 * VNET_MAX_PAIRS];
	uint64_t one = 1;
	unsigned int q;
	int ret, n;

	pthread_mutex_lock(&vn->vdev.lock);
	if (!vnet_live(vn) || vhost_user_running(vn->vu)) {
		pthread_mutex_unlock(&vn->vdev.lock);
		return true;
	}
	ret = n = vnet_vu_rings(vn, r);
	if (n < 0)
		pr_warn_ratelimited("virtio-net %s: vhost-user: rings: %s", vn->pairs[0].nc.name,
				    strerror(-n));
	else
		ret = vhost_user_start(vn->vu, vn->vdev.mem, vn->features, r, n);
	vn->vu_ran |= !ret;
	pthread_mutex_unlock(&vn->vdev.lock);
	/* As for vhost-net: what the guest queued while nobody looked needs a kick. */
	for (q = 0; !ret && q < 2 * (unsigned int)n; q++)
		if (write(r[q].kick_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("virtio-net %s: kick vhost-user: %s", vn->pairs[q / 2].nc.name,
				strerror(errno));
	return !ret;
}

static void vnet_start_work(void *opaque)
{
	struct virtio_net *vn = opaque;
	unsigned int i;

	pthread_mutex_lock(&vn->vdev.lock);
	vnet_sync_backend_queues(vn); /* after a reset: one pair again */
	pthread_mutex_unlock(&vn->vdev.lock);
	/* What the backend queued before DRIVER_OK goes in through kavm first. */
	for (i = 0; i < vn->max_pairs; i++)
		net_client_flush_queued(&vn->pairs[i].nc);
	if (vn->vu) {
		vnet_vu_start(vn);
		return;
	}
	for (i = 0; i < vn->max_pairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		if (!p->vhost || !vnet_vhost_start(p))
			vnet_tx_run(p);
	}
}

/* vdev.lock held (reset, exit): the rings go back to kavm before the driver frees them. */
static void vnet_vhost_stop(struct virtio_net *vn)
{
	unsigned int i;

	for (i = 0; i < vn->max_pairs; i++)
		if (vn->pairs[i].vhost)
			vhost_net_stop(vn->pairs[i].vhost);
	if (vn->vu)
		vhost_user_stop(vn->vu);
}

static int vnet_start(struct virtio_dev *vdev)
{
	struct virtio_net *vn = to_vnet(vdev);

	vn->cfg.status = net_client_link_up(&vn->pairs[0].nc) ? VIRTIO_NET_S_LINK_UP : 0;
	/* Called under vdev.lock from a vCPU: the data path starts on the loop. */
	return loop_defer(vdev->loop, vnet_start_work, vn);
}

/*
 * Once the reset returns, the driver owns every buffer again and may reuse
 * it (virtio 1.x 2.4.1: no queue access after the reset is done). A TX run
 * on the loop thread may still be handing the peer a frame straight from a
 * guest buffer with the lock dropped: wait until it is out (it stops at
 * -ESTALE, ring_gen moved). Not from inside that run (a peer's receive
 * resetting the device), which could never return. vdev.lock held.
 */
static void vnet_reset_wait_tx(struct virtio_net *vn)
{
	unsigned int i;

	for (i = 0; i < vn->max_pairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		while (p->tx_running && !pthread_equal(p->tx_thread, pthread_self()))
			pthread_cond_wait(&vn->tx_idle, &vn->vdev.lock);
	}
}

static void vnet_reset(struct virtio_dev *vdev)
{
	struct virtio_net *vn = to_vnet(vdev);
	unsigned int i;

	vnet_vhost_stop(vn);
	for (i = 0; i < VNET_MAX_QUEUES; i++)
		vq_reset(&vn->vqs[i]);
	for (i = 0; i < vn->max_pairs; i++) {
		/* a TX run that dropped the lock pushes nothing now */
		vn->pairs[i].eng.ring_gen++;
		vn->pairs[i].eng.features = 0;
	}
	vn->features = 0;
	/*
	 * virtio 1.x 5.1.6.5.5: one pair until VQ_PAIRS_SET. On a vCPU here:
	 * the backend's queues follow at the next DRIVER_OK, on the loop.
	 */
	vn->cur_pairs = 1;
	vn->failed = false;
	vn->vu_ran = false;
	vnet_rx_filter_reset(&vn->rxf);
	/*
	 * eng.tx_paused stays: it mirrors a frame still in the peer's queue,
	 * whose sent callback will clear it.
	 */
	vnet_reset_wait_tx(vn);
}

/* Pair 0's client is the NIC's link: the other pairs' follow it (net_client_set_link()). */
static void vnet_link_status_changed(struct net_client *nc)
{
	struct virtio_net *vn = to_pair(nc)->vn;
	uint16_t status = net_client_link_up(nc) ? VIRTIO_NET_S_LINK_UP : 0;
	bool notify;

	if (to_pair(nc)->index)
		return;
	/*
	 * A vhost-user backend came (back): its rings first, then the guest
	 * hears of it; one that refuses them is about to be dropped, and the
	 * guest's link should not flap up meanwhile, at every reconnect.
	 */
	if (vn->vu && status && !vnet_vu_start(vn))
		status = 0;
	pthread_mutex_lock(&vn->vdev.lock);
	notify = status != vn->cfg.status && (vn->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		 (vn->features & F(VIRTIO_NET_F_STATUS));
	vn->cfg.status = status;
	vn->vdev.config_generation++;
	pthread_mutex_unlock(&vn->vdev.lock);
	if (notify && vn->vdev.transport)
		vn->vdev.transport->notify_config(&vn->vdev);
}

static const struct net_client_ops vnet_client_ops = {
	.type = "virtio-net",
	.receive_iov = vnet_receive_iov,
	.link_status_changed = vnet_link_status_changed,
};

static const struct virtio_dev_ops vnet_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.config_size = sizeof(struct vnet_config),
	.get_host_features = vnet_get_host_features,
	.set_guest_features = vnet_set_guest_features,
	.config_read = vnet_config_read,
	.config_write = vnet_config_write,
	.num_queues = vnet_num_queues,
	.max_queue_size = vnet_max_queue_size,
	.queue_enable = vnet_queue_enable,
	.queue_notify = vnet_queue_notify,
	.start = vnet_start,
	.reset = vnet_reset,
};

static uint64_t vnet_features(bool vnet_hdr)
{
	uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC) |
		     F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
		     F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_MTU) | F(VIRTIO_NET_F_CTRL_VQ) |
		     F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_MAC_ADDR);

	/* Offloads only when the peer carries the header that describes them. */
	if (vnet_hdr)
		f |= F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
		     F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_TSO4) |
		     F(VIRTIO_NET_F_GUEST_TSO6);
	return f;
}

/*
 * Pair i: its own net client, peer of the backend's queue i (name.i in
 * messages past the first), and its data path over queues 2i and 2i + 1.
 */
static int vnet_pair_init(struct virtio_net *vn, unsigned int i, const char *name,
			  struct net_client *backend_queue)
{
	struct vnet_pair *p = &vn->pairs[i];
	char qname[sizeof(p->nc.name)];
	int ret;

	if (i)
		snprintf(qname, sizeof(qname), "%s.%u", name, i);
	else
		snprintf(qname, sizeof(qname), "%s", name);
	ret = net_client_init(&p->nc, &vnet_client_ops, qname);
	if (ret)
		return ret;
	ret = net_client_connect(&p->nc, backend_queue);
	if (ret) {
		net_client_exit(&p->nc);
		return ret;
	}
	p->vn = vn;
	p->index = i;
	p->eng = (struct net_engine){ .rx = &vn->vqs[2 * i + VNET_RXQ],
				      .tx = &vn->vqs[2 * i + VNET_TXQ],
				      .nc = &p->nc,
				      .tx_sent = vnet_tx_sent,
				      .mtu = vn->cfg.mtu,
				      .lock = &vn->vdev.lock };
	p->eng.peer_vnet_hdr = net_peer_has_vnet_hdr(&p->nc);
	p->vhost = net_peer_vhost_net(&p->nc);
	return 0;
}

/* Chained after pair 0's, as the backend's queue clients are: one link (net.h). */
static void vnet_pairs_chain(struct virtio_net *vn)
{
	unsigned int i;

	for (i = 1; i < vn->max_pairs; i++)
		vn->pairs[i - 1].nc.queue_next = &vn->pairs[i].nc;
}

static void vnet_pairs_exit(struct virtio_net *vn, unsigned int n)
{
	while (n--)
		net_client_exit(&vn->pairs[n].nc);
}

static uint64_t vnet_host_features(struct virtio_net *vn, struct net_client *backend)
{
	uint64_t f = vnet_features(vn->pairs[0].eng.peer_vnet_hdr);

	if (vn->max_pairs > 1)
		f |= F(VIRTIO_NET_F_MQ);
	if (vn->pairs[0].vhost)
		f = vhost_net_mask_features(vn->pairs[0].vhost, f);
	if (vn->vu)
		f = vhost_user_mask_features(vn->vu, f);
	return f;
}

int virtio_net_init(const struct virtio_net_params *p, struct virtio_net **out)
{
	struct virtio_net *vn = calloc(1, sizeof(*vn));
	const char *name = p->name ?: "virtio-net";
	unsigned int i;
	int ret;

	if (!vn)
		return -ENOMEM;
	vn->queue_size = p->queue_size ?: 256;
	vn->max_pairs = net_client_nr_queues(p->backend);
	if (vn->queue_size > VIRTQUEUE_MAX_SIZE || (vn->queue_size & (vn->queue_size - 1)) ||
	    vn->max_pairs > VNET_MAX_PAIRS) {
		ret = -EINVAL;
		goto err_free;
	}
	memcpy(vn->cfg.mac, p->mac, 6);
	vn->cfg.max_virtqueue_pairs = vn->max_pairs;
	vn->cfg.mtu = p->mtu ?: 1500;
	for (i = 0; i < vn->max_pairs; i++) {
		ret = vnet_pair_init(vn, i, name, net_client_queue(p->backend, i));
		if (ret)
			goto err_exit_pairs;
	}
	vnet_pairs_chain(vn);
	pthread_mutex_init(&vn->vdev.lock, NULL);
	pthread_cond_init(&vn->tx_idle, NULL);
	vn->vdev.ops = &vnet_ops;
	vn->vdev.mem = p->mem;
	vn->vdev.loop = p->loop;
	vn->vu = vhost_user_of(p->backend);
	vn->host_features = vnet_host_features(vn, p->backend);
	vnet_rx_filter_reset(&vn->rxf);
	vnet_set_pairs(vn, 1);
	*out = vn;
	return 0;
err_exit_pairs:
	vnet_pairs_exit(vn, i);
err_free:
	free(vn);
	return ret;
}

void virtio_net_exit(struct virtio_net *vn)
{
	if (!vn)
		return;
	/*
	 * Stop the queues before our frames leave the peer's queue (QEMU stops
	 * the device before qemu_del_nic() purges): the purge calls
	 * vnet_tx_sent(), which must not take more from the guest and queue it
	 * where the peer's own teardown would complete it on a freed NIC.
	 */
	pthread_mutex_lock(&vn->vdev.lock);
	vn->stopped = true;
	pthread_mutex_unlock(&vn->vdev.lock);
	vnet_vhost_stop(vn);
	vnet_pairs_exit(vn, vn->max_pairs);
	pthread_cond_destroy(&vn->tx_idle);
	pthread_mutex_destroy(&vn->vdev.lock);
	free(vn);
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *vn)
{
	return &vn->vdev;
}

struct net_client *virtio_net_client(struct virtio_net *vn)
{
	return &vn->pairs[0].nc;
}

unsigned int virtio_net_nr_pairs(struct virtio_net *vn, unsigned int *in_use)
{
	pthread_mutex_lock(&vn->vdev.lock);
	*in_use = vn->cur_pairs;
	pthread_mutex_unlock(&vn->vdev.lock);
	return vn->max_pairs;
}

bool virtio_net_vhost_running(struct virtio_net *vn)
{
	bool on;

	pthread_mutex_lock(&vn->vdev.lock);
	on = vnet_vhost_on(&vn->pairs[0]);
	pthread_mutex_unlock(&vn->vdev.lock);
	return on;
}

/* Every pair's engine counters added up: the NIC's as one. */
static void vnet_sum_stats(const struct net_engine_stats *a, struct net_engine_stats *sum)
{
	const uint64_t *from = (const uint64_t *)a;
	uint64_t *to = (uint64_t *)sum;
	size_t i;

	_Static_assert(sizeof(*a) % sizeof(uint64_t) == 0, "net_engine_stats: u64 only");
	for (i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		to[i] += from[i];
}

void virtio_net_get_stats(struct virtio_net *vn, struct virtio_net_stats *st)
{
	unsigned int i;

	pthread_mutex_lock(&vn->vdev.lock);
	*st = vn->stats;
	memset(&st->engine, 0, sizeof(st->engine));
	for (i = 0; i < vn->max_pairs; i++)
		vnet_sum_stats(&vn->pairs[i].eng.stats, &st->engine);
	pthread_mutex_unlock(&vn->vdev.lock);
}

int virtio_net_get_pair_stats(struct virtio_net *vn, unsigned int i, struct net_engine_stats *st)
{
	if (i >= vn->max_pairs)
		return -ENOENT;
	pthread_mutex_lock(&vn->vdev.lock);
	*st = vn->pairs[i].eng.stats;
	pthread_mutex_unlock(&vn->vdev.lock);
	return 0;
}
