// SPDX-License-Identifier: GPL-2.0
/*
 * kavm's sandbox on this machine's kernel: a thread under its allow-list
 * keeps doing what it does while the VM runs, and a call outside the list
 * ends the process with one line naming the call and the thread.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kavm/seccomp.h>

#include "../harness.h"

enum forbidden { CALL_OPEN, CALL_SOCKET, CALL_EXECVE, CALL_NONE };

/* In a child: sandbox it as kind, make call, report what happened. */
static int run_sandboxed(enum sandbox_kind kind, const char *name, enum forbidden call, char *err,
			 size_t size)
{
	int pipefd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		uint64_t v = 1;
		int efd;

		dup2(pipefd[1], STDERR_FILENO);
		if (sandbox_prepare() || sandbox_apply(kind, name))
			_exit(90);
		/* What both kinds do all the time must still work. */
		efd = eventfd(0, EFD_CLOEXEC);
		if (efd < 0 || write(efd, &v, sizeof(v)) != sizeof(v) ||
		    read(efd, &v, sizeof(v)) != sizeof(v) || close(efd))
			_exit(91);
		switch (call) {
		case CALL_OPEN:
			open("/etc/hostname", O_RDONLY);
			break;
		case CALL_SOCKET:
			socket(AF_INET, SOCK_DGRAM, 0);
			break;
		case CALL_EXECVE:
			execl("/bin/true", "true", (char *)NULL);
			break;
		case CALL_NONE:
			break;
		}
		_exit(0);
	}
	close(pipefd[1]);
	while (got < (ssize_t)size - 1 && (n = read(pipefd[0], err + got, size - 1 - got)) > 0)
		got += n;
	err[got] = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(sandboxed_threads_keep_their_everyday_calls)
{
	char err[512];

	EXPECT_EQ(run_sandboxed(SANDBOX_VCPU, "vCPU 0", CALL_NONE, err, sizeof(err)), 0);
	EXPECT_STREQ(err, "");
	EXPECT_EQ(run_sandboxed(SANDBOX_IO, "the I/O thread", CALL_NONE, err, sizeof(err)), 0);
	EXPECT_STREQ(err, "");
}

TEST(a_vcpu_opening_a_file_is_stopped_and_named)
{
	char err[512];

	EXPECT_EQ(run_sandboxed(SANDBOX_VCPU, "vCPU 3", CALL_OPEN, err, sizeof(err)), 1);
	EXPECT_STREQ(err, "kavm: seccomp: vCPU 3 made a forbidden system call: openat (257); "
			  "run with --seccomp off to debug\n");
}

TEST(the_io_thread_making_a_socket_is_stopped_and_named)
{
	char err[512];

	EXPECT_EQ(run_sandboxed(SANDBOX_IO, "the I/O thread", CALL_SOCKET, err, sizeof(err)), 1);
	EXPECT_STREQ(err, "kavm: seccomp: the I/O thread made a forbidden system call: socket "
			  "(41); run with --seccomp off to debug\n");
}

TEST(no_thread_may_run_a_program)
{
	char err[512];

	EXPECT_EQ(run_sandboxed(SANDBOX_IO, "the I/O thread", CALL_EXECVE, err, sizeof(err)), 1);
	EXPECT_STREQ(err, "kavm: seccomp: the I/O thread made a forbidden system call: execve "
			  "(59); run with --seccomp off to debug\n");
}

/* In a child sandboxed as the I/O thread with dir allowed: unlinkat(dirfd, name), status. */
static int unlink_sandboxed(int dir_fd, int at_fd, const char *name, char *err, size_t size)
{
	int pipefd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		sandbox_allow_unlink_in(dir_fd);
		if (sandbox_prepare() || sandbox_apply(SANDBOX_IO, "the I/O thread"))
			_exit(90);
		_exit(unlinkat(at_fd, name, 0) ? 92 : 0);
	}
	close(pipefd[1]);
	while (got < (ssize_t)size - 1 && (n = read(pipefd[0], err + got, size - 1 - got)) > 0)
		got += n;
	err[got] = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* kavm removes its registry file at exit: only in that directory. */
TEST(the_io_thread_may_unlink_in_the_registry_directory_only)
{
	char dir[] = "/tmp/kavm-seccomp.XXXXXX", path[64], err[512];
	int dir_fd, fd;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(dir_fd, 0);
	snprintf(path, sizeof(path), "%s/vm.json", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_EQ(unlink_sandboxed(dir_fd, dir_fd, "vm.json", err, sizeof(err)), 0);
	EXPECT_STREQ(err, "");
	EXPECT_NE(access(path, F_OK), 0);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_EQ(unlink_sandboxed(dir_fd, AT_FDCWD, path, err, sizeof(err)), 1);
	EXPECT_STREQ(err, "kavm: seccomp: the I/O thread made a forbidden system call: unlinkat "
			  "(263); run with --seccomp off to debug\n");
	EXPECT_EQ(access(path, F_OK), 0);
	unlink(path);
	close(dir_fd);
	rmdir(dir);
}
