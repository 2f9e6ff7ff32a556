/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm virtio-net data path, written once (after Cloud Hypervisor's
 * net_util NetQueuePair): guest TX chains -> net client, net client -> guest
 * RX buffers, vnet header validation and offloads. The virtio-net device uses
 * it; a vhost-user-net frontend is meant to reuse it.
 *
 * Lock: callers hold the owning device's lock (e->lock) around every call.
 * net_engine_tx() drops it while the peer takes each frame: no lock is held
 * across a call into another net client, whose link change or sent callback
 * may come straight back into the owner.
 */
#ifndef KAVM_NET_ENGINE_H
#define KAVM_NET_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include <kavm/net.h>
#include <kavm/virtqueue.h>

/* VIRTIO_F_VERSION_1: the header always has num_buffers. */
#define NET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define NET_ETH_HLEN 14
#define NET_VLAN_HLEN 4
/*
 * RX out of buffers re-arms the kick and looks again while the driver keeps
 * adding; past this many rounds it gives up for this turn (bounded work) and
 * sets rx_retry: the device retries on the next turn, for no kick is armed.
 */
#define NET_RX_REARM_TRIES 4
/* Largest GSO frame the kernel builds: 64 KiB of IP plus the L2 header. */
#define NET_GSO_MAX_FRAME (65535 + NET_ETH_HLEN + NET_VLAN_HLEN)

struct net_engine_stats {
	uint64_t tx_frames;
	uint64_t tx_bad_desc; /* buffer outside RAM, writable, too many segments */
	uint64_t tx_bad_hdr;  /* short or invalid vnet header */
	uint64_t tx_too_big;  /* over MTU (or over 64 KiB for GSO) */
	uint64_t tx_paused;   /* times the peer made TX wait */
	uint64_t rx_frames;
	uint64_t rx_bad_desc; /* readable, outside RAM, or too small RX buffer */
	uint64_t rx_no_buf;   /* times the RX ring ran dry */
	uint64_t rx_too_big;  /* over 64 KiB, or offloads the guest did not take */
	uint64_t rx_short;    /* from the peer: no room for its vnet header and a MAC */
	uint64_t rx_deferred; /* a call took a ring's worth of buffers: next turn */
};

struct net_used {
	uint16_t head;
	uint32_t len;
};

struct net_engine {
	struct virtqueue *rx;
	struct virtqueue *tx;
	struct net_client *nc; /* the NIC's client; its peer is the backend */
	net_sent_fn tx_sent;   /* resumes TX once a queued frame left */
	uint64_t features;     /* negotiated with the driver */
	uint16_t mtu;
	bool peer_vnet_hdr;    /* frames to and from the peer carry the header */
	bool tx_paused;	       /* a frame waits in the peer's queue */
	bool rx_retry;	       /* RX gave up racing the driver: retry next turn */
	pthread_mutex_t *lock; /* the owner's lock, dropped around net_send_iov(); or NULL */
	/* Bumped by the owner, under *lock, when the rings go (reset): see net_engine_tx(). */
	unsigned int ring_gen;
	struct net_engine_stats stats;
	struct vq_elem elem; /* scratch, not stack: 1 KiB */
	struct net_used used[VIRTQUEUE_MAX_SIZE];
	struct iovec hdr_iov[NET_HDR_LEN]; /* RX header split over segments */
	unsigned int hdr_iovcnt;
	unsigned int rx_budget; /* RX buffers net_engine_rx() may still take this call */
};

/*
 * Process up to budget TX chains. Returns chains done (budget: call again),
 * -EIO on ring damage, or -ESTALE when the rings were reset while *lock was
 * dropped (the chain in hand is not pushed; the caller stops). *notify is set
 * when the driver wants an interrupt.
 */
int net_engine_tx(struct net_engine *e, unsigned int budget, bool *notify);
/*
 * Bytes consumed, 0 when the guest has no room (retry after an RX kick, or at
 * the next turn if rx_retry is set), -EIO ring damage. Takes at most the
 * ring's size in buffers per call (rx_retry set when that stopped it).
 */
ssize_t net_engine_rx(struct net_engine *e, const struct iovec *iov, int iovcnt, bool *notify);
/* 0 or -EINVAL: is this TX header acceptable under the negotiated features? */
int net_tx_hdr_check(const struct net_engine *e, const struct virtio_net_hdr_v1 *h,
		     uint64_t frame_len);

#endif /* KAVM_NET_ENGINE_H */
