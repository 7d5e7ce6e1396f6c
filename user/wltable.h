/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The workload table: per cgroup id, the kernel's cumulative counters as
 * last read, the delta of the current interval and the total of the run.
 * It knows nothing of BPF (the collector feeds it) nor of text (outputs
 * read it), so it is unit-tested directly.
 */
#ifndef IOTRACE_WLTABLE_H
#define IOTRACE_WLTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "iotrace.h"

struct wl_counters {
	uint64_t cpu_ns;
	uint64_t cpu_cycles;
	uint64_t rd_ops, wr_ops, rd_bytes, wr_bytes;
	uint64_t lat_hist[IOTRACE_LAT_SLOTS];
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, softirq_ns;
};

/*
 * delta = cur - last.  Any field that went backwards means the kernel entry
 * was removed and recreated since `last`: then all of cur is new.  Never
 * negative, never doubled.
 */
void wl_counters_delta(const struct wl_counters *cur, const struct wl_counters *last,
		       struct wl_counters *delta);
void wl_counters_add(struct wl_counters *acc, const struct wl_counters *d);
bool wl_counters_zero(const struct wl_counters *c);
uint64_t wl_counters_ops(const struct wl_counters *c);
uint64_t wl_counters_packets(const struct wl_counters *c);

/*
 * Block I/O of a workload on one device (the kernel's blk_dev_stats).  A
 * split of the block part of wl_counters by the device each I/O completed
 * on; no latency.
 */
struct wl_dev_counters {
	uint64_t rd_ops, wr_ops, rd_bytes, wr_bytes;
};

/* Most devices kept per workload; more are counted in devs_untracked. */
#define WL_MAX_DEVS 16

struct wl_dev {
	uint32_t major, minor;
	struct wl_dev_counters last, delta, total; /* as for wl_entry */
};

struct wl_entry {
	uint64_t id;
	bool used;
	bool active; /* non-zero delta in the current interval */
	bool ever_active; /* non-zero delta in some interval of the run */
	bool named; /* identity resolved */
	bool path_known;
	struct wl_counters last, delta, total;
	struct wl_class cls;
	char path[512];
	/*
	 * Devices in the order first seen, never removed: WL_MAX_DEVS, allocated
	 * at the first one (most entries never do block I/O, and the table has
	 * twice the workload limit of slots).
	 */
	struct wl_dev *devs;
	size_t ndevs;
	uint64_t devs_untracked; /* feeds refused: list full or no memory */
	/*
	 * The kernel tables and the cgroup's life (the collector's bookkeeping,
	 * docs/design.md "Removed cgroups"): in_kernel is set by every feed and
	 * cleared by wl_table_pruned(); gone is set there and cleared by a later
	 * feed (the kernel entry was re-created).
	 */
	bool in_kernel; /* fed from a kernel table since the last prune */
	bool gone; /* cgroup removed, its kernel entries deleted (pruned) */
	uint64_t gone_seq; /* order of the last prune, for eviction */
	uint64_t absent_read; /* collector read that first found the cgroup gone; 0: none */
	uint64_t next_check; /* collector read of the next existence check */
	uint64_t walk_mark; /* cgroup tree walks done before its first read, + 1 */
};

struct wl_table {
	struct wl_entry *slots;
	size_t cap; /* power of two, twice the workload limit */
	size_t limit; /* most workloads tracked */
	size_t n;
	size_t overflow; /* ids refused because the table was at its limit */
	uint64_t devs_untracked; /* device feeds refused, over all entries */
	uint64_t gone_seq; /* prunes so far */
	uint64_t evicted; /* gone workloads dropped to make room (wl_table_evict_gone) */
};

int wl_table_init(struct wl_table *t, size_t limit);
void wl_table_free(struct wl_table *t);

/* The entry of id, created if there is room; NULL (and overflow++) if not. */
struct wl_entry *wl_table_get(struct wl_table *t, uint64_t id);
struct wl_entry *wl_table_find(struct wl_table *t, uint64_t id);

/* Start an interval: clear every delta and the active marks. */
void wl_table_begin(struct wl_table *t);

/*
 * Record id's cumulative kernel counters for this read: computes the delta
 * against the last read and adds it to the run total.  The cpu, block and
 * network parts come from different maps, so each is fed separately.
 */
int wl_table_feed_cpu(struct wl_table *t, uint64_t id, uint64_t cpu_ns, uint64_t cpu_cycles);
int wl_table_feed_blk(struct wl_table *t, uint64_t id, const struct iotrace_blk_stats *b);
int wl_table_feed_net(struct wl_table *t, uint64_t id, const struct iotrace_net_stats *n);

/*
 * Record id's cumulative counters on device major:minor, with the same
 * delta and reset rules.  -ENOSPC when the table has no room for id, or
 * id's device list is full (-ENOMEM: cannot allocate it): then counted in devs_untracked (of the entry
 * and of the table) at each refusal, so one device left out counts once per
 * interval.
 */
int wl_table_feed_blk_dev(struct wl_table *t, uint64_t id, uint32_t major, uint32_t minor,
			  const struct iotrace_blk_dev_stats *b);

/* id's entry for device major:minor, or NULL. */
const struct wl_dev *wl_entry_dev(const struct wl_entry *e, uint32_t major, uint32_t minor);

/* Close the interval: mark entries whose delta is non-zero active. */
void wl_table_end(struct wl_table *t);

/*
 * e's kernel entries were deleted after their last figures were fed: its
 * last readings become zero (a kernel entry re-created later is all new,
 * whatever its values), and it is gone (evictable) until fed again.
 */
void wl_table_pruned(struct wl_table *t, struct wl_entry *e);

/*
 * Remove e from the table (and free its device list).  Other entries may
 * move to another slot: pointers into the table are invalid afterwards.
 */
void wl_table_remove(struct wl_table *t, struct wl_entry *e);

/*
 * The bound on workloads whose cgroup is gone: when the table holds at
 * least limit - limit/16 workloads, drop gone ones not active in the
 * current interval, pruned longest ago first, until it holds limit -
 * limit/8 or none is left; each counted in t->evicted (their summary is
 * lost).  Call after wl_table_end().  Returns how many were dropped.
 */
size_t wl_table_evict_gone(struct wl_table *t);

#define wl_table_for_each(t, e)                                    \
	for ((e) = (t)->slots; (e) < (t)->slots + (t)->cap; (e)++) \
		if ((e)->used)

#endif
