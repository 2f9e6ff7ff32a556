// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the kavm command line. The input is NUL-separated
 * arguments; they go through options_parse() as argv (--netdev, --device,
 * --memory, --cpu-features ...), and each one also straight into the
 * --netdev / --device value parsers. Any crash, sanitizer report or leak is
 * a finding; -EINVAL with a message is the expected answer to nonsense.
 *
 *   make fuzz && build/fuzz/options tests/fuzz/corpus/options
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/log.h>
#include <kavm/net.h>

/* options.c belongs to the kavm binary, not libkavm.a: fuzz it as is. */
#include "../../userspace/options.c"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *buf = malloc(size + 1);
	struct net_device_opts dev;
	struct netdev_opts nd;
	struct vm_config *cfg;
	int argc = 1, i;
	char err[256];
	size_t off;

	cfg = calloc(1, sizeof(*cfg));
	if (!buf || !cfg)
		goto out;
	log_level = -1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "kavm";
	for (off = 0; off <= size && argc <= MAX_ARGS; off += strlen(buf + off) + 1)
		argv[argc++] = buf + off;
	argv[argc] = NULL;
	for (i = 1; i < argc; i++) {
		netdev_parse(argv[i], &nd, err, sizeof(err));
		net_device_parse(argv[i], &dev, err, sizeof(err));
	}
	options_parse(argc, argv, cfg);
out:
	free(cfg);
	free(buf);
	return 0;
}
