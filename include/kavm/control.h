/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm control socket (after QEMU's QMP): a unix stream socket, mode 0600,
 * carrying JSON objects one per line. A request is
 *   {"execute": "query-status", "id": 1, "arguments": {...}}
 * and its reply {"id": 1, "return": {...}} or
 * {"id": 1, "error": {"class": "GenericError", "desc": "..."}}; events
 * ({"event": "LINK_CHANGED", "data": {...}, "timestamp": {...}}) go to every
 * client. Documentation/control.md has the commands.
 *
 * Served by the loop thread, never blocking it: non-blocking client fds,
 * at most CONTROL_LINE_MAX bytes per request, replies paced by how fast
 * the client reads, and a client whose unread events pass CONTROL_OUT_MAX
 * is disconnected.
 */
#ifndef KAVM_CONTROL_H
#define KAVM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct control;
struct kvm_vm;
struct loop;
struct net_client;
struct virtio_net;

#define CONTROL_LINE_MAX (64 * 1024) /* one request, newline included */
#define CONTROL_OUT_HIGH (32 * 1024) /* stop reading requests above this much unsent */
#define CONTROL_OUT_MAX (128 * 1024) /* unsent output that disconnects a client */
#define CONTROL_MAX_CLIENTS 64

/* Where kavm --name NAME listens and kavmctl vm looks: $KAVM_RUNDIR or this. */
#define CONTROL_RUNDIR "/run/kavm"

/* One NIC as the control socket shows it: the device and its netdev. */
struct control_nic {
	const char *id;	    /* the device's id=, or its netdev's id without one */
	const char *driver; /* "virtio-net-pci" */
	const char *netdev; /* the netdev's id */
	const char *type;   /* the netdev's type: "tap", "bridge" */
	struct virtio_net *vn;
	struct net_client *backend;
};

/*
 * Bind and listen on path (mode 0600). A socket file nobody answers on (a
 * kavm that died) is replaced; a live one is -EADDRINUSE. Returns the fd.
 */
int control_listen(const char *path);
/* Serve listen_fd (still the caller's to close) on loop; vm may be NULL (tests). */
int control_new(struct loop *loop, struct kvm_vm *vm, int listen_fd, struct control **out);
int control_add_nic(struct control *c, const struct control_nic *nic);
/* The SHUTDOWN event to every client, a last try to send, then every client closed. */
void control_free(struct control *c);

/* The run directory: $KAVM_RUNDIR if set, else CONTROL_RUNDIR. */
const char *control_rundir(void);
/* "RUNDIR/NAME.sock" into buf; -ENAMETOOLONG if it does not fit a sockaddr_un. */
int control_name_path(const char *name, char *buf, size_t size);
/* A VM name: 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool control_name_ok(const char *name);

#endif /* KAVM_CONTROL_H */
