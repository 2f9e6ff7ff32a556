/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm: tap devices through /dev/net/tun (the kernel has no netlink way to make one).
 *
 *	char name[IFNAMSIZ];
 *	int fd = tun_open("tap0", TUN_VNET_HDR, name);	// create or attach
 *	...
 *	close(fd);	// a non-persistent tap disappears here
 *
 * All functions return a value >= 0 on success and -errno on failure.
 */
#ifndef KAVM_TUN_H
#define KAVM_TUN_H

#include <stdbool.h>
#include <sys/types.h>

/* tun_open() flags */
#define TUN_VNET_HDR (1u << 0)	  /* IFF_VNET_HDR: frames carry a virtio_net_hdr */
#define TUN_MULTI_QUEUE (1u << 1) /* IFF_MULTI_QUEUE: each tun_open() adds a queue */
#define TUN_CREATE (1u << 2)	  /* fail with -EEXIST if NAME exists (IFF_TUN_EXCL) */
#define TUN_PERSIST (1u << 3)	  /* TUNSETPERSIST: the tap outlives the fd */

/*
 * Open tap NAME (IFF_TAP | IFF_NO_PI and the flags above), creating it when it
 * does not exist and attaching a queue to it when it does. NAME may be NULL or
 * a template such as "kavm%d"; the name the kernel chose is copied to IFNAME
 * (IFNAMSIZ bytes) when IFNAME is not NULL. Returns the queue's fd (O_CLOEXEC).
 * A name over 15 bytes is -ENAMETOOLONG; a busy single-queue tap is -EBUSY;
 * an existing device of another type, or a flag mismatch with an existing
 * tap (multi-queue, vnet header), is -EINVAL.
 */
int tun_open(const char *name, unsigned int flags, char *ifname);

/* TUNSETPERSIST on an open tap fd. */
int tun_set_persist(int fd, bool persist);
/* TUNSETOWNER / TUNSETGROUP: who may attach to it besides CAP_NET_ADMIN. */
int tun_set_owner(int fd, uid_t uid);
int tun_set_group(int fd, gid_t gid);
/*
 * Delete persistent tap NAME: attach, clear persistence, close. -EBUSY while
 * a process still has it open (a running VM); -ENODEV if there is none.
 */
int tun_delete(const char *name);

#endif /* KAVM_TUN_H */
