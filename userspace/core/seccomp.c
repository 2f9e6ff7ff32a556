// SPDX-License-Identifier: GPL-2.0
/*
 * kavm sandbox: one seccomp allow-list per thread kind (libseccomp). The
 * lists hold what each thread does once the VM runs, measured with strace
 * on kavm's boots and transfers (Documentation/seccomp.md); anything that
 * creates processes, opens files, makes sockets or changes the system is
 * left out. Arguments are not filtered yet: ioctl stays open to every fd.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/netlink.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/seccomp.h>

/* The tables keep their hand-made columns. */
/* clang-format off */
/* Both kinds: memory, locks, time, signals, the fds they already hold. */
static const int sandbox_common[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(pread64),
	SCMP_SYS(pwrite64),
	SCMP_SYS(lseek),
	SCMP_SYS(close),
	SCMP_SYS(ioctl),
	SCMP_SYS(fcntl),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(eventfd2),
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(mprotect),
	SCMP_SYS(madvise),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(futex),
	SCMP_SYS(sched_yield),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(tgkill),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(getrandom),
	SCMP_SYS(rseq),
	SCMP_SYS(set_robust_list),
};

/*
 * The loop: epoll, timers, netlink replies at teardown, console and control
 * sockets. timerfd_create: the first SIGTERM arms the power button's timeout
 * (main.c).
 */
static const int sandbox_io[] = {
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	SCMP_SYS(getsockopt),
	SCMP_SYS(shutdown),
	SCMP_SYS(dup),
	SCMP_SYS(prctl),
	/* --control: clients connect while the guest runs (core/control.c). */
	SCMP_SYS(accept4),
};

/*
 * A vhost-user backend that went away: a client dials it again (connect;
 * socket is allowed for AF_UNIX only, by sandbox_allow_unix_socket()), a
 * server accepts it again on the socket it listens on (accept4).
 */
static const int sandbox_io_vhost_user[] = {
	SCMP_SYS(connect), /* accept4 (server=on) is in sandbox_io already */
};

/* Device emulation may wire an eventfd into the loop (DRIVER_OK). */
static const int sandbox_vcpu[] = {
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
};

/*
 * A device reset takes a vhost-user backend's rings back on the vCPU:
 * GET_VRING_BASE goes out (sendmsg, above), its reply is awaited (poll)
 * and read (recvmsg).
 */
static const int sandbox_vcpu_vhost_user[] = {
	SCMP_SYS(poll),
	SCMP_SYS(recvmsg),
};

/* clang-format on */

#define SANDBOX_MAX_NR 512

/*
 * The one directory the I/O thread may unlink in (-1: none): kavm removes
 * its registry file at exit, after the loop's teardown, from this thread.
 * Only unlinkat() on that O_PATH fd is allowed, not unlink(): a path can
 * name any file, while this fd reaches the registry directory only.
 */
static int sandbox_unlink_dir_fd = -1;

/* A netdev is a port of an eBPF switch: the I/O thread leaves it at exit. */
static bool sandbox_switch_leave;

/* Names read by the SIGSYS handler, where nothing may be allocated. */
static char *sandbox_names[SANDBOX_MAX_NR];
static __thread const char *sandbox_thread;

static size_t put(char *buf, size_t off, size_t size, const char *s)
{
	while (*s && off < size)
		buf[off++] = *s++;
	return off;
}

static size_t put_uint(char *buf, size_t off, size_t size, unsigned int v)
{
	char digits[16];
	int n = 0;

	do
		digits[n++] = '0' + v % 10;
	while ((v /= 10) && n < (int)sizeof(digits));
	while (n && off < size)
		buf[off++] = digits[--n];
	return off;
}

/* Async-signal-safe: one line, then the whole process ends. */
static void sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	unsigned int nr = si->si_syscall;
	char line[256];
	size_t n = 0;

	n = put(line, n, sizeof(line), "kavm: seccomp: ");
	n = put(line, n, sizeof(line), sandbox_thread ? sandbox_thread : "a thread");
	n = put(line, n, sizeof(line), " made a forbidden system call: ");
	if (nr < SANDBOX_MAX_NR && sandbox_names[nr])
		n = put(line, n, sizeof(line), sandbox_names[nr]);
	else
		n = put(line, n, sizeof(line), "?");
	n = put(line, n, sizeof(line), " (");
	n = put_uint(line, n, sizeof(line), nr);
	n = put(line, n, sizeof(line), "); run with --seccomp off to debug\n");
	if (write(STDERR_FILENO, line, n) < 0)
		_exit(1);
	_exit(1);
}

int sandbox_prepare(void)
{
	struct sigaction sa = { .sa_sigaction = sandbox_sigsys, .sa_flags = SA_SIGINFO };
	unsigned int nr;

	for (nr = 0; nr < SANDBOX_MAX_NR; nr++)
		if (!sandbox_names[nr])
			sandbox_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (sigaction(SIGSYS, &sa, NULL))
		return -errno;
	return 0;
}

static int sandbox_allow(scmp_filter_ctx ctx, const int *list, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i], 0);
		if (ret)
			return ret;
	}
	return 0;
}

void sandbox_allow_unlink_in(int dir_fd)
{
	sandbox_unlink_dir_fd = dir_fd;
}

static int sandbox_allow_unlinkat(scmp_filter_ctx ctx)
{
	if (sandbox_unlink_dir_fd < 0)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlinkat), 2,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_unlink_dir_fd),
				SCMP_A2(SCMP_CMP_EQ, 0));
}

void sandbox_allow_switch_leave(void)
{
	sandbox_switch_leave = true;
}

/* clang-format off */
/* bpf_switch_leave() on a switch opened at start: no pins, programs or maps made. */
static const int sandbox_switch_bpf_cmds[] = {
	BPF_MAP_LOOKUP_ELEM,
	BPF_MAP_UPDATE_ELEM,
	BPF_MAP_DELETE_ELEM,
	BPF_MAP_GET_NEXT_KEY,
	BPF_OBJ_GET_INFO_BY_FD,
};

/* libbpf's netlink for the tc and XDP detach, and the pin directory's lock. */
static const int sandbox_switch_calls[] = {
	SCMP_SYS(bind),
	SCMP_SYS(getsockname),
	SCMP_SYS(setsockopt),
	SCMP_SYS(flock),
};
/* clang-format on */

static int sandbox_allow_switch(scmp_filter_ctx ctx)
{
	size_t i;
	int ret;

	if (!sandbox_switch_leave)
		return 0;
	for (i = 0; i < ARRAY_SIZE(sandbox_switch_bpf_cmds); i++) {
		ret = seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
			SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_switch_bpf_cmds[i]));
		if (ret)
			return ret;
	}
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			       SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
			       SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
	return ret ? ret :
		     sandbox_allow(ctx, sandbox_switch_calls, ARRAY_SIZE(sandbox_switch_calls));
}

/* The I/O thread's one kind of new socket: a unix stream to redial a vhost-user backend. */
static int sandbox_allow_unix_socket(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
}

int sandbox_apply(enum sandbox_kind kind, const char *name)
{
	scmp_filter_ctx ctx;
	int ret;

	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	ret = sandbox_allow(ctx, sandbox_common, ARRAY_SIZE(sandbox_common));
	if (!ret && kind == SANDBOX_IO)
		ret = sandbox_allow(ctx, sandbox_io, ARRAY_SIZE(sandbox_io));
	if (!ret && kind == SANDBOX_IO)
		ret = sandbox_allow_unlinkat(ctx);
	if (!ret && kind == SANDBOX_IO)
		ret = sandbox_allow(ctx, sandbox_io_vhost_user, ARRAY_SIZE(sandbox_io_vhost_user));
	if (!ret && kind == SANDBOX_IO)
		ret = sandbox_allow_unix_socket(ctx);
	if (!ret && kind == SANDBOX_IO)
		ret = sandbox_allow_switch(ctx);
	if (!ret && kind == SANDBOX_VCPU)
		ret = sandbox_allow(ctx, sandbox_vcpu, ARRAY_SIZE(sandbox_vcpu));
	if (!ret && kind == SANDBOX_VCPU)
		ret = sandbox_allow(ctx, sandbox_vcpu_vhost_user,
				    ARRAY_SIZE(sandbox_vcpu_vhost_user));
	if (!ret) {
		sandbox_thread = name;
		ret = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	return ret;
}
