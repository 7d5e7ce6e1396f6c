/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `iotrace report`'s arithmetic: the records of a recording (user/iotr.h)
 * summed per workload over the intervals that could be read, with the
 * figures derived from the sums (rates, cost per I/O, percentiles of the
 * summed latency histograms, the peak interval).  No BPF, no output: the
 * command (user/report.c) prints what this computes, the unit tests check
 * it on recordings they write.
 *
 * What is summed, and why (docs/report.md): the interval records, always.
 * A recording whose blocks are damaged still has its intact intervals, and
 * their sum is exactly "what is intact"; the run's summary (written once at
 * the end, and missing when the recorder was killed) is only compared with
 * that sum when nothing was skipped, and used instead of it only when not a
 * single interval could be read.
 */
#ifndef IOTRACE_REPORT_AGG_H
#define IOTRACE_REPORT_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotr.h"

/* What a report row is. */
enum report_by {
	REPORT_BY_CGROUP, /* every workload as recorded: kind + cgroup id (+ pid for VMs) */
	REPORT_BY_CONTAINER, /* container rows only, one per container id */
	REPORT_BY_VM, /* VM process rows only, one per pid + name */
};

/* Row order; every order is largest first, except name. */
enum report_sort {
	REPORT_SORT_CPU, /* CPU time (the default: the costliest first) */
	REPORT_SORT_IOPS, /* block operations */
	REPORT_SORT_PACKETS, /* packets sent + received */
	REPORT_SORT_CYCLES_PER_IO,
	REPORT_SORT_EXITS_PER_IO,
	REPORT_SORT_P99, /* block latency p99 */
	REPORT_SORT_NAME, /* alphabetical */
};

const char *report_by_name(enum report_by by);
const char *report_sort_name(enum report_sort s);

/* Counters summed over records (the fields of struct iotr_workload). */
struct report_counters {
	uint64_t cpu_ns, cycles, guest_ns;
	uint64_t read_ops, write_ops, read_bytes, write_bytes;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, softirq_ns;
	uint64_t exits, userspace_exits, pio_exits, mmio_exits;
	/* Left in flight as the run ended: summary records only. */
	uint64_t unf_read_ops, unf_write_ops, unf_read_bytes, unf_write_bytes;
	uint64_t lat_hist[IOTR_HIST_MAX];
	uint32_t lat_slots; /* the most slots any summed record had */
	uint32_t rows; /* records summed */
	uint8_t flags; /* IOTR_WL_* of every summed record, or'ed */
};

/* The interval in which a workload did the most I/O operations. */
struct report_peak {
	uint64_t ts_ns; /* end of the interval; 0: no interval with I/O */
	uint64_t interval_ns;
	uint64_t block_ops, packets;
};

/* A finding from the run's summary, with its own copies of its names. */
#define REPORT_FINDINGS_MAX 16

struct report_finding {
	struct advice_finding f; /* id and figure keys point into keys */
	char keys[1 + ADVICE_MAX_FIGS + ADVICE_MAX_SAVING][IOTR_FIG_KEY_MAX + 1];
};

/* One row of the report. */
struct report_wl {
	char *key; /* what rows are merged by (internal, unique) */
	uint8_t kind; /* enum iotr_kind, of the last record */
	int32_t pid; /* VM rows */
	uint64_t cgroup_id; /* of the last record */
	/* Of the last record that had them; NULL: never known. */
	char *name, *cgroup_path, *runtime, *container_id;
	uint64_t intervals; /* intervals it has a record in */
	uint64_t first_ts_ns, last_ts_ns; /* ends of its first and last such intervals */
	struct report_counters iv; /* summed over the intervals read */
	struct report_counters sum; /* from the run's summary interval */
	struct report_peak peak;
	/* What the advice rules found, as the run's summary recorded it. */
	struct report_finding *findings;
	size_t nfindings;
	uint64_t findings_beyond; /* past REPORT_FINDINGS_MAX */

	/* The interval being summed, for the peak. */
	uint64_t cur_serial, cur_ops, cur_packets, cur_ts_ns, cur_ns;
};

/* iotrace's own accounting problems (the "self" records). */
struct report_self {
	uint64_t records; /* self records summed */
	uint64_t stats_full, inflight_full, rq_no_owner, unseen_complete;
	uint64_t pmu_read_fail, prog_missed, recovered, vm_full, net_owners_full;
	/* Totals since the start of the run in every record: the largest seen. */
	uint64_t cgroups_untracked, vms_untracked;
	int64_t inflight_at_exit; /* from the summary; < 0: unknown */
	char *net_off; /* the last one seen; NULL: network figures on */
	/* From format 1.1's records (v1_records of them): 1.0 files have none. */
	uint64_t v1_records;
	uint64_t blk_dev_full; /* summed */
	uint64_t devices_untracked, pruned, evicted; /* run totals in every record: the largest */
	uint64_t bpf_records; /* records with BPF statistics on */
	uint64_t bpf_run_ns, bpf_runs; /* summed over those */
};

struct report_agg {
	enum report_by by;
	uint64_t tsc_hz; /* for the softirq share's cycles */

	struct report_wl **wl; /* every row, in the order first seen */
	size_t nwl, capwl;
	struct report_wl **slots; /* hash table on key */
	size_t nslots;

	/* Intervals read (CONTINUED copies are not new intervals). */
	uint64_t intervals;
	uint64_t covered_ns; /* sum of their lengths: the time the rates are over */
	uint64_t first_ts_ns, last_ts_ns; /* ends of the first and last */
	uint64_t first_start_ns; /* start of the first: its end - its length */
	uint64_t partial_intervals; /* known only from a CONTINUED copy: their start was lost */
	uint64_t rows; /* workload records summed (intervals and summary) */
	uint64_t rows_filtered; /* not of the kind --by keeps */
	uint64_t rows_orphan; /* in a block whose interval record was unreadable */
	/* The row the next finding record is about: the last summary workload record's. */
	struct report_wl *finding_wl;
	bool finding_filtered; /* the last summary row was not of the kind --by keeps */
	uint64_t findings_orphan; /* finding records with no summary row before them */

	/* The run's summary interval. */
	bool summary_seen;
	uint64_t summary_ts_ns, summary_ns;
	uint64_t summary_rows;
	/* Filled by report_agg_finish(). */
	bool used_summary; /* no interval could be read: the rows are the summary's */
	bool summary_checked; /* compared with the intervals' sums */
	uint64_t summary_mismatches; /* rows whose sums and summary disagree */

	struct report_self self, self_summary;
	bool self_summary_seen;

	/* Reading state. */
	bool cur_valid; /* rows that come belong to the current interval */
	bool cur_summary;
	uint64_t cur_serial, cur_ts_ns, cur_ns;
};

/* 0, or -ENOMEM. */
int report_agg_init(struct report_agg *a, enum report_by by, uint64_t tsc_hz);
void report_agg_free(struct report_agg *a);

/* Feed the reader's output: a new block starts, then its records. */
void report_agg_block(struct report_agg *a);
/* 0, or -ENOMEM. */
int report_agg_record(struct report_agg *a, const struct iotr_record *rec);
/*
 * After the last record: close the peaks, keep the rows to report, and
 * compare the summary with the intervals' sums when `intact` (nothing was
 * skipped), or use it when no interval could be read.
 */
void report_agg_finish(struct report_agg *a, bool intact);

/*
 * All of the above over a reader: every good block's records, then finish.
 * 0; -errno when reading fails (iotr_reader_error() says why) or on
 * -ENOMEM.
 */
int report_agg_read(struct report_agg *a, struct iotr_reader *r);

/* Figures derived from a row's sums; negative: not applicable (null). */
struct report_derived {
	const struct report_counters *c; /* the sums the figures come from */
	double seconds; /* the time the rates are over */
	double cpu_s, cpu_pct; /* % of one CPU */
	double iops; /* block operations per second */
	double packets_per_s;
	double cycles_per_io; /* (cycles + softirq share) / (block ops + packets) */
	double exits_per_io; /* VMs */
	double host_cycles_per_io; /* VMs: guest time excluded */
	double lat_p50_us, lat_p99_us;
	double peak_iops, peak_packets_per_s;
	double peak_s; /* the peak interval's length */
};

void report_derive(const struct report_agg *a, const struct report_wl *w, struct report_derived *d);

/* The sums a row is reported with: the intervals', or the summary's. */
const struct report_counters *report_counters_of(const struct report_agg *a,
						 const struct report_wl *w);

/* Sort a->wl by s (ties: name, then key, so the order is stable). */
void report_sort(struct report_agg *a, enum report_sort s);

#endif
