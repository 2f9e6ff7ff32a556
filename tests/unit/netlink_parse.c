// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's netlink answers as kavm reads them, from real answers kept in
 * the fuzzer's seed corpus (tests/fuzz/corpus/netlink/, captured in a netns
 * with a bridge br0 and a tap tap0 on it): the extack text of a refused
 * RTM_NEWLINK whether the kernel capped the ack or echoed the request, the
 * links of a dump, and what a cut or foreign message gets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <kavm/kswitch.h>
#include <kavm/nl-ack.h>
#include <kavm/rtnl.h>

#include "../harness.h"

#define CORPUS "tests/fuzz/corpus/netlink/"

static size_t load(const char *name, void *buf, size_t size)
{
	FILE *f = fopen(name, "re");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

/* Both forms of the kernel's "ip link add fz0 type nosuchkind" refusal. */
TEST(extack_text_capped_and_echoed)
{
	static const char *const files[] = { CORPUS "extack-capped", CORPUS "extack-echoed" };
	static uint32_t buf[1024];
	struct nl_ack ack;
	size_t i, n;

	for (i = 0; i < 2; i++) {
		n = load(files[i], buf, sizeof(buf));
		ASSERT_GT(n, (size_t)NLMSG_HDRLEN);
		memset(&ack, 0x55, sizeof(ack));
		ASSERT_EQ(nl_ack_parse((struct nlmsghdr *)buf, n, &ack), 0);
		EXPECT_EQ(ack.err, -EOPNOTSUPP);
		EXPECT_STREQ(ack.msg, "Unknown device type");
	}
}

/* The echoed request cut short: the errno still counts, the text is not made up. */
TEST(extack_cut_keeps_errno)
{
	static uint32_t buf[1024];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nl_ack ack;
	size_t n = load(CORPUS "extack-echoed", buf, sizeof(buf));

	ASSERT_GT(n, (size_t)64);
	nlh->nlmsg_len = 48; /* into the echoed request */
	ASSERT_EQ(nl_ack_parse(nlh, n, &ack), 0);
	EXPECT_EQ(ack.err, -EOPNOTSUPP);
	EXPECT_STREQ(ack.msg, "");
	/* A length past the buffer, or not an error at all: refused. */
	nlh->nlmsg_len = (uint32_t)n + 4;
	EXPECT_EQ(nl_ack_parse(nlh, n, &ack), -EBADMSG);
	nlh->nlmsg_len = (uint32_t)n;
	nlh->nlmsg_type = RTM_NEWLINK;
	EXPECT_EQ(nl_ack_parse(nlh, n, &ack), -EBADMSG);
}

/* The dump's links: br0 a bridge, tap0 a tun in tap mode with br0 its master. */
TEST(link_dump_bridge_and_tap)
{
	static const char *const files[] = { CORPUS "linkdump-0", CORPUS "linkdump-1" };
	static uint32_t buf[4096];
	struct kavm_link_info li, br = {}, tap = {};
	struct nlmsghdr *nlh;
	size_t i;
	int left;

	for (i = 0; i < 2; i++) {
		left = (int)load(files[i], buf, sizeof(buf));
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, left);
		     nlh = NLMSG_NEXT(nlh, left)) {
			ASSERT_EQ(kavm_rtnl_parse_link(nlh, (size_t)left, &li), 0);
			if (!strcmp(li.name, "br0"))
				br = li;
			else if (!strcmp(li.name, "tap0"))
				tap = li;
		}
	}
	EXPECT_STREQ(br.kind, "bridge");
	EXPECT_TRUE(br.br.present);
	EXPECT_EQ(br.addr_len, 6u);
	EXPECT_STREQ(tap.kind, "tun");
	EXPECT_TRUE(tap.tun.present && tap.tun.tap && tap.tun.vnet_hdr);
	EXPECT_EQ(tap.master, br.ifindex);
	EXPECT_TRUE(tap.has_stats);
}

/* A link message whose ifinfomsg is cut off is not a link. */
TEST(link_cut_header_refused)
{
	static uint32_t buf[4096];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct kavm_link_info li;
	size_t n = load(CORPUS "linkdump-0", buf, sizeof(buf));

	ASSERT_GT(n, (size_t)64);
	nlh->nlmsg_len = NLMSG_HDRLEN + 8;
	EXPECT_EQ(kavm_rtnl_parse_link(nlh, n, &li), -EBADMSG);
	nlh->nlmsg_len = (uint32_t)n + 1;
	EXPECT_EQ(kavm_rtnl_parse_link(nlh, n, &li), -EBADMSG);
}

/* The module's port reply: name, index, MAC and the stats nest by index. */
TEST(kswitch_port_reply)
{
	static uint32_t buf[256];
	struct kswitch_port_info p;
	size_t n = load(CORPUS "genl-port", buf, sizeof(buf));

	ASSERT_GT(n, (size_t)NLMSG_HDRLEN);
	ASSERT_EQ(kswitch_parse_reply((struct nlmsghdr *)buf, n, KSWITCH_REPLY_PORT, &p), 0);
	EXPECT_STREQ(p.ifname, "tap0");
	EXPECT_EQ(p.ifindex, 7u);
	EXPECT_EQ(p.flags, KAVM_PORT_F_NO_SPOOF);
	EXPECT_TRUE(p.has_mac && !memcmp(p.mac, "\x52\x54\x00\x12\x34\x56", 6));
	EXPECT_EQ(p.stats[1], 7u);
	EXPECT_EQ(p.stats[2], 9u);
	EXPECT_EQ(kswitch_parse_reply((struct nlmsghdr *)buf, n, (enum kswitch_reply)7, &p),
		  -EPROTO);
	EXPECT_EQ(kswitch_parse_reply((struct nlmsghdr *)buf, NLMSG_HDRLEN + 2, KSWITCH_REPLY_PORT,
				      &p),
		  -EPROTO);
}
