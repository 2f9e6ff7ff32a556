/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm ACPI: the tables that describe the machine to the guest (RSDP, XSDT,
 * FADT, MADT, DSDT) and the hardware-reduced ACPI registers kavm emulates
 * (sleep control/status, reset, the generic event device behind the power
 * button).
 *
 * The registers' ports and values are in kavm/acpi-hw.h, which the DSDT's
 * source includes too.
 */
#ifndef KAVM_ACPI_H
#define KAVM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kavm/acpi-hw.h>

struct kvm_vm;

/* Sleep control register (ACPI 6.0 4.8.3.7): SLP_TYP and SLP_EN. */
#define ACPI_SLEEP_TYP_SHIFT 2
#define ACPI_SLEEP_TYP_MASK 0x1c
#define ACPI_SLEEP_EN 0x20
#define ACPI_SLEEP_WAK_STS 0x80

/* The DSDT compiled by iasl at build time (build/.../dsdt-aml.c). */
extern const unsigned char acpi_dsdt_aml[];
extern const size_t acpi_dsdt_aml_len;

#define ACPI_MAX_TABLES 8

/* Where acpi_build() put each table, for the zero page and --dump-acpi. */
struct acpi_table_ref {
	char name[5]; /* the signature; "RSDP" for the root pointer */
	uint64_t gpa;
	uint32_t len;
	uint32_t off; /* from the start of the buffer */
};

struct acpi_layout {
	unsigned int nr;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];
};

/*
 * Write the RSDP (at gpa, which must be 16-byte aligned) and the tables
 * after it into buf, as the guest will see them at gpa. Returns the bytes
 * used, -EINVAL for a bad CPU count or alignment, -ENOSPC if buf is too small.
 */
int acpi_build(void *buf, size_t size, uint64_t gpa, unsigned int nr_cpus,
	       struct acpi_layout *layout);
/*
 * Write each table as DIR/SIG.dat (the RSDP as RSDP.dat), making DIR if
 * needed; prints its own errors.
 */
int acpi_dump(const char *dir, unsigned int nr_cpus);
/*
 * Real-mode code for the BIOS reset vector (BOOT_RESET_VECTOR_LEN bytes at
 * buf) that writes the ACPI reset register.
 */
void acpi_write_reset_vector(void *buf);
/* The ACPI checksum byte that makes len bytes at buf sum to zero. */
uint8_t acpi_checksum(const void *buf, size_t len);

/* hw/pm.c: seconds the guest gets to power off after the power button. */
#define ACPI_POWER_BUTTON_TIMEOUT_S 10
/*
 * Press the power button (the I/O thread, on the first SIGTERM): -ENODEV
 * when the guest never initialised the generic event device (no ACPI, or
 * a guest booted with acpi=off), so nobody would see it. Otherwise the
 * guest gets ACPI_POWER_BUTTON_TIMEOUT_S seconds before kavm stops it.
 */
int pm_power_button(struct kvm_vm *vm);
/* Has the guest's ACPI interpreter run the DSDT's GED _INI? */
bool pm_guest_acpi_up(void);

#endif /* KAVM_ACPI_H */
