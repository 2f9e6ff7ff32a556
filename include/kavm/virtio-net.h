/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm virtio-net device (virtio 1.x, device id 1): one RX/TX pair per queue
 * of its backend (VIRTIO_NET_F_MQ past one, up to VNET_MAX_PAIRS) and a
 * control queue; pair i is a net client whose peer is the backend's queue i
 * (tap, ...).
 *
 * Locking contract with the transport: queue_notify() is called on the loop
 * thread without vdev->lock held; every other virtio_dev_ops entry is called
 * with vdev->lock held (status, features, queue setup, reset, config).
 */
#ifndef KAVM_VIRTIO_NET_H
#define KAVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <kavm/net-engine.h>

struct guest_mem;
struct loop;
struct net_client;
struct virtio_dev;
struct virtio_net;

/* Queue pairs per NIC: 17 queues and 18 MSI-X vectors, within the transport's limits. */
#define VNET_MAX_PAIRS 8

struct virtio_net_params {
	struct guest_mem *mem;
	struct loop *loop;
	struct net_client *backend; /* its queue i becomes pair i's peer (net_client_queue()) */
	uint8_t mac[6];
	uint16_t mtu;	     /* 0: 1500 */
	uint16_t queue_size; /* largest queue offered; 0: 256 */
	const char *name;    /* for logs and the net client */
};

struct virtio_net_stats {
	struct net_engine_stats engine;
	uint64_t ctrl_ok;
	uint64_t ctrl_err;	/* unknown, short or malformed commands (VIRTIO_NET_ERR) */
	uint64_t ctrl_bad_desc; /* no room for the ack, bad buffers: used.len 0 */
	uint64_t rx_filtered;	/* dropped by the RX mode / MAC table */
	uint64_t ring_damage;	/* NEEDS_RESET raised */
};

int virtio_net_init(const struct virtio_net_params *p, struct virtio_net **out);
void virtio_net_exit(struct virtio_net *vn);
struct virtio_dev *virtio_net_vdev(struct virtio_net *vn);
/* The NIC's counters, every pair's engine added up. */
void virtio_net_get_stats(struct virtio_net *vn, struct virtio_net_stats *st);
/* Pair i's own data path counters; -ENOENT past the last pair. */
int virtio_net_get_pair_stats(struct virtio_net *vn, unsigned int i, struct net_engine_stats *st);
/* Pairs the NIC has (the backend's queues); *in_use: those the driver enabled. */
unsigned int virtio_net_nr_pairs(struct virtio_net *vn, unsigned int *in_use);
/* The NIC's own net client (its link state, its counters): the control socket's view. */
struct net_client *virtio_net_client(struct virtio_net *vn);
/* vhost-net has the rings now (started at DRIVER_OK, not stopped since). */
bool virtio_net_vhost_running(struct virtio_net *vn);
/*
 * NIC i of the running VM (cfg->nics[i]), with its backend in *backend;
 * NULL past the last one (virtio/net-pci.c).
 */
struct virtio_net *net_pci_nic(unsigned int i, struct net_client **backend);

#endif /* KAVM_VIRTIO_NET_H */
