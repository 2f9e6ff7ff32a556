// SPDX-License-Identifier: GPL-2.0
/*
 * Raw generic netlink against kavm_switch.ko, for tests/host/kmod.sh: the
 * requests kavmctl never sends (unknown attributes, reserved header bits,
 * over-long names, a dump of a missing switch) and dumps interrupted by a
 * change. Built static by kmod.sh, run inside the test host.
 *
 *   kmod-genl unknown-attr NAME | above-max NAME | reserved NAME | long-name
 *   kmod-genl port-dump NAME                 prints "error E STRERROR: EXTACK"
 *                                            (a dump's error comes in its DONE)
 *   kmod-genl dump NAME DEV N [change]       adds N static entries on DEV, dumps
 *                                            the fdb reading 4 KiB at a time (with
 *                                            "change": one more entry added after
 *                                            the first read) and prints
 *                                            "messages M intr I"
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <linux/kavm_switch.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct req {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[1024];
};

static int family;

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC), one = 1;

	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

static void req_init(struct req *r, int type, uint8_t cmd, int flags)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	r->gh.cmd = cmd;
	r->gh.version = KAVM_GENL_VERSION;
}

static void put_attr(struct req *r, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void put_str(struct req *r, uint16_t type, const char *s)
{
	put_attr(r, type, s, strlen(s) + 1);
}

/*
 * The extack text after an NLMSG_ERROR's struct nlmsgerr (request not
 * echoed: CAP_ACK) or an NLMSG_DONE's error code.
 */
static const char *extack_msg(const struct nlmsghdr *nh)
{
	size_t hdr = nh->nlmsg_type == NLMSG_DONE ? sizeof(int) : sizeof(struct nlmsgerr);
	const struct nlattr *a = (const void *)((const char *)NLMSG_DATA(nh) + hdr);
	int left = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(hdr);

	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		if (a->nla_type == NLMSGERR_ATTR_MSG)
			return (const char *)a + NLA_HDRLEN;
		left -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
	return "";
}

/* Send and read the one answer: 0, or -errno with its extack in *msg. */
static int transact(int fd, struct req *r, char *buf, size_t size, const char **msg)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	ssize_t n;

	*msg = "";
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, size, 0);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(nh, (size_t)n))
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		*msg = extack_msg(nh);
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	}
	return 0;
}

static int resolve_family(int fd)
{
	static char buf[8192];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct nlattr *a;
	const char *msg;
	struct req r;
	int left;

	req_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	r.gh.version = 2;
	put_str(&r, CTRL_ATTR_FAMILY_NAME, KAVM_GENL_NAME);
	if (transact(fd, &r, buf, sizeof(buf), &msg))
		return -ENOENT;
	a = (struct nlattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);
	left = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(GENL_HDRLEN);
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			return *(uint16_t *)((char *)a + NLA_HDRLEN);
		left -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return -ENOENT;
}

static int print_result(int fd, struct req *r)
{
	char buf[8192];
	const char *msg;
	int ret = transact(fd, r, buf, sizeof(buf), &msg);
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;

	if (!ret && (r->nh.nlmsg_flags & NLM_F_DUMP) && nh->nlmsg_type == NLMSG_DONE) {
		ret = *(const int *)NLMSG_DATA(nh);
		msg = extack_msg(nh);
	}
	printf("error %d %s: %s\n", -ret, strerror(-ret), msg);
	return 0;
}

static void mac_of(unsigned int i, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x02, 0, 0, 1, (uint8_t)(i >> 8), (uint8_t)i };

	memcpy(mac, m, 6);
}

static int fdb_add(int fd, const char *name, const char *dev, unsigned int i)
{
	char buf[8192];
	const char *msg;
	uint8_t mac[6];
	struct req r;
	int ret;

	req_init(&r, family, KAVM_CMD_FDB_ADD, NLM_F_ACK);
	put_str(&r, KAVM_A_SWITCH_NAME, name);
	put_str(&r, KAVM_A_PORT_IFNAME, dev);
	mac_of(i, mac);
	put_attr(&r, KAVM_A_FDB_MAC, mac, 6);
	ret = transact(fd, &r, buf, sizeof(buf), &msg);
	if (ret)
		fprintf(stderr, "fdb add %u: %s: %s\n", i, strerror(-ret), msg);
	return ret;
}

/*
 * Reads the dump 4 KiB at a time, so that it comes in many parts: on a
 * fresh socket, whose parts the kernel sizes to what we read.
 */
static int dump(const char *name, const char *dev, unsigned int n, bool change)
{
	unsigned int messages = 0, intr = 0, reads = 0;
	int fd = nl_open();
	char buf[4096];
	struct req r;
	ssize_t len;

	req_init(&r, family, KAVM_CMD_FDB_GET, NLM_F_DUMP);
	put_str(&r, KAVM_A_SWITCH_NAME, name);
	if (send(fd, &r, r.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			return -errno;
		/* The kernel builds the next part while we read this one. */
		if (++reads == 1 && change) {
			int fd2 = nl_open();

			if (fdb_add(fd2, name, dev, n))
				return 1;
			close(fd2);
		}
		for (; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				printf("messages %u intr %u reads %u\n", messages, intr, reads);
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				printf("error in dump: %s\n", extack_msg(nh));
				return 1;
			}
			messages++;
			intr += !!(nh->nlmsg_flags & NLM_F_DUMP_INTR);
		}
	}
}

static int fill_and_dump(int fd, const char *name, const char *dev, const char *count, bool change)
{
	unsigned int n = (unsigned int)strtoul(count, NULL, 10), i;

	for (i = 0; i < n; i++)
		if (fdb_add(fd, name, dev, i))
			return 1;
	return dump(name, dev, n, change);
}

int main(int argc, char **argv)
{
	char name[64];
	struct req r;
	int fd;

	if (argc < 2)
		return 2;
	fd = nl_open();
	family = resolve_family(fd);
	if (family < 0) {
		fprintf(stderr, "no genl family %s\n", KAVM_GENL_NAME);
		return 1;
	}
	if (!strcmp(argv[1], "dump") && argc >= 5)
		return fill_and_dump(fd, argv[2], argv[3], argv[4],
				     argc == 6 && !strcmp(argv[5], "change"));
	req_init(&r, family, KAVM_CMD_SWITCH_NEW, NLM_F_ACK);
	if (!strcmp(argv[1], "long-name")) {
		memset(name, 'x', 40);
		name[40] = '\0';
		put_str(&r, KAVM_A_SWITCH_NAME, name);
		return print_result(fd, &r);
	}
	if (argc != 3)
		return 2;
	put_str(&r, KAVM_A_SWITCH_NAME, argv[2]);
	if (!strcmp(argv[1], "unknown-attr")) {
		/* An attribute of the family, but not of this command's policy. */
		put_attr(&r, KAVM_A_FDB_MAC, "\x02\0\0\0\0\x01", 6);
	} else if (!strcmp(argv[1], "above-max")) {
		put_attr(&r, KAVM_A_MAX + 5, "\0\0\0\0", 4);
	} else if (!strcmp(argv[1], "reserved")) {
		r.gh.reserved = 1;
	} else if (!strcmp(argv[1], "port-dump")) {
		r.gh.cmd = KAVM_CMD_PORT_GET;
		r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	} else {
		return 2;
	}
	return print_result(fd, &r);
}
