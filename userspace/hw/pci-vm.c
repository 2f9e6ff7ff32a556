// SPDX-License-Identifier: GPL-2.0
/* kavm: the VM's PCI host bridge: KVM GSI routing, the 32-bit MMIO hole, MP table INTx. */
#include <errno.h>
#include <string.h>

#include <kavm/boot.h>
#include <kavm/init.h>
#include <kavm/irq.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/pci.h>

/* One VM per process: the host bridge and its routing table live here. */
static struct kvm_irq vm_irq;
static struct pci_host vm_pci;
static bool vm_pci_up;

/* IOAPIC pins 16-23: PCI's level-triggered lines, clear of the ISA IRQs. */
static const uint8_t pci_intx_gsis[] = { 16, 17, 18, 19, 20, 21, 22, 23 };

static int pci_vm_intx_routed(void *opaque, uint8_t devfn, uint8_t pin, unsigned int irq)
{
	return mptable_add_pci_irq(devfn, pin, irq);
}

static int pci_vm_init(struct kvm_vm *vm)
{
	struct pci_host_params p = {
		.pio_bus = &vm->pio_bus,
		.mmio_bus = &vm->mmio_bus,
		/* 64-bit BARs share the hole too: no window above RAM to agree on yet. */
		.mem32_base = KVM_PCI_MMIO_BASE,
		.mem32_size = KVM_PCI_MMIO_END - KVM_PCI_MMIO_BASE,
		.intx_irqs = pci_intx_gsis,
		.nr_intx_irqs = sizeof(pci_intx_gsis),
		.irq_ops = &pci_irq_ops_kvm,
		.irq_opaque = &vm_irq,
		.intx_routed = pci_vm_intx_routed,
	};
	int ret;

	/* Test VMs without an in-kernel irqchip have no GSI routing: no PCI. */
	if (vm->cfg->no_irqchip)
		return 0;
	mptable_reset_pci_irqs();
	ret = kvm_irq_init(&vm_irq, vm->vm_fd);
	if (ret)
		return ret;
	ret = pci_host_init(&vm_pci, &p);
	if (ret) {
		kvm_irq_exit(&vm_irq);
		return ret;
	}
	vm_pci_up = true;
	return 0;
}

static void pci_vm_exit(struct kvm_vm *vm)
{
	if (!vm_pci_up)
		return;
	vm_pci_up = false;
	pci_host_exit(&vm_pci);
	kvm_irq_exit(&vm_irq);
}
bus_init_item(pci_vm_init, pci_vm_exit);

struct pci_host *kvm_vm_pci(struct kvm_vm *vm)
{
	return vm_pci_up ? &vm_pci : NULL;
}
