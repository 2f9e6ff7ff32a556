// SPDX-License-Identifier: GPL-2.0
/*
 * kavm ACPI fixed hardware, hardware-reduced flavour (ACPI 6.0 4.1): the
 * sleep control and status registers (S5 ends kavm with status 0), the
 * reset register (likewise), and the generic event device's event register
 * through which the power button reaches the guest. Ports and values are in
 * include/kavm/acpi-hw.h, shared with the DSDT.
 */
#include <errno.h>
#include <string.h>

#include <kavm/acpi.h>
#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>

static struct pm {
	struct kvm_vm *vm;
	bool up;
	/* Atomics: raised by the I/O thread, read and cleared by a vCPU's _EVT. */
	uint32_t ged_events;
	/* Atomic: set by a vCPU running the DSDT's GED _INI, read by the I/O thread. */
	bool guest_ready;
} pm;

static void pm_sleep_control(struct pm *p, uint8_t v)
{
	unsigned int typ = (v & ACPI_SLEEP_TYP_MASK) >> ACPI_SLEEP_TYP_SHIFT;

	if (!(v & ACPI_SLEEP_EN))
		return;
	if (typ == KAVM_ACPI_SLP_TYP_S5) {
		kvm_vm_request_stop(p->vm, VM_STOP_POWEROFF, "guest powered off (ACPI S5)");
		return;
	}
	/* The DSDT offers S5 only: another type is a confused guest. */
	log_ratelimited(LOG_LEVEL_DEBUG, "acpi: sleep type %u requested, only S5 (%u) exists", typ,
			KAVM_ACPI_SLP_TYP_S5);
}

static void pm_write(struct pm *p, uint64_t port, const uint8_t *data, unsigned int len)
{
	uint32_t v = 0;

	memcpy(&v, data, min(len, (unsigned int)sizeof(v)));
	switch (port) {
	case KAVM_ACPI_SLEEP_CTL:
		pm_sleep_control(p, v & 0xff);
		break;
	case KAVM_ACPI_RESET_REG:
		if ((v & 0xff) == KAVM_ACPI_RESET_VALUE)
			kvm_vm_request_stop(p->vm, VM_STOP_REBOOT,
					    "guest reset (ACPI reset register)");
		break;
	case KAVM_ACPI_GED_READY:
		if (v == 1 && !__atomic_exchange_n(&p->guest_ready, true, __ATOMIC_ACQ_REL))
			pr_debug("acpi: the guest initialised the generic event device");
		break;
	default: /* sleep status (nothing ever wakes), event register: read only */
		break;
	}
}

static void pm_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	struct pm *p = opaque;
	uint64_t port = KAVM_ACPI_PM_BASE + off;
	uint32_t v;

	if (is_write) {
		pm_write(p, port, data, len);
		return;
	}
	memset(data, 0, len);
	/* Reading the event register hands the pending events to _EVT and clears them. */
	if (port == KAVM_ACPI_GED_EVENT && len == 4) {
		v = __atomic_exchange_n(&p->ged_events, 0, __ATOMIC_ACQ_REL);
		memcpy(data, &v, sizeof(v));
	}
}

int pm_power_button(struct kvm_vm *vm)
{
	int ret;

	if (!pm.up || !__atomic_load_n(&pm.guest_ready, __ATOMIC_ACQUIRE))
		return -ENODEV;
	__atomic_or_fetch(&pm.ged_events, KAVM_ACPI_GED_POWER_BUTTON, __ATOMIC_ACQ_REL);
	/* An edge, as the DSDT declares the GED's interrupt. */
	ret = kvm_irq_line(vm, KAVM_ACPI_GED_GSI, 1);
	if (!ret)
		ret = kvm_irq_line(vm, KAVM_ACPI_GED_GSI, 0);
	return ret;
}

bool pm_guest_acpi_up(void)
{
	return pm.up && __atomic_load_n(&pm.guest_ready, __ATOMIC_ACQUIRE);
}

static int pm_init(struct kvm_vm *vm)
{
	int ret;

	/* Test VMs without an irqchip have no GSI for the GED: no ACPI for them. */
	if (!vm->cfg->acpi || vm->cfg->no_irqchip)
		return 0;
	memset(&pm, 0, sizeof(pm));
	pm.vm = vm;
	ret = bus_register(&vm->pio_bus, KAVM_ACPI_PM_BASE, KAVM_ACPI_PM_LEN, pm_access, &pm,
			   "acpi-pm");
	if (ret)
		return ret;
	pm.up = true;
	return 0;
}

static void pm_exit(struct kvm_vm *vm)
{
	if (!pm.up)
		return;
	pm.up = false;
	bus_unregister(&vm->pio_bus, KAVM_ACPI_PM_BASE);
}
dev_init(pm_init, pm_exit);
