// SPDX-License-Identifier: GPL-2.0
/* Native tests on /dev/kvm: GSI routing, irqfd, ioeventfd and IRQ lines from irq.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>

#include <linux/kvm.h>

#include <kavm/irq.h>

#include "../harness.h"

struct vm {
	int kvm, fd, vcpu;
};

/* A bare VM made with raw ioctls, so these tests exercise irq.c alone. */
static int vm_open(struct vm *vm, bool irqchip, bool vcpu)
{
	vm->kvm = vm->fd = vm->vcpu = -1;
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return -errno;
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	if (irqchip && ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	if (vcpu) {
		vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
		if (vm->vcpu < 0)
			return -errno;
	}
	return 0;
}

static void vm_close(struct vm *vm)
{
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm >= 0)
		close(vm->kvm);
}

#define REQUIRE_VM(vm, chip, cpu)                                                                  \
	do {                                                                                       \
		if (access("/dev/kvm", R_OK | W_OK))                                               \
			SKIP("no /dev/kvm");                                                       \
		ASSERT_EQ(vm_open(vm, chip, cpu), 0);                                              \
	} while (0)

#define MSI_ADDR(apic) (0xfee00000ull | ((uint64_t)(apic) << 12))
#define APIC_SPIV 0xf0
#define APIC_IRR 0x200

static uint32_t lapic_reg(const struct kvm_lapic_state *s, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &s->regs[off], 4);
	return v;
}

/* Software-enable vCPU 0's local APIC: a disabled APIC drops fixed interrupts. */
static int lapic_enable(int vcpu)
{
	struct kvm_lapic_state s;
	uint32_t v;

	if (ioctl(vcpu, KVM_GET_LAPIC, &s) < 0)
		return -errno;
	v = lapic_reg(&s, APIC_SPIV) | 0x1ff;
	memcpy(&s.regs[APIC_SPIV], &v, 4);
	return ioctl(vcpu, KVM_SET_LAPIC, &s) < 0 ? -errno : 0;
}

/* Is vector pending in the IRR? Waits up to 1 s: irqfd injection may be deferred to a worker. */
static int lapic_irr_wait(int vcpu, unsigned int vec)
{
	struct timespec ts = { 0, 1000000 };
	struct kvm_lapic_state s;
	int i;

	for (i = 0; i < 1000; i++) {
		if (ioctl(vcpu, KVM_GET_LAPIC, &s) < 0)
			return -errno;
		if (lapic_reg(&s, APIC_IRR + (vec / 32) * 0x10) & (1u << (vec % 32)))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

TEST(init_installs_the_irqchip_routes)
{
	struct kvm_irq irq;
	struct vm vm;

	REQUIRE_VM(&vm, true, false);
	ASSERT_EQ(kvm_irq_init(&irq, vm.fd), 0);
	/* 16 PIC + 24 IOAPIC entries, as the kernel's own default table. */
	EXPECT_EQ(kvm_irq_nr_routes(&irq), 40u);
	/* Lines still work with our table in place, also the IOAPIC-only ones. */
	EXPECT_EQ(kvm_irq_set_level(vm.fd, 4, 1), 0);
	EXPECT_EQ(kvm_irq_set_level(vm.fd, 4, 0), 0);
	EXPECT_EQ(kvm_irq_set_level(vm.fd, 20, 1), 0);
	EXPECT_EQ(kvm_irq_set_level(vm.fd, 20, 0), 0);
	EXPECT_EQ(kvm_irq_set_level(vm.fd, 24, 1), -EINVAL);
	kvm_irq_exit(&irq);
	vm_close(&vm);
}

TEST(init_without_irqchip_fails_cleanly)
{
	struct kvm_irq irq;
	struct vm vm;

	REQUIRE_VM(&vm, false, false);
	EXPECT_LT(kvm_irq_init(&irq, vm.fd), 0);
	vm_close(&vm);
}

TEST(msi_routes_alloc_update_free)
{
	uint32_t a, b, c;
	struct kvm_irq irq;
	struct vm vm;

	REQUIRE_VM(&vm, true, false);
	ASSERT_EQ(kvm_irq_init(&irq, vm.fd), 0);
	ASSERT_EQ(kvm_irq_msi_alloc(&irq, MSI_ADDR(0), 0x40, &a), 0);
	ASSERT_EQ(kvm_irq_msi_alloc(&irq, MSI_ADDR(0), 0x41, &b), 0);
	EXPECT_GE(a, 24u);
	EXPECT_NE(a, b);
	EXPECT_EQ(kvm_irq_nr_routes(&irq), 42u);
	EXPECT_EQ(kvm_irq_msi_update(&irq, a, MSI_ADDR(0), 0x50), 0);
	EXPECT_EQ(kvm_irq_msi_free(&irq, a), 0);
	EXPECT_EQ(kvm_irq_nr_routes(&irq), 41u);
	/* Freed GSIs are reused; unknown and irqchip GSIs are refused. */
	ASSERT_EQ(kvm_irq_msi_alloc(&irq, MSI_ADDR(0), 0x42, &c), 0);
	EXPECT_EQ(c, a);
	EXPECT_EQ(kvm_irq_msi_free(&irq, 999), -ENOENT);
	EXPECT_EQ(kvm_irq_msi_free(&irq, 4), -ENOENT);
	EXPECT_EQ(kvm_irq_msi_update(&irq, 999, MSI_ADDR(0), 1), -ENOENT);
	EXPECT_EQ(kvm_irq_msi_free(&irq, b), 0);
	EXPECT_EQ(kvm_irq_msi_free(&irq, b), -ENOENT);
	kvm_irq_exit(&irq);
	vm_close(&vm);
}

TEST(irqfd_attach_detach_and_bad_input)
{
	struct kvm_irq irq;
	uint32_t gsi;
	struct vm vm;
	int efd;

	REQUIRE_VM(&vm, true, false);
	ASSERT_EQ(kvm_irq_init(&irq, vm.fd), 0);
	ASSERT_EQ(kvm_irq_msi_alloc(&irq, MSI_ADDR(0), 0x40, &gsi), 0);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	EXPECT_EQ(kvm_irqfd_attach(vm.fd, efd, gsi, -1), 0);
	/* One eventfd drives one GSI: KVM refuses a second binding. */
	EXPECT_EQ(kvm_irqfd_attach(vm.fd, efd, gsi, -1), -EBUSY);
	EXPECT_EQ(kvm_irqfd_detach(vm.fd, efd, gsi), 0);
	EXPECT_EQ(kvm_irqfd_attach(vm.fd, efd, gsi, -1), 0);
	EXPECT_EQ(kvm_irqfd_detach(vm.fd, efd, gsi), 0);
	EXPECT_EQ(kvm_irqfd_attach(vm.fd, -1, gsi, -1), -EBADF);
	EXPECT_EQ(kvm_irqfd_attach(vm.fd, 1000, gsi, -1), -EBADF);
	/* A resample fd is only for irqchip (level) GSIs. */
	{
		int rfd = eventfd(0, EFD_CLOEXEC);

		ASSERT_GE(rfd, 0);
		EXPECT_EQ(kvm_irqfd_attach(vm.fd, efd, 10, rfd), 0);
		EXPECT_EQ(kvm_irqfd_detach(vm.fd, efd, 10), 0);
		close(rfd);
	}
	close(efd);
	kvm_irq_exit(&irq);
	vm_close(&vm);
}

TEST(ioeventfd_add_del_and_bad_input)
{
	struct vm vm;
	int efd;

	REQUIRE_VM(&vm, true, false);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	EXPECT_EQ(kvm_ioeventfd_add(vm.fd, 0xc0003000, 2, efd, false), 0);
	EXPECT_EQ(kvm_ioeventfd_add(vm.fd, 0xc0003000, 2, efd, false), -EEXIST);
	EXPECT_EQ(kvm_ioeventfd_del(vm.fd, 0xc0003000, 2, efd, false), 0);
	EXPECT_EQ(kvm_ioeventfd_del(vm.fd, 0xc0003000, 2, efd, false), -ENOENT);
	EXPECT_EQ(kvm_ioeventfd_add(vm.fd, 0xc0003000, 3, efd, false), -EINVAL);
	EXPECT_EQ(kvm_ioeventfd_add(vm.fd, 0x510, 0, efd, true), -EINVAL);
	EXPECT_EQ(kvm_ioeventfd_add(vm.fd, 0x510, 2, -1, true), -EBADF);
	EXPECT_EQ(kvm_ioeventfd_add(vm.fd, 0x510, 2, efd, true), 0);
	EXPECT_EQ(kvm_ioeventfd_del(vm.fd, 0x510, 2, efd, true), 0);
	close(efd);
	vm_close(&vm);
}

TEST(irqfd_on_msi_route_reaches_the_lapic)
{
	uint64_t one = 1;
	struct kvm_irq irq;
	uint32_t gsi;
	struct vm vm;
	int efd;

	REQUIRE_VM(&vm, true, true);
	ASSERT_EQ(lapic_enable(vm.vcpu), 0);
	ASSERT_EQ(kvm_irq_init(&irq, vm.fd), 0);
	ASSERT_EQ(kvm_irq_msi_alloc(&irq, MSI_ADDR(0), 0x31, &gsi), 0);
	/* Retarget before use: the irqfd must follow the route's new message. */
	ASSERT_EQ(kvm_irq_msi_update(&irq, gsi, MSI_ADDR(0), 0x45), 0);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(kvm_irqfd_attach(vm.fd, efd, gsi, -1), 0);
	EXPECT_EQ(lapic_irr_wait(vm.vcpu, 0x45), 0);
	ASSERT_EQ(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	EXPECT_EQ(lapic_irr_wait(vm.vcpu, 0x45), 1);
	EXPECT_EQ(lapic_irr_wait(vm.vcpu, 0x31), 0);
	/* The slow path (KVM_SIGNAL_MSI) lands the same way. */
	EXPECT_GT(kvm_irq_msi_signal(vm.fd, MSI_ADDR(0), 0x52), 0);
	EXPECT_EQ(lapic_irr_wait(vm.vcpu, 0x52), 1);
	EXPECT_EQ(kvm_irqfd_detach(vm.fd, efd, gsi), 0);
	close(efd);
	kvm_irq_exit(&irq);
	vm_close(&vm);
}
