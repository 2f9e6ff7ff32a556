// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the virtio-net control queue. The input is a series of
 * commands -- class, command, payload -- each laid out as a hostile driver
 * may: the payload cut into several readable segments, the ack buffer too
 * short, missing or readable, the chain direct or indirect. Between
 * commands the peer sends frames, so the RX filter the commands program is
 * exercised too. Any crash, sanitizer report or hang is a finding; every
 * command must be completed (used entry) with VIRTIO_NET_OK/ERR or len 0.
 *
 *   make fuzz && build/fuzz/virtio_net_ctrl tests/fuzz/corpus/virtio_net_ctrl
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

#define CTRLQ 2
#define RXQ 0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct loop *loop;
static struct vdrv D;
static struct tpeer peer;
static struct virtio_net *vn;

static int init_once(void)
{
	return fuzz_vnet_init(&loop, &D, &peer, &vn);
}

/* One command: [class cmd payload...] in up to 4 readable pieces, then the ack buffer. */
static void command(struct input *in)
{
	uint8_t layout = take(in, 1), buf[2 + 1600];
	size_t len = 2 + take(in, 2) % 1600, off = 0;
	struct vdrv_seg segs[6];
	unsigned int n = 0, pieces = 1 + (layout & 3);
	uint16_t head;
	uint32_t used_len;

	buf[0] = take(in, 1);
	buf[1] = take(in, 1);
	len = len - 2 < in->left ? len : 2 + in->left;
	memcpy(buf + 2, in->p, len - 2);
	in->p += len - 2;
	in->left -= len - 2;
	while (off < len && n < pieces) {
		size_t piece = n + 1 == pieces ? len - off : (len - off + 1) / 2;

		segs[n++] = (struct vdrv_seg){ buf + off, piece, false };
		off += piece;
	}
	/* The ack: normally 1 writable byte; sometimes none, empty, readable or larger. */
	if ((layout >> 2) & 3)
		segs[n++] = (struct vdrv_seg){ NULL, (layout >> 4) & 3, !((layout >> 6) & 1) };
	else
		segs[n++] = (struct vdrv_seg){ NULL, 1, true };
	if (vdrv_post(&D, CTRLQ, segs, n, layout & 0x80) < 0)
		return;
	vdrv_notify(&D, CTRLQ);
	/* Bad ones come back with len 0, good ones with the ack; nothing may stay. */
	while (vdrv_used(&D, CTRLQ, &head, &used_len))
		if (used_len > 1)
			__builtin_trap();
}

/* A frame to a MAC the commands may have listed (or not): the RX filter decides. */
static void frame(struct input *in)
{
	uint8_t f[12 + 64] = { 0 };
	struct virtio_net_hdr_v1 hdr;
	uint8_t out[4096];

	memcpy(f + 12, in->p, in->left < 6 ? in->left : 6);
	take(in, 6);
	vdrv_net_rx_fill(&D, 1);
	net_send(&peer.nc, f, sizeof(f), NULL);
	vdrv_run(&D);
	while (vdrv_net_rx(&D, &hdr, out, sizeof(out)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	unsigned int ops = 0;

	if (init_once() || vdrv_probe(&D, ~0ull, 64))
		return 0;
	while (in.left && ops++ < 64) {
		if (take(&in, 1) & 1)
			frame(&in);
		else
			command(&in);
	}
	if (vdrv_needs_reset(&D))
		__builtin_trap(); /* no control command is ring damage */
	return 0;
}
