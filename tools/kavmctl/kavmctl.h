/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavmctl: the admin tool's command table and shared state.
 *
 * Each object (bridge, tap, link, switch, fdb) lives in its own file and
 * registers itself with KAVMCTL_CMD(); the linker gathers the entries into
 * one table that main() dispatches through, so a new object is a new file.
 * Argument helpers follow iproute2: matches(), NEXT_ARG(), and commands
 * return 0 on success or a negative errno after printing one message, or
 * KAVMCTL_EUSAGE after printing why the command line cannot run.
 */
#ifndef KAVMCTL_H
#define KAVMCTL_H

#include <stdbool.h>

#include <kavm/json.h>

struct kavmctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	void (*usage)(void); /* prints this object's grammar lines */
};

#define KAVMCTL_CMD(_name, _fn, _usage)                                                            \
	static const struct kavmctl_cmd __kavmctl_cmd_##_fn                                        \
		__attribute__((used, section("kavmctl_cmds"), aligned(sizeof(void *)))) = {        \
			.name = _name, .fn = _fn, .usage = _usage                                  \
		}

/*
 * A command line that does not follow the grammar (unknown command or
 * keyword, missing or extra argument, a value that does not parse): exit
 * status 255, as ip's usage errors; any -errno is a failure, status 1.
 * Not an errno: never handed to strerror().
 */
#define KAVMCTL_EUSAGE (-4096)
#define KAVMCTL_EXIT_USAGE 255

/* Global options, set by main() before dispatch. */
extern bool kavmctl_json;	  /* -j */
extern bool kavmctl_pretty;	  /* -p: -j output indented */
extern bool kavmctl_brief;	  /* -br: ip -br's columns on link/bridge/tap show */
extern bool kavmctl_details;	  /* -d: link show adds its kind's facts */
extern bool kavmctl_stats;	  /* -s */
extern const char *kavmctl_netns; /* -n NETNS, already entered by main() */

/* Run one command line, ARGV[0] the object; the command's return value. */
int kavmctl_run(int argc, char **argv);
/*
 * -batch FILE ("-": stdin): kavmctl_run() each line, stopping at the first
 * that fails unless FORCE; the exit status: 0, 255 if a failed line was a
 * usage error, else 1.
 */
int kavmctl_batch(const char *file, bool force);

/* The name of the current network namespace under /run/netns (-n's, else found), or NULL. */
const char *kavmctl_netns_name(void);

/* true when arg is a non-empty prefix of word (iproute2's matches(), inverted sense). */
bool kavmctl_matches(const char *arg, const char *word);

/* A writer on stdout when -j was given, NULL otherwise. */
struct json_writer *kavmctl_json_begin(void);
void kavmctl_json_end(struct json_writer *jw);

#endif /* KAVMCTL_H */
