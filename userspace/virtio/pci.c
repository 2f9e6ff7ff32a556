// SPDX-License-Identifier: GPL-2.0
/* kavm virtio-pci modern transport: caps, common config, notify, ISR, MSI-X/INTx. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/memory.h>
#include <kavm/virtio-pci.h>
#include <kavm/virtio.h>

#include "pci-internal.h"

static const struct virtio_transport_ops virtio_pci_transport_ops;

static bool is_pow2_u16(uint16_t v)
{
	return v && !(v & (v - 1));
}

/* --- interrupts (irq_lock) ---------------------------------------------------------- */

/* Attach or detach q's call eventfd so that it matches its vector's state. irq_lock held. */
void vpci_bind_queue(struct virtio_pci *vpci, struct virtio_pci_queue *vq)
{
	const struct pci_irq_ops *ops;
	uint32_t want = NO_ROUTE;
	void *opaque;

	/* Off the bus (host bridge gone first): KVM bindings went with it. */
	if (!vpci->pdev.host)
		return;
	ops = vpci->pdev.host->p.irq_ops;
	opaque = vpci->pdev.host->p.irq_opaque;

	if (__atomic_load_n(&vq->enabled, __ATOMIC_ACQUIRE) && vq->vector != VIRTIO_MSI_NO_VECTOR &&
	    pci_msix_route(&vpci->pdev, vq->vector, &want))
		want = NO_ROUTE;
	if (want == vq->bound_route)
		return;
	if (vq->bound_route != NO_ROUTE)
		ops->irqfd_detach(opaque, vq->call_fd, vq->bound_route);
	vq->bound_route = NO_ROUTE;
	if (want != NO_ROUTE && !ops->irqfd_attach(opaque, vq->call_fd, want))
		vq->bound_route = want;
}

static void vpci_bind_all(struct virtio_pci *vpci)
{
	unsigned int q;

	pthread_mutex_lock(&vpci->irq_lock);
	for (q = 0; q < vpci->nr_queues; q++)
		vpci_bind_queue(vpci, &vpci->queues[q]);
	pthread_mutex_unlock(&vpci->irq_lock);
}

static void vpci_intx_raise(struct virtio_pci *vpci, uint8_t bit)
{
	vpci->isr |= bit;
	STAT_INC(vpci, irqs_intx);
	pci_intx_set(&vpci->pdev, 1);
}

/* Interrupt for queue vq without its call eventfd: PBA/MSI or INTx. irq_lock held. */
static int vpci_raise_slow(struct virtio_pci *vpci, struct virtio_pci_queue *vq)
{
	if (!pci_msix_enabled(&vpci->pdev)) {
		vpci_intx_raise(vpci, VIRTIO_PCI_ISR_QUEUE);
		return 0;
	}
	/* NO_VECTOR: the driver asked for no interrupt on this queue. */
	if (vq->vector == VIRTIO_MSI_NO_VECTOR)
		return 0;
	STAT_INC(vpci, irqs_msix_slow);
	return pci_msix_notify(&vpci->pdev, vq->vector);
}

static int vpci_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *vpci = vdev->transport_priv;
	struct virtio_pci_queue *vq;
	uint64_t one = 1;
	int ret = 0;

	if (q >= vpci->nr_queues)
		return -EINVAL;
	vq = &vpci->queues[q];
	pthread_mutex_lock(&vpci->irq_lock);
	if (vq->bound_route != NO_ROUTE) {
		STAT_INC(vpci, irqs_irqfd);
		if (write(vq->call_fd, &one, sizeof(one)) != sizeof(one))
			ret = -errno;
	} else {
		ret = vpci_raise_slow(vpci, vq);
	}
	pthread_mutex_unlock(&vpci->irq_lock);
	return ret;
}

/*
 * Loop thread: someone else (vhost) signalled q's call eventfd while no
 * irqfd consumed it (vector masked, MSI-X off): take the slow path, so the
 * interrupt is held pending or raised as INTx instead of lost. While an
 * irqfd is bound, KVM's priority waiter takes the signal first and this
 * handler is not even woken (Linux 5.11+).
 */
static void vpci_call_fn(int fd, uint32_t events, void *opaque)
{
	struct virtio_pci_queue *vq = opaque;
	struct virtio_pci *vpci = vq->vpci;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (!__atomic_load_n(&vq->enabled, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vpci->irq_lock);
	vpci_raise_slow(vpci, vq);
	pthread_mutex_unlock(&vpci->irq_lock);
}

static int vpci_notify_config(struct virtio_dev *vdev)
{
	struct virtio_pci *vpci = vdev->transport_priv;
	int ret = 0;

	__atomic_fetch_add(&vdev->config_generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&vpci->irq_lock);
	if (!pci_msix_enabled(&vpci->pdev)) {
		vpci_intx_raise(vpci, VIRTIO_PCI_ISR_CONFIG);
	} else {
		/* The config bit is set in MSI-X mode too (virtio 1.x, 4.1.4.5.1). */
		vpci->isr |= VIRTIO_PCI_ISR_CONFIG;
		if (vpci->config_vector != VIRTIO_MSI_NO_VECTOR) {
			STAT_INC(vpci, irqs_msix_slow);
			ret = pci_msix_notify(&vpci->pdev, vpci->config_vector);
		}
	}
	pthread_mutex_unlock(&vpci->irq_lock);
	return ret;
}

static void vpci_sync_ioeventfd_locked(struct virtio_pci *vpci, struct virtio_pci_queue *vq,
				       bool force);

/*
 * vhost takes the queue over: from now on KVM's ioeventfd and the trapped
 * path signal a kick eventfd the loop does not read (the loop would steal
 * vhost's kicks). Kicks stay with that eventfd for the device's life.
 */
static int vpci_queue_eventfds(struct virtio_dev *vdev, unsigned int q, int *kick_fd, int *call_fd)
{
	struct virtio_pci *vpci = vdev->transport_priv;
	struct virtio_pci_queue *vq;
	int ret = 0;

	if (q >= vpci->nr_queues)
		return -EINVAL;
	vq = &vpci->queues[q];
	pthread_mutex_lock(&vpci->io_lock);
	if (vq->ext_kick_fd < 0) {
		vq->ext_kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vq->ext_kick_fd < 0)
			ret = -errno;
		else
			vpci_sync_ioeventfd_locked(vpci, vq, true);
	}
	*kick_fd = vq->ext_kick_fd;
	*call_fd = vq->call_fd;
	pthread_mutex_unlock(&vpci->io_lock);
	return ret;
}

static const struct virtio_transport_ops virtio_pci_transport_ops = {
	.notify_queue = vpci_notify_queue,
	.notify_config = vpci_notify_config,
	.queue_eventfds = vpci_queue_eventfds,
};

static void vpci_msix_changed(struct pci_dev *pdev, int vec)
{
	vpci_bind_all(container_of(pdev, struct virtio_pci, pdev));
}

/* --- notifications (ioeventfd, or the trapped write) -------------------------------- */

static uint64_t vpci_notify_addr(struct virtio_pci *vpci, unsigned int q)
{
	return vpci->bar_addr + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULTIPLIER;
}

/* The eventfd a kick for vq goes to now. io_lock held. */
static int vpci_kick_target(struct virtio_pci_queue *vq)
{
	return vq->ext_kick_fd >= 0 ? vq->ext_kick_fd : vq->kick_fd;
}

/* Register q's ioeventfd where its notify register now is, or drop it. io_lock held. */
static void vpci_sync_ioeventfd_locked(struct virtio_pci *vpci, struct virtio_pci_queue *vq,
				       bool force)
{
	bool enabled = __atomic_load_n(&vq->enabled, __ATOMIC_ACQUIRE);
	uint64_t want = enabled && vpci->bar_addr ? vpci_notify_addr(vpci, vq->index) : 0;
	const struct pci_irq_ops *ops;
	void *opaque;
	int ret;

	if (!vpci->pdev.host)
		return;
	ops = vpci->pdev.host->p.irq_ops;
	opaque = vpci->pdev.host->p.irq_opaque;
	if (!ops->ioeventfd_add || (want == vq->ioeventfd_addr && !force))
		return;
	if (vq->ioeventfd_addr)
		ops->ioeventfd_del(opaque, vq->ioeventfd_addr, 2, vq->ioeventfd_fd);
	vq->ioeventfd_addr = 0;
	if (!want)
		return;
	/* 2 bytes, no datamatch: Linux's vp_notify() is an iowrite16 of the index. */
	ret = ops->ioeventfd_add(opaque, want, 2, vpci_kick_target(vq));
	if (ret) {
		pr_warn_ratelimited("virtio-pci %s: queue %u ioeventfd at %#llx: %s",
				    vpci->vdev->ops->name, vq->index, (unsigned long long)want,
				    strerror(-ret));
		return;
	}
	vq->ioeventfd_addr = want;
	vq->ioeventfd_fd = vpci_kick_target(vq);
}

void vpci_sync_ioeventfd(struct virtio_pci *vpci, struct virtio_pci_queue *vq)
{
	pthread_mutex_lock(&vpci->io_lock);
	vpci_sync_ioeventfd_locked(vpci, vq, false);
	pthread_mutex_unlock(&vpci->io_lock);
}

static void vpci_bar_moved(struct pci_dev *pdev, unsigned int bar, uint64_t addr)
{
	struct virtio_pci *vpci = container_of(pdev, struct virtio_pci, pdev);
	unsigned int q;

	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vpci->io_lock);
	vpci->bar_addr = addr;
	for (q = 0; q < vpci->nr_queues; q++)
		vpci_sync_ioeventfd_locked(vpci, &vpci->queues[q], false);
	pthread_mutex_unlock(&vpci->io_lock);
}

static const struct pci_dev_ops virtio_pci_dev_ops = {
	.bar_moved = vpci_bar_moved,
	.msix_changed = vpci_msix_changed,
};

/* Loop thread: the guest kicked q, through KVM (ioeventfd) or the trapped write. */
static void vpci_kick_fn(int fd, uint32_t events, void *opaque)
{
	struct virtio_pci_queue *vq = opaque;
	struct virtio_dev *vdev = vq->vpci->vdev;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* Disabled queues and a device waiting for reset take no kicks. */
	if (!__atomic_load_n(&vq->enabled, __ATOMIC_ACQUIRE) ||
	    (__atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE) & VIRTIO_CONFIG_S_NEEDS_RESET))
		return;
	STAT_INC(vq->vpci, kicks);
	vdev->ops->queue_notify(vdev, vq->index);
}

static void vpci_notify_access(struct virtio_pci *vpci, uint64_t off, void *data, unsigned int len,
			       bool is_write)
{
	unsigned int q = off / VIRTIO_PCI_NOTIFY_MULTIPLIER;
	uint64_t one = 1;
	int fd;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (off % VIRTIO_PCI_NOTIFY_MULTIPLIER || q >= vpci->nr_queues) {
		guest_err(vpci, "notify write at %#llx", (unsigned long long)off);
		return;
	}
	STAT_INC(vpci, kicks_trapped);
	/* Through the eventfd so the device always sees kicks on the loop thread (or vhost). */
	pthread_mutex_lock(&vpci->io_lock);
	fd = vpci_kick_target(&vpci->queues[q]);
	pthread_mutex_unlock(&vpci->io_lock);
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		pr_warn_ratelimited("virtio-pci %s: kick queue %u: %s", vpci->vdev->ops->name, q,
				    strerror(errno));
}

/* --- ISR and device config ---------------------------------------------------------- */

static void vpci_isr_access(struct virtio_pci *vpci, uint64_t off, void *data, unsigned int len,
			    bool is_write)
{
	if (is_write)
		return;
	memset(data, 0, len);
	if (off)
		return;
	/* Reading ISR acknowledges the interrupt: clear it and lower INTx. */
	pthread_mutex_lock(&vpci->irq_lock);
	*(uint8_t *)data = vpci->isr;
	vpci->isr = 0;
	pci_intx_set(&vpci->pdev, 0);
	pthread_mutex_unlock(&vpci->irq_lock);
}

static void vpci_device_access(struct virtio_pci *vpci, uint64_t off, void *data, unsigned int len,
			       bool is_write)
{
	struct virtio_dev *vdev = vpci->vdev;

	if (!range_ok(off, len, vdev->ops->config_size)) {
		guest_err(vpci, "device config access at %#llx len %u", (unsigned long long)off,
			  len);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	if (is_write && vdev->ops->config_write)
		vdev->ops->config_write(vdev, off, data, len);
	else if (!is_write && vdev->ops->config_read)
		vdev->ops->config_read(vdev, off, data, len);
	else if (!is_write)
		memset(data, 0, len);
	pthread_mutex_unlock(&vdev->lock);
}

static void vpci_bar_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct virtio_pci *vpci = opaque;
	uint64_t region = off & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
	uint64_t roff = off - region;

	/* An access never crosses a region: 8 bytes at most, regions 4 KiB aligned. */
	if (!range_ok(roff, len, VIRTIO_PCI_REGION_SIZE)) {
		guest_err(vpci, "access at %#llx len %u crosses a region", (unsigned long long)off,
			  len);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	switch (region) {
	case VIRTIO_PCI_COMMON_OFF:
		vpci_common_access(vpci, roff, data, len, is_write);
		break;
	case VIRTIO_PCI_ISR_OFF:
		vpci_isr_access(vpci, roff, data, len, is_write);
		break;
	case VIRTIO_PCI_DEVICE_OFF:
		vpci_device_access(vpci, roff, data, len, is_write);
		break;
	default:
		vpci_notify_access(vpci, roff, data, len, is_write);
		break;
	}
}

/* --- setup ------------------------------------------------------------------------- */

static uint32_t vpci_class(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000; /* network controller, ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x010000; /* mass storage, SCSI */
	default:
		return 0xff0000; /* unassigned class */
	}
}

static int vpci_add_cap(struct virtio_pci *vpci, uint8_t type, uint32_t offset, uint32_t length,
			uint32_t multiplier)
{
	struct virtio_pci_notify_cap c = {
		.cap = {
			.cap_vndr = PCI_CAP_ID_VNDR,
			.cap_len = sizeof(struct virtio_pci_cap),
			.cfg_type = type,
			.bar = VIRTIO_PCI_BAR,
			.offset = offset,
			.length = length,
		},
		.notify_off_multiplier = multiplier,
	};

	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		c.cap.cap_len = sizeof(c);
	return pci_dev_add_cap(&vpci->pdev, &c, c.cap.cap_len);
}

static int vpci_add_caps(struct virtio_pci *vpci)
{
	uint32_t config_size = vpci->vdev->ops->config_size;
	int ret;

	ret = vpci_add_cap(vpci, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
			   sizeof(struct virtio_pci_common_cfg), 0);
	if (ret >= 0)
		ret = vpci_add_cap(vpci, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
				   vpci->nr_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER,
				   VIRTIO_PCI_NOTIFY_MULTIPLIER);
	if (ret >= 0)
		ret = vpci_add_cap(vpci, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1, 0);
	if (ret >= 0 && config_size)
		ret = vpci_add_cap(vpci, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
				   config_size, 0);
	return ret < 0 ? ret : 0;
}

static int vpci_queues_init(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;
	unsigned int q;

	/* All closed first: the unwind must not close fd 0 of a queue never reached. */
	for (q = 0; q < vpci->nr_queues; q++) {
		struct virtio_pci_queue *vq = &vpci->queues[q];

		vq->kick_fd = vq->call_fd = vq->ext_kick_fd = vq->ioeventfd_fd = -1;
	}
	for (q = 0; q < vpci->nr_queues; q++) {
		struct virtio_pci_queue *vq = &vpci->queues[q];

		vq->vpci = vpci;
		vq->index = q;
		vq->max_size = vdev->ops->max_queue_size(vdev, q);
		vq->vector = VIRTIO_MSI_NO_VECTOR;
		vq->bound_route = NO_ROUTE;
		vq->cfg = (struct virtio_queue_config){ .size = vq->max_size,
							.msix_vector = VIRTIO_MSI_NO_VECTOR };
		if (!is_pow2_u16(vq->max_size) || vq->max_size > 32768)
			return -EINVAL;
		vq->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		vq->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vq->kick_fd < 0 || vq->call_fd < 0)
			return -errno;
	}
	return 0;
}

static void vpci_queues_exit(struct virtio_pci *vpci)
{
	unsigned int q;

	for (q = 0; q < vpci->nr_queues; q++) {
		struct virtio_pci_queue *vq = &vpci->queues[q];

		if (vq->kick_fd >= 0 && vpci->vdev->loop)
			loop_del_fd(vpci->vdev->loop, vq->kick_fd);
		if (vq->call_fd >= 0 && vpci->vdev->loop)
			loop_del_fd(vpci->vdev->loop, vq->call_fd);
		if (vq->kick_fd >= 0)
			close(vq->kick_fd);
		if (vq->call_fd >= 0)
			close(vq->call_fd);
		if (vq->ext_kick_fd >= 0)
			close(vq->ext_kick_fd);
	}
	free(vpci->queues);
}

static int vpci_loop_add(struct virtio_pci *vpci)
{
	unsigned int q;
	int ret;

	if (!vpci->vdev->loop)
		return -EINVAL;
	for (q = 0; q < vpci->nr_queues; q++) {
		ret = loop_add_fd(vpci->vdev->loop, vpci->queues[q].kick_fd, EPOLLIN, vpci_kick_fn,
				  &vpci->queues[q]);
		if (!ret)
			ret = loop_add_fd(vpci->vdev->loop, vpci->queues[q].call_fd, EPOLLIN,
					  vpci_call_fn, &vpci->queues[q]);
		if (ret)
			return ret;
	}
	return 0;
}

static int vpci_pci_init(struct virtio_pci *vpci)
{
	const struct virtio_dev_ops *ops = vpci->vdev->ops;
	int ret;

	pci_dev_init(&vpci->pdev, ops->name, VIRTIO_PCI_VENDOR,
		     VIRTIO_PCI_DEVICE_BASE + ops->device_id, vpci_class(ops->device_id),
		     VIRTIO_PCI_VENDOR, VIRTIO_PCI_SUBSYS_ID);
	vpci->pdev.ops = &virtio_pci_dev_ops;
	vpci->pdev.priv = vpci;
	ret = pci_dev_add_bar(&vpci->pdev, VIRTIO_PCI_BAR, PCI_BAR_MEM64, VIRTIO_PCI_BAR_SIZE,
			      vpci_bar_access, vpci);
	if (ret)
		return ret;
	/* One vector per queue plus one for config changes: Linux's preferred layout. */
	ret = pci_msix_init(&vpci->pdev, min(vpci->nr_queues + 1, PCI_MSIX_MAX_VECTORS),
			    VIRTIO_PCI_MSIX_BAR);
	if (ret)
		return ret;
	return vpci_add_caps(vpci);
}

int virtio_pci_init(struct virtio_pci **out, struct pci_host *host, struct virtio_dev *vdev)
{
	const struct virtio_dev_ops *ops = vdev->ops;
	struct virtio_pci *vpci;
	unsigned int nq = ops->num_queues(vdev);
	int ret;

	if (!nq || nq > VIRTIO_PCI_MAX_QUEUES || ops->config_size > VIRTIO_PCI_REGION_SIZE)
		return -EINVAL;
	vpci = calloc(1, sizeof(*vpci));
	if (!vpci)
		return -ENOMEM;
	vpci->vdev = vdev;
	vpci->nr_queues = nq;
	vpci->config_vector = VIRTIO_MSI_NO_VECTOR;
	pthread_mutex_init(&vpci->irq_lock, NULL);
	pthread_mutex_init(&vpci->io_lock, NULL);
	vpci->queues = calloc(nq, sizeof(*vpci->queues));
	if (!vpci->queues) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = vpci_queues_init(vpci);
	if (!ret)
		ret = vpci_pci_init(vpci);
	if (!ret)
		ret = vpci_loop_add(vpci);
	if (ret)
		goto err_queues;
	vdev->transport = &virtio_pci_transport_ops;
	vdev->transport_priv = vpci;
	ret = pci_dev_register(host, &vpci->pdev);
	if (ret)
		goto err_queues;
	*out = vpci;
	return 0;

err_queues:
	pr_err("virtio-pci %s: %s", ops->name, strerror(-ret));
	vdev->transport = NULL;
	vpci_queues_exit(vpci);
	free(vpci->pdev.msix.table);
err_free:
	pthread_mutex_destroy(&vpci->io_lock);
	pthread_mutex_destroy(&vpci->irq_lock);
	free(vpci);
	return ret;
}

void virtio_pci_exit(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;
	unsigned int q;

	/* Unhook from KVM while the host (and its irq ops) is still attached. */
	pthread_mutex_lock(&vdev->lock);
	for (q = 0; q < vpci->nr_queues; q++) {
		__atomic_store_n(&vpci->queues[q].enabled, false, __ATOMIC_RELEASE);
		vpci_sync_ioeventfd(vpci, &vpci->queues[q]);
	}
	pthread_mutex_unlock(&vdev->lock);
	vpci_bind_all(vpci);
	pci_dev_unregister(&vpci->pdev);
	vpci_queues_exit(vpci);
	vdev->transport = NULL;
	vdev->transport_priv = NULL;
	pthread_mutex_destroy(&vpci->io_lock);
	pthread_mutex_destroy(&vpci->irq_lock);
	free(vpci);
}

struct pci_dev *virtio_pci_dev(struct virtio_pci *vpci)
{
	return &vpci->pdev;
}

void virtio_pci_get_stats(struct virtio_pci *vpci, struct virtio_pci_stats *st)
{
	st->kicks_trapped = __atomic_load_n(&vpci->stats.kicks_trapped, __ATOMIC_RELAXED);
	st->kicks = __atomic_load_n(&vpci->stats.kicks, __ATOMIC_RELAXED);
	st->irqs_irqfd = __atomic_load_n(&vpci->stats.irqs_irqfd, __ATOMIC_RELAXED);
	st->irqs_msix_slow = __atomic_load_n(&vpci->stats.irqs_msix_slow, __ATOMIC_RELAXED);
	st->irqs_intx = __atomic_load_n(&vpci->stats.irqs_intx, __ATOMIC_RELAXED);
	st->guest_errors = __atomic_load_n(&vpci->stats.guest_errors, __ATOMIC_RELAXED);
}
