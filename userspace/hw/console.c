// SPDX-License-Identifier: GPL-2.0
/*
 * kavm console: COM1 (the 16550A on 0x3f8, IRQ 4) wired to --serial:
 * stdio (raw mode on a terminal, restored on exit; Ctrl-a x quits, Ctrl-a
 * Ctrl-a sends Ctrl-a), file:PATH (output only), unix:PATH (connects to a
 * listening stream socket, both ways) or none. Input is read on the loop
 * thread; what the receive FIFO cannot take waits here, and reading pauses
 * until the guest drains the FIFO, so no input byte is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/serial.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-a, as QEMU's -nographic */

static struct console {
	struct kvm_vm *vm;
	struct serial *uart;
	int in_fd, out_fd;
	bool own_in, own_out; /* fds kavm opened and closes */
	bool tty_raw;
	bool escape; /* last input byte was Ctrl-a; loop thread only */
	/* Read but not yet taken by the UART; loop thread only. */
	uint8_t pending[256];
	size_t pending_off, pending_len;
	struct termios saved;
} con = { .in_fd = -1, .out_fd = -1 };

static void console_set_irq(void *opaque, int level)
{
	struct console *c = opaque;

	kvm_irq_line(c->vm, SERIAL_COM1_IRQ, level);
}

/* Hand what is pending to the UART; poll the input again only once all of it is taken. */
static void console_feed(struct console *c)
{
	c->pending_off += serial_receive(c->uart, c->pending + c->pending_off,
					 c->pending_len - c->pending_off);
	if (c->pending_off < c->pending_len) {
		loop_mod_fd(c->vm->loop, c->in_fd, 0);
		return;
	}
	c->pending_off = c->pending_len = 0;
	loop_mod_fd(c->vm->loop, c->in_fd, EPOLLIN);
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

static void console_input(int fd, uint32_t events, void *opaque)
{
	struct console *c = opaque;
	ssize_t len;

	if (c->pending_len)
		return;
	len = read(fd, c->pending, sizeof(c->pending));
	if (len <= 0) {
		if (len < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* EOF (stdin closed, peer gone): the guest keeps running without input. */
		loop_del_fd(c->vm->loop, fd);
		return;
	}
	c->pending_len = console_escapes(c, c->pending, len);
	c->pending_off = 0;
	/* The UART pushes back when its FIFO is full: the rest waits for rx_ready. */
	console_feed(c);
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

static int console_open_stdio(struct console *c)
{
	struct termios raw;

	c->in_fd = STDIN_FILENO;
	c->out_fd = STDOUT_FILENO;
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
		return 0;
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

static void console_close(struct console *c)
{
	if (c->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	c->tty_raw = false;
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

static int console_init(struct kvm_vm *vm)
{
	struct serial_params p = { .set_irq = console_set_irq,
				   .rx_ready = console_rx_ready,
				   .opaque = &con,
				   .out_fd = con.out_fd };
	int ret;

	ret = serial_create(&p, &con.uart);
	if (ret)
		return ret;
	ret = serial_attach(con.uart, &vm->pio_bus, SERIAL_COM1_BASE);
	if (ret)
		goto err_destroy;
	if (con.in_fd >= 0) {
		ret = loop_add_fd(vm->loop, con.in_fd, EPOLLIN, console_input, &con);
		/* A regular file or /dev/null cannot be polled: no input, then. */
		if (ret == -EPERM)
			con.in_fd = -1;
		else if (ret)
			goto err_unregister;
	}
	return 0;

err_unregister:
	bus_unregister(&vm->pio_bus, SERIAL_COM1_BASE);
err_destroy:
	serial_destroy(con.uart);
	con.uart = NULL;
	return ret;
}

static void console_exit(struct kvm_vm *vm)
{
	if (con.in_fd >= 0)
		loop_del_fd(vm->loop, con.in_fd);
	bus_unregister(&vm->pio_bus, SERIAL_COM1_BASE);
	serial_destroy(con.uart);
	con.uart = NULL;
}
dev_init(console_init, console_exit);
