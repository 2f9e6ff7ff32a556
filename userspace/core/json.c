// SPDX-License-Identifier: GPL-2.0
/* kavm JSON writer: compact output, escaping per RFC 8259. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include <kavm/json.h>

#define JW_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	unsigned int depth;
	bool first[JW_MAX_DEPTH]; /* no element yet at this depth */
	bool after_name;
};

struct json_writer *jw_new(FILE *out)
{
	struct json_writer *jw = calloc(1, sizeof(*jw));

	if (jw) {
		jw->out = out;
		jw->first[0] = true;
	}
	return jw;
}

void jw_destroy(struct json_writer *jw)
{
	if (!jw)
		return;
	fputc('\n', jw->out);
	fflush(jw->out);
	free(jw);
}

static void jw_sep(struct json_writer *jw)
{
	if (jw->after_name) {
		jw->after_name = false;
		return;
	}
	if (!jw->first[jw->depth])
		fputc(',', jw->out);
	jw->first[jw->depth] = false;
}

static void jw_open(struct json_writer *jw, char c)
{
	jw_sep(jw);
	fputc(c, jw->out);
	if (jw->depth + 1 < JW_MAX_DEPTH)
		jw->depth++;
	jw->first[jw->depth] = true;
}

static void jw_close(struct json_writer *jw, char c)
{
	if (jw->depth)
		jw->depth--;
	fputc(c, jw->out);
}

void jw_start_object(struct json_writer *jw)
{
	jw_open(jw, '{');
}

void jw_end_object(struct json_writer *jw)
{
	jw_close(jw, '}');
}

void jw_start_array(struct json_writer *jw)
{
	jw_open(jw, '[');
}

void jw_end_array(struct json_writer *jw)
{
	jw_close(jw, ']');
}

static void jw_quoted(struct json_writer *jw, const char *s)
{
	const unsigned char *p;

	fputc('"', jw->out);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", jw->out);
			break;
		case '\\':
			fputs("\\\\", jw->out);
			break;
		case '\n':
			fputs("\\n", jw->out);
			break;
		case '\t':
			fputs("\\t", jw->out);
			break;
		default:
			if (*p < 0x20)
				fprintf(jw->out, "\\u%04x", *p);
			else
				fputc(*p, jw->out);
		}
	}
	fputc('"', jw->out);
}

void jw_name(struct json_writer *jw, const char *name)
{
	jw_sep(jw);
	jw_quoted(jw, name);
	fputc(':', jw->out);
	jw->after_name = true;
}

void jw_string(struct json_writer *jw, const char *s)
{
	jw_sep(jw);
	if (s)
		jw_quoted(jw, s);
	else
		fputs("null", jw->out);
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	jw_sep(jw);
	fprintf(jw->out, "%" PRIu64, v);
}

void jw_int(struct json_writer *jw, int64_t v)
{
	jw_sep(jw);
	fprintf(jw->out, "%" PRId64, v);
}

void jw_bool(struct json_writer *jw, bool v)
{
	jw_sep(jw);
	fputs(v ? "true" : "false", jw->out);
}

void jw_double(struct json_writer *jw, double v)
{
	jw_sep(jw);
	if (isfinite(v))
		fprintf(jw->out, "%.3f", v);
	else
		fputs("null", jw->out);
}

void jw_null(struct json_writer *jw)
{
	jw_sep(jw);
	fputs("null", jw->out);
}

void jw_string_field(struct json_writer *jw, const char *name, const char *s)
{
	jw_name(jw, name);
	jw_string(jw, s);
}

void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v)
{
	jw_name(jw, name);
	jw_uint(jw, v);
}

void jw_int_field(struct json_writer *jw, const char *name, int64_t v)
{
	jw_name(jw, name);
	jw_int(jw, v);
}

void jw_bool_field(struct json_writer *jw, const char *name, bool v)
{
	jw_name(jw, name);
	jw_bool(jw, v);
}

void jw_double_field(struct json_writer *jw, const char *name, double v)
{
	jw_name(jw, name);
	jw_double(jw, v);
}
