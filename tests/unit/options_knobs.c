// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the deployment knobs on the command line (--memory
 * hugepages=/mlock=, --cpus affinity=, --io-affinity) and the CPU lists
 * they take, with the exact line each bad one gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <kavm/cpulist.h>
#include <kavm/log.h>

/* options.c belongs to the kavm binary, not libkavm.a: test it as is. */
#include "../../userspace/options.c"

#include "../harness.h"

/* options_parse(argv) with stderr in a file; *rc its result, the text in err. */
static void parse_capture(int argc, char **argv, struct vm_config *cfg, int *rc, char *err,
			  size_t size)
{
	int saved = dup(STDERR_FILENO), fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	ssize_t n;

	log_level = LOG_LEVEL_ERR;
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	*rc = options_parse(argc, argv, cfg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, err, size - 1, 0);
	err[n > 0 ? n : 0] = 0;
	if (n > 0 && err[n - 1] == '\n')
		err[n - 1] = 0;
	close(fd);
}

#define PARSE_ERR(err, ...)                                                                        \
	({                                                                                         \
		char *_pe_argv[] = { "kavm", "--kernel", "/k", __VA_ARGS__, NULL };                \
		struct vm_config _pe_cfg;                                                          \
		int _pe_rc;                                                                        \
		parse_capture(ARRAY_SIZE(_pe_argv) - 1, _pe_argv, &_pe_cfg, &_pe_rc, err,          \
			      sizeof(err));                                                        \
		_pe_rc;                                                                            \
	})

#define PARSE(cfg, ...)                                                                            \
	({                                                                                         \
		char *_p_argv[] = { "kavm", "--kernel", "/k", __VA_ARGS__, NULL };                 \
		char _p_err[256];                                                                  \
		int _p_rc;                                                                         \
		parse_capture(ARRAY_SIZE(_p_argv) - 1, _p_argv, cfg, &_p_rc, _p_err,               \
			      sizeof(_p_err));                                                     \
		_p_rc;                                                                             \
	})

#define EXPECT_REFUSED(msg, ...)                                                                   \
	do {                                                                                       \
		char _er_err[512];                                                                 \
		EXPECT_EQ(PARSE_ERR(_er_err, __VA_ARGS__), -EINVAL);                               \
		EXPECT_STREQ(_er_err, "kavm: " msg);                                               \
	} while (0)

TEST(cpu_lists_parse_and_format_as_taskset_writes_them)
{
	char buf[64];
	cpu_set_t set;
	long bad = 0;

	ASSERT_EQ(cpulist_parse("0-1,3", &set, &bad), 0);
	EXPECT_EQ(CPU_COUNT(&set), 3);
	EXPECT_TRUE(CPU_ISSET(3, &set) && !CPU_ISSET(2, &set));
	EXPECT_STREQ(cpulist_format(&set, buf, sizeof(buf)), "0-1,3");
	ASSERT_EQ(cpulist_parse("7,5,6,1023", &set, &bad), 0);
	EXPECT_STREQ(cpulist_format(&set, buf, sizeof(buf)), "5-7,1023");
	ASSERT_EQ(cpulist_parse("2-2", &set, &bad), 0);
	EXPECT_STREQ(cpulist_format(&set, buf, sizeof(buf)), "2");
	EXPECT_EQ(cpulist_parse("", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse("1,", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse(",1", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse("3-1", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse("1-", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse("-1", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse("1 2", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse("0x1", &set, &bad), -EINVAL);
	EXPECT_EQ(cpulist_parse("1024", &set, &bad), -ERANGE);
	EXPECT_EQ(bad, 1024);
	EXPECT_EQ(cpulist_parse("0-99999999999999999999", &set, &bad), -ERANGE);
	EXPECT_EQ(bad, 1024);
}

TEST(memory_keys_are_stored)
{
	struct vm_config cfg;

	ASSERT_EQ(PARSE(&cfg, "--memory", "1G"), 0);
	EXPECT_FALSE(cfg.mem_hugepages || cfg.mem_lock);
	ASSERT_EQ(PARSE(&cfg, "--memory", "1G,hugepages=on"), 0);
	EXPECT_EQ(cfg.mem_size, 1ULL << 30);
	EXPECT_TRUE(cfg.mem_hugepages && !cfg.mem_lock);
	ASSERT_EQ(PARSE(&cfg, "--memory", "size=256M,mlock=on,hugepages=off"), 0);
	EXPECT_EQ(cfg.mem_size, 256ULL << 20);
	EXPECT_TRUE(!cfg.mem_hugepages && cfg.mem_lock);
	ASSERT_EQ(PARSE(&cfg, "-m", "2G,mlock=on,hugepages=on"), 0);
	EXPECT_TRUE(cfg.mem_hugepages && cfg.mem_lock);
}

TEST(bad_memory_keys_get_one_line)
{
	EXPECT_REFUSED("--memory 512M,foo=1: unknown key 'foo=1' (expected hugepages=on|off or "
		       "mlock=on|off)",
		       "--memory", "512M,foo=1");
	EXPECT_REFUSED(
		"--memory 512M,hugepages: unknown key 'hugepages' (expected hugepages=on|off "
		"or mlock=on|off)",
		"--memory", "512M,hugepages");
	EXPECT_REFUSED("--memory 512M,mlock=yes: 'mlock=yes': expected on or off", "--memory",
		       "512M,mlock=yes");
	EXPECT_REFUSED("--memory hugepages=on: not a size (examples: 512M, 2G)", "--memory",
		       "hugepages=on");
	EXPECT_REFUSED("--memory size=1M,mlock=on: must be a multiple of 4K from 16M to 1024G",
		       "--memory", "size=1M,mlock=on");
}

TEST(vcpu_affinity_takes_a_taskset_list)
{
	struct vm_config cfg;
	char buf[64];

	ASSERT_EQ(PARSE(&cfg, "--cpus", "2"), 0);
	EXPECT_FALSE(cfg.vcpu_affinity_set || cfg.io_affinity_set);
	ASSERT_EQ(PARSE(&cfg, "--cpus", "3,affinity=0"), 0);
	EXPECT_EQ(cfg.nr_cpus, 3u);
	EXPECT_TRUE(cfg.vcpu_affinity_set);
	EXPECT_STREQ(cpulist_format(&cfg.vcpu_affinity, buf, sizeof(buf)), "0");
	ASSERT_EQ(PARSE(&cfg, "--io-affinity", "0", "-p", "2"), 0);
	EXPECT_TRUE(cfg.io_affinity_set && !cfg.vcpu_affinity_set);
	EXPECT_STREQ(cpulist_format(&cfg.io_affinity, buf, sizeof(buf)), "0");
	/* The second --cpus replaces the first, affinity included. */
	ASSERT_EQ(PARSE(&cfg, "--cpus", "2,affinity=0", "--cpus", "4"), 0);
	EXPECT_FALSE(cfg.vcpu_affinity_set);
}

/* kavm's own mask narrowed to CPU 0 (as taskset -c 0 would): CPU 1 is refused by name. */
TEST(cpus_kavm_may_not_run_on_are_named)
{
	cpu_set_t saved, only0;
	struct vm_config cfg;
	char buf[64];

	ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
	ASSERT_TRUE(CPU_ISSET(0, &saved));
	CPU_ZERO(&only0);
	CPU_SET(0, &only0);
	ASSERT_EQ(sched_setaffinity(0, sizeof(only0), &only0), 0);
	EXPECT_REFUSED("--cpus 2,affinity=0-1,3: CPU 1 is not one kavm may run on (allowed: 0)",
		       "--cpus", "2,affinity=0-1,3");
	EXPECT_REFUSED("--io-affinity 1: CPU 1 is not one kavm may run on (allowed: 0)",
		       "--io-affinity", "1");
	ASSERT_EQ(PARSE(&cfg, "--cpus", "2,affinity=0,0", "--io-affinity", "0-0"), 0);
	EXPECT_STREQ(cpulist_format(&cfg.vcpu_affinity, buf, sizeof(buf)), "0");
	ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

TEST(bad_cpu_lists_get_one_line)
{
	EXPECT_REFUSED("--cpus 2,affinity=x: 'x' is not a CPU list (examples: 0-1,3 or 2)",
		       "--cpus", "2,affinity=x");
	EXPECT_REFUSED("--cpus 2,affinity=: '' is not a CPU list (examples: 0-1,3 or 2)", "--cpus",
		       "2,affinity=");
	EXPECT_REFUSED("--cpus 2,affinity=5000: CPU 5000: kavm handles CPUs 0 to 1023", "--cpus",
		       "2,affinity=5000");
	EXPECT_REFUSED("--cpus 2,bogus: unexpected 'bogus' (the only key is affinity=LIST, once)",
		       "--cpus", "2,bogus");
	EXPECT_REFUSED("--cpus 2,affinity=0,affinity=0: unexpected 'affinity=0' (the only key is "
		       "affinity=LIST, once)",
		       "--cpus", "2,affinity=0,affinity=0");
	EXPECT_REFUSED("--cpus affinity=0: must be a number from 1 to 254", "--cpus", "affinity=0");
	EXPECT_REFUSED("--io-affinity 1-0: '1-0' is not a CPU list (examples: 0-1,3 or 2)",
		       "--io-affinity", "1-0");
	EXPECT_REFUSED("--io-affinity 2048: CPU 2048: kavm handles CPUs 0 to 1023", "--io-affinity",
		       "2048");
}
