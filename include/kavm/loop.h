/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm event loop: epoll over fd handlers, timerfd timers and deferred work,
 * run by the I/O thread. Handlers run on the loop's thread only.
 *
 * Thread rules: loop_defer() and loop_stop() may be called from any thread.
 * Everything else is called from the loop's thread, or before loop_run().
 */
#ifndef KAVM_LOOP_H
#define KAVM_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;

typedef void (*loop_fd_fn)(int fd, uint32_t events, void *opaque);
typedef void (*loop_work_fn)(void *opaque);

int loop_create(struct loop **out);
void loop_destroy(struct loop *loop);

/* events are EPOLLIN/EPOLLOUT/...; an fd has at most one handler. */
int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *opaque);
int loop_mod_fd(struct loop *loop, int fd, uint32_t events);
/* Safe from inside any handler, including the fd's own. */
int loop_del_fd(struct loop *loop, int fd);

/* First expiry after first_ns, then every period_ns (0: one-shot). */
int loop_timer_add(struct loop *loop, uint64_t first_ns, uint64_t period_ns, loop_work_fn fn,
		   void *opaque, struct loop_timer **out);
void loop_timer_del(struct loop *loop, struct loop_timer *timer);

/* Run fn(opaque) on the loop's thread at its next turn. Thread-safe. */
int loop_defer(struct loop *loop, loop_work_fn fn, void *opaque);

/* One turn: wait up to timeout_ms (-1 forever), dispatch. Returns handlers run or -errno. */
int loop_run_once(struct loop *loop, int timeout_ms);
/* Turn until loop_stop(). */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif /* KAVM_LOOP_H */
