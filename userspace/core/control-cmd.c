// SPDX-License-Identifier: GPL-2.0
/*
 * kavm control socket, the commands (QMP's names where QMP has one) and
 * the socket's place in kavm's start-up: the listening socket is made at
 * the input level, before /dev/kvm and the sandbox; it is served from the
 * late level on, once every NIC exists.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kavm/acpi.h>
#include <kavm/init.h>
#include <kavm/log.h>
#include <kavm/net.h>
#include <kavm/tap.h>
#include <kavm/virtio-net.h>

#include "control-priv.h"

static const char *updown(bool up)
{
	return up ? "up" : "down";
}

static bool no_vm(struct control *c, const char *cmd, struct control_err *err)
{
	if (c->vm)
		return false;
	control_err(err, CONTROL_GENERIC, "%s: no VM behind this control socket", cmd);
	return true;
}

/* --- query-status */

static const char *vm_status(struct control *c)
{
	enum vm_stop_reason why;

	pthread_mutex_lock(&c->vm->stop_lock);
	why = c->vm->stop_reason;
	pthread_mutex_unlock(&c->vm->stop_lock);
	if (why != VM_RUNNING)
		return "shutting-down";
	return c->paused ? "paused" : "running";
}

static struct json_object *cmd_query_status(struct control *c, struct json_object *args,
					    struct control_err *err)
{
	struct json_object *r;
	struct timespec now;
	const char *status;
	int64_t ms;

	if (no_vm(c, "query-status", err))
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - c->started.tv_sec) * 1000 + (now.tv_nsec - c->started.tv_nsec) / 1000000;
	status = vm_status(c);
	r = json_object_new_object();
	json_object_object_add(r, "status", json_object_new_string(status));
	json_object_object_add(r, "running", json_object_new_boolean(!strcmp(status, "running")));
	json_object_object_add(r, "name",
			       c->vm->cfg->name ? json_object_new_string(c->vm->cfg->name) : NULL);
	json_object_object_add(r, "pid", json_object_new_int(getpid()));
	json_object_object_add(r, "uptime-ms", json_object_new_int64(ms));
	json_object_object_add(r, "vcpus", json_object_new_int(c->vm->nr_vcpus));
	json_object_object_add(r, "memory-mib", json_object_new_int64(c->vm->cfg->mem_size >> 20));
	json_object_object_add(r, "nics", json_object_new_int(c->nr_nics));
	return r;
}

/* --- query-netdevs */

void control_nic_link_state(struct control_nic_state *s, bool *set_up, bool *backend_up)
{
	*set_up = !virtio_net_client(s->nic.vn)->link_down;
	*backend_up = !s->nic.backend->link_down;
}

static const char *vhost_state(const struct control_nic *n)
{
	if (!net_peer_vhost_net(virtio_net_client(n->vn)))
		return "off";
	return virtio_net_vhost_running(n->vn) ? "running" : "on";
}

static void add_link(struct json_object *o, struct control_nic_state *s)
{
	bool set_up, backend_up;

	control_nic_link_state(s, &set_up, &backend_up);
	json_object_object_add(o, "link", json_object_new_string(updown(set_up && backend_up)));
	json_object_object_add(o, "link-set", json_object_new_string(updown(set_up)));
	json_object_object_add(o, "backend-link", json_object_new_string(updown(backend_up)));
}

static struct json_object *netdev_info(struct control_nic_state *s)
{
	const struct control_nic *n = &s->nic;
	struct net_client *nic = virtio_net_client(n->vn);
	const char *ifname = tap_client_ifname(n->backend);
	struct json_object *o = json_object_new_object(), *q = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(n->netdev));
	json_object_object_add(o, "type", json_object_new_string(n->type));
	json_object_object_add(o, "peer", json_object_new_string(n->id));
	json_object_object_add(o, "driver", json_object_new_string(n->driver));
	json_object_object_add(o, "ifname", ifname ? json_object_new_string(ifname) : NULL);
	add_link(o, s);
	json_object_object_add(o, "vhost", json_object_new_string(vhost_state(n)));
	/* Frames waiting in each side's bounded incoming queue (net/queue.c). */
	json_object_object_add(q, "to-guest", json_object_new_int(net_queue_len(nic->incoming)));
	json_object_object_add(q, "to-backend",
			       json_object_new_int(net_queue_len(n->backend->incoming)));
	json_object_object_add(o, "queued", q);
	return o;
}

static struct json_object *cmd_query_netdevs(struct control *c, struct json_object *args,
					     struct control_err *err)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < c->nr_nics; i++)
		json_object_array_add(a, netdev_info(&c->nics[i]));
	return a;
}

/* --- query-counters */

#define ADD_U64(o, st, field) json_object_object_add(o, #field, json_object_new_uint64((st)->field))

static struct json_object *net_stats_json(const struct net_stats *st)
{
	struct json_object *o = json_object_new_object();

	ADD_U64(o, st, tx_packets);
	ADD_U64(o, st, tx_bytes);
	ADD_U64(o, st, rx_packets);
	ADD_U64(o, st, rx_bytes);
	ADD_U64(o, st, tx_link_down);
	ADD_U64(o, st, tx_queued);
	ADD_U64(o, st, queue_drops);
	ADD_U64(o, st, rx_errors);
	return o;
}

static struct json_object *virtio_stats_json(const struct virtio_net_stats *st)
{
	const struct net_engine_stats *e = &st->engine;
	struct json_object *o = json_object_new_object();

	ADD_U64(o, e, tx_frames);
	ADD_U64(o, e, tx_bad_desc);
	ADD_U64(o, e, tx_bad_hdr);
	ADD_U64(o, e, tx_too_big);
	ADD_U64(o, e, tx_paused);
	ADD_U64(o, e, rx_frames);
	ADD_U64(o, e, rx_bad_desc);
	ADD_U64(o, e, rx_no_buf);
	ADD_U64(o, e, rx_too_big);
	ADD_U64(o, e, rx_short);
	ADD_U64(o, st, ctrl_ok);
	ADD_U64(o, st, ctrl_err);
	ADD_U64(o, st, ctrl_bad_desc);
	ADD_U64(o, st, rx_filtered);
	ADD_U64(o, st, ring_damage);
	return o;
}

/* A multiqueue client's counters: every queue's client added up (net.h's queue_next). */
static void net_stats_sum(const struct net_client *nc, struct net_stats *sum)
{
	size_t i;

	_Static_assert(sizeof(*sum) % sizeof(uint64_t) == 0, "net_stats: u64 only");
	memset(sum, 0, sizeof(*sum));
	for (; nc; nc = nc->queue_next)
		for (i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
			((uint64_t *)sum)[i] += ((const uint64_t *)&nc->stats)[i];
}

/* Per queue pair (multiqueue): what each pair's data path moved through kavm. */
static struct json_object *queues_json(struct virtio_net *vn)
{
	struct json_object *a = json_object_new_array();
	struct net_engine_stats e;
	unsigned int i;

	for (i = 0; !virtio_net_get_pair_stats(vn, i, &e); i++) {
		struct json_object *q = json_object_new_object();

		ADD_U64(q, &e, rx_frames);
		ADD_U64(q, &e, tx_frames);
		ADD_U64(q, &e, rx_no_buf);
		ADD_U64(q, &e, tx_paused);
		json_object_array_add(a, q);
	}
	return a;
}

static struct json_object *counters_info(const struct control_nic *n)
{
	struct json_object *o = json_object_new_object();
	struct virtio_net_stats vst;
	struct net_stats nst;
	unsigned int in_use, pairs = virtio_net_nr_pairs(n->vn, &in_use);

	virtio_net_get_stats(n->vn, &vst);
	json_object_object_add(o, "id", json_object_new_string(n->id));
	json_object_object_add(o, "netdev", json_object_new_string(n->netdev));
	net_stats_sum(virtio_net_client(n->vn), &nst);
	json_object_object_add(o, "nic", net_stats_json(&nst));
	net_stats_sum(n->backend, &nst);
	json_object_object_add(o, "backend", net_stats_json(&nst));
	json_object_object_add(o, "virtio-net", virtio_stats_json(&vst));
	json_object_object_add(o, "queue_pairs", json_object_new_int(pairs));
	json_object_object_add(o, "queue_pairs_in_use", json_object_new_int(in_use));
	json_object_object_add(o, "queues", queues_json(n->vn));
	return o;
}

static struct json_object *cmd_query_counters(struct control *c, struct json_object *args,
					      struct control_err *err)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < c->nr_nics; i++)
		json_object_array_add(a, counters_info(&c->nics[i].nic));
	return a;
}

/* --- set-link and its event */

static struct control_nic_state *nic_find(struct control *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nr_nics; i++)
		if (!strcmp(c->nics[i].nic.id, name) || !strcmp(c->nics[i].nic.netdev, name))
			return &c->nics[i];
	return NULL;
}

/*
 * As QEMU's set_link on a NIC or its netdev: the NIC's own link goes down,
 * the guest sees VIRTIO_NET_S_LINK_UP clear (with a config interrupt) and
 * frames either way go nowhere, counted in tx_link_down. A tap that is down
 * on the host keeps the link down whatever this says.
 */
static struct json_object *cmd_set_link(struct control *c, struct json_object *args,
					struct control_err *err)
{
	struct json_object *name, *up;
	struct control_nic_state *s;

	json_object_object_get_ex(args, "name", &name);
	json_object_object_get_ex(args, "up", &up);
	s = nic_find(c, json_object_get_string(name));
	if (!s) {
		control_err(err, CONTROL_DEVICE_NOT_FOUND, "set-link: no NIC or netdev \"%.64s\"",
			    json_object_get_string(name));
		return NULL;
	}
	net_client_set_link(virtio_net_client(s->nic.vn), json_object_get_boolean(up));
	return NULL;
}

void control_link_changed(struct net_client *nc, void *opaque)
{
	struct control *c = opaque;
	struct json_object *data;
	bool set_up, backend_up;
	unsigned int i;

	for (i = 0; i < c->nr_nics; i++) {
		struct control_nic_state *s = &c->nics[i];

		if (nc != virtio_net_client(s->nic.vn) && nc != s->nic.backend)
			continue;
		control_nic_link_state(s, &set_up, &backend_up);
		if (set_up == s->set_up && backend_up == s->backend_up)
			continue;
		s->set_up = set_up;
		s->backend_up = backend_up;
		data = json_object_new_object();
		json_object_object_add(data, "id", json_object_new_string(s->nic.id));
		json_object_object_add(data, "netdev", json_object_new_string(s->nic.netdev));
		add_link(data, s);
		control_broadcast(c, "LINK_CHANGED", data);
	}
}

/* --- stop, cont, system-powerdown, quit */

static struct json_object *cmd_stop(struct control *c, struct json_object *args,
				    struct control_err *err)
{
	if (no_vm(c, "stop", err) || c->paused)
		return NULL;
	/* Parks the vCPUs outside KVM_RUN; as quick as the halt check's pause. */
	kvm_vm_pause(c->vm);
	c->paused = true;
	control_broadcast(c, "STOP", NULL);
	return NULL;
}

static struct json_object *cmd_cont(struct control *c, struct json_object *args,
				    struct control_err *err)
{
	if (no_vm(c, "cont", err) || !c->paused)
		return NULL;
	kvm_vm_resume(c->vm);
	c->paused = false;
	control_broadcast(c, "RESUME", NULL);
	return NULL;
}

/* As QEMU's: press the ACPI power button; the guest decides when to power off. */
static struct json_object *cmd_powerdown(struct control *c, struct json_object *args,
					 struct control_err *err)
{
	int ret;

	if (no_vm(c, "system-powerdown", err))
		return NULL;
	if (!pm_guest_acpi_up()) {
		control_err(err, CONTROL_GENERIC,
			    "system-powerdown: the guest has not enabled ACPI (acpi=off, --no-acpi "
			    "or still booting): quit stops the VM at once");
		return NULL;
	}
	ret = pm_power_button(c->vm);
	if (ret) {
		control_err(err, CONTROL_GENERIC, "system-powerdown: power button: %s",
			    strerror(-ret));
		return NULL;
	}
	control_broadcast(c, "POWERDOWN", NULL);
	return json_object_new_object();
}

static struct json_object *cmd_quit(struct control *c, struct json_object *args,
				    struct control_err *err)
{
	if (no_vm(c, "quit", err))
		return NULL;
	kvm_vm_request_stop(c->vm, VM_STOP_QUIT, "quit on the control socket");
	return NULL;
}

static const struct control_arg set_link_args[] = {
	{ "name", json_type_string },
	{ "up", json_type_boolean },
	{ NULL },
};

static const struct control_cmd control_cmds[] = {
	{ "query-status", NULL, cmd_query_status },
	{ "query-netdevs", NULL, cmd_query_netdevs },
	{ "query-counters", NULL, cmd_query_counters },
	{ "set-link", set_link_args, cmd_set_link },
	{ "stop", NULL, cmd_stop },
	{ "cont", NULL, cmd_cont },
	{ "system-powerdown", NULL, cmd_powerdown },
	{ "quit", NULL, cmd_quit },
};

const struct control_cmd *control_cmd_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(control_cmds); i++)
		if (!strcmp(control_cmds[i].name, name))
			return &control_cmds[i];
	return NULL;
}

/* --- in kavm: the input level listens, the late level serves */

static int control_fd = -1;
static struct control *control;

/* The default directory (--name) is made on demand, for root only: 0700. */
static void control_make_rundir(const char *path)
{
	const char *dir = control_rundir();
	size_t len = strlen(dir);

	if (!strncmp(path, dir, len) && path[len] == '/' && mkdir(dir, 0700) && errno != EEXIST)
		pr_debug("control: mkdir %s: %s", dir, strerror(errno));
}

static int control_open_init(struct kvm_vm *vm)
{
	const char *path = vm->cfg->control_path;

	if (!path)
		return 0;
	control_make_rundir(path);
	control_fd = control_listen(path);
	if (control_fd >= 0)
		return 0;
	if (control_fd == -EADDRINUSE)
		pr_err("control %s: another kavm is listening there", path);
	else if (control_fd == -EEXIST)
		pr_err("control %s: exists and is not a socket", path);
	else
		pr_err("control %s: %s", path, strerror(-control_fd));
	control_fd = -1;
	return -ECANCELED;
}

/*
 * A start that failed (or --seccomp off) leaves no socket file; under the
 * sandbox unlink is forbidden, and the file stays for the next kavm to
 * replace (control_listen()).
 */
static void control_close_exit(struct kvm_vm *vm)
{
	if (control_fd < 0)
		return;
	close(control_fd);
	control_fd = -1;
	if (prctl(PR_GET_SECCOMP) == 0)
		unlink(vm->cfg->control_path);
}
input_init(control_open_init, control_close_exit);

static const char *netdev_type(const struct vm_config *cfg, const char *id)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_netdevs; i++)
		if (!strcmp(cfg->netdevs[i].id, id))
			return cfg->netdevs[i].type;
	return "?";
}

static int control_add_nics(struct kvm_vm *vm)
{
	struct net_client *backend;
	struct virtio_net *vn;
	unsigned int i;
	int ret;

	for (i = 0; (vn = net_pci_nic(i, &backend)); i++) {
		const struct net_device_opts *d = &vm->cfg->nics[i];
		struct control_nic n = { .id = d->id[0] ? d->id : d->netdev,
					 .driver = d->driver,
					 .netdev = d->netdev,
					 .type = netdev_type(vm->cfg, d->netdev),
					 .vn = vn,
					 .backend = backend };

		ret = control_add_nic(control, &n);
		if (ret)
			return ret;
	}
	return 0;
}

static int control_start_init(struct kvm_vm *vm)
{
	int ret;

	if (control_fd < 0)
		return 0;
	ret = control_new(vm->loop, vm, control_fd, &control);
	if (ret)
		return ret;
	ret = control_add_nics(vm);
	if (ret) {
		control_free(control);
		control = NULL;
	}
	return ret;
}

static const char *const shutdown_reasons[] = {
	[VM_RUNNING] = "none",
	[VM_STOP_REBOOT] = "guest-reset",
	[VM_STOP_POWEROFF] = "guest-shutdown",
	[VM_STOP_HALT] = "guest-shutdown",
	[VM_STOP_SIGNAL] = "host-signal",
	[VM_STOP_QUIT] = "host-qmp-quit",
	[VM_STOP_ERROR] = "error",
};

/* The VM stopped: say why to every client before they are closed. */
static void control_stop_exit(struct kvm_vm *vm)
{
	enum vm_stop_reason why = vm->stop_reason;
	struct json_object *data;

	if (!control)
		return;
	data = json_object_new_object();
	json_object_object_add(data, "guest",
			       json_object_new_boolean(why == VM_STOP_REBOOT ||
						       why == VM_STOP_POWEROFF ||
						       why == VM_STOP_HALT));
	json_object_object_add(data, "reason", json_object_new_string(shutdown_reasons[why]));
	json_object_object_add(data, "message", json_object_new_string(vm->stop_msg));
	control_broadcast(control, "SHUTDOWN", data);
	control_free(control);
	control = NULL;
}
late_init(control_start_init, control_stop_exit);
