// SPDX-License-Identifier: GPL-2.0
/*
 * kavmctl vm: a client of kavm's control socket (Documentation/control.md).
 * A VM is named by its --name (the socket $KAVM_RUNDIR/NAME.sock) or by the
 * socket's path (anything with a '/'). One request, its reply; events that
 * arrive in between are skipped. Every wait is bounded.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include <kavm/compiler.h>
#include <kavm/control.h>
#include <kavm/log.h>

#include "kavmctl.h"
#include "netutil.h"

#define VM_TIMEOUT_MS 5000
#define VM_LINE_MAX (1 << 20)

struct vm_conn {
	int fd;
	const char *name; /* as the user gave it: for messages */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *buf;
	size_t len;
};

static void vm_usage(void)
{
	printf("kavmctl [ -j ] vm list\n"
	       "kavmctl [ -j ] vm { show | counters } NAME|PATH\n"
	       "kavmctl vm link NAME|PATH DEV { up | down }\n"
	       "kavmctl vm { stop | cont | powerdown | quit } NAME|PATH\n");
}

static int vm_path(const char *name, char *path, size_t size)
{
	if (strchr(name, '/')) {
		if (strlen(name) >= size)
			return -ENAMETOOLONG;
		strcpy(path, name);
		return 0;
	}
	if (!control_name_ok(name))
		return -EINVAL;
	return control_name_path(name, path, size);
}

/* Connect to NAME's socket; quiet: no message (vm list skips dead sockets). */
static int vm_open(struct vm_conn *c, const char *name, bool quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	memset(c, 0, sizeof(*c));
	c->name = name;
	ret = vm_path(name, c->path, sizeof(c->path));
	if (ret) {
		pr_err("vm %s: %s", name,
		       ret == -EINVAL ?
			       "not a VM name (letters, digits, '.', '_', '-') nor a path" :
			       strerror(-ret));
		return ret;
	}
	strcpy(sa.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		if (!quiet)
			pr_err("vm %s: %s: %s%s", name, c->path, strerror(-ret),
			       ret == -ECONNREFUSED ? " (no kavm answers: it has exited)" : "");
		close(c->fd);
		return ret;
	}
	return 0;
}

static void vm_close(struct vm_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
}

/* The next line kavm sends (NUL-terminated in c->buf), or -errno. */
static int vm_read_line(struct vm_conn *c, char **line)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char *nl;
	ssize_t n;

	for (;;) {
		nl = c->buf ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			*nl = 0;
			*line = c->buf;
			return nl + 1 - c->buf;
		}
		if (c->len >= VM_LINE_MAX)
			return -EMSGSIZE;
		if (!c->buf && !(c->buf = malloc(VM_LINE_MAX + 1)))
			return -ENOMEM;
		if (poll(&p, 1, VM_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = read(c->fd, c->buf + c->len, VM_LINE_MAX - c->len);
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		c->len += n;
	}
}

static void vm_consume(struct vm_conn *c, int used)
{
	c->len -= used;
	memmove(c->buf, c->buf + used, c->len);
}

/* A parsed line that answers our request: ours by id, or an error with none. */
static struct json_object *vm_reply(struct vm_conn *c)
{
	struct json_object *o, *id;
	char *line = NULL;
	int used;

	for (;;) {
		used = vm_read_line(c, &line);
		if (used < 0) {
			pr_err("vm %s: reading the reply: %s", c->name, strerror(-used));
			return NULL;
		}
		o = json_tokener_parse(line);
		vm_consume(c, used);
		if (!o || json_object_object_get_ex(o, "event", NULL)) {
			json_object_put(o);
			continue;
		}
		if (!json_object_object_get_ex(o, "id", &id) ||
		    !strcmp(json_object_get_string(id), "kavmctl"))
			return o;
		json_object_put(o);
	}
}

/* Run one command; its "return" value (a reference the caller puts), or NULL after a message. */
static struct json_object *vm_call(struct vm_conn *c, const char *cmd, struct json_object *args)
{
	struct json_object *req = json_object_new_object(), *reply, *v, *ret = NULL;
	const char *s;
	size_t len;

	json_object_object_add(req, "execute", json_object_new_string(cmd));
	json_object_object_add(req, "id", json_object_new_string("kavmctl"));
	if (args)
		json_object_object_add(req, "arguments", args);
	s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
	if (send(c->fd, s, len, MSG_NOSIGNAL) != (ssize_t)len || send(c->fd, "\n", 1, 0) != 1) {
		pr_err("vm %s: %s: %s", c->name, cmd, strerror(errno));
		json_object_put(req);
		return NULL;
	}
	json_object_put(req);
	reply = vm_reply(c);
	if (!reply)
		return NULL;
	if (json_object_object_get_ex(reply, "return", &v))
		ret = json_object_get(v);
	else if (json_object_object_get_ex(reply, "error", &v) &&
		 json_object_object_get_ex(v, "desc", &v))
		pr_err("vm %s: %s", c->name, json_object_get_string(v));
	else
		pr_err("vm %s: %s: a reply kavmctl does not understand", c->name, cmd);
	json_object_put(reply);
	return ret;
}

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static int64_t num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void print_status(const char *name, const char *path, struct json_object *st)
{
	printf("%s: %s, %" PRId64 " vCPUs, %" PRId64 " MiB, up %" PRId64 ".%01" PRId64
	       " s, pid %" PRId64 ", %" PRId64 " NICs, %s\n",
	       name, str(st, "status"), num(st, "vcpus"), num(st, "memory-mib"),
	       num(st, "uptime-ms") / 1000, num(st, "uptime-ms") % 1000 / 100, num(st, "pid"),
	       num(st, "nics"), path);
}

static void print_netdev(struct json_object *nd)
{
	struct json_object *q = NULL;

	json_object_object_get_ex(nd, "queued", &q);
	printf("  %s: %s %s -> %s (%s) link %s (set %s, backend %s) vhost %s queued to-guest "
	       "%" PRId64 " to-backend %" PRId64 "\n",
	       str(nd, "id"), str(nd, "type"), str(nd, "ifname"), str(nd, "peer"),
	       str(nd, "driver"), str(nd, "link"), str(nd, "link-set"), str(nd, "backend-link"),
	       str(nd, "vhost"), num(q, "to-guest"), num(q, "to-backend"));
}

/* One VM of vm list: its status, or nothing when no kavm answers there. */
static struct json_object *vm_list_one(const char *path)
{
	struct json_object *st;
	struct vm_conn c;

	if (vm_open(&c, path, true))
		return NULL;
	st = vm_call(&c, "query-status", NULL);
	vm_close(&c);
	if (st)
		json_object_object_add(st, "socket", json_object_new_string(path));
	return st;
}

static int vm_list(int argc, char **argv)
{
	struct json_object *all = json_object_new_array(), *st;
	const char *dir = control_rundir();
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], name[256];
	struct dirent *d;
	size_t n, i;
	DIR *dh;

	if (argc)
		return kavmctl_usage_err(vm_usage, "vm list: unexpected \"%s\"", argv[0]);
	dh = opendir(dir);
	while (dh && (d = readdir(dh))) {
		n = strlen(d->d_name);
		if (n <= 5 || strcmp(d->d_name + n - 5, ".sock") ||
		    snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= (int)sizeof(path))
			continue;
		st = vm_list_one(path);
		if (st)
			json_object_array_add(all, st);
	}
	if (dh)
		closedir(dh);
	json_object_array_sort(all, NULL);
	if (kavmctl_json)
		print_json(all);
	for (i = 0; !kavmctl_json && i < json_object_array_length(all); i++) {
		st = json_object_array_get_idx(all, i);
		snprintf(name, sizeof(name), "%s", str(st, "socket"));
		/* Named by the file: NAME.sock in the run directory. */
		*strrchr(name, '.') = 0;
		print_status(strrchr(name, '/') + 1, str(st, "socket"), st);
	}
	json_object_put(all);
	return 0;
}

static int vm_show(struct vm_conn *c, int argc, char **argv)
{
	struct json_object *st, *nds, *all;
	size_t i;

	if (argc)
		return kavmctl_usage_err(vm_usage, "vm show: unexpected \"%s\"", argv[0]);
	st = vm_call(c, "query-status", NULL);
	if (!st)
		return -EIO;
	nds = vm_call(c, "query-netdevs", NULL);
	if (!nds) {
		json_object_put(st);
		return -EIO;
	}
	if (kavmctl_json) {
		all = json_object_new_object();
		json_object_object_add(all, "status", st);
		json_object_object_add(all, "netdevs", nds);
		print_json(all);
		json_object_put(all);
		return 0;
	}
	print_status(c->name, c->path, st);
	for (i = 0; i < json_object_array_length(nds); i++)
		print_netdev(json_object_array_get_idx(nds, i));
	json_object_put(st);
	json_object_put(nds);
	return 0;
}

static void print_counters(const char *what, struct json_object *o)
{
	printf("    %-11s", what);
	json_object_object_foreach(o, key, val)
	{
		printf(" %s %" PRId64, key, json_object_get_int64(val));
	}
	printf("\n");
}

/* A multiqueue NIC's pairs, one line each: "queue 1:  rx_frames N tx_frames M ...". */
static void print_queue_counters(struct json_object *nic)
{
	struct json_object *a;
	char what[32];
	size_t i;

	if (!json_object_object_get_ex(nic, "queues", &a) || json_object_array_length(a) < 2)
		return;
	printf("    pairs:      %d in use of %d\n",
	       json_object_get_int(json_object_object_get(nic, "queue_pairs_in_use")),
	       json_object_get_int(json_object_object_get(nic, "queue_pairs")));
	for (i = 0; i < json_object_array_length(a); i++) {
		snprintf(what, sizeof(what), "queue %zu:", i);
		print_counters(what, json_object_array_get_idx(a, i));
	}
}

static int vm_counters(struct vm_conn *c, int argc, char **argv)
{
	struct json_object *all, *nic, *v;
	size_t i;

	if (argc)
		return kavmctl_usage_err(vm_usage, "vm counters: unexpected \"%s\"", argv[0]);
	all = vm_call(c, "query-counters", NULL);
	if (!all)
		return -EIO;
	if (kavmctl_json)
		print_json(all);
	for (i = 0; !kavmctl_json && i < json_object_array_length(all); i++) {
		nic = json_object_array_get_idx(all, i);
		printf("  %s (netdev %s):\n", str(nic, "id"), str(nic, "netdev"));
		if (json_object_object_get_ex(nic, "nic", &v))
			print_counters("nic:", v);
		if (json_object_object_get_ex(nic, "backend", &v))
			print_counters("backend:", v);
		if (json_object_object_get_ex(nic, "virtio-net", &v))
			print_counters("virtio-net:", v);
		print_queue_counters(nic);
	}
	json_object_put(all);
	return 0;
}

static int vm_link(struct vm_conn *c, int argc, char **argv)
{
	struct json_object *args, *ret;

	if (argc != 2 || (strcmp(argv[1], "up") && strcmp(argv[1], "down")))
		return kavmctl_usage_err(vm_usage, "vm link: needs DEV and up or down");
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(argv[0]));
	json_object_object_add(args, "up", json_object_new_boolean(!strcmp(argv[1], "up")));
	ret = vm_call(c, "set-link", args);
	json_object_put(ret);
	return ret ? 0 : -EIO;
}

/* stop, cont, powerdown, quit: the command, nothing to print. */
static int vm_simple(struct vm_conn *c, const char *cmd, int argc, char **argv)
{
	struct json_object *ret;

	if (argc)
		return kavmctl_usage_err(vm_usage, "vm %s: unexpected \"%s\"", cmd, argv[0]);
	ret = vm_call(c, cmd, NULL);
	json_object_put(ret);
	return ret ? 0 : -EIO;
}

static const struct {
	const char *name;
	const char *cmd; /* the control command, for the simple ones */
	int (*fn)(struct vm_conn *c, int argc, char **argv);
} vm_cmds[] = {
	{ "show", NULL, vm_show }, { "counters", NULL, vm_counters },
	{ "link", NULL, vm_link }, { "stop", "stop", NULL },
	{ "cont", "cont", NULL },  { "powerdown", "system-powerdown", NULL },
	{ "quit", "quit", NULL },
};

static int do_vm(int argc, char **argv)
{
	struct vm_conn c;
	size_t i;
	int ret;

	if (argc < 1 || kavmctl_matches(argv[0], "list"))
		return vm_list(argc ? argc - 1 : 0, argv + 1);
	if (kavmctl_matches(argv[0], "help")) {
		vm_usage();
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(vm_cmds) && !kavmctl_matches(argv[0], vm_cmds[i].name); i++)
		;
	if (i == ARRAY_SIZE(vm_cmds))
		return kavmctl_usage_err(vm_usage, "vm: unknown command \"%s\"", argv[0]);
	if (argc < 2)
		return kavmctl_usage_err(vm_usage, "vm %s: needs NAME or PATH", vm_cmds[i].name);
	ret = vm_open(&c, argv[1], false);
	if (ret)
		return ret;
	if (vm_cmds[i].fn)
		ret = vm_cmds[i].fn(&c, argc - 2, argv + 2);
	else
		ret = vm_simple(&c, vm_cmds[i].cmd, argc - 2, argv + 2);
	vm_close(&c);
	return ret;
}
KAVMCTL_CMD("vm", do_vm, vm_usage);
