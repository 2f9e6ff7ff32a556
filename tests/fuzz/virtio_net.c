// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a hostile driver against virtio-net. The input is a
 * program of small operations -- write descriptors, indirect tables and
 * buffer bytes (vnet headers, control commands) into guest RAM, publish
 * heads, move avail idx, kick queues, have the peer send frames; buffers
 * may lie on the rings themselves, so the device's writes move them -- run
 * against the real device through the in-process driver. Any crash,
 * sanitizer report or hang is a finding; NEEDS_RESET is a legal outcome.
 *
 *   make fuzz && build/fuzz/virtio_net tests/fuzz/corpus/virtio_net
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../lib/virtio-driver.h"
#define FUZZ_VIRTIO_NET
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct loop *loop;
static struct vdrv D;
static struct tpeer peer;
static struct virtio_net *vn;

static int init_once(void)
{
	return fuzz_vnet_init(&loop, &D, &peer, &vn);
}

/* Guest addresses of ring memory: a queue's descriptors, avail or used ring, near the start. */
static uint64_t ring_gpa(uint64_t v)
{
	const struct vdrv_queue *r = &D.q[(v >> 6) % 3];
	uint64_t base[] = { r->desc_gpa, r->avail_gpa, r->used_gpa };

	return base[(v >> 4) % 3] + (v >> 8) % 64;
}

/*
 * Guest addresses mostly land in the queue's buffer area, sometimes on ring
 * memory (so that the device's own writes move the rings), sometimes anywhere.
 */
static uint64_t gpa(struct input *in, unsigned int q)
{
	uint64_t v = take(in, 4);

	if (v & 1)
		return take(in, 8);
	if (((v >> 1) & 7) == 7)
		return ring_gpa(v);
	return D.q[q].buf_gpa + (v >> 1) % (256 * VDRV_BUF_SIZE);
}

static void op(struct input *in)
{
	unsigned int q = take(in, 1) % 3, what = take(in, 1) % 8;
	uint8_t buf[2048];
	size_t n;

	/* Queues the driver did not set up (refused features, no CTRL_VQ) have no rings. */
	if (!D.q[q].size && what != 3 && what != 6 && what != 7)
		return;
	switch (what) {
	case 0: {
		struct vring_desc *d = &D.q[q].desc[take(in, 1)];

		d->addr = gpa(in, q);
		d->len = take(in, 2);
		d->flags = take(in, 1) & 7;
		d->next = take(in, 1);
		break;
	}
	case 1:
		vdrv_publish(&D, q, take(in, 2) & 0x1ff);
		break;
	case 2:
		vdrv_kick(&D, q);
		break;
	case 3:
		n = take(in, 2) % sizeof(buf);
		memset(buf, 0, sizeof(buf));
		n = n < in->left ? n : in->left;
		memcpy(buf, in->p, n);
		in->p += n;
		in->left -= n;
		net_send(&peer.nc, buf, n, NULL);
		vdrv_run(&D);
		break;
	case 4: {
		uint64_t at = gpa(in, q);
		void *dst;

		n = take(in, 1) % 64;
		dst = vdrv_ptr(&D, at, n);
		if (dst && n <= in->left) {
			memcpy(dst, in->p, n);
			in->p += n;
			in->left -= n;
		}
		break;
	}
	case 5:
		D.q[q].avail->idx = take(in, 2);
		break;
	case 6:
		peer.refuse = take(in, 1) & 1;
		break;
	default:
		vdrv_probe(&D, ~take(in, 4), 256);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	unsigned int ops = 0;

	if (init_once())
		return 0;
	peer.refuse = false;
	vdrv_probe(&D, ~take(&in, 4), 256);
	while (in.left && ops++ < 256)
		op(&in);
	/* Whatever the driver did, a reset must bring the device back. */
	peer.refuse = false;
	vdrv_probe(&D, ~0ull, 256);
	if (vdrv_needs_reset(&D))
		__builtin_trap();
	return 0;
}
