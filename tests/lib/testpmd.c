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
	char vdev[2][192], prefix[64], rxq[24], txq[24], mbufs[32];
	unsigned int i, queues = t->queues ?: 1;
	int log;

	for (i = 0; i < 2; i++)
		snprintf(vdev[i], sizeof(vdev[i]), "net_vhost%u,iface=%s,queues=%u%s", i,
			 t->sock[i], queues, t->client ? ",client=1" : "");
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", t->prefix);
	/* io forwarding pairs port 0's RX queue i with port 1's TX queue i, and back. */
	snprintf(rxq, sizeof(rxq), "--rxq=%u", queues);
	snprintf(txq, sizeof(txq), "--txq=%u", queues);
	/* Every RX queue fills its ring with mbufs: more queues, more of them. */
	snprintf(mbufs, sizeof(mbufs), "--total-num-mbufs=%u", queues > 1 ? 16384 : 8192);
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
	       "--vdev", vdev[0], "--vdev", vdev[1], "--", "--forward-mode=io", rxq, txq, mbufs,
	       "--max-pkt-len=9600", "-a", (char *)NULL);
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

int testpmd_finish(struct testpmd *t)
{
	int status, i;

	if (!t->pid)
		return -ECHILD;
	/* With -a and no terminal, the end of stdin stops forwarding and prints the stats. */
	close(t->stdin_fd);
	t->stdin_fd = -1;
	for (i = 0; i < 1000 && waitpid(t->pid, &status, WNOHANG) != t->pid; i++)
		usleep(10000);
	if (i == 1000)
		return testpmd_stop(t, SIGKILL) ?: -ETIMEDOUT;
	t->pid = 0;
	if (!t->client) {
		unlink(t->sock[0]);
		unlink(t->sock[1]);
	}
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ECHILD;
}

long long testpmd_stream_rx(const struct testpmd *t, unsigned int port, unsigned int queue)
{
	char want[64], line[512];
	long long n = -1;
	bool in = false;
	FILE *f = fopen(t->log, "r");

	/* "---- Forward Stats for RX Port= 0/Queue= 1 -> TX Port= 1/Queue= 1 ----" */
	snprintf(want, sizeof(want), "Forward Stats for RX Port=%2u/Queue=%2u ", port, queue);
	while (f && fgets(line, sizeof(line), f)) {
		if (!in)
			in = strstr(line, want) != NULL;
		else if (sscanf(line, " RX-packets: %lld", &n) == 1)
			break;
	}
	if (f)
		fclose(f);
	return n < 0 ? 0 : n;
}
