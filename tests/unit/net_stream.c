// SPDX-License-Identifier: GPL-2.0
/* The socket netdev's TCP framing (QEMU's): a 4-byte big-endian length, then the frame. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/net-socket.h>

#include "../harness.h"

static struct net_stream_rx rx;

/* Feed data in pieces of at most step bytes; counts complete frames, stops at an error. */
static int feed(const uint8_t *data, size_t n, size_t step, unsigned int *frames,
		uint32_t *last_len)
{
	size_t off = 0;

	while (off < n) {
		size_t want, take;
		void *space = net_stream_rx_space(&rx, &want);
		int ret;

		take = want < step ? want : step;
		take = take < n - off ? take : n - off;
		memcpy(space, data + off, take);
		off += take;
		ret = net_stream_rx_advance(&rx, take);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			(*frames)++;
			*last_len = rx.len;
		}
	}
	return 0;
}

static size_t put_frame(uint8_t *out, uint32_t len, uint8_t fill)
{
	out[0] = len >> 24;
	out[1] = len >> 16;
	out[2] = len >> 8;
	out[3] = len;
	memset(out + 4, fill, len);
	return 4 + len;
}

TEST(two_frames_whole_and_byte_by_byte)
{
	static uint8_t wire[4096];
	size_t n = put_frame(wire, 60, 0xaa);
	unsigned int frames = 0;
	uint32_t len = 0;

	n += put_frame(wire + n, 1514, 0xbb);
	net_stream_rx_reset(&rx);
	ASSERT_EQ(feed(wire, n, n, &frames, &len), 0);
	EXPECT_EQ(frames, 2u);
	EXPECT_EQ(len, 1514u);
	EXPECT_EQ(rx.buf[1513], 0xbb);
	frames = 0;
	ASSERT_EQ(feed(wire, n, 1, &frames, &len), 0);
	EXPECT_EQ(frames, 2u);
	EXPECT_EQ(len, 1514u);
	EXPECT_FALSE(net_stream_rx_mid_frame(&rx));
}

TEST(the_parser_never_asks_past_the_frame)
{
	size_t want;

	net_stream_rx_reset(&rx);
	net_stream_rx_space(&rx, &want);
	EXPECT_EQ(want, 4u);
	memcpy(net_stream_rx_space(&rx, &want), "\0\0", 2);
	ASSERT_EQ(net_stream_rx_advance(&rx, 2), 0);
	net_stream_rx_space(&rx, &want);
	EXPECT_EQ(want, 2u); /* the rest of the length, split across reads */
	memcpy(net_stream_rx_space(&rx, &want), "\x01\x00", 2);
	ASSERT_EQ(net_stream_rx_advance(&rx, 2), 0);
	net_stream_rx_space(&rx, &want);
	EXPECT_EQ(want, 256u);
	ASSERT_EQ(net_stream_rx_advance(&rx, 100), 0);
	net_stream_rx_space(&rx, &want);
	EXPECT_EQ(want, 156u);
	EXPECT_EQ(net_stream_rx_advance(&rx, 156), 1);
	EXPECT_EQ(rx.len, 256u);
}

TEST(the_largest_frame_passes_one_more_byte_is_refused)
{
	static uint8_t wire[4 + NET_SOCKET_MAX_FRAME];
	unsigned int frames = 0;
	uint32_t len = 0;
	size_t n = put_frame(wire, NET_SOCKET_MAX_FRAME, 1);

	net_stream_rx_reset(&rx);
	ASSERT_EQ(feed(wire, n, 65536, &frames, &len), 0);
	EXPECT_EQ(frames, 1u);
	EXPECT_EQ(len, (uint32_t)NET_SOCKET_MAX_FRAME);
	memcpy(wire, "\x00\x01\x10\x01", 4); /* NET_SOCKET_MAX_FRAME + 1 */
	EXPECT_EQ(feed(wire, 4, 4, &frames, &len), -EMSGSIZE);
	EXPECT_EQ(rx.len, (uint32_t)NET_SOCKET_MAX_FRAME + 1);
	net_stream_rx_reset(&rx);
	EXPECT_EQ(feed((const uint8_t *)"\xff\xff\xff\xff", 4, 4, &frames, &len), -EMSGSIZE);
	EXPECT_EQ(rx.len, 0xffffffffu);
}

TEST(zero_length_frames_are_skipped_and_counted)
{
	uint8_t wire[128];
	unsigned int frames = 0;
	uint32_t len = 0;
	size_t n = put_frame(wire, 0, 0);

	n += put_frame(wire + n, 0, 0);
	n += put_frame(wire + n, 42, 0x42);
	net_stream_rx_reset(&rx);
	rx.empty = 0;
	ASSERT_EQ(feed(wire, n, 3, &frames, &len), 0);
	EXPECT_EQ(frames, 1u);
	EXPECT_EQ(len, 42u);
	EXPECT_EQ(rx.empty, 2u);
	EXPECT_EQ(rx.buf[0], 0x42);
}

TEST(a_close_mid_frame_is_seen)
{
	uint8_t wire[128];
	unsigned int frames = 0;
	uint32_t len = 0;

	put_frame(wire, 100, 7);
	net_stream_rx_reset(&rx);
	EXPECT_FALSE(net_stream_rx_mid_frame(&rx));
	ASSERT_EQ(feed(wire, 2, 2, &frames, &len), 0);
	EXPECT_TRUE(net_stream_rx_mid_frame(&rx)); /* inside the length */
	ASSERT_EQ(feed(wire + 2, 50, 50, &frames, &len), 0);
	EXPECT_TRUE(net_stream_rx_mid_frame(&rx)); /* inside the frame */
	EXPECT_EQ(rx.got, 48u);
	EXPECT_EQ(rx.len, 100u);
	ASSERT_EQ(feed(wire + 52, 52, 52, &frames, &len), 0);
	EXPECT_EQ(frames, 1u);
	EXPECT_FALSE(net_stream_rx_mid_frame(&rx)); /* between frames: a clean close */
}

TEST(addresses)
{
	struct sockaddr_in sa;

	ASSERT_EQ(net_socket_parse_addr("127.0.0.1:1234", true, &sa), 0);
	EXPECT_EQ(ntohs(sa.sin_port), 1234);
	EXPECT_EQ(ntohl(sa.sin_addr.s_addr), 0x7f000001u);
	ASSERT_EQ(net_socket_parse_addr(":80", true, &sa), 0);
	EXPECT_EQ(sa.sin_addr.s_addr, htonl(INADDR_ANY));
	ASSERT_EQ(net_socket_parse_addr("10.1.2.3", false, &sa), 0);
	EXPECT_EQ(sa.sin_port, 0);
	ASSERT_EQ(net_socket_parse_addr("localhost:7", true, &sa), 0);
	EXPECT_EQ(ntohl(sa.sin_addr.s_addr), 0x7f000001u);
	EXPECT_EQ(net_socket_parse_addr("10.1.2.3", true, &sa), -EINVAL);
	EXPECT_EQ(net_socket_parse_addr("1.2.3.4:0", true, &sa), -EINVAL);
	EXPECT_EQ(net_socket_parse_addr("1.2.3.4:65536", true, &sa), -EINVAL);
	EXPECT_EQ(net_socket_parse_addr("1.2.3.4:8x", true, &sa), -EINVAL);
	EXPECT_EQ(net_socket_parse_addr("no.such.host.invalid:1", true, &sa), -EADDRNOTAVAIL);
}
