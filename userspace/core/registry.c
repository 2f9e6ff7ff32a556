// SPDX-License-Identifier: GPL-2.0
/*
 * kavm VM registry (include/kavm/registry.h): the writer kavm uses and the
 * reader the tools use. The reader parses only what the writer writes (and
 * skips keys it does not know), so the project needs no JSON library.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <kavm/compiler.h>
#include <kavm/json.h>
#include <kavm/registry.h>

#define REGISTRY_FILE_MAX 65536

const char *registry_dir(void)
{
	const char *dir = getenv("KAVM_RUN_DIR");

	return dir && *dir ? dir : REGISTRY_DIR_DEFAULT;
}

int registry_check_name(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > REGISTRY_NAME_MAX || name[0] == '.' || name[0] == '-')
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return -EINVAL;
	}
	return 0;
}

static int read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size) {
		r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		n += r;
	}
	buf[n] = '\0';
	return n;
}

static int read_file_at(int dir_fd, const char *path, char *buf, size_t size)
{
	int fd, ret;

	fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_all(fd, buf, size);
	close(fd);
	return ret;
}

int registry_proc_start_time(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], *p;
	int i, ret;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	ret = read_file_at(AT_FDCWD, path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	/* The command name may hold spaces and parentheses: count from its end. */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	for (i = 2; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	*start = strtoull(p + 1, NULL, 10);
	return 0;
}

bool registry_alive(const struct registry_vm *vm)
{
	uint64_t start;

	return vm->pid > 0 && !registry_proc_start_time(vm->pid, &start) && start == vm->start_time;
}

/* --- reading, with json-c: unknown keys are a later version's, and skipped */

static int get_uint(struct json_object *o, uint64_t *v)
{
	if (!json_object_is_type(o, json_type_int) || json_object_get_int64(o) < 0)
		return -EINVAL;
	*v = json_object_get_uint64(o);
	return 0;
}

static int get_string(struct json_object *o, char *out, size_t size)
{
	if (!json_object_is_type(o, json_type_string))
		return -EINVAL;
	if ((size_t)json_object_get_string_len(o) >= size)
		return -ENAMETOOLONG;
	memcpy(out, json_object_get_string(o), json_object_get_string_len(o) + 1);
	return 0;
}

/* {"id":N,"tid":N} */
static int parse_vcpu(struct json_object *o, struct registry_vcpu *vcpu)
{
	struct json_object *v;
	uint64_t n = 0;
	int ret = 0;

	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (json_object_object_get_ex(o, "id", &v)) {
		ret = get_uint(v, &n);
		vcpu->id = n;
	}
	if (!ret && json_object_object_get_ex(o, "tid", &v)) {
		ret = get_uint(v, &n);
		vcpu->tid = n;
	}
	return ret;
}

/* {"ifname":"tap0","ifindex":N} */
static int parse_tap(struct json_object *o, struct registry_tap *tap)
{
	struct json_object *v;
	uint64_t n = 0;
	int ret = 0;

	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (json_object_object_get_ex(o, "ifname", &v))
		ret = get_string(v, tap->ifname, sizeof(tap->ifname));
	if (!ret && json_object_object_get_ex(o, "ifindex", &v)) {
		ret = get_uint(v, &n);
		tap->ifindex = n;
	}
	return ret;
}

static int parse_vcpus(struct json_object *a, struct registry_vm *vm)
{
	size_t i, n;
	int ret;

	if (!json_object_is_type(a, json_type_array))
		return -EINVAL;
	n = json_object_array_length(a);
	if (n > REGISTRY_MAX_VCPUS)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		ret = parse_vcpu(json_object_array_get_idx(a, i), &vm->vcpus[i]);
		if (ret)
			return ret;
	}
	vm->nr_vcpus = n;
	return 0;
}

static int parse_taps(struct json_object *a, struct registry_vm *vm)
{
	size_t i, n;
	int ret;

	if (!json_object_is_type(a, json_type_array))
		return -EINVAL;
	n = json_object_array_length(a);
	if (n > REGISTRY_MAX_TAPS)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		ret = parse_tap(json_object_array_get_idx(a, i), &vm->taps[i]);
		if (ret)
			return ret;
	}
	vm->nr_taps = n;
	return 0;
}

static int parse_vm(struct json_object *o, struct registry_vm *vm)
{
	struct json_object *v;
	uint64_t n = 0;
	int ret = 0;

	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (json_object_object_get_ex(o, "version", &v)) {
		ret = get_uint(v, &n);
		if (!ret && n != 1)
			return -EPROTO; /* a version this reader does not know */
	}
	if (!ret && json_object_object_get_ex(o, "name", &v))
		ret = get_string(v, vm->name, sizeof(vm->name));
	if (!ret && json_object_object_get_ex(o, "pid", &v)) {
		ret = get_uint(v, &n);
		vm->pid = n > INT32_MAX ? -1 : (pid_t)n;
	}
	if (!ret && json_object_object_get_ex(o, "start_time", &v))
		ret = get_uint(v, &vm->start_time);
	if (!ret && json_object_object_get_ex(o, "netns", &v))
		ret = get_uint(v, &vm->netns);
	if (!ret && json_object_object_get_ex(o, "vcpus", &v))
		ret = parse_vcpus(v, vm);
	if (!ret && json_object_object_get_ex(o, "taps", &v))
		ret = parse_taps(v, vm);
	return ret;
}

int registry_parse(const char *json, struct registry_vm *vm)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	size_t len = strlen(json);
	struct json_object *o;
	int ret;

	memset(vm, 0, sizeof(*vm));
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, (int)len);
	/* One object and nothing after it but white space. */
	ret = o && json_tokener_get_error(tok) == json_tokener_success &&
			      strspn(json + json_tokener_get_parse_end(tok), " \t\r\n") ==
				      len - json_tokener_get_parse_end(tok) ?
		      parse_vm(o, vm) :
		      -EINVAL;
	json_object_put(o);
	json_tokener_free(tok);
	if (!ret && (!vm->name[0] || vm->pid <= 0 || registry_check_name(vm->name)))
		ret = -EINVAL;
	return ret;
}

int registry_load(const char *name, struct registry_vm *vm)
{
	char path[PATH_MAX], *buf;
	int ret;

	if (registry_check_name(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s.json", registry_dir(), name);
	buf = malloc(REGISTRY_FILE_MAX);
	if (!buf)
		return -ENOMEM;
	ret = read_file_at(AT_FDCWD, path, buf, REGISTRY_FILE_MAX);
	if (ret >= 0)
		ret = registry_parse(buf, vm);
	free(buf);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int registry_names(char ***out, size_t *nr)
{
	char **names = NULL, **grown;
	struct dirent *de;
	size_t n = 0, len;
	DIR *dir;

	dir = opendir(registry_dir());
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[n] = strndup(de->d_name, len - 5);
		if (names[n])
			n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	*nr = n;
	return 0;
}

int registry_for_each(int (*fn)(const struct registry_vm *vm, void *arg), void *arg)
{
	struct registry_vm *vm = malloc(sizeof(*vm));
	char **names = NULL;
	size_t i, n = 0;
	int ret;

	if (!vm)
		return -ENOMEM;
	ret = registry_names(&names, &n);
	for (i = 0; i < n; i++) {
		if (!ret && !registry_load(names[i], vm) && registry_alive(vm))
			ret = fn(vm, arg);
		free(names[i]);
	}
	free(names);
	free(vm);
	return ret;
}

/* --- writing */

void registry_format(FILE *f, const struct registry_vm *vm)
{
	struct json_writer *jw = jw_new(f);
	unsigned int i;

	if (!jw)
		return;
	jw_start_object(jw);
	jw_uint_field(jw, "version", 1);
	jw_string_field(jw, "name", vm->name);
	jw_int_field(jw, "pid", vm->pid);
	jw_uint_field(jw, "start_time", vm->start_time);
	jw_uint_field(jw, "netns", vm->netns);
	jw_name(jw, "vcpus");
	jw_start_array(jw);
	for (i = 0; i < vm->nr_vcpus; i++) {
		jw_start_object(jw);
		jw_uint_field(jw, "id", vm->vcpus[i].id);
		jw_int_field(jw, "tid", vm->vcpus[i].tid);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_name(jw, "taps");
	jw_start_array(jw);
	for (i = 0; i < vm->nr_taps; i++) {
		jw_start_object(jw);
		jw_string_field(jw, "ifname", vm->taps[i].ifname);
		jw_uint_field(jw, "ifindex", vm->taps[i].ifindex);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_end_object(jw);
	jw_destroy(jw);
}

/* The tap behind fd: tun's fdinfo names the device it is attached to. */
static int fd_tap_name(const char *fd, char ifname[IF_NAMESIZE])
{
	char path[300], target[32], info[512], *iff;
	ssize_t n;
	size_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%s", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (strcmp(target, "/dev/net/tun"))
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", fd);
	if (read_file_at(AT_FDCWD, path, info, sizeof(info)) < 0)
		return -ENOENT;
	iff = strstr(info, "iff:\t");
	if (!iff)
		return -ENOENT; /* not attached to a device */
	iff += 5;
	len = strcspn(iff, "\n");
	if (!len || len >= IF_NAMESIZE)
		return -ENOENT;
	memcpy(ifname, iff, len);
	ifname[len] = '\0';
	return 0;
}

static void add_tap(struct registry_vm *vm, const char *ifname)
{
	unsigned int i, ifindex = if_nametoindex(ifname);

	if (!ifindex)
		return;
	for (i = 0; i < vm->nr_taps; i++)
		if (vm->taps[i].ifindex == ifindex)
			return; /* another queue of the same tap */
	if (vm->nr_taps == REGISTRY_MAX_TAPS)
		return;
	snprintf(vm->taps[vm->nr_taps].ifname, IF_NAMESIZE, "%s", ifname);
	vm->taps[vm->nr_taps++].ifindex = ifindex;
}

static void find_taps(struct registry_vm *vm)
{
	char ifname[IF_NAMESIZE];
	struct dirent *de;
	DIR *dir;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && !fd_tap_name(de->d_name, ifname))
			add_tap(vm, ifname);
	closedir(dir);
}

static int fill_self(struct registry_vm *vm, const char *name)
{
	struct stat st;
	int ret;

	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->pid = getpid();
	ret = registry_proc_start_time(vm->pid, &vm->start_time);
	if (ret)
		return ret;
	if (stat("/proc/self/ns/net", &st))
		return -errno;
	vm->netns = st.st_ino;
	find_taps(vm);
	return 0;
}

/* mkdir -p: a minimal host (the test host's busybox) may have no /run yet. */
static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];
	char *p;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int registry_open(struct registry *reg, const char *name, pid_t *owner)
{
	struct registry_vm *vm;
	const char *dir = registry_dir();
	int ret;

	reg->dir_fd = -1;
	reg->published = false;
	ret = registry_check_name(name);
	if (ret)
		return ret;
	snprintf(reg->name, sizeof(reg->name), "%s", name);
	ret = mkdir_parents(dir);
	if (ret)
		return ret;
	vm = malloc(sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	ret = registry_load(name, vm);
	if (!ret && registry_alive(vm) && vm->pid != getpid()) {
		*owner = vm->pid;
		free(vm);
		return -EEXIST;
	}
	free(vm);
	reg->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return reg->dir_fd < 0 ? -errno : 0;
}

int registry_publish(struct registry *reg, const struct registry_vcpu *vcpus, unsigned int nr_vcpus)
{
	char tmp[REGISTRY_NAME_MAX + 16], final[REGISTRY_NAME_MAX + 8];
	struct registry_vm *vm;
	FILE *f;
	int fd, ret;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	ret = fill_self(vm, reg->name);
	if (ret)
		goto out_free;
	vm->nr_vcpus = min(nr_vcpus, REGISTRY_MAX_VCPUS);
	memcpy(vm->vcpus, vcpus, vm->nr_vcpus * sizeof(*vcpus));
	/* A reader never sees half a file: write aside, then rename over. */
	snprintf(tmp, sizeof(tmp), ".%s.json.tmp", reg->name);
	snprintf(final, sizeof(final), "%s.json", reg->name);
	fd = openat(reg->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto out_unlink;
	}
	registry_format(f, vm);
	ret = ferror(f) ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && renameat(reg->dir_fd, tmp, reg->dir_fd, final))
		ret = -errno;
	if (!ret)
		reg->published = true;
out_unlink:
	if (ret)
		unlinkat(reg->dir_fd, tmp, 0);
out_free:
	free(vm);
	return ret;
}

void registry_close(struct registry *reg)
{
	char final[REGISTRY_NAME_MAX + 8];

	if (reg->dir_fd < 0)
		return;
	if (reg->published) {
		snprintf(final, sizeof(final), "%s.json", reg->name);
		unlinkat(reg->dir_fd, final, 0);
		reg->published = false;
	}
	close(reg->dir_fd);
	reg->dir_fd = -1;
}
