// SPDX-License-Identifier: GPL-2.0
/* hubport netdevs: QEMU's hub semantics over the net core, with NICs as plain clients. */
#include <errno.h>
#include <string.h>

#include <kavm/net.h>

#include "../harness.h"

/* A NIC: takes frames while accept is set, records their first byte in order. */
struct nic {
	struct net_client nc;
	int accept;
	unsigned int got;
	uint8_t order[64];
	unsigned int sent_calls;
};

static ssize_t nic_receive(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct nic *n = (struct nic *)nc;

	if (!n->accept)
		return 0;
	if (n->got < sizeof(n->order))
		n->order[n->got] = ((uint8_t *)iov[0].iov_base)[0];
	n->got++;
	return iov[0].iov_len;
}

static const struct net_client_ops nic_ops = {
	.type = "test-nic",
	.receive_iov = nic_receive,
};

static void nic_sent(struct net_client *nc, ssize_t len)
{
	((struct nic *)nc)->sent_calls++;
}

static struct nic nics[4];
static struct net_client *ports[4];

/* Port i of hub hubid ("p<i>"), with NIC i as its peer. */
static int port(unsigned int i, int hubid)
{
	struct netdev_opts o;
	char spec[64], err[128];
	int ret;

	snprintf(spec, sizeof(spec), "hubport,id=p%u,hubid=%d", i, hubid);
	ret = netdev_parse(spec, &o, err, sizeof(err));
	if (!ret)
		ret = netdev_open(&o, NULL, &ports[i]);
	if (!ret)
		ret = net_client_init(&nics[i].nc, &nic_ops, "nic");
	nics[i].accept = 1;
	return ret ?: net_client_connect(&nics[i].nc, ports[i]);
}

static ssize_t send_from(unsigned int i, uint8_t v)
{
	uint8_t buf[60];

	memset(buf, v, sizeof(buf));
	return net_send(&nics[i].nc, buf, sizeof(buf), nic_sent);
}

TEST(a_frame_goes_to_every_other_port_not_back)
{
	ASSERT_EQ(port(0, 0), 0);
	ASSERT_EQ(port(1, 0), 0);
	ASSERT_EQ(port(2, 0), 0);
	EXPECT_EQ(send_from(0, 1), 60);
	EXPECT_EQ(send_from(1, 2), 60);
	EXPECT_EQ(nics[0].got, 1u);
	EXPECT_EQ(nics[0].order[0], 2);
	EXPECT_EQ(nics[1].got, 1u);
	EXPECT_EQ(nics[1].order[0], 1);
	EXPECT_EQ(nics[2].got, 2u);
	EXPECT_EQ(nics[2].order[0], 1);
	EXPECT_EQ(nics[2].order[1], 2);
}

TEST(hubs_with_other_ids_are_apart)
{
	ASSERT_EQ(port(0, 0), 0);
	ASSERT_EQ(port(1, 0), 0);
	ASSERT_EQ(port(2, 7), 0);
	ASSERT_EQ(port(3, 7), 0);
	EXPECT_EQ(send_from(0, 1), 60);
	EXPECT_EQ(send_from(3, 9), 60);
	EXPECT_EQ(nics[1].got, 1u);
	EXPECT_EQ(nics[1].order[0], 1);
	EXPECT_EQ(nics[2].got, 1u);
	EXPECT_EQ(nics[2].order[0], 9);
	EXPECT_EQ(nics[0].got + nics[3].got, 0u);
}

TEST(can_receive_while_any_other_port_can)
{
	ASSERT_EQ(port(0, 0), 0);
	ASSERT_EQ(port(1, 0), 0);
	ASSERT_EQ(port(2, 0), 0);
	nics[1].accept = 0;
	/* NIC 1 is full: its port holds the frame, NIC 2 still takes it. */
	EXPECT_EQ(send_from(0, 1), 60);
	EXPECT_EQ(nics[2].got, 1u);
	ASSERT_TRUE(ports[0]->ops->can_receive(ports[0]));
	nics[2].accept = 0;
	EXPECT_EQ(send_from(0, 2), 60); /* port 2 had room: queued at NIC 2 */
	/* Both other ports now wait on their NICs: the hub takes nothing from port 0. */
	EXPECT_FALSE(ports[0]->ops->can_receive(ports[0]));
	EXPECT_EQ(send_from(0, 3), 0);
	EXPECT_EQ(nics[0].sent_calls, 0u);
}

TEST(queued_frames_flow_when_room_appears)
{
	ASSERT_EQ(port(0, 0), 0);
	ASSERT_EQ(port(1, 0), 0);
	ASSERT_EQ(port(2, 0), 0);
	nics[1].accept = nics[2].accept = 0;
	EXPECT_EQ(send_from(0, 1), 60); /* queued at NICs 1 and 2, both ports blocked */
	EXPECT_EQ(send_from(0, 2), 0);	/* waits in port 0: NIC 0 is paused */
	EXPECT_EQ(send_from(0, 3), 0);
	/* NIC 1 gets room: its queue drains, port 1 frees up, port 0's frames follow. */
	nics[1].accept = 1;
	net_client_flush_queued(&nics[1].nc);
	ASSERT_EQ(nics[1].got, 3u);
	EXPECT_EQ(nics[1].order[0], 1);
	EXPECT_EQ(nics[1].order[1], 2);
	EXPECT_EQ(nics[1].order[2], 3);
	EXPECT_EQ(nics[0].sent_calls, 2u); /* each of its waiting frames called back */
	EXPECT_EQ(nics[2].got, 0u);
	nics[2].accept = 1;
	net_client_flush_queued(&nics[2].nc);
	ASSERT_EQ(nics[2].got, 3u);
	EXPECT_EQ(nics[2].order[0], 1);
	EXPECT_EQ(nics[2].order[2], 3);
	EXPECT_EQ(nics[0].got, 0u);
}

TEST(a_blocked_port_queue_is_bounded_and_drops_are_counted)
{
	unsigned int i;

	ASSERT_EQ(port(0, 0), 0);
	ASSERT_EQ(port(1, 0), 0);
	ASSERT_EQ(port(2, 0), 0);
	nics[1].accept = 0;
	for (i = 0; i < 2 * NET_QUEUE_LEN; i++)
		ASSERT_EQ(send_from(0, i), 60);
	EXPECT_EQ(nics[2].got, 2u * NET_QUEUE_LEN);
	EXPECT_EQ(net_queue_len(nics[1].nc.incoming), (unsigned int)NET_QUEUE_LEN);
	EXPECT_EQ(ports[1]->stats.queue_drops, (uint64_t)NET_QUEUE_LEN);
}

TEST(a_closed_port_gets_nothing_and_the_rest_go_on)
{
	ASSERT_EQ(port(0, 0), 0);
	ASSERT_EQ(port(1, 0), 0);
	ASSERT_EQ(port(2, 0), 0);
	nics[1].accept = 0;
	EXPECT_EQ(send_from(0, 1), 60);
	netdev_close(ports[1]); /* the frame queued at NIC 1 for it is dropped with it */
	EXPECT_EQ(net_queue_len(nics[1].nc.incoming), 0u);
	EXPECT_EQ(send_from(0, 2), 60);
	EXPECT_EQ(nics[2].got, 2u);
	EXPECT_EQ(send_from(2, 3), 60);
	EXPECT_EQ(nics[0].got, 1u);
	EXPECT_EQ(nics[1].got, 0u);
}
