/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm PCI: one host bridge (bus 0) reached through configuration
 * mechanism #1 (0xcf8 address, 0xcfc-0xcff data), header-type-0 devices
 * with a capability list, memory BARs placed from windows the VMM gives,
 * INTx and MSI-X.
 *
 * The host talks to the hypervisor only through struct pci_irq_ops, which
 * the VMM fills with KVM calls (pci_irq_ops_kvm, hw/pci-kvm.c) and a test
 * fills with counters.
 *
 * Locks, outermost first:
 *   pci_host.lock   config space of every device and BAR mapping state;
 *                   taken on config accesses (the PIO bus), never from MMIO.
 *   (device locks, e.g. virtio_dev.lock)
 *   pci_dev.msix_lock  MSI-X table, PBA, enable and function mask; taken
 *                   from MMIO (table/PBA) and from config writes.
 * The MMIO bus lock is taken under pci_host.lock (BAR moves) and never the
 * other way round. pci_dev_ops callbacks run without msix_lock; from a
 * config write they run under pci_host.lock, so they must not access
 * config space.
 */
#ifndef KAVM_PCI_H
#define KAVM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <kavm/bus.h>

#define PCI_CFG_SPACE_SIZE 256
#define PCI_NR_SLOTS 32
#define PCI_NR_BARS 6
#define PCI_CONF1_PORT 0xcf8
#define PCI_MSIX_MAX_VECTORS 64
#define PCI_MSIX_NO_GSI UINT32_MAX

struct pci_dev;

/* What the PCI host needs from the hypervisor; opaque is pci_host_params.irq_opaque. */
struct pci_irq_ops {
	/* Drive INTx line irq (the GSI in interrupt_line) to level. */
	int (*intx_set)(void *opaque, unsigned int irq, int level);
	/* Deliver one MSI now. */
	int (*msi_send)(void *opaque, uint64_t addr, uint32_t data);
	/*
	 * Optional fast path (NULL: not available). A route is a handle (a KVM
	 * GSI) for an MSI message; eventfds attached to a route inject it
	 * without a trip through userspace.
	 */
	int (*msi_route_add)(void *opaque, uint64_t addr, uint32_t data, uint32_t *route);
	int (*msi_route_update)(void *opaque, uint32_t route, uint64_t addr, uint32_t data);
	int (*msi_route_del)(void *opaque, uint32_t route);
	int (*irqfd_attach)(void *opaque, int efd, uint32_t route);
	int (*irqfd_detach)(void *opaque, int efd, uint32_t route);
	/* Optional: MMIO writes of len bytes at addr signal efd (len 0: any). */
	int (*ioeventfd_add)(void *opaque, uint64_t addr, uint32_t len, int efd);
	int (*ioeventfd_del)(void *opaque, uint64_t addr, uint32_t len, int efd);
};

struct pci_host_params {
	struct bus *pio_bus;
	struct bus *mmio_bus;
	/* BARs are placed here: [base, base+size). mem64 may be empty (size 0). */
	uint64_t mem32_base, mem32_size;
	uint64_t mem64_base, mem64_size;
	/* INTx lines handed to devices round-robin by slot (e.g. GSIs 16-23). */
	const uint8_t *intx_irqs;
	unsigned int nr_intx_irqs;
	const struct pci_irq_ops *irq_ops;
	void *irq_opaque;
	/*
	 * Optional: told each device's INTx route (pin 1 = INTA) as it is
	 * registered, for the firmware tables (the MP table's PCI entries).
	 */
	int (*intx_routed)(void *opaque, uint8_t devfn, uint8_t pin, unsigned int irq);
	void *intx_opaque;
};

/* Callbacks a device gives to the host; all optional (see the lock rules above). */
struct pci_dev_ops {
	/* A BAR was (un)mapped or moved; addr is 0 when it is no longer decoded. */
	void (*bar_moved)(struct pci_dev *pdev, unsigned int bar, uint64_t addr);
	/* MSI-X enable, function mask, or a table entry (vec, or -1 for all) changed. */
	void (*msix_changed)(struct pci_dev *pdev, int vec);
};

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* uses bar and bar+1; prefetchable */
};

struct pci_bar {
	enum pci_bar_type type;
	uint64_t size; /* power of two, >= 4 KiB */
	bus_access_fn fn;
	void *opaque;
	uint64_t mapped_at; /* 0: not on the MMIO bus; protected by host lock */
};

struct pci_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
	uint32_t route;	     /* fast-path route or PCI_MSIX_NO_GSI */
	uint64_t route_addr; /* the message the route carries */
	uint32_t route_data;
};

struct pci_msix {
	unsigned int nr; /* 0: no MSI-X */
	unsigned int bar;
	uint8_t cap;		      /* config offset of the capability */
	bool enabled, masked;	      /* mirror of the control word */
	struct pci_msix_entry *table; /* protected by pci_dev.msix_lock */
	uint64_t pba;		      /* pending bits; protected by msix_lock */
};

struct pci_dev {
	struct pci_host *host;
	const char *name;
	const struct pci_dev_ops *ops;
	void *priv;
	uint8_t devfn;
	uint8_t cfg[PCI_CFG_SPACE_SIZE];   /* protected by host lock */
	uint8_t wmask[PCI_CFG_SPACE_SIZE]; /* bits the guest may write */
	uint8_t last_cap;		   /* offset of the last capability, 0 none */
	uint8_t cap_end;		   /* next free byte for a capability */
	struct pci_bar bars[PCI_NR_BARS];
	unsigned int irq; /* INTx line (GSI) */
	int intx_level;	  /* what the device asks for (STATUS.INTERRUPT); msix_lock */
	int intx_out;	  /* what the hypervisor was told (0 under INTX_DISABLE); msix_lock */
	pthread_mutex_t msix_lock;
	struct pci_msix msix;
};

struct pci_host {
	struct pci_host_params p;
	pthread_mutex_t lock;
	uint32_t conf1_addr;		    /* protected by lock */
	struct pci_dev bridge;		    /* 00:00.0 */
	struct pci_dev *devs[PCI_NR_SLOTS]; /* protected by lock */
	uint64_t next32, next64;	    /* placement cursors */
};

int pci_host_init(struct pci_host *host, const struct pci_host_params *p);
void pci_host_exit(struct pci_host *host);

/*
 * Set up pdev's header (type 0) with vendor/device/class (class is the
 * 24-bit class code) and the subsystem ids. Then add BARs and capabilities,
 * then pci_dev_register().
 */
void pci_dev_init(struct pci_dev *pdev, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class, uint16_t subsys_vendor, uint16_t subsys_id);
/* A memory BAR of size bytes (power of two); accesses go to fn(opaque, off, ...). */
int pci_dev_add_bar(struct pci_dev *pdev, unsigned int bar, enum pci_bar_type type, uint64_t size,
		    bus_access_fn fn, void *opaque);
/* Append a capability of len bytes (data[0] = id; next pointer filled in). Returns its offset. */
int pci_dev_add_cap(struct pci_dev *pdev, const void *data, unsigned int len);
/* MSI-X with nr vectors, table at offset 0 and PBA at 2 KiB of its own 32-bit BAR. */
int pci_msix_init(struct pci_dev *pdev, unsigned int nr, unsigned int bar);
/* Give the device a slot, an INTx line (pin A) and placed, decoded BARs. */
int pci_dev_register(struct pci_host *host, struct pci_dev *pdev);
void pci_dev_unregister(struct pci_dev *pdev);

/* Config space access as the guest does it (offset, len 1/2/4 naturally aligned). */
void pci_cfg_access(struct pci_dev *pdev, uint32_t off, void *data, unsigned int len,
		    bool is_write);

/* Raise MSI-X vector vec: delivered, or left pending while masked. */
int pci_msix_notify(struct pci_dev *pdev, unsigned int vec);
bool pci_msix_enabled(struct pci_dev *pdev);
/*
 * The fast-path route of vector vec if it is deliverable now (MSI-X on,
 * neither function nor vector masked, route made): *route is set, 0
 * returned. -EAGAIN when masked or disabled, -ENOTSUP without fast path.
 */
int pci_msix_route(struct pci_dev *pdev, unsigned int vec, uint32_t *route);
/*
 * Drive pin A to level. The line follows level unless COMMAND.INTX_DISABLE
 * is set; the hypervisor is told only on a change.
 */
void pci_intx_set(struct pci_dev *pdev, int level);

/* KVM implementation of pci_irq_ops; irq_opaque is a struct kvm_irq *. */
extern const struct pci_irq_ops pci_irq_ops_kvm;

struct kvm_vm;
/*
 * The VM's host bridge (hw/pci-vm.c, set up at the bus init level, so
 * devices add themselves at the dev level), or NULL when the VM has no
 * in-kernel irqchip.
 */
struct pci_host *kvm_vm_pci(struct kvm_vm *vm);

#endif /* KAVM_PCI_H */
