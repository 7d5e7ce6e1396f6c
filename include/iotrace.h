/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Layout shared by the BPF programs and user space.
 *
 * Everything here is plain __u64 so that the same bytes mean the same thing
 * on both sides and no padding rules differ between clang -target bpf and
 * the host compiler.
 */
#ifndef IOTRACE_H
#define IOTRACE_H

#ifdef __bpf__
/* vmlinux.h already provides the __u* types. */
#else
#include <linux/types.h>
#endif

/*
 * Workload key of I/O whose owner could not be decided (a request issued
 * before iotrace attached, a bio evicted from the in-flight table).  No real
 * cgroup has id 0, so these I/Os are reported, not dropped.
 */
#define IOTRACE_UNATTRIBUTED_ID 0ULL

/* Latency histogram: slot i counts latencies in [2^i, 2^(i+1)) ns. */
#define IOTRACE_LAT_SLOTS 40

/* floor(log2(v)) for v > 0, 0 for v == 0; branch-free for the verifier. */
static inline __u32 iotrace_log2(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFFFF) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (__u32)(v >> 1);
	return r;
}

/* Bounds of the kernel-side tables. */
#define IOTRACE_MAX_WORKLOADS 16384
#define IOTRACE_MAX_INFLIGHT 65536

/*
 * Per-workload counters, split in two per-CPU maps keyed by cgroup id: the
 * CPU part is touched at every context switch and stays small; the block part
 * carries the histogram and is touched once per I/O.  User space sums CPUs.
 */
struct iotrace_cpu_stats {
	__u64 cpu_ns; /* on-CPU time of the workload's tasks */
	__u64 cpu_cycles; /* hardware counter delta, only when a PMU is used */
};

struct iotrace_blk_stats {
	__u64 rd_ops;
	__u64 wr_ops;
	__u64 rd_bytes;
	__u64 wr_bytes;
	__u64 lat_hist[IOTRACE_LAT_SLOTS]; /* start -> complete, log2(ns) */
};

/*
 * Block I/O per (workload, device): the same completions as
 * iotrace_blk_stats, split by the device each completed on, so that a
 * container's I/O can be told apart by backing device.  No histogram: the
 * latency stays per workload.
 */
#define IOTRACE_MAX_BLK_DEVS 16384

/* The kernel's dev_t (include/linux/kdev_t.h): MINORBITS is 20. */
#define IOTRACE_DEV_MINOR_BITS 20
#define IOTRACE_DEV_MAJOR(dev) ((__u32)(dev) >> IOTRACE_DEV_MINOR_BITS)
#define IOTRACE_DEV_MINOR(dev) ((__u32)(dev) & ((1U << IOTRACE_DEV_MINOR_BITS) - 1))

struct iotrace_blk_dev_key {
	__u64 cgroup_id;
	__u32 dev; /* kernel dev_t: major << 20 | minor; 0: unknown */
	__u32 pad;
};

struct iotrace_blk_dev_stats {
	__u64 rd_ops;
	__u64 wr_ops;
	__u64 rd_bytes;
	__u64 wr_bytes;
};

/*
 * Network traffic of the workload's sockets (bpf/net.bpf.c): wire packets
 * and payload bytes, and its share of NET_RX/NET_TX softirq time.
 */
struct iotrace_net_stats {
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 softirq_ns;
};

/*
 * Network devices owned by a workload, entered by user space, keyed by the
 * device's network namespace (inode number) and ifindex:
 *
 * - a VM's tap device, written and read by its QEMU (or vhost) threads on
 *   behalf of the guest, which has no socket on the host.  Packets the host
 *   receives from the device are the owner's tx, packets it transmits to
 *   the device the owner's rx.
 * - the host end of a container's veth.  The container's sockets count its
 *   packets already; the device only names the container as an owner of
 *   the softirq run that handles them, so that forwarding them (bridge,
 *   NAT, routing), which no local socket sees, is charged to it.
 */
#define IOTRACE_MAX_NET_DEVS 4096

struct iotrace_dev_key {
	__u64 netns; /* inode number of the device's network namespace */
	__u32 ifindex;
	__u32 pad;
};

enum iotrace_dev_kind {
	IOTRACE_DEV_VM = 1, /* owner: a VM process, by tgid (vm_net) */
	IOTRACE_DEV_CGROUP = 2, /* owner: a cgroup, by id; softirq share only */
};

struct iotrace_dev_owner {
	__u64 id; /* the VM's tgid, or the cgroup id */
	__u32 kind; /* enum iotrace_dev_kind */
	__u32 pad;
};

/*
 * How many devices are entered: the device programs return at once while
 * there are none.  In .bss; user space updates it atomically.
 */
struct iotrace_net_state {
	__u64 nr_devs;
};

/* Softirq owners that are VMs (by tgid) rather than cgroups. */
#define IOTRACE_OWNER_VM (1ULL << 63)

/*
 * Events that were not accounted normally.  Each is counted per CPU in the
 * `counters` array so that user space can report it; none is silent.
 */
enum iotrace_counter {
	IOTRACE_CNT_STATS_FULL, /* workload table full: event lost */
	IOTRACE_CNT_INFLIGHT_FULL, /* in-flight table update failed */
	IOTRACE_CNT_RQ_NO_OWNER, /* request inserted by a kthread, bio unseen */
	IOTRACE_CNT_UNSEEN_COMPLETE, /* completion whose issue was not seen */
	IOTRACE_CNT_PMU_READ_FAIL, /* cycle counter read failed */
	IOTRACE_CNT_RECOVERED, /* completion missed, counted when its key came back */
	IOTRACE_CNT_VM_FULL, /* VM, VM thread or KVM bucket table full */
	IOTRACE_CNT_NET_OWNERS_FULL, /* softirq run served too many owners: share unattributed */
	IOTRACE_CNT_BLK_DEV_FULL, /* (workload, device) table full: device split lost */
	IOTRACE_CNT_MAX,
};

/*
 * An I/O in flight, keyed by its bio (for a request: its first bio, rq->bio)
 * and, after a partial completion, by its request.
 */
struct iotrace_io_info {
	__u64 cgroup_id;
	__u64 start_ns; /* when the bio was queued */
	__u64 sector; /* where the I/O starts: tells a reused key from ours */
	__u32 op; /* REQ_OP_READ or REQ_OP_WRITE */
	__u32 bytes; /* size when queued (of the request, when seen first) */
	__u32 vm_tgid; /* submitted by a thread of this VM process; 0: none */
	__u32 vm_tid; /* that thread */
	__u32 dev; /* dev_t queued to: for completions that cannot name theirs (rq_dev()) */
	__u32 pad;
};

/* A slot of the in-flight array: the entry of the I/O whose key it holds. */
struct iotrace_io_slot {
	__u64 key; /* 0: free */
	struct iotrace_io_info io;
};

/*
 * VMs.  A task that fires a KVM tracepoint is a vCPU thread and its process
 * a VM: the BPF side enters the process in `vm_procs` itself.  From then on
 * every thread of that process is accounted per (tgid, tid) as well as per
 * cgroup, so that user space can split a VM's cost by thread role.
 */
#define IOTRACE_MAX_VMS 1024
#define IOTRACE_MAX_VM_THREADS 16384
#define IOTRACE_MAX_KVM_BUCKETS 16384

/*
 * Processes that are VMs before any KVM event says so: QEMU under TCG
 * never enters KVM, and a KVM VM may sit idle.  Their main thread's name
 * (comm, at most 15 bytes) after exec: "qemu-system-<arch>", or RHEL's
 * "qemu-kvm".  Same test in BPF (at exec) and user space (at start).
 */
static inline int iotrace_is_vmm_comm(const char *comm)
{
	static const char qs[] = "qemu-system-", qk[] = "qemu-kvm";
	int a = 1, b = 1;

	for (int i = 0; i < (int)sizeof(qs) - 1; i++)
		a &= comm[i] == qs[i];
	for (int i = 0; i < (int)sizeof(qk); i++)
		b &= comm[i] == qk[i];
	return a || b;
}

/*
 * A VM process, keyed by tgid.  The group leader's start time (ns since
 * boot, CLOCK_MONOTONIC) tells a reused pid from the VM that had it.
 */
struct iotrace_vm_proc {
	__u64 start_ns; /* 0: entered by user space, claimed by BPF at first sight */
	__u64 cgroup_id; /* of the thread that made it known: the VM's, if it exits unseen */
};

/*
 * How many VMs are known, and a generation bumped whenever one is added or
 * removed (by BPF on discovery, by user space when a VM is gone): tasks
 * cache "am I a VM thread" and look again only when the generation moved.
 * With no VM on the host, the accounting paths pay one load.
 */
struct iotrace_vm_state {
	__u64 nr_vms;
	__u64 generation;
};

struct iotrace_thread_key {
	__u32 tgid;
	__u32 tid;
};

struct iotrace_thread_stats {
	__u64 cpu_ns; /* on-CPU time, as for workloads */
	__u64 cpu_cycles; /* hardware counter, only when a PMU is used */
	__u64 rd_ops; /* block I/O the thread submitted */
	__u64 wr_ops;
	__u64 rd_bytes;
	__u64 wr_bytes;
	__u64 kvm_exits; /* kvm_exit: hardware exits */
	__u64 exit_handling_ns; /* kvm_exit -> next kvm_entry */
	__u64 guest_ns; /* kvm_entry -> kvm_exit */
	__u64 userspace_exits; /* kvm_userspace_exit: exits to the VMM */
	__u64 pio_exits; /* kvm_pio */
	__u64 mmio_exits; /* kvm_mmio reads and writes */
	/*
	 * Scheduling, from the kernel's own per-task counts (read at the
	 * thread's switch-out, bpf/sched.bpf.c): host CPU changes
	 * (se.nr_migrations), time runnable but waiting for a CPU
	 * (sched_info.run_delay: from wakeup, or from being preempted, to
	 * switch-in) and the switch-ins that ended such waits
	 * (sched_info.pcount).  The last two stay 0 on a kernel without
	 * CONFIG_SCHED_INFO (loader.sched_info false).
	 */
	__u64 migrations;
	__u64 runq_wait_ns;
	__u64 runq_waits;
	/*
	 * The thread's name, taken in its own context the first time (on this
	 * CPU): a thread that lives less than an interval is gone before user
	 * space could read /proc, and its role comes from here.
	 */
	char comm[16];
};

/*
 * Per-VM counts by kind and code: hardware exits by reason (kind = the
 * kvm_exit `isa`, 1 VMX or 2 SVM), exits to the VMM by KVM_EXIT_* reason,
 * port I/O by 8-port range and MMIO by 4 KiB page.
 */
enum iotrace_kvm_kind {
	IOTRACE_KVM_VMX = 1,
	IOTRACE_KVM_SVM = 2,
	IOTRACE_KVM_USERSPACE = 16,
	IOTRACE_KVM_PIO = 17,
	IOTRACE_KVM_MMIO = 18,
};

#define IOTRACE_KVM_PIO_BUCKET_MASK (~0x7ULL)
#define IOTRACE_KVM_MMIO_BUCKET_MASK (~0xfffULL)
/* Exit reason when the vCPU's layout is unknown (no BTF for it). */
#define IOTRACE_KVM_REASON_UNKNOWN (~0ULL)

struct iotrace_kvm_key {
	__u32 tgid;
	__u32 kind; /* enum iotrace_kvm_kind */
	__u64 code; /* reason, port bucket or page */
};

struct iotrace_kvm_count {
	__u64 count;
	__u64 ns; /* hardware exits: handling time, exit -> next entry */
};

/*
 * Where the kvm_exit reason lives, found by user space in the kernel's BTF
 * (vmlinux or the kvm_intel / kvm_amd module) before load; 0: not found,
 * and exits are counted under IOTRACE_KVM_REASON_UNKNOWN.  Offsets are from
 * the struct kvm_vcpu pointer the tracepoint passes.
 */
struct iotrace_kvm_layout {
	__u32 vmx_reason_off; /* u32 exit_reason.full in struct vcpu_vmx */
	__u32 svm_vmcb_off; /* struct vmcb * in struct vcpu_svm */
	__u32 svm_code_off; /* control.exit_code in struct vmcb */
	__u32 svm_code_size; /* 4 or 8 */
};

/* Per-CPU state of the cycle counter: whose slice it is counting. */
struct iotrace_cpu_state {
	__u64 task; /* struct task_struct * switched in; 0: unknown */
	__u64 pmu_start; /* counter value at switch-in */
};

#endif /* IOTRACE_H */
