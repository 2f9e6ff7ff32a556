// SPDX-License-Identifier: GPL-2.0
/*
 * kavm's --netdev tap,fd=N against real taps in a fresh netns: a vnet_hdr=
 * that contradicts the fd's IFF_VNET_HDR is refused before /dev/kvm opens,
 * in one line naming the netdev, the fd, the tap and both sides, with status
 * 1. (build/kavm is exec'd with the fd inherited as N.)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness.h"

#define TAP_FD 5

/*
 * A bzImage (protocol 2.15) whose 64-bit entry resets the machine through the
 * i8042: should kavm get that far (an fd wrongly accepted), it stops at once.
 */
static int write_bzimage(const char *path)
{
	static uint8_t bz[5 * 512 + 8192];
	FILE *f;

	bz[0x1f1] = 4;			   /* setup_sects */
	bz[0x1f5] = 8192 / 16 / 256;	   /* syssize (16-byte units) */
	memcpy(bz + 0x1fe, "\x55\xaa", 2); /* boot_flag */
	bz[0x201] = 0x6a;		   /* header ends at 0x26c */
	memcpy(bz + 0x202, "HdrS", 4);
	memcpy(bz + 0x206, "\x0f\x02", 2);			 /* version 2.15 */
	bz[0x236] = 1;						 /* XLF_KERNEL_64 */
	memcpy(bz + 0x260, "\x00\x00\x10\x00", 4);		 /* init_size 1 MiB */
	memcpy(bz + 5 * 512 + 0x200, "\xb0\xfe\xe6\x64\xf4", 5); /* out 0xfe,0x64; hlt */
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fwrite(bz, sizeof(bz), 1, f) != 1) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

static int tap_fd(short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "kfd0");
	if (ioctl(fd, TUNSETIFF, &ifr))
		return -errno;
	return fd;
}

/* Read what fd gives for up to timeout_ms in all; NUL-terminated, the last newline cut. */
static void read_for(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n = 1;

	while (n > 0 && got < len - 1 && timeout_ms > 0 && poll(&pfd, 1, 100) >= 0) {
		timeout_ms -= 100;
		if (pfd.revents)
			n = read(fd, buf + got, len - 1 - got);
		if (pfd.revents && n > 0)
			got += n;
	}
	buf[got] = 0;
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = 0;
}

/* Run kavm with fd as TAP_FD and "--netdev spec"; its stderr into err. Returns its status. */
static int run_kavm(int fd, const char *spec, char *err, size_t errlen)
{
	char kavm[PATH_MAX], kernel[] = "/tmp/kavm-tapfd-XXXXXX";
	int pipefd[2], status, k;
	pid_t pid;

	if (kt_build_prog("kavm", kavm, sizeof(kavm)) || (k = mkstemp(kernel)) < 0)
		return -1;
	close(k);
	if (write_bzimage(kernel) || pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		dup2(fd, TAP_FD); /* dup2 clears FD_CLOEXEC */
		execl(kavm, kavm, "--kernel", kernel, "--serial", "none", "--netdev", spec,
		      "--device", "virtio-net-pci,netdev=n0", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	read_for(pipefd[0], err, errlen, 10000);
	close(pipefd[0]);
	kill(pid, SIGKILL); /* bounded, whatever kavm did with the fd */
	waitpid(pid, &status, 0);
	unlink(kernel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void need_kavm(void)
{
	char path[PATH_MAX];

	if (kt_build_prog("kavm", path, sizeof(path)))
		SKIP("needs build/kavm (make)");
}

TEST(vnet_hdr_off_on_a_fd_with_the_header_is_refused)
{
	char err[512];
	int fd;

	need_kavm();
	kt_unshare_netns();
	fd = tap_fd(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(run_kavm(fd, "tap,id=n0,fd=5,vnet_hdr=off", err, sizeof(err)), 1);
	EXPECT_STREQ(
		err,
		"kavm: netdev n0: tap fd 5 (kfd0) has IFF_VNET_HDR but vnet_hdr=off was asked");
}

TEST(vnet_hdr_on_on_a_fd_without_the_header_is_refused)
{
	char err[512];
	int fd;

	need_kavm();
	kt_unshare_netns();
	fd = tap_fd(IFF_TAP | IFF_NO_PI);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(run_kavm(fd, "tap,id=n0,fd=5,vnet_hdr=on", err, sizeof(err)), 1);
	EXPECT_STREQ(
		err,
		"kavm: netdev n0: tap fd 5 (kfd0) has no IFF_VNET_HDR but vnet_hdr=on was asked");
}

TEST(a_tun_fd_is_refused)
{
	char err[512];
	int fd;

	need_kavm();
	kt_unshare_netns();
	fd = tap_fd(IFF_TUN | IFF_NO_PI);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(run_kavm(fd, "tap,id=n0,fd=5", err, sizeof(err)), 1);
	EXPECT_STREQ(err,
		     "kavm: netdev n0: tap fd 5 (kfd0) is a tun device, not a tap (no IFF_TAP)");
}
