/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm CPU lists as taskset -c and /proc/PID/status (Cpus_allowed_list)
 * write them: "0-1,3". Used by --cpus N,affinity=LIST and --io-affinity.
 */
#ifndef KAVM_CPULIST_H
#define KAVM_CPULIST_H

#include <sched.h>
#include <stddef.h>

/*
 * Parse "N", "N-M" items separated by commas into set. -EINVAL: not such
 * a list (empty, a stray character, a range running backwards); -ERANGE: a
 * CPU beyond CPU_SETSIZE - 1, stored in *bad.
 */
int cpulist_parse(const char *s, cpu_set_t *set, long *bad);

/* set as "0-1,3" in buf (cut short at size); returns buf. */
char *cpulist_format(const cpu_set_t *set, char *buf, size_t size);

/*
 * Is every CPU of set one kavm may run on (in its own affinity mask, which
 * *allowed gets)? 0: yes; 1: no, *cpu is the first that is not; -errno if
 * the mask cannot be read.
 */
int cpulist_check_allowed(const cpu_set_t *set, cpu_set_t *allowed, int *cpu);

#endif /* KAVM_CPULIST_H */
