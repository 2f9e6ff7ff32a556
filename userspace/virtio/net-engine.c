// SPDX-License-Identifier: GPL-2.0
/*
 * kavm virtio-net data path shared by net devices: TX chains to the peer,
 * frames from the peer into RX buffers. Each vnet header is copied once into
 * private memory and checked there; only the copy travels on.
 */
#include <errno.h>
#include <string.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/net-engine.h>

static bool has(const struct net_engine *e, unsigned int bit)
{
	return e->features & (1ull << bit);
}

static uint64_t net_max_frame(const struct net_engine *e)
{
	return (uint64_t)e->mtu + NET_ETH_HLEN + NET_VLAN_HLEN;
}

static int net_tx_gso_check(const struct net_engine *e, const struct virtio_net_hdr_v1 *h,
			    uint64_t frame_len)
{
	uint8_t type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return (h->gso_type || frame_len > net_max_frame(e)) ? -EINVAL : 0;
	if (type == VIRTIO_NET_HDR_GSO_TCPV4 && !has(e, VIRTIO_NET_F_HOST_TSO4))
		return -EINVAL;
	if (type == VIRTIO_NET_HDR_GSO_TCPV6 && !has(e, VIRTIO_NET_F_HOST_TSO6))
		return -EINVAL;
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EINVAL; /* UFO and others are never offered */
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(e, VIRTIO_NET_F_HOST_ECN))
		return -EINVAL;
	/* A segmented frame needs its checksum filled in per segment. */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !h->gso_size)
		return -EINVAL;
	if (h->hdr_len > frame_len || frame_len > NET_GSO_MAX_FRAME)
		return -EINVAL;
	return 0;
}

int net_tx_hdr_check(const struct net_engine *e, const struct virtio_net_hdr_v1 *h,
		     uint64_t frame_len)
{
	if (frame_len < NET_ETH_HLEN)
		return -EINVAL;
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return -EINVAL;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!has(e, VIRTIO_NET_F_CSUM))
			return -EINVAL;
		/* The 16-bit checksum field lies inside the frame (no overflow: u16 + u16 + 2). */
		if ((uint64_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return -EINVAL;
	}
	return net_tx_gso_check(e, h, frame_len);
}

/* Hand one frame to the peer without the owner's lock: the peer may call the owner back. */
static ssize_t net_tx_send(struct net_engine *e, const struct iovec *iov, int iovcnt)
{
	ssize_t ret;

	if (e->lock)
		pthread_mutex_unlock(e->lock);
	ret = net_send_iov(e->nc, iov, iovcnt, e->tx_sent);
	if (e->lock)
		pthread_mutex_lock(e->lock);
	return ret;
}

/*
 * One TX chain; returns 1 if the peer queued it (pause), else 0. Never fails
 * the ring. el is not used after the send (the lock was dropped meanwhile).
 */
static int net_tx_one(struct net_engine *e, const struct vq_elem *el)
{
	struct iovec iov[VQ_MAX_SEGS + 1];
	struct virtio_net_hdr_v1 hdr;
	uint64_t frame_len;
	unsigned int n;
	ssize_t ret;

	if (el->err || el->nr_in) {
		e->stats.tx_bad_desc++;
		return 0;
	}
	if (el->out_len < NET_HDR_LEN) {
		e->stats.tx_bad_hdr++;
		return 0;
	}
	iov_to_buf(el->iov, el->nr_out, 0, &hdr, NET_HDR_LEN);
	frame_len = el->out_len - NET_HDR_LEN;
	if (hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE && frame_len > net_max_frame(e)) {
		e->stats.tx_too_big++;
		return 0;
	}
	if (net_tx_hdr_check(e, &hdr, frame_len)) {
		e->stats.tx_bad_hdr++;
		return 0;
	}
	hdr.num_buffers = 0;
	n = iov_skip(el->iov, el->nr_out, NET_HDR_LEN, iov + 1, VQ_MAX_SEGS);
	if (e->peer_vnet_hdr) {
		iov[0] = (struct iovec){ &hdr, NET_HDR_LEN };
		ret = net_tx_send(e, iov, n + 1);
	} else {
		ret = net_tx_send(e, iov + 1, n);
	}
	e->stats.tx_frames++;
	return ret == 0;
}

int net_engine_tx(struct net_engine *e, unsigned int budget, bool *notify)
{
	unsigned int done = 0, gen;
	uint16_t head;
	int ret;

	while (done < budget && !e->tx_paused) {
		ret = vq_pop(e->tx, &e->elem);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
		head = e->elem.head;
		gen = e->ring_gen;
		if (net_tx_one(e, &e->elem)) {
			e->tx_paused = true;
			e->stats.tx_paused++;
		}
		/* Reset while the peer took it: the chain belongs to no ring now. */
		if (e->ring_gen != gen)
			return -ESTALE;
		/* The frame was copied (peer queue) or sent: the buffer is free. */
		vq_push(e->tx, head, 0);
		done++;
	}
	if (done && vq_should_notify(e->tx))
		*notify = true;
	return done;
}

/*
 * A peer's header must not ask the guest for offloads it did not take (the
 * tap's TUNSETOFFLOAD keeps the kernel honest; another backend may not).
 */
static bool net_rx_hdr_ok(const struct net_engine *e, const struct virtio_net_hdr_v1 *h)
{
	uint8_t type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !has(e, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(e, VIRTIO_NET_F_GUEST_ECN))
		return false;
	return (type == VIRTIO_NET_HDR_GSO_TCPV4 && has(e, VIRTIO_NET_F_GUEST_TSO4)) ||
	       (type == VIRTIO_NET_HDR_GSO_TCPV6 && has(e, VIRTIO_NET_F_GUEST_TSO6));
}

/* Give back a half-built frame's buffers with len 0 (a bad buffer broke it). */
static void net_rx_drop_partial(struct net_engine *e, unsigned int nbufs)
{
	unsigned int i;

	for (i = 0; i < nbufs; i++)
		vq_fill(e->rx, e->used[i].head, 0, i);
	vq_flush(e->rx, nbufs);
}

static bool net_rx_buf_ok(const struct net_engine *e, const struct vq_elem *el, unsigned int nbufs,
			  uint64_t need)
{
	if (el->err || el->nr_out || !el->in_len)
		return false;
	if (nbufs == 0 && el->in_len < NET_HDR_LEN)
		return false;
	if (!has(e, VIRTIO_NET_F_MRG_RXBUF) && el->in_len < need)
		return false;
	return true;
}

/* Copy [hdr | data] bytes [off, off+len) into el. */
static void net_rx_copy(const struct vq_elem *el, const struct virtio_net_hdr_v1 *hdr,
			const struct iovec *data, int datacnt, uint64_t off, uint64_t len)
{
	uint64_t hdr_part = 0;

	if (off < NET_HDR_LEN) {
		hdr_part = min(len, NET_HDR_LEN - off);
		iov_from_buf(el->iov, el->nr_in, 0, (const uint8_t *)hdr + off, hdr_part);
	}
	if (len > hdr_part)
		iov_copy(el->iov, el->nr_in, hdr_part, data, datacnt, off + hdr_part - NET_HDR_LEN,
			 len - hdr_part);
}

/* Take one RX buffer if the budget allows: 1, 0 (ring empty or budget spent), -EIO. */
static int net_rx_pop(struct net_engine *e)
{
	int ret;

	if (!e->rx_budget)
		return 0;
	ret = vq_pop(e->rx, &e->elem);
	if (ret > 0)
		e->rx_budget--;
	return ret;
}

/* Fill RX buffers with one frame; 1 done, 0 out of buffers (nothing published), -EIO. */
static int net_rx_fill(struct net_engine *e, struct virtio_net_hdr_v1 *hdr,
		       const struct iovec *data, int datacnt, uint64_t need)
{
	uint8_t *num_buffers = NULL; /* a header in one segment (Linux) */
	unsigned int nbufs = 0;
	uint64_t off = 0;
	int ret;

	while (off < need) {
		/* No legitimate driver has more buffers than ring entries (QEMU: virtio_error). */
		if (nbufs == e->rx->size)
			return vq_damage(e->rx, "RX frame needs more buffers than the ring holds",
					 need);
		ret = net_rx_pop(e);
		if (ret <= 0) {
			vq_unpop(e->rx, nbufs);
			return ret;
		}
		if (!net_rx_buf_ok(e, &e->elem, nbufs, need)) {
			e->stats.rx_bad_desc++;
			e->used[nbufs++] = (struct net_used){ e->elem.head, 0 };
			net_rx_drop_partial(e, nbufs);
			nbufs = 0;
			off = 0;
			continue;
		}
		if (!nbufs && e->elem.iov[0].iov_len >= NET_HDR_LEN) {
			num_buffers = (uint8_t *)e->elem.iov[0].iov_base +
				      offsetof(struct virtio_net_hdr_v1, num_buffers);
		} else if (!nbufs) {
			/* A header split over segments: keep where its pieces went. */
			num_buffers = NULL;
			e->hdr_iovcnt =
				iov_skip(e->elem.iov, e->elem.nr_in, 0, e->hdr_iov, NET_HDR_LEN);
		}
		e->used[nbufs].head = e->elem.head;
		e->used[nbufs].len = min(e->elem.in_len, need - off);
		net_rx_copy(&e->elem, hdr, data, datacnt, off, e->used[nbufs].len);
		off += e->used[nbufs].len;
		nbufs++;
	}
	hdr->num_buffers = nbufs;
	if (num_buffers)
		memcpy(num_buffers, &hdr->num_buffers, sizeof(hdr->num_buffers));
	else
		iov_from_buf(e->hdr_iov, e->hdr_iovcnt,
			     offsetof(struct virtio_net_hdr_v1, num_buffers), &hdr->num_buffers,
			     sizeof(hdr->num_buffers));
	for (unsigned int i = 0; i < nbufs; i++)
		vq_fill(e->rx, e->used[i].head, e->used[i].len, i);
	vq_flush(e->rx, nbufs);
	return 1;
}

ssize_t net_engine_rx(struct net_engine *e, const struct iovec *iov, int iovcnt, bool *notify)
{
	size_t size = iov_length(iov, iovcnt);
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct iovec data[VQ_MAX_SEGS];
	int datacnt = iovcnt, ret;
	unsigned int tries;
	uint64_t need;

	if (e->peer_vnet_hdr) {
		if (size < NET_HDR_LEN) {
			e->stats.rx_short++;
			return size;
		}
		iov_to_buf(iov, iovcnt, 0, &hdr, NET_HDR_LEN);
		datacnt = iov_skip(iov, iovcnt, NET_HDR_LEN, data, ARRAY_SIZE(data));
		need = size;
	} else {
		datacnt = iov_skip(iov, iovcnt, 0, data, ARRAY_SIZE(data));
		need = size + NET_HDR_LEN;
	}
	if (need - NET_HDR_LEN > NET_GSO_MAX_FRAME || !net_rx_hdr_ok(e, &hdr)) {
		e->stats.rx_too_big++;
		return size;
	}
	/* Virtio 1.x 5.1.6.4.1: without GUEST_CSUM the device sets flags to zero. */
	if (!has(e, VIRTIO_NET_F_GUEST_CSUM))
		hdr.flags = 0;
	/*
	 * A ring's worth of buffers per call, whether they carry the frame or
	 * come back unusable: a driver recycling bad buffers from another vCPU
	 * must not keep the device here. The rest waits for the next turn.
	 */
	e->rx_budget = e->rx->size;
	ret = net_rx_fill(e, &hdr, data, datacnt, need);
	/* Buffers raced in while we re-armed the kick: look again, a few times. */
	for (tries = 0;
	     ret == 0 && e->rx_budget && tries < NET_RX_REARM_TRIES && vq_enable_notify(e->rx);
	     tries++)
		ret = net_rx_fill(e, &hdr, data, datacnt, need);
	if (ret < 0)
		return ret;
	if (ret == 0 && !e->rx_budget) {
		e->rx_retry = true;
		e->stats.rx_deferred++;
		return 0;
	}
	if (ret == 0) {
		/* Still racing a refilling driver: no kick is armed, retry unasked. */
		e->rx_retry = tries == NET_RX_REARM_TRIES;
		e->stats.rx_no_buf++;
		return 0;
	}
	e->stats.rx_frames++;
	if (vq_should_notify(e->rx))
		*notify = true;
	return size;
}
