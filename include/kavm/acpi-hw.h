/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm ACPI hardware: the ports, interrupts and values that the DSDT
 * (userspace/boot/acpi/dsdt.asl, through iasl's preprocessor) and the C code
 * (include/kavm/acpi.h) share. Plain #defines only: iasl reads this file.
 */
#ifndef KAVM_ACPI_HW_H
#define KAVM_ACPI_HW_H

/*
 * The PM register block on the PIO bus, clear of every legacy device
 * (serial 0x3f8, RTC 0x70, i8042 0x60/0x64, PCI 0xcf8).
 */
#define KAVM_ACPI_PM_BASE 0x600
#define KAVM_ACPI_PM_LEN 0x10
/*
 * Values only, no expressions and no comments on a #define's line: iasl's
 * preprocessor pastes both into the ASL. In the block, 8-bit sleep control
 * (write), 8-bit sleep status (write 1 to clear), 8-bit reset (write
 * RESET_VALUE), 32-bit GED event (reading clears it), 32-bit GED ready
 * (the DSDT's _INI writes 1).
 */
#define KAVM_ACPI_SLEEP_CTL 0x600
#define KAVM_ACPI_SLEEP_STS 0x601
#define KAVM_ACPI_RESET_REG 0x602
#define KAVM_ACPI_GED_EVENT 0x604
#define KAVM_ACPI_GED_READY 0x608
#define KAVM_ACPI_RESET_VALUE 0x01
/* SLP_TYP for S5, in the DSDT's \_S5 and checked on a sleep control write. */
#define KAVM_ACPI_SLP_TYP_S5 5
/* Generic event device: one edge-triggered ISA line kavm leaves free. */
#define KAVM_ACPI_GED_GSI 5
/* A bit in GED_EVENT. */
#define KAVM_ACPI_GED_POWER_BUTTON 0x1

/* The PCI window (include/kavm/kvm.h, checked in acpi.c) and the legacy devices. */
#define KAVM_ACPI_PCI_MMIO_BASE 0xc0000000
#define KAVM_ACPI_PCI_MMIO_LAST 0xfebfffff
#define KAVM_ACPI_PCI_MMIO_SIZE 0x3ec00000
#define KAVM_ACPI_COM1_PORT 0x3f8
#define KAVM_ACPI_COM1_IRQ 4
#define KAVM_ACPI_I8042_DATA 0x60
#define KAVM_ACPI_I8042_CMD 0x64
#define KAVM_ACPI_I8042_IRQ 1
#define KAVM_ACPI_RTC_PORT 0x70
#define KAVM_ACPI_RTC_IRQ 8

#endif /* KAVM_ACPI_HW_H */
