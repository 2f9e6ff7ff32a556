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
#include <sys/un.h>

#include <kavm/control.h>
#include <kavm/cpulist.h>
#include <kavm/log.h>
#include <kavm/options.h>
#include <kavm/registry.h>

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

static int opt_name(struct vm_config *cfg, const char *arg)
{
	if (registry_check_name(arg)) {
		pr_err("--name %s: expected 1 to %d letters, digits, '-', '_' or '.', not starting "
		       "with '.' or '-'",
		       arg, REGISTRY_NAME_MAX);
		return -EINVAL;
	}
	cfg->name = arg;
	return 0;
}

/* --memory's hugepages= and mlock= (Documentation/performance.md). */
static int opt_memory_key(struct vm_config *cfg, const char *arg, const char *kv)
{
	const char *v;
	bool *flag;

	if (!strncmp(kv, "hugepages=", 10)) {
		flag = &cfg->mem_hugepages;
		v = kv + 10;
	} else if (!strncmp(kv, "mlock=", 6)) {
		flag = &cfg->mem_lock;
		v = kv + 6;
	} else {
		pr_err("--memory %s: unknown key '%s' (expected hugepages=on|off or mlock=on|off)",
		       arg, kv);
		return -EINVAL;
	}
	if (strcmp(v, "on") && strcmp(v, "off")) {
		pr_err("--memory %s: '%s': expected on or off", arg, kv);
		return -EINVAL;
	}
	*flag = !strcmp(v, "on");
	return 0;
}

/* --memory SIZE[,hugepages=on][,mlock=on]; SIZE may be spelled size=SIZE, as QEMU's -m. */
static int opt_memory(struct vm_config *cfg, const char *arg)
{
	char copy[128], *size, *tok, *save = NULL;
	unsigned long long bytes;

	if (snprintf(copy, sizeof(copy), "%s", arg) >= (int)sizeof(copy)) {
		pr_err("--memory %.32s...: longer than %zu characters", arg, sizeof(copy) - 1);
		return -EINVAL;
	}
	size = strtok_r(copy, ",", &save);
	if (size && !strncmp(size, "size=", 5))
		size += 5;
	if (!size || parse_mem_size(size, &bytes)) {
		pr_err("--memory %s: not a size (examples: 512M, 2G)", arg);
		return -EINVAL;
	}
	if (bytes < KVM_MIN_MEM || bytes > KAVM_MAX_MEM || bytes & 0xfff) {
		pr_err("--memory %s: must be a multiple of 4K from %lluM to %lluG", arg,
		       KVM_MIN_MEM >> 20, KAVM_MAX_MEM >> 30);
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, ",", &save)))
		if (opt_memory_key(cfg, arg, tok))
			return -EINVAL;
	cfg->mem_size = bytes;
	return 0;
}

/*
 * A CPU list of --cpus affinity= or --io-affinity: its syntax, and every
 * CPU one kavm may run on now (its own mask, as taskset or a cgroup left
 * it), so a typo is one line here rather than EINVAL from a thread later.
 */
static int options_cpulist(const char *what, const char *arg, const char *list, cpu_set_t *set)
{
	char allowed_list[256];
	cpu_set_t allowed;
	long bad;
	int cpu, ret;

	ret = cpulist_parse(list, set, &bad);
	if (ret == -ERANGE) {
		pr_err("%s %s: CPU %ld: kavm handles CPUs 0 to %d", what, arg, bad,
		       CPU_SETSIZE - 1);
		return -EINVAL;
	}
	if (ret) {
		pr_err("%s %s: '%s' is not a CPU list (examples: 0-1,3 or 2)", what, arg, list);
		return -EINVAL;
	}
	ret = cpulist_check_allowed(set, &allowed, &cpu);
	if (ret < 0) {
		pr_err("%s %s: sched_getaffinity: %s", what, arg, strerror(-ret));
		return -EINVAL;
	}
	if (ret) {
		pr_err("%s %s: CPU %d is not one kavm may run on (allowed: %s)", what, arg, cpu,
		       cpulist_format(&allowed, allowed_list, sizeof(allowed_list)));
		return -EINVAL;
	}
	return 0;
}

/*
 * --cpus N[,affinity=LIST]. LIST is taskset's "0-1,3": after affinity=,
 * an item without '=' continues the list, since every key has one.
 */
static int opt_cpus_keys(struct vm_config *cfg, const char *arg, char **save)
{
	char list[256] = "", *tok;
	bool in_list = false;
	size_t len;

	while ((tok = strtok_r(NULL, ",", save))) {
		len = strlen(list);
		if (!strncmp(tok, "affinity=", 9) && !in_list) {
			snprintf(list, sizeof(list), "%s", tok + 9);
			in_list = true;
		} else if (in_list && !strchr(tok, '=')) {
			snprintf(list + len, sizeof(list) - len, ",%s", tok);
		} else {
			pr_err("--cpus %s: unexpected '%s' (the only key is affinity=LIST, once)",
			       arg, tok);
			return -EINVAL;
		}
	}
	if (!in_list)
		return 0;
	if (options_cpulist("--cpus", arg, list, &cfg->vcpu_affinity))
		return -EINVAL;
	cfg->vcpu_affinity_set = true;
	return 0;
}

static int opt_cpus(struct vm_config *cfg, const char *arg)
{
	char copy[256], *tok, *save = NULL, *end = NULL;
	unsigned long n = 0;

	if (snprintf(copy, sizeof(copy), "%s", arg) >= (int)sizeof(copy)) {
		pr_err("--cpus %.32s...: longer than %zu characters", arg, sizeof(copy) - 1);
		return -EINVAL;
	}
	tok = strtok_r(copy, ",", &save);
	errno = 0;
	if (tok)
		n = strtoul(tok, &end, 10);
	if (!tok || errno || end == tok || *end || *tok == '-' || n < 1 || n > KVM_MAX_CPUS) {
		pr_err("--cpus %s: must be a number from 1 to %d", arg, KVM_MAX_CPUS);
		return -EINVAL;
	}
	cfg->vcpu_affinity_set = false;
	if (opt_cpus_keys(cfg, arg, &save))
		return -EINVAL;
	cfg->nr_cpus = n;
	return 0;
}

static int opt_io_affinity(struct vm_config *cfg, const char *arg)
{
	if (options_cpulist("--io-affinity", arg, arg, &cfg->io_affinity))
		return -EINVAL;
	cfg->io_affinity_set = true;
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

static int opt_no_acpi(struct vm_config *cfg, const char *arg)
{
	cfg->acpi = false;
	return 0;
}

static int opt_dump_acpi(struct vm_config *cfg, const char *arg)
{
	cfg->dump_acpi_dir = arg;
	return 0;
}

/* what (--netdev, --nic) and arg (as typed) name the option in messages; spec is parsed. */
static int netdev_add(struct vm_config *cfg, const char *what, const char *arg, const char *spec)
{
	struct netdev_opts o;
	char err[128];
	unsigned int i;

	if (netdev_parse(spec, &o, err, sizeof(err))) {
		pr_err("%s %s: %s", what, arg, err);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_netdevs; i++) {
		if (!strcmp(cfg->netdevs[i].id, o.id)) {
			pr_err("%s %s: duplicate id %s", what, arg, o.id);
			return -EINVAL;
		}
	}
	if (cfg->nr_netdevs == KAVM_MAX_NICS) {
		pr_err("%s %s: more than %d netdevs", what, arg, KAVM_MAX_NICS);
		return -EINVAL;
	}
	cfg->netdevs[cfg->nr_netdevs++] = o;
	return 0;
}

static int device_add(struct vm_config *cfg, const char *what, const char *arg, const char *spec)
{
	struct net_device_opts o;
	char err[128];
	unsigned int i;

	if (net_device_parse(spec, &o, err, sizeof(err))) {
		pr_err("%s %s: %s", what, arg, err);
		return -EINVAL;
	}
	for (i = 0; o.id[0] && i < cfg->nr_nics; i++) {
		if (!strcmp(cfg->nics[i].id, o.id)) {
			pr_err("%s %s: duplicate id %s", what, arg, o.id);
			return -EINVAL;
		}
	}
	if (cfg->nr_nics == KAVM_MAX_NICS) {
		pr_err("%s %s: more than %d devices", what, arg, KAVM_MAX_NICS);
		return -EINVAL;
	}
	cfg->nics[cfg->nr_nics++] = o;
	return 0;
}

/* What --device help lists: the devices net_device_parse() takes. */
static const struct {
	const char *name, *keys, *help;
} kavm_devices[] = {
	{ "virtio-net-pci", "netdev=ID[,mac=52:54:00:12:34:56][,id=ID]",
	  "virtio 1.x network card on PCI (MSI-X)" },
};

static void devices_help(void)
{
	unsigned int i;

	printf("Network devices:\n");
	for (i = 0; i < ARRAY_SIZE(kavm_devices); i++)
		printf("  %-16s %s\n  %-16s %s\n", kavm_devices[i].name, kavm_devices[i].help, "",
		       kavm_devices[i].keys);
}

static int opt_netdev(struct vm_config *cfg, const char *arg)
{
	const struct net_backend_ops *b;
	unsigned int i;

	if (!strcmp(arg, "help")) {
		printf("Available netdev backend types:\n");
		for (i = 0; (b = net_backend_nth(i)); i++)
			printf("  %s\n", b->type);
		return 1;
	}
	return netdev_add(cfg, "--netdev", arg, arg);
}

/* QEMU's --object, for the one kind kavm has: filter-dump. */
static int opt_object(struct vm_config *cfg, const char *arg)
{
	struct net_filter_opts o;
	char err[128];
	unsigned int i;

	if (!strcmp(arg, "help")) {
		printf("Objects:\n  filter-dump      id=ID,netdev=ID,file=PATH[,maxlen=N]"
		       "[,maxsize=SIZE]\n");
		return 1;
	}
	if (net_filter_parse(arg, &o, err, sizeof(err))) {
		pr_err("--object %s: %s", arg, err);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_filters; i++) {
		if (!strcmp(cfg->filters[i].id, o.id)) {
			pr_err("--object %s: duplicate id %s", arg, o.id);
			return -EINVAL;
		}
	}
	if (cfg->nr_filters == KAVM_MAX_NICS) {
		pr_err("--object %s: more than %d objects", arg, KAVM_MAX_NICS);
		return -EINVAL;
	}
	cfg->filters[cfg->nr_filters++] = o;
	return 0;
}

static int opt_device(struct vm_config *cfg, const char *arg)
{
	if (!strcmp(arg, "help")) {
		devices_help();
		return 1;
	}
	return device_add(cfg, "--device", arg, arg);
}

static int nic_append(char *buf, size_t size, const char *kv)
{
	size_t len = strlen(buf);

	return (size_t)snprintf(buf + len, size - len, ",%s", kv) >= size - len ? -E2BIG : 0;
}

/* One key=value of --nic: model= and mac= are the device's, the rest the netdev's. */
static int nic_split_one(const char *kv, char *netdev, char *device, size_t size)
{
	/* QEMU also calls it plain "virtio". */
	if (!strncmp(kv, "model=", 6))
		return strcmp(kv + 6, "virtio-net-pci") && strcmp(kv + 6, "virtio") ? -ENOENT : 0;
	return nic_append(!strncmp(kv, "mac=", 4) ? device : netdev, size, kv);
}

/*
 * QEMU's -nic TYPE,...: a netdev and a virtio-net-pci on it in one, the
 * netdev's id from id= or nicN (N counting NICs, as QEMU numbers them).
 */
static int opt_nic(struct vm_config *cfg, const char *arg)
{
	char copy[256], netdev[320], device[320], *tok, *save = NULL;
	bool has_id = false;
	int ret;

	if (!strcmp(arg, "none"))
		return 0;
	if (!strcmp(arg, "help") || strstr(arg, "model=help")) {
		devices_help();
		return 1;
	}
	if (snprintf(copy, sizeof(copy), "%s", arg) >= (int)sizeof(copy)) {
		pr_err("--nic %.32s...: longer than %zu characters", arg, sizeof(copy) - 1);
		return -EINVAL;
	}
	tok = strtok_r(copy, ",", &save);
	snprintf(netdev, sizeof(netdev), "%s", tok ? tok : "");
	device[0] = 0;
	while ((tok = strtok_r(NULL, ",", &save))) {
		has_id |= !strncmp(tok, "id=", 3);
		ret = nic_split_one(tok, netdev, device, sizeof(netdev));
		if (ret == -ENOENT) {
			pr_err("--nic %s: %s: kavm's NIC is virtio-net-pci", arg, tok);
			return -EINVAL;
		}
	}
	if (!has_id) {
		snprintf(copy, sizeof(copy), "id=nic%u", cfg->nr_nics);
		nic_append(netdev, sizeof(netdev), copy);
	}
	ret = netdev_add(cfg, "--nic", arg, netdev);
	if (ret)
		return ret;
	save = strstr(netdev, ",id=");
	snprintf(copy, sizeof(copy), "virtio-net-pci,netdev=%.*s%s", (int)strcspn(save + 4, ","),
		 save + 4, device);
	return device_add(cfg, "--nic", arg, copy);
}

/* "virtio-net-pci[,id=nic0],netdev=n0": how messages name a device. */
static const char *device_label(const struct net_device_opts *d, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s,netdev=%s", d->driver, d->id[0] ? ",id=" : "", d->id,
		 d->netdev);
	return buf;
}

/*
 * A device's id names it on the control socket as a netdev's id does
 * (set-link takes either): it may be its own netdev's id, no other's.
 */
static int options_check_device_id(const struct vm_config *cfg, const struct net_device_opts *d)
{
	char label[128];
	unsigned int j;

	for (j = 0; d->id[0] && j < cfg->nr_netdevs; j++) {
		if (!strcmp(cfg->netdevs[j].id, d->id) && strcmp(d->netdev, d->id)) {
			pr_err("--device %s: id %s is another netdev's id",
			       device_label(d, label, sizeof(label)), d->id);
			return -EINVAL;
		}
	}
	return 0;
}

/* A filter-dump watches a netdev kavm opens: one a device uses. */
static int options_check_filters(const struct vm_config *cfg)
{
	unsigned int i, j;

	for (i = 0; i < cfg->nr_filters; i++) {
		const struct net_filter_opts *f = &cfg->filters[i];

		for (j = 0; j < cfg->nr_nics && strcmp(cfg->nics[j].netdev, f->netdev); j++)
			;
		if (j < cfg->nr_nics)
			continue;
		for (j = 0; j < cfg->nr_netdevs && strcmp(cfg->netdevs[j].id, f->netdev); j++)
			;
		pr_err("--object filter-dump,id=%s: %s %s", f->id,
		       j < cfg->nr_netdevs ? "no device uses netdev" : "no --netdev with id",
		       f->netdev);
		return -EINVAL;
	}
	return 0;
}

/* After all options: each device names a netdev that exists and no other device uses. */
static int options_check_nics(const struct vm_config *cfg)
{
	char label[128];
	unsigned int i, j;

	for (i = 0; i < cfg->nr_nics; i++) {
		const char *id = cfg->nics[i].netdev;

		device_label(&cfg->nics[i], label, sizeof(label));
		for (j = 0; j < cfg->nr_netdevs && strcmp(cfg->netdevs[j].id, id); j++)
			;
		if (j == cfg->nr_netdevs) {
			pr_err("--device %s: no --netdev with id %s", label, id);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(cfg->nics[j].netdev, id)) {
				pr_err("--device %s: netdev %s is already used by another device",
				       label, id);
				return -EINVAL;
			}
		}
		if (options_check_device_id(cfg, &cfg->nics[i]))
			return -EINVAL;
	}
	return 0;
}

static int opt_control(struct vm_config *cfg, const char *arg)
{
	struct sockaddr_un sa;

	if (!*arg || strlen(arg) >= sizeof(sa.sun_path)) {
		pr_err("--control %s: a socket path of 1 to %zu characters", arg,
		       sizeof(sa.sun_path) - 1);
		return -EINVAL;
	}
	cfg->control_path = strcmp(arg, "none") ? arg : NULL;
	cfg->control_set = true;
	return 0;
}

/* --name NAME without --control: the socket kavmctl vm finds by that name. */
static int options_control_default(struct vm_config *cfg)
{
	static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (cfg->control_set || !cfg->name)
		return 0;
	if (control_name_path(cfg->name, path, sizeof(path))) {
		pr_err("--name %s: %s/%s.sock is too long for a socket path (use --control PATH)",
		       cfg->name, control_rundir(), cfg->name);
		return -EINVAL;
	}
	cfg->control_path = path;
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

static int opt_version(struct vm_config *cfg, const char *arg)
{
	printf("kavm version %s\n", KAVM_VERSION);
	return 1;
}

static const struct kavm_option kavm_options[] = {
	{ "kernel", 'k', "PATH", "Linux kernel: bzImage or ELF vmlinux (required)", opt_kernel },
	{ "initrd", 'i', "PATH", "initial ramdisk", opt_initrd },
	{ "cmdline", 'c', "STR", "kernel command line", opt_cmdline },
	{ "name", 0, "NAME",
	  "the VM's name for kavmctl vm, kavm-trace (/run/kavm/NAME.json) and messages "
	  "(default kavm-PID)",
	  opt_name },
	{ "memory", 'm', "SIZE",
	  "guest RAM, e.g. 512M or 2G (default 512M; a bare number is MiB)"
	  "[,hugepages=on: from the huge page pool][,mlock=on: locked in host RAM]",
	  opt_memory },
	{ "cpus", 'p', "N",
	  "number of vCPUs (default 1)[,affinity=LIST: every vCPU thread on these host CPUs, "
	  "e.g. 0-1,3]",
	  opt_cpus },
	{ "io-affinity", 0, "LIST", "kavm's I/O thread on these host CPUs, e.g. 2 or 2-3",
	  opt_io_affinity },
	{ "cpu-features", 0, "LIST", "-name hides a CPUID flag, +name requires it: -cx16,-xsave",
	  opt_cpu_features },
	{ "serial", 's', "SPEC", "COM1 backend: stdio (default), none, file:PATH, unix:PATH",
	  opt_serial },
	{ "netdev", 0, "SPEC",
	  "network backend: tap,id=ID[,ifname=NAME][,fd=N][,vnet_hdr=on|off][,vhost=on][,queues=N]"
	  " or bridge,id=ID,br=BR[,create=on][,vhost=on]; both take switch=SW;"
	  " or vhost-user,id=ID,socket=PATH[,server=on][,reconnect=SECONDS][,queues=N]"
	  " or hubport,id=ID,hubid=N"
	  " or socket,id=ID,listen=|connect=HOST:PORT|udp=HOST:PORT,localaddr=HOST:PORT"
	  "|mcast=GROUP:PORT[,localaddr=ADDR]; help lists the types",
	  opt_netdev },
	{ "device", 0, "SPEC",
	  "NIC: virtio-net-pci,netdev=ID[,mac=52:54:00:12:34:56][,id=ID]; help lists them",
	  opt_device },
	{ "object", 0, "SPEC",
	  "filter-dump,id=ID,netdev=ID,file=PATH[,maxlen=N][,maxsize=SIZE]: a pcap of the "
	  "netdev's frames; help lists the objects",
	  opt_object },
	{ "nic", 0, "SPEC",
	  "a netdev and its NIC in one, as QEMU's -nic: tap,ifname=tap0[,mac=MAC][,id=ID]...",
	  opt_nic },
	{ "control", 0, "PATH",
	  "control socket (JSON, QMP-like); default with --name: $KAVM_RUNDIR/NAME.sock, "
	  "KAVM_RUNDIR=/run/kavm; none: no socket",
	  opt_control },
	{ "seccomp", 0, "on|off",
	  "each thread under its system call allow-list once the guest runs (default on)",
	  opt_seccomp },
	{ "no-acpi", 0, NULL, "no ACPI tables: the guest finds the machine in the MP table only",
	  opt_no_acpi },
	{ "dump-acpi", 0, "DIR", "write the ACPI tables as DIR/SIG.dat and exit (needs no kernel)",
	  opt_dump_acpi },
	{ "verbose", 'v', NULL, "more messages (repeat for debug)", opt_verbose },
	{ "quiet", 'q', NULL, "errors only", opt_quiet },
	{ "version", 0, NULL, "print kavm's version", opt_version },
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
	cfg->acpi = true;
	/* LeakSanitizer's exit-time scan (ptrace, clone) cannot run sandboxed. */
#ifndef __SANITIZE_ADDRESS__
	cfg->seccomp = true;
#endif
}

/*
 * The argv element getopt_long() just refused, as typed: "-nographic", not
 * the element before it. A short option char inside a cluster leaves optind
 * on its element; the last char of one, and any long option, move past it.
 */
static const char *options_refused(int argc, char **argv)
{
	const char *prev = optind > 0 ? argv[optind - 1] : NULL;

	if (optopt <= 0 || optopt >= 256)
		return prev;
	if (prev && prev[0] == '-' && prev[1] != '-' && prev[strlen(prev) - 1] == optopt)
		return prev;
	return optind < argc ? argv[optind] : prev;
}

static const struct kavm_option *options_find_long(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kavm_options); i++)
		if (!strcmp(kavm_options[i].name, name))
			return &kavm_options[i];
	return NULL;
}

/* Does argv element a take the next element as its argument? */
static bool options_takes_next(const char *a)
{
	const struct kavm_option *o;
	unsigned int i;

	if (a[0] != '-' || !a[1])
		return false;
	if (a[1] == '-')
		return !strchr(a, '=') && (o = options_find_long(a + 2)) && o->arg;
	for (i = 0; i < ARRAY_SIZE(kavm_options); i++)
		if (kavm_options[i].short_name == a[strlen(a) - 1] && kavm_options[i].arg)
			return true;
	return false;
}

/*
 * QEMU spells long options with one dash (-kernel, -netdev, -nic, -name):
 * argv with each such element that is exactly one of kavm's long names made
 * "--name"; the new strings are in *owned, for options_free_spelling(). "-nographic" is not
 * one and stays, to be refused by name.
 */
static char **options_qemu_spelling(int argc, char **argv, char ***owned)
{
	char **v = calloc(argc + 1, sizeof(*v)), **own = calloc(argc + 1, sizeof(*own));
	int i, n = 0;
	bool arg = false;

	if (!v || !own) {
		free(v);
		free(own);
		return NULL;
	}
	for (i = 0; i < argc; i++) {
		v[i] = argv[i];
		if (i == 0 || arg || !strcmp(argv[i], "--")) {
			arg = false;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '-' && strlen(argv[i]) > 2 &&
		    options_find_long(argv[i] + 1) && asprintf(&own[n], "-%s", argv[i]) > 0)
			v[i] = own[n++];
		arg = options_takes_next(v[i]);
	}
	*owned = own;
	return v;
}

static void options_free_spelling(char **v, char **owned)
{
	unsigned int i;

	for (i = 0; owned && owned[i]; i++)
		free(owned[i]);
	free(owned);
	free(v);
}

/* getopt_long over argv (already respelled); 0, 1 (exit 0) or -EINVAL. */
static int options_walk(int argc, char **argv, struct vm_config *cfg)
{
	struct option lopts[ARRAY_SIZE(kavm_options) + 1];
	char sopts[2 * ARRAY_SIZE(kavm_options) + 2];
	int c, idx, ret;

	options_table(lopts, sopts);
	opterr = 0;
	optind = 0; /* 0: also reset getopt's internal state (tests parse twice) */
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			pr_err("%s: %s (try --help)", options_refused(argc, argv),
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
		ret = kavm_options[idx].parse(cfg, optarg);
		if (ret)
			return ret < 0 ? -EINVAL : 1;
	}
	if (optind < argc) {
		pr_err("%s: unexpected argument (try --help)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int options_parse(int argc, char **argv, struct vm_config *cfg)
{
	char **v, **owned = NULL;
	int ret;

	options_defaults(cfg);
	v = options_qemu_spelling(argc, argv, &owned);
	if (!v)
		return -ENOMEM;
	ret = options_walk(argc, v, cfg);
	options_free_spelling(v, owned);
	if (ret)
		return ret;
	if (cfg->dump_acpi_dir && !cfg->acpi) {
		pr_err("--dump-acpi: there are no tables with --no-acpi");
		return -EINVAL;
	}
	if (!cfg->kernel_path && !cfg->dump_acpi_dir) {
		pr_err("no kernel: --kernel PATH is required (try --help)");
		return -EINVAL;
	}
	if (options_control_default(cfg))
		return -EINVAL;
	ret = options_check_nics(cfg);
	if (!ret)
		ret = options_check_filters(cfg);
	return ret;
}
