// SPDX-License-Identifier: GPL-2.0
/* kavmctl fdb: the forwarding table of a kavm eBPF switch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/mac.h>

#include "kavmctl.h"
#include "netutil.h"
#include "switch-common.h"

static void fdb_usage(void)
{
	printf("kavmctl fdb add NAME MAC DEV           (static: never ages, never moves)\n"
	       "kavmctl fdb del NAME MAC\n"
	       "kavmctl fdb show NAME                  (-j JSON)\n");
}

/* What follows NAME, checked before the switch is opened. */
struct fdb_args {
	const char *mac_str; /* as typed, for messages */
	uint8_t mac[6];
	const char *dev;
};

static int do_add(struct bpf_switch *sw, const struct fdb_args *a)
{
	int ret = bpf_switch_fdb_add(sw, a->mac, a->dev);

	if (ret == -ENOENT)
		pr_err("switch %s: fdb add %s: %s is not a port of this switch", sw->name,
		       a->mac_str, a->dev);
	else if (ret == -EINVAL)
		pr_err("switch %s: fdb add %s: not a unicast MAC", sw->name, a->mac_str);
	else if (ret)
		pr_err("switch %s: fdb add %s dev %s: %s", sw->name, a->mac_str, a->dev,
		       kavmctl_switch_strerror(ret));
	return ret;
}

static int do_del(struct bpf_switch *sw, const struct fdb_args *a)
{
	int ret = bpf_switch_fdb_del(sw, a->mac);

	if (ret)
		pr_err("switch %s: fdb del %s: %s", sw->name, a->mac_str,
		       ret == -ENOENT ? "no such entry" : strerror(-ret));
	return ret;
}

static void print_entry(struct json_writer *jw, const struct bpf_switch_fdb_info *e)
{
	char mac[18], ifname[IF_NAMESIZE];

	bpf_switch_format_mac(e->mac, mac);
	if (!if_indextoname(e->ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "%u", e->ifindex);
	if (jw) {
		jw_start_object(jw);
		jw_string_field(jw, "mac", mac);
		jw_string_field(jw, "dev", ifname);
		jw_uint_field(jw, "ifindex", e->ifindex);
		jw_bool_field(jw, "static", e->is_static);
		if (!e->is_static)
			jw_uint_field(jw, "age_ms", e->age_ns / 1000000);
		jw_end_object(jw);
	} else if (e->is_static) {
		printf("%s dev %s static\n", mac, ifname);
	} else {
		printf("%s dev %s age %.1fs\n", mac, ifname, e->age_ns / 1e9);
	}
}

static int do_show(struct bpf_switch *sw, const struct fdb_args *a)
{
	struct bpf_switch_fdb_info e[KAVM_SW_FDB_SIZE];
	struct json_writer *jw;
	int n, i;

	n = bpf_switch_fdb(sw, e, ARRAY_SIZE(e));
	if (n < 0) {
		pr_err("switch %s: fdb: %s", sw->name, strerror(-n));
		return n;
	}
	jw = kavmctl_json_begin();
	if (jw)
		jw_start_array(jw);
	for (i = 0; i < n && i < (int)ARRAY_SIZE(e); i++)
		print_entry(jw, &e[i]);
	if (jw) {
		jw_end_array(jw);
		kavmctl_json_end(jw);
	}
	return 0;
}

static int do_fdb(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct bpf_switch *sw, const struct fdb_args *a);
		int nargs;	     /* after NAME */
		const char *grammar; /* of the whole command */
	} cmds[] = {
		{ "add", do_add, 2, "NAME MAC DEV" },
		{ "del", do_del, 1, "NAME MAC" },
		{ "show", do_show, 0, "NAME" },
		{ "list", do_show, 0, "NAME" },
	};
	struct fdb_args a = {};
	struct bpf_switch *sw;
	bool kmod;
	size_t i;
	int ret;

	if (argc < 1)
		return kavmctl_usage_err(fdb_usage, "fdb: missing COMMAND");
	if (argc >= 2) {
		ret = kavmctl_kmod_fdb(argc, argv, &kmod);
		if (kmod)
			return ret;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (kavmctl_matches(argv[0], cmds[i].name))
			break;
	if (i == ARRAY_SIZE(cmds))
		return kavmctl_usage_err(fdb_usage, "fdb: unknown command \"%s\"", argv[0]);
	if (argc < 2)
		return kavmctl_usage_err(fdb_usage, "fdb %s: missing NAME", cmds[i].name);
	if (argc - 2 != cmds[i].nargs)
		return kavmctl_usage_err(fdb_usage, "fdb %s: expected %s", cmds[i].name,
					 cmds[i].grammar);
	if (cmds[i].nargs) {
		a.mac_str = argv[2];
		if (mac_parse(a.mac_str, a.mac))
			return kavmctl_usage_err(fdb_usage,
						 "fdb %s: MAC \"%s\" is not aa:bb:cc:dd:ee:ff",
						 cmds[i].name, a.mac_str);
		a.dev = argc > 3 ? argv[3] : NULL;
	}
	ret = kavmctl_switch_open(argv[1], &sw);
	if (ret)
		return ret;
	ret = cmds[i].fn(sw, &a);
	bpf_switch_close(sw);
	return ret;
}
KAVMCTL_CMD("fdb", do_fdb, fdb_usage);
