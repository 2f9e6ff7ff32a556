// SPDX-License-Identifier: GPL-2.0
/*
 * kavm CPUID: what KVM supports, with the topology kavm gives the guest (one
 * socket, one thread per core, cfg->nr_cpus cores, APIC id = vCPU index) and
 * the user's --cpu-features masks applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include <kavm/kvm.h>
#include <kavm/log.h>

struct cpuid_table {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 entries[];
};

#define CPUID_MAX_ENTRIES 256

enum { R_EAX, R_EBX, R_ECX, R_EDX };

struct cpu_feature_name {
	const char *name;
	uint32_t function, index;
	uint8_t reg, bit;
};

/* The flags people mask most often; names as in /proc/cpuinfo. */
static const struct cpu_feature_name cpu_feature_names[] = {
	{ "sse3", 1, 0, R_ECX, 0 },
	{ "pclmulqdq", 1, 0, R_ECX, 1 },
	{ "ssse3", 1, 0, R_ECX, 9 },
	{ "fma", 1, 0, R_ECX, 12 },
	{ "cx16", 1, 0, R_ECX, 13 },
	{ "pcid", 1, 0, R_ECX, 17 },
	{ "sse4_1", 1, 0, R_ECX, 19 },
	{ "sse4_2", 1, 0, R_ECX, 20 },
	{ "x2apic", 1, 0, R_ECX, 21 },
	{ "movbe", 1, 0, R_ECX, 22 },
	{ "popcnt", 1, 0, R_ECX, 23 },
	{ "tsc_deadline_timer", 1, 0, R_ECX, 24 },
	{ "aes", 1, 0, R_ECX, 25 },
	{ "xsave", 1, 0, R_ECX, 26 },
	{ "avx", 1, 0, R_ECX, 28 },
	{ "f16c", 1, 0, R_ECX, 29 },
	{ "rdrand", 1, 0, R_ECX, 30 },
	{ "mce", 1, 0, R_EDX, 7 },
	{ "mtrr", 1, 0, R_EDX, 12 },
	{ "pat", 1, 0, R_EDX, 16 },
	{ "fsgsbase", 7, 0, R_EBX, 0 },
	{ "bmi1", 7, 0, R_EBX, 3 },
	{ "avx2", 7, 0, R_EBX, 5 },
	{ "smep", 7, 0, R_EBX, 7 },
	{ "bmi2", 7, 0, R_EBX, 8 },
	{ "erms", 7, 0, R_EBX, 9 },
	{ "invpcid", 7, 0, R_EBX, 10 },
	{ "avx512f", 7, 0, R_EBX, 16 },
	{ "rdseed", 7, 0, R_EBX, 18 },
	{ "adx", 7, 0, R_EBX, 19 },
	{ "smap", 7, 0, R_EBX, 20 },
	{ "sha_ni", 7, 0, R_EBX, 29 },
	{ "umip", 7, 0, R_ECX, 2 },
	{ "pku", 7, 0, R_ECX, 3 },
	{ "la57", 7, 0, R_ECX, 16 },
	{ "rdpid", 7, 0, R_ECX, 22 },
	{ "xsaveopt", 0xd, 1, R_EAX, 0 },
	{ "xsavec", 0xd, 1, R_EAX, 1 },
	{ "xsaves", 0xd, 1, R_EAX, 3 },
	{ "lahf_lm", 0x80000001, 0, R_ECX, 0 },
	{ "svm", 0x80000001, 0, R_ECX, 2 },
	{ "abm", 0x80000001, 0, R_ECX, 5 },
	{ "nx", 0x80000001, 0, R_EDX, 20 },
	{ "pdpe1gb", 0x80000001, 0, R_EDX, 26 },
	{ "rdtscp", 0x80000001, 0, R_EDX, 27 },
};

int cpu_features_parse(struct vm_config *cfg, const char *spec, const char **bad)
{
	static char tok[64];
	const char *p = spec;

	while (*p) {
		size_t len = strcspn(p, ",");
		const struct cpu_feature_name *f = NULL;
		struct cpu_feature_mask *m;
		unsigned int i;

		if (len >= sizeof(tok))
			len = sizeof(tok) - 1;
		memcpy(tok, p, len);
		tok[len] = 0;
		*bad = tok;
		if (tok[0] != '-' && tok[0] != '+')
			return -EINVAL;
		for (i = 0; i < ARRAY_SIZE(cpu_feature_names); i++)
			if (!strcmp(tok + 1, cpu_feature_names[i].name))
				f = &cpu_feature_names[i];
		if (!f)
			return -ENOENT;
		if (cfg->nr_features == KVM_MAX_FEATURE_MASKS)
			return -E2BIG;
		m = &cfg->features[cfg->nr_features++];
		*m = (struct cpu_feature_mask){ .function = f->function,
						.index = f->index,
						.reg = f->reg,
						.bit = f->bit,
						.set = tok[0] == '+',
						.name = f->name };
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	*bad = NULL;
	return 0;
}

static uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, unsigned int reg)
{
	uint32_t *regs[] = { &e->eax, &e->ebx, &e->ecx, &e->edx };

	return regs[reg];
}

static struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, uint32_t fn, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < t->hdr.nent; i++)
		if (t->entries[i].function == fn && t->entries[i].index == idx)
			return &t->entries[i];
	for (i = 0; i < t->hdr.nent; i++)
		if (t->entries[i].function == fn &&
		    !(t->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))
			return &t->entries[i];
	return NULL;
}

static int cpuid_apply_features(struct kvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_features; i++) {
		const struct cpu_feature_mask *m = &vm->cfg->features[i];
		struct kvm_cpuid_entry2 *e = cpuid_find(vm->cpuid, m->function, m->index);
		uint32_t *r = e ? cpuid_reg(e, m->reg) : NULL;

		if (!m->set) {
			if (r)
				*r &= ~(1U << m->bit);
			continue;
		}
		if (!r || !(*r & (1U << m->bit))) {
			pr_err("CPU feature %s: not supported by KVM on this host", m->name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int kvm_cpuid_get(struct kvm_vm *vm)
{
	struct cpuid_table *t;
	int ret;

	t = calloc(1, sizeof(*t) + CPUID_MAX_ENTRIES * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	t->hdr.nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, t)) {
		ret = -errno;
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(t);
		return ret;
	}
	vm->cpuid = t;
	return cpuid_apply_features(vm);
}

static unsigned int order_base_2(unsigned int n)
{
	unsigned int b = 0;

	while ((1U << b) < n)
		b++;
	return b;
}

/* Per-vCPU topology: leaves 1, 4, 0xb, 0x1f, 0x80000008, 0x8000001e. */
static void cpuid_set_topology(struct kvm_cpuid_entry2 *e, unsigned int apic_id, unsigned int nr)
{
	unsigned int shift = order_base_2(nr);

	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffff) | (min(nr, 255u) << 16) | (apic_id << 24);
		if (nr > 1)
			e->edx |= 1U << 28; /* HTT: EBX[23:16] is valid */
		e->ecx |= 1U << 31;	    /* running on a hypervisor */
		break;
	case 4:
		/* Cores per package - 1; each cache is private to its core. */
		if (e->eax & 0x1f)
			e->eax = (e->eax & 0x3fff) | ((nr - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		e->edx = apic_id;
		e->ecx = e->index & 0xff;
		if (e->index == 0) { /* SMT level: one thread per core */
			e->eax = 0;
			e->ebx = 1;
			e->ecx |= 1 << 8;
		} else if (e->index == 1) { /* core level */
			e->eax = shift;
			e->ebx = nr;
			e->ecx |= 2 << 8;
		} else {
			e->eax = e->ebx = 0;
		}
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffU) | (nr - 1) | (shift << 12);
		break;
	case 0x8000001e:
		e->eax = apic_id;
		e->ebx = apic_id & 0xff; /* core id, one thread per core */
		e->ecx = 0;
		break;
	}
}

int kvm_cpuid_apply(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct cpuid_table *t;
	size_t size = sizeof(*t) + vm->cpuid->hdr.nent * sizeof(t->entries[0]);
	uint32_t i;
	int ret = 0;

	t = malloc(size);
	if (!t)
		return -ENOMEM;
	memcpy(t, vm->cpuid, size);
	for (i = 0; i < t->hdr.nent; i++)
		cpuid_set_topology(&t->entries[i], vcpu->id, vm->cfg->nr_cpus);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, t)) {
		ret = -errno;
		pr_err("vCPU %u: KVM_SET_CPUID2: %s", vcpu->id, strerror(errno));
	}
	free(t);
	return ret;
}

int kvm_cpuid_lookup(struct kvm_vm *vm, unsigned int vcpu_id, uint32_t function, uint32_t index,
		     uint32_t regs[4])
{
	struct kvm_cpuid_entry2 e, *found;

	if (!vm->cpuid)
		return -ENOENT;
	found = cpuid_find(vm->cpuid, function, index);
	if (!found)
		return -ENOENT;
	e = *found;
	cpuid_set_topology(&e, vcpu_id, vm->cfg->nr_cpus);
	regs[0] = e.eax;
	regs[1] = e.ebx;
	regs[2] = e.ecx;
	regs[3] = e.edx;
	return 0;
}
