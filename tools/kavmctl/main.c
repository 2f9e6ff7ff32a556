// SPDX-License-Identifier: GPL-2.0
/* kavmctl: global options, network namespace entry and command dispatch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <netlink/version.h>

#include <kavm/log.h>

#include "kavmctl.h"
#include "netutil.h"

/* The build may say which kavm this is (-DKAVM_VERSION=...). */
#ifndef KAVM_VERSION
#define KAVM_VERSION "0.1"
#endif

bool kavmctl_json;
bool kavmctl_pretty;
bool kavmctl_brief;
bool kavmctl_details;
bool kavmctl_stats;
const char *kavmctl_netns;
static const char *batch_file; /* -batch FILE */
static bool batch_force;       /* -force: go on after a failed line */

extern const struct kavmctl_cmd __start_kavmctl_cmds[], __stop_kavmctl_cmds[];

bool kavmctl_matches(const char *arg, const char *word)
{
	size_t len = strlen(arg);

	return len && len <= strlen(word) && !strncmp(arg, word, len);
}

/* On stdout, as the objects' own usage callbacks print: kavmctl_usage_to_stderr() moves it. */
static void usage(void)
{
	const struct kavmctl_cmd *c;

	printf("Usage: kavmctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
	       "       kavmctl [ OPTIONS ] [ -force ] -batch FILE\n"
	       "OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -br[ief] | -j[son] |\n"
	       "             -p[retty] | -n[etns] NAME | -v[erbose] | -h[elp] }\n"
	       "OBJECT := {");
	for (c = __start_kavmctl_cmds; c < __stop_kavmctl_cmds; c++)
		printf(" %s%s", c->name, c + 1 < __stop_kavmctl_cmds ? " |" : "");
	printf(" }\n\n");
	for (c = __start_kavmctl_cmds; c < __stop_kavmctl_cmds; c++)
		if (c->usage)
			c->usage();
}

static int do_help(int argc, char **argv)
{
	usage();
	return 0;
}
KAVMCTL_CMD("help", do_help, NULL);

/* Like `ip -n NAME`: enter /run/netns/NAME before any socket is opened. */
static int enter_netns(const char *name)
{
	char path[256];
	int fd, ret = 0;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		ret = -errno;
	close(fd);
	return ret;
}

const char *kavmctl_netns_name(void)
{
	static char name[256];
	struct stat self, st;
	struct dirent *de;
	DIR *dir;

	if (kavmctl_netns)
		return kavmctl_netns;
	if (stat("/proc/self/ns/net", &self))
		return NULL;
	dir = opendir("/run/netns");
	if (!dir)
		return NULL;
	name[0] = '\0';
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || fstatat(dirfd(dir), de->d_name, &st, 0))
			continue;
		/* A bind mount of the namespace: the same nsfs inode. */
		if (st.st_dev == self.st_dev && st.st_ino == self.st_ino) {
			snprintf(name, sizeof(name), "%s", de->d_name);
			break;
		}
	}
	closedir(dir);
	return name[0] ? name : NULL;
}

static int exit_status(int ret)
{
	if (ret == KAVMCTL_EUSAGE)
		return KAVMCTL_EXIT_USAGE;
	return ret ? 1 : 0;
}

static const struct kavmctl_cmd *find_cmd(const char *name)
{
	const struct kavmctl_cmd *c;

	for (c = __start_kavmctl_cmds; c < __stop_kavmctl_cmds; c++)
		if (kavmctl_matches(name, c->name))
			return c;
	return NULL;
}

int kavmctl_run(int argc, char **argv)
{
	const struct kavmctl_cmd *cmd = find_cmd(argv[0]);

	if (!cmd) {
		pr_err("unknown object \"%s\"; try \"kavmctl -h\"", argv[0]);
		return KAVMCTL_EUSAGE;
	}
	return cmd->fn(argc - 1, argv + 1);
}

enum opt_id {
	OPT_BATCH,
	OPT_BRIEF,
	OPT_DETAILS,
	OPT_FORCE,
	OPT_HELP,
	OPT_JSON,
	OPT_NETNS,
	OPT_PRETTY,
	OPT_STATS,
	OPT_VERSION,
	OPT_VERBOSE,
};

/*
 * As ip spells them: one dash (or two), any prefix, the first match in this
 * order winning, so that "-s" is -statistics, "-v" -verbose and "-b" -batch.
 */
static const struct {
	const char *name;
	enum opt_id id;
	bool arg;
} options[] = {
	{ "-batch", OPT_BATCH, true }, { "-brief", OPT_BRIEF },	    { "-details", OPT_DETAILS },
	{ "-force", OPT_FORCE },       { "-help", OPT_HELP },	    { "-json", OPT_JSON },
	{ "-netns", OPT_NETNS, true }, { "-pretty", OPT_PRETTY },   { "-statistics", OPT_STATS },
	{ "-stats", OPT_STATS },       { "-Version", OPT_VERSION }, { "-verbose", OPT_VERBOSE },
};

static int find_option(const char *arg)
{
	size_t i;

	/* "--json" is "-json"; a lone "-" matches nothing. */
	if (arg[1] == '-')
		arg++;
	for (i = 0; arg[1] && i < ARRAY_SIZE(options); i++)
		if (kavmctl_matches(arg, options[i].name))
			return i;
	return -1;
}

static void print_version(void)
{
	printf("kavmctl utility, kavm-%s, %s, libbpf %s\n", KAVM_VERSION, LIBNL_STRING,
	       libbpf_version_string());
}

/* Apply one global option; -1 to go on, else main()'s exit status. */
static int apply_option(enum opt_id id, const char *arg)
{
	switch (id) {
	case OPT_HELP:
		usage();
		return 0;
	case OPT_VERSION:
		print_version();
		return 0;
	case OPT_BATCH:
		batch_file = arg;
		break;
	case OPT_BRIEF:
		kavmctl_brief = true;
		break;
	case OPT_DETAILS:
		kavmctl_details = true;
		break;
	case OPT_FORCE:
		batch_force = true;
		break;
	case OPT_JSON:
		kavmctl_json = true;
		break;
	case OPT_NETNS:
		kavmctl_netns = arg;
		break;
	case OPT_PRETTY:
		kavmctl_pretty = true;
		break;
	case OPT_STATS:
		kavmctl_stats = true;
		break;
	case OPT_VERBOSE:
		log_level = LOG_LEVEL_DEBUG;
		break;
	}
	return -1;
}

/* The options before OBJECT; -1 with *next at OBJECT to go on, else an exit status. */
static int parse_options(int argc, char **argv, int *next)
{
	int i, k, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		k = find_option(argv[i]);
		if (k < 0) {
			pr_err("unknown option \"%s\"; try \"kavmctl -h\"", argv[i]);
			return KAVMCTL_EXIT_USAGE;
		}
		if (options[k].arg && i + 1 >= argc) {
			pr_err("option \"%s\" needs an argument", argv[i]);
			return KAVMCTL_EXIT_USAGE;
		}
		ret = apply_option(options[k].id, options[k].arg ? argv[++i] : NULL);
		if (ret >= 0)
			return ret;
	}
	*next = i;
	return -1;
}

int main(int argc, char **argv)
{
	int obj, ret;

	log_init("kavmctl");
	log_level = LOG_LEVEL_WARN;
	log_hook_libraries();
	ret = parse_options(argc, argv, &obj);
	if (ret >= 0)
		return ret;
	if (batch_file && obj < argc) {
		pr_err("-batch %s: unexpected \"%s\" (the commands are in the file)", batch_file,
		       argv[obj]);
		return KAVMCTL_EXIT_USAGE;
	}
	if (!batch_file && obj >= argc) {
		kavmctl_usage_to_stderr(usage);
		return KAVMCTL_EXIT_USAGE;
	}
	if (kavmctl_netns) {
		ret = enter_netns(kavmctl_netns);
		if (ret) {
			pr_err("netns %s: %s", kavmctl_netns, strerror(-ret));
			return 1;
		}
	}
	if (batch_file)
		return kavmctl_batch(batch_file, batch_force);
	return exit_status(kavmctl_run(argc - obj, argv + obj));
}
