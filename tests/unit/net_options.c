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
BAD_NETDEV(unknown_key, "tap,id=n0,poll_us=4", "unknown option poll_us")
BAD_NETDEV(zero_queues, "tap,id=n0,queues=0", "queues: want 1 to 8, not 0")
BAD_NETDEV(nine_queues, "tap,id=n0,queues=9", "queues: want 1 to 8, not 9")
BAD_NETDEV(queues_with_fd, "tap,id=n0,fd=3,queues=2",
	   "queues= needs kavm to open the tap and vhost-net (not fd= or vhostfd=)")
BAD_NETDEV(queues_with_vhostfd, "tap,id=n0,vhostfd=3,queues=2",
	   "queues= needs kavm to open the tap and vhost-net (not fd= or vhostfd=)")
BAD_NETDEV(queues_on_vhost_user_with_ifname, "vhost-user,id=n0,socket=/s,queues=2,ifname=t0",
	   "vhost-user takes socket=, server=, reconnect=, queues=")

TEST(netdev_queues)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("tap,id=n0", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.queues, 1);
	ASSERT_EQ(netdev_parse("tap,id=n0,ifname=t0,queues=4,vhost=on", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.queues, 4);
	EXPECT_EQ(o.vhost, 1);
	ASSERT_EQ(netdev_parse("bridge,id=n0,br=b,queues=3", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.queues, 3);
}
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

/* hubport and socket (QEMU's keys) */
TEST(netdev_hubport_and_socket_forms)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("hubport,id=h0,hubid=3", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.hubid, 3);
	ASSERT_EQ(netdev_parse("socket,id=s0,listen=:1234", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.listen, ":1234");
	ASSERT_EQ(netdev_parse("socket,id=s0,connect=127.0.0.1:1234", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.connect, "127.0.0.1:1234");
	ASSERT_EQ(netdev_parse("socket,id=s0,udp=10.0.0.2:5000,localaddr=10.0.0.1:5000", &o, err,
			       sizeof(err)),
		  0);
	EXPECT_STREQ(o.localaddr, "10.0.0.1:5000");
	ASSERT_EQ(netdev_parse("socket,id=s0,mcast=230.0.0.1:1234,localaddr=127.0.0.1", &o, err,
			       sizeof(err)),
		  0);
	EXPECT_STREQ(o.mcast, "230.0.0.1:1234");
	EXPECT_EQ(o.hubid, -1);
}

#define BAD_NETDEV_EXACT(name, arg, msg)                                                           \
	TEST(netdev_rejects_##name)                                                                \
	{                                                                                          \
		struct netdev_opts o;                                                              \
		err[0] = 0;                                                                        \
		EXPECT_EQ(netdev_parse(arg, &o, err, sizeof(err)), -EINVAL);                       \
		EXPECT_STREQ(err, msg);                                                            \
	}

BAD_NETDEV_EXACT(hubport_without_hubid, "hubport,id=h0", "netdev h0: hubid= is required")
BAD_NETDEV_EXACT(hubid_not_a_number, "hubport,id=h0,hubid=x", "hubid: not a number: x")
BAD_NETDEV_EXACT(hubport_with_tap_keys, "hubport,id=h0,hubid=0,ifname=tap0",
		 "netdev h0: hubport takes hubid= only")
BAD_NETDEV_EXACT(hubid_on_tap, "tap,id=t0,hubid=1", "netdev t0: hubid= is for hubport netdevs")
BAD_NETDEV_EXACT(socket_without_mode, "socket,id=s0",
		 "netdev s0: socket takes exactly one of listen=, connect=, udp=, mcast=")
BAD_NETDEV_EXACT(socket_two_modes, "socket,id=s0,listen=:1,connect=127.0.0.1:2",
		 "netdev s0: socket takes exactly one of listen=, connect=, udp=, mcast=")
BAD_NETDEV_EXACT(listen_without_port, "socket,id=s0,listen=1234",
		 "listen: want HOST:PORT, not 1234")
BAD_NETDEV_EXACT(connect_port_out_of_range, "socket,id=s0,connect=127.0.0.1:65536",
		 "connect: want HOST:PORT, not 127.0.0.1:65536")
BAD_NETDEV_EXACT(unresolvable_host, "socket,id=s0,connect=no.such.host.invalid:1",
		 "connect: cannot resolve the host in no.such.host.invalid:1")
BAD_NETDEV_EXACT(udp_without_localaddr, "socket,id=s0,udp=127.0.0.1:5000",
		 "netdev s0: udp= needs localaddr=HOST:PORT")
BAD_NETDEV_EXACT(localaddr_with_listen, "socket,id=s0,listen=:1,localaddr=127.0.0.1:2",
		 "netdev s0: localaddr= is for udp= and mcast=")
BAD_NETDEV_EXACT(mcast_not_a_group, "socket,id=s0,mcast=10.0.0.1:1234",
		 "netdev s0: mcast: 10.0.0.1:1234 is not a multicast group")
BAD_NETDEV_EXACT(mcast_localaddr_with_port, "socket,id=s0,mcast=230.0.0.1:1,localaddr=1.2.3.4:5",
		 "netdev s0: localaddr: want an IPv4 address, not 1.2.3.4:5")
BAD_NETDEV_EXACT(socket_with_fd, "socket,id=s0,listen=:1,fd=3",
		 "netdev s0: socket takes listen=, connect=, udp=, mcast=, localaddr=")
BAD_NETDEV_EXACT(listen_on_tap, "tap,id=t0,listen=:1",
		 "netdev t0: listen=, connect=, udp=, mcast=, localaddr= are for socket netdevs")
BAD_NETDEV_EXACT(vhost_user_socket_on_socket, "socket,id=s0,socket=/run/x.sock",
		 "netdev s0: socket=, server=, reconnect= are for vhost-user")

TEST(filter_dump_defaults)
{
	struct net_filter_opts o;

	ASSERT_EQ(net_filter_parse("filter-dump,id=d0,netdev=n0,file=/tmp/a.pcap", &o, err,
				   sizeof(err)),
		  0);
	EXPECT_STREQ(o.netdev, "n0");
	EXPECT_STREQ(o.file, "/tmp/a.pcap");
	EXPECT_EQ(o.maxlen, 65536u);
	EXPECT_EQ(o.maxsize, 256ULL << 20);
	ASSERT_EQ(net_filter_parse("filter-dump,id=d0,netdev=n0,file=/a,maxlen=128,maxsize=4M", &o,
				   err, sizeof(err)),
		  0);
	EXPECT_EQ(o.maxlen, 128u);
	EXPECT_EQ(o.maxsize, 4ULL << 20);
}

#define BAD_FILTER(name, arg, msg)                                                                 \
	TEST(filter_rejects_##name)                                                                \
	{                                                                                          \
		struct net_filter_opts o;                                                          \
		err[0] = 0;                                                                        \
		EXPECT_EQ(net_filter_parse(arg, &o, err, sizeof(err)), -EINVAL);                   \
		EXPECT_STREQ(err, msg);                                                            \
	}

BAD_FILTER(other_object, "filter-mirror,id=m0",
	   "unknown object type filter-mirror (kavm has filter-dump)")
BAD_FILTER(no_id, "filter-dump,netdev=n0,file=/a", "filter-dump: id= is required")
BAD_FILTER(no_netdev, "filter-dump,id=d0,file=/a", "filter-dump d0: netdev= is required")
BAD_FILTER(no_file, "filter-dump,id=d0,netdev=n0", "filter-dump d0: file= is required")
BAD_FILTER(maxlen_zero, "filter-dump,id=d0,netdev=n0,file=/a,maxlen=0",
	   "maxlen: want 1 to 262144 bytes, not 0")
BAD_FILTER(maxlen_huge, "filter-dump,id=d0,netdev=n0,file=/a,maxlen=1000000",
	   "maxlen: want 1 to 262144 bytes, not 1000000")
BAD_FILTER(maxsize_tiny, "filter-dump,id=d0,netdev=n0,file=/a,maxsize=100",
	   "maxsize: want a size of at least 1024 (64M, 1G), not 100")
BAD_FILTER(queue_key, "filter-dump,id=d0,netdev=n0,file=/a,queue=rx", "unknown option queue")
