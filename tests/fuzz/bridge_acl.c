// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the bridge access file (bridge.conf). The input is up
 * to three files, separated by a 0xff byte, written as a, b and c in a
 * private directory; a is loaded, and its rules may include b, c or
 * themselves. The loaded rules then judge a few bridge names. Any crash,
 * sanitizer report, leak or hang is a finding; -EINVAL, -ELOOP or -ENOENT
 * with a message naming the file and line is the expected answer.
 *
 *   make fuzz && build/fuzz/bridge_acl tests/fuzz/corpus/bridge_acl
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kavm/bridge-acl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[PATH_MAX];

static int write_file(const char *name, const uint8_t *p, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fwrite(p, 1, len, f);
	return fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "a", "b", "c" };
	static const char *const bridges[] = { "br0", "virbr0", "a", "" };
	struct bridge_acl *acl;
	char err[512], why[512], path[PATH_MAX];
	size_t i, start = 0, n = 0;

	if (!dir[0]) {
		/* Under $TMPDIR: tests/unit/fuzz.sh gives each run its own and removes it. */
		snprintf(dir, sizeof(dir), "%s/kavm-fuzz-acl-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(dir))
			abort();
	}
	for (n = 0; n < 3; n++) {
		const uint8_t *end = memchr(data + start, 0xff, size - start);
		size_t len = end ? (size_t)(end - data) - start : size - start;

		if (write_file(names[n], data + start, len))
			abort();
		start += len + (end ? 1 : 0);
	}
	snprintf(path, sizeof(path), "%s/a", dir);
	if (bridge_acl_load(path, &acl, err, sizeof(err)))
		return 0;
	for (i = 0; i < sizeof(bridges) / sizeof(bridges[0]); i++)
		bridge_acl_check(acl, bridges[i], why, sizeof(why));
	bridge_acl_free(acl);
	return 0;
}
