// SPDX-License-Identifier: GPL-2.0
/*
 * kavm_switch control: the generic netlink family "kavm".
 *
 * Strict per-operation policies (resv_start_op 0: unknown attributes and
 * reserved header bits are refused), CAP_NET_ADMIN in the
 * namespace's user namespace for every change, one message per error
 * naming the object, and every change announced on the "events" group.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "kavm_switch.h"

/*
 * Linux 6.1 has no NL_SET_ERR_MSG_FMT: an extack keeps a pointer to its
 * text, read when the ack is built after the op has returned. Formatted
 * messages go to a ring of static buffers, so the pointer always stays
 * valid; a slot is rewritten only after KAVM_ERRMSG_SLOTS later messages,
 * and the last byte of each stays NUL, so even a reader racing that many
 * failing requests sees a bounded string.
 */
#define KAVM_ERRMSG_SLOTS 32
#define KAVM_ERRMSG_LEN 128

static char kavm_errmsg_buf[KAVM_ERRMSG_SLOTS][KAVM_ERRMSG_LEN];
static atomic_t kavm_errmsg_next = ATOMIC_INIT(0);
/* Off before the family goes: its group number may then be someone else's. */
static bool kavm_notify_on;

struct kavm_dump_ctx {
	unsigned int bucket;
	unsigned int idx;
};

static struct genl_family kavm_family;

void kavm_errmsg(struct netlink_ext_ack *extack, const char *fmt, ...)
{
	unsigned int slot;
	va_list ap;
	char *buf;

	if (!extack)
		return;
	slot = (unsigned int)atomic_inc_return(&kavm_errmsg_next) % KAVM_ERRMSG_SLOTS;
	buf = kavm_errmsg_buf[slot];
	va_start(ap, fmt);
	vsnprintf(buf, KAVM_ERRMSG_LEN - 1, fmt, ap);
	va_end(ap);
	do_trace_netlink_extack(buf);
	extack->_msg = buf;
}

static int kavm_put_stats(struct sk_buff *skb, int attr, const u64 c[KAVM_NR_STATS])
{
	struct nlattr *nest = nla_nest_start(skb, attr);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 1; i <= KAVM_STATS_MAX; i++) {
		if (i == KAVM_STATS_PAD)
			continue;
		if (nla_put_u64_64bit(skb, i, c[i], KAVM_STATS_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* RTNL held (the ports' list is summed). */
static int kavm_fill_switch(struct sk_buff *skb, const struct kavm_switch *sw, u32 portid,
			    u32 seq, int flags, u8 cmd, struct netlink_callback *cb)
{
	u64 c[KAVM_NR_STATS];
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &kavm_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	kavm_switch_stats(sw, c);
	if (nla_put_string(skb, KAVM_A_SWITCH_NAME, sw->name) ||
	    nla_put_u32(skb, KAVM_A_SWITCH_AGEING_MS, sw->ageing_ms) ||
	    nla_put_u32(skb, KAVM_A_SWITCH_FDB_MAX, READ_ONCE(sw->fdb_max)) ||
	    nla_put_u32(skb, KAVM_A_SWITCH_NPORTS, sw->nports) ||
	    nla_put_u32(skb, KAVM_A_SWITCH_NFDB, READ_ONCE(sw->fdb_count)) ||
	    kavm_put_stats(skb, KAVM_A_SWITCH_STATS, c))
		goto err_cancel;
	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int kavm_fill_port(struct sk_buff *skb, const struct kavm_port *port, u32 portid,
			  u32 seq, int flags, u8 cmd, struct netlink_callback *cb)
{
	u64 c[KAVM_NR_STATS];
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &kavm_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	kavm_port_stats(port, c);
	if (nla_put_string(skb, KAVM_A_SWITCH_NAME, port->sw->name) ||
	    nla_put_u32(skb, KAVM_A_PORT_IFINDEX, port->dev->ifindex) ||
	    nla_put_string(skb, KAVM_A_PORT_IFNAME, port->dev->name) ||
	    nla_put_u32(skb, KAVM_A_PORT_FLAGS, port->flags) ||
	    (port->has_mac && nla_put(skb, KAVM_A_PORT_MAC, ETH_ALEN, port->mac)) ||
	    kavm_put_stats(skb, KAVM_A_PORT_STATS, c))
		goto err_cancel;
	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Under RCU or fdb_lock: the entry and its port stay while we read them. */
static int kavm_fill_fdb(struct sk_buff *skb, const struct kavm_switch *sw,
			 const struct kavm_fdb *f, u32 portid, u32 seq, int flags, u8 cmd,
			 struct netlink_callback *cb)
{
	const struct kavm_port *port = READ_ONCE(f->port);
	u8 fl = READ_ONCE(f->flags);
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &kavm_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (nla_put_string(skb, KAVM_A_SWITCH_NAME, sw->name) ||
	    nla_put(skb, KAVM_A_FDB_MAC, ETH_ALEN, f->mac) ||
	    nla_put_u32(skb, KAVM_A_PORT_IFINDEX, port->dev->ifindex) ||
	    nla_put_string(skb, KAVM_A_PORT_IFNAME, port->dev->name) ||
	    nla_put_u32(skb, KAVM_A_FDB_FLAGS, fl) ||
	    (!(fl & KAVM_FDB_F_STATIC) &&
	     nla_put_u32(skb, KAVM_A_FDB_AGE_MS,
			 jiffies_to_msecs(jiffies - READ_ONCE(f->updated)))))
		goto err_cancel;
	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static bool kavm_has_listeners(struct net *net)
{
	return READ_ONCE(kavm_notify_on) && genl_has_listeners(&kavm_family, net, 0);
}

/* Built beforehand, sent under RCU so that module exit can wait for us. */
static void kavm_notify_send(struct net *net, struct sk_buff *msg)
{
	rcu_read_lock();
	if (READ_ONCE(kavm_notify_on))
		genlmsg_multicast_netns(&kavm_family, net, msg, 0, 0, GFP_ATOMIC);
	else
		nlmsg_free(msg);
	rcu_read_unlock();
}

void kavm_notify_switch(const struct kavm_switch *sw, u8 cmd)
{
	struct sk_buff *msg;

	if (!kavm_has_listeners(sw->net))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (kavm_fill_switch(msg, sw, 0, 0, 0, cmd, NULL)) {
		nlmsg_free(msg);
		return;
	}
	kavm_notify_send(sw->net, msg);
}

void kavm_notify_port(const struct kavm_port *port, u8 cmd)
{
	struct sk_buff *msg;

	if (!kavm_has_listeners(port->sw->net))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (kavm_fill_port(msg, port, 0, 0, 0, cmd, NULL)) {
		nlmsg_free(msg);
		return;
	}
	kavm_notify_send(port->sw->net, msg);
}

void kavm_notify_fdb(const struct kavm_switch *sw, const struct kavm_fdb *f, u8 cmd, gfp_t gfp)
{
	struct sk_buff *msg;

	if (!kavm_has_listeners(sw->net))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, gfp);
	if (!msg)
		return;
	if (kavm_fill_fdb(msg, sw, f, 0, 0, 0, cmd, NULL)) {
		nlmsg_free(msg);
		return;
	}
	kavm_notify_send(sw->net, msg);
}

/* The switch a request names; RTNL held. */
static struct kavm_switch *kavm_nl_switch(struct net *net, struct nlattr **attrs,
					  struct netlink_ext_ack *extack)
{
	struct nlattr *a = attrs[KAVM_A_SWITCH_NAME];
	struct kavm_switch *sw;

	if (!a) {
		NL_SET_ERR_MSG(extack, "the switch's name is missing");
		NL_SET_ERR_ATTR_MISS(extack, NULL, KAVM_A_SWITCH_NAME);
		return ERR_PTR(-EINVAL);
	}
	sw = kavm_switch_find(net, nla_data(a));
	if (!sw) {
		kavm_errmsg(extack, "no switch %s in this network namespace", (char *)nla_data(a));
		NL_SET_BAD_ATTR(extack, a);
		return ERR_PTR(-ENOENT);
	}
	return sw;
}

/* The device a request names, by ifindex or name; RTNL held. */
static struct net_device *kavm_nl_dev(struct net *net, struct nlattr **attrs,
				      struct netlink_ext_ack *extack, struct nlattr **which)
{
	struct net_device *dev;
	struct nlattr *a;

	a = attrs[KAVM_A_PORT_IFINDEX];
	if (a) {
		dev = __dev_get_by_index(net, nla_get_u32(a));
		if (!dev)
			kavm_errmsg(extack, "no device with ifindex %u", nla_get_u32(a));
	} else if (attrs[KAVM_A_PORT_IFNAME]) {
		a = attrs[KAVM_A_PORT_IFNAME];
		dev = __dev_get_by_name(net, nla_data(a));
		if (!dev)
			kavm_errmsg(extack, "no device %s", (char *)nla_data(a));
	} else {
		NL_SET_ERR_MSG(extack, "a device is needed: its ifindex or name");
		NL_SET_ERR_ATTR_MISS(extack, NULL, KAVM_A_PORT_IFINDEX);
		return ERR_PTR(-EINVAL);
	}
	*which = a;
	if (!dev) {
		NL_SET_BAD_ATTR(extack, a);
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

/* The port of SW a request names; RTNL held. */
static struct kavm_port *kavm_nl_port(struct kavm_switch *sw, struct genl_info *info)
{
	struct net_device *dev;
	struct kavm_port *port;
	struct nlattr *a;

	dev = kavm_nl_dev(genl_info_net(info), info->attrs, info->extack, &a);
	if (IS_ERR(dev))
		return ERR_CAST(dev);
	port = kavm_port_find(sw, dev);
	if (!port) {
		kavm_errmsg(info->extack, "%s is not a port of switch %s", dev->name, sw->name);
		NL_SET_BAD_ATTR(info->extack, a);
		return ERR_PTR(-ENOENT);
	}
	return port;
}

static void kavm_nl_nomem(struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack, "out of memory");
}

static int kavm_nl_switch_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *name = info->attrs[KAVM_A_SWITCH_NAME];
	u32 ageing = KAVM_SWITCH_AGEING_MS_DEFAULT;
	u32 fdb_max = KAVM_SWITCH_FDB_MAX_DEFAULT;
	struct net *net = genl_info_net(info);
	struct kavm_switch *sw;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KAVM_A_SWITCH_NAME)) {
		NL_SET_ERR_MSG(info->extack, "the switch's name is missing");
		return -EINVAL;
	}
	if (kavm_switch_check_name(nla_data(name))) {
		NL_SET_ERR_MSG_ATTR(info->extack, name,
				    "bad switch name: letters, digits, '-', '_' and '.' only");
		return -EINVAL;
	}
	if (info->attrs[KAVM_A_SWITCH_AGEING_MS])
		ageing = nla_get_u32(info->attrs[KAVM_A_SWITCH_AGEING_MS]);
	if (info->attrs[KAVM_A_SWITCH_FDB_MAX])
		fdb_max = nla_get_u32(info->attrs[KAVM_A_SWITCH_FDB_MAX]);
	rtnl_lock();
	if (kavm_switch_find(net, nla_data(name))) {
		kavm_errmsg(info->extack, "switch %s exists already", (char *)nla_data(name));
		NL_SET_BAD_ATTR(info->extack, name);
		ret = -EEXIST;
	} else {
		ret = kavm_switch_new(net, nla_data(name), ageing, fdb_max, &sw);
		if (ret)
			kavm_nl_nomem(info->extack);
	}
	rtnl_unlock();
	return ret;
}

static int kavm_nl_switch_del(struct sk_buff *skb, struct genl_info *info)
{
	struct kavm_switch *sw;

	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	if (!IS_ERR(sw))
		kavm_switch_del(sw);
	rtnl_unlock();
	return PTR_ERR_OR_ZERO(sw);
}

static int kavm_nl_switch_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *ageing = info->attrs[KAVM_A_SWITCH_AGEING_MS];
	struct nlattr *fdb_max = info->attrs[KAVM_A_SWITCH_FDB_MAX];
	struct kavm_switch *sw;

	if (!ageing && !fdb_max) {
		NL_SET_ERR_MSG(info->extack, "nothing to change: give an ageing time or fdb size");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, KAVM_A_SWITCH_AGEING_MS);
		return -EINVAL;
	}
	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	if (IS_ERR(sw))
		goto out;
	if (ageing)
		kavm_switch_set_ageing(sw, nla_get_u32(ageing));
	/* A smaller table stops learning; entries beyond it age out. */
	if (fdb_max)
		WRITE_ONCE(sw->fdb_max, nla_get_u32(fdb_max));
	kavm_net(sw->net)->genid++;
	kavm_notify_switch(sw, KAVM_CMD_SWITCH_CHANGE_NTF);
out:
	rtnl_unlock();
	return PTR_ERR_OR_ZERO(sw);
}

static int kavm_nl_switch_get(struct sk_buff *skb, struct genl_info *info)
{
	struct kavm_switch *sw;
	struct sk_buff *msg;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		kavm_nl_nomem(info->extack);
		return -ENOMEM;
	}
	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	ret = PTR_ERR_OR_ZERO(sw);
	if (!ret)
		ret = kavm_fill_switch(msg, sw, info->snd_portid, info->snd_seq, 0,
				       KAVM_CMD_SWITCH_GET, NULL);
	rtnl_unlock();
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* An end of a dump pass: more to come while the skb holds something. */
static int kavm_dump_ret(struct sk_buff *skb, int ret)
{
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ?: skb->len;
}

static int kavm_nl_switch_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kavm_dump_ctx *ctx = (struct kavm_dump_ctx *)cb->ctx;
	struct kavm_net *kn = kavm_net(sock_net(skb->sk));
	struct kavm_switch *sw;
	unsigned int i = 0;
	int ret = 0;

	rtnl_lock();
	cb->seq = kn->genid;
	list_for_each_entry(sw, &kn->switches, list) {
		if (i++ < ctx->idx)
			continue;
		ret = kavm_fill_switch(skb, sw, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				       NLM_F_MULTI, KAVM_CMD_SWITCH_GET, cb);
		if (ret)
			break;
		ctx->idx++;
	}
	rtnl_unlock();
	return kavm_dump_ret(skb, ret);
}

static int kavm_nl_port_add(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *flags_a = info->attrs[KAVM_A_PORT_FLAGS];
	struct nlattr *mac_a = info->attrs[KAVM_A_PORT_MAC];
	u32 flags = flags_a ? nla_get_u32(flags_a) : 0;
	const u8 *mac = mac_a ? nla_data(mac_a) : NULL;
	struct kavm_switch *sw;
	struct net_device *dev;
	struct nlattr *dev_a;
	int ret;

	if ((flags & KAVM_PORT_F_NO_SPOOF) && !mac) {
		NL_SET_ERR_MSG_ATTR(info->extack, flags_a,
				    "no-spoof needs the port's MAC (the VM's address)");
		return -EINVAL;
	}
	if (mac && !is_valid_ether_addr(mac)) {
		NL_SET_ERR_MSG_ATTR(info->extack, mac_a, "the port's MAC must be a unicast address");
		return -EINVAL;
	}
	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	ret = PTR_ERR_OR_ZERO(sw);
	if (ret)
		goto out;
	dev = kavm_nl_dev(genl_info_net(info), info->attrs, info->extack, &dev_a);
	ret = PTR_ERR_OR_ZERO(dev);
	if (ret)
		goto out;
	ret = kavm_port_add(sw, dev, flags, mac, info->extack);
	if (ret == -ENOMEM)
		kavm_nl_nomem(info->extack);
	if (ret && info->extack && !info->extack->bad_attr)
		NL_SET_BAD_ATTR(info->extack, dev_a);
out:
	rtnl_unlock();
	return ret;
}

static int kavm_nl_port_del(struct sk_buff *skb, struct genl_info *info)
{
	struct kavm_switch *sw;
	struct kavm_port *port;
	int ret;

	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	ret = PTR_ERR_OR_ZERO(sw);
	if (ret)
		goto out;
	port = kavm_nl_port(sw, info);
	ret = PTR_ERR_OR_ZERO(port);
	if (!ret)
		kavm_port_del(port);
out:
	rtnl_unlock();
	return ret;
}

static int kavm_nl_port_get(struct sk_buff *skb, struct genl_info *info)
{
	struct kavm_switch *sw;
	struct kavm_port *port;
	struct sk_buff *msg;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		kavm_nl_nomem(info->extack);
		return -ENOMEM;
	}
	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	ret = PTR_ERR_OR_ZERO(sw);
	if (ret)
		goto out;
	port = kavm_nl_port(sw, info);
	ret = PTR_ERR_OR_ZERO(port);
	if (!ret)
		ret = kavm_fill_port(msg, port, info->snd_portid, info->snd_seq, 0,
				     KAVM_CMD_PORT_GET, NULL);
out:
	rtnl_unlock();
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int kavm_nl_port_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kavm_dump_ctx *ctx = (struct kavm_dump_ctx *)cb->ctx;
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct net *net = sock_net(skb->sk);
	struct kavm_switch *sw;
	struct kavm_port *port;
	unsigned int i = 0;
	int ret = 0;

	rtnl_lock();
	sw = kavm_nl_switch(net, info->attrs, cb->extack);
	if (IS_ERR(sw)) {
		ret = PTR_ERR(sw);
		goto out;
	}
	cb->seq = kavm_net(net)->genid;
	list_for_each_entry(port, &sw->ports, list) {
		if (i++ < ctx->idx)
			continue;
		ret = kavm_fill_port(skb, port, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				     NLM_F_MULTI, KAVM_CMD_PORT_GET, cb);
		if (ret)
			break;
		ctx->idx++;
	}
out:
	rtnl_unlock();
	return kavm_dump_ret(skb, ret);
}

static int kavm_nl_fdb_mac(struct genl_info *info, const u8 **mac)
{
	struct nlattr *a = info->attrs[KAVM_A_FDB_MAC];

	if (!a) {
		NL_SET_ERR_MSG(info->extack, "the entry's MAC is missing");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, KAVM_A_FDB_MAC);
		return -EINVAL;
	}
	*mac = nla_data(a);
	return 0;
}

static int kavm_nl_fdb_add(struct sk_buff *skb, struct genl_info *info)
{
	struct kavm_switch *sw;
	struct kavm_port *port;
	const u8 *mac;
	int ret;

	ret = kavm_nl_fdb_mac(info, &mac);
	if (ret)
		return ret;
	if (!is_valid_ether_addr(mac)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KAVM_A_FDB_MAC],
				    "a static entry's MAC must be a unicast address");
		return -EINVAL;
	}
	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	ret = PTR_ERR_OR_ZERO(sw);
	if (ret)
		goto out;
	port = kavm_nl_port(sw, info);
	ret = PTR_ERR_OR_ZERO(port);
	if (ret)
		goto out;
	ret = kavm_fdb_add_static(sw, port, mac, 0, info->extack);
	if (ret == -ENOMEM)
		kavm_nl_nomem(info->extack);
	if (ret)
		NL_SET_BAD_ATTR(info->extack, info->attrs[KAVM_A_FDB_MAC]);
out:
	rtnl_unlock();
	return ret;
}

static int kavm_nl_fdb_del(struct sk_buff *skb, struct genl_info *info)
{
	struct kavm_switch *sw;
	const u8 *mac;
	int ret;

	ret = kavm_nl_fdb_mac(info, &mac);
	if (ret)
		return ret;
	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	ret = PTR_ERR_OR_ZERO(sw);
	if (!ret)
		ret = kavm_fdb_del(sw, mac, info->extack);
	if (ret && !IS_ERR(sw))
		NL_SET_BAD_ATTR(info->extack, info->attrs[KAVM_A_FDB_MAC]);
	rtnl_unlock();
	return ret;
}

static int kavm_nl_fdb_get(struct sk_buff *skb, struct genl_info *info)
{
	struct kavm_switch *sw;
	struct sk_buff *msg;
	struct kavm_fdb *f;
	const u8 *mac;
	int ret;

	ret = kavm_nl_fdb_mac(info, &mac);
	if (ret)
		return ret;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		kavm_nl_nomem(info->extack);
		return -ENOMEM;
	}
	rtnl_lock();
	sw = kavm_nl_switch(genl_info_net(info), info->attrs, info->extack);
	ret = PTR_ERR_OR_ZERO(sw);
	if (ret)
		goto out;
	rcu_read_lock();
	f = kavm_fdb_find_rcu(sw, mac);
	if (!f || kavm_fdb_expired(sw, f)) {
		kavm_errmsg(info->extack, "switch %s: no fdb entry for %pM", sw->name, mac);
		NL_SET_BAD_ATTR(info->extack, info->attrs[KAVM_A_FDB_MAC]);
		ret = -ENOENT;
	} else {
		ret = kavm_fill_fdb(msg, sw, f, info->snd_portid, info->snd_seq, 0,
				    KAVM_CMD_FDB_GET, NULL);
	}
	rcu_read_unlock();
out:
	rtnl_unlock();
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* One bucket's live entries past ctx->idx; RCU held. */
static int kavm_fdb_dump_bucket(struct sk_buff *skb, struct netlink_callback *cb,
				struct kavm_switch *sw, struct kavm_dump_ctx *ctx)
{
	unsigned int i = 0;
	struct kavm_fdb *f;
	int ret;

	hlist_for_each_entry_rcu(f, &sw->fdb_hash[ctx->bucket], node) {
		if (i++ < ctx->idx || kavm_fdb_expired(sw, f))
			continue;
		ret = kavm_fill_fdb(skb, sw, f, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				    NLM_F_MULTI, KAVM_CMD_FDB_GET, cb);
		if (ret)
			return ret;
		ctx->idx = i;
	}
	return 0;
}

static int kavm_nl_fdb_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kavm_dump_ctx *ctx = (struct kavm_dump_ctx *)cb->ctx;
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct kavm_switch *sw;
	int ret = 0;

	rtnl_lock();
	sw = kavm_nl_switch(sock_net(skb->sk), info->attrs, cb->extack);
	if (IS_ERR(sw)) {
		ret = PTR_ERR(sw);
		goto out;
	}
	cb->seq = READ_ONCE(sw->fdb_seq);
	rcu_read_lock();
	for (; ctx->bucket < (1U << KAVM_FDB_HASH_BITS); ctx->bucket++, ctx->idx = 0) {
		ret = kavm_fdb_dump_bucket(skb, cb, sw, ctx);
		if (ret)
			break;
	}
	rcu_read_unlock();
out:
	rtnl_unlock();
	return kavm_dump_ret(skb, ret);
}

static struct netlink_range_validation kavm_ageing_range = {
	.min = KAVM_SWITCH_AGEING_MS_MIN,
	.max = KAVM_SWITCH_AGEING_MS_MAX,
};

static struct netlink_range_validation kavm_fdb_max_range = {
	.min = 1,
	.max = KAVM_SWITCH_FDB_MAX_LIMIT,
};

#define KAVM_POLICY_NAME \
	[KAVM_A_SWITCH_NAME] = { .type = NLA_NUL_STRING, .len = KAVM_SWITCH_NAME_MAX }
#define KAVM_POLICY_DEV \
	[KAVM_A_PORT_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1), \
	[KAVM_A_PORT_IFNAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 }

static const struct nla_policy kavm_switch_policy[KAVM_A_MAX + 1] = {
	KAVM_POLICY_NAME,
};

static const struct nla_policy kavm_switch_set_policy[KAVM_A_MAX + 1] = {
	KAVM_POLICY_NAME,
	[KAVM_A_SWITCH_AGEING_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &kavm_ageing_range),
	[KAVM_A_SWITCH_FDB_MAX] = NLA_POLICY_FULL_RANGE(NLA_U32, &kavm_fdb_max_range),
};

static const struct nla_policy kavm_port_policy[KAVM_A_MAX + 1] = {
	KAVM_POLICY_NAME,
	KAVM_POLICY_DEV,
};

static const struct nla_policy kavm_port_add_policy[KAVM_A_MAX + 1] = {
	KAVM_POLICY_NAME,
	KAVM_POLICY_DEV,
	[KAVM_A_PORT_FLAGS] = NLA_POLICY_MASK(NLA_U32, KAVM_PORT_F_ALL),
	[KAVM_A_PORT_MAC] = NLA_POLICY_ETH_ADDR,
};

static const struct nla_policy kavm_fdb_policy[KAVM_A_MAX + 1] = {
	KAVM_POLICY_NAME,
	[KAVM_A_FDB_MAC] = NLA_POLICY_ETH_ADDR,
};

static const struct nla_policy kavm_fdb_add_policy[KAVM_A_MAX + 1] = {
	KAVM_POLICY_NAME,
	KAVM_POLICY_DEV,
	[KAVM_A_FDB_MAC] = NLA_POLICY_ETH_ADDR,
};

static const struct genl_ops kavm_ops[] = {
	{
		.cmd = KAVM_CMD_SWITCH_NEW,
		.doit = kavm_nl_switch_new,
		.policy = kavm_switch_set_policy,
		.maxattr = KAVM_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KAVM_CMD_SWITCH_DEL,
		.doit = kavm_nl_switch_del,
		.policy = kavm_switch_policy,
		.maxattr = KAVM_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KAVM_CMD_SWITCH_GET,
		.doit = kavm_nl_switch_get,
		.dumpit = kavm_nl_switch_dump,
		.policy = kavm_switch_policy,
		.maxattr = KAVM_A_MAX,
	},
	{
		.cmd = KAVM_CMD_SWITCH_SET,
		.doit = kavm_nl_switch_set,
		.policy = kavm_switch_set_policy,
		.maxattr = KAVM_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KAVM_CMD_PORT_ADD,
		.doit = kavm_nl_port_add,
		.policy = kavm_port_add_policy,
		.maxattr = KAVM_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KAVM_CMD_PORT_DEL,
		.doit = kavm_nl_port_del,
		.policy = kavm_port_policy,
		.maxattr = KAVM_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KAVM_CMD_PORT_GET,
		.doit = kavm_nl_port_get,
		.dumpit = kavm_nl_port_dump,
		.policy = kavm_port_policy,
		.maxattr = KAVM_A_MAX,
	},
	{
		.cmd = KAVM_CMD_FDB_ADD,
		.doit = kavm_nl_fdb_add,
		.policy = kavm_fdb_add_policy,
		.maxattr = KAVM_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KAVM_CMD_FDB_DEL,
		.doit = kavm_nl_fdb_del,
		.policy = kavm_fdb_policy,
		.maxattr = KAVM_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KAVM_CMD_FDB_GET,
		.doit = kavm_nl_fdb_get,
		.dumpit = kavm_nl_fdb_dump,
		.policy = kavm_fdb_policy,
		.maxattr = KAVM_A_MAX,
	},
};

static const struct genl_multicast_group kavm_mcgrps[] = {
	{ .name = KAVM_GENL_MCGRP_EVENTS },
};

static struct genl_family kavm_family __ro_after_init = {
	.name = KAVM_GENL_NAME,
	.version = KAVM_GENL_VERSION,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = kavm_ops,
	.n_ops = ARRAY_SIZE(kavm_ops),
	/*
	 * 0: every op is "new": reserved header fields must be 0, attributes
	 * are parsed strictly, and an op without a policy takes none.
	 */
	.resv_start_op = 0,
	.mcgrps = kavm_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kavm_mcgrps),
};

int kavm_genl_register(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct kavm_dump_ctx) > sizeof_field(struct netlink_callback, ctx));
	ret = genl_register_family(&kavm_family);
	if (!ret)
		WRITE_ONCE(kavm_notify_on, true);
	return ret;
}

void kavm_genl_unregister(void)
{
	WRITE_ONCE(kavm_notify_on, false);
	/* A notification past its check sends under RCU: let it finish. */
	synchronize_rcu();
	genl_unregister_family(&kavm_family);
}
