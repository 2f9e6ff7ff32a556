/* SPDX-License-Identifier: GPL-2.0 */
/* kavm eBPF switch loader: helpers shared by switch.c and switch-port.c. */
#ifndef KAVM_BPF_SWITCH_PRIV_H
#define KAVM_BPF_SWITCH_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <kavm/bpf-switch.h>

static inline int isalnum_c(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int bpf_switch_check_name(const char *name);
void bpf_switch_path(char *buf, size_t size, const char *name, const char *obj);
/* The current network namespace's SO_NETNS_COOKIE. */
int bpf_switch_netns_cookie(uint64_t *cookie);
/*
 * Serialises writers of one switch (slot allocation, port and fdb changes);
 * -EXDEV outside the switch's network namespace.
 */
int bpf_switch_lock(struct bpf_switch *sw);
void bpf_switch_unlock(struct bpf_switch *sw);

#endif /* KAVM_BPF_SWITCH_PRIV_H */
