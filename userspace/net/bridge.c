// SPDX-License-Identifier: GPL-2.0
/*
 * kavm bridge backend: kavm makes its own tap, gives it the bridge's MTU,
 * enslaves it and brings it up over rtnetlink (qemu-bridge-helper's job, done
 * in-process after the access file allows it); tap.c then moves the frames.
 * The tap is not persistent, so it disappears with its fd on any exit; a
 * bridge kavm created is removed on close only when nothing else joined it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include <kavm/bridge-acl.h>
#include <kavm/log.h>
#include <kavm/net.h>
#include <kavm/rtnl.h>
#include <kavm/tap.h>
#include <kavm/tun.h>

struct bridge_port {
	struct kavm_rtnl *r; /* owned by the loop thread, as the tap client */
	char id[32];
	char br[IFNAMSIZ];
	char ifname[IFNAMSIZ];
	bool br_created; /* create=on made it: ours to remove when empty */
};

/* The access file's verdict, as one message naming the bridge and the file. */
static int bridge_allowed(const struct netdev_opts *o)
{
	const char *path = bridge_acl_path();
	struct bridge_acl *acl;
	char why[256];
	int ret;

	ret = bridge_acl_load(path, &acl, why, sizeof(why));
	if (ret) {
		pr_err("netdev %s: bridge %s: access file %s", o->id, o->br, why);
		return ret;
	}
	ret = bridge_acl_check(acl, o->br, why, sizeof(why));
	if (ret)
		pr_err("netdev %s: bridge %s: not allowed by %s: %s", o->id, o->br, path, why);
	bridge_acl_free(acl);
	return ret;
}

static int bridge_fail(struct bridge_port *p, const char *what, int ret)
{
	const char *ext = kavm_rtnl_errmsg(p->r);

	pr_err("netdev %s: bridge %s: %s: %s%s%s", p->id, p->br, what, strerror(-ret),
	       ext[0] ? ": " : "", ext);
	return ret;
}

/* Look the bridge up, making it with create=on; the MTU a port must have. */
static int bridge_find(struct bridge_port *p, const struct netdev_opts *o, unsigned int *mtu)
{
	struct kavm_link_info info;
	int ret;

	ret = kavm_rtnl_link_get(p->r, p->br, &info);
	if (ret == -ENODEV && o->create) {
		ret = kavm_rtnl_bridge_add(p->r, p->br, NULL);
		if (ret)
			return bridge_fail(p, "create", ret);
		p->br_created = true;
		ret = kavm_rtnl_set_up(p->r, p->br, true);
		if (!ret)
			ret = kavm_rtnl_link_get(p->r, p->br, &info);
	}
	if (ret == -ENODEV && !o->create) {
		pr_err("netdev %s: bridge %s: no such bridge (create=on makes it)", p->id, p->br);
		return ret;
	}
	if (ret)
		return bridge_fail(p, "look up", ret);
	if (strcmp(info.kind, "bridge")) {
		pr_err("netdev %s: bridge %s: is a %s device, not a bridge", p->id, p->br,
		       info.kind[0] ? info.kind : "non-bridge");
		return -EMEDIUMTYPE;
	}
	*mtu = info.mtu;
	return 0;
}

/* A name of our own when none was given: kavm-<pid>-<n>, else the kernel's kavm%d. */
static void bridge_tap_name(const struct netdev_opts *o, char name[IFNAMSIZ])
{
	static unsigned int seq;
	int n;

	if (o->ifname[0]) {
		memcpy(name, o->ifname, IFNAMSIZ);
		return;
	}
	n = snprintf(name, IFNAMSIZ, "kavm-%d-%u", (int)getpid(), seq++);
	if (n >= IFNAMSIZ)
		snprintf(name, IFNAMSIZ, "kavm%%d");
}

/*
 * A bridge without an address of its own takes its ports' lowest: a random
 * tap address could change the bridge's under the host's feet whenever a VM
 * joins. 0xfe (locally administered, unicast) sorts above nearly every other,
 * as qemu-bridge-helper does.
 */
static int bridge_tap_address(struct bridge_port *p)
{
	uint8_t mac[6];

	if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
		return -EIO;
	mac[0] = 0xfe;
	return kavm_rtnl_set_address(p->r, p->ifname, mac);
}

/* Tap made, sized to the bridge, given a high address, enslaved and up: returns its fd. */
static int bridge_make_tap(struct bridge_port *p, const struct netdev_opts *o, unsigned int mtu)
{
	unsigned int flags = TUN_CREATE | (o->vnet_hdr != 0 ? TUN_VNET_HDR : 0) |
			     (o->queues > 1 ? TUN_MULTI_QUEUE : 0);
	char name[IFNAMSIZ];
	int fd, ret;

	bridge_tap_name(o, name);
	fd = tun_open(name, flags, p->ifname);
	if (fd < 0) {
		pr_err("netdev %s: bridge %s: create tap %s: %s", p->id, p->br, name,
		       fd == -EEXIST ? "a device with that name exists" : strerror(-fd));
		return fd;
	}
	ret = kavm_rtnl_set_mtu(p->r, p->ifname, mtu);
	if (ret)
		goto err_fail;
	ret = bridge_tap_address(p);
	if (ret)
		goto err_fail;
	ret = kavm_rtnl_enslave(p->r, p->ifname, p->br);
	if (ret)
		goto err_fail;
	ret = kavm_rtnl_set_up(p->r, p->ifname, true);
	if (ret)
		goto err_fail;
	return fd;
err_fail:
	bridge_fail(p, p->ifname, ret);
	close(fd);
	return ret;
}

/* Undo what bridge_open() did once the tap's fd is ours again (or never left us). */
static void bridge_port_free(struct bridge_port *p, int fd)
{
	int ret;

	if (fd >= 0)
		close(fd); /* a non-persistent tap: the kernel deletes it here */
	if (p->br_created) {
		ret = kavm_rtnl_bridge_del_if_empty(p->r, p->br);
		if (ret == -ENOTEMPTY)
			pr_info("bridge %s: left in place: other ports joined it", p->br);
		else if (ret && ret != -ENODEV)
			pr_warn("bridge %s: remove: %s", p->br, strerror(-ret));
	}
	kavm_rtnl_close(p->r);
	free(p);
}

static void bridge_release(void *opaque, int fd)
{
	bridge_port_free(opaque, fd);
}

static int bridge_open(const struct netdev_opts *o, struct loop *loop, struct net_client **out)
{
	struct bridge_port *p;
	struct tap_fd_args a = { .id = o->id,
				 .vnet_hdr = o->vnet_hdr != 0,
				 .switch_name = o->sw,
				 .vhost = o->vhost == 1,
				 .vhost_fd = o->vhostfd,
				 .queues = o->queues };
	unsigned int mtu = 0;
	int fd, ret;

	ret = bridge_allowed(o);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	snprintf(p->id, sizeof(p->id), "%s", o->id);
	memcpy(p->br, o->br, IFNAMSIZ);
	ret = kavm_rtnl_open(&p->r);
	if (ret) {
		pr_err("netdev %s: rtnetlink: %s", o->id, strerror(-ret));
		free(p);
		return ret;
	}
	ret = bridge_find(p, o, &mtu);
	if (ret)
		goto err_free;
	fd = ret = bridge_make_tap(p, o, mtu);
	if (ret < 0)
		goto err_free;
	a.fd = fd;
	a.release = bridge_release;
	a.opaque = p;
	ret = tap_client_new_fd(&a, loop, out);
	if (ret) {
		bridge_port_free(p, fd); /* tap_client_new_fd() said why */
		return ret;
	}
	pr_info("netdev %s: tap %s joined bridge %s", o->id, p->ifname, p->br);
	return 0;
err_free:
	bridge_port_free(p, -1);
	return ret;
}

static void bridge_close(struct net_client *nc)
{
	/* The tap client's cleanup hands the fd back to bridge_release(). */
	nc->ops->cleanup(nc);
}

const struct net_backend_ops net_bridge_backend = {
	.type = "bridge",
	.open = bridge_open,
	.close = bridge_close,
};
