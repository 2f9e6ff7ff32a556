/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the libFuzzer targets: reading the input as a stream of
 * little-endian fields, and the virtio-net device the net targets drive
 * through the in-process driver (tests/lib/virtio-driver.h).
 */
#ifndef KAVM_FUZZ_H
#define KAVM_FUZZ_H

#include <stdint.h>
#include <string.h>

struct input {
	const uint8_t *p;
	size_t left;
};

/* The next bytes (at most 8) of the input; zeros once it runs out. */
static inline uint64_t take(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	bytes = bytes < in->left ? bytes : in->left;
	memcpy(&v, in->p, bytes);
	in->p += bytes;
	in->left -= bytes;
	return v;
}

#ifdef FUZZ_VIRTIO_NET
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/virtio-net.h>

#include "../lib/virtio-driver.h"

/* A virtio-net device on a test peer, its driver half attached; once per process. */
static inline int fuzz_vnet_init(struct loop **loop, struct vdrv *d, struct tpeer *peer,
				 struct virtio_net **vn)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "fuzz" };

	if (*loop)
		return 0;
	log_level = -1;
	if (loop_create(loop) || vdrv_init(d, *loop) || tpeer_init(peer, true))
		return -1;
	p.mem = &d->mem;
	p.loop = *loop;
	p.backend = &peer->nc;
	memcpy(p.mac, "\x52\x54\x00\x12\x34\x56", 6);
	if (virtio_net_init(&p, vn))
		return -1;
	vdrv_attach(d, virtio_net_vdev(*vn));
	return 0;
}
#endif

#endif /* KAVM_FUZZ_H */
