// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the JSON writer's separators, nesting and escaping. */
#include <stdlib.h>

#include <kavm/json.h>

#include "../harness.h"

TEST(json_nested_output_is_exact)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_writer *jw = jw_new(f);

	jw_start_array(jw);
	jw_start_object(jw);
	jw_string_field(jw, "ifname", "br\"0\n");
	jw_uint_field(jw, "mtu", 1500);
	jw_bool_field(jw, "up", true);
	jw_name(jw, "slaves");
	jw_start_array(jw);
	jw_string(jw, "tap0");
	jw_string(jw, "tap1");
	jw_end_array(jw);
	jw_int_field(jw, "neg", -3);
	jw_end_object(jw);
	jw_start_object(jw);
	jw_end_object(jw);
	jw_end_array(jw);
	jw_destroy(jw);
	fclose(f);
	ASSERT_STREQ(buf, "[{\"ifname\":\"br\\\"0\\n\",\"mtu\":1500,\"up\":true,"
			  "\"slaves\":[\"tap0\",\"tap1\"],\"neg\":-3},{}]\n");
	free(buf);
}

TEST(json_doubles_have_three_decimals_and_no_nan)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_writer *jw = jw_new(f);

	jw_start_object(jw);
	jw_double_field(jw, "rate", 1234.5678);
	jw_double_field(jw, "neg", -0.25);
	jw_double_field(jw, "nan", 0.0 / 0.0);
	jw_double_field(jw, "inf", 1.0 / 0.0);
	jw_end_object(jw);
	jw_destroy(jw);
	fclose(f);
	ASSERT_STREQ(buf, "{\"rate\":1234.568,\"neg\":-0.250,\"nan\":null,\"inf\":null}\n");
	free(buf);
}
