// SPDX-License-Identifier: GPL-2.0
/* kavm KVM interrupt plumbing: GSI routing, irqfd, ioeventfd, IRQ lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include <kavm/irq.h>
#include <kavm/log.h>

static int kvm_irq_add_entry(struct kvm_irq *irq, const struct kvm_irq_routing_entry *e)
{
	if (irq->nr == irq->cap) {
		unsigned int cap = irq->cap ? irq->cap * 2 : 64;
		struct kvm_irq_routing_entry *n = realloc(irq->entries, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		irq->entries = n;
		irq->cap = cap;
	}
	irq->entries[irq->nr++] = *e;
	return 0;
}

/* Push the whole table: KVM_SET_GSI_ROUTING replaces what was there. Caller holds lock. */
static int kvm_irq_commit(struct kvm_irq *irq)
{
	struct kvm_irq_routing *r;
	int ret = 0;

	r = calloc(1, sizeof(*r) + irq->nr * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	r->nr = irq->nr;
	memcpy(r->entries, irq->entries, irq->nr * sizeof(r->entries[0]));
	if (ioctl(irq->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	free(r);
	return ret;
}

static int kvm_irq_add_irqchip(struct kvm_irq *irq, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};

	return kvm_irq_add_entry(irq, &e);
}

/*
 * The same table the kernel installs at KVM_CREATE_IRQCHIP
 * (kvm_setup_default_irq_routing): GSIs 0-15 to both PICs and IOAPIC pin
 * gsi, 16-23 to the IOAPIC only. Keeping it identical means installing our
 * table changes nothing for the legacy devices.
 */
static int kvm_irq_add_defaults(struct kvm_irq *irq)
{
	uint32_t gsi;
	int ret;

	for (gsi = 0; gsi < KVM_IRQ_NR_IRQCHIP_GSI; gsi++) {
		if (gsi < 8)
			ret = kvm_irq_add_irqchip(irq, gsi, KVM_IRQCHIP_PIC_MASTER, gsi);
		else if (gsi < 16)
			ret = kvm_irq_add_irqchip(irq, gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8);
		else
			ret = 0;
		if (!ret)
			ret = kvm_irq_add_irqchip(irq, gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (ret)
			return ret;
	}
	return 0;
}

int kvm_irq_init(struct kvm_irq *irq, int vm_fd)
{
	int ret;

	memset(irq, 0, sizeof(*irq));
	irq->vm_fd = vm_fd;
	ret = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	if (ret <= 0) {
		pr_err("kvm: GSI routing not supported");
		return ret < 0 ? -errno : -ENOTSUP;
	}
	irq->nr_gsi = min((uint32_t)ret, (uint32_t)KVM_IRQ_MAX_GSI);
	ret = -pthread_mutex_init(&irq->lock, NULL);
	if (ret)
		return ret;
	ret = kvm_irq_add_defaults(irq);
	if (!ret)
		ret = kvm_irq_commit(irq);
	if (ret) {
		pr_err("kvm: install irqchip routes: %s", strerror(-ret));
		goto err_free;
	}
	return 0;

err_free:
	free(irq->entries);
	irq->entries = NULL;
	pthread_mutex_destroy(&irq->lock);
	return ret;
}

void kvm_irq_exit(struct kvm_irq *irq)
{
	free(irq->entries);
	irq->entries = NULL;
	irq->nr = irq->cap = 0;
	pthread_mutex_destroy(&irq->lock);
}

static bool kvm_irq_msi_is_used(const struct kvm_irq *irq, uint32_t gsi)
{
	return gsi < KVM_IRQ_MAX_GSI && (irq->msi_used[gsi / 64] & (1ull << (gsi % 64)));
}

static void kvm_irq_msi_mark(struct kvm_irq *irq, uint32_t gsi, bool used)
{
	if (used)
		irq->msi_used[gsi / 64] |= 1ull << (gsi % 64);
	else
		irq->msi_used[gsi / 64] &= ~(1ull << (gsi % 64));
}

static struct kvm_irq_routing_entry *kvm_irq_find_msi(struct kvm_irq *irq, uint32_t gsi)
{
	unsigned int i;

	for (i = 0; i < irq->nr; i++)
		if (irq->entries[i].gsi == gsi && irq->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &irq->entries[i];
	return NULL;
}

int kvm_irq_msi_alloc(struct kvm_irq *irq, uint64_t addr, uint32_t data, uint32_t *gsi)
{
	struct kvm_irq_routing_entry e = { .type = KVM_IRQ_ROUTING_MSI };
	uint32_t g;
	int ret;

	e.u.msi.address_lo = (uint32_t)addr;
	e.u.msi.address_hi = (uint32_t)(addr >> 32);
	e.u.msi.data = data;
	pthread_mutex_lock(&irq->lock);
	for (g = KVM_IRQ_NR_IRQCHIP_GSI; g < irq->nr_gsi; g++)
		if (!kvm_irq_msi_is_used(irq, g))
			break;
	if (g >= irq->nr_gsi) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	e.gsi = g;
	ret = kvm_irq_add_entry(irq, &e);
	if (ret)
		goto out_unlock;
	ret = kvm_irq_commit(irq);
	if (ret) {
		irq->nr--;
		goto out_unlock;
	}
	kvm_irq_msi_mark(irq, g, true);
	*gsi = g;
out_unlock:
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

int kvm_irq_msi_update(struct kvm_irq *irq, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e, old;
	int ret = -ENOENT;

	pthread_mutex_lock(&irq->lock);
	e = kvm_irq_find_msi(irq, gsi);
	if (!e)
		goto out_unlock;
	old = *e;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	if (!memcmp(&old, e, sizeof(old))) {
		ret = 0;
		goto out_unlock;
	}
	ret = kvm_irq_commit(irq);
	if (ret)
		*e = old;
out_unlock:
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

int kvm_irq_msi_free(struct kvm_irq *irq, uint32_t gsi)
{
	struct kvm_irq_routing_entry *e, old;
	unsigned int i;
	int ret = -ENOENT;

	pthread_mutex_lock(&irq->lock);
	e = kvm_irq_find_msi(irq, gsi);
	if (!e)
		goto out_unlock;
	old = *e;
	i = e - irq->entries;
	memmove(e, e + 1, (irq->nr - i - 1) * sizeof(*e));
	irq->nr--;
	ret = kvm_irq_commit(irq);
	if (ret) {
		/* Put it back where it was so the table stays what KVM has. */
		memmove(&irq->entries[i + 1], &irq->entries[i], (irq->nr - i) * sizeof(*e));
		irq->entries[i] = old;
		irq->nr++;
		goto out_unlock;
	}
	kvm_irq_msi_mark(irq, gsi, false);
out_unlock:
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

unsigned int kvm_irq_nr_routes(struct kvm_irq *irq)
{
	unsigned int nr;

	pthread_mutex_lock(&irq->lock);
	nr = irq->nr;
	pthread_mutex_unlock(&irq->lock);
	return nr;
}

int kvm_irq_msi_signal(int vm_fd, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	int ret = ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);

	return ret < 0 ? -errno : ret;
}

int kvm_irq_set_level(int vm_fd, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = !!level };

	if (gsi >= KVM_IRQ_NR_IRQCHIP_GSI)
		return -EINVAL;
	return ioctl(vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm_irqfd_attach(int vm_fd, int efd, uint32_t gsi, int resample_fd)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi };

	if (efd < 0)
		return -EBADF;
	if (resample_fd >= 0) {
		f.flags = KVM_IRQFD_FLAG_RESAMPLE;
		f.resamplefd = (uint32_t)resample_fd;
	}
	return ioctl(vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int kvm_irqfd_detach(int vm_fd, int efd, uint32_t gsi)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (efd < 0)
		return -EBADF;
	return ioctl(vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

static int kvm_ioeventfd(int vm_fd, uint64_t addr, uint32_t len, int efd, uint32_t flags)
{
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = efd, .flags = flags };

	if (efd < 0)
		return -EBADF;
	if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	if (!len && (flags & KVM_IOEVENTFD_FLAG_PIO))
		return -EINVAL;
	return ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int kvm_ioeventfd_add(int vm_fd, uint64_t addr, uint32_t len, int efd, bool pio)
{
	return kvm_ioeventfd(vm_fd, addr, len, efd, pio ? KVM_IOEVENTFD_FLAG_PIO : 0);
}

int kvm_ioeventfd_del(int vm_fd, uint64_t addr, uint32_t len, int efd, bool pio)
{
	return kvm_ioeventfd(vm_fd, addr, len, efd,
			     KVM_IOEVENTFD_FLAG_DEASSIGN | (pio ? KVM_IOEVENTFD_FLAG_PIO : 0));
}
