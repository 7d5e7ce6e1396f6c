// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace record`: attach, then every interval read the maps into the
 * workload table and write a line per active workload; at the end (duration
 * or SIGINT/SIGTERM) write a summary line per workload seen during the run.
 * The line contract is docs/record-format.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroupfs.h"
#include "classify.h"
#include "cli.h"
#include "collector.h"
#include "cycles.h"
#include "hist.h"
#include "loader.h"
#include "output.h"
#include "record.h"
#include "wltable.h"

#define DOCKER_ROOT "/var/lib/docker"

struct recorder {
	const struct record_opts *o;
	char mount[4096];
	struct cgfs_cache *cache;
	uint64_t filter[CLI_MAX_CGROUPS];
	int nfilter;
	struct loader loader;
	struct collector coll;
	struct wl_table table;
	struct out_writer out;
	FILE *f;
	uint64_t tsc_hz;
	double run_s;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool wanted(const struct recorder *r, uint64_t id)
{
	if (!r->nfilter)
		return true;
	for (int i = 0; i < r->nfilter; i++)
		if (r->filter[i] == id)
			return true;
	return false;
}

static int resolve_filters(struct recorder *r)
{
	char rel[4096];
	int err;

	for (int i = 0; i < r->o->ncgroups; i++) {
		const char *arg = r->o->cgroups[i];

		err = cgfs_normalize(r->mount, arg, rel, sizeof(rel));
		if (!err)
			err = cgfs_path_to_id(r->mount, rel, &r->filter[i]);
		if (err) {
			fprintf(stderr,
				"iotrace: --cgroup %s: no such cgroup under the cgroup2 mount %s (%s); "
				"give a path relative to it, e.g. /system.slice, or an absolute path "
				"inside it\n",
				arg, r->mount, strerror(-err));
			return err;
		}
	}
	r->nfilter = r->o->ncgroups;
	return 0;
}

/* Name a workload once: path from the cgroup tree, then runtime and name. */
static void identify(struct recorder *r, struct wl_entry *e, bool *refreshed)
{
	if (e->named)
		return;
	if (e->id == IOTRACE_UNATTRIBUTED_ID) {
		e->cls.kind = WL_KIND_HOST;
		e->cls.runtime = NULL;
		snprintf(e->cls.name, sizeof(e->cls.name), "unattributed");
		e->named = true;
		return;
	}
	if (cgfs_cache_lookup(r->cache, e->id, e->path, sizeof(e->path)) && !*refreshed) {
		cgfs_cache_refresh(r->cache);
		*refreshed = true;
	}
	if (cgfs_cache_lookup(r->cache, e->id, e->path, sizeof(e->path)) == 0) {
		e->path_known = true;
		wl_classify(e->path, &e->cls);
		if (e->cls.runtime && !strcmp(e->cls.runtime, "docker"))
			wl_name_from_runtime(&e->cls, DOCKER_ROOT);
	} else {
		/* Gone before we could see it: still reported, by id. */
		e->cls.kind = WL_KIND_CGROUP;
		e->cls.runtime = NULL;
		e->cls.container_id[0] = '\0';
		snprintf(e->cls.name, sizeof(e->cls.name), "cgroup-%llu",
			 (unsigned long long)e->id);
	}
	e->named = true;
}

static void fill_row(const struct recorder *r, struct out_row *row, const struct wl_entry *e,
		     const struct wl_counters *c, enum out_row_type type, double interval_s)
{
	uint64_t ops = wl_counters_ops(c);
	double p;

	memset(row, 0, sizeof(*row));
	row->type = type;
	clock_gettime(CLOCK_REALTIME, &row->ts);
	row->interval_s = interval_s;
	row->wl.kind = e->cls.kind;
	row->wl.cgroup_id = e->id;
	row->wl.cgroup_path = e->path_known ? e->path : NULL;
	row->wl.runtime = e->cls.runtime;
	row->wl.container_id = e->cls.container_id;
	row->wl.name = e->cls.name;

	row->cpu_ns = c->cpu_ns;
	row->cycles_source = r->loader.cycles_source;
	if (r->loader.pmu_fds)
		row->cycles = c->cpu_cycles;
	else
		row->cycles = cycles_from_ns(c->cpu_ns, r->tsc_hz);

	row->read_ops = c->rd_ops;
	row->write_ops = c->wr_ops;
	row->read_bytes = c->rd_bytes;
	row->write_bytes = c->wr_bytes;
	p = hist_percentile_ns(c->lat_hist, IOTRACE_LAT_SLOTS, 50);
	row->lat_p50_us = p < 0 ? -1 : p / 1000;
	p = hist_percentile_ns(c->lat_hist, IOTRACE_LAT_SLOTS, 99);
	row->lat_p99_us = p < 0 ? -1 : p / 1000;

	row->iops = interval_s > 0 ? ops / interval_s : 0;
	row->cycles_per_io = ops ? (double)row->cycles / ops : -1;
}

static int write_row(struct recorder *r, const struct out_row *row)
{
	int err = out_row(&r->out, row);

	if (err)
		fprintf(stderr, "iotrace: cannot write to %s: %s\n",
			r->o->output ? r->o->output : "standard output", strerror(-err));
	return err;
}

static int write_self(struct recorder *r, double interval_s, const uint64_t *cnt,
		      uint64_t prog_missed, bool always)
{
	struct out_self s = { .interval_s = interval_s, .inflight_at_exit = -1 };
	uint64_t inflight;
	bool any = false;

	clock_gettime(CLOCK_REALTIME, &s.ts);
	s.stats_full = cnt[IOTRACE_CNT_STATS_FULL];
	s.inflight_full = cnt[IOTRACE_CNT_INFLIGHT_FULL];
	s.rq_no_owner = cnt[IOTRACE_CNT_RQ_NO_OWNER];
	s.unseen_complete = cnt[IOTRACE_CNT_UNSEEN_COMPLETE];
	s.pmu_read_fail = cnt[IOTRACE_CNT_PMU_READ_FAIL];
	s.recovered = cnt[IOTRACE_CNT_RECOVERED];
	s.prog_missed = prog_missed;
	s.cgroups_untracked = r->table.overflow + cgfs_cache_overflow(r->cache);
	for (int i = 0; i < IOTRACE_CNT_MAX; i++)
		any |= cnt[i] != 0;
	if (!any && !prog_missed && !s.cgroups_untracked && !always)
		return 0;
	/* The run's last line: what iotrace saw start and never saw end. */
	if (always && collector_inflight(&r->coll, &inflight) == 0)
		s.inflight_at_exit = (int64_t)inflight;
	return out_self(&r->out, &s) ? -EIO : 0;
}

/*
 * Write a row per workload: the interval's deltas of the workloads active
 * in it, or the run's totals of every workload seen; then the self line.
 */
static int emit(struct recorder *r, enum out_row_type type, double interval_s)
{
	bool summary = type == OUT_ROW_SUMMARY, refreshed = false;
	struct out_row row;
	struct wl_entry *e;
	int err;

	wl_table_for_each(&r->table, e)
	{
		if (!(summary ? e->ever_active : e->active) || !wanted(r, e->id))
			continue;
		identify(r, e, &refreshed);
		fill_row(r, &row, e, summary ? &e->total : &e->delta, type, interval_s);
		err = write_row(r, &row);
		if (err)
			return err;
	}
	err = summary ? write_self(r, interval_s, r->coll.counters, r->coll.prog_missed, true) :
			write_self(r, interval_s, r->coll.counters_delta, r->coll.prog_missed_delta,
				   false);
	if (err)
		return -EIO;
	return fflush(r->f) ? -errno : 0;
}

/* Sleep until `deadline` (monotonic s) or a stop signal. true: stop. */
static bool wait_until(const sigset_t *stopset, double deadline)
{
	double left = deadline - mono_now();
	struct timespec ts;
	int sig;

	if (left <= 0)
		return false;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
	do {
		sig = sigtimedwait(stopset, NULL, &ts);
	} while (sig < 0 && errno == EINTR);
	return sig > 0;
}

static int run_loop(struct recorder *r, const sigset_t *stopset)
{
	const struct record_opts *o = r->o;
	double t0 = mono_now(), last = t0, next = t0 + o->interval_s, now;
	bool stop = false;
	int err;

	while (!stop) {
		double deadline = next;

		if (o->duration_s > 0 && t0 + o->duration_s < deadline)
			deadline = t0 + o->duration_s;
		stop = wait_until(stopset, deadline);
		now = mono_now();
		if (o->duration_s > 0 && now - t0 >= o->duration_s - 1e-6)
			stop = true;
		err = collector_read(&r->coll, &r->table);
		if (err) {
			fprintf(stderr, "iotrace: cannot read the BPF maps: %s\n", strerror(-err));
			return err;
		}
		err = emit(r, OUT_ROW_INTERVAL, now - last);
		if (err)
			return err;
		last = now;
		while (next <= now)
			next += o->interval_s;
	}
	r->run_s = last - t0;
	return emit(r, OUT_ROW_SUMMARY, r->run_s);
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o;
	struct recorder r = { .o = &o };
	struct loader_opts lo = { 0 };
	sigset_t stopset;
	char err[2048];
	int ret = 1, e;

	switch (cli_parse_record(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_record_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace record: %s\nTry 'iotrace record --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}

	e = cgfs_find_mount("/proc/mounts", r.mount, sizeof(r.mount));
	if (e) {
		fprintf(stderr,
			"iotrace: no cgroup2 file system is mounted (%s); workloads are cgroup2 "
			"cgroups: mount it, e.g. mount -t cgroup2 none /sys/fs/cgroup/unified\n",
			strerror(-e));
		return 1;
	}
	if (resolve_filters(&r))
		return 1;
	r.cache = cgfs_cache_new(r.mount, IOTRACE_MAX_WORKLOADS);
	if (!r.cache || wl_table_init(&r.table, IOTRACE_MAX_WORKLOADS)) {
		fprintf(stderr, "iotrace: out of memory\n");
		goto out;
	}
	cgfs_cache_refresh(r.cache);
	if (cycles_tsc_hz(&r.tsc_hz)) {
		fprintf(stderr,
			"iotrace: cannot find the TSC or CPU frequency to estimate cycles\n");
		goto out;
	}

	if (o.output) {
		r.f = fopen(o.output, "w");
		if (!r.f) {
			fprintf(stderr, "iotrace: cannot open output file %s: %s\n", o.output,
				strerror(errno));
			goto out;
		}
	} else {
		r.f = stdout;
	}
	out_init(&r.out, r.f, o.format);

	/* Held pending until the loop waits for them: none is lost during load. */
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGHUP);
	sigprocmask(SIG_BLOCK, &stopset, NULL);
	/* A closed pipe on stdout must end the run cleanly, not kill it. */
	signal(SIGPIPE, SIG_IGN);

	lo.prog = o.prog;
	lo.pmu = o.pmu;
	lo.verbose = o.verbose;
	e = loader_open(&r.loader, &lo, err, sizeof(err));
	if (e) {
		fprintf(stderr, "iotrace: %s\n", err);
		goto out;
	}
	if (collector_init(&r.coll, &r.loader)) {
		fprintf(stderr, "iotrace: cannot set up the collector: out of memory\n");
		goto out;
	}
	if (!strcmp(r.loader.cycles_source, "tsc-estimate"))
		fprintf(stderr,
			"iotrace: recording (%s programs, cycles estimated at %.1f MHz TSC), "
			"interval %g s; Ctrl-C to stop\n",
			prog_mode_name(r.loader.mode), r.tsc_hz / 1e6, o.interval_s);
	else
		fprintf(stderr,
			"iotrace: recording (%s programs, cycles from %s), interval %g s; Ctrl-C "
			"to stop\n",
			prog_mode_name(r.loader.mode), r.loader.cycles_source, o.interval_s);

	ret = run_loop(&r, &stopset) ? 1 : 0;
	if (!ret && (r.coll.counters[IOTRACE_CNT_STATS_FULL] || r.table.overflow))
		fprintf(stderr,
			"iotrace: warning: %llu events lost to a full workload table, %zu workloads "
			"untracked\n",
			(unsigned long long)r.coll.counters[IOTRACE_CNT_STATS_FULL],
			r.table.overflow);
out:
	collector_free(&r.coll);
	loader_close(&r.loader);
	if (r.f && r.f != stdout && fclose(r.f) && !ret) {
		fprintf(stderr, "iotrace: cannot write to %s: %s\n", o.output, strerror(errno));
		ret = 1;
	}
	wl_table_free(&r.table);
	cgfs_cache_free(r.cache);
	return ret;
}
