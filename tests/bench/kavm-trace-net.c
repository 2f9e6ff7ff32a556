// SPDX-License-Identifier: GPL-2.0
/*
 * What kavm-trace net costs: frames/s without and with `kavm-trace net`
 * running, in one run, in a private network namespace, two ways:
 *  - tap -> bridge -> tap: frames written into one tap, forwarded by a
 *    kernel bridge to a second tap and read off it, as between two VMs
 *    (netif_receive_skb, net_dev_xmit and consume_skb traced, per frame);
 *  - the worst case: frames written into a tap and dropped (no protocol
 *    takes them): netif_receive_skb and a drop, counted by reason.
 * The programs run in the bench thread's context, so the rate per
 * CPU-second of that thread is the figure; the wall-clock one is printed
 * too. Both taps are registered as a VM's (a registry file in a private
 * KAVM_RUN_DIR), so the tracer really follows them.
 *
 *   kavm-trace-net                      the benchmark (root)
 *   kavm-trace-net send TAP N LEN [TYPE] write N frames of LEN bytes into TAP
 *   kavm-trace-net xmit TAP N LEN       send N frames out through TAP (packet
 *                                       socket) while holding it, then read them
 *
 * The two helper modes serve tests/native/kavm-trace.sh. Environment:
 * KAVM_TRACE (default: kavm-trace next to build/tests/), KAVM_BENCH_SECONDS
 * (per measurement, default 1), KAVM_BENCH_ROUNDS (default 7, at most 31).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kavm/registry.h>

#define BENCH_TAP "ktbench0"
#define BENCH_TAP_PEER "ktbench1"
#define BENCH_BRIDGE "ktbenchbr0"
#define BENCH_LEN 64
#define BENCH_ROUNDS_MAX 31

static int tap_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void frame_fill(unsigned char *f, size_t len, unsigned int type)
{
	static const unsigned char dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char src[6] = { 0x02, 0x00, 0x00, 0x6b, 0x74, 0x01 };

	memset(f, 0, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = type >> 8;
	f[13] = type & 0xff;
}

/* Write n frames; the frames the tap refuses (down: EIO) are counted, not fatal. */
static int do_send(const char *tap, long n, size_t len, unsigned int type)
{
	unsigned char frame[2048];
	long i, sent = 0, failed = 0;
	int fd = tap_open(tap);

	if (fd < 0 || len < 14 || len > sizeof(frame)) {
		fprintf(stderr, "send: %s: %s\n", tap, fd < 0 ? strerror(-fd) : "bad length");
		return 1;
	}
	frame_fill(frame, len, type);
	for (i = 0; i < n; i++) {
		if (write(fd, frame, len) == (ssize_t)len)
			sent++;
		else
			failed++;
	}
	printf("sent %ld failed %ld\n", sent, failed);
	close(fd);
	return 0;
}

static int do_xmit(const char *tap, long n, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned char frame[2048];
	long i, sent = 0, got = 0;
	int fd, sock;

	fd = tap_open(tap);
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 || sock < 0 || len < 14 || len > sizeof(frame)) {
		fprintf(stderr, "xmit: %s: cannot open\n", tap);
		return 1;
	}
	sll.sll_ifindex = if_nametoindex(tap);
	frame_fill(frame, len, 0x88b5);
	for (i = 0; i < n; i++)
		if (sendto(sock, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
		    (ssize_t)len)
			sent++;
	/* Take them off the tap as a VMM would: the queue then holds nothing. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	usleep(100000);
	while (read(fd, frame, sizeof(frame)) > 0)
		got++;
	printf("xmit %ld read %ld\n", sent, got);
	close(sock);
	close(fd);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/*
 * Frames per second of this thread's CPU time: what the sender does when
 * it has a CPU to itself. The wall-clock rate is returned too, but on a
 * shared machine it mostly measures the neighbours. With peer >= 0 each
 * batch written is read back off the peer tap (the bridge forwarded it).
 */
static double flood(int fd, int peer, size_t len, double seconds, double *wall_rate)
{
	unsigned char frame[2048], in[2048];
	double start = now(), cpu0 = cpu_seconds(), t;
	long n = 0;

	frame_fill(frame, len, 0x88b5);
	/* Unicast to a MAC nobody has: the bridge floods it to the peer only. */
	frame[0] = 0x02;
	frame[5] = 0x02;
	do {
		int i;

		for (i = 0; i < 256; i++)
			n += write(fd, frame, len) == (ssize_t)len;
		while (peer >= 0 && read(peer, in, sizeof(in)) > 0)
			;
		t = now();
	} while (t - start < seconds);
	*wall_rate = n / (t - start);
	return n / (cpu_seconds() - cpu0);
}

static int link_up(const char *name)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		ret = -1;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr))
		ret = -1;
	if (s >= 0)
		close(s);
	return ret;
}

/* A kernel bridge with both taps on it (the old ioctls: no netlink needed here). */
static int bridge_make(void)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;
	const char *ports[] = { BENCH_TAP, BENCH_TAP_PEER };
	unsigned int i;

	if (s < 0 || ioctl(s, SIOCBRADDBR, BENCH_BRIDGE))
		ret = -1;
	for (i = 0; !ret && i < 2; i++) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), BENCH_BRIDGE);
		ifr.ifr_ifindex = (int)if_nametoindex(ports[i]);
		if (ioctl(s, SIOCBRADDIF, &ifr))
			ret = -1;
	}
	if (s >= 0)
		close(s);
	return ret ? ret : link_up(BENCH_BRIDGE);
}

/* This process holds the taps: register them as VM "bench" in dir. */
static int register_self(const char *dir)
{
	static struct registry_vm vm;
	char path[PATH_MAX];
	struct stat st;
	FILE *f;

	snprintf(vm.name, sizeof(vm.name), "bench");
	vm.pid = getpid();
	if (registry_proc_start_time(vm.pid, &vm.start_time) || stat("/proc/self/ns/net", &st))
		return -1;
	vm.netns = st.st_ino;
	vm.nr_taps = 2;
	snprintf(vm.taps[0].ifname, IF_NAMESIZE, BENCH_TAP);
	vm.taps[0].ifindex = if_nametoindex(BENCH_TAP);
	snprintf(vm.taps[1].ifname, IF_NAMESIZE, BENCH_TAP_PEER);
	vm.taps[1].ifindex = if_nametoindex(BENCH_TAP_PEER);
	snprintf(path, sizeof(path), "%s/bench.json", dir);
	f = fopen(path, "we");
	if (!f)
		return -1;
	registry_format(f, &vm);
	return fclose(f);
}

/* kavm-trace net in the background; returns once it printed its start record. */
static pid_t tracer_start(const char *trace)
{
	char line[512];
	int pipefd[2];
	FILE *out;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		execl(trace, trace, "net", "-j", "--vm", "bench", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	if (!out || !fgets(line, sizeof(line), out) || !strstr(line, "\"type\":\"start\"")) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	/* Keep reading its output in a child so that it never blocks on the pipe. */
	if (fork() == 0) {
		while (fgets(line, sizeof(line), out))
			;
		_exit(0);
	}
	fclose(out);
	return pid;
}

static int ratio_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Rounds of without/with, each with its own ratio: the machine's drift cancels in each. */
static int measure(int fd, int peer, size_t len, const char *what, const char *trace, double secs,
		   unsigned int rounds)
{
	double without[BENCH_ROUNDS_MAX], with[BENCH_ROUNDS_MAX], ratio[BENCH_ROUNDS_MAX];
	double wall_without, wall_with, wall[BENCH_ROUNDS_MAX];
	unsigned int r;
	pid_t tracer;

	printf("%zu-byte frames, %s:\n", len, what);
	for (r = 0; r < rounds; r++) {
		without[r] = flood(fd, peer, len, secs, &wall_without);
		tracer = tracer_start(trace);
		if (tracer < 0) {
			fprintf(stderr, "kavm-trace-net: %s net did not start\n", trace);
			return 1;
		}
		with[r] = flood(fd, peer, len, secs, &wall_with);
		kill(tracer, SIGTERM);
		waitpid(tracer, NULL, 0);
		ratio[r] = with[r] / without[r];
		wall[r] = wall_with / wall_without;
		printf("  round %u: %.0f frames per CPU-second without, %.0f with: %.3f "
		       "(wall clock: %.0f/s, %.0f/s: %.3f)\n",
		       r + 1, without[r], with[r], ratio[r], wall_without, wall_with, wall[r]);
	}
	qsort(ratio, rounds, sizeof(ratio[0]), ratio_cmp);
	qsort(wall, rounds, sizeof(wall[0]), ratio_cmp);
	printf("kavm-trace net: wall-clock frames/s with/without, median: %.3f\n",
	       wall[rounds / 2]);
	printf("kavm-trace net: frames/s (per CPU-second) with/without, median of %u rounds: "
	       "%.3f (%.1f%% fewer; %zu-byte frames, %s)\n",
	       rounds, ratio[rounds / 2], 100.0 * (1 - ratio[rounds / 2]), len, what);
	return 0;
}

static int bench(const char *argv0)
{
	const char *trace = getenv("KAVM_TRACE"), *secs_env = getenv("KAVM_BENCH_SECONDS");
	const char *rounds_env = getenv("KAVM_BENCH_ROUNDS");
	unsigned int rounds = rounds_env ? strtoul(rounds_env, NULL, 10) : 7;
	char dir[] = "/tmp/kavm-trace-bench.XXXXXX", self[PATH_MAX], path[PATH_MAX + 32];
	double secs = secs_env ? atof(secs_env) : 1.0;
	static const size_t lens[] = { BENCH_LEN, 1500 };
	int fd, peer, ret, i;

	if (!trace) {
		snprintf(self, sizeof(self), "%s", argv0);
		snprintf(path, sizeof(path), "%s/../../kavm-trace", dirname(self));
		trace = path;
	}
	if (unshare(CLONE_NEWNET) || !mkdtemp(dir)) {
		fprintf(stderr, "kavm-trace-net: needs root (a network namespace)\n");
		return 1;
	}
	setenv("KAVM_RUN_DIR", dir, 1);
	fd = tap_open(BENCH_TAP);
	peer = tap_open(BENCH_TAP_PEER);
	if (fd < 0 || peer < 0 || link_up(BENCH_TAP) || link_up(BENCH_TAP_PEER) ||
	    fcntl(peer, F_SETFL, O_NONBLOCK) || register_self(dir)) {
		fprintf(stderr, "kavm-trace-net: taps %s, %s: cannot set up\n", BENCH_TAP,
			BENCH_TAP_PEER);
		return 1;
	}
	if (!rounds || rounds > BENCH_ROUNDS_MAX)
		rounds = 7;
	/* The worst case first, while no bridge takes the frames. */
	ret = measure(fd, -1, BENCH_LEN, "written into a tap, each received and dropped", trace,
		      secs, rounds);
	if (!ret && bridge_make()) {
		fprintf(stderr, "kavm-trace-net: bridge %s: cannot set up\n", BENCH_BRIDGE);
		ret = 1;
	}
	for (i = 0; !ret && i < 2; i++)
		ret = measure(fd, peer, lens[i],
			      "tap -> bridge -> tap, each read off the second tap", trace, secs,
			      rounds);
	snprintf(path, sizeof(path), "%s/bench.json", dir);
	unlink(path);
	rmdir(dir);
	close(peer);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atol(argv[3]), atol(argv[4]),
			       argc > 5 ? strtoul(argv[5], NULL, 0) : 0x88b5);
	if (argc == 5 && !strcmp(argv[1], "xmit"))
		return do_xmit(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 1)
		return bench(argv[0]);
	fprintf(stderr, "usage: kavm-trace-net [send TAP N LEN [TYPE] | xmit TAP N LEN]\n");
	return 2;
}
