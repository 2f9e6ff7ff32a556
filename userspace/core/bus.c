// SPDX-License-Identifier: GPL-2.0
/* kavm device bus: a sorted array of ranges, binary-searched per exit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/bus.h>
#include <kavm/log.h>

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_exit(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose end is above addr (caller holds the lock). */
static unsigned int bus_lower_bound(const struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (r->base + r->len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int bus_grow(struct bus *bus)
{
	unsigned int cap = bus->cap ? bus->cap * 2 : 16;
	struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

	if (!r)
		return -ENOMEM;
	bus->ranges = r;
	bus->cap = cap;
	return 0;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_access_fn fn, void *opaque,
		 const char *name)
{
	uint64_t last = base + len - 1;
	unsigned int i;
	int ret = 0;

	if (!len || last < base || !fn)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base <= last) {
		pr_debug("%s bus: %s at %#llx+%#llx overlaps %s", bus->name, name,
			 (unsigned long long)base, (unsigned long long)len, bus->ranges[i].name);
		ret = -EEXIST;
		goto out_unlock;
	}
	if (bus->nr == bus->cap) {
		ret = bus_grow(bus);
		if (ret)
			goto out_unlock;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){ base, len, fn, opaque, name };
	bus->nr++;
out_unlock:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	unsigned int i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base == base) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_dispatch(struct bus *bus, uint64_t addr, void *data, unsigned int len, bool is_write)
{
	const struct bus_range *r;
	unsigned int i;
	int ret = -ENOENT;

	pthread_rwlock_rdlock(&bus->lock);
	i = bus_lower_bound(bus, addr);
	if (i < bus->nr) {
		r = &bus->ranges[i];
		if (addr >= r->base && len && len - 1 <= r->base + r->len - 1 - addr) {
			r->fn(r->opaque, addr - r->base, data, len, is_write);
			ret = 0;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	if (ret && !is_write)
		memset(data, 0xff, len);
	return ret;
}
