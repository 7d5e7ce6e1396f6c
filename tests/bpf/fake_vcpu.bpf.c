// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A fake vCPU for the KVM handler tests (tests/bpf/test_handlers.c).
 *
 * kvm_exit's handler reads the exit reason with bpf_probe_read_kernel() at
 * offsets from the vCPU pointer, so a synthetic vCPU must live in kernel
 * memory.  The single value of this array is that memory: user space fills
 * it with bpf_map_update_elem(), which copies into the same place every
 * time, and learns its kernel address by test-running fake_vcpu_addr once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define FAKE_VCPU_SIZE 4096

struct fake_vcpu_mem {
	__u8 bytes[FAKE_VCPU_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fake_vcpu_mem);
} fake_mem SEC(".maps");

/* Kernel address of fake_mem's value; 0 until fake_vcpu_addr has run. */
__u64 fake_addr = 0;

SEC("raw_tp")
int fake_vcpu_addr(void *ctx)
{
	__u32 key = 0;
	void *v = bpf_map_lookup_elem(&fake_mem, &key);

	/* A privileged program may store a pointer as a number. */
	if (v)
		fake_addr = (__u64)v;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
