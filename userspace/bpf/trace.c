// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace loader: the libbpf skeleton lifecycle for bpf/trace.bpf.c
 * (open -> choose programs -> rodata -> load -> attach, one cleanup path),
 * the VM membership maps and the per-CPU counter reads.
 *
 * A program is loaded only when the running kernel has its tracepoint: the
 * KVM ones exist only once the kvm module is loaded, and kernels differ
 * (consume_skb, the drop reasons). A missing one is listed for the caller,
 * which says so in one line and shows the rest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <kavm/bpf-trace.h>
#include <kavm/compiler.h>

#include "bpf/trace.skel.h"

struct prog_info {
	const char *tp; /* "category/event" */
	unsigned int groups;
	bool btf; /* tp_btf: found in the kernel's BTF, not in tracefs */
};

/* In the order of skel_progs(). */
static const struct prog_info prog_info[] = {
	{ "kvm/kvm_exit", BPF_TRACE_KVM, false },
	{ "kvm/kvm_entry", BPF_TRACE_KVM, false },
	{ "kvm/kvm_userspace_exit", BPF_TRACE_KVM, false },
	{ "kvm/kvm_pio", BPF_TRACE_KVM, false },
	{ "kvm/kvm_mmio", BPF_TRACE_KVM, false },
	{ "kvm/kvm_inj_virq", BPF_TRACE_IRQ, false },
	{ "kvm/kvm_msi_set_irq", BPF_TRACE_IRQ, false },
	{ "kvm/kvm_set_irq", BPF_TRACE_IRQ, false },
	{ "net/netif_receive_skb", BPF_TRACE_NET, true },
	{ "skb/consume_skb", BPF_TRACE_NET, true },
	{ "skb/kfree_skb", BPF_TRACE_NET | BPF_TRACE_DROPS, true },
};

#define NR_PROGS ARRAY_SIZE(prog_info)

struct bpf_trace {
	struct trace_bpf *skel;
	bool loaded[NR_PROGS];
	const char *missing[BPF_TRACE_MAX_MISSING];
	unsigned int nr_missing;
	struct btf *vmlinux_btf;
	const struct btf_type *drop_reasons; /* enum skb_drop_reason, or NULL */
	struct ring_buffer *ring;
	void (*drop_fn)(const struct kt_drop_event *e, void *arg);
	void *drop_arg;
	int ncpus;
};

static void skel_progs(struct trace_bpf *s, struct bpf_program **p)
{
	struct bpf_program *all[] = {
		s->progs.kvm_exit,	  s->progs.kvm_entry,	s->progs.kvm_userspace_exit,
		s->progs.kvm_pio,	  s->progs.kvm_mmio,	s->progs.kvm_inj_virq,
		s->progs.kvm_msi_set_irq, s->progs.kvm_set_irq, s->progs.netif_receive_skb,
		s->progs.consume_skb,	  s->progs.kfree_skb,
	};

	_Static_assert(ARRAY_SIZE(all) == NR_PROGS, "prog_info[] and skel_progs() differ");
	memcpy(p, all, sizeof(all));
}

/* tracefs, mounted if nothing did (libbpf reads event ids from it to attach). */
static const char *tracefs_events(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing/events",
					    "/sys/kernel/debug/tracing/events" };
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		if (!stat(dirs[i], &st))
			return dirs[i];
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return dirs[0];
	return NULL;
}

static bool tracepoint_exists(const struct prog_info *pi, const char *events)
{
	char path[256];

	if (pi->btf)
		return libbpf_find_vmlinux_btf_id(strchr(pi->tp, '/') + 1, BPF_TRACE_RAW_TP) > 0;
	if (!events)
		return false;
	snprintf(path, sizeof(path), "%s/%s", events, pi->tp);
	return !access(path, F_OK);
}

/* Which programs load: asked for, and their tracepoint exists. */
static unsigned int choose_progs(struct bpf_trace *bt, unsigned int groups)
{
	struct bpf_program *progs[NR_PROGS];
	const char *events = tracefs_events();
	unsigned int i, n = 0;

	skel_progs(bt->skel, progs);
	for (i = 0; i < NR_PROGS; i++) {
		bool want = prog_info[i].groups & groups;

		bt->loaded[i] = want && tracepoint_exists(&prog_info[i], events);
		if (want && !bt->loaded[i] && bt->nr_missing < BPF_TRACE_MAX_MISSING)
			bt->missing[bt->nr_missing++] = prog_info[i].tp;
		bpf_program__set_autoload(progs[i], bt->loaded[i]);
		n += bt->loaded[i];
	}
	return n;
}

/* The kernel's enum skb_drop_reason: names for the tool, SKB_CONSUMED for the filter. */
static void find_drop_reasons(struct bpf_trace *bt)
{
	const struct btf_enum *e;
	int id, i;

	bt->vmlinux_btf = btf__load_vmlinux_btf();
	if (!bt->vmlinux_btf) {
		bt->vmlinux_btf = NULL;
		return;
	}
	id = btf__find_by_name_kind(bt->vmlinux_btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id <= 0)
		return;
	bt->drop_reasons = btf__type_by_id(bt->vmlinux_btf, id);
	e = btf_enum(bt->drop_reasons);
	for (i = 0; i < btf_vlen(bt->drop_reasons); i++, e++)
		if (!strcmp(btf__name_by_offset(bt->vmlinux_btf, e->name_off), "SKB_CONSUMED"))
			bt->skel->rodata->skb_consumed_reason = e->val;
}

/*
 * The vhost share's programs: netif_receive_skb (what a vhost worker sends
 * into a tap) and consume_skb (what one takes off it). The kernel runs
 * every received and every delivered frame through these tracepoints, so
 * they are attached only while a traced tap's VM has vhost workers.
 */
static int vhost_progs_attach(struct bpf_trace *bt, uint32_t vhost_taps)
{
	struct {
		const char *tp;
		struct bpf_program *prog;
		struct bpf_link **link;
	} v[] = {
		{ "net/netif_receive_skb", bt->skel->progs.netif_receive_skb,
		  &bt->skel->links.netif_receive_skb },
		{ "skb/consume_skb", bt->skel->progs.consume_skb, &bt->skel->links.consume_skb },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (!bpf_trace_loaded(bt, v[i].tp) || !vhost_taps == !*v[i].link)
			continue;
		if (!vhost_taps) {
			bpf_link__destroy(*v[i].link);
			*v[i].link = NULL;
			continue;
		}
		*v[i].link = bpf_program__attach(v[i].prog);
		if (!*v[i].link)
			return -errno;
	}
	return 0;
}

int bpf_trace_open(unsigned int groups, struct bpf_trace **out)
{
	struct bpf_trace *bt;
	int ret;

	bt = calloc(1, sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	bt->ncpus = libbpf_num_possible_cpus();
	bt->skel = trace_bpf__open();
	if (!bt->skel) {
		ret = -errno;
		goto err_free;
	}
	if (!choose_progs(bt, groups)) {
		ret = -ENOENT;
		goto err_close;
	}
	find_drop_reasons(bt);
	bt->skel->rodata->drop_events = groups & BPF_TRACE_DROPS;
	ret = trace_bpf__load(bt->skel);
	if (ret)
		goto err_close;
	ret = trace_bpf__attach(bt->skel);
	if (!ret)
		ret = vhost_progs_attach(bt, 0);
	if (ret)
		goto err_close;
	*out = bt;
	return 0;

err_close:
	bpf_trace_close(bt);
	return ret;
err_free:
	free(bt);
	return ret;
}

void bpf_trace_close(struct bpf_trace *bt)
{
	if (!bt)
		return;
	ring_buffer__free(bt->ring);
	trace_bpf__destroy(bt->skel);
	btf__free(bt->vmlinux_btf);
	free(bt);
}

unsigned int bpf_trace_missing(const struct bpf_trace *bt, const char **names, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < bt->nr_missing && i < max; i++)
		names[i] = bt->missing[i];
	return bt->nr_missing;
}

bool bpf_trace_loaded(const struct bpf_trace *bt, const char *tracepoint)
{
	size_t i;

	for (i = 0; i < NR_PROGS; i++)
		if (!strcmp(prog_info[i].tp, tracepoint))
			return bt->loaded[i];
	return false;
}

static int update(struct bpf_map *map, const void *key, const void *val)
{
	return bpf_map_update_elem(bpf_map__fd(map), key, val, BPF_ANY) ? -errno : 0;
}

static int delete (struct bpf_map *map, const void *key)
{
	if (bpf_map_delete_elem(bpf_map__fd(map), key) && errno != ENOENT)
		return -errno;
	return 0;
}

int bpf_trace_add_pid(struct bpf_trace *bt, uint32_t pid, uint32_t vm, uint32_t kind)
{
	struct kt_pid v = { .vm = vm, .kind = kind };

	return update(bt->skel->maps.vm_pids, &pid, &v);
}

int bpf_trace_del_pid(struct bpf_trace *bt, uint32_t pid)
{
	return delete (bt->skel->maps.vm_pids, &pid);
}

int bpf_trace_add_vcpu(struct bpf_trace *bt, uint32_t tid, uint32_t vm, uint32_t vcpu)
{
	struct kt_vcpu v = { .vm = vm, .vcpu = vcpu };

	return update(bt->skel->maps.vcpu_tids, &tid, &v);
}

int bpf_trace_del_vcpu(struct bpf_trace *bt, uint32_t tid)
{
	return delete (bt->skel->maps.vcpu_tids, &tid);
}

/*
 * Bring tap_cache's entry for IFINDEX and the vhost_taps count in step with
 * vm_taps, after every change to it (Documentation/kavm-trace.md, Overhead).
 */
static int tap_cache_sync(struct bpf_trace *bt, uint32_t ifindex)
{
	int fd = bpf_map__fd(bt->skel->maps.vm_taps);
	uint32_t idx = ifindex & (KT_TAP_CACHE - 1), n = 0, vhost = 0;
	struct kt_tap_key key, next, *prev = NULL;
	struct kt_tap_cached c = {};
	struct kt_tap v;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		vhost += !!(v.flags & KT_TAP_VHOST);
		if ((key.ifindex & (KT_TAP_CACHE - 1)) == idx && n++ == 0)
			c = (struct kt_tap_cached){ .ifindex = key.ifindex,
						    .netns = key.netns,
						    .tap = v };
	}
	if (n > 1)
		c = (struct kt_tap_cached){ .shared = 1 };
	bt->skel->bss->vhost_taps = vhost;
	return update(bt->skel->maps.tap_cache, &idx, &c) ?: vhost_progs_attach(bt, vhost);
}

int bpf_trace_add_tap(struct bpf_trace *bt, uint32_t netns, uint32_t ifindex, uint32_t vm,
		      uint32_t slot)
{
	struct kt_tap_key key = { .netns = netns, .ifindex = ifindex };
	struct kt_tap v = { .vm = vm, .slot = slot };
	struct kt_tap_val zero[1];
	void *percpu;
	int ret;

	/* A reused slot starts from zero: the tool diffs totals per slot. */
	percpu = calloc(bt->ncpus, sizeof(zero));
	if (!percpu)
		return -ENOMEM;
	ret = update(bt->skel->maps.tap_stats, &slot, percpu);
	free(percpu);
	if (!ret)
		ret = update(bt->skel->maps.vm_taps, &key, &v);
	return ret ? ret : tap_cache_sync(bt, ifindex);
}

int bpf_trace_tap_vhost(struct bpf_trace *bt, uint32_t netns, uint32_t ifindex, uint32_t vm,
			uint32_t slot)
{
	struct kt_tap_key key = { .netns = netns, .ifindex = ifindex };
	struct kt_tap v = { .vm = vm, .slot = slot, .flags = KT_TAP_VHOST };
	int ret = update(bt->skel->maps.vm_taps, &key, &v);

	return ret ? ret : tap_cache_sync(bt, ifindex);
}

int bpf_trace_add_vhost(struct bpf_trace *bt, uint32_t tid, uint32_t vm)
{
	return update(bt->skel->maps.vhost_tids, &tid, &vm);
}

int bpf_trace_del_vhost(struct bpf_trace *bt, uint32_t tid)
{
	return delete (bt->skel->maps.vhost_tids, &tid);
}

int bpf_trace_del_tap(struct bpf_trace *bt, uint32_t netns, uint32_t ifindex)
{
	struct kt_tap_key key = { .netns = netns, .ifindex = ifindex };
	int ret = delete (bt->skel->maps.vm_taps, &key);

	return ret ? ret : tap_cache_sync(bt, ifindex);
}

/* Fold one CPU's value into the sum; exits keep their min and max. */
static void fold(enum bpf_trace_map map, uint64_t *sum, const uint64_t *cpu, size_t words)
{
	size_t i;

	for (i = 0; i < words; i++) {
		if (map == BPF_TRACE_EXITS && i == offsetof(struct kt_exit_val, min_ns) / 8) {
			if (cpu[i] && (!sum[i] || cpu[i] < sum[i]))
				sum[i] = cpu[i];
		} else if (map == BPF_TRACE_EXITS &&
			   i == offsetof(struct kt_exit_val, max_ns) / 8) {
			sum[i] = max(sum[i], cpu[i]);
		} else {
			sum[i] += cpu[i];
		}
	}
}

static struct bpf_map *counter_map(struct bpf_trace *bt, enum bpf_trace_map map)
{
	struct bpf_map *maps[BPF_TRACE_NR_MAPS] = {
		[BPF_TRACE_EXITS] = bt->skel->maps.exit_stats,
		[BPF_TRACE_UEXITS] = bt->skel->maps.uexit_stats,
		[BPF_TRACE_ADDRS] = bt->skel->maps.addr_stats,
		[BPF_TRACE_IRQS] = bt->skel->maps.irq_stats,
		[BPF_TRACE_TAPS] = bt->skel->maps.tap_stats,
		[BPF_TRACE_DROP_REASONS] = bt->skel->maps.drop_stats,
	};

	return maps[map];
}

static bool all_zero(const uint64_t *v, size_t words)
{
	size_t i;

	for (i = 0; i < words; i++)
		if (v[i])
			return false;
	return true;
}

static int append(struct bpf_trace_entry **entries, size_t *nr, size_t *cap)
{
	struct bpf_trace_entry *grown;

	if (*nr < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 64;
	grown = realloc(*entries, *cap * sizeof(**entries));
	if (!grown)
		return -ENOMEM;
	*entries = grown;
	return 0;
}

int bpf_trace_read(struct bpf_trace *bt, enum bpf_trace_map which, struct bpf_trace_entry **entries,
		   size_t *nr)
{
	struct bpf_map *map = counter_map(bt, which);
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	size_t words = vsz / 8, cap = *nr = 0, stride = ALIGN_UP(vsz, 8);
	uint8_t key[16], next[16];
	struct bpf_trace_entry *e;
	uint64_t *percpu;
	void *prev = NULL;
	int fd = bpf_map__fd(map), cpu, ret = 0;

	*entries = NULL;
	percpu = calloc(bt->ncpus, stride);
	if (!percpu)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, percpu))
			continue; /* deleted meanwhile */
		ret = append(entries, nr, &cap);
		if (ret)
			break;
		e = &(*entries)[*nr];
		memset(e, 0, sizeof(*e));
		memcpy(&e->key, key, ksz);
		for (cpu = 0; cpu < bt->ncpus; cpu++)
			fold(which, (uint64_t *)&e->val, percpu + cpu * stride / 8, words);
		if (which != BPF_TRACE_TAPS || !all_zero((uint64_t *)&e->val, words))
			(*nr)++;
	}
	free(percpu);
	return ret;
}

static int on_drop(void *ctx, void *data, size_t size)
{
	struct bpf_trace *bt = ctx;

	if (size >= sizeof(struct kt_drop_event))
		bt->drop_fn(data, bt->drop_arg);
	return 0;
}

int bpf_trace_poll_drops(struct bpf_trace *bt, int timeout_ms,
			 void (*fn)(const struct kt_drop_event *e, void *arg), void *arg)
{
	int ret;

	if (!bt->ring) {
		bt->ring = ring_buffer__new(bpf_map__fd(bt->skel->maps.drops), on_drop, bt, NULL);
		if (!bt->ring)
			return -errno;
	}
	bt->drop_fn = fn;
	bt->drop_arg = arg;
	ret = ring_buffer__poll(bt->ring, timeout_ms);
	return ret < 0 ? ret : 0;
}

const char *bpf_trace_drop_reason(const struct bpf_trace *bt, uint32_t reason)
{
	const struct btf_enum *e;
	const char *name;
	int i;

	if (!bt->drop_reasons)
		return NULL;
	e = btf_enum(bt->drop_reasons);
	for (i = 0; i < btf_vlen(bt->drop_reasons); i++, e++) {
		if ((uint32_t)e->val != reason)
			continue;
		name = btf__name_by_offset(bt->vmlinux_btf, e->name_off);
		if (!strncmp(name, "SKB_DROP_REASON_", 16))
			return name + 16;
		return !strncmp(name, "SKB_", 4) ? name + 4 : name;
	}
	return NULL;
}
