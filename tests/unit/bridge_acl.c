// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the bridge access file, with real files (includes, loops, syntax errors). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <ftw.h>
#include <stdlib.h>

#include <kavm/bridge-acl.h>

#include "../harness.h"

static char dir[] = "/tmp/kavm-acl-XXXXXX";
static char path[PATH_MAX];

static int rm_one(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(fpath);
}

/*
 * One temp dir made by the runner before it forks the tests (children leave
 * with _exit(), so only the runner's destructor removes it). File names are
 * unique across tests.
 */
__attribute__((constructor)) static void mk_dir(void)
{
	if (!mkdtemp(dir))
		perror("mkdtemp");
}

__attribute__((destructor)) static void rm_dir(void)
{
	if (dir[strlen(dir) - 1] != 'X')
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Write NAME in the temp dir with printf-formatted contents; returns its path. */
static const char *put(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *put(const char *name, const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

/* Load FILE; 0 when BRIDGE is allowed, -EACCES when not, the load error otherwise. */
static int verdict(const char *file, const char *bridge)
{
	struct bridge_acl *acl;
	char err[512];
	int ret;

	ret = bridge_acl_load(file, &acl, err, sizeof(err));
	if (ret)
		return ret;
	ret = bridge_acl_check(acl, bridge, NULL, 0);
	bridge_acl_free(acl);
	return ret;
}

TEST(allow_and_default_deny)
{
	const char *f = put("a.conf", "# comment\n\nallow br0\n  allow\tbr1   # trailing\n");

	ASSERT_TRUE(f != NULL);
	EXPECT_EQ(verdict(f, "br0"), 0);
	EXPECT_EQ(verdict(f, "br1"), 0);
	EXPECT_EQ(verdict(f, "br2"), -EACCES);
	EXPECT_EQ(verdict(put("empty.conf", "%s", ""), "br0"), -EACCES);
}

TEST(deny_wins_over_allow_in_any_order)
{
	EXPECT_EQ(verdict(put("b.conf", "allow all\ndeny br0\n"), "br0"), -EACCES);
	EXPECT_EQ(verdict(put("b.conf", "deny br0\nallow all\n"), "br0"), -EACCES);
	EXPECT_EQ(verdict(put("b.conf", "deny br0\nallow all\n"), "br1"), 0);
	EXPECT_EQ(verdict(put("b.conf", "allow br0\ndeny all\n"), "br0"), -EACCES);
	EXPECT_EQ(verdict(put("b.conf", "deny all\nallow br0\n"), "br0"), -EACCES);
	/* "all" is the keyword; a bridge literally named "al" is not matched by it as a prefix. */
	EXPECT_EQ(verdict(put("b.conf", "allow al\n"), "all"), -EACCES);
}

TEST(the_verdict_names_the_rule)
{
	struct bridge_acl *acl;
	char err[512], why[512], want[PATH_MAX + 64];
	const char *f = put("w.conf", "allow all\n\ndeny br9\n");

	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(bridge_acl_load(f, &acl, err, sizeof(err)), 0);
	EXPECT_EQ(bridge_acl_check(acl, "br9", why, sizeof(why)), -EACCES);
	snprintf(want, sizeof(want), "denied by %s:3 (deny br9)", f);
	EXPECT_STREQ(why, want);
	EXPECT_EQ(bridge_acl_check(acl, "br0", why, sizeof(why)), 0);
	snprintf(want, sizeof(want), "allowed by %s:1 (allow all)", f);
	EXPECT_STREQ(why, want);
	bridge_acl_free(acl);
}

TEST(includes_relative_and_absolute)
{
	char abs[PATH_MAX], top[PATH_MAX];

	ASSERT_TRUE(put("inc-deny.conf", "deny br1\n") != NULL);
	snprintf(abs, sizeof(abs), "%s", path);
	ASSERT_TRUE(put("inc-allow.conf", "allow br1\nallow br2\n") != NULL);
	ASSERT_TRUE(put("top.conf", "include inc-allow.conf\ninclude %s\n", abs) != NULL);
	snprintf(top, sizeof(top), "%s", path);
	EXPECT_EQ(verdict(top, "br2"), 0);
	EXPECT_EQ(verdict(top, "br1"), -EACCES);
	EXPECT_EQ(verdict(top, "br3"), -EACCES);
}

static void expect_load_error(const char *file, int want_ret, const char *want_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A non-fatal check (EXPECT_*), so it can live in a void helper. */
static void expect_load_error(const char *file, int want_ret, const char *want_fmt, ...)
{
	struct bridge_acl *acl = NULL;
	char err[1024], want[1024];
	va_list ap;

	va_start(ap, want_fmt);
	vsnprintf(want, sizeof(want), want_fmt, ap);
	va_end(ap);
	EXPECT_EQ(bridge_acl_load(file, &acl, err, sizeof(err)), want_ret);
	EXPECT_STREQ(err, want);
	EXPECT_TRUE(acl == NULL);
}

TEST(syntax_errors_name_file_and_line)
{
	char f[PATH_MAX];

	snprintf(f, sizeof(f), "%s", put("s1.conf", "allow br0\n# ok\npermit br1\n"));
	expect_load_error(f, -EINVAL, "%s:3: unknown rule \"permit\" (allow, deny or include)", f);
	snprintf(f, sizeof(f), "%s", put("s2.conf", "allow br0\nallow\n"));
	expect_load_error(f, -EINVAL, "%s:2: \"allow\" needs an argument", f);
	snprintf(f, sizeof(f), "%s", put("s3.conf", "deny br0 br1\n"));
	expect_load_error(f, -EINVAL, "%s:1: unexpected \"br1\" after \"deny br0\"", f);
	snprintf(f, sizeof(f), "%s", put("s4.conf", "allow br0123456789abcd\n"));
	expect_load_error(f, -EINVAL,
			  "%s:1: bridge name \"br0123456789abcd\" is longer than 15 bytes", f);
}

TEST(errors_inside_includes_point_at_the_inner_line)
{
	char inner[PATH_MAX], top[PATH_MAX];

	snprintf(inner, sizeof(inner), "%s", put("bad-inner.conf", "allow br0\n\nfrob br1\n"));
	snprintf(top, sizeof(top), "%s", put("bad-top.conf", "include bad-inner.conf\n"));
	expect_load_error(top, -EINVAL, "%s:3: unknown rule \"frob\" (allow, deny or include)",
			  inner);
	snprintf(top, sizeof(top), "%s", put("missing.conf", "allow br0\ninclude nope.conf\n"));
	expect_load_error(top, -ENOENT, "%s:2: include nope.conf: No such file or directory", top);
	expect_load_error("/nonexistent/kavm/bridge.conf", -ENOENT,
			  "/nonexistent/kavm/bridge.conf: No such file or directory");
}

TEST(include_loops_and_depth_are_refused)
{
	char a[PATH_MAX], b[PATH_MAX], name[32];
	int i;

	snprintf(a, sizeof(a), "%s", put("loop-a.conf", "allow br0\ninclude loop-b.conf\n"));
	snprintf(b, sizeof(b), "%s", put("loop-b.conf", "include loop-a.conf\n"));
	expect_load_error(a, -ELOOP, "%s:1: include %s: loop, the file is already being read", b,
			  a);
	snprintf(a, sizeof(a), "%s", put("self.conf", "include self.conf\n"));
	expect_load_error(a, -ELOOP, "%s:1: include %s: loop, the file is already being read", a,
			  a);

	/* A chain d0 -> d1 -> ... : 8 levels of include are fine, 9 are not. */
	for (i = 0; i < BRIDGE_ACL_MAX_DEPTH + 2; i++) {
		snprintf(name, sizeof(name), "d%d.conf", i);
		ASSERT_TRUE(put(name, "include d%d.conf\n", i + 1) != NULL);
	}
	snprintf(name, sizeof(name), "d%d.conf", BRIDGE_ACL_MAX_DEPTH);
	ASSERT_TRUE(put(name, "allow deep\n") != NULL);
	snprintf(a, sizeof(a), "%s/d0.conf", dir);
	EXPECT_EQ(verdict(a, "deep"), 0);
	ASSERT_TRUE(put(name, "include d%d.conf\n", BRIDGE_ACL_MAX_DEPTH + 1) != NULL);
	snprintf(name, sizeof(name), "d%d.conf", BRIDGE_ACL_MAX_DEPTH + 1);
	ASSERT_TRUE(put(name, "allow deep\n") != NULL);
	EXPECT_EQ(verdict(a, "deep"), -ELOOP);
}

TEST(path_comes_from_the_environment)
{
	unsetenv(BRIDGE_ACL_ENV);
	EXPECT_STREQ(bridge_acl_path(), "/etc/kavm/bridge.conf");
	setenv(BRIDGE_ACL_ENV, "", 1);
	EXPECT_STREQ(bridge_acl_path(), "/etc/kavm/bridge.conf");
	setenv(BRIDGE_ACL_ENV, "/srv/kavm.conf", 1);
	EXPECT_STREQ(bridge_acl_path(), "/srv/kavm.conf");
}
