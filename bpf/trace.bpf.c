// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace: what the kernel does with kavm's VMs and their frames.
 *
 * KVM's tracepoints live in the kvm module on distribution kernels, where
 * tp_btf would need that module's BTF at attach time. kvm_exit is a plain
 * tracepoint: the exit reason is only in its record, read with CO-RE
 * (preserve_access_index on a local flavour of trace_event_raw_kvm_exit).
 * The others (kvm_entry, kvm_userspace_exit, kvm_pio, kvm_mmio,
 * kvm_inj_virq, kvm_msi_set_irq, kvm_set_irq) are raw tracepoints: their
 * arguments are what is needed, and a raw tracepoint skips building the
 * record, which made a traced I/O exit about 10% dearer
 * (tests/bench/kavm-trace-exits.sh).
 * The network ones (kfree_skb, consume_skb, netif_receive_skb) are tp_btf:
 * typed arguments, the skb's device read directly.
 *
 * A VM is what the loader put into vm_pids (its kavm process and workers)
 * and vm_taps (its taps); everything else is ignored at the first lookup.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace.h"

/* enum skb_drop_reason's SKB_CONSUMED on this kernel (from its BTF): not a drop. */
const volatile __u32 skb_consumed_reason = ~0U;
/* Send every drop on a traced tap to the ring buffer (kavm-trace drops). */
const volatile bool drop_events;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_PIDS);
	__type(key, __u32); /* tgid */
	__type(value, struct kt_pid);
} vm_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct kt_vcpu);
} vcpu_tids SEC(".maps");

/* vhost worker threads (vhost-PID), whichever process the kernel puts them in. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_PIDS);
	__type(key, __u32);   /* tid */
	__type(value, __u32); /* vm */
} vhost_tids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_TAPS);
	__type(key, struct kt_tap_key);
	__type(value, struct kt_tap);
} vm_taps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KT_TAP_CACHE);
	__type(key, __u32); /* ifindex % KT_TAP_CACHE */
	__type(value, struct kt_tap_cached);
} tap_cache SEC(".maps");

/* How many traced taps have KT_TAP_VHOST: with none, the vhost share's programs stop at once. */
__u32 vhost_taps;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct kt_inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KT_EXIT_KEYS);
	__type(key, struct kt_exit_key);
	__type(value, struct kt_exit_val);
} exit_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KT_EXIT_KEYS);
	__type(key, struct kt_uexit_key);
	__type(value, __u64);
} uexit_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KT_ADDR_KEYS);
	__type(key, struct kt_addr_key);
	__type(value, __u64);
} addr_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KT_IRQ_KEYS);
	__type(key, struct kt_irq_key);
	__type(value, __u64);
} irq_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KT_MAX_TAPS);
	__type(key, __u32);
	__type(value, struct kt_tap_val);
} tap_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KT_DROP_KEYS);
	__type(key, struct kt_drop_key);
	__type(value, __u64);
} drop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KT_RINGBUF_SIZE);
} drops SEC(".maps");

/* Local flavours of the records: only the fields read, relocated by name. */
struct trace_event_raw_kvm_exit___kt {
	unsigned int exit_reason;
	__u32 isa;
	unsigned int vcpu_id;
} __attribute__((preserve_access_index));

static __always_inline struct kt_pid *current_vm(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&vm_pids, &tgid);
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

/* A per-CPU counter keyed by *key: create it at zero on first use. */
static __always_inline void count_key(void *map, void *key)
{
	static const __u64 zero;
	__u64 *v = bpf_map_lookup_elem(map, key);

	if (!v) {
		bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(map, key);
		if (!v)
			return;
	}
	*v += 1;
}

SEC("tracepoint/kvm/kvm_exit")
int kvm_exit(struct trace_event_raw_kvm_exit___kt *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kt_pid *p = current_vm();
	struct kt_inflight f;

	if (!p)
		return 0;
	f.ts = bpf_ktime_get_ns();
	f.vm = p->vm;
	f.vcpu = BPF_CORE_READ(ctx, vcpu_id);
	f.isa = BPF_CORE_READ(ctx, isa);
	f.reason = BPF_CORE_READ(ctx, exit_reason);
	/* VMX: the basic reason; the high bits are flags (failed entry...). */
	if (f.isa == KT_ISA_VMX)
		f.reason &= 0xffff;
	bpf_map_update_elem(&inflight, &tid, &f, BPF_ANY);
	return 0;
}

static __always_inline void exit_account(struct kt_exit_val *v, __u64 ns)
{
	__u32 slot = log2_u64(ns);

	if (slot >= KT_HIST_SLOTS)
		slot = KT_HIST_SLOTS - 1;
	v->count++;
	v->sum_ns += ns;
	if (!v->min_ns || ns < v->min_ns)
		v->min_ns = ns;
	if (ns > v->max_ns)
		v->max_ns = ns;
	v->hist[slot]++;
}

/* An exit is accounted when the vCPU enters again: its handling time is known then. */
SEC("raw_tp/kvm_entry")
int kvm_entry(void *ctx)
{
	static const struct kt_exit_val zero;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kt_inflight *f = bpf_map_lookup_elem(&inflight, &tid);
	struct kt_exit_key key;
	struct kt_exit_val *v;
	__u64 now;

	if (!f || !f->ts)
		return 0;
	now = bpf_ktime_get_ns();
	key = (struct kt_exit_key){
		.vm = f->vm, .vcpu = f->vcpu, .isa = f->isa, .reason = f->reason
	};
	v = bpf_map_lookup_elem(&exit_stats, &key);
	if (!v) {
		bpf_map_update_elem(&exit_stats, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&exit_stats, &key);
	}
	if (v)
		exit_account(v, now - f->ts);
	f->ts = 0;
	return 0;
}

/* The record has no vCPU id: the thread is a vCPU the registry named. */
static __always_inline struct kt_vcpu *current_vcpu(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	return bpf_map_lookup_elem(&vcpu_tids, &tid);
}

SEC("raw_tp/kvm_userspace_exit")
int BPF_PROG(kvm_userspace_exit, __u32 reason, int err)
{
	struct kt_vcpu *v = current_vcpu();
	struct kt_uexit_key key = {};

	if (!v)
		return 0;
	key.vm = v->vm;
	key.vcpu = v->vcpu;
	key.reason = err < 0 ? KT_UEXIT_ERRNO + (__u32)-err : reason;
	count_key(&uexit_stats, &key);
	return 0;
}

SEC("raw_tp/kvm_pio")
int BPF_PROG(kvm_pio, int rw, unsigned int port)
{
	struct kt_pid *p = current_vm();
	struct kt_addr_key key = {};

	if (!p)
		return 0;
	key.vm = p->vm;
	key.kind = rw ? KT_ADDR_PIO_OUT : KT_ADDR_PIO_IN;
	key.addr = port;
	count_key(&addr_stats, &key);
	return 0;
}

SEC("raw_tp/kvm_mmio")
int BPF_PROG(kvm_mmio, int type, int len, __u64 gpa)
{
	struct kt_pid *p = current_vm();
	struct kt_addr_key key = {};

	if (!p)
		return 0;
	key.vm = p->vm;
	key.kind = type == 2 ? KT_ADDR_MMIO_WRITE :
		   type == 1 ? KT_ADDR_MMIO_READ :
			       KT_ADDR_MMIO_UNSATISFIED;
	key.addr = gpa;
	count_key(&addr_stats, &key);
	return 0;
}

/* The vector is the first argument whether the kernel calls it irq (6.1) or vector. */
SEC("raw_tp/kvm_inj_virq")
int BPF_PROG(kvm_inj_virq, unsigned int vector)
{
	struct kt_vcpu *v = current_vcpu();
	struct kt_irq_key key = { .kind = KT_IRQ_INJ_VIRQ };

	/* Injection happens on the vCPU's own thread, on its way into the guest. */
	if (!v)
		return 0;
	key.vm = v->vm;
	key.vcpu = v->vcpu;
	key.num = vector;
	count_key(&irq_stats, &key);
	return 0;
}

SEC("raw_tp/kvm_msi_set_irq")
int BPF_PROG(kvm_msi_set_irq, __u64 address, __u64 data)
{
	struct kt_pid *p = current_vm();
	struct kt_irq_key key = { .kind = KT_IRQ_MSI, .vcpu = ~0U };

	if (!p)
		return 0;
	key.vm = p->vm;
	key.num = data & 0xff;
	count_key(&irq_stats, &key);
	return 0;
}

SEC("raw_tp/kvm_set_irq")
int BPF_PROG(kvm_set_irq, unsigned int gsi)
{
	struct kt_pid *p = current_vm();
	struct kt_irq_key key = { .kind = KT_IRQ_GSI, .vcpu = ~0U };

	if (!p)
		return 0;
	key.vm = p->vm;
	key.num = gsi;
	count_key(&irq_stats, &key);
	return 0;
}

/* --- frames */

static __always_inline struct kt_tap *dev_tap(struct net_device *dev)
{
	__u32 ifindex = dev->ifindex, idx = ifindex & (KT_TAP_CACHE - 1);
	struct kt_tap_cached *c = bpf_map_lookup_elem(&tap_cache, &idx);
	struct kt_tap_key key;

	if (!c || (!c->shared && c->ifindex != ifindex))
		return 0;
	key.netns = dev->nd_net.net->ns.inum;
	if (!c->shared)
		return c->netns == key.netns ? &c->tap : 0;
	key.ifindex = ifindex;
	return bpf_map_lookup_elem(&vm_taps, &key);
}

static __always_inline struct kt_tap *skb_tap(struct sk_buff *skb, struct net_device **devp)
{
	struct net_device *dev = skb->dev;

	if (!dev)
		return 0;
	*devp = dev;
	return dev_tap(dev);
}

static __always_inline struct kt_tap_val *tap_val(struct kt_tap *t)
{
	__u32 slot = t->slot;

	return bpf_map_lookup_elem(&tap_stats, &slot);
}

/* Is the current thread one of the tap's VM's vhost workers? */
static __always_inline bool in_vhost(struct kt_tap *t)
{
	__u32 tid;

	if (!(t->flags & KT_TAP_VHOST))
		return false;
	tid = (__u32)bpf_get_current_pid_tgid();
	return bpf_map_lookup_elem(&vhost_tids, &tid) != NULL;
}

/* The whole frame: the receive path has pulled the Ethernet header already. */
static __always_inline __u64 frame_len(struct sk_buff *skb)
{
	__u64 mac_off = (__u64)(skb->data - skb->head) - skb->mac_header;

	return skb->len + (mac_off < 256 ? mac_off : 0);
}

/*
 * The vhost share: a frame a vhost worker moved on a traced tap. The
 * frames and bytes themselves are the tap's own link statistics; these
 * two programs are attached only while a traced tap's VM has vhost workers.
 */
static __always_inline void vhost_count(struct sk_buff *skb, unsigned int counter)
{
	struct net_device *dev;
	struct kt_tap_val *v;
	struct kt_tap *t;

	if (!vhost_taps)
		return;
	t = skb_tap(skb, &dev);
	if (!t || !in_vhost(t))
		return;
	v = tap_val(t);
	if (v)
		v->c[counter]++;
}

/* From the guest: the tap hands the frame to the host's stack. */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(netif_receive_skb, struct sk_buff *skb)
{
	vhost_count(skb, KT_TAP_VHOST_TX_PACKETS);
	return 0;
}

/* To the guest: a frame the tap queued is taken off it. */
SEC("tp_btf/consume_skb")
int BPF_PROG(consume_skb, struct sk_buff *skb)
{
	vhost_count(skb, KT_TAP_VHOST_RX_PACKETS);
	return 0;
}

static __always_inline void drop_event(struct sk_buff *skb, struct net_device *dev,
				       struct kt_tap *t, void *location, __u32 reason)
{
	struct kt_drop_event *e = bpf_ringbuf_reserve(&drops, sizeof(*e), 0);

	if (!e)
		return;
	e->ts = bpf_ktime_get_ns();
	e->location = (__u64)location;
	e->vm = t->vm;
	e->slot = t->slot;
	e->ifindex = dev->ifindex;
	e->reason = reason;
	e->len = frame_len(skb);
	e->protocol = skb->protocol;
	e->pad = 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct net_device *dev;
	struct kt_tap *t = skb_tap(skb, &dev);
	struct kt_drop_key key;
	struct kt_tap_val *v;

	if (!t || (__u32)reason == skb_consumed_reason)
		return 0;
	v = tap_val(t);
	if (v)
		v->c[KT_TAP_DROPS]++;
	key.slot = t->slot;
	key.reason = reason;
	count_key(&drop_stats, &key);
	if (drop_events)
		drop_event(skb, dev, t, location, reason);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
