// SPDX-License-Identifier: GPL-2.0
/* kavmctl -batch FILE [-force]: one command a line, as ip -batch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/log.h>

#include "kavmctl.h"

#define BATCH_MAX_ARGS 256

/*
 * ip's batch syntax: words split on blanks, "..." or '...' keep blanks in one
 * word, '#' at the start of a word comments out the rest of the line.
 * Returns the number of words, or -EINVAL (an open quote, too many words).
 */
static int split_line(char *s, char **argv, int max)
{
	int argc = 0;
	char quote;

	for (;;) {
		s += strspn(s, " \t\r\n");
		if (!*s || *s == '#')
			return argc;
		if (argc == max)
			return -EINVAL;
		quote = *s == '"' || *s == '\'' ? *s++ : 0;
		argv[argc++] = s;
		s += quote ? strcspn(s, (char[]){ quote, 0 }) : strcspn(s, " \t\r\n");
		if (quote && !*s)
			return -EINVAL;
		if (*s)
			*s++ = '\0';
	}
}

/* A batch line's words as a command; its return value (KAVMCTL_EUSAGE, -errno, 0). */
static int run_line(char *line, const char *file, int lineno)
{
	char *argv[BATCH_MAX_ARGS];
	int argc = split_line(line, argv, BATCH_MAX_ARGS);

	if (argc < 0) {
		pr_err("%s:%d: an unclosed quote or more than %d words", file, lineno,
		       BATCH_MAX_ARGS);
		return KAVMCTL_EUSAGE;
	}
	return argc ? kavmctl_run(argc, argv) : 0;
}

int kavmctl_batch(const char *file, bool force)
{
	bool json = kavmctl_json, stats = kavmctl_stats;
	int ret, lineno = 0, status = 0;
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char *line = NULL;
	size_t size = 0;

	if (!f) {
		pr_err("batch %s: %s", file, strerror(errno));
		return 1;
	}
	while (getline(&line, &size, f) >= 0) {
		lineno++;
		/* "show -j" on one line must not make the next one JSON. */
		kavmctl_json = json;
		kavmctl_stats = stats;
		ret = run_line(line, file, lineno);
		fflush(stdout);
		if (!ret)
			continue;
		pr_err("Command failed %s:%d", file, lineno);
		if (status != KAVMCTL_EXIT_USAGE)
			status = ret == KAVMCTL_EUSAGE ? KAVMCTL_EXIT_USAGE : 1;
		if (!force)
			break;
	}
	if (ferror(f)) {
		pr_err("batch %s: line %d: %s", file, lineno + 1, strerror(errno));
		status = status ? status : 1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return status;
}
