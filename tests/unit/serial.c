// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the 16550A through the PIO bus, with a recording IRQ line. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kavm/bus.h>
#include <kavm/serial.h>

#include "../harness.h"

#define BASE 0x3f8
enum { THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct irq_sink {
	int level;
	unsigned int raises, lowers;
	unsigned int ready;
	unsigned int tx_pending;
};

static void sink_set_irq(void *opaque, int level)
{
	struct irq_sink *s = opaque;

	s->level = level;
	if (level)
		s->raises++;
	else
		s->lowers++;
}

static void sink_rx_ready(void *opaque)
{
	((struct irq_sink *)opaque)->ready++;
}

static void sink_tx_pending(void *opaque)
{
	((struct irq_sink *)opaque)->tx_pending++;
}

FIXTURE(uart)
{
	struct bus bus;
	struct serial *s;
	struct irq_sink irq;
	int pipe[2];
};

FIXTURE_SETUP(uart)
{
	struct serial_params p = { .set_irq = sink_set_irq,
				   .rx_ready = sink_rx_ready,
				   .tx_pending = sink_tx_pending,
				   .opaque = &self->irq };

	memset(&self->irq, 0, sizeof(self->irq));
	ASSERT_EQ(pipe2(self->pipe, O_NONBLOCK), 0);
	p.out_fd = self->pipe[1];
	ASSERT_EQ(bus_init(&self->bus, "pio"), 0);
	ASSERT_EQ(serial_create(&p, &self->s), 0);
	ASSERT_EQ(serial_attach(self->s, &self->bus, BASE), 0);
}

FIXTURE_TEARDOWN(uart)
{
	serial_destroy(self->s);
	bus_exit(&self->bus);
	close(self->pipe[0]);
	close(self->pipe[1]);
}

static uint8_t rd(struct bus *b, unsigned int reg)
{
	uint8_t v = 0x5a;

	bus_dispatch(b, BASE + reg, &v, 1, false);
	return v;
}

static void wr(struct bus *b, unsigned int reg, uint8_t v)
{
	bus_dispatch(b, BASE + reg, &v, 1, true);
}

TEST_F(uart, reset_state_is_idle_with_empty_transmitter)
{
	EXPECT_EQ(rd(&self->bus, LSR), 0x60); /* THRE | TEMT, no data */
	EXPECT_EQ(rd(&self->bus, IIR), 0x01); /* no interrupt, FIFO off */
	EXPECT_EQ(rd(&self->bus, IER), 0x00);
	EXPECT_EQ(self->irq.level, 0);
}

TEST_F(uart, scratch_and_divisor_latch_round_trip)
{
	wr(&self->bus, SCR, 0xa5);
	EXPECT_EQ(rd(&self->bus, SCR), 0xa5);
	wr(&self->bus, LCR, 0x83); /* DLAB */
	wr(&self->bus, 0, 0x01);
	wr(&self->bus, 1, 0x02);
	EXPECT_EQ(rd(&self->bus, 0), 0x01);
	EXPECT_EQ(rd(&self->bus, 1), 0x02);
	wr(&self->bus, LCR, 0x03);
	/* With DLAB clear offset 1 is IER again, untouched by the DLM write. */
	EXPECT_EQ(rd(&self->bus, IER), 0x00);
	EXPECT_EQ(rd(&self->bus, LCR), 0x03);
}

TEST_F(uart, ier_keeps_only_four_bits)
{
	wr(&self->bus, IER, 0xff);
	EXPECT_EQ(rd(&self->bus, IER), 0x0f);
}

TEST_F(uart, transmitted_bytes_reach_the_backend)
{
	char buf[8] = { 0 };

	wr(&self->bus, THR, 'o');
	wr(&self->bus, THR, 'k');
	/* The I/O thread writes them out; here the test is that thread. */
	EXPECT_EQ(serial_tx_flush(self->s), 0);
	ASSERT_EQ(read(self->pipe[0], buf, sizeof(buf)), 2);
	EXPECT_MEMEQ(buf, "ok", 2);
	EXPECT_EQ(rd(&self->bus, LSR) & 0x60, 0x60);
}

TEST_F(uart, thre_interrupt_raises_on_enable_and_clears_on_iir_read)
{
	wr(&self->bus, IER, 0x02);
	EXPECT_EQ(self->irq.level, 1);
	EXPECT_EQ(rd(&self->bus, IIR), 0x02);
	/* The IIR read acknowledged it. */
	EXPECT_EQ(self->irq.level, 0);
	EXPECT_EQ(rd(&self->bus, IIR), 0x01);
}

TEST_F(uart, every_transmitted_byte_gives_a_fresh_thre_edge)
{
	unsigned int raises;

	wr(&self->bus, IER, 0x02);
	raises = self->irq.raises;
	wr(&self->bus, THR, 'a');
	EXPECT_EQ(self->irq.level, 1);
	EXPECT_EQ(self->irq.raises, raises + 1);
	/* The line dropped before rising again, so an edge-triggered pin sees it. */
	EXPECT_GE(self->irq.lowers, 1u);
}

/* What kavm prints of its UART when a guest stopped answering (main.c). */
TEST_F(uart, describe_names_the_pending_interrupt_the_line_and_the_buffers)
{
	uint8_t c = 'z';
	char buf[160];

	serial_describe(self->s, buf, sizeof(buf));
	EXPECT_STREQ(buf, "IER 0x00, no interrupt, IRQ line low, 0 output bytes waiting, "
			  "0 input bytes in the FIFO");
	wr(&self->bus, IER, 0x02);
	wr(&self->bus, THR, 'a');
	wr(&self->bus, THR, 'b');
	EXPECT_EQ(serial_receive(self->s, &c, 1), 1u);
	serial_describe(self->s, buf, sizeof(buf));
	EXPECT_STREQ(buf, "IER 0x02, interrupt: THR empty, IRQ line high, 2 output bytes waiting, "
			  "1 input bytes in the FIFO");
	wr(&self->bus, IER, 0x03);
	serial_describe(self->s, buf, sizeof(buf));
	EXPECT_STREQ(buf, "IER 0x03, interrupt: data ready, IRQ line high, 2 output bytes waiting, "
			  "1 input bytes in the FIFO");
}

TEST_F(uart, received_byte_sets_dr_and_raises_rdi)
{
	uint8_t c = 'z';

	wr(&self->bus, IER, 0x01);
	EXPECT_EQ(self->irq.level, 0);
	EXPECT_EQ(serial_receive(self->s, &c, 1), 1u);
	EXPECT_EQ(self->irq.level, 1);
	EXPECT_EQ(rd(&self->bus, LSR) & 0x01, 0x01);
	EXPECT_EQ(rd(&self->bus, IIR), 0x04);
	EXPECT_EQ(rd(&self->bus, 0), 'z');
	EXPECT_EQ(self->irq.level, 0);
	EXPECT_EQ(rd(&self->bus, LSR) & 0x01, 0x00);
}

TEST_F(uart, fifo_holds_sixteen_bytes_in_order_then_pushes_back)
{
	uint8_t in[20], i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = 'A' + i;
	wr(&self->bus, FCR, 0xc7); /* enable, clear both, trigger 14 */
	EXPECT_EQ(rd(&self->bus, IIR) & 0xc0, 0xc0);
	EXPECT_EQ(serial_receive(self->s, in, sizeof(in)), 16u);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(rd(&self->bus, 0), 'A' + i);
	EXPECT_EQ(rd(&self->bus, LSR) & 0x01, 0x00);
	/* The host was told once the full FIFO drained. */
	EXPECT_EQ(self->irq.ready, 1u);
}

TEST_F(uart, fifo_below_trigger_reports_timeout_then_rdi_at_trigger)
{
	uint8_t in[8] = "12345678";

	wr(&self->bus, FCR, 0x81); /* enable, trigger 8 */
	wr(&self->bus, IER, 0x01);
	serial_receive(self->s, in, 3);
	EXPECT_EQ(rd(&self->bus, IIR), 0xcc);
	serial_receive(self->s, in + 3, 5);
	EXPECT_EQ(rd(&self->bus, IIR), 0xc4);
}

TEST_F(uart, without_fifo_one_byte_fits)
{
	uint8_t in[2] = { 1, 2 };

	EXPECT_EQ(serial_receive(self->s, in, 2), 1u);
}

TEST_F(uart, fcr_clear_empties_the_receiver)
{
	uint8_t in[4] = { 1, 2, 3, 4 };

	wr(&self->bus, FCR, 0x01);
	serial_receive(self->s, in, 4);
	wr(&self->bus, FCR, 0x03);
	EXPECT_EQ(rd(&self->bus, LSR) & 0x01, 0x00);
}

TEST_F(uart, loopback_echoes_and_mirrors_modem_lines)
{
	char buf[4];

	wr(&self->bus, MCR, 0x10 | 0x0a); /* loop, RTS, OUT2: what Linux probes */
	EXPECT_EQ(rd(&self->bus, MSR) & 0xf0, 0x90);
	wr(&self->bus, THR, 'L');
	EXPECT_EQ(rd(&self->bus, LSR) & 0x01, 0x01);
	EXPECT_EQ(rd(&self->bus, 0), 'L');
	/* Nothing left the UART. */
	EXPECT_EQ(serial_tx_flush(self->s), 0);
	EXPECT_EQ(read(self->pipe[0], buf, sizeof(buf)), -1);
	EXPECT_EQ(self->irq.tx_pending, 0u);
	wr(&self->bus, MCR, 0x0b);
	EXPECT_EQ(rd(&self->bus, MSR) & 0xf0, 0xb0);
}

TEST_F(uart, loopback_overrun_sets_oe_once)
{
	wr(&self->bus, MCR, 0x10);
	wr(&self->bus, THR, 'a');
	wr(&self->bus, THR, 'b'); /* no FIFO: one byte of room */
	EXPECT_EQ(rd(&self->bus, LSR) & 0x02, 0x02);
	EXPECT_EQ(rd(&self->bus, LSR) & 0x02, 0x00);
}

TEST_F(uart, line_status_interrupt_outranks_receive)
{
	wr(&self->bus, IER, 0x05);
	wr(&self->bus, MCR, 0x10);
	wr(&self->bus, THR, 'a');
	wr(&self->bus, THR, 'b');
	EXPECT_EQ(rd(&self->bus, IIR), 0x06);
	rd(&self->bus, LSR);
	EXPECT_EQ(rd(&self->bus, IIR), 0x04);
}

TEST_F(uart, wide_access_reads_the_register_in_the_low_byte)
{
	uint32_t v = 0xffffffff;

	ASSERT_EQ(bus_dispatch(&self->bus, BASE + LCR, &v, 4, false), 0);
	EXPECT_EQ(v, 0x03u);
}

TEST_F(uart, output_asks_for_a_flush_once_per_empty_buffer)
{
	char buf[8];

	wr(&self->bus, THR, 'a');
	wr(&self->bus, THR, 'b');
	wr(&self->bus, THR, 'c');
	EXPECT_EQ(self->irq.tx_pending, 1u);
	EXPECT_EQ(serial_tx_flush(self->s), 0);
	wr(&self->bus, THR, 'd');
	EXPECT_EQ(self->irq.tx_pending, 2u);
	EXPECT_EQ(serial_tx_flush(self->s), 0);
	ASSERT_EQ(read(self->pipe[0], buf, sizeof(buf)), 4);
	EXPECT_MEMEQ(buf, "abcd", 4);
}

/* A UART on its own bus whose output fd is `wr`; the test reads `rd`, or does not. */
struct out_rig {
	struct bus bus;
	struct serial *s;
	struct irq_sink irq;
	int rd, wr;
};

static int rig_open(struct out_rig *r, int rd, int wr)
{
	struct serial_params p = { .set_irq = sink_set_irq,
				   .tx_pending = sink_tx_pending,
				   .opaque = &r->irq,
				   .out_fd = wr };
	int ret;

	memset(r, 0, sizeof(*r));
	r->rd = rd;
	r->wr = wr;
	ret = bus_init(&r->bus, "pio");
	if (!ret)
		ret = serial_create(&p, &r->s);
	if (!ret)
		ret = serial_attach(r->s, &r->bus, BASE);
	return ret;
}

static void rig_close(struct out_rig *r)
{
	serial_destroy(r->s);
	bus_exit(&r->bus);
	if (r->rd >= 0)
		close(r->rd);
	close(r->wr);
}

/* Guest output with no repeating period, so a lost, doubled or swapped byte shows. */
static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; p && i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x;
	}
	return p;
}

struct thr_writer {
	struct bus *bus;
	const uint8_t *buf;
	size_t len;
};

static void *thr_writer_fn(void *opaque)
{
	struct thr_writer *w = opaque;
	size_t i;

	for (i = 0; i < w->len; i++)
		wr(w->bus, THR, w->buf[i]);
	return NULL;
}

/*
 * A vCPU writes THR with a console fd (blocking, as a pipe or a terminal is)
 * that nobody reads: each write must return at once, whatever the reader does.
 */
TEST_TIMEOUT(thr_writes_do_not_wait_for_a_reader_that_stopped, 30)
{
	size_t len = 4 * SERIAL_TX_BUF_SIZE;
	struct thr_writer w = { .len = len };
	struct timespec deadline;
	struct out_rig r;
	uint8_t *buf = pattern(len), sink[4096];
	pthread_t t;
	int fds[2], joined;

	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	ASSERT_EQ(rig_open(&r, fds[0], fds[1]), 0);
	w.bus = &r.bus;
	w.buf = buf;
	ASSERT_EQ(pthread_create(&t, NULL, thr_writer_fn, &w), 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	joined = pthread_timedjoin_np(t, NULL, &deadline);
	EXPECT_EQ(joined, 0);
	if (joined) {
		kt_fail(__FILE__, __LINE__, false,
			"THR writes still blocked after 5 s: the vCPU waits for the console reader");
		/* Unblock the writer so the test ends instead of hanging. */
		while (pthread_tryjoin_np(t, NULL))
			if (read(fds[0], sink, sizeof(sink)) < 0)
				break;
	}
	/* Each byte still left THR empty and raised a THRE edge. */
	EXPECT_EQ(rd(&r.bus, LSR) & 0x60, 0x60);
	rig_close(&r);
	free(buf);
}

/* Bytes waiting in the reader's end of a pipe or socket. */
static int queued(int fd)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) ? -errno : n;
}

/*
 * The reader stops: the buffer fills, the overflow is dropped and counted
 * exactly; the reader catches up: everything kept arrives, oldest first,
 * intact, and output flows again.
 */
static void stopped_reader_then_drain(struct out_rig *r, size_t len)
{
	uint8_t *buf = pattern(len), *got = malloc(len), tail;
	struct serial_stats st;
	size_t i, n = 0, dropped;
	unsigned int kicks = 0;
	ssize_t left = 0, k;
	int inq, rounds;

	ASSERT_TRUE(buf && got);
	ASSERT_EQ(fcntl(r->rd, F_SETFL, O_NONBLOCK), 0);
	for (i = 0; i < len; i++) {
		wr(&r->bus, THR, buf[i]);
		/* The I/O thread's turns, which find the fd full. */
		if (i % 4096 == 4095 && !left) {
			left = serial_tx_flush(r->s);
			kicks = r->irq.tx_pending;
		}
	}
	left = serial_tx_flush(r->s);
	EXPECT_EQ(left, (ssize_t)SERIAL_TX_BUF_SIZE);
	inq = queued(r->rd);
	ASSERT_GT(inq, 0);
	serial_get_stats(r->s, &st);
	EXPECT_EQ(st.tx_bytes, (uint64_t)inq);
	dropped = len - SERIAL_TX_BUF_SIZE - inq;
	EXPECT_EQ(st.tx_dropped, (uint64_t)dropped);
	EXPECT_EQ(st.tx_lost, 0u);
	/* While output waits, the vCPU does not ask again. */
	EXPECT_GT(kicks, 0u);
	EXPECT_EQ(r->irq.tx_pending, kicks);

	for (rounds = 0; rounds < 10000; rounds++) {
		k = read(r->rd, got + n, len - n);
		if (k > 0)
			n += k;
		left = serial_tx_flush(r->s);
		if (k < 0 && left == 0)
			break;
	}
	EXPECT_EQ(left, 0);
	ASSERT_EQ(n, len - dropped);
	EXPECT_MEMEQ(got, buf, n);

	wr(&r->bus, THR, 'z');
	EXPECT_EQ(serial_tx_flush(r->s), 0);
	EXPECT_EQ(read(r->rd, &tail, 1), 1);
	EXPECT_EQ(tail, 'z');
	serial_get_stats(r->s, &st);
	EXPECT_EQ(st.tx_dropped, (uint64_t)dropped);
	EXPECT_EQ(st.tx_bytes, (uint64_t)n + 1);
	free(buf);
	free(got);
}

TEST(pipe_reader_stops_overflow_is_counted_and_the_rest_arrives_in_order)
{
	struct out_rig r;
	int fds[2];

	/* The write end non-blocking, as kavm's console makes it. */
	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	ASSERT_EQ(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	ASSERT_EQ(rig_open(&r, fds[0], fds[1]), 0);
	stopped_reader_then_drain(&r, 3 * SERIAL_TX_BUF_SIZE + 1234);
	rig_close(&r);
}

TEST(socket_reader_stops_overflow_is_counted_and_the_rest_arrives_in_order)
{
	struct out_rig r;
	int fds[2];

	/* Blocking, as --serial unix: connects it: the UART must not wait anyway. */
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	ASSERT_EQ(rig_open(&r, fds[0], fds[1]), 0);
	stopped_reader_then_drain(&r, 16 * SERIAL_TX_BUF_SIZE + 1234);
	rig_close(&r);
}

TEST(reader_gone_output_is_counted_lost_with_the_cause)
{
	struct serial_stats st;
	struct out_rig r;
	int fds[2];

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	ASSERT_EQ(rig_open(&r, fds[0], fds[1]), 0);
	close(r.rd);
	r.rd = -1;
	wr(&r.bus, THR, 'a');
	wr(&r.bus, THR, 'b');
	EXPECT_EQ(serial_tx_flush(r.s), -EPIPE);
	wr(&r.bus, THR, 'c');
	EXPECT_EQ(serial_tx_flush(r.s), 0);
	serial_get_stats(r.s, &st);
	EXPECT_EQ(st.tx_lost, 3u);
	EXPECT_EQ(st.tx_error, EPIPE);
	EXPECT_EQ(st.tx_dropped, 0u);
	EXPECT_EQ(rd(&r.bus, LSR) & 0x60, 0x60);
	rig_close(&r);
}
