// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CPU time per workload.
 *
 * The run time charged is the scheduler's own: se.sum_exec_runtime, the
 * figure cgroup cpu.stat and /proc/PID/schedstat add up.  Wall-clock time
 * between switches would also charge a workload for hypervisor steal time
 * and for the switch itself.
 *
 * Each task carries, in task-local storage, how much of its run time has
 * been charged already.  Whenever a task is seen on the CPU, switched out
 * (sched_switch runs in its context: current == prev) or interrupted by
 * the flush, the growth since then is charged to its cgroup.  Nothing
 * depends on having seen the switch-in: a program run the kernel skips only
 * delays a charge to the task's next switch.  (This kernel was seen to fire
 * a tracepoint without running the attached program and without counting a
 * recursion miss; with per-CPU "switched-in" state, one such miss cost a
 * CPU-bound task a whole interval.)
 *
 * A task that runs for seconds without being switched out would show up in
 * no interval, so user space runs iotrace_flush on every CPU before reading
 * the maps (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU): it charges the
 * task running there.  The scheduler updates a running task's sum at every
 * tick, so a read lags by at most one tick, as cpu.stat does.
 *
 * The hardware cycle counter, when there is one, is read per CPU at every
 * switch and charged to the task switched out for the slice that CPU saw.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

static const struct iotrace_cpu_stats zero_cpu_stats;

/* The run time of current not charged yet; *tsp gets its state. */
static __always_inline __u64 uncharged_runtime(struct task_struct *task, struct task_state **tsp)
{
	struct task_state *ts = *tsp = task_state_of(task);
	__u64 sum = BPF_CORE_READ(task, se.sum_exec_runtime), first;

	if (!ts)
		return 0;
	first = ts->charged;
	/*
	 * The baseline may be ahead of the sum: a net softirq run moves it on
	 * (net.bpf.c) before the scheduler has added that run to the sum.
	 */
	if (sum <= first)
		return 0;
	ts->charged = sum;
	return sum - first;
}

/*
 * A VM thread's migrations and run-queue wait since they were last
 * charged, from the scheduler's own per-task counts: se.nr_migrations
 * (set_task_cpu(), where sched_migrate_task fires) and sched_info's
 * run_delay and pcount (from enqueue -- a wakeup, or a preemption that
 * left the task runnable -- to switch-in; the figure KVM reports to the
 * guest as steal time).  Read in the task's own context, so no tracepoint
 * of other tasks' wakeups or migrations is needed, and a program run the
 * kernel skipped only delays a charge.  The wait that ended at this slice's
 * switch-in is in run_delay already: sched_info is updated before the
 * switch, the tracepoint fires before the next one.
 */
static __always_inline void charge_sched_info(struct task_struct *task, struct task_state *ts,
					      struct iotrace_thread_stats *t)
{
	__u64 v;

	if (!ts)
		return;
	/* Plain loads (CO-RE relocated): task is current, a trusted BTF pointer. */
	v = task->se.nr_migrations;
	if (v > ts->migrations)
		t->migrations += v - ts->migrations;
	ts->migrations = v;
	if (!bpf_core_field_exists(task->sched_info))
		return;
	v = task->sched_info.run_delay;
	if (v > ts->run_delay)
		t->runq_wait_ns += v - ts->run_delay;
	ts->run_delay = v;
	v = task->sched_info.pcount;
	if (v > ts->pcount)
		t->runq_waits += v - ts->pcount;
	ts->pcount = v;
}

/* Charge current, which is being switched out (or interrupted). */
static __always_inline void charge_current(bool switching)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct iotrace_thread_stats *t;
	struct iotrace_cpu_state *st;
	struct iotrace_cpu_stats *s;
	struct task_state *ts = NULL;
	__u64 ns, pmu_now = 0, cycles = 0, cgroup_id;
	__u32 zero = 0, vm;

	/* pid 0 is the idle task: its time is nobody's. */
	if (!task->pid)
		ns = 0;
	else
		ns = uncharged_runtime(task, &ts);

	if (use_pmu) {
		st = bpf_map_lookup_elem(&cpu_state, &zero);
		pmu_now = read_pmu();
		if (st) {
			if (st->task == (__u64)task && st->pmu_start && pmu_now > st->pmu_start)
				cycles = pmu_now - st->pmu_start;
			/* A flush restarts current's slice; a switch starts next's. */
			st->task = switching ? 0 : (__u64)task;
			st->pmu_start = pmu_now;
		}
	}
	if (!task->pid || (!ns && !cycles))
		return;
	cgroup_id = bpf_get_current_cgroup_id();
	s = lookup_or_init(&cpu_stats, &cgroup_id, &zero_cpu_stats, IOTRACE_CNT_STATS_FULL);
	if (s) {
		/* Only this CPU's value, and interrupts are off on both paths. */
		s->cpu_ns += ns;
		s->cpu_cycles += cycles;
	}
	vm = vm_tgid_of(task, ts);
	if (vm) {
		t = thread_stats_of(vm, task->pid);
		if (t) {
			t->cpu_ns += ns;
			t->cpu_cycles += cycles;
			charge_sched_info(task, ts, t);
			if (!t->comm[0])
				bpf_get_current_comm(t->comm, sizeof(t->comm));
		}
	}
}

/* The PMU slice of `next` starts at this switch. */
static __always_inline void start_pmu_slice(struct task_struct *next)
{
	struct iotrace_cpu_state *st;
	__u32 zero = 0;

	if (!use_pmu)
		return;
	st = bpf_map_lookup_elem(&cpu_state, &zero);
	if (st)
		st->task = (__u64)next;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	charge_current(true);
	start_pmu_slice(next);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	charge_current(true);
	start_pmu_slice(next);
	return 0;
}

/* Never attached: run by user space on each CPU before every read. */
SEC("raw_tp")
int iotrace_flush(void *ctx)
{
	charge_current(false);
	return 0;
}
