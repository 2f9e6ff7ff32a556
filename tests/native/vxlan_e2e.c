// SPDX-License-Identifier: GPL-2.0
/*
 * Two hosts joined by VXLAN: two network namespaces play the hosts, a veth
 * pair between them is the underlay (192.168.77.1 and .2), and on each a
 * VXLAN device made by "kavmctl vxlan add" carries the VMs' frames. A tap
 * whose fd the test holds is the VM on each host, joined to the VXLAN device
 * (a) by a kernel bridge, (b) by the eBPF switch with the VXLAN device as
 * its uplink. Frames written into one host's tap (a VM's TX) must come out
 * of the other host's tap (a VM's RX) byte for byte, both ways.
 */
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/wait.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>

#include "../harness.h"
#include "switch-util.h"

#define VNI 4242
#define RECV_MS 3000

static const uint8_t mac[2][6] = {
	{ 0x02, 0, 0, 0, 0x77, 0x0a },
	{ 0x02, 0, 0, 0, 0x77, 0x0b },
};

FIXTURE(vx)
{
	char ns[2][32];
	char sw[BPF_SWITCH_NAME_MAX + 1];
	int fd[2];
	bool made_ns[2];
};

/* Run a shell command line; its exit status (-1 if it did not run). */
static int sh(const char *fmt, ...) __printf(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st)) {
		fprintf(stderr, "# %s: did not run\n", cmd);
		return -1;
	}
	if (WEXITSTATUS(st))
		fprintf(stderr, "# %s: exit %d\n", cmd, WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

/* Open a tap named NAME inside netns NS (the fd stays usable from here), bring it up. */
static int tap_in_ns(const char *ns, char name[IFNAMSIZ])
{
	char path[64];
	int self, target, fd;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET))
		return -errno;
	fd = tapdev_open(name, true);
	if (fd >= 0 && tapdev_up(name))
		fd = -EIO;
	if (setns(self, CLONE_NEWNET))
		abort();
	close(self);
	close(target);
	return fd;
}

FIXTURE_SETUP(vx)
{
	char k[PATH_MAX], tap[IFNAMSIZ];
	int i;

	REQUIRE_ROOT();
	self->fd[0] = self->fd[1] = -1;
	ASSERT_EQ(kt_build_prog("kavmctl", k, sizeof(k)), 0);
	sw_sweep_stale();
	for (i = 0; i < 2; i++) {
		snprintf(self->ns[i], sizeof(self->ns[i]), "kvx%c-%d", 'a' + i, (int)getpid());
		ASSERT_EQ(sh("ip netns add %s", self->ns[i]), 0);
		self->made_ns[i] = true;
		/* No IPv6 chatter (MLD, DAD, RS) among the frames to read. */
		ASSERT_EQ(sh("ip netns exec %s sh -c 'echo 1 > /proc/sys/net/ipv6/conf/default/"
			     "disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6'",
			     self->ns[i]),
			  0);
	}
	ASSERT_EQ(sh("ip -n %s link add u0 type veth peer name u1 netns %s", self->ns[0],
		     self->ns[1]),
		  0);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(
			sh("ip -n %s addr add 192.168.77.%d/24 dev u%d && ip -n %s link set u%d up",
			   self->ns[i], i + 1, i, self->ns[i], i),
			0);
		/* The device under test: made by kavmctl, the other host as remote. */
		ASSERT_EQ(sh("%s -n %s vxlan add vx0 id %d remote 192.168.77.%d local "
			     "192.168.77.%d dstport 4789",
			     k, self->ns[i], VNI, 2 - i, i + 1),
			  0);
		ASSERT_EQ(sh("ip -n %s link set vx0 up", self->ns[i]), 0);
		snprintf(tap, sizeof(tap), "vm%c", 'a' + i);
		self->fd[i] = tap_in_ns(self->ns[i], tap);
		ASSERT_GE(self->fd[i], 0);
	}
}

FIXTURE_TEARDOWN(vx)
{
	char k[PATH_MAX];
	int i;

	for (i = 0; i < 2; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	if (self->sw[0] && !kt_build_prog("kavmctl", k, sizeof(k)))
		for (i = 0; i < 2; i++)
			sh("%s -n %s switch del %s%c --force 2>/dev/null", k, self->ns[i], self->sw,
			   'a' + i);
	for (i = 0; i < 2; i++)
		if (self->made_ns[i])
			sh("ip netns del %s", self->ns[i]);
}

/*
 * The next test frame on FD (0x88b5): the hosts' own chatter (br0 sends an
 * IGMP report when it comes up) is no frame of ours and is passed over.
 */
static ssize_t recv_ours(int fd, uint8_t *buf, size_t size, int timeout_ms)
{
	ssize_t n;

	do
		n = tapdev_recv(fd, buf, size, timeout_ms);
	while (n >= 14 && (buf[12] != 0x88 || buf[13] != 0xb5));
	return n;
}

/*
 * FROM's VM sends frames of several sizes to TO's VM (the first to an
 * address nobody has learned yet: flooded to the uplink); each must arrive
 * intact at TO's tap, once.
 */
static void cross(struct _kt_fixture_vx *self, int from, int to)
{
	static const size_t sizes[] = { 60, 512, 1000, 1400 };
	uint8_t out[1514], in[2048];
	ssize_t n;
	size_t i, len;

	tapdev_drain(self->fd[to]);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		len = frame_make(out, sizes[i], mac[to], mac[from], (uint8_t)(17 * i + from));
		ASSERT_EQ(write(self->fd[from], out, len), (ssize_t)len);
		n = recv_ours(self->fd[to], in, sizeof(in), RECV_MS);
		ASSERT_EQ(n, (ssize_t)len);
		ASSERT_MEMEQ(in, out, len);
	}
	EXPECT_EQ(recv_ours(self->fd[to], in, sizeof(in), 100), -ETIMEDOUT);
}

/* The frames went through the VXLAN devices, not around them. */
static void through_vxlan(struct _kt_fixture_vx *self)
{
	int i;

	for (i = 0; i < 2; i++)
		EXPECT_EQ(
			sh("test \"$(ip -n %s -s -j link show vx0 | jq '.[0].stats64.tx.packets')\""
			   " -ge 4",
			   self->ns[i]),
			0);
}

/* (a) tap and VXLAN device on one kernel bridge per host. */
TEST_F(vx, bridge)
{
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(sh("ip -n %s link add br0 type bridge && ip -n %s link set vx0 master br0"
			     " && ip -n %s link set vm%c master br0 && ip -n %s link set br0 up",
			     self->ns[i], self->ns[i], self->ns[i], 'a' + i, self->ns[i]),
			  0);
	cross(self, 0, 1);
	cross(self, 1, 0);
	cross(self, 0, 1);
	through_vxlan(self);
}

/* (b) tap and VXLAN device (--uplink) on the eBPF switch of each host. */
TEST_F(vx, bpf_switch)
{
	char k[PATH_MAX];
	int i;

	ASSERT_EQ(kt_build_prog("kavmctl", k, sizeof(k)), 0);
	sw_test_name(self->sw, sizeof(self->sw) - 1, "vx");
	for (i = 0; i < 2; i++)
		ASSERT_EQ(sh("%s -n %s switch add %s%c && %s -n %s switch attach %s%c vm%c && "
			     "%s -n %s switch attach %s%c vx0 --uplink",
			     k, self->ns[i], self->sw, 'a' + i, k, self->ns[i], self->sw, 'a' + i,
			     'a' + i, k, self->ns[i], self->sw, 'a' + i),
			  0);
	cross(self, 0, 1);
	cross(self, 1, 0);
	cross(self, 0, 1);
	through_vxlan(self);
}
