// SPDX-License-Identifier: GPL-2.0
/* kavm: the logging sink shared by the VMM, kavmctl and the libraries they use. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include <kavm/log.h>

int log_level = LOG_LEVEL_INFO;

static const char *log_progname = "kavm";
/* Serialises writers (vCPU threads, the I/O thread) and the ratelimit state. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	log_progname = slash ? slash + 1 : progname;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[LOG_LEVEL_ERR] = "",
		[LOG_LEVEL_WARN] = "warning: ",
		[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = "debug: ",
	};
	char buf[1024];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s: %s%s\n", log_progname, prefix[level], buf);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	time_t now = time(NULL);
	unsigned int missed = 0;
	bool ok;

	pthread_mutex_lock(&log_lock);
	if (now - rl->begin >= LOG_RATELIMIT_INTERVAL) {
		missed = rl->missed;
		rl->begin = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	ok = rl->printed < LOG_RATELIMIT_BURST;
	if (ok)
		rl->printed++;
	else
		rl->missed++;
	pthread_mutex_unlock(&log_lock);
	if (missed)
		log_msg(LOG_LEVEL_WARN, "%u messages suppressed", missed);
	return ok;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level l = level == LIBBPF_WARN ? LOG_LEVEL_WARN :
			   level == LIBBPF_INFO ? LOG_LEVEL_INFO :
						  LOG_LEVEL_DEBUG;

	/* libbpf is chatty at INFO; only -v shows it. */
	if (l != LOG_LEVEL_WARN && log_level < LOG_LEVEL_DEBUG)
		return 0;
	if ((int)l > log_level)
		return 0;
	log_vmsg(l, fmt, ap);
	return 0;
}

void log_hook_libraries(void)
{
	libbpf_set_print(libbpf_print);
}
