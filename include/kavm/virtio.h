/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm virtio device model interface: what a device (virtio/net.c) offers a
 * transport (virtio/pci.c, or a test harness playing the transport), and
 * what the transport offers back. A device never touches PCI; a transport
 * never parses a ring.
 *
 * Threads: the transport calls the device from vCPU threads (register
 * accesses) and from the loop (queue notifications). vdev->lock serialises
 * device state changes (status, features, queue setup, reset) against the
 * data path on the loop thread.
 */
#ifndef KAVM_VIRTIO_H
#define KAVM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_config.h>

struct guest_mem;
struct loop;
struct virtio_dev;

/* Queue registers as the driver set them, latched when it enables the queue. */
struct virtio_queue_config {
	uint16_t size;
	uint16_t msix_vector;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
};

struct virtio_dev_ops {
	const char *name;
	uint16_t device_id;   /* VIRTIO_ID_* */
	uint32_t config_size; /* bytes of device-specific config space */
	uint64_t (*get_host_features)(struct virtio_dev *vdev);
	/* FEATURES_OK: -EINVAL refuses the set (the transport then clears FEATURES_OK). */
	int (*set_guest_features)(struct virtio_dev *vdev, uint64_t features);
	void (*config_read)(struct virtio_dev *vdev, uint32_t offset, void *data, uint32_t len);
	void (*config_write)(struct virtio_dev *vdev, uint32_t offset, const void *data,
			     uint32_t len);
	unsigned int (*num_queues)(struct virtio_dev *vdev);
	uint16_t (*max_queue_size)(struct virtio_dev *vdev, unsigned int q);
	/* The driver wrote queue_enable = 1; cfg is validated by the device. */
	int (*queue_enable)(struct virtio_dev *vdev, unsigned int q,
			    const struct virtio_queue_config *cfg);
	/* The driver kicked queue q (ioeventfd, or a trapped notify write). */
	void (*queue_notify)(struct virtio_dev *vdev, unsigned int q);
	/* DRIVER_OK */
	int (*start)(struct virtio_dev *vdev);
	/* The driver wrote status 0: back to the power-on state. */
	void (*reset)(struct virtio_dev *vdev);
};

struct virtio_transport_ops {
	/* Interrupt the driver for used buffers on queue q. */
	int (*notify_queue)(struct virtio_dev *vdev, unsigned int q);
	/* Interrupt the driver for a config change (link status, NEEDS_RESET). */
	int (*notify_config)(struct virtio_dev *vdev);
	/*
	 * The eventfds behind queue q's kick and call, for handing to vhost;
	 * -ENOTSUP for a transport without them.
	 */
	int (*queue_eventfds)(struct virtio_dev *vdev, unsigned int q, int *kick_fd, int *call_fd);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *transport;
	void *transport_priv;
	struct guest_mem *mem;
	struct loop *loop;
	/*
	 * Serialises the device's state (status, features, queues, reset) from
	 * vCPU threads against its data path on the loop thread. Never held
	 * across a call into another net client or anything that can call back
	 * (DESIGN.md; virtio/net.c says how the NIC keeps to it).
	 */
	pthread_mutex_t lock;
	uint8_t status;		    /* VIRTIO_CONFIG_S_*; protected by lock */
	uint32_t config_generation; /* bumped on every config change */
	uint64_t guest_features;    /* valid once FEATURES_OK */
	void *priv;		    /* the device's own state */
};

/*
 * Ring damage: set DEVICE_NEEDS_RESET, stop the device's queues and tell the
 * driver through a config interrupt. The driver recovers by resetting.
 */
void virtio_dev_needs_reset(struct virtio_dev *vdev);

static inline bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->guest_features & (1ull << bit);
}

#endif /* KAVM_VIRTIO_H */
