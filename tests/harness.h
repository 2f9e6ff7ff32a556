/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm test harness, in the spirit of the kernel's kselftest_harness.h:
 * TEST(), FIXTURE()/TEST_F(), ASSERT_*() (ends the test) and EXPECT_*()
 * (records a failure and goes on), SKIP(). Each test runs in its own forked
 * child with a timeout so that a crash or hang fails one test, not the run.
 * Output is TAP; tests/run.sh adds the counts up.
 */
#ifndef KAVM_TEST_HARNESS_H
#define KAVM_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct kt_test {
	const char *name;
	void (*fn)(struct kt_test *t);
	unsigned int timeout_s;
	struct kt_test *next;
};

extern bool kt_failed;
void kt_register(struct kt_test *t);
void kt_skip(const char *file, int line, const char *reason) __attribute__((noreturn));
void kt_fail(const char *file, int line, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define KT_DEFAULT_TIMEOUT 60

#define TEST_TIMEOUT(name, secs)                                                                   \
	static void name(struct kt_test *_t);                                                      \
	static struct kt_test _kt_##name = { #name, name, secs, NULL };                            \
	__attribute__((constructor)) static void _kt_reg_##name(void)                              \
	{                                                                                          \
		kt_register(&_kt_##name);                                                          \
	}                                                                                          \
	static void name(struct kt_test *_t __attribute__((unused)))

#define TEST(name) TEST_TIMEOUT(name, KT_DEFAULT_TIMEOUT)

/* Fixtures: FIXTURE(f) { fields }; FIXTURE_SETUP(f) { self->... }; FIXTURE_TEARDOWN(f); TEST_F(f, t). */
#define FIXTURE(f) struct _kt_fixture_##f
#define FIXTURE_SETUP(f) static void _kt_setup_##f(struct _kt_fixture_##f *self)
#define FIXTURE_TEARDOWN(f) static void _kt_teardown_##f(struct _kt_fixture_##f *self)
#define TEST_F_TIMEOUT(f, name, secs)                                                              \
	static void _kt_body_##f##_##name(struct _kt_fixture_##f *self);                           \
	TEST_TIMEOUT(f##_##name, secs)                                                             \
	{                                                                                          \
		struct _kt_fixture_##f self;                                                       \
		memset(&self, 0, sizeof(self));                                                    \
		_kt_setup_##f(&self);                                                              \
		if (!kt_failed)                                                                    \
			_kt_body_##f##_##name(&self);                                              \
		_kt_teardown_##f(&self);                                                           \
	}                                                                                          \
	static void _kt_body_##f##_##name(struct _kt_fixture_##f *self)
#define TEST_F(f, name) TEST_F_TIMEOUT(f, name, KT_DEFAULT_TIMEOUT)

#define SKIP(reason) kt_skip(__FILE__, __LINE__, reason)

#define _KT_CMP(fatal, a, op, b)                                                                   \
	do {                                                                                       \
		__typeof__(a) _a = (a);                                                            \
		__typeof__(b) _b = (b);                                                            \
		if (!(_a op _b)) {                                                                 \
			kt_fail(__FILE__, __LINE__, fatal, "%s %s %s (%lld vs %lld)", #a, #op, #b, \
				(long long)_a, (long long)_b);                                     \
			if (fatal)                                                                 \
				return;                                                            \
		}                                                                                  \
	} while (0)

#define ASSERT_EQ(a, b) _KT_CMP(true, a, ==, b)
#define ASSERT_NE(a, b) _KT_CMP(true, a, !=, b)
#define ASSERT_LT(a, b) _KT_CMP(true, a, <, b)
#define ASSERT_LE(a, b) _KT_CMP(true, a, <=, b)
#define ASSERT_GT(a, b) _KT_CMP(true, a, >, b)
#define ASSERT_GE(a, b) _KT_CMP(true, a, >=, b)
#define EXPECT_EQ(a, b) _KT_CMP(false, a, ==, b)
#define EXPECT_NE(a, b) _KT_CMP(false, a, !=, b)
#define EXPECT_LT(a, b) _KT_CMP(false, a, <, b)
#define EXPECT_LE(a, b) _KT_CMP(false, a, <=, b)
#define EXPECT_GT(a, b) _KT_CMP(false, a, >, b)
#define EXPECT_GE(a, b) _KT_CMP(false, a, >=, b)

#define _KT_TRUE(fatal, c)                                                                         \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			kt_fail(__FILE__, __LINE__, fatal, "%s", #c);                              \
			if (fatal)                                                                 \
				return;                                                            \
		}                                                                                  \
	} while (0)
#define ASSERT_TRUE(c) _KT_TRUE(true, c)
#define ASSERT_FALSE(c) _KT_TRUE(true, !(c))
#define EXPECT_TRUE(c) _KT_TRUE(false, c)
#define EXPECT_FALSE(c) _KT_TRUE(false, !(c))

#define _KT_STR(fatal, a, b)                                                                       \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b)) {                                                \
			kt_fail(__FILE__, __LINE__, fatal, "%s == %s (\"%s\" vs \"%s\")", #a, #b,  \
				_a ? _a : "(null)", _b ? _b : "(null)");                           \
			if (fatal)                                                                 \
				return;                                                            \
		}                                                                                  \
	} while (0)
#define ASSERT_STREQ(a, b) _KT_STR(true, a, b)
#define EXPECT_STREQ(a, b) _KT_STR(false, a, b)

#define _KT_MEM(fatal, a, b, n)                                                                    \
	do {                                                                                       \
		if (memcmp(a, b, n)) {                                                             \
			kt_fail(__FILE__, __LINE__, fatal, "memcmp(%s, %s, %s) != 0", #a, #b, #n); \
			if (fatal)                                                                 \
				return;                                                            \
		}                                                                                  \
	} while (0)
#define ASSERT_MEMEQ(a, b, n) _KT_MEM(true, a, b, n)
#define EXPECT_MEMEQ(a, b, n) _KT_MEM(false, a, b, n)

/* Helpers for tests that need the real kernel. */
bool kt_is_root(void);
/* Move this test process into a fresh network namespace (skips when not root). */
void kt_unshare_netns(void);
/*
 * build[/san]/PROG beside this test binary's build directory (it is
 * build[/san]/tests/GROUP/NAME) into OUT: 0, or -errno if it is not there
 * to run.
 */
int kt_build_prog(const char *prog, char *out, size_t len);

#define REQUIRE_ROOT()                                                                             \
	do {                                                                                       \
		if (!kt_is_root())                                                                 \
			SKIP("needs root");                                                        \
	} while (0)

#endif /* KAVM_TEST_HARNESS_H */
