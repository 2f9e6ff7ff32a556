// SPDX-License-Identifier: GPL-2.0
/* kavmctl: error and output helpers shared by the bridge, tap and link objects. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if.h> /* IFF_LOWER_UP, IFF_DORMANT, IFF_ECHO: not in glibc's */

#include <kavm/compiler.h>
#include <kavm/log.h>

#include "kavmctl.h"
#include "netutil.h"

int kavmctl_net_err(const struct kavm_rtnl *r, int err, const char *what)
{
	const char *why = r ? kavm_rtnl_errmsg(r) : "";

	pr_err("%s: %s%s%s", what, strerror(-err), *why ? ": " : "", why);
	return err;
}

int kavmctl_rtnl_open(struct kavm_rtnl **r)
{
	int ret = kavm_rtnl_open(r);

	if (ret)
		pr_err("rtnetlink: open: %s", strerror(-ret));
	return ret;
}

int kavmctl_rtnl_change(const char *object, const char *verb, const char *name,
			int (*fn)(struct kavm_rtnl *r, const char *name, const void *arg),
			const void *arg)
{
	struct kavm_rtnl *r;
	char what[64];
	int ret;

	ret = kavmctl_rtnl_open(&r);
	if (ret)
		return ret;
	ret = fn(r, name, arg);
	if (ret) {
		snprintf(what, sizeof(what), "%s %s: %s", object, name, verb);
		kavmctl_net_err(r, ret, what);
	}
	kavm_rtnl_close(r);
	return ret;
}

int kavmctl_parse_onoff(const char *s)
{
	if (!strcmp(s, "on"))
		return 1;
	if (!strcmp(s, "off"))
		return 0;
	return -EINVAL;
}

int kavmctl_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The usage callbacks print to stdout for `kavmctl help`; after an error they belong on stderr. */
void kavmctl_usage_to_stderr(void (*usage)(void))
{
	int saved;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		usage();
		return;
	}
	usage();
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

int kavmctl_usage_err(void (*usage)(void), const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pr_err("%s", buf);
	fputs("Usage:\n", stderr);
	kavmctl_usage_to_stderr(usage);
	return KAVMCTL_EUSAGE;
}

int kavmctl_show_flag(const char *arg)
{
	if (!strcmp(arg, "-s") || !strcmp(arg, "-statistics")) {
		kavmctl_stats = true;
		return 1;
	}
	if (!strcmp(arg, "-j") || !strcmp(arg, "-json")) {
		kavmctl_json = true;
		return 1;
	}
	return 0;
}

void kavmctl_print_onoff(struct json_writer *jw, const char *key, bool v)
{
	if (jw)
		jw_bool_field(jw, key, v);
	else
		printf(" %s %s", key, v ? "on" : "off");
}

void kavmctl_print_uint(struct json_writer *jw, const char *key, uint64_t v)
{
	if (jw)
		jw_uint_field(jw, key, v);
	else
		printf(" %s %llu", key, (unsigned long long)v);
}

static void print_str(struct json_writer *jw, const char *key, const char *v)
{
	if (jw)
		jw_string_field(jw, key, v);
	else
		printf(" %s %s", key, v);
}

void kavmctl_print_link_head(struct json_writer *jw, const struct kavm_link_info *li)
{
	char addr[3 * sizeof(li->addr)];

	if (jw) {
		jw_uint_field(jw, "ifindex", li->ifindex);
		jw_string_field(jw, "ifname", li->name);
	} else {
		printf("%d: %s:", li->ifindex, li->name);
	}
	if (li->kind[0])
		print_str(jw, "kind", li->kind);
	print_str(jw, "admin", li->flags & IFF_UP ? "up" : "down");
	print_str(jw, "operstate", kavm_rtnl_operstate_str(li->operstate));
	kavmctl_print_uint(jw, "mtu", li->mtu);
	if (li->addr_len)
		print_str(jw, "address",
			  kavm_rtnl_format_addr(li->addr, li->addr_len, addr, sizeof(addr)));
	if (li->master)
		print_str(jw, "master", li->master_name[0] ? li->master_name : "?");
}

/*
 * One direction's counters: text "rx_bytes N ..." (the JSON path joined by
 * '_'), JSON "rx": {"bytes": N, ...} in ip -j -s's layout and key order.
 */
static void print_dir_stats(struct json_writer *jw, const char *dir, const uint64_t v[4])
{
	static const char *const keys[] = { "bytes", "packets", "errors", "dropped" };
	char key[32];
	int i;

	if (jw) {
		jw_name(jw, dir);
		jw_start_object(jw);
	}
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "%s_%s", dir, keys[i]);
		kavmctl_print_uint(jw, jw ? keys[i] : key, v[i]);
	}
	if (jw)
		jw_end_object(jw);
}

void kavmctl_print_link_stats(struct json_writer *jw, const struct kavm_link_info *li)
{
	const struct kavm_link_stats *s = &li->stats;
	const uint64_t rx[4] = { s->rx_bytes, s->rx_packets, s->rx_errors, s->rx_dropped };
	const uint64_t tx[4] = { s->tx_bytes, s->tx_packets, s->tx_errors, s->tx_dropped };

	if (!li->has_stats)
		return;
	if (jw) {
		jw_name(jw, "stats64");
		jw_start_object(jw);
	} else {
		printf("\n   ");
	}
	print_dir_stats(jw, "rx", rx);
	print_dir_stats(jw, "tx", tx);
	if (jw)
		jw_end_object(jw);
}

/* IFF_* names in ip's order; IFF_RUNNING is shown as NO-CARRIER when missing. */
static const struct {
	unsigned int flag;
	const char *name;
} link_flags[] = {
	{ IFF_LOOPBACK, "LOOPBACK" },
	{ IFF_BROADCAST, "BROADCAST" },
	{ IFF_POINTOPOINT, "POINTOPOINT" },
	{ IFF_MULTICAST, "MULTICAST" },
	{ IFF_NOARP, "NOARP" },
	{ IFF_ALLMULTI, "ALLMULTI" },
	{ IFF_PROMISC, "PROMISC" },
	{ IFF_MASTER, "MASTER" },
	{ IFF_SLAVE, "SLAVE" },
	{ IFF_DEBUG, "DEBUG" },
	{ IFF_DYNAMIC, "DYNAMIC" },
	{ IFF_AUTOMEDIA, "AUTOMEDIA" },
	{ IFF_PORTSEL, "PORTSEL" },
	{ IFF_NOTRAILERS, "NOTRAILERS" },
	{ IFF_UP, "UP" },
	{ IFF_LOWER_UP, "LOWER_UP" },
	{ IFF_DORMANT, "DORMANT" },
	{ IFF_ECHO, "ECHO" },
};

static void print_flag(struct json_writer *jw, const char *name, int *count)
{
	if (jw)
		jw_string(jw, name);
	else
		printf("%s%s", (*count)++ ? "," : "", name);
}

static void print_link_flags(struct json_writer *jw, unsigned int flags)
{
	int count = 0;
	size_t i;

	if (jw) {
		jw_name(jw, "flags");
		jw_start_array(jw);
	} else {
		printf("<");
	}
	if ((flags & IFF_UP) && !(flags & IFF_RUNNING))
		print_flag(jw, "NO-CARRIER", &count);
	for (i = 0; i < ARRAY_SIZE(link_flags); i++)
		if (flags & link_flags[i].flag)
			print_flag(jw, link_flags[i].name, &count);
	if (jw)
		jw_end_array(jw);
	else
		printf("> ");
}

/* -br: ip -br link's columns, name, operstate, address, flags; JSON the same keys. */
static void print_link_brief(struct json_writer *jw, const struct kavm_link_info *li)
{
	const char *state = kavm_rtnl_operstate_str(li->operstate);
	char addr[3 * sizeof(li->addr)];

	kavm_rtnl_format_addr(li->addr, li->addr_len, addr, sizeof(addr));
	if (jw) {
		jw_start_object(jw);
		jw_string_field(jw, "ifname", li->name);
		jw_string_field(jw, "operstate", state);
		if (li->addr_len)
			jw_string_field(jw, "address", addr);
	} else {
		printf("%-16s %-14s ", li->name, state);
		if (li->addr_len)
			printf("%s ", addr);
	}
	print_link_flags(jw, li->flags);
	if (jw)
		jw_end_object(jw);
	else
		printf("\n");
}

static void show_rows(const struct kavmctl_show *s, const struct kavm_link_info *v, int n,
		      const char *name)
{
	struct json_writer *jw = kavmctl_json_begin();
	int i;

	if (jw)
		jw_start_array(jw);
	for (i = 0; i < n; i++) {
		if (!s->match(&v[i]) || (name && strcmp(name, v[i].name)))
			continue;
		if (kavmctl_brief)
			print_link_brief(jw, &v[i]);
		else
			s->print(jw, v, n, &v[i]);
	}
	if (jw) {
		jw_end_array(jw);
		kavmctl_json_end(jw);
	}
}

/* "show NAME" of a NAME it will not show: the cause del gives for the same NAME. */
static int check_shown(const struct kavmctl_show *s, const struct kavm_link_info *v, int n,
		       const char *name)
{
	int i;

	for (i = 0; i < n && strcmp(name, v[i].name); i++)
		;
	if (i < n && s->match(&v[i]))
		return 0;
	if (i < n) {
		pr_err("%s %s: show: %s: %s is not a %s", s->object, name, strerror(EMEDIUMTYPE),
		       name, s->object);
		return -EMEDIUMTYPE;
	}
	pr_err("%s %s: show: %s: no device named %s", s->object, name, strerror(ENODEV), name);
	return -ENODEV;
}

static int show_links(struct kavm_rtnl *r, const struct kavmctl_show *s, int argc, char **argv)
{
	struct kavm_link_info *v = NULL;
	const char *name = NULL;
	int i, n, ret = 0;
	char what[64];

	for (i = 0; i < argc; i++) {
		if (kavmctl_show_flag(argv[i]))
			continue;
		/* ip's "show dev DEV" */
		if (!strcmp(argv[i], "dev") && i + 1 < argc)
			i++;
		if (name)
			return kavmctl_usage_err(s->usage, "%s show: unexpected \"%s\"", s->object,
						 argv[i]);
		name = argv[i];
	}
	n = kavm_rtnl_link_dump(r, &v);
	if (n < 0) {
		snprintf(what, sizeof(what), "%s: show", s->object);
		return kavmctl_net_err(r, n, what);
	}
	if (name)
		ret = check_shown(s, v, n, name);
	if (!ret)
		show_rows(s, v, n, name);
	free(v);
	return ret;
}

int kavmctl_show_links(struct kavm_rtnl *r, const struct kavmctl_show *s, int argc, char **argv)
{
	int ret;

	if (r)
		return show_links(r, s, argc, argv);
	ret = kavmctl_rtnl_open(&r);
	if (ret)
		return ret;
	ret = show_links(r, s, argc, argv);
	kavm_rtnl_close(r);
	return ret;
}
