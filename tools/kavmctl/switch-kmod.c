// SPDX-License-Identifier: GPL-2.0
/*
 * kavmctl switch/fdb on the kmod engine: kavm_switch.ko over generic
 * netlink (userspace/netlink/kswitch.c). The same verbs as the eBPF
 * engine; a switch NAME is the kernel module's when its family knows
 * NAME, else the eBPF pins'. Errors print the kernel's extack verbatim.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>
#include <kavm/kswitch.h>
#include <kavm/log.h>

#include "kavmctl.h"
#include "switch-common.h"

/* "strerror: the kernel's words", or strerror alone when it said nothing. */
static void kmod_err(struct kswitch *k, int ret, const char *fmt, ...) __printf(3, 4);

static void kmod_err(struct kswitch *k, int ret, const char *fmt, ...)
{
	const char *why = k ? kswitch_errmsg(k) : "";
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (*why)
		pr_err("%s: %s: %s", what, strerror(-ret), why);
	else
		pr_err("%s: %s", what, strerror(-ret));
}

/*
 * The kmod engine's socket, or NULL when kavm_switch.ko is not loaded.
 * Only "switch add --engine kmod" may load an installed module (the
 * family's alias): finding a switch's engine must not.
 */
static struct kswitch *kmod_open_loading(bool load)
{
	struct kswitch *k;

	if (!load && access("/sys/module/kavm_switch", F_OK))
		return NULL;
	return kswitch_open(&k) ? NULL : k;
}

static struct kswitch *kmod_open(void)
{
	return kmod_open_loading(false);
}

static bool kmod_has(struct kswitch *k, const char *name)
{
	struct kswitch_info info;

	return k && kswitch_get(k, name, &info) == 0;
}

static bool bpf_has(const char *name)
{
	char path[sizeof(BPF_SWITCH_PIN_ROOT) + BPF_SWITCH_NAME_MAX + 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", BPF_SWITCH_PIN_ROOT, name);
	return stat(path, &st) == 0;
}

static int parse_seconds_ms(const char *name, const char *arg, uint32_t *ms)
{
	char *end;
	double s = strtod(arg, &end);

	if (*end || s <= 0 || s * 1000 > KAVM_SWITCH_AGEING_MS_MAX) {
		pr_err("switch %s: bad ageing time \"%s\"", name, arg);
		return -EINVAL;
	}
	*ms = (uint32_t)(s * 1000 + 0.5);
	return 0;
}

static int kmod_add(struct kswitch *k, int argc, char **argv)
{
	const char *name = argv[0];
	uint32_t ageing_ms = 0;
	int ret;

	for (argc--, argv++; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--ageing") && argc > 1) {
			ret = parse_seconds_ms(name, argv[1], &ageing_ms);
			if (ret)
				return ret;
			argc--, argv++;
		} else {
			pr_err("switch add: unknown argument \"%s\" (engine kmod)", *argv);
			return -EINVAL;
		}
	}
	if (bpf_has(name)) {
		pr_err("switch %s: already exists (engine bpf)", name);
		return -EEXIST;
	}
	ret = kswitch_new(k, name, ageing_ms, 0);
	if (ret)
		kmod_err(k, ret, "switch %s: add", name);
	return ret;
}

static int kmod_attach(struct kswitch *k, int argc, char **argv)
{
	uint8_t mac[6], *has_mac = NULL;
	uint32_t flags = 0;
	int i, ret;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--uplink")) {
			flags |= KAVM_PORT_F_UPLINK;
		} else if (!strcmp(argv[i], "--no-spoof")) {
			flags |= KAVM_PORT_F_NO_SPOOF;
		} else if (!strcmp(argv[i], "--mac") && i + 1 < argc) {
			if (bpf_switch_parse_mac(argv[++i], mac)) {
				pr_err("switch attach: bad MAC \"%s\"", argv[i]);
				return -EINVAL;
			}
			has_mac = mac;
		} else {
			pr_err("switch attach: unknown argument \"%s\"", argv[i]);
			return -EINVAL;
		}
	}
	ret = kswitch_port_add(k, argv[0], argv[1], flags, has_mac);
	if (ret)
		kmod_err(k, ret, "switch %s: attach %s", argv[0], argv[1]);
	return ret;
}

static void print_stats(struct json_writer *jw, const uint64_t *c, const char *indent)
{
	int i, n = 0;

	if (jw) {
		jw_name(jw, "stats");
		jw_start_object(jw);
	}
	for (i = 1; i < KSWITCH_NR_STATS; i++) {
		const char *name = kswitch_stat_name(i);

		if (!name)
			continue;
		if (jw)
			jw_uint_field(jw, name, c[i]);
		else
			printf("%s%s %" PRIu64 "%s", n % 7 ? " " : indent, name, c[i],
			       n % 7 == 6 ? "\n" : "");
		n++;
	}
	if (jw)
		jw_end_object(jw);
	else if (n % 7)
		printf("\n");
}

static void print_port(struct json_writer *jw, const struct kswitch_port_info *p)
{
	char mac[18];

	bpf_switch_format_mac(p->mac, mac);
	if (jw) {
		jw_start_object(jw);
		jw_string_field(jw, "ifname", p->ifname);
		jw_uint_field(jw, "ifindex", p->ifindex);
		jw_bool_field(jw, "uplink", p->flags & KAVM_PORT_F_UPLINK);
		jw_bool_field(jw, "no_spoof", p->flags & KAVM_PORT_F_NO_SPOOF);
		if (p->has_mac)
			jw_string_field(jw, "mac", mac);
		if (kavmctl_stats)
			print_stats(jw, p->stats, NULL);
		jw_end_object(jw);
		return;
	}
	printf("    port %s ifindex %u%s", p->ifname, p->ifindex,
	       p->flags & KAVM_PORT_F_UPLINK ? " uplink" : "");
	if (p->has_mac)
		printf(" mac %s%s", mac, p->flags & KAVM_PORT_F_NO_SPOOF ? " no-spoof" : "");
	printf("\n");
	if (kavmctl_stats)
		print_stats(NULL, p->stats, "        ");
}

static void print_header(struct json_writer *jw, const struct kswitch_info *s)
{
	if (jw) {
		jw_string_field(jw, "name", s->name);
		jw_string_field(jw, "engine", "kmod");
		jw_uint_field(jw, "ageing_ms", s->ageing_ms);
		jw_uint_field(jw, "fdb_entries", s->nfdb);
		jw_uint_field(jw, "fdb_max", s->fdb_max);
		jw_bool_field(jw, "this_netns", true);
	} else {
		printf("switch %s engine kmod ageing %.3gs fdb %u/%u\n", s->name,
		       s->ageing_ms / 1e3, s->nfdb, s->fdb_max);
	}
}

static int show_one(struct kswitch *k, struct json_writer *jw, const struct kswitch_info *s)
{
	struct kswitch_port_info *ports;
	int n, i;

	n = kswitch_ports(k, s->name, &ports);
	if (n < 0) {
		kmod_err(k, n, "switch %s: show", s->name);
		return n;
	}
	if (jw)
		jw_start_object(jw);
	print_header(jw, s);
	if (jw) {
		jw_name(jw, "ports");
		jw_start_array(jw);
	}
	for (i = 0; i < n; i++)
		print_port(jw, &ports[i]);
	if (jw)
		jw_end_array(jw);
	if (kavmctl_stats)
		print_stats(jw, s->stats, "    total ");
	if (jw)
		jw_end_object(jw);
	free(ports);
	return 0;
}

/* Every kmod switch of this namespace, into a show already begun. */
int kavmctl_kmod_show_all(struct json_writer *jw)
{
	struct kswitch *k = kmod_open();
	struct kswitch_info *s;
	int n, i, ret = 0;

	if (!k)
		return 0;
	n = kswitch_list(k, &s);
	if (n < 0) {
		kmod_err(k, n, "switch show");
		ret = n;
	}
	for (i = 0; i < n; i++)
		ret = show_one(k, jw, &s[i]) ?: ret;
	if (n > 0)
		free(s);
	kswitch_close(k);
	return ret;
}

static int kmod_show(struct kswitch *k, const char *name)
{
	struct json_writer *jw = kavmctl_json_begin();
	struct kswitch_info s;
	int ret;

	ret = kswitch_get(k, name, &s);
	if (ret) {
		kmod_err(k, ret, "switch %s: show", name);
		kavmctl_json_end(jw);
		return ret;
	}
	if (jw)
		jw_start_array(jw);
	ret = show_one(k, jw, &s);
	if (jw)
		jw_end_array(jw);
	kavmctl_json_end(jw);
	return ret;
}

/* A verb of `kavmctl switch` on a kmod switch: argv[0] is the verb, argv[1] NAME. */
static int kmod_switch_verb(struct kswitch *k, int argc, char **argv)
{
	const char *verb = argv[0], *name = argv[1];
	int ret;

	if (kavmctl_matches(verb, "show") || kavmctl_matches(verb, "list"))
		return kmod_show(k, name);
	/* In the order of switch.c's table, so that prefixes mean the same. */
	if (kavmctl_matches(verb, "del") && argc == 2) {
		ret = kswitch_del(k, name);
		if (ret)
			kmod_err(k, ret, "switch %s: del", name);
		return ret;
	}
	if (kavmctl_matches(verb, "attach") && argc >= 3)
		return kmod_attach(k, argc - 1, argv + 1);
	if (kavmctl_matches(verb, "detach") && argc == 3) {
		ret = kswitch_port_del(k, name, argv[2]);
		if (ret)
			kmod_err(k, ret, "switch %s: detach %s", name, argv[2]);
		return ret;
	}
	pr_err("switch %s: bad arguments for \"%s\" (engine kmod)", name, verb);
	return -EINVAL;
}

/*
 * Takes --engine out of "switch add" arguments (argv[0] is "add"). Returns
 * 1 for kmod, 0 for bpf (the default), -EINVAL for another.
 */
static int take_engine(int *argc, char **argv)
{
	int i, kmod = 0;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--engine"))
			continue;
		if (i + 1 >= *argc || (strcmp(argv[i + 1], "kmod") && strcmp(argv[i + 1], "bpf"))) {
			pr_err("switch add: --engine takes kmod or bpf");
			return -EINVAL;
		}
		kmod = !strcmp(argv[i + 1], "kmod");
		memmove(&argv[i], &argv[i + 2], (*argc - i - 2) * sizeof(*argv));
		*argc -= 2;
		i--;
	}
	return kmod;
}

static int kmod_add_verb(int *argc, char **argv, bool *handled)
{
	struct kswitch *k;
	int kmod, ret;

	kmod = take_engine(argc, argv);
	if (kmod < 0 || *argc < 2) {
		*handled = kmod < 0;
		return kmod;
	}
	k = kmod_open_loading(kmod);
	if (!kmod) {
		/* bpf: only refuse a name the module has. */
		*handled = kmod_has(k, argv[1]);
		if (*handled)
			pr_err("switch %s: already exists (engine kmod)", argv[1]);
		kswitch_close(k);
		return *handled ? -EEXIST : 0;
	}
	*handled = true;
	if (!k) {
		pr_err("switch %s: add: the kmod engine needs kavm_switch.ko (kavmctl module load)",
		       argv[1]);
		return -ENOENT;
	}
	ret = kmod_add(k, *argc - 1, argv + 1);
	kswitch_close(k);
	return ret;
}

static int print_event(const struct kswitch_event *ev, void *arg)
{
	static const char *const what[] = {
		[KAVM_CMD_SWITCH_NEW_NTF] = "switch-new",
		[KAVM_CMD_SWITCH_DEL_NTF] = "switch-del",
		[KAVM_CMD_SWITCH_CHANGE_NTF] = "switch-change",
		[KAVM_CMD_PORT_ADD_NTF] = "port-add",
		[KAVM_CMD_PORT_DEL_NTF] = "port-del",
		[KAVM_CMD_FDB_ADD_NTF] = "fdb-add",
		[KAVM_CMD_FDB_DEL_NTF] = "fdb-del",
	};
	char mac[18];

	if (ev->cmd >= ARRAY_SIZE(what) || !what[ev->cmd])
		return 0;
	printf("%s %s", what[ev->cmd], ev->name);
	if (ev->has_mac) {
		bpf_switch_format_mac(ev->mac, mac);
		printf(" %s dev %s%s", mac, ev->ifname,
		       ev->fdb_flags & KAVM_FDB_F_STATIC ? " static" : "");
	} else if (ev->ifname[0]) {
		printf(" %s", ev->ifname);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

/* Every change to this namespace's kmod switches, a line each, until killed. */
static int kmod_monitor(int argc)
{
	struct kswitch *k = kmod_open();
	int ret;

	if (argc != 1) {
		pr_err("switch monitor: takes no arguments");
		kswitch_close(k);
		return -EINVAL;
	}
	if (!k) {
		pr_err("switch monitor: the kmod engine needs kavm_switch.ko (kavmctl module load)");
		return -ENOENT;
	}
	ret = kswitch_monitor(k, print_event, NULL);
	if (ret)
		kmod_err(k, ret, "switch monitor");
	kswitch_close(k);
	return ret;
}

int kavmctl_kmod_switch(int *argc, char **argv, bool *handled)
{
	struct kswitch *k;
	int ret = 0;

	*handled = false;
	if (*argc < 1)
		return 0;
	if (kavmctl_matches(argv[0], "add"))
		return kmod_add_verb(argc, argv, handled);
	if (!strcmp(argv[0], "monitor")) {
		*handled = true;
		return kmod_monitor(*argc);
	}
	if (*argc < 2)
		return 0;
	k = kmod_open();
	if (kmod_has(k, argv[1])) {
		*handled = true;
		ret = kmod_switch_verb(k, *argc, argv);
	}
	kswitch_close(k);
	return ret;
}

static int kmod_fdb_add(struct kswitch *k, const char *name, int argc, char **argv)
{
	uint8_t mac[6];
	int ret;

	if (argc != 2 || bpf_switch_parse_mac(argv[0], mac)) {
		pr_err("fdb add: wants MAC DEV");
		return -EINVAL;
	}
	ret = kswitch_fdb_add(k, name, mac, argv[1]);
	if (ret)
		kmod_err(k, ret, "switch %s: fdb add %s dev %s", name, argv[0], argv[1]);
	return ret;
}

static int kmod_fdb_del(struct kswitch *k, const char *name, int argc, char **argv)
{
	uint8_t mac[6];
	int ret;

	if (argc != 1 || bpf_switch_parse_mac(argv[0], mac)) {
		pr_err("fdb del: wants MAC");
		return -EINVAL;
	}
	ret = kswitch_fdb_del(k, name, mac);
	if (ret)
		kmod_err(k, ret, "switch %s: fdb del %s", name, argv[0]);
	return ret;
}

static void print_fdb(struct json_writer *jw, const struct kswitch_fdb_info *e)
{
	bool is_static = e->flags & KAVM_FDB_F_STATIC;
	char mac[18];

	bpf_switch_format_mac(e->mac, mac);
	if (jw) {
		jw_start_object(jw);
		jw_string_field(jw, "mac", mac);
		jw_string_field(jw, "dev", e->ifname);
		jw_uint_field(jw, "ifindex", e->ifindex);
		jw_bool_field(jw, "static", is_static);
		if (!is_static)
			jw_uint_field(jw, "age_ms", e->age_ms);
		jw_end_object(jw);
	} else if (is_static) {
		printf("%s dev %s static\n", mac, e->ifname);
	} else {
		printf("%s dev %s age %.1fs\n", mac, e->ifname, e->age_ms / 1e3);
	}
}

static int kmod_fdb_show(struct kswitch *k, const char *name, int argc)
{
	struct kswitch_fdb_info *e;
	struct json_writer *jw;
	int n, i;

	if (argc) {
		pr_err("fdb show: too many arguments");
		return -EINVAL;
	}
	n = kswitch_fdb(k, name, &e);
	if (n < 0) {
		kmod_err(k, n, "switch %s: fdb", name);
		return n;
	}
	jw = kavmctl_json_begin();
	if (jw)
		jw_start_array(jw);
	for (i = 0; i < n; i++)
		print_fdb(jw, &e[i]);
	if (jw)
		jw_end_array(jw);
	kavmctl_json_end(jw);
	free(e);
	return 0;
}

/* `kavmctl fdb VERB NAME ...` on a kmod switch; argv[0] is the verb. */
int kavmctl_kmod_fdb(int argc, char **argv, bool *handled)
{
	struct kswitch *k;
	int ret = 0;

	*handled = false;
	if (argc < 2)
		return 0;
	k = kmod_open();
	if (!kmod_has(k, argv[1])) {
		kswitch_close(k);
		return 0;
	}
	*handled = true;
	if (kavmctl_matches(argv[0], "add"))
		ret = kmod_fdb_add(k, argv[1], argc - 2, argv + 2);
	else if (kavmctl_matches(argv[0], "del"))
		ret = kmod_fdb_del(k, argv[1], argc - 2, argv + 2);
	else if (kavmctl_matches(argv[0], "show") || kavmctl_matches(argv[0], "list"))
		ret = kmod_fdb_show(k, argv[1], argc - 2);
	else
		*handled = false;
	kswitch_close(k);
	return ret;
}
