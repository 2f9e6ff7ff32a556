/* SPDX-License-Identifier: GPL-2.0 */
/* kavm: a small streaming JSON writer for the tools' -j output (after iproute2's json_writer). */
#ifndef KAVM_JSON_H
#define KAVM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

struct json_writer *jw_new(FILE *out);
/* Ends the output with a newline; the caller closes every object and array first. */
void jw_destroy(struct json_writer *jw);

void jw_start_object(struct json_writer *jw);
void jw_end_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);
/* The key of the next value inside an object. */
void jw_name(struct json_writer *jw, const char *name);

void jw_string(struct json_writer *jw, const char *s);
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_int(struct json_writer *jw, int64_t v);
void jw_bool(struct json_writer *jw, bool v);
/* Three decimals (rates, seconds); NaN and infinities, which JSON lacks, as null. */
void jw_double(struct json_writer *jw, double v);
void jw_null(struct json_writer *jw);

/* Shorthands for "name": value inside an object. */
void jw_string_field(struct json_writer *jw, const char *name, const char *s);
void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v);
void jw_int_field(struct json_writer *jw, const char *name, int64_t v);
void jw_bool_field(struct json_writer *jw, const char *name, bool v);
void jw_double_field(struct json_writer *jw, const char *name, double v);

#endif /* KAVM_JSON_H */
