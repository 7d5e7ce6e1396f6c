// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CPU time per workload.
 *
 * At every context switch, the run time of the task switched out is charged
 * to its cgroup.  The handler runs in that task's context (current == prev),
 * so the cgroup comes from bpf_get_current_cgroup_id().
 *
 * Run time is the scheduler's own: the growth of se.sum_exec_runtime between
 * switch-in and switch-out, the figure cgroup cpu.stat and /proc/PID/schedstat
 * add up.  Wall-clock time between switches would also charge the workload
 * for hypervisor steal time and for the switch itself, which on a host doing
 * hundreds of thousands of short slices a second is not noise.  The scheduler
 * has brought prev's sum up to date (update_curr) before this tracepoint.
 *
 * A task that runs for seconds without being switched out would show up in
 * no interval, so user space runs iotrace_flush on every CPU before reading
 * the maps (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU).  That runs from an
 * IPI on the target CPU, where current is the interrupted task: its run time
 * so far is charged and its slice restarted.  The scheduler updates a running
 * task's sum at every tick, so a read lags by at most one tick, as cpu.stat.
 *
 * Both paths run with interrupts disabled on their own CPU, so the per-CPU
 * values they touch need no atomic operations.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

/* Set by user space before load when a cycle counter is in `pmu`. */
const volatile bool use_pmu = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iotrace_cpu_state);
} cpu_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pmu SEC(".maps");

static const struct iotrace_cpu_stats zero_cpu_stats;

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
 * Charge the run time current (prev) had since it was switched in on this
 * CPU, then start the slice of `next`.  prev_runtime and next_runtime are
 * the tasks' se.sum_exec_runtime.
 */
static __always_inline void account_switch(__u64 prev, __u64 prev_runtime, __u64 next,
					   __u64 next_runtime)
{
	struct iotrace_cpu_state *st;
	struct iotrace_cpu_stats *s;
	__u64 pmu_now = 0;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&cpu_state, &zero);
	if (!st)
		return;
	if (use_pmu)
		pmu_now = read_pmu();

	/*
	 * Charge only a slice whose start this CPU saw (not the first after
	 * attach), and never the idle task (pid 0): its time is nobody's.
	 */
	if (st->task == prev && prev_runtime > st->runtime_start &&
	    (__u32)bpf_get_current_pid_tgid() != 0) {
		s = lookup_or_init(&cpu_stats, bpf_get_current_cgroup_id(), &zero_cpu_stats);
		if (s) {
			s->cpu_ns += prev_runtime - st->runtime_start;
			if (use_pmu && st->pmu_start && pmu_now > st->pmu_start)
				s->cpu_cycles += pmu_now - st->pmu_start;
		}
	}
	st->task = next;
	st->runtime_start = next_runtime;
	st->pmu_start = pmu_now;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	account_switch((__u64)prev, prev->se.sum_exec_runtime, (__u64)next,
		       next->se.sum_exec_runtime);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	account_switch((__u64)prev, BPF_CORE_READ(prev, se.sum_exec_runtime), (__u64)next,
		       BPF_CORE_READ(next, se.sum_exec_runtime));
	return 0;
}

/* Never attached: run by user space on each CPU before every read. */
SEC("raw_tp")
int iotrace_flush(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 runtime = BPF_CORE_READ(task, se.sum_exec_runtime);

	account_switch((__u64)task, runtime, (__u64)task, runtime);
	return 0;
}
