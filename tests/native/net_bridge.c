// SPDX-License-Identifier: GPL-2.0
/*
 * Native tests: the bridge netdev and switch= against the real kernel, each
 * in a fresh netns: what kavm makes, what the access file refuses, what is
 * left after close, a frame through kavm's tap and the bridge, eBPF switch ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>
#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/rtnl.h>
#include <kavm/tun.h>

#include "../harness.h"

static struct {
	struct kavm_rtnl *r;
	struct loop *loop;
	char acl[64];
	int errfd; /* our stderr while capturing, -1 otherwise */
	char errbuf[1024];
} E = { .errfd = -1 };

/* Fresh netns, an rtnl socket, a loop and an access file with RULES. */
static void env(const char *rules)
{
	int fd;

	kt_unshare_netns();
	snprintf(E.acl, sizeof(E.acl), "/tmp/kavm-bridge-acl.XXXXXX");
	fd = mkstemp(E.acl);
	if (fd < 0 || write(fd, rules, strlen(rules)) != (ssize_t)strlen(rules))
		kt_fail(__FILE__, __LINE__, true, "access file: %s", strerror(errno));
	close(fd);
	setenv("KAVM_BRIDGE_CONF", E.acl, 1);
	if (kavm_rtnl_open(&E.r) || loop_create(&E.loop))
		kt_fail(__FILE__, __LINE__, true, "rtnl or loop");
}

static void env_done(void)
{
	unlink(E.acl);
	loop_destroy(E.loop);
	kavm_rtnl_close(E.r);
}

static int open_netdev(const char *spec, struct net_client **nc)
{
	struct netdev_opts o;
	char err[128];
	int ret = netdev_parse(spec, &o, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "# %s: %s\n", spec, err);
		return ret;
	}
	return netdev_open(&o, E.loop, nc);
}

/* Open SPEC with stderr going into E.errbuf, to check the message the user sees. */
static int open_netdev_msg(const char *spec, struct net_client **nc)
{
	int saved = dup(2), fd = open("/tmp", O_TMPFILE | O_RDWR, 0600), ret;
	ssize_t n;

	if (saved < 0 || fd < 0)
		return -errno;
	dup2(fd, 2);
	ret = open_netdev(spec, nc);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, E.errbuf, sizeof(E.errbuf) - 1, 0);
	E.errbuf[n > 0 ? n : 0] = '\0';
	close(fd);
	fprintf(stderr, "# %s", E.errbuf);
	return ret;
}

static int bridge_up(const char *br, unsigned int mtu)
{
	int ret = kavm_rtnl_bridge_add(E.r, br, NULL);

	if (!ret && mtu)
		ret = kavm_rtnl_set_mtu(E.r, br, mtu);
	return ret ?: kavm_rtnl_set_up(E.r, br, true);
}

TEST(tap_is_made_enslaved_up_with_the_bridges_mtu_and_gone_on_close)
{
	struct kavm_link_info li, br;
	struct net_client *nc = NULL;
	char want[IFNAMSIZ];

	env("allow br0\n");
	ASSERT_EQ(bridge_up("br0", 1400), 0);
	ASSERT_EQ(open_netdev("bridge,id=n0,br=br0", &nc), 0);
	snprintf(want, sizeof(want), "kavm-%d-0", (int)getpid());
	ASSERT_EQ(kavm_rtnl_link_get(E.r, want, &li), 0);
	EXPECT_STREQ(li.kind, "tun");
	EXPECT_TRUE(li.tun.tap);
	EXPECT_TRUE(li.tun.vnet_hdr);
	EXPECT_FALSE(li.tun.persist);
	EXPECT_STREQ(li.master_name, "br0");
	EXPECT_TRUE(li.flags & IFF_UP);
	EXPECT_EQ(li.mtu, 1400u);
	/* A high address, so that the bridge's own does not follow the tap's. */
	EXPECT_EQ(li.addr_len, 6u);
	EXPECT_EQ(li.addr[0], 0xfe);
	netdev_close(nc);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, want, &li), -ENODEV);
	/* Not ours: the bridge stays. */
	ASSERT_EQ(kavm_rtnl_link_get(E.r, "br0", &br), 0);
	EXPECT_EQ(br.mtu, 1400u);
	env_done();
}

TEST(ifname_names_the_tap_and_an_existing_one_is_refused)
{
	struct kavm_link_info li;
	struct net_client *nc = NULL, *nc2 = NULL;

	env("allow br0\n");
	ASSERT_EQ(bridge_up("br0", 0), 0);
	ASSERT_EQ(open_netdev("bridge,id=n0,br=br0,ifname=vm0,vnet_hdr=off", &nc), 0);
	ASSERT_EQ(kavm_rtnl_link_get(E.r, "vm0", &li), 0);
	EXPECT_STREQ(li.master_name, "br0");
	EXPECT_FALSE(li.tun.vnet_hdr);
	EXPECT_EQ(open_netdev_msg("bridge,id=n1,br=br0,ifname=vm0", &nc2), -EEXIST);
	EXPECT_TRUE(strstr(E.errbuf, "netdev n1: bridge br0: create tap vm0: a device with "
				     "that name exists") != NULL);
	netdev_close(nc);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "vm0", &li), -ENODEV);
	env_done();
}

TEST(create_on_makes_the_bridge_and_removes_it_on_close)
{
	struct kavm_link_info li;
	struct net_client *nc = NULL;

	env("allow brnew\n");
	ASSERT_EQ(open_netdev("bridge,id=n0,br=brnew,ifname=vm0,create=on", &nc), 0);
	ASSERT_EQ(kavm_rtnl_link_get(E.r, "brnew", &li), 0);
	EXPECT_STREQ(li.kind, "bridge");
	EXPECT_TRUE(li.flags & IFF_UP);
	ASSERT_EQ(kavm_rtnl_link_get(E.r, "vm0", &li), 0);
	EXPECT_STREQ(li.master_name, "brnew");
	netdev_close(nc);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "vm0", &li), -ENODEV);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "brnew", &li), -ENODEV);
	env_done();
}

TEST(a_created_bridge_with_another_port_is_left_in_place)
{
	struct kavm_link_info li;
	struct net_client *nc = NULL;
	int other;

	env("allow brnew\n");
	ASSERT_EQ(open_netdev("bridge,id=n0,br=brnew,ifname=vm0,create=on", &nc), 0);
	other = tun_open("other0", TUN_CREATE, NULL);
	ASSERT_GE(other, 0);
	ASSERT_EQ(kavm_rtnl_enslave(E.r, "other0", "brnew"), 0);
	netdev_close(nc);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "vm0", &li), -ENODEV);
	ASSERT_EQ(kavm_rtnl_link_get(E.r, "other0", &li), 0);
	EXPECT_STREQ(li.master_name, "brnew");
	close(other);
	env_done();
}

TEST(an_existing_bridge_is_never_removed_even_with_create_on)
{
	struct kavm_link_info li;
	struct net_client *nc = NULL;

	env("allow br0\n");
	ASSERT_EQ(bridge_up("br0", 0), 0);
	ASSERT_EQ(open_netdev("bridge,id=n0,br=br0,create=on", &nc), 0);
	netdev_close(nc);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "br0", &li), 0);
	env_done();
}

TEST(the_access_file_refuses_with_the_bridge_and_the_file)
{
	struct kavm_link_info *links = NULL, li;
	struct net_client *nc = NULL;
	char want[256];
	int n;

	env("allow br0\ndeny br0\n");
	ASSERT_EQ(bridge_up("br0", 0), 0);
	EXPECT_EQ(open_netdev_msg("bridge,id=n0,br=br0,ifname=vm0", &nc), -EACCES);
	snprintf(want, sizeof(want),
		 "netdev n0: bridge br0: not allowed by %s: denied by %s:2 (deny br0)", E.acl,
		 E.acl);
	EXPECT_TRUE(strstr(E.errbuf, want) != NULL);
	/* Refused before anything was made: lo and br0 only. */
	n = kavm_rtnl_link_dump(E.r, &links);
	EXPECT_EQ(n, 2);
	free(links);
	/* A bridge no rule allows, even with create=on, is not created. */
	EXPECT_EQ(open_netdev_msg("bridge,id=n1,br=br1,create=on", &nc), -EACCES);
	EXPECT_TRUE(strstr(E.errbuf, "no allow rule matches br1") != NULL);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "br1", &li), -ENODEV);
	env_done();
}

TEST(a_missing_access_file_or_bridge_is_a_clear_error)
{
	struct net_client *nc = NULL;
	char want[256];

	env("allow br0\n");
	EXPECT_EQ(open_netdev_msg("bridge,id=n0,br=br0", &nc), -ENODEV);
	EXPECT_TRUE(strstr(E.errbuf, "netdev n0: bridge br0: no such bridge (create=on makes "
				     "it)") != NULL);
	setenv("KAVM_BRIDGE_CONF", "/nonexistent/bridge.conf", 1);
	EXPECT_EQ(open_netdev_msg("bridge,id=n0,br=br0,create=on", &nc), -ENOENT);
	snprintf(want, sizeof(want), "netdev n0: bridge br0: access file /nonexistent/bridge.conf");
	EXPECT_TRUE(strstr(E.errbuf, want) != NULL);
	env_done();
}

TEST(a_device_that_is_no_bridge_is_refused)
{
	struct net_client *nc = NULL;
	int fd;

	env("allow tap9\n");
	fd = tun_open("tap9", TUN_CREATE, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(open_netdev_msg("bridge,id=n0,br=tap9", &nc), -EMEDIUMTYPE);
	EXPECT_TRUE(strstr(E.errbuf, "netdev n0: bridge tap9: is a tun device, not a bridge") !=
		    NULL);
	close(fd);
	env_done();
}

/* The test's side of kavm's tap: what the "guest" received. */
struct sink {
	struct net_client nc;
	uint8_t frame[2048];
	ssize_t len;
};

static ssize_t sink_receive(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct sink *s = container_of(nc, struct sink, nc);
	size_t off = 0;
	int i;

	for (i = 0; i < iovcnt && off + iov[i].iov_len <= sizeof(s->frame); i++) {
		memcpy(s->frame + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	s->len = off;
	return off ?: 1;
}

static const struct net_client_ops sink_ops = { .type = "sink", .receive_iov = sink_receive };

static ssize_t read_frame(int fd, uint8_t *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (poll(&p, 1, ms) == 1) {
		n = read(fd, buf, size);
		if (n >= 14 && buf[12] == 0x88 && buf[13] == 0xb5)
			return n;
	}
	return -ETIMEDOUT;
}

TEST(frames_cross_the_bridge_both_ways_through_kavms_tap)
{
	uint8_t frame[64] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5, 'k' };
	struct net_client *nc = NULL;
	struct sink s = { 0 };
	uint8_t buf[2048];
	int peer, i;

	env("allow br0\n");
	ASSERT_EQ(bridge_up("br0", 0), 0);
	ASSERT_EQ(open_netdev("bridge,id=n0,br=br0,ifname=vm0,vnet_hdr=off", &nc), 0);
	peer = tun_open("peer0", TUN_CREATE, NULL);
	ASSERT_GE(peer, 0);
	ASSERT_EQ(kavm_rtnl_enslave(E.r, "peer0", "br0"), 0);
	ASSERT_EQ(kavm_rtnl_set_up(E.r, "peer0", true), 0);
	ASSERT_EQ(net_client_init(&s.nc, &sink_ops, "sink"), 0);
	ASSERT_EQ(net_client_connect(&s.nc, nc), 0);
	for (i = 0; i < 50; i++) /* the tap's "up" event */
		loop_run_once(E.loop, 10);
	/* The guest's frame (to 02:..:02, unknown: flooded) comes out of the peer tap. */
	for (i = 15; i < 64; i++)
		frame[i] = i;
	ASSERT_GT(net_send(&s.nc, frame, sizeof(frame), NULL), 0);
	ASSERT_EQ(read_frame(peer, buf, sizeof(buf), 2000), 64);
	EXPECT_MEMEQ(buf, frame, 64);
	/* And back: the peer's answer reaches the guest through kavm's loop. */
	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x09 }, 6);
	ASSERT_EQ(write(peer, frame, sizeof(frame)), 64);
	for (i = 0; i < 200 && s.len != 64; i++)
		loop_run_once(E.loop, 10);
	ASSERT_EQ(s.len, 64);
	EXPECT_MEMEQ(s.frame, frame, 64);
	netdev_close(nc);
	net_client_exit(&s.nc);
	close(peer);
	env_done();
}

static int switch_has_port(const char *sw, const char *ifname)
{
	struct bpf_switch_port_info ports[16];
	struct bpf_switch *h;
	unsigned int idx = if_nametoindex(ifname);
	int n, i, found = 0;

	if (bpf_switch_open(sw, &h))
		return -ENOENT;
	n = bpf_switch_ports(h, ports, ARRAY_SIZE(ports));
	for (i = 0; i < n && i < (int)ARRAY_SIZE(ports); i++)
		found += idx && ports[i].ifindex == idx;
	bpf_switch_close(h);
	return n < 0 ? n : found;
}

static int switch_nports(const char *sw)
{
	struct bpf_switch *h;
	int n;

	if (bpf_switch_open(sw, &h))
		return -ENOENT;
	n = bpf_switch_ports(h, NULL, 0);
	bpf_switch_close(h);
	return n;
}

TEST(switch_joins_tap_and_bridge_netdevs_and_leaves_on_close)
{
	struct net_client *tap = NULL, *brp = NULL;
	char sw[BPF_SWITCH_NAME_MAX + 1], spec[128];

	env("allow br0\n");
	snprintf(sw, sizeof(sw), "kt-nb-%d", (int)getpid());
	ASSERT_EQ(bpf_switch_create(sw, NULL), 0);
	snprintf(spec, sizeof(spec), "tap,id=n0,ifname=vmt0,switch=%s", sw);
	EXPECT_EQ(open_netdev(spec, &tap), 0);
	ASSERT_EQ(bridge_up("br0", 0), 0);
	snprintf(spec, sizeof(spec), "bridge,id=n1,br=br0,ifname=vmb0,switch=%s", sw);
	EXPECT_EQ(open_netdev(spec, &brp), 0);
	EXPECT_EQ(switch_has_port(sw, "vmt0"), 1);
	EXPECT_EQ(switch_has_port(sw, "vmb0"), 1);
	EXPECT_EQ(switch_nports(sw), 2);
	if (tap)
		netdev_close(tap);
	EXPECT_EQ(switch_nports(sw), 1);
	if (brp)
		netdev_close(brp);
	EXPECT_EQ(switch_nports(sw), 0);
	EXPECT_EQ(bpf_switch_destroy(sw), 0);
	env_done();
}

TEST(a_missing_switch_is_a_clear_error_and_leaves_nothing)
{
	struct kavm_link_info li;
	struct net_client *nc = NULL;

	env("allow br0\n");
	ASSERT_EQ(bridge_up("br0", 0), 0);
	EXPECT_EQ(open_netdev_msg("bridge,id=n0,br=br0,ifname=vm0,switch=kt-none", &nc), -ENOENT);
	EXPECT_TRUE(strstr(E.errbuf, "netdev n0: switch kt-none: no such switch") != NULL);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "vm0", &li), -ENODEV);
	EXPECT_EQ(open_netdev_msg("tap,id=n1,ifname=vmt0,switch=kt-none", &nc), -ENOENT);
	EXPECT_TRUE(strstr(E.errbuf, "netdev n1: switch kt-none: no such switch") != NULL);
	EXPECT_EQ(kavm_rtnl_link_get(E.r, "vmt0", &li), -ENODEV);
	env_done();
}
