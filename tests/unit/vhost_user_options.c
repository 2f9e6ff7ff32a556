// SPDX-License-Identifier: GPL-2.0
/* --netdev vhost-user parsing: its keys, its defaults, and what it refuses. */
#include <errno.h>
#include <string.h>

#include <kavm/net.h>

#include "../harness.h"

static char err[160];

TEST(vhost_user_client_defaults)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("vhost-user,id=n0,socket=/run/a.sock", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.type, "vhost-user");
	EXPECT_STREQ(o.id, "n0");
	EXPECT_STREQ(o.socket, "/run/a.sock");
	EXPECT_EQ(o.server, 0);
	EXPECT_EQ(o.reconnect, 0);
}

TEST(vhost_user_server_and_reconnect)
{
	struct netdev_opts o;

	ASSERT_EQ(
		netdev_parse("vhost-user,id=n0,socket=/run/a.sock,server=on", &o, err, sizeof(err)),
		0);
	EXPECT_EQ(o.server, 1);
	ASSERT_EQ(netdev_parse("vhost-user,socket=/s,reconnect=5,id=x,server=off", &o, err,
			       sizeof(err)),
		  0);
	EXPECT_EQ(o.server, 0);
	EXPECT_EQ(o.reconnect, 5);
	ASSERT_EQ(netdev_parse("vhost-user,id=x,socket=/s,reconnect=3600", &o, err, sizeof(err)),
		  0);
	EXPECT_EQ(o.reconnect, 3600);
}

TEST(vhost_user_queues)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("vhost-user,id=n0,socket=/s", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.queues, 1);
	ASSERT_EQ(
		netdev_parse("vhost-user,id=n0,socket=/s,queues=4,server=on", &o, err, sizeof(err)),
		0);
	EXPECT_EQ(o.queues, 4);
	ASSERT_EQ(netdev_parse("vhost-user,id=n0,socket=/s,queues=8", &o, err, sizeof(err)), 0);
	EXPECT_EQ(o.queues, 8);
}

TEST(tap_keeps_vhost_user_keys_off)
{
	struct netdev_opts o;

	ASSERT_EQ(netdev_parse("tap,id=n0,ifname=tap0", &o, err, sizeof(err)), 0);
	EXPECT_STREQ(o.socket, "");
	EXPECT_EQ(o.server, 0);
	EXPECT_EQ(o.reconnect, 0);
}

#define BAD(name, arg, msg)                                                                        \
	TEST(vhost_user_rejects_##name)                                                            \
	{                                                                                          \
		struct netdev_opts o;                                                              \
		err[0] = 0;                                                                        \
		EXPECT_EQ(netdev_parse(arg, &o, err, sizeof(err)), -EINVAL);                       \
		EXPECT_STREQ(err, msg);                                                            \
	}

BAD(no_socket, "vhost-user,id=n0", "netdev n0: socket= is required")
BAD(empty_socket, "vhost-user,id=n0,socket=", "socket: empty or longer than 107 characters")
BAD(long_socket,
    "vhost-user,id=n0,socket=/0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789",
    "socket: empty or longer than 107 characters")
BAD(server_word, "vhost-user,id=n0,socket=/s,server=yes", "server: want on or off, not yes")
BAD(reconnect_word, "vhost-user,id=n0,socket=/s,reconnect=soon",
    "reconnect: want 0 to 3600 seconds, not soon")
BAD(reconnect_negative, "vhost-user,id=n0,socket=/s,reconnect=-1",
    "reconnect: want 0 to 3600 seconds, not -1")
BAD(reconnect_huge, "vhost-user,id=n0,socket=/s,reconnect=3601",
    "reconnect: want 0 to 3600 seconds, not 3601")
BAD(server_reconnect, "vhost-user,id=n0,socket=/s,server=on,reconnect=1",
    "netdev n0: reconnect= is for server=off")
BAD(ifname, "vhost-user,id=n0,socket=/s,ifname=tap0",
    "netdev n0: vhost-user takes socket=, server=, reconnect=, queues=")
BAD(vhost, "vhost-user,id=n0,socket=/s,vhost=on",
    "netdev n0: vhost-user takes socket=, server=, reconnect=, queues=")
BAD(switch, "vhost-user,id=n0,socket=/s,switch=sw0",
    "netdev n0: vhost-user takes socket=, server=, reconnect=, queues=")
BAD(zero_queues, "vhost-user,id=n0,socket=/s,queues=0", "queues: want 1 to 8, not 0")
BAD(nine_queues, "vhost-user,id=n0,socket=/s,queues=9", "queues: want 1 to 8, not 9")
BAD(socket_on_tap, "tap,id=n0,socket=/s",
    "netdev n0: socket=, server=, reconnect= are for vhost-user")
BAD(server_on_bridge, "bridge,id=n0,br=br0,server=on",
    "netdev n0: socket=, server=, reconnect= are for vhost-user")
