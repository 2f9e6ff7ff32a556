/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm-trace's BPF side (userspace/bpf/trace.c over bpf/trace.bpf.c): load
 * the programs a command needs, skip those whose tracepoint this kernel
 * lacks, tell the programs which processes and taps belong to which VM, and
 * read the counters back summed over CPUs. Functions return 0 or -errno and
 * log nothing; the names of the skipped tracepoints are kept for the caller.
 */
#ifndef KAVM_BPF_TRACE_H_
#define KAVM_BPF_TRACE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/trace.h"

/* What to load: groups of programs. */
#define BPF_TRACE_KVM (1U << 0) /* exits, userspace exits, PIO/MMIO */
#define BPF_TRACE_IRQ (1U << 1)
#define BPF_TRACE_NET (1U << 2)	  /* tap counters and drop reasons */
#define BPF_TRACE_DROPS (1U << 3) /* also every drop to the ring buffer */
#define BPF_TRACE_MAX_MISSING 16

struct bpf_trace;

/* Counter maps, read with bpf_trace_read(). */
enum bpf_trace_map {
	BPF_TRACE_EXITS,	/* struct kt_exit_key -> struct kt_exit_val */
	BPF_TRACE_UEXITS,	/* struct kt_uexit_key -> u64 */
	BPF_TRACE_ADDRS,	/* struct kt_addr_key -> u64 */
	BPF_TRACE_IRQS,		/* struct kt_irq_key -> u64 */
	BPF_TRACE_TAPS,		/* u32 slot -> struct kt_tap_val */
	BPF_TRACE_DROP_REASONS, /* struct kt_drop_key -> u64 */
	BPF_TRACE_NR_MAPS,
};

/* One entry, summed over CPUs (min_ns/max_ns of exits: the min and max). */
struct bpf_trace_entry {
	union {
		struct kt_exit_key exit;
		struct kt_uexit_key uexit;
		struct kt_addr_key addr;
		struct kt_irq_key irq;
		struct kt_drop_key drop;
		uint32_t slot;
		uint8_t raw[16];
	} key;
	union {
		struct kt_exit_val exit;
		struct kt_tap_val tap;
		uint64_t count;
	} val;
};

/*
 * Open, set up, load and attach the programs of groups (BPF_TRACE_*).
 * A program whose tracepoint is missing is not loaded; its name
 * ("kvm/kvm_exit") is listed by bpf_trace_missing(). -ENOENT when nothing
 * at all could be loaded.
 */
int bpf_trace_open(unsigned int groups, struct bpf_trace **out);
void bpf_trace_close(struct bpf_trace *bt);
/* The skipped tracepoints: fills names, returns how many. */
unsigned int bpf_trace_missing(const struct bpf_trace *bt, const char **names, unsigned int max);
/* Was the program for this tracepoint ("kvm/kvm_pio") loaded? */
bool bpf_trace_loaded(const struct bpf_trace *bt, const char *tracepoint);

/* What belongs to VM index vm: a process (KT_PID_*) or a tap, given a slot. */
int bpf_trace_add_pid(struct bpf_trace *bt, uint32_t pid, uint32_t vm, uint32_t kind);
int bpf_trace_del_pid(struct bpf_trace *bt, uint32_t pid);
/* A vCPU thread (the registry's tids): exits to kavm and injections are counted per vCPU. */
int bpf_trace_add_vcpu(struct bpf_trace *bt, uint32_t tid, uint32_t vm, uint32_t vcpu);
int bpf_trace_del_vcpu(struct bpf_trace *bt, uint32_t tid);
int bpf_trace_add_tap(struct bpf_trace *bt, uint32_t netns, uint32_t ifindex, uint32_t vm,
		      uint32_t slot);
/* The tap's VM has vhost workers: count the frames they move (after bpf_trace_add_tap). */
int bpf_trace_tap_vhost(struct bpf_trace *bt, uint32_t netns, uint32_t ifindex, uint32_t vm,
			uint32_t slot);
/* A vhost worker thread of VM vm. */
int bpf_trace_add_vhost(struct bpf_trace *bt, uint32_t tid, uint32_t vm);
int bpf_trace_del_vhost(struct bpf_trace *bt, uint32_t tid);
int bpf_trace_del_tap(struct bpf_trace *bt, uint32_t netns, uint32_t ifindex);

/*
 * Every entry of a counter map, summed over CPUs, into a growing array
 * (*entries, realloc()ed, *nr set). Tap slots with no traffic are left out.
 */
int bpf_trace_read(struct bpf_trace *bt, enum bpf_trace_map map, struct bpf_trace_entry **entries,
		   size_t *nr);

/* Drop events (BPF_TRACE_DROPS): fn for each, waiting up to timeout_ms. */
int bpf_trace_poll_drops(struct bpf_trace *bt, int timeout_ms,
			 void (*fn)(const struct kt_drop_event *e, void *arg), void *arg);

/* The running kernel's name for an skb drop reason ("NO_SOCKET"), from its BTF; NULL if unknown. */
const char *bpf_trace_drop_reason(const struct bpf_trace *bt, uint32_t reason);

#endif /* KAVM_BPF_TRACE_H_ */
