// SPDX-License-Identifier: GPL-2.0
/* kavm: rtnetlink over libnl-3 (links, bridges, ports) with the kernel's extack text kept. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/addr.h>
#include <arpa/inet.h>

#include <kavm/compiler.h>
#include <kavm/nl-ack.h>
#include <kavm/rtnl.h>

struct kavm_rtnl {
	struct nl_sock *sk;
	struct nl_ack ack; /* the last NLMSG_ERROR, or the library's own reason */
};

static int seterr(struct kavm_rtnl *r, int err, const char *fmt, ...) __printf(3, 4);

static int seterr(struct kavm_rtnl *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->ack.msg, sizeof(r->ack.msg), fmt, ap);
	va_end(ap);
	return err;
}

const char *kavm_rtnl_errmsg(const struct kavm_rtnl *r)
{
	return r->ack.msg;
}

int kavm_rtnl_open(struct kavm_rtnl **out)
{
	struct kavm_rtnl *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->sk = nl_socket_alloc();
	if (!r->sk) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = nl_connect(r->sk, NETLINK_ROUTE);
	if (ret < 0) {
		ret = -EPROTONOSUPPORT;
		goto err_free_sock;
	}
	/* Acks are asked for per request: a plain GET gets its answer, not an ack too. */
	nl_ack_setup(r->sk, &r->ack);
	*out = r;
	return 0;

err_free_sock:
	nl_socket_free(r->sk);
err_free:
	free(r);
	return ret;
}

/*
 * A netlink socket stays in the namespace it was made in: make it there,
 * from this thread, and come back. Not coming back would leave the thread
 * in the VM's namespace for good: that is an abort, not an error.
 */
int kavm_rtnl_open_netns(int netns_fd, struct kavm_rtnl **out)
{
	int self, ret;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET)) {
		ret = -errno;
		close(self);
		return ret;
	}
	ret = kavm_rtnl_open(out);
	if (setns(self, CLONE_NEWNET))
		abort();
	close(self);
	return ret;
}

void kavm_rtnl_close(struct kavm_rtnl *r)
{
	if (!r)
		return;
	nl_socket_free(r->sk);
	free(r);
}

/* libnl's codes lose the errno; the kernel's own is kept by err_cb. */
static int nlerr(struct kavm_rtnl *r, int ret)
{
	if (r->ack.err)
		return r->ack.err;
	switch (-ret) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INTR:
		return -EINTR;
	default:
		return seterr(r, -EIO, "netlink: %s", nl_geterror(ret));
	}
}

/* Send MSG (consumed) asking for an ack and wait for it. */
static int request(struct kavm_rtnl *r, struct nl_msg *msg)
{
	int ret;

	nl_ack_reset(&r->ack);
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	ret = nl_send_auto(r->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return nlerr(r, ret);
	ret = nl_wait_for_ack(r->sk);
	return ret < 0 ? nlerr(r, ret) : 0;
}

int kavm_rtnl_check_name(const char *name)
{
	size_t len = strlen(name);

	if (len >= IFNAMSIZ)
		return -ENAMETOOLONG;
	/* dev_valid_name(): no '/', ':' or whitespace, not "." or "..". */
	if (!len || !strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/: \t\n"))
		return -EINVAL;
	return 0;
}

static int check_name(struct kavm_rtnl *r, const char *name)
{
	int ret = kavm_rtnl_check_name(name);

	if (ret == -ENAMETOOLONG)
		return seterr(r, ret, "interface names are at most %d bytes", IFNAMSIZ - 1);
	if (ret)
		return seterr(r, ret, "\"%s\" is not a valid interface name", name);
	return 0;
}

/* ---- reading links */

static uint32_t attr_u32(const struct nlattr *a)
{
	return a && nla_len(a) >= 4 ? nla_get_u32((struct nlattr *)a) : 0;
}

static uint8_t attr_u8(const struct nlattr *a)
{
	return a && nla_len(a) >= 1 ? nla_get_u8((struct nlattr *)a) : 0;
}

static void attr_str(const struct nlattr *a, char *buf, size_t size)
{
	if (a)
		snprintf(buf, size, "%.*s", nla_len(a), (const char *)nla_data(a));
}

static void parse_bridge(struct kavm_link_info *li, struct nlattr *data)
{
	struct nlattr *tb[IFLA_BR_MAX + 1];

	if (nla_parse_nested(tb, IFLA_BR_MAX, data, NULL) < 0)
		return;
	li->br.present = true;
	li->br.stp = attr_u32(tb[IFLA_BR_STP_STATE]);
	li->br.forward_delay = attr_u32(tb[IFLA_BR_FORWARD_DELAY]);
	li->br.vlan_filtering = attr_u8(tb[IFLA_BR_VLAN_FILTERING]);
}

static void parse_tun(struct kavm_link_info *li, struct nlattr *data)
{
	struct nlattr *tb[IFLA_TUN_MAX + 1];

	if (nla_parse_nested(tb, IFLA_TUN_MAX, data, NULL) < 0)
		return;
	li->tun.present = true;
	li->tun.tap = attr_u8(tb[IFLA_TUN_TYPE]) == 2; /* IFF_TAP */
	li->tun.pi = attr_u8(tb[IFLA_TUN_PI]);
	li->tun.vnet_hdr = attr_u8(tb[IFLA_TUN_VNET_HDR]);
	li->tun.multi_queue = attr_u8(tb[IFLA_TUN_MULTI_QUEUE]);
	li->tun.persist = attr_u8(tb[IFLA_TUN_PERSIST]);
	li->tun.has_owner = tb[IFLA_TUN_OWNER] != NULL;
	li->tun.owner = attr_u32(tb[IFLA_TUN_OWNER]);
	li->tun.num_queues = attr_u32(tb[IFLA_TUN_NUM_QUEUES]);
}

static void copy_addr(const struct nlattr *a, uint8_t *out, size_t len)
{
	if (a && (size_t)nla_len(a) >= len)
		memcpy(out, nla_data(a), len);
}

static void parse_vxlan(struct kavm_link_info *li, struct nlattr *data)
{
	struct nlattr *tb[IFLA_VXLAN_MAX + 1];
	uint8_t first;

	if (nla_parse_nested(tb, IFLA_VXLAN_MAX, data, NULL) < 0)
		return;
	li->vxlan.present = true;
	li->vxlan.id = attr_u32(tb[IFLA_VXLAN_ID]);
	li->vxlan.link = attr_u32(tb[IFLA_VXLAN_LINK]);
	if (tb[IFLA_VXLAN_PORT] && nla_len(tb[IFLA_VXLAN_PORT]) >= 2)
		li->vxlan.dstport = ntohs(nla_get_u16(tb[IFLA_VXLAN_PORT]));
	if (tb[IFLA_VXLAN_GROUP] || tb[IFLA_VXLAN_LOCAL]) {
		li->vxlan.family = AF_INET;
		copy_addr(tb[IFLA_VXLAN_GROUP], li->vxlan.remote, 4);
		copy_addr(tb[IFLA_VXLAN_LOCAL], li->vxlan.local, 4);
		li->vxlan.multicast = (li->vxlan.remote[0] & 0xf0) == 0xe0;
	} else if (tb[IFLA_VXLAN_GROUP6] || tb[IFLA_VXLAN_LOCAL6]) {
		li->vxlan.family = AF_INET6;
		copy_addr(tb[IFLA_VXLAN_GROUP6], li->vxlan.remote, 16);
		copy_addr(tb[IFLA_VXLAN_LOCAL6], li->vxlan.local, 16);
		first = li->vxlan.remote[0];
		li->vxlan.multicast = first == 0xff;
	}
}

static void parse_linkinfo(struct kavm_link_info *li, struct nlattr *linkinfo)
{
	struct nlattr *tb[IFLA_INFO_MAX + 1];

	if (nla_parse_nested(tb, IFLA_INFO_MAX, linkinfo, NULL) < 0)
		return;
	attr_str(tb[IFLA_INFO_KIND], li->kind, sizeof(li->kind));
	if (!tb[IFLA_INFO_DATA])
		return;
	if (!strcmp(li->kind, "bridge"))
		parse_bridge(li, tb[IFLA_INFO_DATA]);
	else if (!strcmp(li->kind, "tun"))
		parse_tun(li, tb[IFLA_INFO_DATA]);
	else if (!strcmp(li->kind, "vxlan"))
		parse_vxlan(li, tb[IFLA_INFO_DATA]);
}

static void parse_stats(struct kavm_link_info *li, const struct nlattr *a)
{
	struct rtnl_link_stats64 s = {};

	/* The struct grew over the years: take what this kernel sent. */
	memcpy(&s, nla_data(a), min((size_t)nla_len(a), sizeof(s)));
	li->has_stats = true;
	li->stats = (struct kavm_link_stats){
		.rx_packets = s.rx_packets,
		.tx_packets = s.tx_packets,
		.rx_bytes = s.rx_bytes,
		.tx_bytes = s.tx_bytes,
		.rx_errors = s.rx_errors,
		.tx_errors = s.tx_errors,
		.rx_dropped = s.rx_dropped,
		.tx_dropped = s.tx_dropped,
	};
}

int kavm_rtnl_parse_link(const struct nlmsghdr *nlh, size_t len, struct kavm_link_info *li)
{
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi = nlmsg_data(nlh);

	if (len < NLMSG_HDRLEN || nlh->nlmsg_len > len || nlh->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*ifi), tb, IFLA_MAX, NULL))
		return -EBADMSG;
	memset(li, 0, sizeof(*li));
	li->ifindex = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	attr_str(tb[IFLA_IFNAME], li->name, sizeof(li->name));
	li->mtu = attr_u32(tb[IFLA_MTU]);
	li->master = attr_u32(tb[IFLA_MASTER]);
	li->operstate = attr_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_ADDRESS]) {
		li->addr_len =
			(unsigned int)min((size_t)nla_len(tb[IFLA_ADDRESS]), sizeof(li->addr));
		memcpy(li->addr, nla_data(tb[IFLA_ADDRESS]), li->addr_len);
	}
	if (tb[IFLA_STATS64])
		parse_stats(li, tb[IFLA_STATS64]);
	if (tb[IFLA_LINKINFO])
		parse_linkinfo(li, tb[IFLA_LINKINFO]);
	return 0;
}

struct dump_ctx {
	struct kavm_link_info *v;
	size_t n, cap;
	int err;
};

static int dump_cb(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *d = arg;
	struct kavm_link_info *nv;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		nv = realloc(d->v, d->cap * sizeof(*nv));
		if (!nv) {
			d->err = -ENOMEM;
			return NL_STOP;
		}
		d->v = nv;
	}
	if (kavm_rtnl_parse_link(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len, &d->v[d->n]) == 0)
		d->n++;
	return NL_OK;
}

/* RTM_GETLINK for NAME (or a dump when NAME is NULL) into D. */
static int getlink(struct kavm_rtnl *r, const char *name, struct dump_ctx *d)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg;
	int ret;

	nl_ack_reset(&r->ack);
	msg = nlmsg_alloc_simple(RTM_GETLINK, name ? 0 : NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = nl_send_auto(r->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return nlerr(r, ret);
	nl_socket_modify_cb(r->sk, NL_CB_VALID, NL_CB_CUSTOM, dump_cb, d);
	ret = nl_recvmsgs_default(r->sk);
	nl_socket_modify_cb(r->sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	if (ret < 0)
		return nlerr(r, ret);
	return d->err;
}

int kavm_rtnl_link_get(struct kavm_rtnl *r, const char *dev, struct kavm_link_info *info)
{
	struct dump_ctx d = {};
	int ret;

	ret = check_name(r, dev);
	if (ret)
		return ret;
	ret = getlink(r, dev, &d);
	if (!ret && d.n != 1)
		ret = -ENODEV;
	if (!ret) {
		*info = d.v[0];
		if (info->master && !if_indextoname(info->master, info->master_name))
			info->master_name[0] = '\0';
	}
	if (ret == -ENODEV && !r->ack.msg[0])
		seterr(r, ret, "no device named %s", dev);
	free(d.v);
	return ret;
}

static int cmp_ifindex(const void *a, const void *b)
{
	const struct kavm_link_info *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int kavm_rtnl_link_dump(struct kavm_rtnl *r, struct kavm_link_info **out)
{
	struct dump_ctx d = {};
	size_t i, j;
	int ret;

	ret = getlink(r, NULL, &d);
	if (ret) {
		free(d.v);
		return ret;
	}
	qsort(d.v, d.n, sizeof(*d.v), cmp_ifindex);
	for (i = 0; i < d.n; i++)
		for (j = 0; d.v[i].master && j < d.n; j++)
			if (d.v[j].ifindex == d.v[i].master)
				memcpy(d.v[i].master_name, d.v[j].name, IFNAMSIZ);
	*out = d.v;
	return (int)d.n;
}

/* ---- changing links */

/* A libnl-route change request on link INDEX; consumes CHANGE. */
static int change_link(struct kavm_rtnl *r, int index, struct rtnl_link *change)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	struct nl_msg *msg = NULL;
	int ret;

	if (!orig) {
		rtnl_link_put(change);
		return -ENOMEM;
	}
	rtnl_link_set_ifindex(orig, index);
	ret = rtnl_link_build_change_request(orig, change, 0, &msg);
	rtnl_link_put(orig);
	rtnl_link_put(change);
	if (ret < 0)
		return ret == -NLE_NOMEM ? -ENOMEM : -EINVAL;
	return request(r, msg);
}

int kavm_rtnl_set_up(struct kavm_rtnl *r, const char *dev, bool up)
{
	struct kavm_link_info li;
	struct rtnl_link *c;
	int ret;

	ret = kavm_rtnl_link_get(r, dev, &li);
	if (ret)
		return ret;
	c = rtnl_link_alloc();
	if (!c)
		return -ENOMEM;
	if (up)
		rtnl_link_set_flags(c, IFF_UP);
	else
		rtnl_link_unset_flags(c, IFF_UP);
	return change_link(r, li.ifindex, c);
}

int kavm_rtnl_set_mtu(struct kavm_rtnl *r, const char *dev, unsigned int mtu)
{
	struct kavm_link_info li;
	struct rtnl_link *c;
	int ret;

	ret = kavm_rtnl_link_get(r, dev, &li);
	if (ret)
		return ret;
	c = rtnl_link_alloc();
	if (!c)
		return -ENOMEM;
	rtnl_link_set_mtu(c, mtu);
	return change_link(r, li.ifindex, c);
}

int kavm_rtnl_set_address(struct kavm_rtnl *r, const char *dev, const uint8_t mac[6])
{
	struct kavm_link_info li;
	struct rtnl_link *c;
	struct nl_addr *a;
	int ret;

	ret = kavm_rtnl_link_get(r, dev, &li);
	if (ret)
		return ret;
	a = nl_addr_build(AF_LLC, mac, 6);
	c = rtnl_link_alloc();
	if (!a || !c) {
		nl_addr_put(a);
		rtnl_link_put(c);
		return -ENOMEM;
	}
	rtnl_link_set_addr(c, a);
	nl_addr_put(a);
	return change_link(r, li.ifindex, c);
}

static int set_master(struct kavm_rtnl *r, int index, int master)
{
	struct rtnl_link *c = rtnl_link_alloc();

	if (!c)
		return -ENOMEM;
	rtnl_link_set_master(c, master);
	return change_link(r, index, c);
}

int kavm_rtnl_enslave(struct kavm_rtnl *r, const char *dev, const char *br)
{
	struct kavm_link_info d, b;
	int ret;

	ret = check_name(r, dev) ?: check_name(r, br);
	if (ret)
		return ret;
	if (!strcmp(dev, br))
		return seterr(r, -EINVAL, "a bridge cannot be attached to itself");
	ret = kavm_rtnl_link_get(r, br, &b);
	if (ret)
		return ret;
	if (strcmp(b.kind, "bridge"))
		return seterr(r, -EMEDIUMTYPE, "%s is not a bridge", br);
	ret = kavm_rtnl_link_get(r, dev, &d);
	if (ret)
		return ret;
	if (d.master == b.ifindex)
		return 0;
	if (d.master)
		return seterr(r, -EBUSY, "%s is already attached to %s", dev,
			      d.master_name[0] ? d.master_name : "another master");
	return set_master(r, d.ifindex, b.ifindex);
}

int kavm_rtnl_release(struct kavm_rtnl *r, const char *dev)
{
	struct kavm_link_info d;
	int ret;

	ret = kavm_rtnl_link_get(r, dev, &d);
	if (ret)
		return ret;
	if (!d.master)
		return seterr(r, -ENOTCONN, "%s is not attached to a bridge", dev);
	return set_master(r, d.ifindex, 0);
}

static int del_index(struct kavm_rtnl *r, int index)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct nl_msg *msg = NULL;
	int ret;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_ifindex(l, index);
	ret = rtnl_link_build_delete_request(l, &msg);
	rtnl_link_put(l);
	if (ret < 0)
		return -ENOMEM;
	return request(r, msg);
}

int kavm_rtnl_link_del(struct kavm_rtnl *r, const char *name)
{
	struct kavm_link_info li;
	int ret;

	ret = kavm_rtnl_link_get(r, name, &li);
	return ret ?: del_index(r, li.ifindex);
}

/* ---- bridges */

void kavm_bridge_opts_init(struct kavm_bridge_opts *o)
{
	o->stp = KAVM_RTNL_KEEP;
	o->forward_delay = KAVM_RTNL_KEEP;
	o->vlan_filtering = KAVM_RTNL_KEEP;
}

static int put_bridge_opts(struct nl_msg *msg, const struct kavm_bridge_opts *o)
{
	struct nlattr *info, *data;

	info = nla_nest_start(msg, IFLA_LINKINFO);
	if (!info || nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0)
		return -EMSGSIZE;
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	if (!data)
		return -EMSGSIZE;
	/* The kernel applies forward_delay before stp_state, so their order here does not matter. */
	if (o && o->forward_delay != KAVM_RTNL_KEEP &&
	    nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, o->forward_delay) < 0)
		return -EMSGSIZE;
	if (o && o->stp != KAVM_RTNL_KEEP && nla_put_u32(msg, IFLA_BR_STP_STATE, o->stp) < 0)
		return -EMSGSIZE;
	if (o && o->vlan_filtering != KAVM_RTNL_KEEP &&
	    nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, o->vlan_filtering) < 0)
		return -EMSGSIZE;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return 0;
}

static int bridge_msg(struct kavm_rtnl *r, int flags, int index, const char *name,
		      const struct kavm_bridge_opts *o)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	struct nl_msg *msg;
	int ret;

	msg = nlmsg_alloc_simple(RTM_NEWLINK, flags);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0) || put_bridge_opts(msg, o)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = request(r, msg);
	if (ret == -EOPNOTSUPP && !r->ack.msg[0] && o && o->vlan_filtering == 1)
		seterr(r, ret,
		       "this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
	return ret;
}

int kavm_rtnl_bridge_add(struct kavm_rtnl *r, const char *name, const struct kavm_bridge_opts *o)
{
	int ret = check_name(r, name);

	if (ret)
		return ret;
	ret = bridge_msg(r, NLM_F_CREATE | NLM_F_EXCL, 0, name, o);
	if (ret == -EEXIST && !r->ack.msg[0])
		seterr(r, ret, "a device named %s already exists", name);
	return ret;
}

static int get_bridge(struct kavm_rtnl *r, const char *name, struct kavm_link_info *li)
{
	int ret = kavm_rtnl_link_get(r, name, li);

	if (ret)
		return ret;
	if (strcmp(li->kind, "bridge"))
		return seterr(r, -EMEDIUMTYPE, "%s is not a bridge", name);
	return 0;
}

int kavm_rtnl_bridge_set(struct kavm_rtnl *r, const char *name, const struct kavm_bridge_opts *o)
{
	struct kavm_link_info li;
	int ret = get_bridge(r, name, &li);

	return ret ?: bridge_msg(r, 0, li.ifindex, NULL, o);
}

int kavm_rtnl_bridge_del(struct kavm_rtnl *r, const char *name)
{
	struct kavm_link_info li;
	int ret = get_bridge(r, name, &li);

	return ret ?: del_index(r, li.ifindex);
}

int kavm_rtnl_bridge_del_if_empty(struct kavm_rtnl *r, const char *name)
{
	struct kavm_link_info br, *v;
	int i, n, ret, ports = 0;

	ret = get_bridge(r, name, &br);
	if (ret)
		return ret;
	n = kavm_rtnl_link_dump(r, &v);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		ports += v[i].master == br.ifindex;
	free(v);
	if (ports)
		return seterr(r, -ENOTEMPTY, "%s still has %d port%s", name, ports,
			      ports == 1 ? "" : "s");
	return del_index(r, br.ifindex);
}

/* ---- VXLAN devices */

static int set_vxlan_addr(struct rtnl_link *l, const struct kavm_vxlan_opts *o,
			  int (*set)(struct rtnl_link *, struct nl_addr *), const uint8_t *bytes)
{
	struct nl_addr *a;
	int ret;

	a = nl_addr_build(o->family, bytes, o->family == AF_INET6 ? 16 : 4);
	if (!a)
		return -ENOMEM;
	ret = set(l, a);
	nl_addr_put(a);
	return ret < 0 ? -EINVAL : 0;
}

static int vxlan_build(struct kavm_rtnl *r, const char *name, const struct kavm_vxlan_opts *o,
		       struct rtnl_link *l)
{
	struct kavm_link_info dev;
	int ret;

	if (o->id > KAVM_VXLAN_VNI_MAX)
		return seterr(r, -EINVAL, "VNI %u is above %u", o->id, KAVM_VXLAN_VNI_MAX);
	if (o->family != AF_INET && o->family != AF_INET6)
		return seterr(r, -EAFNOSUPPORT, "no remote or group address");
	if (o->group && !o->dev)
		return seterr(r, -EINVAL, "a multicast group needs an underlay device");
	rtnl_link_set_name(l, name);
	if (rtnl_link_vxlan_set_id(l, o->id) < 0 ||
	    rtnl_link_vxlan_set_port(l, o->dstport ? o->dstport : KAVM_VXLAN_PORT) < 0)
		return -EINVAL;
	ret = set_vxlan_addr(l, o, rtnl_link_vxlan_set_group, o->remote);
	if (!ret && o->has_local)
		ret = set_vxlan_addr(l, o, rtnl_link_vxlan_set_local, o->local);
	if (ret)
		return ret;
	if (o->dev) {
		ret = kavm_rtnl_link_get(r, o->dev, &dev);
		if (ret)
			return ret;
		if (rtnl_link_vxlan_set_link(l, (uint32_t)dev.ifindex) < 0)
			return -EINVAL;
	}
	return 0;
}

int kavm_rtnl_vxlan_add(struct kavm_rtnl *r, const char *name, const struct kavm_vxlan_opts *o)
{
	struct nl_msg *msg = NULL;
	struct rtnl_link *l;
	int ret;

	nl_ack_reset(&r->ack);
	ret = check_name(r, name);
	if (ret)
		return ret;
	l = rtnl_link_vxlan_alloc();
	if (!l)
		return -ENOMEM;
	ret = vxlan_build(r, name, o, l);
	if (!ret && rtnl_link_build_add_request(l, NLM_F_CREATE | NLM_F_EXCL, &msg) < 0)
		ret = -ENOMEM;
	rtnl_link_put(l);
	if (ret)
		return ret;
	ret = request(r, msg);
	if (ret == -EEXIST && !r->ack.msg[0])
		seterr(r, ret, "a device named %s already exists", name);
	return ret;
}

int kavm_rtnl_vxlan_del(struct kavm_rtnl *r, const char *name)
{
	struct kavm_link_info li;
	int ret = kavm_rtnl_link_get(r, name, &li);

	if (ret)
		return ret;
	if (strcmp(li.kind, "vxlan"))
		return seterr(r, -EMEDIUMTYPE, "%s is not a vxlan device", name);
	return del_index(r, li.ifindex);
}

/* ---- formatting */

const char *kavm_rtnl_operstate_str(uint8_t operstate)
{
	static const char *const names[] = { "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
					     "TESTING", "DORMANT",    "UP" };

	return operstate < ARRAY_SIZE(names) ? names[operstate] : "UNKNOWN";
}

char *kavm_rtnl_format_addr(const uint8_t *addr, unsigned int len, char *buf, size_t size)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < len && off + 3 < size; i++)
		off += snprintf(buf + off, size - off, "%s%02x", i ? ":" : "", addr[i]);
	return buf;
}

int kavm_rtnl_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}
