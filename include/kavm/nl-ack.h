/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm: the kernel's answer to a netlink request (NLMSG_ERROR) with its
 * extack text, for the rtnetlink (rtnl.c) and generic netlink (kswitch.c)
 * sockets alike. libnl 3.7 hands its error callback the struct nlmsgerr and
 * knows nothing of the extack TLVs that follow it.
 */
#ifndef KAVM_NL_ACK_H
#define KAVM_NL_ACK_H

#include <stddef.h>

#include <linux/netlink.h>

struct nl_sock;

struct nl_ack {
	int err;       /* the kernel's errno from the last NLMSG_ERROR, negative */
	char msg[256]; /* its extack text, or the caller's own reason; "" when none */
};

/*
 * On SK: extack and capped acks on (best effort: an older kernel answers
 * with less to say), no automatic acks (a request asks for its own), and
 * every NLMSG_ERROR parsed into ACK, which must outlive SK.
 */
void nl_ack_setup(struct nl_sock *sk, struct nl_ack *ack);

static inline void nl_ack_reset(struct nl_ack *ack)
{
	ack->err = 0;
	ack->msg[0] = '\0';
}

/*
 * Parse one NLMSG_ERROR message of LEN bytes (at least nlh->nlmsg_len) into
 * ACK. Returns 0, or -EBADMSG when it is not a complete NLMSG_ERROR; a
 * malformed extack part only leaves ack->msg empty.
 */
int nl_ack_parse(const struct nlmsghdr *nlh, size_t len, struct nl_ack *ack);

#endif /* KAVM_NL_ACK_H */
