/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm device bus: address ranges registered by devices on the port-I/O or
 * MMIO bus, looked up on every vCPU exit.
 *
 * Lock: each bus has a rwlock. Dispatch holds it for reading across the
 * device callback, so a device can be unregistered only when no vCPU is
 * inside it. A callback must not (un)register on the bus that called it
 * (a PIO config-space write that moves an MMIO BAR is fine).
 */
#ifndef KAVM_BUS_H
#define KAVM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* offset is relative to the registered base; len is 1, 2, 4 or 8. */
typedef void (*bus_access_fn)(void *opaque, uint64_t offset, void *data, unsigned int len,
			      bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_access_fn fn;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_range *ranges; /* sorted by base, no overlaps; protected by lock */
	unsigned int nr, cap;
};

int bus_init(struct bus *bus, const char *name);
void bus_exit(struct bus *bus);
/* -EEXIST when [base, base+len) overlaps a registered range, -EINVAL when empty or wrapping. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_access_fn fn, void *opaque,
		 const char *name);
int bus_unregister(struct bus *bus, uint64_t base);
/*
 * Run the access. -ENOENT when no device claims the whole access: reads then
 * return all ones, as on real hardware, and the caller decides whether to log.
 */
int bus_dispatch(struct bus *bus, uint64_t addr, void *data, unsigned int len, bool is_write);

#endif /* KAVM_BUS_H */
