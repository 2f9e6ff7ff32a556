// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace: what the kernel does with kavm's VMs and their frames, from
 * eBPF, scoped to VMs by the names kavm registers (/run/kavm/NAME.json).
 *
 *   kavm-trace [options] exits|irq|net|drops
 *
 * One command loads only the programs it needs (userspace/bpf/trace.c),
 * then shows one view per interval, or streams drop events.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kavm/log.h>

#include "kavm-trace.h"

struct kt_cmd {
	const char *name;
	unsigned int groups;
	void (*show)(struct kt_ctx *c); /* NULL: stream events (drops) */
	const char *help;
};

static const struct kt_cmd cmds[] = {
	{ "exits", BPF_TRACE_KVM, kt_exits_show,
	  "KVM exits by reason per vCPU, handling time, exits to kavm, PIO/MMIO by address" },
	{ "irq", BPF_TRACE_IRQ, kt_irq_show, "interrupts injected and raised per VM, by vector" },
	{ "net", BPF_TRACE_NET, kt_net_show, "frames and bytes per tap each way, drops by reason" },
	{ "drops", BPF_TRACE_NET | BPF_TRACE_DROPS, NULL,
	  "every frame dropped on the VMs' taps, as it happens" },
};

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	stopping = 1;
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: kavm-trace [options] COMMAND\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f,
		"\nOptions:\n"
		"  --vm NAME|PID      only this VM (its name from kavm --name, or kavm's pid)\n"
		"  -i, --interval S   seconds per refresh (default 1; 0.1 to 3600)\n"
		"  --once             one interval, then exit\n"
		"  -j, --json         JSON lines (schema in kavm-trace(8))\n"
		"  -n, --top N        PIO/MMIO addresses shown (default 10)\n"
		"  -H, --hist         exits: the handling time's log2 histogram per row\n"
		"  -v, --verbose      libbpf's messages\n"
		"  -h, --help         this text\n"
		"\nVMs are found in %s (KAVM_RUN_DIR overrides), again every interval.\n"
		"In net, rx is to the guest (the host transmits on the tap), tx from it.\n"
		"Overhead: kavm-trace net costs about 16%% of a tap's frame rate at worst\n"
		"(64-byte frames all dropped: tests/bench/kavm-trace-net.c, kavm-trace(8)).\n"
		"\nExit status: 0 done or interrupted, 1 runtime error (no such VM, BPF\n"
		"could not load), 2 bad command line.\n",
		registry_dir());
}

/* One line naming the bad argument: the usage errors' only output. */
#define bad_usage(fmt, ...) (pr_err(fmt " (try --help)", ##__VA_ARGS__), -EINVAL)

static int parse_interval(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0.1 && v <= 3600))
		return bad_usage("-i %s: expected seconds from 0.1 to 3600", arg);
	*out = v;
	return 0;
}

static int parse_top(const char *arg, unsigned int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 1000)
		return bad_usage("-n %s: expected a number from 1 to 1000", arg);
	*out = v;
	return 0;
}

static const struct kt_cmd *find_cmd(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/* 0: run *cmd; 1: --help printed; -EINVAL: one line said what is wrong. */
static int parse(int argc, char **argv, struct kt_opts *o, const struct kt_cmd **cmd)
{
	static const struct option lopts[] = {
		{ "vm", required_argument, NULL, 'V' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, 'O' },
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 'n' },
		{ "hist", no_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct kt_opts){ .interval = 1.0, .top = 10 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:jn:Hvh", lopts, NULL)) != -1) {
		switch (c) {
		case 'V':
			o->vm = optarg;
			break;
		case 'i':
			if (parse_interval(optarg, &o->interval))
				return -EINVAL;
			break;
		case 'O':
			o->once = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'n':
			if (parse_top(optarg, &o->top))
				return -EINVAL;
			break;
		case 'H':
			o->hist = true;
			break;
		case 'v':
			log_level = LOG_LEVEL_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			return bad_usage("%s: missing argument", argv[optind - 1]);
		default:
			return bad_usage("%s: unknown option", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return bad_usage("no command: expected exits, irq, net or drops");
	*cmd = find_cmd(argv[optind]);
	if (!*cmd)
		return bad_usage("%s: unknown command: expected exits, irq, net or drops",
				 argv[optind]);
	if (optind + 1 < argc)
		return bad_usage("%s: unexpected argument", argv[optind + 1]);
	return 0;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One line for what this kernel cannot show, and the start record in JSON. */
static void report_start(struct kt_ctx *c, const struct kt_cmd *cmd)
{
	const char *missing[BPF_TRACE_MAX_MISSING];
	unsigned int n = bpf_trace_missing(c->bt, missing, BPF_TRACE_MAX_MISSING), i;
	struct json_writer *jw;
	char line[512] = "";

	for (i = 0; i < n; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", i ? ", " : "",
			 missing[i]);
	if (n)
		pr_warn("this kernel has no tracepoint %s: what it counts is not shown", line);
	if (!c->o.json) {
		if (!cmd->show)
			printf("%-15s %-16s %-15s %-24s %-8s %5s %-36s %s\n", "TIME", "VM", "TAP",
			       "REASON", "PROTO", "LEN", "LOCATION", "TASK(PID)");
		fflush(stdout);
		return;
	}
	jw = kt_json_begin(c, "start", NULL);
	jw_string_field(jw, "command", cmd->name);
	jw_name(jw, "vms");
	jw_start_array(jw);
	for (i = 0; i < KT_MAX_VMS; i++)
		if (c->vms[i].used)
			jw_string(jw, c->vms[i].reg.name);
	jw_end_array(jw);
	jw_name(jw, "missing");
	jw_start_array(jw);
	for (i = 0; i < n && i < BPF_TRACE_MAX_MISSING; i++)
		jw_string(jw, missing[i]);
	jw_end_array(jw);
	kt_json_end(jw);
	fflush(stdout);
}

static void wait_interval(struct kt_ctx *c, const struct kt_cmd *cmd, double until)
{
	double left;

	while (!stopping && (left = until - now_mono()) > 0) {
		if (!cmd->show) {
			if (kt_drops_poll(c, (int)(left * 1000) + 1) < 0 && errno != EINTR)
				break;
		} else {
			struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
}

static void run(struct kt_ctx *c, const struct kt_cmd *cmd)
{
	double start = now_mono(), end;

	c->live = cmd->show && !c->o.json && !c->o.once && isatty(STDOUT_FILENO);
	for (;;) {
		wait_interval(c, cmd, start + c->o.interval);
		end = now_mono();
		c->dt = end - start;
		c->now = now_real();
		kt_vms_refresh(c);
		if (cmd->show)
			cmd->show(c);
		start = end;
		if (c->o.once || stopping)
			break;
	}
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	/* No SA_RESTART: a sleep or a poll must return at once. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	return 0;
}

static int start(struct kt_ctx *c, const struct kt_cmd *cmd)
{
	int ret;

	ret = bpf_trace_open(cmd->groups, &c->bt);
	if (ret == -ENOENT) {
		pr_err("%s: this kernel has none of its tracepoints (is the kvm module loaded?)",
		       cmd->name);
		return ret;
	}
	if (ret) {
		pr_err("loading the BPF programs: %s%s", strerror(-ret),
		       ret == -EPERM ? " (run as root)" : " (-v shows libbpf's log)");
		return ret;
	}
	if (!cmd->show && kt_ksyms_load())
		pr_warn("/proc/kallsyms: unreadable: drop locations are shown as addresses");
	c->link_stats = cmd->show == kt_net_show;
	kt_vms_refresh(c);
	c->now = now_real();
	report_start(c, cmd);
	return setup_signals();
}

int main(int argc, char **argv)
{
	static struct kt_ctx c;
	const struct kt_cmd *cmd = NULL;
	struct registry_vm *vm;
	int ret;

	log_init(argv[0]);
	log_level = LOG_LEVEL_WARN;
	ret = parse(argc, argv, &c.o, &cmd);
	if (ret)
		return ret > 0 ? KT_EXIT_OK : KT_EXIT_USAGE;
	log_hook_libraries();
	if (c.o.vm) {
		vm = malloc(sizeof(*vm));
		ret = vm ? kt_vm_lookup(c.o.vm, vm) : -ENOMEM;
		free(vm);
		if (ret) {
			pr_err("--vm %s: %s", c.o.vm,
			       ret == -ENOENT ? "no running kavm VM has this name or pid" :
						strerror(-ret));
			return KT_EXIT_ERROR;
		}
	}
	if (start(&c, cmd)) {
		bpf_trace_close(c.bt);
		return KT_EXIT_ERROR;
	}
	run(&c, cmd);
	kt_vms_release(&c);
	bpf_trace_close(c.bt);
	return KT_EXIT_OK;
}
