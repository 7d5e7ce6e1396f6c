/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector: the only reader of the BPF maps.  Each read flushes the
 * CPUs' running slices, sums the per-CPU values and feeds the workload
 * table one interval.  It formats nothing.
 */
#ifndef IOTRACE_COLLECTOR_H
#define IOTRACE_COLLECTOR_H

#include <stdint.h>

#include "cgroupfs.h"
#include "iotrace.h"
#include "loader.h"
#include "netdevs.h"
#include "netns_links.h"
#include "unfinished.h"
#include "vmtable.h"
#include "wltable.h"

struct collector {
	struct loader *l;
	int cpu_fd, blk_fd, blk_dev_fd, net_fd, cnt_fd;
	int procs_fd, thr_fd, kvm_fd, vm_net_fd; /* VMs */
	struct netdevs devs; /* VMs' taps and containers' veths, as entered in net_devs */
	struct netns_links veths; /* finds the host ends of containers' veths */
	uint64_t netns_ino; /* iotrace's own network namespace */
	size_t taps_foreign; /* taps in another netns seen at the last look: not counted */
	long clk_tck; /* /proc time unit */
	void *vals; /* one map value per possible CPU */
	uint64_t counters[IOTRACE_CNT_MAX]; /* cumulative, summed over CPUs */
	uint64_t counters_delta[IOTRACE_CNT_MAX]; /* over the last interval */
	/*
	 * Runs of iotrace's programs the kernel skipped because the same
	 * program was already running on that CPU (bpf_prog_info's
	 * recursion_misses), summed over the programs.
	 */
	uint64_t prog_missed, prog_missed_delta;
	/* Run time and runs of the programs, with BPF statistics on (else 0). */
	uint64_t prog_run_ns, prog_run_ns_delta, prog_runs, prog_runs_delta;
	/*
	 * Removed cgroups (collector_use_cgroups): their entries in the
	 * per-cgroup kernel tables are deleted once read for the last time.
	 */
	int cg_root_fd; /* the cgroup2 mount; -1: nothing is pruned */
	struct cgfs_cache *cgfs; /* id -> path, shared with the session's naming */
	uint64_t reads; /* collector_read() calls so far */
	uint64_t pruned; /* workloads whose kernel entries were deleted */
	uint64_t pruned_entries; /* kernel entries deleted (a workload has 1 to 3 + devices) */
};

int collector_init(struct collector *c, struct loader *l);
void collector_free(struct collector *c);

/*
 * Prune the entries of removed cgroups from the per-cgroup kernel tables
 * (cpu_stats, blk_stats, blk_dev_stats, net_stats), the cgroup2 hierarchy
 * being at `mount` and cache its id -> path cache; without this call
 * nothing is pruned.  A cgroup is pruned once it was found gone at an
 * earlier read and its figures did not change since: each entry is read
 * and deleted in one step, its last figures fed to the table, and the
 * table entry marked gone (wl_table_pruned).  0 or -errno.
 */
int collector_use_cgroups(struct collector *c, const char *mount, struct cgfs_cache *cache);

/*
 * Enter the VMM processes already running (QEMU by name) as VMs, for the
 * BPF side finds new ones only when they exec or fire a KVM event.
 * Returns how many were entered, or -errno.
 */
int collector_find_vms(struct collector *c);

/*
 * Read one interval into t (workloads) and vt (VMs).  VMs and threads that
 * are gone are read one last time, then removed from the BPF maps (and
 * marked gone in vt) so that the maps stay bounded.  0 or -errno.
 */
int collector_read(struct collector *c, struct wl_table *t, struct vm_table *vt);

/*
 * I/Os whose start was seen and whose completion was not: still in flight,
 * or completed unseen with their key never reused.  Costs one lookup per
 * in-flight slot: for the end of a run, not for every interval.
 */
int collector_inflight(struct collector *c, uint64_t *n);

/* The same entries, grouped by owner and device into u (sorted). */
int collector_unfinished(struct collector *c, struct unfinished *u);

/* One attached program's own figures, cumulative as the kernel keeps them. */
struct collector_prog_stat {
	const char *name; /* the program's name in the object */
	uint64_t run_ns, runs; /* with BPF statistics on (else what they were when on) */
	uint64_t recursion_misses;
};

/*
 * The figures of attached program i (0 <= i < c->l->nlinks), read from the
 * kernel now (one bpf_obj_get_info_by_fd).  0 or -errno.
 */
int collector_prog_stat(const struct collector *c, int i, struct collector_prog_stat *st);

#endif
