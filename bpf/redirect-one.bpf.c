// SPDX-License-Identifier: GPL-2.0
/*
 * The ceilings of tests/bench/switch-bench: one-line programs that send every
 * frame to one port, with the same mechanism as the kavm switch (tc: a
 * bpf_redirect() to the device's egress; XDP: a devmap redirect). Whatever
 * the switch costs on top of these is its lookups, learning and counters.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_ifindex;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} one_port SEC(".maps");

SEC("tc")
int redirect_one_tc(struct __sk_buff *skb)
{
	return bpf_redirect(target_ifindex, 0);
}

SEC("xdp")
int redirect_one_xdp(struct xdp_md *ctx)
{
	return bpf_redirect_map(&one_port, 0, 0);
}

char LICENSE[] SEC("license") = "GPL";
