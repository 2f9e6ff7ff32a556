// SPDX-License-Identifier: GPL-2.0
/* kavm VM: /dev/kvm, the VM fd, in-kernel irqchip and PIT, RAM layout, buses, loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/loop.h>

static int kvm_slot_add(struct mem_listener *l, const struct guest_mem_region *r)
{
	struct kvm_vm *vm = container_of(l, struct kvm_vm, slots);
	struct kvm_userspace_memory_region region = {
		.slot = r->slot,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uintptr_t)r->hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		return -errno;
	return 0;
}

static void kvm_slot_del(struct mem_listener *l, const struct guest_mem_region *r)
{
	struct kvm_vm *vm = container_of(l, struct kvm_vm, slots);
	struct kvm_userspace_memory_region region = { .slot = r->slot };

	/* A zero-sized region deletes the slot. */
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		pr_warn("kvm: delete memory slot %u: %s", r->slot, strerror(errno));
}

/* Guest RAM: low part below the PCI hole, the rest above 4 GiB. */
static int kvm_vm_add_ram(struct kvm_vm *vm, uint64_t size)
{
	uint64_t low = min(size, KVM_LOW_RAM_MAX);
	int ret;

	ret = guest_mem_add_ram(&vm->mem, 0, low);
	if (ret)
		return ret;
	if (size > low)
		ret = guest_mem_add_ram(&vm->mem, KVM_HIGH_RAM_BASE, size - low);
	return ret;
}

/*
 * --memory ...,hugepages=on: is the pool big enough? Asked before any RAM
 * is made so that a host with no (or too few) huge pages gets the one line
 * saying how many to reserve, before /dev/kvm is opened.
 */
static int kvm_vm_check_hugepages(const struct vm_config *cfg)
{
	struct hugepage_info hi;
	uint64_t need;

	if (guest_mem_hugepage_info(&hi)) {
		pr_err("--memory hugepages=on: this kernel has no huge pages (CONFIG_HUGETLBFS)");
		return -EINVAL;
	}
	if (cfg->mem_size % hi.page_size) {
		pr_err("--memory hugepages=on: %llu MiB is not a multiple of the huge page size "
		       "(%llu kB)",
		       (unsigned long long)(cfg->mem_size >> 20),
		       (unsigned long long)(hi.page_size >> 10));
		return -EINVAL;
	}
	need = cfg->mem_size / hi.page_size;
	if (need <= hi.available)
		return 0;
	pr_err("--memory hugepages=on: %llu MiB of guest RAM needs %llu huge pages of %llu kB, "
	       "%llu are free (reserve them as root: echo %llu > /proc/sys/vm/nr_hugepages)",
	       (unsigned long long)(cfg->mem_size >> 20), (unsigned long long)need,
	       (unsigned long long)(hi.page_size >> 10), (unsigned long long)hi.available,
	       (unsigned long long)(hi.total + need - hi.available));
	return -ENOMEM;
}

/* The one line for RAM that could not be made: what to change when it was a knob. */
static void kvm_explain_ram_error(const struct vm_config *cfg, int err)
{
	unsigned long long mib = cfg->mem_size >> 20;
	struct rlimit rl;

	if (cfg->mem_lock && (err == ENOMEM || err == EPERM || err == EAGAIN) &&
	    !getrlimit(RLIMIT_MEMLOCK, &rl)) {
		char lim[32] = "unlimited";

		if (rl.rlim_cur != RLIM_INFINITY)
			snprintf(lim, sizeof(lim), "%llu KiB",
				 (unsigned long long)rl.rlim_cur >> 10);
		pr_err("--memory mlock=on: locking %llu MiB of guest RAM: %s (RLIMIT_MEMLOCK is %s: "
		       "raise it with ulimit -l or systemd's LimitMEMLOCK=, or give kavm "
		       "CAP_IPC_LOCK)",
		       mib, strerror(err), lim);
	} else if (cfg->mem_hugepages && err == ENOMEM) {
		pr_err("--memory hugepages=on: %llu MiB of guest RAM: %s (the huge page pool is "
		       "short: see /proc/meminfo, /proc/sys/vm/nr_hugepages)",
		       mib, strerror(err));
	} else {
		pr_err("guest RAM of %llu MiB: %s", mib, strerror(err));
	}
}

static int kvm_vm_check_config(const struct vm_config *cfg)
{
	struct sysinfo si;

	/* Linux needs KVM_MIN_MEM (options.c checks it); tiny test guests need less. */
	if (cfg->mem_size < KVM_MIN_VM_MEM || cfg->mem_size & 0xfff) {
		pr_err("guest memory %llu bytes: must be a multiple of 4 KiB and at least %llu KiB",
		       (unsigned long long)cfg->mem_size, KVM_MIN_VM_MEM >> 10);
		return -EINVAL;
	}
	if (!sysinfo(&si) && cfg->mem_size > (uint64_t)si.totalram * si.mem_unit) {
		pr_err("guest memory %llu MiB: more than the host's %llu MiB of RAM",
		       (unsigned long long)(cfg->mem_size >> 20),
		       (unsigned long long)((uint64_t)si.totalram * si.mem_unit >> 20));
		return -EINVAL;
	}
	return 0;
}

/*
 * The one line a user without a usable KVM sees: what is wrong with
 * /dev/kvm and what to do about it.
 */
static void kvm_explain_open_error(int err)
{
	switch (err) {
	case ENOENT:
		pr_err("/dev/kvm: %s: this host offers no KVM (load kvm_intel or kvm_amd; "
		       "inside a VM, enable nested virtualization)",
		       strerror(err));
		break;
	case EACCES:
	case EPERM:
		pr_err("/dev/kvm: %s: run kavm as root or as a member of the device's group",
		       strerror(err));
		break;
	case ENXIO:
	case ENODEV:
		pr_err("/dev/kvm: %s: the KVM module is not loaded or found no hardware "
		       "virtualization (load kvm_intel or kvm_amd; enable VT-x/AMD-V, or nested "
		       "virtualization inside a VM)",
		       strerror(err));
		break;
	default:
		pr_err("/dev/kvm: %s", strerror(err));
	}
}

static int kvm_vm_open(struct kvm_vm *vm)
{
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		kvm_explain_open_error(-ret);
		return ret;
	}
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret < 0) {
		pr_err("/dev/kvm: not a KVM device (KVM_GET_API_VERSION: %s)", strerror(errno));
		return -ENODEV;
	}
	if (ret != KVM_API_VERSION) {
		pr_err("/dev/kvm: API version %d, kavm needs %d", ret, KVM_API_VERSION);
		return -EINVAL;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		pr_err("/dev/kvm: KVM_CREATE_VM: %s (is another hypervisor using the hardware "
		       "virtualization?)",
		       strerror(errno));
		return ret;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		ret = -errno;
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return ret;
	}
	return 0;
}

#define KVM_IOCTL_OR_FAIL(fd, req, arg)                                                            \
	do {                                                                                       \
		if (ioctl(fd, req, arg) < 0) {                                                     \
			int __e = errno;                                                           \
			pr_err("%s: %s", #req, strerror(__e));                                     \
			return -__e;                                                               \
		}                                                                                  \
	} while (0)

/* The x86 platform pieces KVM emulates in the kernel, set before any vCPU exists. */
static int kvm_vm_setup_platform(struct kvm_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;

	KVM_IOCTL_OR_FAIL(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity);
	KVM_IOCTL_OR_FAIL(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
	if (vm->cfg->no_irqchip)
		return 0;
	KVM_IOCTL_OR_FAIL(vm->vm_fd, KVM_CREATE_IRQCHIP, 0);
	KVM_IOCTL_OR_FAIL(vm->vm_fd, KVM_CREATE_PIT2, &pit);
	return 0;
}

static int kvm_vm_check_cpus(struct kvm_vm *vm)
{
	int max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (max <= 0)
		max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;
	if (!vm->cfg->nr_cpus || vm->cfg->nr_cpus > (unsigned int)max ||
	    vm->cfg->nr_cpus > KVM_MAX_CPUS) {
		pr_err("%u CPUs: KVM supports 1 to %d", vm->cfg->nr_cpus, min(max, KVM_MAX_CPUS));
		return -EINVAL;
	}
	return 0;
}

int kvm_vm_init(struct kvm_vm *vm, const struct vm_config *cfg)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	guest_mem_init(&vm->mem);
	ret = kvm_vm_check_config(cfg);
	if (ret)
		return ret;
	if (cfg->mem_hugepages) {
		ret = kvm_vm_check_hugepages(cfg);
		if (ret)
			return ret;
		vm->mem.flags |= GUEST_MEM_HUGETLB;
	}
	if (cfg->mem_lock)
		vm->mem.flags |= GUEST_MEM_LOCKED;
	ret = kvm_vm_add_ram(vm, cfg->mem_size);
	if (ret) {
		kvm_explain_ram_error(cfg, -ret);
		goto err_destroy;
	}
	ret = bus_init(&vm->pio_bus, "pio");
	if (ret)
		goto err_destroy;
	ret = bus_init(&vm->mmio_bus, "mmio");
	if (ret)
		goto err_destroy;
	ret = loop_create(&vm->loop);
	if (ret) {
		pr_err("event loop: %s", strerror(-ret));
		goto err_destroy;
	}
	return 0;

err_destroy:
	kvm_vm_destroy(vm);
	return ret;
}

int kvm_vm_attach_kvm(struct kvm_vm *vm)
{
	int ret;

	ret = kvm_vm_open(vm);
	if (ret)
		return ret;
	ret = kvm_vm_check_cpus(vm);
	if (ret)
		return ret;
	ret = kvm_vm_setup_platform(vm);
	if (ret)
		return ret;
	vm->slots = (struct mem_listener){ .name = "kvm",
					   .region_add = kvm_slot_add,
					   .region_del = kvm_slot_del };
	/* The RAM added by kvm_vm_init() becomes memory slots now. */
	ret = guest_mem_listener_register(&vm->mem, &vm->slots);
	if (ret)
		pr_err("KVM_SET_USER_MEMORY_REGION for guest RAM: %s", strerror(-ret));
	return ret;
}

int kvm_vm_create(struct kvm_vm *vm, const struct vm_config *cfg)
{
	int ret;

	ret = kvm_vm_init(vm, cfg);
	if (ret)
		return ret;
	ret = kvm_vm_attach_kvm(vm);
	if (ret)
		kvm_vm_destroy(vm);
	return ret;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	kvm_vcpus_destroy(vm);
	if (vm->loop)
		loop_destroy(vm->loop);
	vm->loop = NULL;
	if (vm->mmio_bus.name)
		bus_exit(&vm->mmio_bus);
	if (vm->pio_bus.name)
		bus_exit(&vm->pio_bus);
	vm->mmio_bus.name = vm->pio_bus.name = NULL;
	guest_mem_exit(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

int kvm_irq_line(struct kvm_vm *vm, unsigned int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l))
		return -errno;
	return 0;
}

void kvm_vm_request_stop(struct kvm_vm *vm, enum vm_stop_reason why, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason != VM_RUNNING) {
		pthread_mutex_unlock(&vm->stop_lock);
		return;
	}
	vm->stop_reason = why;
	va_start(ap, fmt);
	vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&vm->stop_lock);
	kvm_vcpus_kick(vm);
	/* Parked vCPUs wake up, see the stop and return. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	loop_stop(vm->loop);
}

int kvm_vm_load_flat(struct kvm_vm *vm, const char *path, uint64_t gpa)
{
	struct stat st;
	void *dst;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	dst = guest_mem_ptr(&vm->mem, gpa, st.st_size);
	if (!dst) {
		ret = -EFBIG;
		goto out_close;
	}
	if (read(fd, dst, st.st_size) != st.st_size)
		ret = -EIO;
out_close:
	close(fd);
	return ret;
}
