// SPDX-License-Identifier: GPL-2.0
/* Unit tests: MP table checksums, entry counts and entries. */
#include <errno.h>

#include <kavm/boot.h>

#include "../harness.h"

#define GPA 0xf0000

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

struct parsed {
	unsigned int cpus, bsp, buses, ioapics, isa_irqs, pci_irqs, lints, total;
	uint8_t ioapic_id, pci_bus, isa_bus;
	uint8_t cpu_ids[256];
	uint8_t pci_src[8], pci_dst[8], pci_flags[8];
	uint8_t isa_dst[16];
};

static void parse(const uint8_t *buf, struct parsed *p)
{
	uint16_t len = buf[16 + 4] | buf[16 + 5] << 8;
	const uint8_t *e = buf + 16 + 44, *end = buf + 16 + len;

	memset(p, 0, sizeof(*p));
	p->pci_bus = p->isa_bus = 0xff;
	while (e < end) {
		p->total++;
		switch (e[0]) {
		case 0:
			p->cpu_ids[p->cpus++] = e[1];
			p->bsp += !!(e[3] & 2);
			e += 20;
			continue;
		case 1:
			p->buses++;
			if (!memcmp(e + 2, "PCI   ", 6))
				p->pci_bus = e[1];
			if (!memcmp(e + 2, "ISA   ", 6))
				p->isa_bus = e[1];
			break;
		case 2:
			p->ioapics++;
			p->ioapic_id = e[1];
			break;
		case 3:
			if (e[4] == p->isa_bus && e[5] < 16) {
				p->isa_dst[e[5]] = e[7];
				p->isa_irqs++;
			} else if (e[4] == p->pci_bus && p->pci_irqs < 8) {
				p->pci_src[p->pci_irqs] = e[5];
				p->pci_dst[p->pci_irqs] = e[7];
				p->pci_flags[p->pci_irqs++] = e[2];
			}
			break;
		case 4:
			p->lints++;
			break;
		}
		e += 8;
	}
}

TEST(mptable_checksums_and_pointers_are_valid)
{
	uint8_t buf[4096];
	int len;

	mptable_reset_pci_irqs();
	len = mptable_build(buf, sizeof(buf), GPA, 4);
	ASSERT_GT(len, 16 + 44);
	EXPECT_MEMEQ(buf, "_MP_", 4);
	EXPECT_EQ(sum(buf, 16), 0);
	EXPECT_EQ(buf[8], 1); /* length in paragraphs */
	EXPECT_EQ(buf[9], 4); /* MP spec 1.4 */
	EXPECT_EQ(buf[4] | buf[5] << 8 | buf[6] << 16 | (uint32_t)buf[7] << 24, GPA + 16u);
	EXPECT_MEMEQ(buf + 16, "PCMP", 4);
	EXPECT_EQ(sum(buf + 16, buf[20] | buf[21] << 8), 0);
	EXPECT_EQ(16 + (buf[20] | buf[21] << 8), len);
}

TEST(mptable_lists_every_cpu_one_bsp_the_ioapic_and_buses)
{
	uint8_t buf[8192];
	struct parsed p;
	unsigned int i;

	mptable_reset_pci_irqs();
	ASSERT_GT(mptable_build(buf, sizeof(buf), GPA, 8), 0);
	parse(buf, &p);
	EXPECT_EQ(p.cpus, 8u);
	EXPECT_EQ(p.bsp, 1u);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(p.cpu_ids[i], i);
	EXPECT_EQ(p.buses, 2u);
	EXPECT_EQ(p.pci_bus, MPTABLE_BUS_PCI);
	EXPECT_EQ(p.isa_bus, MPTABLE_BUS_ISA);
	EXPECT_EQ(p.ioapics, 1u);
	EXPECT_EQ(p.ioapic_id, 8);
	EXPECT_EQ(p.isa_irqs, 16u);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(p.isa_dst[i], i);
	EXPECT_EQ(p.lints, 2u);
	/* The header's entry count matches what is there. */
	EXPECT_EQ((unsigned int)(buf[16 + 34] | buf[16 + 35] << 8), p.total);
}

TEST(mptable_pci_intx_routes_are_level_low_entries)
{
	uint8_t buf[4096];
	struct parsed p;

	mptable_reset_pci_irqs();
	ASSERT_EQ(mptable_add_pci_irq(3 << 3, 1, 16), 0);
	ASSERT_EQ(mptable_add_pci_irq(4 << 3, 2, 17), 0);
	EXPECT_EQ(mptable_add_pci_irq(5 << 3, 0, 18), -EINVAL);
	EXPECT_EQ(mptable_add_pci_irq(5 << 3, 5, 18), -EINVAL);
	ASSERT_GT(mptable_build(buf, sizeof(buf), GPA, 1), 0);
	parse(buf, &p);
	ASSERT_EQ(p.pci_irqs, 2u);
	EXPECT_EQ(p.pci_src[0], 3 << 2 | 0);
	EXPECT_EQ(p.pci_dst[0], 16);
	EXPECT_EQ(p.pci_src[1], 4 << 2 | 1);
	EXPECT_EQ(p.pci_dst[1], 17);
	EXPECT_EQ(p.pci_flags[0], 0x0f);
	EXPECT_EQ(sum(buf + 16, buf[20] | buf[21] << 8), 0);
	mptable_reset_pci_irqs();
}

TEST(mptable_refuses_a_buffer_too_small)
{
	uint8_t buf[128];

	mptable_reset_pci_irqs();
	EXPECT_EQ(mptable_build(buf, sizeof(buf), GPA, 8), -ENOSPC);
	EXPECT_EQ(mptable_build(buf, sizeof(buf), GPA, 0), -ENOSPC);
}

TEST(mptable_holds_the_most_cpus_kavm_allows)
{
	static uint8_t buf[BOOT_MPTABLE_MAX];
	struct parsed p;

	mptable_reset_pci_irqs();
	ASSERT_GT(mptable_build(buf, sizeof(buf), GPA, KVM_MAX_CPUS), 0);
	parse(buf, &p);
	EXPECT_EQ(p.cpus, (unsigned int)KVM_MAX_CPUS);
	EXPECT_EQ(p.cpu_ids[KVM_MAX_CPUS - 1], KVM_MAX_CPUS - 1);
	/* The IOAPIC's id follows the CPUs' and is not the broadcast id. */
	EXPECT_EQ(p.ioapic_id, KVM_MAX_CPUS);
	EXPECT_NE(p.ioapic_id, 0xff);
	EXPECT_EQ(mptable_build(buf, sizeof(buf), GPA, KVM_MAX_CPUS + 1), -ENOSPC);
}
