// SPDX-License-Identifier: GPL-2.0
/* kavm: the "kavm" generic netlink family of kavm_switch.ko, over libnl-genl-3. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <kavm/compiler.h>
#include <kavm/nl-ack.h>
#include <kavm/kswitch.h>

/* A dump the kernel keeps marking interrupted is given up after this many tries. */
#define KSWITCH_DUMP_TRIES 8

struct kswitch {
	struct nl_sock *sk;
	int family;
	struct nl_ack ack; /* the last NLMSG_ERROR, or the library's own reason */
};

/* Replies of one request, parsed into a growing array of SIZE-byte items. */
struct reply_ctx {
	void *items;
	size_t n, cap, size;
	enum kswitch_reply kind;
	int err;
};

const char *kswitch_errmsg(const struct kswitch *k)
{
	return k->ack.msg;
}

int kswitch_open(struct kswitch **out)
{
	struct kswitch *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->sk = nl_socket_alloc();
	if (!k->sk) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (genl_connect(k->sk) < 0) {
		ret = -EPROTONOSUPPORT;
		goto err_free_sock;
	}
	k->family = genl_ctrl_resolve(k->sk, KAVM_GENL_NAME);
	if (k->family < 0) {
		ret = -ENOENT;
		goto err_free_sock;
	}
	nl_ack_setup(k->sk, &k->ack);
	*out = k;
	return 0;

err_free_sock:
	nl_socket_free(k->sk);
err_free:
	free(k);
	return ret;
}

void kswitch_close(struct kswitch *k)
{
	if (!k)
		return;
	nl_socket_free(k->sk);
	free(k);
}

static int nlerr(struct kswitch *k, int ret)
{
	if (k->ack.err)
		return k->ack.err;
	switch (-ret) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_DUMP_INTR:
		return -EAGAIN;
	default:
		snprintf(k->ack.msg, sizeof(k->ack.msg), "netlink: %s", nl_geterror(ret));
		return -EIO;
	}
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct reply_ctx *ctx = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	void *item;

	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap * 2 : 16;

		item = realloc(ctx->items, cap * ctx->size);
		if (!item) {
			ctx->err = -ENOMEM;
			return NL_SKIP;
		}
		ctx->items = item;
		ctx->cap = cap;
	}
	item = (char *)ctx->items + ctx->n * ctx->size;
	if (kswitch_parse_reply(nlh, nlh->nlmsg_len, ctx->kind, item) < 0) {
		ctx->err = -EPROTO;
		return NL_SKIP;
	}
	ctx->n++;
	return NL_OK;
}

static struct nl_msg *request_new(struct kswitch *k, uint8_t cmd, int flags, const char *name)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, k->family, 0, flags, cmd,
			 KAVM_GENL_VERSION) ||
	    (name && nla_put_string(msg, KAVM_A_SWITCH_NAME, name) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Send MSG (consumed) and read until its ack, error, reply or dump's end. */
static int request_send(struct kswitch *k, struct nl_msg *msg, struct reply_ctx *ctx)
{
	int ret;

	nl_ack_reset(&k->ack);
	nl_socket_modify_cb(k->sk, NL_CB_VALID, NL_CB_CUSTOM, ctx ? valid_cb : NULL, ctx);
	ret = nl_send_auto(k->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return nlerr(k, ret);
	ret = nl_recvmsgs_default(k->sk);
	if (ret < 0)
		return nlerr(k, ret);
	return ctx ? ctx->err : 0;
}

/* A change: acked, nothing to read back. */
static int request_ack(struct kswitch *k, struct nl_msg *msg)
{
	if (!msg)
		return -ENOMEM;
	return request_send(k, msg, NULL);
}

static int put_dev(struct kswitch *k, struct nl_msg *msg, const char *dev)
{
	char *end;
	unsigned long idx = strtoul(dev, &end, 10);

	if (*dev && !*end)
		return nla_put_u32(msg, KAVM_A_PORT_IFINDEX, idx) < 0 ? -ENOMEM : 0;
	if (strlen(dev) >= IF_NAMESIZE) {
		snprintf(k->ack.msg, sizeof(k->ack.msg), "interface names are at most %d bytes",
			 IF_NAMESIZE - 1);
		return -ENAMETOOLONG;
	}
	return nla_put_string(msg, KAVM_A_PORT_IFNAME, dev) < 0 ? -ENOMEM : 0;
}

static void parse_stats(struct nlattr *nest, uint64_t *stats)
{
	struct nlattr *tb[KAVM_STATS_MAX + 1];
	int i;

	if (!nest || nla_parse_nested(tb, KAVM_STATS_MAX, nest, NULL) < 0)
		return;
	for (i = 1; i <= KAVM_STATS_MAX; i++)
		if (tb[i] && nla_len(tb[i]) == sizeof(uint64_t))
			stats[i] = nla_get_u64(tb[i]);
}

static uint32_t get_u32(struct nlattr *a)
{
	return a && nla_len(a) == sizeof(uint32_t) ? nla_get_u32(a) : 0;
}

static void get_str(struct nlattr *a, char *buf, size_t size)
{
	if (a)
		snprintf(buf, size, "%.*s", nla_len(a), (char *)nla_data(a));
}

static void parse_switch(struct nlattr **tb, void *item)
{
	struct kswitch_info *s = item;

	get_str(tb[KAVM_A_SWITCH_NAME], s->name, sizeof(s->name));
	s->ageing_ms = get_u32(tb[KAVM_A_SWITCH_AGEING_MS]);
	s->fdb_max = get_u32(tb[KAVM_A_SWITCH_FDB_MAX]);
	s->nports = get_u32(tb[KAVM_A_SWITCH_NPORTS]);
	s->nfdb = get_u32(tb[KAVM_A_SWITCH_NFDB]);
	parse_stats(tb[KAVM_A_SWITCH_STATS], s->stats);
}

static void parse_port(struct nlattr **tb, void *item)
{
	struct kswitch_port_info *p = item;

	get_str(tb[KAVM_A_PORT_IFNAME], p->ifname, sizeof(p->ifname));
	p->ifindex = get_u32(tb[KAVM_A_PORT_IFINDEX]);
	p->flags = get_u32(tb[KAVM_A_PORT_FLAGS]);
	if (tb[KAVM_A_PORT_MAC] && nla_len(tb[KAVM_A_PORT_MAC]) == 6) {
		p->has_mac = true;
		memcpy(p->mac, nla_data(tb[KAVM_A_PORT_MAC]), 6);
	}
	parse_stats(tb[KAVM_A_PORT_STATS], p->stats);
}

static void parse_fdb(struct nlattr **tb, void *item)
{
	struct kswitch_fdb_info *f = item;

	if (tb[KAVM_A_FDB_MAC] && nla_len(tb[KAVM_A_FDB_MAC]) == 6)
		memcpy(f->mac, nla_data(tb[KAVM_A_FDB_MAC]), 6);
	get_str(tb[KAVM_A_PORT_IFNAME], f->ifname, sizeof(f->ifname));
	f->ifindex = get_u32(tb[KAVM_A_PORT_IFINDEX]);
	f->flags = get_u32(tb[KAVM_A_FDB_FLAGS]);
	f->age_ms = get_u32(tb[KAVM_A_FDB_AGE_MS]);
}

int kswitch_parse_reply(const struct nlmsghdr *nlh, size_t len, enum kswitch_reply kind, void *item)
{
	static void (*const parse[])(struct nlattr **, void *) = {
		[KSWITCH_REPLY_SWITCH] = parse_switch,
		[KSWITCH_REPLY_PORT] = parse_port,
		[KSWITCH_REPLY_FDB] = parse_fdb,
	};
	static const size_t size[] = {
		[KSWITCH_REPLY_SWITCH] = sizeof(struct kswitch_info),
		[KSWITCH_REPLY_PORT] = sizeof(struct kswitch_port_info),
		[KSWITCH_REPLY_FDB] = sizeof(struct kswitch_fdb_info),
	};
	struct nlattr *tb[KAVM_A_MAX + 1];

	if ((unsigned int)kind >= ARRAY_SIZE(parse) || len < NLMSG_HDRLEN || nlh->nlmsg_len > len ||
	    genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, KAVM_A_MAX, NULL) < 0)
		return -EPROTO;
	memset(item, 0, size[kind]);
	parse[kind](tb, item);
	return 0;
}

/* A dump of CMD (of switch NAME, if given), redone while interrupted. */
static int dump(struct kswitch *k, uint8_t cmd, const char *name, size_t size,
		enum kswitch_reply kind, void **out)
{
	struct reply_ctx ctx = { .size = size, .kind = kind };
	int tries, ret = -EAGAIN;

	for (tries = 0; tries < KSWITCH_DUMP_TRIES && ret == -EAGAIN; tries++) {
		struct nl_msg *msg = request_new(k, cmd, NLM_F_DUMP, name);

		if (!msg)
			return -ENOMEM;
		ctx.n = 0;
		ctx.err = 0;
		ret = request_send(k, msg, &ctx);
	}
	if (ret) {
		free(ctx.items);
		return ret;
	}
	*out = ctx.items;
	return (int)ctx.n;
}

int kswitch_new(struct kswitch *k, const char *name, uint32_t ageing_ms, uint32_t fdb_max)
{
	struct nl_msg *msg = request_new(k, KAVM_CMD_SWITCH_NEW, NLM_F_ACK, name);

	if (msg && ((ageing_ms && nla_put_u32(msg, KAVM_A_SWITCH_AGEING_MS, ageing_ms) < 0) ||
		    (fdb_max && nla_put_u32(msg, KAVM_A_SWITCH_FDB_MAX, fdb_max) < 0))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return request_ack(k, msg);
}

int kswitch_set(struct kswitch *k, const char *name, uint32_t ageing_ms, uint32_t fdb_max)
{
	struct nl_msg *msg = request_new(k, KAVM_CMD_SWITCH_SET, NLM_F_ACK, name);

	if (msg && ((ageing_ms && nla_put_u32(msg, KAVM_A_SWITCH_AGEING_MS, ageing_ms) < 0) ||
		    (fdb_max && nla_put_u32(msg, KAVM_A_SWITCH_FDB_MAX, fdb_max) < 0))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return request_ack(k, msg);
}

int kswitch_del(struct kswitch *k, const char *name)
{
	return request_ack(k, request_new(k, KAVM_CMD_SWITCH_DEL, NLM_F_ACK, name));
}

int kswitch_get(struct kswitch *k, const char *name, struct kswitch_info *out)
{
	struct reply_ctx ctx = { .size = sizeof(*out), .kind = KSWITCH_REPLY_SWITCH };
	struct nl_msg *msg = request_new(k, KAVM_CMD_SWITCH_GET, 0, name);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = request_send(k, msg, &ctx);
	if (!ret && ctx.n != 1)
		ret = -EPROTO;
	if (!ret)
		*out = *(struct kswitch_info *)ctx.items;
	free(ctx.items);
	return ret;
}

int kswitch_list(struct kswitch *k, struct kswitch_info **out)
{
	return dump(k, KAVM_CMD_SWITCH_GET, NULL, sizeof(**out), KSWITCH_REPLY_SWITCH,
		    (void **)out);
}

int kswitch_port_add(struct kswitch *k, const char *name, const char *dev, uint32_t flags,
		     const uint8_t *mac)
{
	struct nl_msg *msg = request_new(k, KAVM_CMD_PORT_ADD, NLM_F_ACK, name);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = put_dev(k, msg, dev);
	if (!ret && ((flags && nla_put_u32(msg, KAVM_A_PORT_FLAGS, flags) < 0) ||
		     (mac && nla_put(msg, KAVM_A_PORT_MAC, 6, mac) < 0)))
		ret = -ENOMEM;
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return request_send(k, msg, NULL);
}

int kswitch_port_del(struct kswitch *k, const char *name, const char *dev)
{
	struct nl_msg *msg = request_new(k, KAVM_CMD_PORT_DEL, NLM_F_ACK, name);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = put_dev(k, msg, dev);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return request_send(k, msg, NULL);
}

int kswitch_ports(struct kswitch *k, const char *name, struct kswitch_port_info **out)
{
	return dump(k, KAVM_CMD_PORT_GET, name, sizeof(**out), KSWITCH_REPLY_PORT, (void **)out);
}

int kswitch_find(const char *name, struct kswitch **out)
{
	struct kswitch_info info;
	struct kswitch *k;
	int ret;

	/* Resolving the family would load an installed module (its alias). */
	if (access("/sys/module/kavm_switch", F_OK))
		return -ENOENT;
	ret = kswitch_open(&k);
	if (ret)
		return ret;
	ret = kswitch_get(k, name, &info);
	if (ret) {
		kswitch_close(k);
		return ret;
	}
	*out = k;
	return 0;
}

int kswitch_leave(struct kswitch *k, const char *name, uint32_t ifindex)
{
	char dev[16];
	int ret;

	snprintf(dev, sizeof(dev), "%u", ifindex);
	ret = kswitch_port_del(k, name, dev);
	kswitch_close(k);
	return ret;
}

int kswitch_fdb_add(struct kswitch *k, const char *name, const uint8_t mac[6], const char *dev)
{
	struct nl_msg *msg = request_new(k, KAVM_CMD_FDB_ADD, NLM_F_ACK, name);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = put_dev(k, msg, dev);
	if (!ret && nla_put(msg, KAVM_A_FDB_MAC, 6, mac) < 0)
		ret = -ENOMEM;
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return request_send(k, msg, NULL);
}

int kswitch_fdb_del(struct kswitch *k, const char *name, const uint8_t mac[6])
{
	struct nl_msg *msg = request_new(k, KAVM_CMD_FDB_DEL, NLM_F_ACK, name);

	if (msg && nla_put(msg, KAVM_A_FDB_MAC, 6, mac) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return request_ack(k, msg);
}

int kswitch_fdb(struct kswitch *k, const char *name, struct kswitch_fdb_info **out)
{
	return dump(k, KAVM_CMD_FDB_GET, name, sizeof(**out), KSWITCH_REPLY_FDB, (void **)out);
}

struct monitor_ctx {
	int (*fn)(const struct kswitch_event *ev, void *arg);
	void *arg;
	int ret;
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[KAVM_A_MAX + 1];
	struct monitor_ctx *ctx = arg;
	struct kswitch_event ev = { .cmd = gh->cmd };

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KAVM_A_MAX, NULL) < 0)
		return NL_SKIP;
	get_str(tb[KAVM_A_SWITCH_NAME], ev.name, sizeof(ev.name));
	get_str(tb[KAVM_A_PORT_IFNAME], ev.ifname, sizeof(ev.ifname));
	if (tb[KAVM_A_FDB_MAC] && nla_len(tb[KAVM_A_FDB_MAC]) == 6) {
		ev.has_mac = true;
		memcpy(ev.mac, nla_data(tb[KAVM_A_FDB_MAC]), 6);
	}
	ev.fdb_flags = get_u32(tb[KAVM_A_FDB_FLAGS]);
	ctx->ret = ctx->fn(&ev, ctx->arg);
	return ctx->ret ? NL_STOP : NL_OK;
}

int kswitch_monitor(struct kswitch *k, int (*fn)(const struct kswitch_event *ev, void *arg),
		    void *arg)
{
	struct monitor_ctx ctx = { .fn = fn, .arg = arg };
	int grp, ret;

	grp = genl_ctrl_resolve_grp(k->sk, KAVM_GENL_NAME, KAVM_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return -ENOENT;
	ret = nl_socket_add_membership(k->sk, grp);
	if (ret < 0)
		return nlerr(k, ret);
	/* Announcements carry sequence number 0, not ours. */
	nl_socket_disable_seq_check(k->sk);
	nl_socket_modify_cb(k->sk, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &ctx);
	while (!ctx.ret) {
		ret = nl_recvmsgs_default(k->sk);
		if (ret < 0 && ret != -NLE_INTR)
			return nlerr(k, ret);
	}
	return ctx.ret;
}

const char *kswitch_stat_name(int i)
{
	static const char *const names[KSWITCH_NR_STATS] = {
		[KAVM_STATS_RX] = "rx",
		[KAVM_STATS_RX_BYTES] = "rx_bytes",
		[KAVM_STATS_FORWARDED] = "forwarded",
		[KAVM_STATS_FLOODED] = "flooded",
		[KAVM_STATS_TO_HOST] = "to_host",
		[KAVM_STATS_TX] = "tx",
		[KAVM_STATS_TX_BYTES] = "tx_bytes",
		[KAVM_STATS_LEARNED] = "learned",
		[KAVM_STATS_DROP_SPOOF] = "drop_spoof",
		[KAVM_STATS_DROP_INVALID] = "drop_invalid",
		[KAVM_STATS_DROP_LOOP] = "drop_loop",
		[KAVM_STATS_DROP_TX] = "drop_tx",
		[KAVM_STATS_FDB_FULL] = "fdb_full",
	};

	return i > 0 && i < KSWITCH_NR_STATS ? names[i] : NULL;
}
