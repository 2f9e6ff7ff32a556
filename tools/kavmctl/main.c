// SPDX-License-Identifier: GPL-2.0
/* kavmctl: global options, network namespace entry and command dispatch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kavm/log.h>

#include "kavmctl.h"
#include "netutil.h"

bool kavmctl_json;
bool kavmctl_stats;
const char *kavmctl_netns;

extern const struct kavmctl_cmd __start_kavmctl_cmds[], __stop_kavmctl_cmds[];

bool kavmctl_matches(const char *arg, const char *word)
{
	size_t len = strlen(arg);

	return len && len <= strlen(word) && !strncmp(arg, word, len);
}

struct json_writer *kavmctl_json_begin(void)
{
	return kavmctl_json ? jw_new(stdout) : NULL;
}

void kavmctl_json_end(struct json_writer *jw)
{
	jw_destroy(jw);
}

/* On stdout, as the objects' own usage callbacks print: kavmctl_usage_to_stderr() moves it. */
static void usage(void)
{
	const struct kavmctl_cmd *c;

	printf("Usage: kavmctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
	       "OPTIONS := { -j[son] | -s[tatistics] | -n[etns] NAME | -v[erbose] | -h[elp] }\n"
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	   { "statistics", no_argument, NULL, 's' },
		{ "netns", required_argument, NULL, 'n' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	   {}
	};
	const struct kavmctl_cmd *cmd;
	int c, ret;

	log_init("kavmctl");
	log_level = LOG_LEVEL_WARN;
	log_hook_libraries();
	/* "+": stop at the first non-option, the object's own arguments follow. */
	while ((c = getopt_long(argc, argv, "+jsn:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			kavmctl_json = true;
			break;
		case 's':
			kavmctl_stats = true;
			break;
		case 'n':
			kavmctl_netns = optarg;
			break;
		case 'v':
			log_level = LOG_LEVEL_DEBUG;
			break;
		case 'h':
			usage();
			return 0;
		default:
			kavmctl_usage_to_stderr(usage);
			return KAVMCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		kavmctl_usage_to_stderr(usage);
		return KAVMCTL_EXIT_USAGE;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		pr_err("unknown object \"%s\"; try \"kavmctl -h\"", argv[optind]);
		return KAVMCTL_EXIT_USAGE;
	}
	if (kavmctl_netns) {
		ret = enter_netns(kavmctl_netns);
		if (ret) {
			pr_err("netns %s: %s", kavmctl_netns, strerror(-ret));
			return 1;
		}
	}
	ret = cmd->fn(argc - optind - 1, argv + optind + 1);
	return exit_status(ret);
}
