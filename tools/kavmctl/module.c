// SPDX-License-Identifier: GPL-2.0
/* kavmctl module: load, unload and look at kavm_switch.ko through libkmod. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libkmod.h>

#include <kavm/compiler.h>
#include <kavm/kswitch.h>
#include <kavm/log.h>

#include "kavmctl.h"

#define KMOD_NAME "kavm_switch"

static void module_usage(void)
{
	printf("kavmctl module load [PATH.ko]                (default: the installed module)\n"
	       "kavmctl module unload                        (detaches every port)\n"
	       "kavmctl module status                        (-j JSON)\n");
}

/* libkmod's own lines only with -v: ours say the same once, with the cause. */
static void kmod_log(void *data, int priority, const char *file, int line, const char *fn,
		     const char *format, va_list args)
{
	char buf[256];

	vsnprintf(buf, sizeof(buf), format, args);
	buf[strcspn(buf, "\n")] = '\0';
	pr_debug("libkmod: %s", buf);
}

static int module_open(struct kmod_ctx **ctx, struct kmod_module **mod, const char *path)
{
	int ret;

	*ctx = kmod_new(NULL, NULL);
	if (!*ctx) {
		pr_err("module: libkmod: cannot set up (no /lib/modules?)");
		return -ENOMEM;
	}
	kmod_set_log_fn(*ctx, kmod_log, NULL);
	if (path)
		ret = kmod_module_new_from_path(*ctx, path, mod);
	else
		ret = kmod_module_new_from_name(*ctx, KMOD_NAME, mod);
	if (ret < 0) {
		pr_err("module %s: %s", path ?: KMOD_NAME, strerror(-ret));
		kmod_unref(*ctx);
	}
	return ret;
}

static void module_close(struct kmod_ctx *ctx, struct kmod_module *mod)
{
	kmod_module_unref(mod);
	kmod_unref(ctx);
}

static int do_load(const char *path)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	int ret;

	ret = module_open(&ctx, &mod, path);
	if (ret)
		return ret;
	if (path)
		ret = kmod_module_insert_module(mod, 0, NULL);
	else
		ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_FAIL_ON_LOADED, NULL, NULL,
						      NULL, NULL);
	if (ret == -EEXIST)
		pr_err("module %s: already loaded", KMOD_NAME);
	else if (ret == -ENOENT && !path)
		pr_err("module %s: not installed (give the path of a built one: kmod/%s.ko)",
		       KMOD_NAME, KMOD_NAME);
	else if (ret < 0)
		pr_err("module %s: load: %s", path ?: KMOD_NAME, strerror(-ret));
	module_close(ctx, mod);
	return ret < 0 ? ret : 0;
}

static int do_unload(void)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	int ret;

	ret = module_open(&ctx, &mod, NULL);
	if (ret)
		return ret;
	ret = kmod_module_remove_module(mod, 0);
	if (ret == -ENOENT)
		pr_err("module %s: not loaded", KMOD_NAME);
	else if (ret == -EBUSY || ret == -EAGAIN)
		pr_err("module %s: unload: in use (refcount %d)", KMOD_NAME,
		       kmod_module_get_refcnt(mod));
	else if (ret < 0)
		pr_err("module %s: unload: %s", KMOD_NAME, strerror(-ret));
	module_close(ctx, mod);
	return ret;
}

/* /sys/module/NAME/version: what the loaded module says, "" if nothing. */
static void loaded_version(char *buf, size_t size)
{
	FILE *f = fopen("/sys/module/" KMOD_NAME "/version", "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/* Switches and ports of this network namespace, through the family. */
static int count_switches(int *nports)
{
	struct kswitch_info *s;
	struct kswitch *k;
	int n, i;

	*nports = 0;
	if (kswitch_open(&k))
		return -ENOENT;
	n = kswitch_list(k, &s);
	kswitch_close(k);
	for (i = 0; i < n; i++)
		*nports += (int)s[i].nports;
	if (n > 0)
		free(s);
	return n;
}

static int do_status(void)
{
	int state, refcnt, nsw, nports;
	struct json_writer *jw;
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	char version[64];
	bool loaded;

	if (module_open(&ctx, &mod, NULL))
		return -ENOENT;
	state = kmod_module_get_initstate(mod);
	loaded = state == KMOD_MODULE_LIVE;
	refcnt = loaded ? kmod_module_get_refcnt(mod) : 0;
	module_close(ctx, mod);
	loaded_version(version, sizeof(version));
	nsw = loaded ? count_switches(&nports) : 0;
	jw = kavmctl_json_begin();
	if (jw) {
		jw_start_object(jw);
		jw_string_field(jw, "module", KMOD_NAME);
		jw_bool_field(jw, "loaded", loaded);
		if (loaded) {
			jw_string_field(jw, "version", version);
			jw_int_field(jw, "refcount", refcnt);
			jw_int_field(jw, "switches", nsw < 0 ? 0 : nsw);
			jw_int_field(jw, "ports", nports);
		}
		jw_end_object(jw);
		kavmctl_json_end(jw);
	} else if (loaded) {
		printf("%s loaded version %s refcount %d switches %d ports %d\n", KMOD_NAME,
		       version[0] ? version : "?", refcnt, nsw < 0 ? 0 : nsw, nports);
	} else {
		printf("%s not loaded\n", KMOD_NAME);
	}
	return 0;
}

static int do_module(int argc, char **argv)
{
	if (argc >= 1 && argc <= 2 && kavmctl_matches(argv[0], "load"))
		return do_load(argc == 2 ? argv[1] : NULL);
	if (argc == 1 && kavmctl_matches(argv[0], "unload"))
		return do_unload();
	if (argc <= 1 && (argc == 0 || kavmctl_matches(argv[0], "status")))
		return do_status();
	module_usage();
	return -EINVAL;
}
KAVMCTL_CMD("module", do_module, module_usage);
