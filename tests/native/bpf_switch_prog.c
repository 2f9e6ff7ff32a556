// SPDX-License-Identifier: GPL-2.0
/*
 * The eBPF switch's decisions, checked with BPF_PROG_TEST_RUN on crafted
 * frames against the real pinned programs and maps: verdicts, learning,
 * ageing, the flooding set (the clones really leave through the taps, so
 * they are read back from the tap fds), counters and anti-spoofing.
 */
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>

#include "../harness.h"
#include "switch-util.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t mac_c[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define NPORTS 3

FIXTURE(sw)
{
	char name[BPF_SWITCH_NAME_MAX + 1];
	char ifname[NPORTS][IFNAMSIZ];
	uint32_t ifindex[NPORTS];
	int fd[NPORTS];
	struct bpf_switch *sw;
	bool created;
};

static void sw_setup(struct _kt_fixture_sw *self, bool xdp, bool no_spoof_a)
{
	struct bpf_switch_create_opts copts = { .xdp = xdp };
	struct bpf_switch_port_opts popts = {};
	int i;

	kt_unshare_netns();
	sw_sweep_stale();
	/* The host's own IPv6 chatter on the taps would be extra frames to read. */
	ASSERT_EQ(system("echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"), 0);
	sw_test_name(self->name, sizeof(self->name), "prog");
	for (i = 0; i < NPORTS; i++) {
		snprintf(self->ifname[i], IFNAMSIZ, "kt%c", 'a' + i);
		self->fd[i] = tapdev_open(self->ifname[i], true);
		ASSERT_GE(self->fd[i], 0);
		ASSERT_EQ(tapdev_up(self->ifname[i]), 0);
		self->ifindex[i] = if_nametoindex(self->ifname[i]);
	}
	ASSERT_EQ(bpf_switch_create(self->name, &copts), 0);
	self->created = true;
	ASSERT_EQ(bpf_switch_open(self->name, &self->sw), 0);
	for (i = 0; i < NPORTS; i++) {
		char other[BPF_SWITCH_NAME_MAX + 1];

		popts.no_spoof = no_spoof_a && i == 0;
		popts.has_mac = popts.no_spoof;
		memcpy(popts.mac, mac_a, 6);
		ASSERT_EQ(bpf_switch_port_add(self->sw, self->ifname[i], &popts, other), 0);
	}
}

FIXTURE_SETUP(sw)
{
	memset(self->fd, 0xff, sizeof(self->fd));
	sw_setup(self, false, false);
}

FIXTURE_TEARDOWN(sw)
{
	int i;

	bpf_switch_close(self->sw);
	if (self->created)
		EXPECT_EQ(bpf_switch_destroy(self->name), 0);
	for (i = 0; i < NPORTS; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
}

/* The tc program's verdict on a frame entering the switch at ifindex. */
static int run_tc(struct bpf_switch *sw, uint32_t ifindex, const uint8_t *frame, size_t len)
{
	struct __sk_buff ctx = { .ifindex = ifindex };
	uint8_t out[2048];
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx));

	if (bpf_prog_test_run_opts(sw->tc_fd, &o))
		return -errno;
	return o.retval;
}

static int run_xdp(struct bpf_switch *sw, uint32_t ifindex, const uint8_t *frame, size_t len)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	if (bpf_prog_test_run_opts(sw->xdp_fd, &o))
		return -errno;
	return o.retval;
}

static long long port_counter(struct bpf_switch *sw, uint32_t ifindex, enum kavm_sw_counter c)
{
	struct bpf_switch_port_info pi[KAVM_SW_MAX_PORTS];
	int n, i;

	n = bpf_switch_ports(sw, pi, ARRAY_SIZE(pi));
	for (i = 0; i < n && i < (int)ARRAY_SIZE(pi); i++)
		if (pi[i].ifindex == ifindex)
			return pi[i].c[c];
	return -1;
}

/* The port the switch learned mac on, 0 if none; *is_static when static. */
static uint32_t fdb_port(struct bpf_switch *sw, const uint8_t mac[6], bool *is_static)
{
	struct bpf_switch_fdb_info e[64];
	int n, i;

	n = bpf_switch_fdb(sw, e, ARRAY_SIZE(e));
	for (i = 0; i < n && i < (int)ARRAY_SIZE(e); i++) {
		if (!memcmp(e[i].mac, mac, 6)) {
			if (is_static)
				*is_static = e[i].is_static;
			return e[i].ifindex;
		}
	}
	return 0;
}

TEST_F(sw, known_unicast_redirects_and_counts)
{
	uint8_t f[64];

	ASSERT_EQ(bpf_switch_fdb_add(self->sw, mac_b, self->ifname[1]), 0);
	frame_make(f, sizeof(f), mac_b, mac_a, 1);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_REDIRECT);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_RX), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_RX_BYTES), (long long)sizeof(f));
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_FWD), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[1], KAVM_SW_TX), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[2], KAVM_SW_TX), 0);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_FLOOD), 0);
	/* A redirect is not a flood: no copy reached any tap. */
	EXPECT_EQ(tapdev_drain(self->fd[2]), 0);
}

TEST_F(sw, learns_source_and_moves_it)
{
	bool st = true;
	uint8_t f[64];

	frame_make(f, sizeof(f), mac_a, mac_x, 2);
	run_tc(self->sw, self->ifindex[1], f, sizeof(f));
	EXPECT_EQ(fdb_port(self->sw, mac_x, &st), self->ifindex[1]);
	EXPECT_FALSE(st);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[1], KAVM_SW_LEARN), 1);
	/* The learned entry now steers unicast to x. */
	frame_make(f, sizeof(f), mac_x, mac_a, 3);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_REDIRECT);
	/* x shows up behind c: the entry follows it. */
	frame_make(f, sizeof(f), mac_a, mac_x, 4);
	run_tc(self->sw, self->ifindex[2], f, sizeof(f));
	EXPECT_EQ(fdb_port(self->sw, mac_x, NULL), self->ifindex[2]);
	/* Refreshing an entry on the same port is not a new learn. */
	run_tc(self->sw, self->ifindex[2], f, sizeof(f));
	EXPECT_EQ(port_counter(self->sw, self->ifindex[2], KAVM_SW_LEARN), 1);
}

TEST_F(sw, static_entry_never_moves)
{
	bool st = false;
	uint8_t f[64];

	ASSERT_EQ(bpf_switch_fdb_add(self->sw, mac_b, self->ifname[1]), 0);
	frame_make(f, sizeof(f), mac_a, mac_b, 5);
	run_tc(self->sw, self->ifindex[2], f, sizeof(f));
	EXPECT_EQ(fdb_port(self->sw, mac_b, &st), self->ifindex[1]);
	EXPECT_TRUE(st);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[2], KAVM_SW_LEARN), 0);
}

/* Every other port gets one identical copy, the ingress port none. */
static int expect_flooded(struct _kt_fixture_sw *self, const uint8_t *f, size_t len)
{
	uint8_t got[2048];
	int i;

	for (i = 1; i < NPORTS; i++) {
		ssize_t n = tapdev_recv(self->fd[i], got, sizeof(got), 3000);

		if (n != (ssize_t)len || memcmp(got, f, len))
			return -EIO;
		if (tapdev_drain(self->fd[i]))
			return -EEXIST;
	}
	return tapdev_drain(self->fd[0]) ? -EEXIST : 0;
}

TEST_F(sw, unknown_unicast_floods_to_the_others)
{
	uint8_t f[100];

	frame_make(f, sizeof(f), mac_x, mac_a, 6);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_SHOT);
	EXPECT_EQ(expect_flooded(self, f, sizeof(f)), 0);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_FLOOD), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_TO_HOST), 0);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[1], KAVM_SW_TX), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[2], KAVM_SW_TX), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_TX), 0);
}

TEST_F(sw, broadcast_floods_and_reaches_the_host)
{
	uint8_t f[60];

	frame_make(f, sizeof(f), bcast, mac_a, 7);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_OK);
	EXPECT_EQ(expect_flooded(self, f, sizeof(f)), 0);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_FLOOD), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_TO_HOST), 1);
}

TEST_F(sw, detached_port_leaves_the_flooding_set)
{
	char other[BPF_SWITCH_NAME_MAX + 1];
	uint8_t f[60];

	frame_make(f, sizeof(f), bcast, mac_a, 8);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_OK);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[2], KAVM_SW_TX), 1);
	tapdev_drain(self->fd[1]);
	tapdev_drain(self->fd[2]);
	ASSERT_EQ(bpf_switch_port_del(self->sw, self->ifname[2]), 0);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_OK);
	EXPECT_GE(tapdev_recv(self->fd[1], f, sizeof(f), 3000), 0);
	EXPECT_EQ(tapdev_drain(self->fd[2]), 0);
	/* And its program is gone: frames from it are no longer switched. */
	EXPECT_EQ(port_counter(self->sw, self->ifindex[2], KAVM_SW_RX), -1);
	/* Back in its old slot, it starts from zero counters. */
	ASSERT_EQ(bpf_switch_port_add(self->sw, self->ifname[2], &(struct bpf_switch_port_opts){},
				      other),
		  0);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[2], KAVM_SW_TX), 0);
}

TEST_F(sw, frames_for_the_device_go_to_the_host)
{
	struct bpf_switch_port_info pi[NPORTS];
	uint8_t f[64];
	int n, i;

	n = bpf_switch_ports(self->sw, pi, NPORTS);
	ASSERT_EQ(n, NPORTS);
	for (i = 0; i < n; i++)
		if (pi[i].ifindex == self->ifindex[0])
			break;
	ASSERT_LT(i, n);
	frame_make(f, sizeof(f), pi[i].port.dev_mac, mac_a, 9);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_OK);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_TO_HOST), 1);
	EXPECT_EQ(tapdev_drain(self->fd[1]) + tapdev_drain(self->fd[2]), 0);
}

TEST_F(sw, hairpin_and_invalid_source_are_dropped)
{
	uint8_t f[64], mcast_src[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

	ASSERT_EQ(bpf_switch_fdb_add(self->sw, mac_b, self->ifname[1]), 0);
	frame_make(f, sizeof(f), mac_b, mac_x, 10);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[1], f, sizeof(f)), TC_ACT_SHOT);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[1], KAVM_SW_DROP_LOOP), 1);
	frame_make(f, sizeof(f), mac_b, mcast_src, 11);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_SHOT);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_DROP_INVALID), 1);
	EXPECT_EQ(fdb_port(self->sw, mcast_src, NULL), 0U);
}

TEST_F(sw, learned_entries_age_static_ones_do_not)
{
	uint8_t f[64];

	ASSERT_EQ(bpf_switch_fdb_add(self->sw, mac_c, self->ifname[2]), 0);
	frame_make(f, sizeof(f), mac_a, mac_x, 12);
	run_tc(self->sw, self->ifindex[1], f, sizeof(f));
	ASSERT_EQ(fdb_port(self->sw, mac_x, NULL), self->ifindex[1]);
	ASSERT_EQ(bpf_switch_set_ageing(self->sw, 50 * 1000000ULL), 0);
	usleep(120 * 1000);
	EXPECT_EQ(fdb_port(self->sw, mac_x, NULL), 0U);
	EXPECT_EQ(fdb_port(self->sw, mac_c, NULL), self->ifindex[2]);
	/* x is unknown again: its frames flood; c is still known. */
	frame_make(f, sizeof(f), mac_x, mac_a, 13);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_SHOT);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_FLOOD), 1);
	frame_make(f, sizeof(f), mac_c, mac_a, 14);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_REDIRECT);
}

TEST_F(sw, not_a_port_passes_untouched)
{
	char name[IFNAMSIZ] = "ktz";
	uint32_t zero = 0;
	int fd;
	uint8_t f[64];
	uint64_t c[KAVM_SW_NR_COUNTERS];

	fd = tapdev_open(name, true);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(tapdev_up(name), 0);
	frame_make(f, sizeof(f), bcast, mac_x, 15);
	EXPECT_EQ(run_tc(self->sw, if_nametoindex(name), f, sizeof(f)), TC_ACT_OK);
	EXPECT_EQ(bpf_switch_totals(self->sw, c), 0);
	EXPECT_EQ(c[KAVM_SW_NOT_PORT], 1ULL);
	EXPECT_EQ(c[KAVM_SW_RX], 0ULL);
	EXPECT_EQ(bpf_map_lookup_elem(self->sw->slots_fd, &zero, &zero), 0);
	close(fd);
}

TEST_F(sw, a_device_joins_one_switch_only)
{
	char name2[BPF_SWITCH_NAME_MAX + 1], other[BPF_SWITCH_NAME_MAX + 1];
	struct bpf_switch *sw2;

	sw_test_name(name2, sizeof(name2), "prog2");
	ASSERT_EQ(bpf_switch_create(name2, NULL), 0);
	ASSERT_EQ(bpf_switch_open(name2, &sw2), 0);
	EXPECT_EQ(
		bpf_switch_port_add(sw2, self->ifname[0], &(struct bpf_switch_port_opts){}, other),
		-EBUSY);
	EXPECT_STREQ(other, self->name);
	EXPECT_EQ(bpf_switch_port_add(self->sw, self->ifname[0], &(struct bpf_switch_port_opts){},
				      other),
		  -EEXIST);
	bpf_switch_close(sw2);
	EXPECT_EQ(bpf_switch_destroy(name2), 0);
	EXPECT_EQ(bpf_switch_create(self->name, NULL), -EEXIST);
	EXPECT_EQ(bpf_switch_attach("kt-no-such-switch", self->ifname[0], NULL), -ENOENT);
}

FIXTURE(spoof)
{
	char name[BPF_SWITCH_NAME_MAX + 1];
	char ifname[NPORTS][IFNAMSIZ];
	uint32_t ifindex[NPORTS];
	int fd[NPORTS];
	struct bpf_switch *sw;
	bool created;
};

FIXTURE_SETUP(spoof)
{
	memset(self->fd, 0xff, sizeof(self->fd));
	sw_setup((struct _kt_fixture_sw *)self, false, true);
}

FIXTURE_TEARDOWN(spoof)
{
	_kt_teardown_sw((struct _kt_fixture_sw *)self);
}

TEST_F(spoof, only_the_ports_mac_may_send)
{
	bool st = false;
	uint8_t f[64];

	frame_make(f, sizeof(f), bcast, mac_x, 16);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_SHOT);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_DROP_SPOOF), 1);
	EXPECT_EQ(fdb_port(self->sw, mac_x, NULL), 0U);
	EXPECT_EQ(tapdev_drain(self->fd[1]), 0);
	frame_make(f, sizeof(f), bcast, mac_a, 17);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_OK);
	/* The port's --mac was made static at attach: there is nothing to learn. */
	EXPECT_EQ(fdb_port(self->sw, mac_a, &st), self->ifindex[0]);
	EXPECT_TRUE(st);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_LEARN), 0);
	/* Ports without --no-spoof may carry any source. */
	frame_make(f, sizeof(f), bcast, mac_x, 18);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[1], f, sizeof(f)), TC_ACT_OK);
}

FIXTURE(xdp)
{
	char name[BPF_SWITCH_NAME_MAX + 1];
	char ifname[NPORTS][IFNAMSIZ];
	uint32_t ifindex[NPORTS];
	int fd[NPORTS];
	struct bpf_switch *sw;
	bool created;
};

FIXTURE_SETUP(xdp)
{
	memset(self->fd, 0xff, sizeof(self->fd));
	sw_setup((struct _kt_fixture_sw *)self, true, false);
}

FIXTURE_TEARDOWN(xdp)
{
	_kt_teardown_sw((struct _kt_fixture_sw *)self);
}

TEST_F(xdp, known_unicast_leaves_by_devmap_the_rest_passes)
{
	uint8_t f[64];
	uint32_t id = 0;

	/* Native XDP on every tap port. */
	EXPECT_EQ(bpf_xdp_query_id(self->ifindex[1], XDP_FLAGS_DRV_MODE, &id), 0);
	EXPECT_NE(id, 0U);
	ASSERT_EQ(bpf_switch_fdb_add(self->sw, mac_b, self->ifname[1]), 0);
	frame_make(f, sizeof(f), mac_b, mac_a, 19);
	EXPECT_EQ(run_xdp(self->sw, self->ifindex[0], f, sizeof(f)), XDP_REDIRECT);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_FWD_XDP), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_RX), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[1], KAVM_SW_TX), 1);
	EXPECT_EQ(fdb_port(self->sw, mac_a, NULL), self->ifindex[0]);
	/* Unknown unicast and broadcast are tc's: passed, not counted twice. */
	frame_make(f, sizeof(f), mac_x, mac_a, 20);
	EXPECT_EQ(run_xdp(self->sw, self->ifindex[0], f, sizeof(f)), XDP_PASS);
	frame_make(f, sizeof(f), bcast, mac_a, 21);
	EXPECT_EQ(run_xdp(self->sw, self->ifindex[0], f, sizeof(f)), XDP_PASS);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_RX), 1);
	/* Detach takes our XDP program off the device. */
	ASSERT_EQ(bpf_switch_port_del(self->sw, self->ifname[1]), 0);
	id = 0;
	EXPECT_EQ(bpf_xdp_query_id(self->ifindex[1], XDP_FLAGS_DRV_MODE, &id), 0);
	EXPECT_EQ(id, 0U);
}

TEST(verifier_rejection_shows_its_log)
{
	struct bpf_switch_create_opts o = { .test_verifier_reject = true };
	char name[BPF_SWITCH_NAME_MAX + 1], path[256], log[65536];
	FILE *err = tmpfile();
	int saved, ret;
	size_t n;

	REQUIRE_ROOT();
	ASSERT_TRUE(err != NULL);
	sw_test_name(name, sizeof(name), "reject");
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(err), 2);
	ret = bpf_switch_create(name, &o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	EXPECT_EQ(ret, -ENOEXEC);
	rewind(err);
	n = fread(log, 1, sizeof(log) - 1, err);
	log[n] = '\0';
	fclose(err);
	EXPECT_TRUE(strstr(log, "the verifier rejected the program; its log ends:") != NULL);
	/* The verifier's own reason (a socket filter may not read skb->data), not ours. */
	EXPECT_TRUE(strstr(log, "invalid bpf_context access") != NULL);
	EXPECT_TRUE(strstr(log, "processed ") != NULL);
	/* Nothing half-made is left behind. */
	snprintf(path, sizeof(path), "%s/%s", BPF_SWITCH_PIN_ROOT, name);
	EXPECT_NE(access(path, F_OK), 0);
	if (ret == 0)
		bpf_switch_destroy(name);
}

/* Ports with a large ifindex are not in the array by ifindex: the hash finds them. */
TEST_F(sw, a_port_with_a_large_ifindex_is_found_by_hash)
{
	char other[BPF_SWITCH_NAME_MAX + 1];
	uint8_t f[64], got[2048];
	int i;

	ASSERT_EQ(system("ip link add kthi index 5000 type veth peer name kthi2 && "
			 "ip link set kthi up && ip link set kthi2 up"),
		  0);
	ASSERT_EQ(if_nametoindex("kthi"), 5000U);
	ASSERT_EQ(bpf_switch_port_add(self->sw, "kthi", &(struct bpf_switch_port_opts){}, other),
		  0);
	frame_make(f, sizeof(f), bcast, mac_x, 22);
	EXPECT_EQ(run_tc(self->sw, 5000, f, sizeof(f)), TC_ACT_OK);
	EXPECT_EQ(port_counter(self->sw, 5000, KAVM_SW_RX), 1);
	for (i = 0; i < NPORTS; i++) {
		EXPECT_EQ(tapdev_recv(self->fd[i], got, sizeof(got), 3000), (ssize_t)sizeof(f));
		EXPECT_MEMEQ(got, f, sizeof(f));
	}
	EXPECT_EQ(fdb_port(self->sw, mac_x, NULL), 5000U);
	ASSERT_EQ(bpf_switch_port_del(self->sw, "kthi"), 0);
	EXPECT_EQ(run_tc(self->sw, 5000, f, sizeof(f)), TC_ACT_OK);
	EXPECT_EQ(port_counter(self->sw, 5000, KAVM_SW_RX), -1);
}

/* A guest sending from many MACs fills the table; it cannot evict, frames still flood. */
TEST_F(sw, a_full_table_stops_learning_not_switching)
{
	uint8_t m[6] = { 0x02, 0x42, 0, 0, 0, 0 }, f[64];
	int i;

	for (i = 0; i < KAVM_SW_FDB_SIZE; i++) {
		m[4] = i >> 8;
		m[5] = i & 0xff;
		ASSERT_EQ(bpf_switch_fdb_add(self->sw, m, self->ifname[1]), 0);
	}
	frame_make(f, sizeof(f), bcast, mac_x, 23);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_OK);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_FDB_FULL), 1);
	EXPECT_EQ(port_counter(self->sw, self->ifindex[0], KAVM_SW_LEARN), 0);
	EXPECT_EQ(expect_flooded(self, f, sizeof(f)), 0);
	/* The static entries are all still there. */
	m[4] = 0;
	m[5] = 0;
	frame_make(f, sizeof(f), m, mac_a, 24);
	EXPECT_EQ(run_tc(self->sw, self->ifindex[0], f, sizeof(f)), TC_ACT_REDIRECT);
}

/* Detach forgets every entry of the port, even a table full of them, quickly. */
TEST_F(sw, detach_flushes_all_of_the_ports_entries)
{
	uint8_t m[6] = { 0x02, 0x43, 0, 0, 0, 0 };
	struct bpf_switch_fdb_info *e;
	int i;

	for (i = 0; i < KAVM_SW_FDB_SIZE - 1; i++) {
		m[4] = i >> 8;
		m[5] = i & 0xff;
		ASSERT_EQ(bpf_switch_fdb_add(self->sw, m, self->ifname[i % 2 + 1]), 0);
	}
	ASSERT_EQ(bpf_switch_port_del(self->sw, self->ifname[1]), 0);
	e = calloc(KAVM_SW_FDB_SIZE, sizeof(*e));
	ASSERT_TRUE(e != NULL);
	EXPECT_EQ(bpf_switch_fdb(self->sw, e, KAVM_SW_FDB_SIZE), KAVM_SW_FDB_SIZE / 2 - 1);
	for (i = 0; i < KAVM_SW_FDB_SIZE / 2 - 1; i++)
		EXPECT_EQ(e[i].ifindex, self->ifindex[2]);
	free(e);
}
