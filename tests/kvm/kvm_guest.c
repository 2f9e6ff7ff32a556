// SPDX-License-Identifier: GPL-2.0
/*
 * Native KVM tests: tiny guests (tests/guests/, assembled by the build) run on this machine's
 * /dev/kvm with kavm's real devices from the init lists, checking what the
 * devices return, how exits end the VM, and the vCPUs' CPUID.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <kavm/boot.h>
#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>

#include "../harness.h"

#define TEST_PORT 0xf4
#define MMIO_DEV 0xd0000
#define GUEST_MEM (512 << 10)

struct test_port {
	uint8_t vals[16];
	unsigned int n;
};

static void test_port_access(void *opaque, uint64_t off, void *data, unsigned int len,
			     bool is_write)
{
	struct test_port *t = opaque;

	if (is_write && t->n < ARRAY_SIZE(t->vals))
		t->vals[t->n++] = *(uint8_t *)data;
}

struct mmio_dev {
	uint32_t reg;
	unsigned int accesses;
};

static void mmio_dev_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct mmio_dev *d = opaque;
	uint32_t v = off == 0 ? 0x4b41564d : d->reg;

	d->accesses++;
	if (is_write && off == 4 && len == 4)
		memcpy(&d->reg, data, 4);
	else if (!is_write)
		memcpy(data, &v, min(len, 4u));
}

static void guest_path(const char *name, char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	/* build[/san]/tests/kvm/kvm_guest -> build[/san]/tests/guests/NAME.bin */
	snprintf(out, size, "%s/../guests/%s.bin", dirname(exe), name);
}

FIXTURE(guest)
{
	struct vm_config cfg;
	struct kvm_vm vm;
	struct test_port port;
	struct mmio_dev mmio;
	char console[64];
	bool inited;
	bool exited; /* init_list_exit() ran: the console wrote out all it held */
};

FIXTURE_SETUP(guest)
{
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP("needs /dev/kvm");
	log_level = LOG_LEVEL_ERR;
	strcpy(self->console, "/tmp/kavm-console-XXXXXX");
	close(mkstemp(self->console));
	memset(&self->cfg, 0, sizeof(self->cfg));
	memset(&self->port, 0, sizeof(self->port));
	memset(&self->mmio, 0, sizeof(self->mmio));
	self->cfg.mem_size = GUEST_MEM;
	self->cfg.nr_cpus = 1;
	self->cfg.no_irqchip = true; /* HLT exits to userspace */
	self->inited = false;
}

FIXTURE_TEARDOWN(guest)
{
	if (self->inited) {
		if (!self->exited)
			init_list_exit(&self->vm);
		kvm_vm_destroy(&self->vm);
	}
	unlink(self->console);
	free((void *)self->cfg.serial);
}

/* The VM as kavm builds it (init lists: vCPUs, console, RTC, i8042), plus test devices. */
static void start_vm(struct _kt_fixture_guest *self, const char *guest)
{
	char path[PATH_MAX + 32], serial[128];

	snprintf(serial, sizeof(serial), "file:%s", self->console);
	self->cfg.serial = strdup(serial);
	ASSERT_EQ(kvm_vm_create(&self->vm, &self->cfg), 0);
	ASSERT_EQ(init_list_run(&self->vm), 0);
	self->inited = true;
	ASSERT_EQ(bus_register(&self->vm.pio_bus, TEST_PORT, 1, test_port_access, &self->port,
			       "test-port"),
		  0);
	ASSERT_EQ(bus_register(&self->vm.mmio_bus, MMIO_DEV, 0x100, mmio_dev_access, &self->mmio,
			       "test-mmio"),
		  0);
	guest_path(guest, path, sizeof(path));
	ASSERT_EQ(kvm_vm_load_flat(&self->vm, path, 0x1000), 0);
	ASSERT_EQ(kvm_vcpu_setup_real_mode(&self->vm.vcpus[0], 0x1000), 0);
}

/* As kavm does before its last line: the exits write out what the console still holds. */
static void exit_vm(struct _kt_fixture_guest *self)
{
	init_list_exit(&self->vm);
	self->exited = true;
}

static void read_console(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

TEST_F_TIMEOUT(guest, devices_answer_port_io_and_mmio, 120)
{
	char out[64];

	start_vm(self, "devices");
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_HALT);
	ASSERT_EQ(self->port.n, 1u);
	/* 0: every check in the guest passed; otherwise the failed check's number. */
	EXPECT_EQ(self->port.vals[0], 0);
	EXPECT_EQ(self->mmio.reg, 0x12345678u);
	EXPECT_GE(self->mmio.accesses, 3u);
	exit_vm(self);
	read_console(self->console, out, sizeof(out));
	EXPECT_STREQ(out, "ok\n");
}

TEST_F_TIMEOUT(guest, hlt_without_irqchip_stops_the_vm, 60)
{
	start_vm(self, "hlt");
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_HALT);
	ASSERT_EQ(self->port.n, 1u);
	EXPECT_EQ(self->port.vals[0], 0x42);
	EXPECT_TRUE(strstr(self->vm.stop_msg, "halted at rip 0x100") != NULL);
}

TEST_F_TIMEOUT(guest, halt_with_interrupts_off_is_a_poweroff, 60)
{
	/* With the in-kernel irqchip HLT stays in KVM: the halt check must notice. */
	self->cfg.no_irqchip = false;
	start_vm(self, "hlt");
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_POWEROFF);
	EXPECT_EQ(self->port.vals[0], 0x42);
	/* KVM's counters showed it blocked with no wakeup: one look settled it. */
	EXPECT_EQ(self->vm.halt_pauses, 1u);
	EXPECT_STREQ(self->vm.stop_msg,
		     "guest halted (every vCPU stopped with interrupts off; vCPU 0 at rip 0x1006)");
}

/* KVM here is kvm_amd: the CPU has SVM (PVM and the like do not show it). */
static bool host_has_svm(void)
{
	char line[4096];
	bool svm = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && !svm && fgets(line, sizeof(line), f))
		svm = !strncmp(line, "flags", 5) && strstr(line, " svm");
	if (f)
		fclose(f);
	return svm;
}

TEST_F_TIMEOUT(guest, triple_fault_is_a_reset, 60)
{
	char log[8192] = "";
	int fd = memfd_create("stderr", 0), saved = dup(2);
	ssize_t n;

	ASSERT_GE(fd, 0);
	start_vm(self, "triple_fault");
	dup2(fd, 2);
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_REBOOT);
	dup2(saved, 2);
	EXPECT_STREQ(self->vm.stop_msg, "guest reset (triple fault)");
	/* The dump says where the guest died: protected mode, at its div %bl; hlt. */
	n = pread(fd, log, sizeof(log) - 1, 0);
	ASSERT_GT(n, 0);
	log[n] = 0;
	fputs(log, stderr);
	/*
	 * KVM on AMD (kvm_amd: the test host) resets the vCPU at the SHUTDOWN
	 * intercept, and the dump must say so rather than pass reset values
	 * off as the guest's; elsewhere it shows where the guest died.
	 */
	if (host_has_svm()) {
		EXPECT_TRUE(strstr(log, "vCPU 0: these are reset values: KVM reset the vCPU at the "
					"shutdown (AMD)") != NULL);
		EXPECT_TRUE(strstr(log, "vCPU 0: rip=000000000000fff0 ") != NULL);
		return;
	}
	EXPECT_TRUE(strstr(log, "vCPU 0: rip=0000000000001016 ") != NULL);
	EXPECT_TRUE(strstr(log, " idt=0000000000000000/0\n") != NULL);
	EXPECT_TRUE(strstr(log, "vCPU 0: code at gpa 0x1016: f6 f3 f4 ") != NULL);
}

TEST_F_TIMEOUT(guest, i8042_reset_command_is_a_reboot, 60)
{
	start_vm(self, "i8042_reset");
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_REBOOT);
	EXPECT_STREQ(self->vm.stop_msg, "guest reset (i8042)");
}

static int listen_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(a.sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1))
		return -1;
	return fd;
}

TEST_F_TIMEOUT(guest, unix_socket_console_carries_input_and_output, 120)
{
	char path[64], out[16] = { 0 }, guest[PATH_MAX + 32];
	size_t got = 0;
	int lfd, cfd;
	ssize_t n;

	snprintf(path, sizeof(path), "/tmp/kavm-unix-%d", getpid());
	lfd = listen_unix(path);
	ASSERT_GE(lfd, 0);
	ASSERT_GT(asprintf((char **)&self->cfg.serial, "unix:%s", path), 0);
	ASSERT_EQ(kvm_vm_create(&self->vm, &self->cfg), 0);
	ASSERT_EQ(init_list_run(&self->vm), 0);
	self->inited = true;
	ASSERT_EQ(bus_register(&self->vm.pio_bus, TEST_PORT, 1, test_port_access, &self->port,
			       "test-port"),
		  0);
	guest_path("echo", guest, sizeof(guest));
	ASSERT_EQ(kvm_vm_load_flat(&self->vm, guest, 0x1000), 0);
	ASSERT_EQ(kvm_vcpu_setup_real_mode(&self->vm.vcpus[0], 0x1000), 0);
	cfd = accept(lfd, NULL, NULL);
	ASSERT_GE(cfd, 0);
	/* More than the 1-byte receiver holds: the console must pace its reads. */
	ASSERT_EQ(write(cfd, "kavm-echo-q", 11), 11);
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_HALT);
	exit_vm(self);
	memset(out, 0, sizeof(out));
	while (got < 11 && (n = read(cfd, out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	EXPECT_STREQ(out, "kavm-echo-q");
	ASSERT_EQ(self->port.n, 1u);
	EXPECT_EQ(self->port.vals[0], 0);
	close(cfd);
	close(lfd);
	snprintf(path, sizeof(path), "/tmp/kavm-unix-%d", getpid());
	unlink(path);
}

struct pause_check {
	struct kvm_vm *vm;
	uint64_t rcx[3];
	int ret;
};

static uint64_t guest_rcx(struct kvm_vm *vm)
{
	struct kvm_regs regs;

	if (ioctl(vm->vcpus[0].fd, KVM_GET_REGS, &regs))
		return ~0ULL;
	return regs.rcx;
}

/* Pause, read the counter twice (it must not move), resume, see it move, stop. */
static void *pause_later(void *arg)
{
	struct pause_check *p = arg;

	usleep(300 * 1000);
	kvm_vm_pause(p->vm);
	p->rcx[0] = guest_rcx(p->vm);
	usleep(200 * 1000);
	p->rcx[1] = guest_rcx(p->vm);
	kvm_vm_resume(p->vm);
	usleep(300 * 1000);
	kvm_vm_pause(p->vm);
	p->rcx[2] = guest_rcx(p->vm);
	kvm_vm_resume(p->vm);
	kvm_vm_request_stop(p->vm, VM_STOP_SIGNAL, "stopped by the test");
	return NULL;
}

TEST_F_TIMEOUT(guest, pause_parks_every_vcpu_and_resume_restarts_them, 30)
{
	struct pause_check p = { .vm = &self->vm };
	pthread_t t;

	start_vm(self, "count");
	pthread_create(&t, NULL, pause_later, &p);
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_SIGNAL);
	pthread_join(t, NULL);
	EXPECT_NE(p.rcx[0], ~0ULL);
	EXPECT_GT(p.rcx[0], 0u);       /* the guest ran before the pause */
	EXPECT_EQ(p.rcx[1], p.rcx[0]); /* and not while paused */
	EXPECT_GT(p.rcx[2], p.rcx[1]); /* and again after resume */
}

/*
 * Pauses nest: the halt check pauses and resumes inside a user's stop, and
 * its resume must not let the stopped guest run.
 */
static void *pause_nested(void *arg)
{
	struct pause_check *p = arg;

	usleep(300 * 1000);
	kvm_vm_pause(p->vm); /* the user's stop */
	kvm_vm_pause(p->vm); /* the halt check's */
	kvm_vm_resume(p->vm);
	p->rcx[0] = guest_rcx(p->vm);
	usleep(200 * 1000);
	p->rcx[1] = guest_rcx(p->vm);
	kvm_vm_resume(p->vm); /* the user's cont */
	usleep(300 * 1000);
	kvm_vm_pause(p->vm);
	p->rcx[2] = guest_rcx(p->vm);
	kvm_vm_resume(p->vm);
	kvm_vm_request_stop(p->vm, VM_STOP_SIGNAL, "stopped by the test");
	return NULL;
}

TEST_F_TIMEOUT(guest, an_inner_resume_leaves_the_vm_paused, 30)
{
	struct pause_check p = { .vm = &self->vm };
	pthread_t t;

	start_vm(self, "count");
	pthread_create(&t, NULL, pause_nested, &p);
	EXPECT_EQ((int)kvm_vm_run(&self->vm), (int)VM_STOP_SIGNAL);
	pthread_join(t, NULL);
	EXPECT_GT(p.rcx[0], 0u);
	EXPECT_EQ(p.rcx[1], p.rcx[0]); /* still paused after the inner resume */
	EXPECT_GT(p.rcx[2], p.rcx[1]); /* and running after the outer one */
}

struct stop_after {
	struct kvm_vm *vm;
	unsigned int ms;
};

static void *stop_after(void *arg)
{
	const struct stop_after *s = arg;

	usleep(s->ms * 1000);
	kvm_vm_request_stop(s->vm, VM_STOP_SIGNAL, "stopped by the test");
	return NULL;
}

/* Run the VM on this thread until another stops it ms later. */
static int run_for(struct kvm_vm *vm, unsigned int ms)
{
	struct stop_after s = { vm, ms };
	pthread_t t;
	int ret;

	pthread_create(&t, NULL, stop_after, &s);
	ret = kvm_vm_run(vm);
	pthread_join(t, NULL);
	return ret;
}

TEST_F_TIMEOUT(guest, a_spinning_vcpu_is_kicked_out_on_stop, 30)
{
	start_vm(self, "spin");
	EXPECT_EQ(run_for(&self->vm, 300), (int)VM_STOP_SIGNAL);
	EXPECT_STREQ(self->vm.stop_msg, "stopped by the test");
}

TEST_F_TIMEOUT(guest, the_halt_check_leaves_a_running_guest_alone, 30)
{
	/* With the in-kernel irqchip the halt check runs once a second. */
	self->cfg.no_irqchip = false;
	start_vm(self, "spin");
	ASSERT_GE(self->vm.vcpus[0].stats_fd, 0);
	EXPECT_EQ(run_for(&self->vm, 2500), (int)VM_STOP_SIGNAL);
	/* Two checks ran; KVM said the vCPU never blocked, so neither parked it. */
	EXPECT_EQ(self->vm.halt_pauses, 0u);
}

static struct kvm_cpuid_entry2 *find_leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static struct kvm_cpuid2 *vcpu_cpuid(struct kvm_vcpu *vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	c->nent = 256;
	if (ioctl(vcpu->fd, KVM_GET_CPUID2, c)) {
		free(c);
		return NULL;
	}
	return c;
}

TEST_F(guest, cpuid_topology_and_feature_masks)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *c;
	uint32_t r[4];
	const char *bad;
	unsigned int i;

	self->cfg.nr_cpus = 3;
	ASSERT_EQ(cpu_features_parse(&self->cfg, "-cx16,-xsave,-avx2", &bad), 0);
	start_vm(self, "hlt");
	ASSERT_EQ(self->vm.nr_vcpus, 3u);
	for (i = 0; i < 3; i++) {
		/* The table kavm hands to KVM_SET_CPUID2 for this vCPU. */
		ASSERT_EQ(kvm_cpuid_lookup(&self->vm, i, 1, 0, r), 0);
		EXPECT_EQ(r[1] >> 24, i);	    /* initial APIC id */
		EXPECT_EQ((r[1] >> 16) & 0xff, 3u); /* logical processors */
		EXPECT_NE(r[3] & (1U << 28), 0u);   /* HTT: that count is valid */
		EXPECT_EQ(r[2] & (1U << 13), 0u);   /* cx16 masked */
		EXPECT_EQ(r[2] & (1U << 26), 0u);   /* xsave masked */
		EXPECT_NE(r[2] & (1U << 31), 0u);   /* hypervisor */
		if (!kvm_cpuid_lookup(&self->vm, i, 7, 0, r))
			EXPECT_EQ(r[1] & (1U << 5), 0u); /* avx2 masked */
		if (!kvm_cpuid_lookup(&self->vm, i, 0xb, 1, r)) {
			EXPECT_EQ(r[1] & 0xffff, 3u); /* CPUs at core level */
			EXPECT_EQ(r[0] & 0x1f, 2u);   /* APIC id bits for 3 cores */
			EXPECT_EQ(r[3], i);	      /* x2APIC id */
		}
		if (!kvm_cpuid_lookup(&self->vm, i, 0x80000008, 0, r))
			EXPECT_EQ(r[2] & 0xff, 2u); /* AMD: cores - 1 */

		/*
		 * What KVM took. This host's PVM rewrites most of leaf 1 ECX
		 * and leaf 7 itself, so only the APIC id and cx16 are read back.
		 */
		c = vcpu_cpuid(&self->vm.vcpus[i]);
		ASSERT_TRUE(c != NULL);
		e = find_leaf(c, 1, 0);
		ASSERT_TRUE(e != NULL);
		EXPECT_EQ(e->ebx >> 24, i);
		EXPECT_EQ(e->ecx & (1U << 13), 0u);
		free(c);
	}
}

/* Is CPUID bit (function, index, reg 0..3 = eax..edx, bit) in what this KVM supports? */
static bool kvm_supports(uint32_t function, uint32_t index, int reg, int bit)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} t = { .c.nent = 256 };
	bool found = false;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	uint32_t i, v;

	if (fd < 0 || ioctl(fd, KVM_GET_SUPPORTED_CPUID, &t)) {
		if (fd >= 0)
			close(fd);
		return true; /* unknown: not a candidate */
	}
	close(fd);
	for (i = 0; i < t.c.nent && !found; i++) {
		const struct kvm_cpuid_entry2 *e = &t.e[i];

		if (e->function != function || e->index != index)
			continue;
		v = reg == 0 ? e->eax : reg == 1 ? e->ebx : reg == 2 ? e->ecx : e->edx;
		found = v & (1U << bit);
	}
	return found;
}

TEST(cpu_feature_that_kvm_lacks_cannot_be_required)
{
	/* Asked of KVM, not assumed: nested KVM has svm, PVM has not, and so on. */
	static const struct {
		const char *spec;
		uint32_t function, index;
		int reg, bit;
	} candidates[] = {
		{ "+svm", 0x80000001, 0, 2, 2 }, { "+la57", 7, 0, 2, 16 },
		{ "+avx512f", 7, 0, 1, 16 },	 { "+pku", 7, 0, 2, 3 },
		{ "+sha_ni", 7, 0, 1, 29 },	 { "+xsaves", 0xd, 1, 0, 3 },
	};
	struct vm_config cfg = { .mem_size = GUEST_MEM, .nr_cpus = 1, .no_irqchip = true };
	const char *bad, *spec = NULL;
	struct kvm_vm vm;
	unsigned int i;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP("needs /dev/kvm");
	for (i = 0; i < ARRAY_SIZE(candidates) && !spec; i++)
		if (!kvm_supports(candidates[i].function, candidates[i].index, candidates[i].reg,
				  candidates[i].bit))
			spec = candidates[i].spec;
	ASSERT_TRUE(spec != NULL); /* this KVM has every candidate: add one */
	printf("# %s: a feature this KVM lacks\n", spec);
	log_level = LOG_LEVEL_ERR - 1;
	ASSERT_EQ(cpu_features_parse(&cfg, spec, &bad), 0);
	ASSERT_EQ(kvm_vm_create(&vm, &cfg), 0);
	EXPECT_EQ(kvm_vcpus_create(&vm), -EOPNOTSUPP);
	kvm_vm_destroy(&vm);
}

TEST(too_many_cpus_for_kvm_are_refused)
{
	struct vm_config cfg = { .mem_size = GUEST_MEM, .nr_cpus = 0, .no_irqchip = true };
	struct kvm_vm vm;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP("needs /dev/kvm");
	log_level = LOG_LEVEL_ERR - 1;
	EXPECT_EQ(kvm_vm_create(&vm, &cfg), -EINVAL);
	cfg.nr_cpus = KVM_MAX_CPUS + 1;
	EXPECT_EQ(kvm_vm_create(&vm, &cfg), -EINVAL);
}

TEST(ram_above_3g_moves_above_4g_leaving_the_pci_hole)
{
	struct vm_config cfg = { .mem_size = (3ULL << 30) + (512ULL << 20), .nr_cpus = 1 };
	struct kvm_vm vm;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP("needs /dev/kvm");
	ASSERT_EQ(kvm_vm_create(&vm, &cfg), 0);
	ASSERT_EQ(vm.mem.nr_regions, 2u);
	EXPECT_EQ(vm.mem.regions[0].gpa, 0u);
	EXPECT_EQ(vm.mem.regions[0].size, KVM_LOW_RAM_MAX);
	EXPECT_EQ(vm.mem.regions[1].gpa, KVM_HIGH_RAM_BASE);
	EXPECT_EQ(vm.mem.regions[1].size, 512ULL << 20);
	EXPECT_TRUE(guest_mem_ptr(&vm.mem, KVM_PCI_MMIO_BASE, 1) == NULL);
	EXPECT_TRUE(guest_mem_ptr(&vm.mem, KVM_HIGH_RAM_BASE - 1, 1) == NULL);
	EXPECT_GE(guest_mem_ram_size(&vm.mem), cfg.mem_size);
	kvm_vm_destroy(&vm);
}
