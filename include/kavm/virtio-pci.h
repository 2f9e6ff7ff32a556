/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm virtio-pci: the modern (virtio 1.x, non-transitional) PCI transport
 * for a struct virtio_dev. See Documentation/virtio-pci.md for the layout.
 *
 * The caller fills vdev (ops, mem, loop, priv) and initialises vdev->lock
 * before virtio_pci_init(); the kick eventfds are added to vdev->loop, so
 * init runs on the loop's thread or before loop_run().
 *
 * Calls into the device: config_read/write, set_guest_features,
 * queue_enable, start and reset run on vCPU threads with vdev->lock held;
 * queue_notify runs on the loop thread with no lock held. The transport
 * ops (notify_queue, notify_config, queue_eventfds) take only the
 * transport's own locks, so the device may call them with or without
 * vdev->lock held.
 *
 * queue_eventfds(q) hands queue q to vhost for good: the kick eventfd it
 * returns is signalled by KVM and by trapped kicks instead of the loop's, so
 * queue_notify is no longer called for q.
 */
#ifndef KAVM_VIRTIO_PCI_H
#define KAVM_VIRTIO_PCI_H

#include <stdint.h>

#include <kavm/pci.h>

struct virtio_dev;
struct virtio_pci;

/* BAR numbers and offsets inside the 64-bit virtio BAR. */
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_BAR 4
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_REGION_SIZE 0x1000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4
#define VIRTIO_PCI_MAX_QUEUES (VIRTIO_PCI_REGION_SIZE / VIRTIO_PCI_NOTIFY_MULTIPLIER)

/* Counters for tests and kavmctl; updated atomically. */
struct virtio_pci_stats {
	uint64_t kicks_trapped; /* notify writes that exited to userspace */
	uint64_t kicks;		/* queue_notify calls from the loop */
	uint64_t irqs_irqfd, irqs_msix_slow, irqs_intx;
	uint64_t guest_errors; /* guest writes refused */
};

int virtio_pci_init(struct virtio_pci **out, struct pci_host *host, struct virtio_dev *vdev);
void virtio_pci_exit(struct virtio_pci *vpci);

struct pci_dev *virtio_pci_dev(struct virtio_pci *vpci);
void virtio_pci_get_stats(struct virtio_pci *vpci, struct virtio_pci_stats *st);

#endif /* KAVM_VIRTIO_PCI_H */
