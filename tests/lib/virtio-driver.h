/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm tests: an in-process virtio driver. Guest RAM is a guest_mem; the
 * driver builds split rings in it, negotiates through the device's
 * virtio_dev_ops as a real driver would, and plays the transport (counting
 * interrupts). Raw accessors let a test write hostile rings.
 */
#ifndef KAVM_TEST_VIRTIO_DRIVER_H
#define KAVM_TEST_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <kavm/memory.h>
#include <kavm/net.h>

struct loop;
struct virtio_dev;

/* Four RX/TX pairs (multiqueue tests) and the control queue. */
#define VDRV_MAX_PAIRS 4
#define VDRV_MAX_QUEUES (2 * VDRV_MAX_PAIRS + 1)
#define VDRV_BUF_SIZE 4096
#define VDRV_MAX_QSIZE 256
#define VDRV_IND_MAX 80
#define VDRV_RAM_SIZE (16ull << 20)

struct vdrv_queue {
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa, buf_gpa, ind_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint16_t kicked_idx; /* avail_idx at the last kick decision */
	uint16_t last_used;
	uint16_t free[VDRV_MAX_QSIZE]; /* free descriptor stack */
	uint16_t nfree;
	uint16_t chain[VDRV_MAX_QSIZE][VDRV_IND_MAX]; /* descriptors of the chain at head */
	uint16_t chain_len[VDRV_MAX_QSIZE];
};

struct vdrv {
	struct guest_mem mem;
	struct loop *loop;
	struct virtio_dev *vdev;
	struct vdrv_queue q[VDRV_MAX_QUEUES];
	unsigned int nq;
	unsigned int ctrlq; /* 2, or the last queue with VIRTIO_NET_F_MQ */
	uint64_t features;
	unsigned int irq[VDRV_MAX_QUEUES];
	unsigned int config_irq;
	uint64_t next_gpa;
	/*
	 * vdrv_use_eventfds(): the transport hands out a kick and a call
	 * eventfd per queue (for vhost), as virtio-pci does; -1 until asked.
	 */
	bool eventfds;
	int kick_fd[VDRV_MAX_QUEUES];
	int call_fd[VDRV_MAX_QUEUES];
	unsigned int kick_lost; /* kick fd writes that failed */
};

struct vdrv_seg {
	const void *data; /* device-readable content (NULL: zeros) */
	uint32_t len;
	bool write; /* device-writable */
};

int vdrv_init(struct vdrv *d, struct loop *loop);
void vdrv_exit(struct vdrv *d);
void vdrv_attach(struct vdrv *d, struct virtio_dev *vdev);
/* reset, ACKNOWLEDGE, DRIVER, features (host & want), FEATURES_OK, queues, DRIVER_OK */
int vdrv_probe(struct vdrv *d, uint64_t want, uint16_t qsize);
/* Steps of vdrv_probe for tests that stop half-way. */
int vdrv_negotiate(struct vdrv *d, uint64_t features);
int vdrv_setup_queue(struct vdrv *d, unsigned int q, uint16_t size);
int vdrv_driver_ok(struct vdrv *d);
void vdrv_reset(struct vdrv *d);
/*
 * vdrv_probe() for a driver on a thread of its own, as a vCPU is: the loop
 * runs on another thread, which takes the device's deferred start from there.
 */
int vdrv_probe_nowait(struct vdrv *d, uint64_t want, uint16_t qsize);
/* Device config as a vCPU reads it: under the device's lock. */
void vdrv_config_read(struct vdrv *d, uint32_t offset, void *data, uint32_t len);
uint8_t vdrv_status(struct vdrv *d);
bool vdrv_needs_reset(struct vdrv *d);

/* Post a chain (optionally through an indirect table); returns the head or -ENOSPC. */
int vdrv_post(struct vdrv *d, unsigned int q, const struct vdrv_seg *segs, unsigned int n,
	      bool indirect);
/* Build without making it available (to corrupt it first); then vdrv_publish(). */
int vdrv_build(struct vdrv *d, unsigned int q, const struct vdrv_seg *segs, unsigned int n,
	       bool indirect);
uint64_t vdrv_buf_gpa(struct vdrv *d, unsigned int q, uint16_t desc);
/*
 * From now on the transport gives the device (its vhost backend) a kick and
 * a call eventfd per queue it asks for: kicks then go through the kick fd
 * instead of queue_notify, and vdrv_wait_used() sleeps on the call fd.
 */
void vdrv_use_eventfds(struct vdrv *d);
/*
 * Wait up to timeout_ms for a used entry on q, running the loop meanwhile:
 * 1 when there is one, 0 at the timeout. Like Linux with EVENT_IDX, it asks
 * for an interrupt at the next used entry before it sleeps on the call fd.
 */
int vdrv_wait_used(struct vdrv *d, unsigned int q, int timeout_ms);
/* Notify the device and run the loop until it is idle. */
void vdrv_kick(struct vdrv *d, unsigned int q);
/*
 * Linux's virtqueue_kick_prepare(): does the device want a kick for what was
 * made available since the last decision (avail_event, or NO_NOTIFY)?
 */
bool vdrv_kick_prepare(struct vdrv *d, unsigned int q);
/* Kick only if vdrv_kick_prepare() says so, as a guest does; run the loop. Kicked? */
bool vdrv_notify(struct vdrv *d, unsigned int q);
void vdrv_run(struct vdrv *d);
/* Take one used entry: 1 (head, len filled; chain freed) or 0. */
int vdrv_used(struct vdrv *d, unsigned int q, uint16_t *head, uint32_t *len);
/*
 * Linux's virtqueue_enable_cb(): ask for an interrupt at the next used entry
 * (used_event under EVENT_IDX). False when entries already wait: poll again.
 */
bool vdrv_enable_cb(struct vdrv *d, unsigned int q);

/* virtio-net helpers: queue 0 RX, 1 TX, 2 control */
int vdrv_net_tx(struct vdrv *d, const struct virtio_net_hdr_v1 *hdr, const void *frame, size_t len,
		bool indirect);
/* Post n RX buffers of VDRV_BUF_SIZE and notify (vdrv_notify) as Linux would. */
int vdrv_net_rx_fill(struct vdrv *d, unsigned int n);
/* One received frame (num_buffers gathered): its length, 0 if none. */
ssize_t vdrv_net_rx(struct vdrv *d, struct virtio_net_hdr_v1 *hdr, void *frame, size_t max);
/* The same on pair `pair` (queues 2 pair and 2 pair + 1, VIRTIO_NET_F_MQ). */
int vdrv_net_tx_on(struct vdrv *d, unsigned int pair, const struct virtio_net_hdr_v1 *hdr,
		   const void *frame, size_t len, bool indirect);
int vdrv_net_rx_fill_on(struct vdrv *d, unsigned int pair, unsigned int n);
ssize_t vdrv_net_rx_on(struct vdrv *d, unsigned int pair, struct virtio_net_hdr_v1 *hdr,
		       void *frame, size_t max);
/* A control command; returns the ack byte (VIRTIO_NET_OK/ERR), or -1 for no used entry. */
int vdrv_net_ctrl(struct vdrv *d, uint8_t class, uint8_t cmd, const void *data, size_t len);

/* Raw access for hostile-ring tests */
void *vdrv_ptr(struct vdrv *d, uint64_t gpa, uint64_t len);
/* Make head available (one avail entry, idx published). */
void vdrv_publish(struct vdrv *d, unsigned int q, uint16_t head);

/* A net client to stand as the device's peer: records what it receives. */
struct tpeer {
	struct net_client nc;
	bool vnet_hdr;
	bool refuse; /* receive returns 0 (a full receiver) */
	unsigned int count;
	size_t last_len;
	int hdr_len;
	struct net_offload off;
	uint8_t last[70000];
};

int tpeer_init(struct tpeer *p, bool vnet_hdr);
void tpeer_exit(struct tpeer *p);

#endif /* KAVM_TEST_VIRTIO_DRIVER_H */
