// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace report FILE.iotr`: read a recording (user/iotr.c), sum it per
 * workload (user/report_agg.c) and print a table, JSON lines or CSV
 * (docs/report.md).  A damaged recording is read as far as it is intact:
 * what was skipped, with its offsets, goes to stderr and into the JSON.
 *
 * Numbers are written with printf, so LC_NUMERIC must stay "C" (iotrace
 * never calls setlocale()).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "advice_out.h"
#include "cli.h"
#include "iotr.h"
#include "output.h"
#include "report.h"
#include "report_agg.h"
#include "top_table.h"

/* What the writers need besides the rows. */
struct report_ctx {
	const struct report_opts *o;
	const struct iotr_header *hdr;
	const struct iotr_stats *st;
	const struct iotr_reader *rd;
	const struct report_agg *a;
	size_t shown; /* rows printed: a->wl[0, shown) */
	char damage_text[512]; /* iotr_reader_summary() */
};

static const char *damage_kind_name(enum iotr_damage_kind k)
{
	switch (k) {
	case IOTR_DMG_CORRUPT:
		return "corrupt";
	case IOTR_DMG_GARBAGE:
		return "garbage";
	case IOTR_DMG_TRUNCATED:
		return "truncated";
	case IOTR_DMG_RECORD:
		return "record";
	case IOTR_DMG_MISSING:
		return "missing";
	}
	return "unknown";
}

static bool damaged(const struct report_ctx *x)
{
	return x->st->damage || x->a->rows_orphan || x->a->partial_intervals;
}

static void ts_text(uint64_t ns, char *buf, size_t len)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
			       .tv_nsec = (long)(ns % 1000000000ULL) };

	out_format_ts(&ts, buf, len);
}

/* ---- JSON ---- */

static void json_num(FILE *f, double v, int prec)
{
	if (!isfinite(v) || v < 0)
		fputs("null", f);
	else
		fprintf(f, "%.*f", prec, v);
}

/* A timestamp string, or null for 0. */
static void json_ts(FILE *f, uint64_t ns)
{
	char buf[64];

	if (!ns) {
		fputs("null", f);
		return;
	}
	ts_text(ns, buf, sizeof(buf));
	out_json_str(f, buf);
}

static void json_damage(FILE *f, const struct report_ctx *x)
{
	size_t n = iotr_reader_ndamage(x->rd);

	fprintf(f,
		",\"damage\":{\"intact\":%s,\"blocks_read\":%" PRIu64 ",\"records_read\":%" PRIu64
		",\"blocks_skipped\":%" PRIu64 ",\"bytes_skipped\":%" PRIu64
		",\"records_skipped\":%" PRIu64 ",\"gaps\":%" PRIu64 ",\"truncated_at\":",
		damaged(x) ? "false" : "true", x->st->blocks, x->st->records, x->st->blocks_skipped,
		x->st->bytes_skipped, x->st->records_bad, x->st->gaps);
	if (x->st->truncated)
		fprintf(f, "%" PRIu64, x->st->truncated_at);
	else
		fputs("null", f);
	fprintf(f, ",\"rows_without_interval\":%" PRIu64 ",\"partial_intervals\":%" PRIu64,
		x->a->rows_orphan, x->a->partial_intervals);
	fputs(",\"text\":", f);
	out_json_str(f, x->damage_text);
	fputs(",\"skipped\":[", f);
	for (size_t i = 0; i < n; i++) {
		const struct iotr_damage *d = iotr_reader_damage(x->rd, i);

		fprintf(f,
			"%s{\"kind\":\"%s\",\"offset\":%" PRIu64 ",\"length\":%" PRIu64
			",\"what\":",
			i ? "," : "", damage_kind_name(d->kind), d->offset, d->length);
		out_json_str(f, d->what);
		fputc('}', f);
	}
	fprintf(f, "],\"skipped_not_listed\":%" PRIu64 "}", x->st->damage - n);
}

static void json_self(FILE *f, const struct report_agg *a)
{
	const struct report_self *s = a->self_summary_seen ? &a->self_summary : &a->self;

	fputs(",\"self\":", f);
	if (!s->records) {
		fputs("null", f);
		return;
	}
	fprintf(f,
		"{\"from\":\"%s\",\"lost\":{\"stats_full\":%" PRIu64 ",\"inflight_full\":%" PRIu64
		",\"pmu_read_fail\":%" PRIu64 ",\"prog_missed\":%" PRIu64 ",\"vm_full\":%" PRIu64
		"},\"recovered\":%" PRIu64 ",\"unattributed\":{\"rq_no_owner\":%" PRIu64
		",\"unseen_complete\":%" PRIu64 "},\"cgroups_untracked\":%" PRIu64
		",\"vms_untracked\":%" PRIu64 ",\"net_owners_full\":%" PRIu64
		",\"inflight_at_exit\":",
		a->self_summary_seen ? "summary" : "intervals", s->stats_full, s->inflight_full,
		s->pmu_read_fail, s->prog_missed, s->vm_full, s->recovered, s->rq_no_owner,
		s->unseen_complete, s->cgroups_untracked, s->vms_untracked, s->net_owners_full);
	if (s->inflight_at_exit >= 0)
		fprintf(f, "%" PRId64, s->inflight_at_exit);
	else
		fputs("null", f);
	fputs(",\"net_off\":", f);
	out_json_str(f, s->net_off);
	/* Format 1.1's figures; null from a 1.0 recording. */
	if (s->v1_records)
		fprintf(f,
			",\"blk_dev_full\":%" PRIu64 ",\"devices_untracked\":%" PRIu64
			",\"pruned\":%" PRIu64 ",\"evicted\":%" PRIu64,
			s->blk_dev_full, s->devices_untracked, s->pruned, s->evicted);
	else
		fputs(",\"blk_dev_full\":null,\"devices_untracked\":null,\"pruned\":null,"
		      "\"evicted\":null",
		      f);
	/*
	 * Interval self records are written only when something went wrong
	 * in the interval, so their BPF figures do not add up to the run's:
	 * only the summary's (the run's totals) are reported.
	 */
	fputs(",\"bpf\":", f);
	if (a->self_summary_seen && s->bpf_records)
		fprintf(f, "{\"run_ns\":%" PRIu64 ",\"runs\":%" PRIu64 "}", s->bpf_run_ns,
			s->bpf_runs);
	else
		fputs("null", f);
	fputc('}', f);
}

static void json_head(FILE *f, const struct report_ctx *x)
{
	const struct report_agg *a = x->a;
	const struct iotr_header *h = x->hdr;
	uint64_t start =
		a->used_summary ?
			(a->summary_ts_ns > a->summary_ns ? a->summary_ts_ns - a->summary_ns : 0) :
			a->first_start_ns;
	uint64_t end = a->used_summary ? a->summary_ts_ns : a->last_ts_ns;

	fputs("{\"type\":\"report\",\"file\":", f);
	out_json_str(f, x->o->input);
	fputs(",\"hostname\":", f);
	out_json_str(f, h->hostname);
	fputs(",\"iotrace_version\":", f);
	out_json_str(f, h->version[0] ? h->version : NULL);
	fprintf(f, ",\"format_version\":\"%u.%u\",\"cycles_source\":", h->major, h->minor);
	out_json_str(f, h->cycles_source[0] ? h->cycles_source : NULL);
	fputs(",\"tsc_hz\":", f);
	if (h->tsc_hz)
		fprintf(f, "%" PRIu64, h->tsc_hz);
	else
		fputs("null", f);
	fputs(",\"created\":", f);
	json_ts(f, h->created_ns);
	fputs(",\"start\":", f);
	json_ts(f, a->intervals || a->used_summary ? start : 0);
	fputs(",\"end\":", f);
	json_ts(f, end);
	fputs(",\"duration_s\":", f);
	json_num(f, (a->used_summary ? a->summary_ns : a->covered_ns) / 1e9, 3);
	fprintf(f,
		",\"intervals\":%" PRIu64 ",\"source\":\"%s\",\"by\":\"%s\",\"sort\":\"%s\","
		"\"top\":",
		a->intervals, a->used_summary ? "summary" : "intervals", report_by_name(x->o->by),
		report_sort_name(x->o->sort));
	if (x->o->top)
		fprintf(f, "%ld", x->o->top);
	else
		fputs("null", f);
	fprintf(f,
		",\"workloads\":%zu,\"shown\":%zu,\"summary\":{\"present\":%s,\"checked\":%s,"
		"\"mismatches\":%" PRIu64 "}",
		a->nwl, x->shown, a->summary_seen ? "true" : "false",
		a->summary_checked ? "true" : "false", a->summary_mismatches);
	json_self(f, a);
	json_damage(f, x);
	fputs("}\n", f);
}

/*
 * The findings the run's summary recorded for the row; null when the
 * recording has no summary, or is of format 1.0, which kept none.
 */
static void json_findings(FILE *f, const struct report_ctx *x, const struct report_wl *w)
{
	fputs(",\"findings\":", f);
	if (!x->a->summary_seen || x->hdr->minor < 1) {
		fputs("null", f);
		return;
	}
	fputc('[', f);
	for (size_t i = 0; i < w->nfindings; i++) {
		if (i)
			fputc(',', f);
		advice_json_finding(f, &w->findings[i].f);
	}
	fputc(']', f);
	if (w->findings_beyond)
		fprintf(f, ",\"findings_not_listed\":%" PRIu64, w->findings_beyond);
}

static void json_row(FILE *f, const struct report_ctx *x, const struct report_wl *w, size_t rank)
{
	struct report_derived d;
	const struct report_counters *c;
	bool vm = false, net;

	report_derive(x->a, w, &d);
	c = d.c;
	vm = c->flags & IOTR_WL_VM;
	net = c->flags & IOTR_WL_NET;
	fprintf(f, "{\"type\":\"workload\",\"rank\":%zu,\"workload\":{\"kind\":", rank);
	out_json_str(f, iotr_kind_name(w->kind));
	fprintf(f, ",\"cgroup_id\":%" PRIu64 ",\"cgroup_path\":", w->cgroup_id);
	out_json_str(f, w->cgroup_path);
	fputs(",\"runtime\":", f);
	out_json_str(f, w->runtime);
	fputs(",\"container_id\":", f);
	out_json_str(f, w->container_id);
	fputs(",\"name\":", f);
	out_json_str(f, w->name);
	if (vm)
		fprintf(f, ",\"pid\":%" PRId32, w->pid);
	else
		fputs(",\"pid\":null", f);
	fprintf(f, "},\"intervals\":%" PRIu64 ",\"first_ts\":", w->intervals);
	json_ts(f, x->a->used_summary ? 0 : w->first_ts_ns);
	fputs(",\"last_ts\":", f);
	json_ts(f, x->a->used_summary ? 0 : w->last_ts_ns);
	fprintf(f, ",\"cpu\":{\"ns\":%" PRIu64 ",\"seconds\":", c->cpu_ns);
	json_num(f, d.cpu_s, 3);
	fputs(",\"pct\":", f);
	json_num(f, d.cpu_pct, 2);
	fprintf(f, ",\"cycles\":%" PRIu64 ",\"cycles_source\":", c->cycles);
	out_json_str(f, x->hdr->cycles_source[0] ? x->hdr->cycles_source : NULL);
	if (vm)
		fprintf(f, ",\"guest_ns\":%" PRIu64 ",\"host_ns\":%" PRIu64, c->guest_ns,
			c->cpu_ns > c->guest_ns ? c->cpu_ns - c->guest_ns : 0);
	else
		fputs(",\"guest_ns\":null,\"host_ns\":null", f);
	fprintf(f,
		"},\"block\":{\"read_ops\":%" PRIu64 ",\"write_ops\":%" PRIu64
		",\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64 ",\"lat_p50_us\":",
		c->read_ops, c->write_ops, c->read_bytes, c->write_bytes);
	json_num(f, d.lat_p50_us, 3);
	fputs(",\"lat_p99_us\":", f);
	json_num(f, d.lat_p99_us, 3);
	/* From the run's summary, which only a whole run has (of format 1.1 on). */
	if (w->sum.rows && x->hdr->minor >= 1)
		fprintf(f,
			",\"unfinished\":{\"read_ops\":%" PRIu64 ",\"write_ops\":%" PRIu64
			",\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64 "}}",
			w->sum.unf_read_ops, w->sum.unf_write_ops, w->sum.unf_read_bytes,
			w->sum.unf_write_bytes);
	else
		fputs(",\"unfinished\":null}", f);
	if (net)
		fprintf(f,
			",\"net\":{\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
			",\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			",\"softirq_ns\":%" PRIu64 "}",
			c->tx_packets, c->tx_bytes, c->rx_packets, c->rx_bytes, c->softirq_ns);
	else
		fputs(",\"net\":null", f);
	if (vm)
		fprintf(f,
			",\"kvm\":{\"exits_source\":\"%s\",\"exits\":%" PRIu64
			",\"userspace_exits\":%" PRIu64 ",\"pio_exits\":%" PRIu64
			",\"mmio_exits\":%" PRIu64 "}",
			c->flags & IOTR_WL_EXITS_HW ? "kvm_exit" : "userspace_exit", c->exits,
			c->userspace_exits, c->pio_exits, c->mmio_exits);
	else
		fputs(",\"kvm\":null", f);
	fputs(",\"derived\":{\"iops\":", f);
	json_num(f, d.iops, 3);
	fputs(",\"packets_per_s\":", f);
	json_num(f, d.packets_per_s, 3);
	fputs(",\"cycles_per_io\":", f);
	json_num(f, d.cycles_per_io, 1);
	fputs(",\"exits_per_io\":", f);
	json_num(f, d.exits_per_io, 4);
	fputs(",\"host_cycles_per_io\":", f);
	json_num(f, d.host_cycles_per_io, 1);
	fputs("},\"peak\":", f);
	if (d.peak_s < 0) {
		fputs("null", f);
	} else {
		fputs("{\"ts\":", f);
		json_ts(f, w->peak.ts_ns);
		fputs(",\"interval_s\":", f);
		json_num(f, d.peak_s, 3);
		fprintf(f, ",\"block_ops\":%" PRIu64 ",\"packets\":", w->peak.block_ops);
		if (net)
			fprintf(f, "%" PRIu64, w->peak.packets);
		else
			fputs("null", f);
		fputs(",\"iops\":", f);
		json_num(f, d.peak_iops, 3);
		fputs(",\"packets_per_s\":", f);
		json_num(f, d.peak_packets_per_s, 3);
		fputc('}', f);
	}
	json_findings(f, x, w);
	fputs("}\n", f);
}

static void write_json(FILE *f, const struct report_ctx *x)
{
	json_head(f, x);
	for (size_t i = 0; i < x->shown; i++)
		json_row(f, x, x->a->wl[i], i + 1);
}

/* ---- CSV ---- */

static const char csv_header[] =
	"rank,workload.kind,workload.cgroup_id,workload.cgroup_path,workload.runtime,"
	"workload.container_id,workload.name,workload.pid,intervals,first_ts,last_ts,"
	"cpu.ns,cpu.seconds,cpu.pct,cpu.cycles,cpu.cycles_source,cpu.guest_ns,cpu.host_ns,"
	"block.read_ops,block.write_ops,block.read_bytes,block.write_bytes,"
	"block.lat_p50_us,block.lat_p99_us,net.tx_packets,net.tx_bytes,net.rx_packets,"
	"net.rx_bytes,net.softirq_ns,kvm.exits_source,kvm.exits,kvm.userspace_exits,"
	"kvm.pio_exits,kvm.mmio_exits,derived.iops,derived.packets_per_s,"
	"derived.cycles_per_io,derived.exits_per_io,derived.host_cycles_per_io,"
	"peak.ts,peak.interval_s,peak.block_ops,peak.packets,peak.iops,peak.packets_per_s,"
	"findings";

static void csv_num(FILE *f, double v, int prec)
{
	fputc(',', f);
	if (isfinite(v) && v >= 0)
		fprintf(f, "%.*f", prec, v);
}

static void csv_ts(FILE *f, uint64_t ns)
{
	char buf[64];

	fputc(',', f);
	if (ns) {
		ts_text(ns, buf, sizeof(buf));
		fputs(buf, f);
	}
}

static void csv_row(FILE *f, const struct report_ctx *x, const struct report_wl *w, size_t rank)
{
	struct report_derived d;
	const struct report_counters *c;
	bool vm, net;

	report_derive(x->a, w, &d);
	c = d.c;
	vm = c->flags & IOTR_WL_VM;
	net = c->flags & IOTR_WL_NET;
	fprintf(f, "%zu,", rank);
	out_csv_str(f, iotr_kind_name(w->kind));
	fprintf(f, ",%" PRIu64 ",", w->cgroup_id);
	out_csv_str(f, w->cgroup_path);
	fputc(',', f);
	out_csv_str(f, w->runtime);
	fputc(',', f);
	out_csv_str(f, w->container_id);
	fputc(',', f);
	out_csv_str(f, w->name);
	fputc(',', f);
	if (vm)
		fprintf(f, "%" PRId32, w->pid);
	fprintf(f, ",%" PRIu64, w->intervals);
	csv_ts(f, x->a->used_summary ? 0 : w->first_ts_ns);
	csv_ts(f, x->a->used_summary ? 0 : w->last_ts_ns);
	fprintf(f, ",%" PRIu64, c->cpu_ns);
	csv_num(f, d.cpu_s, 3);
	csv_num(f, d.cpu_pct, 2);
	fprintf(f, ",%" PRIu64 ",", c->cycles);
	out_csv_str(f, x->hdr->cycles_source);
	if (vm)
		fprintf(f, ",%" PRIu64 ",%" PRIu64, c->guest_ns,
			c->cpu_ns > c->guest_ns ? c->cpu_ns - c->guest_ns : 0);
	else
		fputs(",,", f);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, c->read_ops, c->write_ops,
		c->read_bytes, c->write_bytes);
	csv_num(f, d.lat_p50_us, 3);
	csv_num(f, d.lat_p99_us, 3);
	if (net)
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			c->tx_packets, c->tx_bytes, c->rx_packets, c->rx_bytes, c->softirq_ns);
	else
		fputs(",,,,,", f);
	if (vm)
		fprintf(f, ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			c->flags & IOTR_WL_EXITS_HW ? "kvm_exit" : "userspace_exit", c->exits,
			c->userspace_exits, c->pio_exits, c->mmio_exits);
	else
		fputs(",,,,,", f);
	csv_num(f, d.iops, 3);
	csv_num(f, d.packets_per_s, 3);
	csv_num(f, d.cycles_per_io, 1);
	csv_num(f, d.exits_per_io, 4);
	csv_num(f, d.host_cycles_per_io, 1);
	if (d.peak_s < 0) {
		fputs(",,,,,,", f);
	} else {
		csv_ts(f, w->peak.ts_ns);
		csv_num(f, d.peak_s, 3);
		fprintf(f, ",%" PRIu64 ",", w->peak.block_ops);
		if (net)
			fprintf(f, "%" PRIu64, w->peak.packets);
		csv_num(f, d.peak_iops, 3);
		csv_num(f, d.peak_packets_per_s, 3);
	}
	/* The findings' ids, space-separated; empty with none or no summary. */
	fputc(',', f);
	for (size_t i = 0; i < w->nfindings; i++)
		fprintf(f, "%s%s", i ? " " : "", w->findings[i].f.id);
	fputc('\n', f);
}

static void write_csv(FILE *f, const struct report_ctx *x)
{
	fputs(csv_header, f);
	fputc('\n', f);
	for (size_t i = 0; i < x->shown; i++)
		csv_row(f, x, x->a->wl[i], i + 1);
}

/* ---- Table ---- */

enum tcol {
	T_KIND,
	T_CPU,
	T_CPUS,
	T_READS,
	T_WRITES,
	T_MB,
	T_IOPS,
	T_PKTS,
	T_CYCIO,
	T_EXITIO,
	T_P50,
	T_P99,
	T_PEAK,
	T_PEAKAT,
	T_NCOLS,
};

static const struct {
	const char *title;
	int width;
} tcols[T_NCOLS] = {
	[T_KIND] = { "KIND", 9 },      [T_CPU] = { "CPU%", 6 },	      [T_CPUS] = { "CPU-s", 6 },
	[T_READS] = { "READS", 6 },    [T_WRITES] = { "WRITES", 6 },  [T_MB] = { "MB", 6 },
	[T_IOPS] = { "IOPS", 6 },      [T_PKTS] = { "PKT/s", 6 },     [T_CYCIO] = { "CYC/IO", 6 },
	[T_EXITIO] = { "EXIT/IO", 7 }, [T_P50] = { "P50", 7 },	      [T_P99] = { "P99", 7 },
	[T_PEAK] = { "PEAK-IOPS", 9 }, [T_PEAKAT] = { "PEAK-AT", 8 },
};

#define NAME_MAX_W 40

/* Display width of UTF-8 text: code points (all one column here). */
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* A byte of a name as the table shows it: control characters as '?'. */
static int shown_char(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
}

/* s padded (left-aligned) or cut to width columns, a cut marked with '~'. */
static void put_name(FILE *f, const char *s, int width)
{
	int w = text_width(s), col = 0;

	while (*s && (w <= width || col < width - 1)) {
		do
			fputc(shown_char(*s++), f);
		while (*s && ((unsigned char)*s & 0xc0) == 0x80);
		col++;
	}
	if (w > width)
		fputc('~', f);
	else
		fprintf(f, "%*s", width - w, "");
}

static void fmt_seconds(double s, char *buf, size_t len)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, len, "-");
	else if (s < 99.995)
		snprintf(buf, len, "%.2f", s);
	else if (s < 99999.5)
		snprintf(buf, len, "%.0f", s);
	else
		top_fmt_si(s, buf, len);
}

static void cell(const struct report_wl *w, const struct report_derived *d, enum tcol c, char *buf,
		 size_t len)
{
	const struct report_counters *k = d->c;
	struct tm tm;
	time_t t;

	switch (c) {
	case T_KIND:
		snprintf(buf, len, "%s", iotr_kind_name(w->kind));
		break;
	case T_CPU:
		if (d->cpu_pct < 0)
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, d->cpu_pct < 999.95 ? "%.1f" : "%.0f", d->cpu_pct);
		break;
	case T_CPUS:
		fmt_seconds(d->cpu_s, buf, len);
		break;
	case T_READS:
		top_fmt_si((double)k->read_ops, buf, len);
		break;
	case T_WRITES:
		top_fmt_si((double)k->write_ops, buf, len);
		break;
	case T_MB:
		top_fmt_si(((double)k->read_bytes + (double)k->write_bytes) / 1e6, buf, len);
		break;
	case T_IOPS:
		top_fmt_si(d->iops, buf, len);
		break;
	case T_PKTS:
		top_fmt_si(d->packets_per_s, buf, len);
		break;
	case T_CYCIO:
		top_fmt_si(d->cycles_per_io, buf, len);
		break;
	case T_EXITIO:
		if (d->exits_per_io < 0)
			snprintf(buf, len, "-");
		else if (d->exits_per_io < 99.995)
			snprintf(buf, len, "%.2f", d->exits_per_io);
		else
			top_fmt_si(d->exits_per_io, buf, len);
		break;
	case T_P50:
		top_fmt_latency_us(d->lat_p50_us, buf, len);
		break;
	case T_P99:
		top_fmt_latency_us(d->lat_p99_us, buf, len);
		break;
	case T_PEAK:
		top_fmt_si(d->peak_iops, buf, len);
		break;
	case T_PEAKAT:
		t = (time_t)(w->peak.ts_ns / 1000000000ULL);
		if (d->peak_s < 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
			snprintf(buf, len, "-");
		break;
	case T_NCOLS:
		buf[0] = '\0';
		break;
	}
}

/* The shown rows' findings, after the table, as `iotrace advise` prints them. */
static void table_findings(FILE *f, const struct report_ctx *x)
{
	size_t n = 0;
	char who[128];

	for (size_t i = 0; i < x->shown; i++)
		n += x->a->wl[i]->nfindings;
	if (!n)
		return;
	fprintf(f, "\nFindings (from the run's summary, docs/advice.md): %zu\n", n);
	for (size_t i = 0; i < x->shown; i++) {
		const struct report_wl *w = x->a->wl[i];

		for (size_t k = 0; k < w->nfindings; k++) {
			if (w->pid)
				snprintf(who, sizeof(who), "%s (pid %d)", w->name ? w->name : "?",
					 (int)w->pid);
			else
				snprintf(who, sizeof(who), "%s", w->name ? w->name : "?");
			advice_table_finding(f, who, &w->findings[k].f);
		}
	}
}

static void write_table(FILE *f, const struct report_ctx *x)
{
	const struct report_agg *a = x->a;
	const struct iotr_header *h = x->hdr;
	char b1[64], b2[64], buf[64];
	int nw = 4;
	uint64_t end = a->used_summary ? a->summary_ts_ns : a->last_ts_ns;
	uint64_t len_ns = a->used_summary ? a->summary_ns : a->covered_ns;

	fprintf(f, "iotrace report - %s  host %s  iotrace %s  cycles: %s\n", x->o->input,
		h->hostname, h->version[0] ? h->version : "?",
		h->cycles_source[0] ? h->cycles_source : "?");
	if (a->intervals || a->used_summary) {
		uint64_t start = a->used_summary ? (end > len_ns ? end - len_ns : 0) :
						   a->first_start_ns;

		ts_text(start, b1, sizeof(b1));
		ts_text(end, b2, sizeof(b2));
		if (a->used_summary)
			fprintf(f,
				"%s to %s, %.1f s: the run's summary (no interval was readable)\n",
				b1, b2, len_ns / 1e9);
		else
			fprintf(f, "%s to %s, %.1f s in %" PRIu64 " intervals\n", b1, b2,
				len_ns / 1e9, a->intervals);
	} else {
		fputs("no intervals in the recording\n", f);
	}
	fprintf(f, "by %s, sort %s: %zu workloads, %zu shown\n", report_by_name(x->o->by),
		report_sort_name(x->o->sort), a->nwl, x->shown);
	if (damaged(x))
		fprintf(f, "recording damaged: %s; figures are those of the intact intervals\n",
			x->damage_text);
	fputc('\n', f);

	for (size_t i = 0; i < x->shown; i++) {
		const char *n = a->wl[i]->name ? a->wl[i]->name : "?";
		int w = text_width(n);

		if (w > nw)
			nw = w > NAME_MAX_W ? NAME_MAX_W : w;
	}
	put_name(f, "NAME", nw);
	for (int c = 0; c < T_NCOLS; c++)
		fprintf(f, c == T_KIND ? " %-*s" : " %*s", tcols[c].width, tcols[c].title);
	fputc('\n', f);
	for (size_t i = 0; i < x->shown; i++) {
		const struct report_wl *w = a->wl[i];
		struct report_derived d;

		report_derive(a, w, &d);
		put_name(f, w->name ? w->name : "?", nw);
		for (int c = 0; c < T_NCOLS; c++) {
			int pad;

			cell(w, &d, c, buf, sizeof(buf));
			pad = tcols[c].width - text_width(buf);
			if (pad < 0)
				pad = 0;
			if (c == T_KIND)
				fprintf(f, " %s%*s", buf, pad, "");
			else
				fprintf(f, " %*s%s", pad, "", buf);
		}
		fputc('\n', f);
	}
	table_findings(f, x);
}

/* ---- The command ---- */

/* What was skipped, on stderr: one line per damage entry, then the reader's summary. */
static void say_damage(const struct report_ctx *x)
{
	const char *in = x->o->input;
	const struct report_agg *a = x->a;
	size_t n = iotr_reader_ndamage(x->rd);

	for (size_t i = 0; i < n; i++) {
		const struct iotr_damage *d = iotr_reader_damage(x->rd, i);

		if (d->length)
			fprintf(stderr,
				"iotrace report: %s: skipped %" PRIu64 " bytes at offset %" PRIu64
				": %s\n",
				in, d->length, d->offset, d->what);
		else
			fprintf(stderr, "iotrace report: %s: at offset %" PRIu64 ": %s\n", in,
				d->offset, d->what);
	}
	if (x->st->damage > n)
		fprintf(stderr, "iotrace report: %s: and %" PRIu64 " more damaged places\n", in,
			x->st->damage - n);
	if (a->rows_orphan)
		fprintf(stderr,
			"iotrace report: %s: %" PRIu64
			" workload records left out: their interval record was unreadable\n",
			in, a->rows_orphan);
	if (a->partial_intervals)
		fprintf(stderr,
			"iotrace report: %s: %" PRIu64
			" intervals only partly read: their first block was lost\n",
			in, a->partial_intervals);
	if (damaged(x) && x->st->blocks)
		fprintf(stderr,
			"iotrace report: %s: %s; the report covers the %" PRIu64
			" intervals that could be read\n",
			in, x->damage_text, a->intervals);
	else if (damaged(x))
		fprintf(stderr, "iotrace report: %s: %s\n", in, x->damage_text);
}

static int write_report(const struct report_ctx *x)
{
	const char *out = x->o->output;
	FILE *f = stdout;
	int e = 0;

	if (out) {
		f = fopen(out, "w");
		if (!f) {
			fprintf(stderr, "iotrace report: cannot open output file %s: %s\n", out,
				strerror(errno));
			return 1;
		}
	}
	errno = 0;
	switch (x->o->format) {
	case REPORT_JSON:
		write_json(f, x);
		break;
	case REPORT_CSV:
		write_csv(f, x);
		break;
	case REPORT_TABLE:
		write_table(f, x);
		break;
	}
	if (fflush(f) || ferror(f))
		e = errno ? errno : EIO;
	if (out && fclose(f) && !e)
		e = errno ? errno : EIO;
	if (e) {
		fprintf(stderr, "iotrace report: cannot write to %s: %s\n",
			out ? out : "standard output", strerror(e));
		return 1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o;
	struct iotr_reader *rd = NULL;
	struct report_agg a;
	struct report_ctx x = { .o = &o, .a = &a };
	char err[512];
	int e, ret = 1;

	switch (cli_parse_report(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_report_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace report: %s\nTry 'iotrace report --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}

	e = iotr_reader_open(&rd, o.input, err, sizeof(err));
	if (e) {
		fprintf(stderr, "iotrace report: %s: %s\n", o.input, err);
		return 1;
	}
	x.rd = rd;
	x.hdr = iotr_reader_header(rd);
	x.st = iotr_reader_stats(rd);
	if (report_agg_init(&a, o.by, x.hdr->tsc_hz)) {
		fprintf(stderr, "iotrace report: out of memory\n");
		iotr_reader_close(rd);
		return 1;
	}
	e = report_agg_read(&a, rd);
	if (e) {
		fprintf(stderr, "iotrace report: %s: %s\n", o.input,
			e == -ENOMEM ? "out of memory" : iotr_reader_error(rd));
		goto out;
	}
	iotr_reader_summary(rd, x.damage_text, sizeof(x.damage_text));
	say_damage(&x);
	if (!x.st->blocks && x.st->damage) {
		fprintf(stderr, "iotrace report: %s: nothing in the recording could be read\n",
			o.input);
		goto out;
	}
	if (!a.summary_seen && !damaged(&x))
		fprintf(stderr,
			"iotrace report: %s: no end-of-run summary (the recorder was killed, or "
			"is still running): the report is the sum of the intervals written\n",
			o.input);
	if (a.summary_mismatches)
		fprintf(stderr,
			"iotrace report: %s: warning: the run's summary disagrees with the sum of "
			"its intervals for %" PRIu64
			" workloads; the report shows the intervals' sums\n",
			o.input, a.summary_mismatches);

	report_sort(&a, o.sort);
	x.shown = o.top > 0 && (size_t)o.top < a.nwl ? (size_t)o.top : a.nwl;
	ret = write_report(&x);
out:
	report_agg_free(&a);
	iotr_reader_close(rd);
	return ret;
}
