// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the ACPI tables kavm writes. Every table's checksum and
 * length, the pointers between them, the FADT's registers, the MADT's
 * entries for 1, 2, 64 and 254 vCPUs, and the legacy RSDP scan next to
 * the MP table.
 */
#include <errno.h>

#include <kavm/acpi.h>
#include <kavm/boot.h>

#include "../harness.h"

#define GPA BOOT_ACPI_ADDR

static uint8_t buf[BOOT_ACPI_MAX];

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* The table a guest finds at gpa, or NULL if gpa is outside what was built. */
static const uint8_t *at(uint64_t gpa, int used)
{
	if (gpa < GPA || gpa + 36 > GPA + (uint64_t)used)
		return NULL;
	return buf + (gpa - GPA);
}

static const struct acpi_table_ref *table(const struct acpi_layout *l, const char *name)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->tables[i].name, name))
			return &l->tables[i];
	return NULL;
}

static int build(unsigned int cpus, struct acpi_layout *l)
{
	memset(buf, 0xa5, sizeof(buf));
	return acpi_build(buf, sizeof(buf), GPA, cpus, l);
}

TEST(every_table_sums_to_zero_over_its_own_length)
{
	static const unsigned int cpus[] = { 1, 2, 64, 254 };
	static const char *const sigs[] = { "XSDT", "FACP", "APIC", "DSDT" };
	struct acpi_layout l;
	unsigned int i, j;
	int used;

	for (i = 0; i < ARRAY_SIZE(cpus); i++) {
		used = build(cpus[i], &l);
		ASSERT_GT(used, 0);
		ASSERT_EQ(l.nr, 5u);
		for (j = 0; j < ARRAY_SIZE(sigs); j++) {
			const struct acpi_table_ref *t = table(&l, sigs[j]);

			ASSERT_TRUE(t != NULL);
			EXPECT_EQ(memcmp(buf + t->off, sigs[j], 4), 0);
			EXPECT_EQ(get32(buf + t->off + 4), t->len);
			EXPECT_EQ(sum(buf + t->off, t->len), 0);
			EXPECT_EQ(t->gpa % 8, 0u);
			EXPECT_LE(t->off + t->len, (uint32_t)used);
		}
	}
}

TEST(rsdp_points_to_the_xsdt_with_both_checksums)
{
	struct acpi_layout l;
	const uint8_t *r;
	int used = build(2, &l);

	ASSERT_GT(used, 0);
	/* The RSDP comes first, at the address the zero page and the scan use. */
	EXPECT_EQ(l.tables[0].gpa, (uint64_t)GPA);
	EXPECT_STREQ(l.tables[0].name, "RSDP");
	r = buf;
	EXPECT_EQ(memcmp(r, "RSD PTR ", 8), 0);
	EXPECT_EQ(sum(r, 20), 0);
	EXPECT_EQ(r[15], 2); /* revision: ACPI 2.0+, the XSDT is valid */
	EXPECT_EQ(get32(r + 20), 36u);
	EXPECT_EQ(sum(r, 36), 0);
	EXPECT_EQ(get64(r + 24), table(&l, "XSDT")->gpa);
}

TEST(xsdt_lists_fadt_and_madt_and_the_fadt_points_to_the_dsdt)
{
	struct acpi_layout l;
	const uint8_t *xsdt, *fadt, *dsdt;
	int used = build(4, &l);

	ASSERT_GT(used, 0);
	xsdt = buf + table(&l, "XSDT")->off;
	ASSERT_EQ(get32(xsdt + 4), 36u + 2 * 8);
	fadt = at(get64(xsdt + 36), used);
	ASSERT_TRUE(fadt != NULL);
	EXPECT_EQ(memcmp(fadt, "FACP", 4), 0);
	ASSERT_TRUE(at(get64(xsdt + 44), used) != NULL);
	EXPECT_EQ(memcmp(at(get64(xsdt + 44), used), "APIC", 4), 0);
	/* X_DSDT at 140; the 32-bit DSDT field stays 0 so the two cannot disagree. */
	EXPECT_EQ(get32(fadt + 40), 0u);
	dsdt = at(get64(fadt + 140), used);
	ASSERT_TRUE(dsdt != NULL);
	EXPECT_EQ(get32(dsdt + 4), (uint32_t)acpi_dsdt_aml_len);
	EXPECT_EQ(memcmp(dsdt, acpi_dsdt_aml, acpi_dsdt_aml_len), 0);
	EXPECT_EQ(sum(dsdt, acpi_dsdt_aml_len), 0);
}

/* A generic address: system I/O, 8 bits, byte access, at port. */
static void expect_io8(const uint8_t *gas, uint16_t port)
{
	EXPECT_EQ(gas[0], 1);
	EXPECT_EQ(gas[1], 8);
	EXPECT_EQ(gas[2], 0);
	EXPECT_EQ(gas[3], 1);
	EXPECT_EQ(get64(gas + 4), (uint64_t)port);
}

TEST(fadt_is_hardware_reduced_with_sleep_and_reset_registers)
{
	struct acpi_layout l;
	const uint8_t *f;

	ASSERT_GT(build(1, &l), 0);
	f = buf + table(&l, "FACP")->off;
	EXPECT_EQ(get32(f + 4), 276u);
	EXPECT_EQ(f[8], 6);			     /* revision */
	EXPECT_TRUE(get32(f + 112) & (1u << 20));    /* HW_REDUCED_ACPI */
	EXPECT_TRUE(get32(f + 112) & (1u << 10));    /* RESET_REG_SUP */
	EXPECT_TRUE(get32(f + 112) & (1u << 4));     /* no fixed power button */
	EXPECT_TRUE((f[109] | f[110] << 8) & 0x2);   /* 8042: Linux probes the i8042 */
	EXPECT_FALSE((f[109] | f[110] << 8) & 0x20); /* the CMOS RTC is there */
	EXPECT_EQ(f[108], 0x32);		     /* century register */
	expect_io8(f + 116, KAVM_ACPI_RESET_REG);
	EXPECT_EQ(f[128], KAVM_ACPI_RESET_VALUE);
	expect_io8(f + 244, KAVM_ACPI_SLEEP_CTL);
	expect_io8(f + 256, KAVM_ACPI_SLEEP_STS);
	/* No PM1 blocks, no SCI, no FACS in hardware-reduced mode. */
	EXPECT_EQ(get32(f + 36), 0u);
	EXPECT_EQ(f[46] | f[47] << 8, 0);
	EXPECT_EQ(get32(f + 56), 0u);
	EXPECT_EQ(get32(f + 64), 0u);
}

struct madt_seen {
	unsigned int lapics, ioapics, nmis, others;
	unsigned int bad_lapic; /* entries whose id, uid or flags are wrong */
	uint8_t ioapic_id;
	uint32_t ioapic_addr, gsi_base;
	uint8_t nmi_uid, nmi_lint;
};

static void madt_parse(const uint8_t *m, struct madt_seen *s)
{
	const uint8_t *e = m + 44, *end = m + get32(m + 4);

	memset(s, 0, sizeof(*s));
	while (e + 2 <= end && e[1] >= 2) {
		switch (e[0]) {
		case 0:
			if (e[2] != s->lapics || e[3] != s->lapics || get32(e + 4) != 1)
				s->bad_lapic++;
			s->lapics++;
			break;
		case 1:
			s->ioapics++;
			s->ioapic_id = e[2];
			s->ioapic_addr = get32(e + 4);
			s->gsi_base = get32(e + 8);
			break;
		case 4:
			s->nmis++;
			s->nmi_uid = e[2];
			s->nmi_lint = e[5];
			break;
		default:
			s->others++;
		}
		e += e[1];
	}
	s->others += e != end;
}

TEST(madt_has_one_lapic_per_vcpu_the_ioapic_and_lint1_nmi)
{
	static const unsigned int cpus[] = { 1, 2, 64, 254 };
	struct madt_seen s;
	struct acpi_layout l;
	const uint8_t *m;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cpus); i++) {
		ASSERT_GT(build(cpus[i], &l), 0);
		m = buf + table(&l, "APIC")->off;
		EXPECT_EQ(get32(m + 4), 44 + 8 * cpus[i] + 12 + 6);
		EXPECT_EQ(get32(m + 36), 0xfee00000u);
		EXPECT_EQ(get32(m + 40), 1u); /* PCAT_COMPAT */
		madt_parse(m, &s);
		EXPECT_EQ(s.lapics, cpus[i]);
		EXPECT_EQ(s.bad_lapic, 0u);
		EXPECT_EQ(s.ioapics, 1u);
		/* The same IOAPIC id as the MP table, after the CPUs' APIC ids. */
		EXPECT_EQ(s.ioapic_id, MPTABLE_IOAPIC_ID(cpus[i]));
		EXPECT_EQ(s.ioapic_addr, 0xfec00000u);
		EXPECT_EQ(s.gsi_base, 0u);
		EXPECT_EQ(s.nmis, 1u);
		EXPECT_EQ(s.nmi_uid, 0xff);
		EXPECT_EQ(s.nmi_lint, 1);
		/* No interrupt source override: ISA IRQ n is GSI n, as in the MP table. */
		EXPECT_EQ(s.others, 0u);
	}
}

TEST(bad_cpu_counts_alignment_and_small_buffers_are_refused)
{
	struct acpi_layout l;

	EXPECT_EQ(acpi_build(buf, sizeof(buf), GPA, 0, &l), -EINVAL);
	EXPECT_EQ(acpi_build(buf, sizeof(buf), GPA, KVM_MAX_CPUS + 1, &l), -EINVAL);
	EXPECT_EQ(acpi_build(buf, sizeof(buf), GPA + 8, 1, &l), -EINVAL);
	EXPECT_EQ(acpi_build(buf, 512, GPA, 1, &l), -ENOSPC);
	EXPECT_EQ(acpi_build(buf, 2048, GPA, 254, &l), -ENOSPC);
}

/*
 * What a kernel without acpi_rsdp_addr does: scan the BIOS area
 * 0xe0000-0xfffff in 16-byte steps for a valid RSDP. It must find ours,
 * and the MP table at 0xf0000 must still be found by its own scan.
 */
TEST(legacy_scan_finds_the_rsdp_and_the_mp_table_beside_it)
{
	static uint8_t bios[0x20000];
	struct acpi_layout l;
	unsigned int off, rsdps = 0, mps = 0, rsdp_at = 0;
	int used;

	used = acpi_build(bios, BOOT_ACPI_MAX, BOOT_ACPI_ADDR, 8, &l);
	ASSERT_GT(used, 0);
	ASSERT_LE(BOOT_ACPI_ADDR + used, BOOT_MPTABLE_ADDR);
	ASSERT_GT(mptable_build(bios + (BOOT_MPTABLE_ADDR - 0xe0000), BOOT_MPTABLE_MAX,
				BOOT_MPTABLE_ADDR, 8),
		  0);
	for (off = 0; off + 36 <= sizeof(bios); off += 16) {
		if (!memcmp(bios + off, "RSD PTR ", 8) && !sum(bios + off, 20)) {
			rsdps++;
			rsdp_at = 0xe0000 + off;
		}
		if (!memcmp(bios + off, "_MP_", 4) && !sum(bios + off, 16))
			mps++;
	}
	EXPECT_EQ(rsdps, 1u);
	EXPECT_EQ(rsdp_at, (unsigned int)BOOT_ACPI_ADDR);
	EXPECT_EQ(mps, 1u);
}
