// SPDX-License-Identifier: GPL-2.0
/* kavm event loop: epoll, timerfd timers and an eventfd-kicked deferred work list. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <kavm/list.h>
#include <kavm/loop.h>

#define LOOP_MAX_EVENTS 64

struct loop_handler {
	int fd;
	bool dead;
	loop_fd_fn fn;
	void *opaque;
	struct list_head link;
};

struct loop_timer {
	int fd;
	loop_work_fn fn;
	void *opaque;
};

struct loop_work {
	loop_work_fn fn;
	void *opaque;
	struct list_head link;
};

struct loop {
	int epfd;
	int wakefd;
	bool stop;		   /* protected by work_lock */
	struct list_head handlers; /* loop thread only */
	struct list_head zombies;  /* deleted during a turn, freed after it */
	pthread_mutex_t work_lock;
	struct list_head work; /* protected by work_lock */
};

static struct loop_handler *loop_find(struct loop *loop, int fd)
{
	struct loop_handler *h;

	list_for_each_entry(h, &loop->handlers, link)
		if (h->fd == fd)
			return h;
	return NULL;
}

static void loop_wake_fn(int fd, uint32_t events, void *opaque)
{
	uint64_t v;

	/* Deferred work itself is drained at the end of every turn. */
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
}

int loop_create(struct loop **out)
{
	struct loop *loop = calloc(1, sizeof(*loop));
	int ret;

	if (!loop)
		return -ENOMEM;
	INIT_LIST_HEAD(&loop->handlers);
	INIT_LIST_HEAD(&loop->zombies);
	INIT_LIST_HEAD(&loop->work);
	pthread_mutex_init(&loop->work_lock, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		ret = -errno;
		goto err_free;
	}
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wakefd < 0) {
		ret = -errno;
		goto err_close_ep;
	}
	ret = loop_add_fd(loop, loop->wakefd, EPOLLIN, loop_wake_fn, loop);
	if (ret)
		goto err_close_wake;
	*out = loop;
	return 0;

err_close_wake:
	close(loop->wakefd);
err_close_ep:
	close(loop->epfd);
err_free:
	free(loop);
	return ret;
}

static void loop_reap(struct loop *loop)
{
	struct loop_handler *h, *n;

	list_for_each_entry_safe(h, n, &loop->zombies, link) {
		list_del(&h->link);
		free(h);
	}
}

void loop_destroy(struct loop *loop)
{
	struct loop_handler *h, *n;
	struct loop_work *w, *wn;

	if (!loop)
		return;
	list_for_each_entry_safe(h, n, &loop->handlers, link) {
		list_del(&h->link);
		free(h);
	}
	loop_reap(loop);
	list_for_each_entry_safe(w, wn, &loop->work, link) {
		list_del(&w->link);
		free(w);
	}
	close(loop->wakefd);
	close(loop->epfd);
	pthread_mutex_destroy(&loop->work_lock);
	free(loop);
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct loop_handler *h;

	if (fd < 0 || !fn)
		return -EINVAL;
	if (loop_find(loop, fd))
		return -EEXIST;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->opaque = opaque;
	ev.data.ptr = h;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int ret = -errno;

		free(h);
		return ret;
	}
	list_add_tail(&h->link, &loop->handlers);
	return 0;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
	struct loop_handler *h = loop_find(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!h)
		return -ENOENT;
	ev.data.ptr = h;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int loop_del_fd(struct loop *loop, int fd)
{
	struct loop_handler *h = loop_find(loop, fd);

	if (!h)
		return -ENOENT;
	/* The fd may already be closed (and so gone from epoll): not an error. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	h->dead = true;
	list_del(&h->link);
	/* Events for it may still sit in this turn's array: free after the turn. */
	list_add_tail(&h->link, &loop->zombies);
	return 0;
}

static void loop_timer_fn(int fd, uint32_t events, void *opaque)
{
	struct loop_timer *t = opaque;
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	t->fn(t->opaque);
}

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull };
}

int loop_timer_add(struct loop *loop, uint64_t first_ns, uint64_t period_ns, loop_work_fn fn,
		   void *opaque, struct loop_timer **out)
{
	struct itimerspec its = { .it_value = ns_to_ts(first_ns ? first_ns : 1),
				  .it_interval = ns_to_ts(period_ns) };
	struct loop_timer *t;
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->opaque = opaque;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (timerfd_settime(t->fd, 0, &its, NULL)) {
		ret = -errno;
		goto err_close;
	}
	ret = loop_add_fd(loop, t->fd, EPOLLIN, loop_timer_fn, t);
	if (ret)
		goto err_close;
	if (out)
		*out = t;
	return 0;

err_close:
	close(t->fd);
err_free:
	free(t);
	return ret;
}

void loop_timer_del(struct loop *loop, struct loop_timer *t)
{
	if (!t)
		return;
	loop_del_fd(loop, t->fd);
	close(t->fd);
	free(t);
}

static void loop_kick(struct loop *loop)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the loop will wake. */
	if (write(loop->wakefd, &one, sizeof(one)) < 0)
		return;
}

int loop_defer(struct loop *loop, loop_work_fn fn, void *opaque)
{
	struct loop_work *w = malloc(sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->opaque = opaque;
	pthread_mutex_lock(&loop->work_lock);
	list_add_tail(&w->link, &loop->work);
	pthread_mutex_unlock(&loop->work_lock);
	loop_kick(loop);
	return 0;
}

static int loop_run_work(struct loop *loop)
{
	struct loop_work *w, *n;
	LIST_HEAD(batch);
	int ran = 0;

	pthread_mutex_lock(&loop->work_lock);
	if (!list_empty(&loop->work)) {
		/* Splice: work queued by this batch runs next turn, bounding a turn. */
		batch.next = loop->work.next;
		batch.prev = loop->work.prev;
		batch.next->prev = &batch;
		batch.prev->next = &batch;
		INIT_LIST_HEAD(&loop->work);
	}
	pthread_mutex_unlock(&loop->work_lock);
	list_for_each_entry_safe(w, n, &batch, link) {
		list_del(&w->link);
		w->fn(w->opaque);
		free(w);
		ran++;
	}
	return ran;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];
	int n, i, ran = 0;

	pthread_mutex_lock(&loop->work_lock);
	if (!list_empty(&loop->work))
		timeout_ms = 0;
	pthread_mutex_unlock(&loop->work_lock);
	n = epoll_wait(loop->epfd, ev, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct loop_handler *h = ev[i].data.ptr;

		if (h->dead)
			continue;
		h->fn(h->fd, ev[i].events, h->opaque);
		ran++;
	}
	loop_reap(loop);
	return ran + loop_run_work(loop);
}

int loop_run(struct loop *loop)
{
	for (;;) {
		bool stop;
		int ret;

		pthread_mutex_lock(&loop->work_lock);
		stop = loop->stop;
		pthread_mutex_unlock(&loop->work_lock);
		if (stop)
			return 0;
		ret = loop_run_once(loop, -1);
		if (ret < 0)
			return ret;
	}
}

void loop_stop(struct loop *loop)
{
	pthread_mutex_lock(&loop->work_lock);
	loop->stop = true;
	pthread_mutex_unlock(&loop->work_lock);
	loop_kick(loop);
}
