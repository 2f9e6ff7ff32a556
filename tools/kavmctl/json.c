// SPDX-License-Identifier: GPL-2.0
/* kavmctl: -j output, indented one key a line with -p, as ip -j -p. */
#include <stdio.h>
#include <stdlib.h>

#include "kavmctl.h"

/* -p: the writer's compact output goes here first, then out re-indented. */
static FILE *pretty_f;
static char *pretty_buf;
static size_t pretty_len;

struct json_writer *kavmctl_json_begin(void)
{
	struct json_writer *jw;

	if (!kavmctl_json)
		return NULL;
	if (kavmctl_pretty)
		pretty_f = open_memstream(&pretty_buf, &pretty_len);
	/* Without memory for the copy, compact JSON is still JSON. */
	jw = jw_new(pretty_f ? pretty_f : stdout);
	if (!jw && pretty_f) {
		fclose(pretty_f);
		free(pretty_buf);
		pretty_f = NULL;
	}
	return jw;
}

static void newline_indent(FILE *out, int depth)
{
	fputc('\n', out);
	while (depth-- > 0)
		fputs("    ", out);
}

/* The writer puts no blank anywhere outside strings: every '{' ',' ':' is structure. */
static void print_pretty(FILE *out, const char *s, size_t len)
{
	bool in_str = false, esc = false;
	int depth = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_str) {
			in_str = esc || s[i] != '"';
			esc = !esc && s[i] == '\\';
			fputc(s[i], out);
			continue;
		}
		switch (s[i]) {
		case '{':
		case '[':
			fputc(s[i], out);
			if (i + 1 < len && (s[i + 1] == '}' || s[i + 1] == ']'))
				fputc(s[++i], out);
			else
				newline_indent(out, ++depth);
			break;
		case '}':
		case ']':
			newline_indent(out, depth > 0 ? --depth : 0);
			fputc(s[i], out);
			break;
		case ',':
			fputc(',', out);
			newline_indent(out, depth);
			break;
		case ':':
			fputs(": ", out);
			break;
		default:
			in_str = s[i] == '"';
			fputc(s[i], out);
		}
	}
}

void kavmctl_json_end(struct json_writer *jw)
{
	jw_destroy(jw);
	if (!pretty_f)
		return;
	fclose(pretty_f);
	pretty_f = NULL;
	print_pretty(stdout, pretty_buf, pretty_len);
	fflush(stdout);
	free(pretty_buf);
	pretty_buf = NULL;
}
