// SPDX-License-Identifier: GPL-2.0
/*
 * kavm MP table (Intel MultiProcessor Specification 1.4): how Linux without
 * ACPI finds every CPU, the IOAPIC and the interrupt routing.
 */
#include <errno.h>
#include <string.h>

#include <kavm/boot.h>
#include <kavm/compiler.h>

struct mpf_intel {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __packed;

struct mpc_table {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount; /* number of entries */
	uint32_t lapic;
	uint16_t reserved; /* extended table length */
	uint8_t ext_checksum;
	uint8_t reserved2;
} __packed;

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __packed;

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __packed;

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __packed;

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __packed;

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define CPU_ENABLED 1
#define CPU_BOOTPROCESSOR 2
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define MP_IRQ_LEVEL_LOW 0x0f /* polarity active low, trigger level: PCI INTx */
#define ISA_IRQS 16

/* Written by the PCI code during device init, read when the table is built (main thread). */
static struct mp_pci_irq pci_irqs[MPTABLE_MAX_PCI_IRQS];
static unsigned int nr_pci_irqs;

int mptable_add_pci_irq(uint8_t devfn, uint8_t pin, uint8_t ioapic_pin)
{
	if (pin < 1 || pin > 4)
		return -EINVAL;
	if (nr_pci_irqs == MPTABLE_MAX_PCI_IRQS)
		return -ENOSPC;
	pci_irqs[nr_pci_irqs++] =
		(struct mp_pci_irq){ .devfn = devfn, .pin = pin, .ioapic_pin = ioapic_pin };
	return 0;
}

void mptable_reset_pci_irqs(void)
{
	nr_pci_irqs = 0;
}

static uint8_t mp_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return -sum;
}

static size_t mptable_size(unsigned int nr_cpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       nr_cpus * sizeof(struct mpc_cpu) + 2 * sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + (ISA_IRQS + nr_pci_irqs + 2) * sizeof(struct mpc_intsrc);
}

static uint8_t *mp_add_intsrc(uint8_t *p, uint8_t type, uint8_t irqtype, uint16_t flag, uint8_t bus,
			      uint8_t busirq, uint8_t dst, uint8_t dstirq)
{
	struct mpc_intsrc e = { .type = type,
				.irqtype = irqtype,
				.irqflag = flag,
				.srcbus = bus,
				.srcbusirq = busirq,
				.dstapic = dst,
				.dstirq = dstirq };

	memcpy(p, &e, sizeof(e));
	return p + sizeof(e);
}

static uint8_t *mp_add_cpus_buses_ioapic(uint8_t *p, unsigned int nr_cpus)
{
	struct mpc_bus pci = { .type = MP_BUS, .busid = MPTABLE_BUS_PCI, .bustype = "PCI   " };
	struct mpc_bus isa = { .type = MP_BUS, .busid = MPTABLE_BUS_ISA, .bustype = "ISA   " };
	struct mpc_ioapic io = { .type = MP_IOAPIC,
				 .apicid = MPTABLE_IOAPIC_ID(nr_cpus),
				 .apicver = IOAPIC_VERSION,
				 .flags = 1,
				 .apicaddr = (uint32_t)KVM_IOAPIC_BASE };
	unsigned int i;

	for (i = 0; i < nr_cpus; i++) {
		struct mpc_cpu c = { .type = MP_PROCESSOR,
				     .apicid = i,
				     .apicver = APIC_VERSION,
				     .cpuflag = CPU_ENABLED | (i ? 0 : CPU_BOOTPROCESSOR),
				     .cpufeature = 0x600,
				     .featureflag = 0x201 };

		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}
	memcpy(p, &pci, sizeof(pci));
	p += sizeof(pci);
	memcpy(p, &isa, sizeof(isa));
	p += sizeof(isa);
	memcpy(p, &io, sizeof(io));
	return p + sizeof(io);
}

int mptable_build(void *buf, size_t size, uint32_t gpa, unsigned int nr_cpus)
{
	uint8_t *start = buf, *p;
	struct mpf_intel mpf = { .signature = "_MP_", .length = 1, .specification = 4 };
	struct mpc_table mpc = { .signature = "PCMP",
				 .spec = 4,
				 .oem = "KAVM    ",
				 .productid = "KAVM MPTABLE",
				 .lapic = (uint32_t)KVM_LAPIC_BASE };
	uint8_t ioapic = MPTABLE_IOAPIC_ID(nr_cpus);
	unsigned int i;

	if (!nr_cpus || nr_cpus > KVM_MAX_CPUS || mptable_size(nr_cpus) > size)
		return -ENOSPC;
	memset(buf, 0, mptable_size(nr_cpus));
	p = mp_add_cpus_buses_ioapic(start + sizeof(mpf) + sizeof(mpc), nr_cpus);
	/* ISA IRQ n is IOAPIC pin n: KVM's default GSI routing, as kvmtool does. */
	for (i = 0; i < ISA_IRQS; i++)
		p = mp_add_intsrc(p, MP_INTSRC, MP_INT, 0, MPTABLE_BUS_ISA, i, ioapic, i);
	for (i = 0; i < nr_pci_irqs; i++)
		p = mp_add_intsrc(p, MP_INTSRC, MP_INT, MP_IRQ_LEVEL_LOW, MPTABLE_BUS_PCI,
				  (pci_irqs[i].devfn >> 3) << 2 | (pci_irqs[i].pin - 1), ioapic,
				  pci_irqs[i].ioapic_pin);
	p = mp_add_intsrc(p, MP_LINTSRC, MP_EXTINT, 0, MPTABLE_BUS_ISA, 0, 0xff, 0);
	p = mp_add_intsrc(p, MP_LINTSRC, MP_NMI, 0, MPTABLE_BUS_ISA, 0, 0xff, 1);

	mpc.length = p - (start + sizeof(mpf));
	mpc.oemcount = nr_cpus + 3 + ISA_IRQS + nr_pci_irqs + 2;
	memcpy(start + sizeof(mpf), &mpc, sizeof(mpc));
	start[sizeof(mpf) + offsetof(struct mpc_table, checksum)] =
		mp_checksum(start + sizeof(mpf), mpc.length);

	mpf.physptr = gpa + sizeof(mpf);
	mpf.checksum = mp_checksum(&mpf, sizeof(mpf));
	memcpy(start, &mpf, sizeof(mpf));
	return p - start;
}
