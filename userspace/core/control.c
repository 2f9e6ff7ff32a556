// SPDX-License-Identifier: GPL-2.0
/*
 * kavm control socket, the server: the listening socket, its clients, one
 * request per line parsed with json-c, replies and events. Everything runs
 * on the loop thread and nothing blocks it: fds are non-blocking, a request
 * longer than CONTROL_LINE_MAX gets an error and is skipped to its newline,
 * requests are read only while the client's unsent replies stay under
 * CONTROL_OUT_HIGH (a client that sends without reading stops itself, not
 * kavm), and a client whose unsent events pass CONTROL_OUT_MAX is closed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/net.h>

#include "control-priv.h"

/* Deep enough for any request kavm takes; deeper nesting is refused, not recursed into. */
#define CONTROL_JSON_DEPTH 16
/* Connections taken per readiness event of the listening socket. */
#define CONTROL_ACCEPT_BUDGET 16
#define CONTROL_BACKLOG CONTROL_MAX_CLIENTS

struct control_client {
	struct control *ctl;
	int fd;
	unsigned int serial;
	uint32_t events; /* what the loop waits for */
	bool eof;	 /* the client shut its side: close once replies are out */
	bool discarding; /* skipping the rest of an oversized request */
	bool dead;	 /* closed; freed once no handler uses it */
	size_t in_len;	 /* bytes in in[] */
	size_t out_len;	 /* unsent bytes in out[] */
	size_t out_size; /* allocated, at most CONTROL_OUT_MAX */
	char *out;
	struct list_head link;
	char in[CONTROL_LINE_MAX + 1]; /* + a NUL for json-c after the longest line */
};

void control_err(struct control_err *err, const char *class, const char *fmt, ...)
{
	va_list ap;

	err->class = class;
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
}

/* --- the listening socket */

/* A socket file at path: a live kavm's (-EADDRINUSE) or a dead one's (removed). */
static int control_clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : -EADDRINUSE;
	close(fd);
	if (ret != -ECONNREFUSED)
		return ret;
	return unlink(path) ? -errno : 0;
}

int control_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	ret = control_clear_stale(path, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Mode 0600 from the start: no window in which another user may connect. */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!ret && listen(fd, CONTROL_BACKLOG))
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* --- clients: output */

static void client_kill(struct control_client *cl, const char *why);

/* Send what the socket takes now. */
static void client_flush(struct control_client *cl)
{
	ssize_t n;

	while (cl->out_len) {
		n = send(cl->fd, cl->out, cl->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_kill(cl, NULL); /* the client went away */
			return;
		}
		cl->out_len -= n;
		memmove(cl->out, cl->out + n, cl->out_len);
	}
}

/* Append one line; false (and the client closed) when CONTROL_OUT_MAX would be passed. */
static bool client_queue(struct control_client *cl, const char *s, size_t len)
{
	size_t need = cl->out_len + len + 1;
	char *p;

	if (need > CONTROL_OUT_MAX) {
		client_kill(cl, "does not read what kavm sends");
		return false;
	}
	if (need > cl->out_size) {
		size_t size = max(need, min(2 * cl->out_size, (size_t)CONTROL_OUT_MAX));

		p = realloc(cl->out, size);
		if (!p) {
			client_kill(cl, "out of memory");
			return false;
		}
		cl->out = p;
		cl->out_size = size;
	}
	memcpy(cl->out + cl->out_len, s, len);
	cl->out[cl->out_len + len] = '\n';
	cl->out_len = need;
	client_flush(cl);
	return !cl->dead;
}

static const char *json_text(struct json_object *o, size_t *len)
{
	return json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static void client_send(struct control_client *cl, struct json_object *o)
{
	size_t len;
	const char *s = json_text(o, &len);

	if (s)
		client_queue(cl, s, len);
}

static struct json_object *error_reply(struct json_object *id, const struct control_err *err)
{
	struct json_object *reply = json_object_new_object(), *e = json_object_new_object();

	if (id)
		json_object_object_add(reply, "id", json_object_get(id));
	json_object_object_add(e, "class", json_object_new_string(err->class));
	json_object_object_add(e, "desc", json_object_new_string(err->desc));
	json_object_object_add(reply, "error", e);
	return reply;
}

static void client_error(struct control_client *cl, const char *fmt, ...) __printf(2, 3);
static void client_error(struct control_client *cl, const char *fmt, ...)
{
	struct control_err err = { .class = CONTROL_GENERIC };
	struct json_object *reply;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.desc, sizeof(err.desc), fmt, ap);
	va_end(ap);
	reply = error_reply(NULL, &err);
	client_send(cl, reply);
	json_object_put(reply);
}

/* --- requests */

/* The request's id, when it is one kavm echoes: a string or an integer. */
static struct json_object *request_id(struct json_object *req)
{
	struct json_object *id;

	if (!json_object_object_get_ex(req, "id", &id))
		return NULL;
	if (json_object_is_type(id, json_type_string) || json_object_is_type(id, json_type_int))
		return id;
	return NULL;
}

static int args_check(const struct control_cmd *cmd, struct json_object *args,
		      struct control_err *err)
{
	const struct control_arg *a;
	struct json_object *v;
	unsigned int n = 0;

	for (a = cmd->args; a && a->name; a++, n++) {
		if (!args || !json_object_object_get_ex(args, a->name, &v)) {
			control_err(err, CONTROL_GENERIC, "%s: missing argument \"%s\"", cmd->name,
				    a->name);
			return -EINVAL;
		}
		if (!json_object_is_type(v, a->type)) {
			control_err(err, CONTROL_GENERIC,
				    "%s: argument \"%s\": expected %s, not %s", cmd->name, a->name,
				    json_type_to_name(a->type),
				    json_type_to_name(json_object_get_type(v)));
			return -EINVAL;
		}
	}
	if (args && json_object_object_length(args) != (int)n) {
		json_object_object_foreach(args, key, val)
		{
			(void)val;
			for (a = cmd->args; a && a->name && strcmp(a->name, key); a++)
				;
			if (!a || !a->name) {
				control_err(err, CONTROL_GENERIC,
					    "%s: unexpected argument \"%.64s\"", cmd->name, key);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Check the request's shape; the command and its arguments, or err. */
static const struct control_cmd *request_check(struct json_object *req, struct json_object **args,
					       struct control_err *err)
{
	const struct control_cmd *cmd;
	struct json_object *v;

	json_object_object_foreach(req, key, val)
	{
		(void)val;
		if (strcmp(key, "execute") && strcmp(key, "id") && strcmp(key, "arguments")) {
			control_err(err, CONTROL_GENERIC, "unexpected key \"%.64s\" in the request",
				    key);
			return NULL;
		}
	}
	if (!json_object_object_get_ex(req, "id", &v)) {
		control_err(err, CONTROL_GENERIC, "request without an id");
		return NULL;
	}
	if (!request_id(req)) {
		control_err(err, CONTROL_GENERIC, "id: expected a string or an integer, not %s",
			    json_type_to_name(json_object_get_type(v)));
		return NULL;
	}
	if (!json_object_object_get_ex(req, "execute", &v)) {
		control_err(err, CONTROL_GENERIC, "request without \"execute\"");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		control_err(err, CONTROL_GENERIC, "execute: expected a string, not %s",
			    json_type_to_name(json_object_get_type(v)));
		return NULL;
	}
	cmd = control_cmd_find(json_object_get_string(v));
	if (!cmd) {
		control_err(err, CONTROL_NOT_FOUND, "unknown command \"%.64s\"",
			    json_object_get_string(v));
		return NULL;
	}
	*args = NULL;
	if (json_object_object_get_ex(req, "arguments", args) &&
	    !json_object_is_type(*args, json_type_object)) {
		control_err(err, CONTROL_GENERIC, "arguments: expected an object, not %s",
			    json_type_to_name(json_object_get_type(*args)));
		return NULL;
	}
	return args_check(cmd, *args, err) ? NULL : cmd;
}

/* The reply to one parsed request. */
static struct json_object *control_request(struct control *c, struct json_object *req)
{
	struct control_err err = { 0 };
	struct json_object *args, *ret = NULL, *reply;
	const struct control_cmd *cmd;

	if (!json_object_is_type(req, json_type_object)) {
		control_err(&err, CONTROL_GENERIC, "request: expected a JSON object, not %s",
			    json_type_to_name(json_object_get_type(req)));
		return error_reply(NULL, &err);
	}
	cmd = request_check(req, &args, &err);
	if (cmd)
		ret = cmd->fn(c, args, &err);
	if (err.class) {
		json_object_put(ret);
		return error_reply(request_id(req), &err);
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "id", json_object_get(request_id(req)));
	json_object_object_add(reply, "return", ret ?: json_object_new_object());
	return reply;
}

/* One line, newline removed. Blank lines are ignored, as QMP does. */
static void client_line(struct control_client *cl, char *line, size_t len)
{
	struct json_tokener *tok = cl->ctl->tok;
	struct json_object *req, *reply;
	enum json_tokener_error jerr;

	while (len && strchr(" \t\r", line[len - 1]))
		len--;
	if (!len || strspn(line, " \t\r") == len)
		return;
	if (memchr(line, '\0', len)) {
		client_error(cl, "JSON parse error: a NUL byte in the request");
		return;
	}
	/* With its NUL json-c ends a bare literal ("true", "42") instead of waiting for more. */
	line[len] = '\0';
	json_tokener_reset(tok);
	req = json_tokener_parse_ex(tok, line, len + 1);
	jerr = json_tokener_get_error(tok);
	if (jerr != json_tokener_success) {
		client_error(cl, "JSON parse error: %s", json_tokener_error_desc(jerr));
	} else if (json_tokener_get_parse_end(tok) < len) {
		client_error(cl, "JSON parse error: more after the request object");
	} else {
		reply = control_request(cl->ctl, req);
		if (!cl->dead)
			client_send(cl, reply);
		json_object_put(reply);
	}
	json_object_put(req);
}

/* Handle complete lines while the client keeps up with the replies. */
static void client_process(struct control_client *cl)
{
	size_t off = 0;
	char *nl;

	while (!cl->dead && cl->out_len < CONTROL_OUT_HIGH) {
		nl = memchr(cl->in + off, '\n', cl->in_len - off);
		if (nl) {
			client_line(cl, cl->in + off, nl - (cl->in + off));
			off = nl + 1 - cl->in;
		} else if (cl->in_len == CONTROL_LINE_MAX && !off) {
			client_error(cl, "request longer than %d bytes", CONTROL_LINE_MAX);
			cl->in_len = 0;
			cl->discarding = true;
		} else if (cl->eof && cl->in_len > off) {
			/* The last request may lack its newline. */
			client_line(cl, cl->in + off, cl->in_len - off);
			off = cl->in_len;
		} else {
			break;
		}
	}
	if (cl->dead)
		return;
	cl->in_len -= off;
	memmove(cl->in, cl->in + off, cl->in_len);
}

/* Drop bytes up to and including a newline; the rest is the next request. */
static void client_discard(struct control_client *cl, size_t n)
{
	char *nl = memchr(cl->in + cl->in_len, '\n', n);
	size_t keep;

	if (!nl)
		return;
	keep = cl->in + cl->in_len + n - (nl + 1);
	memmove(cl->in, nl + 1, keep);
	cl->in_len = keep;
	cl->discarding = false;
}

static void client_read(struct control_client *cl)
{
	ssize_t n;

	if (cl->eof || cl->in_len == CONTROL_LINE_MAX)
		return;
	n = read(cl->fd, cl->in + cl->in_len, CONTROL_LINE_MAX - cl->in_len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_kill(cl, NULL);
		return;
	}
	if (n == 0) {
		cl->eof = true;
		return;
	}
	if (cl->discarding)
		client_discard(cl, n);
	else
		cl->in_len += n;
}

/*
 * Wait for input only while replies keep up; for output while some is
 * unsent, or while requests wait in in[] (writable at once: they are
 * handled on the next turn).
 */
static void client_update(struct control_client *cl)
{
	bool waiting = cl->in_len && (cl->eof || memchr(cl->in, '\n', cl->in_len));
	uint32_t ev = 0;

	if (!cl->eof && cl->out_len < CONTROL_OUT_HIGH)
		ev |= EPOLLIN;
	if (cl->out_len || waiting)
		ev |= EPOLLOUT;
	if (!ev) {
		client_kill(cl, NULL); /* said and sent everything */
		return;
	}
	if (ev != cl->events && !loop_mod_fd(cl->ctl->loop, cl->fd, ev))
		cl->events = ev;
}

static void control_reap(struct control *c)
{
	struct control_client *cl, *n;

	if (c->busy)
		return;
	list_for_each_entry_safe(cl, n, &c->dead, link) {
		list_del(&cl->link);
		free(cl->out);
		free(cl);
	}
}

static void client_event(int fd, uint32_t events, void *opaque)
{
	struct control_client *cl = opaque;
	struct control *c = cl->ctl;

	c->busy++;
	if (events & EPOLLOUT)
		client_flush(cl);
	if (!cl->dead && (events & (EPOLLIN | EPOLLHUP)))
		client_read(cl);
	if (!cl->dead && (events & EPOLLERR))
		client_kill(cl, NULL);
	if (!cl->dead)
		client_process(cl);
	if (!cl->dead)
		client_update(cl);
	c->busy--;
	control_reap(c);
}

static void client_kill(struct control_client *cl, const char *why)
{
	struct control *c = cl->ctl;

	if (cl->dead)
		return;
	if (why)
		pr_warn("control: client %u %s: disconnected", cl->serial, why);
	cl->dead = true;
	loop_del_fd(c->loop, cl->fd);
	close(cl->fd);
	cl->fd = -1;
	list_del(&cl->link);
	list_add_tail(&cl->link, &c->dead);
	c->nr_clients--;
	if (c->listen_paused && !loop_mod_fd(c->loop, c->listen_fd, EPOLLIN))
		c->listen_paused = false;
}

/* --- accepting */

/* Past CONTROL_MAX_CLIENTS: one error line, then the connection closes. */
static void control_refuse(int fd)
{
	char msg[128];
	int len;

	len = snprintf(msg, sizeof(msg),
		       "{\"error\":{\"class\":\"%s\",\"desc\":\"too many clients (%d)\"}}\n",
		       CONTROL_GENERIC, CONTROL_MAX_CLIENTS);
	if (send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		pr_debug("control: refusing a client: %s", strerror(errno));
	close(fd);
}

static int client_new(struct control *c, int fd)
{
	struct control_client *cl = calloc(1, sizeof(*cl));
	int ret;

	if (!cl)
		return -ENOMEM;
	cl->ctl = c;
	cl->fd = fd;
	cl->serial = ++c->serial;
	cl->events = EPOLLIN;
	ret = loop_add_fd(c->loop, fd, EPOLLIN, client_event, cl);
	if (ret) {
		free(cl);
		return ret;
	}
	list_add_tail(&cl->link, &c->clients);
	c->nr_clients++;
	return 0;
}

static void control_accept(int fd, uint32_t events, void *opaque)
{
	struct control *c = opaque;
	int i, cfd;

	for (i = 0; i < CONTROL_ACCEPT_BUDGET; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == ENOBUFS) {
				/* Level-triggered: stop asking until a client leaves. */
				pr_warn_ratelimited("control: accept: %s", strerror(errno));
				c->listen_paused = !loop_mod_fd(c->loop, fd, 0);
			}
			return;
		}
		if (c->nr_clients >= CONTROL_MAX_CLIENTS)
			control_refuse(cfd);
		else if (client_new(c, cfd))
			close(cfd);
	}
}

/* --- events */

void control_broadcast(struct control *c, const char *name, struct json_object *data)
{
	struct json_object *ev = json_object_new_object(), *ts = json_object_new_object();
	struct control_client *cl, *n;
	struct timeval tv;
	const char *s;
	size_t len;

	gettimeofday(&tv, NULL);
	json_object_object_add(ev, "event", json_object_new_string(name));
	if (data)
		json_object_object_add(ev, "data", data);
	json_object_object_add(ts, "seconds", json_object_new_int64(tv.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
	json_object_object_add(ev, "timestamp", ts);
	s = json_text(ev, &len);
	c->busy++;
	list_for_each_entry_safe(cl, n, &c->clients, link) {
		if (s && client_queue(cl, s, len))
			client_update(cl);
	}
	c->busy--;
	json_object_put(ev);
	control_reap(c);
}

/* --- the server's life */

int control_new(struct loop *loop, struct kvm_vm *vm, int listen_fd, struct control **out)
{
	struct control *c = calloc(1, sizeof(*c));
	struct json_object *warm;
	int ret;

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->vm = vm;
	c->listen_fd = listen_fd;
	INIT_LIST_HEAD(&c->clients);
	INIT_LIST_HEAD(&c->dead);
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	c->tok = json_tokener_new_ex(CONTROL_JSON_DEPTH);
	if (!c->tok) {
		ret = -ENOMEM;
		goto err_free;
	}
	/* json-c seeds its string hash on first use: before the sandbox, not under it. */
	warm = json_tokener_parse("{\"kavm\":1}");
	json_object_put(warm);
	ret = loop_add_fd(loop, listen_fd, EPOLLIN, control_accept, c);
	if (ret)
		goto err_tok;
	net_link_watch(control_link_changed, c);
	*out = c;
	return 0;

err_tok:
	json_tokener_free(c->tok);
err_free:
	free(c);
	return ret;
}

int control_add_nic(struct control *c, const struct control_nic *nic)
{
	struct control_nic_state *s;

	if (c->nr_nics == KAVM_MAX_NICS)
		return -ENOSPC;
	s = &c->nics[c->nr_nics++];
	s->nic = *nic;
	control_nic_link_state(s, &s->set_up, &s->backend_up);
	return 0;
}

void control_free(struct control *c)
{
	struct control_client *cl, *n;

	if (!c)
		return;
	net_link_watch(NULL, NULL);
	loop_del_fd(c->loop, c->listen_fd);
	c->busy++;
	list_for_each_entry_safe(cl, n, &c->clients, link)
		client_kill(cl, NULL);
	c->busy--;
	control_reap(c);
	json_tokener_free(c->tok);
	free(c);
}
