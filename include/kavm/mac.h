/* SPDX-License-Identifier: GPL-2.0 */
/* kavm: the one Ethernet address parser, shared by kavm (--device mac=) and kavmctl. */
#ifndef KAVM_MAC_H
#define KAVM_MAC_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Six octets of one or two hex digits separated by ':' ("02:00:5e:00:00:01",
 * "2:0:5e:0:0:1"), as ip link and ether_aton(3) take them: nothing before,
 * between or after (no sign, blank or 0x that sscanf would allow). 0 and
 * MAC filled, or -EINVAL and MAC untouched.
 */
int mac_parse(const char *s, uint8_t mac[6]);
/* An address a NIC may own: not multicast or broadcast, not all zero. */
bool mac_is_unicast(const uint8_t mac[6]);

#endif /* KAVM_MAC_H */
