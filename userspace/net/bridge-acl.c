// SPDX-License-Identifier: GPL-2.0
/* kavm: parse the bridge access file (allow/deny/include) and decide on a bridge name. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/stat.h>

#include <kavm/bridge-acl.h>
#include <kavm/compiler.h>

struct acl_rule {
	bool allow;
	bool all;
	char name[IFNAMSIZ];
	char where[PATH_MAX + 16]; /* "file:line", for the verdict's reason */
};

struct bridge_acl {
	struct acl_rule *rules;
	size_t n, cap;
};

/* The files being read, outermost first, to refuse an include loop. */
struct acl_parse {
	struct bridge_acl *acl;
	char *err;
	size_t errlen;
	int depth;
	struct stat stack[BRIDGE_ACL_MAX_DEPTH + 1];
};

static int parse_file(struct acl_parse *p, const char *path, const char *from);

static int perr(struct acl_parse *p, int ret, const char *fmt, ...) __printf(3, 4);

static int perr(struct acl_parse *p, int ret, const char *fmt, ...)
{
	va_list ap;

	/* The innermost error is the one that names the bad line: keep it. */
	if (p->err[0])
		return ret;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

const char *bridge_acl_path(void)
{
	const char *env = getenv(BRIDGE_ACL_ENV);

	return env && *env ? env : BRIDGE_ACL_DEFAULT_PATH;
}

static int add_rule(struct acl_parse *p, bool allow, const char *arg, const char *where)
{
	struct bridge_acl *acl = p->acl;
	struct acl_rule *r;

	if (acl->n == acl->cap) {
		r = realloc(acl->rules, (acl->cap ? acl->cap * 2 : 16) * sizeof(*r));
		if (!r)
			return -ENOMEM;
		acl->rules = r;
		acl->cap = acl->cap ? acl->cap * 2 : 16;
	}
	r = &acl->rules[acl->n++];
	memset(r, 0, sizeof(*r));
	r->allow = allow;
	r->all = !strcmp(arg, "all");
	snprintf(r->name, sizeof(r->name), "%s", arg);
	snprintf(r->where, sizeof(r->where), "%s", where);
	return 0;
}

/* An include path is relative to the directory of the file that names it. */
static int do_include(struct acl_parse *p, const char *from, const char *arg, const char *where)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	int ret;

	if (arg[0] == '/') {
		snprintf(buf, sizeof(buf), "%s", arg);
	} else {
		snprintf(dir, sizeof(dir), "%s", from);
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", dirname(dir), arg) >= sizeof(buf))
			return perr(p, -ENAMETOOLONG, "%s: include path too long", where);
	}
	ret = parse_file(p, buf, where);
	if (ret && !p->err[0])
		perr(p, ret, "%s: include %s: %s", where, arg, strerror(-ret));
	return ret;
}

/* One line, comments and surrounding blanks already stripped. */
static int parse_line(struct acl_parse *p, const char *path, char *line, const char *where)
{
	char *cmd, *arg, *extra, *save = NULL;

	cmd = strtok_r(line, " \t", &save);
	if (!cmd)
		return 0;
	arg = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (!arg)
		return perr(p, -EINVAL, "%s: \"%s\" needs an argument", where, cmd);
	if (extra)
		return perr(p, -EINVAL, "%s: unexpected \"%s\" after \"%s %s\"", where, extra, cmd,
			    arg);
	if (!strcmp(cmd, "include"))
		return do_include(p, path, arg, where);
	if (strcmp(cmd, "allow") && strcmp(cmd, "deny"))
		return perr(p, -EINVAL, "%s: unknown rule \"%s\" (allow, deny or include)", where,
			    cmd);
	if (strlen(arg) >= IFNAMSIZ)
		return perr(p, -EINVAL, "%s: bridge name \"%s\" is longer than %d bytes", where,
			    arg, IFNAMSIZ - 1);
	return add_rule(p, cmd[0] == 'a', arg, where);
}

/* FROM is "file:line" of the include naming PATH, NULL for the top file. */
static int push_file(struct acl_parse *p, const char *path, const char *from, FILE *f)
{
	struct stat st;
	int i;

	if (fstat(fileno(f), &st))
		return -errno;
	for (i = 0; i < p->depth; i++)
		if (p->stack[i].st_dev == st.st_dev && p->stack[i].st_ino == st.st_ino)
			return perr(p, -ELOOP,
				    "%s: include %s: loop, the file is already being read", from,
				    path);
	if (p->depth > BRIDGE_ACL_MAX_DEPTH)
		return perr(p, -ELOOP, "%s: include %s: nested deeper than %d", from, path,
			    BRIDGE_ACL_MAX_DEPTH);
	p->stack[p->depth++] = st;
	return 0;
}

static int parse_file(struct acl_parse *p, const char *path, const char *from)
{
	char *line = NULL, where[PATH_MAX + 16];
	size_t cap = 0, lineno = 0;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	ret = push_file(p, path, from, f);
	if (ret)
		goto out_close;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		snprintf(where, sizeof(where), "%s:%zu", path, lineno);
		ret = parse_line(p, path, line, where);
		if (ret)
			break;
	}
	if (!ret && ferror(f))
		ret = perr(p, -EIO, "%s: read error", path);
	p->depth--;
out_close:
	free(line);
	fclose(f);
	return ret;
}

int bridge_acl_load(const char *path, struct bridge_acl **out, char *err, size_t errlen)
{
	struct acl_parse p = { .err = err, .errlen = errlen };
	int ret;

	err[0] = '\0';
	p.acl = calloc(1, sizeof(*p.acl));
	if (!p.acl)
		return -ENOMEM;
	ret = parse_file(&p, path, NULL);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		bridge_acl_free(p.acl);
		return ret;
	}
	*out = p.acl;
	return 0;
}

void bridge_acl_free(struct bridge_acl *acl)
{
	if (!acl)
		return;
	free(acl->rules);
	free(acl);
}

int bridge_acl_check(const struct bridge_acl *acl, const char *bridge, char *why, size_t len)
{
	const struct acl_rule *allowed = NULL;
	size_t i;

	for (i = 0; i < acl->n; i++) {
		const struct acl_rule *r = &acl->rules[i];

		if (!r->all && strcmp(r->name, bridge))
			continue;
		if (!r->allow) {
			if (why)
				snprintf(why, len, "denied by %s (deny %s)", r->where, r->name);
			return -EACCES;
		}
		if (!allowed)
			allowed = r;
	}
	if (!allowed) {
		if (why)
			snprintf(why, len, "no allow rule matches %s", bridge);
		return -EACCES;
	}
	if (why)
		snprintf(why, len, "allowed by %s (allow %s)", allowed->where, allowed->name);
	return 0;
}
