// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace: which VMs are traced. The registry (/run/kavm) is read again
 * every interval, so a VM started after the tracer shows up and one that
 * exited leaves the maps; each VM's kavm process, its taps and the kernel
 * threads that work for it (vhost-PID, kvm-pit/PID on kernels where these
 * are not threads of kavm itself) go into the BPF membership maps.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavm-trace.h"

struct lookup {
	const char *spec;
	bool by_pid;
	pid_t pid;
	struct registry_vm *out;
	bool found;
};

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool matches(const char *spec, const struct registry_vm *vm)
{
	if (!spec)
		return true;
	if (all_digits(spec))
		return vm->pid == (pid_t)strtol(spec, NULL, 10);
	return !strcmp(spec, vm->name);
}

static int lookup_one(const struct registry_vm *vm, void *arg)
{
	struct lookup *l = arg;

	if (!matches(l->spec, vm))
		return 0;
	*l->out = *vm;
	l->found = true;
	return 1;
}

int kt_vm_lookup(const char *spec, struct registry_vm *out)
{
	struct lookup l = { .spec = spec, .out = out };
	int ret = registry_for_each(lookup_one, &l);

	if (ret < 0)
		return ret;
	return l.found ? 0 : -ENOENT;
}

static struct kt_vm *find_vm(struct kt_ctx *c, const struct registry_vm *r)
{
	unsigned int i;

	for (i = 0; i < KT_MAX_VMS; i++)
		if (c->vms[i].used && c->vms[i].reg.pid == r->pid &&
		    c->vms[i].reg.start_time == r->start_time &&
		    !strcmp(c->vms[i].reg.name, r->name))
			return &c->vms[i];
	return NULL;
}

static int free_slot(struct kt_ctx *c)
{
	unsigned int i;

	for (i = 0; i < KT_MAX_TAPS; i++)
		if (!c->slots[i].used)
			return i;
	return -ENOSPC;
}

/* A route socket in the VM's network namespace, for its taps' own counters. */
static int vm_rtnl(struct kt_vm *vm)
{
	char path[64];
	int fd, ret;

	if (vm->rtnl)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)vm->reg.pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = kavm_rtnl_open_netns(fd, &vm->rtnl);
	close(fd);
	return ret;
}

int kt_slot_link_stats(struct kt_ctx *c, const struct kt_slot *s, uint64_t out[KT_LINK_COUNTERS])
{
	struct kt_vm *vm = &c->vms[s->vm];
	struct kavm_link_info li;
	int ret;

	ret = vm_rtnl(vm);
	if (!ret)
		ret = kavm_rtnl_link_get(vm->rtnl, s->ifname, &li);
	if (ret)
		return ret;
	if (!li.has_stats || li.ifindex != (int)s->ifindex)
		return -ENODEV;
	/* The tap's view is the host's: what it transmits goes to the guest. */
	out[KT_TAP_RX_PACKETS] = li.stats.tx_packets;
	out[KT_TAP_RX_BYTES] = li.stats.tx_bytes;
	out[KT_TAP_TX_PACKETS] = li.stats.rx_packets;
	out[KT_TAP_TX_BYTES] = li.stats.rx_bytes;
	return 0;
}

static void add_taps(struct kt_ctx *c, struct kt_vm *vm, uint32_t idx)
{
	unsigned int i;
	int slot;

	for (i = 0; i < vm->reg.nr_taps; i++) {
		const struct registry_tap *t = &vm->reg.taps[i];

		vm->tap_slot[i] = ~0U;
		slot = free_slot(c);
		if (slot < 0 || bpf_trace_add_tap(c->bt, vm->reg.netns, t->ifindex, idx, slot))
			continue;
		c->slots[slot] = (struct kt_slot){ .used = true, .vm = idx, .ifindex = t->ifindex };
		_Static_assert(sizeof(c->slots[0].ifname) == sizeof(t->ifname), "ifname sizes");
		memcpy(c->slots[slot].ifname, t->ifname, sizeof(t->ifname));
		c->slots[slot].ifname[sizeof(t->ifname) - 1] = '\0';
		if (c->link_stats && !kt_slot_link_stats(c, &c->slots[slot], c->slots[slot].base)) {
			c->slots[slot].linked = true;
			memcpy(c->slots[slot].last, c->slots[slot].base,
			       sizeof(c->slots[slot].last));
		}
		vm->tap_slot[i] = slot;
	}
}

static int add_vm(const struct registry_vm *r, void *arg)
{
	struct kt_ctx *c = arg;
	struct kt_vm *vm;
	unsigned int i;
	uint32_t idx;

	if (!matches(c->o.vm, r))
		return 0;
	vm = find_vm(c, r);
	if (vm) {
		vm->seen = true;
		return 0;
	}
	for (idx = 0; idx < KT_MAX_VMS && c->vms[idx].used; idx++)
		;
	if (idx == KT_MAX_VMS)
		return 0;
	vm = &c->vms[idx];
	memset(vm, 0, sizeof(*vm));
	vm->reg = *r;
	if (bpf_trace_add_pid(c->bt, r->pid, idx, KT_PID_VMM))
		return 0;
	vm->used = vm->seen = true;
	for (i = 0; i < r->nr_vcpus; i++)
		bpf_trace_add_vcpu(c->bt, r->vcpus[i].tid, idx, r->vcpus[i].id);
	add_taps(c, vm, idx);
	return 0;
}

static void remove_vm(struct kt_ctx *c, struct kt_vm *vm)
{
	unsigned int i;

	bpf_trace_del_pid(c->bt, vm->reg.pid);
	for (i = 0; i < vm->reg.nr_vcpus; i++)
		bpf_trace_del_vcpu(c->bt, vm->reg.vcpus[i].tid);
	for (i = 0; i < vm->nr_workers; i++) {
		bpf_trace_del_pid(c->bt, vm->workers[i]);
		bpf_trace_del_vhost(c->bt, vm->workers[i]);
	}
	for (i = 0; i < vm->reg.nr_taps; i++) {
		if (vm->tap_slot[i] == ~0U)
			continue;
		bpf_trace_del_tap(c->bt, vm->reg.netns, vm->reg.taps[i].ifindex);
		c->slots[vm->tap_slot[i]].used = false;
	}
	kavm_rtnl_close(vm->rtnl);
	vm->rtnl = NULL;
	vm->used = false;
}

/* "vhost-1234" or "kvm-pit/1234": a thread working for process 1234. */
static pid_t worker_owner(const char *comm, bool *vhost)
{
	const char *p = NULL;

	*vhost = !strncmp(comm, "vhost-", 6);
	if (*vhost)
		p = comm + 6;
	else if (!strncmp(comm, "kvm-pit/", 8))
		p = comm + 8;
	return p && all_digits(p) ? (pid_t)strtol(p, NULL, 10) : 0;
}

/* From now on the VM's taps count what its vhost workers move. */
static void taps_vhost(struct kt_ctx *c, struct kt_vm *vm, uint32_t idx)
{
	unsigned int i;

	for (i = 0; i < vm->reg.nr_taps; i++)
		if (vm->tap_slot[i] != ~0U)
			bpf_trace_tap_vhost(c->bt, vm->reg.netns, vm->reg.taps[i].ifindex, idx,
					    vm->tap_slot[i]);
	vm->vhost = true;
}

/*
 * A kernel thread (Linux before 6.4: its own process) also acts for the VM
 * as a process, for the interrupts it raises; a vhost thread of kavm's own
 * process (6.4 on) is kavm's already.
 */
static void add_worker(struct kt_ctx *c, pid_t owner, uint32_t tid, bool kthread, bool vhost)
{
	unsigned int i, j;

	for (i = 0; i < KT_MAX_VMS; i++) {
		struct kt_vm *vm = &c->vms[i];

		if (!vm->used || vm->reg.pid != owner || vm->nr_workers == KT_MAX_WORKERS)
			continue;
		for (j = 0; j < vm->nr_workers && vm->workers[j] != tid; j++)
			;
		if (j < vm->nr_workers)
			continue;
		if (kthread && bpf_trace_add_pid(c->bt, tid, i, KT_PID_WORKER))
			continue;
		if (vhost && bpf_trace_add_vhost(c->bt, tid, i))
			continue;
		vm->workers[vm->nr_workers++] = tid;
		if (vhost && !vm->vhost)
			taps_vhost(c, vm, i);
	}
}

/* Calls fn for each task in dir (/proc or /proc/PID/task) with its comm. */
static void for_each_comm(const char *dir_path,
			  void (*fn)(struct kt_ctx *c, const char *comm, uint32_t id,
				     pid_t dir_pid),
			  struct kt_ctx *c, pid_t dir_pid)
{
	char path[300], comm[32];
	struct dirent *de;
	DIR *dir;
	FILE *f;

	dir = opendir(dir_path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (!all_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir_path, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			fn(c, comm, strtoul(de->d_name, NULL, 10), dir_pid);
		}
		fclose(f);
	}
	closedir(dir);
}

static void kthread_comm(struct kt_ctx *c, const char *comm, uint32_t pid, pid_t unused)
{
	bool vhost;
	pid_t owner = worker_owner(comm, &vhost);

	if (owner && (pid_t)pid != owner)
		add_worker(c, owner, pid, true, vhost);
}

static void thread_comm(struct kt_ctx *c, const char *comm, uint32_t tid, pid_t vmm)
{
	bool vhost;

	if (worker_owner(comm, &vhost) == vmm && vhost)
		add_worker(c, vmm, tid, false, true);
}

static void find_workers(struct kt_ctx *c)
{
	char path[64];
	unsigned int i;

	for_each_comm("/proc", kthread_comm, c, 0);
	for (i = 0; i < KT_MAX_VMS; i++) {
		if (!c->vms[i].used)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", (int)c->vms[i].reg.pid);
		for_each_comm(path, thread_comm, c, c->vms[i].reg.pid);
	}
}

int kt_vms_refresh(struct kt_ctx *c)
{
	unsigned int i;
	int ret;

	for (i = 0; i < KT_MAX_VMS; i++)
		c->vms[i].seen = false;
	ret = registry_for_each(add_vm, c);
	for (i = 0; i < KT_MAX_VMS; i++)
		if (c->vms[i].used && !c->vms[i].seen)
			remove_vm(c, &c->vms[i]);
	if (kt_vms_count(c))
		find_workers(c);
	return ret;
}

void kt_vms_release(struct kt_ctx *c)
{
	unsigned int i;

	for (i = 0; i < KT_MAX_VMS; i++)
		if (c->vms[i].used)
			remove_vm(c, &c->vms[i]);
}

unsigned int kt_vms_count(const struct kt_ctx *c)
{
	unsigned int i, n = 0;

	for (i = 0; i < KT_MAX_VMS; i++)
		n += c->vms[i].used;
	return n;
}
