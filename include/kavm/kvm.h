/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm VM: the KVM VM and its vCPUs, guest RAM, the two device buses and the
 * event loop, plus the guest physical layout every device and the boot code
 * agree on.
 */
#ifndef KAVM_KVM_H
#define KAVM_KVM_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <kavm/bus.h>
#include <kavm/memory.h>
#include <kavm/net.h>

struct loop;
struct kvm_run;
struct cpuid_table;

/*
 * Guest physical layout. RAM starts at 0 and runs up to KVM_LOW_RAM_MAX at
 * most; the rest of RAM lives above 4 GiB, so [KVM_PCI_MMIO_BASE,
 * KVM_PCI_MMIO_END) is never RAM and the guest (which finds it as an e820
 * gap) and the PCI code agree to place 32-bit BARs there. Above it sit the
 * IOAPIC and the local APICs.
 */
#define KVM_LOW_RAM_MAX 0xc0000000ULL
#define KVM_HIGH_RAM_BASE 0x100000000ULL
#define KVM_PCI_MMIO_BASE 0xc0000000ULL
#define KVM_PCI_MMIO_END 0xfec00000ULL
#define KVM_IOAPIC_BASE 0xfec00000ULL
#define KVM_LAPIC_BASE 0xfee00000ULL
/* KVM's TSS (3 pages) and identity-map page sit just below the IOAPIC. */
#define KVM_TSS_ADDR 0xfeffc000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfeffb000ULL

/* 8-bit xAPIC ids in the MP table: 0..253 for CPUs, the IOAPIC next, 0xff broadcast */
#define KVM_MAX_CPUS 254
#define KVM_MIN_MEM (16ULL << 20)    /* what a Linux guest needs */
#define KVM_MIN_VM_MEM (64ULL << 10) /* what kvm_vm_create accepts */

/* One CPUID feature bit a user may remove with --cpu-features -name. */
struct cpu_feature_mask {
	uint32_t function, index;
	uint8_t reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint8_t bit;
	bool set; /* '+': require it; '-': hide it */
	const char *name;
};

#define KVM_MAX_FEATURE_MASKS 32
#define KAVM_MAX_NICS 8

/* What the command line asked for; filled by options.c, read by everything else. */
struct vm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	/* --name: in the registry, the control socket, messages; NULL: kavm-PID, no socket */
	const char *name;
	const char *serial; /* NULL or "stdio", "file:PATH", "unix:PATH", "none" */
	uint64_t mem_size;
	unsigned int nr_cpus;
	struct cpu_feature_mask features[KVM_MAX_FEATURE_MASKS];
	unsigned int nr_features;
	bool no_irqchip; /* tests only: HLT then exits to userspace */
	bool seccomp;	 /* each thread under its allow-list once running (seccomp.h) */
	/* ACPI tables and registers (acpi.h); off (--no-acpi): the MP table only. */
	bool acpi;
	const char *dump_acpi_dir; /* --dump-acpi: write the tables there, run nothing */
	/* --netdev and --device, in command-line order; each device names one netdev. */
	struct netdev_opts netdevs[KAVM_MAX_NICS];
	unsigned int nr_netdevs;
	struct net_device_opts nics[KAVM_MAX_NICS];
	unsigned int nr_nics;
	/* --object filter-dump: each names one netdev a device uses. */
	struct net_filter_opts filters[KAVM_MAX_NICS];
	unsigned int nr_filters;
	const char *control_path; /* --control, or the default for --name; NULL: none */
	bool control_set;	  /* --control given (none included) */
	/* Deployment knobs (Documentation/performance.md). */
	bool mem_hugepages;	/* --memory ...,hugepages=on: RAM from the huge page pool */
	bool mem_lock;		/* --memory ...,mlock=on: RAM locked (and so populated) at start */
	bool vcpu_affinity_set; /* --cpus N,affinity=LIST: every vCPU thread on vcpu_affinity */
	cpu_set_t vcpu_affinity;
	bool io_affinity_set; /* --io-affinity LIST: the I/O thread on io_affinity */
	cpu_set_t io_affinity;
};

/* Why the VM stopped; decides kavm's exit status and its one-line message. */
enum vm_stop_reason {
	VM_RUNNING,
	VM_STOP_REBOOT,	  /* guest reset: i8042, triple fault, reset event */
	VM_STOP_POWEROFF, /* KVM_SYSTEM_EVENT_SHUTDOWN */
	VM_STOP_HALT,	  /* HLT exit without an in-kernel irqchip (test guests) */
	VM_STOP_SIGNAL,	  /* SIGINT/SIGTERM or Ctrl-a x */
	VM_STOP_QUIT,	  /* quit on the control socket: status 0, as QEMU's */
	VM_STOP_ERROR,	  /* internal error, failed entry, crash event */
};

/* What a vCPU did, from KVM's counters and kavm's own; see kvm_vm_progress_report(). */
struct kvm_vcpu_progress {
	uint64_t exits;	     /* every exit from guest mode, even those KVM handles itself */
	uint64_t kavm_exits; /* those that came out to kavm */
	uint64_t irqs;	     /* interrupts KVM injected */
	uint64_t wakeups;    /* wakeups from HLT */
	bool blocking;	     /* now blocked in HLT */
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run; /* mmap()ed; immediate_exit is written by the stopper */
	pthread_t thread;
	bool started; /* atomic: set by kvm_vm_run(), read by any stopper */
	/* KVM's binary stats (vcpu-stats.c); -1 without them. Loop thread only. */
	int stats_fd;
	uint64_t stats_blocking, stats_wakeups; /* offsets of the two counters */
	int64_t stats_exits, stats_irqs;	/* the same, or -1: not every KVM has them */
	uint64_t halt_wakeups_seen;		/* halt_wakeup at the last halt check */
	struct kvm_vcpu_progress mark;		/* kvm_vm_progress_mark(); loop thread only */
	uint64_t kavm_exits;			/* exits kavm handled; atomic, vCPU thread writes */
	char sandbox_name[16];			/* "vCPU N" in a seccomp report */
	pid_t tid; /* set by the thread itself first thing; protected by vm->pause_lock */
};

struct kvm_vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	struct guest_mem mem;
	struct mem_listener slots; /* KVM_SET_USER_MEMORY_REGION for every region */
	struct bus pio_bus, mmio_bus;
	struct loop *loop;
	struct kvm_vcpu *vcpus;
	unsigned int nr_vcpus;
	int run_size;
	struct cpuid_table *cpuid;

	/*
	 * Pausing: kvm_vm_pause() waits until every started vCPU is parked or
	 * gone. Pauses nest (the halt check's inside a user's stop), so a
	 * depth: the vCPUs run again when it drops to 0.
	 */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	unsigned int pause_depth; /* protected by pause_lock */
	unsigned int nr_parked;	  /* protected by pause_lock */
	unsigned int nr_gone;	  /* vCPU threads that returned; protected by pause_lock */
	unsigned int nr_tids;	  /* vCPU threads that set their tid; protected by pause_lock */

	/*
	 * Called on the I/O thread once every vCPU thread exists and set its
	 * tid, before the I/O thread's sandbox applies (kavm's VM registry).
	 */
	void (*vcpus_started)(struct kvm_vm *vm, void *opaque);
	void *vcpus_started_opaque;

	unsigned int halt_pauses; /* halt checks that had to pause the vCPUs; loop thread */

	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop_reason; /* protected by stop_lock */
	char stop_msg[256];		 /* protected by stop_lock */
};

/*
 * vCPU statistics without stopping the vCPU (KVM_GET_STATS_FD): is it
 * blocked in HLT, and how many halt wakeups so far. -ENOTSUP before Linux
 * 5.14 or without the two counters.
 */
int kvm_vcpu_stats_open(struct kvm_vcpu *vcpu);
void kvm_vcpu_stats_close(struct kvm_vcpu *vcpu);
int kvm_vcpu_stats_halt(struct kvm_vcpu *vcpu, bool *blocking, uint64_t *wakeups);
void kvm_vm_progress_mark(struct kvm_vm *vm);
void kvm_vm_progress_report(struct kvm_vm *vm, const char *since);

/*
 * Two steps, so that every input is checked before /dev/kvm is opened:
 * kvm_vm_init() makes RAM per cfg (layout above), buses and loop without
 * KVM; kvm_vm_attach_kvm() then opens KVM, the VM, irqchip/PIT and turns
 * the RAM into memory slots. kvm_vm_create() does both (tests).
 */
int kvm_vm_init(struct kvm_vm *vm, const struct vm_config *cfg);
int kvm_vm_attach_kvm(struct kvm_vm *vm);
int kvm_vm_create(struct kvm_vm *vm, const struct vm_config *cfg);
void kvm_vm_destroy(struct kvm_vm *vm);

/* Create cfg->nr_cpus vCPUs with CPUID; the BSP starts at entry_rip in long mode. */
int kvm_vcpus_create(struct kvm_vm *vm);
void kvm_vcpus_destroy(struct kvm_vm *vm);
/* Test guests: real mode, CS=0, at ip. */
int kvm_vcpu_setup_real_mode(struct kvm_vcpu *vcpu, uint16_t ip);
/* Registers, segments, events and code at RIP on stderr: after a fatal exit (vcpu-dump.c). */
void kvm_vcpu_dump(struct kvm_vcpu *vcpu);
/* Interrupt every vCPU's KVM_RUN (the stop path); they look at stop_reason. */
void kvm_vcpus_kick(struct kvm_vm *vm);

/*
 * Start the vCPU threads, run the loop on the calling thread (the I/O thread)
 * until something stops the VM, join the vCPUs. Returns the stop reason.
 */
enum vm_stop_reason kvm_vm_run(struct kvm_vm *vm);
/* Stop the VM once (first caller wins): kick every vCPU out of KVM_RUN, stop the loop. */
void kvm_vm_request_stop(struct kvm_vm *vm, enum vm_stop_reason why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Park every vCPU outside KVM_RUN (device or memory reconfiguration, the
 * control socket's stop) and return once they all are; kvm_vm_resume()
 * undoes one kvm_vm_pause(), and the vCPUs run again after the last. Not
 * from a vCPU thread.
 */
void kvm_vm_pause(struct kvm_vm *vm);
void kvm_vm_resume(struct kvm_vm *vm);
/* Drive an ISA/IOAPIC interrupt line (KVM_IRQ_LINE). */
int kvm_irq_line(struct kvm_vm *vm, unsigned int irq, int level);

/* Copy a flat binary to guest physical gpa (test guests). */
int kvm_vm_load_flat(struct kvm_vm *vm, const char *path, uint64_t gpa);

/* CPUID (cpuid.c) */
int kvm_cpuid_get(struct kvm_vm *vm);
int kvm_cpuid_apply(struct kvm_vm *vm, struct kvm_vcpu *vcpu);
/* What kavm gives vCPU vcpu_id for a leaf: eax, ebx, ecx, edx. */
int kvm_cpuid_lookup(struct kvm_vm *vm, unsigned int vcpu_id, uint32_t function, uint32_t index,
		     uint32_t regs[4]);
/* Parse "-cx16,+avx,..." into cfg->features; -EINVAL names the bad token in *bad. */
int cpu_features_parse(struct vm_config *cfg, const char *spec, const char **bad);

#endif /* KAVM_KVM_H */
