/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm: rtnetlink helpers over libnl-3 shared by kavmctl and the VMM's bridge backend.
 *
 * One socket per user (struct kavm_rtnl), NETLINK_EXT_ACK on. Every call returns
 * 0 (or a positive value where stated) on success and -errno on failure; after a
 * failure kavm_rtnl_errmsg() gives the kernel's extack text, or the library's own
 * reason when it refused the request itself ("tap7 is already attached to br1"),
 * or "" when there is nothing to add to strerror().
 *
 * Names are interface names (at most IFNAMSIZ - 1 = 15 bytes, else -ENAMETOOLONG);
 * a missing device is -ENODEV. A struct kavm_rtnl is not thread-safe: one per
 * thread (the VMM's I/O thread owns its own). Functions are prefixed kavm_rtnl_ because libnl-route
 * already owns the rtnl_ namespace.
 */
#ifndef KAVM_RTNL_H
#define KAVM_RTNL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

struct kavm_rtnl;

/* Open a NETLINK_ROUTE socket in the caller's current network namespace. */
int kavm_rtnl_open(struct kavm_rtnl **out);
/* The same in the network namespace of NETNS_FD (an open /proc/PID/ns/net). */
int kavm_rtnl_open_netns(int netns_fd, struct kavm_rtnl **out);
void kavm_rtnl_close(struct kavm_rtnl *r);
/* Why the last failing call failed, beyond its errno; "" when unknown. */
const char *kavm_rtnl_errmsg(const struct kavm_rtnl *r);

/* -ENAMETOOLONG / -EINVAL for a name the kernel would refuse; 0 if usable. */
int kavm_rtnl_check_name(const char *name);

/* Bridge attributes; a field set to KAVM_RTNL_KEEP is left at the kernel's default. */
#define KAVM_RTNL_KEEP (-1)
struct kavm_bridge_opts {
	int stp;	    /* 0 off, 1 on (kernel STP inside a netns) */
	int forward_delay;  /* in hundredths of a second (clock_t), as iproute2 */
	int vlan_filtering; /* 0 off, 1 on (needs CONFIG_BRIDGE_VLAN_FILTERING) */
};
void kavm_bridge_opts_init(struct kavm_bridge_opts *o);

/* Create bridge NAME (-EEXIST if any device has that name). Left down. */
int kavm_rtnl_bridge_add(struct kavm_rtnl *r, const char *name, const struct kavm_bridge_opts *o);
/* Change attributes of an existing bridge. */
int kavm_rtnl_bridge_set(struct kavm_rtnl *r, const char *name, const struct kavm_bridge_opts *o);
/* Delete bridge NAME; -EMEDIUMTYPE if NAME is not a bridge. */
int kavm_rtnl_bridge_del(struct kavm_rtnl *r, const char *name);
/*
 * Delete bridge NAME only if it has no ports: for the VMM, which removes a
 * bridge it created only when nothing else joined it. -ENOTEMPTY otherwise.
 */
int kavm_rtnl_bridge_del_if_empty(struct kavm_rtnl *r, const char *name);

/* Delete any link by name. */
int kavm_rtnl_link_del(struct kavm_rtnl *r, const char *name);

/*
 * Make DEV a port of bridge BR. Idempotent when DEV is already BR's port;
 * -EINVAL when DEV is BR, -EMEDIUMTYPE when BR is not a bridge, -EBUSY when
 * DEV already has another master.
 */
int kavm_rtnl_enslave(struct kavm_rtnl *r, const char *dev, const char *br);
/* Detach DEV from its master; -ENOTCONN when it has none. */
int kavm_rtnl_release(struct kavm_rtnl *r, const char *dev);

int kavm_rtnl_set_up(struct kavm_rtnl *r, const char *dev, bool up);
int kavm_rtnl_set_mtu(struct kavm_rtnl *r, const char *dev, unsigned int mtu);
int kavm_rtnl_set_address(struct kavm_rtnl *r, const char *dev, const uint8_t mac[6]);

/* The facts about one link, from RTM_NEWLINK; strings are "" when absent. */
struct kavm_link_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
};

struct kavm_link_info {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16]; /* IFLA_INFO_KIND: "bridge", "tun", "veth", ... */
	int master;    /* ifindex of the master, 0 if none */
	char master_name[IFNAMSIZ];
	unsigned int flags; /* IFF_* */
	unsigned int mtu;
	uint8_t operstate; /* IF_OPER_* */
	uint8_t addr[32];
	unsigned int addr_len;
	bool has_stats;
	struct kavm_link_stats stats; /* IFLA_STATS64 */
	/* kind == "bridge" */
	struct {
		bool present;
		uint32_t stp;
		uint32_t forward_delay;
		uint8_t vlan_filtering;
	} br;
	/* kind == "tun" */
	struct {
		bool present;
		bool tap, pi, vnet_hdr, multi_queue, persist;
		bool has_owner;
		uint32_t owner;
		uint32_t num_queues;
	} tun;
	/* kind == "vxlan" */
	struct {
		bool present;
		uint32_t id;
		int family;	    /* AF_INET or AF_INET6 of remote/group/local; 0 if none */
		bool multicast;	    /* remote holds a multicast group */
		uint8_t remote[16]; /* IFLA_VXLAN_GROUP(6): the peer or the group */
		uint8_t local[16];  /* all zero when unset */
		uint32_t link;	    /* ifindex of the underlay device, 0 if none */
		uint16_t dstport;   /* host order */
	} vxlan;
};

/*
 * A VXLAN device (kavmctl vxlan, the uplink between hosts). VNI 0..2^24-1;
 * exactly one of a unicast REMOTE or a multicast GROUP (which needs DEV, the
 * underlay device); LOCAL optional; addresses of one family (4 or 16 bytes
 * in network order). DSTPORT 0 means 4789 (IANA), not the kernel's legacy
 * 8472. Learning stays on, as with ip link add ... type vxlan.
 */
#define KAVM_VXLAN_PORT 4789
#define KAVM_VXLAN_VNI_MAX 16777215u
struct kavm_vxlan_opts {
	uint32_t id;
	int family; /* AF_INET or AF_INET6 */
	uint8_t remote[16];
	bool group; /* remote is a multicast group */
	bool has_local;
	uint8_t local[16];
	const char *dev; /* NULL: none */
	uint16_t dstport;
};
/* Create NAME (left down): -EEXIST, -ENODEV for DEV, the kernel's extack on refusal. */
int kavm_rtnl_vxlan_add(struct kavm_rtnl *r, const char *name, const struct kavm_vxlan_opts *o);
/* Delete VXLAN device NAME; -EMEDIUMTYPE if NAME is not one. */
int kavm_rtnl_vxlan_del(struct kavm_rtnl *r, const char *name);

/*
 * One RTM_NEWLINK message of LEN bytes (at least its nlmsg_len) into INFO;
 * -EBADMSG when it is not a whole one. What every link read uses; the
 * fuzzer (tests/fuzz/netlink.c) feeds it anything.
 */
struct nlmsghdr;
int kavm_rtnl_parse_link(const struct nlmsghdr *nlh, size_t len, struct kavm_link_info *info);

/* Fill INFO for DEV; -ENODEV when it does not exist. */
int kavm_rtnl_link_get(struct kavm_rtnl *r, const char *dev, struct kavm_link_info *info);

/*
 * Dump every link into a malloc'ed array sorted by ifindex (*out, count
 * returned), master names resolved. The caller frees *out.
 */
int kavm_rtnl_link_dump(struct kavm_rtnl *r, struct kavm_link_info **out);

/* "up"/"down"/... from IF_OPER_*, as iproute2 prints it. */
const char *kavm_rtnl_operstate_str(uint8_t operstate);
/* aa:bb:..: into BUF (3 * len bytes). */
char *kavm_rtnl_format_addr(const uint8_t *addr, unsigned int len, char *buf, size_t size);
/* Parse "aa:bb:cc:dd:ee:ff"; -EINVAL if malformed. */
int kavm_rtnl_parse_mac(const char *s, uint8_t mac[6]);

#endif /* KAVM_RTNL_H */
