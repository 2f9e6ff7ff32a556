// SPDX-License-Identifier: GPL-2.0
/* kavm: where control sockets live, shared by kavm (--name) and kavmctl vm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <kavm/control.h>

const char *control_rundir(void)
{
	const char *dir = getenv("KAVM_RUNDIR");

	return dir && *dir ? dir : CONTROL_RUNDIR;
}

bool control_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 64 || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       len;
}

int control_name_path(const char *name, char *buf, size_t size)
{
	struct sockaddr_un sa;
	int n;

	n = snprintf(buf, size, "%s/%s.sock", control_rundir(), name);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	return 0;
}
