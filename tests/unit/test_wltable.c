// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Workload table: interval deltas, run totals, resets, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "wltable.h"

static void test_delta_plain(void **state)
{
	struct wl_counters last = { .cpu_ns = 100, .rd_ops = 5, .lat_hist[3] = 2 };
	struct wl_counters cur = { .cpu_ns = 250, .rd_ops = 9, .lat_hist[3] = 7 };
	struct wl_counters d;

	(void)state;
	wl_counters_delta(&cur, &last, &d);
	assert_int_equal(d.cpu_ns, 150);
	assert_int_equal(d.rd_ops, 4);
	assert_int_equal(d.lat_hist[3], 5);
	assert_int_equal(d.wr_ops, 0);
}

static void test_delta_reset_takes_all_of_cur(void **state)
{
	/* The kernel entry was recreated: rd_ops went backwards. */
	struct wl_counters last = { .cpu_ns = 100, .rd_ops = 50, .rd_bytes = 4096 * 50 };
	struct wl_counters cur = { .cpu_ns = 300, .rd_ops = 3, .rd_bytes = 4096 * 3 };
	struct wl_counters d;

	(void)state;
	wl_counters_delta(&cur, &last, &d);
	assert_int_equal(d.rd_ops, 3);
	assert_int_equal(d.rd_bytes, 4096 * 3);
	/* cpu_ns did not go backwards, but belongs to the same new entry. */
	assert_int_equal(d.cpu_ns, 300);
}

static void test_add_saturates(void **state)
{
	struct wl_counters acc = { .wr_bytes = UINT64_MAX - 1 };
	struct wl_counters d = { .wr_bytes = 10, .wr_ops = 1 };

	(void)state;
	wl_counters_add(&acc, &d);
	assert_true(acc.wr_bytes == UINT64_MAX);
	assert_int_equal(acc.wr_ops, 1);
	assert_int_equal(wl_counters_ops(&acc), 1);
}

static void test_feed_cpu_and_blk_intervals(void **state)
{
	struct wl_table t;
	struct iotrace_blk_stats b = { .rd_ops = 10, .rd_bytes = 40960, .lat_hist[10] = 10 };
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 8), 0);

	wl_table_begin(&t);
	assert_int_equal(wl_table_feed_cpu(&t, 42, 1000, 0), 0);
	assert_int_equal(wl_table_feed_blk(&t, 42, &b), 0);
	wl_table_end(&t);
	e = wl_table_find(&t, 42);
	assert_non_null(e);
	assert_true(e->active);
	assert_int_equal(e->delta.cpu_ns, 1000);
	assert_int_equal(e->delta.rd_ops, 10);
	assert_int_equal(e->delta.lat_hist[10], 10);

	/* Second interval: cpu advanced, block unchanged. */
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 42, 1500, 0);
	wl_table_feed_blk(&t, 42, &b);
	wl_table_end(&t);
	assert_int_equal(e->delta.cpu_ns, 500);
	assert_int_equal(e->delta.rd_ops, 0);
	assert_int_equal(e->total.cpu_ns, 1500);
	assert_int_equal(e->total.rd_ops, 10);

	/* Third interval: nothing changed, so not active, but was active once. */
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 42, 1500, 0);
	wl_table_feed_blk(&t, 42, &b);
	wl_table_end(&t);
	assert_false(e->active);
	assert_true(e->ever_active);
	assert_int_equal(e->total.cpu_ns, 1500);
	wl_table_free(&t);
}

static void test_blk_reset_does_not_touch_cpu(void **state)
{
	struct wl_table t;
	struct iotrace_blk_stats b1 = { .wr_ops = 100 }, b2 = { .wr_ops = 7 };
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 4), 0);
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 7, 5000, 0);
	wl_table_feed_blk(&t, 7, &b1);
	wl_table_end(&t);
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 7, 6000, 0);
	wl_table_feed_blk(&t, 7, &b2); /* block entry recreated */
	wl_table_end(&t);
	e = wl_table_find(&t, 7);
	assert_int_equal(e->delta.wr_ops, 7);
	assert_int_equal(e->delta.cpu_ns, 1000);
	assert_int_equal(e->total.wr_ops, 107);
	assert_int_equal(e->total.cpu_ns, 6000);
	wl_table_free(&t);
}

/* The network part has its own deltas: a reset of one part leaves the others. */
static void test_net_feed_is_its_own_part(void **state)
{
	struct iotrace_net_stats n1 = { .tx_packets = 10, .tx_bytes = 5120, .softirq_ns = 900 };
	struct iotrace_net_stats n2 = { .tx_packets = 4, .tx_bytes = 2048, .softirq_ns = 100 };
	struct iotrace_blk_stats b1 = { .rd_ops = 3 }, b2 = { .rd_ops = 5 };
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 4), 0);
	wl_table_begin(&t);
	assert_int_equal(wl_table_feed_net(&t, 9, &n1), 0);
	wl_table_feed_blk(&t, 9, &b1);
	wl_table_end(&t);
	e = wl_table_find(&t, 9);
	assert_int_equal(e->delta.tx_packets, 10);
	assert_int_equal(e->delta.softirq_ns, 900);
	assert_int_equal(wl_counters_packets(&e->delta), 10);
	wl_table_begin(&t);
	wl_table_feed_net(&t, 9, &n2); /* net entry recreated: all of it is new */
	wl_table_feed_blk(&t, 9, &b2);
	wl_table_end(&t);
	assert_int_equal(e->delta.tx_packets, 4);
	assert_int_equal(e->delta.tx_bytes, 2048);
	assert_int_equal(e->delta.softirq_ns, 100);
	assert_int_equal(e->delta.rd_ops, 2);
	assert_int_equal(e->total.tx_packets, 14);
	assert_int_equal(e->total.tx_bytes, 7168);
	assert_int_equal(e->total.softirq_ns, 1000);
	assert_int_equal(e->total.rd_ops, 5);
	assert_true(e->active);
	wl_table_free(&t);
}

static void test_limit_counts_overflow(void **state)
{
	struct wl_table t;

	(void)state;
	assert_int_equal(wl_table_init(&t, 3), 0);
	wl_table_begin(&t);
	for (uint64_t id = 1; id <= 5; id++)
		wl_table_feed_cpu(&t, id, id * 10, 0);
	wl_table_end(&t);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.overflow, 2);
	assert_null(wl_table_find(&t, 5));
	/* Existing entries still update when the table is full. */
	assert_int_equal(wl_table_feed_cpu(&t, 1, 99, 0), 0);
	assert_int_equal(wl_table_feed_cpu(&t, 6, 1, 0), -ENOSPC);
	wl_table_free(&t);
}

static void test_many_ids_all_found(void **state)
{
	struct wl_table t;
	struct wl_entry *e;
	size_t n = 0;

	(void)state;
	assert_int_equal(wl_table_init(&t, 1000), 0);
	for (uint64_t id = 0; id < 1000; id++)
		assert_non_null(wl_table_get(&t, id * 4096 + 1));
	for (uint64_t id = 0; id < 1000; id++) {
		e = wl_table_find(&t, id * 4096 + 1);
		assert_non_null(e);
		assert_true(e->id == id * 4096 + 1);
	}
	wl_table_for_each(&t, e) n++;
	assert_int_equal(n, 1000);
	assert_int_equal(t.overflow, 0);
	wl_table_free(&t);
}

/* Each device has its own deltas and totals; a device idle in an interval has none. */
static void test_dev_deltas(void **state)
{
	struct iotrace_blk_dev_stats l0 = { .rd_ops = 10, .rd_bytes = 40960 };
	struct iotrace_blk_dev_stats l1 = { .wr_ops = 2, .wr_bytes = 8192 };
	const struct wl_dev *d0, *d1;
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 4), 0);
	wl_table_begin(&t);
	assert_int_equal(wl_table_feed_blk_dev(&t, 5, 7, 0, &l0), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 5, 7, 1, &l1), 0);
	wl_table_end(&t);
	e = wl_table_find(&t, 5);
	assert_non_null(e);
	assert_int_equal(e->ndevs, 2);
	d0 = wl_entry_dev(e, 7, 0);
	d1 = wl_entry_dev(e, 7, 1);
	assert_non_null(d0);
	assert_non_null(d1);
	assert_null(wl_entry_dev(e, 8, 0));
	assert_int_equal(d0->delta.rd_ops, 10);
	assert_int_equal(d0->delta.rd_bytes, 40960);
	assert_int_equal(d1->delta.wr_ops, 2);
	assert_int_equal(d1->delta.rd_ops, 0);

	/* Second interval: loop0 did 5 more reads, loop1 nothing. */
	l0.rd_ops = 15;
	l0.rd_bytes = 61440;
	wl_table_begin(&t);
	assert_int_equal(d1->delta.wr_ops, 0); /* begin clears the devices' deltas too */
	wl_table_feed_blk_dev(&t, 5, 7, 0, &l0);
	wl_table_feed_blk_dev(&t, 5, 7, 1, &l1);
	wl_table_end(&t);
	assert_int_equal(d0->delta.rd_ops, 5);
	assert_int_equal(d0->delta.rd_bytes, 20480);
	assert_int_equal(d0->total.rd_ops, 15);
	assert_int_equal(d1->delta.wr_ops, 0);
	assert_int_equal(d1->total.wr_ops, 2);
	assert_int_equal(d1->total.wr_bytes, 8192);

	/* The kernel entry was recreated: all of the new reading is new. */
	l0.rd_ops = 3;
	l0.rd_bytes = 12288;
	wl_table_begin(&t);
	wl_table_feed_blk_dev(&t, 5, 7, 0, &l0);
	wl_table_end(&t);
	assert_int_equal(d0->delta.rd_ops, 3);
	assert_int_equal(d0->delta.rd_bytes, 12288);
	assert_int_equal(d0->total.rd_ops, 18);
	/* Fed again later: deltas from the new base. */
	l0.rd_ops = 4;
	l0.rd_bytes = 16384;
	wl_table_begin(&t);
	wl_table_feed_blk_dev(&t, 5, 7, 0, &l0);
	wl_table_end(&t);
	assert_int_equal(d0->delta.rd_ops, 1);
	assert_int_equal(d0->total.rd_ops, 19);
	assert_int_equal(t.devs_untracked, 0);
	wl_table_free(&t);
}

/*
 * A device list holds WL_MAX_DEVS devices; a feed for one more is refused
 * and counted, in the entry and in the table, every time; the devices
 * already in keep updating.
 */
static void test_dev_overflow(void **state)
{
	struct iotrace_blk_dev_stats b = { .rd_ops = 1, .rd_bytes = 4096 };
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 4), 0);
	wl_table_begin(&t);
	for (uint32_t minor = 0; minor < WL_MAX_DEVS; minor++)
		assert_int_equal(wl_table_feed_blk_dev(&t, 9, 7, minor, &b), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 9, 7, WL_MAX_DEVS, &b), -ENOSPC);
	assert_int_equal(wl_table_feed_blk_dev(&t, 9, 8, 0, &b), -ENOSPC);
	/* Another workload has a list of its own. */
	assert_int_equal(wl_table_feed_blk_dev(&t, 10, 8, 0, &b), 0);
	wl_table_end(&t);
	e = wl_table_find(&t, 9);
	assert_int_equal(e->ndevs, WL_MAX_DEVS);
	assert_int_equal(e->devs_untracked, 2);
	assert_null(wl_entry_dev(e, 8, 0));
	assert_int_equal(wl_table_find(&t, 10)->devs_untracked, 0);
	assert_int_equal(t.devs_untracked, 2);

	b.rd_ops = 3;
	wl_table_begin(&t);
	assert_int_equal(wl_table_feed_blk_dev(&t, 9, 7, WL_MAX_DEVS - 1, &b), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 9, 7, WL_MAX_DEVS, &b), -ENOSPC);
	wl_table_end(&t);
	assert_int_equal(wl_entry_dev(e, 7, WL_MAX_DEVS - 1)->delta.rd_ops, 2);
	assert_int_equal(e->devs_untracked, 3);
	assert_int_equal(t.devs_untracked, 3);
	wl_table_free(&t);
}

/* A workload the table has no room for gets no device list either. */
static void test_dev_table_full(void **state)
{
	struct iotrace_blk_dev_stats b = { .wr_ops = 1 };
	struct wl_table t;

	(void)state;
	assert_int_equal(wl_table_init(&t, 1), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 1, 7, 0, &b), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 2, 7, 0, &b), -ENOSPC);
	assert_int_equal(t.overflow, 1);
	assert_int_equal(t.devs_untracked, 0);
	wl_table_free(&t);
}

/*
 * Pruned (kernel entries deleted after their last figures were fed), then
 * re-created by a late update: the new entry is all new even where its
 * values are not below the old ones, which the "went backwards" rule alone
 * could not tell.  Nothing is lost, nothing counted twice.
 */
static void test_pruned_then_recreated(void **state)
{
	struct iotrace_blk_stats b = { .rd_ops = 10, .wr_ops = 4, .rd_bytes = 40960 };
	struct iotrace_blk_dev_stats d = { .rd_ops = 10, .wr_ops = 4, .rd_bytes = 40960 };
	struct iotrace_net_stats n = { .tx_packets = 3, .tx_bytes = 300 };
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 8), 0);
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 42, 1000, 2000);
	wl_table_feed_blk(&t, 42, &b);
	wl_table_feed_blk_dev(&t, 42, 7, 0, &d);
	wl_table_feed_net(&t, 42, &n);
	wl_table_end(&t);
	e = wl_table_find(&t, 42);
	assert_true(e->in_kernel);
	assert_false(e->gone);

	/* Idle interval: the prune feeds the same figures once more, then forgets them. */
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 42, 1000, 2000);
	wl_table_feed_blk(&t, 42, &b);
	wl_table_feed_blk_dev(&t, 42, 7, 0, &d);
	wl_table_pruned(&t, e);
	wl_table_end(&t);
	assert_false(e->active);
	assert_true(e->gone);
	assert_false(e->in_kernel);
	assert_int_equal(e->gone_seq, 1);
	assert_null(e->last); /* all zero */
	assert_int_equal(e->devs[0].last.rd_ops, 0);
	assert_int_equal(e->total.rd_ops, 10);

	/* A late completion re-creates the entries, with more than before on cpu. */
	b = (struct iotrace_blk_stats){ .rd_ops = 1, .rd_bytes = 4096 };
	d = (struct iotrace_blk_dev_stats){ .rd_ops = 1, .rd_bytes = 4096 };
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 42, 5000, 9000);
	wl_table_feed_blk(&t, 42, &b);
	wl_table_feed_blk_dev(&t, 42, 7, 0, &d);
	wl_table_end(&t);
	assert_true(e->active);
	assert_false(e->gone);
	assert_true(e->in_kernel);
	assert_int_equal(e->delta.cpu_ns, 5000);
	assert_int_equal(e->delta.cpu_cycles, 9000);
	assert_int_equal(e->delta.rd_ops, 1);
	assert_int_equal(e->delta.wr_ops, 0);
	assert_int_equal(e->devs[0].delta.rd_ops, 1);
	assert_int_equal(e->total.cpu_ns, 6000);
	assert_int_equal(e->total.rd_ops, 11);
	assert_int_equal(e->total.wr_ops, 4);
	assert_int_equal(e->total.rd_bytes, 40960 + 4096);
	assert_int_equal(e->devs[0].total.rd_ops, 11);
	assert_int_equal(e->devs[0].total.wr_ops, 4);
	assert_int_equal(e->total.tx_packets, 3);
	/* The re-created entry grows: deltas from its own base again. */
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 42, 5500, 9900);
	wl_table_end(&t);
	assert_int_equal(e->delta.cpu_ns, 500);
	assert_int_equal(e->total.cpu_ns, 6500);
	wl_table_free(&t);
}

/* Removing entries keeps every other one findable (probe runs shifted back). */
static void test_remove_keeps_others(void **state)
{
	struct iotrace_blk_dev_stats d = { .rd_ops = 1 };
	struct wl_table t;
	struct wl_entry *e;
	size_t n = 0;

	(void)state;
	/* 512 ids in 1024 slots: long probe runs. */
	assert_int_equal(wl_table_init(&t, 512), 0);
	for (uint64_t id = 1; id <= 512; id++) {
		assert_non_null(wl_table_get(&t, id));
		assert_int_equal(wl_table_feed_blk_dev(&t, id, 7, (uint32_t)id, &d), 0);
	}
	for (uint64_t id = 1; id <= 512; id += 3)
		wl_table_remove(&t, wl_table_find(&t, id));
	for (uint64_t id = 1; id <= 512; id++) {
		e = wl_table_find(&t, id);
		if ((id - 1) % 3 == 0) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		assert_true(e->id == id);
		/* Its device list moved with it. */
		assert_non_null(wl_entry_dev(e, 7, (uint32_t)id));
	}
	wl_table_for_each(&t, e) n++;
	assert_int_equal(n, 512 - 171);
	assert_int_equal(t.n, 512 - 171);
	/* Room again: new ids go in. */
	for (uint64_t id = 1000; id < 1171; id++)
		assert_non_null(wl_table_get(&t, id));
	assert_int_equal(t.n, 512);
	assert_int_equal(t.overflow, 0);
	wl_table_free(&t); /* frees every device list once (ASan, valgrind) */
}

/*
 * Near the limit, gone workloads go, pruned longest ago first, down to the
 * low mark; live ones, and gone ones active in the interval, stay.
 */
static void test_evict_gone_oldest_first(void **state)
{
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	/* limit 16: evict from 15 workloads down to 14. */
	assert_int_equal(wl_table_init(&t, 16), 0);
	wl_table_begin(&t);
	for (uint64_t id = 1; id <= 14; id++)
		wl_table_feed_cpu(&t, id, 100, 0);
	wl_table_end(&t);
	/* Gone in the order 5, 3, 9. */
	wl_table_pruned(&t, wl_table_find(&t, 5));
	wl_table_pruned(&t, wl_table_find(&t, 3));
	wl_table_pruned(&t, wl_table_find(&t, 9));
	assert_int_equal(wl_table_evict_gone(&t), 0); /* 14 < 15: nothing */
	assert_int_equal(t.n, 14);

	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 15, 100, 0);
	wl_table_feed_cpu(&t, 16, 100, 0);
	wl_table_end(&t);
	assert_int_equal(t.n, 16);
	assert_int_equal(wl_table_evict_gone(&t), 2);
	assert_int_equal(t.n, 14);
	assert_int_equal(t.evicted, 2);
	assert_null(wl_table_find(&t, 5));
	assert_null(wl_table_find(&t, 3));
	assert_non_null(wl_table_find(&t, 9));

	/* 9 is active in this interval (its last figures came in): it stays. */
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 9, 50, 0);
	wl_table_pruned(&t, wl_table_find(&t, 9));
	wl_table_feed_cpu(&t, 17, 100, 0);
	wl_table_end(&t);
	assert_int_equal(t.n, 15);
	assert_int_equal(wl_table_evict_gone(&t), 0);
	assert_non_null(wl_table_find(&t, 9));
	/* Idle in the next one: now it goes; no live workload ever does. */
	wl_table_begin(&t);
	wl_table_end(&t);
	assert_int_equal(wl_table_evict_gone(&t), 1);
	assert_null(wl_table_find(&t, 9));
	assert_int_equal(t.evicted, 3);
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 18, 100, 0);
	wl_table_end(&t);
	assert_int_equal(t.n, 15);
	assert_int_equal(wl_table_evict_gone(&t), 0);
	wl_table_for_each(&t, e) assert_false(e->gone);

	/* A late update for an evicted workload: a new entry, with only the new figures. */
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 5, 7, 0);
	wl_table_end(&t);
	e = wl_table_find(&t, 5);
	assert_non_null(e);
	assert_int_equal(e->total.cpu_ns, 7);
	wl_table_free(&t);
}

/* A gone workload re-created before eviction is live again: not evicted. */
static void test_recreated_not_evicted(void **state)
{
	struct wl_table t;

	(void)state;
	assert_int_equal(wl_table_init(&t, 16), 0);
	wl_table_begin(&t);
	for (uint64_t id = 1; id <= 16; id++)
		wl_table_feed_cpu(&t, id, 100, 0);
	wl_table_end(&t);
	wl_table_pruned(&t, wl_table_find(&t, 1));
	wl_table_pruned(&t, wl_table_find(&t, 2));
	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 1, 3, 0);
	wl_table_end(&t);
	wl_table_begin(&t);
	wl_table_end(&t);
	assert_int_equal(wl_table_evict_gone(&t), 1);
	assert_non_null(wl_table_find(&t, 1));
	assert_null(wl_table_find(&t, 2));
	assert_int_equal(wl_table_find(&t, 1)->total.cpu_ns, 103);
	/* 15 left, still at the high mark, but nothing gone to drop. */
	assert_int_equal(wl_table_evict_gone(&t), 0);
	assert_int_equal(t.evicted, 1);
	wl_table_free(&t);
}

/* A live workload with a bit of everything: cpu, block, three devices, network, names. */
static struct wl_entry *feed_full(struct wl_table *t, uint64_t id, uint64_t k)
{
	struct iotrace_blk_stats b = { .rd_ops = 10 * k, .wr_ops = 4 * k, .rd_bytes = 40960 * k };
	struct iotrace_net_stats n = { .tx_packets = 3 * k, .rx_bytes = 900 * k, .softirq_ns = k };
	struct iotrace_blk_dev_stats d = { .rd_ops = 5 * k, .wr_ops = 2 * k, .wr_bytes = 8192 * k };
	struct wl_class cls = { .kind = WL_KIND_CONTAINER, .runtime = "docker" };
	struct wl_entry *e;
	char path[64];

	b.lat_hist[12] = 7 * k;
	b.lat_hist[20] = 7 * k;
	assert_int_equal(wl_table_feed_cpu(t, id, 1000 * k, 2300 * k), 0);
	assert_int_equal(wl_table_feed_blk(t, id, &b), 0);
	for (uint32_t minor = 0; minor < 3; minor++)
		assert_int_equal(wl_table_feed_blk_dev(t, id, 7, minor, &d), 0);
	assert_int_equal(wl_table_feed_net(t, id, &n), 0);
	e = wl_table_find(t, id);
	assert_non_null(e);
	snprintf(path, sizeof(path), "/system.slice/docker-%llu.scope", (unsigned long long)id);
	assert_int_equal(wl_entry_set_path(e, path), 0);
	e->path_known = true;
	snprintf(cls.container_id, sizeof(cls.container_id), "%064llx", (unsigned long long)id);
	snprintf(cls.name, sizeof(cls.name), "web-%llu", (unsigned long long)id);
	assert_int_equal(wl_entry_set_class(e, &cls), 0);
	e->named = true;
	return e;
}

/* What a summary line of e shows: totals, devices, names. */
struct summary {
	struct wl_counters total;
	size_t ndevs;
	struct wl_dev devs[WL_MAX_DEVS];
	enum wl_kind kind;
	const char *runtime;
	char container_id[WL_ID_MAX], name[WL_NAME_MAX], path[WL_PATH_MAX];
};

static void summary_of(const struct wl_entry *e, struct summary *s)
{
	memset(s, 0, sizeof(*s));
	s->total = e->total;
	s->ndevs = e->ndevs;
	for (size_t i = 0; i < e->ndevs; i++) {
		s->devs[i].major = e->devs[i].major;
		s->devs[i].minor = e->devs[i].minor;
		s->devs[i].total = e->devs[i].total;
	}
	s->kind = e->cls.kind;
	s->runtime = e->cls.runtime;
	snprintf(s->container_id, sizeof(s->container_id), "%s", e->cls.container_id);
	snprintf(s->name, sizeof(s->name), "%s", e->cls.name);
	snprintf(s->path, sizeof(s->path), "%s", e->path_known ? e->path : "(unknown)");
}

/*
 * Pruned, a workload keeps exactly what its summary line shows, and lets
 * go of the rest: no last readings, a device list of its length, names of
 * theirs.  The interval of the prune still has its delta.
 */
static void test_pruned_keeps_summary(void **state)
{
	struct iotrace_blk_dev_stats d = { .rd_ops = 6, .wr_ops = 2, .wr_bytes = 8192 };
	struct summary before, after;
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 8), 0);
	wl_table_begin(&t);
	e = feed_full(&t, 77, 1);
	wl_table_end(&t);
	assert_non_null(e->last);
	assert_int_equal(e->ndevs, 3);
	assert_int_equal(e->devs_cap, 4); /* grown 1, 2, 4 */

	/* The prune's read finds more cpu, and one more read on 7:1, as it deletes them. */
	wl_table_begin(&t);
	assert_int_equal(wl_table_feed_cpu(&t, 77, 1500, 2300), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 77, 7, 1, &d), 0);
	wl_table_pruned(&t, e);
	wl_table_end(&t);
	assert_true(e->active);
	assert_int_equal(e->delta.cpu_ns, 500);
	assert_int_equal(wl_entry_dev(e, 7, 1)->delta.rd_ops, 1);
	summary_of(e, &before);
	assert_int_equal(before.devs[1].total.rd_ops, 6);

	wl_table_begin(&t);
	wl_table_end(&t);
	assert_false(e->active);
	assert_true(e->gone);
	assert_null(e->last);
	assert_int_equal(e->ndevs, 3);
	assert_int_equal(e->devs_cap, 3);
	assert_int_equal(strlen(e->cls.name), strlen("web-77"));
	summary_of(e, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(after.total.cpu_ns, 1500);
	assert_int_equal(after.total.cpu_cycles, 2300);
	assert_int_equal(after.total.rd_ops, 10);
	assert_int_equal(after.total.lat_hist[20], 7);
	assert_int_equal(after.total.rx_bytes, 900);
	assert_int_equal(after.devs[2].minor, 2);
	assert_int_equal(after.devs[2].total.wr_bytes, 8192);
	/* 64 hex digits, as docker's */
	assert_int_equal(strlen(after.container_id), 64);
	assert_string_equal(after.container_id + 62, "4d");
	assert_string_equal(after.name, "web-77");
	assert_string_equal(after.runtime, "docker");
	assert_string_equal(after.path, "/system.slice/docker-77.scope");
	wl_table_free(&t); /* frees the names and the cut list once (ASan) */
}

/*
 * A pruned workload fed again (its kernel entries re-created by a late
 * update) is a full one again: all of the new readings are new, the totals
 * go on from the old ones, its device list grows past its cut length.
 */
static void test_pruned_fed_again(void **state)
{
	struct iotrace_blk_dev_stats d = { .rd_ops = 2, .rd_bytes = 8192 };
	struct iotrace_blk_stats b = { .rd_ops = 3, .rd_bytes = 12288 };
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	assert_int_equal(wl_table_init(&t, 8), 0);
	wl_table_begin(&t);
	e = feed_full(&t, 78, 2);
	wl_table_pruned(&t, e);
	wl_table_end(&t);
	wl_table_begin(&t);
	wl_table_end(&t);
	assert_int_equal(e->devs_cap, 3);

	/* Re-created with less than before on block, more on cpu. */
	wl_table_begin(&t);
	assert_int_equal(wl_table_feed_cpu(&t, 78, 5000, 0), 0);
	assert_int_equal(wl_table_feed_blk(&t, 78, &b), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 78, 7, 2, &d), 0);
	assert_int_equal(wl_table_feed_blk_dev(&t, 78, 8, 0, &d), 0); /* a new device */
	wl_table_end(&t);
	assert_true(e->active);
	assert_false(e->gone);
	assert_true(e->in_kernel);
	assert_non_null(e->last);
	assert_int_equal(e->last->cpu_ns, 5000);
	assert_int_equal(e->delta.cpu_ns, 5000);
	assert_int_equal(e->delta.rd_ops, 3);
	assert_int_equal(e->total.cpu_ns, 2000 + 5000);
	assert_int_equal(e->total.rd_ops, 20 + 3);
	assert_int_equal(e->total.rd_bytes, 2 * 40960 + 12288);
	assert_int_equal(e->total.lat_hist[12], 14);
	assert_int_equal(e->total.tx_packets, 6);
	assert_int_equal(e->ndevs, 4);
	assert_int_equal(e->devs_cap, 6);
	assert_int_equal(wl_entry_dev(e, 7, 2)->delta.rd_ops, 2);
	assert_int_equal(wl_entry_dev(e, 7, 2)->total.rd_ops, 10 + 2);
	assert_int_equal(wl_entry_dev(e, 7, 0)->total.rd_ops, 10);
	assert_int_equal(wl_entry_dev(e, 8, 0)->total.rd_bytes, 8192);
	assert_string_equal(e->cls.name, "web-78");

	/* From the new base on. */
	b.rd_ops = 4;
	wl_table_begin(&t);
	wl_table_feed_blk(&t, 78, &b);
	wl_table_end(&t);
	assert_int_equal(e->delta.rd_ops, 1);
	assert_int_equal(e->total.rd_ops, 24);

	/* Pruned a second time: cut again, counted again. */
	wl_table_pruned(&t, e);
	assert_null(e->last);
	assert_int_equal(e->devs_cap, 4);
	assert_int_equal(e->gone_seq, 2);
	assert_int_equal(e->total.rd_ops, 24);
	wl_table_free(&t);
}

/*
 * Names are kept at their length; an empty one costs nothing; naming again
 * replaces (ASan: the old ones are freed once).
 */
static void test_names(void **state)
{
	struct wl_class cls = { .kind = WL_KIND_CGROUP };
	struct wl_table t;
	struct wl_entry *e, *f;

	(void)state;
	assert_int_equal(wl_table_init(&t, 8), 0);
	e = wl_table_get(&t, 5);
	f = wl_table_get(&t, 6);
	/* Unnamed: empty names, no path, as the outputs have always seen them. */
	assert_string_equal(e->cls.name, "");
	assert_string_equal(e->cls.container_id, "");
	assert_null(e->cls.runtime);
	assert_null(e->path);

	snprintf(cls.name, sizeof(cls.name), "cgroup-5");
	assert_int_equal(wl_entry_set_class(e, &cls), 0);
	assert_int_equal(wl_entry_set_class(f, &cls), 0);
	assert_string_equal(e->cls.name, "cgroup-5");
	assert_true(e->cls.name != f->cls.name); /* each its own */
	assert_true(e->cls.container_id == f->cls.container_id); /* both empty */

	cls.kind = WL_KIND_VM;
	cls.runtime = "libvirt";
	snprintf(cls.container_id, sizeof(cls.container_id), "1234");
	memset(cls.name, 'x', sizeof(cls.name) - 1); /* the longest name */
	assert_int_equal(wl_entry_set_class(e, &cls), 0);
	assert_int_equal(e->cls.kind, WL_KIND_VM);
	assert_string_equal(e->cls.runtime, "libvirt");
	assert_string_equal(e->cls.container_id, "1234");
	assert_int_equal(strlen(e->cls.name), WL_NAME_MAX - 1);

	assert_int_equal(wl_entry_set_path(e, "/machine.slice/a"), 0);
	assert_int_equal(wl_entry_set_path(e, "/machine.slice/b"), 0);
	assert_string_equal(e->path, "/machine.slice/b");
	assert_int_equal(wl_entry_set_path(e, NULL), 0);
	assert_null(e->path);
	assert_int_equal(wl_entry_set_path(f, "/f"), 0);
	wl_table_free(&t);
}

/*
 * The index grows with the workloads, never past twice the limit; entry
 * pointers survive it, and lookups find every id after each doubling.
 */
static void test_index_grows(void **state)
{
	struct wl_entry *first[64];
	struct wl_table t;
	size_t cap = 0, grew = 0;

	(void)state;
	assert_int_equal(wl_table_init(&t, 5000), 0);
	assert_true(t.cap <= 64);
	for (uint64_t id = 1; id <= 5000; id++) {
		struct wl_entry *e = wl_table_get(&t, id);

		assert_non_null(e);
		if (id <= 64)
			first[id - 1] = e;
		assert_true(t.n * 2 <= t.cap);
		if (t.cap != cap) {
			cap = t.cap;
			grew++;
			for (uint64_t j = 1; j <= id; j++)
				assert_true(wl_table_find(&t, j)->id == j);
			assert_ptr_equal(t.slots[wl_table_slot(&t, id)].e, e);
		}
	}
	assert_int_equal(t.cap, 16384); /* the first power of two >= 2 * 5000 */
	assert_true(grew >= 8);
	for (uint64_t id = 1; id <= 64; id++)
		assert_ptr_equal(wl_table_find(&t, id), first[id - 1]);
	assert_int_equal(wl_table_slot(&t, 999999), t.cap);
	/* At the limit: refused, and the index stays. */
	assert_null(wl_table_get(&t, 5001));
	assert_int_equal(t.cap, 16384);
	assert_int_equal(t.overflow, 1);
	wl_table_free(&t);
}

/*
 * Eviction with cut-down entries: the oldest gone go, the others keep
 * their summary, and new workloads take their room.
 */
static void test_evict_compacted(void **state)
{
	struct summary want, got;
	struct wl_table t;
	struct wl_entry *e;

	(void)state;
	/* limit 64: evict from 60 workloads down to 56. */
	assert_int_equal(wl_table_init(&t, 64), 0);
	wl_table_begin(&t);
	for (uint64_t id = 1; id <= 59; id++)
		feed_full(&t, id, id);
	wl_table_end(&t);
	/* 1..20 gone, in that order. */
	for (uint64_t id = 1; id <= 20; id++)
		wl_table_pruned(&t, wl_table_find(&t, id));
	wl_table_begin(&t);
	wl_table_end(&t);
	summary_of(wl_table_find(&t, 5), &want);
	assert_int_equal(wl_table_evict_gone(&t), 0);

	wl_table_begin(&t);
	wl_table_feed_cpu(&t, 100, 1, 0);
	wl_table_end(&t);
	assert_int_equal(t.n, 60);
	assert_int_equal(wl_table_evict_gone(&t), 4);
	assert_int_equal(t.evicted, 4);
	assert_int_equal(t.n, 56);
	for (uint64_t id = 1; id <= 4; id++)
		assert_null(wl_table_find(&t, id));
	e = wl_table_find(&t, 5);
	assert_non_null(e);
	summary_of(e, &got);
	assert_memory_equal(&want, &got, sizeof(want));
	assert_int_equal(got.total.rd_ops, 50);
	for (uint64_t id = 21; id <= 59; id++)
		assert_false(wl_table_find(&t, id)->gone);
	/* Room for 8 more workloads up to the limit. */
	for (uint64_t id = 200; id < 208; id++)
		assert_non_null(wl_table_get(&t, id));
	assert_null(wl_table_get(&t, 208));
	wl_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_plain),
		cmocka_unit_test(test_delta_reset_takes_all_of_cur),
		cmocka_unit_test(test_add_saturates),
		cmocka_unit_test(test_feed_cpu_and_blk_intervals),
		cmocka_unit_test(test_blk_reset_does_not_touch_cpu),
		cmocka_unit_test(test_net_feed_is_its_own_part),
		cmocka_unit_test(test_limit_counts_overflow),
		cmocka_unit_test(test_many_ids_all_found),
		cmocka_unit_test(test_dev_deltas),
		cmocka_unit_test(test_dev_overflow),
		cmocka_unit_test(test_dev_table_full),
		cmocka_unit_test(test_pruned_then_recreated),
		cmocka_unit_test(test_remove_keeps_others),
		cmocka_unit_test(test_evict_gone_oldest_first),
		cmocka_unit_test(test_recreated_not_evicted),
		cmocka_unit_test(test_pruned_keeps_summary),
		cmocka_unit_test(test_pruned_fed_again),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_index_grows),
		cmocka_unit_test(test_evict_compacted),
	};

	return cmocka_run_group_tests_name("wltable", tests, NULL, NULL);
}
