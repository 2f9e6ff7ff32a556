// SPDX-License-Identifier: GPL-2.0
/*
 * kavm virtio-net device: features, config space, control queue, RX filter,
 * and the glue between the transport, the shared data path (net-engine.c)
 * and the net client core. One RX/TX pair plus a control queue.
 */
#include <errno.h>
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

#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_CTRLQ 2
#define VNET_NUM_QUEUES 3
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
struct virtio_net {
	struct virtio_dev vdev;
	struct net_client nc;
	struct virtqueue vqs[VNET_NUM_QUEUES]; /* vdev.lock */
	struct net_engine eng;		       /* vdev.lock */
	struct vnet_config cfg;		       /* vdev.lock */
	struct vnet_rx_filter rxf;	       /* vdev.lock */
	uint64_t host_features;
	uint16_t queue_size;
	bool failed;		       /* ring damage: NEEDS_RESET raised; vdev.lock */
	bool tx_scheduled;	       /* a loop_defer(tx) is pending; vdev.lock */
	bool tx_running;	       /* a TX run is under way (lock dropped); vdev.lock */
	pthread_t tx_thread;	       /* the thread of that run; vdev.lock */
	pthread_cond_t tx_idle;	       /* tx_running went false; with vdev.lock */
	bool tx_again;		       /* asked to run meanwhile; vdev.lock */
	bool stopped;		       /* virtio_net_exit() began: nothing runs; vdev.lock */
	struct virtio_net_stats stats; /* vdev.lock */
	struct vhost_net *vhost;       /* the peer's accelerator, or NULL; started/stopped
					* under vdev.lock */
	bool ext_kicks_polled;	       /* the loop reads the kick fds handed out */
	struct vhost_user *vu;	       /* the peer is vhost-user: RX and TX are always its own */
	bool vu_ran; /* the rings went to the backend since the reset; vdev.lock */
	uint8_t ctrl_buf[VNET_CTRL_MAX];
	/*
	 * A loop_defer() of the RX retry / control queue is pending; vdev.lock.
	 * One at a time: a kick while one waits must not start a second chain.
	 */
	bool rx_scheduled, ctrl_scheduled;
};

static struct virtio_net *to_vnet(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_net, vdev);
}

/*
 * vhost-net runs RX and TX: kavm keeps out of both. vdev.lock held. A
 * vhost-user NIC's rings wait for their backend while it is away: kavm's
 * copy of where they stand would be stale the moment it came back.
 */
static bool vnet_vhost_on(struct virtio_net *vn)
{
	return (vn->vhost && vhost_net_running(vn->vhost)) || vn->vu;
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

	if (f & ~vn->host_features || !(f & F(VIRTIO_F_VERSION_1)))
		return -EINVAL;
	/* Dependencies of virtio 1.x section 5.1.3.1. */
	if ((f & (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))) &&
	    !(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		return -EINVAL;
	if ((f & (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))) &&
	    !(f & F(VIRTIO_NET_F_CSUM)))
		return -EINVAL;
	if ((f & (F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_MAC_ADDR))) &&
	    !(f & F(VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	vn->eng.features = f;
	if (vn->eng.peer_vnet_hdr) {
		off = (struct net_offload){
			.csum = f & F(VIRTIO_NET_F_GUEST_CSUM),
			.tso4 = f & F(VIRTIO_NET_F_GUEST_TSO4),
			.tso6 = f & F(VIRTIO_NET_F_GUEST_TSO6),
		};
		net_peer_set_vnet_hdr_len(&vn->nc, NET_HDR_LEN);
		net_peer_set_offload(&vn->nc, &off);
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

static unsigned int vnet_num_queues(struct virtio_dev *vdev)
{
	return VNET_NUM_QUEUES;
}

static uint16_t vnet_max_queue_size(struct virtio_dev *vdev, unsigned int q)
{
	return q < VNET_NUM_QUEUES ? to_vnet(vdev)->queue_size : 0;
}

static int vnet_queue_enable(struct virtio_dev *vdev, unsigned int q,
			     const struct virtio_queue_config *cfg)
{
	struct virtio_net *vn = to_vnet(vdev);

	if (q >= VNET_NUM_QUEUES)
		return -EINVAL;
	return vq_enable(&vn->vqs[q], vdev->mem, cfg, vn->queue_size, vn->eng.features);
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
	struct virtio_net *vn = opaque;

	vnet_unschedule(vn, &vn->rx_scheduled);
	net_client_flush_queued(&vn->nc);
}

static ssize_t vnet_receive_iov(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct virtio_net *vn = container_of(nc, struct virtio_net, nc);
	size_t hdr = vn->eng.peer_vnet_hdr ? NET_HDR_LEN : 0;
	bool notify = false, damage = false, retry = false;
	uint8_t dst[6];
	ssize_t ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (!vnet_live(vn) || !vq_ready(&vn->vqs[VNET_RXQ]) || vnet_vhost_on(vn)) {
		ret = 0; /* wait (queued) for DRIVER_OK, a reset or vhost's stop */
		goto out_unlock;
	}
	if (iov_to_buf(iov, iovcnt, hdr, dst, 6) != 6) {
		vn->eng.stats.rx_short++;
		ret = iov_length(iov, iovcnt);
		goto out_unlock;
	}
	if (!vnet_rx_accept(vn, dst)) {
		vn->stats.rx_filtered++;
		ret = iov_length(iov, iovcnt);
		goto out_unlock;
	}
	ret = net_engine_rx(&vn->eng, iov, iovcnt, &notify);
	if (ret < 0) {
		vnet_ring_damage(vn);
		damage = true;
		ret = 0; /* the frame stays queued for the reset device */
	}
	retry = ret == 0 && vn->eng.rx_retry && !vn->rx_scheduled;
	vn->rx_scheduled |= retry;
	vn->eng.rx_retry = false;
out_unlock:
	pthread_mutex_unlock(&vn->vdev.lock);
	if (notify)
		vnet_notify(vn, VNET_RXQ);
	if (damage)
		virtio_dev_needs_reset(&vn->vdev);
	if (retry && loop_defer(vn->vdev.loop, vnet_rx_retry_work, vn))
		vnet_unschedule(vn, &vn->rx_scheduled);
	return ret;
}

static void vnet_tx_work(void *opaque);

static void vnet_tx_run(struct virtio_net *vn)
{
	struct virtqueue *vq = &vn->vqs[VNET_TXQ];
	bool notify = false, damage = false, more = false;
	int ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (vn->tx_running) {
		/* Called back by the peer while we send: the run under way goes on. */
		vn->tx_again = true;
		goto out_unlock;
	}
	if (!vnet_live(vn) || !vq_ready(vq) || vnet_vhost_on(vn))
		goto out_unlock;
	vn->tx_running = true;
	vn->tx_thread = pthread_self();
	vn->tx_again = false;
	vq_disable_notify(vq);
	ret = net_engine_tx(&vn->eng, VNET_TX_BUDGET, &notify);
	vn->tx_running = false;
	pthread_cond_broadcast(&vn->tx_idle);
	if (ret == -ESTALE) {
		/* Reset while the lock was dropped: the next DRIVER_OK starts again. */
	} else if (ret < 0) {
		vnet_ring_damage(vn);
		damage = true;
	} else if (vn->eng.tx_paused) {
		/* The sent callback resumes us; kicks meanwhile are pointless. */
	} else if (ret == VNET_TX_BUDGET || vn->tx_again || vq_enable_notify(vq)) {
		more = !vn->tx_scheduled;
		vn->tx_scheduled = true;
	}
out_unlock:
	pthread_mutex_unlock(&vn->vdev.lock);
	if (notify)
		vnet_notify(vn, VNET_TXQ);
	if (damage)
		virtio_dev_needs_reset(&vn->vdev);
	/* Bounded work per turn: the rest runs at the loop's next turn. */
	if (more && loop_defer(vn->vdev.loop, vnet_tx_work, vn))
		vn->tx_scheduled = false;
}

static void vnet_tx_work(void *opaque)
{
	struct virtio_net *vn = opaque;

	pthread_mutex_lock(&vn->vdev.lock);
	vn->tx_scheduled = false;
	pthread_mutex_unlock(&vn->vdev.lock);
	vnet_tx_run(vn);
}

/* The peer took the frame it had queued for us: TX may go on. */
static void vnet_tx_sent(struct net_client *nc, ssize_t len)
{
	struct virtio_net *vn = container_of(nc, struct virtio_net, nc);

	pthread_mutex_lock(&vn->vdev.lock);
	vn->eng.tx_paused = false;
	pthread_mutex_unlock(&vn->vdev.lock);
	vnet_tx_run(vn);
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

	if (!(vn->eng.features & F(VIRTIO_NET_F_CTRL_RX)) || len != 1)
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
		if (!(vn->eng.features & F(VIRTIO_NET_F_CTRL_MAC_ADDR)) || len != 6)
			return -EINVAL;
		memcpy(vn->cfg.mac, d, 6);
		return 0;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !(vn->eng.features & F(VIRTIO_NET_F_CTRL_RX)))
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

static void vnet_ctrl_run(struct virtio_net *vn)
{
	struct virtqueue *vq = &vn->vqs[VNET_CTRLQ];
	bool notify = false, damage = false, more = false;
	unsigned int done = 0;
	int ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (!vnet_live(vn) || !vq_ready(vq))
		goto out_unlock;
	/*
	 * At most a ring's worth per kick: a driver refilling faster waits a
	 * turn. With EVENT_IDX the driver kicks only past avail_event, which
	 * vq_pop() leaves alone: re-arm it, or the next command is never seen.
	 */
	do {
		while (done < vq->size && (ret = vq_pop(vq, &vn->eng.elem)) != 0) {
			if (ret < 0) {
				vnet_ring_damage(vn);
				damage = true;
				break;
			}
			vq_push(vq, vn->eng.elem.head, vnet_ctrl_one(vn, &vn->eng.elem));
			done++;
		}
	} while (!damage && done < vq->size && vq_enable_notify(vq));
	more = !damage && done >= vq->size && !vn->ctrl_scheduled;
	vn->ctrl_scheduled |= more;
	notify = done && vq_should_notify(vq);
out_unlock:
	pthread_mutex_unlock(&vn->vdev.lock);
	if (notify)
		vnet_notify(vn, VNET_CTRLQ);
	if (damage)
		virtio_dev_needs_reset(&vn->vdev);
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

	if (q >= VNET_NUM_QUEUES)
		return;
	if (vnet_queue_broken(vn, q)) {
		virtio_dev_needs_reset(vdev);
		return;
	}
	if (q == VNET_RXQ)
		net_client_flush_queued(&vn->nc); /* refilled: take what waits */
	else if (q == VNET_TXQ)
		vnet_tx_run(vn);
	else
		vnet_ctrl_run(vn);
}

/* Loop thread: a kick on an eventfd vhost-net was given, while kavm runs the queue. */
static void vnet_ext_kick_fn(int fd, uint32_t events, void *opaque)
{
	struct virtio_net *vn = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* Both queues: the fd does not say which (the other's costs one look). */
	net_client_flush_queued(&vn->nc);
	vnet_tx_run(vn);
}

/*
 * vhost-net would not start: kavm moves the frames after all. The kicks stay
 * on the eventfds handed out, so the loop reads those from now on; while
 * vhost runs later on, vnet_tx_run() and the RX path keep out.
 */
static void vnet_vhost_fallback(struct virtio_net *vn, const struct vhost_net_ring *r,
				const char *op, int err)
{
	unsigned int q;

	pr_warn("virtio-net %s: vhost-net did not start (%s: %s); kavm moves the frames",
		vn->nc.name, op, strerror(-err));
	net_peer_poll(&vn->nc, true);
	if (vn->ext_kicks_polled)
		return;
	for (q = 0; q < VHOST_NET_QUEUES; q++)
		if (r[q].kick_fd >= 0)
			loop_add_fd(vn->vdev.loop, r[q].kick_fd, EPOLLIN, vnet_ext_kick_fn, vn);
	vn->ext_kicks_polled = true;
}

/* The RX and TX rings as vhost-net wants them, with the transport's eventfds. */
static int vnet_vhost_rings(struct virtio_net *vn, struct vhost_net_ring *r)
{
	const struct virtio_transport_ops *t = vn->vdev.transport;
	unsigned int q;
	int ret;

	for (q = 0; q < VHOST_NET_QUEUES; q++)
		r[q].kick_fd = r[q].call_fd = -1;
	if (!t || !t->queue_eventfds)
		return -EOPNOTSUPP;
	/* vhost-net numbers its rings RX 0, TX 1, as virtio-net does. */
	for (q = 0; q < VHOST_NET_QUEUES; q++) {
		struct virtqueue *vq = &vn->vqs[q];

		if (!vq_ready(vq))
			return -ENXIO;
		ret = t->queue_eventfds(&vn->vdev, q, &r[q].kick_fd, &r[q].call_fd);
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

/* Loop thread, at DRIVER_OK: hand RX and TX to vhost-net; true if it took them. */
static bool vnet_vhost_start(struct virtio_net *vn)
{
	struct vhost_net_ring r[VHOST_NET_QUEUES];
	uint64_t one = 1;
	unsigned int q;
	int ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (!vnet_live(vn) || vnet_vhost_on(vn)) {
		/* Reset meanwhile (the next DRIVER_OK starts again), or started. */
		ret = vnet_vhost_on(vn);
		pthread_mutex_unlock(&vn->vdev.lock);
		return ret;
	}
	net_peer_poll(&vn->nc, false);
	ret = vnet_vhost_rings(vn, r);
	if (ret) {
		vnet_vhost_fallback(vn, r, "rings", ret);
	} else {
		ret = vhost_net_start(vn->vhost, vn->vdev.mem, vn->eng.features, r);
		if (ret)
			vnet_vhost_fallback(vn, r, vhost_net_failed_op(vn->vhost), ret);
	}
	pthread_mutex_unlock(&vn->vdev.lock);
	/*
	 * A kick that reached the loop's eventfd before the switch is not
	 * vhost's to see: give it one of its own for each ring.
	 */
	for (q = 0; !ret && q < VHOST_NET_QUEUES; q++)
		if (write(r[q].kick_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("virtio-net %s: kick vhost-net: %s", vn->nc.name, strerror(errno));
	return !ret;
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
	struct vhost_net_ring r[VHOST_NET_QUEUES];
	uint64_t one = 1;
	unsigned int q;
	int ret;

	pthread_mutex_lock(&vn->vdev.lock);
	if (!vnet_live(vn) || vhost_user_running(vn->vu)) {
		pthread_mutex_unlock(&vn->vdev.lock);
		return true;
	}
	ret = vnet_vhost_rings(vn, r);
	if (ret)
		pr_warn_ratelimited("virtio-net %s: vhost-user: rings: %s", vn->nc.name,
				    strerror(-ret));
	for (q = 0; !ret && vn->vu_ran && q < VHOST_NET_QUEUES; q++)
		r[q].last_avail = READ_ONCE(vn->vqs[q].used->idx);
	if (!ret)
		ret = vhost_user_start(vn->vu, vn->vdev.mem, vn->eng.features, r);
	vn->vu_ran |= !ret;
	pthread_mutex_unlock(&vn->vdev.lock);
	/* As for vhost-net: what the guest queued while nobody looked needs a kick. */
	for (q = 0; !ret && q < VHOST_NET_QUEUES; q++)
		if (write(r[q].kick_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("virtio-net %s: kick vhost-user: %s", vn->nc.name, strerror(errno));
	return !ret;
}

static void vnet_start_work(void *opaque)
{
	struct virtio_net *vn = opaque;

	/* What the backend queued before DRIVER_OK goes in through kavm first. */
	net_client_flush_queued(&vn->nc);
	if (vn->vu) {
		vnet_vu_start(vn);
		return;
	}
	if (vn->vhost && vnet_vhost_start(vn))
		return;
	vnet_tx_run(vn);
}

/* vdev.lock held (reset, exit): the rings go back to kavm before the driver frees them. */
static void vnet_vhost_stop(struct virtio_net *vn)
{
	if (vn->vhost)
		vhost_net_stop(vn->vhost);
	if (vn->vu)
		vhost_user_stop(vn->vu);
}

static int vnet_start(struct virtio_dev *vdev)
{
	struct virtio_net *vn = to_vnet(vdev);

	vn->cfg.status = net_client_link_up(&vn->nc) ? VIRTIO_NET_S_LINK_UP : 0;
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
	while (vn->tx_running && !pthread_equal(vn->tx_thread, pthread_self()))
		pthread_cond_wait(&vn->tx_idle, &vn->vdev.lock);
}

static void vnet_reset(struct virtio_dev *vdev)
{
	struct virtio_net *vn = to_vnet(vdev);
	unsigned int i;

	vnet_vhost_stop(vn);
	for (i = 0; i < VNET_NUM_QUEUES; i++)
		vq_reset(&vn->vqs[i]);
	vn->eng.ring_gen++; /* a TX run that dropped the lock pushes nothing now */
	vn->eng.features = 0;
	vn->failed = false;
	vn->vu_ran = false;
	vnet_rx_filter_reset(&vn->rxf);
	/*
	 * eng.tx_paused stays: it mirrors a frame still in the peer's queue,
	 * whose sent callback will clear it.
	 */
	vnet_reset_wait_tx(vn);
}

static void vnet_link_status_changed(struct net_client *nc)
{
	struct virtio_net *vn = container_of(nc, struct virtio_net, nc);
	uint16_t status = net_client_link_up(nc) ? VIRTIO_NET_S_LINK_UP : 0;
	bool notify;

	/*
	 * A vhost-user backend came (back): its rings first, then the guest
	 * hears of it; one that refuses them is about to be dropped, and the
	 * guest's link should not flap up meanwhile, at every reconnect.
	 */
	if (vn->vu && status && !vnet_vu_start(vn))
		status = 0;
	pthread_mutex_lock(&vn->vdev.lock);
	notify = status != vn->cfg.status && (vn->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		 (vn->eng.features & F(VIRTIO_NET_F_STATUS));
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

int virtio_net_init(const struct virtio_net_params *p, struct virtio_net **out)
{
	struct virtio_net *vn = calloc(1, sizeof(*vn));
	int ret;

	if (!vn)
		return -ENOMEM;
	ret = net_client_init(&vn->nc, &vnet_client_ops, p->name ?: "virtio-net");
	if (ret)
		goto err_free;
	ret = net_client_connect(&vn->nc, p->backend);
	if (ret)
		goto err_exit_client;
	pthread_mutex_init(&vn->vdev.lock, NULL);
	pthread_cond_init(&vn->tx_idle, NULL);
	vn->vdev.ops = &vnet_ops;
	vn->vdev.mem = p->mem;
	vn->vdev.loop = p->loop;
	vn->queue_size = p->queue_size ?: 256;
	if (vn->queue_size > VIRTQUEUE_MAX_SIZE || (vn->queue_size & (vn->queue_size - 1))) {
		ret = -EINVAL;
		goto err_exit_client;
	}
	memcpy(vn->cfg.mac, p->mac, 6);
	vn->cfg.max_virtqueue_pairs = 1;
	vn->cfg.mtu = p->mtu ?: 1500;
	vn->eng = (struct net_engine){ .rx = &vn->vqs[VNET_RXQ],
				       .tx = &vn->vqs[VNET_TXQ],
				       .nc = &vn->nc,
				       .tx_sent = vnet_tx_sent,
				       .mtu = vn->cfg.mtu,
				       .lock = &vn->vdev.lock };
	vn->eng.peer_vnet_hdr = net_peer_has_vnet_hdr(&vn->nc);
	vn->host_features = vnet_features(vn->eng.peer_vnet_hdr);
	vn->vhost = net_peer_vhost_net(&vn->nc);
	if (vn->vhost)
		vn->host_features = vhost_net_mask_features(vn->vhost, vn->host_features);
	vn->vu = vhost_user_of(p->backend);
	if (vn->vu)
		vn->host_features = vhost_user_mask_features(vn->vu, vn->host_features);
	vnet_rx_filter_reset(&vn->rxf);
	*out = vn;
	return 0;
err_exit_client:
	net_client_exit(&vn->nc);
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
	net_client_exit(&vn->nc);
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
	return &vn->nc;
}

bool virtio_net_vhost_running(struct virtio_net *vn)
{
	bool on;

	pthread_mutex_lock(&vn->vdev.lock);
	on = vnet_vhost_on(vn);
	pthread_mutex_unlock(&vn->vdev.lock);
	return on;
}

void virtio_net_get_stats(struct virtio_net *vn, struct virtio_net_stats *st)
{
	pthread_mutex_lock(&vn->vdev.lock);
	*st = vn->stats;
	st->engine = vn->eng.stats;
	pthread_mutex_unlock(&vn->vdev.lock);
}
