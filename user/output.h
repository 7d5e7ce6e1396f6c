/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writers of the `iotrace record` line contract (docs/record-format.md).
 * They format rows they are given; they never read BPF maps or /proc.
 */
#ifndef IOTRACE_OUTPUT_H
#define IOTRACE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "classify.h"

enum out_format {
	OUT_JSON,
	OUT_CSV,
};

enum out_row_type {
	OUT_ROW_INTERVAL,
	OUT_ROW_SUMMARY,
};

/* Who the row is about. */
struct out_workload {
	enum wl_kind kind;
	uint64_t cgroup_id;
	const char *cgroup_path; /* relative to the cgroup2 mount; NULL: unknown */
	const char *runtime; /* NULL: none */
	const char *container_id; /* NULL or "": none */
	const char *name;
};

/* One workload over one interval (or the whole run, for a summary). */
struct out_row {
	enum out_row_type type;
	struct timespec ts; /* CLOCK_REALTIME at the end of the interval */
	double interval_s;
	struct out_workload wl;

	uint64_t cpu_ns;
	uint64_t cycles;
	const char *cycles_source; /* "pmu" or "tsc-estimate" */

	uint64_t read_ops, write_ops, read_bytes, write_bytes;
	double lat_p50_us, lat_p99_us; /* < 0: no I/O, written as null */

	double iops;
	double cycles_per_io; /* < 0: no I/O, written as null */
};

/* iotrace's own accounting problems over an interval (JSON only). */
struct out_self {
	struct timespec ts;
	double interval_s;
	uint64_t stats_full; /* events lost: workload table full */
	uint64_t inflight_full; /* in-flight table full */
	uint64_t rq_no_owner; /* requests charged to "unattributed" */
	uint64_t unseen_complete; /* completions whose issue was not seen */
	uint64_t pmu_read_fail;
	uint64_t prog_missed; /* handler runs the kernel skipped (nested) */
	uint64_t recovered; /* missed completions counted late */
	uint64_t cgroups_untracked; /* cgroups the name cache had no room for */
	int64_t inflight_at_exit; /* < 0: not counted (interval lines), null */
};

struct out_writer {
	FILE *f;
	enum out_format fmt;
	bool header_done;
};

void out_init(struct out_writer *w, FILE *f, enum out_format fmt);

/* Write one row; the CSV header goes before the first row. 0 or -errno. */
int out_row(struct out_writer *w, const struct out_row *r);

/* Write a "self" line in JSON; CSV has no place for it and ignores it. */
int out_self(struct out_writer *w, const struct out_self *s);

/* Format ts as RFC 3339 UTC with milliseconds: 2026-11-25T02:46:33.123Z */
void out_format_ts(const struct timespec *ts, char *buf, size_t len);

/* The CSV header line (without newline), for tests and docs. */
const char *out_csv_header(void);

#endif
