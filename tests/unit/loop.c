// SPDX-License-Identifier: GPL-2.0
/* Unit tests: event loop fd handlers, timers, deferred work, stop from a thread. */
#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>

#include <kavm/loop.h>

#include "../harness.h"

struct pipe_ctx {
	struct loop *loop;
	int hits;
	char last;
	bool delete_self;
};

static void on_pipe(int fd, uint32_t events, void *opaque)
{
	struct pipe_ctx *c = opaque;

	if (read(fd, &c->last, 1) == 1)
		c->hits++;
	if (c->delete_self)
		loop_del_fd(c->loop, fd);
}

TEST(loop_fd_handler_runs_and_can_delete_itself)
{
	struct pipe_ctx c = { 0 };
	struct loop *loop;
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(loop_create(&loop), 0);
	c.loop = loop;
	ASSERT_EQ(loop_add_fd(loop, p[0], EPOLLIN, on_pipe, &c), 0);
	EXPECT_EQ(loop_add_fd(loop, p[0], EPOLLIN, on_pipe, &c), -EEXIST);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	ASSERT_GE(loop_run_once(loop, 1000), 1);
	EXPECT_EQ(c.hits, 1);
	EXPECT_EQ(c.last, 'x');
	c.delete_self = true;
	ASSERT_EQ(write(p[1], "yz", 2), 2);
	loop_run_once(loop, 1000);
	EXPECT_EQ(c.hits, 2);
	/* Deleted: the remaining byte no longer wakes anyone. */
	EXPECT_EQ(loop_run_once(loop, 50), 0);
	EXPECT_EQ(c.hits, 2);
	loop_destroy(loop);
}

static void count(void *opaque)
{
	(*(int *)opaque)++;
}

TEST(loop_periodic_timer_fires_repeatedly)
{
	struct loop_timer *t;
	struct loop *loop;
	int n = 0, turns = 0;

	ASSERT_EQ(loop_create(&loop), 0);
	ASSERT_EQ(loop_timer_add(loop, 1000000, 1000000, count, &n, &t), 0);
	while (n < 5 && turns++ < 100)
		loop_run_once(loop, 1000);
	EXPECT_GE(n, 5);
	loop_timer_del(loop, t);
	n = 0;
	EXPECT_EQ(loop_run_once(loop, 20), 0);
	EXPECT_EQ(n, 0);
	loop_destroy(loop);
}

struct stopper {
	struct loop *loop;
	int ran;
};

static void deferred_stop(void *opaque)
{
	struct stopper *s = opaque;

	s->ran++;
	loop_stop(s->loop);
}

static void *defer_from_thread(void *opaque)
{
	struct stopper *s = opaque;

	usleep(10000);
	loop_defer(s->loop, deferred_stop, s);
	return NULL;
}

TEST(loop_defer_from_another_thread_runs_on_the_loop)
{
	struct stopper s = { 0 };
	pthread_t th;

	ASSERT_EQ(loop_create(&s.loop), 0);
	ASSERT_EQ(pthread_create(&th, NULL, defer_from_thread, &s), 0);
	ASSERT_EQ(loop_run(s.loop), 0);
	pthread_join(th, NULL);
	EXPECT_EQ(s.ran, 1);
	loop_destroy(s.loop);
}
