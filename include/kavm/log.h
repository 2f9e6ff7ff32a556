/* SPDX-License-Identifier: GPL-2.0 */
/* kavm: one logging API with levels, printf-checked, rate-limited variants. */
#ifndef KAVM_LOG_H
#define KAVM_LOG_H

#include <stdbool.h>
#include <time.h>

#include <kavm/compiler.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Messages above this level are dropped; set from -v/-q on the command line. */
extern int log_level;

void log_init(const char *progname);
void log_msg(enum log_level level, const char *fmt, ...) __printf(2, 3);
/* Route libbpf and libnl output through log_msg() behind log_level. */
void log_hook_libraries(void);

#define pr_err(fmt, ...) log_msg(LOG_LEVEL_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) log_msg(LOG_LEVEL_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) log_msg(LOG_LEVEL_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...)                                                                         \
	log_msg(LOG_LEVEL_DEBUG, "%s:%d: " fmt, __func__, __LINE__, ##__VA_ARGS__)

/*
 * Guest-triggered conditions must not let a guest flood the host's log:
 * at most LOG_RATELIMIT_BURST messages per LOG_RATELIMIT_INTERVAL seconds
 * per call site, then one line saying how many were suppressed.
 */
#define LOG_RATELIMIT_INTERVAL 5
#define LOG_RATELIMIT_BURST 10

struct log_ratelimit {
	time_t begin;
	unsigned int printed;
	unsigned int missed;
};

bool log_ratelimit_ok(struct log_ratelimit *rl);

#define log_ratelimited(level, fmt, ...)                                                           \
	do {                                                                                       \
		static struct log_ratelimit __rl;                                                  \
		/* Count only what would be printed: no "suppressed" line for hidden levels. */    \
		if ((int)(level) <= log_level && log_ratelimit_ok(&__rl))                          \
			log_msg(level, fmt, ##__VA_ARGS__);                                        \
	} while (0)

#define pr_warn_ratelimited(fmt, ...) log_ratelimited(LOG_LEVEL_WARN, fmt, ##__VA_ARGS__)
#define pr_err_ratelimited(fmt, ...) log_ratelimited(LOG_LEVEL_ERR, fmt, ##__VA_ARGS__)

#endif /* KAVM_LOG_H */
