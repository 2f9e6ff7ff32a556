/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm-trace: map layouts shared by bpf/trace.bpf.c and its loader
 * (userspace/bpf/trace.c). Every counter map holds totals since the load;
 * the tool turns them into per-interval counts and rates.
 * Included by BPF code (vmlinux.h types) and by userspace (linux/types.h).
 */
#ifndef KAVM_BPF_TRACE_H
#define KAVM_BPF_TRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* VMs and taps traced at once: the loader's slots. */
#define KT_MAX_VMS 64
#define KT_MAX_TAPS 256
/* Processes that act for a VM: kavm itself, its vhost and PIT workers. */
#define KT_MAX_PIDS 256
/* Threads between a KVM exit and the next entry. */
#define KT_MAX_THREADS 4096
/* Hot keyed counters, per CPU: exits by reason, PIO/MMIO by address, irqs. */
#define KT_EXIT_KEYS 2048
#define KT_ADDR_KEYS 2048
#define KT_IRQ_KEYS 2048
#define KT_DROP_KEYS 1024
/* Handling time in log2 ns buckets: [2^i, 2^(i+1)), the last one open. */
#define KT_HIST_SLOTS 32
#define KT_RINGBUF_SIZE (256 * 1024)

/* vm_pids value .kind */
#define KT_PID_VMM 0
#define KT_PID_WORKER 1 /* vhost-PID or kvm-pit/PID, acting for the VM */

struct kt_pid {
	__u32 vm;
	__u32 kind;
};

/* vcpu_tids value: a vCPU thread, as the VM's registry entry names it. */
struct kt_vcpu {
	__u32 vm;
	__u32 vcpu;
};

/* vm_taps key: an ifindex means a device in one network namespace. */
struct kt_tap_key {
	__u32 netns;
	__u32 ifindex;
};

struct kt_tap {
	__u32 vm;
	__u32 slot;  /* index into tap_stats */
	__u32 flags; /* KT_TAP_* */
};

/*
 * The VM has vhost workers (in vhost_tids): only then is the current
 * thread looked up, so taps without vhost pay nothing for the vhost share.
 */
#define KT_TAP_VHOST (1U << 0)

/*
 * tap_cache: vm_taps direct-mapped by ifindex, so that a frame costs an
 * array read (which the verifier inlines) instead of a hash lookup, and a
 * frame of no traced tap usually stops there. The loader keeps each entry
 * in step with vm_taps: no tap at that index, exactly one (copied here), or
 * several (shared: only vm_taps can tell them apart).
 */
#define KT_TAP_CACHE 1024
struct kt_tap_cached {
	__u32 ifindex; /* 0: no traced tap maps here */
	__u32 netns;
	__u32 shared;
	struct kt_tap tap;
};

/* exit_stats key; reason is the hardware code (VMX basic reason or SVM code). */
struct kt_exit_key {
	__u32 vm;
	__u32 vcpu;
	__u32 isa; /* KT_ISA_* as the kvm_exit tracepoint gives it */
	__u32 reason;
};

#define KT_ISA_VMX 1
#define KT_ISA_SVM 2

struct kt_exit_val {
	__u64 count;
	__u64 sum_ns;
	__u64 min_ns;
	__u64 max_ns;
	__u64 hist[KT_HIST_SLOTS];
};

/* Between a kvm_exit and the vCPU's next kvm_entry, per thread. */
struct kt_inflight {
	__u64 ts;
	__u32 vm;
	__u32 vcpu;
	__u32 isa;
	__u32 reason;
};

/* userspace_exits key: KVM_RUN returning to kavm (kvm_userspace_exit). */
struct kt_uexit_key {
	__u32 vm;
	__u32 vcpu;
	__u32 reason; /* KVM_EXIT_*, or KT_UEXIT_ERRNO + errno when KVM_RUN failed */
	__u32 pad;
};

#define KT_UEXIT_ERRNO 0x10000

/* addr_stats key: port I/O and MMIO by address. */
struct kt_addr_key {
	__u32 vm;
	__u32 kind; /* KT_ADDR_* */
	__u64 addr;
};

#define KT_ADDR_PIO_IN 0
#define KT_ADDR_PIO_OUT 1
#define KT_ADDR_MMIO_READ 2
#define KT_ADDR_MMIO_WRITE 3
#define KT_ADDR_MMIO_UNSATISFIED 4

/* irq_stats key */
struct kt_irq_key {
	__u32 vm;
	__u32 kind; /* KT_IRQ_* */
	__u32 vcpu; /* KT_IRQ_INJ_VIRQ: the vCPU; else ~0 */
	__u32 num;  /* vector (INJ_VIRQ, MSI) or GSI */
};

#define KT_IRQ_INJ_VIRQ 0 /* kvm_inj_virq: injected into a vCPU at entry */
#define KT_IRQ_MSI 1	  /* kvm_msi_set_irq: an MSI raised (irqfd, KVM_SIGNAL_MSI) */
#define KT_IRQ_GSI 2	  /* kvm_set_irq: a GSI line set (KVM_IRQ_LINE, irqfd) */

/* tap_stats value, per CPU, by tap slot. "rx" and "tx" are the guest's. */
enum kt_tap_counter {
	/*
	 * The first four are the kernel's own link statistics of the tap, read
	 * by kavm-trace over rtnetlink each interval: no program runs per frame
	 * for them. The rest are counted here.
	 */
	KT_TAP_RX_PACKETS, /* host -> tap (the tap's tx_packets): to the guest */
	KT_TAP_RX_BYTES,
	KT_TAP_TX_PACKETS, /* tap -> host (the tap's rx_packets): from the guest */
	KT_TAP_TX_BYTES,
	KT_TAP_DROPS,		 /* kfree_skb of an skb whose device is the tap */
	KT_TAP_VHOST_RX_PACKETS, /* of RX, taken off the tap by a vhost worker */
	KT_TAP_VHOST_TX_PACKETS, /* of TX, sent into the tap by a vhost worker */
	KT_TAP_NR_COUNTERS,
};

struct kt_tap_val {
	__u64 c[KT_TAP_NR_COUNTERS];
};

/* drop_stats key */
struct kt_drop_key {
	__u32 slot;
	__u32 reason; /* enum skb_drop_reason of the running kernel */
};

/* One dropped frame on a traced tap, in the ring buffer. */
struct kt_drop_event {
	__u64 ts;
	__u64 location; /* kernel text address of the kfree_skb call */
	__u32 vm;
	__u32 slot;
	__u32 ifindex;
	__u32 reason;
	__u32 len;
	__u16 protocol; /* network byte order, as skb->protocol */
	__u16 pad;
	__u32 pid;
	char comm[16];
};

#endif /* KAVM_BPF_TRACE_H */
