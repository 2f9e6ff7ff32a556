/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm filter-dump (userspace/net/dump.c), QEMU's --object filter-dump: a
 * pcap file of the frames a netdev sends and receives. The pcap writer is
 * here on its own so that tests read back exactly what it writes.
 */
#ifndef KAVM_NET_DUMP_H
#define KAVM_NET_DUMP_H

#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include <kavm/net.h>

#define PCAP_MAGIC 0xa1b2c3d4
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_FILE_HDR_SIZE 24
#define PCAP_REC_HDR_SIZE 16

struct pcap_writer {
	int fd;
	uint32_t snaplen;  /* bytes kept of each frame */
	uint64_t maxsize;  /* the file never grows past this */
	uint64_t size;	   /* bytes written so far */
	uint64_t frames;   /* records written */
	uint64_t over_cap; /* frames left out: the next record would pass maxsize */
	int error;	   /* the first write error (-errno): nothing is written after it */
	uint8_t *buf;	   /* one frame's first snaplen bytes */
};

/* Writes the file header; fd stays the caller's. */
int pcap_writer_init(struct pcap_writer *w, int fd, uint32_t snaplen, uint64_t maxsize);
/*
 * One record for the frame in iov past its first skip bytes (a vnet header):
 * 1 written, 0 left out (over maxsize, counted), -errno (w->error, kept).
 */
int pcap_writer_frame(struct pcap_writer *w, const struct timespec *ts, const struct iovec *iov,
		      int iovcnt, size_t skip);
void pcap_writer_release(struct pcap_writer *w);

struct net_dump;

/* Open o->file and watch nc (the netdev nd opened) until net_dump_close(). Says why it fails. */
int net_dump_open(const struct net_filter_opts *o, const struct netdev_opts *nd,
		  struct net_client *nc, struct net_dump **out);
void net_dump_close(struct net_dump *d);
const struct pcap_writer *net_dump_writer(const struct net_dump *d);

#endif /* KAVM_NET_DUMP_H */
