// SPDX-License-Identifier: GPL-2.0
/* kavmctl bridge: create, change, delete and show Linux bridges over rtnetlink. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/log.h>
#include <kavm/rtnl.h>

#include "kavmctl.h"
#include "netutil.h"

static void bridge_usage(void)
{
	printf("kavmctl bridge { add | set } NAME [ stp { on | off } ] [ forward_delay CENTISECS ]\n"
	       "                             [ vlan_filtering { on | off } ]\n"
	       "kavmctl bridge del NAME\n"
	       "kavmctl bridge show [ NAME ]\n");
}

/* Parse the attribute list after NAME; -EINVAL after printing the usage. */
static int parse_opts(int argc, char **argv, struct kavm_bridge_opts *o)
{
	unsigned long v;
	int i, b;

	kavm_bridge_opts_init(o);
	for (i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			return kavmctl_usage_err(bridge_usage, "bridge: \"%s\" needs a value",
						 argv[i]);
		if (!strcmp(argv[i], "stp") || !strcmp(argv[i], "vlan_filtering")) {
			b = kavmctl_parse_onoff(argv[i + 1]);
			if (b < 0)
				return kavmctl_usage_err(bridge_usage,
							 "bridge: %s: \"%s\" is not on or off",
							 argv[i], argv[i + 1]);
			*(argv[i][0] == 's' ? &o->stp : &o->vlan_filtering) = b;
		} else if (!strcmp(argv[i], "forward_delay")) {
			if (kavmctl_parse_uint(argv[i + 1], 0, 1UL << 30, &v))
				return kavmctl_usage_err(
					bridge_usage,
					"bridge: forward_delay: \"%s\" is not a number",
					argv[i + 1]);
			o->forward_delay = (int)v;
		} else {
			return kavmctl_usage_err(bridge_usage, "bridge: unknown option \"%s\"",
						 argv[i]);
		}
		i++;
	}
	return 0;
}

static int do_bridge_add(struct kavm_rtnl *r, const char *name, const void *o)
{
	return kavm_rtnl_bridge_add(r, name, o);
}

static int do_bridge_set(struct kavm_rtnl *r, const char *name, const void *o)
{
	return kavm_rtnl_bridge_set(r, name, o);
}

static int do_bridge_del(struct kavm_rtnl *r, const char *name, const void *unused)
{
	return kavm_rtnl_bridge_del(r, name);
}

static int bridge_change(int argc, char **argv, bool add)
{
	struct kavm_bridge_opts o;
	int ret;

	if (argc < 1)
		return kavmctl_usage_err(bridge_usage, "bridge %s: missing NAME",
					 add ? "add" : "set");
	ret = parse_opts(argc - 1, argv + 1, &o);
	if (ret)
		return ret;
	return kavmctl_rtnl_change("bridge", add ? "add" : "set", argv[0],
				   add ? do_bridge_add : do_bridge_set, &o);
}

static int bridge_del(int argc, char **argv)
{
	if (argc != 1)
		return kavmctl_usage_err(bridge_usage, "bridge del: expected exactly one NAME");
	return kavmctl_rtnl_change("bridge", "del", argv[0], do_bridge_del, NULL);
}

static void print_ports(struct json_writer *jw, const struct kavm_link_info *v, int n,
			const struct kavm_link_info *br)
{
	int i, count = 0;

	if (jw) {
		jw_name(jw, "ports");
		jw_start_array(jw);
	} else {
		printf(" ports ");
	}
	for (i = 0; i < n; i++) {
		if (v[i].master != br->ifindex)
			continue;
		if (jw)
			jw_string(jw, v[i].name);
		else
			printf("%s%s", count ? "," : "", v[i].name);
		count++;
	}
	if (jw)
		jw_end_array(jw);
	else if (!count)
		printf("-");
}

void kavmctl_print_bridge_details(struct json_writer *jw, const struct kavm_link_info *v, int n,
				  const struct kavm_link_info *br)
{
	kavmctl_print_onoff(jw, "stp", br->br.stp);
	kavmctl_print_uint(jw, "forward_delay", br->br.forward_delay);
	kavmctl_print_onoff(jw, "vlan_filtering", br->br.vlan_filtering);
	print_ports(jw, v, n, br);
}

static void print_bridge(struct json_writer *jw, const struct kavm_link_info *v, int n,
			 const struct kavm_link_info *br)
{
	if (jw)
		jw_start_object(jw);
	kavmctl_print_link_head(jw, br);
	kavmctl_print_bridge_details(jw, v, n, br);
	if (kavmctl_stats)
		kavmctl_print_link_stats(jw, br);
	if (jw)
		jw_end_object(jw);
	else
		printf("\n");
}

bool kavmctl_is_bridge(const struct kavm_link_info *li)
{
	return !strcmp(li->kind, "bridge");
}

static int bridge_show(int argc, char **argv)
{
	static const struct kavmctl_show show = { "bridge", bridge_usage, kavmctl_is_bridge,
						  print_bridge };

	return kavmctl_show_links(NULL, &show, argc, argv);
}

static int do_bridge(int argc, char **argv)
{
	if (argc < 1 || kavmctl_matches(argv[0], "show"))
		return bridge_show(argc ? argc - 1 : 0, argv + 1);
	if (kavmctl_matches(argv[0], "add"))
		return bridge_change(argc - 1, argv + 1, true);
	if (kavmctl_matches(argv[0], "set"))
		return bridge_change(argc - 1, argv + 1, false);
	if (kavmctl_matches(argv[0], "delete"))
		return bridge_del(argc - 1, argv + 1);
	if (kavmctl_matches(argv[0], "help")) {
		bridge_usage();
		return 0;
	}
	return kavmctl_usage_err(bridge_usage, "bridge: unknown command \"%s\"", argv[0]);
}
KAVMCTL_CMD("bridge", do_bridge, bridge_usage);
