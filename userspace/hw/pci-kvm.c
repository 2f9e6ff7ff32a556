// SPDX-License-Identifier: GPL-2.0
/* kavm PCI interrupts and notifications on KVM: pci_irq_ops over irq.c. */
#include <errno.h>

#include <kavm/irq.h>
#include <kavm/pci.h>

/*
 * x86 MSI messages target the local APIC window; anything else a guest
 * programs is not an interrupt and is refused before it reaches KVM.
 */
static bool msi_addr_ok(uint64_t addr)
{
	return (addr & ~0xfffffull) == 0xfee00000ull;
}

static int kvm_intx_set(void *opaque, unsigned int irq, int level)
{
	struct kvm_irq *k = opaque;

	return kvm_irq_set_level(k->vm_fd, irq, level);
}

static int kvm_msi_send(void *opaque, uint64_t addr, uint32_t data)
{
	struct kvm_irq *k = opaque;
	int ret;

	if (!msi_addr_ok(addr))
		return -EINVAL;
	ret = kvm_irq_msi_signal(k->vm_fd, addr, data);
	return ret < 0 ? ret : 0;
}

static int kvm_msi_route_add(void *opaque, uint64_t addr, uint32_t data, uint32_t *route)
{
	if (!msi_addr_ok(addr))
		return -EINVAL;
	return kvm_irq_msi_alloc(opaque, addr, data, route);
}

static int kvm_msi_route_update(void *opaque, uint32_t route, uint64_t addr, uint32_t data)
{
	if (!msi_addr_ok(addr))
		return -EINVAL;
	return kvm_irq_msi_update(opaque, route, addr, data);
}

static int kvm_msi_route_del(void *opaque, uint32_t route)
{
	return kvm_irq_msi_free(opaque, route);
}

static int kvm_pci_irqfd_attach(void *opaque, int efd, uint32_t route)
{
	struct kvm_irq *k = opaque;

	return kvm_irqfd_attach(k->vm_fd, efd, route, -1);
}

static int kvm_pci_irqfd_detach(void *opaque, int efd, uint32_t route)
{
	struct kvm_irq *k = opaque;

	return kvm_irqfd_detach(k->vm_fd, efd, route);
}

static int kvm_pci_ioeventfd_add(void *opaque, uint64_t addr, uint32_t len, int efd)
{
	struct kvm_irq *k = opaque;

	return kvm_ioeventfd_add(k->vm_fd, addr, len, efd, false);
}

static int kvm_pci_ioeventfd_del(void *opaque, uint64_t addr, uint32_t len, int efd)
{
	struct kvm_irq *k = opaque;

	return kvm_ioeventfd_del(k->vm_fd, addr, len, efd, false);
}

const struct pci_irq_ops pci_irq_ops_kvm = {
	.intx_set = kvm_intx_set,
	.msi_send = kvm_msi_send,
	.msi_route_add = kvm_msi_route_add,
	.msi_route_update = kvm_msi_route_update,
	.msi_route_del = kvm_msi_route_del,
	.irqfd_attach = kvm_pci_irqfd_attach,
	.irqfd_detach = kvm_pci_irqfd_detach,
	.ioeventfd_add = kvm_pci_ioeventfd_add,
	.ioeventfd_del = kvm_pci_ioeventfd_del,
};
