/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm's sandbox (after Firecracker's): once the VM is set up, every thread
 * runs under a seccomp-bpf allow-list for its kind, built with libseccomp.
 * A system call outside the list ends kavm with one line that names the
 * call and the thread (SIGSYS, SECCOMP_RET_TRAP), instead of a silent kill.
 */
#ifndef KAVM_SECCOMP_H
#define KAVM_SECCOMP_H

enum sandbox_kind {
	SANDBOX_VCPU, /* KVM_RUN and the device emulation it calls */
	SANDBOX_IO,   /* the event loop: backends, timers, teardown */
};

/* Once, before any thread applies its list: the SIGSYS reporter. */
int sandbox_prepare(void);
/*
 * Let the I/O thread's list allow unlinkat(dir_fd, ..., 0) on this one
 * directory (kavm's registry file, removed at exit). Before sandbox_apply().
 */
void sandbox_allow_unlink_in(int dir_fd);
/*
 * A netdev joined an eBPF switch (switch=): let the I/O thread's list allow
 * what leaving it at exit takes (bpf_switch_leave()): bpf() on maps and for
 * a program's info, a NETLINK_ROUTE socket for the tc/XDP detach, flock on
 * the switch's pin directory. Before sandbox_apply().
 */
void sandbox_allow_switch_leave(void);
/* The calling thread's list; name is how the report names the thread. */
int sandbox_apply(enum sandbox_kind kind, const char *name);

#endif /* KAVM_SECCOMP_H */
