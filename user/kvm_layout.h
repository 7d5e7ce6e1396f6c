/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where the kvm_exit reason lives in the vendor vCPU structures, read from
 * the kernel's BTF, so that the BPF side can decode exits without compiling
 * against kvm_intel or kvm_amd (struct iotrace_kvm_layout).
 */
#ifndef IOTRACE_KVM_LAYOUT_H
#define IOTRACE_KVM_LAYOUT_H

#include "iotrace.h"

struct btf;

/*
 * Fill `out` from one BTF (vmlinux, or a module's split on it): the VMX
 * part from struct vcpu_vmx, the SVM part from struct vcpu_svm and struct
 * vmcb; a part whose types are absent stays 0.  Returns 0 when at least one
 * part was found, -ENOENT when none.
 */
int kvm_layout_from_btf(const struct btf *btf, struct iotrace_kvm_layout *out);

/*
 * The layout on this host: vmlinux's BTF, then the kvm_intel and kvm_amd
 * modules' BTF when KVM is built as modules.  0, or -ENOENT when the host
 * has neither vendor's structures (no KVM, or another hypervisor backend).
 */
int kvm_layout_find(const struct btf *vmlinux, struct iotrace_kvm_layout *out);

#endif
