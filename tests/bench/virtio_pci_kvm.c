// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark on /dev/kvm: what a kick and an interrupt cost on each
 * virtio-pci path, as ratios against a baseline measured in the same run.
 *   interrupts (host side, per notify_queue): irqfd, KVM_SIGNAL_MSI, INTx
 *     raise + ISR read; baseline: one write() to an unbound eventfd.
 *   kicks (a 64-bit guest storing to the notify register N times): caught
 *     by the ioeventfd in KVM, or trapped to userspace (MMIO exit, bus
 *     dispatch, eventfd write); baseline: the ioeventfd path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include <kavm/bus.h>
#include <kavm/compiler.h>
#include <kavm/irq.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/memory.h>
#include <kavm/pci.h>
#include <kavm/virtio-pci.h>
#include <kavm/virtio.h>

#define RAM_SIZE (1 << 20)
#define CODE_GPA 0x1000
#define PT_GPA 0x20000
#define NR_IRQS 200000
#define NR_KICKS 20000
#define ROUNDS 5 /* the machine is shared: report the best of ROUNDS */

struct rig {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	struct kvm_irq irq;
	struct bus pio, mmio;
	struct guest_mem mem;
	struct pci_host host;
	struct loop *loop;
	struct virtio_dev vdev;
	struct virtio_pci *vpci;
	uint64_t bar, msix_bar;
	unsigned int msix_cap;
	uint64_t kicks;
	bool long_mode; /* CPUID and sregs set: later rounds only reset the registers */
};

static uint64_t b_features(struct virtio_dev *vdev)
{
	return 0;
}

static unsigned int b_nq(struct virtio_dev *vdev)
{
	return 1;
}

static uint16_t b_max(struct virtio_dev *vdev, unsigned int q)
{
	return 256;
}

static int b_enable(struct virtio_dev *vdev, unsigned int q, const struct virtio_queue_config *c)
{
	return 0;
}

static void b_notify(struct virtio_dev *vdev, unsigned int q)
{
	container_of(vdev, struct rig, vdev)->kicks++;
}

static const struct virtio_dev_ops bench_ops = {
	.name = "bench",
	.device_id = VIRTIO_ID_NET,
	.get_host_features = b_features,
	.num_queues = b_nq,
	.max_queue_size = b_max,
	.queue_enable = b_enable,
	.queue_notify = b_notify,
};

static const uint8_t intx_irqs[] = { 16 };

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int rig_vm(struct rig *r)
{
	struct kvm_userspace_memory_region m = { .slot = 0, .memory_size = RAM_SIZE };
	int sz;

	r->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	r->vm = r->kvm < 0 ? -1 : ioctl(r->kvm, KVM_CREATE_VM, 0);
	if (r->vm < 0 || ioctl(r->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	r->vcpu = ioctl(r->vm, KVM_CREATE_VCPU, 0);
	sz = ioctl(r->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r->vcpu < 0 || sz < 0)
		return -errno;
	r->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, r->vcpu, 0);
	if (r->run == MAP_FAILED)
		return -errno;
	guest_mem_init(&r->mem);
	if (guest_mem_add_ram(&r->mem, 0, RAM_SIZE))
		return -ENOMEM;
	m.userspace_addr = (uintptr_t)r->mem.regions[0].hva;
	return ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &m) < 0 ? -errno : 0;
}

static int rig_open(struct rig *r, const struct pci_irq_ops *ops)
{
	struct pci_host_params p = {
		.pio_bus = &r->pio,
		.mmio_bus = &r->mmio,
		.mem32_base = 0xc0000000,
		.mem32_size = 0x3ec00000,
		.intx_irqs = intx_irqs,
		.nr_intx_irqs = 1,
		.irq_ops = ops,
		.irq_opaque = &r->irq,
	};
	int ret;

	memset(r, 0, sizeof(*r));
	ret = rig_vm(r);
	if (!ret)
		ret = kvm_irq_init(&r->irq, r->vm);
	bus_init(&r->pio, "pio");
	bus_init(&r->mmio, "mmio");
	if (!ret)
		ret = loop_create(&r->loop);
	if (!ret)
		ret = pci_host_init(&r->host, &p);
	if (ret)
		return ret;
	r->vdev.ops = &bench_ops;
	r->vdev.mem = &r->mem;
	r->vdev.loop = r->loop;
	pthread_mutex_init(&r->vdev.lock, NULL);
	return virtio_pci_init(&r->vpci, &r->host, &r->vdev);
}

static void rig_close(struct rig *r)
{
	virtio_pci_exit(r->vpci);
	pci_host_exit(&r->host);
	loop_destroy(r->loop);
	kvm_irq_exit(&r->irq);
	close(r->vcpu);
	close(r->vm);
	close(r->kvm);
	guest_mem_exit(&r->mem);
	bus_exit(&r->mmio);
	bus_exit(&r->pio);
}

static uint32_t cfg_rd(struct rig *r, unsigned int off)
{
	uint32_t a = 0x80000800u | off, v = 0;

	bus_dispatch(&r->pio, 0xcf8, &a, 4, true);
	bus_dispatch(&r->pio, 0xcfc, &v, 4, false);
	return v;
}

static void cfg_wr16(struct rig *r, unsigned int off, uint16_t v)
{
	uint32_t a = 0x80000800u | (off & 0xfc);

	bus_dispatch(&r->pio, 0xcf8, &a, 4, true);
	bus_dispatch(&r->pio, 0xcfc + (off & 3), &v, 2, true);
}

#define CC(f) (VIRTIO_PCI_COMMON_OFF + offsetof(struct virtio_pci_common_cfg, f))

static void wr(struct rig *r, uint64_t off, unsigned int len, uint32_t v)
{
	bus_dispatch(&r->mmio, r->bar + off, &v, len, true);
}

/* The driver's bring-up: queue 0 on vector vec (NO_VECTOR: INTx), MSI-X on if msix. */
static void driver_up(struct rig *r, bool msix)
{
	uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	uint32_t v[3] = { 0xfee00000, 0, 0x45 }, ctrl = 0;
	unsigned int p;

	r->bar = cfg_rd(r, PCI_BASE_ADDRESS_4) & ~0xfull;
	r->msix_bar = cfg_rd(r, PCI_BASE_ADDRESS_1) & ~0xfull;
	for (p = cfg_rd(r, PCI_CAPABILITY_LIST) & 0xff; p; p = (cfg_rd(r, p & ~3u) >> 8) & 0xff)
		if ((cfg_rd(r, p & ~3u) & 0xff) == PCI_CAP_ID_MSIX)
			r->msix_cap = p;
	if (msix) {
		cfg_wr16(r, r->msix_cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
		bus_dispatch(&r->mmio, r->msix_bar + 16, &v[0], 4, true);
		bus_dispatch(&r->mmio, r->msix_bar + 20, &v[1], 4, true);
		bus_dispatch(&r->mmio, r->msix_bar + 24, &v[2], 4, true);
		bus_dispatch(&r->mmio, r->msix_bar + 28, &ctrl, 4, true);
	}
	wr(r, CC(device_status), 1, st);
	wr(r, CC(guest_feature_select), 4, 1);
	wr(r, CC(guest_feature), 4, 1);
	wr(r, CC(device_status), 1, st | VIRTIO_CONFIG_S_FEATURES_OK);
	wr(r, CC(queue_select), 2, 0);
	wr(r, CC(queue_msix_vector), 2, msix ? 1 : VIRTIO_MSI_NO_VECTOR);
	wr(r, CC(queue_desc_lo), 4, 0x10000);
	wr(r, CC(queue_avail_lo), 4, 0x14000);
	wr(r, CC(queue_used_lo), 4, 0x18000);
	wr(r, CC(queue_enable), 2, 1);
	wr(r, CC(device_status), 1, st | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* ns per notify_queue (plus the ISR read that acknowledges INTx). */
static double time_irqs(struct rig *r, bool intx)
{
	uint8_t isr;
	double t0 = now_ns();
	int i;

	for (i = 0; i < NR_IRQS; i++) {
		r->vdev.transport->notify_queue(&r->vdev, 0);
		if (intx)
			bus_dispatch(&r->mmio, r->bar + VIRTIO_PCI_ISR_OFF, &isr, 1, false);
	}
	return (now_ns() - t0) / NR_IRQS;
}

static double time_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t one = 1, n;
	double t0 = now_ns();
	int i;

	for (i = 0; i < NR_IRQS; i++) {
		if (write(fd, &one, sizeof(one)) != sizeof(one))
			break;
	}
	t0 = (now_ns() - t0) / NR_IRQS;
	if (read(fd, &n, sizeof(n)) < 0)
		n = 0;
	close(fd);
	return t0;
}

static int vcpu_long_mode(struct rig *r, uint64_t rip)
{
	uint64_t *pt = (uint64_t *)((uint8_t *)r->mem.regions[0].hva + PT_GPA);
	struct kvm_segment seg = {
		.limit = 0xffffffff, .present = 1, .s = 1, .g = 1, .type = 3, .selector = 0x18
	};
	struct kvm_regs regs = { .rip = rip, .rflags = 2, .rsp = 0x8000 };
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	struct kvm_sregs sregs;
	unsigned int i;

	pt[0] = (PT_GPA + 0x1000) | 3;
	for (i = 0; i < 4; i++)
		pt[512 + i] = (PT_GPA + 0x2000 + i * 0x1000) | 3;
	for (i = 0; i < 4 * 512; i++)
		pt[1024 + i] = ((uint64_t)i << 21) | 0x83;
	if (!c)
		return -ENOMEM;
	c->nent = 256;
	if (ioctl(r->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0 ||
	    ioctl(r->vcpu, KVM_SET_CPUID2, c) < 0 || ioctl(r->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		free(c);
		return -errno;
	}
	free(c);
	sregs.ds = sregs.es = sregs.ss = sregs.fs = sregs.gs = seg;
	seg.type = 11;
	seg.selector = 0x10;
	seg.l = 1;
	sregs.cs = seg;
	sregs.cr3 = PT_GPA;
	sregs.cr4 |= 1u << 5;
	sregs.cr0 |= 0x80000001u;
	sregs.efer |= 0x500;
	if (ioctl(r->vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(r->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* ns per guest kick: the guest stores NR_KICKS times, then writes port 0x80. */
static double time_kicks(struct rig *r)
{
	uint8_t *code = (uint8_t *)r->mem.regions[0].hva + CODE_GPA;
	uint32_t notify = (uint32_t)(r->bar + VIRTIO_PCI_NOTIFY_OFF), n = NR_KICKS;
	double t0;

	/* mov $notify,%edi; mov $n,%ecx; 1: movw $0,(%rdi); dec %ecx; jnz 1b; out %al,$0x80 */
	code[0] = 0xbf;
	memcpy(&code[1], &notify, 4);
	code[5] = 0xb9;
	memcpy(&code[6], &n, 4);
	memcpy(&code[10], "\x66\xc7\x07\x00\x00\xff\xc9\x75\xf7\xe6\x80", 11);
	if (!r->long_mode) {
		if (vcpu_long_mode(r, CODE_GPA))
			return -1;
		r->long_mode = true;
	} else {
		struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2, .rsp = 0x8000 };

		if (ioctl(r->vcpu, KVM_SET_REGS, &regs) < 0)
			return -1;
	}
	t0 = now_ns();
	for (;;) {
		if (ioctl(r->vcpu, KVM_RUN, 0) < 0 && errno != EINTR)
			return -1;
		if (r->run->exit_reason == KVM_EXIT_MMIO)
			bus_dispatch(&r->mmio, r->run->mmio.phys_addr, r->run->mmio.data,
				     r->run->mmio.len, r->run->mmio.is_write);
		else if (r->run->exit_reason == KVM_EXIT_IO)
			break;
		else if (r->run->exit_reason != KVM_EXIT_INTR)
			return -1;
	}
	t0 = (now_ns() - t0) / NR_KICKS;
	while (loop_run_once(r->loop, 0) > 0)
		;
	return t0;
}

static double min_of(double a, double b)
{
	return a < b ? a : b;
}

/* Best of ROUNDS for interrupts and kicks on one rig; kicks trapped to userspace counted. */
static void measure(struct rig *r, bool intx, double *irq, double *kick, uint64_t *trapped)
{
	struct virtio_pci_stats st;
	int i;

	*irq = *kick = 1e18;
	for (i = 0; i < ROUNDS; i++) {
		*irq = min_of(*irq, time_irqs(r, intx));
		if (kick)
			*kick = min_of(*kick, time_kicks(r));
	}
	virtio_pci_get_stats(r->vpci, &st);
	*trapped = st.kicks_trapped;
}

/* pci_irq_ops_kvm without the fast paths: KVM_SIGNAL_MSI and trapped kicks. */
static struct pci_irq_ops slow_ops;

int main(void)
{
	double base, irqfd, msi, intx, k_io, k_trap, dummy;
	uint64_t trapped_io, trapped, dummy_trapped;
	struct rig r;
	int i;

	log_init("bench");
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("virtio-pci: no /dev/kvm, skipped\n");
		return 0;
	}
	slow_ops = (struct pci_irq_ops){ .intx_set = pci_irq_ops_kvm.intx_set,
					 .msi_send = pci_irq_ops_kvm.msi_send };
	for (i = 0, base = 1e18; i < ROUNDS; i++)
		base = min_of(base, time_eventfd());
	if (rig_open(&r, &pci_irq_ops_kvm))
		return 1;
	driver_up(&r, true);
	measure(&r, false, &irqfd, &k_io, &trapped_io);
	rig_close(&r);
	if (rig_open(&r, &slow_ops))
		return 1;
	driver_up(&r, true);
	measure(&r, false, &msi, &k_trap, &trapped);
	rig_close(&r);
	if (rig_open(&r, &pci_irq_ops_kvm))
		return 1;
	driver_up(&r, false);
	measure(&r, true, &intx, &dummy, &dummy_trapped);
	rig_close(&r);

	/* The checks that make the figures mean something: which path the kicks took. */
	printf("kicks trapped to userspace: %llu with ioeventfd, %llu without (of %u)\n",
	       (unsigned long long)trapped_io, (unsigned long long)trapped, ROUNDS * NR_KICKS);
	printf("best of %d rounds\n", ROUNDS);
	printf("interrupt raise, ns each (baseline: eventfd write %.0f ns)\n", base);
	printf("  irqfd (MSI-X route)     %8.0f ns  %5.2fx\n", irqfd, irqfd / base);
	printf("  KVM_SIGNAL_MSI          %8.0f ns  %5.2fx\n", msi, msi / base);
	printf("  INTx raise + ISR read   %8.0f ns  %5.2fx\n", intx, intx / base);
	printf("guest kick, ns each (baseline: ioeventfd %.0f ns)\n", k_io);
	printf("  trapped MMIO exit       %8.0f ns  %5.2fx\n", k_trap, k_trap / k_io);
	return 0;
}
