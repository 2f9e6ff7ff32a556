// SPDX-License-Identifier: GPL-2.0
/* kavm --netdev / --device option parsing (QEMU's key=value form). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/compiler.h>
#include <kavm/mac.h>
#include <kavm/net.h>
#include <kavm/net-socket.h>

static int opt_err(char *err, size_t errlen, const char *fmt, ...) __printf(3, 4);
static int opt_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int opt_copy(char *dst, size_t size, const char *val, const char *key, char *err,
		    size_t errlen)
{
	if (!*val || strlen(val) >= size)
		return opt_err(err, errlen, "%s: empty or longer than %zu characters", key,
			       size - 1);
	strcpy(dst, val);
	return 0;
}

static int opt_onoff(const char *val, int *out)
{
	if (!strcmp(val, "on"))
		*out = 1;
	else if (!strcmp(val, "off"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

static int opt_fd(const char *val, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || end == val || *end || v < 0 || v > INT_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Queue pairs of a multiqueue tap or vhost-user netdev: virtio-net's VNET_MAX_PAIRS. */
#define NETDEV_MAX_QUEUES 8

/* The longest wait between reconnects QEMU-style users ask for is minutes, not days. */
#define NETDEV_RECONNECT_MAX 3600

static int netdev_parse_vhost_user_kv(struct netdev_opts *o, char *key, char *val, char *err,
				      size_t errlen)
{
	if (!strcmp(key, "socket"))
		return opt_copy(o->socket, sizeof(o->socket), val, key, err, errlen);
	if (!strcmp(key, "server"))
		return opt_onoff(val, &o->server) ?
			       opt_err(err, errlen, "server: want on or off, not %s", val) :
			       0;
	if (!strcmp(key, "reconnect")) {
		if (opt_fd(val, &o->reconnect) || o->reconnect > NETDEV_RECONNECT_MAX)
			return opt_err(err, errlen, "reconnect: want 0 to %d seconds, not %s",
				       NETDEV_RECONNECT_MAX, val);
		return 0;
	}
	return opt_err(err, errlen, "unknown option %s", key);
}

/* A socket address key: its form is checked here, the name resolved again at open. */
static int opt_addr(char *dst, size_t size, const char *val, const char *key, bool need_port,
		    char *err, size_t errlen)
{
	struct sockaddr_in sa;
	int ret = opt_copy(dst, size, val, key, err, errlen);

	if (ret)
		return ret;
	ret = net_socket_parse_addr(val, need_port, &sa);
	if (ret == -EADDRNOTAVAIL)
		return opt_err(err, errlen, "%s: cannot resolve the host in %s", key, val);
	if (ret)
		return opt_err(err, errlen, "%s: want %s, not %s", key,
			       need_port ? "HOST:PORT" : "an IPv4 address", val);
	return 0;
}

static int netdev_parse_hub_socket_kv(struct netdev_opts *o, char *key, char *val, char *err,
				      size_t errlen)
{
	if (!strcmp(key, "hubid"))
		return opt_fd(val, &o->hubid) ?
			       opt_err(err, errlen, "hubid: not a number: %s", val) :
			       0;
	if (!strcmp(key, "listen"))
		return opt_addr(o->listen, sizeof(o->listen), val, key, true, err, errlen);
	if (!strcmp(key, "connect"))
		return opt_addr(o->connect, sizeof(o->connect), val, key, true, err, errlen);
	if (!strcmp(key, "udp"))
		return opt_addr(o->udp, sizeof(o->udp), val, key, true, err, errlen);
	if (!strcmp(key, "mcast"))
		return opt_addr(o->mcast, sizeof(o->mcast), val, key, true, err, errlen);
	if (!strcmp(key, "localaddr"))
		return opt_copy(o->localaddr, sizeof(o->localaddr), val, key, err, errlen);
	return netdev_parse_vhost_user_kv(o, key, val, err, errlen);
}

static int netdev_parse_kv(struct netdev_opts *o, char *key, char *val, char *err, size_t errlen)
{
	if (!strcmp(key, "id"))
		return opt_copy(o->id, sizeof(o->id), val, key, err, errlen);
	if (!strcmp(key, "ifname"))
		return opt_copy(o->ifname, sizeof(o->ifname), val, key, err, errlen);
	if (!strcmp(key, "fd"))
		return opt_fd(val, &o->fd) ? opt_err(err, errlen, "fd: not a number: %s", val) : 0;
	if (!strcmp(key, "vnet_hdr"))
		return opt_onoff(val, &o->vnet_hdr) ?
			       opt_err(err, errlen, "vnet_hdr: want on or off, not %s", val) :
			       0;
	if (!strcmp(key, "br"))
		return opt_copy(o->br, sizeof(o->br), val, key, err, errlen);
	if (!strcmp(key, "create"))
		return opt_onoff(val, &o->create) ?
			       opt_err(err, errlen, "create: want on or off, not %s", val) :
			       0;
	if (!strcmp(key, "switch"))
		return opt_copy(o->sw, sizeof(o->sw), val, key, err, errlen);
	if (!strcmp(key, "vhost"))
		return opt_onoff(val, &o->vhost) ?
			       opt_err(err, errlen, "vhost: want on or off, not %s", val) :
			       0;
	if (!strcmp(key, "queues"))
		return opt_fd(val, &o->queues) || o->queues < 1 || o->queues > NETDEV_MAX_QUEUES ?
			       opt_err(err, errlen, "queues: want 1 to %d, not %s",
				       NETDEV_MAX_QUEUES, val) :
			       0;
	if (!strcmp(key, "vhostfd"))
		return opt_fd(val, &o->vhostfd) ?
			       opt_err(err, errlen, "vhostfd: not a number: %s", val) :
			       0;
	/* QEMU's tap runs /etc/qemu-ifup unless told not to; kavm runs nothing. */
	if (!strcmp(key, "script") || !strcmp(key, "downscript"))
		return strcmp(val, "no") ?
			       opt_err(err, errlen, "%s=%s: kavm runs no scripts (only %s=no)", key,
				       val, key) :
			       0;
	return netdev_parse_hub_socket_kv(o, key, val, err, errlen);
}

/* vhost-net leaves the vnet header to the tap, so it needs one (as QEMU's vhost=on). */
static int netdev_check_vhost(struct netdev_opts *o, char *err, size_t errlen)
{
	if (o->vhostfd >= 0 && o->vhost == 0)
		return opt_err(err, errlen, "netdev %s: vhostfd= with vhost=off", o->id);
	if (o->vhostfd >= 0)
		o->vhost = 1;
	if (o->vhost != 1)
		return 0;
	if (o->vnet_hdr == 0)
		return opt_err(err, errlen, "netdev %s: vhost=on needs vnet_hdr=on", o->id);
	o->vnet_hdr = 1;
	return 0;
}

static bool netdev_has_tap_keys(const struct netdev_opts *o)
{
	return o->ifname[0] || o->fd >= 0 || o->vnet_hdr >= 0 || o->br[0] || o->create ||
	       o->sw[0] || o->vhost >= 0 || o->vhostfd >= 0 || o->queues;
}

static bool netdev_has_socket_keys(const struct netdev_opts *o)
{
	return o->listen[0] || o->connect[0] || o->udp[0] || o->mcast[0] || o->localaddr[0];
}

/*
 * queues=N opens N fds on one tap (IFF_MULTI_QUEUE): kavm opens them, so
 * not with an inherited fd= or vhostfd= (one fd each).
 */
static int netdev_check_queues(struct netdev_opts *o, char *err, size_t errlen)
{
	if (o->queues > 1 && (o->fd >= 0 || o->vhostfd >= 0))
		return opt_err(err, errlen,
			       "netdev %s: queues= needs kavm to open the tap and "
			       "vhost-net (not fd= or vhostfd=)",
			       o->id);
	o->queues = max(o->queues, 1);
	return 0;
}

/* A vhost-user netdev is a socket and nothing else; its keys are its own. */
static int netdev_check_vhost_user(struct netdev_opts *o, char *err, size_t errlen)
{
	int queues;

	if (strcmp(o->type, "vhost-user")) {
		if (o->socket[0] || o->server >= 0 || o->reconnect >= 0)
			return opt_err(err, errlen,
				       "netdev %s: socket=, server=, reconnect= are for vhost-user",
				       o->id);
		o->server = o->reconnect = 0;
		return 0;
	}
	if (!o->socket[0])
		return opt_err(err, errlen, "netdev %s: socket= is required", o->id);
	/* queues=N: N pairs of rings on the one socket (VHOST_USER_PROTOCOL_F_MQ). */
	queues = o->queues;
	o->queues = 0;
	if (netdev_has_tap_keys(o))
		return opt_err(
			err, errlen,
			"netdev %s: vhost-user takes socket=, server=, reconnect=, queues=", o->id);
	o->queues = max(queues, 1);
	/* As QEMU: a server waits for its backend to come back, it cannot redial. */
	if (o->server == 1 && o->reconnect > 0)
		return opt_err(err, errlen, "netdev %s: reconnect= is for server=off", o->id);
	o->server = o->server == 1;
	o->reconnect = max(o->reconnect, 0);
	return 0;
}

/* udp= binds localaddr=HOST:PORT; mcast= takes the interface's bare address. */
static int netdev_check_localaddr(struct netdev_opts *o, char *err, size_t errlen)
{
	struct sockaddr_in sa;

	if (o->udp[0] && !o->localaddr[0])
		return opt_err(err, errlen, "netdev %s: udp= needs localaddr=HOST:PORT", o->id);
	if (!o->localaddr[0])
		return 0;
	if (o->listen[0] || o->connect[0])
		return opt_err(err, errlen, "netdev %s: localaddr= is for udp= and mcast=", o->id);
	if (net_socket_parse_addr(o->localaddr, o->udp[0], &sa))
		return opt_err(err, errlen, "netdev %s: localaddr: want %s, not %s", o->id,
			       o->udp[0] ? "HOST:PORT" : "an IPv4 address", o->localaddr);
	if (o->mcast[0] && strchr(o->localaddr, ':'))
		return opt_err(err, errlen, "netdev %s: localaddr: want an IPv4 address, not %s",
			       o->id, o->localaddr);
	return 0;
}

/* hubport and socket take their own keys only; the others none of theirs. */
static int netdev_check_hub_socket(struct netdev_opts *o, char *err, size_t errlen)
{
	bool hub = !strcmp(o->type, "hubport"), sock = !strcmp(o->type, "socket");
	struct sockaddr_in sa;

	if (!hub && o->hubid >= 0)
		return opt_err(err, errlen, "netdev %s: hubid= is for hubport netdevs", o->id);
	if (!sock && netdev_has_socket_keys(o))
		return opt_err(err, errlen,
			       "netdev %s: listen=, connect=, udp=, mcast=, localaddr= are for "
			       "socket netdevs",
			       o->id);
	if ((hub || sock) && netdev_has_tap_keys(o))
		return opt_err(err, errlen, "netdev %s: %s takes %s", o->id, o->type,
			       hub ? "hubid= only" : "listen=, connect=, udp=, mcast=, localaddr=");
	if (hub && o->hubid < 0)
		return opt_err(err, errlen, "netdev %s: hubid= is required", o->id);
	if (!sock)
		return 0;
	if (!!o->listen[0] + !!o->connect[0] + !!o->udp[0] + !!o->mcast[0] != 1)
		return opt_err(
			err, errlen,
			"netdev %s: socket takes exactly one of listen=, connect=, udp=, mcast=",
			o->id);
	if (o->mcast[0] && (net_socket_parse_addr(o->mcast, true, &sa) ||
			    !IN_MULTICAST(ntohl(sa.sin_addr.s_addr))))
		return opt_err(err, errlen, "netdev %s: mcast: %s is not a multicast group", o->id,
			       o->mcast);
	return netdev_check_localaddr(o, err, errlen);
}

/* Keys that belong to one type only are refused on the others. */
static int netdev_check_type(struct netdev_opts *o, char *err, size_t errlen)
{
	bool bridge = !strcmp(o->type, "bridge");
	int ret;

	ret = netdev_check_vhost_user(o, err, errlen);
	if (!ret)
		ret = netdev_check_hub_socket(o, err, errlen);
	if (ret || !strcmp(o->type, "vhost-user") || !strcmp(o->type, "hubport") ||
	    !strcmp(o->type, "socket"))
		return ret;

	if (!bridge && o->br[0])
		return opt_err(err, errlen, "netdev %s: br= is for bridge netdevs", o->id);
	if (!bridge && o->create)
		return opt_err(err, errlen, "netdev %s: create= is for bridge netdevs", o->id);
	if (bridge && !o->br[0])
		return opt_err(err, errlen, "netdev %s: br= is required", o->id);
	if (bridge && o->fd >= 0)
		return opt_err(err, errlen, "netdev %s: fd= is for tap netdevs", o->id);
	if (o->sw[0] && !bridge && strcmp(o->type, "tap"))
		return opt_err(err, errlen, "netdev %s: switch= is for tap and bridge netdevs",
			       o->id);
	ret = netdev_check_queues(o, err, errlen);
	if (ret)
		return ret;
	return netdev_check_vhost(o, err, errlen);
}

/* Walks "type,k=v,k=v" calling fn for each pair; the first item is the type. */
static int opt_split(const char *arg, char *type, size_t type_size, char *err, size_t errlen,
		     int (*fn)(void *o, char *k, char *v, char *err, size_t errlen), void *o)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	tok = strtok_r(copy, ",", &save);
	if (!tok || strchr(tok, '=')) {
		ret = opt_err(err, errlen, "missing type before options in '%s'", arg);
		goto out_free;
	}
	ret = opt_copy(type, type_size, tok, "type", err, errlen);
	while (!ret && (tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			ret = opt_err(err, errlen, "option %s has no value", tok);
			break;
		}
		*eq = '\0';
		ret = fn(o, tok, eq + 1, err, errlen);
	}
out_free:
	free(copy);
	return ret;
}

static int netdev_kv(void *o, char *k, char *v, char *err, size_t errlen)
{
	return netdev_parse_kv(o, k, v, err, errlen);
}

int netdev_parse(const char *arg, struct netdev_opts *o, char *err, size_t errlen)
{
	int ret;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->vnet_hdr = -1;
	o->vhost = -1;
	o->vhostfd = -1;
	o->server = -1;
	o->reconnect = -1;
	o->hubid = -1;
	ret = opt_split(arg, o->type, sizeof(o->type), err, errlen, netdev_kv, o);
	if (ret)
		return ret;
	if (!net_backend_find(o->type))
		return opt_err(err, errlen, "unknown netdev type %s", o->type);
	if (!o->id[0])
		return opt_err(err, errlen, "netdev %s: id= is required", o->type);
	if (o->fd >= 0 && o->ifname[0])
		return opt_err(err, errlen, "netdev %s: fd= and ifname= exclude each other", o->id);
	return netdev_check_type(o, err, errlen);
}

/* "4096", "64K", "256M", "1G": bytes. */
static int opt_size(const char *val, unsigned long long *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val || *val == '-')
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (~0ULL >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* The smallest cap that holds the pcap header and a minimal frame. */
#define NET_DUMP_MAXSIZE_MIN 1024

static int filter_kv(void *opaque, char *k, char *v, char *err, size_t errlen)
{
	struct net_filter_opts *o = opaque;
	unsigned long long n;

	if (!strcmp(k, "id"))
		return opt_copy(o->id, sizeof(o->id), v, k, err, errlen);
	if (!strcmp(k, "netdev"))
		return opt_copy(o->netdev, sizeof(o->netdev), v, k, err, errlen);
	if (!strcmp(k, "file"))
		return opt_copy(o->file, sizeof(o->file), v, k, err, errlen);
	if (!strcmp(k, "maxlen")) {
		if (opt_size(v, &n) || !n || n > NET_DUMP_MAXLEN_MAX || strpbrk(v, "KkMmGg"))
			return opt_err(err, errlen, "maxlen: want 1 to %d bytes, not %s",
				       NET_DUMP_MAXLEN_MAX, v);
		o->maxlen = n;
		return 0;
	}
	if (!strcmp(k, "maxsize")) {
		if (opt_size(v, &n) || n < NET_DUMP_MAXSIZE_MIN)
			return opt_err(err, errlen,
				       "maxsize: want a size of at least %d (64M, 1G), "
				       "not %s",
				       NET_DUMP_MAXSIZE_MIN, v);
		o->maxsize = n;
		return 0;
	}
	return opt_err(err, errlen, "unknown option %s", k);
}

int net_filter_parse(const char *arg, struct net_filter_opts *o, char *err, size_t errlen)
{
	int ret;

	memset(o, 0, sizeof(*o));
	o->maxlen = NET_DUMP_MAXLEN_DEFAULT;
	o->maxsize = NET_DUMP_MAXSIZE_DEFAULT;
	ret = opt_split(arg, o->type, sizeof(o->type), err, errlen, filter_kv, o);
	if (ret)
		return ret;
	if (strcmp(o->type, "filter-dump"))
		return opt_err(err, errlen, "unknown object type %s (kavm has filter-dump)",
			       o->type);
	if (!o->id[0])
		return opt_err(err, errlen, "filter-dump: id= is required");
	if (!o->netdev[0])
		return opt_err(err, errlen, "filter-dump %s: netdev= is required", o->id);
	if (!o->file[0])
		return opt_err(err, errlen, "filter-dump %s: file= is required", o->id);
	return 0;
}

static int device_kv(void *opaque, char *k, char *v, char *err, size_t errlen)
{
	struct net_device_opts *o = opaque;

	if (!strcmp(k, "netdev"))
		return opt_copy(o->netdev, sizeof(o->netdev), v, k, err, errlen);
	if (!strcmp(k, "id"))
		return opt_copy(o->id, sizeof(o->id), v, k, err, errlen);
	if (!strcmp(k, "mac")) {
		if (mac_parse(v, o->mac) || !mac_is_unicast(o->mac))
			return opt_err(err, errlen, "mac: not a unicast address: %s", v);
		o->has_mac = true;
		return 0;
	}
	return opt_err(err, errlen, "unknown option %s", k);
}

int net_device_parse(const char *arg, struct net_device_opts *o, char *err, size_t errlen)
{
	int ret;

	memset(o, 0, sizeof(*o));
	ret = opt_split(arg, o->driver, sizeof(o->driver), err, errlen, device_kv, o);
	if (ret)
		return ret;
	if (strcmp(o->driver, "virtio-net-pci"))
		return opt_err(err, errlen, "unknown device %s", o->driver);
	if (!o->netdev[0])
		return opt_err(err, errlen, "%s: netdev= is required", o->driver);
	return 0;
}

void net_device_default_mac(unsigned int index, uint8_t mac[6])
{
	static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint32_t low = (base[3] << 16 | base[4] << 8 | base[5]) + index;

	memcpy(mac, base, 3);
	mac[3] = low >> 16;
	mac[4] = low >> 8;
	mac[5] = low;
}
