// SPDX-License-Identifier: GPL-2.0
/*
 * kavm 16550A UART model. Transmission is instantaneous: a byte written to
 * THR goes straight to the output buffer, so THR is empty again at once and
 * the THRE interrupt fires (lowered, then raised, so an edge-triggered IOAPIC
 * pin sees every one; Linux's tty layer transmits from that interrupt).
 *
 * The vCPU never writes to the console's fd: a reader that stops reading
 * would stop the vCPU inside the UART's lock, and the I/O thread behind it.
 * The I/O thread writes the buffer out (serial_tx_flush()) without the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kavm/serial.h>

enum {
	UART_RX = 0,
	UART_TX = 0,
	UART_DLL = 0,
	UART_IER = 1,
	UART_DLM = 1,
	UART_IIR = 2,
	UART_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_RX_TIMEOUT 0x0c
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct serial {
	struct serial_params p;
	pthread_mutex_t lock; /* every field below: vCPU threads and the loop thread */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool overrun;
	bool thr_ipending;
	bool rx_full_seen; /* the FIFO filled up: tell rx_ready when it drains */
	int irq_level;
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	/*
	 * Output ring: vCPUs append under the lock; the flusher writes out
	 * [tx_head, tx_head + tx_len) without it (appends never touch those
	 * bytes) and consumes them under it.
	 */
	uint8_t *tx_buf;
	size_t tx_head, tx_len;
	bool tx_failed; /* out_fd failed: output is counted lost, not kept */
	struct serial_stats stats;
	bool out_not_sock; /* the flusher's only: send() said ENOTSOCK */
};

static const unsigned int rx_trigger_levels[4] = { 1, 4, 8, 14 };

static unsigned int serial_rx_capacity(const struct serial *s)
{
	return s->fcr & FCR_ENABLE ? SERIAL_FIFO_SIZE : 1;
}

static uint8_t serial_iir(const struct serial *s)
{
	if ((s->ier & IER_RLSI) && s->overrun)
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count) {
		if ((s->fcr & FCR_ENABLE) && s->rx_count < rx_trigger_levels[s->fcr >> 6])
			return IIR_RX_TIMEOUT;
		return IIR_RDI;
	}
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI;
	return IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	int level = serial_iir(s) != IIR_NO_INT;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->p.set_irq)
		s->p.set_irq(s->p.opaque, level);
}

static bool serial_rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == serial_rx_capacity(s)) {
		s->overrun = true;
		return false;
	}
	s->rx[(s->rx_head + s->rx_count++) % SERIAL_FIFO_SIZE] = c;
	if (s->rx_count == serial_rx_capacity(s))
		s->rx_full_seen = true;
	return true;
}

static uint8_t serial_rx_pop(struct serial *s)
{
	uint8_t c;

	if (!s->rx_count)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
	s->rx_count--;
	if (s->rx_full_seen && s->p.rx_ready) {
		s->rx_full_seen = false;
		s->p.rx_ready(s->p.opaque);
	}
	return c;
}

/* A stopped or gone console must not stop the guest: what cannot be kept is counted. */
static void serial_tx_push(struct serial *s, uint8_t c)
{
	if (s->p.out_fd < 0)
		return;
	if (s->tx_failed) {
		s->stats.tx_lost++;
		return;
	}
	if (s->tx_len == SERIAL_TX_BUF_SIZE) {
		s->stats.tx_dropped++;
		return;
	}
	s->tx_buf[(s->tx_head + s->tx_len++) % SERIAL_TX_BUF_SIZE] = c;
	/* Only the first byte asks: a non-empty buffer already has a flush coming. */
	if (s->tx_len == 1 && s->p.tx_pending)
		s->p.tx_pending(s->p.opaque);
}

static void serial_transmit(struct serial *s, uint8_t c)
{
	s->thr_ipending = false;
	serial_update_irq(s);
	if (s->mcr & MCR_LOOP)
		serial_rx_push(s, c);
	else
		serial_tx_push(s, c);
	s->thr_ipending = true;
}

static uint8_t serial_msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback wires the modem outputs to the inputs (Linux's probe checks this). */
	return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

static uint8_t serial_read(struct serial *s, unsigned int reg)
{
	uint8_t v, iir;

	switch (reg) {
	case UART_RX:
		return s->lcr & LCR_DLAB ? s->dll : serial_rx_pop(s);
	case UART_IER:
		return s->lcr & LCR_DLAB ? s->dlm : s->ier;
	case UART_IIR:
		iir = serial_iir(s);
		/* Reading IIR acknowledges a THRE interrupt. */
		if (iir == IIR_THRI)
			s->thr_ipending = false;
		return iir | (s->fcr & FCR_ENABLE ? IIR_FIFO_ENABLED : 0);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0) | (s->overrun ? LSR_OE : 0);
		s->overrun = false;
		return v;
	case UART_MSR:
		return serial_msr(s);
	default:
		return s->scr;
	}
}

static void serial_write_fcr(struct serial *s, uint8_t v)
{
	/* Turning the FIFO on or off empties it, as does the clear bit. */
	if ((v ^ s->fcr) & FCR_ENABLE || v & FCR_CLEAR_RX) {
		s->rx_head = s->rx_count = 0;
		s->overrun = false;
	}
	s->fcr = v & (FCR_ENABLE | 0xc0);
}

static void serial_write(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_TX:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises it at once, as real parts do. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_ipending = true;
		s->ier = v & 0x0f;
		break;
	case UART_FCR:
		serial_write_fcr(s, v);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR writes are factory-test only */
		break;
	}
}

static void serial_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct serial *s = opaque;
	uint8_t *p = data;

	pthread_mutex_lock(&s->lock);
	/* The UART has byte registers; a wider access touches the first only. */
	if (is_write)
		serial_write(s, off, p[0]);
	else {
		memset(data, 0, len);
		p[0] = serial_read(s, off);
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the line is disconnected from the outside world. */
	while (!(s->mcr & MCR_LOOP) && n < len && s->rx_count < serial_rx_capacity(s))
		serial_rx_push(s, buf[n++]);
	if (n < len)
		s->rx_full_seen = true;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* One non-blocking write of len bytes from buf: bytes written or -errno. */
static ssize_t serial_tx_write(struct serial *s, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (!s->out_not_sock) {
		/* A socket needs no O_NONBLOCK, which would also reach whoever shares it. */
		n = send(s->p.out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno != ENOTSOCK)
			return -errno;
		s->out_not_sock = true;
	}
	n = write(s->p.out_fd, buf, len);
	return n < 0 ? -errno : n;
}

/* A wrapped ring takes two writes; a few more bound a guest that keeps refilling it. */
#define SERIAL_TX_FLUSH_WRITES 4

ssize_t serial_tx_flush(struct serial *s)
{
	size_t head, len;
	unsigned int i;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	head = s->tx_head;
	len = s->tx_len;
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < SERIAL_TX_FLUSH_WRITES && len; i++) {
		if (len > SERIAL_TX_BUF_SIZE - head)
			len = SERIAL_TX_BUF_SIZE - head;
		n = serial_tx_write(s, s->tx_buf + head, len);
		if (n == -EINTR)
			n = 0;
		else if (n == -EAGAIN)
			break;
		else if (n < 0) {
			serial_tx_fail(s, n);
			return n;
		}
		pthread_mutex_lock(&s->lock);
		s->tx_head = (s->tx_head + n) % SERIAL_TX_BUF_SIZE;
		s->tx_len -= n;
		s->stats.tx_bytes += n;
		head = s->tx_head;
		len = s->tx_len;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	len = s->tx_len;
	pthread_mutex_unlock(&s->lock);
	return len;
}

void serial_tx_fail(struct serial *s, int err)
{
	pthread_mutex_lock(&s->lock);
	if (!s->tx_failed)
		s->stats.tx_error = -err;
	s->tx_failed = true;
	s->stats.tx_lost += s->tx_len;
	s->tx_head = s->tx_len = 0;
	pthread_mutex_unlock(&s->lock);
}

void serial_tx_discard(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	s->stats.tx_dropped += s->tx_len;
	s->tx_head = s->tx_len = 0;
	pthread_mutex_unlock(&s->lock);
}

void serial_get_stats(struct serial *s, struct serial_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->stats;
	pthread_mutex_unlock(&s->lock);
}

/* For a guest that stopped answering: a transmitter waiting on a lost interrupt shows here. */
void serial_describe(struct serial *s, char *buf, size_t len)
{
	static const char *const why[] = {
		[IIR_MSI] = "modem status",	 [IIR_THRI] = "THR empty",
		[IIR_RDI] = "data ready",	 [IIR_RLSI] = "line status",
		[IIR_RX_TIMEOUT] = "data ready",
	};
	uint8_t iir;

	pthread_mutex_lock(&s->lock);
	iir = serial_iir(s);
	snprintf(
		buf, len,
		"IER 0x%02x, %s%s, IRQ line %s, %zu output bytes waiting, %zu input bytes in the FIFO",
		s->ier, iir == IIR_NO_INT ? "no interrupt" : "interrupt: ",
		iir == IIR_NO_INT ? "" : why[iir], s->irq_level ? "high" : "low", s->tx_len,
		(size_t)s->rx_count);
	pthread_mutex_unlock(&s->lock);
}

int serial_create(const struct serial_params *p, struct serial **out)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->tx_buf = malloc(SERIAL_TX_BUF_SIZE);
	if (!s->tx_buf) {
		free(s);
		return -ENOMEM;
	}
	s->p = *p;
	pthread_mutex_init(&s->lock, NULL);
	s->dll = 12;   /* 9600 baud, what a BIOS leaves */
	s->lcr = 0x03; /* 8N1 */
	s->mcr = MCR_OUT2;
	s->thr_ipending = false;
	*out = s;
	return 0;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->tx_buf);
	free(s);
}

int serial_attach(struct serial *s, struct bus *bus, uint64_t base)
{
	return bus_register(bus, base, SERIAL_NR_REGS, serial_access, s, "serial");
}
