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

static __always_inline void count_event(enum iotrace_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	/* Per-CPU, but a task-context handler may be preempted by another. */
	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * The entry of `key`, created zeroed if absent.  A failed creation (table
 * full, allocation failure) is counted, and the caller drops the event.
 */
static __always_inline void *lookup_or_init(void *map, __u64 key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, &key);
	long err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, &key, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_event(IOTRACE_CNT_STATS_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(map, &key);
}

#endif
