// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of `iotrace report` (user/report_agg.c, user/report.c) on
 * recordings written with the real writer (user/iotr.c) into a scratch
 * directory: totals, CONTINUED interval copies not counted twice,
 * percentiles of summed histograms, the peak interval, --by, --sort and
 * --top, an empty recording, damaged ones, and the command's errors.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "fake_fs.h"
#include "hist.h"
#include "iotr.h"
#include "report.h"
#include "report_agg.h"

#define T0 1795574794000000000ULL
#define SEC 1000000000ULL
#define TSC_HZ 2000000000ULL

static const struct iotr_info info = {
	.created_ns = T0 - SEC,
	.tsc_hz = TSC_HZ,
	.hostname = "testhost",
	.version = "0.1.0",
	.cycles_source = "tsc-estimate",
};

/* ---- Writing recordings ---- */

static char path_buf[4][256];

/* A file name in the test's scratch directory (four at a time). */
static const char *tpath(void **state, const char *name)
{
	static int next;
	char *p = path_buf[next++ % 4];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", (const char *)*state, name);
	return p;
}

static struct iotr_writer *wopen(const char *path)
{
	struct iotr_writer *w = NULL;

	assert_int_equal(iotr_writer_open(&w, path, &info, 0), 0);
	return w;
}

static void interval(struct iotr_writer *w, uint64_t ts, uint64_t len, uint32_t flags)
{
	struct iotr_interval iv = { .ts_ns = ts, .interval_ns = len, .flags = flags };

	assert_int_equal(iotr_write_interval(w, &iv), 0);
}

static struct iotr_workload cg(uint64_t id, const char *name)
{
	struct iotr_workload r = {
		.kind = IOTR_KIND_CGROUP,
		.cgroup_id = id,
		.name = name,
		.cgroup_path = name,
	};

	return r;
}

static void row(struct iotr_writer *w, const struct iotr_workload *r)
{
	assert_int_equal(iotr_write_workload(w, r), 0);
}

static void flush(struct iotr_writer *w)
{
	assert_int_equal(iotr_writer_flush(w), 0);
}

/* ---- Reading them ---- */

static int agg_file(const char *path, enum report_by by, struct report_agg *a)
{
	struct iotr_reader *r = NULL;
	char err[256];
	int e;

	e = iotr_reader_open(&r, path, err, sizeof(err));
	if (e)
		return e;
	assert_int_equal(report_agg_init(a, by, iotr_reader_header(r)->tsc_hz), 0);
	e = report_agg_read(a, r);
	iotr_reader_close(r);
	return e;
}

static const struct report_wl *find(const struct report_agg *a, const char *name)
{
	for (size_t i = 0; i < a->nwl; i++)
		if (a->wl[i]->name && !strcmp(a->wl[i]->name, name))
			return a->wl[i];
	fail_msg("no row named %s", name);
	return NULL;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Offsets of the blocks of a well-formed recording, from the format's lengths. */
static size_t block_offsets(const uint8_t *buf, size_t len, size_t *off, size_t max)
{
	size_t at = le32(buf + 12), n = 0;

	while (at + IOTR_BLOCK_HDR_LEN <= len && n < max) {
		off[n++] = at;
		at += IOTR_BLOCK_HDR_LEN + le32(buf + at + 8);
	}
	return n;
}

/* Run `iotrace report` with the arguments, NULL-terminated; its exit status. */
static int run_report(const char *arg, ...)
{
	char *argv[16] = { "report" };
	int argc = 1;
	va_list ap;

	va_start(ap, arg);
	for (const char *a = arg; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	return cmd_report(argc, argv);
}

/* ---- A recording with known figures ---- */

/*
 * Three 1 s intervals and the summary.  "a" reads 100, 300, 200 times and
 * writes 10 each interval; "b" only burns CPU; the container "web" sends
 * packets.  Latency: "a" has 100 I/Os at ~1 µs (slot 10) in interval 1,
 * 300 at ~1 ms (slot 20) in interval 2, 200 at ~1 µs in interval 3.
 */
static const uint64_t reads[3] = { 100, 300, 200 };

static void write_known(const char *path, bool summary)
{
	struct iotr_writer *w = wopen(path);
	uint64_t hist[3][40] = { { 0 } }, total_hist[40] = { 0 };
	struct iotr_workload a, b, web;
	struct iotr_self s = { .rq_no_owner = 1, .inflight_at_exit = -1 };

	hist[0][10] = 110;
	hist[1][20] = 310;
	hist[2][10] = 210;
	for (int i = 0; i < 3; i++) {
		interval(w, T0 + (i + 1) * SEC, SEC, 0);
		a = cg(100, "a");
		a.cpu_ns = 10000000;
		a.cycles = 20000000;
		a.read_ops = reads[i];
		a.write_ops = 10;
		a.read_bytes = reads[i] * 4096;
		a.write_bytes = 10 * 4096;
		a.lat_hist = hist[i];
		a.lat_slots = 40;
		row(w, &a);
		b = cg(200, "b");
		b.cpu_ns = 900000000;
		b.cycles = 1800000000;
		row(w, &b);
		web = cg(300, "web");
		web.kind = IOTR_KIND_CONTAINER;
		web.container_id = "4f3c";
		web.runtime = "docker";
		web.flags = IOTR_WL_NET;
		web.cpu_ns = 50000000;
		web.cycles = 100000000;
		web.tx_packets = 1000;
		web.rx_packets = 1000;
		web.softirq_ns = 1000000;
		row(w, &web);
		if (i == 1)
			assert_int_equal(iotr_write_self(w, &s), 0);
		flush(w);
	}
	if (summary) {
		interval(w, T0 + 3 * SEC + SEC / 10, 3 * SEC, IOTR_IVL_SUMMARY);
		for (int j = 0; j < 40; j++)
			total_hist[j] = hist[0][j] + hist[1][j] + hist[2][j];
		a = cg(100, "a");
		a.cpu_ns = 30000000;
		a.cycles = 60000000;
		a.read_ops = 600;
		a.write_ops = 30;
		a.read_bytes = 600 * 4096;
		a.write_bytes = 30 * 4096;
		a.lat_hist = total_hist;
		a.lat_slots = 40;
		row(w, &a);
		b = cg(200, "b");
		b.cpu_ns = 2700000000;
		b.cycles = 5400000000;
		row(w, &b);
		web = cg(300, "web");
		web.kind = IOTR_KIND_CONTAINER;
		web.container_id = "4f3c";
		web.runtime = "docker";
		web.flags = IOTR_WL_NET;
		web.cpu_ns = 150000000;
		web.cycles = 300000000;
		web.tx_packets = 3000;
		web.rx_packets = 3000;
		web.softirq_ns = 3000000;
		row(w, &web);
		s.inflight_at_exit = 2;
		assert_int_equal(iotr_write_self(w, &s), 0);
	}
	assert_int_equal(iotr_writer_close(w), 0);
}

static void test_totals(void **state)
{
	const char *p = tpath(state, "known.iotr");
	const struct report_wl *a, *b, *web;
	struct report_derived d;
	struct report_agg agg;

	write_known(p, true);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	assert_int_equal(agg.intervals, 3);
	assert_int_equal(agg.covered_ns, 3 * SEC);
	assert_int_equal(agg.first_start_ns, T0);
	assert_int_equal(agg.last_ts_ns, T0 + 3 * SEC);
	assert_int_equal(agg.nwl, 3);
	assert_false(agg.used_summary);
	assert_true(agg.summary_seen);
	assert_true(agg.summary_checked);
	assert_int_equal(agg.summary_mismatches, 0);

	a = find(&agg, "a");
	assert_int_equal(a->intervals, 3);
	assert_int_equal(a->iv.read_ops, 600);
	assert_int_equal(a->iv.write_ops, 30);
	assert_int_equal(a->iv.read_bytes, 600 * 4096);
	assert_int_equal(a->iv.cpu_ns, 30000000);
	assert_int_equal(a->first_ts_ns, T0 + SEC);
	assert_int_equal(a->last_ts_ns, T0 + 3 * SEC);
	report_derive(&agg, a, &d);
	assert_true(fabs(d.iops - 210.0) < 1e-9);
	assert_true(fabs(d.cpu_pct - 1.0) < 1e-9);
	assert_true(fabs(d.cpu_s - 0.03) < 1e-12);
	assert_true(fabs(d.cycles_per_io - 60000000.0 / 630) < 1e-6);
	assert_true(d.packets_per_s < 0); /* no network figures: null */
	assert_true(d.exits_per_io < 0);

	b = find(&agg, "b");
	report_derive(&agg, b, &d);
	assert_true(fabs(d.cpu_pct - 90.0) < 1e-9);
	assert_true(d.cycles_per_io < 0); /* no I/O: null */
	assert_true(d.lat_p50_us < 0);

	web = find(&agg, "web");
	report_derive(&agg, web, &d);
	assert_true(fabs(d.packets_per_s - 2000.0) < 1e-9);
	/* (cycles + softirq ns at the TSC rate) per packet */
	assert_true(fabs(d.cycles_per_io - (300000000.0 + 3000000.0 * 2) / 6000) < 1e-6);

	/* The self records: the summary's, with the exit's in-flight count. */
	assert_true(agg.self_summary_seen);
	assert_int_equal(agg.self_summary.inflight_at_exit, 2);
	assert_int_equal(agg.self.rq_no_owner, 1);
	report_agg_free(&agg);
}

static void test_percentiles_from_summed_histograms(void **state)
{
	const char *p = tpath(state, "known.iotr");
	uint64_t sum[40] = { 0 };
	struct report_derived d;
	struct report_agg agg;

	write_known(p, true);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	report_derive(&agg, find(&agg, "a"), &d);
	sum[10] = 320;
	sum[20] = 310;
	assert_true(fabs(d.lat_p50_us - hist_percentile_ns(sum, 40, 50) / 1000) < 1e-9);
	assert_true(fabs(d.lat_p99_us - hist_percentile_ns(sum, 40, 99) / 1000) < 1e-9);
	/* 320 of 630 at ~1 µs: the median is in slot 10, the p99 in slot 20. */
	assert_true(d.lat_p50_us >= 1.024 && d.lat_p50_us < 2.048);
	assert_true(d.lat_p99_us >= 1048.576 && d.lat_p99_us < 2097.152);
	report_agg_free(&agg);
}

static void test_peak_interval(void **state)
{
	const char *p = tpath(state, "known.iotr");
	const struct report_wl *a, *web;
	struct report_derived d;
	struct report_agg agg;

	write_known(p, true);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	a = find(&agg, "a");
	/* 310 operations in interval 2, the most. */
	assert_int_equal(a->peak.ts_ns, T0 + 2 * SEC);
	assert_int_equal(a->peak.block_ops, 310);
	report_derive(&agg, a, &d);
	assert_true(fabs(d.peak_iops - 310.0) < 1e-9);
	/* Equal intervals: the first one is the peak. */
	web = find(&agg, "web");
	assert_int_equal(web->peak.ts_ns, T0 + SEC);
	assert_int_equal(web->peak.packets, 2000);
	/* No I/O at all: no peak. */
	report_derive(&agg, find(&agg, "b"), &d);
	assert_true(d.peak_iops < 0);
	report_agg_free(&agg);
}

/* An interval whose rows span several blocks is one interval. */
static void test_continued_not_double_counted(void **state)
{
	const char *p = tpath(state, "big.iotr");
	struct iotr_writer *w = wopen(p);
	struct iotr_reader *r = NULL;
	static char name[1200];
	struct report_agg agg;
	struct iotr_workload x;
	uint64_t total = 0;
	char err[256];
	int nrows = 2000;

	memset(name, 'n', sizeof(name) - 16);
	for (int iv = 0; iv < 2; iv++) {
		interval(w, T0 + (iv + 1) * SEC, SEC, 0);
		for (int i = 0; i < nrows; i++) {
			/* Names that do not compress, so that the interval passes 1 MiB. */
			snprintf(name + sizeof(name) - 16, 16, "%d", i);
			for (int j = 0; j < 64; j++)
				name[j] = 'a' + (char)((i * 7 + j * 13 + iv) % 26);
			x = cg(1000 + i, name);
			x.read_ops = 1;
			x.cpu_ns = 1000;
			row(w, &x);
		}
		flush(w);
	}
	assert_true(iotr_writer_blocks(w) > 2);
	assert_int_equal(iotr_writer_close(w), 0);

	assert_int_equal(iotr_reader_open(&r, p, err, sizeof(err)), 0);
	assert_int_equal(report_agg_init(&agg, REPORT_BY_CGROUP, 0), 0);
	assert_int_equal(report_agg_read(&agg, r), 0);
	assert_true(iotr_reader_stats(r)->blocks > 2);
	iotr_reader_close(r);
	assert_int_equal(agg.intervals, 2);
	assert_int_equal(agg.covered_ns, 2 * SEC);
	assert_int_equal(agg.partial_intervals, 0);
	assert_int_equal(agg.nwl, (size_t)nrows);
	for (size_t i = 0; i < agg.nwl; i++) {
		assert_int_equal(agg.wl[i]->intervals, 2);
		total += agg.wl[i]->iv.read_ops;
	}
	assert_int_equal(total, 2 * nrows);
	report_agg_free(&agg);
}

/* The same through the record interface, with a lost first block. */
static void test_continued_records(void **state)
{
	struct iotr_record iv = { .type = IOTR_REC_INTERVAL }, wl = { .type = IOTR_REC_WORKLOAD };
	struct report_agg agg;

	(void)state;
	assert_int_equal(report_agg_init(&agg, REPORT_BY_CGROUP, 0), 0);
	/* Block 0: interval 1 starts. */
	report_agg_block(&agg);
	iv.interval = (struct iotr_interval){ .ts_ns = T0 + SEC, .interval_ns = SEC };
	assert_int_equal(report_agg_record(&agg, &iv), 0);
	wl.wl = cg(1, "x");
	wl.wl.read_ops = 5;
	assert_int_equal(report_agg_record(&agg, &wl), 0);
	/* Block 1: interval 1 goes on. */
	report_agg_block(&agg);
	iv.interval.flags = IOTR_IVL_CONTINUED;
	assert_int_equal(report_agg_record(&agg, &iv), 0);
	wl.wl = cg(2, "y");
	wl.wl.read_ops = 7;
	assert_int_equal(report_agg_record(&agg, &wl), 0);
	/* Block 2's interval record was unreadable: its rows have no interval. */
	report_agg_block(&agg);
	assert_int_equal(report_agg_record(&agg, &wl), 0);
	/* Block 3: a CONTINUED copy of interval 2, whose first block was lost. */
	report_agg_block(&agg);
	iv.interval = (struct iotr_interval){ .ts_ns = T0 + 2 * SEC,
					      .interval_ns = SEC,
					      .flags = IOTR_IVL_CONTINUED };
	assert_int_equal(report_agg_record(&agg, &iv), 0);
	assert_int_equal(report_agg_record(&agg, &wl), 0);
	report_agg_finish(&agg, true);

	assert_int_equal(agg.intervals, 2);
	assert_int_equal(agg.partial_intervals, 1);
	assert_int_equal(agg.rows_orphan, 1);
	assert_int_equal(agg.nwl, 2);
	assert_int_equal(find(&agg, "x")->iv.read_ops, 5);
	assert_int_equal(find(&agg, "y")->iv.read_ops, 14);
	assert_int_equal(find(&agg, "y")->intervals, 2);
	assert_false(agg.summary_checked);
	report_agg_free(&agg);
}

static void write_mixed(const char *path)
{
	struct iotr_writer *w = wopen(path);
	struct iotr_workload r;

	for (int i = 0; i < 2; i++) {
		interval(w, T0 + (i + 1) * SEC, SEC, 0);
		/* The container restarted: same id, a new cgroup. */
		r = cg(i ? 301 : 300, "web");
		r.kind = IOTR_KIND_CONTAINER;
		r.container_id = "4f3c";
		r.read_ops = 10;
		r.cpu_ns = 100;
		row(w, &r);
		r = cg(400, "db");
		r.kind = IOTR_KIND_CONTAINER;
		r.container_id = "9a9a";
		r.read_ops = 1;
		r.cpu_ns = 1000;
		row(w, &r);
		r = cg(500, "plain");
		r.cpu_ns = 50;
		row(w, &r);
		/* A VM process, and its cgroup's row. */
		r = cg(600, "guest");
		r.kind = IOTR_KIND_VM;
		r.flags = IOTR_WL_VM;
		r.pid = 4242;
		r.cpu_ns = 10;
		r.read_ops = 4;
		r.exits = 8;
		row(w, &r);
		r = cg(600, "machine-guest");
		r.kind = IOTR_KIND_VM;
		r.cpu_ns = 20;
		row(w, &r);
		flush(w);
	}
	assert_int_equal(iotr_writer_close(w), 0);
}

static void test_by(void **state)
{
	const char *p = tpath(state, "mixed.iotr");
	const struct report_wl *web, *guest;
	struct report_derived d;
	struct report_agg agg;

	write_mixed(p);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	assert_int_equal(agg.nwl, 6); /* web twice: two cgroups */
	assert_false(agg.summary_seen);
	report_agg_free(&agg);

	assert_int_equal(agg_file(p, REPORT_BY_CONTAINER, &agg), 0);
	assert_int_equal(agg.nwl, 2);
	web = find(&agg, "web");
	assert_int_equal(web->iv.read_ops, 20);
	assert_int_equal(web->intervals, 2);
	assert_int_equal(web->cgroup_id, 301); /* the last one */
	assert_string_equal(web->container_id, "4f3c");
	assert_int_equal(find(&agg, "db")->iv.cpu_ns, 2000);
	assert_int_equal(agg.rows_filtered, 6);
	report_agg_free(&agg);

	assert_int_equal(agg_file(p, REPORT_BY_VM, &agg), 0);
	assert_int_equal(agg.nwl, 1);
	guest = find(&agg, "guest");
	assert_int_equal(guest->pid, 4242);
	assert_int_equal(guest->iv.exits, 16);
	report_derive(&agg, guest, &d);
	assert_true(fabs(d.exits_per_io - 2.0) < 1e-12);
	report_agg_free(&agg);
}

static void test_sort(void **state)
{
	const char *p = tpath(state, "known.iotr");
	struct report_agg agg;

	write_known(p, true);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	report_sort(&agg, REPORT_SORT_CPU);
	assert_string_equal(agg.wl[0]->name, "b");
	assert_string_equal(agg.wl[1]->name, "web");
	assert_string_equal(agg.wl[2]->name, "a");
	report_sort(&agg, REPORT_SORT_IOPS);
	assert_string_equal(agg.wl[0]->name, "a");
	report_sort(&agg, REPORT_SORT_PACKETS);
	assert_string_equal(agg.wl[0]->name, "web");
	report_sort(&agg, REPORT_SORT_P99);
	assert_string_equal(agg.wl[0]->name, "a");
	report_sort(&agg, REPORT_SORT_CYCLES_PER_IO);
	assert_string_equal(agg.wl[0]->name, "a"); /* 95k per I/O, web 51k, b none */
	assert_string_equal(agg.wl[2]->name, "b");
	report_sort(&agg, REPORT_SORT_NAME);
	assert_string_equal(agg.wl[0]->name, "a");
	assert_string_equal(agg.wl[1]->name, "b");
	report_agg_free(&agg);
}

static size_t count_lines(const char *s, const char *prefix)
{
	size_t n = 0;

	for (const char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		n += !strncmp(l, prefix, strlen(prefix));
	return n;
}

static void test_command_json_csv_table(void **state)
{
	const char *p = tpath(state, "known.iotr"), *out = tpath(state, "out");
	uint8_t *buf;
	size_t len;

	write_known(p, true);
	assert_int_equal(run_report(p, "--format", "json", "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_int_equal(count_lines((char *)buf, "{\"type\":\"report\""), 1);
	assert_int_equal(count_lines((char *)buf, "{\"type\":\"workload\""), 3);
	assert_non_null(strstr((char *)buf, "\"read_ops\":600,\"write_ops\":30,"));
	assert_non_null(strstr((char *)buf, "\"summary\":{\"present\":true,\"checked\":true,"
					    "\"mismatches\":0}"));
	assert_non_null(strstr((char *)buf, "\"intact\":true"));
	assert_null(strstr((char *)buf, ":nan"));
	assert_null(strstr((char *)buf, ":-nan"));
	assert_null(strstr((char *)buf, ":inf"));
	free(buf);

	assert_int_equal(run_report(p, "--top", "2", "-f", "json", "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_int_equal(count_lines((char *)buf, "{\"type\":\"workload\""), 2);
	assert_non_null(strstr((char *)buf, "\"rank\":1,\"workload\":{\"kind\":\"cgroup\","
					    "\"cgroup_id\":200"));
	assert_non_null(strstr((char *)buf, "\"workloads\":3,\"shown\":2"));
	free(buf);

	assert_int_equal(run_report("-f", "csv", p, "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_int_equal(strncmp((char *)buf, "rank,workload.kind,", 19), 0);
	assert_int_equal(count_lines((char *)buf, ""), 4);
	/* Every line has as many fields as the header. */
	{
		size_t commas[4] = { 0 }, line = 0;

		for (size_t i = 0; i < len; i++) {
			if (buf[i] == ',')
				commas[line]++;
			else if (buf[i] == '\n')
				line++;
		}
		assert_int_equal(line, 4);
		for (int i = 1; i < 4; i++)
			assert_int_equal(commas[i], commas[0]);
	}
	free(buf);

	assert_int_equal(run_report(p, "--by", "container", "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_non_null(strstr((char *)buf, "by container, sort cpu: 1 workloads, 1 shown"));
	assert_non_null(strstr((char *)buf, "\nweb  container"));
	free(buf);
}

static struct advice_finding finding(const char *id, const char *summary)
{
	struct advice_finding f;

	memset(&f, 0, sizeof(f));
	f.id = id;
	f.severity = ADVICE_WARNING;
	snprintf(f.summary, sizeof(f.summary), "%s", summary);
	snprintf(f.source, sizeof(f.source), "iotrace: test");
	snprintf(f.remedy, sizeof(f.remedy), "docker run --net=host");
	snprintf(f.saving_basis, sizeof(f.saving_basis), "measured");
	f.evidence[f.nevidence++] = (struct advice_fig){
		.key = "ratio", .type = ADVICE_FIG_NUM, .num = 1.25, .prec = 3
	};
	f.evidence[f.nevidence] = (struct advice_fig){ .key = "bridge", .type = ADVICE_FIG_STR };
	snprintf(f.evidence[f.nevidence++].str, sizeof(f.evidence[0].str), "br0");
	f.saving[f.nsaving++] = (struct advice_fig){
		.key = "cycles_per_byte", .type = ADVICE_FIG_NUM, .num = 0.5, .prec = 2
	};
	return f;
}

/* Findings follow their summary row in the recording and come out with that row only. */
static void test_findings(void **state)
{
	const char *p = tpath(state, "find.iotr"), *out = tpath(state, "out");
	struct iotr_workload a = cg(100, "a"), b = cg(200, "b");
	struct advice_finding f1 = finding("net.nat", "a goes through NAT"),
			      f2 = finding("storage.writable_layer", "a writes to its layer");
	struct iotr_writer *w = wopen(p);
	struct report_agg agg;
	const struct report_wl *r;
	uint8_t *buf;
	size_t len;

	a.read_ops = 5;
	b.read_ops = 7;
	interval(w, T0 + SEC, SEC, 0);
	row(w, &a);
	row(w, &b);
	/* A finding after an interval row belongs to no summary: left out. */
	assert_int_equal(iotr_write_finding(w, &f1), 0);
	interval(w, T0 + SEC, SEC, IOTR_IVL_SUMMARY);
	row(w, &a);
	assert_int_equal(iotr_write_finding(w, &f1), 0);
	assert_int_equal(iotr_write_finding(w, &f2), 0);
	row(w, &b);
	flush(w);
	assert_int_equal(iotr_writer_close(w), 0);

	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	r = find(&agg, "a");
	assert_int_equal(r->nfindings, 2);
	assert_string_equal(r->findings[0].f.id, "net.nat");
	assert_string_equal(r->findings[0].f.summary, "a goes through NAT");
	assert_int_equal(r->findings[0].f.nevidence, 2);
	assert_string_equal(r->findings[0].f.evidence[1].key, "bridge");
	assert_string_equal(r->findings[0].f.evidence[1].str, "br0");
	assert_string_equal(r->findings[1].f.id, "storage.writable_layer");
	assert_int_equal(find(&agg, "b")->nfindings, 0);
	assert_int_equal(agg.findings_orphan, 1);
	report_agg_free(&agg);

	assert_int_equal(run_report(p, "--format", "json", "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_non_null(strstr(
		(char *)buf, "\"findings\":[{\"id\":\"net.nat\",\"severity\":\"warning\","
			     "\"summary\":\"a goes through NAT\",\"evidence\":{\"ratio\":1.250,"
			     "\"bridge\":\"br0\",\"source\":\"iotrace: test\"},"
			     "\"remedy\":\"docker run --net=host\",\"saving\":{\"estimated\":true,"
			     "\"cycles_per_byte\":0.50,\"basis\":\"measured\"}},{\"id\":"
			     "\"storage.writable_layer\""));
	assert_non_null(strstr((char *)buf, "\"findings\":[]}"));
	free(buf);
	assert_int_equal(run_report(p, "--format", "csv", "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_non_null(strstr((char *)buf, ",findings\n"));
	assert_non_null(strstr((char *)buf, ",net.nat storage.writable_layer\n"));
	free(buf);
	assert_int_equal(run_report(p, "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_non_null(
		strstr((char *)buf, "Findings (from the run's summary, docs/advice.md): 2"));
	assert_non_null(strstr((char *)buf, "[warning] net.nat  a\n"));
	free(buf);
}

static void test_empty(void **state)
{
	const char *p = tpath(state, "empty.iotr"), *out = tpath(state, "out");
	struct report_agg agg;
	uint8_t *buf;
	size_t len;

	assert_int_equal(iotr_writer_close(wopen(p)), 0);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	assert_int_equal(agg.intervals, 0);
	assert_int_equal(agg.nwl, 0);
	assert_false(agg.used_summary);
	report_agg_free(&agg);
	assert_int_equal(run_report(p, "-f", "json", "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_non_null(strstr((char *)buf, "\"start\":null,\"end\":null,\"duration_s\":0.000,"
					    "\"intervals\":0"));
	assert_int_equal(count_lines((char *)buf, ""), 1);
	free(buf);
	assert_int_equal(run_report(p, "-o", out, NULL), 0);
}

/*
 * Block 1 (interval 2) gets a flipped byte in its payload, and the summary
 * block is cut short: the report is intervals 1 and 3, says so, and exits 0.
 */
static void test_damaged(void **state)
{
	const char *p = tpath(state, "known.iotr"), *out = tpath(state, "out");
	size_t off[8], n, len;
	struct report_agg agg;
	const struct report_wl *a;
	uint8_t *buf;

	write_known(p, true);
	buf = slurp(p, &len);
	n = block_offsets(buf, len, off, 8);
	assert_int_equal(n, 4);
	buf[off[1] + IOTR_BLOCK_HDR_LEN + 5] ^= 0x40;
	spit(p, buf, off[3] + IOTR_BLOCK_HDR_LEN + 3);
	free(buf);

	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	assert_int_equal(agg.intervals, 2);
	assert_int_equal(agg.covered_ns, 2 * SEC);
	assert_false(agg.summary_seen);
	assert_false(agg.summary_checked);
	a = find(&agg, "a");
	assert_int_equal(a->iv.read_ops, reads[0] + reads[2]);
	assert_int_equal(a->intervals, 2);
	assert_int_equal(a->peak.ts_ns, T0 + 3 * SEC);
	report_agg_free(&agg);

	assert_int_equal(run_report(p, "-f", "json", "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_non_null(strstr((char *)buf, "\"intact\":false"));
	assert_non_null(strstr((char *)buf, "\"read_ops\":300,"));
	{
		char want[128];

		snprintf(want, sizeof(want), "{\"kind\":\"corrupt\",\"offset\":%zu,", off[1]);
		assert_non_null(strstr((char *)buf, want));
		snprintf(want, sizeof(want), "\"truncated_at\":%zu,", off[3]);
		assert_non_null(strstr((char *)buf, want));
		snprintf(want, sizeof(want), "{\"kind\":\"truncated\",\"offset\":%zu,", off[3]);
		assert_non_null(strstr((char *)buf, want));
	}
	free(buf);
	/* The table says it too. */
	assert_int_equal(run_report(p, "-o", out, NULL), 0);
	buf = slurp(out, &len);
	assert_non_null(strstr((char *)buf, "recording damaged: "));
	free(buf);
}

/* Every interval lost, the summary intact: the summary is the report. */
static void test_summary_fallback(void **state)
{
	const char *p = tpath(state, "known.iotr");
	size_t off[8], len;
	struct report_agg agg;
	struct report_derived d;
	uint8_t *buf;

	write_known(p, true);
	buf = slurp(p, &len);
	assert_int_equal(block_offsets(buf, len, off, 8), 4);
	for (int i = 0; i < 3; i++)
		buf[off[i] + 20] ^= 1; /* the header checksum fails */
	spit(p, buf, len);
	free(buf);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	assert_int_equal(agg.intervals, 0);
	assert_true(agg.used_summary);
	assert_int_equal(agg.nwl, 3);
	report_derive(&agg, find(&agg, "a"), &d);
	assert_int_equal(d.c->read_ops, 600);
	assert_true(fabs(d.iops - 600 / 3.0 - 10) < 1e-9);
	assert_true(d.peak_iops < 0);
	report_agg_free(&agg);
}

static void test_summary_mismatch(void **state)
{
	const char *p = tpath(state, "bad-summary.iotr");
	struct iotr_writer *w = wopen(p);
	struct iotr_workload r = cg(1, "x");
	struct report_agg agg;

	interval(w, T0 + SEC, SEC, 0);
	r.read_ops = 5;
	row(w, &r);
	flush(w);
	interval(w, T0 + SEC, SEC, IOTR_IVL_SUMMARY);
	r.read_ops = 6;
	row(w, &r);
	assert_int_equal(iotr_writer_close(w), 0);
	assert_int_equal(agg_file(p, REPORT_BY_CGROUP, &agg), 0);
	assert_true(agg.summary_checked);
	assert_int_equal(agg.summary_mismatches, 1);
	assert_int_equal(agg.wl[0]->iv.read_ops, 5); /* the intervals win */
	report_agg_free(&agg);
}

static void test_command_errors(void **state)
{
	const char *p = tpath(state, "known.iotr"), *q = tpath(state, "other");
	uint8_t *buf;
	size_t len, off[8];

	write_known(p, true);
	/* Bad arguments: 2. */
	assert_int_equal(run_report(NULL), 2);
	assert_int_equal(run_report(p, p, NULL), 2);
	assert_int_equal(run_report(p, "--format", "xml", NULL), 2);
	/* A missing file, a foreign one, a future one: 1. */
	assert_int_equal(run_report(tpath(state, "missing.iotr"), NULL), 1);
	spit(q, (const uint8_t *)"root:x:0:0:root:/root:/bin/bash\n", 32);
	assert_int_equal(run_report(q, NULL), 1);
	buf = slurp(p, &len);
	buf[8] = 2; /* major 2 */
	spit(q, buf, len);
	assert_int_equal(run_report(q, NULL), 1);
	/* Nothing readable at all: 1. */
	buf[8] = 1;
	assert_int_equal(block_offsets(buf, len, off, 8), 4);
	for (int i = 0; i < 4; i++)
		buf[off[i] + 20] ^= 1;
	spit(q, buf, len);
	assert_int_equal(run_report(q, NULL), 1);
	free(buf);
	/* An output that cannot be opened or written: 1. */
	assert_int_equal(run_report(p, "-o", tpath(state, "no/such/dir"), NULL), 1);
	assert_int_equal(run_report(p, "-o", "/dev/full", NULL), 1);
	assert_int_equal(run_report(p, "-f", "json", "-o", "/dev/full", NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_totals, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_percentiles_from_summed_histograms,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_peak_interval, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_continued_not_double_counted, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_continued_records),
		cmocka_unit_test_setup_teardown(test_by, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sort, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_command_json_csv_table, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_findings, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_empty, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_damaged, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_summary_fallback, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_summary_mismatch, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_command_errors, tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
