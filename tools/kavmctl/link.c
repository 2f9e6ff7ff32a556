// SPDX-License-Identifier: GPL-2.0
/* kavmctl link: attach to/detach from bridges, set up/down/mtu/address, show with counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/log.h>
#include <kavm/mac.h>
#include <kavm/rtnl.h>

#include "kavmctl.h"
#include "netutil.h"

static void link_usage(void)
{
	printf("kavmctl link attach DEV --bridge BRIDGE\n"
	       "kavmctl link detach DEV\n"
	       "kavmctl link set [ dev ] DEV { up | down | mtu MTU | address LLADDR |\n"
	       "                               master BRIDGE | nomaster }...\n"
	       "kavmctl [ -s ] [ -d ] [ -br ] [ -j ] link show [ [ dev ] DEV ]\n");
}

static int link_attach(struct kavm_rtnl *r, int argc, char **argv)
{
	const char *dev = NULL, *br = NULL;
	char what[64];
	int i, ret;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--bridge") || !strcmp(argv[i], "master")) {
			if (++i >= argc)
				return kavmctl_usage_err(link_usage,
							 "link attach: --bridge needs BRIDGE");
			br = argv[i];
		} else if (dev) {
			return kavmctl_usage_err(link_usage, "link attach: unexpected \"%s\"",
						 argv[i]);
		} else {
			dev = argv[i];
		}
	}
	if (!dev || !br)
		return kavmctl_usage_err(link_usage, "link attach: needs DEV and --bridge BRIDGE");
	ret = kavm_rtnl_enslave(r, dev, br);
	if (ret) {
		snprintf(what, sizeof(what), "bridge %s: attach %s", br, dev);
		kavmctl_net_err(r, ret, what);
	}
	return ret;
}

/*
 * As ip link set nomaster, and as attach to the bridge a device is on: a
 * device without master is detached already, so a script can repeat it.
 */
static int link_release(struct kavm_rtnl *r, const char *dev)
{
	int ret = kavm_rtnl_release(r, dev);

	return ret == -ENOTCONN ? 0 : ret;
}

static int link_detach(struct kavm_rtnl *r, int argc, char **argv)
{
	char what[64];
	int ret;

	if (argc != 1)
		return kavmctl_usage_err(link_usage, "link detach: expected exactly one DEV");
	ret = link_release(r, argv[0]);
	if (ret) {
		snprintf(what, sizeof(what), "link %s: detach", argv[0]);
		kavmctl_net_err(r, ret, what);
	}
	return ret;
}

enum link_op { SET_UP, SET_DOWN, SET_MTU, SET_ADDRESS, SET_MASTER, SET_NOMASTER };

/* One change "link set" makes, parsed before any is made. */
struct link_change {
	enum link_op op;
	const char *key, *arg; /* as typed, for messages */
	unsigned long mtu;
	uint8_t mac[6];
};

static const struct {
	const char *key;
	enum link_op op;
	bool arg;
} link_keys[] = {
	{ "up", SET_UP },
	{ "down", SET_DOWN },
	{ "mtu", SET_MTU, true },
	{ "address", SET_ADDRESS, true },
	{ "master", SET_MASTER, true },
	{ "nomaster", SET_NOMASTER },
};

/* The value after a key that takes one; KAVMCTL_EUSAGE if it does not parse. */
static int parse_value(struct link_change *c)
{
	if (c->op == SET_MTU && kavmctl_parse_uint(c->arg, 0, 0xffffffffUL, &c->mtu))
		return kavmctl_usage_err(link_usage, "link set: mtu \"%s\" is not a number",
					 c->arg);
	if (c->op == SET_ADDRESS && mac_parse(c->arg, c->mac))
		return kavmctl_usage_err(
			link_usage, "link set: address \"%s\" is not aa:bb:cc:dd:ee:ff", c->arg);
	return 0;
}

/* "dev DEV" or a word that is no key at argv[*i]: DEV, unless DEV was given. */
static int parse_dev(int argc, char **argv, int *i, const char **dev)
{
	bool keyword = !strcmp(argv[*i], "dev");

	if (keyword && ++*i >= argc)
		return kavmctl_usage_err(link_usage, "link set: dev needs DEV");
	if (*dev && keyword)
		return kavmctl_usage_err(link_usage, "link set: a second DEV \"%s\" after \"%s\"",
					 argv[*i], *dev);
	if (*dev)
		return kavmctl_usage_err(link_usage, "link set: unknown attribute \"%s\"",
					 argv[*i]);
	*dev = argv[*i];
	return 0;
}

/*
 * ip's grammar: "dev DEV" anywhere, else the first word that is no key is
 * DEV; keys in any number and order. *n changes into C (argc of them at most).
 */
static int parse_set(int argc, char **argv, const char **dev, struct link_change *c, int *n)
{
	size_t k;
	int i, ret;

	for (i = 0; i < argc; i++) {
		for (k = 0; k < ARRAY_SIZE(link_keys); k++)
			if (!strcmp(argv[i], link_keys[k].key))
				break;
		if (k == ARRAY_SIZE(link_keys)) {
			ret = parse_dev(argc, argv, &i, dev);
			if (ret)
				return ret;
			continue;
		}
		c[*n] = (struct link_change){ .op = link_keys[k].op, .key = argv[i] };
		if (link_keys[k].arg) {
			if (++i >= argc)
				return kavmctl_usage_err(link_usage, "link set: %s needs a value",
							 c[*n].key);
			c[*n].arg = argv[i];
			ret = parse_value(&c[*n]);
			if (ret)
				return ret;
		}
		(*n)++;
	}
	return 0;
}

static int apply_change(struct kavm_rtnl *r, const char *dev, const struct link_change *c)
{
	char what[96];
	int ret = 0;

	switch (c->op) {
	case SET_UP:
	case SET_DOWN:
		ret = kavm_rtnl_set_up(r, dev, c->op == SET_UP);
		break;
	case SET_MTU:
		ret = kavm_rtnl_set_mtu(r, dev, c->mtu);
		break;
	case SET_ADDRESS:
		ret = kavm_rtnl_set_address(r, dev, c->mac);
		break;
	case SET_MASTER:
		ret = kavm_rtnl_enslave(r, dev, c->arg);
		break;
	case SET_NOMASTER:
		ret = link_release(r, dev);
		break;
	}
	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "link %s: set %s%s%s", dev, c->key, c->arg ? " " : "",
		 c->arg ? c->arg : "");
	return kavmctl_net_err(r, ret, what);
}

/* Every change parsed first: a usage error changes nothing. Then left to right. */
static int link_set(struct kavm_rtnl *r, int argc, char **argv)
{
	struct link_change *c = calloc(argc ? argc : 1, sizeof(*c));
	const char *dev = NULL;
	int i, n = 0, ret;

	if (!c)
		return -ENOMEM;
	ret = parse_set(argc, argv, &dev, c, &n);
	if (!ret && (!dev || !n))
		ret = kavmctl_usage_err(link_usage, "link set: needs DEV and what to set");
	for (i = 0; !ret && i < n; i++)
		ret = apply_change(r, dev, &c[i]);
	free(c);
	return ret;
}

static void print_link(struct json_writer *jw, const struct kavm_link_info *all, int n,
		       const struct kavm_link_info *li)
{
	if (jw)
		jw_start_object(jw);
	kavmctl_print_link_head(jw, li);
	/* As ip -d: the kind's own facts, those bridge show / tap show print. */
	if (kavmctl_details && kavmctl_is_bridge(li))
		kavmctl_print_bridge_details(jw, all, n, li);
	if (kavmctl_details && kavmctl_is_tap(li))
		kavmctl_print_tap_details(jw, li);
	if (kavmctl_details && kavmctl_is_vxlan(li))
		kavmctl_print_vxlan_details(jw, li);
	if (kavmctl_stats)
		kavmctl_print_link_stats(jw, li);
	if (jw)
		jw_end_object(jw);
	else
		printf("\n");
}

static bool any_link(const struct kavm_link_info *li)
{
	return true;
}

static int link_show(struct kavm_rtnl *r, int argc, char **argv)
{
	static const struct kavmctl_show show = { "link", link_usage, any_link, print_link };

	return kavmctl_show_links(r, &show, argc, argv);
}

static int do_link(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct kavm_rtnl *r, int argc, char **argv);
	} cmds[] = {
		{ "show", link_show }, { "attach", link_attach }, { "detach", link_detach },
		{ "set", link_set },   { "list", link_show },
	};
	struct kavm_rtnl *r;
	size_t i;
	int ret;

	if (argc >= 1 && kavmctl_matches(argv[0], "help")) {
		link_usage();
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (argc < 1 || kavmctl_matches(argv[0], cmds[i].name))
			break;
	if (i == ARRAY_SIZE(cmds))
		return kavmctl_usage_err(link_usage, "link: unknown command \"%s\"", argv[0]);
	ret = kavmctl_rtnl_open(&r);
	if (ret)
		return ret;
	ret = cmds[i].fn(r, argc ? argc - 1 : 0, argv + 1);
	kavm_rtnl_close(r);
	return ret;
}
KAVMCTL_CMD("link", do_link, link_usage);
