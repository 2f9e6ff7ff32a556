// SPDX-License-Identifier: GPL-2.0
/*
 * kavm command line. Every option is one row of kavm_options[]: its name,
 * argument, help text and the function that stores it into struct
 * vm_config. A new option (--netdev, --device ...) is a new row and a new
 * parse function; getopt_long's table and --help are generated from it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/log.h>
#include <kavm/options.h>

struct kavm_option {
	const char *name;
	int short_name;	 /* 0: long only */
	const char *arg; /* metavar; NULL: takes no argument */
	const char *help;
	int (*parse)(struct vm_config *cfg, const char *arg);
};

static int opt_kernel(struct vm_config *cfg, const char *arg)
{
	cfg->kernel_path = arg;
	return 0;
}

static int opt_initrd(struct vm_config *cfg, const char *arg)
{
	cfg->initrd_path = arg;
	return 0;
}

static int opt_cmdline(struct vm_config *cfg, const char *arg)
{
	cfg->cmdline = arg;
	return 0;
}

int parse_mem_size(const char *s, unsigned long long *bytes)
{
	unsigned long long v, shift = 20;
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	if (v > (~0ULL >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

static int opt_memory(struct vm_config *cfg, const char *arg)
{
	unsigned long long bytes;

	if (parse_mem_size(arg, &bytes)) {
		pr_err("--memory %s: not a size (examples: 512M, 2G)", arg);
		return -EINVAL;
	}
	if (bytes < KVM_MIN_MEM || bytes > KAVM_MAX_MEM || bytes & 0xfff) {
		pr_err("--memory %s: must be a multiple of 4K from %lluM to %lluG", arg,
		       KVM_MIN_MEM >> 20, KAVM_MAX_MEM >> 30);
		return -EINVAL;
	}
	cfg->mem_size = bytes;
	return 0;
}

static int opt_cpus(struct vm_config *cfg, const char *arg)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || n < 1 || n > KVM_MAX_CPUS) {
		pr_err("--cpus %s: must be a number from 1 to %d", arg, KVM_MAX_CPUS);
		return -EINVAL;
	}
	cfg->nr_cpus = n;
	return 0;
}

static int opt_cpu_features(struct vm_config *cfg, const char *arg)
{
	const char *bad = NULL;
	int ret = cpu_features_parse(cfg, arg, &bad);

	if (ret == -ENOENT)
		pr_err("--cpu-features: unknown feature '%s'", bad + 1);
	else if (ret == -E2BIG)
		pr_err("--cpu-features: more than %d features", KVM_MAX_FEATURE_MASKS);
	else if (ret)
		pr_err("--cpu-features: '%s': expected -name or +name", bad);
	return ret ? -EINVAL : 0;
}

static int opt_serial(struct vm_config *cfg, const char *arg)
{
	if (strcmp(arg, "stdio") && strcmp(arg, "none") && !(!strncmp(arg, "file:", 5) && arg[5]) &&
	    !(!strncmp(arg, "unix:", 5) && arg[5])) {
		pr_err("--serial %s: expected stdio, none, file:PATH or unix:PATH", arg);
		return -EINVAL;
	}
	cfg->serial = arg;
	return 0;
}

static int opt_seccomp(struct vm_config *cfg, const char *arg)
{
	if (strcmp(arg, "on") && strcmp(arg, "off")) {
		pr_err("--seccomp %s: expected on or off", arg);
		return -EINVAL;
	}
	cfg->seccomp = !strcmp(arg, "on");
	return 0;
}

static int opt_netdev(struct vm_config *cfg, const char *arg)
{
	struct netdev_opts o;
	char err[128];
	unsigned int i;

	if (netdev_parse(arg, &o, err, sizeof(err))) {
		pr_err("--netdev %s: %s", arg, err);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_netdevs; i++) {
		if (!strcmp(cfg->netdevs[i].id, o.id)) {
			pr_err("--netdev %s: duplicate id %s", arg, o.id);
			return -EINVAL;
		}
	}
	if (cfg->nr_netdevs == KAVM_MAX_NICS) {
		pr_err("--netdev %s: more than %d netdevs", arg, KAVM_MAX_NICS);
		return -EINVAL;
	}
	cfg->netdevs[cfg->nr_netdevs++] = o;
	return 0;
}

static int opt_device(struct vm_config *cfg, const char *arg)
{
	struct net_device_opts o;
	char err[128];

	if (net_device_parse(arg, &o, err, sizeof(err))) {
		pr_err("--device %s: %s", arg, err);
		return -EINVAL;
	}
	if (cfg->nr_nics == KAVM_MAX_NICS) {
		pr_err("--device %s: more than %d devices", arg, KAVM_MAX_NICS);
		return -EINVAL;
	}
	cfg->nics[cfg->nr_nics++] = o;
	return 0;
}

/* After all options: each device names a netdev that exists and no other device uses. */
static int options_check_nics(const struct vm_config *cfg)
{
	unsigned int i, j;

	for (i = 0; i < cfg->nr_nics; i++) {
		const char *id = cfg->nics[i].netdev;

		for (j = 0; j < cfg->nr_netdevs && strcmp(cfg->netdevs[j].id, id); j++)
			;
		if (j == cfg->nr_netdevs) {
			pr_err("--device %s,netdev=%s: no --netdev with id %s", cfg->nics[i].driver,
			       id, id);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(cfg->nics[j].netdev, id)) {
				pr_err("--device %s,netdev=%s: netdev %s is already used by "
				       "another device",
				       cfg->nics[i].driver, id, id);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int opt_verbose(struct vm_config *cfg, const char *arg)
{
	if (log_level < LOG_LEVEL_DEBUG)
		log_level++;
	return 0;
}

static int opt_quiet(struct vm_config *cfg, const char *arg)
{
	log_level = LOG_LEVEL_ERR;
	return 0;
}

static const struct kavm_option kavm_options[] = {
	{ "kernel", 'k', "PATH", "Linux kernel: bzImage or ELF vmlinux (required)", opt_kernel },
	{ "initrd", 'i', "PATH", "initial ramdisk", opt_initrd },
	{ "cmdline", 'c', "STR", "kernel command line", opt_cmdline },
	{ "memory", 'm', "SIZE", "guest RAM, e.g. 512M or 2G (default 512M; a bare number is MiB)",
	  opt_memory },
	{ "cpus", 'p', "N", "number of vCPUs (default 1)", opt_cpus },
	{ "cpu-features", 0, "LIST", "-name hides a CPUID flag, +name requires it: -cx16,-xsave",
	  opt_cpu_features },
	{ "serial", 's', "SPEC", "COM1 backend: stdio (default), none, file:PATH, unix:PATH",
	  opt_serial },
	{ "netdev", 0, "SPEC",
	  "network backend: tap,id=ID[,ifname=NAME][,fd=N][,vnet_hdr=on|off][,vhost=on]"
	  " or bridge,id=ID,br=BR[,create=on][,vhost=on]; both take switch=SW;"
	  " or vhost-user,id=ID,socket=PATH[,server=on][,reconnect=SECONDS]",
	  opt_netdev },
	{ "device", 0, "SPEC", "NIC: virtio-net-pci,netdev=ID[,mac=52:54:00:12:34:56]",
	  opt_device },
	{ "seccomp", 0, "on|off",
	  "each thread under its system call allow-list once the guest runs (default on)",
	  opt_seccomp },
	{ "verbose", 'v', NULL, "more messages (repeat for debug)", opt_verbose },
	{ "quiet", 'q', NULL, "errors only", opt_quiet },
	{ "help", 'h', NULL, "this text", NULL },
};

void options_usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: kavm --kernel PATH [options]\n\n");
	for (i = 0; i < ARRAY_SIZE(kavm_options); i++) {
		const struct kavm_option *o = &kavm_options[i];
		char lhs[40];

		if (o->short_name)
			snprintf(lhs, sizeof(lhs), "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(lhs, sizeof(lhs), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "  %-28s %s\n", lhs, o->help);
	}
	fprintf(f, "\nExit status: 0 when the guest reboots or powers off, 1 otherwise.\n"
		   "On a terminal, Ctrl-a x stops the VM.\n");
}

static void options_table(struct option *lopts, char *sopts)
{
	unsigned int i;

	*sopts++ = ':'; /* report a missing argument as ':' */
	for (i = 0; i < ARRAY_SIZE(kavm_options); i++) {
		const struct kavm_option *o = &kavm_options[i];

		lopts[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
					    256 + i };
		if (o->short_name) {
			*sopts++ = o->short_name;
			if (o->arg)
				*sopts++ = ':';
		}
	}
	lopts[i] = (struct option){ 0 };
	*sopts = 0;
}

static int options_index(int c)
{
	unsigned int i;

	if (c >= 256)
		return c - 256;
	for (i = 0; i < ARRAY_SIZE(kavm_options); i++)
		if (kavm_options[i].short_name == c)
			return i;
	return -1;
}

static void options_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = KAVM_DEFAULT_MEM;
	cfg->nr_cpus = 1;
	/* LeakSanitizer's exit-time scan (ptrace, clone) cannot run sandboxed. */
#ifndef __SANITIZE_ADDRESS__
	cfg->seccomp = true;
#endif
}

int options_parse(int argc, char **argv, struct vm_config *cfg)
{
	struct option lopts[ARRAY_SIZE(kavm_options) + 1];
	char sopts[2 * ARRAY_SIZE(kavm_options) + 2];
	int c, idx;

	options_defaults(cfg);
	options_table(lopts, sopts);
	opterr = 0;
	optind = 0; /* 0: also reset getopt's internal state (tests parse twice) */
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			pr_err("%s: %s (try --help)", argv[optind - 1],
			       c == '?' ? "unknown option" : "missing argument");
			return -EINVAL;
		}
		idx = options_index(c);
		if (idx < 0)
			return -EINVAL;
		if (!kavm_options[idx].parse) {
			options_usage(stdout);
			return 1;
		}
		if (kavm_options[idx].parse(cfg, optarg))
			return -EINVAL;
	}
	if (optind < argc) {
		pr_err("%s: unexpected argument (try --help)", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->kernel_path) {
		pr_err("no kernel: --kernel PATH is required (try --help)");
		return -EINVAL;
	}
	return options_check_nics(cfg);
}
