/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm socket netdev (userspace/net/socket.c), QEMU's -netdev socket: TCP
 * with each frame behind its length (4 bytes, big-endian), or one frame per
 * UDP datagram (udp=, mcast=). The stream parser and the address parser are
 * here so that tests and the option parser use the very same code.
 */
#ifndef KAVM_NET_SOCKET_H
#define KAVM_NET_SOCKET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* QEMU's NET_BUFSIZE: the largest frame either side sends (64 KiB GSO + 4 KiB). */
#define NET_SOCKET_MAX_FRAME (4096 + 65536)
#define NET_SOCKET_LEN_SIZE 4

/* A TCP stream cut back into frames; the bytes are read straight into it. */
struct net_stream_rx {
	uint8_t hdr[NET_SOCKET_LEN_SIZE];
	uint32_t hdr_got; /* bytes of the length read */
	uint32_t len;	  /* the frame's length, once hdr_got == 4 */
	uint32_t got;	  /* bytes of the frame read */
	uint64_t empty;	  /* zero-length frames skipped */
	uint8_t buf[NET_SOCKET_MAX_FRAME];
};

void net_stream_rx_reset(struct net_stream_rx *rx);
/* Where the next bytes go and how many: never past the current frame. */
void *net_stream_rx_space(struct net_stream_rx *rx, size_t *want);
/*
 * n bytes were put at the space: 1 a frame is complete in rx->buf (rx->len
 * bytes; the next call starts the next frame), 0 more is needed,
 * -EMSGSIZE the length is over NET_SOCKET_MAX_FRAME (rx->len says it).
 */
int net_stream_rx_advance(struct net_stream_rx *rx, size_t n);
/* Part of a frame (or of its length) was read: a close now cuts a frame. */
bool net_stream_rx_mid_frame(const struct net_stream_rx *rx);

/*
 * "HOST:PORT" (HOST empty: any address; a name or dotted quad, IPv4) into
 * sa; need_port false takes a bare "ADDR" too. -EINVAL: not that form,
 * -EADDRNOTAVAIL: HOST does not resolve.
 */
int net_socket_parse_addr(const char *s, bool need_port, struct sockaddr_in *sa);

#endif /* KAVM_NET_SOCKET_H */
