/* SPDX-License-Identifier: GPL-2.0 */
/* kavm virtio-pci: transport state shared by pci.c and pci-common.c. */
#ifndef KAVM_VIRTIO_PCI_INTERNAL_H
#define KAVM_VIRTIO_PCI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <kavm/log.h>
#include <kavm/pci.h>
#include <kavm/virtio-pci.h>
#include <kavm/virtio.h>

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
/* Non-transitional devices use subsystem ids from 0x40 (virtio 1.x, 4.1.2.1). */
#define VIRTIO_PCI_SUBSYS_ID 0x40
#define NO_ROUTE UINT32_MAX
#define VIRTIO_PCI_ISR_QUEUE 0x1

struct virtio_pci_queue {
	struct virtio_pci *vpci;
	unsigned int index;
	uint16_t max_size;
	struct virtio_queue_config cfg; /* as written; vdev->lock */
	bool enabled;			/* vdev->lock; read atomically by the loop */
	uint64_t ioeventfd_addr;	/* 0: none; io_lock */
	int ioeventfd_fd;		/* the eventfd registered there; io_lock */
	uint16_t vector;		/* latched at enable; irq_lock */
	uint32_t bound_route;		/* route call_fd is attached to; irq_lock */
	int kick_fd, call_fd;		/* the loop's; call_fd is also handed out */
	int ext_kick_fd;		/* kick eventfd handed to vhost, -1 none; io_lock */
};

struct virtio_pci {
	struct pci_dev pdev;
	struct virtio_dev *vdev;
	unsigned int nr_queues;
	struct virtio_pci_queue *queues;
	/* Common config registers; vdev->lock. */
	uint32_t dfselect, gfselect;
	uint64_t driver_features; /* as written, applied at FEATURES_OK */
	uint16_t queue_sel;
	pthread_mutex_t io_lock; /* innermost: ioeventfds and kick fds */
	uint64_t bar_addr;	 /* where the virtio BAR decodes, 0 none; io_lock */
	pthread_mutex_t irq_lock;
	uint8_t isr;		/* irq_lock */
	uint16_t config_vector; /* irq_lock */
	struct virtio_pci_stats stats;
};

#define STAT_INC(vpci, f) __atomic_fetch_add(&(vpci)->stats.f, 1, __ATOMIC_RELAXED)

#define guest_err(vpci, fmt, ...)                                                                  \
	do {                                                                                       \
		STAT_INC(vpci, guest_errors);                                                      \
		pr_warn_ratelimited("virtio-pci %s: " fmt, (vpci)->vdev->ops->name,                \
				    ##__VA_ARGS__);                                                \
	} while (0)

/* Common config region access (vCPU thread; takes vdev->lock). */
void vpci_common_access(struct virtio_pci *vpci, uint64_t off, void *data, unsigned int len,
			bool is_write);
/* Attach/detach vq's call eventfd to match its vector (irq_lock held). */
void vpci_bind_queue(struct virtio_pci *vpci, struct virtio_pci_queue *vq);
/* Register/drop vq's notify ioeventfd to match its state (takes io_lock). */
void vpci_sync_ioeventfd(struct virtio_pci *vpci, struct virtio_pci_queue *vq);

#endif /* KAVM_VIRTIO_PCI_INTERNAL_H */
