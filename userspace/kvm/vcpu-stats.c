// SPDX-License-Identifier: GPL-2.0
/*
 * kavm vCPU statistics from KVM's binary stats fd (KVM_GET_STATS_FD, Linux
 * 5.14+): whether a vCPU is blocked in HLT and how often it was woken,
 * read with pread() while the vCPU runs, so the halt check need not stop a
 * guest that is plainly alive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <kavm/kvm.h>

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
