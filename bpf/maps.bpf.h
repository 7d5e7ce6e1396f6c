/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maps shared by the subsystem programs.  maps.bpf.c defines them (with
 * IOTRACE_DEFINE_MAPS); every other object declares them extern, and
 * `bpftool gen object` resolves the externs when it links the objects.
 */
#ifndef IOTRACE_MAPS_BPF_H
#define IOTRACE_MAPS_BPF_H

#include "iotrace.h"

#ifndef EEXIST
#define EEXIST 17 /* vmlinux.h has no errno values */
#endif

#ifdef IOTRACE_DEFINE_MAPS
#define IOTRACE_MAP
#else
#define IOTRACE_MAP extern
#endif

/*
 * Plain (not LRU) hashes: an entry is only removed by user space once the
 * cgroup is gone and its last figures are read, so a full table shows up in
 * IOTRACE_CNT_STATS_FULL rather than as silently evicted counts.  Not
 * preallocated: a per-CPU value times every possible CPU times the capacity
 * would pin tens of MiB on large hosts for tables that are mostly empty.
 */
IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IOTRACE_MAX_WORKLOADS);
	__type(key, __u64);
	__type(value, struct iotrace_cpu_stats);
} cpu_stats SEC(".maps");

IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IOTRACE_MAX_WORKLOADS);
	__type(key, __u64);
	__type(value, struct iotrace_blk_stats);
} blk_stats SEC(".maps");

IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOTRACE_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Per-task state, in task-local storage: one lookup finds all of it, and it
 * goes away with the task.
 */
struct task_state {
	__u64 charged; /* se.sum_exec_runtime already charged (sched) */
	__u64 vm_generation; /* vm_state.generation when vm_tgid was decided */
	__u32 vm_tgid; /* the VM process this task is a thread of; 0: none */
	__u32 kvm_isa; /* of the last kvm_exit */
	__u64 kvm_reason; /* of the last kvm_exit */
	__u64 exit_ns; /* last kvm_exit not yet followed by kvm_entry; 0: none */
	__u64 entry_ns; /* last kvm_entry not yet followed by kvm_exit; 0: none */
	/* The task's se.nr_migrations, run_delay and pcount already charged (sched, VM threads). */
	__u64 migrations;
	__u64 run_delay;
	__u64 pcount;
};

/* CLOCK_MONOTONIC shortly before attach; set by user space before load. */
#ifdef IOTRACE_DEFINE_MAPS
const volatile __u64 attach_ns = 0;
#else
extern const volatile __u64 attach_ns;
#endif

IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} task_states SEC(".maps");

/* See struct iotrace_vm_state.  In .bss: user space updates it atomically. */
#ifdef IOTRACE_DEFINE_MAPS
struct iotrace_vm_state vm_state = {};
#else
extern struct iotrace_vm_state vm_state;
#endif

IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOTRACE_MAX_VMS);
	__type(key, __u32); /* tgid */
	__type(value, struct iotrace_vm_proc);
} vm_procs SEC(".maps");

/* Removed by user space once a thread is gone and its last figures read. */
IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IOTRACE_MAX_VM_THREADS);
	__type(key, struct iotrace_thread_key);
	__type(value, struct iotrace_thread_stats);
} thread_stats SEC(".maps");

IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IOTRACE_MAX_KVM_BUCKETS);
	__type(key, struct iotrace_kvm_key);
	__type(value, struct iotrace_kvm_count);
} kvm_counts SEC(".maps");

/* Set by user space before load: a cycle counter per CPU is in `pmu`. */
#ifdef IOTRACE_DEFINE_MAPS
const volatile bool use_pmu = false;
#else
extern const volatile bool use_pmu;
#endif

IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iotrace_cpu_state);
} cpu_state SEC(".maps");

IOTRACE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pmu SEC(".maps");

/*
 * A kernel address as a plain number, to hash it, offset it and compare it
 * with keys in maps.  In tp_btf programs the verifier tracks BTF pointers
 * and refuses arithmetic on them and partial reads of them; copying the
 * pointer out of its stack slot with the probe helper yields an ordinary
 * scalar.
 */
static __always_inline __u64 addr_of(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

static __always_inline void count_event(enum iotrace_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	/* Per-CPU, but a task-context handler may be preempted by another. */
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline __u64 read_pmu(void)
{
	struct bpf_perf_event_value v;

	if (bpf_perf_event_read_value(&pmu, BPF_F_CURRENT_CPU, &v, sizeof(v))) {
		count_event(IOTRACE_CNT_PMU_READ_FAIL);
		return 0;
	}
	return v.counter;
}

/*
 * The entry of *key, created zeroed if absent.  A failed creation (table
 * full, allocation failure) is counted in `full`, and the caller drops the
 * event.
 */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero,
					    enum iotrace_counter full)
{
	void *v = bpf_map_lookup_elem(map, key);
	long err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_event(full);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

static const struct iotrace_thread_stats zero_thread_stats;

#define SCHED_NORMAL_ 0
#define SCHED_BATCH_ 3
#define SCHED_IDLE_ 5

/* Whether the task is scheduled by the fair class (CFS/EEVDF). */
static __always_inline bool task_is_fair(struct task_struct *task)
{
	unsigned int policy = BPF_CORE_READ(task, policy);

	return policy == SCHED_NORMAL_ || policy == SCHED_BATCH_ || policy == SCHED_IDLE_;
}

/*
 * The state of `task`, created if absent (NULL only when that fails, which
 * is counted).  A task seen for the first time is owed the part of its
 * current slice since it began (se.prev_sum_exec_runtime; 0 for a task's
 * first slice), but never more than the time since iotrace attached or
 * since the task was born: that is where its charged run time starts.
 */
static __always_inline struct task_state *task_state_of(struct task_struct *task)
{
	struct task_state *ts = bpf_task_storage_get(&task_states, task, 0, 0);
	__u64 sum, first, since, now, limit;

	if (ts)
		return ts;
	ts = bpf_task_storage_get(&task_states, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		count_event(IOTRACE_CNT_STATS_FULL);
		return NULL;
	}
	sum = BPF_CORE_READ(task, se.sum_exec_runtime);
	first = BPF_CORE_READ(task, se.prev_sum_exec_runtime);
	/*
	 * Only the fair class sets prev_sum_exec_runtime when it puts a task
	 * on the CPU.  For an RT or deadline task it is stale (0 for a kthread
	 * that was always FIFO, like migration/N), and sum - first would be
	 * its whole life: such a task is owed nothing of its first slice.
	 */
	if (!task_is_fair(task))
		first = sum;
	now = bpf_ktime_get_ns();
	since = BPF_CORE_READ(task, start_time);
	if (since < attach_ns)
		since = attach_ns;
	limit = now > since ? now - since : 0;
	if (first > sum)
		first = sum;
	ts->charged = sum - first < limit ? first : sum - limit;
	/*
	 * Migrations and run-queue wait count from here, or from the task's
	 * birth if it was born since iotrace attached.
	 */
	if (BPF_CORE_READ(task, start_time) < attach_ns) {
		ts->migrations = BPF_CORE_READ(task, se.nr_migrations);
		if (bpf_core_field_exists(task->sched_info)) {
			ts->run_delay = BPF_CORE_READ(task, sched_info.run_delay);
			ts->pcount = BPF_CORE_READ(task, sched_info.pcount);
		}
	}
	return ts;
}

/*
 * The VM process `task` is a thread of, or 0.  Decided once per task and
 * generation of the VM set; with no VM known it costs one array load.
 */
static __always_inline __u32 vm_tgid_of(struct task_struct *task, struct task_state *ts)
{
	struct iotrace_vm_proc *vp;
	__u32 tgid;
	__u64 gen;

	if (!vm_state.nr_vms)
		return 0;
	gen = vm_state.generation;
	if (ts && ts->vm_generation == gen)
		return ts->vm_tgid;
	tgid = BPF_CORE_READ(task, tgid);
	vp = bpf_map_lookup_elem(&vm_procs, &tgid);
	/*
	 * User space enters the VMs it finds running at start without their
	 * start time, which only the kernel has in these units: the first
	 * thread seen fills it in.  After that, a reused pid is another
	 * process, not that VM.
	 */
	if (vp && !vp->start_ns)
		__sync_val_compare_and_swap(&vp->start_ns, 0,
					    BPF_CORE_READ(task, group_leader, start_time));
	if (vp && vp->start_ns != BPF_CORE_READ(task, group_leader, start_time))
		vp = NULL;
	if (!vp)
		tgid = 0;
	/* A task without state yet (not switched out since attach) looks again next time. */
	if (ts) {
		ts->vm_tgid = tgid;
		ts->vm_generation = gen;
	}
	return tgid;
}

/* The VM current is a thread of, or 0; never creates task state. */
static __always_inline __u32 current_vm_tgid(void)
{
	struct task_struct *task;

	if (!vm_state.nr_vms)
		return 0;
	task = bpf_get_current_task_btf();
	return vm_tgid_of(task, bpf_task_storage_get(&task_states, task, 0, 0));
}

/* The per-thread counters of a VM thread, created if absent. */
static __always_inline struct iotrace_thread_stats *thread_stats_of(__u32 tgid, __u32 tid)
{
	struct iotrace_thread_key key = { .tgid = tgid, .tid = tid };

	return lookup_or_init(&thread_stats, &key, &zero_thread_stats, IOTRACE_CNT_VM_FULL);
}

#endif
