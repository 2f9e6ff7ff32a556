/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm vhost-net: the kernel's /dev/vhost-net moving a virtio-net NIC's RX and
 * TX rings to and from a tap, with no trip through kavm (after QEMU's
 * hw/net/vhost_net.c). It is the accelerator of a tap netdev (vhost=on), not
 * a net client of its own: the tap client keeps its link monitoring and its
 * place as the NIC's peer, and stops reading its fd while vhost runs.
 *
 * Kicks reach vhost through the queue's ioeventfd; vhost signals the queue's
 * call eventfd, which KVM injects through an irqfd (MSI-X) or the transport
 * turns into INTx. The control queue stays with kavm.
 *
 * Threads: open/close on the main thread at setup; start on the loop thread;
 * stop from a vCPU (device reset) or the loop. The caller serialises them
 * (the NIC's vdev->lock).
 */
#ifndef KAVM_VHOST_NET_H
#define KAVM_VHOST_NET_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;
struct vhost_net;

#define VHOST_NET_QUEUES 2 /* RX (0) and TX (1): vhost-net's own numbering */

/* One ring as the driver set it up, in kavm's address space. */
struct vhost_net_ring {
	uint16_t size;
	uint16_t last_avail; /* where vhost starts taking entries */
	void *desc, *avail, *used;
	int kick_fd; /* signalled by KVM's ioeventfd on a guest kick */
	int call_fd; /* vhost signals it for used buffers */
};

/*
 * Open vhost_fd (>= 0, an inherited /dev/vhost-net fd) or /dev/vhost-net for
 * the tap queue tap_fd, and become its owner. The tap must carry the 12-byte
 * vnet header (IFF_VNET_HDR): vhost leaves the header to the tap. name (the
 * netdev id) heads every message; each failure prints one.
 */
int vhost_net_open(const char *name, int tap_fd, int vhost_fd, struct vhost_net **out);
/* Stops it if running; closes the vhost fd. The tap fd stays the caller's. */
void vhost_net_close(struct vhost_net *vh);

/* offered less the ring features (EVENT_IDX, MRG_RXBUF...) this kernel's vhost-net lacks. */
uint64_t vhost_net_mask_features(const struct vhost_net *vh, uint64_t offered);

/*
 * Hand the rings to the kernel: features (the guest's, masked to what vhost
 * takes), the memory table of mem (kept current by a memory listener), then
 * each ring and the tap as backend. On failure nothing is left running and
 * nothing is printed: vhost_net_failed_op() names the step for the caller.
 */
int vhost_net_start(struct vhost_net *vh, struct guest_mem *mem, uint64_t features,
		    const struct vhost_net_ring rings[VHOST_NET_QUEUES]);
/* After a failed start: the step that failed ("VHOST_SET_MEM_TABLE", ...). */
const char *vhost_net_failed_op(const struct vhost_net *vh);
/* Detach the tap and take the rings back (a no-op when not running). */
void vhost_net_stop(struct vhost_net *vh);
/* Started and not stopped since: the rings are vhost's. */
bool vhost_net_running(const struct vhost_net *vh);

#endif /* KAVM_VHOST_NET_H */
