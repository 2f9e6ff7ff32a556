// SPDX-License-Identifier: GPL-2.0
/*
 * Raw generic netlink against kavm_switch.ko, for tests/host/kmod.sh and
 * tests/host/kmod-genl-bad.sh: the requests kavmctl never sends (unknown
 * attributes, reserved header bits, over-long names, a dump of a missing
 * switch, the whole bad-table) and dumps interrupted by a change. Built
 * static by those tests, run inside the test host.
 *
 *   kmod-genl unknown-attr NAME | above-max NAME | reserved NAME | long-name
 *   kmod-genl port-dump NAME                 prints "error E STRERROR: EXTACK"
 *                                            (a dump's error comes in its DONE)
 *   kmod-genl dump NAME DEV N [change]       adds N static entries on DEV, dumps
 *                                            the fdb reading 4 KiB at a time (with
 *                                            "change": one more entry added after
 *                                            the first read) and prints
 *                                            "messages M intr I"
 *   kmod-genl bad-table FOREIGN_IFINDEX      the malformed requests of
 *                                            tests/host/kmod-genl-bad.sh, one
 *                                            "ok - NAME" or "not ok - NAME" line
 *                                            each (see bad_table below)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
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

/*
 * bad-table: malformed requests, each answered with an errno, an extack
 * message and, where the kernel names one, the offending attribute's offset
 * (NLMSGERR_ATTR_OFFS) or the missing attribute's type
 * (NLMSGERR_ATTR_MISS_TYPE). The first requests set the scene and the last
 * ones clear it: they must succeed.
 */
enum { A_END, A_STR, A_RAW, A_U32, A_FOREIGN };

struct battr {
	uint16_t type;
	uint8_t kind;
	uint16_t len;
	const char *data;
	uint32_t u;
};

/* clang-format off */
#define STR(t, v) { (t), A_STR, 0, (v), 0 }
#define RAW(t, v, l) { (t), A_RAW, (l), (v), 0 }
#define U32(t, v) { (t), A_U32, 4, NULL, (v) }
#define FOREIGN { KAVM_A_PORT_IFINDEX, A_FOREIGN, 4, NULL, 0 }
#define NOATTR { 0 }
/* One request: its attributes last, at most four. */
#define CASE(name, cmd, flags, how, err, msg, bad, miss, ...) \
	{ name, cmd, flags, how, { __VA_ARGS__ }, err, msg, bad, miss }
/* clang-format on */

/* How a request is bent beyond its attributes. */
#define B_RESERVED (1U << 0)  /* genlmsghdr.reserved set */
#define B_NOCAP (1U << 1)     /* sent without CAP_NET_ADMIN */
#define B_TRAILING (1U << 2)  /* two bytes after the last attribute */
#define B_OVERRUN (1U << 3)   /* the last attribute claims 8 bytes more than sent */
#define B_SHORT_HDR (1U << 4) /* the genl header cut to 2 bytes */

struct bad_case {
	const char *name;
	uint8_t cmd;
	uint16_t flags; /* besides NLM_F_REQUEST | NLM_F_ACK */
	unsigned int how;
	struct battr a[4];
	int err;	 /* the errno expected, positive; 0: must succeed */
	const char *msg; /* the extack message, exactly ("" none); %u: FOREIGN_IFINDEX */
	int bad;	 /* 1-based: the attribute NLMSGERR_ATTR_OFFS points at; 0: none */
	int miss;	 /* NLMSGERR_ATTR_MISS_TYPE expected; 0: none */
};

#define NAME(v) STR(KAVM_A_SWITCH_NAME, v)
#define IFNAME(v) STR(KAVM_A_PORT_IFNAME, v)
#define FMAC(v) RAW(KAVM_A_FDB_MAC, v, 6)
#define PMAC(v) RAW(KAVM_A_PORT_MAC, v, 6)
#define MAC_PA "\x02\0\0\0\x0a\x01"
#define MAC_KB2 "\x02\0\0\0\x0b\x01"
#define MAC_NONE "\x02\0\0\0\x0c\x01"
#define MAC_MCAST "\x01\0\x5e\0\0\x01"
#define POLICY "Attribute failed policy validation"
#define BADLEN "invalid attribute length"
#define RANGE "integer out of range"
#define BINSIZE "binary attribute size out of range"
#define UNSUPP "Unsupported attribute"
#define UNKNOWN "Unknown attribute type"
#define LEFTOVER "bytes leftover after parsing attributes"
#define NONAME "the switch's name is missing"
#define NODEV "a device is needed: its ifindex or name"
#define NOSW "no switch nosuch in this network namespace"
#define NOMAC "the entry's MAC is missing"
#define BADNAME "bad switch name: letters, digits, '-', '_' and '.' only"
#define NAME32 "abcdefghijklmnopqrstuvwxyz012345"
#define SW_NEW KAVM_CMD_SWITCH_NEW
#define SW_DEL KAVM_CMD_SWITCH_DEL
#define SW_GET KAVM_CMD_SWITCH_GET
#define SW_SET KAVM_CMD_SWITCH_SET
#define P_ADD KAVM_CMD_PORT_ADD
#define P_DEL KAVM_CMD_PORT_DEL
#define P_GET KAVM_CMD_PORT_GET
#define F_ADD KAVM_CMD_FDB_ADD
#define F_DEL KAVM_CMD_FDB_DEL
#define F_GET KAVM_CMD_FDB_GET
#define DUMP NLM_F_DUMP
#define AGEING(v) U32(KAVM_A_SWITCH_AGEING_MS, v)
#define FDBMAX(v) U32(KAVM_A_SWITCH_FDB_MAX, v)
#define IFINDEX(v) U32(KAVM_A_PORT_IFINDEX, v)

/*
 * Switch kb has port pa (declared MAC 02:00:00:00:0a:01), kb2 (fdb_max 1,
 * full) has port pb; pc is a free veth, pd a port of bridge br0 and
 * FOREIGN_IFINDEX a device of another network namespace.
 */
static const struct bad_case bad_table[] = {
	CASE("setup: switch new kb", SW_NEW, 0, 0, 0, "", 0, 0, NAME("kb")),
	CASE("setup: switch new kb2 fdb_max 1", SW_NEW, 0, 0, 0, "", 0, 0, NAME("kb2"), FDBMAX(1)),
	CASE("setup: port add kb pa with its MAC", P_ADD, 0, 0, 0, "", 0, 0, NAME("kb"),
	     IFNAME("pa"), PMAC(MAC_PA)),
	CASE("setup: port add kb2 pb", P_ADD, 0, 0, 0, "", 0, 0, NAME("kb2"), IFNAME("pb")),
	CASE("setup: fdb add kb2 (now full)", F_ADD, 0, 0, 0, "", 0, 0, NAME("kb2"), FMAC(MAC_KB2),
	     IFNAME("pb")),

	/* Header and command. */
	CASE("unknown command 0", 0, 0, 0, EOPNOTSUPP, "", 0, 0, NAME("kx")),
	CASE("unknown command 200", 200, 0, 0, EOPNOTSUPP, "", 0, 0, NAME("kx")),
	CASE("a notification command as a request", KAVM_CMD_SWITCH_NEW_NTF, 0, 0, EOPNOTSUPP, "",
	     0, 0, NAME("kx")),
	CASE("NLM_F_DUMP on switch new (doit only)", SW_NEW, DUMP, 0, EOPNOTSUPP, "", 0, 0,
	     NAME("kx")),
	CASE("NLM_F_DUMP on port add (doit only)", P_ADD, DUMP, 0, EOPNOTSUPP, "", 0, 0, NAME("kb"),
	     IFNAME("pc")),
	CASE("genl header reserved field set", SW_NEW, 0, B_RESERVED, EINVAL,
	     "genlmsghdr.reserved field is not 0", 0, 0, NAME("kx")),
	CASE("genl header reserved field set on a dump", P_GET, DUMP, B_RESERVED, EINVAL,
	     "genlmsghdr.reserved field is not 0", 0, 0, NAME("kb")),
	CASE("genl header truncated", SW_NEW, 0, B_SHORT_HDR, EINVAL, "", 0, 0, NAME("kx")),
	CASE("two bytes after the last attribute", SW_NEW, 0, B_TRAILING, EINVAL, LEFTOVER, 0, 0,
	     NAME("kx")),
	CASE("an attribute longer than the message", SW_NEW, 0, B_OVERRUN, EINVAL, LEFTOVER, 0, 0,
	     NAME("kx")),

	/* Switch new. */
	CASE("switch new: no name", SW_NEW, 0, 0, EINVAL, NONAME, 0, KAVM_A_SWITCH_NAME,
	     AGEING(1000)),
	CASE("switch new: name without NUL", SW_NEW, 0, 0, EINVAL, POLICY, 1, 0,
	     RAW(KAVM_A_SWITCH_NAME, "kx", 2)),
	CASE("switch new: name of 0 bytes", SW_NEW, 0, 0, EINVAL, POLICY, 1, 0,
	     RAW(KAVM_A_SWITCH_NAME, "", 0)),
	CASE("switch new: name of 32 bytes", SW_NEW, 0, 0, EINVAL, POLICY, 1, 0, NAME(NAME32)),
	CASE("switch new: empty name", SW_NEW, 0, 0, EINVAL, BADNAME, 1, 0, NAME("")),
	CASE("switch new: name with a slash", SW_NEW, 0, 0, EINVAL, BADNAME, 1, 0, NAME("a/b")),
	CASE("switch new: name flagged NLA_F_NESTED", SW_NEW, 0, 0, EINVAL,
	     "NLA_F_NESTED not expected", 1, 0, STR(KAVM_A_SWITCH_NAME | NLA_F_NESTED, "kx")),
	CASE("switch new: exists already", SW_NEW, 0, 0, EEXIST, "switch kb exists already", 1, 0,
	     NAME("kb")),
	CASE("switch new: ageing as u8", SW_NEW, 0, 0, EINVAL, BADLEN, 2, 0, NAME("kx"),
	     RAW(KAVM_A_SWITCH_AGEING_MS, "\x64", 1)),
	CASE("switch new: ageing as u16", SW_NEW, 0, 0, EINVAL, BADLEN, 2, 0, NAME("kx"),
	     RAW(KAVM_A_SWITCH_AGEING_MS, "\x64\0", 2)),
	CASE("switch new: ageing as u64", SW_NEW, 0, 0, EINVAL, BADLEN, 2, 0, NAME("kx"),
	     RAW(KAVM_A_SWITCH_AGEING_MS, "\x64\0\0\0\0\0\0\0", 8)),
	CASE("switch new: ageing below its minimum", SW_NEW, 0, 0, ERANGE, RANGE, 2, 0, NAME("kx"),
	     AGEING(KAVM_SWITCH_AGEING_MS_MIN - 1)),
	CASE("switch new: ageing above its maximum", SW_NEW, 0, 0, ERANGE, RANGE, 2, 0, NAME("kx"),
	     AGEING(KAVM_SWITCH_AGEING_MS_MAX + 1U)),
	CASE("switch new: fdb_max 0", SW_NEW, 0, 0, ERANGE, RANGE, 2, 0, NAME("kx"), FDBMAX(0)),
	CASE("switch new: fdb_max above its limit", SW_NEW, 0, 0, ERANGE, RANGE, 2, 0, NAME("kx"),
	     FDBMAX(KAVM_SWITCH_FDB_MAX_LIMIT + 1)),
	CASE("switch new: attribute 0", SW_NEW, 0, 0, EINVAL, UNKNOWN, 2, 0, NAME("kx"),
	     RAW(0, "\0\0\0\0", 4)),
	CASE("switch new: attribute above KAVM_A_MAX", SW_NEW, 0, 0, EINVAL, UNKNOWN, 2, 0,
	     NAME("kx"), RAW(KAVM_A_MAX + 1, "\0\0\0\0", 4)),
	CASE("switch new: a reply-only attribute (nports)", SW_NEW, 0, 0, EINVAL, UNSUPP, 2, 0,
	     NAME("kx"), U32(KAVM_A_SWITCH_NPORTS, 1)),
	CASE("switch new: a nested stats attribute", SW_NEW, 0, 0, EINVAL, UNSUPP, 2, 0, NAME("kx"),
	     RAW(KAVM_A_SWITCH_STATS | NLA_F_NESTED, "\x0c\0\x01\0\x01\0\0\0\0\0\0\0", 12)),
	CASE("switch new: an fdb attribute", SW_NEW, 0, 0, EINVAL, UNSUPP, 2, 0, NAME("kx"),
	     FMAC(MAC_NONE)),

	/* Switch del, get, set, dump. */
	CASE("switch del: no name", SW_DEL, 0, 0, EINVAL, NONAME, 0, KAVM_A_SWITCH_NAME, NOATTR),
	CASE("switch del: no such switch", SW_DEL, 0, 0, ENOENT, NOSW, 1, 0, NAME("nosuch")),
	CASE("switch del: ageing is not its attribute", SW_DEL, 0, 0, EINVAL, UNSUPP, 2, 0,
	     NAME("kb"), AGEING(1000)),
	CASE("switch get: no such switch", SW_GET, 0, 0, ENOENT, NOSW, 1, 0, NAME("nosuch")),
	CASE("switch get: name without NUL", SW_GET, 0, 0, EINVAL, POLICY, 1, 0,
	     RAW(KAVM_A_SWITCH_NAME, "kbkb", 4)),
	CASE("switch dump: an attribute outside its policy", SW_GET, DUMP, 0, EINVAL, UNSUPP, 1, 0,
	     U32(KAVM_A_PORT_FLAGS, 0)),
	CASE("switch set: nothing to change", SW_SET, 0, 0, EINVAL,
	     "nothing to change: give an ageing time or fdb size", 0, KAVM_A_SWITCH_AGEING_MS,
	     NAME("kb")),
	CASE("switch set: no such switch", SW_SET, 0, 0, ENOENT, NOSW, 1, 0, NAME("nosuch"),
	     AGEING(1000)),
	CASE("switch set: fdb_max as u16", SW_SET, 0, 0, EINVAL, BADLEN, 2, 0, NAME("kb"),
	     RAW(KAVM_A_SWITCH_FDB_MAX, "\x10\0", 2)),
	CASE("switch set: ageing 0", SW_SET, 0, 0, ERANGE, RANGE, 2, 0, NAME("kb"), AGEING(0)),

	/* Port add. */
	CASE("port add: no switch name", P_ADD, 0, 0, EINVAL, NONAME, 0, KAVM_A_SWITCH_NAME,
	     IFNAME("pc")),
	CASE("port add: no device", P_ADD, 0, 0, EINVAL, NODEV, 0, KAVM_A_PORT_IFINDEX, NAME("kb")),
	CASE("port add: no such switch", P_ADD, 0, 0, ENOENT, NOSW, 1, 0, NAME("nosuch"),
	     IFNAME("pc")),
	CASE("port add: no such device name", P_ADD, 0, 0, ENODEV, "no device nodev0", 2, 0,
	     NAME("kb"), IFNAME("nodev0")),
	CASE("port add: no such ifindex", P_ADD, 0, 0, ENODEV, "no device with ifindex 999999", 2,
	     0, NAME("kb"), IFINDEX(999999)),
	CASE("port add: a device of another netns", P_ADD, 0, 0, ENODEV,
	     "no device with ifindex %u", 2, 0, NAME("kb"), FOREIGN),
	CASE("port add: ifindex 0", P_ADD, 0, 0, ERANGE, RANGE, 2, 0, NAME("kb"), IFINDEX(0)),
	CASE("port add: ifindex as u8", P_ADD, 0, 0, EINVAL, BADLEN, 2, 0, NAME("kb"),
	     RAW(KAVM_A_PORT_IFINDEX, "\x01", 1)),
	CASE("port add: ifname of 16 bytes", P_ADD, 0, 0, EINVAL, POLICY, 2, 0, NAME("kb"),
	     IFNAME("abcdefghijklmnop")),
	CASE("port add: ifname without NUL", P_ADD, 0, 0, EINVAL, POLICY, 2, 0, NAME("kb"),
	     RAW(KAVM_A_PORT_IFNAME, "pc", 2)),
	CASE("port add: MAC of 5 bytes", P_ADD, 0, 0, ERANGE, BINSIZE, 3, 0, NAME("kb"),
	     IFNAME("pc"), RAW(KAVM_A_PORT_MAC, MAC_NONE, 5)),
	CASE("port add: MAC of 7 bytes", P_ADD, 0, 0, ERANGE, BINSIZE, 3, 0, NAME("kb"),
	     IFNAME("pc"), RAW(KAVM_A_PORT_MAC, MAC_NONE "\0", 7)),
	CASE("port add: multicast MAC", P_ADD, 0, 0, EINVAL,
	     "the port's MAC must be a unicast address", 3, 0, NAME("kb"), IFNAME("pc"),
	     PMAC(MAC_MCAST)),
	CASE("port add: zero MAC", P_ADD, 0, 0, EINVAL, "the port's MAC must be a unicast address",
	     3, 0, NAME("kb"), IFNAME("pc"), PMAC("\0\0\0\0\0\0")),
	CASE("port add: an unknown flag bit", P_ADD, 0, 0, EINVAL, "reserved bit set", 3, 0,
	     NAME("kb"), IFNAME("pc"), U32(KAVM_A_PORT_FLAGS, 1U << 7)),
	CASE("port add: no-spoof without a MAC", P_ADD, 0, 0, EINVAL,
	     "no-spoof needs the port's MAC (the VM's address)", 3, 0, NAME("kb"), IFNAME("pc"),
	     U32(KAVM_A_PORT_FLAGS, KAVM_PORT_F_NO_SPOOF)),
	CASE("port add: a port of another switch", P_ADD, 0, 0, EBUSY,
	     "pb is already a port of switch kb2", 2, 0, NAME("kb"), IFNAME("pb")),
	CASE("port add: a port of this switch", P_ADD, 0, 0, EEXIST,
	     "pa is already a port of switch kb", 2, 0, NAME("kb"), IFNAME("pa")),
	CASE("port add: a bridge's port", P_ADD, 0, 0, EBUSY, "pd is already a port of br0", 2, 0,
	     NAME("kb"), IFNAME("pd")),
	CASE("port add: loopback", P_ADD, 0, 0, EINVAL, "lo is a loopback device", 2, 0, NAME("kb"),
	     IFNAME("lo")),
	CASE("port add: ifindex and ifname disagree (ifindex wins)", P_ADD, 0, 0, ENODEV,
	     "no device with ifindex 999999", 3, 0, NAME("kb"), IFNAME("pc"), IFINDEX(999999)),
	CASE("port add: an fdb attribute", P_ADD, 0, 0, EINVAL, UNSUPP, 3, 0, NAME("kb"),
	     IFNAME("pc"), FMAC(MAC_NONE)),

	/* Port del, get, dump. */
	CASE("port del: not a port", P_DEL, 0, 0, ENOENT, "pc is not a port of switch kb", 2, 0,
	     NAME("kb"), IFNAME("pc")),
	CASE("port del: a port of another switch", P_DEL, 0, 0, ENOENT,
	     "pb is not a port of switch kb", 2, 0, NAME("kb"), IFNAME("pb")),
	CASE("port del: no device", P_DEL, 0, 0, EINVAL, NODEV, 0, KAVM_A_PORT_IFINDEX, NAME("kb")),
	CASE("port del: no such switch", P_DEL, 0, 0, ENOENT, NOSW, 1, 0, NAME("nosuch"),
	     IFNAME("pa")),
	CASE("port del: flags are not its attribute", P_DEL, 0, 0, EINVAL, UNSUPP, 3, 0, NAME("kb"),
	     IFNAME("pa"), U32(KAVM_A_PORT_FLAGS, 0)),
	CASE("port get: a device of another netns", P_GET, 0, 0, ENODEV,
	     "no device with ifindex %u", 2, 0, NAME("kb"), FOREIGN),
	CASE("port get: ifindex as u16", P_GET, 0, 0, EINVAL, BADLEN, 2, 0, NAME("kb"),
	     RAW(KAVM_A_PORT_IFINDEX, "\x01\0", 2)),
	CASE("port dump: no such switch", P_GET, DUMP, 0, ENOENT, NOSW, 0, 0, NAME("nosuch")),
	CASE("port dump: no switch name", P_GET, DUMP, 0, EINVAL, NONAME, 0, 0, NOATTR),
	CASE("port dump: attribute above KAVM_A_MAX", P_GET, DUMP, 0, EINVAL, UNKNOWN, 2, 0,
	     NAME("kb"), RAW(KAVM_A_MAX + 3, "\0\0\0\0", 4)),

	/* Fdb add. */
	CASE("fdb add: no MAC", F_ADD, 0, 0, EINVAL, NOMAC, 0, KAVM_A_FDB_MAC, NAME("kb"),
	     IFNAME("pa")),
	CASE("fdb add: MAC of 5 bytes", F_ADD, 0, 0, ERANGE, BINSIZE, 2, 0, NAME("kb"),
	     RAW(KAVM_A_FDB_MAC, MAC_NONE, 5), IFNAME("pa")),
	CASE("fdb add: MAC of 7 bytes", F_ADD, 0, 0, ERANGE, BINSIZE, 2, 0, NAME("kb"),
	     RAW(KAVM_A_FDB_MAC, MAC_NONE "\0", 7), IFNAME("pa")),
	CASE("fdb add: multicast MAC", F_ADD, 0, 0, EINVAL,
	     "a static entry's MAC must be a unicast address", 2, 0, NAME("kb"), FMAC(MAC_MCAST),
	     IFNAME("pa")),
	CASE("fdb add: no device", F_ADD, 0, 0, EINVAL, NODEV, 0, KAVM_A_PORT_IFINDEX, NAME("kb"),
	     FMAC(MAC_NONE)),
	CASE("fdb add: not a port", F_ADD, 0, 0, ENOENT, "pc is not a port of switch kb", 3, 0,
	     NAME("kb"), FMAC(MAC_NONE), IFNAME("pc")),
	CASE("fdb add: a device of another netns", F_ADD, 0, 0, ENODEV, "no device with ifindex %u",
	     3, 0, NAME("kb"), FMAC(MAC_NONE), FOREIGN),
	CASE("fdb add: the table is full", F_ADD, 0, 0, ENOSPC,
	     "switch kb2: the fdb is full (1 entries)", 2, 0, NAME("kb2"), FMAC(MAC_NONE),
	     IFNAME("pb")),
	CASE("fdb add: a port's declared MAC", F_ADD, 0, 0, EBUSY,
	     "02:00:00:00:0a:01 is the declared MAC of port pa", 2, 0, NAME("kb"), FMAC(MAC_PA),
	     IFNAME("pa")),
	CASE("fdb add: a port attribute", F_ADD, 0, 0, EINVAL, UNSUPP, 4, 0, NAME("kb"),
	     FMAC(MAC_NONE), IFNAME("pa"), U32(KAVM_A_PORT_FLAGS, 0)),

	/* Fdb del, get, dump. */
	CASE("fdb del: no MAC", F_DEL, 0, 0, EINVAL, NOMAC, 0, KAVM_A_FDB_MAC, NAME("kb")),
	CASE("fdb del: no such entry", F_DEL, 0, 0, ENOENT,
	     "switch kb: no fdb entry for 02:00:00:00:0c:01", 2, 0, NAME("kb"), FMAC(MAC_NONE)),
	CASE("fdb del: a port's declared MAC", F_DEL, 0, 0, EBUSY,
	     "02:00:00:00:0a:01 is the declared MAC of port pa: detach the port instead", 2, 0,
	     NAME("kb"), FMAC(MAC_PA)),
	CASE("fdb del: no such switch", F_DEL, 0, 0, ENOENT, NOSW, 1, 0, NAME("nosuch"),
	     FMAC(MAC_PA)),
	CASE("fdb del: a device is not its attribute", F_DEL, 0, 0, EINVAL, UNSUPP, 3, 0,
	     NAME("kb"), FMAC(MAC_PA), IFNAME("pa")),
	CASE("fdb get: no such entry", F_GET, 0, 0, ENOENT,
	     "switch kb: no fdb entry for 02:00:00:00:0c:01", 2, 0, NAME("kb"), FMAC(MAC_NONE)),
	CASE("fdb get: no MAC", F_GET, 0, 0, EINVAL, NOMAC, 0, KAVM_A_FDB_MAC, NAME("kb")),
	CASE("fdb get: MAC of 7 bytes", F_GET, 0, 0, ERANGE, BINSIZE, 2, 0, NAME("kb"),
	     RAW(KAVM_A_FDB_MAC, MAC_NONE "\0", 7)),
	CASE("fdb dump: no such switch", F_GET, DUMP, 0, ENOENT, NOSW, 0, 0, NAME("nosuch")),
	CASE("fdb dump: name of 32 bytes", F_GET, DUMP, 0, EINVAL, POLICY, 1, 0, NAME(NAME32)),

	/* Without CAP_NET_ADMIN: changes refused before anything is parsed. */
	CASE("no CAP_NET_ADMIN: switch new", SW_NEW, 0, B_NOCAP, EPERM, "", 0, 0, NAME("kx")),
	CASE("no CAP_NET_ADMIN: switch del", SW_DEL, 0, B_NOCAP, EPERM, "", 0, 0, NAME("kb")),
	CASE("no CAP_NET_ADMIN: switch set", SW_SET, 0, B_NOCAP, EPERM, "", 0, 0, NAME("kb"),
	     AGEING(1000)),
	CASE("no CAP_NET_ADMIN: port add", P_ADD, 0, B_NOCAP, EPERM, "", 0, 0, NAME("kb"),
	     IFNAME("pc")),
	CASE("no CAP_NET_ADMIN: port del", P_DEL, 0, B_NOCAP, EPERM, "", 0, 0, NAME("kb"),
	     IFNAME("pa")),
	CASE("no CAP_NET_ADMIN: fdb add", F_ADD, 0, B_NOCAP, EPERM, "", 0, 0, NAME("kb"),
	     FMAC(MAC_NONE), IFNAME("pa")),
	CASE("no CAP_NET_ADMIN: fdb del", F_DEL, 0, B_NOCAP, EPERM, "", 0, 0, NAME("kb2"),
	     FMAC(MAC_KB2)),
	CASE("no CAP_NET_ADMIN: a malformed change is still EPERM", SW_NEW, 0, B_NOCAP, EPERM, "",
	     0, 0, RAW(KAVM_A_SWITCH_NAME, "kx", 2)),
	CASE("no CAP_NET_ADMIN: switch get is allowed", SW_GET, 0, B_NOCAP, 0, "", 0, 0,
	     NAME("kb")),

	/* Nothing above changed the scene: what it made goes as it came. */
	CASE("cleanup: fdb del kb2's entry", F_DEL, 0, 0, 0, "", 0, 0, NAME("kb2"), FMAC(MAC_KB2)),
	CASE("cleanup: port del kb pa", P_DEL, 0, 0, 0, "", 0, 0, NAME("kb"), IFNAME("pa")),
	CASE("cleanup: switch del kb", SW_DEL, 0, 0, 0, "", 0, 0, NAME("kb")),
	CASE("cleanup: switch del kb2 (with its port)", SW_DEL, 0, 0, 0, "", 0, 0, NAME("kb2")),
	CASE("cleanup: kx was never made", SW_GET, 0, 0, ENOENT,
	     "no switch kx in this network namespace", 1, 0, NAME("kx")),
};

struct bad_result {
	int err;
	int offs; /* -1: no NLMSGERR_ATTR_OFFS */
	int miss; /* 0: no NLMSGERR_ATTR_MISS_TYPE */
	char msg[256];
};

/* Builds the request; returns the attributes' offsets in off[]. */
static void bad_build(const struct bad_case *c, struct req *r, uint32_t foreign, int off[4])
{
	struct nlattr *last = NULL;
	int i;

	req_init(r, family, c->cmd, NLM_F_ACK | c->flags);
	for (i = 0; i < 4 && c->a[i].kind != A_END; i++) {
		const struct battr *a = &c->a[i];
		uint32_t u = a->kind == A_FOREIGN ? foreign : a->u;

		off[i] = (int)NLMSG_ALIGN(r->nh.nlmsg_len);
		last = (struct nlattr *)((char *)r + off[i]);
		if (a->kind == A_STR)
			put_str(r, a->type, a->data);
		else if (a->kind == A_RAW)
			put_attr(r, a->type, a->data, a->len);
		else
			put_attr(r, a->type, &u, sizeof(u));
	}
	if (c->how & B_RESERVED)
		r->gh.reserved = 1;
	if (c->how & B_TRAILING)
		r->nh.nlmsg_len += 2;
	if ((c->how & B_OVERRUN) && last)
		last->nla_len += 8;
	if (c->how & B_SHORT_HDR)
		r->nh.nlmsg_len = NLMSG_HDRLEN + 2;
}

/* The answer's error and extack attributes, on a fresh socket. */
static void bad_send(struct req *r, struct bad_result *res)
{
	char buf[8192];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	const struct nlattr *a;
	int fd = nl_open(), left;
	size_t hdr;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	res->offs = -1;
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0) {
		res->err = errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		res->err = errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (size_t)n)) {
		res->err = EPROTO;
		goto out;
	}
	if (nh->nlmsg_type == NLMSG_ERROR) {
		res->err = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		hdr = sizeof(struct nlmsgerr);
	} else if (nh->nlmsg_type == NLMSG_DONE) {
		res->err = -*(const int *)NLMSG_DATA(nh);
		hdr = sizeof(int);
	} else {
		goto out; /* a reply: success */
	}
	a = (const void *)((const char *)NLMSG_DATA(nh) + hdr);
	left = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(hdr);
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		const void *d = (const char *)a + NLA_HDRLEN;

		if (a->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(res->msg, sizeof(res->msg), "%.*s", a->nla_len - NLA_HDRLEN,
				 (const char *)d);
		else if (a->nla_type == NLMSGERR_ATTR_OFFS)
			res->offs = (int)*(const uint32_t *)d;
		else if (a->nla_type == NLMSGERR_ATTR_MISS_TYPE)
			res->miss = (int)*(const uint32_t *)d;
		left -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
out:
	close(fd);
}

/* Drops CAP_NET_ADMIN from every set of this process. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const unsigned int i = CAP_NET_ADMIN / 32, bit = 1U << (CAP_NET_ADMIN % 32);

	if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) || syscall(SYS_capget, &h, d))
		return -1;
	d[i].effective &= ~bit;
	d[i].permitted &= ~bit;
	d[i].inheritable &= ~bit;
	return (int)syscall(SYS_capset, &h, d);
}

/* Sent by a child without CAP_NET_ADMIN, its answer in shared memory. */
static void bad_send_nocap(struct req *r, struct bad_result *res)
{
	struct bad_result *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->offs = -1;
	if (shared == MAP_FAILED) {
		res->err = errno;
		return;
	}
	pid = fork();
	if (pid == 0) {
		if (drop_net_admin()) {
			shared->err = errno;
			snprintf(shared->msg, sizeof(shared->msg), "(cannot drop CAP_NET_ADMIN)");
			_exit(1);
		}
		bad_send(r, shared);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		res->err = ECHILD;
	} else {
		*res = *shared;
	}
	munmap(shared, sizeof(*shared));
}

static int bad_table_run(uint32_t foreign)
{
	unsigned int i, failed = 0;

	for (i = 0; i < sizeof(bad_table) / sizeof(bad_table[0]); i++) {
		const struct bad_case *c = &bad_table[i];
		int off[4] = { -1, -1, -1, -1 }, want_offs;
		struct bad_result res;
		char want_msg[256];
		struct req r;
		bool good;

		bad_build(c, &r, foreign, off);
		if (c->how & B_NOCAP)
			bad_send_nocap(&r, &res);
		else
			bad_send(&r, &res);
		snprintf(want_msg, sizeof(want_msg), c->msg, foreign);
		want_offs = c->bad ? off[c->bad - 1] : -1;
		good = res.err == c->err && !strcmp(res.msg, want_msg) && res.offs == want_offs &&
		       res.miss == c->miss;
		failed += !good;
		printf("%s - %s: errno=%d extack=\"%s\" offs=%d miss=%d\n", good ? "ok" : "not ok",
		       c->name, res.err, res.msg, res.offs, res.miss);
		if (!good)
			printf("# %s: wanted errno=%d extack=\"%s\" offs=%d miss=%d\n", c->name,
			       c->err, want_msg, want_offs, c->miss);
	}
	printf("# bad-table: %u requests, %u failed\n", i, failed);
	return failed ? 1 : 0;
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
	if (!strcmp(argv[1], "bad-table") && argc == 3)
		return bad_table_run((uint32_t)strtoul(argv[2], NULL, 10));
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
