// SPDX-License-Identifier: GPL-2.0
/* kavm eBPF switch: the forwarding table seen from userspace. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include <kavm/bpf-switch.h>

#include "switch-priv.h"

int bpf_switch_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

void bpf_switch_format_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static void key_of(struct kavm_sw_fdb_key *k, const uint8_t mac[6])
{
	memset(k, 0, sizeof(*k));
	memcpy(k->mac, mac, 6);
}

int bpf_switch_fdb_add(struct bpf_switch *sw, const uint8_t mac[6], const char *ifname)
{
	struct kavm_sw_fdb_entry e = { .flags = KAVM_SW_FDB_STATIC };
	struct kavm_sw_fdb_key k;
	struct kavm_sw_port p;
	int ret;

	if (mac[0] & 1)
		return -EINVAL;
	e.ifindex = if_nametoindex(ifname);
	if (!e.ifindex)
		return -ENODEV;
	key_of(&k, mac);
	ret = bpf_switch_lock(sw);
	if (ret)
		return ret;
	/* Only a port: an entry elsewhere would redirect frames out of the switch. */
	if (bpf_map_lookup_elem(sw->ports_fd, &e.ifindex, &p))
		ret = -ENOENT;
	else {
		e.slot = p.slot;
		if (bpf_map_update_elem(sw->fdb_fd, &k, &e, BPF_ANY))
			ret = -errno;
	}
	bpf_switch_unlock(sw);
	return ret;
}

int bpf_switch_fdb_del(struct bpf_switch *sw, const uint8_t mac[6])
{
	struct kavm_sw_fdb_key k;

	key_of(&k, mac);
	return bpf_map_delete_elem(sw->fdb_fd, &k) ? -errno : 0;
}

/* The datapath stamps entries with bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC_COARSE. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int bpf_switch_fdb(struct bpf_switch *sw, struct bpf_switch_fdb_info *out, size_t max)
{
	struct kavm_sw_fdb_key key, next, *prev = NULL;
	struct kavm_sw_fdb_entry e;
	struct kavm_sw_config cfg;
	uint64_t now = now_ns();
	size_t n = 0;
	int ret;

	ret = bpf_switch_config(sw, &cfg);
	if (ret)
		return ret;
	while (!bpf_map_get_next_key(sw->fdb_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(sw->fdb_fd, &key, &e))
			continue;
		if (!(e.flags & KAVM_SW_FDB_STATIC) && now - e.seen_ns >= cfg.ageing_ns)
			continue;
		if (n < max) {
			memcpy(out[n].mac, key.mac, 6);
			out[n].ifindex = e.ifindex;
			out[n].is_static = e.flags & KAVM_SW_FDB_STATIC;
			out[n].age_ns = out[n].is_static ? 0 : now - e.seen_ns;
		}
		n++;
	}
	return n;
}
