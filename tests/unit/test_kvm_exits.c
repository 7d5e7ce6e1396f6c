// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Exit-reason names against the kernel's numbers (VMX_EXIT_REASONS in
 * arch/x86/include/uapi/asm/vmx.h, SVM_EXIT_REASONS in .../svm.h), VMX flag
 * masking, unknown reasons, the tables' integrity and the I/O classification;
 * exits to the VMM against the KVM_EXIT_* numbers of <linux/kvm.h>.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <string.h>

#include <linux/kvm.h>

#include "kvm_exits.h"

struct pair {
	uint64_t reason;
	const char *name;
};

static void check_pairs(unsigned int isa, const struct pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = kvm_exit_reason_name(isa, p[i].reason);

		if (!got || strcmp(got, p[i].name))
			fail_msg("isa %u reason %#llx: want \"%s\", got \"%s\"", isa,
				 (unsigned long long)p[i].reason, p[i].name, got ? got : "(null)");
	}
}

static void test_vmx_known(void **state)
{
	static const struct pair p[] = {
		{ 0, "EXCEPTION_NMI" },
		{ 1, "EXTERNAL_INTERRUPT" },
		{ 2, "TRIPLE_FAULT" },
		{ 7, "INTERRUPT_WINDOW" },
		{ 10, "CPUID" },
		{ 12, "HLT" },
		{ 18, "VMCALL" },
		{ 28, "CR_ACCESS" },
		{ 30, "IO_INSTRUCTION" },
		{ 31, "MSR_READ" },
		{ 32, "MSR_WRITE" },
		{ 33, "INVALID_STATE" },
		{ 40, "PAUSE_INSTRUCTION" },
		{ 44, "APIC_ACCESS" },
		{ 48, "EPT_VIOLATION" },
		{ 49, "EPT_MISCONFIG" },
		{ 52, "PREEMPTION_TIMER" },
		{ 54, "WBINVD" },
		{ 55, "XSETBV" },
		{ 56, "APIC_WRITE" },
		{ 62, "PML_FULL" },
		{ 74, "BUS_LOCK" },
		{ 77, "TDCALL" },
		{ 85, "MSR_WRITE_IMM" },
	};

	(void)state;
	check_pairs(KVM_ISA_VMX, p, sizeof(p) / sizeof(p[0]));
}

static void test_svm_known(void **state)
{
	static const struct pair p[] = {
		{ 0x000, "read_cr0" },
		{ 0x013, "write_cr3" },
		{ 0x027, "read_dr7" },
		{ 0x040, "DE excp" },
		{ 0x04e, "PF excp" },
		{ 0x053, "XF excp" },
		{ 0x060, "interrupt" },
		{ 0x061, "nmi" },
		{ 0x064, "vintr" },
		{ 0x069, "read_rt" },
		{ 0x072, "cpuid" },
		{ 0x077, "pause" },
		{ 0x078, "hlt" },
		{ 0x07b, "io" },
		{ 0x07c, "msr" },
		{ 0x07f, "shutdown" },
		{ 0x081, "hypercall" },
		{ 0x0a6, "idle-halt" },
		{ 0x400, "npf" },
		{ 0x402, "avic_unaccelerated_access" },
		{ 0x403, "vmgexit" },
		{ 0x80000001ULL, "vmgexit_mmio_read" },
		{ 0x8000fffdULL, "vmgexit_hypervisor_feature" },
		{ UINT64_MAX, "invalid_guest_state" },
		/* SVM_EXIT_ERR (-1) as a 32-bit tracepoint field carries it */
		{ 0xffffffffULL, "invalid_guest_state" },
	};

	(void)state;
	check_pairs(KVM_ISA_SVM, p, sizeof(p) / sizeof(p[0]));
}

static void test_unknown_is_null(void **state)
{
	/* Gaps in the lists, and reasons defined but not named by the kernel. */
	static const uint64_t vmx[] = { 5, 6, 11, 17, 35, 38, 42, 65, 76, 86, 0xffff };
	static const uint64_t svm[] = { 0x001, 0x042, 0x05f,	     0x08c,	   0x08e,
					0x0a7, 0x404, 0x80000000ULL, 0x8000ffffULL };

	(void)state;
	for (size_t i = 0; i < sizeof(vmx) / sizeof(vmx[0]); i++)
		assert_null(kvm_exit_reason_name(KVM_ISA_VMX, vmx[i]));
	for (size_t i = 0; i < sizeof(svm) / sizeof(svm[0]); i++)
		assert_null(kvm_exit_reason_name(KVM_ISA_SVM, svm[i]));
	/* Unknown ISA, whatever the reason. */
	assert_null(kvm_exit_reason_name(0, 12));
	assert_null(kvm_exit_reason_name(3, 12));
	/* The ISAs do not share numbers: SVM 30 (0x1e) has no name. */
	assert_null(kvm_exit_reason_name(KVM_ISA_SVM, 30));
}

static void test_vmx_flags_masked(void **state)
{
	(void)state;
	/* VM-entry failure (bit 31) on invalid guest state. */
	assert_string_equal(kvm_exit_reason_name(KVM_ISA_VMX, 0x80000021ULL), "INVALID_STATE");
	/* Exit from an SGX enclave (bit 27). */
	assert_string_equal(kvm_exit_reason_name(KVM_ISA_VMX, 0x08000000ULL | 12), "HLT");
	assert_string_equal(kvm_exit_reason_name(KVM_ISA_VMX, 0x88000000ULL | 48), "EPT_VIOLATION");
	/* Anything above bit 15 goes, even in a 64-bit value. */
	assert_string_equal(kvm_exit_reason_name(KVM_ISA_VMX, 0xffffffff0000001eULL),
			    "IO_INSTRUCTION");
	/* Masking happens before lookup, so an unnamed basic reason stays unnamed. */
	assert_null(kvm_exit_reason_name(KVM_ISA_VMX, 0x80000000ULL | 5));
}

static void test_svm_not_masked(void **state)
{
	(void)state;
	/* SVM codes are full-width: high bits are a different code, not flags. */
	assert_null(kvm_exit_reason_name(KVM_ISA_SVM, 0x100000078ULL));
	assert_null(kvm_exit_reason_name(KVM_ISA_SVM, 0x10078ULL));
	assert_null(kvm_exit_reason_name(KVM_ISA_SVM, 0xffffffff00000078ULL));
}

static void check_table(const struct kvm_exit_name *t, size_t n, uint64_t max_reason)
{
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(t[i].name);
		assert_true(strlen(t[i].name) > 0);
		assert_true(t[i].reason <= max_reason);
		for (const char *c = t[i].name; *c; c++)
			assert_true(isprint((unsigned char)*c));
		for (size_t j = i + 1; j < n; j++) {
			if (t[i].reason == t[j].reason)
				fail_msg("reason %#llx twice (%s, %s)",
					 (unsigned long long)t[i].reason, t[i].name, t[j].name);
			if (!strcmp(t[i].name, t[j].name))
				fail_msg("name %s twice", t[i].name);
		}
		/* Kept ascending, so that a reader can check them against the kernel. */
		if (i > 0)
			assert_true(t[i - 1].reason < t[i].reason);
	}
}

static void test_tables(void **state)
{
	const struct kvm_exit_name *t;
	size_t n;

	(void)state;
	check_table(kvm_vmx_exit_names, KVM_VMX_EXIT_NAMES_N, KVM_VMX_BASIC_REASON_MASK);
	check_table(kvm_svm_exit_names, KVM_SVM_EXIT_NAMES_N, UINT64_MAX);
	/* Every VMX_EXIT_REASONS and SVM_EXIT_REASONS entry is there. */
	assert_int_equal(KVM_VMX_EXIT_NAMES_N, 65);
	assert_int_equal(KVM_SVM_EXIT_NAMES_N, 110);

	/*
	 * Every entry is found by the lookup, and under its own number.  By
	 * name, not by pointer: each file has its own copy of the static
	 * tables, and only -fmerge-constants (-O1 and up) makes them share.
	 */
	for (size_t i = 0; i < KVM_VMX_EXIT_NAMES_N; i++)
		assert_string_equal(kvm_exit_reason_name(KVM_ISA_VMX, kvm_vmx_exit_names[i].reason),
				    kvm_vmx_exit_names[i].name);
	for (size_t i = 0; i < KVM_SVM_EXIT_NAMES_N; i++)
		assert_string_equal(kvm_exit_reason_name(KVM_ISA_SVM, kvm_svm_exit_names[i].reason),
				    kvm_svm_exit_names[i].name);

	t = kvm_exit_table(KVM_ISA_VMX, &n);
	assert_non_null(t);
	assert_int_equal(n, KVM_VMX_EXIT_NAMES_N);
	assert_string_equal(t[n - 1].name, "MSR_WRITE_IMM");
	t = kvm_exit_table(KVM_ISA_SVM, &n);
	assert_non_null(t);
	assert_int_equal(n, KVM_SVM_EXIT_NAMES_N);
	assert_string_equal(t[0].name, "read_cr0");
	n = 99;
	assert_null(kvm_exit_table(7, &n));
	assert_int_equal(n, 0);
}

static void test_is_io(void **state)
{
	(void)state;
	/* Port I/O and MMIO (EPT misconfiguration) on VMX. */
	assert_true(kvm_exit_reason_is_io(KVM_ISA_VMX, 30));
	assert_true(kvm_exit_reason_is_io(KVM_ISA_VMX, 49));
	assert_true(kvm_exit_reason_is_io(KVM_ISA_VMX, 0x08000000ULL | 30));
	assert_false(kvm_exit_reason_is_io(KVM_ISA_VMX, 48)); /* EPT_VIOLATION */
	assert_false(kvm_exit_reason_is_io(KVM_ISA_VMX, 12));
	assert_false(kvm_exit_reason_is_io(KVM_ISA_VMX, 31));
	assert_false(kvm_exit_reason_is_io(KVM_ISA_VMX, 0x80000000ULL | 30));
	/* Port I/O and nested page faults on SVM. */
	assert_true(kvm_exit_reason_is_io(KVM_ISA_SVM, 0x07b));
	assert_true(kvm_exit_reason_is_io(KVM_ISA_SVM, 0x400));
	assert_false(kvm_exit_reason_is_io(KVM_ISA_SVM, 30));
	assert_false(kvm_exit_reason_is_io(KVM_ISA_SVM, 49));
	assert_false(kvm_exit_reason_is_io(KVM_ISA_SVM, 0x078));
	assert_false(kvm_exit_reason_is_io(KVM_ISA_SVM, 0x10000007bULL));
	/* The numbers of one ISA mean nothing to the other, or to none. */
	assert_false(kvm_exit_reason_is_io(KVM_ISA_VMX, 0x07b));
	assert_false(kvm_exit_reason_is_io(0, 30));
	assert_false(kvm_exit_reason_is_io(0, 0x400));
}

static void test_userspace_known(void **state)
{
	(void)state;
	assert_string_equal(kvm_userspace_exit_name(0), "KVM_EXIT_UNKNOWN");
	assert_string_equal(kvm_userspace_exit_name(2), "KVM_EXIT_IO");
	assert_string_equal(kvm_userspace_exit_name(5), "KVM_EXIT_HLT");
	assert_string_equal(kvm_userspace_exit_name(6), "KVM_EXIT_MMIO");
	assert_string_equal(kvm_userspace_exit_name(KVM_USERSPACE_EXIT_RESTART), "restart");
}

static void test_userspace_against_kvm_h(void **state)
{
	/*
	 * Every exit reason this host's <linux/kvm.h> defines, under its macro's
	 * name (which the tracepoint prints); those newer than this header are
	 * checked where it is new enough to define them.
	 */
	static const struct pair uapi[] = {
		{ KVM_EXIT_UNKNOWN, "KVM_EXIT_UNKNOWN" },
		{ KVM_EXIT_EXCEPTION, "KVM_EXIT_EXCEPTION" },
		{ KVM_EXIT_IO, "KVM_EXIT_IO" },
		{ KVM_EXIT_HYPERCALL, "KVM_EXIT_HYPERCALL" },
		{ KVM_EXIT_DEBUG, "KVM_EXIT_DEBUG" },
		{ KVM_EXIT_HLT, "KVM_EXIT_HLT" },
		{ KVM_EXIT_MMIO, "KVM_EXIT_MMIO" },
		{ KVM_EXIT_IRQ_WINDOW_OPEN, "KVM_EXIT_IRQ_WINDOW_OPEN" },
		{ KVM_EXIT_SHUTDOWN, "KVM_EXIT_SHUTDOWN" },
		{ KVM_EXIT_FAIL_ENTRY, "KVM_EXIT_FAIL_ENTRY" },
		{ KVM_EXIT_INTR, "KVM_EXIT_INTR" },
		{ KVM_EXIT_SET_TPR, "KVM_EXIT_SET_TPR" },
		{ KVM_EXIT_TPR_ACCESS, "KVM_EXIT_TPR_ACCESS" },
		{ KVM_EXIT_S390_SIEIC, "KVM_EXIT_S390_SIEIC" },
		{ KVM_EXIT_S390_RESET, "KVM_EXIT_S390_RESET" },
		{ KVM_EXIT_DCR, "KVM_EXIT_DCR" },
		{ KVM_EXIT_NMI, "KVM_EXIT_NMI" },
		{ KVM_EXIT_INTERNAL_ERROR, "KVM_EXIT_INTERNAL_ERROR" },
		{ KVM_EXIT_OSI, "KVM_EXIT_OSI" },
		{ KVM_EXIT_PAPR_HCALL, "KVM_EXIT_PAPR_HCALL" },
		{ KVM_EXIT_S390_UCONTROL, "KVM_EXIT_S390_UCONTROL" },
		{ KVM_EXIT_WATCHDOG, "KVM_EXIT_WATCHDOG" },
		{ KVM_EXIT_S390_TSCH, "KVM_EXIT_S390_TSCH" },
		{ KVM_EXIT_EPR, "KVM_EXIT_EPR" },
		{ KVM_EXIT_SYSTEM_EVENT, "KVM_EXIT_SYSTEM_EVENT" },
		{ KVM_EXIT_S390_STSI, "KVM_EXIT_S390_STSI" },
		{ KVM_EXIT_IOAPIC_EOI, "KVM_EXIT_IOAPIC_EOI" },
		{ KVM_EXIT_HYPERV, "KVM_EXIT_HYPERV" },
		{ KVM_EXIT_ARM_NISV, "KVM_EXIT_ARM_NISV" },
		{ KVM_EXIT_X86_RDMSR, "KVM_EXIT_X86_RDMSR" },
		{ KVM_EXIT_X86_WRMSR, "KVM_EXIT_X86_WRMSR" },
		{ KVM_EXIT_DIRTY_RING_FULL, "KVM_EXIT_DIRTY_RING_FULL" },
		{ KVM_EXIT_AP_RESET_HOLD, "KVM_EXIT_AP_RESET_HOLD" },
		{ KVM_EXIT_X86_BUS_LOCK, "KVM_EXIT_X86_BUS_LOCK" },
		{ KVM_EXIT_XEN, "KVM_EXIT_XEN" },
		{ KVM_EXIT_RISCV_SBI, "KVM_EXIT_RISCV_SBI" },
		{ KVM_EXIT_RISCV_CSR, "KVM_EXIT_RISCV_CSR" },
		{ KVM_EXIT_NOTIFY, "KVM_EXIT_NOTIFY" },
#ifdef KVM_EXIT_LOONGARCH_IOCSR
		{ KVM_EXIT_LOONGARCH_IOCSR, "KVM_EXIT_LOONGARCH_IOCSR" },
#endif
#ifdef KVM_EXIT_MEMORY_FAULT
		{ KVM_EXIT_MEMORY_FAULT, "KVM_EXIT_MEMORY_FAULT" },
#endif
#ifdef KVM_EXIT_TDX
		{ KVM_EXIT_TDX, "KVM_EXIT_TDX" },
#endif
	};
	const size_t n = sizeof(kvm_userspace_exit_names) / sizeof(kvm_userspace_exit_names[0]);
	const size_t nu = sizeof(uapi) / sizeof(uapi[0]);
	size_t checked = 0;

	(void)state;
	/* Each index of the table names the reason the header gives that number. */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nu; k++) {
			if (uapi[k].reason != i)
				continue;
			if (!kvm_userspace_exit_names[i] ||
			    strcmp(kvm_userspace_exit_names[i], uapi[k].name))
				fail_msg("index %zu: table has %s, <linux/kvm.h> %s", i,
					 kvm_userspace_exit_names[i] ? kvm_userspace_exit_names[i] :
								       "(null)",
					 uapi[k].name);
			assert_string_equal(kvm_userspace_exit_name(i), uapi[k].name);
			checked++;
		}
	}
	/* Every reason up to KVM_EXIT_NOTIFY is in the table, under its number. */
	assert_true(n > KVM_EXIT_NOTIFY);
	assert_true(checked >= KVM_EXIT_NOTIFY + 1);
	assert_string_equal(kvm_userspace_exit_name(KVM_EXIT_NOTIFY), "KVM_EXIT_NOTIFY");
	assert_string_equal(kvm_userspace_exit_name(KVM_EXIT_IO), "KVM_EXIT_IO");
	assert_string_equal(kvm_userspace_exit_name(KVM_EXIT_MMIO), "KVM_EXIT_MMIO");
	assert_string_equal(kvm_userspace_exit_name(KVM_EXIT_HLT), "KVM_EXIT_HLT");
	/* No gaps today, and none unnamed. */
	for (size_t i = 0; i < n; i++) {
		assert_non_null(kvm_userspace_exit_names[i]);
		assert_true(strncmp(kvm_userspace_exit_names[i], "KVM_EXIT_", 9) == 0);
	}
}

static void test_userspace_out_of_range(void **state)
{
	const size_t n = sizeof(kvm_userspace_exit_names) / sizeof(kvm_userspace_exit_names[0]);

	(void)state;
	assert_string_equal(kvm_userspace_exit_name(n - 1), kvm_userspace_exit_names[n - 1]);
	assert_null(kvm_userspace_exit_name(n));
	assert_null(kvm_userspace_exit_name(n + 1));
	assert_null(kvm_userspace_exit_name(1000));
	assert_null(kvm_userspace_exit_name(0x100000002ULL)); /* not 2 in 32 bits */
	assert_null(kvm_userspace_exit_name(UINT64_MAX - 1));
	assert_null(kvm_userspace_exit_name((uint64_t)INT64_MAX + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmx_known),
		cmocka_unit_test(test_svm_known),
		cmocka_unit_test(test_unknown_is_null),
		cmocka_unit_test(test_vmx_flags_masked),
		cmocka_unit_test(test_svm_not_masked),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_is_io),
		cmocka_unit_test(test_userspace_known),
		cmocka_unit_test(test_userspace_against_kvm_h),
		cmocka_unit_test(test_userspace_out_of_range),
	};

	return cmocka_run_group_tests_name("kvm_exits", tests, NULL, NULL);
}
