// SPDX-License-Identifier: GPL-2.0
/* --netdev / --device parsing. */
#include <errno.h>
#include <string.h>

#include <kavm/net.h>

#include "../harness.h"

static char err[128];

TEST(netdev_tap_full)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("tap,id=n0,ifname=tap0,vnet_hdr=off", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.type, "tap");
	EXPECT_STREQ(o.id, "n0");
	EXPECT_STREQ(o.ifname, "tap0");
	EXPECT_EQ(o.fd, -1);
	EXPECT_EQ(o.vnet_hdr, 0);
}

TEST(netdev_defaults_and_fd)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("tap,id=n1,fd=5", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.fd, 5);
	EXPECT_EQ(o.vnet_hdr, -1);
	EXPECT_STREQ(o.ifname, "");
	ASSERT_EQ(netdev_parse("tap,vnet_hdr=on,id=x", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.vnet_hdr, 1);
}

#define BAD_NETDEV(name, arg, msg)                                                                 \
	TEST(netdev_rejects_##name)                                                                \
	{                                                                                          \
		struct netdev_opts o;                                                              \
		err[0] = 0;                                                                        \
		EXPECT_EQ(netdev_parse(arg, &o, err, sizeof(err)), -EINVAL);                       \
		EXPECT_TRUE(strstr(err, msg) != NULL);                                             \
	}

BAD_NETDEV(unknown_type, "slirp,id=n0", "unknown netdev type slirp")
BAD_NETDEV(missing_id, "tap,ifname=tap0", "id= is required")
BAD_NETDEV(unknown_key, "tap,id=n0,queues=4", "unknown option queues")
BAD_NETDEV(a_script, "tap,id=n0,script=/etc/qemu-ifup",
	   "script=/etc/qemu-ifup: kavm runs no scripts (only script=no)")
BAD_NETDEV(a_downscript, "tap,id=n0,script=no,downscript=/bin/x",
	   "downscript=/bin/x: kavm runs no scripts (only downscript=no)")
BAD_NETDEV(bad_fd, "tap,id=n0,fd=3x", "fd: not a number")
BAD_NETDEV(negative_fd, "tap,id=n0,fd=-1", "fd: not a number")
BAD_NETDEV(bad_vnet_hdr, "tap,id=n0,vnet_hdr=maybe", "vnet_hdr: want on or off")
BAD_NETDEV(fd_and_ifname, "tap,id=n0,fd=3,ifname=tap0", "exclude each other")
BAD_NETDEV(ifname_too_long, "tap,id=n0,ifname=abcdefghijklmnopq", "ifname: empty or longer")
BAD_NETDEV(no_value, "tap,id", "option id has no value")
BAD_NETDEV(empty, "", "missing type")
BAD_NETDEV(type_is_a_key, "id=n0", "missing type")
BAD_NETDEV(bridge_without_br, "bridge,id=n0", "br= is required")
BAD_NETDEV(bridge_with_fd, "bridge,id=n0,br=br0,fd=3", "fd= is for tap netdevs")
BAD_NETDEV(br_on_tap, "tap,id=n0,br=br0", "br= is for bridge netdevs")
BAD_NETDEV(create_on_tap, "tap,id=n0,create=on", "create= is for bridge netdevs")
BAD_NETDEV(bad_create, "bridge,id=n0,br=br0,create=yes", "create: want on or off, not yes")
BAD_NETDEV(br_too_long, "bridge,id=n0,br=abcdefghijklmnop", "br: empty or longer than 15")
BAD_NETDEV(empty_switch, "tap,id=n0,switch=", "switch: empty or longer than 32")
BAD_NETDEV(switch_too_long, "tap,id=n0,switch=abcdefghijklmnopqrstuvwxyz0123456",
	   "switch: empty or longer than 32")

BAD_NETDEV(bad_vhost, "tap,id=n0,vhost=maybe", "vhost: want on or off, not maybe")
BAD_NETDEV(bad_vhostfd, "tap,id=n0,vhostfd=x", "vhostfd: not a number: x")
BAD_NETDEV(vhostfd_with_vhost_off, "tap,id=n0,vhostfd=4,vhost=off", "vhostfd= with vhost=off")
BAD_NETDEV(vhost_without_vnet_hdr, "tap,id=n0,vhost=on,vnet_hdr=off", "vhost=on needs vnet_hdr=on")
BAD_NETDEV(bridge_vhost_without_vnet_hdr, "bridge,id=n0,br=b,vnet_hdr=off,vhost=on",
	   "vhost=on needs vnet_hdr=on")

TEST(netdev_vhost)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("tap,id=n0,ifname=t0", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.vhost, -1);
	EXPECT_EQ(o.vhostfd, -1);
	/* vhost leaves the header to the tap: vhost=on asks for it. */
	ASSERT_EQ(netdev_parse("tap,id=n0,ifname=t0,vhost=on", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.vhost, 1);
	EXPECT_EQ(o.vnet_hdr, 1);
	/* As QEMU: vhostfd= alone means vhost=on. */
	ASSERT_EQ(netdev_parse("bridge,id=n0,br=b,vhostfd=7", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.vhost, 1);
	EXPECT_EQ(o.vhostfd, 7);
	EXPECT_EQ(o.vnet_hdr, 1);
	ASSERT_EQ(netdev_parse("tap,id=n0,vhost=off,vnet_hdr=off", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.vhost, 0);
	EXPECT_EQ(o.vnet_hdr, 0);
}

TEST(netdev_bridge_full)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("bridge,id=n0,br=br0,ifname=vm0,create=on,switch=sw1", &o, err,
			       sizeof(err)),
		  0);
	EXPECT_STREQ(o.type, "bridge");
	EXPECT_STREQ(o.id, "n0");
	EXPECT_STREQ(o.br, "br0");
	EXPECT_STREQ(o.ifname, "vm0");
	EXPECT_EQ(o.create, 1);
	EXPECT_STREQ(o.sw, "sw1");
	EXPECT_EQ(o.fd, -1);
	EXPECT_EQ(o.vnet_hdr, -1);
}

TEST(netdev_bridge_defaults)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("bridge,br=br-vm,id=n1", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.br, "br-vm");
	EXPECT_STREQ(o.ifname, "");
	EXPECT_EQ(o.create, 0);
	EXPECT_STREQ(o.sw, "");
	ASSERT_EQ(netdev_parse("bridge,id=n1,br=b,create=off", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.create, 0);
}

TEST(netdev_tap_switch)
{
	struct netdev_opts o;

	/* 32 characters: the longest switch name. */
	ASSERT_EQ(netdev_parse("tap,id=n0,switch=abcdefghijklmnopqrstuvwxyz012345", &o, err,
			       sizeof(err)),
		  0);
	EXPECT_STREQ(o.sw, "abcdefghijklmnopqrstuvwxyz012345");
	EXPECT_STREQ(o.br, "");
}

/* QEMU users write script=no,downscript=no: accepted, and nothing runs anyway. */
TEST(netdev_takes_script_no)
{
	struct netdev_opts o;

	ASSERT_EQ(
		netdev_parse("tap,id=n0,ifname=tap0,script=no,downscript=no", &o, err, sizeof(err)),
		0);
	EXPECT_STREQ(o.ifname, "tap0");
}

TEST(device_with_an_id)
{
	struct net_device_opts o;

	ASSERT_EQ(net_device_parse("virtio-net-pci,id=nic0,netdev=n0", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.id, "nic0");
	EXPECT_STREQ(o.netdev, "n0");
	ASSERT_EQ(net_device_parse("virtio-net-pci,netdev=n0", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.id, "");
}

TEST(device_with_mac)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct net_device_opts o;

	ASSERT_EQ(net_device_parse("virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56", &o, err,
				   sizeof(err)),
		  0);
	EXPECT_STREQ(o.driver, "virtio-net-pci");
	EXPECT_STREQ(o.netdev, "n0");
	EXPECT_TRUE(o.has_mac);
	EXPECT_MEMEQ(o.mac, mac, 6);
	ASSERT_EQ(net_device_parse("virtio-net-pci,netdev=n1", &o, err, sizeof(err)), 0);
	EXPECT_FALSE(o.has_mac);
}

#define BAD_DEVICE(name, arg, msg)                                                                 \
	TEST(device_rejects_##name)                                                                \
	{                                                                                          \
		struct net_device_opts o;                                                          \
		err[0] = 0;                                                                        \
		EXPECT_EQ(net_device_parse(arg, &o, err, sizeof(err)), -EINVAL);                   \
		EXPECT_TRUE(strstr(err, msg) != NULL);                                             \
	}

BAD_DEVICE(unknown_driver, "e1000,netdev=n0", "unknown device e1000")
BAD_DEVICE(missing_netdev, "virtio-net-pci,mac=52:54:00:12:34:56", "netdev= is required")
BAD_DEVICE(multicast_mac, "virtio-net-pci,netdev=n0,mac=01:00:5e:00:00:01", "not a unicast")
BAD_DEVICE(zero_mac, "virtio-net-pci,netdev=n0,mac=00:00:00:00:00:00", "not a unicast")
BAD_DEVICE(short_mac, "virtio-net-pci,netdev=n0,mac=52:54:00:12:34", "not a unicast")
BAD_DEVICE(mac_trailing, "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56:7", "not a unicast")
BAD_DEVICE(mac_garbage, "virtio-net-pci,netdev=n0,mac=zz:54:00:12:34:56", "not a unicast")
BAD_DEVICE(unknown_key, "virtio-net-pci,netdev=n0,romfile=x", "unknown option romfile")
BAD_DEVICE(empty_id, "virtio-net-pci,netdev=n0,id=", "id: empty or longer than 31")

TEST(default_macs_count_up_from_qemus)
{
	uint8_t mac[6];

	net_device_default_mac(0, mac);
	EXPECT_MEMEQ(mac, "\x52\x54\x00\x12\x34\x56", 6);
	net_device_default_mac(1, mac);
	EXPECT_MEMEQ(mac, "\x52\x54\x00\x12\x34\x57", 6);
	net_device_default_mac(0xaa, mac);
	EXPECT_MEMEQ(mac, "\x52\x54\x00\x12\x35\x00", 6);
}
