/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * KVM exit-reason names for both x86 ISAs, as the kernel's kvm_exit
 * tracepoint prints them.
 *
 * The numbers and names are the facts of the kernel's VMX_EXIT_REASONS
 * (arch/x86/include/uapi/asm/vmx.h) and SVM_EXIT_REASONS
 * (arch/x86/include/uapi/asm/svm.h) lists, transcribed from upstream sources
 * of late 2025 (VMX up to MSR_WRITE_IMM, SVM up to buslock and idle-halt).
 * Older kernels name a subset, and a few names changed (VMX 7 was
 * PENDING_INTERRUPT).  Only reasons that the lists name are here: a reason
 * the kernel defines but does not name (VMX 6 OTHER_SMI, 76 SEAMCALL; SVM
 * 0x08c mwait_cond, 0x08e rdpru, ...) is printed by the kernel as a number,
 * and kvm_exit_reason_name() returns NULL for it too.
 *
 * Plain C for user space only: no BPF program includes this file (the BPF
 * side counts raw numbers; names are an output concern).
 */
#ifndef IOTRACE_KVM_EXITS_H
#define IOTRACE_KVM_EXITS_H

#include <stddef.h>
#include <stdint.h>

/* The `isa` field of the kvm_exit tracepoint (arch/x86/kvm/trace.h). */
enum kvm_isa {
	KVM_ISA_VMX = 1,
	KVM_ISA_SVM = 2,
};

/*
 * A VMX exit reason is 32 bits: bits 15:0 are the basic reason, the upper
 * bits are flags (bit 31 VM-entry failure, bit 27 exit from SGX enclave
 * mode).  The tracepoint prints the basic reason's name and then the flags.
 */
#define KVM_VMX_BASIC_REASON_MASK 0xffffULL
#define KVM_VMX_EXIT_FAILED_VMENTRY 0x80000000ULL /* bit 31 */
#define KVM_VMX_EXIT_SGX_ENCLAVE_MODE 0x08000000ULL /* bit 27 */

/* The few reasons the code tests for by number. */
#define KVM_VMX_EXIT_IO_INSTRUCTION 30
#define KVM_VMX_EXIT_EPT_VIOLATION 48
#define KVM_VMX_EXIT_EPT_MISCONFIG 49
#define KVM_SVM_EXIT_IOIO 0x07bULL
#define KVM_SVM_EXIT_NPF 0x400ULL
/*
 * SVM_EXIT_ERR is -1.  Kernels that carry the SVM exit code as 64 bits give
 * UINT64_MAX; kernels whose tracepoint field is 32 bits give 0xffffffff.
 * Lookups accept both.
 */
#define KVM_SVM_EXIT_ERR UINT64_MAX
#define KVM_SVM_EXIT_ERR32 0xffffffffULL

struct kvm_exit_name {
	uint64_t reason;
	const char *name;
};

/* VMX basic exit reasons, ascending. */
static const struct kvm_exit_name kvm_vmx_exit_names[] __attribute__((unused)) = {
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
	{ 84, "MSR_READ_IMM" },
	{ 85, "MSR_WRITE_IMM" },
};

/* SVM exit codes, ascending; exceptions are 0x040 + vector. */
static const struct kvm_exit_name kvm_svm_exit_names[] __attribute__((unused)) = {
	{ 0x000, "read_cr0" },
	{ 0x002, "read_cr2" },
	{ 0x003, "read_cr3" },
	{ 0x004, "read_cr4" },
	{ 0x008, "read_cr8" },
	{ 0x010, "write_cr0" },
	{ 0x012, "write_cr2" },
	{ 0x013, "write_cr3" },
	{ 0x014, "write_cr4" },
	{ 0x018, "write_cr8" },
	{ 0x020, "read_dr0" },
	{ 0x021, "read_dr1" },
	{ 0x022, "read_dr2" },
	{ 0x023, "read_dr3" },
	{ 0x024, "read_dr4" },
	{ 0x025, "read_dr5" },
	{ 0x026, "read_dr6" },
	{ 0x027, "read_dr7" },
	{ 0x030, "write_dr0" },
	{ 0x031, "write_dr1" },
	{ 0x032, "write_dr2" },
	{ 0x033, "write_dr3" },
	{ 0x034, "write_dr4" },
	{ 0x035, "write_dr5" },
	{ 0x036, "write_dr6" },
	{ 0x037, "write_dr7" },
	{ 0x040, "DE excp" }, /* vector 0 */
	{ 0x041, "DB excp" }, /* 1 */
	{ 0x043, "BP excp" }, /* 3 */
	{ 0x044, "OF excp" }, /* 4 */
	{ 0x045, "BR excp" }, /* 5 */
	{ 0x046, "UD excp" }, /* 6 */
	{ 0x047, "NM excp" }, /* 7 */
	{ 0x048, "DF excp" }, /* 8 */
	{ 0x04a, "TS excp" }, /* 10 */
	{ 0x04b, "NP excp" }, /* 11 */
	{ 0x04c, "SS excp" }, /* 12 */
	{ 0x04d, "GP excp" }, /* 13 */
	{ 0x04e, "PF excp" }, /* 14 */
	{ 0x050, "MF excp" }, /* 16 */
	{ 0x051, "AC excp" }, /* 17 */
	{ 0x052, "MC excp" }, /* 18 */
	{ 0x053, "XF excp" }, /* 19 (XM) */
	{ 0x060, "interrupt" },
	{ 0x061, "nmi" },
	{ 0x062, "smi" },
	{ 0x063, "init" },
	{ 0x064, "vintr" },
	{ 0x065, "cr0_sel_write" },
	{ 0x066, "read_idtr" },
	{ 0x067, "read_gdtr" },
	{ 0x068, "read_ldtr" },
	{ 0x069, "read_rt" },
	{ 0x06a, "write_idtr" },
	{ 0x06b, "write_gdtr" },
	{ 0x06c, "write_ldtr" },
	{ 0x06d, "write_rt" },
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
	{ 0x0a6, "idle-halt" },
	{ 0x400, "npf" },
	{ 0x401, "avic_incomplete_ipi" },
	{ 0x402, "avic_unaccelerated_access" },
	{ 0x403, "vmgexit" },
	/* SEV-ES software-defined VMGEXIT events */
	{ 0x80000001ULL, "vmgexit_mmio_read" },
	{ 0x80000002ULL, "vmgexit_mmio_write" },
	{ 0x80000003ULL, "vmgexit_nmi_complete" },
	{ 0x80000004ULL, "vmgexit_ap_hlt_loop" },
	{ 0x80000005ULL, "vmgexit_ap_jump_table" },
	{ 0x80000010ULL, "vmgexit_page_state_change" },
	{ 0x80000011ULL, "vmgexit_guest_request" },
	{ 0x80000012ULL, "vmgexit_ext_guest_request" },
	{ 0x80000013ULL, "vmgexit_ap_creation" },
	{ 0x8000fffdULL, "vmgexit_hypervisor_feature" },
	{ KVM_SVM_EXIT_ERR, "invalid_guest_state" },
};

#define KVM_VMX_EXIT_NAMES_N (sizeof(kvm_vmx_exit_names) / sizeof(kvm_vmx_exit_names[0]))
#define KVM_SVM_EXIT_NAMES_N (sizeof(kvm_svm_exit_names) / sizeof(kvm_svm_exit_names[0]))

/*
 * The kernel's name for an exit reason of the given ISA, or NULL when the
 * kernel has none (the caller prints "unknown-<n>") or the ISA is unknown.
 * VMX flag bits are ignored: the name is the basic reason's.
 */
const char *kvm_exit_reason_name(unsigned int isa, uint64_t reason);

/*
 * Whether an exit is the guest doing device I/O that the host must emulate:
 * port I/O (VMX IO_INSTRUCTION, SVM io) or MMIO.  KVM catches MMIO through
 * the stage-2 page tables: on VMX it marks MMIO pages with deliberately
 * misconfigured EPT entries, so an MMIO access is an EPT_MISCONFIG exit; on
 * SVM there is no such exit and MMIO arrives as a nested page fault (npf).
 * npf also counts ordinary guest-memory faults (and EPT_VIOLATION, the VMX
 * counterpart, is not counted at all), so the SVM figure is an upper bound.
 * A VMX exit flagged as a failed VM entry is never I/O.
 */
int kvm_exit_reason_is_io(unsigned int isa, uint64_t reason);

/* The table for an ISA and its length, or NULL and 0 for an unknown ISA. */
const struct kvm_exit_name *kvm_exit_table(unsigned int isa, size_t *n);

/*
 * Exits to the VMM: the KVM_EXIT_* values of struct kvm_run's exit_reason
 * (include/uapi/linux/kvm.h), named as the kvm_userspace_exit tracepoint
 * prints them.  Index = reason; gaps are NULL.
 */
static const char *const kvm_userspace_exit_names[] __attribute__((unused)) = {
	"KVM_EXIT_UNKNOWN",
	"KVM_EXIT_EXCEPTION",
	"KVM_EXIT_IO",
	"KVM_EXIT_HYPERCALL",
	"KVM_EXIT_DEBUG",
	"KVM_EXIT_HLT",
	"KVM_EXIT_MMIO",
	"KVM_EXIT_IRQ_WINDOW_OPEN",
	"KVM_EXIT_SHUTDOWN",
	"KVM_EXIT_FAIL_ENTRY",
	"KVM_EXIT_INTR",
	"KVM_EXIT_SET_TPR",
	"KVM_EXIT_TPR_ACCESS",
	"KVM_EXIT_S390_SIEIC",
	"KVM_EXIT_S390_RESET",
	"KVM_EXIT_DCR",
	"KVM_EXIT_NMI",
	"KVM_EXIT_INTERNAL_ERROR",
	"KVM_EXIT_OSI",
	"KVM_EXIT_PAPR_HCALL",
	"KVM_EXIT_S390_UCONTROL",
	"KVM_EXIT_WATCHDOG",
	"KVM_EXIT_S390_TSCH",
	"KVM_EXIT_EPR",
	"KVM_EXIT_SYSTEM_EVENT",
	"KVM_EXIT_S390_STSI",
	"KVM_EXIT_IOAPIC_EOI",
	"KVM_EXIT_HYPERV",
	"KVM_EXIT_ARM_NISV",
	"KVM_EXIT_X86_RDMSR",
	"KVM_EXIT_X86_WRMSR",
	"KVM_EXIT_DIRTY_RING_FULL",
	"KVM_EXIT_AP_RESET_HOLD",
	"KVM_EXIT_X86_BUS_LOCK",
	"KVM_EXIT_XEN",
	"KVM_EXIT_RISCV_SBI",
	"KVM_EXIT_RISCV_CSR",
	"KVM_EXIT_NOTIFY",
	"KVM_EXIT_LOONGARCH_IOCSR",
	"KVM_EXIT_MEMORY_FAULT",
	"KVM_EXIT_TDX",
};

/*
 * The kvm_userspace_exit reason of an exit that ended KVM_RUN with an error
 * (a signal, -EINTR): the kernel prints it as "restart".
 */
#define KVM_USERSPACE_EXIT_RESTART UINT64_MAX

/* The name of an exit to the VMM, or NULL when the kernel has none. */
const char *kvm_userspace_exit_name(uint64_t reason);

#endif
