/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the eBPF switch tests and bench: taps made with TUNSETIFF,
 * crafted Ethernet frames, and switch names that never collide between
 * concurrent test runs (the pid is in the name; pins of dead runs are swept).
 */
#ifndef KAVM_TESTS_SWITCH_UTIL_H
#define KAVM_TESTS_SWITCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>

#include <kavm/bpf-switch.h>

#define SW_TEST_PREFIX "kt-"

/* A tap whose fd we hold: writes enter the kernel like a VM's TX, reads are its RX. */
static inline int tapdev_open(char name[IFNAMSIZ], bool nonblock)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	return fd;
}

static inline int tapdev_up(const char *name)
{
	struct ifreq ifr = {};
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			ret = -errno;
	} else {
		ret = -errno;
	}
	close(fd);
	return ret;
}

/* Everything queued on the tap now, dropped; returns how many frames. */
static inline int tapdev_drain(int fd)
{
	char buf[2048];
	int n = 0;

	while (1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 0) <= 0)
			return n;
		if (read(fd, buf, sizeof(buf)) <= 0)
			return n;
		n++;
	}
}

/* One frame within timeout_ms, or -ETIMEDOUT. */
static inline ssize_t tapdev_recv(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = read(fd, buf, size);
	return n < 0 ? -errno : n;
}

/* dst, src, an IPv4 ethertype (the stack drops it harmlessly) and a pattern. */
static inline size_t frame_make(uint8_t *buf, size_t len, const uint8_t dst[6],
				const uint8_t src[6], uint8_t seed)
{
	size_t i;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = 0x88; /* 0x88b5: IEEE local experimental, no stack handler */
	buf[13] = 0xb5;
	for (i = 14; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
	return len;
}

static inline void sw_test_name(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, SW_TEST_PREFIX "%d-%s", (int)getpid(), tag);
}

static inline int sw_sweep_one(const char *name, void *arg)
{
	int pid;

	(void)arg;
	if (sscanf(name, SW_TEST_PREFIX "%d-", &pid) == 1 && pid > 0 && kill(pid, 0) &&
	    errno == ESRCH)
		bpf_switch_destroy_pins(name); /* its netns died with it */
	return 0;
}

/* Pins left by a test run that was killed (timeout, signal) go away here. */
static inline void sw_sweep_stale(void)
{
	bpf_switch_for_each(sw_sweep_one, NULL);
}

#endif /* KAVM_TESTS_SWITCH_UTIL_H */
