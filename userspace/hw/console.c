// SPDX-License-Identifier: GPL-2.0
/*
 * kavm console: COM1 (the 16550A on 0x3f8, IRQ 4) wired to --serial:
 * stdio (raw mode on a terminal, restored on exit; Ctrl-a x quits, Ctrl-a
 * Ctrl-a sends Ctrl-a), file:PATH (output only), unix:PATH (connects to a
 * listening stream socket, both ways) or none. Input is read on the loop
 * thread; what the receive FIFO cannot take waits here, and reading pauses
 * until the guest drains the FIFO, so no input byte is lost. Output is
 * written on the loop thread too, when the fd is writable, from the UART's
 * bounded buffer: a reader that stops reading costs output (counted, and
 * reported at exit), never a stopped vCPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/serial.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-a, as QEMU's -nographic */
/* At exit, how long a slow but live reader gets for the last buffered output. */
#define CONSOLE_EXIT_DRAIN_MS 500

static struct console {
	struct kvm_vm *vm;
	struct serial *uart;
	int in_fd, out_fd;
	bool own_in, own_out; /* fds kavm opened and closes */
	int stdout_flags;     /* stdout's flags before kavm set O_NONBLOCK; -1: untouched */
	bool tty_raw;
	bool escape; /* last input byte was Ctrl-a; loop thread only */
	/* Read but not yet taken by the UART; loop thread only. */
	uint8_t pending[256];
	size_t pending_off, pending_len;
	/* Loop thread only: what the loop watches the two fds (maybe one) for. */
	bool in_polled;		   /* in_fd is in the loop and not at end of file */
	bool in_paused;		   /* the FIFO is full: in_fd is not read */
	bool out_polled;	   /* out_fd is in the loop (a regular file cannot be) */
	bool out_waiting;	   /* buffered output waits for out_fd to be writable */
	struct serial_stats stats; /* the UART's, kept at its exit for the report */
	struct termios saved;
} con = { .in_fd = -1, .out_fd = -1, .stdout_flags = -1 };

static void console_set_irq(void *opaque, int level)
{
	struct console *c = opaque;

	kvm_irq_line(c->vm, SERIAL_COM1_IRQ, level);
}

/* Tell the loop what to wait for on in_fd and out_fd, which may be one socket. */
static void console_watch(struct console *c)
{
	uint32_t out = c->out_waiting ? EPOLLOUT : 0;

	if (c->in_polled)
		loop_mod_fd(c->vm->loop, c->in_fd,
			    (c->in_paused ? 0 : EPOLLIN) | (c->in_fd == c->out_fd ? out : 0));
	if (c->out_polled && (c->out_fd != c->in_fd || !c->in_polled))
		loop_mod_fd(c->vm->loop, c->out_fd, out);
}

/* Hand what is pending to the UART; poll the input again only once all of it is taken. */
static void console_feed(struct console *c)
{
	c->pending_off += serial_receive(c->uart, c->pending + c->pending_off,
					 c->pending_len - c->pending_off);
	c->in_paused = c->pending_off < c->pending_len;
	if (!c->in_paused)
		c->pending_off = c->pending_len = 0;
	console_watch(c);
}

static void console_resume_input(void *opaque)
{
	struct console *c = opaque;

	if (c->in_fd >= 0 && c->pending_len)
		console_feed(c);
}

static void console_rx_ready(void *opaque)
{
	struct console *c = opaque;

	/* Called on a vCPU thread with the UART locked: the loop thread re-arms. */
	loop_defer(c->vm->loop, console_resume_input, c);
}

/* Strip the Ctrl-a escapes out of buf in place; returns the bytes left for the guest. */
static size_t console_escapes(struct console *c, uint8_t *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (c->escape) {
			c->escape = false;
			if (buf[i] == 'x') {
				kvm_vm_request_stop(c->vm, VM_STOP_SIGNAL,
						    "stopped from the console (Ctrl-a x)");
				return n;
			}
			if (buf[i] != CONSOLE_ESCAPE)
				continue;
		} else if (buf[i] == CONSOLE_ESCAPE && c->tty_raw) {
			c->escape = true;
			continue;
		}
		buf[n++] = buf[i];
	}
	return n;
}

/* Input or output is over: the loop forgets its fd unless the other side still uses it. */
static void console_unwatch(struct console *c, bool input)
{
	int fd = input ? c->in_fd : c->out_fd;

	if (input)
		c->in_polled = false;
	else
		c->out_polled = c->out_waiting = false;
	if ((c->in_polled && c->in_fd == fd) || (c->out_polled && c->out_fd == fd))
		console_watch(c);
	else
		loop_del_fd(c->vm->loop, fd);
}

static void console_input(struct console *c)
{
	ssize_t len;

	if (c->pending_len)
		return;
	len = read(c->in_fd, c->pending, sizeof(c->pending));
	if (len <= 0) {
		if (len < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* EOF (stdin closed, peer gone): the guest keeps running without input. */
		console_unwatch(c, true);
		return;
	}
	c->pending_len = console_escapes(c, c->pending, len);
	c->pending_off = 0;
	/* The UART pushes back when its FIFO is full: the rest waits for rx_ready. */
	console_feed(c);
}

static void console_flush_later(void *opaque);

/* Write out what the UART buffered; wait for EPOLLOUT if the reader is behind. */
static void console_flush(struct console *c)
{
	ssize_t left = serial_tx_flush(c->uart);

	if (left < 0) {
		/* The reader is gone; the UART counts what it loses from now on. */
		if (c->out_polled)
			console_unwatch(c, false);
		return;
	}
	if (!c->out_polled) {
		/* A regular file is never full: only the round's bound leaves bytes. */
		if (left)
			loop_defer(c->vm->loop, console_flush_later, c);
		return;
	}
	if (c->out_waiting != (left > 0)) {
		c->out_waiting = left > 0;
		console_watch(c);
	}
}

static void console_flush_later(void *opaque)
{
	struct console *c = opaque;

	if (c->uart)
		console_flush(c);
}

static void console_tx_pending(void *opaque)
{
	struct console *c = opaque;

	/* Called on a vCPU thread with the UART locked: the loop thread writes. */
	loop_defer(c->vm->loop, console_flush_later, c);
}

static void console_event(int fd, uint32_t events, void *opaque)
{
	struct console *c = opaque;

	if (fd == c->in_fd && c->in_polled && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		console_input(c);
	if (fd != c->out_fd || !c->out_polled)
		return;
	if (events & EPOLLOUT)
		console_flush(c);
	/* A hung-up reader: say why later output is lost, and stop polling a dead fd. */
	if (c->out_polled && (events & (EPOLLHUP | EPOLLERR))) {
		if (serial_tx_flush(c->uart) >= 0)
			serial_tx_fail(c->uart, -EPIPE);
		console_unwatch(c, false);
	}
}

static int console_open_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Writing must not block the loop thread either, but O_NONBLOCK on stdout
 * itself would reach the shell and kavm's own stderr where they share it: a
 * pipe or terminal is opened anew, a socket is written with MSG_DONTWAIT and
 * a regular file never blocks (and reopened would lose its offset).
 */
static int console_open_stdout(struct console *c)
{
	struct stat st;
	int fd, fl;

	if (fstat(STDOUT_FILENO, &st))
		return errno == EBADF ? 0 : -errno;
	c->out_fd = STDOUT_FILENO;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))
		return 0;
	fd = open("/proc/self/fd/1", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		c->out_fd = fd;
		c->own_out = true;
		return 0;
	}
	/* No /proc: the shared flag it is, put back at exit. */
	fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	c->stdout_flags = fl;
	return 0;
}

static int console_open_stdio(struct console *c)
{
	struct termios raw;
	int ret;

	c->in_fd = STDIN_FILENO;
	ret = console_open_stdout(c);
	if (ret)
		return ret;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &c->saved))
		return 0;
	raw = c->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return -errno;
	c->tty_raw = true;
	return 0;
}

static int console_open(struct console *c, const char *spec)
{
	int fd;

	if (!spec || !strcmp(spec, "stdio"))
		return console_open_stdio(c);
	if (!strcmp(spec, "none"))
		return 0;
	if (!strncmp(spec, "file:", 5)) {
		fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		c->out_fd = fd;
		c->own_out = true;
		/* A FIFO's reader may stall; a file ignores the flag. */
		return fcntl(fd, F_SETFL, O_NONBLOCK) ? -errno : 0;
	}
	if (!strncmp(spec, "unix:", 5)) {
		fd = console_open_unix(spec + 5);
		if (fd < 0)
			return fd;
		c->in_fd = c->out_fd = fd;
		c->own_in = c->own_out = true;
		return 0;
	}
	return -EINVAL;
}

/* Once, at exit, with the terminal out of raw mode. */
static void console_report(const struct serial_stats *st)
{
	if (st->tx_dropped)
		pr_warn("serial: %" PRIu64
			" bytes of console output dropped (the console reader was not reading)",
			st->tx_dropped);
	if (st->tx_lost)
		pr_warn("serial: %" PRIu64
			" bytes of console output lost (writing to the console failed: %s)",
			st->tx_lost, strerror(st->tx_error));
}

static void console_close(struct console *c)
{
	if (c->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	c->tty_raw = false;
	if (c->stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, c->stdout_flags);
	c->stdout_flags = -1;
	console_report(&c->stats);
	memset(&c->stats, 0, sizeof(c->stats));
	if (c->own_out && c->out_fd >= 0)
		close(c->out_fd);
	if (c->own_in && c->in_fd >= 0 && c->in_fd != c->out_fd)
		close(c->in_fd);
	c->in_fd = c->out_fd = -1;
	c->own_in = c->own_out = false;
}

/* Input level: a --serial file or socket that cannot be opened fails before KVM opens. */
static int console_open_init(struct kvm_vm *vm)
{
	int ret;

	con.vm = vm;
	ret = console_open(&con, vm->cfg->serial);
	if (ret) {
		pr_err("serial %s: %s", vm->cfg->serial ? vm->cfg->serial : "stdio",
		       strerror(-ret));
		return -ECANCELED;
	}
	return 0;
}

static void console_close_exit(struct kvm_vm *vm)
{
	console_close(&con);
}
input_init(console_open_init, console_close_exit);

/* Input and output share one registration when they are one socket. */
static int console_watch_init(struct console *c)
{
	int ret;

	if (c->in_fd >= 0) {
		ret = loop_add_fd(c->vm->loop, c->in_fd, EPOLLIN, console_event, c);
		/* A regular file or /dev/null cannot be polled: no input, then. */
		if (ret == -EPERM)
			c->in_fd = -1;
		else if (ret)
			return ret;
		c->in_polled = c->in_fd >= 0;
	}
	if (c->out_fd < 0)
		return 0;
	if (c->out_fd == c->in_fd) {
		c->out_polled = true;
		return 0;
	}
	ret = loop_add_fd(c->vm->loop, c->out_fd, 0, console_event, c);
	/* Neither can a regular file: writing it never waits, so no need. */
	c->out_polled = !ret;
	if (ret && ret != -EPERM) {
		if (c->in_polled)
			loop_del_fd(c->vm->loop, c->in_fd);
		c->in_polled = false;
		return ret;
	}
	return 0;
}

static void console_unwatch_all(struct console *c)
{
	if (c->in_polled)
		loop_del_fd(c->vm->loop, c->in_fd);
	if (c->out_polled && (c->out_fd != c->in_fd || !c->in_polled))
		loop_del_fd(c->vm->loop, c->out_fd);
	c->in_polled = c->out_polled = c->out_waiting = false;
}

static int console_init(struct kvm_vm *vm)
{
	struct serial_params p = { .set_irq = console_set_irq,
				   .rx_ready = console_rx_ready,
				   .tx_pending = console_tx_pending,
				   .opaque = &con,
				   .out_fd = con.out_fd };
	int ret;

	ret = serial_create(&p, &con.uart);
	if (ret)
		return ret;
	ret = serial_attach(con.uart, &vm->pio_bus, SERIAL_COM1_BASE);
	if (ret)
		goto err_destroy;
	ret = console_watch_init(&con);
	if (ret)
		goto err_unregister;
	return 0;

err_unregister:
	bus_unregister(&vm->pio_bus, SERIAL_COM1_BASE);
err_destroy:
	serial_destroy(con.uart);
	con.uart = NULL;
	return ret;
}

/* The guest's last words (a panic, "reboot: Restarting system"), within a bound. */
static void console_drain(struct console *c)
{
	struct pollfd pfd = { .fd = c->out_fd, .events = POLLOUT };
	struct timespec start, now;
	long ms = CONSOLE_EXIT_DRAIN_MS;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (serial_tx_flush(c->uart) > 0 && ms > 0) {
		poll(&pfd, 1, ms);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = CONSOLE_EXIT_DRAIN_MS - (now.tv_sec - start.tv_sec) * 1000 -
		     (now.tv_nsec - start.tv_nsec) / 1000000;
	}
	/* What a stopped reader did not take by now counts as dropped. */
	serial_tx_discard(c->uart);
}

static void console_exit(struct kvm_vm *vm)
{
	console_unwatch_all(&con);
	bus_unregister(&vm->pio_bus, SERIAL_COM1_BASE);
	console_drain(&con);
	serial_get_stats(con.uart, &con.stats);
	serial_destroy(con.uart);
	con.uart = NULL;
}
dev_init(console_init, console_exit);

int serial_console_stats(struct serial_stats *st)
{
	/* From the loop thread, as a control socket's handler: console_exit runs there too. */
	if (!con.uart)
		return -ENODEV;
	serial_get_stats(con.uart, st);
	return 0;
}

void serial_console_report(void)
{
	char buf[160];

	if (!con.uart)
		return;
	serial_describe(con.uart, buf, sizeof(buf));
	pr_info("COM1: %s", buf);
}
