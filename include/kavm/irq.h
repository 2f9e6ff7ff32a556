/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm KVM interrupt plumbing over a VM fd: the GSI routing table (the
 * in-kernel PIC/IOAPIC routes plus MSI routes), irqfds, ioeventfds and
 * KVM_IRQ_LINE. Needs only the VM fd and KVM_CREATE_IRQCHIP done.
 *
 * Lock: kvm_irq.lock protects the routing table; any thread may call.
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table is kept here
 * and pushed whole after every change.
 */
#ifndef KAVM_IRQ_H
#define KAVM_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* GSIs 0-23 are the IOAPIC pins (0-15 also the PICs); MSI routes start here. */
#define KVM_IRQ_NR_IRQCHIP_GSI 24
#define KVM_IRQ_MAX_GSI 1024

struct kvm_irq_routing_entry;

struct kvm_irq {
	int vm_fd;
	pthread_mutex_t lock;
	struct kvm_irq_routing_entry *entries;	 /* protected by lock */
	unsigned int nr, cap;			 /* protected by lock */
	uint32_t nr_gsi;			 /* GSIs usable (KVM_CAP_IRQ_ROUTING) */
	uint64_t msi_used[KVM_IRQ_MAX_GSI / 64]; /* protected by lock */
};

/* Install the default irqchip routes for GSIs 0-23 (as the kernel's default table). */
int kvm_irq_init(struct kvm_irq *irq, int vm_fd);
void kvm_irq_exit(struct kvm_irq *irq);

/* Allocate a GSI routed to the MSI message (addr, data); *gsi is set. */
int kvm_irq_msi_alloc(struct kvm_irq *irq, uint64_t addr, uint32_t data, uint32_t *gsi);
/* Change the message of an allocated MSI GSI; irqfds bound to it follow. */
int kvm_irq_msi_update(struct kvm_irq *irq, uint32_t gsi, uint64_t addr, uint32_t data);
int kvm_irq_msi_free(struct kvm_irq *irq, uint32_t gsi);
/* Number of routing entries in the table pushed to KVM (for tests). */
unsigned int kvm_irq_nr_routes(struct kvm_irq *irq);

/* Deliver one MSI now (KVM_SIGNAL_MSI). Returns >0 delivered, 0 blocked by the guest. */
int kvm_irq_msi_signal(int vm_fd, uint64_t addr, uint32_t data);
/* KVM_IRQ_LINE: drive irqchip GSI gsi (< 24) to level. */
int kvm_irq_set_level(int vm_fd, uint32_t gsi, int level);

/* Writes to efd inject gsi. resample_fd >= 0 makes it a level irqfd (KVM_IRQFD_FLAG_RESAMPLE). */
int kvm_irqfd_attach(int vm_fd, int efd, uint32_t gsi, int resample_fd);
int kvm_irqfd_detach(int vm_fd, int efd, uint32_t gsi);

/*
 * Writes of len bytes (1, 2, 4, 8; 0 = any length, MMIO only) at addr
 * signal efd instead of exiting to userspace; no datamatch.
 */
int kvm_ioeventfd_add(int vm_fd, uint64_t addr, uint32_t len, int efd, bool pio);
int kvm_ioeventfd_del(int vm_fd, uint64_t addr, uint32_t len, int efd, bool pio);

#endif /* KAVM_IRQ_H */
