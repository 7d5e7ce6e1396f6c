// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Exit-reason lookups over the tables in include/kvm_exits.h.  The tables
 * hold about a hundred entries each and names are looked up once per reason
 * per output interval, so a linear scan is plenty.
 */
#include <stddef.h>
#include <stdint.h>

#include "kvm_exits.h"

const struct kvm_exit_name *kvm_exit_table(unsigned int isa, size_t *n)
{
	switch (isa) {
	case KVM_ISA_VMX:
		*n = KVM_VMX_EXIT_NAMES_N;
		return kvm_vmx_exit_names;
	case KVM_ISA_SVM:
		*n = KVM_SVM_EXIT_NAMES_N;
		return kvm_svm_exit_names;
	default:
		*n = 0;
		return NULL;
	}
}

/* The reason as the table keys it: VMX basic reason, SVM -1 in 64 bits. */
static uint64_t table_key(unsigned int isa, uint64_t reason)
{
	if (isa == KVM_ISA_VMX)
		return reason & KVM_VMX_BASIC_REASON_MASK;
	if (isa == KVM_ISA_SVM && reason == KVM_SVM_EXIT_ERR32)
		return KVM_SVM_EXIT_ERR;
	return reason;
}

const char *kvm_exit_reason_name(unsigned int isa, uint64_t reason)
{
	const struct kvm_exit_name *t;
	uint64_t key = table_key(isa, reason);
	size_t n, i;

	t = kvm_exit_table(isa, &n);
	for (i = 0; i < n; i++) {
		if (t[i].reason == key)
			return t[i].name;
	}
	return NULL;
}

int kvm_exit_reason_is_io(unsigned int isa, uint64_t reason)
{
	uint64_t basic;

	switch (isa) {
	case KVM_ISA_VMX:
		if (reason & KVM_VMX_EXIT_FAILED_VMENTRY)
			return 0;
		basic = reason & KVM_VMX_BASIC_REASON_MASK;
		return basic == KVM_VMX_EXIT_IO_INSTRUCTION || basic == KVM_VMX_EXIT_EPT_MISCONFIG;
	case KVM_ISA_SVM:
		return reason == KVM_SVM_EXIT_IOIO || reason == KVM_SVM_EXIT_NPF;
	default:
		return 0;
	}
}

const char *kvm_userspace_exit_name(uint64_t reason)
{
	size_t n = sizeof(kvm_userspace_exit_names) / sizeof(kvm_userspace_exit_names[0]);

	if (reason == KVM_USERSPACE_EXIT_RESTART)
		return "restart";
	return reason < n ? kvm_userspace_exit_names[reason] : NULL;
}
