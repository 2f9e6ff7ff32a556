// SPDX-License-Identifier: GPL-2.0
/* Net client core: delivery, bounded queues, sender pause/resume, link state. */
#include <errno.h>
#include <string.h>

#include <kavm/net.h>

#include "../harness.h"

/* What rx_receive() does, once, before it takes the next frame: re-enter the core. */
enum reenter {
	REENTER_NONE,
	REENTER_FLUSH,	 /* flush its own queue: the head it is taking is in flight */
	REENTER_PURGE_A, /* purge A's frames from its queue, the one in flight included */
	REENTER_SEND_A,	 /* A sends another frame to it */
};

struct rx_client {
	struct net_client nc;
	enum reenter reenter;
	int accept; /* receive_iov: 1 take, 0 full, -1 error */
	int can;    /* can_receive */
	unsigned int got;
	uint8_t last;
	uint8_t order[1024];
	unsigned int link_events;
};

static struct rx_client A, B;
static ssize_t send_byte(struct net_client *from, uint8_t v, net_sent_fn cb);
static void sent_cb(struct net_client *nc, ssize_t len);

static void rx_reenter(struct rx_client *c)
{
	enum reenter r = c->reenter;

	c->reenter = REENTER_NONE;
	if (r == REENTER_FLUSH)
		net_client_flush_queued(&c->nc);
	else if (r == REENTER_PURGE_A)
		net_client_purge_sent(&A.nc);
	else if (r == REENTER_SEND_A)
		send_byte(&A.nc, 0x55, sent_cb);
}

static ssize_t rx_receive(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	struct rx_client *c = (struct rx_client *)nc;

	rx_reenter(c);
	if (c->accept <= 0)
		return c->accept < 0 ? -EINVAL : 0;
	c->last = ((uint8_t *)iov[0].iov_base)[0];
	if (c->got < sizeof(c->order))
		c->order[c->got] = c->last;
	c->got++;
	return iov[0].iov_len;
}

static int rx_can(struct net_client *nc)
{
	return ((struct rx_client *)nc)->can;
}

static void rx_link(struct net_client *nc)
{
	((struct rx_client *)nc)->link_events++;
}

static const struct net_client_ops rx_ops = {
	.type = "test",
	.receive_iov = rx_receive,
	.can_receive = rx_can,
	.link_status_changed = rx_link,
};

static unsigned int sent_calls;
static ssize_t sent_len;

static void sent_cb(struct net_client *nc, ssize_t len)
{
	sent_calls++;
	sent_len = len;
}

static int pair(void)
{
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	sent_calls = 0;
	if (net_client_init(&A.nc, &rx_ops, "a") || net_client_init(&B.nc, &rx_ops, "b"))
		return -1;
	A.accept = B.accept = 1;
	A.can = B.can = 1;
	return net_client_connect(&A.nc, &B.nc);
}

static ssize_t send_byte(struct net_client *from, uint8_t v, net_sent_fn cb)
{
	uint8_t buf[60];

	memset(buf, v, sizeof(buf));
	return net_send(from, buf, sizeof(buf), cb);
}

TEST(delivers_directly)
{
	ASSERT_EQ(pair(), 0);
	ASSERT_EQ(send_byte(&A.nc, 7, sent_cb), 60);
	EXPECT_EQ(B.got, 1u);
	EXPECT_EQ(B.last, 7);
	EXPECT_EQ(A.nc.stats.tx_packets, 1u);
	EXPECT_EQ(B.nc.stats.rx_bytes, 60u);
	EXPECT_EQ(sent_calls, 0u);
}

TEST(full_receiver_pauses_sender_and_resumes_it)
{
	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	ASSERT_EQ(send_byte(&A.nc, 1, sent_cb), 0);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 1u);
	EXPECT_TRUE(B.nc.receive_disabled);
	EXPECT_EQ(A.nc.stats.tx_queued, 1u);
	/* Still full: flushing keeps the frame at the head, no callback. */
	EXPECT_FALSE(net_client_flush_queued(&B.nc));
	EXPECT_EQ(sent_calls, 0u);
	B.accept = 1;
	EXPECT_TRUE(net_client_flush_queued(&B.nc));
	EXPECT_EQ(B.got, 1u);
	EXPECT_EQ(B.last, 1);
	EXPECT_EQ(sent_calls, 1u);
	EXPECT_EQ(sent_len, 60);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
}

TEST(order_is_kept_while_frames_wait)
{
	unsigned int i;

	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	for (i = 0; i < 10; i++)
		ASSERT_EQ(send_byte(&A.nc, i, sent_cb), 0);
	/* The receiver could take frames again, but must not reorder: new ones queue behind. */
	B.accept = 1;
	EXPECT_EQ(send_byte(&A.nc, 10, sent_cb), 0);
	EXPECT_TRUE(net_client_flush_queued(&B.nc));
	ASSERT_EQ(B.got, 11u);
	for (i = 0; i < 11; i++)
		EXPECT_EQ(B.order[i], i);
	EXPECT_EQ(sent_calls, 11u);
}

TEST(queue_is_bounded_for_senders_without_callback)
{
	unsigned int i;

	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	for (i = 0; i < NET_QUEUE_LEN + 50; i++)
		send_byte(&A.nc, i, NULL);
	EXPECT_EQ(net_queue_len(B.nc.incoming), (unsigned int)NET_QUEUE_LEN);
	EXPECT_EQ(A.nc.stats.queue_drops, 50u);
}

TEST(queue_has_a_hard_cap_even_with_callbacks)
{
	unsigned int i;

	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	for (i = 0; i < 3 * NET_QUEUE_LEN; i++)
		send_byte(&A.nc, i, sent_cb);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 2u * NET_QUEUE_LEN);
	EXPECT_EQ(A.nc.stats.queue_drops, (uint64_t)NET_QUEUE_LEN);
}

TEST(can_receive_zero_queues)
{
	ASSERT_EQ(pair(), 0);
	B.can = 0;
	EXPECT_EQ(send_byte(&A.nc, 3, sent_cb), 0);
	EXPECT_EQ(B.got, 0u);
	B.can = 1;
	EXPECT_TRUE(net_client_flush_queued(&B.nc));
	EXPECT_EQ(B.got, 1u);
	EXPECT_EQ(sent_calls, 1u);
}

TEST(receive_error_drops_and_counts)
{
	ASSERT_EQ(pair(), 0);
	B.accept = -1;
	EXPECT_EQ(send_byte(&A.nc, 3, sent_cb), 60);
	EXPECT_EQ(B.nc.stats.rx_errors, 1u);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
}

TEST(link_down_reports_success_and_delivers_nothing)
{
	ASSERT_EQ(pair(), 0);
	net_client_set_link(&B.nc, false);
	EXPECT_EQ(A.link_events, 1u);
	EXPECT_EQ(B.link_events, 1u);
	EXPECT_FALSE(net_client_link_up(&A.nc));
	EXPECT_EQ(send_byte(&A.nc, 1, sent_cb), 60);
	EXPECT_EQ(send_byte(&B.nc, 1, sent_cb), 60);
	EXPECT_EQ(A.got + B.got, 0u);
	EXPECT_EQ(A.nc.stats.tx_link_down, 1u);
	EXPECT_EQ(B.nc.stats.tx_link_down, 1u);
	net_client_set_link(&B.nc, true);
	EXPECT_TRUE(net_client_link_up(&A.nc));
	EXPECT_EQ(send_byte(&A.nc, 9, sent_cb), 60);
	EXPECT_EQ(B.last, 9);
}

TEST(purge_calls_the_sender_back)
{
	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	ASSERT_EQ(send_byte(&A.nc, 1, sent_cb), 0);
	net_client_purge_sent(&A.nc);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
	EXPECT_EQ(sent_calls, 1u);
	EXPECT_EQ(sent_len, 0);
}

TEST(exit_unlinks_peer)
{
	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	ASSERT_EQ(send_byte(&A.nc, 1, NULL), 0);
	net_client_exit(&A.nc);
	EXPECT_TRUE(B.nc.peer == NULL);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
	/* Without a peer, a send goes nowhere but does not crash. */
	EXPECT_EQ(send_byte(&B.nc, 1, NULL), 60);
	net_client_exit(&B.nc);
}

/*
 * The tap's EIO path: a flush delivers the head frame, the receiver finds its
 * link gone and flushes its own queue from inside receive_iov(). The frame in
 * flight must be delivered and freed once (ASan saw a double free).
 */
TEST(flush_reentered_from_delivery_delivers_and_frees_once)
{
	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	ASSERT_EQ(send_byte(&A.nc, 1, sent_cb), 0);
	ASSERT_EQ(send_byte(&A.nc, 2, sent_cb), 0);
	B.accept = 1;
	B.reenter = REENTER_FLUSH;
	EXPECT_TRUE(net_client_flush_queued(&B.nc));
	ASSERT_EQ(B.got, 2u);
	EXPECT_EQ(B.order[0], 1);
	EXPECT_EQ(B.order[1], 2);
	EXPECT_EQ(sent_calls, 2u);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
}

/* A purge from inside the delivery of A's frame: that frame is called back once, freed once. */
TEST(purge_reentered_from_delivery_calls_back_once)
{
	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	ASSERT_EQ(send_byte(&A.nc, 1, sent_cb), 0);
	ASSERT_EQ(send_byte(&A.nc, 2, sent_cb), 0);
	B.accept = 1;
	B.reenter = REENTER_PURGE_A;
	net_client_flush_queued(&B.nc);
	/* The frame in flight reached B; the one behind it was purged. */
	EXPECT_EQ(B.got, 1u);
	EXPECT_EQ(B.last, 1);
	EXPECT_EQ(sent_calls, 2u);
	EXPECT_EQ(B.nc.stats.rx_purged, 2u);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
	/* Nothing of A's is left to call back, whatever B does next. */
	EXPECT_TRUE(net_client_flush_queued(&B.nc));
	EXPECT_EQ(sent_calls, 2u);
}

/* A sent callback that flushes the queue being purged (the NIC restarting TX). */
static unsigned int flush_b_calls;

static void flush_b_cb(struct net_client *nc, ssize_t len)
{
	sent_cb(nc, len);
	if (!flush_b_calls++)
		net_client_flush_queued(&B.nc);
}

TEST(purge_callback_may_flush_the_same_queue)
{
	unsigned int i;

	ASSERT_EQ(pair(), 0);
	flush_b_calls = 0;
	B.accept = 0;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(send_byte(&A.nc, i, flush_b_cb), 0);
	B.accept = 1;
	net_client_purge_sent(&A.nc);
	/* Purged means purged: the flush from the callback finds none of them. */
	EXPECT_EQ(B.got, 0u);
	EXPECT_EQ(sent_calls, 3u);
	EXPECT_EQ(sent_len, 0);
	EXPECT_EQ(B.nc.stats.rx_purged, 3u);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
}

/* A frame queued while a direct delivery runs is delivered when it ends, behind it. */
TEST(send_reentered_from_direct_delivery_is_not_stranded)
{
	ASSERT_EQ(pair(), 0);
	B.reenter = REENTER_SEND_A;
	ASSERT_EQ(send_byte(&A.nc, 1, sent_cb), 60);
	ASSERT_EQ(B.got, 2u);
	EXPECT_EQ(B.order[0], 1);
	EXPECT_EQ(B.order[1], 0x55);
	EXPECT_EQ(sent_calls, 1u);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
}

/*
 * Teardown: the purge at exit calls the sender back, and a sender that then
 * sends again (the NIC restarting TX) must not leave a frame behind in its
 * old peer's queue, to be completed on a freed sender later.
 */
static void resend_cb(struct net_client *nc, ssize_t len)
{
	sent_cb(nc, len);
	send_byte(nc, 9, resend_cb);
}

TEST(exit_leaves_no_frame_of_the_client_behind)
{
	ASSERT_EQ(pair(), 0);
	B.accept = 0;
	ASSERT_EQ(send_byte(&A.nc, 1, resend_cb), 0);
	net_client_exit(&A.nc);
	EXPECT_EQ(sent_calls, 1u);
	EXPECT_EQ(net_queue_len(B.nc.incoming), 0u);
	EXPECT_EQ(B.nc.stats.rx_purged, 1u);
	/* The frame sent from the callback went nowhere, and says so. */
	EXPECT_EQ(A.nc.stats.tx_link_down, 1u);
	B.accept = 1;
	EXPECT_TRUE(net_client_flush_queued(&B.nc));
	EXPECT_EQ(sent_calls, 1u);
	net_client_exit(&B.nc);
}
