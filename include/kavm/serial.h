/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm 16550A UART: the device model (registers, 16-byte FIFO, THRE and
 * receive interrupts) behind an irq callback, so it runs without KVM in
 * tests; kavm attaches COM1 (0x3f8, IRQ 4) to stdio, a file or a socket.
 */
#ifndef KAVM_SERIAL_H
#define KAVM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include <kavm/bus.h>

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_NR_REGS 8
#define SERIAL_FIFO_SIZE 16

struct serial;

struct serial_params {
	int out_fd; /* transmitted bytes go here; -1 drops them */
	/* Interrupt line changes; called with the UART's lock held. */
	void (*set_irq)(void *opaque, int level);
	/* The FIFO has room again after serial_receive() filled it. Lock held. */
	void (*rx_ready)(void *opaque);
	void *opaque;
};

int serial_create(const struct serial_params *p, struct serial **out);
void serial_destroy(struct serial *s);
/* Claim [base, base + 8) on bus. */
int serial_attach(struct serial *s, struct bus *bus, uint64_t base);
/* Host -> guest bytes; returns how many fit in the receive FIFO. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

#endif /* KAVM_SERIAL_H */
