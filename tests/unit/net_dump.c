// SPDX-License-Identifier: GPL-2.0
/* filter-dump: the pcap writer read back byte by byte, and a dump on a net client pair. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kavm/net-dump.h>

#include "../harness.h"

static uint8_t file[1 << 20];

static int tmpfile_fd(char *path)
{
	strcpy(path, "/tmp/kavm-pcap-XXXXXX");
	return mkstemp(path);
}

static size_t slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, file, sizeof(file));

	close(fd);
	return n < 0 ? 0 : n;
}

static uint32_t u32(size_t off)
{
	uint32_t v;

	memcpy(&v, file + off, 4);
	return v;
}

static uint16_t u16(size_t off)
{
	uint16_t v;

	memcpy(&v, file + off, 2);
	return v;
}

TEST(header_and_one_record)
{
	struct pcap_writer w;
	struct timespec ts = { 1700000000, 123456789 };
	uint8_t frame[60];
	struct iovec iov[2] = { { frame, 20 }, { frame + 20, 40 } };
	char path[64];
	int fd = tmpfile_fd(path);

	ASSERT_GE(fd, 0);
	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = i;
	ASSERT_EQ(pcap_writer_init(&w, fd, 65536, 1 << 20), 0);
	ASSERT_EQ(pcap_writer_frame(&w, &ts, iov, 2, 0), 1);
	ASSERT_EQ(slurp(path), 24u + 16 + 60);
	EXPECT_EQ(u32(0), 0xa1b2c3d4u);
	EXPECT_EQ(u16(4), 2);
	EXPECT_EQ(u16(6), 4);
	EXPECT_EQ(u32(8), 0u);	    /* thiszone */
	EXPECT_EQ(u32(16), 65536u); /* snaplen = maxlen */
	EXPECT_EQ(u32(20), 1u);	    /* Ethernet */
	EXPECT_EQ(u32(24), 1700000000u);
	EXPECT_EQ(u32(28), 123456u); /* microseconds */
	EXPECT_EQ(u32(32), 60u);     /* caplen */
	EXPECT_EQ(u32(36), 60u);     /* len */
	EXPECT_MEMEQ(file + 40, frame, 60);
	EXPECT_EQ(w.size, 100u);
	pcap_writer_release(&w);
	close(fd);
	unlink(path);
}

TEST(snaplen_truncates_and_keeps_the_length)
{
	struct pcap_writer w;
	struct timespec ts = { 1, 0 };
	static uint8_t frame[1514];
	struct iovec iov = { frame, sizeof(frame) };
	char path[64];
	int fd = tmpfile_fd(path);

	memset(frame, 0x5a, sizeof(frame));
	ASSERT_EQ(pcap_writer_init(&w, fd, 64, 1 << 20), 0);
	ASSERT_EQ(pcap_writer_frame(&w, &ts, &iov, 1, 0), 1);
	/* A vnet header in front is not part of the frame. */
	ASSERT_EQ(pcap_writer_frame(&w, &ts, &iov, 1, 12), 1);
	ASSERT_EQ(slurp(path), 24u + 2 * (16 + 64));
	EXPECT_EQ(u32(16), 64u);
	EXPECT_EQ(u32(32), 64u);
	EXPECT_EQ(u32(36), 1514u);
	EXPECT_EQ(u32(24 + 80 + 8), 64u);
	EXPECT_EQ(u32(24 + 80 + 12), 1502u);
	pcap_writer_release(&w);
	close(fd);
	unlink(path);
}

TEST(the_file_stops_at_its_cap)
{
	struct pcap_writer w;
	struct timespec ts = { 1, 0 };
	uint8_t frame[100] = { 0 };
	struct iovec iov = { frame, sizeof(frame) };
	char path[64];
	int fd = tmpfile_fd(path), i, written = 0;

	/* Room for the header and exactly 3 records of 116 bytes. */
	ASSERT_EQ(pcap_writer_init(&w, fd, 65536, 24 + 3 * 116 + 50), 0);
	for (i = 0; i < 10; i++)
		written += pcap_writer_frame(&w, &ts, &iov, 1, 0);
	EXPECT_EQ(written, 3);
	EXPECT_EQ(w.frames, 3u);
	EXPECT_EQ(w.over_cap, 7u);
	EXPECT_EQ(slurp(path), 24u + 3 * 116);
	/* A smaller frame that still fits goes in: the cap is on bytes, not a switch. */
	iov.iov_len = 20;
	EXPECT_EQ(pcap_writer_frame(&w, &ts, &iov, 1, 0), 1);
	EXPECT_LE(w.size, w.maxsize);
	pcap_writer_release(&w);
	close(fd);
	unlink(path);
}

TEST(a_full_disk_is_an_error)
{
	struct pcap_writer w;
	int fd = open("/dev/full", O_WRONLY);

	if (fd < 0)
		SKIP("no /dev/full");
	EXPECT_EQ(pcap_writer_init(&w, fd, 65536, 1 << 20), -ENOSPC);
	close(fd);
}

/* The dump as a net client's filter: both ways, in order, nothing on a down link. */
static ssize_t take(struct net_client *nc, const struct iovec *iov, int iovcnt)
{
	return iov[0].iov_len;
}

static const struct net_client_ops take_ops = { .type = "test", .receive_iov = take };

TEST(a_dump_sees_what_the_netdev_sends_and_receives_in_order)
{
	struct net_client nic, nd;
	struct netdev_opts ndo = { .type = "socket", .id = "n0", .vhost = -1 };
	struct net_filter_opts o = { .type = "filter-dump",
				     .id = "d0",
				     .netdev = "n0",
				     .maxlen = 65536,
				     .maxsize = 1 << 20 };
	struct net_dump *d;
	uint8_t a[60], b[70], c[80];

	strcpy(o.file, "/tmp/kavm-dump-XXXXXX");
	close(mkstemp(o.file));
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(c, 3, sizeof(c));
	ASSERT_EQ(net_client_init(&nic, &take_ops, "nic"), 0);
	ASSERT_EQ(net_client_init(&nd, &take_ops, "n0"), 0);
	ASSERT_EQ(net_client_connect(&nic, &nd), 0);
	ASSERT_EQ(net_dump_open(&o, &ndo, &nd, &d), 0);
	net_send(&nic, a, sizeof(a), NULL); /* the netdev receives */
	net_send(&nd, b, sizeof(b), NULL);  /* the netdev sends */
	net_client_set_link(&nd, false);
	net_send(&nd, c, sizeof(c), NULL); /* nowhere: not captured (as QEMU) */
	net_dump_close(d);
	ASSERT_EQ(slurp(o.file), 24u + 16 + 60 + 16 + 70);
	EXPECT_EQ(u32(24 + 12), 60u);
	EXPECT_EQ(file[40], 1);
	EXPECT_EQ(u32(24 + 76 + 12), 70u);
	EXPECT_EQ(file[24 + 76 + 16], 2);
	EXPECT_TRUE(nd.filter == NULL);
	unlink(o.file);
}

TEST(a_dump_file_that_cannot_be_made_is_named)
{
	struct net_client nd;
	struct netdev_opts ndo = { .type = "socket", .id = "n0" };
	struct net_filter_opts o = { .type = "filter-dump",
				     .id = "d0",
				     .netdev = "n0",
				     .file = "/nonexistent/dir/x.pcap",
				     .maxlen = 65536,
				     .maxsize = 1 << 20 };
	struct net_dump *d;

	ASSERT_EQ(net_client_init(&nd, &take_ops, "n0"), 0);
	EXPECT_EQ(net_dump_open(&o, &ndo, &nd, &d), -ENOENT);
	EXPECT_TRUE(nd.filter == NULL);
}
