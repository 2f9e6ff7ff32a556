// SPDX-License-Identifier: GPL-2.0
/* Unit tests: PCI host bridge, conf1 decoding, BARs and MSI-X, driven through the buses. */
#include <errno.h>

#include <linux/pci_regs.h>

#include <kavm/bus.h>
#include <kavm/compiler.h>
#include <kavm/pci.h>

#include "../harness.h"

struct irq_rec {
	unsigned int msi_sent, routes_added, routes_updated, intx_changes;
	uint64_t last_addr;
	uint32_t last_data;
	int intx_level;
	unsigned int intx_irq;
};

static int rec_intx(void *opaque, unsigned int irq, int level)
{
	struct irq_rec *r = opaque;

	r->intx_changes++;
	r->intx_irq = irq;
	r->intx_level = level;
	return 0;
}

static int rec_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct irq_rec *r = opaque;

	r->msi_sent++;
	r->last_addr = addr;
	r->last_data = data;
	return 0;
}

static int rec_route_add(void *opaque, uint64_t addr, uint32_t data, uint32_t *route)
{
	struct irq_rec *r = opaque;

	*route = 100 + r->routes_added++;
	r->last_addr = addr;
	r->last_data = data;
	return 0;
}

static int rec_route_update(void *opaque, uint32_t route, uint64_t addr, uint32_t data)
{
	struct irq_rec *r = opaque;

	r->routes_updated++;
	r->last_addr = addr;
	r->last_data = data;
	return 0;
}

static int rec_route_del(void *opaque, uint32_t route)
{
	return 0;
}

static int rec_irqfd(void *opaque, int efd, uint32_t route)
{
	return 0;
}

static const struct pci_irq_ops rec_ops = {
	.intx_set = rec_intx,
	.msi_send = rec_msi,
	.msi_route_add = rec_route_add,
	.msi_route_update = rec_route_update,
	.msi_route_del = rec_route_del,
	.irqfd_attach = rec_irqfd,
	.irqfd_detach = rec_irqfd,
};

struct bar_dev {
	unsigned int hits, moves, msix_changes;
	uint64_t last_off, moved_to;
};

static void bar_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct bar_dev *d = opaque;

	d->hits++;
	d->last_off = off;
	if (!is_write)
		memset(data, 0x5a, len);
}

static void bar_moved(struct pci_dev *pdev, unsigned int bar, uint64_t addr)
{
	struct bar_dev *d = pdev->priv;

	d->moves++;
	d->moved_to = addr;
}

static void msix_changed(struct pci_dev *pdev, int vec)
{
	struct bar_dev *d = pdev->priv;

	d->msix_changes++;
}

static const struct pci_dev_ops test_dev_ops = { .bar_moved = bar_moved,
						 .msix_changed = msix_changed };

static const uint8_t intx_irqs[] = { 16, 17, 18, 19 };

FIXTURE(pci)
{
	struct bus pio, mmio;
	struct pci_host host;
	struct irq_rec rec;
	struct pci_dev dev;
	struct bar_dev bd;
};

static void host_params(struct _kt_fixture_pci *self, struct pci_host_params *p, bool mem64)
{
	*p = (struct pci_host_params){
		.pio_bus = &self->pio,
		.mmio_bus = &self->mmio,
		.mem32_base = 0xc0000000,
		.mem32_size = 0x3ec00000,
		.mem64_base = mem64 ? 0x100000000ull * 64 : 0,
		.mem64_size = mem64 ? 0x100000000ull : 0,
		.intx_irqs = intx_irqs,
		.nr_intx_irqs = ARRAY_SIZE(intx_irqs),
		.irq_ops = &rec_ops,
		.irq_opaque = &self->rec,
	};
}

FIXTURE_SETUP(pci)
{
	struct pci_host_params p;

	bus_init(&self->pio, "pio");
	bus_init(&self->mmio, "mmio");
	host_params(self, &p, true);
	if (pci_host_init(&self->host, &p))
		kt_fail(__FILE__, __LINE__, true, "pci_host_init");
}

FIXTURE_TEARDOWN(pci)
{
	pci_host_exit(&self->host);
	bus_exit(&self->mmio);
	bus_exit(&self->pio);
}

static uint32_t conf1_addr(unsigned int slot, unsigned int off)
{
	return 0x80000000u | (slot << 11) | (off & 0xfc);
}

/* A guest's config read: latch the address, then read 0xcfc + (off & 3). */
static uint32_t cfg_read(struct bus *pio, unsigned int slot, unsigned int off, unsigned int len)
{
	uint32_t a = conf1_addr(slot, off), v = 0;

	bus_dispatch(pio, 0xcf8, &a, 4, true);
	bus_dispatch(pio, 0xcfc + (off & 3), &v, len, false);
	return v;
}

static void cfg_write(struct bus *pio, unsigned int slot, unsigned int off, unsigned int len,
		      uint32_t v)
{
	uint32_t a = conf1_addr(slot, off);

	bus_dispatch(pio, 0xcf8, &a, 4, true);
	bus_dispatch(pio, 0xcfc + (off & 3), &v, len, true);
}

/* A device with a 32-bit BAR0 of 8 KiB, a 64-bit BAR2 of 16 KiB, two vendor caps and MSI-X. */
static int add_test_dev(struct _kt_fixture_pci *self, unsigned int nvec)
{
	static const uint8_t vcap1[4] = { PCI_CAP_ID_VNDR, 0, 4, 0xaa };
	static const uint8_t vcap2[6] = { PCI_CAP_ID_VNDR, 0, 6, 0xbb, 1, 2 };
	int ret;

	pci_dev_init(&self->dev, "test", 0x1af4, 0x1041, 0x020000, 0x1af4, 0x0001);
	self->dev.ops = &test_dev_ops;
	self->dev.priv = &self->bd;
	ret = pci_dev_add_bar(&self->dev, 0, PCI_BAR_MEM32, 0x2000, bar_access, &self->bd);
	if (!ret)
		ret = pci_dev_add_bar(&self->dev, 2, PCI_BAR_MEM64, 0x4000, bar_access, &self->bd);
	if (!ret && pci_dev_add_cap(&self->dev, vcap1, sizeof(vcap1)) < 0)
		ret = -ENOSPC;
	if (!ret && pci_dev_add_cap(&self->dev, vcap2, sizeof(vcap2)) < 0)
		ret = -ENOSPC;
	if (!ret)
		ret = pci_msix_init(&self->dev, nvec, 1);
	if (!ret)
		ret = pci_dev_register(&self->host, &self->dev);
	return ret;
}

TEST_F(pci, conf1_address_latch_and_decoding)
{
	uint32_t v = 0x80001234, b = 0x01;

	ASSERT_EQ(bus_dispatch(&self->pio, 0xcf8, &v, 4, true), 0);
	v = 0;
	ASSERT_EQ(bus_dispatch(&self->pio, 0xcf8, &v, 4, false), 0);
	EXPECT_EQ(v, 0x80001234u);
	/* Linux's pci_check_type1 pokes a byte at 0xcfb: not the latch. */
	ASSERT_EQ(bus_dispatch(&self->pio, 0xcfb, &b, 1, true), 0);
	ASSERT_EQ(bus_dispatch(&self->pio, 0xcf8, &v, 4, false), 0);
	EXPECT_EQ(v, 0x80001234u);
	/* Enable bit clear, another bus, another function, an empty slot: all ones. */
	v = 0x00000000;
	bus_dispatch(&self->pio, 0xcf8, &v, 4, true);
	bus_dispatch(&self->pio, 0xcfc, &v, 4, false);
	EXPECT_EQ(v, 0xffffffffu);
	v = 0x80010000;
	bus_dispatch(&self->pio, 0xcf8, &v, 4, true);
	bus_dispatch(&self->pio, 0xcfc, &v, 4, false);
	EXPECT_EQ(v, 0xffffffffu);
	v = 0x80000100;
	bus_dispatch(&self->pio, 0xcf8, &v, 4, true);
	bus_dispatch(&self->pio, 0xcfc, &v, 4, false);
	EXPECT_EQ(v, 0xffffffffu);
	EXPECT_EQ(cfg_read(&self->pio, 7, 0, 4), 0xffffffffu);
	/* An extended register (offset 0x100, AMD's bits 27:24) does not alias offset 0. */
	v = 0x81000000;
	bus_dispatch(&self->pio, 0xcf8, &v, 4, true);
	bus_dispatch(&self->pio, 0xcfc, &v, 4, false);
	EXPECT_EQ(v, 0xffffffffu);
	EXPECT_EQ(cfg_read(&self->pio, 0, 0, 4), 0x00081b36u);
}

TEST_F(pci, host_bridge_passes_linux_sanity_check)
{
	/* Dword, word and byte reads at every data port offset. */
	EXPECT_EQ(cfg_read(&self->pio, 0, PCI_VENDOR_ID, 4), 0x00081b36u);
	EXPECT_EQ(cfg_read(&self->pio, 0, PCI_DEVICE_ID, 2), 0x0008u);
	EXPECT_EQ(cfg_read(&self->pio, 0, PCI_CLASS_DEVICE, 2), 0x0600u);
	EXPECT_EQ(cfg_read(&self->pio, 0, PCI_CLASS_DEVICE + 1, 1), 0x06u);
	EXPECT_EQ(cfg_read(&self->pio, 0, PCI_HEADER_TYPE, 1), 0u);
	/* Vendor id is read-only. */
	cfg_write(&self->pio, 0, PCI_VENDOR_ID, 2, 0x8086);
	EXPECT_EQ(cfg_read(&self->pio, 0, PCI_VENDOR_ID, 2), 0x1b36u);
}

TEST_F(pci, device_header_and_capability_walk)
{
	unsigned int ptr, ids[8], n = 0;

	ASSERT_EQ(add_test_dev(self, 4), 0);
	EXPECT_EQ(self->dev.devfn, 1u << 3);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_VENDOR_ID, 4), 0x10411af4u);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_REVISION_ID, 4), 0x02000001u);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00011af4u);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_INTERRUPT_PIN, 1), 1u);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_INTERRUPT_LINE, 1), 17u);
	EXPECT_TRUE(cfg_read(&self->pio, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	EXPECT_TRUE(cfg_read(&self->pio, 1, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	for (ptr = cfg_read(&self->pio, 1, PCI_CAPABILITY_LIST, 1); ptr && n < 8;
	     ptr = cfg_read(&self->pio, 1, ptr + 1, 1)) {
		EXPECT_GE(ptr, 0x40u);
		EXPECT_EQ(ptr % 4, 0u);
		ids[n++] = cfg_read(&self->pio, 1, ptr, 1);
	}
	ASSERT_EQ(n, 3u);
	EXPECT_EQ(ids[0], (unsigned int)PCI_CAP_ID_VNDR);
	EXPECT_EQ(ids[1], (unsigned int)PCI_CAP_ID_VNDR);
	EXPECT_EQ(ids[2], (unsigned int)PCI_CAP_ID_MSIX);
}

TEST_F(pci, bar_sizing_32_and_64_bit)
{
	uint32_t old0, old2, old3;

	ASSERT_EQ(add_test_dev(self, 4), 0);
	old0 = cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_0, 4);
	old2 = cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_2, 4);
	old3 = cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_3, 4);
	/* Linux's __pci_read_base: decode off, write ones, read the mask, restore. */
	cfg_write(&self->pio, 1, PCI_COMMAND, 2, 0);
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_0, 4), 0xffffe000u);
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_2, 4),
		  0xffffc000u | PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_3, 4), 0xffffffffu);
	/* Unused BARs and the ROM size to zero. */
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_4, 4), 0u);
	cfg_write(&self->pio, 1, PCI_ROM_ADDRESS, 4, 0xfffff800);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_ROM_ADDRESS, 4), 0u);
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_0, 4, old0);
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_2, 4, old2);
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_3, 4, old3);
	cfg_write(&self->pio, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_0, 4), old0);
	EXPECT_EQ(self->dev.bars[0].mapped_at, (uint64_t)(old0 & ~0xfu));
}

TEST_F(pci, bar_placement_in_windows)
{
	uint64_t b0, b2, msix;
	uint32_t v = 0;

	ASSERT_EQ(add_test_dev(self, 4), 0);
	b0 = cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_0, 4) & ~0xfull;
	msix = cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_1, 4) & ~0xfull;
	b2 = (cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_2, 4) & ~0xfull) |
	     (uint64_t)cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_3, 4) << 32;
	EXPECT_GE(b0, 0xc0000000ull);
	EXPECT_EQ(b0 % 0x2000, 0u);
	EXPECT_GE(msix, 0xc0000000ull);
	EXPECT_TRUE(msix + 0x1000 <= b0 || b0 + 0x2000 <= msix);
	/* The 64-bit BAR goes above 4 GiB when there is a window there. */
	EXPECT_EQ(b2, 0x100000000ull * 64);
	/* Decoding is on: the BARs answer on the MMIO bus. */
	ASSERT_EQ(bus_dispatch(&self->mmio, b0 + 0x10, &v, 4, false), 0);
	EXPECT_EQ(v, 0x5a5a5a5au);
	EXPECT_EQ(self->bd.last_off, 0x10u);
	ASSERT_EQ(bus_dispatch(&self->mmio, b2 + 0x3ffc, &v, 4, false), 0);
	EXPECT_EQ(self->bd.last_off, 0x3ffcu);
	EXPECT_EQ(bus_dispatch(&self->mmio, b2 + 0x4000, &v, 4, false), -ENOENT);
}

TEST_F(pci, bar_placement_without_a_64_bit_window)
{
	struct pci_host_params p;
	uint64_t lo, hi;

	pci_host_exit(&self->host);
	host_params(self, &p, false);
	ASSERT_EQ(pci_host_init(&self->host, &p), 0);
	ASSERT_EQ(add_test_dev(self, 4), 0);
	lo = cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_2, 4) & ~0xfull;
	hi = cfg_read(&self->pio, 1, PCI_BASE_ADDRESS_3, 4);
	EXPECT_EQ(hi, 0u);
	EXPECT_GE(lo, 0xc0000000ull);
	EXPECT_EQ(lo % 0x4000, 0u);
}

TEST_F(pci, bar_placement_refuses_a_full_window)
{
	struct pci_host_params p;

	pci_host_exit(&self->host);
	host_params(self, &p, false);
	p.mem32_size = 0x3000;
	ASSERT_EQ(pci_host_init(&self->host, &p), 0);
	EXPECT_EQ(add_test_dev(self, 4), -ENOSPC);
}

TEST_F(pci, bar_move_reregisters_the_mmio_bus)
{
	uint64_t old;
	uint32_t v = 0;

	ASSERT_EQ(add_test_dev(self, 4), 0);
	old = self->dev.bars[0].mapped_at;
	ASSERT_NE(old, 0u);
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_0, 4, 0xd0000000);
	EXPECT_EQ(self->dev.bars[0].mapped_at, 0xd0000000ull);
	EXPECT_EQ(self->bd.moved_to, 0xd0000000ull);
	EXPECT_EQ(bus_dispatch(&self->mmio, old, &v, 4, false), -ENOENT);
	EXPECT_EQ(v, 0xffffffffu);
	ASSERT_EQ(bus_dispatch(&self->mmio, 0xd0000004, &v, 4, false), 0);
	EXPECT_EQ(self->bd.last_off, 4u);
	/* Memory decode off: gone from the bus; on again: back at the same place. */
	cfg_write(&self->pio, 1, PCI_COMMAND, 2, 0);
	EXPECT_EQ(bus_dispatch(&self->mmio, 0xd0000004, &v, 4, false), -ENOENT);
	EXPECT_EQ(self->bd.moved_to, 0u);
	cfg_write(&self->pio, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	EXPECT_EQ(bus_dispatch(&self->mmio, 0xd0000004, &v, 4, false), 0);
	/* Onto the MSI-X BAR: refused by the bus, left unmapped, nothing crashes. */
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_0, 4, (uint32_t)self->dev.bars[1].mapped_at);
	EXPECT_EQ(self->dev.bars[0].mapped_at, 0u);
	EXPECT_NE(self->dev.bars[1].mapped_at, 0u);
	/* The 64-bit BAR moves with its high dword. */
	cfg_write(&self->pio, 1, PCI_BASE_ADDRESS_3, 4, 0x20);
	EXPECT_EQ(self->dev.bars[2].mapped_at, 0x2000000000ull);
	EXPECT_EQ(bus_dispatch(&self->mmio, 0x2000000000ull, &v, 4, false), 0);
}

TEST_F(pci, bad_config_accesses_are_contained)
{
	uint32_t v = 0x12345678;

	ASSERT_EQ(add_test_dev(self, 4), 0);
	pci_cfg_access(&self->dev, 0x3, &v, 2, false);
	EXPECT_EQ(v & 0xffff, 0xffffu);
	pci_cfg_access(&self->dev, 0xfe, &v, 4, false);
	EXPECT_EQ(v, 0xffffffffu);
	pci_cfg_access(&self->dev, 0x100, &v, 1, false);
	EXPECT_EQ(v & 0xff, 0xffu);
	v = 0;
	pci_cfg_access(&self->dev, 0x2, &v, 3, true);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_DEVICE_ID, 2), 0x1041u);
	/* Read-only: status, class, capability contents. */
	cfg_write(&self->pio, 1, PCI_STATUS, 2, 0);
	EXPECT_TRUE(cfg_read(&self->pio, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	cfg_write(&self->pio, 1, PCI_CLASS_REVISION, 4, 0);
	EXPECT_EQ(cfg_read(&self->pio, 1, PCI_CLASS_REVISION, 4), 0x02000001u);
	cfg_write(&self->pio, 1, 0x40, 4, 0);
	EXPECT_EQ(cfg_read(&self->pio, 1, 0x40, 1), (unsigned int)PCI_CAP_ID_VNDR);
	/* A 4-byte access at 0xcfe runs off the data port: the bus refuses it. */
	EXPECT_EQ(bus_dispatch(&self->pio, 0xcfe, &v, 4, false), -ENOENT);
}

/* MSI-X helpers: the capability offset and the table address, as a driver finds them. */
static unsigned int msix_cap(struct bus *pio)
{
	unsigned int ptr;

	for (ptr = cfg_read(pio, 1, PCI_CAPABILITY_LIST, 1); ptr;
	     ptr = cfg_read(pio, 1, ptr + 1, 1))
		if (cfg_read(pio, 1, ptr, 1) == PCI_CAP_ID_MSIX)
			return ptr;
	return 0;
}

static void msix_write(struct _kt_fixture_pci *self, uint64_t off, uint32_t v)
{
	bus_dispatch(&self->mmio, self->dev.bars[1].mapped_at + off, &v, 4, true);
}

static uint32_t msix_read(struct _kt_fixture_pci *self, uint64_t off)
{
	uint32_t v = 0;

	bus_dispatch(&self->mmio, self->dev.bars[1].mapped_at + off, &v, 4, false);
	return v;
}

static void msix_program(struct _kt_fixture_pci *self, unsigned int vec, uint32_t data)
{
	msix_write(self, vec * 16 + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000);
	msix_write(self, vec * 16 + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
	msix_write(self, vec * 16 + PCI_MSIX_ENTRY_DATA, data);
}

TEST_F(pci, msix_capability_and_table)
{
	unsigned int cap;
	uint64_t q = 0;

	ASSERT_EQ(add_test_dev(self, 6), 0);
	cap = msix_cap(&self->pio);
	ASSERT_NE(cap, 0u);
	EXPECT_EQ(cfg_read(&self->pio, 1, cap + PCI_MSIX_FLAGS, 2), 5u);
	EXPECT_EQ(cfg_read(&self->pio, 1, cap + PCI_MSIX_TABLE, 4), 1u);
	EXPECT_EQ(cfg_read(&self->pio, 1, cap + PCI_MSIX_PBA, 4), 0x801u);
	/* Table size is read-only; only Enable and Function Mask stick. */
	cfg_write(&self->pio, 1, cap + PCI_MSIX_FLAGS, 2, 0xffff);
	EXPECT_EQ(cfg_read(&self->pio, 1, cap + PCI_MSIX_FLAGS, 2), 0xc005u);
	EXPECT_TRUE(pci_msix_enabled(&self->dev));
	EXPECT_EQ(self->bd.msix_changes, 1u);
	/* Entries start masked; fields read back; reserved ctrl bits read 0. */
	EXPECT_EQ(msix_read(self, 5 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL), 1u);
	msix_program(self, 5, 0x4041);
	msix_write(self, 5 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0xfffffffe);
	EXPECT_EQ(msix_read(self, 5 * 16 + PCI_MSIX_ENTRY_LOWER_ADDR), 0xfee00000u);
	EXPECT_EQ(msix_read(self, 5 * 16 + PCI_MSIX_ENTRY_DATA), 0x4041u);
	EXPECT_EQ(msix_read(self, 5 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL), 0u);
	/* A qword read of the address. */
	bus_dispatch(&self->mmio, self->dev.bars[1].mapped_at + 5 * 16, &q, 8, false);
	EXPECT_EQ(q, 0xfee00000ull);
	/* Beyond the table: reads 0, writes dropped. Bad widths: all ones. */
	msix_write(self, 6 * 16, 0x1234);
	EXPECT_EQ(msix_read(self, 6 * 16), 0u);
	{
		uint16_t w = 0;

		bus_dispatch(&self->mmio, self->dev.bars[1].mapped_at, &w, 2, false);
		EXPECT_EQ(w, 0xffffu);
	}
	EXPECT_EQ(msix_read(self, 2), 0xffffffffu);
}

TEST_F(pci, msix_masking_and_pending_bits)
{
	unsigned int cap;

	ASSERT_EQ(add_test_dev(self, 4), 0);
	cap = msix_cap(&self->pio);
	/* Disabled: the caller must use INTx. */
	EXPECT_EQ(pci_msix_notify(&self->dev, 0), -EAGAIN);
	cfg_write(&self->pio, 1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_program(self, 2, 0x0033);
	/* Masked vector: held pending, not sent. */
	EXPECT_EQ(pci_msix_notify(&self->dev, 2), 0);
	EXPECT_EQ(self->rec.msi_sent, 0u);
	EXPECT_EQ(msix_read(self, 2048), 1u << 2);
	/* PBA is read-only. */
	msix_write(self, 2048, 0);
	EXPECT_EQ(msix_read(self, 2048), 1u << 2);
	/* Unmask: the pending message goes out once and the bit clears. */
	msix_write(self, 2 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	EXPECT_EQ(self->rec.msi_sent, 1u);
	EXPECT_EQ(self->rec.last_addr, 0xfee00000ull);
	EXPECT_EQ(self->rec.last_data, 0x33u);
	EXPECT_EQ(msix_read(self, 2048), 0u);
	EXPECT_EQ(pci_msix_notify(&self->dev, 2), 0);
	EXPECT_EQ(self->rec.msi_sent, 2u);
	/* Function mask holds every vector back; clearing it flushes. */
	cfg_write(&self->pio, 1, cap + PCI_MSIX_FLAGS, 2,
		  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	EXPECT_EQ(pci_msix_notify(&self->dev, 2), 0);
	EXPECT_EQ(pci_msix_notify(&self->dev, 2), 0);
	EXPECT_EQ(self->rec.msi_sent, 2u);
	EXPECT_EQ(msix_read(self, 2048), 1u << 2);
	cfg_write(&self->pio, 1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	EXPECT_EQ(self->rec.msi_sent, 3u);
	EXPECT_EQ(msix_read(self, 2048), 0u);
	/* Out-of-range vector. */
	EXPECT_EQ(pci_msix_notify(&self->dev, 4), -EINVAL);
	EXPECT_EQ(pci_msix_notify(&self->dev, 1000), -EINVAL);
}

TEST_F(pci, msix_fast_path_routes_follow_the_table)
{
	uint32_t route = 0, route2 = 0;
	unsigned int cap;

	ASSERT_EQ(add_test_dev(self, 4), 0);
	cap = msix_cap(&self->pio);
	msix_program(self, 1, 0x41);
	EXPECT_EQ(pci_msix_route(&self->dev, 1, &route), -EAGAIN);
	cfg_write(&self->pio, 1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	EXPECT_EQ(pci_msix_route(&self->dev, 1, &route), -EAGAIN);
	msix_write(self, 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	ASSERT_EQ(pci_msix_route(&self->dev, 1, &route), 0);
	EXPECT_EQ(self->rec.routes_added, 1u);
	EXPECT_EQ(self->rec.last_data, 0x41u);
	/* The guest retargets the vector: the same route is updated in place. */
	msix_write(self, 16 + PCI_MSIX_ENTRY_DATA, 0x42);
	EXPECT_EQ(self->rec.routes_updated, 1u);
	EXPECT_EQ(self->rec.last_data, 0x42u);
	ASSERT_EQ(pci_msix_route(&self->dev, 1, &route2), 0);
	EXPECT_EQ(route2, route);
	EXPECT_EQ(self->rec.routes_added, 1u);
	EXPECT_EQ(pci_msix_route(&self->dev, 9, &route2), -EINVAL);
}

TEST_F(pci, intx_line_changes_only_on_edges)
{
	ASSERT_EQ(add_test_dev(self, 4), 0);
	EXPECT_FALSE(cfg_read(&self->pio, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_intx_set(&self->dev, 1);
	pci_intx_set(&self->dev, 1);
	EXPECT_EQ(self->rec.intx_changes, 1u);
	EXPECT_EQ(self->rec.intx_irq, 17u);
	EXPECT_EQ(self->rec.intx_level, 1);
	EXPECT_TRUE(cfg_read(&self->pio, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	EXPECT_TRUE(cfg_read(&self->pio, 1, PCI_COMMAND, 4) & (PCI_STATUS_INTERRUPT << 16));
	pci_intx_set(&self->dev, 0);
	EXPECT_EQ(self->rec.intx_changes, 2u);
	EXPECT_EQ(self->rec.intx_level, 0);
	EXPECT_FALSE(cfg_read(&self->pio, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
}

TEST_F(pci, intx_disable_masks_the_line)
{
	ASSERT_EQ(add_test_dev(self, 4), 0);
	pci_intx_set(&self->dev, 1);
	ASSERT_EQ(self->rec.intx_level, 1);
	/* The driver disables INTx: the line drops, the status bit still shows the request. */
	cfg_write(&self->pio, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(self->rec.intx_level, 0);
	EXPECT_TRUE(cfg_read(&self->pio, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_intx_set(&self->dev, 0);
	pci_intx_set(&self->dev, 1);
	EXPECT_EQ(self->rec.intx_level, 0);
	EXPECT_EQ(self->rec.intx_changes, 2u);
	/* Enabled again with the request still up: the line comes back. */
	cfg_write(&self->pio, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	EXPECT_EQ(self->rec.intx_level, 1);
	EXPECT_EQ(self->rec.intx_changes, 3u);
	/* STATUS.INTERRUPT is not writable. */
	cfg_write(&self->pio, 1, PCI_STATUS, 2, 0xffff);
	pci_intx_set(&self->dev, 0);
	EXPECT_FALSE(cfg_read(&self->pio, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
}

struct route_rec {
	unsigned int n;
	uint8_t devfn[4], pin[4];
	unsigned int irq[4];
};

static int rec_route(void *opaque, uint8_t devfn, uint8_t pin, unsigned int irq)
{
	struct route_rec *r = opaque;

	if (r->n == 2)
		return -ENOSPC; /* the MP table is full */
	r->devfn[r->n] = devfn;
	r->pin[r->n] = pin;
	r->irq[r->n++] = irq;
	return 0;
}

TEST_F(pci, intx_routes_are_reported_for_the_firmware_tables)
{
	static struct pci_dev devs[3];
	struct pci_host_params p;
	struct route_rec r = { 0 };
	unsigned int i;

	pci_host_exit(&self->host);
	host_params(self, &p, false);
	p.intx_routed = rec_route;
	p.intx_opaque = &r;
	ASSERT_EQ(pci_host_init(&self->host, &p), 0);
	for (i = 0; i < 3; i++)
		pci_dev_init(&devs[i], "d", 0x1af4, 0x1000, 0xff0000, 0, 0);
	ASSERT_EQ(pci_dev_register(&self->host, &devs[0]), 0);
	ASSERT_EQ(pci_dev_register(&self->host, &devs[1]), 0);
	ASSERT_EQ(r.n, 2u);
	EXPECT_EQ(r.devfn[0], 1 << 3);
	EXPECT_EQ(r.pin[0], 1);
	EXPECT_EQ(r.irq[0], 17u);
	EXPECT_EQ(r.devfn[1], 2 << 3);
	EXPECT_EQ(r.irq[1], 18u);
	/* A device whose interrupt cannot be described is not put on the bus. */
	EXPECT_EQ(pci_dev_register(&self->host, &devs[2]), -ENOSPC);
	EXPECT_EQ(cfg_read(&self->pio, 3, 0, 4), 0xffffffffu);
}

TEST_F(pci, slots_fill_up_and_free)
{
	static struct pci_dev devs[PCI_NR_SLOTS];
	unsigned int i;

	for (i = 1; i < PCI_NR_SLOTS; i++) {
		pci_dev_init(&devs[i], "d", 0x1af4, 0x1000 + i, 0xff0000, 0, 0);
		ASSERT_EQ(pci_dev_register(&self->host, &devs[i]), 0);
	}
	pci_dev_init(&devs[0], "one-too-many", 0x1af4, 0x1000, 0xff0000, 0, 0);
	EXPECT_EQ(pci_dev_register(&self->host, &devs[0]), -ENOSPC);
	pci_dev_unregister(&devs[5]);
	EXPECT_EQ(cfg_read(&self->pio, 5, 0, 4), 0xffffffffu);
	EXPECT_EQ(pci_dev_register(&self->host, &devs[0]), 0);
	EXPECT_EQ(cfg_read(&self->pio, 5, 0, 4), 0x10001af4u);
}
