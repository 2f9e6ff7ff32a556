// SPDX-License-Identifier: GPL-2.0
/*
 * kavm vhost-net: hand a NIC's RX/TX rings and a tap to /dev/vhost-net, keep
 * its memory table in step with guest RAM, take the rings back on reset.
 * The ioctl order follows the kernel's drivers/vhost/net.c expectations:
 * owner, features, memory table, then per ring num, base, addresses, kick,
 * call, and last the backend, which starts the worker; detaching the
 * backend stops it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/memory.h>
#include <kavm/vhost-net.h>

/*
 * What kavm lets vhost see of the guest's features: the ring layout and the
 * header size. Offloads stay between the guest and the tap (TUNSETOFFLOAD),
 * and VHOST_NET_F_VIRTIO_NET_HDR stays off because the tap carries the header.
 */
#define VHOST_NET_RING_FEATURES                                                                    \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |                        \
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |                \
	 (1ull << VIRTIO_F_NOTIFY_ON_EMPTY))

struct vhost_net {
	char name[32]; /* the netdev id, for messages */
	int fd;
	int tap_fd;
	uint64_t features; /* VHOST_GET_FEATURES */
	bool running;
	const char *failed_op; /* the ioctl that failed last */
	struct guest_mem *mem; /* set by the first start; the listener lives until close */
	struct mem_listener listener;
	unsigned int nr_regions;
	struct vhost_memory_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Quiet: the caller says what failed, once, with vhost_net_failed_op(). */
static int vhost_ioctl(struct vhost_net *vh, unsigned long req, void *arg, const char *what)
{
	if (ioctl(vh->fd, req, arg) == 0)
		return 0;
	vh->failed_op = what;
	return -errno;
}

static int vhost_net_push_mem(struct vhost_net *vh)
{
	struct vhost_memory *m;
	int ret;

	m = calloc(1, sizeof(*m) + vh->nr_regions * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = vh->nr_regions;
	memcpy(m->regions, vh->regions, vh->nr_regions * sizeof(m->regions[0]));
	ret = vhost_ioctl(vh, VHOST_SET_MEM_TABLE, m, "VHOST_SET_MEM_TABLE");
	free(m);
	return ret;
}

static int vhost_net_region_add(struct mem_listener *l, const struct guest_mem_region *r)
{
	struct vhost_net *vh = container_of(l, struct vhost_net, listener);

	if (vh->nr_regions == ARRAY_SIZE(vh->regions))
		return -ENOSPC;
	vh->regions[vh->nr_regions++] = (struct vhost_memory_region){
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uintptr_t)r->hva,
	};
	return vhost_net_push_mem(vh);
}

static void vhost_net_region_del(struct mem_listener *l, const struct guest_mem_region *r)
{
	struct vhost_net *vh = container_of(l, struct vhost_net, listener);
	unsigned int i;

	for (i = 0; i < vh->nr_regions; i++) {
		if (vh->regions[i].guest_phys_addr != r->gpa)
			continue;
		memmove(&vh->regions[i], &vh->regions[i + 1],
			(vh->nr_regions - i - 1) * sizeof(vh->regions[0]));
		vh->nr_regions--;
		vhost_net_push_mem(vh);
		return;
	}
}

int vhost_net_open(const char *name, int tap_fd, int vhost_fd, struct vhost_net **out)
{
	struct vhost_net *vh = calloc(1, sizeof(*vh));
	int ret;

	if (!vh)
		return -ENOMEM;
	snprintf(vh->name, sizeof(vh->name), "%s", name);
	vh->tap_fd = tap_fd;
	vh->fd = vhost_fd >= 0 ? vhost_fd : open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (vh->fd < 0) {
		ret = -errno;
		pr_err("netdev %s: vhost-net: /dev/vhost-net: %s", name, strerror(errno));
		goto err_free;
	}
	ret = vhost_ioctl(vh, VHOST_SET_OWNER, NULL, "VHOST_SET_OWNER");
	if (!ret)
		ret = vhost_ioctl(vh, VHOST_GET_FEATURES, &vh->features, "VHOST_GET_FEATURES");
	if (ret) {
		pr_err("netdev %s: vhost-net: %s: %s", name, vh->failed_op, strerror(-ret));
		goto err_close;
	}
	vh->listener = (struct mem_listener){
		.name = "vhost-net",
		.region_add = vhost_net_region_add,
		.region_del = vhost_net_region_del,
	};
	*out = vh;
	return 0;
err_close:
	close(vh->fd);
err_free:
	free(vh);
	return ret;
}

void vhost_net_close(struct vhost_net *vh)
{
	if (!vh)
		return;
	vhost_net_stop(vh);
	if (vh->mem)
		guest_mem_listener_unregister(vh->mem, &vh->listener);
	close(vh->fd);
	free(vh);
}

uint64_t vhost_net_mask_features(const struct vhost_net *vh, uint64_t offered)
{
	/* The ring features are vhost's to implement; the rest are kavm's or the tap's. */
	return offered & (~VHOST_NET_RING_FEATURES | vh->features);
}

bool vhost_net_running(const struct vhost_net *vh)
{
	return vh->running;
}

static int vhost_net_set_ring(struct vhost_net *vh, unsigned int i, const struct vhost_net_ring *r)
{
	struct vhost_vring_state num = { .index = i, .num = r->size };
	struct vhost_vring_state base = { .index = i, .num = r->last_avail };
	struct vhost_vring_addr addr = {
		.index = i,
		.desc_user_addr = (uintptr_t)r->desc,
		.avail_user_addr = (uintptr_t)r->avail,
		.used_user_addr = (uintptr_t)r->used,
	};
	struct vhost_vring_file kick = { .index = i, .fd = r->kick_fd };
	struct vhost_vring_file call = { .index = i, .fd = r->call_fd };
	int ret;

	ret = vhost_ioctl(vh, VHOST_SET_VRING_NUM, &num, "VHOST_SET_VRING_NUM");
	if (!ret)
		ret = vhost_ioctl(vh, VHOST_SET_VRING_BASE, &base, "VHOST_SET_VRING_BASE");
	if (!ret)
		ret = vhost_ioctl(vh, VHOST_SET_VRING_ADDR, &addr, "VHOST_SET_VRING_ADDR");
	if (!ret)
		ret = vhost_ioctl(vh, VHOST_SET_VRING_KICK, &kick, "VHOST_SET_VRING_KICK");
	if (!ret)
		ret = vhost_ioctl(vh, VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL");
	return ret;
}

/*
 * Detach the tap from rings [0, n). Where each ring stopped is not asked
 * for: the rings go back only at a device reset, which starts them at 0.
 */
static void vhost_net_detach(struct vhost_net *vh, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vhost_vring_file be = { .index = i, .fd = -1 };

		/* Synchronous: the worker is flushed before the ioctl returns. */
		if (ioctl(vh->fd, VHOST_NET_SET_BACKEND, &be))
			pr_warn("netdev %s: vhost-net: detach ring %u: %s", vh->name, i,
				strerror(errno));
	}
}

const char *vhost_net_failed_op(const struct vhost_net *vh)
{
	return vh->failed_op ?: "no failure";
}

static int vhost_net_attach_mem(struct vhost_net *vh, struct guest_mem *mem)
{
	int ret;

	if (vh->mem == mem)
		return 0;
	vh->failed_op = "memory table";
	if (vh->mem)
		return -EBUSY; /* one VM per vhost fd */
	ret = guest_mem_listener_register(mem, &vh->listener);
	if (ret)
		return ret;
	vh->mem = mem;
	return 0;
}

int vhost_net_start(struct vhost_net *vh, struct guest_mem *mem, uint64_t features,
		    const struct vhost_net_ring rings[VHOST_NET_QUEUES])
{
	uint64_t f = features & vh->features & VHOST_NET_RING_FEATURES;
	unsigned int i, attached = 0;
	int ret;

	if (vh->running)
		return -EBUSY;
	ret = vhost_ioctl(vh, VHOST_SET_FEATURES, &f, "VHOST_SET_FEATURES");
	if (!ret)
		ret = vhost_net_attach_mem(vh, mem);
	for (i = 0; !ret && i < VHOST_NET_QUEUES; i++)
		ret = vhost_net_set_ring(vh, i, &rings[i]);
	for (i = 0; !ret && i < VHOST_NET_QUEUES; i++) {
		struct vhost_vring_file be = { .index = i, .fd = vh->tap_fd };

		ret = vhost_ioctl(vh, VHOST_NET_SET_BACKEND, &be, "VHOST_NET_SET_BACKEND");
		attached += !ret;
	}
	if (ret) {
		vhost_net_detach(vh, attached);
		return ret;
	}
	vh->running = true;
	return 0;
}

void vhost_net_stop(struct vhost_net *vh)
{
	if (!vh->running)
		return;
	vhost_net_detach(vh, VHOST_NET_QUEUES);
	vh->running = false;
}
