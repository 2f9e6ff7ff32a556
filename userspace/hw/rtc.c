// SPDX-License-Identifier: GPL-2.0
/*
 * kavm CMOS RTC (MC146818 at 0x70/0x71): the host's UTC time in BCD, never
 * in an update cycle, 128 bytes of CMOS. Without it Linux's rtc_cmos waits
 * seconds for an update-in-progress bit that an absent chip (reads of 0xff)
 * never clears. No alarm or periodic interrupts.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <kavm/init.h>
#include <kavm/kvm.h>

#define RTC_INDEX 0x70
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define REG_A_DIVIDER 0x26 /* 32.768 kHz time base, 1024 Hz rate; UIP clear */
#define REG_B_24H 0x02
#define REG_D_VRT 0x80 /* battery good: the time is valid */

static struct rtc {
	pthread_mutex_t lock; /* vCPU threads */
	uint8_t index;
	uint8_t cmos[128];
} rtc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint8_t bcd(unsigned int v)
{
	return (v / 10) << 4 | (v % 10);
}

static uint8_t rtc_read(struct rtc *r, uint8_t reg)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return bcd(tm.tm_sec);
	case RTC_MINUTES:
		return bcd(tm.tm_min);
	case RTC_HOURS:
		return bcd(tm.tm_hour);
	case RTC_DAY_OF_WEEK:
		return bcd(tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return bcd(tm.tm_mday);
	case RTC_MONTH:
		return bcd(tm.tm_mon + 1);
	case RTC_YEAR:
		return bcd(tm.tm_year % 100);
	case RTC_CENTURY:
		return bcd(19 + tm.tm_year / 100);
	case RTC_REG_A:
		return REG_A_DIVIDER;
	case RTC_REG_B:
		return (r->cmos[RTC_REG_B] & ~0x04) | REG_B_24H; /* BCD */
	case RTC_REG_C:
		return 0;
	case RTC_REG_D:
		return REG_D_VRT;
	default:
		return r->cmos[reg];
	}
}

static void rtc_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct rtc *r = opaque;
	uint8_t *p = data;

	pthread_mutex_lock(&r->lock);
	if (!is_write)
		memset(data, 0, len);
	if (off == 0 && is_write)
		r->index = p[0] & 0x7f; /* bit 7 masks NMIs on a PC: nothing to do */
	else if (off == 0)
		p[0] = 0xff; /* the index port is write-only */
	else if (is_write)
		r->cmos[r->index] = p[0]; /* time writes are ignored: host time wins */
	else
		p[0] = rtc_read(r, r->index);
	pthread_mutex_unlock(&r->lock);
}

static int rtc_init(struct kvm_vm *vm)
{
	/*
	 * glibc reads /etc/localtime on its first time conversion, even for
	 * gmtime_r(): here, not on a sandboxed vCPU that may not open files.
	 */
	tzset();
	return bus_register(&vm->pio_bus, RTC_INDEX, 2, rtc_access, &rtc, "rtc");
}

static void rtc_exit(struct kvm_vm *vm)
{
	bus_unregister(&vm->pio_bus, RTC_INDEX);
}
dev_init(rtc_init, rtc_exit);
