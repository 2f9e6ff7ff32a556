/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm tests: DPDK's testpmd as a vhost-user backend, two vhost ports
 * forwarding to each other (io mode), started, killed and restarted by a
 * test. It runs without hugepages and without PCI, with its output in a log
 * file beside its sockets; testpmd_exit() removes its runtime directory.
 */
#ifndef KAVM_TEST_TESTPMD_H
#define KAVM_TEST_TESTPMD_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

struct testpmd {
	pid_t pid;	     /* 0 while not running */
	int stdin_fd;	     /* its stdin: with -a it ends when this closes */
	bool client;	     /* testpmd connects (kavm listens, server=on) */
	unsigned int queues; /* queue pairs per port (its vhost PMD's queues=); 0: 1 */
	unsigned int starts;
	char dir[64]; /* a private directory for the sockets and the log */
	char sock[2][sizeof(((struct sockaddr_un *)0)->sun_path)];
	char log[96];
	char prefix[40]; /* --file-prefix: its runtime directory under /var/run/dpdk */
};

/* Is dpdk-testpmd installed? */
bool testpmd_available(void);
/* A fresh directory and socket paths; testpmd is not started. */
int testpmd_init(struct testpmd *t, bool client);
/* Start it; as a server, wait until both sockets listen. */
int testpmd_start(struct testpmd *t);
/* End it with sig (SIGKILL: a crash) and reap it; a server's sockets are removed. */
int testpmd_stop(struct testpmd *t, int sig);
/* End it as a user would (its stdin closes): it stops forwarding and logs its stats. */
int testpmd_finish(struct testpmd *t);
/*
 * After testpmd_finish(): the frames its io forwarding took from RX queue
 * queue of port, from its per-stream stats (0 when it logged none: testpmd
 * leaves out streams that carried nothing).
 */
long long testpmd_stream_rx(const struct testpmd *t, unsigned int port, unsigned int queue);
/* Stop it if running, remove the directory. */
void testpmd_exit(struct testpmd *t);
/* The last lines of its log, for a failing test. */
void testpmd_dump_log(const struct testpmd *t);

#endif /* KAVM_TEST_TESTPMD_H */
