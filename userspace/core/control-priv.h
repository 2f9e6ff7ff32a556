/* SPDX-License-Identifier: GPL-2.0 */
/* kavm control socket internals: shared by the server (control.c) and the commands (control-cmd.c). */
#ifndef KAVM_CONTROL_PRIV_H
#define KAVM_CONTROL_PRIV_H

#include <stdbool.h>
#include <time.h>

#include <json-c/json.h>

#include <kavm/compiler.h>
#include <kavm/control.h>
#include <kavm/kvm.h>
#include <kavm/list.h>

/* One NIC and the link state last announced for it (LINK_CHANGED only on a change). */
struct control_nic_state {
	struct control_nic nic;
	bool set_up;	 /* the NIC's own link, as set-link left it */
	bool backend_up; /* the backend's: a tap set down or deleted is down */
};

/* Everything below is the loop thread's. */
struct control {
	struct loop *loop;
	struct kvm_vm *vm; /* NULL in unit tests: VM commands say so */
	int listen_fd;
	bool listen_paused; /* out of fds: accept again once a client goes */
	struct list_head clients;
	struct list_head dead; /* closed while a handler still ran: freed after it */
	unsigned int nr_clients;
	unsigned int serial; /* numbers clients in log lines */
	unsigned int busy;   /* inside a client's handler: defer frees */
	bool paused;	     /* the stop command parked the vCPUs */
	struct timespec started;
	struct json_tokener *tok;
	struct control_nic_state nics[KAVM_MAX_NICS];
	unsigned int nr_nics;
};

/* A command's failure: QMP's error class and a message. */
struct control_err {
	const char *class; /* NULL: no error */
	char desc[256];
};

#define CONTROL_GENERIC "GenericError"
#define CONTROL_NOT_FOUND "CommandNotFound"
#define CONTROL_DEVICE_NOT_FOUND "DeviceNotFound"

void control_err(struct control_err *err, const char *class, const char *fmt, ...) __printf(3, 4);

struct control_arg {
	const char *name;
	enum json_type type; /* every argument is required */
};

struct control_cmd {
	const char *name;
	const struct control_arg *args; /* NULL: none */
	/* The "return" value (NULL: {}), or NULL with err filled. */
	struct json_object *(*fn)(struct control *c, struct json_object *args,
				  struct control_err *err);
};

const struct control_cmd *control_cmd_find(const char *name);

/* An event to every client: {"event": name, "data": data (taken; may be NULL), "timestamp"}. */
void control_broadcast(struct control *c, const char *name, struct json_object *data);

/* The link watcher: a LINK_CHANGED event when a NIC's link state moved. */
void control_link_changed(struct net_client *nc, void *opaque);
/* Record the NIC's link state as announced. */
void control_nic_link_state(struct control_nic_state *s, bool *set_up, bool *backend_up);

#endif /* KAVM_CONTROL_PRIV_H */
