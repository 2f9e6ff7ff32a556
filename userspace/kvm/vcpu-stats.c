// SPDX-License-Identifier: GPL-2.0
/*
 * kavm vCPU statistics from KVM's binary stats fd (KVM_GET_STATS_FD, Linux
 * 5.14+): whether a vCPU is blocked in HLT and how often it was woken,
 * read with pread() while the vCPU runs, so the halt check need not stop a
 * guest that is plainly alive; and, for a guest that stopped answering,
 * what each vCPU did meanwhile (kvm_vm_progress_report()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <kavm/kvm.h>
#include <kavm/log.h>

/* Where in the stats fd the u64 named name is, or -ENOENT. */
static int64_t stats_find(int fd, const struct kvm_stats_header *h, const char *name)
{
	size_t dsz = sizeof(struct kvm_stats_desc) + h->name_size;
	char *descs = malloc(dsz * h->num_desc);
	int64_t off = -ENOENT;
	uint32_t i;

	if (!descs)
		return -ENOMEM;
	if (pread(fd, descs, dsz * h->num_desc, h->desc_offset) != (ssize_t)(dsz * h->num_desc)) {
		free(descs);
		return -EIO;
	}
	for (i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(descs + i * dsz);

		if (d->size == 1 && !strncmp(d->name, name, h->name_size)) {
			off = h->data_offset + d->offset; /* bytes into the data block */
			break;
		}
	}
	free(descs);
	return off;
}

int kvm_vcpu_stats_open(struct kvm_vcpu *vcpu)
{
	struct kvm_stats_header h;
	int64_t blocking, wakeups;
	int fd;

	vcpu->stats_fd = -1;
	vcpu->stats_exits = vcpu->stats_irqs = -1;
	fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h)) {
		close(fd);
		return -EIO;
	}
	blocking = stats_find(fd, &h, "blocking");
	wakeups = stats_find(fd, &h, "halt_wakeup");
	if (blocking < 0 || wakeups < 0) {
		close(fd);
		return blocking < 0 ? (int)blocking : (int)wakeups;
	}
	vcpu->stats_fd = fd;
	vcpu->stats_blocking = blocking;
	vcpu->stats_wakeups = wakeups;
	vcpu->stats_exits = stats_find(fd, &h, "exits");
	vcpu->stats_irqs = stats_find(fd, &h, "irq_injections");
	return 0;
}

void kvm_vcpu_stats_close(struct kvm_vcpu *vcpu)
{
	if (vcpu->stats_fd >= 0)
		close(vcpu->stats_fd);
	vcpu->stats_fd = -1;
}

int kvm_vcpu_stats_halt(struct kvm_vcpu *vcpu, bool *blocking, uint64_t *wakeups)
{
	uint64_t b;

	if (vcpu->stats_fd < 0)
		return -ENOTSUP;
	if (pread(vcpu->stats_fd, &b, sizeof(b), vcpu->stats_blocking) != sizeof(b) ||
	    pread(vcpu->stats_fd, wakeups, sizeof(*wakeups), vcpu->stats_wakeups) !=
		    sizeof(*wakeups))
		return -EIO;
	*blocking = b;
	return 0;
}

static uint64_t stats_u64(const struct kvm_vcpu *vcpu, int64_t off)
{
	uint64_t v = 0;

	if (off >= 0 && pread(vcpu->stats_fd, &v, sizeof(v), off) != sizeof(v))
		v = 0;
	return v;
}

static int vcpu_progress_read(struct kvm_vcpu *vcpu, struct kvm_vcpu_progress *p)
{
	int ret;

	p->kavm_exits = __atomic_load_n(&vcpu->kavm_exits, __ATOMIC_RELAXED);
	ret = kvm_vcpu_stats_halt(vcpu, &p->blocking, &p->wakeups);
	if (ret)
		return ret;
	p->exits = stats_u64(vcpu, vcpu->stats_exits);
	p->irqs = stats_u64(vcpu, vcpu->stats_irqs);
	return 0;
}

void kvm_vm_progress_mark(struct kvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_progress_read(&vm->vcpus[i], &vm->vcpus[i].mark);
}

/*
 * One line per vCPU: what it did since kvm_vm_progress_mark(). A vCPU that
 * is not halted and never left guest mode is stuck below kavm: the host's
 * own timer alone forces exits many times a second.
 */
void kvm_vm_progress_report(struct kvm_vm *vm, const char *since)
{
	struct kvm_vcpu_progress now, *m;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		m = &vm->vcpus[i].mark;
		if (vcpu_progress_read(&vm->vcpus[i], &now)) {
			pr_info("vCPU %u since %s: %" PRIu64
				" exits to kavm (KVM's counters unreadable)",
				i, since, now.kavm_exits - m->kavm_exits);
			continue;
		}
		if (vm->vcpus[i].stats_exits >= 0 && now.exits == m->exits && !now.blocking) {
			pr_warn("vCPU %u never left guest mode since %s: stuck inside the hypervisor",
				i, since);
			continue;
		}
		pr_info("vCPU %u since %s: %" PRIu64 " exits (%" PRIu64 " to kavm), %" PRIu64
			" interrupts injected, %" PRIu64 " wakeups from HLT; now %s",
			i, since, now.exits - m->exits, now.kavm_exits - m->kavm_exits,
			now.irqs - m->irqs, now.wakeups - m->wakeups,
			now.blocking ? "blocked in HLT" : "running");
	}
}
