// SPDX-License-Identifier: GPL-2.0
/* kavmctl switch: make, join, inspect and remove kavm's eBPF switches. */
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

#define STR_(x) #x
#define STR(x) STR_(x)
#define KAVM_SW_MAX_PORTS_STR STR(KAVM_SW_MAX_PORTS)

void kavmctl_switch_usage(void)
{
	printf("kavmctl switch add NAME [--engine bpf|kmod] [--xdp] [--ageing SECONDS]\n"
	       "kavmctl switch del NAME [--force]      (--force: only the pins, netns gone)\n"
	       "kavmctl switch show [NAME]            (-s counters, -j JSON)\n"
	       "kavmctl switch attach NAME DEV [--uplink] [--mac MAC [--no-spoof]]\n"
	       "kavmctl switch detach NAME DEV|IFINDEX\n"
	       "kavmctl switch monitor                (kmod engine: every change, a line each)\n");
}

/* Where the pins would vanish: say what to run instead, naming the netns when it can. */
static const char *private_bpffs_msg(void)
{
	static char msg[512];
	const char *ns = kavmctl_netns_name();

	snprintf(
		msg, sizeof(msg),
		"/sys/fs/bpf here is private to this mount namespace (as under \"ip netns exec\"), "
		"so switches pinned there vanish with it; run \"kavmctl -n %s ...\" outside it",
		ns ? ns : "NETNS");
	return msg;
}

const char *kavmctl_switch_strerror(int err)
{
	switch (err) {
	case -EREMOTE:
		return private_bpffs_msg();
	case -ENOENT:
		return "no such switch";
	case -EEXIST:
		return "already exists";
	case -ENODEV:
		return "no such device";
	case -EPERM:
	case -EACCES:
		return "permission denied (needs CAP_BPF and CAP_NET_ADMIN)";
	case -EXDEV:
		return "belongs to another network namespace (use kavmctl -n NETNS)";
	case -ENOEXEC:
		return "the kernel's verifier rejected the program (its log is above)";
	case -ENOSYS:
		return "this kernel has no BPF support";
	case -ENOSPC:
		return "switch full (" KAVM_SW_MAX_PORTS_STR " ports)";
	case -EINVAL:
		return "invalid argument";
	default:
		return strerror(-err);
	}
}

static int do_add(int argc, char **argv)
{
	struct bpf_switch_create_opts o = {};
	const char *name;
	int ret;

	if (argc < 1)
		return kavmctl_usage_err(kavmctl_switch_usage, "switch add: missing NAME");
	name = argv[0];
	for (argc--, argv++; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--xdp")) {
			o.xdp = true;
		} else if (!strcmp(*argv, "--ageing")) {
			char *end;
			double s;

			if (argc < 2)
				return kavmctl_usage_err(kavmctl_switch_usage,
							 "switch add: --ageing needs SECONDS");
			s = strtod(argv[1], &end);
			if (!*argv[1] || *end || !(s > 0 && s < 1e9))
				return kavmctl_usage_err(
					kavmctl_switch_usage,
					"switch add: --ageing: \"%s\" is not a number of seconds",
					argv[1]);
			o.ageing_ns = (uint64_t)(s * 1e9);
			argc--, argv++;
		} else {
			return kavmctl_usage_err(kavmctl_switch_usage,
						 "switch add: unknown argument \"%s\"", *argv);
		}
	}
	ret = bpf_switch_create(name, &o);
	if (ret == -EINVAL)
		pr_err("switch %s: bad name (letters, digits, '-', '_', '.'; at most %d)", name,
		       BPF_SWITCH_NAME_MAX);
	else if (ret)
		pr_err("switch %s: %s", name, kavmctl_switch_strerror(ret));
	return ret;
}

static int do_del(int argc, char **argv)
{
	bool force = argc == 2 && !strcmp(argv[1], "--force");
	int ret;

	if (argc != 1 && !force)
		return kavmctl_usage_err(kavmctl_switch_usage,
					 "switch del: expected NAME [--force]");
	ret = kavmctl_switch_pins_ok(argv[0]);
	if (ret)
		return ret;
	/* --force: its netns is gone (or elsewhere); only the pins can go. */
	ret = force ? bpf_switch_destroy_pins(argv[0]) : bpf_switch_destroy(argv[0]);
	if (ret)
		pr_err("switch %s: %s", argv[0], kavmctl_switch_strerror(ret));
	return ret;
}

static int parse_port_opts(int argc, char **argv, struct bpf_switch_port_opts *o)
{
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--uplink")) {
			o->uplink = true;
		} else if (!strcmp(*argv, "--no-spoof")) {
			o->no_spoof = true;
		} else if (!strcmp(*argv, "--mac")) {
			if (argc < 2)
				return kavmctl_usage_err(kavmctl_switch_usage,
							 "switch attach: --mac needs MAC");
			if (mac_parse(argv[1], o->mac))
				return kavmctl_usage_err(
					kavmctl_switch_usage,
					"switch attach: --mac \"%s\" is not aa:bb:cc:dd:ee:ff",
					argv[1]);
			o->has_mac = true;
			argc--, argv++;
		} else {
			return kavmctl_usage_err(kavmctl_switch_usage,
						 "switch attach: unknown argument \"%s\"", *argv);
		}
	}
	if (o->no_spoof && !o->has_mac)
		return kavmctl_usage_err(kavmctl_switch_usage,
					 "switch attach: --no-spoof needs --mac MAC");
	return 0;
}

int kavmctl_switch_pins_ok(const char *name)
{
	int ret = bpf_switch_pin_root_check();

	if (ret)
		pr_err("switch %s: %s", name, kavmctl_switch_strerror(ret));
	return ret;
}

int kavmctl_switch_open(const char *name, struct bpf_switch **sw)
{
	int ret = kavmctl_switch_pins_ok(name);

	if (ret)
		return ret;
	ret = bpf_switch_open(name, sw);

	if (ret == -ENOENT)
		pr_err("switch %s: no such switch (see \"kavmctl switch show\")", name);
	else if (ret)
		pr_err("switch %s: %s", name, kavmctl_switch_strerror(ret));
	return ret;
}

static int do_attach(int argc, char **argv)
{
	char other[BPF_SWITCH_NAME_MAX + 1];
	struct bpf_switch_port_opts o = {};
	struct bpf_switch *sw;
	int ret;

	if (argc < 2)
		return kavmctl_usage_err(kavmctl_switch_usage, "switch attach: needs NAME and DEV");
	ret = parse_port_opts(argc - 2, argv + 2, &o);
	if (ret)
		return ret;
	ret = kavmctl_switch_open(argv[0], &sw);
	if (ret)
		return ret;
	ret = bpf_switch_port_add(sw, argv[1], &o, other);
	if (ret == -EBUSY)
		pr_err("switch %s: attach %s: already attached to %s%s", argv[0], argv[1],
		       strcmp(other, "another program") ? "switch " : "", other);
	else if (ret == -EEXIST)
		pr_err("switch %s: attach %s: already a port of this switch", argv[0], argv[1]);
	else if (ret)
		pr_err("switch %s: attach %s: %s", argv[0], argv[1],
		       ret == -ENOENT ? strerror(ENOENT) : kavmctl_switch_strerror(ret));
	bpf_switch_close(sw);
	return ret;
}

static int do_detach(int argc, char **argv)
{
	struct bpf_switch *sw;
	int ret;

	if (argc != 2)
		return kavmctl_usage_err(kavmctl_switch_usage,
					 "switch detach: expected NAME and DEV");
	ret = kavmctl_switch_open(argv[0], &sw);
	if (ret)
		return ret;
	ret = bpf_switch_port_del(sw, argv[1]);
	if (ret == -ENOENT)
		pr_err("switch %s: detach %s: not a port of this switch", argv[0], argv[1]);
	else if (ret)
		pr_err("switch %s: detach %s: %s", argv[0], argv[1], kavmctl_switch_strerror(ret));
	bpf_switch_close(sw);
	return ret;
}

static int do_switch(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "add", do_add },	 { "del", do_del },	  { "show", kavmctl_switch_show },
		{ "attach", do_attach }, { "detach", do_detach }, { "list", kavmctl_switch_show },
	};
	bool kmod;
	size_t i;
	int ret;

	if (argc < 1)
		return kavmctl_switch_show(0, NULL);
	ret = kavmctl_kmod_switch(&argc, argv, &kmod);
	if (kmod || ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (kavmctl_matches(argv[0], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return kavmctl_usage_err(kavmctl_switch_usage, "switch: unknown command \"%s\"", argv[0]);
}
KAVMCTL_CMD("switch", do_switch, kavmctl_switch_usage);
