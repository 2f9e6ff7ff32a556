// SPDX-License-Identifier: GPL-2.0
/* kavm split virtqueue: hostile-ring parsing after the kernel's vhost_get_vq_desc(). */
#include <errno.h>
#include <string.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/memory.h>
#include <kavm/virtio.h>
#include <kavm/virtqueue.h>

#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

/* Where a ring-walk stands while following one chain. */
struct vq_walk {
	const uint8_t *table; /* guest memory, any alignment: read each entry once */
	uint32_t count;	      /* entries in table */
	uint32_t seen;	      /* descriptors followed, for loop detection */
	bool indirect;
};

int vq_damage(struct virtqueue *vq, const char *why, uint64_t val)
{
	vq->broken = true;
	vq->damage++;
	pr_warn_ratelimited("virtqueue: ring damage: %s (%llu); queue stopped\n", why,
			    (unsigned long long)val);
	return -EIO;
}

int vq_enable(struct virtqueue *vq, struct guest_mem *mem, const struct virtio_queue_config *cfg,
	      uint16_t max_size, uint64_t features)
{
	uint64_t n = cfg->size;

	vq_reset(vq);
	vq->mem = mem;
	vq->broken = true;
	if (!n || n > max_size || (n & (n - 1)))
		return -EINVAL;
	if (!IS_ALIGNED(cfg->desc, 16) || !IS_ALIGNED(cfg->avail, 2) || !IS_ALIGNED(cfg->used, 4))
		return -EINVAL;
	/* avail and used carry the event words (used_event, avail_event) at their end. */
	vq->desc = guest_mem_ptr(mem, cfg->desc, 16 * n);
	vq->avail = guest_mem_ptr(mem, cfg->avail, 6 + 2 * n);
	vq->used = guest_mem_ptr(mem, cfg->used, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	vq->size = n;
	vq->used_event = (uint16_t *)((uint8_t *)vq->avail + 4 + 2 * n);
	vq->avail_event = (uint16_t *)((uint8_t *)vq->used + 4 + 8 * n);
	vq->msix_vector = cfg->msix_vector;
	vq->event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->broken = false;
	return 0;
}

void vq_reset(struct virtqueue *vq)
{
	uint64_t damage = vq->damage;

	memset(vq, 0, sizeof(*vq));
	vq->damage = damage;
}

static int vq_add_buf(struct vq_elem *elem, struct virtqueue *vq, const struct vring_desc *d)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	void *hva;

	if (!write && elem->nr_in) {
		elem->err = elem->err ?: -EINVAL; /* readable after writable */
		return 0;
	}
	if (elem->nr_out + elem->nr_in >= VQ_MAX_SEGS) {
		elem->err = elem->err ?: -E2BIG;
		return 0;
	}
	hva = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!hva && d->len) {
		elem->err = elem->err ?: -EFAULT;
		return 0;
	}
	elem->iov[elem->nr_out + elem->nr_in] = (struct iovec){ hva, d->len };
	if (write) {
		elem->nr_in++;
		elem->in_len += d->len;
	} else {
		elem->nr_out++;
		elem->out_len += d->len;
	}
	return 0;
}

/* Switch the walk to an indirect table described by d (already copied). */
static int vq_enter_indirect(struct virtqueue *vq, struct vq_walk *w, const struct vring_desc *d)
{
	if (!vq->indirect)
		return vq_damage(vq, "indirect descriptor not negotiated", d->addr);
	if (w->indirect)
		return vq_damage(vq, "nested indirect table", d->addr);
	if (d->flags & VRING_DESC_F_NEXT)
		return vq_damage(vq, "indirect descriptor with NEXT", d->flags);
	if (!d->len || d->len % sizeof(struct vring_desc) ||
	    d->len / sizeof(struct vring_desc) > VQ_MAX_INDIRECT)
		return vq_damage(vq, "bad indirect table length", d->len);
	w->table = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!w->table)
		return vq_damage(vq, "indirect table outside RAM", d->addr);
	w->count = d->len / sizeof(struct vring_desc);
	w->seen = 0;
	w->indirect = true;
	return 0;
}

static void vq_copy_desc(struct vring_desc *dst, const uint8_t *src)
{
	/*
	 * One read of the guest's entry; everything after looks at the copy.
	 * memcpy: an indirect table may sit at any guest address, and a
	 * misaligned struct access is undefined (the spec aligns only the rings).
	 */
	memcpy(dst, src, sizeof(*dst));
	/* Nor may the compiler read a field from the guest again instead of the copy. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static int vq_walk_chain(struct virtqueue *vq, struct vq_elem *elem, uint16_t head)
{
	struct vq_walk w = { .table = (const uint8_t *)vq->desc, .count = vq->size };
	uint32_t i = head;
	struct vring_desc d;
	int ret;

	for (;;) {
		if (i >= w.count)
			return vq_damage(vq, "descriptor index out of range", i);
		if (++w.seen > w.count)
			return vq_damage(vq, "descriptor chain loops", head);
		vq_copy_desc(&d, w.table + (size_t)i * sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			ret = vq_enter_indirect(vq, &w, &d);
			if (ret)
				return ret;
			i = 0;
			continue;
		}
		vq_add_buf(elem, vq, &d);
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

uint16_t vq_avail_count(struct virtqueue *vq)
{
	uint16_t n = (uint16_t)(READ_ONCE(vq->avail->idx) - vq->last_avail);

	return n > vq->size ? vq->size : n;
}

/*
 * Read avail->idx only once the entries it last promised are taken (vhost's
 * cached avail index): a driver that moves it meanwhile, even through a
 * buffer the device is filling, changes nothing within a batch. 0: empty.
 */
static int vq_refresh_avail(struct virtqueue *vq)
{
	uint16_t avail_idx;

	if (vq->avail_idx != vq->last_avail)
		return 1;
	avail_idx = READ_ONCE(vq->avail->idx);
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return vq_damage(vq, "avail idx ran ahead", avail_idx);
	vq->avail_idx = avail_idx;
	if (avail_idx == vq->last_avail)
		return 0;
	/* Read the ring entries only after seeing the index that covers them. */
	smp_rmb();
	return 1;
}

int vq_pop(struct virtqueue *vq, struct vq_elem *elem)
{
	uint16_t head;
	int ret;

	if (!vq_ready(vq))
		return -EIO;
	ret = vq_refresh_avail(vq);
	if (ret <= 0)
		return ret;
	/*
	 * Each element taken and not yet used holds a descriptor of its own:
	 * a driver offering more than the ring holds is broken (QEMU's
	 * "Virtqueue size exceeded"), and RX would need room for them all.
	 */
	if ((uint16_t)(vq->last_avail - vq->used_idx) >= vq->size)
		return vq_damage(vq, "more elements in use than the ring holds",
				 (uint16_t)(vq->last_avail - vq->used_idx));
	head = READ_ONCE(vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	elem->head = head;
	elem->nr_out = elem->nr_in = 0;
	elem->out_len = elem->in_len = 0;
	elem->err = 0;
	ret = vq_walk_chain(vq, elem, head);
	if (ret)
		return ret;
	/*
	 * avail_event is left alone while the device works through the ring, so
	 * the driver need not kick; vq_enable_notify() re-arms it (as vhost).
	 */
	vq->last_avail++;
	return 1;
}

void vq_unpop(struct virtqueue *vq, uint16_t n)
{
	vq->last_avail -= n;
}

void vq_fill(struct virtqueue *vq, uint16_t head, uint32_t len, uint16_t pending)
{
	struct vring_used_elem *u =
		&vq->used->ring[(uint16_t)(vq->used_idx + pending) & (vq->size - 1)];

	WRITE_ONCE(u->id, head);
	WRITE_ONCE(u->len, len);
}

void vq_flush(struct virtqueue *vq, uint16_t pending)
{
	/* Entries before the index that publishes them. */
	smp_wmb();
	vq->used_idx += pending;
	WRITE_ONCE(vq->used->idx, vq->used_idx);
}

bool vq_should_notify(struct virtqueue *vq)
{
	uint16_t old, new, event;
	bool valid;

	/* Our used->idx store before the driver's flags / used_event load. */
	smp_mb();
	if (!vq->event_idx)
		return !(READ_ONCE(vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	new = vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	event = READ_ONCE(*vq->used_event);
	return vring_need_event(event, new, old);
}

void vq_disable_notify(struct virtqueue *vq)
{
	if (!vq->event_idx)
		WRITE_ONCE(vq->used->flags, vq->used->flags | VRING_USED_F_NO_NOTIFY);
}

bool vq_enable_notify(struct virtqueue *vq)
{
	/*
	 * Past what the device has seen, not what it took: RX may have given
	 * entries back (too few for its frame), and a driver whose idx is past
	 * avail_event never kicks again (vhost_enable_notify() does the same).
	 */
	if (vq->event_idx)
		WRITE_ONCE(*vq->avail_event, vq->avail_idx);
	else
		WRITE_ONCE(vq->used->flags, vq->used->flags & ~VRING_USED_F_NO_NOTIFY);
	/* The flag store before the avail idx re-read: otherwise a kick can be lost. */
	smp_mb();
	return READ_ONCE(vq->avail->idx) != vq->avail_idx;
}

size_t iov_length(const struct iovec *iov, unsigned int cnt)
{
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	return len;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t off, void *buf, size_t len)
{
	size_t done = 0;
	unsigned int i;

	/* The common case: it all lies in the first segment. */
	if (likely(cnt && off <= iov[0].iov_len && len <= iov[0].iov_len - off)) {
		memcpy(buf, (char *)iov[0].iov_base + off, len);
		return len;
	}

	for (i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = min(iov[i].iov_len - off, len - done);
		memcpy((char *)buf + done, (char *)iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off, const void *buf,
		    size_t len)
{
	size_t done = 0;
	unsigned int i;

	if (likely(cnt && off <= iov[0].iov_len && len <= iov[0].iov_len - off)) {
		memcpy((char *)iov[0].iov_base + off, buf, len);
		return len;
	}

	for (i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = min(iov[i].iov_len - off, len - done);
		memcpy((char *)iov[i].iov_base + off, (const char *)buf + done, n);
		done += n;
		off = 0;
	}
	return done;
}

unsigned int iov_skip(const struct iovec *iov, unsigned int cnt, size_t skip, struct iovec *dst,
		      unsigned int dst_max)
{
	unsigned int i, n = 0;

	for (i = 0; i < cnt && n < dst_max; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		dst[n].iov_base = (char *)iov[i].iov_base + skip;
		dst[n].iov_len = iov[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

/* Position (segment, offset) of byte off in iov; false if beyond its end. */
static bool iov_seek(const struct iovec *iov, unsigned int cnt, size_t off, unsigned int *seg,
		     size_t *pos)
{
	unsigned int i;

	for (i = 0; i < cnt; i++) {
		if (off < iov[i].iov_len) {
			*seg = i;
			*pos = off;
			return true;
		}
		off -= iov[i].iov_len;
	}
	return false;
}

size_t iov_copy(const struct iovec *dst, unsigned int dcnt, size_t doff, const struct iovec *src,
		unsigned int scnt, size_t soff, size_t len)
{
	unsigned int di, si;
	size_t dp, sp, done = 0;

	if (likely(dcnt && scnt && doff <= dst[0].iov_len && len <= dst[0].iov_len - doff &&
		   soff <= src[0].iov_len && len <= src[0].iov_len - soff)) {
		memcpy((char *)dst[0].iov_base + doff, (const char *)src[0].iov_base + soff, len);
		return len;
	}
	if (!iov_seek(dst, dcnt, doff, &di, &dp) || !iov_seek(src, scnt, soff, &si, &sp))
		return 0;
	while (done < len && di < dcnt && si < scnt) {
		size_t n = min(min(dst[di].iov_len - dp, src[si].iov_len - sp), len - done);

		memcpy((char *)dst[di].iov_base + dp, (const char *)src[si].iov_base + sp, n);
		done += n;
		dp += n;
		sp += n;
		if (dp == dst[di].iov_len) {
			di++;
			dp = 0;
		}
		if (sp == src[si].iov_len) {
			si++;
			sp = 0;
		}
	}
	return done;
}
