// SPDX-License-Identifier: GPL-2.0
/*
 * kavm eBPF switch: ports (tc and XDP hooks), the forwarding table, counters.
 *
 * A port is written into the maps before its hooks are attached, and the
 * hooks are removed before the port leaves the maps, so the program never
 * runs on a half-made port. Only hooks that carry this switch's program are
 * ever detached; a clsact qdisc is destroyed only if we created it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>

#include "switch-priv.h"

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr))
		ret = -errno;
	close(fd);
	return ret;
}

static int dev_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int ret;

	ret = ifreq_ioctl(ifname, SIOCGIFHWADDR, &ifr);
	if (!ret)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return ret;
}

/* By driver, not sysfs: /sys/class/net shows the netns sysfs was mounted in. */
static bool dev_is_tun(const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };

	return !ifreq_ioctl(ifname, SIOCETHTOOL, &ifr) && !strcmp(info.driver, "tun");
}

/* A name, or (for removing a port whose device is gone) a decimal ifindex. */
static int resolve(const char *ifname, bool allow_index, uint32_t *ifindex)
{
	char *end;
	unsigned long v;

	*ifindex = if_nametoindex(ifname);
	if (*ifindex)
		return 0;
	if (!allow_index)
		return -ENODEV;
	v = strtoul(ifname, &end, 10);
	if (!*ifname || *end || !v || v > UINT32_MAX)
		return -ENODEV;
	*ifindex = v;
	return 0;
}

static int prog_id(int fd, uint32_t *id)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

struct owner_search {
	uint32_t id;
	char *name;
};

static int match_owner(const char *name, void *arg)
{
	struct owner_search *s = arg;
	char path[256];
	uint32_t id = 0;
	int fd, ret;

	bpf_switch_path(path, sizeof(path), name, "prog_tc");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	ret = prog_id(fd, &id);
	close(fd);
	if (ret || id != s->id)
		return 0;
	snprintf(s->name, BPF_SWITCH_NAME_MAX + 1, "%s", name);
	return 1;
}

/*
 * Make sure clsact exists (remembering whether we made it), then -EBUSY,
 * naming the other switch, when our tc slot on the device is taken. Only a
 * pre-existing qdisc is queried: the query of a missing one makes the
 * kernel complain through libbpf.
 */
static int tc_claim(uint32_t ifindex, struct kavm_sw_port *p, char other[BPF_SWITCH_NAME_MAX + 1])
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = BPF_SWITCH_TC_HANDLE,
			    .priority = BPF_SWITCH_TC_PRIO);
	struct owner_search s = { .name = other };
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (!ret) {
		p->flags |= KAVM_SW_PORT_OWN_CLSACT;
		return 0;
	}
	if (ret != -EEXIST)
		return ret;
	if (bpf_tc_query(&hook, &q))
		return 0;
	s.id = q.prog_id;
	if (bpf_switch_for_each(match_owner, &s) <= 0)
		snprintf(other, BPF_SWITCH_NAME_MAX + 1, "another program");
	return -EBUSY;
}

static void tc_unclaim(uint32_t ifindex, const struct kavm_sw_port *p)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	if (p->flags & KAVM_SW_PORT_OWN_CLSACT)
		bpf_tc_hook_destroy(&hook);
}

/* A new port starts from zero, not from the last one in its slot. */
static int zero_counters(struct bpf_switch *sw, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus(), ret = 0;
	struct kavm_sw_stats *per;

	if (ncpu < 0)
		return ncpu;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_update_elem(sw->stats_fd, &slot, per, BPF_ANY))
		ret = -errno;
	free(per);
	return ret;
}

static int alloc_slot(struct bpf_switch *sw, uint32_t ifindex, uint32_t *slot)
{
	struct kavm_sw_config cfg;
	uint32_t i, v, zero = 0;
	int ret;

	for (i = 0; i < KAVM_SW_MAX_PORTS; i++) {
		if (bpf_map_lookup_elem(sw->slots_fd, &i, &v))
			return -errno;
		if (!v)
			break;
	}
	if (i == KAVM_SW_MAX_PORTS)
		return -ENOSPC;
	ret = zero_counters(sw, i);
	if (ret)
		return ret;
	if (bpf_map_lookup_elem(sw->config_fd, &zero, &cfg))
		return -errno;
	if (bpf_map_update_elem(sw->slots_fd, &i, &ifindex, BPF_ANY))
		return -errno;
	if (cfg.nr_slots <= i) {
		cfg.nr_slots = i + 1;
		if (bpf_map_update_elem(sw->config_fd, &zero, &cfg, BPF_ANY))
			return -errno;
	}
	*slot = i;
	return 0;
}

static void free_slot(struct bpf_switch *sw, uint32_t slot)
{
	uint32_t zero = 0;

	bpf_map_update_elem(sw->slots_fd, &slot, &zero, BPF_ANY);
}

static int tc_attach(struct bpf_switch *sw, uint32_t ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = BPF_SWITCH_TC_HANDLE,
			    .priority = BPF_SWITCH_TC_PRIO, .prog_fd = sw->tc_fd);

	return bpf_tc_attach(&hook, &o);
}

/* Only our own filter goes, and the qdisc only if we made it for that filter. */
static void tc_detach(struct bpf_switch *sw, uint32_t ifindex, const struct kavm_sw_port *p)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = BPF_SWITCH_TC_HANDLE,
			    .priority = BPF_SWITCH_TC_PRIO);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = BPF_SWITCH_TC_HANDLE,
			    .priority = BPF_SWITCH_TC_PRIO);
	uint32_t ours = 0;

	if (prog_id(sw->tc_fd, &ours) || bpf_tc_query(&hook, &q) || q.prog_id != ours)
		return;
	bpf_tc_detach(&hook, &o);
	tc_unclaim(ifindex, p);
}

/* Native XDP only: generic XDP would cost more than the tc path it skips. */
static int xdp_attach(struct bpf_switch *sw, uint32_t ifindex, uint32_t slot)
{
	struct bpf_devmap_val val = { .ifindex = ifindex };
	int ret;

	ret = bpf_xdp_attach(ifindex, sw->xdp_fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			     NULL);
	if (ret)
		return ret;
	if (bpf_map_update_elem(sw->tx_ports_fd, &slot, &val, BPF_ANY)) {
		ret = -errno;
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	}
	return ret;
}

/* Replace-with-nothing only if the attached program is still ours. */
static void xdp_detach(struct bpf_switch *sw, uint32_t ifindex, uint32_t slot)
{
	DECLARE_LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = sw->xdp_fd);

	bpf_map_delete_elem(sw->tx_ports_fd, &slot);
	bpf_xdp_attach(ifindex, -1, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &o);
}

static int port_init(struct bpf_switch *sw, const char *ifname,
		     const struct bpf_switch_port_opts *opts, struct kavm_sw_port *p)
{
	int ret;

	memset(p, 0, sizeof(*p));
	ret = dev_mac(ifname, p->dev_mac);
	if (ret)
		return ret;
	if (opts->uplink)
		p->flags |= KAVM_SW_PORT_UPLINK;
	if (opts->no_spoof) {
		if (!opts->has_mac)
			return -EINVAL;
		p->flags |= KAVM_SW_PORT_NO_SPOOF;
	}
	if (opts->has_mac) {
		if (opts->mac[0] & 1)
			return -EINVAL;
		memcpy(p->mac, opts->mac, 6);
		p->flags |= KAVM_SW_PORT_HAS_MAC;
	}
	return 0;
}

static bool want_xdp(struct bpf_switch *sw, const char *ifname, const struct kavm_sw_port *p)
{
	struct kavm_sw_config cfg;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(sw->config_fd, &zero, &cfg) || !(cfg.flags & KAVM_SW_CFG_XDP))
		return false;
	return !(p->flags & KAVM_SW_PORT_UPLINK) && dev_is_tun(ifname);
}

/* The port's declared MAC: the datapath never learns it, so it must be static. */
static int fdb_static(struct bpf_switch *sw, const uint8_t mac[6], uint32_t ifindex, uint32_t slot)
{
	struct kavm_sw_fdb_entry e = { .ifindex = ifindex,
				       .slot = slot,
				       .flags = KAVM_SW_FDB_STATIC };
	struct kavm_sw_fdb_key k = {};

	memcpy(k.mac, mac, 6);
	return bpf_map_update_elem(sw->fdb_fd, &k, &e, BPF_ANY) ? -errno : 0;
}

/* ports and its array copy for small ifindexes change together. */
static int port_store(struct bpf_switch *sw, uint32_t ifindex, struct kavm_sw_port *p,
		      uint64_t flags)
{
	int ret = 0;

	p->ifindex = ifindex;
	if (bpf_map_update_elem(sw->ports_fd, &ifindex, p, flags))
		return -errno;
	if (ifindex < KAVM_SW_FAST_IFINDEX &&
	    bpf_map_update_elem(sw->ports_fast_fd, &ifindex, p, BPF_ANY)) {
		ret = -errno;
		if (flags == BPF_NOEXIST)
			bpf_map_delete_elem(sw->ports_fd, &ifindex);
	}
	return ret;
}

static void port_erase(struct bpf_switch *sw, uint32_t ifindex)
{
	struct kavm_sw_port none = {};

	if (ifindex < KAVM_SW_FAST_IFINDEX)
		bpf_map_update_elem(sw->ports_fast_fd, &ifindex, &none, BPF_ANY);
	bpf_map_delete_elem(sw->ports_fd, &ifindex);
}

static int port_add_locked(struct bpf_switch *sw, const char *ifname, uint32_t ifindex,
			   const struct bpf_switch_port_opts *opts,
			   char other[BPF_SWITCH_NAME_MAX + 1])
{
	struct kavm_sw_port p;
	int ret;

	if (!bpf_map_lookup_elem(sw->ports_fd, &ifindex, &p))
		return -EEXIST;
	ret = port_init(sw, ifname, opts, &p);
	if (ret)
		return ret;
	ret = tc_claim(ifindex, &p, other);
	if (ret)
		return ret;
	ret = alloc_slot(sw, ifindex, &p.slot);
	if (ret)
		goto err_unclaim;
	ret = port_store(sw, ifindex, &p, BPF_NOEXIST);
	if (ret)
		goto err_free_slot;
	ret = tc_attach(sw, ifindex);
	if (ret)
		goto err_del_port;
	if (want_xdp(sw, ifname, &p)) {
		ret = xdp_attach(sw, ifindex, p.slot);
		if (ret)
			goto err_tc_detach;
		p.flags |= KAVM_SW_PORT_XDP;
	}
	/* Record which hooks we own, for detach. */
	ret = port_store(sw, ifindex, &p, BPF_EXIST);
	if (ret)
		goto err_xdp_detach;
	if (p.flags & KAVM_SW_PORT_HAS_MAC) {
		ret = fdb_static(sw, p.mac, ifindex, p.slot);
		if (ret)
			goto err_xdp_detach;
	}
	return 0;
err_xdp_detach:
	if (p.flags & KAVM_SW_PORT_XDP)
		xdp_detach(sw, ifindex, p.slot);
err_tc_detach:
	tc_detach(sw, ifindex, &p);
	p.flags &= ~KAVM_SW_PORT_OWN_CLSACT;
err_del_port:
	port_erase(sw, ifindex);
err_free_slot:
	free_slot(sw, p.slot);
err_unclaim:
	tc_unclaim(ifindex, &p);
	return ret;
}

int bpf_switch_port_add(struct bpf_switch *sw, const char *ifname,
			const struct bpf_switch_port_opts *opts,
			char other[BPF_SWITCH_NAME_MAX + 1])
{
	uint32_t ifindex;
	int ret;

	other[0] = '\0';
	ret = resolve(ifname, false, &ifindex);
	if (ret)
		return ret;
	ret = bpf_switch_lock(sw);
	if (ret)
		return ret;
	ret = port_add_locked(sw, ifname, ifindex, opts, other);
	bpf_switch_unlock(sw);
	return ret;
}

/*
 * Learned and static entries that point at a leaving port go with it.
 * Keys are collected first: deleting while walking would restart the walk.
 */
static void fdb_flush_port(struct bpf_switch *sw, uint32_t ifindex)
{
	struct kavm_sw_fdb_key key, next, *prev = NULL, *gone;
	struct kavm_sw_fdb_entry e;
	size_t n = 0, i;

	gone = calloc(KAVM_SW_FDB_SIZE, sizeof(*gone));
	if (!gone)
		return;
	while (n < KAVM_SW_FDB_SIZE && !bpf_map_get_next_key(sw->fdb_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(sw->fdb_fd, &key, &e) && e.ifindex == ifindex)
			gone[n++] = key;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(sw->fdb_fd, &gone[i]);
	free(gone);
}

int bpf_switch_port_del(struct bpf_switch *sw, const char *ifname)
{
	uint32_t ifindex;
	int ret;

	ret = resolve(ifname, true, &ifindex);
	return ret ? ret : bpf_switch_port_del_index(sw, ifindex);
}

int bpf_switch_port_del_index(struct bpf_switch *sw, uint32_t ifindex)
{
	struct kavm_sw_port p;
	int ret;

	ret = bpf_switch_lock(sw);
	if (ret)
		return ret;
	if (bpf_map_lookup_elem(sw->ports_fd, &ifindex, &p)) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (p.flags & KAVM_SW_PORT_XDP)
		xdp_detach(sw, ifindex, p.slot);
	tc_detach(sw, ifindex, &p);
	free_slot(sw, p.slot);
	fdb_flush_port(sw, ifindex);
	port_erase(sw, ifindex);
out_unlock:
	bpf_switch_unlock(sw);
	return ret;
}

static int read_counters(struct bpf_switch *sw, uint32_t slot, uint64_t c[KAVM_SW_NR_COUNTERS])
{
	int ncpu = libbpf_num_possible_cpus(), cpu, i;
	struct kavm_sw_stats *per;
	int ret = 0;

	if (ncpu < 0)
		return ncpu;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(sw->stats_fd, &slot, per)) {
		ret = -errno;
		goto out_free;
	}
	for (cpu = 0; cpu < ncpu; cpu++)
		for (i = 0; i < KAVM_SW_NR_COUNTERS; i++)
			c[i] += per[cpu].c[i];
out_free:
	free(per);
	return ret;
}

int bpf_switch_ports(struct bpf_switch *sw, struct bpf_switch_port_info *out, size_t max)
{
	uint32_t key, next, *prev = NULL;
	int ret, here;
	size_t n = 0;

	/* Names from another netns would be other devices' names. */
	here = bpf_switch_in_netns(sw);
	if (here < 0)
		return here;

	while (!bpf_map_get_next_key(sw->ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (n < max) {
			struct bpf_switch_port_info *pi = &out[n];

			memset(pi, 0, sizeof(*pi));
			pi->ifindex = key;
			if (bpf_map_lookup_elem(sw->ports_fd, &key, &pi->port))
				continue;
			if (!here || !if_indextoname(key, pi->ifname))
				pi->ifname[0] = '\0';
			ret = read_counters(sw, pi->port.slot, pi->c);
			if (ret)
				return ret;
		}
		n++;
	}
	return n;
}

int bpf_switch_config(struct bpf_switch *sw, struct kavm_sw_config *cfg)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(sw->config_fd, &zero, cfg) ? -errno : 0;
}

int bpf_switch_set_ageing(struct bpf_switch *sw, uint64_t ageing_ns)
{
	struct kavm_sw_config cfg;
	uint32_t zero = 0;
	int ret;

	ret = bpf_switch_lock(sw);
	if (ret)
		return ret;
	ret = bpf_switch_config(sw, &cfg);
	if (!ret) {
		cfg.ageing_ns = ageing_ns ? ageing_ns : KAVM_SW_AGEING_NS_DEFAULT;
		if (bpf_map_update_elem(sw->config_fd, &zero, &cfg, BPF_ANY))
			ret = -errno;
	}
	bpf_switch_unlock(sw);
	return ret;
}

int bpf_switch_totals(struct bpf_switch *sw, uint64_t c[KAVM_SW_NR_COUNTERS])
{
	uint32_t slot;
	int ret;

	memset(c, 0, sizeof(uint64_t) * KAVM_SW_NR_COUNTERS);
	for (slot = 0; slot <= KAVM_SW_MAX_PORTS; slot++) {
		ret = read_counters(sw, slot, c);
		if (ret)
			return ret;
	}
	return 0;
}

const char *bpf_switch_counter_name(enum kavm_sw_counter c)
{
	static const char *const names[KAVM_SW_NR_COUNTERS] = {
		[KAVM_SW_RX] = "rx",
		[KAVM_SW_RX_BYTES] = "rx_bytes",
		[KAVM_SW_FWD] = "forwarded",
		[KAVM_SW_FWD_XDP] = "forwarded_xdp",
		[KAVM_SW_FLOOD] = "flooded",
		[KAVM_SW_TO_HOST] = "to_host",
		[KAVM_SW_TX] = "tx",
		[KAVM_SW_LEARN] = "learned",
		[KAVM_SW_DROP_SPOOF] = "drop_spoof",
		[KAVM_SW_DROP_INVALID] = "drop_invalid",
		[KAVM_SW_DROP_LOOP] = "drop_loop",
		[KAVM_SW_NOT_PORT] = "not_port",
		[KAVM_SW_FDB_FULL] = "fdb_full",
	};

	return (unsigned int)c < KAVM_SW_NR_COUNTERS && names[c] ? names[c] : "?";
}
