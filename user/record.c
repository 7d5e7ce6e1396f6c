// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace record`: attach, then every interval read the maps into the
 * workload table and write a line per active workload; at the end (duration
 * or SIGINT/SIGTERM) write a summary line per workload seen during the run.
 * The line contract is docs/record-format.md.  With --format iotr (or an
 * output file named *.iotr) the same rows, with their latency histograms,
 * go to a compressed recording instead (user/iotr.c,
 * docs/recording-format.md), one block per interval, for `iotrace report`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advisor.h"
#include "cli.h"
#include "iotr.h"
#include "output.h"
#include "record.h"
#include "rows.h"
#include "session.h"
#include "ticks.h"
#include "version.h"

struct recorder {
	const struct record_opts *o;
	struct session s;
	struct vm_row_buf *vmrow;
	struct wl_row_buf wlrow;
	struct out_writer out;
	FILE *f; /* JSON or CSV lines; NULL when recording */
	struct iotr_writer *rec; /* the recording; NULL for lines */
	struct out_prog *progs; /* the summary's per-program figures, nlinks of them */
	struct unfinished unf; /* the summary's I/Os left in flight */
	struct advisor adv; /* the advice rules, for the summary's findings */
	bool advised; /* adv was evaluated for the summary */
	bool unf_read; /* unf holds the in-flight table as the run ended */
	double run_s;
};

/*
 * iotrace's own BPF run time: over the interval, or over the run with each
 * program's figures (always = the run's last self line).
 */
static void fill_bpf(struct recorder *r, struct out_self *self, bool always)
{
	const struct collector *c = &r->s.coll;
	struct collector_prog_stat st;
	size_t n = 0;

	self->bpf_stats = r->s.loader.stats_fd >= 0;
	if (!self->bpf_stats)
		return;
	self->bpf_run_ns = always ? c->prog_run_ns : c->prog_run_ns_delta;
	self->bpf_runs = always ? c->prog_runs : c->prog_runs_delta;
	if (!always || !r->progs)
		return;
	for (int i = 0; i < r->s.loader.nlinks; i++) {
		if (collector_prog_stat(c, i, &st))
			continue;
		r->progs[n].name = st.name;
		r->progs[n].runs = st.runs;
		r->progs[n].run_ns = st.run_ns;
		n++;
	}
	self->progs = r->progs;
	self->nprogs = n;
}

/*
 * The self line: after an interval in which something could not be
 * accounted normally, and always at the end of the run with the in-flight
 * I/Os left.
 */
static int write_self(struct recorder *r, double interval_s, const uint64_t *cnt,
		      uint64_t prog_missed, bool always)
{
	struct out_self self;
	uint64_t inflight;

	if (!rows_fill_self(&r->s, &self, cnt, prog_missed, interval_s) && !always)
		return 0;
	if (always && r->unf_read)
		self.inflight_at_exit = (int64_t)r->unf.ios;
	else if (always && collector_inflight(&r->s.coll, &inflight) == 0)
		self.inflight_at_exit = (int64_t)inflight;
	fill_bpf(r, &self, always);
	if (r->rec) {
		struct iotr_self rs;

		iotr_self_from_out(&rs, &self);
		return iotr_write_self(r->rec, &rs);
	}
	return out_self(&r->out, &self) ? -EIO : 0;
}

static void write_failed(const struct recorder *r, int err)
{
	fprintf(stderr, "iotrace: cannot write to %s: %s\n",
		r->o->output ? r->o->output : "standard output", strerror(-err));
}

/* lat_hist: the row's latency histogram (IOTRACE_LAT_SLOTS), NULL for none. */
static int write_row(struct recorder *r, const struct out_row *row, const uint64_t *lat_hist)
{
	struct iotr_workload w;
	int err;

	if (r->rec) {
		iotr_workload_from_row(&w, row, lat_hist, lat_hist ? IOTRACE_LAT_SLOTS : 0);
		err = iotr_write_workload(r->rec, &w);
		/* A recording's findings follow the row they are about. */
		for (size_t i = 0; !err && i < row->nfindings; i++)
			err = iotr_write_finding(r->rec, &row->findings[i]);
	} else {
		err = out_row(&r->out, row);
	}
	if (err)
		write_failed(r, err);
	return err;
}

/* A recording's interval record: the rows that follow belong to it. */
static int write_interval(struct recorder *r, bool summary, double interval_s)
{
	struct iotr_interval iv = { 0 };
	struct timespec now;
	int err;

	if (!r->rec)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	iv.ts_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	iv.interval_ns = interval_s > 0 ? (uint64_t)(interval_s * 1e9 + 0.5) : 0;
	iv.flags = summary ? IOTR_IVL_SUMMARY : 0;
	err = iotr_write_interval(r->rec, &iv);
	if (err)
		write_failed(r, err);
	return err;
}

/* The end of an interval: its lines flushed, or its block written. */
static int end_interval(struct recorder *r)
{
	int err;

	if (!r->rec)
		return fflush(r->f) ? -errno : 0;
	err = iotr_writer_flush(r->rec);
	if (err)
		write_failed(r, err);
	return err;
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

	err = write_interval(r, summary, interval_s);
	if (err)
		return err;
	if (summary) {
		r->advised = advisor_evaluate(&r->adv) == 0;
		if (!r->advised)
			fprintf(stderr, "iotrace: warning: out of memory for the advice rules: the "
					"summary's findings are null\n");
		err = collector_unfinished(&r->s.coll, &r->unf);
		r->unf_read = !err;
		if (err)
			fprintf(stderr,
				"iotrace: warning: cannot read the I/Os left in flight (%s): the "
				"summary's block.unfinished is null\n",
				strerror(-err));
	}
	wl_table_for_each(&r->s.table, e)
	{
		const struct wl_counters *c = summary ? &e->total : &e->delta;

		if (!(summary ? e->ever_active : e->active) || !session_wanted(&r->s, e->id))
			continue;
		session_identify(&r->s, e, &refreshed);
		rows_fill(&r->s, &row, &r->wlrow, e, c, type, interval_s);
		if (r->unf_read)
			rows_fill_unfinished(&r->s, &row, &r->unf, UNFINISHED_CGROUP, e->id);
		if (summary && r->advised) {
			const struct advice_ct_result *res = advisor_ct_result(&r->adv, e->id);

			row.has_findings = true;
			row.findings = res ? res->findings : NULL;
			row.nfindings = res ? res->nfindings : 0;
		}
		err = write_row(r, &row, c->lat_hist);
		if (err)
			return err;
	}
	for (size_t i = 0; i < r->s.vms.n; i++) {
		struct vm_entry *vm = r->s.vms.vms[i];

		if (!(summary ? vm->ever_active : vm->active))
			continue;
		session_identify_vm(&r->s, vm);
		if (!session_wanted(&r->s, vm->cgroup_id))
			continue;
		rows_fill_vm(&r->s, &row, r->vmrow, vm, summary, interval_s);
		if (summary && r->unf_read)
			rows_fill_unfinished(&r->s, &row, &r->unf, UNFINISHED_VM, vm->pid);
		if (summary && r->advised) {
			const struct advice_result *res = advisor_vm_result(&r->adv, vm);

			row.has_findings = true;
			row.findings = res ? res->findings : NULL;
			row.nfindings = res ? res->nfindings : 0;
		}
		err = write_row(r, &row, NULL);
		if (err)
			return err;
	}
	err = summary ? write_self(r, interval_s, r->s.coll.counters, r->s.coll.prog_missed, true) :
			write_self(r, interval_s, r->s.coll.counters_delta,
				   r->s.coll.prog_missed_delta, false);
	if (err) {
		write_failed(r, err < 0 ? err : -EIO);
		return -EIO;
	}
	return end_interval(r);
}

static int run_loop(struct recorder *r, const sigset_t *stopset)
{
	const struct record_opts *o = r->o;
	double t0 = ticks_mono(), last = t0, next = t0 + o->interval_s, now;
	bool stop = false;
	int err;

	/* VMs and containers already running: their facts now, while they run. */
	advisor_observe(&r->adv, t0, 0);
	while (!stop) {
		double deadline = next;

		if (o->duration_s > 0 && t0 + o->duration_s < deadline)
			deadline = t0 + o->duration_s;
		stop = ticks_wait_until(stopset, deadline);
		now = ticks_mono();
		if (o->duration_s > 0 && now - t0 >= o->duration_s - 1e-6)
			stop = true;
		err = session_read(&r->s);
		if (err)
			return err;
		advisor_observe(&r->adv, now, now - last);
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
	struct recorder r = { .o = &o, .s = SESSION_INIT };
	struct session_opts so = { 0 };
	sigset_t stopset;
	bool created = false;
	char err[2048];
	int ret = 1;

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

	r.vmrow = rows_vm_buf_new();
	if (!r.vmrow) {
		fprintf(stderr, "iotrace: out of memory\n");
		return 1;
	}
	/*
	 * Opened before attaching, so that a bad path costs nothing.  A
	 * recording's header needs the session's cycle source: its file is
	 * created here and written from the start once the session is open.
	 */
	if (o.output) {
		created = access(o.output, F_OK) != 0;
		r.f = fopen(o.output, "w");
		if (!r.f) {
			fprintf(stderr, "iotrace: cannot open output file %s: %s\n", o.output,
				strerror(errno));
			goto out;
		}
		if (o.format == REC_IOTR) {
			fclose(r.f);
			r.f = NULL;
		}
	} else {
		r.f = stdout;
	}
	if (r.f)
		out_init(&r.out, r.f, o.format == REC_CSV ? OUT_CSV : OUT_JSON);

	ticks_hold_stop_signals(&stopset);

	so.t = &o.t;
	so.bpf_stats = !o.no_bpf_stats;
	if (session_open(&r.s, &so))
		goto out;
	advisor_init(&r.adv, &r.s);
	r.progs = calloc(r.s.loader.nlinks ? r.s.loader.nlinks : 1, sizeof(*r.progs));
	if (!r.progs) {
		fprintf(stderr, "iotrace: out of memory\n");
		goto out;
	}
	if (o.format == REC_IOTR) {
		struct iotr_info info = {
			.tsc_hz = r.s.tsc_hz,
			.version = IOTRACE_VERSION,
			.cycles_source = r.s.loader.cycles_source,
		};
		int e = iotr_writer_open(&r.rec, o.output, &info, 0);

		if (e) {
			fprintf(stderr, "iotrace: cannot create recording %s: %s\n", o.output,
				strerror(-e));
			goto out;
		}
	}
	if (!strcmp(r.s.loader.cycles_source, "tsc-estimate"))
		fprintf(stderr,
			"iotrace: recording (%s programs, cycles estimated at %.1f MHz TSC), "
			"interval %g s; Ctrl-C to stop\n",
			prog_mode_name(r.s.loader.mode), r.s.tsc_hz / 1e6, o.interval_s);
	else
		fprintf(stderr,
			"iotrace: recording (%s programs, cycles from %s), interval %g s; Ctrl-C "
			"to stop\n",
			prog_mode_name(r.s.loader.mode), r.s.loader.cycles_source, o.interval_s);

	ret = run_loop(&r, &stopset) ? 1 : 0;
	if (!ret && (r.s.coll.counters[IOTRACE_CNT_STATS_FULL] || r.s.table.overflow))
		fprintf(stderr,
			"iotrace: warning: %llu events lost to a full workload table, %zu workloads "
			"untracked\n",
			(unsigned long long)r.s.coll.counters[IOTRACE_CNT_STATS_FULL],
			r.s.table.overflow);
out:
	session_close(&r.s);
	if (r.f && r.f != stdout && fclose(r.f) && !ret) {
		fprintf(stderr, "iotrace: cannot write to %s: %s\n", o.output, strerror(errno));
		ret = 1;
	}
	/* A recording never begun: leave no empty file that we made. */
	if (o.format == REC_IOTR && !r.rec && created)
		unlink(o.output);
	if (r.rec) {
		uint32_t blocks = iotr_writer_blocks(r.rec);
		int e = iotr_writer_close(r.rec);

		if (e && !ret) {
			fprintf(stderr, "iotrace: cannot write to %s: %s\n", o.output,
				strerror(-e));
			ret = 1;
		} else if (!e) {
			fprintf(stderr, "iotrace: wrote %u blocks to %s\n", blocks, o.output);
		}
	}
	rows_vm_buf_free(r.vmrow);
	unfinished_free(&r.unf);
	advisor_free(&r.adv);
	free(r.progs);
	return ret;
}
