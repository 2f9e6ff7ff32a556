// SPDX-License-Identifier: GPL-2.0
/* The one MAC parser of kavm (--device mac=) and kavmctl (link set address, fdb, switch). */
#include <errno.h>
#include <string.h>

#include <kavm/mac.h>
#include <kavm/net.h>

#include "../harness.h"

static char err[128];

/* kavm --device mac=: sscanf's %2x took signs and blanks, so "+2:+0:..." was 02:00:.. */
TEST(device_mac_rejects_signs_and_blanks)
{
	static const char *const bad[] = {
		"+2:+0:+0:+0:+0:+1",
		" 2: 0: 0: 0: 0: 1",
		"-2:00:00:00:00:01",
		"0x2:0:0:0:0:1",
	};
	struct net_device_opts o;
	char arg[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(arg, sizeof(arg), "virtio-net-pci,netdev=n0,mac=%s", bad[i]);
		err[0] = 0;
		EXPECT_EQ(net_device_parse(arg, &o, err, sizeof(err)), -EINVAL);
		EXPECT_TRUE(strstr(err, "mac") != NULL);
	}
}

/* As ip link set address takes it: one or two hex digits an octet. */
TEST(device_mac_short_octets)
{
	static const uint8_t want[6] = { 0x02, 0x00, 0x00, 0x0a, 0x00, 0x01 };
	struct net_device_opts o;

	ASSERT_EQ(
		net_device_parse("virtio-net-pci,netdev=n0,mac=2:0:0:A:0:01", &o, err, sizeof(err)),
		0);
	EXPECT_MEMEQ(o.mac, want, 6);
}

TEST(parse_accepts)
{
	static const uint8_t want[6] = { 0x02, 0xab, 0x00, 0xff, 0x10, 0x01 };
	uint8_t mac[6];

	ASSERT_EQ(mac_parse("02:aB:00:FF:10:01", mac), 0);
	EXPECT_MEMEQ(mac, want, 6);
	memset(mac, 0, sizeof(mac));
	ASSERT_EQ(mac_parse("2:ab:0:ff:10:1", mac), 0);
	EXPECT_MEMEQ(mac, want, 6);
}

TEST(parse_rejects_and_leaves_mac_alone)
{
	static const char *const bad[] = {
		"",
		"02:ab:00:ff:10",
		"02:ab:00:ff:10:01:",
		"02:ab:00:ff:10:011",
		"002:ab:00:ff:10:01",
		"zz:ab:00:ff:10:01",
		"02:ab::ff:10:01",
		"02-ab-00-ff-10-01",
		"+2:+0:+0:+0:+0:+1",
		" 2:ab:00:ff:10:01",
		"02:ab:00:ff:10:01 ",
		"0x2:ab:00:ff:10:01",
	};
	uint8_t mac[6] = { 9, 9, 9, 9, 9, 9 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(mac_parse(bad[i], mac), -EINVAL);
	EXPECT_MEMEQ(mac, "\x09\x09\x09\x09\x09\x09", 6);
}

TEST(unicast)
{
	EXPECT_TRUE(mac_is_unicast((const uint8_t *)"\x02\x00\x00\x00\x00\x01"));
	EXPECT_FALSE(mac_is_unicast((const uint8_t *)"\x01\x00\x5e\x00\x00\x01"));
	EXPECT_FALSE(mac_is_unicast((const uint8_t *)"\xff\xff\xff\xff\xff\xff"));
	EXPECT_FALSE(mac_is_unicast((const uint8_t *)"\x00\x00\x00\x00\x00\x00"));
}
