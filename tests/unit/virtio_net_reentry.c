// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net's TX calls into its peer without holding the device lock: a
 * peer that calls the NIC back from inside its receive (a link change, as
 * the tap does on EIO) or a vCPU that resets the device while the peer takes
 * a frame must find the lock free. With the lock held across the send both
 * hung for good (the harness kills the test at its timeout).
 */
#include <errno.h>
#include <string.h>

#include <kavm/loop.h>
#include <kavm/net.h>
#include <kavm/virtqueue.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

#define F(bit) (1ull << (bit))
#define TXQ 1

enum peer_action {
	PEER_LINK_DOWN, /* set its link down and drop the frame, as the tap on EIO */
	PEER_RESET,	/* the driver resets the device meanwhile (a vCPU would) */
};

static struct ctx {
	struct loop *loop;
	struct vdrv d;
	struct net_client peer;
	struct virtio_net *vn;
	enum peer_action action;
	unsigned int action_at; /* on this frame (1-based) */
	unsigned int got;
} C;

static ssize_t peer_receive(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	if (++C.got != C.action_at)
		return iov_length(iov, iovcnt);
	if (C.action == PEER_LINK_DOWN) {
		net_client_set_link(nc, false);
		return -ENETDOWN;
	}
	vdrv_reset(&C.d);
	return iov_length(iov, iovcnt);
}

static const struct net_client_ops peer_ops = {
	.type = "reentry-peer",
	.receive_iov = peer_receive,
};

static int setup(enum peer_action action, unsigned int at)
{
	struct virtio_net_params p = { .mtu = 1500, .name = "vnet0" };

	memset(&C, 0, sizeof(C));
	C.action = action;
	C.action_at = at;
	if (loop_create(&C.loop) || vdrv_init(&C.d, C.loop) ||
	    net_client_init(&C.peer, &peer_ops, "peer"))
		return -ENOMEM;
	p.mem = &C.d.mem;
	p.loop = C.loop;
	p.backend = &C.peer;
	memcpy(p.mac, "\x52\x54\x00\x12\x34\x56", 6);
	if (virtio_net_init(&p, &C.vn))
		return -EINVAL;
	vdrv_attach(&C.d, virtio_net_vdev(C.vn));
	return vdrv_probe(&C.d, ~0ull, 256);
}

static int post_frames(unsigned int n)
{
	static uint8_t frame[100];
	struct virtio_net_hdr_v1 hdr = { 0 };
	unsigned int i;

	memset(frame, 0xff, 12);
	for (i = 0; i < n; i++)
		if (vdrv_net_tx(&C.d, &hdr, frame, sizeof(frame), false) < 0)
			return -1;
	return 0;
}

static unsigned int reap(void)
{
	unsigned int n = 0;
	uint16_t head;
	uint32_t len;

	while (vdrv_used(&C.d, TXQ, &head, &len))
		n++;
	return n;
}

static uint16_t link_status(void)
{
	struct virtio_dev *vdev = virtio_net_vdev(C.vn);
	uint16_t status;

	vdev->ops->config_read(vdev, 6, &status, 2);
	return status;
}

TEST_TIMEOUT(peer_link_change_from_inside_its_receive, 10)
{
	ASSERT_EQ(setup(PEER_LINK_DOWN, 3), 0);
	ASSERT_EQ(post_frames(10), 0);
	vdrv_kick(&C.d, TXQ);
	EXPECT_EQ(reap(), 10u);
	/* Two taken, one dropped at the peer, seven sent into a down link: all counted. */
	EXPECT_EQ(C.got, 3u);
	EXPECT_EQ(C.peer.stats.rx_packets, 2u);
	EXPECT_EQ(C.peer.stats.rx_link_down, 1u);
	EXPECT_EQ(C.peer.peer->stats.tx_link_down, 7u);
	EXPECT_EQ(link_status(), 0);
	EXPECT_EQ(C.d.config_irq, 1u);
	net_client_set_link(&C.peer, true);
	EXPECT_EQ(link_status(), VIRTIO_NET_S_LINK_UP);
	ASSERT_EQ(post_frames(2), 0);
	vdrv_kick(&C.d, TXQ);
	EXPECT_EQ(reap(), 2u);
	EXPECT_EQ(C.got, 5u);
}

TEST_TIMEOUT(reset_while_the_peer_takes_a_frame, 10)
{
	struct vring_used *used;

	ASSERT_EQ(setup(PEER_RESET, 3), 0);
	ASSERT_EQ(post_frames(10), 0);
	used = C.d.q[TXQ].used;
	vdrv_kick(&C.d, TXQ);
	/* Two chains were done before the reset; the one in hand belongs to no ring now. */
	EXPECT_EQ(C.got, 3u);
	EXPECT_EQ(used->idx, 2);
	/* The driver starts again and TX works. */
	ASSERT_EQ(vdrv_probe(&C.d, ~0ull, 256), 0);
	ASSERT_EQ(post_frames(4), 0);
	vdrv_kick(&C.d, TXQ);
	EXPECT_EQ(reap(), 4u);
	EXPECT_EQ(C.got, 7u);
}
