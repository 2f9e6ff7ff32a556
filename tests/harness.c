// SPDX-License-Identifier: GPL-2.0
/* kavm test harness runner: fork per test, TAP output, timeouts. */
#include <errno.h>
#include <limits.h>
#include <fnmatch.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "harness.h"

#define KT_EXIT_SKIP 4

bool kt_failed;
static struct kt_test *kt_head, **kt_tail = &kt_head;

void kt_register(struct kt_test *t)
{
	*kt_tail = t;
	kt_tail = &t->next;
}

void kt_fail(const char *file, int line, bool fatal, const char *fmt, ...)
{
	va_list ap;

	kt_failed = true;
	printf("# %s:%d: %s: ", file, line, fatal ? "ASSERT failed" : "EXPECT failed");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void kt_skip(const char *file, int line, const char *reason)
{
	printf("# SKIP %s (%s:%d)\n", reason, file, line);
	fflush(stdout);
	_exit(KT_EXIT_SKIP);
}

bool kt_is_root(void)
{
	return geteuid() == 0;
}

int kt_build_prog(const char *prog, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	int i;

	if (n < 0)
		return -errno;
	self[n] = 0;
	for (i = 0; i < 3; i++) { /* .../tests/GROUP/NAME -> ... */
		slash = strrchr(self, '/');
		if (!slash)
			return -ENOENT;
		*slash = 0;
	}
	if (snprintf(out, len, "%s/%s", self, prog) >= (int)len)
		return -ENAMETOOLONG;
	return access(out, X_OK) ? -errno : 0;
}

void kt_unshare_netns(void)
{
	if (!kt_is_root())
		SKIP("needs root for a network namespace");
	if (unshare(CLONE_NEWNET)) {
		kt_fail(__FILE__, __LINE__, true, "unshare(CLONE_NEWNET): %s", strerror(errno));
		_exit(1);
	}
	/* The loopback of a fresh netns starts down. */
	if (system("ip link set lo up")) {
		kt_fail(__FILE__, __LINE__, true, "ip link set lo up failed");
		_exit(1);
	}
}

static int kt_run_one(struct kt_test *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0);
		alarm(t->timeout_s);
		t->fn(t);
		fflush(stdout);
		_exit(kt_failed ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* Whatever the test started in its process group goes with it. */
	kill(-pid, SIGKILL);
	if (WIFSIGNALED(status)) {
		printf("# test died of signal %d%s\n", WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return 1;
	}
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : getenv("KT_FILTER");
	unsigned int n = 0, pass = 0, fail = 0, skip = 0;
	struct kt_test *t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (t = kt_head; t; t = t->next)
		if (!filter || !fnmatch(filter, t->name, 0))
			n++;
	printf("TAP version 13\n1..%u\n", n);
	n = 0;
	for (t = kt_head; t; t = t->next) {
		int rc;

		if (filter && fnmatch(filter, t->name, 0))
			continue;
		n++;
		rc = kt_run_one(t);
		if (rc == 0) {
			printf("ok %u %s\n", n, t->name);
			pass++;
		} else if (rc == KT_EXIT_SKIP) {
			printf("ok %u %s # SKIP\n", n, t->name);
			skip++;
		} else {
			printf("not ok %u %s\n", n, t->name);
			fail++;
		}
	}
	printf("# %u passed, %u failed, %u skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}
