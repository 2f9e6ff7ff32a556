// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's set-link as the guest sees it: a virtio-net device
 * driven by the in-process driver (tests/lib/virtio-driver.c), a control
 * server on a private loop, and a client on its socket. The link bit in
 * config space, the config interrupt, the LINK_CHANGED event and where the
 * guest's frames go while the link is down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <kavm/control.h>
#include <kavm/loop.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio.h>

#include "../harness.h"
#include "../lib/virtio-driver.h"

FIXTURE(ctl)
{
	struct loop *loop;
	struct vdrv d;
	struct tpeer peer;
	struct virtio_net *vn;
	struct control *ctl;
	char path[108];
	int lfd, cfd;
	char buf[65536];
	size_t len;
};

FIXTURE_SETUP(ctl)
{
	struct virtio_net_params p = { .mtu = 1500,
				       .name = "n0",
				       .mac = { 0x52, 0x54, 0, 1, 2, 3 } };
	struct control_nic n = {
		.id = "nic0", .driver = "virtio-net-pci", .netdev = "n0", .type = "test"
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	ASSERT_EQ(loop_create(&self->loop), 0);
	ASSERT_EQ(vdrv_init(&self->d, self->loop), 0);
	ASSERT_EQ(tpeer_init(&self->peer, true), 0);
	p.mem = &self->d.mem;
	p.loop = self->loop;
	p.backend = &self->peer.nc;
	ASSERT_EQ(virtio_net_init(&p, &self->vn), 0);
	vdrv_attach(&self->d, virtio_net_vdev(self->vn));
	ASSERT_EQ(vdrv_probe(&self->d, ~0ull, 256), 0);

	snprintf(self->path, sizeof(self->path), "/tmp/kavm-ctl-unit-%d.sock", getpid());
	self->lfd = control_listen(self->path);
	ASSERT_GE(self->lfd, 0);
	ASSERT_EQ(control_new(self->loop, NULL, self->lfd, &self->ctl), 0);
	n.vn = self->vn;
	n.backend = &self->peer.nc;
	ASSERT_EQ(control_add_nic(self->ctl, &n), 0);
	strcpy(sa.sun_path, self->path);
	self->cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(self->cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	loop_run_once(self->loop, 100); /* accept */
}

FIXTURE_TEARDOWN(ctl)
{
	control_free(self->ctl);
	close(self->cfd);
	close(self->lfd);
	unlink(self->path);
	virtio_net_exit(self->vn);
	tpeer_exit(&self->peer);
	vdrv_exit(&self->d);
	loop_destroy(self->loop);
}

/* Send one request, turn the loop until n lines came back; they are in self->buf. */
static int exchange(struct _kt_fixture_ctl *self, const char *req, int n)
{
	int lines = 0, turns;
	ssize_t got;

	if (write(self->cfd, req, strlen(req)) != (ssize_t)strlen(req))
		return -errno;
	self->len = 0;
	for (turns = 0; turns < 50 && lines < n; turns++) {
		loop_run_once(self->loop, 100);
		got = recv(self->cfd, self->buf + self->len, sizeof(self->buf) - 1 - self->len,
			   MSG_DONTWAIT);
		if (got <= 0)
			continue;
		self->len += got;
		self->buf[self->len] = 0;
		lines = 0;
		for (char *p = self->buf; (p = strchr(p, '\n')); p++)
			lines++;
	}
	return lines;
}

static uint16_t config_status(struct _kt_fixture_ctl *self)
{
	struct virtio_dev *vdev = virtio_net_vdev(self->vn);
	uint16_t st = 0xffff;

	pthread_mutex_lock(&vdev->lock);
	vdev->ops->config_read(vdev, 6, &st, sizeof(st)); /* after the MAC */
	pthread_mutex_unlock(&vdev->lock);
	return st;
}

TEST_F(ctl, set_link_clears_the_guests_link_bit_with_a_config_interrupt)
{
	unsigned int irqs = self->d.config_irq;

	ASSERT_EQ(config_status(self), VIRTIO_NET_S_LINK_UP);
	ASSERT_EQ(exchange(self,
			   "{\"execute\":\"set-link\",\"id\":1,\"arguments\":"
			   "{\"name\":\"nic0\",\"up\":false}}\n",
			   2),
		  2);
	EXPECT_EQ(config_status(self), 0);
	EXPECT_EQ(self->d.config_irq, irqs + 1);
	EXPECT_TRUE(strstr(self->buf, "{\"event\":\"LINK_CHANGED\",\"data\":{\"id\":\"nic0\","
				      "\"netdev\":\"n0\",\"link\":\"down\",\"link-set\":\"down\","
				      "\"backend-link\":\"up\"}") != NULL);
	EXPECT_TRUE(strstr(self->buf, "{\"id\":1,\"return\":{}}\n") != NULL);

	ASSERT_EQ(exchange(self,
			   "{\"execute\":\"set-link\",\"id\":2,\"arguments\":"
			   "{\"name\":\"n0\",\"up\":true}}\n",
			   2),
		  2);
	EXPECT_EQ(config_status(self), VIRTIO_NET_S_LINK_UP);
	EXPECT_EQ(self->d.config_irq, irqs + 2);
}

TEST_F(ctl, the_guests_frames_go_nowhere_while_the_link_is_down)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54 };

	ASSERT_EQ(exchange(self,
			   "{\"execute\":\"set-link\",\"id\":1,\"arguments\":"
			   "{\"name\":\"nic0\",\"up\":false}}\n",
			   2),
		  2);
	ASSERT_GE(vdrv_net_tx(&self->d, &hdr, frame, sizeof(frame), false), 0);
	vdrv_kick(&self->d, 1);
	EXPECT_EQ(self->peer.count, 0u);
	ASSERT_EQ(exchange(self, "{\"execute\":\"query-counters\",\"id\":2}\n", 1), 1);
	EXPECT_TRUE(strstr(self->buf, "\"nic\":{\"tx_packets\":0,\"tx_bytes\":0,\"rx_packets\":0,"
				      "\"rx_bytes\":0,\"tx_link_down\":1,") != NULL);
	EXPECT_TRUE(strstr(self->buf, "\"virtio-net\":{\"tx_frames\":1,") != NULL);
}

TEST_F(ctl, vm_commands_without_a_vm_say_so)
{
	ASSERT_EQ(exchange(self, "{\"execute\":\"stop\",\"id\":\"s\"}\n", 1), 1);
	EXPECT_STREQ(self->buf, "{\"id\":\"s\",\"error\":{\"class\":\"GenericError\",\"desc\":"
				"\"stop: no VM behind this control socket\"}}\n");
}
