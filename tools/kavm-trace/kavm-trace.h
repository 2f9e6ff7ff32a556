/* SPDX-License-Identifier: GPL-2.0 */
/* kavm-trace: state shared by the commands (main.c, vms.c, exits.c, net.c, irq.c, drops.c). */
#ifndef KAVM_TRACE_H
#define KAVM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kavm/bpf-trace.h>
#include <kavm/json.h>
#include <kavm/registry.h>
#include <kavm/rtnl.h>

/* Exit statuses: documented in --help and kavm-trace(8). */
#define KT_EXIT_OK 0
#define KT_EXIT_ERROR 1 /* no such VM, BPF could not load, ... */
#define KT_EXIT_USAGE 2 /* bad command line */

#define KT_MAX_WORKERS 8

struct kt_opts {
	const char *vm; /* --vm NAME|PID, NULL: every registered VM */
	double interval;
	bool once;
	bool json;
	bool hist;
	unsigned int top;
};

/* A VM being traced: its registry entry, its index in the BPF maps. */
struct kt_vm {
	bool used;
	bool seen; /* still in the registry at the last refresh */
	struct registry_vm reg;
	uint32_t workers[KT_MAX_WORKERS]; /* tids of vhost/PIT threads acting for it */
	unsigned int nr_workers;
	bool vhost; /* its taps count what the vhost workers move */
	uint32_t tap_slot[REGISTRY_MAX_TAPS];
	struct kavm_rtnl *rtnl; /* in the VM's network namespace: its taps' link statistics */
};

/* The link statistics net shows, in enum kt_tap_counter's order. */
#define KT_LINK_COUNTERS 4

struct kt_slot {
	bool used;
	uint32_t vm;
	uint32_t ifindex;
	char ifname[16];
	bool linked;			 /* base holds the tap's counters when tracing began */
	uint64_t base[KT_LINK_COUNTERS]; /* subtracted: totals count from then on */
	uint64_t last[KT_LINK_COUNTERS]; /* at the last interval's end */
};

struct kt_snap {
	struct bpf_trace_entry *e;
	size_t n;
};

struct kt_ctx {
	struct kt_opts o;
	struct bpf_trace *bt;
	struct kt_vm vms[KT_MAX_VMS];
	struct kt_slot slots[KT_MAX_TAPS];
	struct kt_snap prev[BPF_TRACE_NR_MAPS];
	double now;	 /* wall clock of this interval's end */
	double dt;	 /* its length in seconds */
	bool live;	 /* a refreshed table on a terminal */
	bool link_stats; /* net: read the taps' own counters */
};

/* vms.c */
int kt_vm_lookup(const char *spec, struct registry_vm *out);
int kt_vms_refresh(struct kt_ctx *c);
void kt_vms_release(struct kt_ctx *c);
unsigned int kt_vms_count(const struct kt_ctx *c);
/* The tap's frames and bytes each way from the kernel (KT_TAP_RX_PACKETS..TX_BYTES). */
int kt_slot_link_stats(struct kt_ctx *c, const struct kt_slot *s, uint64_t out[KT_LINK_COUNTERS]);

/* snapshots: totals since load -> this interval's deltas */
int kt_snap_take(struct kt_ctx *c, enum bpf_trace_map map, struct kt_snap *cur);
const struct bpf_trace_entry *kt_snap_find(const struct kt_snap *s,
					   const struct bpf_trace_entry *key);
const struct bpf_trace_entry *kt_snap_prev(const struct kt_ctx *c, enum bpf_trace_map map,
					   const struct bpf_trace_entry *cur);
void kt_snap_keep(struct kt_ctx *c, enum bpf_trace_map map, struct kt_snap *cur);
static inline uint64_t kt_delta(uint64_t cur, uint64_t prev)
{
	return cur >= prev ? cur - prev : cur;
}

/* output */
struct json_writer *kt_json_begin(const struct kt_ctx *c, const char *type, const struct kt_vm *vm);
void kt_json_end(struct json_writer *jw);
void kt_title(const struct kt_ctx *c, const char *what);
void kt_hist_print(const uint64_t *hist, unsigned int slots);

/* the commands' views of one interval */
void kt_exits_show(struct kt_ctx *c);
void kt_irq_show(struct kt_ctx *c);
void kt_net_show(struct kt_ctx *c);
int kt_drops_poll(struct kt_ctx *c, int timeout_ms);

/* names.c */
const char *kt_isa_name(uint32_t isa);
void kt_exit_name(uint32_t isa, uint32_t reason, char *buf, size_t size);
void kt_uexit_name(uint32_t reason, char *buf, size_t size);
const char *kt_addr_kind(uint32_t kind);
void kt_proto_name(uint16_t proto_be, char *buf, size_t size);
int kt_ksyms_load(void);
void kt_ksym_name(uint64_t addr, char *buf, size_t size);

#endif /* KAVM_TRACE_H */
