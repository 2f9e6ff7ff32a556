/* SPDX-License-Identifier: GPL-2.0 */
/* kavm command line: argv -> struct vm_config, nothing else. */
#ifndef KAVM_OPTIONS_H
#define KAVM_OPTIONS_H

#include <stdio.h>

#include <kavm/kvm.h>

/* --version; bumped with each release. */
#define KAVM_VERSION "0.1.0"

#define KAVM_DEFAULT_MEM (512ULL << 20)
#define KAVM_MAX_MEM (1ULL << 40)

/*
 * Fill cfg from argv. Returns 0 to run, 1 when --help, --version or a
 * "help" list was printed (exit 0), -EINVAL after printing one line naming
 * the bad option. QEMU's one-dash spelling of a long option (-kernel, -nic)
 * is taken as the two-dash one.
 */
int options_parse(int argc, char **argv, struct vm_config *cfg);
void options_usage(FILE *f);
/* "512M", "2G", "1048576K", "64" (MiB); -EINVAL or -ERANGE. */
int parse_mem_size(const char *s, unsigned long long *bytes);

#endif /* KAVM_OPTIONS_H */
