// SPDX-License-Identifier: GPL-2.0
/* kavmctl vxlan: kernel VXLAN devices over rtnetlink, the uplink that joins hosts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <kavm/log.h>
#include <kavm/rtnl.h>

#include "kavmctl.h"
#include "netutil.h"

static void vxlan_usage(void)
{
	printf("kavmctl vxlan add NAME id VNI { remote ADDR | group ADDR dev DEV } [ dstport PORT ]\n"
	       "                         [ local ADDR ]\n"
	       "kavmctl vxlan del NAME\n"
	       "kavmctl vxlan show [ NAME ]\n");
}

/* An IPv4 or IPv6 address of the family already seen (*family 0: any) into OUT. */
static int parse_addr(const char *s, int *family, uint8_t out[16])
{
	int f = strchr(s, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(f, s, out) != 1)
		return -EINVAL;
	if (*family && *family != f)
		return -EAFNOSUPPORT;
	*family = f;
	return 0;
}

static bool is_multicast(int family, const uint8_t *a)
{
	return family == AF_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

/* The words after NAME; KAVMCTL_EUSAGE after saying why, as ip's iplink_vxlan.c words it. */
static int parse_opts(int argc, char **argv, struct kavm_vxlan_opts *o)
{
	bool has_id = false, has_remote = false, has_group = false;
	unsigned long v;
	int i, ret;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		const char *key = argv[i], *val = argv[i + 1];

		if (i + 1 >= argc)
			return kavmctl_usage_err(vxlan_usage, "vxlan: \"%s\" needs a value", key);
		if (!strcmp(key, "id") || !strcmp(key, "vni")) {
			if (kavmctl_parse_uint(val, 0, KAVM_VXLAN_VNI_MAX, &v))
				return kavmctl_usage_err(
					vxlan_usage, "vxlan: argument \"%s\" is wrong: invalid id",
					val);
			o->id = (uint32_t)v;
			has_id = true;
		} else if (!strcmp(key, "remote") || !strcmp(key, "group")) {
			bool group = key[0] == 'g';

			if (has_remote || has_group)
				return kavmctl_usage_err(
					vxlan_usage,
					"vxlan: both remote and group cannot be specified");
			ret = parse_addr(val, &o->family, o->remote);
			if (ret || is_multicast(o->family, o->remote) != group)
				return kavmctl_usage_err(
					vxlan_usage,
					"vxlan: argument \"%s\" is wrong: invalid %s "
					"address",
					val, key);
			*(group ? &has_group : &has_remote) = true;
			o->group = group;
		} else if (!strcmp(key, "local")) {
			ret = parse_addr(val, &o->family, o->local);
			if (ret || is_multicast(o->family, o->local))
				return kavmctl_usage_err(
					vxlan_usage,
					"vxlan: argument \"%s\" is wrong: invalid local "
					"address",
					val);
			o->has_local = true;
		} else if (!strcmp(key, "dev")) {
			o->dev = val;
		} else if (!strcmp(key, "dstport")) {
			if (kavmctl_parse_uint(val, 1, 65535, &v))
				return kavmctl_usage_err(vxlan_usage,
							 "vxlan: argument \"%s\" is wrong: dstport",
							 val);
			o->dstport = (uint16_t)v;
		} else {
			return kavmctl_usage_err(vxlan_usage, "vxlan: unknown option \"%s\"", key);
		}
		i++;
	}
	if (!has_id)
		return kavmctl_usage_err(vxlan_usage, "vxlan: missing virtual network identifier");
	if (!has_remote && !has_group)
		return kavmctl_usage_err(vxlan_usage, "vxlan: missing remote or group address");
	if (has_group && !o->dev)
		return kavmctl_usage_err(vxlan_usage,
					 "vxlan: 'group' requires 'dev' to be specified");
	return 0;
}

static int do_vxlan_add(struct kavm_rtnl *r, const char *name, const void *o)
{
	return kavm_rtnl_vxlan_add(r, name, o);
}

static int do_vxlan_del(struct kavm_rtnl *r, const char *name, const void *unused)
{
	return kavm_rtnl_vxlan_del(r, name);
}

static int vxlan_add(int argc, char **argv)
{
	struct kavm_vxlan_opts o;
	int ret;

	if (argc < 1)
		return kavmctl_usage_err(vxlan_usage, "vxlan add: missing NAME");
	ret = parse_opts(argc - 1, argv + 1, &o);
	if (ret)
		return ret;
	return kavmctl_rtnl_change("vxlan", "add", argv[0], do_vxlan_add, &o);
}

static int vxlan_del(int argc, char **argv)
{
	if (argc != 1)
		return kavmctl_usage_err(vxlan_usage, "vxlan del: expected exactly one NAME");
	return kavmctl_rtnl_change("vxlan", "del", argv[0], do_vxlan_del, NULL);
}

static void print_addr(struct json_writer *jw, const char *key, int family, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, buf, sizeof(buf)))
		return;
	if (jw)
		jw_string_field(jw, key, buf);
	else
		printf(" %s %s", key, buf);
}

void kavmctl_print_vxlan_details(struct json_writer *jw, const struct kavm_link_info *li)
{
	static const uint8_t zero[16];
	char dev[IF_NAMESIZE];
	size_t len = li->vxlan.family == AF_INET6 ? 16 : 4;

	kavmctl_print_uint(jw, "id", li->vxlan.id);
	if (li->vxlan.family && memcmp(li->vxlan.remote, zero, len))
		print_addr(jw, li->vxlan.multicast ? "group" : "remote", li->vxlan.family,
			   li->vxlan.remote);
	if (li->vxlan.family && memcmp(li->vxlan.local, zero, len))
		print_addr(jw, "local", li->vxlan.family, li->vxlan.local);
	if (li->vxlan.link && if_indextoname(li->vxlan.link, dev)) {
		if (jw)
			jw_string_field(jw, "dev", dev);
		else
			printf(" dev %s", dev);
	}
	kavmctl_print_uint(jw, "dstport", li->vxlan.dstport);
}

static void print_vxlan(struct json_writer *jw, const struct kavm_link_info *all, int n,
			const struct kavm_link_info *li)
{
	if (jw)
		jw_start_object(jw);
	kavmctl_print_link_head(jw, li);
	kavmctl_print_vxlan_details(jw, li);
	if (kavmctl_stats)
		kavmctl_print_link_stats(jw, li);
	if (jw)
		jw_end_object(jw);
	else
		printf("\n");
}

bool kavmctl_is_vxlan(const struct kavm_link_info *li)
{
	return li->vxlan.present;
}

static int vxlan_show(int argc, char **argv)
{
	static const struct kavmctl_show show = { "vxlan", vxlan_usage, kavmctl_is_vxlan,
						  print_vxlan };

	return kavmctl_show_links(NULL, &show, argc, argv);
}

static int do_vxlan(int argc, char **argv)
{
	if (argc < 1 || kavmctl_matches(argv[0], "show"))
		return vxlan_show(argc ? argc - 1 : 0, argv + 1);
	if (kavmctl_matches(argv[0], "add"))
		return vxlan_add(argc - 1, argv + 1);
	if (kavmctl_matches(argv[0], "delete"))
		return vxlan_del(argc - 1, argv + 1);
	if (kavmctl_matches(argv[0], "help")) {
		vxlan_usage();
		return 0;
	}
	return kavmctl_usage_err(vxlan_usage, "vxlan: unknown command \"%s\"", argv[0]);
}
KAVMCTL_CMD("vxlan", do_vxlan, vxlan_usage);
