// SPDX-License-Identifier: GPL-2.0
/* kavm: parse Ethernet addresses the one way kavm and kavmctl both accept. */
#include <errno.h>
#include <string.h>

#include <kavm/mac.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	int i, n, d;

	for (i = 0; i < 6; i++) {
		if (i && *s++ != ':')
			return -EINVAL;
		m[i] = 0;
		for (n = 0; n < 2 && (d = hex_digit(*s)) >= 0; n++, s++)
			m[i] = m[i] << 4 | d;
		if (!n)
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	memcpy(mac, m, sizeof(m));
	return 0;
}

bool mac_is_unicast(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, sizeof(zero));
}
