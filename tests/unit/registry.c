// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the VM registry's file format, written and read back, and bad files refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kavm/registry.h>

#include "../harness.h"

static char *format(const struct registry_vm *vm)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	registry_format(f, vm);
	fclose(f);
	return buf;
}

TEST(registry_format_is_exact_and_reads_back)
{
	static struct registry_vm vm, back;
	char *text;

	snprintf(vm.name, sizeof(vm.name), "vm-0.a_b");
	vm.pid = 1234;
	vm.start_time = 98765;
	vm.netns = 4026531840ULL;
	vm.nr_vcpus = 2;
	vm.vcpus[0] = (struct registry_vcpu){ 0, 1235 };
	vm.vcpus[1] = (struct registry_vcpu){ 1, 1236 };
	vm.nr_taps = 1;
	snprintf(vm.taps[0].ifname, IF_NAMESIZE, "tap0");
	vm.taps[0].ifindex = 7;
	text = format(&vm);
	ASSERT_STREQ(text, "{\"version\":1,\"name\":\"vm-0.a_b\",\"pid\":1234,\"start_time\":98765,"
			   "\"netns\":4026531840,\"vcpus\":[{\"id\":0,\"tid\":1235},{\"id\":1,"
			   "\"tid\":1236}],\"taps\":[{\"ifname\":\"tap0\",\"ifindex\":7}]}\n");
	ASSERT_EQ(registry_parse(text, &back), 0);
	EXPECT_EQ(memcmp(&vm, &back, sizeof(vm)), 0);
	free(text);
}

TEST(registry_parse_skips_unknown_keys)
{
	static struct registry_vm vm;

	ASSERT_EQ(registry_parse(" { \"x\" : [1, {\"a\":\"b\"}, null], \"name\":\"v\",\"pid\":5,"
				 "\"taps\":[{\"ifname\":\"t\",\"more\":true,\"ifindex\":3}],"
				 "\"vcpus\":[] }\n",
				 &vm),
		  0);
	EXPECT_STREQ(vm.name, "v");
	EXPECT_EQ(vm.pid, 5);
	EXPECT_EQ(vm.nr_taps, 1u);
	EXPECT_EQ(vm.taps[0].ifindex, 3u);
	EXPECT_EQ(vm.nr_vcpus, 0u);
}

TEST(registry_parse_refuses_bad_files)
{
	static const struct {
		const char *text;
		int err;
	} bad[] = {
		{ "", -EINVAL },
		{ "{", -EINVAL },
		{ "{\"name\":\"v\"}", -EINVAL },			 /* no pid */
		{ "{\"name\":\"../x\",\"pid\":1}", -EINVAL },		 /* not a registry name */
		{ "{\"name\":\"v\",\"pid\":1} trailing", -EINVAL },	 /* text after the object */
		{ "{\"name\":\"v\",\"pid\":1,\"version\":2}", -EPROTO }, /* a later version */
		{ "{\"name\":\"v\",\"pid\":1,\"taps\":[{\"ifname\":\"0123456789abcdefXX\"}]}",
		  -ENAMETOOLONG },
		{ "{\"name\":\"v\",\"pid\":-1}", -EINVAL },
		{ "{\"name\":\"v\",\"pid\":\"5\"}", -EINVAL }, /* a string where a number goes */
		{ "{\"name\":\"v\",\"pid\":1,\"taps\":{}}", -EINVAL },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", -EINVAL },
	};
	static struct registry_vm vm;
	char many[4096];
	unsigned int i;
	size_t n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(registry_parse(bad[i].text, &vm), bad[i].err);
	/* One tap more than a VM may have. */
	n = (size_t)snprintf(many, sizeof(many), "{\"name\":\"v\",\"pid\":1,\"taps\":[");
	for (i = 0; i <= REGISTRY_MAX_TAPS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s{}", i ? "," : "");
	snprintf(many + n, sizeof(many) - n, "]}");
	EXPECT_EQ(registry_parse(many, &vm), -E2BIG);
}

TEST(registry_names_are_checked)
{
	EXPECT_EQ(registry_check_name("vm0"), 0);
	EXPECT_EQ(registry_check_name("a.b-c_d"), 0);
	EXPECT_EQ(registry_check_name(""), -EINVAL);
	EXPECT_EQ(registry_check_name(".hidden"), -EINVAL);
	EXPECT_EQ(registry_check_name("a/b"), -EINVAL);
	EXPECT_EQ(registry_check_name("0123456789012345678901234567890123"), -EINVAL);
}

TEST(registry_alive_tells_a_stale_file)
{
	static struct registry_vm vm;

	vm.pid = getpid();
	ASSERT_EQ(registry_proc_start_time(vm.pid, &vm.start_time), 0);
	EXPECT_TRUE(registry_alive(&vm));
	vm.start_time++;
	EXPECT_FALSE(registry_alive(&vm));
}
