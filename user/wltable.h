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

/* Longest cgroup path kept, with its NUL (longer ones: unknown path). */
#define WL_PATH_MAX 512

/*
 * A workload's names, as struct wl_class gives them, each string allocated
 * to its length by wl_entry_set_class(): a table of removed workloads kept
 * for their summary lines holds mostly names, and wl_class's arrays are
 * mostly empty.
 */
struct wl_names {
	enum wl_kind kind;
	const char *runtime; /* static string: "docker", ... or NULL */
	const char *container_id; /* "" when none */
	const char *name; /* "" until named */
};

/*
 * One workload, allocated on its own: pointers to it stay valid until it is
 * removed, whatever else the table does.  A removed cgroup's workload is
 * kept for its summary line (docs/design.md "Removed cgroups"), so the
 * parts only a live one needs are allocated apart and let go of when it is
 * pruned: its last kernel readings (zero then), and the spare room of its
 * device list.
 */
struct wl_entry {
	uint64_t id;
	bool active; /* non-zero delta in the current interval */
	bool ever_active; /* non-zero delta in some interval of the run */
	bool named; /* identity resolved */
	bool path_known;
	/*
	 * The kernel tables and the cgroup's life (the collector's bookkeeping,
	 * docs/design.md "Removed cgroups"): in_kernel is set by every feed and
	 * cleared by wl_table_pruned(); gone is set there and cleared by a later
	 * feed (the kernel entry was re-created).
	 */
	bool in_kernel; /* fed from a kernel table since the last prune */
	bool gone; /* cgroup removed, its kernel entries deleted (pruned) */
	uint8_t devs_cap; /* room in devs */
	struct wl_counters delta, total;
	struct wl_counters *last; /* the last kernel readings; NULL: all zero */
	struct wl_names cls;
	char *path; /* relative to the cgroup2 mount; NULL: none yet */
	/*
	 * Devices in the order first seen, never removed, at most WL_MAX_DEVS.
	 * The list grows as devices come (most workloads use one or none), and
	 * is cut to its length when the workload is pruned: a pointer to a
	 * device is valid until the workload's next new device or its prune.
	 */
	struct wl_dev *devs;
	size_t ndevs;
	uint64_t devs_untracked; /* feeds refused: list full or no memory */
	uint64_t gone_seq; /* order of the last prune, for eviction */
	uint64_t absent_read; /* collector read that first found the cgroup gone; 0: none */
	uint64_t next_check; /* collector read of the next existence check */
	uint64_t walk_mark; /* cgroup tree walks done before its first read, + 1 */
};

/* A slot of the table's index: the id there and its entry, NULL when free. */
struct wl_slot {
	uint64_t id;
	struct wl_entry *e;
};

struct wl_table {
	/*
	 * Open addressing (linear probing) on ids, at most half full: it
	 * doubles as workloads come, up to twice the limit, so a run that
	 * sees few workloads keeps a small index.
	 */
	struct wl_slot *slots;
	size_t cap; /* power of two */
	size_t limit; /* most workloads tracked */
	size_t n;
	size_t overflow; /* ids refused: the table at its limit, or no memory */
	uint64_t devs_untracked; /* device feeds refused, over all entries */
	uint64_t gone_seq; /* prunes so far */
	uint64_t evicted; /* gone workloads dropped to make room (wl_table_evict_gone) */
};

int wl_table_init(struct wl_table *t, size_t limit);
void wl_table_free(struct wl_table *t);

/*
 * The entry of id, created if there is room (and memory); NULL (and
 * overflow++) if not.  Creating one may grow the index: slot numbers
 * change then (t->cap with them), entry pointers do not.
 */
struct wl_entry *wl_table_get(struct wl_table *t, uint64_t id);
struct wl_entry *wl_table_find(struct wl_table *t, uint64_t id);

/* The slot of id in t->slots, or t->cap when id is not in the table. */
size_t wl_table_slot(const struct wl_table *t, uint64_t id);

/*
 * Set e's path (NULL: none) or names to a copy of exactly their length;
 * path_known and named are the caller's.  0, or -ENOMEM and e unchanged.
 */
int wl_entry_set_path(struct wl_entry *e, const char *path);
int wl_entry_set_class(struct wl_entry *e, const struct wl_class *cls);

/* Start an interval: clear every delta and the active marks. */
void wl_table_begin(struct wl_table *t);

/*
 * Record id's cumulative kernel counters for this read: computes the delta
 * against the last read and adds it to the run total.  The cpu, block and
 * network parts come from different maps, so each is fed separately.
 * -ENOSPC: no room for id; -ENOMEM: nothing recorded, the next read counts
 * it.
 */
int wl_table_feed_cpu(struct wl_table *t, uint64_t id, uint64_t cpu_ns, uint64_t cpu_cycles);
int wl_table_feed_blk(struct wl_table *t, uint64_t id, const struct iotrace_blk_stats *b);
int wl_table_feed_net(struct wl_table *t, uint64_t id, const struct iotrace_net_stats *n);

/*
 * Record id's cumulative counters on device major:minor, with the same
 * delta and reset rules.  -ENOSPC when the table has no room for id, or
 * id's device list is full (-ENOMEM: cannot grow it): then counted in
 * devs_untracked (of the entry and of the table) at each refusal, so one
 * device left out counts once per interval.
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
 * whatever its values), and it is gone (evictable) until fed again.  It
 * keeps what its summary line needs, no more: its last readings are freed
 * (a feed allocates them again) and its device list cut to its length.
 */
void wl_table_pruned(struct wl_table *t, struct wl_entry *e);

/*
 * Remove e from the table and free it.  Other entries may move to another
 * slot; pointers to them stay valid.
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

/* Every entry, in slot order; the loop must not add nor remove any. */
#define wl_table_for_each(t, e)                                                             \
	for (const struct wl_slot *wl_slot_ = (t)->slots; wl_slot_ < (t)->slots + (t)->cap; \
	     wl_slot_++)                                                                    \
		if (((e) = wl_slot_->e) != NULL)

#endif
