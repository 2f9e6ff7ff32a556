// SPDX-License-Identifier: GPL-2.0
/* kavm: NLMSG_ERROR and its extack TLVs, shared by the rtnetlink and genetlink sockets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <kavm/nl-ack.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int nl_ack_parse(const struct nlmsghdr *nlh, size_t len, struct nl_ack *ack)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	const struct nlattr *a;

	if (len < NLMSG_HDRLEN || nlh->nlmsg_len > len || nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < off)
		return -EBADMSG;
	ack->err = e->error;
	ack->msg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	/* Without NETLINK_CAP_ACK our request is echoed between the two. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN ||
		    e->msg.nlmsg_len - NLMSG_HDRLEN > nlh->nlmsg_len - off)
			return 0;
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
		if (off > nlh->nlmsg_len)
			return 0;
	}
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      (int)(nlh->nlmsg_len - off), NULL) < 0)
		return 0;
	a = tb[NLMSGERR_ATTR_MSG];
	if (a && nla_len(a) > 0)
		snprintf(ack->msg, sizeof(ack->msg), "%.*s", nla_len(a), (const char *)nla_data(a));
	/* The kernel's text may end in a NUL counted in nla_len, or a newline. */
	ack->msg[strcspn(ack->msg, "\n")] = '\0';
	return 0;
}

/* libnl checked that E is a whole struct nlmsgerr inside a whole message. */
static int nl_ack_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);

	nl_ack_parse(nlh, nlh->nlmsg_len, arg);
	return NL_STOP;
}

void nl_ack_setup(struct nl_sock *sk, struct nl_ack *ack)
{
	int one = 1;

	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_disable_auto_ack(sk);
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, nl_ack_cb, ack);
}
