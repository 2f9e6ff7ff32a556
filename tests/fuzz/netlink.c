// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the kernel's netlink answers as kavm reads them. The
 * input is a stream of netlink messages, walked as libnl walks a receive
 * buffer; each whole one goes to the parser kavm uses for its type:
 * NLMSG_ERROR to nl_ack_parse() (errno and extack text, capped or with the
 * request echoed), RTM_NEWLINK to kavm_rtnl_parse_link() (link, bridge and
 * tun attributes, stats64), anything else to kswitch_parse_reply() as the
 * module's switch, port or fdb reply (chosen by the type). The messages sit
 * in a buffer of exactly their size, so ASan sees any read past the end.
 *
 *   make fuzz && build/fuzz/netlink tests/fuzz/corpus/netlink
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <kavm/kswitch.h>
#include <kavm/nl-ack.h>
#include <kavm/rtnl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_one(const struct nlmsghdr *nlh, size_t len)
{
	union {
		struct kswitch_info sw;
		struct kswitch_port_info port;
		struct kswitch_fdb_info fdb;
	} item;
	struct kavm_link_info li;
	struct nl_ack ack;

	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		if (!nl_ack_parse(nlh, len, &ack) && strlen(ack.msg) >= sizeof(ack.msg))
			abort();
		break;
	case RTM_NEWLINK:
		kavm_rtnl_parse_link(nlh, len, &li);
		break;
	default:
		kswitch_parse_reply(nlh, len, nlh->nlmsg_type % 3, &item);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Aligned as libnl's receive buffer is; libFuzzer's own copy may not be. */
	uint8_t *buf = malloc(size ? size : 1);
	const struct nlmsghdr *nlh;
	int left = (int)size;

	if (!buf || size > INT32_MAX)
		abort();
	memcpy(buf, data, size);
	for (nlh = (const struct nlmsghdr *)buf; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left))
		parse_one(nlh, (size_t)left);
	free(buf);
	return 0;
}
