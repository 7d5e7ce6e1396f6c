// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * KVM: which processes are VMs, and what their exits cost.
 *
 * Every handler here runs in a vCPU thread (the KVM tracepoints fire inside
 * the KVM_RUN ioctl), so the first event of a process enters it in vm_procs:
 * no configuration names the VMs.  From then on sched and block account its
 * threads one by one as well (maps.bpf.h, vm_tgid_of()).
 *
 * Hardware exits come from kvm_exit and kvm_entry, on Intel and AMD hosts:
 * count by reason, host time from an exit to the next entry of that vCPU
 * (handling the exit, in the kernel and, for I/O, in the VMM) and guest
 * time from an entry to the next exit.  The tracepoint passes the vCPU, not
 * the reason, so the reason is read from the vendor's vCPU structure at
 * offsets user space finds in the kernel's BTF (struct iotrace_kvm_layout).
 *
 * Exits that reach the VMM come from kvm_userspace_exit, and the I/O exits
 * among them from kvm_pio and kvm_mmio, bucketed by port range and page.
 * These fire on every KVM host, including nested ones where kvm_exit does
 * not.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

#define KVM_TRACE_MMIO_READ_UNSATISFIED 0 /* include/trace/events/kvm.h */
/* kvm_userspace_exit with an error (a signal): the kernel prints "restart". */
#define USERSPACE_EXIT_RESTART (~0ULL)

/* Set by user space before load; all zero when the layout is unknown. */
const volatile struct iotrace_kvm_layout kvm_layout = {};

static __always_inline void kvm_count(__u32 tgid, __u32 kind, __u64 code, __u64 n, __u64 ns)
{
	struct iotrace_kvm_key key = { .tgid = tgid, .kind = kind, .code = code };
	static const struct iotrace_kvm_count zero;
	struct iotrace_kvm_count *c;

	c = lookup_or_init(&kvm_counts, &key, &zero, IOTRACE_CNT_VM_FULL);
	if (!c)
		return;
	/* Per CPU, and only ever updated from the vCPU thread's own context. */
	c->count += n;
	c->ns += ns;
}

/*
 * current's process as a VM: entered in vm_procs when this is its first
 * KVM event, or when its pid was a VM's before (the stale entry is taken
 * over, and the new start time tells user space it is another VM).
 * Returns the tgid, or 0 when the VM table is full (counted).
 */
static __always_inline __u32 vm_enter(struct task_struct *task, struct task_state *ts)
{
	struct iotrace_vm_proc proc, *old;
	__u32 tgid = vm_tgid_of(task, ts);
	long err;

	if (tgid)
		return tgid;
	tgid = BPF_CORE_READ(task, tgid);
	proc.start_ns = BPF_CORE_READ(task, group_leader, start_time);
	proc.cgroup_id = bpf_get_current_cgroup_id();
	err = bpf_map_update_elem(&vm_procs, &tgid, &proc, BPF_NOEXIST);
	if (err == -EEXIST) {
		old = bpf_map_lookup_elem(&vm_procs, &tgid);
		/* Another vCPU of the same VM may have entered it meanwhile. */
		if (!old || old->start_ns == proc.start_ns)
			return vm_tgid_of(task, ts) ?: tgid;
		old->start_ns = proc.start_ns;
	} else if (err) {
		count_event(IOTRACE_CNT_VM_FULL);
		return 0;
	}
	if (!err)
		__sync_fetch_and_add(&vm_state.nr_vms, 1);
	__sync_fetch_and_add(&vm_state.generation, 1);
	vm_tgid_of(task, ts);
	return tgid;
}

/* current as a vCPU: its state and its counters, or false. */
static __always_inline bool vcpu_current(struct task_state **tsp, struct iotrace_thread_stats **tp,
					 __u32 *tgidp)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_state *ts = task_state_of(task);
	__u32 tgid;

	if (!ts)
		return false;
	tgid = vm_enter(task, ts);
	if (!tgid)
		return false;
	*tp = thread_stats_of(tgid, BPF_CORE_READ(task, pid));
	if (!*tp)
		return false;
	if (!(*tp)->comm[0])
		bpf_get_current_comm((*tp)->comm, sizeof((*tp)->comm));
	*tsp = ts;
	*tgidp = tgid;
	return true;
}

/* The exit reason in the vendor's vCPU structure, as kvm_exit prints it. */
static __always_inline __u64 exit_reason(__u64 vcpu, __u32 isa)
{
	__u64 vmcb = 0, code = 0;
	__u32 reason;

	if (isa == IOTRACE_KVM_VMX && kvm_layout.vmx_reason_off) {
		if (bpf_probe_read_kernel(&reason, sizeof(reason),
					  (void *)(vcpu + kvm_layout.vmx_reason_off)))
			return IOTRACE_KVM_REASON_UNKNOWN;
		return reason;
	}
	if (isa == IOTRACE_KVM_SVM && kvm_layout.svm_vmcb_off && kvm_layout.svm_code_size) {
		if (bpf_probe_read_kernel(&vmcb, sizeof(vmcb),
					  (void *)(vcpu + kvm_layout.svm_vmcb_off)) ||
		    !vmcb)
			return IOTRACE_KVM_REASON_UNKNOWN;
		if (bpf_probe_read_kernel(&code, sizeof(code),
					  (void *)(vmcb + kvm_layout.svm_code_off)))
			return IOTRACE_KVM_REASON_UNKNOWN;
		/* A 32-bit exit_code: the bytes after it are not ours (x86 is little-endian). */
		if (kvm_layout.svm_code_size == 4)
			code &= 0xffffffffULL;
		return code;
	}
	return IOTRACE_KVM_REASON_UNKNOWN;
}

static __always_inline void on_kvm_exit(__u64 vcpu, __u32 isa)
{
	struct iotrace_thread_stats *t;
	struct task_state *ts;
	__u64 now, reason;
	__u32 tgid;

	if (!vcpu_current(&ts, &t, &tgid))
		return;
	now = bpf_ktime_get_ns();
	reason = exit_reason(vcpu, isa);
	if (ts->entry_ns && now > ts->entry_ns)
		t->guest_ns += now - ts->entry_ns;
	ts->entry_ns = 0;
	ts->exit_ns = now;
	ts->kvm_isa = isa;
	ts->kvm_reason = reason;
	t->kvm_exits++;
	kvm_count(tgid, isa, reason, 1, 0);
}

static __always_inline void on_kvm_entry(void)
{
	struct iotrace_thread_stats *t;
	struct task_state *ts;
	__u64 now, ns;
	__u32 tgid;

	if (!vcpu_current(&ts, &t, &tgid))
		return;
	now = bpf_ktime_get_ns();
	/* No exit seen yet (the first entry after attach): nothing to close. */
	if (ts->exit_ns && now > ts->exit_ns) {
		ns = now - ts->exit_ns;
		t->exit_handling_ns += ns;
		kvm_count(tgid, ts->kvm_isa, ts->kvm_reason, 0, ns);
	}
	ts->exit_ns = 0;
	ts->entry_ns = now;
}

static __always_inline void on_userspace_exit(__u32 reason, int err)
{
	struct iotrace_thread_stats *t;
	struct task_state *ts;
	__u32 tgid;

	if (!vcpu_current(&ts, &t, &tgid))
		return;
	t->userspace_exits++;
	kvm_count(tgid, IOTRACE_KVM_USERSPACE, err < 0 ? USERSPACE_EXIT_RESTART : reason, 1, 0);
}

static __always_inline void on_pio(unsigned int port)
{
	struct iotrace_thread_stats *t;
	struct task_state *ts;
	__u32 tgid;

	if (!vcpu_current(&ts, &t, &tgid))
		return;
	t->pio_exits++;
	kvm_count(tgid, IOTRACE_KVM_PIO, port & IOTRACE_KVM_PIO_BUCKET_MASK, 1, 0);
}

/*
 * A read the kernel cannot satisfy fires twice: "unsatisfied" before the
 * exit to the VMM and "read" once the VMM answered.  Each access is counted
 * once, by its read or write event.
 */
static __always_inline void on_mmio(int type, __u64 gpa)
{
	struct iotrace_thread_stats *t;
	struct task_state *ts;
	__u32 tgid;

	if (type == KVM_TRACE_MMIO_READ_UNSATISFIED)
		return;
	if (!vcpu_current(&ts, &t, &tgid))
		return;
	t->mmio_exits++;
	kvm_count(tgid, IOTRACE_KVM_MMIO, gpa & IOTRACE_KVM_MMIO_BUCKET_MASK, 1, 0);
}

/* A VMM exec'd: a VM from its first instruction, KVM or not. */
static __always_inline void on_exec(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	if (iotrace_is_vmm_comm(comm))
		vm_enter(task, task_state_of(task));
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vm_exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	on_exec();
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(vm_exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	on_exec();
	return 0;
}

SEC("tp_btf/kvm_exit")
int BPF_PROG(kvm_exit_btf, struct kvm_vcpu *vcpu, u32 isa)
{
	on_kvm_exit(addr_of(vcpu), isa);
	return 0;
}

SEC("raw_tp/kvm_exit")
int BPF_PROG(kvm_exit_raw, struct kvm_vcpu *vcpu, u32 isa)
{
	on_kvm_exit((__u64)vcpu, isa);
	return 0;
}

SEC("tp_btf/kvm_entry")
int BPF_PROG(kvm_entry_btf, struct kvm_vcpu *vcpu, bool immediate_exit)
{
	on_kvm_entry();
	return 0;
}

SEC("raw_tp/kvm_entry")
int BPF_PROG(kvm_entry_raw, struct kvm_vcpu *vcpu, bool immediate_exit)
{
	on_kvm_entry();
	return 0;
}

SEC("tp_btf/kvm_userspace_exit")
int BPF_PROG(kvm_userspace_exit_btf, __u32 reason, int err)
{
	on_userspace_exit(reason, err);
	return 0;
}

SEC("raw_tp/kvm_userspace_exit")
int BPF_PROG(kvm_userspace_exit_raw, __u32 reason, int err)
{
	on_userspace_exit(reason, err);
	return 0;
}

SEC("tp_btf/kvm_pio")
int BPF_PROG(kvm_pio_btf, unsigned int rw, unsigned int port, unsigned int size, unsigned int count,
	     const void *data)
{
	on_pio(port);
	return 0;
}

SEC("raw_tp/kvm_pio")
int BPF_PROG(kvm_pio_raw, unsigned int rw, unsigned int port, unsigned int size, unsigned int count,
	     const void *data)
{
	on_pio(port);
	return 0;
}

SEC("tp_btf/kvm_mmio")
int BPF_PROG(kvm_mmio_btf, int type, int len, u64 gpa, void *val)
{
	on_mmio(type, gpa);
	return 0;
}

SEC("raw_tp/kvm_mmio")
int BPF_PROG(kvm_mmio_raw, int type, int len, u64 gpa, void *val)
{
	on_mmio(type, gpa);
	return 0;
}
