// SPDX-License-Identifier: GPL-2.0
/*
 * Native test: kavm's VM as the init lists build it, with the PCI host
 * bridge wired in (hw/pci-vm.c), probed by a tiny real-mode guest through
 * real port I/O exits; and the device's INTx route in the MP table.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>

#include <kavm/boot.h>
#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/pci.h>

#include "../harness.h"

#define TEST_PORT 0xf4

struct test_port {
	uint8_t vals[4];
	unsigned int n;
};

static void test_port_access(void *opaque, uint64_t off, void *data, unsigned int len,
			     bool is_write)
{
	struct test_port *t = opaque;

	if (is_write && t->n < ARRAY_SIZE(t->vals))
		t->vals[t->n++] = *(uint8_t *)data;
}

static void bar_access(void *opaque, uint64_t off, void *data, unsigned int len, bool is_write)
{
	if (!is_write)
		memset(data, 0, len);
}

static void guest_path(const char *name, char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	snprintf(out, size, "%s/../guests/%s.bin", dirname(exe), name);
}

/* The MP table's I/O interrupt entry for PCI bus 0, slot, INTA: its IOAPIC pin, or -1. */
static int mptable_pci_pin(const uint8_t *buf, size_t size, unsigned int slot)
{
	const uint8_t *hdr = memmem(buf, size, "PCMP", 4), *e;
	uint16_t count, i;

	if (!hdr || !range_ok(hdr - buf, 44, size))
		return -1;
	memcpy(&count, hdr + 34, 2);
	for (e = hdr + 44, i = 0; i < count; i++) {
		if (!range_ok(e - buf, 8, size))
			return -1;
		if (e[0] == 3 && e[4] == MPTABLE_BUS_PCI && e[5] == (slot << 2))
			return e[7];
		e += e[0] == 0 ? 20 : 8;
	}
	return -1;
}

TEST_TIMEOUT(guest_probes_pci_config_space, 120)
{
	struct vm_config cfg = { .mem_size = 16 << 20, .nr_cpus = 1 };
	static uint8_t mpt[BOOT_MPTABLE_MAX];
	struct test_port port = { 0 };
	char path[PATH_MAX + 32];
	struct pci_host *host;
	struct pci_dev dev;
	struct kvm_vm vm;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP("needs /dev/kvm");
	log_level = LOG_LEVEL_ERR;
	cfg.serial = "none";
	ASSERT_EQ(kvm_vm_create(&vm, &cfg), 0);
	ASSERT_EQ(init_list_run(&vm), 0);
	host = kvm_vm_pci(&vm);
	ASSERT_TRUE(host != NULL);
	ASSERT_EQ(bus_register(&vm.pio_bus, TEST_PORT, 1, test_port_access, &port, "test-port"), 0);
	pci_dev_init(&dev, "probe", 0x1af4, 0x1041, 0xff0000, 0x1af4, 0x40);
	ASSERT_EQ(pci_dev_add_bar(&dev, 0, PCI_BAR_MEM32, 0x1000, bar_access, NULL), 0);
	ASSERT_EQ(pci_dev_register(host, &dev), 0);
	EXPECT_GE(dev.bars[0].mapped_at, KVM_PCI_MMIO_BASE);
	EXPECT_LT(dev.bars[0].mapped_at, KVM_PCI_MMIO_END);
	/* The boot code writes the MP table after the devices: slot 1 INTA -> pin 17. */
	ASSERT_GT(mptable_build(mpt, sizeof(mpt), BOOT_MPTABLE_ADDR, 1), 0);
	EXPECT_EQ(mptable_pci_pin(mpt, sizeof(mpt), 1), 17);
	guest_path("pci_probe", path, sizeof(path));
	ASSERT_EQ(kvm_vm_load_flat(&vm, path, 0x1000), 0);
	ASSERT_EQ(kvm_vcpu_setup_real_mode(&vm.vcpus[0], 0x1000), 0);
	EXPECT_EQ((int)kvm_vm_run(&vm), (int)VM_STOP_REBOOT);
	ASSERT_EQ(port.n, 1u);
	/* 0: every check in the guest passed; otherwise the failed check's number. */
	EXPECT_EQ(port.vals[0], 0);
	/* The guest restored BAR0 after sizing it: still decoded where it was. */
	EXPECT_GE(dev.bars[0].mapped_at, KVM_PCI_MMIO_BASE);
	init_list_exit(&vm);
	kvm_vm_destroy(&vm);
}
