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
	IOTRACE_CNT_MAX,
};

/*
 * An I/O in flight, keyed by its bio (for a request: its first bio, rq->bio)
 * and, after a partial completion, by its request.
 */
struct iotrace_io_info {
	__u64 cgroup_id;
	__u64 start_ns; /* issue time; queue time until a request is issued */
	__u64 sector; /* where the I/O starts: tells a reused key from ours */
	__u32 op; /* REQ_OP_READ or REQ_OP_WRITE */
	__u32 bytes; /* size when queued (of the request, when seen first) */
};

/* A slot of the in-flight array: the entry of the I/O whose key it holds. */
struct iotrace_io_slot {
	__u64 key; /* 0: free */
	struct iotrace_io_info io;
};

/* Per-CPU state of the cycle counter: whose slice it is counting. */
struct iotrace_cpu_state {
	__u64 task; /* struct task_struct * switched in; 0: unknown */
	__u64 pmu_start; /* counter value at switch-in */
};

#endif /* IOTRACE_H */
