// SPDX-License-Identifier: GPL-2.0
/*
 * kavm filter-dump, after QEMU's net/dump.c: every frame a netdev sends or
 * receives goes into a pcap file (Ethernet, microsecond stamps, the host's
 * byte order, snaplen = maxlen), a vnet header left out. Unlike QEMU's the
 * file has a cap (maxsize=): a capture left running does not fill the disk;
 * what comes after the cap is counted and said once.
 *
 * With vhost-net or vhost-user the frames never pass through kavm; kavm says
 * so at start-up rather than leave an empty file to be puzzled over.
 * Threads: records are written on the loop thread, where frames move.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kavm/compiler.h>
#include <kavm/log.h>
#include <kavm/net-dump.h>
#include <kavm/tap.h>
#include <kavm/virtqueue.h>

/* The vnet header kavm's taps carry (virtio 1.x's virtio_net_hdr_v1, tap.c). */
#define DUMP_VNET_HDR_LEN 12

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t caplen;
	uint32_t len;
};

_Static_assert(sizeof(struct pcap_file_hdr) == PCAP_FILE_HDR_SIZE, "pcap file header");
_Static_assert(sizeof(struct pcap_rec_hdr) == PCAP_REC_HDR_SIZE, "pcap record header");

struct net_dump {
	struct net_filter filter;
	struct net_client *nc;
	struct pcap_writer w;
	char id[32];
	char file[256];
	size_t skip; /* the netdev's vnet header */
	int fd;
};

/* All of buf or an error: a short write to a regular file means a full disk. */
static int pcap_write_all(struct pcap_writer *w, const struct iovec *iov, int iovcnt)
{
	size_t want = iov_length(iov, iovcnt);
	ssize_t n = writev(w->fd, iov, iovcnt);

	if (n < 0)
		return -errno;
	if ((size_t)n != want)
		return -ENOSPC;
	w->size += n;
	return 0;
}

int pcap_writer_init(struct pcap_writer *w, int fd, uint32_t snaplen, uint64_t maxsize)
{
	struct pcap_file_hdr h = {
		.magic = PCAP_MAGIC,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = snaplen,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};
	struct iovec iov = { &h, sizeof(h) };
	int ret;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->snaplen = snaplen;
	w->maxsize = maxsize;
	w->buf = malloc(snaplen);
	if (!w->buf)
		return -ENOMEM;
	ret = pcap_write_all(w, &iov, 1);
	if (ret) {
		pcap_writer_release(w);
		return ret;
	}
	return 0;
}

int pcap_writer_frame(struct pcap_writer *w, const struct timespec *ts, const struct iovec *iov,
		      int iovcnt, size_t skip)
{
	size_t total = iov_length(iov, iovcnt), len = total > skip ? total - skip : 0;
	struct pcap_rec_hdr r = {
		.ts_sec = ts->tv_sec,
		.ts_usec = ts->tv_nsec / 1000,
		.len = len,
	};
	struct iovec v[2] = { { &r, sizeof(r) }, { w->buf, 0 } };
	int ret;

	if (w->error)
		return w->error;
	r.caplen = min(len, (size_t)w->snaplen);
	if (w->size + sizeof(r) + r.caplen > w->maxsize) {
		w->over_cap++;
		return 0;
	}
	v[1].iov_len = iov_to_buf(iov, iovcnt, skip, w->buf, r.caplen);
	ret = pcap_write_all(w, v, 2);
	if (ret) {
		w->error = ret;
		return ret;
	}
	w->frames++;
	return 1;
}

void pcap_writer_release(struct pcap_writer *w)
{
	free(w->buf);
	w->buf = NULL;
}

static void net_dump_observe(struct net_filter *f, struct net_client *nc, bool rx,
			     const struct iovec *iov, int iovcnt)
{
	struct net_dump *d = container_of(f, struct net_dump, filter);
	struct timespec ts;
	bool was_over = d->w.over_cap, had_error = d->w.error;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	ret = pcap_writer_frame(&d->w, &ts, iov, iovcnt, d->skip);
	if (ret == 0 && !was_over)
		pr_warn("filter-dump %s: %s reached maxsize (%llu bytes); later frames are not "
			"written",
			d->id, d->file, (unsigned long long)d->w.maxsize);
	if (ret < 0 && !had_error)
		pr_err("filter-dump %s: write %s: %s; the capture stops here", d->id, d->file,
		       strerror(-ret));
}

/* vhost: the kernel or a backend process moves the frames; kavm's dump sees none of them. */
static void net_dump_vhost_note(const struct net_dump *d, const struct netdev_opts *nd)
{
	const char *tap = tap_client_ifname(d->nc);

	if (!strcmp(nd->type, "vhost-user"))
		pr_warn("filter-dump %s: netdev %s is vhost-user: its backend moves the frames and "
			"kavm sees none; capture in the backend",
			d->id, nd->id);
	else if (nd->vhost == 1)
		pr_warn("filter-dump %s: netdev %s has vhost=on: the kernel moves the frames and "
			"kavm sees none (only a fallback's); capture on the tap: tcpdump -i %s",
			d->id, nd->id, tap ? tap : "TAP");
}

/*
 * Every queue of a multiqueue netdev (queues=N: net.h's queue_next) carries
 * frames: the capture is on all of them. Only where it is still ours (was).
 */
static void net_dump_set_filter(struct net_client *nc, struct net_filter *was, struct net_filter *f)
{
	for (; nc; nc = nc->queue_next)
		if (nc->filter == was || !was)
			nc->filter = f;
}

int net_dump_open(const struct net_filter_opts *o, const struct netdev_opts *nd,
		  struct net_client *nc, struct net_dump **out)
{
	struct net_dump *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	snprintf(d->id, sizeof(d->id), "%s", o->id);
	snprintf(d->file, sizeof(d->file), "%s", o->file);
	d->nc = nc;
	d->fd = open(o->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (d->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = pcap_writer_init(&d->w, d->fd, o->maxlen, o->maxsize);
	if (ret)
		goto err_close;
	if (nc->ops->has_vnet_hdr && nc->ops->has_vnet_hdr(nc))
		d->skip = DUMP_VNET_HDR_LEN;
	d->filter.observe = net_dump_observe;
	net_dump_set_filter(nc, NULL, &d->filter);
	net_dump_vhost_note(d, nd);
	*out = d;
	return 0;
err_close:
	close(d->fd);
err_free:
	pr_err("filter-dump %s: %s: %s", o->id, o->file, strerror(-ret));
	free(d);
	return ret;
}

void net_dump_close(struct net_dump *d)
{
	if (!d)
		return;
	net_dump_set_filter(d->nc, &d->filter, NULL);
	if (d->w.over_cap)
		pr_info("filter-dump %s: %llu frames not written (maxsize)", d->id,
			(unsigned long long)d->w.over_cap);
	pcap_writer_release(&d->w);
	close(d->fd);
	free(d);
}

const struct pcap_writer *net_dump_writer(const struct net_dump *d)
{
	return &d->w;
}
