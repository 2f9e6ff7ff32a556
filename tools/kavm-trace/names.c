// SPDX-License-Identifier: GPL-2.0
/*
 * kavm-trace: names for numbers. KVM exit reasons (VMX basic exit reasons
 * from the Intel SDM, appendix C; SVM exit codes from the AMD APM vol. 2,
 * appendix C), KVM_RUN exit reasons (linux/kvm.h), Ethernet protocols, and
 * kernel text addresses through /proc/kallsyms.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kavm/bpf-trace.h>
#include <kavm/compiler.h>

#include "kavm-trace.h"

struct code_name {
	uint32_t code;
	const char *name;
};

static const struct code_name vmx_reasons[] = {
	{ 0, "EXCEPTION_NMI" },
	{ 1, "EXTERNAL_INTERRUPT" },
	{ 2, "TRIPLE_FAULT" },
	{ 3, "INIT_SIGNAL" },
	{ 4, "SIPI_SIGNAL" },
	{ 7, "INTERRUPT_WINDOW" },
	{ 8, "NMI_WINDOW" },
	{ 9, "TASK_SWITCH" },
	{ 10, "CPUID" },
	{ 12, "HLT" },
	{ 13, "INVD" },
	{ 14, "INVLPG" },
	{ 15, "RDPMC" },
	{ 16, "RDTSC" },
	{ 18, "VMCALL" },
	{ 19, "VMCLEAR" },
	{ 20, "VMLAUNCH" },
	{ 21, "VMPTRLD" },
	{ 22, "VMPTRST" },
	{ 23, "VMREAD" },
	{ 24, "VMRESUME" },
	{ 25, "VMWRITE" },
	{ 26, "VMOFF" },
	{ 27, "VMON" },
	{ 28, "CR_ACCESS" },
	{ 29, "DR_ACCESS" },
	{ 30, "IO_INSTRUCTION" },
	{ 31, "MSR_READ" },
	{ 32, "MSR_WRITE" },
	{ 33, "INVALID_STATE" },
	{ 34, "MSR_LOAD_FAIL" },
	{ 36, "MWAIT_INSTRUCTION" },
	{ 37, "MONITOR_TRAP_FLAG" },
	{ 39, "MONITOR_INSTRUCTION" },
	{ 40, "PAUSE_INSTRUCTION" },
	{ 41, "MCE_DURING_VMENTRY" },
	{ 43, "TPR_BELOW_THRESHOLD" },
	{ 44, "APIC_ACCESS" },
	{ 45, "EOI_INDUCED" },
	{ 46, "GDTR_IDTR" },
	{ 47, "LDTR_TR" },
	{ 48, "EPT_VIOLATION" },
	{ 49, "EPT_MISCONFIG" },
	{ 50, "INVEPT" },
	{ 51, "RDTSCP" },
	{ 52, "PREEMPTION_TIMER" },
	{ 53, "INVVPID" },
	{ 54, "WBINVD" },
	{ 55, "XSETBV" },
	{ 56, "APIC_WRITE" },
	{ 57, "RDRAND" },
	{ 58, "INVPCID" },
	{ 59, "VMFUNC" },
	{ 60, "ENCLS" },
	{ 61, "RDSEED" },
	{ 62, "PML_FULL" },
	{ 63, "XSAVES" },
	{ 64, "XRSTORS" },
	{ 67, "UMWAIT" },
	{ 68, "TPAUSE" },
	{ 74, "BUS_LOCK" },
	{ 75, "NOTIFY" },
	{ 77, "TDCALL" },
};

static const struct code_name svm_reasons[] = {
	{ 0x000, "read_cr0" },
	{ 0x003, "read_cr3" },
	{ 0x004, "read_cr4" },
	{ 0x008, "read_cr8" },
	{ 0x010, "write_cr0" },
	{ 0x013, "write_cr3" },
	{ 0x014, "write_cr4" },
	{ 0x018, "write_cr8" },
	{ 0x020, "read_dr0" },
	{ 0x027, "read_dr7" },
	{ 0x030, "write_dr0" },
	{ 0x037, "write_dr7" },
	{ 0x041, "DB_excp" },
	{ 0x043, "BP_excp" },
	{ 0x046, "UD_excp" },
	{ 0x047, "NM_excp" },
	{ 0x048, "DF_excp" },
	{ 0x04d, "GP_excp" },
	{ 0x04e, "PF_excp" },
	{ 0x050, "MF_excp" },
	{ 0x051, "AC_excp" },
	{ 0x052, "MC_excp" },
	{ 0x060, "interrupt" },
	{ 0x061, "nmi" },
	{ 0x062, "smi" },
	{ 0x063, "init" },
	{ 0x064, "vintr" },
	{ 0x065, "cr0_sel_write" },
	{ 0x06e, "rdtsc" },
	{ 0x06f, "rdpmc" },
	{ 0x070, "pushf" },
	{ 0x071, "popf" },
	{ 0x072, "cpuid" },
	{ 0x073, "rsm" },
	{ 0x074, "iret" },
	{ 0x075, "swint" },
	{ 0x076, "invd" },
	{ 0x077, "pause" },
	{ 0x078, "hlt" },
	{ 0x079, "invlpg" },
	{ 0x07a, "invlpga" },
	{ 0x07b, "io" },
	{ 0x07c, "msr" },
	{ 0x07d, "task_switch" },
	{ 0x07e, "ferr_freeze" },
	{ 0x07f, "shutdown" },
	{ 0x080, "vmrun" },
	{ 0x081, "hypercall" },
	{ 0x082, "vmload" },
	{ 0x083, "vmsave" },
	{ 0x084, "stgi" },
	{ 0x085, "clgi" },
	{ 0x086, "skinit" },
	{ 0x087, "rdtscp" },
	{ 0x088, "icebp" },
	{ 0x089, "wbinvd" },
	{ 0x08a, "monitor" },
	{ 0x08b, "mwait" },
	{ 0x08d, "xsetbv" },
	{ 0x08f, "write_efer_trap" },
	{ 0x090, "write_cr0_trap" },
	{ 0x094, "write_cr4_trap" },
	{ 0x098, "write_cr8_trap" },
	{ 0x0a2, "invpcid" },
	{ 0x0a5, "buslock" },
	{ 0x0a6, "idle_halt" },
	{ 0x400, "npf" },
	{ 0x401, "avic_incomplete_ipi" },
	{ 0x402, "avic_unaccelerated_access" },
	{ 0x403, "vmgexit" },
};

static const char *const kvm_run_exits[] = {
	"UNKNOWN",
	"EXCEPTION",
	"IO",
	"HYPERCALL",
	"DEBUG",
	"HLT",
	"MMIO",
	"IRQ_WINDOW_OPEN",
	"SHUTDOWN",
	"FAIL_ENTRY",
	"INTR",
	"SET_TPR",
	"TPR_ACCESS",
	"S390_SIEIC",
	"S390_RESET",
	"DCR",
	"NMI",
	"INTERNAL_ERROR",
	"OSI",
	"PAPR_HCALL",
	"S390_UCONTROL",
	"WATCHDOG",
	"S390_TSCH",
	"EPR",
	"SYSTEM_EVENT",
	"S390_STSI",
	"IOAPIC_EOI",
	"HYPERV",
	"ARM_NISV",
	"X86_RDMSR",
	"X86_WRMSR",
	"DIRTY_RING_FULL",
	"AP_RESET_HOLD",
	"X86_BUS_LOCK",
	"XEN",
	"RISCV_SBI",
	"RISCV_CSR",
	"NOTIFY",
	"LOONGARCH_IOCSR",
	"MEMORY_FAULT",
};

static const char *find(const struct code_name *t, size_t n, uint32_t code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

const char *kt_isa_name(uint32_t isa)
{
	return isa == KT_ISA_VMX ? "vmx" : isa == KT_ISA_SVM ? "svm" : "other";
}

void kt_exit_name(uint32_t isa, uint32_t reason, char *buf, size_t size)
{
	const char *name = NULL;

	if (isa == KT_ISA_VMX)
		name = find(vmx_reasons, ARRAY_SIZE(vmx_reasons), reason);
	else if (isa == KT_ISA_SVM)
		name = find(svm_reasons, ARRAY_SIZE(svm_reasons), reason);
	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%s_0x%x", kt_isa_name(isa), reason);
}

void kt_uexit_name(uint32_t reason, char *buf, size_t size)
{
	if (reason >= KT_UEXIT_ERRNO) {
		const char *e = strerrorname_np(reason - KT_UEXIT_ERRNO);

		/* KVM_RUN failed: EINTR is kavm kicking its vCPU (a signal). */
		snprintf(buf, size, "errno_%s", e ? e : "?");
	} else if (reason < ARRAY_SIZE(kvm_run_exits)) {
		snprintf(buf, size, "%s", kvm_run_exits[reason]);
	} else {
		snprintf(buf, size, "exit_%u", reason);
	}
}

const char *kt_addr_kind(uint32_t kind)
{
	static const char *const names[] = {
		[KT_ADDR_PIO_IN] = "in",
		[KT_ADDR_PIO_OUT] = "out",
		[KT_ADDR_MMIO_READ] = "read",
		[KT_ADDR_MMIO_WRITE] = "write",
		[KT_ADDR_MMIO_UNSATISFIED] = "read_unsatisfied",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : "?";
}

void kt_proto_name(uint16_t proto_be, char *buf, size_t size)
{
	static const struct code_name protos[] = {
		{ 0x0800, "IPv4" },   { 0x0806, "ARP" },     { 0x86dd, "IPv6" },
		{ 0x8100, "802.1Q" }, { 0x88a8, "802.1ad" }, { 0x88cc, "LLDP" },
	};
	uint16_t p = (uint16_t)((proto_be >> 8) | (proto_be << 8));
	const char *name = find(protos, ARRAY_SIZE(protos), p);

	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "0x%04x", p);
}

/* --- /proc/kallsyms: text symbols sorted by address */

struct ksym {
	uint64_t addr;
	char *name;
};

static struct ksym *ksyms;
static size_t nr_ksyms;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int kt_ksyms_load(void)
{
	char line[512], name[256], type;
	size_t cap = 0;
	uint64_t addr;
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if (nr_ksyms == cap) {
			struct ksym *grown;

			cap = cap ? cap * 2 : 65536;
			grown = realloc(ksyms, cap * sizeof(*ksyms));
			if (!grown)
				break;
			ksyms = grown;
		}
		ksyms[nr_ksyms].addr = addr;
		ksyms[nr_ksyms].name = strdup(name);
		if (ksyms[nr_ksyms].name)
			nr_ksyms++;
	}
	fclose(f);
	qsort(ksyms, nr_ksyms, sizeof(*ksyms), ksym_cmp);
	return nr_ksyms ? 0 : -ENOENT;
}

void kt_ksym_name(uint64_t addr, char *buf, size_t size)
{
	size_t lo = 0, hi = nr_ksyms;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ksyms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		snprintf(buf, size, "0x%" PRIx64, addr);
	else
		snprintf(buf, size, "%s+0x%" PRIx64, ksyms[lo - 1].name, addr - ksyms[lo - 1].addr);
}
