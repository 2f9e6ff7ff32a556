/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm 16550A UART: the device model (registers, 16-byte FIFO, THRE and
 * receive interrupts) behind an irq callback, so it runs without KVM in
 * tests; kavm attaches COM1 (0x3f8, IRQ 4) to stdio, a file or a socket.
 *
 * Output never waits for the console: a transmitted byte goes into a
 * bounded buffer that the I/O thread writes out with serial_tx_flush() when
 * the fd is writable. What the full buffer cannot take is dropped and
 * counted, as on a wire nobody listens to.
 */
#ifndef KAVM_SERIAL_H
#define KAVM_SERIAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <kavm/bus.h>

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_NR_REGS 8
#define SERIAL_FIFO_SIZE 16
/* Console output held for a reader that is slow or stopped. */
#define SERIAL_TX_BUF_SIZE (64 * 1024)

struct serial;

struct serial_params {
	/*
	 * Transmitted bytes go here, written only by serial_tx_flush(): a
	 * socket, a non-blocking fd or a regular file. -1 discards them.
	 */
	int out_fd;
	/* Interrupt line changes; called with the UART's lock held. */
	void (*set_irq)(void *opaque, int level);
	/* The FIFO has room again after serial_receive() filled it. Lock held. */
	void (*rx_ready)(void *opaque);
	/* The output buffer was empty and holds bytes now: flush it. Lock held. */
	void (*tx_pending)(void *opaque);
	void *opaque;
};

/* What happened to the guest's output; read with serial_get_stats(). */
struct serial_stats {
	uint64_t tx_bytes;   /* written to out_fd */
	uint64_t tx_dropped; /* the buffer was full: the reader was not reading */
	uint64_t tx_lost;    /* out_fd failed (tx_error); all later output too */
	int tx_error;	     /* errno of the failed write; 0 if none */
};

int serial_create(const struct serial_params *p, struct serial **out);
void serial_destroy(struct serial *s);
/* Claim [base, base + 8) on bus. */
int serial_attach(struct serial *s, struct bus *bus, uint64_t base);
/* Host -> guest bytes; returns how many fit in the receive FIFO. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
/*
 * Write buffered output to out_fd without waiting; one thread (kavm's I/O
 * thread) at a time. Returns the bytes still buffered (0: all written, more
 * than 0: out_fd is full, or the round's bound was reached) or -errno when
 * out_fd failed: then the output is counted lost from here on.
 */
ssize_t serial_tx_flush(struct serial *s);
/* The console is gone (err < 0): buffered and later output count as lost. */
void serial_tx_fail(struct serial *s, int err);
/* Give up on what is still buffered (exit): it counts as dropped. */
void serial_tx_discard(struct serial *s);
void serial_get_stats(struct serial *s, struct serial_stats *st);
/* The interrupt state and what waits to be written, as one line of text. */
void serial_describe(struct serial *s, char *buf, size_t len);
/* Print serial_describe() of kavm's console, if there is one. */
void serial_console_report(void);
/* Those of kavm's console (COM1), for the control socket; -ENODEV without one. */
int serial_console_stats(struct serial_stats *st);

#endif /* KAVM_SERIAL_H */
