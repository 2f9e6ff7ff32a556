// SPDX-License-Identifier: GPL-2.0
/* kavmctl switch show: switches, their ports and (with -s) counters, as text or JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kavm/bpf-switch.h>
#include <kavm/compiler.h>
#include <kavm/log.h>

#include "kavmctl.h"
#include "netutil.h"
#include "switch-common.h"

struct show_ctx {
	struct json_writer *jw;
	int err;
};

static void print_counters(struct json_writer *jw, const uint64_t *c, const char *indent)
{
	int i;

	if (jw) {
		jw_name(jw, "stats");
		jw_start_object(jw);
		for (i = 0; i < KAVM_SW_NR_COUNTERS; i++)
			jw_uint_field(jw, bpf_switch_counter_name(i), c[i]);
		jw_end_object(jw);
		return;
	}
	for (i = 0; i < KAVM_SW_NR_COUNTERS; i++)
		printf("%s%s %" PRIu64 "%s", i % 7 ? "" : indent, bpf_switch_counter_name(i), c[i],
		       i % 7 == 6 || i + 1 == KAVM_SW_NR_COUNTERS ? "\n" : " ");
}

static void print_port(struct json_writer *jw, const struct bpf_switch_port_info *p, bool here)
{
	const char *ifname = p->ifname[0] ? p->ifname : here ? "(gone)" : "(other netns)";
	uint32_t f = p->port.flags;
	char mac[18];

	bpf_switch_format_mac(p->port.mac, mac);
	if (jw) {
		jw_start_object(jw);
		jw_string_field(jw, "ifname", ifname);
		jw_uint_field(jw, "ifindex", p->ifindex);
		jw_uint_field(jw, "slot", p->port.slot);
		jw_bool_field(jw, "uplink", f & KAVM_SW_PORT_UPLINK);
		jw_bool_field(jw, "xdp", f & KAVM_SW_PORT_XDP);
		jw_bool_field(jw, "no_spoof", f & KAVM_SW_PORT_NO_SPOOF);
		if (f & KAVM_SW_PORT_NO_SPOOF)
			jw_string_field(jw, "mac", mac);
		if (kavmctl_stats)
			print_counters(jw, p->c, NULL);
		jw_end_object(jw);
		return;
	}
	printf("    port %s ifindex %u%s%s", ifname, p->ifindex,
	       f & KAVM_SW_PORT_UPLINK ? " uplink" : "", f & KAVM_SW_PORT_XDP ? " xdp" : "");
	if (f & KAVM_SW_PORT_NO_SPOOF)
		printf(" mac %s no-spoof", mac);
	printf("\n");
	if (kavmctl_stats)
		print_counters(NULL, p->c, "        ");
}

static int show_ports(struct bpf_switch *sw, struct json_writer *jw)
{
	struct bpf_switch_port_info ports[KAVM_SW_MAX_PORTS];
	int n, i, here;

	here = bpf_switch_in_netns(sw);
	if (here < 0)
		return here;
	n = bpf_switch_ports(sw, ports, ARRAY_SIZE(ports));
	if (n < 0)
		return n;
	if (jw) {
		jw_name(jw, "ports");
		jw_start_array(jw);
	}
	for (i = 0; i < n && i < (int)ARRAY_SIZE(ports); i++)
		print_port(jw, &ports[i], here);
	if (jw)
		jw_end_array(jw);
	return 0;
}

static int show_header(struct bpf_switch *sw, struct json_writer *jw)
{
	struct kavm_sw_config cfg;
	int ret;

	ret = bpf_switch_config(sw, &cfg);
	if (!ret)
		ret = bpf_switch_in_netns(sw);
	if (ret < 0)
		return ret;
	if (jw) {
		jw_string_field(jw, "name", sw->name);
		jw_string_field(jw, "engine", "bpf");
		jw_string_field(jw, "mode", cfg.flags & KAVM_SW_CFG_XDP ? "xdp" : "tc");
		jw_uint_field(jw, "ageing_ms", cfg.ageing_ns / 1000000);
		jw_bool_field(jw, "this_netns", ret > 0);
	} else {
		printf("switch %s engine bpf mode %s ageing %.3gs%s\n", sw->name,
		       cfg.flags & KAVM_SW_CFG_XDP ? "xdp" : "tc", cfg.ageing_ns / 1e9,
		       ret > 0 ? "" : " (another network namespace: use kavmctl -n)");
	}
	return 0;
}

static int show_one(const char *name, void *arg)
{
	struct show_ctx *ctx = arg;
	uint64_t c[KAVM_SW_NR_COUNTERS];
	struct bpf_switch *sw;
	int ret;

	ret = kavmctl_switch_open(name, &sw);
	if (ret)
		goto out;
	if (ctx->jw)
		jw_start_object(ctx->jw);
	ret = show_header(sw, ctx->jw);
	if (!ret)
		ret = show_ports(sw, ctx->jw);
	if (!ret && kavmctl_stats) {
		ret = bpf_switch_totals(sw, c);
		if (!ret)
			print_counters(ctx->jw, c, "    total ");
	}
	if (ctx->jw)
		jw_end_object(ctx->jw);
	if (ret)
		pr_err("switch %s: %s", name, kavmctl_switch_strerror(ret));
	bpf_switch_close(sw);
out:
	ctx->err = ctx->err ? ctx->err : ret;
	return 0;
}

int kavmctl_switch_show(int argc, char **argv)
{
	struct show_ctx ctx = {};
	int ret = 0;

	if (argc > 1)
		return kavmctl_usage_err(kavmctl_switch_usage, "switch show: unexpected \"%s\"",
					 argv[1]);
	/* A private bpffs would list nothing, or switches that are not the host's. */
	if (argc == 0) {
		ret = kavmctl_switch_pins_ok("show");
		if (ret)
			return ret;
	}
	ctx.jw = kavmctl_json_begin();
	if (ctx.jw)
		jw_start_array(ctx.jw);
	if (argc == 1)
		show_one(argv[0], &ctx);
	else
		ret = bpf_switch_for_each(show_one, &ctx);
	if (argc == 0)
		ctx.err = kavmctl_kmod_show_all(ctx.jw) ?: ctx.err;
	if (ctx.jw) {
		jw_end_array(ctx.jw);
		kavmctl_json_end(ctx.jw);
	}
	if (ret)
		pr_err("switch show: %s: %s", BPF_SWITCH_PIN_ROOT, strerror(-ret));
	return ret ? ret : ctx.err;
}
