/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm VM registry: each running kavm describes itself in one small JSON file,
 * REGISTRY_DIR/NAME.json (/run/kavm unless KAVM_RUN_DIR says otherwise), so
 * that tools (kavm-trace) find a VM's process, vCPU threads and taps by the
 * VM's name. The file is written atomically (a temporary file renamed over
 * it) and removed when kavm exits; a file left by a killed kavm is told from
 * a live one by the process's start time, which the file records.
 *
 *   {"version":1,"name":"vm0","pid":1234,"start_time":5678,"netns":4026531840,
 *    "vcpus":[{"id":0,"tid":1235}],"taps":[{"ifname":"tap0","ifindex":7}]}
 *
 * start_time is field 22 of /proc/PID/stat (clock ticks since boot), netns
 * the inode of /proc/PID/ns/net: the taps' ifindexes mean devices there.
 */
#ifndef KAVM_REGISTRY_H
#define KAVM_REGISTRY_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define REGISTRY_DIR_DEFAULT "/run/kavm"
#define REGISTRY_NAME_MAX 32
#define REGISTRY_MAX_VCPUS 256
#define REGISTRY_MAX_TAPS 16

struct registry_vcpu {
	unsigned int id;
	pid_t tid;
};

struct registry_tap {
	char ifname[IF_NAMESIZE];
	unsigned int ifindex;
};

/* What one file says about one VM. */
struct registry_vm {
	char name[REGISTRY_NAME_MAX + 1];
	pid_t pid;
	uint64_t start_time;
	uint64_t netns;
	unsigned int nr_vcpus;
	struct registry_vcpu vcpus[REGISTRY_MAX_VCPUS];
	unsigned int nr_taps;
	struct registry_tap taps[REGISTRY_MAX_TAPS];
};

/* The writer's handle: the directory stays open so that exit can unlink without a path walk. */
struct registry {
	int dir_fd; /* O_PATH: unlinkat only, which the I/O thread's sandbox allows on it */
	char name[REGISTRY_NAME_MAX + 1];
	bool published;
};

/* REGISTRY_DIR_DEFAULT or $KAVM_RUN_DIR. */
const char *registry_dir(void);
/* Letters, digits, '-', '_', '.', at most REGISTRY_NAME_MAX, no leading '.' or '-': -EINVAL. */
int registry_check_name(const char *name);

/*
 * Make the directory and take NAME: -EEXIST when a live kavm already
 * registered it (its pid in *owner), other -errno when the directory cannot
 * be made. A file left by a dead process is taken over.
 */
int registry_open(struct registry *reg, const char *name, pid_t *owner);
/*
 * Write NAME.json for the calling process: its pid, start time and network
 * namespace, the vCPUs given, and every tap the process holds open (found
 * in /proc/self/fdinfo, so no backend has to report them).
 */
int registry_publish(struct registry *reg, const struct registry_vcpu *vcpus,
		     unsigned int nr_vcpus);
/* Remove the file (only unlinkat on the open directory) and close the directory. */
void registry_close(struct registry *reg);

/* Fill vm from one file's text: -EINVAL when it is not what registry_publish() writes. */
int registry_parse(const char *json, struct registry_vm *vm);
/* Serialise vm as registry_publish() does (one line). */
void registry_format(FILE *f, const struct registry_vm *vm);
/* Read REGISTRY_DIR/NAME.json: -ENOENT when there is none. */
int registry_load(const char *name, struct registry_vm *vm);
/* Is vm's process still the one that wrote the file (same pid and start time)? */
bool registry_alive(const struct registry_vm *vm);
/*
 * Call fn for every live VM in the registry, in name order; stale files are
 * skipped. Stops at fn's first non-zero return and returns it.
 */
int registry_for_each(int (*fn)(const struct registry_vm *vm, void *arg), void *arg);
/* A process's start time (field 22 of /proc/PID/stat). */
int registry_proc_start_time(pid_t pid, uint64_t *start);

#endif /* KAVM_REGISTRY_H */
