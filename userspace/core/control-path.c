// SPDX-License-Identifier: GPL-2.0
/* kavm: where control sockets live, shared by kavm (--name) and kavmctl vm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <kavm/control.h>
#include <kavm/registry.h>

const char *control_rundir(void)
{
	const char *dir = getenv("KAVM_RUNDIR");

	return dir && *dir ? dir : CONTROL_RUNDIR;
}

/* One rule for a VM's name, the registry's: the socket is named after it too. */
bool control_name_ok(const char *name)
{
	return !registry_check_name(name);
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
