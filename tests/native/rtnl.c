// SPDX-License-Identifier: GPL-2.0
/* Native tests: the rtnl and tun libraries against the real kernel, each in a fresh netns. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <kavm/rtnl.h>
#include <kavm/tun.h>

#include "../harness.h"

static struct kavm_rtnl *setup(void)
{
	struct kavm_rtnl *r = NULL;

	kt_unshare_netns();
	if (kavm_rtnl_open(&r))
		return NULL;
	return r;
}

TEST(extack_text_reaches_the_caller)
{
	struct kavm_rtnl *r = setup();
	int fd;

	ASSERT_TRUE(r != NULL);
	fd = tun_open("kt0", 0, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(kavm_rtnl_set_mtu(r, "kt0", 10), -EINVAL);
	EXPECT_STREQ(kavm_rtnl_errmsg(r), "mtu less than device minimum");
	/* A later success must not carry the old text along. */
	EXPECT_EQ(kavm_rtnl_set_mtu(r, "kt0", 1400), 0);
	EXPECT_STREQ(kavm_rtnl_errmsg(r), "");
	close(fd);
	kavm_rtnl_close(r);
}

TEST(bridge_options_and_duplicates)
{
	struct kavm_bridge_opts o;
	struct kavm_link_info li;
	struct kavm_rtnl *r = setup();

	ASSERT_TRUE(r != NULL);
	kavm_bridge_opts_init(&o);
	o.stp = 1;
	o.forward_delay = 500;
	ASSERT_EQ(kavm_rtnl_bridge_add(r, "br0", &o), 0);
	ASSERT_EQ(kavm_rtnl_link_get(r, "br0", &li), 0);
	EXPECT_STREQ(li.kind, "bridge");
	EXPECT_TRUE(li.br.present);
	EXPECT_EQ(li.br.stp, 1u);
	EXPECT_EQ(li.br.forward_delay, 500u);
	EXPECT_EQ(kavm_rtnl_bridge_add(r, "br0", NULL), -EEXIST);
	EXPECT_EQ(kavm_rtnl_bridge_add(r, "br0123456789abcd", NULL), -ENAMETOOLONG);
	EXPECT_EQ(kavm_rtnl_bridge_add(r, "a/b", NULL), -EINVAL);
	EXPECT_EQ(kavm_rtnl_bridge_del(r, "lo"), -EMEDIUMTYPE);
	EXPECT_EQ(kavm_rtnl_bridge_del(r, "br0"), 0);
	EXPECT_EQ(kavm_rtnl_link_get(r, "br0", &li), -ENODEV);
	kavm_rtnl_close(r);
}

TEST(enslave_refuses_what_it_must)
{
	struct kavm_link_info li;
	struct kavm_rtnl *r = setup();
	int fd;

	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(kavm_rtnl_bridge_add(r, "br0", NULL), 0);
	ASSERT_EQ(kavm_rtnl_bridge_add(r, "br1", NULL), 0);
	fd = tun_open("kt0", 0, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(kavm_rtnl_enslave(r, "br0", "br0"), -EINVAL);
	EXPECT_EQ(kavm_rtnl_enslave(r, "kt0", "lo"), -EMEDIUMTYPE);
	EXPECT_EQ(kavm_rtnl_enslave(r, "nodev", "br0"), -ENODEV);
	EXPECT_EQ(kavm_rtnl_enslave(r, "kt0", "br0"), 0);
	EXPECT_EQ(kavm_rtnl_enslave(r, "kt0", "br0"), 0);
	EXPECT_EQ(kavm_rtnl_enslave(r, "kt0", "br1"), -EBUSY);
	EXPECT_STREQ(kavm_rtnl_errmsg(r), "kt0 is already attached to br0");
	ASSERT_EQ(kavm_rtnl_link_get(r, "kt0", &li), 0);
	EXPECT_STREQ(li.master_name, "br0");
	/* The kernel's own refusal, with its extack. */
	EXPECT_EQ(kavm_rtnl_enslave(r, "br1", "br0"), -ELOOP);
	EXPECT_STREQ(kavm_rtnl_errmsg(r), "Can not enslave a bridge to a bridge");
	EXPECT_EQ(kavm_rtnl_bridge_del_if_empty(r, "br0"), -ENOTEMPTY);
	EXPECT_EQ(kavm_rtnl_release(r, "kt0"), 0);
	EXPECT_EQ(kavm_rtnl_release(r, "kt0"), -ENOTCONN);
	EXPECT_EQ(kavm_rtnl_bridge_del_if_empty(r, "br0"), 0);
	EXPECT_EQ(kavm_rtnl_link_get(r, "br0", &li), -ENODEV);
	close(fd);
	kavm_rtnl_close(r);
}

TEST(tap_lifetimes)
{
	struct kavm_link_info li;
	struct kavm_rtnl *r = setup();
	char name[IFNAMSIZ];
	int fd, fd2;

	ASSERT_TRUE(r != NULL);
	fd = tun_open("kt%d", TUN_VNET_HDR, name);
	ASSERT_GE(fd, 0);
	EXPECT_STREQ(name, "kt0");
	ASSERT_EQ(kavm_rtnl_link_get(r, "kt0", &li), 0);
	EXPECT_TRUE(li.tun.tap && li.tun.vnet_hdr && !li.tun.persist);
	EXPECT_EQ(tun_open("kt0", TUN_CREATE, NULL), -EEXIST);
	close(fd);
	/* Not persistent: closing the only fd removes it. */
	EXPECT_EQ(kavm_rtnl_link_get(r, "kt0", &li), -ENODEV);

	fd = tun_open("kt1", TUN_CREATE | TUN_PERSIST | TUN_MULTI_QUEUE, NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(tun_set_owner(fd, 4321), 0);
	fd2 = tun_open("kt1", TUN_MULTI_QUEUE, NULL); /* a second queue */
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(kavm_rtnl_link_get(r, "kt1", &li), 0);
	EXPECT_TRUE(li.tun.persist && li.tun.multi_queue && li.tun.has_owner);
	EXPECT_EQ(li.tun.owner, 4321u);
	EXPECT_EQ(li.tun.num_queues, 2u);
	close(fd);
	close(fd2);
	ASSERT_EQ(kavm_rtnl_link_get(r, "kt1", &li), 0);
	EXPECT_EQ(tun_delete("kt1"), 0);
	EXPECT_EQ(kavm_rtnl_link_get(r, "kt1", &li), -ENODEV);

	/* A tap a VM holds open cannot be deleted from under it. */
	fd = tun_open("kt2", TUN_PERSIST, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(tun_delete("kt2"), -EBUSY);
	close(fd);
	EXPECT_EQ(tun_delete("kt2"), 0);
	EXPECT_EQ(tun_delete("kt2"), -ENODEV);
	EXPECT_EQ(tun_open("kt0123456789abcd", 0, NULL), -ENAMETOOLONG);
	kavm_rtnl_close(r);
}

/* Read frames from FD until one with ETHERTYPE arrives or the timeout ends. */
static ssize_t read_frame(int fd, uint16_t ethertype, uint8_t *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (poll(&p, 1, ms) == 1) {
		n = read(fd, buf, size);
		if (n >= 14 && buf[12] == ethertype >> 8 && buf[13] == (ethertype & 0xff))
			return n;
	}
	return -ETIMEDOUT;
}

/* The bridge backend's sequence: mtu from the bridge, enslave, up; then a frame crosses. */
TEST(frame_crosses_the_bridge_between_taps)
{
	static const uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,	  0,
					   0,	 0,    0x01, 0x88, 0xb5, 'k',  'a',  'v', 'm' };
	struct kavm_link_info br, li;
	struct kavm_rtnl *r = setup();
	const char *taps[2] = { "kta", "ktb" };
	uint8_t buf[2048];
	int fd[2], i;

	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(kavm_rtnl_bridge_add(r, "br0", NULL), 0);
	ASSERT_EQ(kavm_rtnl_set_mtu(r, "br0", 1400), 0);
	ASSERT_EQ(kavm_rtnl_set_up(r, "br0", true), 0);
	ASSERT_EQ(kavm_rtnl_link_get(r, "br0", &br), 0);
	for (i = 0; i < 2; i++) {
		fd[i] = tun_open(taps[i], TUN_CREATE, NULL);
		ASSERT_GE(fd[i], 0);
		ASSERT_EQ(kavm_rtnl_set_mtu(r, taps[i], br.mtu), 0);
		ASSERT_EQ(kavm_rtnl_enslave(r, taps[i], "br0"), 0);
		ASSERT_EQ(kavm_rtnl_set_up(r, taps[i], true), 0);
		ASSERT_EQ(kavm_rtnl_link_get(r, taps[i], &li), 0);
		EXPECT_EQ(li.mtu, 1400u);
		EXPECT_EQ(li.master, br.ifindex);
		EXPECT_TRUE(li.flags & IFF_UP);
	}
	ASSERT_EQ(write(fd[0], frame, sizeof(frame)), (ssize_t)sizeof(frame));
	ASSERT_EQ(read_frame(fd[1], 0x88b5, buf, sizeof(buf), 3000), (ssize_t)sizeof(frame));
	EXPECT_MEMEQ(buf, frame, sizeof(frame));
	/* The counters the dump reports saw it: kta received it from us, ktb sent it. */
	ASSERT_EQ(kavm_rtnl_link_get(r, "kta", &li), 0);
	EXPECT_TRUE(li.has_stats);
	EXPECT_GE(li.stats.rx_packets, 1u);
	EXPECT_GE(li.stats.rx_bytes, sizeof(frame));
	ASSERT_EQ(kavm_rtnl_link_get(r, "ktb", &li), 0);
	EXPECT_GE(li.stats.tx_packets, 1u);
	close(fd[0]);
	close(fd[1]);
	kavm_rtnl_close(r);
}

TEST(dump_resolves_masters)
{
	struct kavm_link_info *v = NULL;
	struct kavm_rtnl *r = setup();
	int n, i, fd, seen = 0;

	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(kavm_rtnl_bridge_add(r, "br0", NULL), 0);
	fd = tun_open("kt0", 0, NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(kavm_rtnl_enslave(r, "kt0", "br0"), 0);
	n = kavm_rtnl_link_dump(r, &v);
	ASSERT_EQ(n, 3); /* lo, br0, kt0 */
	for (i = 0; i < n; i++) {
		if (i)
			EXPECT_LT(v[i - 1].ifindex, v[i].ifindex);
		if (!strcmp(v[i].name, "kt0")) {
			EXPECT_STREQ(v[i].master_name, "br0");
			seen++;
		}
	}
	EXPECT_EQ(seen, 1);
	free(v);
	close(fd);
	kavm_rtnl_close(r);
}

TEST(mac_parsing)
{
	uint8_t mac[6];
	char buf[32];

	ASSERT_EQ(kavm_rtnl_parse_mac("02:aB:00:ff:10:01", mac), 0);
	EXPECT_STREQ(kavm_rtnl_format_addr(mac, 6, buf, sizeof(buf)), "02:ab:00:ff:10:01");
	EXPECT_EQ(kavm_rtnl_parse_mac("02:ab:00:ff:10", mac), -EINVAL);
	EXPECT_EQ(kavm_rtnl_parse_mac("02:ab:00:ff:10:01:", mac), -EINVAL);
	EXPECT_EQ(kavm_rtnl_parse_mac("2:ab:00:ff:10:011", mac), -EINVAL);
	EXPECT_EQ(kavm_rtnl_parse_mac("zz:ab:00:ff:10:01", mac), -EINVAL);
}
