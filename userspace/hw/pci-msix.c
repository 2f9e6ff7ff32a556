// SPDX-License-Identifier: GPL-2.0
/* kavm PCI MSI-X: capability, table and PBA emulation, masking, fast-path routes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/pci.h>

#include "pci-internal.h"

#define MSIX_BAR_SIZE 4096
#define MSIX_PBA_OFFSET 2048

static const struct pci_irq_ops *irq_ops(struct pci_dev *pdev)
{
	return pdev->host ? pdev->host->p.irq_ops : NULL;
}

static uint64_t entry_addr(const struct pci_msix_entry *e)
{
	return ((uint64_t)e->addr_hi << 32) | e->addr_lo;
}

/* Would a message on vec reach the CPU now? msix_lock held. */
static bool msix_deliverable(const struct pci_dev *pdev, unsigned int vec)
{
	return pdev->msix.enabled && !pdev->msix.masked &&
	       !(pdev->msix.table[vec].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static void msix_send(struct pci_dev *pdev, unsigned int vec)
{
	const struct pci_irq_ops *ops = irq_ops(pdev);
	const struct pci_msix_entry *e = &pdev->msix.table[vec];
	int ret;

	if (!ops || !ops->msi_send)
		return;
	ret = ops->msi_send(pdev->host->p.irq_opaque, entry_addr(e), e->data);
	if (ret < 0)
		pr_warn_ratelimited("pci %s: MSI-X vector %u (%#llx/%#x): %s", pdev->name, vec,
				    (unsigned long long)entry_addr(e), e->data, strerror(-ret));
}

/* Send what was held back while vectors were masked. msix_lock held. */
static void msix_flush_pending(struct pci_dev *pdev)
{
	unsigned int vec;

	for (vec = 0; vec < pdev->msix.nr; vec++) {
		if (!(pdev->msix.pba & (1ull << vec)) || !msix_deliverable(pdev, vec))
			continue;
		pdev->msix.pba &= ~(1ull << vec);
		msix_send(pdev, vec);
	}
}

/* Keep an existing fast-path route carrying the entry's current message. msix_lock held. */
static int msix_route_sync(struct pci_dev *pdev, unsigned int vec)
{
	const struct pci_irq_ops *ops = irq_ops(pdev);
	struct pci_msix_entry *e = &pdev->msix.table[vec];
	void *opaque = pdev->host->p.irq_opaque;
	int ret;

	if (e->route == PCI_MSIX_NO_GSI) {
		ret = ops->msi_route_add(opaque, entry_addr(e), e->data, &e->route);
		if (ret)
			e->route = PCI_MSIX_NO_GSI;
	} else if (e->route_addr != entry_addr(e) || e->route_data != e->data) {
		ret = ops->msi_route_update(opaque, e->route, entry_addr(e), e->data);
	} else {
		return 0;
	}
	if (ret) {
		pr_warn_ratelimited("pci %s: MSI-X vector %u route: %s", pdev->name, vec,
				    strerror(-ret));
		return ret;
	}
	e->route_addr = entry_addr(e);
	e->route_data = e->data;
	return 0;
}

int pci_msix_route(struct pci_dev *pdev, unsigned int vec, uint32_t *route)
{
	const struct pci_irq_ops *ops = irq_ops(pdev);
	int ret = -EAGAIN;

	if (!ops || !ops->msi_route_add || !ops->irqfd_attach)
		return -ENOTSUP;
	pthread_mutex_lock(&pdev->msix_lock);
	if (vec >= pdev->msix.nr) {
		ret = -EINVAL;
	} else if (msix_deliverable(pdev, vec)) {
		ret = msix_route_sync(pdev, vec);
		if (!ret)
			*route = pdev->msix.table[vec].route;
	}
	pthread_mutex_unlock(&pdev->msix_lock);
	return ret;
}

int pci_msix_notify(struct pci_dev *pdev, unsigned int vec)
{
	int ret = 0;

	pthread_mutex_lock(&pdev->msix_lock);
	if (vec >= pdev->msix.nr)
		ret = -EINVAL;
	else if (!pdev->msix.enabled)
		ret = -EAGAIN;
	else if (!msix_deliverable(pdev, vec))
		pdev->msix.pba |= 1ull << vec;
	else
		msix_send(pdev, vec);
	pthread_mutex_unlock(&pdev->msix_lock);
	return ret;
}

bool pci_msix_enabled(struct pci_dev *pdev)
{
	bool on;

	pthread_mutex_lock(&pdev->msix_lock);
	on = pdev->msix.enabled;
	pthread_mutex_unlock(&pdev->msix_lock);
	return on;
}

void pci_msix_control_written(struct pci_dev *pdev)
{
	uint16_t flags;

	memcpy(&flags, &pdev->cfg[pdev->msix.cap + PCI_MSIX_FLAGS], 2);
	pthread_mutex_lock(&pdev->msix_lock);
	pdev->msix.enabled = flags & PCI_MSIX_FLAGS_ENABLE;
	pdev->msix.masked = flags & PCI_MSIX_FLAGS_MASKALL;
	msix_flush_pending(pdev);
	pthread_mutex_unlock(&pdev->msix_lock);
	if (pdev->ops && pdev->ops->msix_changed)
		pdev->ops->msix_changed(pdev, -1);
}

/* A dword of the table; fields outside the table read 0 and ignore writes. msix_lock held. */
static void msix_table_dword(struct pci_dev *pdev, uint64_t off, uint32_t *val, bool is_write)
{
	unsigned int vec = off / PCI_MSIX_ENTRY_SIZE;
	struct pci_msix_entry *e;
	uint32_t *field;

	if (vec >= pdev->msix.nr) {
		if (!is_write)
			*val = 0;
		return;
	}
	e = &pdev->msix.table[vec];
	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		field = &e->addr_lo;
		break;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		field = &e->addr_hi;
		break;
	case PCI_MSIX_ENTRY_DATA:
		field = &e->data;
		break;
	default:
		field = &e->ctrl;
		break;
	}
	if (!is_write) {
		*val = *field;
		return;
	}
	if (field == &e->ctrl)
		*val &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	else if (field == &e->addr_lo)
		*val &= ~3u; /* dword-aligned message address */
	*field = *val;
}

static void msix_bar_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct pci_dev *pdev = opaque;
	uint32_t dw[2] = { 0, 0 };
	unsigned int i;
	int changed = -2;

	/* The spec allows aligned dword and qword accesses only. */
	if ((len != 4 && len != 8) || off % len) {
		pr_warn_ratelimited("pci %s: bad MSI-X access at %#llx len %u", pdev->name,
				    (unsigned long long)off, len);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		memcpy(dw, data, len);
	pthread_mutex_lock(&pdev->msix_lock);
	if (off >= MSIX_PBA_OFFSET) {
		/* Pending bits are read-only. */
		uint64_t pba = off == MSIX_PBA_OFFSET	  ? pdev->msix.pba :
			       off == MSIX_PBA_OFFSET + 4 ? pdev->msix.pba >> 32 :
							    0;

		memcpy(dw, &pba, sizeof(pba));
	} else {
		for (i = 0; i < len / 4; i++)
			msix_table_dword(pdev, off + 4 * i, &dw[i], is_write);
		if (is_write && off / PCI_MSIX_ENTRY_SIZE < pdev->msix.nr) {
			changed = off / PCI_MSIX_ENTRY_SIZE;
			if (msix_deliverable(pdev, changed) &&
			    pdev->msix.table[changed].route != PCI_MSIX_NO_GSI)
				msix_route_sync(pdev, changed);
			msix_flush_pending(pdev);
		}
	}
	pthread_mutex_unlock(&pdev->msix_lock);
	if (!is_write)
		memcpy(data, dw, len);
	if (changed >= 0 && pdev->ops && pdev->ops->msix_changed)
		pdev->ops->msix_changed(pdev, changed);
}

int pci_msix_init(struct pci_dev *pdev, unsigned int nr, unsigned int bar)
{
	uint8_t cap[PCI_CAP_MSIX_SIZEOF] = { PCI_CAP_ID_MSIX };
	uint16_t flags = nr - 1;
	uint32_t table = bar, pba = MSIX_PBA_OFFSET | bar;
	unsigned int i;
	int off, ret;

	if (!nr || nr > PCI_MSIX_MAX_VECTORS || pdev->msix.nr)
		return -EINVAL;
	ret = pci_dev_add_bar(pdev, bar, PCI_BAR_MEM32, MSIX_BAR_SIZE, msix_bar_access, pdev);
	if (ret)
		return ret;
	memcpy(&cap[PCI_MSIX_FLAGS], &flags, 2);
	memcpy(&cap[PCI_MSIX_TABLE], &table, 4);
	memcpy(&cap[PCI_MSIX_PBA], &pba, 4);
	off = pci_dev_add_cap(pdev, cap, sizeof(cap));
	if (off < 0)
		return off;
	pdev->msix.table = calloc(nr, sizeof(*pdev->msix.table));
	if (!pdev->msix.table)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		/* Vectors come out of reset masked. */
		pdev->msix.table[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		pdev->msix.table[i].route = PCI_MSIX_NO_GSI;
	}
	pdev->msix.cap = off;
	pdev->msix.bar = bar;
	pdev->msix.nr = nr;
	/* Only Enable and Function Mask are writable. */
	pdev->wmask[off + PCI_MSIX_FLAGS + 1] =
		(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	return 0;
}

void pci_msix_exit(struct pci_dev *pdev)
{
	const struct pci_irq_ops *ops = pdev->host ? pdev->host->p.irq_ops : NULL;
	unsigned int vec;

	/* Under the lock: a late notify from the loop thread sees nr == 0, not freed memory. */
	pthread_mutex_lock(&pdev->msix_lock);
	for (vec = 0; pdev->msix.table && vec < pdev->msix.nr; vec++)
		if (pdev->msix.table[vec].route != PCI_MSIX_NO_GSI && ops && ops->msi_route_del)
			ops->msi_route_del(pdev->host->p.irq_opaque, pdev->msix.table[vec].route);
	free(pdev->msix.table);
	pdev->msix.table = NULL;
	pdev->msix.nr = 0;
	pdev->msix.enabled = false;
	pthread_mutex_unlock(&pdev->msix_lock);
}

/* Tell the hypervisor what the line should be now. msix_lock held. */
static void intx_update(struct pci_dev *pdev)
{
	const struct pci_irq_ops *ops = irq_ops(pdev);
	uint8_t cmd_hi = READ_ONCE(pdev->cfg[PCI_COMMAND + 1]);
	int out = pdev->intx_level && !(cmd_hi & (PCI_COMMAND_INTX_DISABLE >> 8));

	if (out == pdev->intx_out || !ops || !ops->intx_set || !pdev->cfg[PCI_INTERRUPT_PIN])
		return;
	pdev->intx_out = out;
	ops->intx_set(pdev->host->p.irq_opaque, pdev->irq, out);
}

void pci_intx_set(struct pci_dev *pdev, int level)
{
	pthread_mutex_lock(&pdev->msix_lock);
	pdev->intx_level = !!level;
	intx_update(pdev);
	pthread_mutex_unlock(&pdev->msix_lock);
}

void pci_intx_command_written(struct pci_dev *pdev)
{
	pthread_mutex_lock(&pdev->msix_lock);
	intx_update(pdev);
	pthread_mutex_unlock(&pdev->msix_lock);
}

int pci_intx_status(struct pci_dev *pdev)
{
	int level;

	pthread_mutex_lock(&pdev->msix_lock);
	level = pdev->intx_level;
	pthread_mutex_unlock(&pdev->msix_lock);
	return level;
}
