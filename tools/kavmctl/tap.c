// SPDX-License-Identifier: GPL-2.0
/* kavmctl tap: persistent tap devices (TUNSETIFF/TUNSETPERSIST), shown over rtnetlink. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kavm/log.h>
#include <kavm/rtnl.h>
#include <kavm/tun.h>

#include "kavmctl.h"
#include "netutil.h"

static void tap_usage(void)
{
	printf("kavmctl tap add NAME [ --owner USER ] [ --group GROUP ] [ --multi-queue ] [ --vnet-hdr ]\n"
	       "                     [ --persist ]    (always persistent: it outlives kavmctl)\n"
	       "kavmctl tap del NAME\n"
	       "kavmctl tap show [ NAME ]\n");
}

struct tap_args {
	const char *name;
	unsigned int flags;
	long owner, group; /* -1: not set */
};

/* --owner USER / --group GROUP: a number, else a name, as ip tuntap takes them. */
static int parse_id(const char *opt, const char *s, long *out)
{
	bool user = !strcmp(opt, "--owner");
	struct passwd *pw;
	struct group *gr;
	unsigned long v;

	if (!kavmctl_parse_uint(s, 0, 0xfffffffeUL, &v)) {
		*out = (long)v;
		return 0;
	}
	pw = user ? getpwnam(s) : NULL;
	gr = user ? NULL : getgrnam(s);
	if (pw || gr) {
		*out = pw ? (long)pw->pw_uid : (long)gr->gr_gid;
		return 0;
	}
	return kavmctl_usage_err(tap_usage, "tap add: %s: no %s named \"%s\"", opt,
				 user ? "user" : "group", s);
}

static int parse_add(int argc, char **argv, struct tap_args *a)
{
	int i, ret;

	*a = (struct tap_args){ .flags = TUN_CREATE | TUN_PERSIST, .owner = -1, .group = -1 };
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--multi-queue")) {
			a->flags |= TUN_MULTI_QUEUE;
		} else if (!strcmp(argv[i], "--vnet-hdr")) {
			a->flags |= TUN_VNET_HDR;
		} else if (!strcmp(argv[i], "--persist")) {
			/* the default: a tap made by a short-lived tool must persist */
		} else if (!strcmp(argv[i], "--owner") || !strcmp(argv[i], "--group")) {
			if (i + 1 >= argc)
				return kavmctl_usage_err(tap_usage, "tap add: %s needs a %s",
							 argv[i],
							 argv[i][2] == 'o' ? "user" : "group");
			ret = parse_id(argv[i], argv[i + 1],
				       argv[i][2] == 'o' ? &a->owner : &a->group);
			if (ret)
				return ret;
			i++;
		} else if (argv[i][0] == '-' || a->name) {
			return kavmctl_usage_err(tap_usage, "tap add: unexpected \"%s\"", argv[i]);
		} else {
			a->name = argv[i];
		}
	}
	if (!a->name)
		return kavmctl_usage_err(tap_usage, "tap add: missing NAME");
	return 0;
}

static int tap_add(int argc, char **argv)
{
	struct tap_args a;
	char what[64];
	const char *why = "";
	int fd, ret;

	ret = parse_add(argc, argv, &a);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "tap %s: add", a.name);
	ret = kavm_rtnl_check_name(a.name);
	if (ret)
		goto err;
	fd = tun_open(a.name, a.flags, NULL);
	if (fd < 0) {
		ret = fd;
		goto err;
	}
	ret = a.owner >= 0 ? tun_set_owner(fd, a.owner) : 0;
	if (!ret && a.group >= 0)
		ret = tun_set_group(fd, a.group);
	if (ret)
		tun_set_persist(fd, false); /* undo: the tap goes with the fd */
	close(fd);
	if (!ret)
		return 0;
err:
	if (ret == -ENAMETOOLONG)
		why = ": interface names are at most 15 bytes";
	else if (ret == -EEXIST)
		why = ": a device with that name already exists";
	else if (ret == -EINVAL)
		why = ": not a valid interface name";
	pr_err("%s: %s%s", what, strerror(-ret), why);
	return ret;
}

/* Check that NAME is a tap before tun_delete() attaches to it. */
static int check_tap(struct kavm_rtnl *r, const char *name)
{
	struct kavm_link_info li;
	int ret = kavm_rtnl_link_get(r, name, &li);

	if (ret)
		return ret;
	if (!li.tun.present || !li.tun.tap)
		return -EMEDIUMTYPE;
	return 0;
}

static int tap_del(int argc, char **argv)
{
	struct kavm_rtnl *r;
	char what[64];
	int ret;

	if (argc != 1)
		return kavmctl_usage_err(tap_usage, "tap del: expected exactly one NAME");
	snprintf(what, sizeof(what), "tap %s: del", argv[0]);
	ret = kavmctl_rtnl_open(&r);
	if (ret)
		return ret;
	ret = check_tap(r, argv[0]);
	if (ret == -EMEDIUMTYPE)
		pr_err("%s: %s: %s is not a tap", what, strerror(-ret), argv[0]);
	else if (ret)
		kavmctl_net_err(r, ret, what);
	kavm_rtnl_close(r);
	if (ret)
		return ret;
	ret = tun_delete(argv[0]);
	if (ret == -EBUSY)
		pr_err("%s: %s: a process still has it open", what, strerror(-ret));
	else if (ret)
		pr_err("%s: %s", what, strerror(-ret));
	return ret;
}

void kavmctl_print_tap_details(struct json_writer *jw, const struct kavm_link_info *li)
{
	if (li->tun.has_owner)
		kavmctl_print_uint(jw, "owner", li->tun.owner);
	kavmctl_print_onoff(jw, "vnet_hdr", li->tun.vnet_hdr);
	kavmctl_print_onoff(jw, "multi_queue", li->tun.multi_queue);
	kavmctl_print_onoff(jw, "persist", li->tun.persist);
	/*
	 * The kernel counts the queues processes have attached, 0 for a
	 * persistent tap no VM holds; a single-queue tap has its one queue
	 * either way, a multi-queue one as many as are attached.
	 */
	kavmctl_print_uint(jw, "queues", li->tun.multi_queue ? li->tun.num_queues : 1);
}

static void print_tap(struct json_writer *jw, const struct kavm_link_info *li)
{
	if (jw)
		jw_start_object(jw);
	kavmctl_print_link_head(jw, li);
	kavmctl_print_tap_details(jw, li);
	if (kavmctl_stats)
		kavmctl_print_link_stats(jw, li);
	if (jw)
		jw_end_object(jw);
	else
		printf("\n");
}

bool kavmctl_is_tap(const struct kavm_link_info *li)
{
	return li->tun.present && li->tun.tap;
}

static void print_tap_row(struct json_writer *jw, const struct kavm_link_info *all, int n,
			  const struct kavm_link_info *li)
{
	print_tap(jw, li);
}

static int tap_show(int argc, char **argv)
{
	static const struct kavmctl_show show = { "tap", tap_usage, kavmctl_is_tap, print_tap_row };

	return kavmctl_show_links(NULL, &show, argc, argv);
}

static int do_tap(int argc, char **argv)
{
	if (argc < 1 || kavmctl_matches(argv[0], "show"))
		return tap_show(argc ? argc - 1 : 0, argv + 1);
	if (kavmctl_matches(argv[0], "add"))
		return tap_add(argc - 1, argv + 1);
	if (kavmctl_matches(argv[0], "delete"))
		return tap_del(argc - 1, argv + 1);
	if (kavmctl_matches(argv[0], "help")) {
		tap_usage();
		return 0;
	}
	return kavmctl_usage_err(tap_usage, "tap: unknown command \"%s\"", argv[0]);
}
KAVMCTL_CMD("tap", do_tap, tap_usage);
