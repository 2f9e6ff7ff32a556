/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm: the tap datapath as a net client over an fd another backend opened
 * (the bridge backend makes, enslaves and raises its tap, then hands it here).
 */
#ifndef KAVM_TAP_H
#define KAVM_TAP_H

#include <stdbool.h>

struct loop;
struct net_client;

struct tap_fd_args {
	const char *id;		 /* the netdev id: the client's name */
	int fd;			 /* an open tap queue (IFF_TAP | IFF_NO_PI) */
	bool vnet_hdr;		 /* the fd was opened with IFF_VNET_HDR */
	const char *switch_name; /* NULL/"": no eBPF switch; else join it, leave on close */
	bool vhost;		 /* accelerate with vhost-net (needs vnet_hdr) */
	int queues;		 /* > 1: fd is queue 0 of a multi-queue tap; open the others */
	int vhost_fd;		 /* an inherited /dev/vhost-net fd, or -1 */
	/*
	 * Called on close after the client left the loop and the switch, with
	 * the fd, which it must close; NULL: the tap client closes the fd.
	 */
	void (*release)(void *opaque, int fd);
	void *opaque;
};

/*
 * Make the tap client for A->fd. On success the client owns the fd (closing
 * it through A->release when set); on failure the caller still owns it.
 */
int tap_client_new_fd(const struct tap_fd_args *a, struct loop *loop, struct net_client **out);

/* The interface behind a tap client (a tap or bridge netdev's), NULL for other clients. */
const char *tap_client_ifname(struct net_client *nc);

#endif /* KAVM_TAP_H */
