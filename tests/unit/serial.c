// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the 16550A through the PIO bus, with a recording IRQ line. */
#include <fcntl.h>
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
	EXPECT_EQ(read(self->pipe[0], buf, sizeof(buf)), -1);
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
