// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace: interval snapshots and the output both views share. The BPF
 * maps hold totals since load; an interval's figures are the difference
 * from the previous snapshot, found by key.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kavm-trace.h"

static int entry_cmp(const void *a, const void *b)
{
	const struct bpf_trace_entry *x = a, *y = b;

	return memcmp(x->key.raw, y->key.raw, sizeof(x->key.raw));
}

int kt_snap_take(struct kt_ctx *c, enum bpf_trace_map map, struct kt_snap *cur)
{
	int ret = bpf_trace_read(c->bt, map, &cur->e, &cur->n);

	if (ret)
		return ret;
	qsort(cur->e, cur->n, sizeof(*cur->e), entry_cmp);
	return 0;
}

const struct bpf_trace_entry *kt_snap_find(const struct kt_snap *s,
					   const struct bpf_trace_entry *key)
{
	if (!s->n)
		return NULL;
	return bsearch(key, s->e, s->n, sizeof(*s->e), entry_cmp);
}

const struct bpf_trace_entry *kt_snap_prev(const struct kt_ctx *c, enum bpf_trace_map map,
					   const struct bpf_trace_entry *cur)
{
	return kt_snap_find(&c->prev[map], cur);
}

void kt_snap_keep(struct kt_ctx *c, enum bpf_trace_map map, struct kt_snap *cur)
{
	free(c->prev[map].e);
	c->prev[map] = *cur;
	cur->e = NULL;
	cur->n = 0;
}

struct json_writer *kt_json_begin(const struct kt_ctx *c, const char *type, const struct kt_vm *vm)
{
	struct json_writer *jw = jw_new(stdout);

	if (!jw)
		return NULL;
	jw_start_object(jw);
	jw_string_field(jw, "type", type);
	jw_double_field(jw, "ts", c->now);
	jw_double_field(jw, "interval_s", c->dt);
	if (vm) {
		jw_string_field(jw, "vm", vm->reg.name);
		jw_int_field(jw, "pid", vm->reg.pid);
	}
	return jw;
}

void kt_json_end(struct json_writer *jw)
{
	if (!jw)
		return;
	jw_end_object(jw);
	jw_destroy(jw);
}

void kt_title(const struct kt_ctx *c, const char *what)
{
	char when[32];
	time_t t = (time_t)c->now;
	struct tm tm;

	if (c->live)
		fputs("\033[H\033[2J", stdout); /* home, clear: a top-style refresh */
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("kavm-trace %s   %s   interval %.2f s   %u VM%s\n", what, when, c->dt,
	       kt_vms_count(c), kt_vms_count(c) == 1 ? "" : "s");
}

/* One line per non-empty bucket: [low, high) in ns, count, a bar. */
void kt_hist_print(const uint64_t *hist, unsigned int slots)
{
	uint64_t top = 0;
	unsigned int i, j, w;

	for (i = 0; i < slots; i++)
		top = hist[i] > top ? hist[i] : top;
	if (!top)
		return;
	for (i = 0; i < slots; i++) {
		if (!hist[i])
			continue;
		w = (unsigned int)(hist[i] * 40 / top);
		printf("      %12llu .. %-12llu ns %10llu |", 1ULL << i, (1ULL << (i + 1)) - 1,
		       (unsigned long long)hist[i]);
		for (j = 0; j < w; j++)
			putchar('*');
		printf("\n");
	}
}
