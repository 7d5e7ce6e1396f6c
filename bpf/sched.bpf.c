// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CPU time per workload.
 *
 * At every context switch the slice that just ended is charged to the task
 * switched out.  The handler runs in that task's context (current == prev),
 * so its cgroup id comes from bpf_get_current_cgroup_id() and no field of
 * `prev` or `next` is read: the hot path is two map lookups and a clock read.
 *
 * A task that runs for seconds without being switched out would show up in
 * no interval, so user space runs iotrace_flush on every CPU before reading
 * the maps (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU).  That runs from an
 * IPI on the target CPU: current is whatever task was running there, and the
 * open slice is charged to it and restarted.
 *
 * Both paths run with interrupts disabled on their own CPU, so the per-CPU
 * values they touch need no atomic operations.
 */
#include "vmlinux.h"
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

/* Close the running slice on this CPU, charge it to current, start anew. */
static __always_inline void account_slice(void)
{
	struct iotrace_cpu_state *st;
	struct iotrace_cpu_stats *s;
	__u64 now, pmu_now = 0;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&cpu_state, &zero);
	if (!st)
		return;
	now = bpf_ktime_get_ns();
	if (use_pmu)
		pmu_now = read_pmu();

	/* pid 0 is the idle task: its time is nobody's. */
	if (st->slice_start_ns && (__u32)bpf_get_current_pid_tgid() != 0) {
		s = lookup_or_init(&cpu_stats, bpf_get_current_cgroup_id(), &zero_cpu_stats);
		if (s) {
			s->cpu_ns += now - st->slice_start_ns;
			if (use_pmu && pmu_now > st->pmu_start && st->pmu_start)
				s->cpu_cycles += pmu_now - st->pmu_start;
		}
	}
	st->slice_start_ns = now;
	st->pmu_start = pmu_now;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	account_slice();
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	account_slice();
	return 0;
}

/* Never attached: run by user space on each CPU before every read. */
SEC("raw_tp")
int iotrace_flush(void *ctx)
{
	account_slice();
	return 0;
}
