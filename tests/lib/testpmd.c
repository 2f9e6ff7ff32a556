// SPDX-License-Identifier: GPL-2.0
/* kavm tests: DPDK testpmd as a two-port vhost-user backend, under a test's control. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testpmd.h"

#define TESTPMD "dpdk-testpmd"
/* The slowest start seen on the 2-core build host was about 1 s. */
#define TESTPMD_START_TIMEOUT_MS 20000
/* __SO_ACCEPTCON in /proc/net/unix's Flags column: a listening socket. */
#define UNIX_FLAG_LISTENING 0x10000

bool testpmd_available(void)
{
	return !system("command -v " TESTPMD " >/dev/null 2>&1");
}

int testpmd_init(struct testpmd *t, bool client)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->stdin_fd = -1;
	t->client = client;
	snprintf(t->dir, sizeof(t->dir), "/tmp/kavm-vu.XXXXXX");
	if (!mkdtemp(t->dir))
		return -errno;
	for (i = 0; i < 2; i++)
		snprintf(t->sock[i], sizeof(t->sock[i]), "%s/port%u.sock", t->dir, i);
	snprintf(t->log, sizeof(t->log), "%s/testpmd.log", t->dir);
	/* The directory's random part keeps parallel runs apart. */
	snprintf(t->prefix, sizeof(t->prefix), "kavm-%s", t->dir + strlen("/tmp/kavm-"));
	return 0;
}

static void testpmd_exec(const struct testpmd *t, int in_fd)
{
	char vdev[2][192], prefix[64];
	unsigned int i;
	int log;

	for (i = 0; i < 2; i++)
		snprintf(vdev[i], sizeof(vdev[i]), "net_vhost%u,iface=%s,queues=1%s", i, t->sock[i],
			 t->client ? ",client=1" : "");
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", t->prefix);
	log = open(t->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (log < 0 || dup2(in_fd, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(127);
	/*
	 * 9000-byte frames ride in chains of 2 KiB mbufs; --max-pkt-len lets
	 * the ports take them. -a starts forwarding; stdin open keeps it going.
	 * --no-huge rules out --in-memory: its runtime directory is removed
	 * by testpmd_exit().
	 */
	execlp(TESTPMD, TESTPMD, "--no-huge", "-m", "256", "--no-pci", "--no-shconf", prefix,
	       "--vdev", vdev[0], "--vdev", vdev[1], "--", "--forward-mode=io",
	       "--total-num-mbufs=8192", "--max-pkt-len=9600", "-a", (char *)NULL);
	_exit(127);
}

/* Is path a listening unix socket (per /proc/net/unix)? */
static bool unix_listening(const char *path)
{
	unsigned long flags;
	char line[512], p[256];
	bool found = false;
	FILE *f = fopen("/proc/net/unix", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %255s", &flags, p) == 2)
			found = (flags & UNIX_FLAG_LISTENING) && !strcmp(p, path);
	}
	fclose(f);
	return found;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

int testpmd_start(struct testpmd *t)
{
	long long deadline = now_ms() + TESTPMD_START_TIMEOUT_MS;
	int pipefd[2], status;

	if (t->pid)
		return -EBUSY;
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0) {
		t->pid = 0;
		return -errno;
	}
	if (t->pid == 0)
		testpmd_exec(t, pipefd[0]);
	close(pipefd[0]);
	t->stdin_fd = pipefd[1];
	t->starts++;
	while (!t->client && !(unix_listening(t->sock[0]) && unix_listening(t->sock[1]))) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			return -ECHILD;
		}
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

int testpmd_stop(struct testpmd *t, int sig)
{
	int status, i;

	if (!t->pid)
		return 0;
	kill(t->pid, sig);
	/* SIGTERM: testpmd stops its ports and exits; give it 5 s, then kill it. */
	for (i = 0; i < 500 && waitpid(t->pid, &status, WNOHANG) != t->pid; i++)
		usleep(10000);
	if (i == 500) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
	}
	t->pid = 0;
	close(t->stdin_fd);
	t->stdin_fd = -1;
	/* A killed server leaves its sockets, and a new one could not bind. */
	if (!t->client) {
		unlink(t->sock[0]);
		unlink(t->sock[1]);
	}
	return 0;
}

void testpmd_dump_log(const struct testpmd *t)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd),
		 "tail -n ${KAVM_TESTPMD_LOG:-20} %s | sed 's/^/# testpmd: /' >&2", t->log);
	if (system(cmd))
		return;
}

void testpmd_exit(struct testpmd *t)
{
	char cmd[160];

	testpmd_stop(t, SIGTERM);
	unlink(t->sock[0]);
	unlink(t->sock[1]);
	unlink(t->log);
	rmdir(t->dir);
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", t->prefix);
	if (system(cmd))
		return;
}
