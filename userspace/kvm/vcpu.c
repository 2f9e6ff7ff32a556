// SPDX-License-Identifier: GPL-2.0
/* kavm vCPUs: one thread per vCPU running KVM_RUN and dispatching its exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <kavm/acpi.h>
#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/seccomp.h>

/* The kick signal: its only job is to make KVM_RUN return -EINTR. */
#define VCPU_KICK_SIGNAL SIGUSR1

static void vcpu_kick_handler(int sig)
{
}

static int kvm_vcpu_create_one(struct kvm_vm *vm, struct kvm_vcpu *vcpu, unsigned int id)
{
	int ret;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0) {
		ret = -errno;
		pr_err("vCPU %u: KVM_CREATE_VCPU: %s", id, strerror(errno));
		return ret;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		vcpu->run = NULL;
		pr_err("vCPU %u: mmap kvm_run: %s", id, strerror(errno));
		return ret;
	}
	/* Optional: without it the halt check pauses the guest every time. */
	kvm_vcpu_stats_open(vcpu);
	return kvm_cpuid_apply(vm, vcpu);
}

int kvm_vcpus_create(struct kvm_vm *vm)
{
	unsigned int i;
	int ret;

	ret = kvm_cpuid_get(vm);
	if (ret)
		return ret;
	vm->vcpus = calloc(vm->cfg->nr_cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (i = 0; i < vm->cfg->nr_cpus; i++) {
		vm->vcpus[i].fd = -1;
		vm->vcpus[i].stats_fd = -1;
		vm->nr_vcpus++;
		ret = kvm_vcpu_create_one(vm, &vm->vcpus[i], i);
		if (ret)
			goto err_destroy;
	}
	return 0;

err_destroy:
	kvm_vcpus_destroy(vm);
	return ret;
}

void kvm_vcpus_destroy(struct kvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *vcpu = &vm->vcpus[i];

		kvm_vcpu_stats_close(vcpu);
		if (vcpu->run)
			munmap(vcpu->run, vm->run_size);
		if (vcpu->fd >= 0)
			close(vcpu->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	free(vm->cpuid);
	vm->cpuid = NULL;
}

int kvm_vcpu_setup_real_mode(struct kvm_vcpu *vcpu, uint16_t ip)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = ip, .rflags = 2 };

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds = sregs.es = sregs.ss = sregs.fs = sregs.gs = sregs.cs;
	sregs.ds.type = sregs.es.type = sregs.ss.type = 3;
	sregs.fs.type = sregs.gs.type = 3;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs))
		return -errno;
	regs.rsp = 0x1000;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

static bool vm_stopping(struct kvm_vm *vm)
{
	return __atomic_load_n(&vm->stop_reason, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

void kvm_vcpus_kick(struct kvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *vcpu = &vm->vcpus[i];

		/*
		 * immediate_exit covers a vCPU between its stop check and
		 * KVM_RUN; the signal covers one already inside KVM_RUN.
		 */
		__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&vcpu->started, __ATOMIC_ACQUIRE))
			pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
	}
}

static uint64_t vcpu_rip(struct kvm_vcpu *vcpu)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs))
		return ~0ULL;
	return regs.rip;
}

static void vcpu_handle_io(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (bus_dispatch(&vcpu->vm->pio_bus, run->io.port, data, run->io.size, is_write))
			log_ratelimited(LOG_LEVEL_DEBUG, "vCPU %u: unclaimed port %s %#x/%u",
					vcpu->id, is_write ? "write" : "read", run->io.port,
					run->io.size);
	}
}

static void vcpu_handle_mmio(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (bus_dispatch(&vcpu->vm->mmio_bus, run->mmio.phys_addr, run->mmio.data, len,
			 run->mmio.is_write))
		log_ratelimited(LOG_LEVEL_DEBUG, "vCPU %u: unclaimed MMIO %s %#llx/%u", vcpu->id,
				run->mmio.is_write ? "write" : "read",
				(unsigned long long)run->mmio.phys_addr, len);
}

static void vcpu_report_internal(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char data[160] = "";
	size_t off = 0;
	uint32_t i;

	for (i = 0; i < run->internal.ndata && i < ARRAY_SIZE(run->internal.data); i++)
		off += snprintf(data + off, sizeof(data) - min(off, sizeof(data)), " %#llx",
				(unsigned long long)run->internal.data[i]);
	kvm_vm_request_stop(vcpu->vm, VM_STOP_ERROR,
			    "vCPU %u: KVM internal error, suberror %u, at rip %#llx, data:%s",
			    vcpu->id, run->internal.suberror, (unsigned long long)vcpu_rip(vcpu),
			    off ? data : " none");
}

static void vcpu_handle_system_event(struct kvm_vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		kvm_vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		kvm_vm_request_stop(vcpu->vm, VM_STOP_REBOOT, "guest reset");
		break;
	default:
		kvm_vm_request_stop(vcpu->vm, VM_STOP_ERROR,
				    "vCPU %u: guest system event %u (crash) at rip %#llx", vcpu->id,
				    vcpu->run->system_event.type,
				    (unsigned long long)vcpu_rip(vcpu));
	}
}

/* One KVM exit. Returns false once the vCPU must stop running. */
static bool vcpu_handle_exit(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC: nothing can wake the vCPU. */
		kvm_vm_request_stop(vcpu->vm, VM_STOP_HALT, "vCPU %u halted at rip %#llx", vcpu->id,
				    (unsigned long long)vcpu_rip(vcpu));
		return false;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: like QEMU -no-reboot, a reset ends kavm. */
		kvm_vcpu_dump(vcpu);
		kvm_vm_request_stop(vcpu->vm, VM_STOP_REBOOT, "guest reset (triple fault)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(vcpu);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		kvm_vcpu_dump(vcpu);
		vcpu_report_internal(vcpu);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		kvm_vcpu_dump(vcpu);
		kvm_vm_request_stop(
			vcpu->vm, VM_STOP_ERROR,
			"vCPU %u: VM entry failed, reason %#llx on host CPU %u at rip %#llx",
			vcpu->id, (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu, (unsigned long long)vcpu_rip(vcpu));
		return false;
	default:
		kvm_vm_request_stop(vcpu->vm, VM_STOP_ERROR,
				    "vCPU %u: unexpected KVM exit %u at rip %#llx", vcpu->id,
				    run->exit_reason, (unsigned long long)vcpu_rip(vcpu));
		return false;
	}
}

/* Called by the vCPU thread between runs: wait here while a pause is requested. */
static void vcpu_park_if_paused(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_depth) {
		vm->nr_parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pause_depth && !vm_stopping(vm))
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->nr_parked--;
	}
	/*
	 * Under pause_lock with no pause pending: a pauser sets immediate_exit
	 * only after raising pause_depth, so this cannot lose its kick. A
	 * stopper's kick may be lost, but the caller checks stop_reason next.
	 */
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void vcpu_gone(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->nr_gone++;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	char name[16];
	sigset_t set;

	pthread_mutex_lock(&vcpu->vm->pause_lock);
	vcpu->tid = gettid();
	vcpu->vm->nr_tids++;
	pthread_cond_broadcast(&vcpu->vm->pause_cond);
	pthread_mutex_unlock(&vcpu->vm->pause_lock);
	snprintf(name, sizeof(name), "kavm-vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (vcpu->vm->cfg->seccomp) {
		int ret;

		snprintf(vcpu->sandbox_name, sizeof(vcpu->sandbox_name), "vCPU %u", vcpu->id);
		ret = sandbox_apply(SANDBOX_VCPU, vcpu->sandbox_name);
		if (ret) {
			kvm_vm_request_stop(vcpu->vm, VM_STOP_ERROR, "vCPU %u: seccomp: %s",
					    vcpu->id, strerror(-ret));
			vcpu_gone(vcpu);
			return NULL;
		}
	}

	while (!vm_stopping(vcpu->vm)) {
		vcpu_park_if_paused(vcpu);
		if (vm_stopping(vcpu->vm))
			break;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			kvm_vm_request_stop(vcpu->vm, VM_STOP_ERROR, "vCPU %u: KVM_RUN: %s",
					    vcpu->id, strerror(errno));
			break;
		}
		__atomic_store_n(&vcpu->kavm_exits, vcpu->kavm_exits + 1, __ATOMIC_RELAXED);
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	vcpu_gone(vcpu);
	return NULL;
}

static unsigned int vcpus_started(struct kvm_vm *vm)
{
	unsigned int i, n = 0;

	for (i = 0; i < vm->nr_vcpus; i++)
		n += __atomic_load_n(&vm->vcpus[i].started, __ATOMIC_ACQUIRE);
	return n;
}

void kvm_vm_pause(struct kvm_vm *vm)
{
	unsigned int i;

	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_depth++;
	pthread_mutex_unlock(&vm->pause_lock);
	for (i = 0; i < vm->nr_vcpus; i++) {
		__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&vm->vcpus[i].started, __ATOMIC_ACQUIRE))
			pthread_kill(vm->vcpus[i].thread, VCPU_KICK_SIGNAL);
	}
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nr_parked + vm->nr_gone < vcpus_started(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
}

void kvm_vm_resume(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_depth && !--vm->pause_depth)
		pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static int vcpu_signals_setup(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	sigset_t set;

	/* No SA_RESTART: KVM_RUN must come back with EINTR. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL))
		return -errno;
	/* Only vCPU threads take the kick; they unblock it themselves. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void kvm_vcpus_join(struct kvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (!vm->vcpus[i].started)
			continue;
		pthread_join(vm->vcpus[i].thread, NULL);
		__atomic_store_n(&vm->vcpus[i].started, false, __ATOMIC_RELEASE);
	}
}

#define X86_EFLAGS_IF 0x200
#define HALT_CHECK_NS 1000000000ULL

/* Halted with interrupts off: only an NMI or INIT could wake it, and none will come. */
static bool vcpu_dead_halted(struct kvm_vcpu *vcpu, uint64_t *rip)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) || mp.mp_state != KVM_MP_STATE_HALTED)
		return false;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) || (regs.rflags & X86_EFLAGS_IF))
		return false;
	*rip = regs.rip;
	return true;
}

/*
 * Worth stopping the guest to look? Only if every vCPU is blocked in HLT
 * and none was woken since the last look; a guest that is busy, or idles
 * with a timer waking it, is left alone. Without KVM's stats: always.
 */
static bool vm_looks_halted(struct kvm_vm *vm)
{
	bool all = true, blocking;
	unsigned int i;
	uint64_t w;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *vcpu = &vm->vcpus[i];

		if (kvm_vcpu_stats_halt(vcpu, &blocking, &w))
			return true;
		if (!blocking || w != vcpu->halt_wakeups_seen)
			all = false;
		vcpu->halt_wakeups_seen = w;
	}
	return all;
}

/*
 * A PC without ACPI (--no-acpi, or a guest booted with acpi=off) cannot
 * power off: Linux's poweroff (and halt) end with every CPU halted with
 * interrupts disabled, inside KVM where kavm sees no exit. Once a second the loop looks; when KVM's counters say the guest
 * might be in that state, it parks the vCPUs and reads their state. Parking
 * a running guest every second would cost it two exits per vCPU for
 * nothing, which QEMU and Firecracker never inflict.
 */
static void vm_halt_check(void *opaque)
{
	struct kvm_vm *vm = opaque;
	unsigned int i, dead = 0;
	uint64_t rip = 0, rip0 = 0;

	/* A guest running ACPI powers off through the sleep control register (hw/pm.c). */
	if (pm_guest_acpi_up() || !vm_looks_halted(vm))
		return;
	vm->halt_pauses++;
	kvm_vm_pause(vm);
	for (i = 0; i < vm->nr_vcpus; i++) {
		dead += vcpu_dead_halted(&vm->vcpus[i], &rip);
		if (i == 0)
			rip0 = rip;
	}
	kvm_vm_resume(vm);
	/* The RIP tells a poweroff (stop_this_cpu) from a guest that died early. */
	if (dead == vm->nr_vcpus)
		kvm_vm_request_stop(
			vm, VM_STOP_POWEROFF,
			"guest halted (every vCPU stopped with interrupts off; vCPU 0 at rip %#llx)",
			(unsigned long long)rip0);
}

/* Wait until the nr threads started have set their tids, then run the hook. */
static void vcpus_started_hook(struct kvm_vm *vm, unsigned int nr)
{
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nr_tids < nr)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	vm->vcpus_started(vm, vm->vcpus_started_opaque);
}

/*
 * One thread per vCPU, created already on --cpus affinity= (glibc applies
 * the attribute before the thread runs, from this thread, which is not
 * sandboxed yet). Returns how many started; a failure stops the VM.
 */
static unsigned int vcpus_start(struct kvm_vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	pthread_attr_t attr;
	unsigned int i;
	int ret;

	pthread_attr_init(&attr);
	if (cfg->vcpu_affinity_set)
		pthread_attr_setaffinity_np(&attr, sizeof(cfg->vcpu_affinity), &cfg->vcpu_affinity);
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = pthread_create(&vm->vcpus[i].thread, &attr, vcpu_thread, &vm->vcpus[i]);
		if (ret) {
			kvm_vm_request_stop(vm, VM_STOP_ERROR, "vCPU %u thread%s: %s", i,
					    cfg->vcpu_affinity_set ? " (--cpus affinity=)" : "",
					    strerror(ret));
			break;
		}
		__atomic_store_n(&vm->vcpus[i].started, true, __ATOMIC_RELEASE);
	}
	pthread_attr_destroy(&attr);
	return i;
}

enum vm_stop_reason kvm_vm_run(struct kvm_vm *vm)
{
	struct loop_timer *halt_timer = NULL;
	unsigned int i;
	int ret;

	vm->nr_gone = 0;
	vm->nr_tids = 0;
	if (vm->cfg->seccomp) {
		ret = sandbox_prepare();
		if (ret) {
			kvm_vm_request_stop(vm, VM_STOP_ERROR, "seccomp: %s", strerror(-ret));
			return vm->stop_reason;
		}
	}
	ret = vcpu_signals_setup();
	if (ret) {
		kvm_vm_request_stop(vm, VM_STOP_ERROR, "vCPU signals: %s", strerror(-ret));
		return vm->stop_reason;
	}
	i = vcpus_start(vm);
	if (vm->vcpus_started && !vm_stopping(vm))
		vcpus_started_hook(vm, i);
	/* After the vCPUs, which would inherit it; before the sandbox, which forbids it. */
	if (vm->cfg->io_affinity_set && !vm_stopping(vm) &&
	    sched_setaffinity(0, sizeof(vm->cfg->io_affinity), &vm->cfg->io_affinity))
		kvm_vm_request_stop(vm, VM_STOP_ERROR, "--io-affinity: I/O thread: %s",
				    strerror(errno));
	/* Without an in-kernel irqchip HLT exits to kavm: no need to look. */
	if (!vm->cfg->no_irqchip &&
	    loop_timer_add(vm->loop, HALT_CHECK_NS, HALT_CHECK_NS, vm_halt_check, vm, &halt_timer))
		halt_timer = NULL;
	/* The vCPU threads exist: from here on the loop thread runs sandboxed too. */
	if (vm->cfg->seccomp && !vm_stopping(vm)) {
		ret = sandbox_apply(SANDBOX_IO, "the I/O thread");
		if (ret)
			kvm_vm_request_stop(vm, VM_STOP_ERROR, "I/O thread: seccomp: %s",
					    strerror(-ret));
	}
	if (!vm_stopping(vm)) {
		ret = loop_run(vm->loop);
		if (ret < 0)
			kvm_vm_request_stop(vm, VM_STOP_ERROR, "event loop: %s", strerror(-ret));
	}
	if (halt_timer)
		loop_timer_del(vm->loop, halt_timer);
	kvm_vcpus_kick(vm);
	kvm_vcpus_join(vm);
	return vm->stop_reason;
}

/* Core: the boot code and the devices need the vCPUs (LAPIC state, MP table). */
static int vcpus_init(struct kvm_vm *vm)
{
	int ret = kvm_vcpus_create(vm);

	/* kvm_vcpus_create names its failures, except running out of memory. */
	return ret && ret != -ENOMEM ? -ECANCELED : ret;
}
core_init(vcpus_init, kvm_vcpus_destroy);
