// SPDX-License-Identifier: GPL-2.0
/* kavm CPU lists ("0-1,3"): parse, format, check against kavm's own affinity. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/cpulist.h>

/* A CPU number at s; one too big to parse is LONG_MAX, refused as beyond CPU_SETSIZE. */
static long cpulist_number(const char *s, char **end)
{
	long v;

	errno = 0;
	v = strtol(s, end, 10);
	return errno ? LONG_MAX : v;
}

/* One "N" or "N-M" at *s; *s moves past it. */
static int cpulist_item(const char **s, long *lo, long *hi)
{
	char *end;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	*lo = *hi = cpulist_number(*s, &end);
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		*hi = cpulist_number(end + 1, &end);
	}
	*s = end;
	return *hi < *lo ? -EINVAL : 0;
}

int cpulist_parse(const char *s, cpu_set_t *set, long *bad)
{
	long lo, hi, cpu;
	int ret;

	CPU_ZERO(set);
	for (;;) {
		ret = cpulist_item(&s, &lo, &hi);
		if (ret)
			return ret;
		if (hi >= CPU_SETSIZE) {
			*bad = lo >= CPU_SETSIZE ? lo : CPU_SETSIZE;
			return -ERANGE;
		}
		for (cpu = lo; cpu <= hi; cpu++)
			CPU_SET(cpu, set);
		if (!*s)
			return 0;
		if (*s++ != ',')
			return -EINVAL;
	}
}

char *cpulist_format(const cpu_set_t *set, char *buf, size_t size)
{
	size_t len = 0;
	int cpu, last;

	buf[0] = 0;
	for (cpu = 0; cpu < CPU_SETSIZE && len < size; cpu++) {
		if (!CPU_ISSET(cpu, set))
			continue;
		for (last = cpu; last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set); last++)
			;
		if (last == cpu)
			len += snprintf(buf + len, size - len, "%s%d", len ? "," : "", cpu);
		else
			len += snprintf(buf + len, size - len, "%s%d-%d", len ? "," : "", cpu,
					last);
		cpu = last;
	}
	return buf;
}

int cpulist_check_allowed(const cpu_set_t *set, cpu_set_t *allowed, int *cpu)
{
	if (sched_getaffinity(0, sizeof(*allowed), allowed))
		return -errno;
	for (*cpu = 0; *cpu < CPU_SETSIZE; (*cpu)++)
		if (CPU_ISSET(*cpu, set) && !CPU_ISSET(*cpu, allowed))
			return 1;
	return 0;
}
