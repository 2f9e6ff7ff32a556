// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the socket netdev's TCP framing, what a peer controls.
 * The first input byte picks the read size (1 to 256 bytes, as a slow or
 * chunky peer delivers), the rest is the stream. Every complete frame must
 * fit the buffer and the parser must never ask for bytes past the frame;
 * -EMSGSIZE ends the stream as it closes the connection in kavm.
 *
 *   make fuzz && build/fuzz/net_stream tests/fuzz/corpus/net_stream
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/net-socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct net_stream_rx rx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step, off = 1;

	if (!size)
		return 0;
	step = (size_t)data[0] + 1;
	net_stream_rx_reset(&rx);
	while (off < size) {
		size_t want, take;
		uint8_t *space = net_stream_rx_space(&rx, &want);
		int ret;

		if (!want || space < (uint8_t *)&rx || space + want > (uint8_t *)(&rx + 1))
			abort();
		take = want < step ? want : step;
		take = take < size - off ? take : size - off;
		memcpy(space, data + off, take);
		off += take;
		ret = net_stream_rx_advance(&rx, take);
		if (ret == -EMSGSIZE) {
			if (rx.len <= NET_SOCKET_MAX_FRAME)
				abort();
			break;
		}
		if (ret == 1 && (!rx.len || rx.len > NET_SOCKET_MAX_FRAME))
			abort();
	}
	return 0;
}
