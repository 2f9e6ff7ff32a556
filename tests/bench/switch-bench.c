// SPDX-License-Identifier: GPL-2.0
/*
 * switch-bench: frames/s from one tap to another through each way of
 * connecting them, all in the same run and the same fresh netns.
 *
 * A writer thread writes frames into tap A's fd (a VM's TX; O_NONBLOCK, as a
 * VMM does, which also lets tun run native XDP); a reader thread counts what
 * comes out of tap B's fd (the other VM's RX). Between them: the Linux
 * bridge (the baseline), a one-line tc redirect and a one-line XDP devmap
 * redirect (the ceilings of each hook), the kavm switch in tc and in XDP
 * mode, kavm_switch.ko (the kmod engine: an rx_handler, as the bridge's;
 * measured when the module is loaded, which only the test host can do:
 * tests/bench/switch-bench-kmod.sh), and a userspace forwarder that reads A's
 * frames from a packet socket and sends them out of B with another (a hub in
 * userspace, one syscall per frame each way). Figures are ratios to the
 * bridge and, for the eBPF switch, to the one-line program of its hook (for
 * kavm_switch.ko: to the tc one-line program and to the eBPF switch in tc
 * mode, the engine it stands against), two ways: the rate (best of interleaved
 * rounds; the host is shared and noise only slows) and the CPU time the
 * threads spend per frame (writer per frame written, reader and forwarder
 * per frame moved; least of the rounds), which contention disturbs far less.
 *
 *   switch-bench [SECONDS [ROUNDS [PATH]]]   (default 0.5 s, best of 5, every path;
 *                                             PATH: a substring of the names; root)
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>
#include <kavm/kswitch.h>

#include "bpf/redirect-one.skel.h"

#include "../native/switch-util.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 2, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 2, 0x0b };

enum path { BRIDGE, TC_ONE, KAVM_TC, KMOD, XDP_ONE, KAVM_XDP, USERSPACE, NR_PATHS };

static const char *const path_name[NR_PATHS] = {
	[BRIDGE] = "linux bridge",	     [TC_ONE] = "tc one-line redirect",
	[KAVM_TC] = "kavm switch, tc",	     [KMOD] = "kavm switch, kmod",
	[XDP_ONE] = "xdp one-line redirect", [KAVM_XDP] = "kavm switch, xdp",
	[USERSPACE] = "userspace forwarder",
};

struct bench {
	enum path path;
	size_t size;
	double secs;
	char a[IFNAMSIZ], b[IFNAMSIZ];
	int fd_a, fd_b;
	int pkt_a, pkt_b; /* USERSPACE */
	struct redirect_one_bpf *one;
	char sw[BPF_SWITCH_NAME_MAX + 1];
	struct kswitch *k; /* KMOD: the switch ksw of kavm_switch.ko */
	char ksw[KAVM_SWITCH_NAME_MAX + 1];
	atomic_bool stop;
	atomic_bool stop_fwd;
	uint64_t tx, rx, fwd;
	uint64_t cpu_w, cpu_r, cpu_f; /* CPU time of each thread, ns */
	double prog_ns;		      /* mean run time of the BPF program(s) per frame at B */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (getenv("SWITCH_BENCH_NOPIN"))
		return;
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* CPU time of the calling thread: user, system and the softirqs run on its behalf. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *writer(void *arg)
{
	struct bench *b = arg;
	uint64_t cpu0 = thread_cpu_ns();
	uint8_t f[1514];

	pin_cpu(0);
	frame_make(f, b->size, mac_b, mac_a, 1);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed))
		if (write(b->fd_a, f, b->size) > 0)
			b->tx++;
	b->cpu_w = thread_cpu_ns() - cpu0;
	return NULL;
}

static void *reader(void *arg)
{
	struct bench *b = arg;
	uint64_t cpu0 = thread_cpu_ns();
	uint8_t f[2048];

	pin_cpu(1);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		if (read(b->fd_b, f, sizeof(f)) > 0)
			b->rx++;
		else if (errno == EAGAIN)
			poll(&(struct pollfd){ .fd = b->fd_b, .events = POLLIN }, 1, 10);
	}
	b->cpu_r = thread_cpu_ns() - cpu0;
	return NULL;
}

static void *forwarder(void *arg)
{
	struct bench *b = arg;
	uint64_t cpu0 = thread_cpu_ns();
	uint8_t f[2048];
	ssize_t n;

	pin_cpu(1);
	while (!atomic_load_explicit(&b->stop_fwd, memory_order_relaxed)) {
		n = recv(b->pkt_a, f, sizeof(f), 0);
		if (n > 0 && send(b->pkt_b, f, n, 0) == n)
			b->fwd++;
	}
	b->cpu_f = thread_cpu_ns() - cpu0;
	return NULL;
}

static int sh(const char *fmt, ...) __printf(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) ? -EIO : 0;
}

/* Run time of a program so far (kernel.bpf_stats_enabled must be on). */
static uint64_t prog_run_ns(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.run_time_ns;
}

/* The programs a frame meets on this path. */
static void path_progs(struct bench *b, int fds[2])
{
	struct bpf_switch *sw;

	fds[0] = fds[1] = -1;
	if (b->one) {
		fds[0] = dup(bpf_program__fd(b->path == XDP_ONE ? b->one->progs.redirect_one_xdp :
								  b->one->progs.redirect_one_tc));
	} else if (b->sw[0] && !bpf_switch_open(b->sw, &sw)) {
		fds[0] = dup(sw->tc_fd);
		fds[1] = dup(sw->xdp_fd);
		bpf_switch_close(sw);
	}
}

static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = if_nametoindex(ifname),
	};
	struct timeval tv = { .tv_usec = 100000 };
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	/* Receive timeouts let the forwarder see the stop flag. */
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int setup_one(struct bench *b)
{
	uint32_t ifa = if_nametoindex(b->a), ifb = if_nametoindex(b->b), zero = 0;
	struct bpf_devmap_val val = { .ifindex = ifb };
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifa, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = 1);
	int ret;

	b->one = redirect_one_bpf__open();
	if (!b->one)
		return -errno;
	b->one->rodata->target_ifindex = ifb;
	ret = redirect_one_bpf__load(b->one);
	if (ret)
		return ret;
	if (b->path == XDP_ONE) {
		if (bpf_map_update_elem(bpf_map__fd(b->one->maps.one_port), &zero, &val, BPF_ANY))
			return -errno;
		return bpf_xdp_attach(ifa, bpf_program__fd(b->one->progs.redirect_one_xdp),
				      XDP_FLAGS_DRV_MODE, NULL);
	}
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST)
		return ret;
	o.prog_fd = bpf_program__fd(b->one->progs.redirect_one_tc);
	return bpf_tc_attach(&hook, &o);
}

/* Both ports declare their VM's MAC, as a VMM attaching its tap does. */
static int setup_kavm(struct bench *b)
{
	struct bpf_switch_create_opts o = { .xdp = b->path == KAVM_XDP };
	struct bpf_switch_port_opts pa = { .has_mac = true }, pb = { .has_mac = true };
	int ret;

	memcpy(pa.mac, mac_a, 6);
	memcpy(pb.mac, mac_b, 6);
	sw_test_name(b->sw, sizeof(b->sw), "bench");
	ret = bpf_switch_create(b->sw, &o);
	if (ret)
		return ret;
	ret = bpf_switch_attach(b->sw, b->a, &pa);
	return ret ? ret : bpf_switch_attach(b->sw, b->b, &pb);
}

/* The same for kavm_switch.ko: both ports with their VM's MAC (a static entry). */
static int setup_kmod(struct bench *b)
{
	int ret;

	ret = kswitch_open(&b->k);
	if (ret)
		return ret;
	snprintf(b->ksw, sizeof(b->ksw), "kbench-%d", (int)getpid());
	ret = kswitch_new(b->k, b->ksw, 0, 0);
	if (ret) {
		b->ksw[0] = 0;
		return ret;
	}
	ret = kswitch_port_add(b->k, b->ksw, b->a, 0, mac_a);
	return ret ? ret : kswitch_port_add(b->k, b->ksw, b->b, 0, mac_b);
}

/* Whether kavm_switch.ko is there to be measured (its genl family exists). */
static bool kmod_loaded(void)
{
	struct kswitch *k;

	if (kswitch_open(&k))
		return false;
	kswitch_close(k);
	return true;
}

static int setup_path(struct bench *b)
{
	switch (b->path) {
	case BRIDGE:
		return sh("ip link add kbench0 type bridge && ip link set kbench0 up && "
			  "ip link set %s master kbench0 && ip link set %s master kbench0 && "
			  "bridge fdb add 02:00:00:00:02:0b dev %s master static",
			  b->a, b->b, b->b);
	case TC_ONE:
	case XDP_ONE:
		return setup_one(b);
	case KAVM_TC:
	case KAVM_XDP:
		return setup_kavm(b);
	case KMOD:
		return setup_kmod(b);
	case USERSPACE:
		b->pkt_a = packet_socket(b->a);
		b->pkt_b = packet_socket(b->b);
		return b->pkt_a < 0 ? b->pkt_a : b->pkt_b < 0 ? b->pkt_b : 0;
	default:
		return -EINVAL;
	}
}

/* Which way the switch's frames went: a path's figures mean nothing if mixed. */
static void print_switch_counters(struct bench *b)
{
	uint64_t c[KAVM_SW_NR_COUNTERS];
	struct bpf_switch *sw;
	int i;

	if (!getenv("SWITCH_BENCH_VERBOSE") || bpf_switch_open(b->sw, &sw))
		return;
	if (!bpf_switch_totals(sw, c)) {
		fprintf(stderr, "#  ");
		for (i = 0; i < KAVM_SW_NR_COUNTERS; i++)
			if (c[i])
				fprintf(stderr, " %s %" PRIu64, bpf_switch_counter_name(i), c[i]);
		fprintf(stderr, "\n");
	}
	bpf_switch_close(sw);
}

static void print_kmod_counters(struct bench *b)
{
	struct kswitch_info info;
	const char *name;
	int i;

	if (!getenv("SWITCH_BENCH_VERBOSE") || kswitch_get(b->k, b->ksw, &info))
		return;
	fprintf(stderr, "#  ");
	for (i = 0; i < KSWITCH_NR_STATS; i++) {
		name = kswitch_stat_name(i);
		if (name && info.stats[i])
			fprintf(stderr, " %s %" PRIu64, name, info.stats[i]);
	}
	fprintf(stderr, "\n");
}

static void teardown(struct bench *b)
{
	if (b->path == BRIDGE)
		sh("ip link del kbench0");
	if (b->sw[0]) {
		print_switch_counters(b);
		bpf_switch_destroy(b->sw);
	}
	if (b->k) {
		if (b->ksw[0]) {
			print_kmod_counters(b);
			if (kswitch_del(b->k, b->ksw))
				fprintf(stderr, "switch-bench: kmod switch %s: del: %s\n", b->ksw,
					kswitch_errmsg(b->k));
		}
		kswitch_close(b->k);
	}
	if (b->pkt_a >= 0)
		close(b->pkt_a);
	if (b->pkt_b >= 0)
		close(b->pkt_b);
	/* Closing the taps deletes them, and every hook on them. */
	close(b->fd_a);
	close(b->fd_b);
	redirect_one_bpf__destroy(b->one);
}

static int make_taps(struct bench *b)
{
	snprintf(b->a, IFNAMSIZ, "kbench%da", b->path);
	snprintf(b->b, IFNAMSIZ, "kbench%db", b->path);
	b->fd_a = tapdev_open(b->a, true);
	if (b->fd_a < 0)
		return b->fd_a;
	b->fd_b = tapdev_open(b->b, true);
	if (b->fd_b < 0) {
		close(b->fd_a);
		return b->fd_b;
	}
	if (tapdev_up(b->a) || tapdev_up(b->b))
		return -EIO;
	return 0;
}

/* Received frames/s at B while the writer runs flat out for secs. */
static double measure(struct bench *b)
{
	uint64_t ns0 = 0, ns1 = 0;
	pthread_t w, r, f;
	int fds[2], i;
	double t0, t1;

	pthread_create(&r, NULL, reader, b);
	if (b->path == USERSPACE)
		pthread_create(&f, NULL, forwarder, b);
	usleep(100 * 1000);
	path_progs(b, fds);
	for (i = 0; i < 2; i++)
		ns0 += prog_run_ns(fds[i]);
	t0 = now_s();
	b->rx = 0;
	b->tx = 0;
	pthread_create(&w, NULL, writer, b);
	usleep(b->secs * 1e6);
	t1 = now_s();
	atomic_store(&b->stop, true);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	if (b->path == USERSPACE) {
		atomic_store(&b->stop_fwd, true);
		pthread_join(f, NULL);
	}
	for (i = 0; i < 2; i++) {
		ns1 += prog_run_ns(fds[i]);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	b->prog_ns = b->rx ? (double)(ns1 - ns0) / b->rx : 0;
	if (getenv("SWITCH_BENCH_VERBOSE"))
		fprintf(stderr,
			"# %s %zu B: written %.1f kpps (%.0f ns cpu/f), read %.1f kpps (%.0f ns cpu/f)\n",
			path_name[b->path], b->size, b->tx / (t1 - t0) / 1e3,
			b->tx ? (double)b->cpu_w / b->tx : 0, b->rx / (t1 - t0) / 1e3,
			b->rx ? (double)b->cpu_r / b->rx : 0);
	return b->rx / (t1 - t0);
}

struct result {
	double pps;	/* frames/s read from tap B */
	double cpu_ns;	/* CPU per frame: writer per written, reader (+forwarder) per moved */
	double prog_ns; /* with SWITCH_BENCH_STATS: the programs' run time per frame */
};

static int bench_one(enum path p, size_t size, double secs, struct result *res)
{
	struct bench b = { .path = p, .size = size, .secs = secs, .pkt_a = -1, .pkt_b = -1 };
	int ret;

	ret = make_taps(&b);
	if (ret) {
		fprintf(stderr, "switch-bench: taps: %s\n", strerror(-ret));
		return ret;
	}
	ret = setup_path(&b);
	if (ret) {
		fprintf(stderr, "switch-bench: %s: setup: %s\n", path_name[p], strerror(-ret));
	} else {
		res->pps = measure(&b);
		res->prog_ns = b.prog_ns;
		ret = b.tx && b.rx && (p != USERSPACE || b.fwd) ? 0 : -EIO;
		if (!ret)
			res->cpu_ns = (double)b.cpu_w / b.tx + (double)b.cpu_r / b.rx +
				      (b.fwd ? (double)b.cpu_f / b.fwd : 0);
	}
	teardown(&b);
	return ret;
}

/* ns per run of the path's program on one known-unicast frame, BPF_PROG_TEST_RUN. */
static double prog_cost(struct bench *b)
{
	uint32_t ifa = if_nametoindex(b->a);
	struct __sk_buff skb = { .ifindex = ifa };
	struct xdp_md xdp = { .data_end = b->size, .ingress_ifindex = ifa };
	bool is_xdp = b->path == XDP_ONE || b->path == KAVM_XDP;
	uint8_t f[1514], out[1514];
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = b->size,
			    .repeat = 100000);
	int fds[2];
	double ns;

	frame_make(f, b->size, mac_b, mac_a, 1);
	if (is_xdp) {
		o.ctx_in = &xdp;
		o.ctx_size_in = sizeof(xdp);
	} else {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
		o.data_out = out;
		o.data_size_out = sizeof(out);
	}
	path_progs(b, fds);
	ns = bpf_prog_test_run_opts(fds[is_xdp && fds[1] >= 0 ? 1 : 0], &o) ? -1.0 :
									      (double)o.duration;
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return ns;
}

static void print_costs(size_t size)
{
	static const enum path paths[] = { TC_ONE, KAVM_TC, XDP_ONE, KAVM_XDP };
	size_t i;

	printf("program alone (BPF_PROG_TEST_RUN, %zu B known unicast):", size);
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		struct bench b = { .path = paths[i], .size = size, .pkt_a = -1, .pkt_b = -1 };
		double ns = -1;

		if (!make_taps(&b) && !setup_path(&b))
			ns = prog_cost(&b);
		teardown(&b);
		printf("%s %s %.0f ns", i ? "," : "", path_name[paths[i]], ns);
	}
	printf("\n");
}

static void print_ratio(const char *what, double v, double ceiling)
{
	if (v > 0 && ceiling > 0)
		printf("  %s %5.1f%%", what, 100 * v / ceiling);
}

/* "1.23x" = a / b, or "-" without a baseline. */
static void print_x(double a, double b)
{
	if (a > 0 && b > 0)
		printf("  %6.2fx", a / b);
	else
		printf("  %7s", "-");
}

static void print_row(size_t size, enum path p, const struct result *r)
{
	const struct result *br = &r[BRIDGE];

	printf("%5zu  %-22s %8.1f", size, path_name[p], r[p].pps / 1e3);
	print_x(r[p].pps, br->pps);
	printf("  %8.0f", r[p].cpu_ns);
	print_x(br->cpu_ns, r[p].cpu_ns);
	if (r[p].prog_ns > 0)
		printf("  prog %.0f ns", r[p].prog_ns);
	if (p == KAVM_TC || p == KAVM_XDP) {
		const struct result *c = &r[p == KAVM_TC ? TC_ONE : XDP_ONE];

		printf("   of %s one-line:", p == KAVM_TC ? "tc" : "xdp");
		print_ratio("rate", r[p].pps, c->pps);
		print_ratio("cpu", c->cpu_ns, r[p].cpu_ns);
	}
	if (p == KMOD) {
		printf("   of tc one-line:");
		print_ratio("rate", r[p].pps, r[TC_ONE].pps);
		print_ratio("cpu", r[TC_ONE].cpu_ns, r[p].cpu_ns);
		printf("   of kavm tc:");
		print_ratio("rate", r[p].pps, r[KAVM_TC].pps);
		print_ratio("cpu", r[KAVM_TC].cpu_ns, r[p].cpu_ns);
	}
	printf("\n");
}

/* Interleaved rounds: the host is shared and noise only slows, so keep the best. */
static bool have_kmod;

static void bench_size(size_t size, double secs, int rounds, const char *only)
{
	struct result res[NR_PATHS] = {}, r;
	int p, i;

	for (i = 0; i < rounds; i++) {
		for (p = 0; p < NR_PATHS; p++) {
			if (only && !strstr(path_name[p], only))
				continue;
			if (p == KMOD && !have_kmod)
				continue;
			r = (struct result){};
			if (bench_one(p, size, secs, &r))
				continue;
			if (r.pps > res[p].pps) {
				res[p].pps = r.pps;
				res[p].prog_ns = r.prog_ns;
			}
			if (!res[p].cpu_ns || r.cpu_ns < res[p].cpu_ns)
				res[p].cpu_ns = r.cpu_ns;
		}
	}
	for (p = 0; p < NR_PATHS; p++)
		if (res[p].pps > 0)
			print_row(size, p, res);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 1500 };
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	int rounds = argc > 2 ? atoi(argv[2]) : 5, stats_fd;
	const char *only = argc > 3 ? argv[3] : NULL;
	size_t s;

	if (geteuid()) {
		fprintf(stderr, "switch-bench: needs root\n");
		return 4;
	}
	if (unshare(CLONE_NEWNET) || sh("ip link set lo up") ||
	    sh("echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")) {
		perror("switch-bench: netns");
		return 1;
	}
	sw_sweep_stale();
	/*
	 * Per-program run time in the real path, on request only: the
	 * accounting reads the clock twice per run, which slows BPF paths.
	 */
	stats_fd = getenv("SWITCH_BENCH_STATS") ? bpf_enable_stats(BPF_STATS_RUN_TIME) : -1;
	printf("switch-bench: tap A fd -> tap B fd, writer and reader threads, "
	       "best of %d x %.1f s per case\n",
	       rounds, secs);
	have_kmod = kmod_loaded();
	if (!have_kmod && (!only || strstr(path_name[KMOD], only)))
		printf("(%s: kavm_switch.ko is not loaded here, not measured; "
		       "tests/bench/switch-bench-kmod.sh runs every path in the test host)\n",
		       path_name[KMOD]);
	printf("%5s  %-22s %8s  %7s  %8s  %7s\n", "bytes", "path", "kpps", "bridge", "cpu ns/f",
	       "bridge");
	for (s = 0; s < ARRAY_SIZE(sizes); s++)
		bench_size(sizes[s], secs, rounds, only);
	if (stats_fd >= 0)
		close(stats_fd);
	for (s = 0; (!only || !strcmp(only, "costs")) && s < ARRAY_SIZE(sizes); s++)
		print_costs(sizes[s]);
	return 0;
}
