/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm vhost-user frontend (QEMU's docs/interop/vhost-user.rst): a NIC's RX
 * and TX rings (one pair, or N with queues=N and the backend's
 * VHOST_USER_PROTOCOL_F_MQ) handed to a backend process (DPDK, a software switch) over a
 * unix socket, with guest RAM shared by memfd. It is a net backend of its own
 * (--netdev vhost-user,...): its net client is the NIC's peer and carries
 * the link state, which follows the connection. No frame passes through the
 * client: the rings are the backend's, even while it is away (they wait).
 *
 * Kicks reach the backend through the queue's ioeventfd, its signals reach
 * the guest through the queue's call eventfd (an irqfd under MSI-X), as with
 * vhost-net. The control queue stays with kavm.
 *
 * Threads: open/close on the main thread at setup and exit; start, the
 * connection's events and reconnects on the loop thread; stop on a vCPU
 * (device reset) or the loop. vhost_user's own lock serialises the socket;
 * the caller serialises start and stop (the NIC's vdev->lock, taken before
 * vhost-user's). A call never waits more than VHOST_USER_REPLY_TIMEOUT_MS
 * for one reply: a backend that lies, hangs or closes is logged in one line,
 * dropped, and the guest sees its link go down.
 */
#ifndef KAVM_VHOST_USER_H
#define KAVM_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include <kavm/vhost-net.h>

struct guest_mem;
struct net_backend_ops;
struct net_client;
struct vhost_user;

/* queues=N: at most the tap backend's (and virtio-net's) number of pairs. */
#define VHOST_USER_MAX_PAIRS 8u
#define VHOST_USER_MAX_RINGS (2 * VHOST_USER_MAX_PAIRS)

/* How long one reply may take before the backend counts as hung. */
#define VHOST_USER_REPLY_TIMEOUT_MS 2000
/* First reconnect attempt after a disconnect; doubles up to reconnect=SECONDS. */
#define VHOST_USER_BACKOFF_MIN_MS 100

extern const struct net_backend_ops net_vhost_user_backend;

struct vhost_user_stats {
	uint64_t connects;    /* handshakes that succeeded, the first one included */
	uint64_t disconnects; /* connections lost or dropped */
	uint64_t violations;  /* connections dropped for a protocol violation or a timeout */
	uint64_t starts;      /* rings handed to the backend */
	uint64_t ring_errors; /* the backend signalled a ring's error eventfd */
};

/* The vhost-user backend behind net client nc (a NIC's peer), or NULL. */
struct vhost_user *vhost_user_of(struct net_client *nc);

/* offered less what the backend lacks of the features it implements (rings, offloads). */
uint64_t vhost_user_mask_features(struct vhost_user *vu, uint64_t offered);

/*
 * Hand the rings of pairs [0, nr_pairs) to the backend (rings[2i] RX and
 * rings[2i + 1] TX of pair i, nr_pairs at most the netdev's queues=):
 * features (the guest's, masked to what the backend implements), the
 * memory table of mem by fd, then each ring, then SET_VRING_ENABLE: on for
 * pair 0 and the pairs the NIC uses (its queue clients' queue_enable), off
 * for the others. -ENOTCONN while no backend is connected (the rings wait
 * for one), -EBUSY when running already, -EINVAL for a bad nr_pairs; any
 * other failure was logged and drops the connection (the link goes down at
 * the loop's next turn).
 */
int vhost_user_start(struct vhost_user *vu, struct guest_mem *mem, uint64_t features,
		     const struct vhost_net_ring *rings, unsigned int nr_pairs);
/* Take every started ring back (GET_VRING_BASE); a no-op when not running. */
void vhost_user_stop(struct vhost_user *vu);
/* The pairs whose rings the backend has now (0 when not running). */
unsigned int vhost_user_started_pairs(struct vhost_user *vu);
bool vhost_user_running(struct vhost_user *vu);
bool vhost_user_connected(struct vhost_user *vu);
void vhost_user_get_stats(struct vhost_user *vu, struct vhost_user_stats *st);

#endif /* KAVM_VHOST_USER_H */
