// SPDX-License-Identifier: GPL-2.0
/*
 * The eBPF switch end to end with real taps in a fresh netns: frames written
 * into one tap's fd (a VM's TX) must come out of the right tap's fd (another
 * VM's RX) byte for byte, and nowhere else; in tc and in XDP mode; and the
 * switch must keep working for the others when a tap vanishes under traffic.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>

#include "../harness.h"
#include "switch-util.h"

#define NPORTS 3
#define QUIET_MS 150

static const uint8_t mac[NPORTS][6] = {
	{ 0x02, 0, 0, 0, 1, 0x0a },
	{ 0x02, 0, 0, 0, 1, 0x0b },
	{ 0x02, 0, 0, 0, 1, 0x0c },
};
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t unknown[6] = { 0x02, 0, 0, 0, 1, 0x99 };

FIXTURE(e2e)
{
	char name[BPF_SWITCH_NAME_MAX + 1];
	char ifname[NPORTS][IFNAMSIZ];
	uint32_t ifindex[NPORTS];
	int fd[NPORTS];
	struct bpf_switch *sw;
	bool created;
};

static int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(s, f) < 0 ? -EIO : 0;
	return fclose(f) ? -errno : ret;
}

static void e2e_setup(struct _kt_fixture_e2e *self, bool xdp)
{
	struct bpf_switch_create_opts o = { .xdp = xdp };
	int i;

	kt_unshare_netns();
	sw_sweep_stale();
	/* The host's own IPv6 chatter on the taps would be extra frames to read. */
	ASSERT_EQ(write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1"), 0);
	sw_test_name(self->name, sizeof(self->name), xdp ? "e2e-xdp" : "e2e");
	ASSERT_EQ(bpf_switch_create(self->name, &o), 0);
	self->created = true;
	for (i = 0; i < NPORTS; i++) {
		snprintf(self->ifname[i], IFNAMSIZ, "vm%c", 'a' + i);
		self->fd[i] = tapdev_open(self->ifname[i], true);
		ASSERT_GE(self->fd[i], 0);
		ASSERT_EQ(tapdev_up(self->ifname[i]), 0);
		self->ifindex[i] = if_nametoindex(self->ifname[i]);
		/* The VMM's call. */
		ASSERT_EQ(bpf_switch_attach(self->name, self->ifname[i], NULL), 0);
	}
	ASSERT_EQ(bpf_switch_open(self->name, &self->sw), 0);
}

FIXTURE_SETUP(e2e)
{
	memset(self->fd, 0xff, sizeof(self->fd));
	e2e_setup(self, false);
}

FIXTURE_TEARDOWN(e2e)
{
	int i;

	bpf_switch_close(self->sw);
	if (self->created)
		EXPECT_EQ(bpf_switch_destroy(self->name), 0);
	for (i = 0; i < NPORTS; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
}

/* What port `from` writes, port `to` must read, identical; the others nothing. */
static int expect_only(struct _kt_fixture_e2e *self, int from, const uint8_t *f, size_t len,
		       unsigned int to_mask)
{
	uint8_t got[2048];
	int i;

	if (write(self->fd[from], f, len) != (ssize_t)len)
		return -errno;
	for (i = 0; i < NPORTS; i++) {
		ssize_t n;

		if (!(to_mask & (1U << i)))
			continue;
		n = tapdev_recv(self->fd[i], got, sizeof(got), 3000);
		if (n != (ssize_t)len || memcmp(got, f, len)) {
			printf("# port %d: got %zd bytes, want %zu identical\n", i, n, len);
			return -EIO;
		}
	}
	usleep(QUIET_MS * 1000);
	for (i = 0; i < NPORTS; i++) {
		int extra = tapdev_drain(self->fd[i]);

		if (extra) {
			printf("# port %d: %d unexpected frame(s)\n", i, extra);
			return -EEXIST;
		}
	}
	return 0;
}

/* Every port announces itself once, so that all MACs are learned. */
static int learn_all(struct _kt_fixture_e2e *self)
{
	uint8_t f[60];
	int i, ret;

	for (i = 0; i < NPORTS; i++) {
		frame_make(f, sizeof(f), bcast, mac[i], i);
		ret = expect_only(self, i, f, sizeof(f), ((1U << NPORTS) - 1) & ~(1U << i));
		if (ret)
			return ret;
	}
	return 0;
}

static uint64_t counter(struct bpf_switch *sw, uint32_t ifindex, enum kavm_sw_counter c)
{
	struct bpf_switch_port_info pi[KAVM_SW_MAX_PORTS];
	int n, i;

	n = bpf_switch_ports(sw, pi, ARRAY_SIZE(pi));
	for (i = 0; i < n && i < (int)ARRAY_SIZE(pi); i++)
		if (pi[i].ifindex == ifindex)
			return pi[i].c[c];
	return 0;
}

static void unicast_check(struct _kt_fixture_e2e *self, enum kavm_sw_counter path)
{
	static const size_t sizes[] = { 60, 64, 512, 1500, 1514 };
	uint8_t f[1514];
	size_t i;

	ASSERT_EQ(learn_all(self), 0);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		frame_make(f, sizes[i], mac[1], mac[0], 40 + i);
		EXPECT_EQ(expect_only(self, 0, f, sizes[i], 1U << 1), 0);
		frame_make(f, sizes[i], mac[0], mac[2], 50 + i);
		EXPECT_EQ(expect_only(self, 2, f, sizes[i], 1U << 0), 0);
	}
	EXPECT_EQ(counter(self->sw, self->ifindex[0], path), ARRAY_SIZE(sizes));
	EXPECT_EQ(counter(self->sw, self->ifindex[2], path), ARRAY_SIZE(sizes));
}

TEST_F(e2e, unicast_reaches_its_port_only)
{
	unicast_check(self, KAVM_SW_FWD);
}

TEST_F(e2e, broadcast_reaches_every_other_port_once)
{
	uint8_t f[342];

	frame_make(f, sizeof(f), bcast, mac[1], 7);
	EXPECT_EQ(expect_only(self, 1, f, sizeof(f), 1U << 0 | 1U << 2), 0);
	frame_make(f, sizeof(f), (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, mac[2], 8);
	EXPECT_EQ(expect_only(self, 2, f, sizeof(f), 1U << 0 | 1U << 1), 0);
}

TEST_F(e2e, unknown_unicast_floods)
{
	uint8_t f[100];

	ASSERT_EQ(learn_all(self), 0);
	frame_make(f, sizeof(f), unknown, mac[0], 9);
	EXPECT_EQ(expect_only(self, 0, f, sizeof(f), 1U << 1 | 1U << 2), 0);
}

TEST_F(e2e, detached_port_stops_receiving)
{
	uint8_t f[100];

	ASSERT_EQ(learn_all(self), 0);
	ASSERT_EQ(bpf_switch_detach(self->name, self->ifname[2]), 0);
	frame_make(f, sizeof(f), bcast, mac[0], 10);
	EXPECT_EQ(expect_only(self, 0, f, sizeof(f), 1U << 1), 0);
	/* Its learned MAC went with it: frames to it flood to the remaining port. */
	frame_make(f, sizeof(f), mac[2], mac[0], 11);
	EXPECT_EQ(expect_only(self, 0, f, sizeof(f), 1U << 1), 0);
	/* And what the detached VM sends is no longer switched. */
	frame_make(f, sizeof(f), mac[0], mac[2], 12);
	EXPECT_EQ(expect_only(self, 2, f, sizeof(f), 0), 0);
}

struct traffic {
	int fd;
	atomic_bool stop;
	_Atomic uint64_t sent;
};

/* Up to 5 s for the writer to have sent n frames in all. */
static void wait_sent(struct traffic *t, uint64_t n)
{
	int i;

	for (i = 0; i < 500 && atomic_load(&t->sent) < n; i++)
		usleep(10 * 1000);
}

static void *traffic_fn(void *arg)
{
	struct traffic *t = arg;
	uint8_t uc[64], bc[64];

	frame_make(uc, sizeof(uc), mac[1], mac[0], 13);
	frame_make(bc, sizeof(bc), bcast, mac[0], 14);
	while (!atomic_load(&t->stop)) {
		if (write(t->fd, atomic_load(&t->sent) & 1 ? bc : uc, sizeof(uc)) > 0)
			atomic_fetch_add(&t->sent, 1);
		usleep(100);
	}
	return NULL;
}

TEST_F(e2e, a_tap_deleted_under_traffic_leaves_the_others_working)
{
	struct bpf_switch_port_info pi[NPORTS];
	struct traffic t = { .fd = self->fd[0] };
	uint64_t before;
	char idx[16];
	uint8_t f[64];
	pthread_t th;
	int n, i, gone = -1;

	ASSERT_EQ(learn_all(self), 0);
	ASSERT_EQ(pthread_create(&th, NULL, traffic_fn, &t), 0);
	/* Frames in flight before and after: counted, not timed (the host is shared). */
	wait_sent(&t, 100);
	/* Closing the last fd of a non-persistent tap deletes the device. */
	close(self->fd[2]);
	self->fd[2] = -1;
	before = atomic_load(&t.sent);
	wait_sent(&t, before + 100);
	atomic_store(&t.stop, true);
	pthread_join(th, NULL);
	EXPECT_GE(t.sent, before + 100);
	EXPECT_EQ(if_nametoindex(self->ifname[2]), 0U);
	tapdev_drain(self->fd[1]);
	frame_make(f, sizeof(f), mac[1], mac[0], 15);
	EXPECT_EQ(expect_only(self, 0, f, sizeof(f), 1U << 1), 0);
	frame_make(f, sizeof(f), bcast, mac[1], 16);
	EXPECT_EQ(expect_only(self, 1, f, sizeof(f), 1U << 0), 0);
	/* The port is listed as gone and can be removed by its ifindex. */
	n = bpf_switch_ports(self->sw, pi, NPORTS);
	ASSERT_EQ(n, NPORTS);
	for (i = 0; i < n; i++)
		if (!pi[i].ifname[0])
			gone = i;
	ASSERT_GE(gone, 0);
	EXPECT_EQ(pi[gone].ifindex, self->ifindex[2]);
	snprintf(idx, sizeof(idx), "%u", pi[gone].ifindex);
	EXPECT_EQ(bpf_switch_port_del(self->sw, idx), 0);
	EXPECT_EQ(bpf_switch_ports(self->sw, pi, NPORTS), NPORTS - 1);
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
	e2e_setup((struct _kt_fixture_e2e *)self, true);
}

FIXTURE_TEARDOWN(xdp)
{
	_kt_teardown_e2e((struct _kt_fixture_e2e *)self);
}

TEST_F(xdp, unicast_leaves_by_xdp_identical)
{
	struct _kt_fixture_e2e *e = (struct _kt_fixture_e2e *)self;

	unicast_check(e, KAVM_SW_FWD_XDP);
	/* None of it took the tc path. */
	EXPECT_EQ(counter(self->sw, self->ifindex[0], KAVM_SW_FWD), 0U);
}

TEST_F(xdp, flooding_falls_back_to_tc)
{
	struct _kt_fixture_e2e *e = (struct _kt_fixture_e2e *)self;
	uint8_t f[100];

	ASSERT_EQ(learn_all(e), 0);
	frame_make(f, sizeof(f), unknown, mac[0], 17);
	EXPECT_EQ(expect_only(e, 0, f, sizeof(f), 1U << 1 | 1U << 2), 0);
	EXPECT_EQ(counter(self->sw, self->ifindex[0], KAVM_SW_FLOOD), 2U);
}
