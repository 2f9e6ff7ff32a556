// SPDX-License-Identifier: GPL-2.0
/* kavm virtio-pci: the common configuration region (status, features, queues). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

#include <kavm/compiler.h>
#include <kavm/memory.h>

#include "pci-internal.h"

/* The bits a driver may set (NEEDS_RESET is the device's, filtered separately). */
#define STATUS_DRIVER_BITS                                                                         \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |      \
	 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET)

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)
#define COMMON_W(f) sizeof(((struct virtio_pci_common_cfg *)0)->f)

/* The access width each register demands (virtio 1.x, 4.1.3.1), or 0 for no register. */
static unsigned int common_width(uint64_t off)
{
	static const uint8_t width[] = {
		[COMMON(device_feature_select)] = COMMON_W(device_feature_select),
		[COMMON(device_feature)] = COMMON_W(device_feature),
		[COMMON(guest_feature_select)] = COMMON_W(guest_feature_select),
		[COMMON(guest_feature)] = COMMON_W(guest_feature),
		[COMMON(msix_config)] = COMMON_W(msix_config),
		[COMMON(num_queues)] = COMMON_W(num_queues),
		[COMMON(device_status)] = COMMON_W(device_status),
		[COMMON(config_generation)] = COMMON_W(config_generation),
		[COMMON(queue_select)] = COMMON_W(queue_select),
		[COMMON(queue_size)] = COMMON_W(queue_size),
		[COMMON(queue_msix_vector)] = COMMON_W(queue_msix_vector),
		[COMMON(queue_enable)] = COMMON_W(queue_enable),
		[COMMON(queue_notify_off)] = COMMON_W(queue_notify_off),
		[COMMON(queue_desc_lo)] = 4,
		[COMMON(queue_desc_hi)] = 4,
		[COMMON(queue_avail_lo)] = 4,
		[COMMON(queue_avail_hi)] = 4,
		[COMMON(queue_used_lo)] = 4,
		[COMMON(queue_used_hi)] = 4,
	};

	return off < ARRAY_SIZE(width) ? width[off] : 0;
}

static uint64_t host_features(struct virtio_pci *vpci)
{
	/* A modern-only transport: VERSION_1 is always offered. */
	return vpci->vdev->ops->get_host_features(vpci->vdev) | (1ull << VIRTIO_F_VERSION_1);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static struct virtio_pci_queue *selected_queue(struct virtio_pci *vpci)
{
	return vpci->queue_sel < vpci->nr_queues ? &vpci->queues[vpci->queue_sel] : NULL;
}

static uint32_t common_read(struct virtio_pci *vpci, uint64_t off)
{
	struct virtio_pci_queue *vq = selected_queue(vpci);
	struct virtio_dev *vdev = vpci->vdev;
	uint32_t v = 0;

	switch (off) {
	case COMMON(device_feature_select):
		return vpci->dfselect;
	case COMMON(device_feature):
		return vpci->dfselect < 2 ?
			       (uint32_t)(host_features(vpci) >> (32 * vpci->dfselect)) :
			       0;
	case COMMON(guest_feature_select):
		return vpci->gfselect;
	case COMMON(guest_feature):
		return vpci->gfselect < 2 ?
			       (uint32_t)(vpci->driver_features >> (32 * vpci->gfselect)) :
			       0;
	case COMMON(msix_config):
		pthread_mutex_lock(&vpci->irq_lock);
		v = vpci->config_vector;
		pthread_mutex_unlock(&vpci->irq_lock);
		return v;
	case COMMON(num_queues):
		return vpci->nr_queues;
	case COMMON(device_status):
		return vdev->status;
	case COMMON(config_generation):
		return (uint8_t)__atomic_load_n(&vdev->config_generation, __ATOMIC_ACQUIRE);
	case COMMON(queue_select):
		return vpci->queue_sel;
	}
	/* Per-queue registers of a queue that does not exist read 0 (size 0: absent). */
	if (!vq)
		return 0;
	switch (off) {
	case COMMON(queue_size):
		return vq->cfg.size;
	case COMMON(queue_msix_vector):
		return vq->cfg.msix_vector;
	case COMMON(queue_enable):
		return vq->enabled;
	case COMMON(queue_notify_off):
		return vq->index;
	case COMMON(queue_desc_lo):
		return (uint32_t)vq->cfg.desc;
	case COMMON(queue_desc_hi):
		return vq->cfg.desc >> 32;
	case COMMON(queue_avail_lo):
		return (uint32_t)vq->cfg.avail;
	case COMMON(queue_avail_hi):
		return vq->cfg.avail >> 32;
	case COMMON(queue_used_lo):
		return (uint32_t)vq->cfg.used;
	case COMMON(queue_used_hi):
		return vq->cfg.used >> 32;
	}
	return 0;
}

static bool vector_ok(struct virtio_pci *vpci, uint32_t v)
{
	return v == VIRTIO_MSI_NO_VECTOR || v < vpci->pdev.msix.nr;
}

/* Back to the power-on state: the device first, then the transport. vdev->lock held. */
static void vpci_reset(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;
	unsigned int q;
	uint64_t n;

	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (q = 0; q < vpci->nr_queues; q++) {
		struct virtio_pci_queue *vq = &vpci->queues[q];

		__atomic_store_n(&vq->enabled, false, __ATOMIC_RELEASE);
		vpci_sync_ioeventfd(vpci, vq);
		pthread_mutex_lock(&vpci->irq_lock);
		vq->vector = VIRTIO_MSI_NO_VECTOR;
		vpci_bind_queue(vpci, vq);
		pthread_mutex_unlock(&vpci->irq_lock);
		vq->cfg = (struct virtio_queue_config){ .size = vq->max_size,
							.msix_vector = VIRTIO_MSI_NO_VECTOR };
		/* Drop a kick still in flight for the old queue. */
		if (read(vq->kick_fd, &n, sizeof(n)) < 0)
			n = 0;
	}
	pthread_mutex_lock(&vpci->irq_lock);
	vpci->isr = 0;
	vpci->config_vector = VIRTIO_MSI_NO_VECTOR;
	pci_intx_set(&vpci->pdev, 0);
	pthread_mutex_unlock(&vpci->irq_lock);
	vpci->dfselect = vpci->gfselect = 0;
	vpci->driver_features = 0;
	vpci->queue_sel = 0;
	vdev->guest_features = 0;
	vdev->status = 0;
}

/* FEATURES_OK: accept the driver's features or refuse (0 or -EINVAL). vdev->lock held. */
static int vpci_features_ok(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;
	uint64_t f = vpci->driver_features;

	if (f & ~host_features(vpci)) {
		guest_err(vpci, "driver features %#llx not offered", (unsigned long long)f);
		return -EINVAL;
	}
	if (!(f & (1ull << VIRTIO_F_VERSION_1))) {
		guest_err(vpci, "driver did not accept VERSION_1");
		return -EINVAL;
	}
	if (vdev->ops->set_guest_features && vdev->ops->set_guest_features(vdev, f))
		return -EINVAL;
	vdev->guest_features = f;
	return 0;
}

static void vpci_set_status(struct virtio_pci *vpci, uint8_t val)
{
	struct virtio_dev *vdev = vpci->vdev;
	uint8_t old = vdev->status;
	uint8_t new = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	bool failed_start = false;

	if (!val) {
		vpci_reset(vpci);
		return;
	}
	if (val & ~STATUS_DRIVER_BITS) {
		guest_err(vpci, "status %#x has undefined bits", val);
		return;
	}
	/* Only a reset clears status bits (virtio 1.x, 2.1.1). */
	if (old & ~new) {
		guest_err(vpci, "status %#x clears bits of %#x", val, old);
		return;
	}
	if ((new &VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    vpci_features_ok(vpci))
		new &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((new &VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (!(new &VIRTIO_CONFIG_S_FEATURES_OK)) {
			guest_err(vpci, "DRIVER_OK without FEATURES_OK");
			new &= ~VIRTIO_CONFIG_S_DRIVER_OK;
		} else if (vdev->ops->start && vdev->ops->start(vdev)) {
			failed_start = true;
			new |= VIRTIO_CONFIG_S_NEEDS_RESET;
		}
	}
	vdev->status = new;
	if (failed_start)
		vdev->transport->notify_config(vdev);
}

/* Validate what the driver wrote and hand it to the device; latched from here on. */
static void vpci_queue_enable(struct virtio_pci *vpci, struct virtio_pci_queue *vq)
{
	struct virtio_queue_config *c = &vq->cfg;
	struct virtio_dev *vdev = vpci->vdev;
	uint64_t n = c->size;
	int ret;

	if (!(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		guest_err(vpci, "queue %u enabled in status %#x", vq->index, vdev->status);
		return;
	}
	if (!is_pow2(c->size) || c->size > vq->max_size || !c->desc || c->desc % 16 ||
	    c->avail % 2 || c->used % 4) {
		guest_err(vpci, "queue %u: size %u desc %#llx avail %#llx used %#llx", vq->index,
			  c->size, (unsigned long long)c->desc, (unsigned long long)c->avail,
			  (unsigned long long)c->used);
		return;
	}
	/* Ring sizes with the event-index fields, which are the largest layout. */
	if (vdev->mem && (!guest_mem_ptr(vdev->mem, c->desc, 16 * n) ||
			  !guest_mem_ptr(vdev->mem, c->avail, 6 + 2 * n) ||
			  !guest_mem_ptr(vdev->mem, c->used, 6 + 8 * n))) {
		guest_err(vpci, "queue %u: rings outside guest RAM", vq->index);
		return;
	}
	ret = vdev->ops->queue_enable(vdev, vq->index, c);
	if (ret) {
		guest_err(vpci, "queue %u: device refused: %s", vq->index, strerror(-ret));
		return;
	}
	pthread_mutex_lock(&vpci->irq_lock);
	vq->vector = c->msix_vector;
	__atomic_store_n(&vq->enabled, true, __ATOMIC_RELEASE);
	vpci_bind_queue(vpci, vq);
	pthread_mutex_unlock(&vpci->irq_lock);
	vpci_sync_ioeventfd(vpci, vq);
}

static void set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & ~0xffffffffull) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffull) | ((uint64_t)v << 32);
}

static void queue_write(struct virtio_pci *vpci, struct virtio_pci_queue *vq, uint64_t off,
			uint32_t v)
{
	if (vq->enabled) {
		guest_err(vpci, "queue %u register %#llx written after enable", vq->index,
			  (unsigned long long)off);
		return;
	}
	switch (off) {
	case COMMON(queue_size):
		if (is_pow2(v) && v <= vq->max_size)
			vq->cfg.size = v;
		else
			guest_err(vpci, "queue %u: size %u", vq->index, v);
		break;
	case COMMON(queue_msix_vector):
		/* An unusable vector reads back as NO_VECTOR: that is how the driver learns. */
		vq->cfg.msix_vector = vector_ok(vpci, v) ? v : VIRTIO_MSI_NO_VECTOR;
		break;
	case COMMON(queue_enable):
		if (v == 1)
			vpci_queue_enable(vpci, vq);
		else
			guest_err(vpci, "queue %u: enable %u", vq->index, v);
		break;
	case COMMON(queue_desc_lo):
		set_lo(&vq->cfg.desc, v);
		break;
	case COMMON(queue_desc_hi):
		set_hi(&vq->cfg.desc, v);
		break;
	case COMMON(queue_avail_lo):
		set_lo(&vq->cfg.avail, v);
		break;
	case COMMON(queue_avail_hi):
		set_hi(&vq->cfg.avail, v);
		break;
	case COMMON(queue_used_lo):
		set_lo(&vq->cfg.used, v);
		break;
	case COMMON(queue_used_hi):
		set_hi(&vq->cfg.used, v);
		break;
	default:
		guest_err(vpci, "write to read-only register %#llx", (unsigned long long)off);
	}
}

static void common_write(struct virtio_pci *vpci, uint64_t off, uint32_t v)
{
	struct virtio_pci_queue *vq;

	switch (off) {
	case COMMON(device_feature_select):
		vpci->dfselect = v;
		return;
	case COMMON(guest_feature_select):
		vpci->gfselect = v;
		return;
	case COMMON(guest_feature):
		if (vpci->vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)
			guest_err(vpci, "features written after FEATURES_OK");
		else if (vpci->gfselect == 0)
			set_lo(&vpci->driver_features, v);
		else if (vpci->gfselect == 1)
			set_hi(&vpci->driver_features, v);
		return;
	case COMMON(msix_config):
		pthread_mutex_lock(&vpci->irq_lock);
		vpci->config_vector = vector_ok(vpci, v) ? v : VIRTIO_MSI_NO_VECTOR;
		pthread_mutex_unlock(&vpci->irq_lock);
		return;
	case COMMON(device_status):
		vpci_set_status(vpci, v);
		return;
	case COMMON(queue_select):
		vpci->queue_sel = v;
		return;
	case COMMON(device_feature):
	case COMMON(num_queues):
	case COMMON(config_generation):
		guest_err(vpci, "write to read-only register %#llx", (unsigned long long)off);
		return;
	}
	vq = selected_queue(vpci);
	if (!vq) {
		guest_err(vpci, "write to queue %u of %u", vpci->queue_sel, vpci->nr_queues);
		return;
	}
	queue_write(vpci, vq, off, v);
}

void vpci_common_access(struct virtio_pci *vpci, uint64_t off, void *data, unsigned int len,
			bool is_write)
{
	unsigned int width = common_width(off);
	uint32_t v = 0;

	if (!width || width != len) {
		guest_err(vpci, "common config access at %#llx len %u", (unsigned long long)off,
			  len);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&vpci->vdev->lock);
	if (is_write) {
		memcpy(&v, data, len);
		common_write(vpci, off, v);
	} else {
		v = common_read(vpci, off);
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&vpci->vdev->lock);
}
