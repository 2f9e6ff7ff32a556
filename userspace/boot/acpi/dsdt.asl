/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm DSDT: what the guest cannot find by probing. Compiled by iasl at build
 * time (the Makefile turns the AML into a C array); the configuration-dependent
 * tables (MADT, FADT, XSDT) are written at run time by userspace/boot/acpi.c.
 * Ports, interrupts and values come from include/kavm/acpi.h.
 */
#include "kavm/acpi-hw.h"

DefinitionBlock ("", "DSDT", 2, "KAVM  ", "KAVMDSDT", 1)
{
    Scope (\_SB)
    {
        /*
         * The PCI host bridge (hw/pci.c): bus 0 only, configuration
         * mechanism #1 at 0xcf8, memory BARs in the 32-bit hole below
         * the IOAPIC. No I/O window: kavm's devices have no I/O BARs.
         */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_SEG, Zero)
            Name (_BBN, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x0000, 0x0000, 0x0001)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                    NonCacheable, ReadWrite, 0x00000000,
                    KAVM_ACPI_PCI_MMIO_BASE, KAVM_ACPI_PCI_MMIO_LAST, 0x00000000,
                    KAVM_ACPI_PCI_MMIO_SIZE)
            })
            /*
             * INTx: a device in slot S raises INTA on GSI 16 + S % 8
             * (hw/pci.c takes hw/pci-vm.c's pci_intx_gsis round-robin by
             * slot); level-triggered, active low, as the MP table says.
             */
            Name (_PRT, Package ()
            {
                Package () { 0x0001FFFF, 0, Zero, 17 },
                Package () { 0x0002FFFF, 0, Zero, 18 },
                Package () { 0x0003FFFF, 0, Zero, 19 },
                Package () { 0x0004FFFF, 0, Zero, 20 },
                Package () { 0x0005FFFF, 0, Zero, 21 },
                Package () { 0x0006FFFF, 0, Zero, 22 },
                Package () { 0x0007FFFF, 0, Zero, 23 },
                Package () { 0x0008FFFF, 0, Zero, 16 },
                Package () { 0x0009FFFF, 0, Zero, 17 },
                Package () { 0x000AFFFF, 0, Zero, 18 },
                Package () { 0x000BFFFF, 0, Zero, 19 },
                Package () { 0x000CFFFF, 0, Zero, 20 },
                Package () { 0x000DFFFF, 0, Zero, 21 },
                Package () { 0x000EFFFF, 0, Zero, 22 },
                Package () { 0x000FFFFF, 0, Zero, 23 },
                Package () { 0x0010FFFF, 0, Zero, 16 },
                Package () { 0x0011FFFF, 0, Zero, 17 },
                Package () { 0x0012FFFF, 0, Zero, 18 },
                Package () { 0x0013FFFF, 0, Zero, 19 },
                Package () { 0x0014FFFF, 0, Zero, 20 },
                Package () { 0x0015FFFF, 0, Zero, 21 },
                Package () { 0x0016FFFF, 0, Zero, 22 },
                Package () { 0x0017FFFF, 0, Zero, 23 },
                Package () { 0x0018FFFF, 0, Zero, 16 },
                Package () { 0x0019FFFF, 0, Zero, 17 },
                Package () { 0x001AFFFF, 0, Zero, 18 },
                Package () { 0x001BFFFF, 0, Zero, 19 },
                Package () { 0x001CFFFF, 0, Zero, 20 },
                Package () { 0x001DFFFF, 0, Zero, 21 },
                Package () { 0x001EFFFF, 0, Zero, 22 },
                Package () { 0x001FFFFF, 0, Zero, 23 }
            })
        }

        /* COM1, the 16550A of hw/console.c. */
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, KAVM_ACPI_COM1_PORT, KAVM_ACPI_COM1_PORT, 0x01, 0x08)
                IRQNoFlags () { KAVM_ACPI_COM1_IRQ }
            })
        }

        /*
         * The i8042 (hw/i8042.c) and the CMOS RTC (hw/rtc.c). On a
         * hardware-reduced machine Linux sets up no legacy ISA IRQs
         * (x86's acpi_generic_reduced_hw_init() drops the 8259): a legacy
         * device gets its IRQ only by being here, as COM1 is. No mouse:
         * without a PNP0F13 device Linux leaves the AUX port alone.
         */
        Device (KBD)
        {
            Name (_HID, EisaId ("PNP0303"))
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, KAVM_ACPI_I8042_DATA, KAVM_ACPI_I8042_DATA, 0x01, 0x01)
                IO (Decode16, KAVM_ACPI_I8042_CMD, KAVM_ACPI_I8042_CMD, 0x01, 0x01)
                IRQNoFlags () { KAVM_ACPI_I8042_IRQ }
            })
        }

        Device (RTC)
        {
            Name (_HID, EisaId ("PNP0B00"))
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, KAVM_ACPI_RTC_PORT, KAVM_ACPI_RTC_PORT, 0x01, 0x02)
                IRQNoFlags () { KAVM_ACPI_RTC_IRQ }
            })
        }

        /*
         * Hardware-reduced ACPI has no fixed power button: the generic
         * event device's interrupt runs _EVT, which reads which events
         * kavm raised and notifies the power button device. _INI tells
         * kavm that the guest's ACPI interpreter is up (hw/pm.c presses
         * the button on SIGTERM only then).
         */
        Device (GED)
        {
            Name (_HID, "ACPI0013")
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { KAVM_ACPI_GED_GSI }
            })
            OperationRegion (GREG, SystemIO, KAVM_ACPI_GED_EVENT, 8)
            Field (GREG, DWordAcc, NoLock, WriteAsZeros)
            {
                GEVT, 32,
                GRDY, 32
            }
            Method (_INI, 0, NotSerialized)
            {
                GRDY = One
            }
            Method (_EVT, 1, Serialized)
            {
                Local0 = GEVT
                If (Local0 & KAVM_ACPI_GED_POWER_BUTTON)
                {
                    Notify (PWRB, 0x80)
                }
            }
        }

        Device (PWRB)
        {
            Name (_HID, "PNP0C0C")
            Name (_UID, Zero)
        }
    }

    /* S5 (soft off): SLP_TYP for the FADT's sleep control register. */
    Name (\_S5, Package () { KAVM_ACPI_SLP_TYP_S5, Zero, Zero, Zero })
}
