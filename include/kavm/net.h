/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm net clients, after QEMU's net/net.c: a NIC (virtio-net) and a backend
 * (tap, ...) are two clients that are each other's peer. A sender hands a
 * frame to net_send_iov(); the peer's receive_iov() takes it, or returns 0
 * when it cannot (guest RX ring empty, tap write EAGAIN). Then the frame is
 * kept in the receiver's bounded incoming queue, net_send_iov() returns 0 and
 * the sender must stop until its sent callback runs, which happens when the
 * receiver calls net_client_flush_queued(). Nothing is dropped silently and
 * nothing queues without bound.
 *
 * Threads: everything here runs on the loop thread. Re-entry is allowed:
 * a receive_iov() may change links or flush its own queue, a sent callback
 * may send again; the core and the queues are safe against that, so a
 * client must hold no lock of its own across net_send_iov(), a flush, a
 * purge or net_client_set_link().
 *
 * Lifetime: net_client_exit() unlinks the peers first, then calls back the
 * senders of every frame it drops; after it returns no frame of the client
 * is left anywhere. A device stops its queues before it calls it.
 */
#ifndef KAVM_NET_H
#define KAVM_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct loop;
struct net_client;
struct net_queue;
struct net_backend_ops;
struct vhost_net;

typedef void (*net_sent_fn)(struct net_client *sender, ssize_t len);

/* Offloads the receiving side (the guest) accepts; TUNSETOFFLOAD for tap. */
struct net_offload {
	bool csum;
	bool tso4;
	bool tso6;
	bool ecn;
	bool ufo;
};

struct net_client_ops {
	const char *type;
	/*
	 * > 0: consumed (bytes); 0: cannot take it now (queue it); < 0: error,
	 * dropped (-ENETDOWN: our link is down, counted in rx_link_down). May
	 * call the sender back (link change, flush): the sender holds no lock.
	 */
	ssize_t (*receive_iov)(struct net_client *nc, const struct iovec *iov, int iovcnt);
	/* optional: 0 means "do not even try": the frame is queued. */
	int (*can_receive)(struct net_client *nc);
	void (*cleanup)(struct net_client *nc);
	/* nc->link_down (or the peer's) changed. */
	void (*link_status_changed)(struct net_client *nc);
	/* vnet header negotiation, as QEMU's NetClientInfo */
	bool (*has_vnet_hdr)(struct net_client *nc);
	int (*set_vnet_hdr_len)(struct net_client *nc, int len);
	int (*set_offload)(struct net_client *nc, const struct net_offload *off);
	/* The vhost-net accelerator behind this backend (tap, vhost=on), or NULL. */
	struct vhost_net *(*get_vhost_net)(struct net_client *nc);
	/*
	 * Stop (false) or resume taking frames from the host side, as QEMU's
	 * NetClientInfo.poll: off while vhost-net reads the fd. Loop thread.
	 */
	void (*poll)(struct net_client *nc, bool on);
	/*
	 * A multiqueue backend's queue in use by the NIC (true) or not: the
	 * host side stops steering frames to it (TUNSETQUEUE). Loop thread;
	 * never calls back.
	 */
	int (*queue_enable)(struct net_client *nc, bool on);
};

struct net_stats {
	uint64_t tx_packets; /* handed to the peer */
	uint64_t tx_bytes;
	uint64_t rx_packets; /* received from the peer */
	uint64_t rx_bytes;
	uint64_t tx_link_down; /* sent while a link was down: went nowhere */
	uint64_t tx_queued;    /* the peer could not take it: queued, sender paused */
	uint64_t queue_drops;  /* incoming queue full (only for senders without a callback) */
	uint64_t rx_errors;    /* receive_iov() < 0 */
	uint64_t rx_link_down; /* receive_iov() -ENETDOWN: reached us while our link was down */
	uint64_t rx_purged;    /* taken from our queue by a purge: sender called back with 0 */
};

/*
 * A passive observer of the frames a client sends (rx false) and receives
 * (rx true), as QEMU's netfilters see them: before the receiver's queue,
 * after the link check. filter-dump is one. Loop thread.
 */
struct net_filter {
	void (*observe)(struct net_filter *f, struct net_client *nc, bool rx,
			const struct iovec *iov, int iovcnt);
};

struct net_client {
	const struct net_client_ops *ops;
	char name[32];
	struct net_client *peer;
	struct net_queue *incoming; /* frames waiting for this client */
	bool link_down;
	bool receive_disabled; /* returned 0 once; nothing delivered until flush */
	struct net_stats stats;
	const struct net_backend_ops *backend; /* set by netdev_open() */
	struct net_filter *filter;	       /* --object filter-dump on it, or NULL */
	/*
	 * Multiqueue: the client of the next queue of the same NIC or backend
	 * (queue 0 is the one netdev_open() returns). One link for all: the
	 * queues follow the first one's net_client_set_link().
	 */
	struct net_client *queue_next;
};

#define NET_QUEUE_LEN 256

int net_client_init(struct net_client *nc, const struct net_client_ops *ops, const char *name);
/* Unlinks the peer, then drops the frames nc sent and those waiting for it (senders called back). */
void net_client_exit(struct net_client *nc);
int net_client_connect(struct net_client *a, struct net_client *b);

ssize_t net_send_iov(struct net_client *sender, const struct iovec *iov, int iovcnt,
		     net_sent_fn sent_cb);
ssize_t net_send(struct net_client *sender, const void *buf, size_t len, net_sent_fn sent_cb);
/* nc can take frames again: deliver its queue; senders resume through their callbacks. */
bool net_client_flush_queued(struct net_client *nc);
/* Drop frames nc sent that wait in its peer's queue (device reset). */
void net_client_purge_sent(struct net_client *nc);
/* Link state as QEMU's set_link: frames sent over a down link go nowhere. */
void net_client_set_link(struct net_client *nc, bool up);
/* Queues of a multiqueue client (1 for most), and queue i's client (NULL past the last). */
unsigned int net_client_nr_queues(const struct net_client *nc);
struct net_client *net_client_queue(struct net_client *nc, unsigned int i);
/* Is the path nc <-> peer up? */
bool net_client_link_up(const struct net_client *nc);
/*
 * One watcher (the control socket) called after every net_client_set_link(),
 * whoever made it: a user's set-link or a tap going down. NULL: none.
 */
void net_link_watch(void (*fn)(struct net_client *nc, void *opaque), void *opaque);

bool net_peer_has_vnet_hdr(struct net_client *nc);
int net_peer_set_vnet_hdr_len(struct net_client *nc, int len);
int net_peer_set_offload(struct net_client *nc, const struct net_offload *off);
struct vhost_net *net_peer_vhost_net(struct net_client *nc);
void net_peer_poll(struct net_client *nc, bool on);
int net_peer_queue_enable(struct net_client *nc, bool on);

/* Per-client bounded queue (net/queue.c) */
typedef ssize_t (*net_queue_deliver_fn)(struct net_client *sender, const struct iovec *iov,
					int iovcnt, void *opaque);
struct net_queue *net_queue_new(unsigned int max_len, net_queue_deliver_fn deliver, void *opaque);
void net_queue_free(struct net_queue *q);
ssize_t net_queue_send_iov(struct net_queue *q, struct net_client *sender, const struct iovec *iov,
			   int iovcnt, net_sent_fn sent_cb);
/* Append without trying delivery; -ENOBUFS when full (counted by the caller). */
int net_queue_append(struct net_queue *q, struct net_client *sender, const struct iovec *iov,
		     int iovcnt, net_sent_fn sent_cb);
/* Safe to call from deliver() or a sent callback (then a no-op: the outer flush goes on). */
bool net_queue_flush(struct net_queue *q);
/* Drop frames from "from" (NULL: all), calling their senders back with 0; returns how many. */
unsigned int net_queue_purge(struct net_queue *q, struct net_client *from);
unsigned int net_queue_len(const struct net_queue *q);

/* --netdev and --device parsing; options.c calls these. */
struct netdev_opts {
	char type[16];
	char id[32];
	char ifname[IFNAMSIZ];
	int fd;		    /* inherited fd, -1 if none */
	int vnet_hdr;	    /* -1 auto, 0 off, 1 on (required) */
	char br[IFNAMSIZ];  /* bridge: the bridge to join */
	int create;	    /* bridge: 1 creates a missing bridge (create=on) */
	char sw[33];	    /* tap, bridge: eBPF switch to join (BPF_SWITCH_NAME_MAX + 1) */
	int vhost;	    /* tap, bridge: 1 moves the data path into vhost-net */
	int vhostfd;	    /* an inherited /dev/vhost-net fd (implies vhost), -1 if none */
	char socket[108];   /* vhost-user: the unix socket's path (sun_path) */
	int server;	    /* vhost-user: 1 listens on socket= for the backend */
	int reconnect;	    /* vhost-user client: longest wait between reconnects (s), 0 none */
	int hubid;	    /* hubport: the hub's number, -1 if none */
	char listen[64];    /* socket: HOST:PORT to listen on (TCP) */
	char connect[64];   /* socket: HOST:PORT to connect to (TCP) */
	char udp[64];	    /* socket: HOST:PORT datagrams go to */
	char mcast[64];	    /* socket: GROUP:PORT to join */
	char localaddr[64]; /* socket: udp= HOST:PORT to bind, mcast= the interface's ADDR */
	int queues;	    /* tap, bridge, vhost-user: queue pairs; 1 by default */
};

struct net_device_opts {
	char id[32]; /* id=: names the NIC in messages and on the control socket; "" if none */
	char driver[32];
	char netdev[32];
	uint8_t mac[6];
	bool has_mac;
};

/*
 * "tap,id=n0,ifname=tap0[,fd=N][,vnet_hdr=on|off][,switch=SW][,vhost=on|off][,vhostfd=N]"
 * or "bridge,id=n0,br=br0[,ifname=NAME][,create=on|off][,vnet_hdr=on|off][,switch=SW]
 * [,vhost=on|off][,vhostfd=N]" or "vhost-user,id=n0,socket=PATH[,server=on|off]
 * [,reconnect=SECONDS][,queues=N]"; -EINVAL with a message in err.
 */
int netdev_parse(const char *arg, struct netdev_opts *o, char *err, size_t errlen);
/* --object filter-dump,id=ID,netdev=ID,file=PATH[,maxlen=N][,maxsize=SIZE] */
struct net_filter_opts {
	char type[16];
	char id[32];
	char netdev[32];
	char file[256];
	unsigned int maxlen;	    /* pcap snaplen: bytes kept of each frame (65536) */
	unsigned long long maxsize; /* the file's cap in bytes (kavm's own key) */
};

#define NET_DUMP_MAXLEN_DEFAULT 65536
#define NET_DUMP_MAXLEN_MAX 262144
#define NET_DUMP_MAXSIZE_DEFAULT (256ULL << 20)

int net_filter_parse(const char *arg, struct net_filter_opts *o, char *err, size_t errlen);

/* "virtio-net-pci,netdev=n0[,mac=52:54:00:12:34:56][,id=nic0]" */
int net_device_parse(const char *arg, struct net_device_opts *o, char *err, size_t errlen);

/* QEMU's default for a NIC without mac=: 52:54:00:12:34:56, then :57, ... */
void net_device_default_mac(unsigned int index, uint8_t mac[6]);

/* Backends: one file each, registered by one line in net.c's table. */
struct net_backend_ops {
	const char *type;
	int (*open)(const struct netdev_opts *o, struct loop *loop, struct net_client **out);
	void (*close)(struct net_client *nc);
};

extern const struct net_backend_ops net_tap_backend;
extern const struct net_backend_ops net_bridge_backend;
extern const struct net_backend_ops net_hubport_backend;
extern const struct net_backend_ops net_socket_backend;

const struct net_backend_ops *net_backend_find(const char *type);
/* The i-th backend in net.c's table (--netdev help), NULL past the last. */
const struct net_backend_ops *net_backend_nth(unsigned int i);
int netdev_open(const struct netdev_opts *o, struct loop *loop, struct net_client **out);
void netdev_close(struct net_client *nc);

#endif /* KAVM_NET_H */
