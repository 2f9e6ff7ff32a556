// SPDX-License-Identifier: GPL-2.0
/*
 * kavm ACPI tables (ACPI 6.0): RSDP -> XSDT -> FADT (hardware-reduced, with
 * the sleep and reset registers of hw/pm.c) -> DSDT (compiled from
 * boot/acpi/dsdt.asl at build time), and the MADT. Everything that depends
 * on the configuration (the CPUs, where each table lands, the checksums) is
 * written here at run time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kavm/acpi.h>
#include <kavm/boot.h>
#include <kavm/compiler.h>
#include <kavm/log.h>

_Static_assert(KAVM_ACPI_PCI_MMIO_BASE == KVM_PCI_MMIO_BASE, "DSDT PCI window base");
_Static_assert(KAVM_ACPI_PCI_MMIO_LAST == KVM_PCI_MMIO_END - 1, "DSDT PCI window end");
_Static_assert(KAVM_ACPI_PCI_MMIO_SIZE == KVM_PCI_MMIO_END - KVM_PCI_MMIO_BASE, "DSDT PCI size");
_Static_assert(KAVM_ACPI_SLEEP_CTL == KAVM_ACPI_PM_BASE &&
		       KAVM_ACPI_GED_READY + 4 <= KAVM_ACPI_PM_BASE + KAVM_ACPI_PM_LEN,
	       "the PM registers lie in the PM block");

#define ACPI_OEM_ID "KAVM  "
#define ACPI_CREATOR_ID "KAVM"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __packed;

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;  /* of the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision; /* 2: ACPI 2.0+, the XSDT is valid */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __packed;

/* Generic Address Structure (ACPI 6.0 5.2.3.2). */
struct acpi_gas {
	uint8_t space_id; /* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 1: byte */
	uint64_t address;
} __packed;

/* FADT, revision 6 (ACPI 6.0 5.2.9): 276 bytes. */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	char hypervisor_vendor_id[8];
} __packed;

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");

/* IA-PC boot architecture flags */
#define FADT_BOOT_8042 (1 << 1) /* Linux probes the i8042 ports */
#define FADT_BOOT_VGA_NOT_PRESENT (1 << 2)
/* FADT flags */
#define FADT_WBINVD (1 << 0)
#define FADT_PWR_BUTTON (1 << 4) /* set: no fixed power button (ours is in the DSDT) */
#define FADT_SLP_BUTTON (1 << 5) /* set: no sleep button */
#define FADT_RESET_REG_SUP (1 << 10)
#define FADT_HW_REDUCED_ACPI (1 << 20)

#define RTC_CENTURY_INDEX 0x32 /* hw/rtc.c keeps the century there */

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __packed;

#define MADT_PCAT_COMPAT 1 /* dual 8259s present (KVM's PIC); Linux masks them */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_LAPIC_NMI = 4 };

struct madt_lapic {
	uint8_t type, length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags; /* 1: enabled */
} __packed;

struct madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __packed;

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t processor_uid; /* 0xff: every processor */
	uint16_t flags;	       /* 0: bus-conforming polarity and trigger */
	uint8_t lint;
} __packed;

uint8_t acpi_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return -sum;
}

static void acpi_header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev,
			     const char *table_id)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, table_id, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* The table at p is complete: fix its checksum. */
static void acpi_table_seal(void *p)
{
	struct acpi_header *h = p;

	h->checksum = 0;
	h->checksum = acpi_checksum(p, h->length);
}

static struct acpi_gas acpi_gas_io8(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = 1, .bit_width = 8, .access_size = 1, .address = port
	};
}

static size_t acpi_madt_size(unsigned int nr_cpus)
{
	return sizeof(struct acpi_madt) + nr_cpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) + sizeof(struct madt_lapic_nmi);
}

/*
 * One local APIC per vCPU (APIC id = index, as CPUID says), the IOAPIC
 * with the MP table's id, LINT1 as NMI. No interrupt source override: KVM's
 * default routing wires ISA IRQ n to IOAPIC pin n (the PIT on pin 0), which
 * is what ACPI assumes without one, and what the MP table says too.
 */
static void acpi_write_madt(void *p, unsigned int nr_cpus)
{
	struct acpi_madt *madt = p;
	uint8_t *e = (uint8_t *)(madt + 1);
	struct madt_ioapic io = { .type = MADT_IOAPIC,
				  .length = sizeof(io),
				  .id = MPTABLE_IOAPIC_ID(nr_cpus),
				  .address = (uint32_t)KVM_IOAPIC_BASE };
	struct madt_lapic_nmi nmi = {
		.type = MADT_LAPIC_NMI, .length = sizeof(nmi), .processor_uid = 0xff, .lint = 1
	};
	unsigned int i;

	acpi_header_init(&madt->h, "APIC", acpi_madt_size(nr_cpus), 5, "KAVMAPIC");
	madt->lapic_address = (uint32_t)KVM_LAPIC_BASE;
	madt->flags = MADT_PCAT_COMPAT;
	for (i = 0; i < nr_cpus; i++) {
		struct madt_lapic l = { .type = MADT_LAPIC,
					.length = sizeof(l),
					.processor_uid = i,
					.apic_id = i,
					.flags = 1 };

		memcpy(e, &l, sizeof(l));
		e += sizeof(l);
	}
	memcpy(e, &io, sizeof(io));
	memcpy(e + sizeof(io), &nmi, sizeof(nmi));
	acpi_table_seal(madt);
}

/*
 * Hardware-reduced ACPI (no PM1 blocks, no SCI, no FACS): sleep control and
 * status registers for S5 and a reset register, all in hw/pm.c. The 8042
 * flag keeps Linux probing the i8042, which it would otherwise take as
 * absent; the CMOS RTC is present (no "RTC not present" flag).
 */
static void acpi_write_fadt(struct acpi_fadt *f, uint64_t dsdt_gpa)
{
	acpi_header_init(&f->h, "FACP", sizeof(*f), 6, "KAVMFACP");
	f->x_dsdt = dsdt_gpa;
	f->century = RTC_CENTURY_INDEX;
	f->iapc_boot_arch = FADT_BOOT_8042 | FADT_BOOT_VGA_NOT_PRESENT;
	f->flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP |
		   FADT_HW_REDUCED_ACPI;
	f->reset_reg = acpi_gas_io8(KAVM_ACPI_RESET_REG);
	f->reset_value = KAVM_ACPI_RESET_VALUE;
	f->sleep_control_reg = acpi_gas_io8(KAVM_ACPI_SLEEP_CTL);
	f->sleep_status_reg = acpi_gas_io8(KAVM_ACPI_SLEEP_STS);
	memcpy(f->hypervisor_vendor_id, "KAVM    ", 8);
	acpi_table_seal(f);
}

static void acpi_write_rsdp(struct acpi_rsdp *r, uint64_t xsdt_gpa)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt_gpa;
	r->checksum = acpi_checksum(r, 20);
	r->extended_checksum = acpi_checksum(r, sizeof(*r));
}

/* Reserve len bytes for a table, 16-byte aligned; records it in the layout. */
static int acpi_place(struct acpi_layout *l, const char *name, size_t *used, size_t size,
		      uint64_t gpa, size_t len)
{
	struct acpi_table_ref *t;
	size_t off = ALIGN_UP(*used, (size_t)16);

	if (l->nr == ACPI_MAX_TABLES || off > size || len > size - off)
		return -ENOSPC;
	t = &l->tables[l->nr++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->off = off;
	t->gpa = gpa + off;
	t->len = len;
	*used = off + len;
	return 0;
}

int acpi_build(void *buf, size_t size, uint64_t gpa, unsigned int nr_cpus,
	       struct acpi_layout *layout)
{
	enum { RSDP, XSDT, FADT, MADT, DSDT, NR };
	static const char *const names[NR] = { "RSDP", "XSDT", "FACP", "APIC", "DSDT" };
	const size_t xsdt_entries = 2; /* FADT, MADT (the DSDT hangs off the FADT) */
	size_t lens[NR] = { sizeof(struct acpi_rsdp),
			    sizeof(struct acpi_header) + xsdt_entries * sizeof(uint64_t),
			    sizeof(struct acpi_fadt), acpi_madt_size(nr_cpus), acpi_dsdt_aml_len };
	struct acpi_header *xsdt;
	uint8_t *b = buf;
	size_t used = 0;
	unsigned int i;
	uint64_t ptrs[2];
	int ret;

	if (!nr_cpus || nr_cpus > KVM_MAX_CPUS || gpa & 15)
		return -EINVAL;
	memset(layout, 0, sizeof(*layout));
	for (i = 0; i < NR; i++) {
		ret = acpi_place(layout, names[i], &used, size, gpa, lens[i]);
		if (ret)
			return ret;
	}
	memset(buf, 0, used);
	memcpy(b + layout->tables[DSDT].off, acpi_dsdt_aml, acpi_dsdt_aml_len);
	acpi_write_madt(b + layout->tables[MADT].off, nr_cpus);
	acpi_write_fadt((struct acpi_fadt *)(b + layout->tables[FADT].off),
			layout->tables[DSDT].gpa);
	xsdt = (struct acpi_header *)(b + layout->tables[XSDT].off);
	acpi_header_init(xsdt, "XSDT", lens[XSDT], 1, "KAVMXSDT");
	ptrs[0] = layout->tables[FADT].gpa;
	ptrs[1] = layout->tables[MADT].gpa;
	memcpy(xsdt + 1, ptrs, sizeof(ptrs));
	acpi_table_seal(xsdt);
	acpi_write_rsdp((struct acpi_rsdp *)(b + layout->tables[RSDP].off),
			layout->tables[XSDT].gpa);
	return used;
}

/*
 * Linux on a hardware-reduced ACPI machine reboots through EFI
 * (x86's efi_reboot_required()), which without EFI falls back to jumping
 * to the BIOS reset vector in real mode. kavm has no BIOS: the code there
 * writes the ACPI reset register, so reboot ends kavm as the guest meant
 * instead of running whatever the vector's bytes happen to be.
 */
void acpi_write_reset_vector(void *buf)
{
	const uint8_t code[] = {
		0xba,
		KAVM_ACPI_RESET_REG & 0xff,
		KAVM_ACPI_RESET_REG >> 8, /* mov $reg, %dx */
		0xb0,
		KAVM_ACPI_RESET_VALUE, /* mov $value, %al */
		0xee,		       /* out %al, (%dx) */
		0xf4,		       /* 1: hlt */
		0xeb,
		0xfd, /* jmp 1b */
	};

	_Static_assert(sizeof(code) <= BOOT_RESET_VECTOR_LEN, "fits before 1 MiB");
	memset(buf, 0, BOOT_RESET_VECTOR_LEN);
	memcpy(buf, code, sizeof(code));
}

static int acpi_write_file(const char *dir, const struct acpi_table_ref *t, const uint8_t *buf)
{
	char path[4096];
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, t->name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		pr_err("--dump-acpi: %s: %s", path, strerror(errno));
		return ret;
	}
	n = write(fd, buf + t->off, t->len);
	if (n != (ssize_t)t->len) {
		ret = n < 0 ? -errno : -EIO;
		pr_err("--dump-acpi: %s: %s", path, strerror(-ret));
	}
	if (close(fd) && !ret) {
		ret = -errno;
		pr_err("--dump-acpi: %s: %s", path, strerror(errno));
	}
	return ret;
}

int acpi_dump(const char *dir, unsigned int nr_cpus)
{
	static uint8_t buf[BOOT_ACPI_MAX];
	struct acpi_layout l;
	struct stat st;
	unsigned int i;
	int ret;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		ret = -errno;
		pr_err("--dump-acpi %s: %s", dir, strerror(errno));
		return ret;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		pr_err("--dump-acpi %s: not a directory", dir);
		return -ENOTDIR;
	}
	ret = acpi_build(buf, sizeof(buf), BOOT_ACPI_ADDR, nr_cpus, &l);
	if (ret < 0) {
		pr_err("ACPI tables for %u CPUs: %s", nr_cpus, strerror(-ret));
		return ret;
	}
	for (i = 0; i < l.nr; i++) {
		ret = acpi_write_file(dir, &l.tables[i], buf);
		if (ret)
			return ret;
	}
	return 0;
}
