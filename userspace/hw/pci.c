// SPDX-License-Identifier: GPL-2.0
/* kavm PCI host bridge: conf1 config space, BAR placement and decoding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/pci.h>

#include "pci-internal.h"

/*
 * 00:00.0 is a host bridge: Linux's pci_sanity_check() (arch/x86/pci/
 * direct.c) accepts conf1 only if bus 0 shows a host bridge or VGA class,
 * or an Intel/Compaq vendor. Red Hat's QEMU generic host bridge id carries
 * no chipset quirks.
 */
#define PCI_HOST_VENDOR 0x1b36
#define PCI_HOST_DEVICE 0x0008
#define PCI_CLASS_BRIDGE_HOST 0x0600
#define PCI_CMD_WMASK                                                                              \
	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |         \
	 PCI_COMMAND_INTX_DISABLE)

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

void pci_dev_init(struct pci_dev *pdev, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class, uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(pdev, 0, sizeof(*pdev));
	pdev->name = name;
	pthread_mutex_init(&pdev->msix_lock, NULL);
	put16(&pdev->cfg[PCI_VENDOR_ID], vendor);
	put16(&pdev->cfg[PCI_DEVICE_ID], device);
	put16(&pdev->wmask[PCI_COMMAND], PCI_CMD_WMASK);
	/* Revision 1: virtio 1.x non-transitional devices must not be revision 0. */
	pdev->cfg[PCI_REVISION_ID] = 1;
	pdev->cfg[PCI_CLASS_PROG] = class & 0xff;
	put16(&pdev->cfg[PCI_CLASS_DEVICE], class >> 8);
	pdev->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	put16(&pdev->cfg[PCI_SUBSYSTEM_VENDOR_ID], subsys_vendor);
	put16(&pdev->cfg[PCI_SUBSYSTEM_ID], subsys_id);
	pdev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	pdev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	pdev->wmask[PCI_LATENCY_TIMER] = 0xff;
	pdev->cap_end = PCI_STD_HEADER_SIZEOF;
}

int pci_dev_add_bar(struct pci_dev *pdev, unsigned int bar, enum pci_bar_type type, uint64_t size,
		    bus_access_fn fn, void *opaque)
{
	uint8_t *reg = &pdev->cfg[PCI_BASE_ADDRESS_0 + 4 * bar];
	uint8_t *wm = &pdev->wmask[PCI_BASE_ADDRESS_0 + 4 * bar];

	if (bar >= PCI_NR_BARS || (type == PCI_BAR_MEM64 && bar + 1 >= PCI_NR_BARS))
		return -EINVAL;
	if (size < 4096 || (size & (size - 1)) || !fn || type == PCI_BAR_NONE)
		return -EINVAL;
	if (type == PCI_BAR_MEM32 && size > (1ull << 31))
		return -EINVAL;
	if (pdev->bars[bar].type != PCI_BAR_NONE ||
	    (type == PCI_BAR_MEM64 && pdev->bars[bar + 1].type != PCI_BAR_NONE) ||
	    (bar > 0 && pdev->bars[bar - 1].type == PCI_BAR_MEM64))
		return -EBUSY;
	pdev->bars[bar] =
		(struct pci_bar){ .type = type, .size = size, .fn = fn, .opaque = opaque };
	/* Writable bits are the address bits above the size: sizing falls out of the mask. */
	put32(wm, (uint32_t) ~(size - 1));
	if (type == PCI_BAR_MEM64) {
		put32(reg, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
		put32(wm + 4, (uint32_t)(~(size - 1) >> 32));
	}
	return 0;
}

int pci_dev_add_cap(struct pci_dev *pdev, const void *data, unsigned int len)
{
	unsigned int off = ALIGN_UP(pdev->cap_end, 4u);

	if (len < 2 || !range_ok(off, len, PCI_CFG_SPACE_SIZE))
		return -ENOSPC;
	memcpy(&pdev->cfg[off], data, len);
	pdev->cfg[off + PCI_CAP_LIST_NEXT] = 0;
	if (pdev->last_cap)
		pdev->cfg[pdev->last_cap + PCI_CAP_LIST_NEXT] = off;
	else
		pdev->cfg[PCI_CAPABILITY_LIST] = off;
	put16(&pdev->cfg[PCI_STATUS], get16(&pdev->cfg[PCI_STATUS]) | PCI_STATUS_CAP_LIST);
	pdev->last_cap = off;
	pdev->cap_end = off + len;
	return off;
}

/* The address BAR bar decodes, or 0 when it is unmapped or mid-sizing. Host lock held. */
static uint64_t pci_bar_address(const struct pci_dev *pdev, unsigned int bar)
{
	const struct pci_bar *b = &pdev->bars[bar];
	const uint8_t *reg = &pdev->cfg[PCI_BASE_ADDRESS_0 + 4 * bar];
	uint64_t addr = get32(reg) & PCI_BASE_ADDRESS_MEM_MASK;
	uint64_t limit = UINT32_MAX;

	if (!(get16(&pdev->cfg[PCI_COMMAND]) & PCI_COMMAND_MEMORY))
		return 0;
	if (b->type == PCI_BAR_MEM64) {
		addr |= (uint64_t)get32(reg + 4) << 32;
		limit = UINT64_MAX;
	}
	/* All-ones in the address bits is the sizing pattern, not a place. */
	if (!addr || addr == (limit & ~(b->size - 1)))
		return 0;
	if (addr > limit - (b->size - 1))
		return 0;
	return addr;
}

/* Make the MMIO bus match the BARs' addresses and COMMAND.MEMORY. Host lock held. */
static void pci_dev_update_bars(struct pci_dev *pdev)
{
	struct bus *mmio = pdev->host->p.mmio_bus;
	unsigned int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		uint64_t want = b->type == PCI_BAR_NONE ? 0 : pci_bar_address(pdev, i);
		int ret;

		if (want == b->mapped_at)
			continue;
		if (b->mapped_at)
			bus_unregister(mmio, b->mapped_at);
		b->mapped_at = 0;
		if (want) {
			ret = bus_register(mmio, want, b->size, b->fn, b->opaque, pdev->name);
			if (!ret)
				b->mapped_at = want;
			else
				pr_warn_ratelimited("pci %s: BAR%u at %#llx: %s", pdev->name, i,
						    (unsigned long long)want, strerror(-ret));
		}
		if (pdev->ops && pdev->ops->bar_moved)
			pdev->ops->bar_moved(pdev, i, b->mapped_at);
	}
}

static bool overlaps(uint32_t off, unsigned int len, uint32_t start, uint32_t end)
{
	return off < end && off + len > start;
}

void pci_cfg_access(struct pci_dev *pdev, uint32_t off, void *data, unsigned int len, bool is_write)
{
	const uint8_t *in = data;
	unsigned int i;

	if ((len != 1 && len != 2 && len != 4) || off % len ||
	    !range_ok(off, len, PCI_CFG_SPACE_SIZE)) {
		pr_warn_ratelimited("pci %s: bad config access at %#x len %u", pdev->name, off,
				    len);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		memcpy(data, &pdev->cfg[off], len);
		/* STATUS.INTERRUPT is live state, kept by the INTx code. */
		if (overlaps(off, len, PCI_STATUS, PCI_STATUS + 1) && pci_intx_status(pdev))
			((uint8_t *)data)[PCI_STATUS - off] |= PCI_STATUS_INTERRUPT;
		return;
	}
	for (i = 0; i < len; i++)
		pdev->cfg[off + i] = (pdev->cfg[off + i] & ~pdev->wmask[off + i]) |
				     (in[i] & pdev->wmask[off + i]);
	if (overlaps(off, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    overlaps(off, len, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4))
		pci_dev_update_bars(pdev);
	if (overlaps(off, len, PCI_COMMAND, PCI_COMMAND + 2))
		pci_intx_command_written(pdev);
	if (pdev->msix.nr && overlaps(off, len, pdev->msix.cap + PCI_MSIX_FLAGS,
				      pdev->msix.cap + PCI_MSIX_FLAGS + 2))
		pci_msix_control_written(pdev);
}

/* Decode the conf1 address latch: the device and offset, or NULL for nothing there. */
static struct pci_dev *pci_conf1_target(struct pci_host *host, uint32_t addr, uint32_t *off)
{
	unsigned int bus = (addr >> 16) & 0xff, slot = (addr >> 11) & 0x1f, fn = (addr >> 8) & 7;

	/*
	 * Bits 27:24 are AMD's extended-register extension (offsets >= 256);
	 * we have no extended space, and must not alias it onto the header.
	 */
	if (!(addr & 0x80000000u) || (addr & 0x7f000000u) || bus || fn)
		return NULL;
	*off = addr & 0xfc;
	return host->devs[slot];
}

static void pci_conf1_access(void *opaque, uint64_t offset, void *data, unsigned int len,
			     bool is_write)
{
	struct pci_host *host = opaque;
	struct pci_dev *pdev;
	uint32_t off = 0;

	pthread_mutex_lock(&host->lock);
	if (offset < 4) {
		/* The address latch is a dword register; other widths hit nothing. */
		if (offset == 0 && len == 4) {
			if (is_write)
				memcpy(&host->conf1_addr, data, 4);
			else
				memcpy(data, &host->conf1_addr, 4);
		} else if (!is_write) {
			memset(data, 0xff, len);
		}
		goto out_unlock;
	}
	pdev = pci_conf1_target(host, host->conf1_addr, &off);
	if (!pdev) {
		if (!is_write)
			memset(data, 0xff, len);
		goto out_unlock;
	}
	pci_cfg_access(pdev, off + (uint32_t)(offset - 4), data, len, is_write);
out_unlock:
	pthread_mutex_unlock(&host->lock);
}

static int pci_place_bar(struct pci_host *host, struct pci_dev *pdev, unsigned int bar)
{
	struct pci_bar *b = &pdev->bars[bar];
	bool high = b->type == PCI_BAR_MEM64 && host->p.mem64_size;
	uint64_t base = high ? host->p.mem64_base : host->p.mem32_base;
	uint64_t size = high ? host->p.mem64_size : host->p.mem32_size;
	uint64_t *next = high ? &host->next64 : &host->next32;
	uint64_t at = ALIGN_UP(*next, b->size);
	uint8_t *reg = &pdev->cfg[PCI_BASE_ADDRESS_0 + 4 * bar];

	if (at < *next || at < base || !range_ok(at - base, b->size, size))
		return -ENOSPC;
	*next = at + b->size;
	put32(reg, (get32(reg) & ~PCI_BASE_ADDRESS_MEM_MASK) | (uint32_t)at);
	if (b->type == PCI_BAR_MEM64)
		put32(reg + 4, (uint32_t)(at >> 32));
	return 0;
}

int pci_dev_register(struct pci_host *host, struct pci_dev *pdev)
{
	unsigned int slot, i;
	int ret = -ENOSPC;

	pthread_mutex_lock(&host->lock);
	for (slot = 1; slot < PCI_NR_SLOTS; slot++)
		if (!host->devs[slot])
			break;
	if (slot == PCI_NR_SLOTS)
		goto out_unlock;
	pdev->host = host;
	pdev->devfn = slot << 3;
	for (i = 0; i < PCI_NR_BARS; i++) {
		if (pdev->bars[i].type == PCI_BAR_NONE)
			continue;
		ret = pci_place_bar(host, pdev, i);
		if (ret) {
			pr_err("pci %s: no room for BAR%u (%#llx bytes)", pdev->name, i,
			       (unsigned long long)pdev->bars[i].size);
			goto out_unlock;
		}
	}
	if (host->p.nr_intx_irqs) {
		pdev->irq = host->p.intx_irqs[slot % host->p.nr_intx_irqs];
		pdev->cfg[PCI_INTERRUPT_LINE] = pdev->irq;
		pdev->cfg[PCI_INTERRUPT_PIN] = 1;
		ret = host->p.intx_routed ?
			      host->p.intx_routed(host->p.intx_opaque, pdev->devfn, 1, pdev->irq) :
			      0;
		if (ret) {
			pr_err("pci %s: route INTA to %u: %s", pdev->name, pdev->irq,
			       strerror(-ret));
			goto out_unlock;
		}
	}
	/* Decoding on from the start, as firmware would leave it. */
	put16(&pdev->cfg[PCI_COMMAND], get16(&pdev->cfg[PCI_COMMAND]) | PCI_COMMAND_MEMORY);
	host->devs[slot] = pdev;
	pci_dev_update_bars(pdev);
	ret = 0;
out_unlock:
	if (ret)
		pdev->host = NULL;
	pthread_mutex_unlock(&host->lock);
	return ret;
}

void pci_dev_unregister(struct pci_dev *pdev)
{
	struct pci_host *host = pdev->host;

	if (!host)
		return;
	pthread_mutex_lock(&host->lock);
	put16(&pdev->cfg[PCI_COMMAND], get16(&pdev->cfg[PCI_COMMAND]) & ~PCI_COMMAND_MEMORY);
	pci_dev_update_bars(pdev);
	host->devs[pdev->devfn >> 3] = NULL;
	pthread_mutex_unlock(&host->lock);
	pci_msix_exit(pdev);
	pdev->host = NULL;
}

int pci_host_init(struct pci_host *host, const struct pci_host_params *p)
{
	int ret;

	memset(host, 0, sizeof(*host));
	if (!p->pio_bus || !p->mmio_bus || !p->irq_ops)
		return -EINVAL;
	host->p = *p;
	host->next32 = p->mem32_base;
	host->next64 = p->mem64_base;
	pthread_mutex_init(&host->lock, NULL);
	pci_dev_init(&host->bridge, "host-bridge", PCI_HOST_VENDOR, PCI_HOST_DEVICE,
		     PCI_CLASS_BRIDGE_HOST << 8, 0, 0);
	host->bridge.host = host;
	host->devs[0] = &host->bridge;
	ret = bus_register(p->pio_bus, PCI_CONF1_PORT, 8, pci_conf1_access, host, "pci-conf1");
	if (ret) {
		pr_err("pci: register ports %#x-%#x: %s", PCI_CONF1_PORT, PCI_CONF1_PORT + 7,
		       strerror(-ret));
		pthread_mutex_destroy(&host->lock);
		return ret;
	}
	return 0;
}

void pci_host_exit(struct pci_host *host)
{
	unsigned int slot;

	for (slot = 1; slot < PCI_NR_SLOTS; slot++)
		if (host->devs[slot])
			pci_dev_unregister(host->devs[slot]);
	bus_unregister(host->p.pio_bus, PCI_CONF1_PORT);
	pthread_mutex_destroy(&host->lock);
}
