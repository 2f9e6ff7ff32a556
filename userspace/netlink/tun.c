// SPDX-License-Identifier: GPL-2.0
/* kavm: create, attach to and delete tap devices with the TUNSET* ioctls. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include <kavm/tun.h>

#ifndef IFF_TUN_EXCL
#define IFF_TUN_EXCL 0x8000
#endif

static int tun_attach(const char *name, short tflags, char *ifname)
{
	struct ifreq ifr = { .ifr_flags = tflags };
	int fd, ret;

	if (name && strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (name)
		memcpy(ifr.ifr_name, name, strlen(name));
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		goto err_close_fd;
	}
	if (ifname)
		snprintf(ifname, IFNAMSIZ, "%s", ifr.ifr_name);
	return fd;

err_close_fd:
	close(fd);
	return ret;
}

int tun_open(const char *name, unsigned int flags, char *ifname)
{
	short f = IFF_TAP | IFF_NO_PI;
	int fd, ret;

	if (flags & TUN_VNET_HDR)
		f |= IFF_VNET_HDR;
	if (flags & TUN_MULTI_QUEUE)
		f |= IFF_MULTI_QUEUE;
	if (flags & TUN_CREATE)
		f |= IFF_TUN_EXCL;
	fd = tun_attach(name, f, ifname);
	/* The kernel says EBUSY for "exists" under IFF_TUN_EXCL; say what it means. */
	if (fd == -EBUSY && (flags & TUN_CREATE))
		return -EEXIST;
	if (fd < 0 || !(flags & TUN_PERSIST))
		return fd;
	ret = tun_set_persist(fd, true);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int tun_set_persist(int fd, bool persist)
{
	return ioctl(fd, TUNSETPERSIST, (unsigned long)persist) < 0 ? -errno : 0;
}

int tun_set_owner(int fd, uid_t uid)
{
	return ioctl(fd, TUNSETOWNER, (unsigned long)uid) < 0 ? -errno : 0;
}

int tun_set_group(int fd, gid_t gid)
{
	return ioctl(fd, TUNSETGROUP, (unsigned long)gid) < 0 ? -errno : 0;
}

int tun_delete(const char *name)
{
	int fd, ret;

	if (!name || !*name)
		return -EINVAL;
	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (!if_nametoindex(name))
		return -ENODEV;
	/* TUNSETIFF must match the tap's multi-queue flag: try both. */
	fd = tun_attach(name, IFF_TAP | IFF_NO_PI, NULL);
	if (fd == -EINVAL)
		fd = tun_attach(name, IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	if (fd < 0)
		return fd;
	ret = tun_set_persist(fd, false);
	close(fd);
	return ret;
}
