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
	       "kavmctl link set DEV { up | down | mtu MTU | address LLADDR }...\n"
	       "kavmctl [ -s ] [ -j ] link show [ DEV ]\n");
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

static int link_detach(struct kavm_rtnl *r, int argc, char **argv)
{
	char what[64];
	int ret;

	if (argc != 1)
		return kavmctl_usage_err(link_usage, "link detach: expected exactly one DEV");
	ret = kavm_rtnl_release(r, argv[0]);
	if (ret) {
		snprintf(what, sizeof(what), "link %s: detach", argv[0]);
		kavmctl_net_err(r, ret, what);
	}
	return ret;
}

/* One "up", "down", "mtu N" or "address MAC" at argv[*i]; advances *i. */
static int link_set_one(struct kavm_rtnl *r, const char *dev, int argc, char **argv, int *i)
{
	const char *key = argv[*i];
	unsigned long mtu;
	uint8_t mac[6];
	char what[96];
	int ret;

	if (!strcmp(key, "up") || !strcmp(key, "down")) {
		ret = kavm_rtnl_set_up(r, dev, key[0] == 'u');
		snprintf(what, sizeof(what), "link %s: set %s", dev, key);
	} else if (!strcmp(key, "mtu") || !strcmp(key, "address")) {
		if (++*i >= argc)
			return kavmctl_usage_err(link_usage, "link set: %s needs a value", key);
		if (key[0] == 'm' && kavmctl_parse_uint(argv[*i], 0, 0xffffffffUL, &mtu))
			return kavmctl_usage_err(link_usage, "link set: mtu \"%s\" is not a number",
						 argv[*i]);
		if (key[0] == 'a' && mac_parse(argv[*i], mac))
			return kavmctl_usage_err(
				link_usage, "link set: address \"%s\" is not aa:bb:cc:dd:ee:ff",
				argv[*i]);
		ret = key[0] == 'm' ? kavm_rtnl_set_mtu(r, dev, mtu) :
				      kavm_rtnl_set_address(r, dev, mac);
		snprintf(what, sizeof(what), "link %s: set %s %s", dev, key, argv[*i]);
	} else {
		return kavmctl_usage_err(link_usage, "link set: unknown attribute \"%s\"", key);
	}
	return ret ? kavmctl_net_err(r, ret, what) : 0;
}

static int link_set(struct kavm_rtnl *r, int argc, char **argv)
{
	int i, ret;

	if (argc < 2)
		return kavmctl_usage_err(link_usage, "link set: needs DEV and what to set");
	for (i = 1; i < argc; i++) {
		ret = link_set_one(r, argv[0], argc, argv, &i);
		if (ret)
			return ret;
	}
	return 0;
}

static void print_link(struct json_writer *jw, const struct kavm_link_info *li)
{
	if (jw)
		jw_start_object(jw);
	kavmctl_print_link_head(jw, li);
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

static void print_link_row(struct json_writer *jw, const struct kavm_link_info *all, int n,
			   const struct kavm_link_info *li)
{
	print_link(jw, li);
}

static int link_show(struct kavm_rtnl *r, int argc, char **argv)
{
	static const struct kavmctl_show show = { "link", link_usage, any_link, print_link_row };

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
