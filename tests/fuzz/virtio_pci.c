// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a hostile guest against the virtio-pci transport of a
 * real virtio-net device. The input is a program of register accesses --
 * config space (BARs, command, MSI-X capability), the common config
 * (status, feature select/words, queue select/size/enable/reset/vector and
 * ring addresses, in any order, also after DRIVER_OK), notify, ISR and
 * device config, the MSI-X table and PBA -- mixed with frames from the peer
 * and loop turns. Any crash, sanitizer report, leak or hang is a finding.
 *
 *   make fuzz && build/fuzz/virtio_pci tests/fuzz/corpus/virtio_pci
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include <kavm/bus.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/pci.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio-pci.h>
#include <kavm/virtio.h>

#include "../lib/virtio-driver.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t intx_irqs[] = { 16 };

static int h_intx(void *o, unsigned int irq, int level)
{
	return 0;
}

static int h_msi(void *o, uint64_t addr, uint32_t data)
{
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

static int h_fd(void *o, int efd, uint32_t route)
{
	return 0;
}

static int h_io(void *o, uint64_t addr, uint32_t len, int efd)
{
	return 0;
}

static const struct pci_irq_ops irq_ops = {
	.intx_set = h_intx,
	.msi_send = h_msi,
	.msi_route_add = h_route_add,
	.msi_route_update = h_route_update,
	.msi_route_del = h_route_del,
	.irqfd_attach = h_fd,
	.irqfd_detach = h_fd,
	.ioeventfd_add = h_io,
	.ioeventfd_del = h_io,
};

static struct env {
	struct bus pio, mmio;
	struct pci_host host;
	struct loop *loop;
	struct vdrv d; /* guest RAM and a peer; its driver half is not used */
	struct tpeer peer;
	struct virtio_net *vn;
	struct virtio_pci *vpci;
} E;

static int env_init(void)
{
	struct pci_host_params p = {
		.pio_bus = &E.pio,
		.mmio_bus = &E.mmio,
		.mem32_base = 0xc0000000,
		.mem32_size = 0x3ec00000,
		.intx_irqs = intx_irqs,
		.nr_intx_irqs = 1,
		.irq_ops = &irq_ops,
	};
	struct virtio_net_params np = { .mtu = 1500, .name = "fuzz" };

	memset(&E, 0, sizeof(E));
	bus_init(&E.pio, "pio");
	bus_init(&E.mmio, "mmio");
	if (loop_create(&E.loop) || vdrv_init(&E.d, E.loop) || tpeer_init(&E.peer, true) ||
	    pci_host_init(&E.host, &p))
		return -1;
	np.mem = &E.d.mem;
	np.loop = E.loop;
	np.backend = &E.peer.nc;
	memcpy(np.mac, "\x52\x54\x00\x12\x34\x56", 6);
	if (virtio_net_init(&np, &E.vn))
		return -1;
	return virtio_pci_init(&E.vpci, &E.host, virtio_net_vdev(E.vn));
}

static void env_exit(void)
{
	if (E.vpci)
		virtio_pci_exit(E.vpci);
	if (E.vn)
		virtio_net_exit(E.vn);
	pci_host_exit(&E.host);
	tpeer_exit(&E.peer);
	vdrv_exit(&E.d);
	if (E.loop)
		loop_destroy(E.loop);
	bus_exit(&E.mmio);
	bus_exit(&E.pio);
}

static void cfg_access(unsigned int off, unsigned int len, uint32_t *v, bool write)
{
	uint32_t a = 0x80000000u | (1 << 11) | (off & 0xfc);

	bus_dispatch(&E.pio, 0xcf8, &a, 4, true);
	bus_dispatch(&E.pio, 0xcfc + (off & 3), v, len, write);
}

static uint64_t bar_addr(unsigned int bar)
{
	uint32_t lo = 0, hi = 0;

	cfg_access(PCI_BASE_ADDRESS_0 + 4 * bar, 4, &lo, false);
	if (bar == VIRTIO_PCI_BAR)
		cfg_access(PCI_BASE_ADDRESS_0 + 4 * (bar + 1), 4, &hi, false);
	return ((uint64_t)hi << 32) | (lo & ~0xfu);
}

/* Common config fields as a driver sees them, so that short inputs reach deep. */
static const uint16_t common_regs[] = {
	offsetof(struct virtio_pci_common_cfg, device_feature_select),
	offsetof(struct virtio_pci_common_cfg, device_feature),
	offsetof(struct virtio_pci_common_cfg, guest_feature_select),
	offsetof(struct virtio_pci_common_cfg, guest_feature),
	offsetof(struct virtio_pci_common_cfg, msix_config),
	offsetof(struct virtio_pci_common_cfg, num_queues),
	offsetof(struct virtio_pci_common_cfg, device_status),
	offsetof(struct virtio_pci_common_cfg, config_generation),
	offsetof(struct virtio_pci_common_cfg, queue_select),
	offsetof(struct virtio_pci_common_cfg, queue_size),
	offsetof(struct virtio_pci_common_cfg, queue_msix_vector),
	offsetof(struct virtio_pci_common_cfg, queue_enable),
	offsetof(struct virtio_pci_common_cfg, queue_notify_off),
	offsetof(struct virtio_pci_common_cfg, queue_desc_lo),
	offsetof(struct virtio_pci_common_cfg, queue_desc_hi),
	offsetof(struct virtio_pci_common_cfg, queue_avail_lo),
	offsetof(struct virtio_pci_common_cfg, queue_avail_hi),
	offsetof(struct virtio_pci_common_cfg, queue_used_lo),
	offsetof(struct virtio_pci_common_cfg, queue_used_hi),
	0x3a, /* queue_reset (virtio 1.2), past the 1.1 layout */
};

static void mmio(uint64_t addr, unsigned int len, uint64_t *v, bool write)
{
	bus_dispatch(&E.mmio, addr, v, len, write);
}

static void op(struct input *in)
{
	unsigned int what = take(in, 1) % 8, len = 1u << (take(in, 1) % 4);
	bool write = take(in, 1) & 1;
	uint64_t v = 0, off;
	uint8_t frame[128] = { 0 };

	if (write)
		v = take(in, len);
	switch (what) {
	case 0: /* config space, any offset */
		off = take(in, 1);
		cfg_access(off, len > 4 ? 4 : len, (uint32_t *)&v, write);
		break;
	case 1: /* a common config register */
		off = common_regs[take(in, 1) % ARRAY_SIZE(common_regs)];
		mmio(bar_addr(VIRTIO_PCI_BAR) + VIRTIO_PCI_COMMON_OFF + off, len, &v, write);
		break;
	case 2: /* anywhere in the virtio BAR: ISR, device config, notify, holes */
		off = take(in, 2) % VIRTIO_PCI_BAR_SIZE;
		mmio(bar_addr(VIRTIO_PCI_BAR) + off, len, &v, write);
		break;
	case 3: /* the MSI-X BAR: table and PBA */
		off = take(in, 2) % 0x1000;
		mmio(bar_addr(VIRTIO_PCI_MSIX_BAR) + off, len, &v, write);
		break;
	case 4: /* a notify write for queue n */
		v = take(in, 1) % 4;
		mmio(bar_addr(VIRTIO_PCI_BAR) + VIRTIO_PCI_NOTIFY_OFF +
			     v * VIRTIO_PCI_NOTIFY_MULTIPLIER,
		     2, &v, true);
		break;
	case 5: /* a frame from the peer */
		memcpy(frame + 12, "\x52\x54\x00\x12\x34\x56", 6);
		net_send(&E.peer.nc, frame, 12 + take(in, 1) % 116, NULL);
		break;
	default:
		while (loop_run_once(E.loop, 0) > 0)
			;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	unsigned int ops = 0;
	uint32_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	log_level = -1;
	if (env_init() == 0) {
		cfg_access(PCI_COMMAND, 2, &cmd, true);
		while (in.left && ops++ < 512)
			op(&in);
		while (loop_run_once(E.loop, 0) > 0)
			;
	}
	env_exit();
	return 0;
}
