// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the virtio-pci modern transport, driven through the PIO and
 * MMIO buses exactly as a guest driver (Linux's virtio_pci_modern) would,
 * against a small recording device on the other side.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/eventfd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include <kavm/bus.h>
#include <kavm/compiler.h>
#include <kavm/loop.h>
#include <kavm/memory.h>
#include <kavm/pci.h>
#include <kavm/virtio-pci.h>
#include <kavm/virtio.h>

#include "../harness.h"

#define NQ 3
#define F_A 0
#define F_B 5 /* the test device refuses B without A */
#define F_C 40
#define VIRTIO_PCI_ISR_QUEUE_BIT 1u
#define HOST_FEATURES ((1ull << F_A) | (1ull << F_B) | (1ull << F_C))

/* --- the device: a real virtio_dev_ops that records what the transport did --- */
struct tdev {
	struct virtio_dev vdev;
	uint8_t config[8];
	unsigned int resets, starts, set_features, enables, config_writes;
	unsigned int notified[NQ];
	uint64_t features_seen;
	struct virtio_queue_config qcfg[NQ];
	int start_ret;
	unsigned int violations; /* the transport passed on something it should have refused */
};

static struct tdev *to_tdev(struct virtio_dev *vdev)
{
	return container_of(vdev, struct tdev, vdev);
}

static uint64_t t_host_features(struct virtio_dev *vdev)
{
	return HOST_FEATURES;
}

static int t_set_guest_features(struct virtio_dev *vdev, uint64_t f)
{
	struct tdev *t = to_tdev(vdev);

	t->set_features++;
	t->features_seen = f;
	if ((f & ~(HOST_FEATURES | (1ull << VIRTIO_F_VERSION_1))) ||
	    !(f & (1ull << VIRTIO_F_VERSION_1)))
		t->violations++;
	return (f & (1ull << F_B)) && !(f & (1ull << F_A)) ? -EINVAL : 0;
}

static void t_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	memcpy(data, &to_tdev(vdev)->config[off], len);
}

static void t_config_write(struct virtio_dev *vdev, uint32_t off, const void *data, uint32_t len)
{
	struct tdev *t = to_tdev(vdev);

	t->config_writes++;
	memcpy(&t->config[off], data, len);
}

static unsigned int t_num_queues(struct virtio_dev *vdev)
{
	return NQ;
}

static uint16_t t_max_queue_size(struct virtio_dev *vdev, unsigned int q)
{
	return q == 2 ? 64 : 256;
}

static uint16_t t_num_queues_bad_size(struct virtio_dev *vdev, unsigned int q)
{
	return 100;
}

static int t_queue_enable(struct virtio_dev *vdev, unsigned int q,
			  const struct virtio_queue_config *cfg)
{
	struct tdev *t = to_tdev(vdev);

	t->enables++;
	t->qcfg[q] = *cfg;
	if (q >= NQ || !cfg->size || (cfg->size & (cfg->size - 1)) ||
	    cfg->size > t_max_queue_size(vdev, q) || cfg->desc % 16 || cfg->avail % 2 ||
	    cfg->used % 4 || cfg->desc + 16ull * cfg->size > (1 << 20) ||
	    (cfg->msix_vector != VIRTIO_MSI_NO_VECTOR && cfg->msix_vector > NQ) ||
	    !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK))
		t->violations++;
	return 0;
}

static void t_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	to_tdev(vdev)->notified[q]++;
}

static int t_start(struct virtio_dev *vdev)
{
	struct tdev *t = to_tdev(vdev);

	t->starts++;
	return t->start_ret;
}

static void t_reset(struct virtio_dev *vdev)
{
	to_tdev(vdev)->resets++;
}

static const struct virtio_dev_ops tdev_ops = {
	.name = "tdev",
	.device_id = VIRTIO_ID_NET,
	.config_size = sizeof(((struct tdev *)0)->config),
	.get_host_features = t_host_features,
	.set_guest_features = t_set_guest_features,
	.config_read = t_config_read,
	.config_write = t_config_write,
	.num_queues = t_num_queues,
	.max_queue_size = t_max_queue_size,
	.queue_enable = t_queue_enable,
	.queue_notify = t_queue_notify,
	.start = t_start,
	.reset = t_reset,
};

/* --- the hypervisor side: counters in place of KVM --- */
struct irqs {
	int intx_level;
	unsigned int intx_raised, msi_sent, attached, detached, io_added, io_deleted;
	uint32_t last_data;
	int attached_fd;
	uint64_t io_addr;
};

static int h_intx(void *o, unsigned int irq, int level)
{
	struct irqs *r = o;

	r->intx_raised += level;
	r->intx_level = level;
	return 0;
}

static int h_msi(void *o, uint64_t addr, uint32_t data)
{
	struct irqs *r = o;

	r->msi_sent++;
	r->last_data = data;
	return 0;
}

static int h_route_add(void *o, uint64_t addr, uint32_t data, uint32_t *route)
{
	*route = 24 + (data & 0xff);
	return 0;
}

static int h_route_update(void *o, uint32_t route, uint64_t addr, uint32_t data)
{
	return 0;
}

static int h_route_del(void *o, uint32_t route)
{
	return 0;
}

static int h_attach(void *o, int efd, uint32_t route)
{
	struct irqs *r = o;

	r->attached++;
	r->attached_fd = efd;
	return 0;
}

static int h_detach(void *o, int efd, uint32_t route)
{
	struct irqs *r = o;

	r->detached++;
	return 0;
}

static int h_io_add(void *o, uint64_t addr, uint32_t len, int efd)
{
	struct irqs *r = o;

	r->io_added++;
	r->io_addr = addr;
	return 0;
}

static int h_io_del(void *o, uint64_t addr, uint32_t len, int efd)
{
	struct irqs *r = o;

	r->io_deleted++;
	if (r->io_addr == addr)
		r->io_addr = 0;
	return 0;
}

static const struct pci_irq_ops slow_ops = { .intx_set = h_intx, .msi_send = h_msi };
static const struct pci_irq_ops fast_ops = {
	.intx_set = h_intx,
	.msi_send = h_msi,
	.msi_route_add = h_route_add,
	.msi_route_update = h_route_update,
	.msi_route_del = h_route_del,
	.irqfd_attach = h_attach,
	.irqfd_detach = h_detach,
	.ioeventfd_add = h_io_add,
	.ioeventfd_del = h_io_del,
};

static const uint8_t intx_irqs[] = { 16 };

FIXTURE(vp)
{
	struct bus pio, mmio;
	struct pci_host host;
	struct guest_mem mem;
	struct loop *loop;
	struct tdev t;
	struct irqs irqs;
	struct virtio_pci *vpci;
	uint64_t bar, msix_bar;
	unsigned int cap[VIRTIO_PCI_CAP_DEVICE_CFG + 1], msix_cap;
};

static int vp_setup(struct _kt_fixture_vp *self, const struct pci_irq_ops *ops)
{
	struct pci_host_params p = {
		.pio_bus = &self->pio,
		.mmio_bus = &self->mmio,
		.mem32_base = 0xc0000000,
		.mem32_size = 0x3ec00000,
		.intx_irqs = intx_irqs,
		.nr_intx_irqs = 1,
		.irq_ops = ops,
		.irq_opaque = &self->irqs,
	};
	int ret;

	bus_init(&self->pio, "pio");
	bus_init(&self->mmio, "mmio");
	guest_mem_init(&self->mem);
	ret = guest_mem_add_ram(&self->mem, 0, 1 << 20);
	if (!ret)
		ret = loop_create(&self->loop);
	if (!ret)
		ret = pci_host_init(&self->host, &p);
	if (ret)
		return ret;
	self->t.vdev.ops = &tdev_ops;
	self->t.vdev.mem = &self->mem;
	self->t.vdev.loop = self->loop;
	pthread_mutex_init(&self->t.vdev.lock, NULL);
	return virtio_pci_init(&self->vpci, &self->host, &self->t.vdev);
}

FIXTURE_SETUP(vp)
{
	if (vp_setup(self, &fast_ops))
		kt_fail(__FILE__, __LINE__, true, "setup");
}

FIXTURE_TEARDOWN(vp)
{
	if (self->vpci)
		virtio_pci_exit(self->vpci);
	pci_host_exit(&self->host);
	if (self->loop)
		loop_destroy(self->loop);
	guest_mem_exit(&self->mem);
	bus_exit(&self->mmio);
	bus_exit(&self->pio);
}

/* --- the guest driver's view --- */
static uint32_t cfg_rd(struct _kt_fixture_vp *self, unsigned int off, unsigned int len)
{
	uint32_t a = 0x80000000u | (1 << 11) | (off & 0xfc), v = 0;

	bus_dispatch(&self->pio, 0xcf8, &a, 4, true);
	bus_dispatch(&self->pio, 0xcfc + (off & 3), &v, len, false);
	return v;
}

static void cfg_wr(struct _kt_fixture_vp *self, unsigned int off, unsigned int len, uint32_t v)
{
	uint32_t a = 0x80000000u | (1 << 11) | (off & 0xfc);

	bus_dispatch(&self->pio, 0xcf8, &a, 4, true);
	bus_dispatch(&self->pio, 0xcfc + (off & 3), &v, len, true);
}

/* What virtio_pci_find_capability() and pci_find_capability() do. */
static void find_caps(struct _kt_fixture_vp *self)
{
	unsigned int p;

	for (p = cfg_rd(self, PCI_CAPABILITY_LIST, 1); p; p = cfg_rd(self, p + 1, 1)) {
		unsigned int id = cfg_rd(self, p, 1), type = cfg_rd(self, p + 3, 1);

		if (id == PCI_CAP_ID_MSIX)
			self->msix_cap = p;
		else if (id == PCI_CAP_ID_VNDR && type < ARRAY_SIZE(self->cap))
			self->cap[type] = p;
	}
	self->bar = (cfg_rd(self, PCI_BASE_ADDRESS_4, 4) & ~0xfull) |
		    (uint64_t)cfg_rd(self, PCI_BASE_ADDRESS_5, 4) << 32;
	self->msix_bar = cfg_rd(self, PCI_BASE_ADDRESS_1, 4) & ~0xfull;
}

static uint64_t region(struct _kt_fixture_vp *self, unsigned int type)
{
	return self->bar + cfg_rd(self, self->cap[type] + VIRTIO_PCI_CAP_OFFSET, 4);
}

#define CC(f) offsetof(struct virtio_pci_common_cfg, f)

static uint32_t rd(struct _kt_fixture_vp *self, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	bus_dispatch(&self->mmio, region(self, VIRTIO_PCI_CAP_COMMON_CFG) + off, &v, len, false);
	return v;
}

static void wr(struct _kt_fixture_vp *self, unsigned int off, unsigned int len, uint32_t v)
{
	bus_dispatch(&self->mmio, region(self, VIRTIO_PCI_CAP_COMMON_CFG) + off, &v, len, true);
}

static uint8_t isr_read(struct _kt_fixture_vp *self)
{
	uint8_t v = 0;

	bus_dispatch(&self->mmio, region(self, VIRTIO_PCI_CAP_ISR_CFG), &v, 1, false);
	return v;
}

static void kick(struct _kt_fixture_vp *self, unsigned int q)
{
	uint16_t v = q;
	uint32_t mult = cfg_rd(self, self->cap[VIRTIO_PCI_CAP_NOTIFY_CFG] + 16, 4);

	bus_dispatch(&self->mmio, region(self, VIRTIO_PCI_CAP_NOTIFY_CFG) + q * mult, &v, 2, true);
}

static uint64_t features(struct _kt_fixture_vp *self)
{
	wr(self, CC(device_feature_select), 4, 0);
	uint64_t lo = rd(self, CC(device_feature), 4);
	wr(self, CC(device_feature_select), 4, 1);
	return lo | (uint64_t)rd(self, CC(device_feature), 4) << 32;
}

/* vp_reset + ACKNOWLEDGE + DRIVER + feature write + FEATURES_OK; returns the status read back. */
static uint8_t negotiate(struct _kt_fixture_vp *self, uint64_t f)
{
	find_caps(self);
	wr(self, CC(device_status), 1, 0);
	wr(self, CC(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(self, CC(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(self, CC(guest_feature_select), 4, 0);
	wr(self, CC(guest_feature), 4, (uint32_t)f);
	wr(self, CC(guest_feature_select), 4, 1);
	wr(self, CC(guest_feature), 4, f >> 32);
	wr(self, CC(device_status), 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return rd(self, CC(device_status), 1);
}

#define GOOD_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << F_A) | (1ull << F_B))
#define ST_FOK                                                                                     \
	(uint8_t)(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |                           \
		  VIRTIO_CONFIG_S_FEATURES_OK)

/* Queue q: rings at 0x10000 * (q + 1) in guest RAM. */
static void setup_queue(struct _kt_fixture_vp *self, unsigned int q, uint16_t size, uint16_t vec)
{
	uint64_t base = 0x10000ull * (q + 1);

	wr(self, CC(queue_select), 2, q);
	wr(self, CC(queue_size), 2, size);
	wr(self, CC(queue_msix_vector), 2, vec);
	wr(self, CC(queue_desc_lo), 4, (uint32_t)base);
	wr(self, CC(queue_desc_hi), 4, 0);
	wr(self, CC(queue_avail_lo), 4, (uint32_t)base + 0x4000);
	wr(self, CC(queue_avail_hi), 4, 0);
	wr(self, CC(queue_used_lo), 4, (uint32_t)base + 0x8000);
	wr(self, CC(queue_used_hi), 4, 0);
	wr(self, CC(queue_enable), 2, 1);
}

static uint64_t guest_errors(struct _kt_fixture_vp *self)
{
	struct virtio_pci_stats st;

	virtio_pci_get_stats(self->vpci, &st);
	return st.guest_errors;
}

TEST_F(vp, identity_bars_and_capabilities)
{
	find_caps(self);
	EXPECT_EQ(cfg_rd(self, PCI_VENDOR_ID, 4), (0x1040u + VIRTIO_ID_NET) << 16 | 0x1af4);
	EXPECT_GE(cfg_rd(self, PCI_REVISION_ID, 1), 1u);
	EXPECT_EQ(cfg_rd(self, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4u);
	EXPECT_GE(cfg_rd(self, PCI_SUBSYSTEM_ID, 2), 0x40u);
	EXPECT_EQ(cfg_rd(self, PCI_CLASS_DEVICE, 2), 0x0200u);
	EXPECT_EQ(cfg_rd(self, PCI_BASE_ADDRESS_4, 4) & 0xf,
		  (uint32_t)(PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH));
	ASSERT_NE(self->cap[VIRTIO_PCI_CAP_COMMON_CFG], 0u);
	ASSERT_NE(self->cap[VIRTIO_PCI_CAP_NOTIFY_CFG], 0u);
	ASSERT_NE(self->cap[VIRTIO_PCI_CAP_ISR_CFG], 0u);
	ASSERT_NE(self->cap[VIRTIO_PCI_CAP_DEVICE_CFG], 0u);
	ASSERT_NE(self->msix_cap, 0u);
	EXPECT_EQ(cfg_rd(self, self->cap[VIRTIO_PCI_CAP_COMMON_CFG] + VIRTIO_PCI_CAP_BAR, 1), 4u);
	EXPECT_GE(cfg_rd(self, self->cap[VIRTIO_PCI_CAP_COMMON_CFG] + VIRTIO_PCI_CAP_LENGTH, 4),
		  (uint32_t)sizeof(struct virtio_pci_common_cfg));
	EXPECT_EQ(cfg_rd(self, self->cap[VIRTIO_PCI_CAP_DEVICE_CFG] + VIRTIO_PCI_CAP_LENGTH, 4),
		  8u);
	/* Linux checks notify_off * multiplier + 2 <= length for every queue. */
	EXPECT_GE(cfg_rd(self, self->cap[VIRTIO_PCI_CAP_NOTIFY_CFG] + VIRTIO_PCI_CAP_LENGTH, 4),
		  (NQ - 1) * cfg_rd(self, self->cap[VIRTIO_PCI_CAP_NOTIFY_CFG] + 16, 4) + 2);
	EXPECT_EQ(cfg_rd(self, self->msix_cap + PCI_MSIX_FLAGS, 2), (uint32_t)NQ);
	EXPECT_EQ(rd(self, CC(num_queues), 2), (uint32_t)NQ);
}

TEST_F(vp, status_sequence_and_feature_negotiation)
{
	find_caps(self);
	EXPECT_EQ(features(self), HOST_FEATURES | (1ull << VIRTIO_F_VERSION_1));
	wr(self, CC(device_feature_select), 4, 2);
	EXPECT_EQ(rd(self, CC(device_feature), 4), 0u);
	EXPECT_EQ(negotiate(self, GOOD_FEATURES | (1ull << F_C)), ST_FOK);
	EXPECT_EQ(self->t.set_features, 1u);
	EXPECT_EQ(self->t.features_seen, GOOD_FEATURES | (1ull << F_C));
	EXPECT_EQ(self->t.vdev.guest_features, GOOD_FEATURES | (1ull << F_C));
	/* The driver's features read back; after FEATURES_OK they are frozen. */
	wr(self, CC(guest_feature_select), 4, 0);
	EXPECT_EQ(rd(self, CC(guest_feature), 4), (uint32_t)GOOD_FEATURES);
	wr(self, CC(guest_feature), 4, 0);
	EXPECT_EQ(rd(self, CC(guest_feature), 4), (uint32_t)GOOD_FEATURES);
	wr(self, CC(device_status), 1, (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK));
	EXPECT_EQ(rd(self, CC(device_status), 1), (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK));
	EXPECT_EQ(self->t.starts, 1u);
	/* Clearing bits without a reset is refused. */
	wr(self, CC(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	EXPECT_EQ(rd(self, CC(device_status), 1), (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK));
}

TEST_F(vp, features_ok_refused)
{
	/* The device says no (B without A): FEATURES_OK does not stick. */
	EXPECT_EQ(negotiate(self, (1ull << VIRTIO_F_VERSION_1) | (1ull << F_B)),
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	EXPECT_EQ(self->t.set_features, 1u);
	/* Bits never offered, and a modern device without VERSION_1: refused before the device. */
	EXPECT_EQ(negotiate(self, GOOD_FEATURES | (1ull << 33)),
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	EXPECT_EQ(negotiate(self, 1ull << F_A),
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	EXPECT_EQ(self->t.set_features, 1u);
	/* DRIVER_OK without FEATURES_OK: refused, device not started. */
	wr(self, CC(device_status), 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
	EXPECT_EQ(rd(self, CC(device_status), 1),
		  (uint32_t)(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	EXPECT_EQ(self->t.starts, 0u);
	/* The driver gives up: FAILED sticks until reset. */
	wr(self, CC(device_status), 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FAILED);
	EXPECT_TRUE(rd(self, CC(device_status), 1) & VIRTIO_CONFIG_S_FAILED);
	EXPECT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
}

TEST_F(vp, queue_registers_latched_at_enable)
{
	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	wr(self, CC(queue_select), 2, 1);
	EXPECT_EQ(rd(self, CC(queue_size), 2), 256u);
	EXPECT_EQ(rd(self, CC(queue_notify_off), 2), 1u);
	EXPECT_EQ(rd(self, CC(queue_enable), 2), 0u);
	setup_queue(self, 1, 128, 1);
	EXPECT_EQ(self->t.enables, 1u);
	EXPECT_EQ(self->t.qcfg[1].size, 128u);
	EXPECT_EQ(self->t.qcfg[1].msix_vector, 1u);
	EXPECT_EQ(self->t.qcfg[1].desc, 0x20000ull);
	EXPECT_EQ(self->t.qcfg[1].avail, 0x24000ull);
	EXPECT_EQ(self->t.qcfg[1].used, 0x28000ull);
	EXPECT_EQ(rd(self, CC(queue_enable), 2), 1u);
	/* After enable the registers are the device's: writes are ignored. */
	wr(self, CC(queue_size), 2, 64);
	wr(self, CC(queue_desc_lo), 4, 0x30000);
	wr(self, CC(queue_msix_vector), 2, 2);
	wr(self, CC(queue_enable), 2, 1);
	EXPECT_EQ(rd(self, CC(queue_size), 2), 128u);
	EXPECT_EQ(rd(self, CC(queue_desc_lo), 4), 0x20000u);
	EXPECT_EQ(rd(self, CC(queue_msix_vector), 2), 1u);
	EXPECT_EQ(self->t.enables, 1u);
	EXPECT_EQ(self->t.qcfg[1].desc, 0x20000ull);
	/* A 64-bit address through both halves. */
	wr(self, CC(queue_select), 2, 0);
	wr(self, CC(queue_desc_hi), 4, 0x1);
	EXPECT_EQ(rd(self, CC(queue_desc_hi), 4), 1u);
}

TEST_F(vp, bad_queue_values_are_refused)
{
	uint64_t errs;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	errs = guest_errors(self);
	wr(self, CC(queue_select), 2, 2);
	wr(self, CC(queue_size), 2, 100); /* not a power of two */
	EXPECT_EQ(rd(self, CC(queue_size), 2), 64u);
	wr(self, CC(queue_size), 2, 128); /* above the maximum */
	EXPECT_EQ(rd(self, CC(queue_size), 2), 64u);
	wr(self, CC(queue_size), 2, 0);
	EXPECT_EQ(rd(self, CC(queue_size), 2), 64u);
	wr(self, CC(queue_msix_vector), 2, NQ + 1); /* beyond the MSI-X table */
	EXPECT_EQ(rd(self, CC(queue_msix_vector), 2), (uint32_t)VIRTIO_MSI_NO_VECTOR);
	wr(self, CC(msix_config), 2, 99);
	EXPECT_EQ(rd(self, CC(msix_config), 2), (uint32_t)VIRTIO_MSI_NO_VECTOR);
	/* Misaligned rings, rings outside RAM, a zero descriptor table: not enabled. */
	setup_queue(self, 2, 64, 0);
	wr(self, CC(queue_desc_lo), 4, 0x30008);
	EXPECT_EQ(self->t.enables, 1u);
	wr(self, CC(queue_select), 2, 0);
	wr(self, CC(queue_desc_lo), 4, 0x10008);
	wr(self, CC(queue_enable), 2, 1);
	wr(self, CC(queue_desc_lo), 4, 0xfffff000);
	wr(self, CC(queue_enable), 2, 1);
	wr(self, CC(queue_desc_lo), 4, 0);
	wr(self, CC(queue_enable), 2, 1);
	wr(self, CC(queue_desc_lo), 4, 0x10000);
	wr(self, CC(queue_used_lo), 4, 0xffffe);
	wr(self, CC(queue_enable), 2, 1);
	wr(self, CC(queue_used_lo), 4, 0xfff00); /* 6 + 8 * 256 runs past 1 MiB */
	wr(self, CC(queue_enable), 2, 1);
	EXPECT_EQ(rd(self, CC(queue_enable), 2), 0u);
	EXPECT_EQ(self->t.enables, 1u);
	/* A queue that does not exist reads size 0 and ignores writes. */
	wr(self, CC(queue_select), 2, 7);
	EXPECT_EQ(rd(self, CC(queue_size), 2), 0u);
	wr(self, CC(queue_enable), 2, 1);
	EXPECT_EQ(self->t.enables, 1u);
	/* Wrong widths and holes: writes dropped, reads all ones. */
	EXPECT_EQ(rd(self, CC(device_status), 4), 0xffffffffu);
	wr(self, CC(device_status), 2, 0);
	EXPECT_EQ(rd(self, CC(device_status), 1), (uint32_t)ST_FOK);
	EXPECT_EQ(rd(self, sizeof(struct virtio_pci_common_cfg), 4), 0xffffffffu);
	EXPECT_EQ(rd(self, CC(queue_desc_lo) + 2, 2), 0xffffu);
	/* Read-only registers stay. */
	wr(self, CC(num_queues), 2, 9);
	EXPECT_EQ(rd(self, CC(num_queues), 2), (uint32_t)NQ);
	EXPECT_GE(guest_errors(self), errs + 14);
}

TEST_F(vp, queue_enable_needs_features_ok)
{
	find_caps(self);
	wr(self, CC(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	setup_queue(self, 0, 256, VIRTIO_MSI_NO_VECTOR);
	EXPECT_EQ(self->t.enables, 0u);
	EXPECT_EQ(rd(self, CC(queue_enable), 2), 0u);
}

TEST_F(vp, reset_returns_to_power_on_state)
{
	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 0, 128, 1);
	wr(self, CC(msix_config), 2, 0);
	wr(self, CC(device_status), 1, (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK));
	ASSERT_EQ(self->t.starts, 1u);
	self->t.resets = 0;
	wr(self, CC(device_status), 1, 0);
	EXPECT_EQ(self->t.resets, 1u);
	EXPECT_EQ(rd(self, CC(device_status), 1), 0u);
	EXPECT_EQ(rd(self, CC(queue_enable), 2), 0u);
	EXPECT_EQ(rd(self, CC(queue_size), 2), 256u);
	EXPECT_EQ(rd(self, CC(queue_msix_vector), 2), (uint32_t)VIRTIO_MSI_NO_VECTOR);
	EXPECT_EQ(rd(self, CC(msix_config), 2), (uint32_t)VIRTIO_MSI_NO_VECTOR);
	wr(self, CC(guest_feature_select), 4, 0);
	EXPECT_EQ(rd(self, CC(guest_feature), 4), 0u);
	EXPECT_EQ(self->t.vdev.guest_features, 0u);
	/* Kicks for the old queue go nowhere; the device comes back up after the reset. */
	kick(self, 0);
	loop_run_once(self->loop, 0);
	EXPECT_EQ(self->t.notified[0], 0u);
	EXPECT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 0, 64, 1);
	EXPECT_EQ(self->t.qcfg[0].size, 64u);
}

TEST_F(vp, trapped_kicks_reach_the_device_on_the_loop)
{
	struct virtio_pci_stats st;
	uint16_t v = 0;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 0, 256, 1);
	setup_queue(self, 2, 64, 2);
	kick(self, 2);
	kick(self, 2);
	kick(self, 0);
	/* Nothing runs on the vCPU thread; the loop delivers. */
	EXPECT_EQ(self->t.notified[2], 0u);
	while (loop_run_once(self->loop, 0) > 0)
		;
	EXPECT_EQ(self->t.notified[0], 1u);
	EXPECT_GE(self->t.notified[2], 1u);
	/* A queue not enabled, an offset between queues, beyond the last queue. */
	kick(self, 1);
	bus_dispatch(&self->mmio, region(self, VIRTIO_PCI_CAP_NOTIFY_CFG) + 2, &v, 2, true);
	bus_dispatch(&self->mmio, region(self, VIRTIO_PCI_CAP_NOTIFY_CFG) + 4 * NQ, &v, 2, true);
	while (loop_run_once(self->loop, 0) > 0)
		;
	EXPECT_EQ(self->t.notified[1], 0u);
	virtio_pci_get_stats(self->vpci, &st);
	EXPECT_EQ(st.kicks_trapped, 4u);
	EXPECT_GE(st.guest_errors, 2u);
}

TEST_F(vp, intx_isr_read_clears_and_lowers)
{
	uint32_t gen;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 0, 256, VIRTIO_MSI_NO_VECTOR);
	ASSERT_EQ(self->t.vdev.transport->notify_queue(&self->t.vdev, 0), 0);
	EXPECT_EQ(self->irqs.intx_level, 1);
	EXPECT_EQ(isr_read(self), VIRTIO_PCI_ISR_QUEUE_BIT);
	EXPECT_EQ(self->irqs.intx_level, 0);
	EXPECT_EQ(isr_read(self), 0u);
	/* Config change: bit 1, and a new generation for the driver's re-read loop. */
	gen = rd(self, CC(config_generation), 1);
	ASSERT_EQ(self->t.vdev.transport->notify_config(&self->t.vdev), 0);
	EXPECT_NE(rd(self, CC(config_generation), 1), gen);
	EXPECT_EQ(self->irqs.intx_level, 1);
	EXPECT_EQ(isr_read(self), VIRTIO_PCI_ISR_CONFIG);
	EXPECT_EQ(self->irqs.intx_level, 0);
	EXPECT_EQ(self->t.vdev.transport->notify_queue(&self->t.vdev, NQ), -EINVAL);
	EXPECT_EQ(self->irqs.msi_sent, 0u);
}

static void msix_entry(struct _kt_fixture_vp *self, unsigned int vec, uint32_t data, bool masked)
{
	uint32_t v[4] = { 0xfee00000, 0, data, masked };

	bus_dispatch(&self->mmio, self->msix_bar + vec * 16, &v[0], 4, true);
	bus_dispatch(&self->mmio, self->msix_bar + vec * 16 + 4, &v[1], 4, true);
	bus_dispatch(&self->mmio, self->msix_bar + vec * 16 + 8, &v[2], 4, true);
	bus_dispatch(&self->mmio, self->msix_bar + vec * 16 + 12, &v[3], 4, true);
}

TEST_F(vp, msix_irqfd_fast_path_and_masking)
{
	int kick_fd, call_fd;
	uint64_t n = 0;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_entry(self, 0, 0x30, false);
	msix_entry(self, 1, 0x31, false);
	wr(self, CC(msix_config), 2, 0);
	EXPECT_EQ(rd(self, CC(msix_config), 2), 0u);
	setup_queue(self, 0, 256, 1);
	ASSERT_EQ(self->t.vdev.transport->queue_eventfds(&self->t.vdev, 0, &kick_fd, &call_fd), 0);
	EXPECT_EQ(self->t.vdev.transport->queue_eventfds(&self->t.vdev, NQ, &kick_fd, &call_fd),
		  -EINVAL);
	/* The queue's call eventfd is bound to vector 1's route: KVM would inject from it. */
	EXPECT_EQ(self->irqs.attached, 1u);
	EXPECT_EQ(self->irqs.attached_fd, call_fd);
	ASSERT_EQ(self->t.vdev.transport->notify_queue(&self->t.vdev, 0), 0);
	ASSERT_EQ(read(call_fd, &n, sizeof(n)), (ssize_t)sizeof(n));
	EXPECT_EQ(n, 1u);
	EXPECT_EQ(self->irqs.msi_sent, 0u);
	EXPECT_EQ(self->irqs.intx_raised, 0u);
	/* Mask vector 1: unbound, the interrupt is held pending and sent on unmask. */
	msix_entry(self, 1, 0x31, true);
	EXPECT_EQ(self->irqs.detached, 1u);
	ASSERT_EQ(self->t.vdev.transport->notify_queue(&self->t.vdev, 0), 0);
	EXPECT_EQ(read(call_fd, &n, sizeof(n)), -1);
	EXPECT_EQ(self->irqs.msi_sent, 0u);
	msix_entry(self, 1, 0x31, false);
	EXPECT_EQ(self->irqs.msi_sent, 1u);
	EXPECT_EQ(self->irqs.last_data, 0x31u);
	EXPECT_EQ(self->irqs.attached, 2u);
	/* Config changes go to the config vector. */
	ASSERT_EQ(self->t.vdev.transport->notify_config(&self->t.vdev), 0);
	EXPECT_EQ(self->irqs.msi_sent, 2u);
	EXPECT_EQ(self->irqs.last_data, 0x30u);
	/* MSI-X off again: back to INTx. */
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, 0);
	EXPECT_EQ(self->irqs.detached, 2u);
	ASSERT_EQ(self->t.vdev.transport->notify_queue(&self->t.vdev, 0), 0);
	EXPECT_EQ(self->irqs.intx_level, 1);
	/* Reset unbinds. */
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	EXPECT_EQ(self->irqs.attached, 3u);
	wr(self, CC(device_status), 1, 0);
	EXPECT_EQ(self->irqs.detached, 3u);
}

TEST_F(vp, ioeventfd_follows_enable_bar_moves_and_reset)
{
	uint64_t notify, moved = 0x2000000000ull;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	notify = region(self, VIRTIO_PCI_CAP_NOTIFY_CFG);
	EXPECT_EQ(self->irqs.io_added, 0u);
	setup_queue(self, 1, 256, VIRTIO_MSI_NO_VECTOR);
	EXPECT_EQ(self->irqs.io_added, 1u);
	EXPECT_EQ(self->irqs.io_addr, notify + 1 * VIRTIO_PCI_NOTIFY_MULTIPLIER);
	/* The guest moves the BAR: the ioeventfd moves with it. */
	cfg_wr(self, PCI_BASE_ADDRESS_4, 4, (uint32_t)moved | 0xc);
	cfg_wr(self, PCI_BASE_ADDRESS_5, 4, moved >> 32);
	EXPECT_EQ(self->irqs.io_addr, moved + VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULTIPLIER);
	/* Decode off: gone. */
	cfg_wr(self, PCI_COMMAND, 2, 0);
	EXPECT_EQ(self->irqs.io_addr, 0u);
	cfg_wr(self, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	EXPECT_EQ(self->irqs.io_addr, moved + VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULTIPLIER);
	/* The driver finds the registers where the BAR now is. */
	find_caps(self);
	EXPECT_EQ(self->bar, moved);
	wr(self, CC(device_status), 1, 0);
	EXPECT_EQ(self->irqs.io_addr, 0u);
	EXPECT_EQ(self->irqs.io_added, self->irqs.io_deleted);
}

TEST_F(vp, needs_reset_interrupts_once_and_clears_on_reset)
{
	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 0, 256, VIRTIO_MSI_NO_VECTOR);
	wr(self, CC(device_status), 1, (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK));
	virtio_dev_needs_reset(&self->t.vdev);
	virtio_dev_needs_reset(&self->t.vdev);
	EXPECT_EQ(self->irqs.intx_raised, 1u);
	EXPECT_TRUE(rd(self, CC(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	EXPECT_EQ(isr_read(self), VIRTIO_PCI_ISR_CONFIG);
	/* The guest cannot clear it, and kicks go nowhere meanwhile. */
	wr(self, CC(device_status), 1, (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK));
	EXPECT_TRUE(rd(self, CC(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	kick(self, 0);
	loop_run_once(self->loop, 0);
	EXPECT_EQ(self->t.notified[0], 0u);
	wr(self, CC(device_status), 1, 0);
	EXPECT_EQ(rd(self, CC(device_status), 1), 0u);
	EXPECT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 0, 256, VIRTIO_MSI_NO_VECTOR);
	kick(self, 0);
	loop_run_once(self->loop, 0);
	EXPECT_EQ(self->t.notified[0], 1u);
}

TEST_F(vp, failed_start_sets_needs_reset)
{
	self->t.start_ret = -EIO;
	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	wr(self, CC(device_status), 1, (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK));
	EXPECT_EQ(rd(self, CC(device_status), 1),
		  (uint32_t)(ST_FOK | VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET));
	EXPECT_EQ(self->irqs.intx_level, 1);
}

TEST_F(vp, device_config_within_bounds)
{
	uint64_t dev;
	uint32_t v = 0;

	find_caps(self);
	dev = region(self, VIRTIO_PCI_CAP_DEVICE_CFG);
	memcpy(self->t.config, "\x52\x54\x00\x12\x34\x56\x01\x00", 8);
	ASSERT_EQ(bus_dispatch(&self->mmio, dev + 4, &v, 4, false), 0);
	EXPECT_EQ(v, 0x00015634u);
	v = 0xab;
	bus_dispatch(&self->mmio, dev + 7, &v, 1, true);
	EXPECT_EQ(self->t.config[7], 0xabu);
	/* Past the end: the device is not called, reads are all ones. */
	bus_dispatch(&self->mmio, dev + 6, &v, 4, false);
	EXPECT_EQ(v, 0xffffffffu);
	bus_dispatch(&self->mmio, dev + 8, &v, 1, true);
	EXPECT_EQ(self->t.config_writes, 1u);
}

TEST(init_refuses_bad_devices)
{
	static const uint8_t irqs[] = { 16 };
	struct pci_host_params p = { .mem32_base = 0xc0000000,
				     .mem32_size = 0x10000000,
				     .intx_irqs = irqs,
				     .nr_intx_irqs = 1,
				     .irq_ops = &slow_ops };
	struct virtio_dev_ops ops = tdev_ops;
	struct virtio_pci *vpci;
	struct pci_host host;
	struct bus pio, mmio;
	struct tdev t = { 0 };
	struct loop *loop;

	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	p.pio_bus = &pio;
	p.mmio_bus = &mmio;
	ASSERT_EQ(pci_host_init(&host, &p), 0);
	ASSERT_EQ(loop_create(&loop), 0);
	t.vdev.ops = &ops;
	t.vdev.loop = loop;
	pthread_mutex_init(&t.vdev.lock, NULL);
	ops.config_size = 0x2000;
	EXPECT_EQ(virtio_pci_init(&vpci, &host, &t.vdev), -EINVAL);
	ops.config_size = 8;
	ops.max_queue_size = t_num_queues_bad_size;
	EXPECT_EQ(virtio_pci_init(&vpci, &host, &t.vdev), -EINVAL);
	EXPECT_EQ(t.vdev.transport, NULL);
	/* The unwind closed only what it opened: stdin is still there. */
	EXPECT_EQ(fcntl(0, F_GETFD), 0);
	loop_destroy(loop);
	pci_host_exit(&host);
	bus_exit(&mmio);
	bus_exit(&pio);
}

TEST(slow_path_without_irqfd)
{
	struct _kt_fixture_vp s, *self = &s;

	memset(&s, 0, sizeof(s));
	ASSERT_EQ(vp_setup(self, &slow_ops), 0);
	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_entry(self, 2, 0x44, false);
	setup_queue(self, 0, 256, 2);
	ASSERT_EQ(self->t.vdev.transport->notify_queue(&self->t.vdev, 0), 0);
	EXPECT_EQ(self->irqs.msi_sent, 1u);
	EXPECT_EQ(self->irqs.last_data, 0x44u);
	/* No vector for the queue: no interrupt at all in MSI-X mode. */
	setup_queue(self, 1, 256, VIRTIO_MSI_NO_VECTOR);
	ASSERT_EQ(self->t.vdev.transport->notify_queue(&self->t.vdev, 1), 0);
	EXPECT_EQ(self->irqs.msi_sent, 1u);
	EXPECT_EQ(self->irqs.intx_raised, 0u);
	_kt_teardown_vp(self);
}

TEST_F(vp, host_bridge_gone_before_the_device)
{
	struct pci_host_params p = self->host.p;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_entry(self, 1, 0x31, false);
	setup_queue(self, 0, 256, 1);
	ASSERT_EQ(self->irqs.attached, 1u);
	/* The wrong teardown order must not crash; late interrupts go nowhere. */
	pci_host_exit(&self->host);
	EXPECT_EQ(self->irqs.io_addr, 0u);
	self->irqs.msi_sent = self->irqs.intx_raised = 0;
	self->t.vdev.transport->notify_queue(&self->t.vdev, 0);
	self->t.vdev.transport->notify_config(&self->t.vdev);
	EXPECT_EQ(self->irqs.msi_sent + self->irqs.intx_raised, 0u);
	virtio_pci_exit(self->vpci);
	self->vpci = NULL;
	ASSERT_EQ(pci_host_init(&self->host, &p), 0);
}

/* xorshift64: a fixed-seed stream, so a failure replays. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST_F_TIMEOUT(vp, random_guest_writes_are_contained, 120)
{
	static const unsigned int lens[] = { 1, 2, 4, 8, 3 };
	static const uint64_t plausible[] = { 0,       1,	2,	    3,	       7,
					      64,      100,	128,	    256,       512,
					      0xffff,  0x10000, 0x10008,    0x14000,   0x18000,
					      0x18002, 0xffff0, 0xfffff000, 0xfee00000 };
	static const uint8_t regs[][2] = {
		{ CC(queue_select), 2 },      { CC(queue_size), 2 },
		{ CC(queue_msix_vector), 2 }, { CC(queue_enable), 2 },
		{ CC(queue_desc_lo), 4 },     { CC(queue_desc_hi), 4 },
		{ CC(queue_avail_lo), 4 },    { CC(queue_used_lo), 4 },
		{ CC(device_status), 1 },     { CC(msix_config), 2 },
		{ CC(guest_feature), 4 },     { CC(guest_feature_select), 4 },
	};
	uint64_t seed = 0x6b61766d, r, bar;
	unsigned int i;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	bar = self->bar;
	/*
	 * A hostile guest: 200000 accesses of every width (3 included) to the
	 * virtio BAR, the MSI-X BAR and config space, biased towards the
	 * common config where the state machine lives.
	 */
	for (i = 0; i < 200000; i++) {
		uint64_t v = rnd(&seed), where;
		unsigned int len = lens[(r = rnd(&seed)) % ARRAY_SIZE(lens)];
		bool write = (r >> 8) & 1;

		switch ((r >> 16) % 8) {
		case 0:
			/* Config space, but leave COMMAND and the virtio BAR alone mostly. */
			where = (r >> 24) % 256;
			if ((where >= 0x20 && where < 0x28) || where < 8)
				continue;
			if (write && len <= 4)
				cfg_wr(self, where, len, (uint32_t)v);
			else if (len <= 4)
				cfg_rd(self, where, len);
			continue;
		case 1:
			where = self->msix_bar + (r >> 24) % 0x1000;
			break;
		case 2:
		case 3:
			where = bar + (r >> 24) % 0x4000;
			break;
		case 4:
			where = bar + (r >> 24) % 64;
			break;
		default:
			/* A real register with its real width: the state machine's own inputs. */
			where = bar + regs[(r >> 24) % ARRAY_SIZE(regs)][0];
			len = regs[(r >> 24) % ARRAY_SIZE(regs)][1];
			break;
		}
		/* Mostly plausible values, so the checks past the first one get hit. */
		if ((r >> 40) & 7)
			v = plausible[(r >> 41) % ARRAY_SIZE(plausible)];
		/* And now and then the driver gets back to FEATURES_OK to be attacked again. */
		if (i % 2000 == 0) {
			find_caps(self);
			negotiate(self, GOOD_FEATURES);
		}
		bus_dispatch(&self->mmio, where, &v, len, write);
		if ((i & 1023) == 0)
			loop_run_once(self->loop, 0);
	}
	while (loop_run_once(self->loop, 0) > 0)
		;
	EXPECT_EQ(self->t.violations, 0u);
	EXPECT_GT(self->t.enables, 0u);
	EXPECT_GT(guest_errors(self), 1000u);
	/* The device still works for a well-behaved driver after a reset. */
	cfg_wr(self, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	memset(self->t.notified, 0, sizeof(self->t.notified));
	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 1, 128, VIRTIO_MSI_NO_VECTOR);
	EXPECT_EQ(self->t.qcfg[1].size, 128u);
	EXPECT_EQ(rd(self, CC(queue_enable), 2), 1u);
	kick(self, 1);
	while (loop_run_once(self->loop, 0) > 0)
		;
	EXPECT_EQ(self->t.notified[1], 1u);
}

TEST_F(vp, external_call_signals_are_not_lost)
{
	uint64_t one = 1;
	int kick_fd, call_fd;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_entry(self, 1, 0x31, true);
	setup_queue(self, 0, 256, 1);
	ASSERT_EQ(self->t.vdev.transport->queue_eventfds(&self->t.vdev, 0, &kick_fd, &call_fd), 0);
	/* vhost signals the call eventfd while vector 1 is masked: held in the PBA. */
	ASSERT_EQ(write(call_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	while (loop_run_once(self->loop, 0) > 0)
		;
	EXPECT_EQ(self->irqs.msi_sent, 0u);
	{
		uint32_t pba = 0;

		bus_dispatch(&self->mmio, self->msix_bar + 2048, &pba, 4, false);
		EXPECT_EQ(pba, 1u << 1);
	}
	msix_entry(self, 1, 0x31, false);
	EXPECT_EQ(self->irqs.msi_sent, 1u);
	EXPECT_EQ(self->irqs.last_data, 0x31u);
	/* MSI-X off: the same signal becomes INTx with ISR bit 0. */
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, 0);
	ASSERT_EQ(write(call_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	while (loop_run_once(self->loop, 0) > 0)
		;
	EXPECT_EQ(self->irqs.intx_level, 1);
	EXPECT_EQ(isr_read(self), 1u);
}

TEST_F(vp, handed_out_kick_eventfd_takes_the_kicks)
{
	int kick_fd, call_fd;
	uint64_t n = 0;

	ASSERT_EQ(negotiate(self, GOOD_FEATURES), ST_FOK);
	setup_queue(self, 0, 256, VIRTIO_MSI_NO_VECTOR);
	ASSERT_EQ(self->irqs.io_added, 1u);
	/* vhost asks for the queue's eventfds: the ioeventfd moves to the handed-out fd. */
	ASSERT_EQ(self->t.vdev.transport->queue_eventfds(&self->t.vdev, 0, &kick_fd, &call_fd), 0);
	EXPECT_EQ(self->irqs.io_added, 2u);
	EXPECT_EQ(self->irqs.io_deleted, 1u);
	EXPECT_EQ(self->irqs.io_addr, region(self, VIRTIO_PCI_CAP_NOTIFY_CFG));
	/* A trapped kick lands there too, and the loop (the userspace device) keeps out. */
	kick(self, 0);
	while (loop_run_once(self->loop, 0) > 0)
		;
	EXPECT_EQ(self->t.notified[0], 0u);
	ASSERT_EQ(read(kick_fd, &n, sizeof(n)), (ssize_t)sizeof(n));
	EXPECT_EQ(n, 1u);
	/* Asking again hands out the same fds and changes nothing. */
	{
		int k2, c2;

		ASSERT_EQ(self->t.vdev.transport->queue_eventfds(&self->t.vdev, 0, &k2, &c2), 0);
		EXPECT_EQ(k2, kick_fd);
		EXPECT_EQ(c2, call_fd);
		EXPECT_EQ(self->irqs.io_added, 2u);
	}
}
