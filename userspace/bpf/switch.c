// SPDX-License-Identifier: GPL-2.0
/*
 * kavm eBPF switch loader: the libbpf skeleton lifecycle and the pins.
 *
 * Creating a switch opens the skeleton, sets rodata, points every map at its
 * pin path (libbpf creates and pins them at load) and pins both programs.
 * Everything after that (attach, fdb, counters) works on the pinned objects
 * only, so a later process sees the very maps and programs the datapath
 * uses. Writers hold flock() on the pin directory: two VMMs joining the same
 * switch at once must not pick the same slot.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <kavm/bpf-switch.h>
#include <kavm/log.h>

#include "bpf/switch.skel.h"

#include "switch-priv.h"

static const char *const pin_names[] = {
	"ports", "slots", "fdb", "config", "stats", "tx_ports", "prog_tc", "prog_xdp", "ports_fast",
};

int bpf_switch_check_name(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > BPF_SWITCH_NAME_MAX || name[0] == '.')
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!(isalnum_c(name[i]) || name[i] == '-' || name[i] == '_' || name[i] == '.'))
			return -EINVAL;
	return 0;
}

#define BPF_FS_DIR "/sys/fs/bpf"
/* Deeper process trees than this are not walked: the check then trusts the deepest seen. */
#define ANCESTORS_MAX 64

/* iproute2 mounts bpffs on demand too: a fresh host has none. */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (!statfs(BPF_FS_DIR, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPF_FS_DIR, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/* The parent of pid: the field after the command name's last ')' in /proc/PID/stat. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * The outermost ancestor whose mount namespace we may look at: init (the
 * host's, or a container's), or in a sandbox that hides init the furthest
 * process it shows. Its mounts outlive us; ours may not.
 */
static pid_t outermost_ancestor(void)
{
	pid_t pid = getpid(), ppid;
	struct stat st;
	char path[64];
	int i;

	for (i = 0; i < ANCESTORS_MAX && pid > 1; i++) {
		ppid = parent_of(pid);
		if (ppid <= 0)
			break;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)ppid);
		if (stat(path, &st))
			break;
		pid = ppid;
	}
	return pid;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The bpffs at path (seen from some mount namespace): its device, or -EREMOTE. */
static int bpffs_dev(const char *path, dev_t *dev)
{
	struct statfs sfs;
	struct stat st;

	if (statfs(path, &sfs) || sfs.f_type != BPF_FS_MAGIC || stat(path, &st))
		return -EREMOTE;
	*dev = st.st_dev;
	return 0;
}

int bpf_switch_pin_root_check(void)
{
	struct stat mine, theirs;
	dev_t here, there;
	char path[64];
	pid_t pid;

	pid = outermost_ancestor();
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	/* Nothing to compare with, or the same namespace: pins made here stay. */
	if (pid == getpid() || stat("/proc/self/ns/mnt", &mine) || stat(path, &theirs) ||
	    same_file(&mine, &theirs))
		return 0;
	/*
	 * A mount namespace of our own ("ip netns exec" makes one, with a
	 * fresh /sys): only a bpffs it shares with the outer one keeps pins.
	 */
	snprintf(path, sizeof(path), "/proc/%d/root" BPF_FS_DIR, (int)pid);
	if (bpffs_dev(BPF_FS_DIR, &here) || bpffs_dev(path, &there) || here != there)
		return -EREMOTE;
	return 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

void bpf_switch_path(char *buf, size_t size, const char *name, const char *obj)
{
	snprintf(buf, size, "%s/%s/%s", BPF_SWITCH_PIN_ROOT, name, obj);
}

static void unpin_all(const char *name)
{
	char path[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pin_names); i++) {
		bpf_switch_path(path, sizeof(path), name, pin_names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", BPF_SWITCH_PIN_ROOT, name);
	rmdir(path);
}

static int set_pin_paths(struct switch_bpf *skel, const char *name)
{
	struct bpf_map *maps[] = { skel->maps.ports,	 skel->maps.slots, skel->maps.fdb,
				   skel->maps.sw_config, skel->maps.stats, skel->maps.tx_ports };
	char path[256];
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		bpf_switch_path(path, sizeof(path), name, pin_names[i]);
		ret = bpf_map__set_pin_path(maps[i], path);
		if (ret)
			return ret;
	}
	bpf_switch_path(path, sizeof(path), name, "ports_fast");
	return bpf_map__set_pin_path(skel->maps.ports_fast, path);
}

int bpf_switch_netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd, ret = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		ret = -errno;
	close(fd);
	return ret;
}

static int init_config(struct switch_bpf *skel, const struct bpf_switch_create_opts *opts)
{
	struct kavm_sw_config cfg = {
		.ageing_ns = opts->ageing_ns ? opts->ageing_ns : KAVM_SW_AGEING_NS_DEFAULT,
		.flags = opts->xdp ? KAVM_SW_CFG_XDP : 0,
	};
	uint64_t cookie;
	uint32_t zero = 0;
	int ret;

	ret = bpf_switch_netns_cookie(&cookie);
	if (ret)
		return ret;
	cfg.netns_cookie = cookie;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.sw_config), &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int pin_progs(struct switch_bpf *skel, const char *name)
{
	char path[256];
	int ret;

	bpf_switch_path(path, sizeof(path), name, "prog_tc");
	ret = bpf_program__pin(skel->progs.kavm_sw_tc, path);
	if (ret)
		return ret;
	bpf_switch_path(path, sizeof(path), name, "prog_xdp");
	return bpf_program__pin(skel->progs.kavm_sw_xdp, path);
}

/* The last lines of the verifier's log: the reason is at its end. */
static const char *log_tail(const char *log, int lines)
{
	const char *p = log + strlen(log);

	while (p > log && (p[-1] == '\n' || p[-1] == '\0'))
		p--;
	while (p > log && lines) {
		p--;
		if (*p == '\n')
			lines--;
	}
	return p == log ? p : p + 1;
}

/* Open -> rodata -> load -> pin (STYLE rule 12); hooks come with ports. */
static int load_and_pin(const char *name, const struct bpf_switch_create_opts *opts)
{
	static char log_buf[1 << 16];
	struct switch_bpf *skel;
	int ret;

	skel = switch_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->refresh_ns = KAVM_SW_REFRESH_NS;
	ret = set_pin_paths(skel, name);
	if (ret)
		goto err_destroy;
	if (opts->test_verifier_reject)
		bpf_program__set_type(skel->progs.kavm_sw_tc, BPF_PROG_TYPE_SOCKET_FILTER);
	/* libbpf fills the buffer with the verifier's log when a load fails. */
	bpf_program__set_log_buf(skel->progs.kavm_sw_tc, log_buf, sizeof(log_buf));
	ret = switch_bpf__load(skel);
	if (ret) {
		if (log_buf[0]) {
			pr_err("switch %s: the verifier rejected the program; its log ends:\n%s",
			       name, log_tail(log_buf, 10));
			/* Its -EACCES would read as a missing capability. */
			ret = -ENOEXEC;
		}
		goto err_destroy;
	}
	ret = init_config(skel, opts);
	if (ret)
		goto err_destroy;
	ret = pin_progs(skel, name);
err_destroy:
	switch_bpf__destroy(skel);
	return ret;
}

int bpf_switch_create(const char *name, const struct bpf_switch_create_opts *opts)
{
	static const struct bpf_switch_create_opts defaults;
	char path[256];
	int ret;

	if (!opts)
		opts = &defaults;
	ret = bpf_switch_check_name(name);
	if (ret)
		return ret;
	ret = bpf_switch_pin_root_check();
	if (ret)
		return ret;
	ret = ensure_bpffs();
	if (ret)
		return ret;
	ret = make_dir(BPF_SWITCH_PIN_ROOT);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", BPF_SWITCH_PIN_ROOT, name);
	if (mkdir(path, 0700))
		return -errno;
	ret = load_and_pin(name, opts);
	if (ret)
		unpin_all(name);
	return ret;
}

static int open_pin(const char *name, const char *obj, int *fd)
{
	char path[256];

	bpf_switch_path(path, sizeof(path), name, obj);
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

static void close_fds(struct bpf_switch *sw)
{
	int *fds[] = { &sw->ports_fd,	   &sw->slots_fd,    &sw->fdb_fd, &sw->config_fd,
		       &sw->stats_fd,	   &sw->tx_ports_fd, &sw->tc_fd,  &sw->xdp_fd,
		       &sw->ports_fast_fd, &sw->dir_fd };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int open_fds(struct bpf_switch *sw)
{
	int *fds[] = { &sw->ports_fd,  &sw->slots_fd, &sw->fdb_fd,
		       &sw->config_fd, &sw->stats_fd, &sw->tx_ports_fd,
		       &sw->tc_fd,     &sw->xdp_fd,   &sw->ports_fast_fd };
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		ret = open_pin(sw->name, pin_names[i], fds[i]);
		if (ret)
			return ret;
	}
	return 0;
}

int bpf_switch_open(const char *name, struct bpf_switch **out)
{
	struct bpf_switch *sw;
	char path[256];
	int ret;

	ret = bpf_switch_check_name(name);
	if (ret)
		return ret;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	memset(&sw->dir_fd, 0xff, sizeof(*sw) - offsetof(struct bpf_switch, dir_fd));
	snprintf(sw->name, sizeof(sw->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", BPF_SWITCH_PIN_ROOT, name);
	sw->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sw->dir_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = open_fds(sw);
	if (ret)
		goto err_free;
	*out = sw;
	return 0;
err_free:
	close_fds(sw);
	free(sw);
	return ret;
}

void bpf_switch_close(struct bpf_switch *sw)
{
	if (!sw)
		return;
	close_fds(sw);
	free(sw);
}

int bpf_switch_in_netns(struct bpf_switch *sw)
{
	struct kavm_sw_config cfg;
	uint64_t cookie;
	int ret;

	ret = bpf_switch_netns_cookie(&cookie);
	if (!ret)
		ret = bpf_switch_config(sw, &cfg);
	if (ret)
		return ret;
	return cfg.netns_cookie == cookie;
}

/* Writers name devices by ifindex: only meaningful in the switch's own netns. */
int bpf_switch_lock(struct bpf_switch *sw)
{
	int ret;

	ret = bpf_switch_in_netns(sw);
	if (ret < 0)
		return ret;
	if (!ret)
		return -EXDEV;
	while (flock(sw->dir_fd, LOCK_EX))
		if (errno != EINTR)
			return -errno;
	return 0;
}

void bpf_switch_unlock(struct bpf_switch *sw)
{
	flock(sw->dir_fd, LOCK_UN);
}

int bpf_switch_destroy(const char *name)
{
	struct bpf_switch_port_info ports[KAVM_SW_MAX_PORTS];
	struct bpf_switch *sw;
	char idx[16];
	int n, i, ret;

	ret = bpf_switch_open(name, &sw);
	if (ret)
		return ret;
	/* Fails from another netns before anything is touched. */
	ret = bpf_switch_lock(sw);
	if (ret)
		goto out_close;
	bpf_switch_unlock(sw);
	n = bpf_switch_ports(sw, ports, ARRAY_SIZE(ports));
	for (i = 0; i < n && i < (int)ARRAY_SIZE(ports); i++) {
		snprintf(idx, sizeof(idx), "%u", ports[i].ifindex);
		ret = bpf_switch_port_del(sw, idx);
		if (ret && ret != -ENOENT)
			goto out_close;
	}
	ret = n < 0 ? n : 0;
	if (!ret)
		unpin_all(name);
out_close:
	bpf_switch_close(sw);
	return ret;
}

int bpf_switch_destroy_pins(const char *name)
{
	char path[256];
	int ret;

	ret = bpf_switch_check_name(name);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", BPF_SWITCH_PIN_ROOT, name);
	if (access(path, F_OK))
		return -errno;
	unpin_all(name);
	return 0;
}

int bpf_switch_attach(const char *name, const char *ifname, const struct bpf_switch_port_opts *opts)
{
	static const struct bpf_switch_port_opts defaults;
	char other[BPF_SWITCH_NAME_MAX + 1];
	struct bpf_switch *sw;
	int ret;

	ret = bpf_switch_open(name, &sw);
	if (ret)
		return ret;
	ret = bpf_switch_port_add(sw, ifname, opts ? opts : &defaults, other);
	bpf_switch_close(sw);
	return ret;
}

int bpf_switch_detach(const char *name, const char *ifname)
{
	struct bpf_switch *sw;
	int ret;

	ret = bpf_switch_open(name, &sw);
	if (ret)
		return ret;
	ret = bpf_switch_port_del(sw, ifname);
	bpf_switch_close(sw);
	return ret;
}

int bpf_switch_join(const char *name, const char *ifname, struct bpf_switch **out)
{
	static const struct bpf_switch_port_opts defaults;
	char other[BPF_SWITCH_NAME_MAX + 1];
	int ret;

	ret = bpf_switch_open(name, out);
	if (ret)
		return ret;
	ret = bpf_switch_port_add(*out, ifname, &defaults, other);
	if (ret) {
		bpf_switch_close(*out);
		*out = NULL;
	}
	return ret;
}

int bpf_switch_leave(struct bpf_switch *sw, uint32_t ifindex)
{
	int ret = bpf_switch_port_del_index(sw, ifindex);

	bpf_switch_close(sw);
	return ret;
}

int bpf_switch_for_each(int (*fn)(const char *name, void *arg), void *arg)
{
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = opendir(BPF_SWITCH_PIN_ROOT);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || bpf_switch_check_name(de->d_name))
			continue;
		ret = fn(de->d_name, arg);
		if (ret)
			break;
	}
	closedir(dir);
	return ret;
}
