// SPDX-License-Identifier: GPL-2.0
/*
 * Native tests on /dev/kvm: a virtio-pci device wired to a real VM through
 * pci_irq_ops_kvm. MSI-X vector -> GSI route -> irqfd lands in the vCPU's
 * local APIC; INTx lands through the IOAPIC; a guest write to the notify
 * register is absorbed by the ioeventfd and reaches the device on the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/kvm.h>
#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include <kavm/bus.h>
#include <kavm/compiler.h>
#include <kavm/irq.h>
#include <kavm/loop.h>
#include <kavm/memory.h>
#include <kavm/pci.h>
#include <kavm/virtio-pci.h>
#include <kavm/virtio.h>

#include "../harness.h"

#define NQ 2
#define RAM_SIZE (1 << 20)
#define CODE_GPA 0x1000

struct dev {
	struct virtio_dev vdev;
	unsigned int notified[NQ], enables;
};

static uint64_t d_features(struct virtio_dev *vdev)
{
	return 0;
}

static unsigned int d_nq(struct virtio_dev *vdev)
{
	return NQ;
}

static uint16_t d_max(struct virtio_dev *vdev, unsigned int q)
{
	return 256;
}

static int d_enable(struct virtio_dev *vdev, unsigned int q, const struct virtio_queue_config *c)
{
	container_of(vdev, struct dev, vdev)->enables++;
	return 0;
}

static void d_notify(struct virtio_dev *vdev, unsigned int q)
{
	container_of(vdev, struct dev, vdev)->notified[q]++;
}

static const struct virtio_dev_ops dev_ops = {
	.name = "kvmdev",
	.device_id = VIRTIO_ID_NET,
	.get_host_features = d_features,
	.num_queues = d_nq,
	.max_queue_size = d_max,
	.queue_enable = d_enable,
	.queue_notify = d_notify,
};

static const uint8_t intx_irqs[] = { 16 };

FIXTURE(kvm)
{
	int kvm, vm, vcpu;
	struct kvm_run *run;
	struct kvm_irq irq;
	struct bus pio, mmio;
	struct guest_mem mem;
	struct pci_host host;
	struct loop *loop;
	struct dev d;
	struct virtio_pci *vpci;
	uint64_t bar, msix_bar;
	unsigned int msix_cap;
	bool up;
};

static int kvm_setup(struct _kt_fixture_kvm *self)
{
	struct kvm_userspace_memory_region r = { .slot = 0, .memory_size = RAM_SIZE };
	struct pci_host_params p = {
		.pio_bus = &self->pio,
		.mmio_bus = &self->mmio,
		.mem32_base = 0xc0000000,
		.mem32_size = 0x3ec00000,
		.intx_irqs = intx_irqs,
		.nr_intx_irqs = 1,
		.irq_ops = &pci_irq_ops_kvm,
		.irq_opaque = &self->irq,
	};
	int ret, sz;

	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	if (self->kvm < 0 || self->vm < 0 || ioctl(self->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	sz = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (self->vcpu < 0 || sz < 0)
		return -errno;
	self->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu, 0);
	if (self->run == MAP_FAILED)
		return -errno;
	guest_mem_init(&self->mem);
	ret = guest_mem_add_ram(&self->mem, 0, RAM_SIZE);
	if (ret)
		return ret;
	r.userspace_addr = (uintptr_t)self->mem.regions[0].hva;
	if (ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	ret = kvm_irq_init(&self->irq, self->vm);
	bus_init(&self->pio, "pio");
	bus_init(&self->mmio, "mmio");
	if (!ret)
		ret = loop_create(&self->loop);
	if (!ret)
		ret = pci_host_init(&self->host, &p);
	if (ret)
		return ret;
	self->d.vdev.ops = &dev_ops;
	self->d.vdev.mem = &self->mem;
	self->d.vdev.loop = self->loop;
	pthread_mutex_init(&self->d.vdev.lock, NULL);
	ret = virtio_pci_init(&self->vpci, &self->host, &self->d.vdev);
	self->up = !ret;
	return ret;
}

FIXTURE_SETUP(kvm)
{
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP("no /dev/kvm");
	if (kvm_setup(self))
		kt_fail(__FILE__, __LINE__, true, "setup");
}

FIXTURE_TEARDOWN(kvm)
{
	if (!self->up)
		return;
	virtio_pci_exit(self->vpci);
	pci_host_exit(&self->host);
	loop_destroy(self->loop);
	kvm_irq_exit(&self->irq);
	close(self->vcpu);
	close(self->vm);
	close(self->kvm);
	guest_mem_exit(&self->mem);
	bus_exit(&self->mmio);
	bus_exit(&self->pio);
}

/* --- guest driver side, through the buses as the vCPU exit path would --- */
static uint32_t cfg_rd(struct _kt_fixture_kvm *self, unsigned int off, unsigned int len)
{
	uint32_t a = 0x80000800u | (off & 0xfc), v = 0;

	bus_dispatch(&self->pio, 0xcf8, &a, 4, true);
	bus_dispatch(&self->pio, 0xcfc + (off & 3), &v, len, false);
	return v;
}

static void cfg_wr(struct _kt_fixture_kvm *self, unsigned int off, unsigned int len, uint32_t v)
{
	uint32_t a = 0x80000800u | (off & 0xfc);

	bus_dispatch(&self->pio, 0xcf8, &a, 4, true);
	bus_dispatch(&self->pio, 0xcfc + (off & 3), &v, len, true);
}

#define CC(f) (VIRTIO_PCI_COMMON_OFF + offsetof(struct virtio_pci_common_cfg, f))

static void wr(struct _kt_fixture_kvm *self, uint64_t off, unsigned int len, uint32_t v)
{
	bus_dispatch(&self->mmio, self->bar + off, &v, len, true);
}

static uint32_t rd(struct _kt_fixture_kvm *self, uint64_t off, unsigned int len)
{
	uint32_t v = 0;

	bus_dispatch(&self->mmio, self->bar + off, &v, len, false);
	return v;
}

static void msix_wr(struct _kt_fixture_kvm *self, unsigned int vec, unsigned int field, uint32_t v)
{
	bus_dispatch(&self->mmio, self->msix_bar + vec * 16 + field, &v, 4, true);
}

/* Reset, negotiate VERSION_1, set up queue q with vector vec, DRIVER_OK. */
static void driver_up(struct _kt_fixture_kvm *self, uint16_t vec)
{
	unsigned int p;
	uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	self->bar = cfg_rd(self, PCI_BASE_ADDRESS_4, 4) & ~0xfull;
	self->msix_bar = cfg_rd(self, PCI_BASE_ADDRESS_1, 4) & ~0xfull;
	for (p = cfg_rd(self, PCI_CAPABILITY_LIST, 1); p; p = cfg_rd(self, p + 1, 1))
		if (cfg_rd(self, p, 1) == PCI_CAP_ID_MSIX)
			self->msix_cap = p;
	wr(self, CC(device_status), 1, 0);
	wr(self, CC(device_status), 1, st);
	wr(self, CC(guest_feature_select), 4, 1);
	wr(self, CC(guest_feature), 4, 1); /* VERSION_1 */
	wr(self, CC(device_status), 1, st | VIRTIO_CONFIG_S_FEATURES_OK);
	wr(self, CC(queue_select), 2, 0);
	wr(self, CC(queue_msix_vector), 2, vec);
	wr(self, CC(queue_desc_lo), 4, 0x10000);
	wr(self, CC(queue_avail_lo), 4, 0x14000);
	wr(self, CC(queue_used_lo), 4, 0x18000);
	wr(self, CC(queue_enable), 2, 1);
	wr(self, CC(device_status), 1,
	   st | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

#define APIC_SPIV 0xf0
#define APIC_IRR 0x200

static int lapic_enable(int vcpu)
{
	struct kvm_lapic_state s;
	uint32_t v;

	if (ioctl(vcpu, KVM_GET_LAPIC, &s) < 0)
		return -errno;
	memcpy(&v, &s.regs[APIC_SPIV], 4);
	v |= 0x1ff;
	memcpy(&s.regs[APIC_SPIV], &v, 4);
	return ioctl(vcpu, KVM_SET_LAPIC, &s) < 0 ? -errno : 0;
}

/* Is vec pending in vCPU 0's IRR? Waits up to 1 s for deferred injection. */
static int lapic_irr_wait(int vcpu, unsigned int vec)
{
	struct timespec ts = { 0, 1000000 };
	struct kvm_lapic_state s;
	uint32_t v;
	int i;

	for (i = 0; i < 1000; i++) {
		if (ioctl(vcpu, KVM_GET_LAPIC, &s) < 0)
			return -errno;
		memcpy(&v, &s.regs[APIC_IRR + (vec / 32) * 0x10], 4);
		if (v & (1u << (vec % 32)))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

TEST_F(kvm, msix_vector_route_irqfd_reaches_the_lapic)
{
	int kick, call;

	ASSERT_EQ(lapic_enable(self->vcpu), 0);
	driver_up(self, 1);
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_wr(self, 1, PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000);
	msix_wr(self, 1, PCI_MSIX_ENTRY_DATA, 0x45);
	EXPECT_EQ(kvm_irq_nr_routes(&self->irq), 40u);
	msix_wr(self, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	/* Unmasking made a GSI route for vector 1 and bound the call eventfd to it. */
	EXPECT_EQ(kvm_irq_nr_routes(&self->irq), 41u);
	ASSERT_EQ(self->d.vdev.transport->queue_eventfds(&self->d.vdev, 0, &kick, &call), 0);
	EXPECT_EQ(kvm_irqfd_attach(self->vm, call, KVM_IRQ_NR_IRQCHIP_GSI, -1), -EBUSY);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x45), 0);
	ASSERT_EQ(self->d.vdev.transport->notify_queue(&self->d.vdev, 0), 0);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x45), 1);
	/* Retarget the vector: the same route now carries the new message. */
	msix_wr(self, 1, PCI_MSIX_ENTRY_DATA, 0x46);
	ASSERT_EQ(self->d.vdev.transport->notify_queue(&self->d.vdev, 0), 0);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x46), 1);
	/* Masked: no injection until unmask (then through KVM_SIGNAL_MSI from the PBA). */
	msix_wr(self, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
	msix_wr(self, 1, PCI_MSIX_ENTRY_DATA, 0x47);
	ASSERT_EQ(self->d.vdev.transport->notify_queue(&self->d.vdev, 0), 0);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x47), 0);
	msix_wr(self, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x47), 1);
	/* A reset unbinds the eventfd from KVM. */
	wr(self, CC(device_status), 1, 0);
	EXPECT_EQ(kvm_irqfd_attach(self->vm, call, KVM_IRQ_NR_IRQCHIP_GSI, -1), 0);
	EXPECT_EQ(kvm_irqfd_detach(self->vm, call, KVM_IRQ_NR_IRQCHIP_GSI), 0);
}

TEST_F(kvm, intx_through_the_ioapic_and_isr_ack)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	ASSERT_EQ(lapic_enable(self->vcpu), 0);
	/* What the guest's IOAPIC driver would do: pin 16, vector 0x50, level, CPU 0. */
	ASSERT_EQ(ioctl(self->vm, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[16].bits = 0x50 | (1ull << 15);
	ASSERT_EQ(ioctl(self->vm, KVM_SET_IRQCHIP, &chip), 0);
	driver_up(self, VIRTIO_MSI_NO_VECTOR);
	EXPECT_EQ(cfg_rd(self, PCI_INTERRUPT_LINE, 1), 16u);
	ASSERT_EQ(self->d.vdev.transport->notify_queue(&self->d.vdev, 0), 0);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x50), 1);
	ASSERT_EQ(ioctl(self->vm, KVM_GET_IRQCHIP, &chip), 0);
	EXPECT_TRUE(chip.chip.ioapic.irr & (1u << 16));
	/* The ISR read acknowledges: the line drops. */
	EXPECT_EQ(rd(self, VIRTIO_PCI_ISR_OFF, 1), 1u);
	ASSERT_EQ(ioctl(self->vm, KVM_GET_IRQCHIP, &chip), 0);
	EXPECT_FALSE(chip.chip.ioapic.irr & (1u << 16));
}

/*
 * 64-bit long mode with the low 4 GiB identity-mapped by 2 MiB pages (this
 * host's nested KVM runs only 64-bit paged guests well): page tables at
 * 0x20000, CPUID from KVM so that EFER.LME is accepted.
 */
#define PT_GPA 0x20000

static int vcpu_cpuid(struct _kt_fixture_kvm *self)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	int ret = 0;

	if (!c)
		return -ENOMEM;
	c->nent = 256;
	if (ioctl(self->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0 ||
	    ioctl(self->vcpu, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

static int vcpu_long_mode(struct _kt_fixture_kvm *self, uint64_t rip)
{
	uint64_t *pt = (uint64_t *)((uint8_t *)self->mem.regions[0].hva + PT_GPA);
	struct kvm_segment seg = { .base = 0,
				   .limit = 0xffffffff,
				   .present = 1,
				   .s = 1,
				   .g = 1,
				   .type = 3,
				   .selector = 0x18 };
	struct kvm_regs regs = { .rip = rip, .rflags = 2, .rsp = 0x8000 };
	struct kvm_sregs sregs;
	unsigned int i;
	int ret;

	/* PML4[0] -> PDPT; PDPT[0..3] -> 4 PDs of 512 2 MiB pages each. */
	pt[0] = (PT_GPA + 0x1000) | 3;
	for (i = 0; i < 4; i++)
		pt[512 + i] = (PT_GPA + 0x2000 + i * 0x1000) | 3;
	for (i = 0; i < 4 * 512; i++)
		pt[1024 + i] = ((uint64_t)i << 21) | 0x83;
	ret = vcpu_cpuid(self);
	if (ret)
		return ret;
	if (ioctl(self->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.ds = sregs.es = sregs.ss = sregs.fs = sregs.gs = seg;
	seg.type = 11;
	seg.selector = 0x10;
	seg.l = 1;
	sregs.cs = seg;
	sregs.cr3 = PT_GPA;
	sregs.cr4 |= 1u << 5;	  /* PAE */
	sregs.cr0 |= 0x80000001u; /* PG | PE */
	sregs.efer |= 0x500;	  /* LME | LMA */
	if (ioctl(self->vcpu, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(self->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

TEST_F_TIMEOUT(kvm, guest_notify_write_is_absorbed_by_the_ioeventfd, 20)
{
	uint8_t *code = (uint8_t *)self->mem.regions[0].hva + CODE_GPA;
	uint64_t notify;
	uint32_t a;
	int i;

	driver_up(self, VIRTIO_MSI_NO_VECTOR);
	ASSERT_EQ(self->d.enables, 1u);
	notify = self->bar + VIRTIO_PCI_NOTIFY_OFF;
	ASSERT_LT(notify, 1ull << 32);
	/*
	 * mov $notify, %edi; movw $0, (%rdi); out %al, $0x80. Not hlt: with
	 * the in-kernel LAPIC a halted vCPU sleeps in KVM, it does not exit.
	 */
	a = (uint32_t)notify;
	code[0] = 0xbf;
	memcpy(&code[1], &a, 4);
	memcpy(&code[5], "\x66\xc7\x07\x00\x00\xe6\x80", 7);
	ASSERT_EQ(vcpu_long_mode(self, CODE_GPA), 0);
	/* The first exit must be the port write: an MMIO exit means KVM did not take the store. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(ioctl(self->vcpu, KVM_RUN, 0), 0);
		if (self->run->exit_reason != KVM_EXIT_INTR)
			break;
	}
	ASSERT_EQ(self->run->exit_reason, (uint32_t)KVM_EXIT_IO);
	EXPECT_EQ(self->run->io.port, 0x80);
	EXPECT_EQ(self->d.notified[0], 0u);
	ASSERT_GT(loop_run_once(self->loop, 1000), 0);
	EXPECT_EQ(self->d.notified[0], 1u);
	/* Handed to vhost: the same guest store now signals the handed-out eventfd only. */
	{
		int kick, call;
		uint64_t n = 0;
		struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2, .rsp = 0x8000 };

		ASSERT_EQ(self->d.vdev.transport->queue_eventfds(&self->d.vdev, 0, &kick, &call),
			  0);
		ASSERT_EQ(ioctl(self->vcpu, KVM_SET_REGS, &regs), 0);
		do
			ASSERT_EQ(ioctl(self->vcpu, KVM_RUN, 0), 0);
		while (self->run->exit_reason == KVM_EXIT_INTR);
		ASSERT_EQ(self->run->exit_reason, (uint32_t)KVM_EXIT_IO);
		ASSERT_EQ(read(kick, &n, sizeof(n)), (ssize_t)sizeof(n));
		EXPECT_EQ(n, 1u);
		EXPECT_EQ(loop_run_once(self->loop, 0), 0);
		EXPECT_EQ(self->d.notified[0], 1u);
	}
	{
		struct virtio_pci_stats st;

		virtio_pci_get_stats(self->vpci, &st);
		EXPECT_EQ(st.kicks_trapped, 0u);
		EXPECT_EQ(st.kicks, 1u);
	}
}

TEST_F(kvm, vhost_style_call_signals_with_and_without_irqfd)
{
	uint64_t one = 1;
	int kick, call;

	ASSERT_EQ(lapic_enable(self->vcpu), 0);
	driver_up(self, 1);
	cfg_wr(self, self->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_wr(self, 1, PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000);
	msix_wr(self, 1, PCI_MSIX_ENTRY_DATA, 0x61);
	msix_wr(self, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	ASSERT_EQ(self->d.vdev.transport->queue_eventfds(&self->d.vdev, 0, &kick, &call), 0);
	/*
	 * Bound: KVM injects straight from the eventfd, and its priority
	 * waiter keeps the loop from even waking up.
	 */
	ASSERT_EQ(write(call, &one, sizeof(one)), (ssize_t)sizeof(one));
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x61), 1);
	EXPECT_EQ(loop_run_once(self->loop, 0), 0);
	/* Masked: nobody in KVM listens; the loop holds it pending until unmask. */
	msix_wr(self, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
	msix_wr(self, 1, PCI_MSIX_ENTRY_DATA, 0x62);
	ASSERT_EQ(write(call, &one, sizeof(one)), (ssize_t)sizeof(one));
	EXPECT_EQ(loop_run_once(self->loop, 1000), 1);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x62), 0);
	msix_wr(self, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	EXPECT_EQ(lapic_irr_wait(self->vcpu, 0x62), 1);
}
