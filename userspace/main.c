// SPDX-License-Identifier: GPL-2.0
/* kavm: parse the command line, build the VM through the init lists, run it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <kavm/acpi.h>
#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/loop.h>
#include <kavm/options.h>
#include <kavm/registry.h>
#include <kavm/seccomp.h>
#include <kavm/serial.h>

/* Armed by the first SIGTERM once the power button is pressed; I/O thread only. */
static struct loop_timer *power_button_timer;

static void power_button_timeout(void *opaque)
{
	/* Whether the guest was busy, idle or stuck: the first question about a guest that hung. */
	kvm_vm_progress_report(opaque, "the power button");
	serial_console_report();
	pr_warn("the guest did not power off within %d s of the power button",
		ACPI_POWER_BUTTON_TIMEOUT_S);
	kvm_vm_request_stop(opaque, VM_STOP_SIGNAL, "terminated by SIGTERM");
}

/*
 * The first SIGTERM asks the guest to shut down, as a host's power button
 * would, if the guest's ACPI listens; a second SIGTERM, or the timeout,
 * stops it. Returns whether the button was pressed.
 */
static bool press_power_button(struct kvm_vm *vm)
{
	if (power_button_timer || !pm_guest_acpi_up())
		return false;
	if (loop_timer_add(vm->loop, ACPI_POWER_BUTTON_TIMEOUT_S * 1000000000ULL, 0,
			   power_button_timeout, vm, &power_button_timer)) {
		power_button_timer = NULL;
		return false;
	}
	if (pm_power_button(vm)) {
		loop_timer_del(vm->loop, power_button_timer);
		power_button_timer = NULL;
		return false;
	}
	kvm_vm_progress_mark(vm);
	pr_info("SIGTERM: pressed the guest's power button; it has %d s to power off "
		"(SIGTERM again stops it now)",
		ACPI_POWER_BUTTON_TIMEOUT_S);
	return true;
}

static void on_signal(int fd, uint32_t events, void *opaque)
{
	struct kvm_vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGTERM && press_power_button(vm))
		return;
	kvm_vm_request_stop(vm, VM_STOP_SIGNAL, "terminated by SIG%s", sigabbrev_np(si.ssi_signo));
}

/* SIGINT/SIGTERM are blocked in every thread and read by the loop: an orderly stop. */
static int signals_setup(struct kvm_vm *vm, int *sfd)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -EINVAL;
	*sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (*sfd < 0)
		return -errno;
	ret = loop_add_fd(vm->loop, *sfd, EPOLLIN, on_signal, vm);
	if (ret)
		close(*sfd);
	return ret;
}

/* Take the VM's name early: a clash is one line before anything runs. */
static int registry_setup(struct registry *reg, const struct vm_config *cfg)
{
	char fallback[REGISTRY_NAME_MAX + 1];
	const char *name = cfg->name;
	pid_t owner = 0;
	int ret;

	if (!name) {
		snprintf(fallback, sizeof(fallback), "kavm-%d", (int)getpid());
		name = fallback;
	}
	ret = registry_open(reg, name, &owner);
	if (ret == -EEXIST)
		pr_err("--name %s: already the name of a running kavm (pid %d)", name, (int)owner);
	else if (ret)
		pr_warn("registry %s: %s: kavm-trace will not find this VM", registry_dir(),
			strerror(-ret));
	return ret == -EEXIST ? ret : 0;
}

/* The vCPU threads exist: publish them with the taps, before the sandbox forbids files. */
static void registry_vcpus_started(struct kvm_vm *vm, void *opaque)
{
	struct registry_vcpu vcpus[REGISTRY_MAX_VCPUS];
	struct registry *reg = opaque;
	unsigned int i, n = min(vm->nr_vcpus, REGISTRY_MAX_VCPUS);
	int ret;

	if (reg->dir_fd < 0)
		return;
	for (i = 0; i < n; i++)
		vcpus[i] = (struct registry_vcpu){ .id = vm->vcpus[i].id, .tid = vm->vcpus[i].tid };
	ret = registry_publish(reg, vcpus, n);
	if (ret)
		pr_warn("registry %s: %s: kavm-trace will not find this VM", registry_dir(),
			strerror(-ret));
	else
		sandbox_allow_unlink_in(reg->dir_fd);
}

static int report(struct kvm_vm *vm, enum vm_stop_reason why)
{
	switch (why) {
	case VM_STOP_REBOOT:
	case VM_STOP_POWEROFF:
	case VM_STOP_QUIT:
		pr_info("%s", vm->stop_msg);
		return 0;
	default:
		pr_err("%s", vm->stop_msg);
		return 1;
	}
}

int main(int argc, char **argv)
{
	struct registry reg = { .dir_fd = -1 };
	struct vm_config cfg;
	enum vm_stop_reason why;
	struct kvm_vm vm;
	int ret, sfd = -1;

	log_init(argv[0]);
	ret = options_parse(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? 0 : 1;
	if (cfg.dump_acpi_dir)
		return acpi_dump(cfg.dump_acpi_dir, cfg.nr_cpus) ? 1 : 0;
	/* A console peer that goes away must not kill kavm. */
	signal(SIGPIPE, SIG_IGN);

	if (registry_setup(&reg, &cfg))
		return 1;
	if (kvm_vm_init(&vm, &cfg)) {
		registry_close(&reg);
		return 1;
	}
	vm.vcpus_started = registry_vcpus_started;
	vm.vcpus_started_opaque = &reg;
	ret = signals_setup(&vm, &sfd);
	if (ret) {
		pr_err("signal handling: %s", strerror(-ret));
		goto out_destroy;
	}
	/* Every input is checked before /dev/kvm opens: its error is the last one a user meets. */
	ret = init_list_run_levels(&vm, INIT_INPUT, INIT_INPUT);
	if (ret)
		goto out_destroy;
	ret = kvm_vm_attach_kvm(&vm);
	if (ret) {
		init_list_exit(&vm);
		goto out_destroy;
	}
	ret = init_list_run_levels(&vm, INIT_CORE, INIT_NR_LEVELS - 1);
	if (ret)
		goto out_destroy;
	why = kvm_vm_run(&vm);
	loop_timer_del(vm.loop, power_button_timer);
	/* Exits first: the terminal leaves raw mode before the last line. */
	init_list_exit(&vm);
	ret = report(&vm, why);
out_destroy:
	if (sfd >= 0) {
		loop_del_fd(vm.loop, sfd);
		close(sfd);
	}
	kvm_vm_destroy(&vm);
	registry_close(&reg);
	return ret ? 1 : 0;
}
