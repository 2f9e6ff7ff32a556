/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm split virtqueue (virtio 1.x section 2.7), device side, over guest RAM
 * the driver controls. The driver is hostile: every index, length and address
 * read from the rings is checked, and each descriptor is copied once into
 * private memory before it is looked at (no double fetch).
 *
 * Two kinds of damage:
 *  - request damage (a buffer outside RAM, a writable buffer before a readable
 *    one, too many segments): vq_pop() still returns the element, with
 *    elem->err set; the device completes it (used.len 0) and counts it.
 *  - ring damage (index >= size, a loop, a chain longer than the queue, avail
 *    idx more than size ahead, a bad indirect table, rings outside RAM):
 *    vq_pop() returns -EIO and the queue stays broken until vq_reset(); the
 *    device then calls virtio_dev_needs_reset().
 *
 * Lock: a virtqueue belongs to its device; callers hold the device's vdev->lock.
 */
#ifndef KAVM_VIRTQUEUE_H
#define KAVM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

struct guest_mem;
struct virtio_queue_config;

/* Segments one element may have; more is request damage (-E2BIG). */
#define VQ_MAX_SEGS 64
/* Entries an indirect table may have (the kernel's UIO_MAXIOV, as vhost). */
#define VQ_MAX_INDIRECT 1024
/* Largest queue a kavm device offers. */
#define VIRTQUEUE_MAX_SIZE 1024

struct vq_elem {
	uint16_t head;
	uint16_t nr_out; /* device-readable segments, iov[0..nr_out) */
	uint16_t nr_in;	 /* device-writable segments, iov[nr_out..nr_out+nr_in) */
	int err;	 /* request damage: -EFAULT, -EINVAL (direction), -E2BIG */
	uint64_t out_len;
	uint64_t in_len;
	struct iovec iov[VQ_MAX_SEGS];
};

struct virtqueue {
	struct guest_mem *mem;
	uint16_t size;	/* 0: not enabled */
	bool broken;	/* ring damage seen; cleared by vq_reset() */
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool signalled_valid;
	uint16_t last_avail;	 /* next avail entry the device takes */
	uint16_t avail_idx;	 /* the driver's avail->idx as last read */
	uint16_t used_idx;	 /* shadow of used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt (EVENT_IDX) */
	uint16_t msix_vector;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;  /* avail->ring[size] (EVENT_IDX) */
	uint16_t *avail_event; /* used->ring[size] (EVENT_IDX) */
	uint64_t damage;       /* ring damage events (counter) */
};

/*
 * Latch cfg (validated: size a power of two <= max_size, alignment, every
 * ring inside RAM). -EINVAL/-EFAULT leave the queue broken.
 */
int vq_enable(struct virtqueue *vq, struct guest_mem *mem, const struct virtio_queue_config *cfg,
	      uint16_t max_size, uint64_t features);
void vq_reset(struct virtqueue *vq);
static inline bool vq_ready(const struct virtqueue *vq)
{
	return vq->size && !vq->broken;
}

/*
 * Ring damage the device itself found (RX: a frame that needs more buffers
 * than the ring holds): -EIO, the queue stays broken until vq_reset().
 */
int vq_damage(struct virtqueue *vq, const char *why, uint64_t val);
/*
 * 1: elem filled; 0: ring empty; -EIO: ring damage (queue now broken).
 * avail->idx is read again only once the entries it last promised are taken,
 * and fewer than size elements are ever taken and not yet used.
 */
int vq_pop(struct virtqueue *vq, struct vq_elem *elem);
/* Give back the last n popped, not yet pushed elements (RX ran out mid-frame). */
void vq_unpop(struct virtqueue *vq, uint16_t n);
/* Write a used entry; the used index is published by vq_flush(). */
void vq_fill(struct virtqueue *vq, uint16_t head, uint32_t len, uint16_t pending);
/* Publish pending used entries. */
void vq_flush(struct virtqueue *vq, uint16_t pending);
static inline void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	vq_fill(vq, head, len, 0);
	vq_flush(vq, 1);
}
/* Does the driver want an interrupt for what was pushed (EVENT_IDX or flags)? */
bool vq_should_notify(struct virtqueue *vq);
/*
 * Kick suppression: disable, or enable and return true if the driver added
 * entries the device has not looked at yet (it must look before waiting).
 * Entries seen and given back (vq_unpop) do not count: the kick asked for
 * lies past them.
 */
void vq_disable_notify(struct virtqueue *vq);
bool vq_enable_notify(struct virtqueue *vq);
/* Entries the driver has made available and the device not taken (capped at size). */
uint16_t vq_avail_count(struct virtqueue *vq);

/* iovec helpers for device code */
size_t iov_length(const struct iovec *iov, unsigned int cnt);
size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off, const void *buf,
		    size_t len);
/* Copy len bytes from src (from soff) to dst (from doff); returns bytes copied. */
size_t iov_copy(const struct iovec *dst, unsigned int dcnt, size_t doff, const struct iovec *src,
		unsigned int scnt, size_t soff, size_t len);
/* Copy of iov without its first skip bytes into dst (at most dst_max entries); returns count. */
unsigned int iov_skip(const struct iovec *iov, unsigned int cnt, size_t skip, struct iovec *dst,
		      unsigned int dst_max);

#endif /* KAVM_VIRTQUEUE_H */
