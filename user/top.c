// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace top`: the session's tables as a live table, refreshed every
 * --delay.  The figures are the rows record writes (rows.c), turned into
 * rates; the table's layout is top_table.c; the screen is top_view.c.
 * Batch mode prints the same lines as plain text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advisor.h"
#include "cli.h"
#include "rows.h"
#include "session.h"
#include "ticks.h"
#include "top.h"
#include "top_table.h"
#include "top_view.h"

#define MAX_ROWS (IOTRACE_MAX_WORKLOADS + IOTRACE_MAX_VMS)
#define LINE_MAX_ 512
#define DETAIL_LINES 96
#define BATCH_WIDTH 120

struct host_cpu {
	unsigned long long busy, total;
};

struct topper {
	const struct top_opts *o;
	struct session s;
	struct advisor adv; /* the advice rules, for the drill-down */
	struct vm_row_buf *vmrow;
	struct wl_row_buf wlrow;
	struct top_row *rows; /* all active workloads of the last interval */
	size_t nrows;
	int *shown_idx; /* rows passing the filter, in sort order */
	size_t nshown;
	enum top_col sort;
	char filter[64];
	bool paused;
	bool help;
	bool detail; /* drill-down on the selected workload */
	uint64_t sel_key; /* the selected workload, kept across refreshes */
	bool sel_vm;
	int sel; /* its index in shown_idx; -1: none */
	int first; /* first table line on screen */
	double interval_s;
	struct host_cpu cpu_prev;
	double host_cpu_pct;
	int ncpus;
	char header[3][LINE_MAX_];
	char detail_text[DETAIL_LINES][LINE_MAX_];
	int ndetail;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* All CPUs' busy and total jiffies, from /proc/stat's first line. */
static int read_host_cpu(struct host_cpu *c)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return -EINVAL;
	/* user nice system idle iowait irq softirq steal */
	c->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	c->total = c->busy + v[3] + v[4];
	return 0;
}

static double rate(uint64_t n, double interval_s)
{
	return interval_s > 0 ? n / interval_s : 0;
}

/* A row of the table from a row of record's. */
static void to_top_row(const struct out_row *r, struct top_row *t, double interval_s)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", r->wl.name ? r->wl.name : "?");
	t->kind = wl_kind_name(r->wl.kind);
	t->is_vm = r->vm != NULL;
	t->key = r->vm ? (uint64_t)r->vm->pid : r->wl.cgroup_id;
	t->v[TOP_NAME] = t->v[TOP_KIND] = -1;
	/* 1e9 ns of CPU in a second is 100 % of one CPU. */
	t->v[TOP_CPU] = interval_s > 0 ? r->cpu_ns / interval_s / 1e7 : -1;
	t->v[TOP_RD] = rate(r->read_ops, interval_s);
	t->v[TOP_WR] = rate(r->write_ops, interval_s);
	t->v[TOP_MBS] = rate(r->read_bytes + r->write_bytes, interval_s) / 1e6;
	t->v[TOP_PKT] = r->has_net ? rate(r->tx_packets + r->rx_packets, interval_s) : -1;
	t->v[TOP_EXIT] = r->vm ? rate(r->vm->exits, interval_s) : -1;
	t->v[TOP_CYCIO] = r->cycles_per_io;
	t->v[TOP_EXITIO] = r->vm ? r->vm->exits_per_io : -1;
	t->v[TOP_P99] = r->lat_p99_us;
}

/* The table's rows: every workload and VM active in the last interval. */
static void build_rows(struct topper *tp)
{
	struct session *s = &tp->s;
	bool refreshed = false;
	struct out_row row;
	struct wl_entry *e;

	tp->nrows = 0;
	wl_table_for_each(&s->table, e)
	{
		if (!e->active || !session_wanted(s, e->id) || tp->nrows == MAX_ROWS)
			continue;
		session_identify(s, e, &refreshed);
		rows_fill(s, &row, &tp->wlrow, e, &e->delta, OUT_ROW_INTERVAL, tp->interval_s);
		to_top_row(&row, &tp->rows[tp->nrows++], tp->interval_s);
	}
	for (size_t i = 0; i < s->vms.n; i++) {
		struct vm_entry *vm = s->vms.vms[i];

		if (!vm->active || vm->gone || tp->nrows == MAX_ROWS)
			continue;
		session_identify_vm(s, vm);
		if (!session_wanted(s, vm->cgroup_id))
			continue;
		rows_fill_vm(s, &row, tp->vmrow, vm, false, tp->interval_s);
		to_top_row(&row, &tp->rows[tp->nrows++], tp->interval_s);
	}
	top_sort(tp->rows, tp->nrows, tp->sort);
}

/* The rows that pass the filter, and the selection's place among them. */
static void select_rows(struct topper *tp)
{
	tp->nshown = 0;
	tp->sel = -1;
	for (size_t i = 0; i < tp->nrows; i++) {
		const struct top_row *r = &tp->rows[i];

		if (!top_filter_match(r, tp->filter))
			continue;
		if (r->key == tp->sel_key && r->is_vm == tp->sel_vm)
			tp->sel = (int)tp->nshown;
		tp->shown_idx[tp->nshown++] = (int)i;
	}
	if (tp->sel < 0 && tp->nshown) {
		tp->sel = 0;
		tp->sel_key = tp->rows[tp->shown_idx[0]].key;
		tp->sel_vm = tp->rows[tp->shown_idx[0]].is_vm;
	}
}

static void fmt_count(uint64_t v, char *buf, size_t len)
{
	top_fmt_si((double)v, buf, len);
}

/* The summary lines above the table. */
static void build_header(struct topper *tp)
{
	const struct collector *c = &tp->s.coll;
	const uint64_t *cnt = c->counters;
	char iops[16], pkts[16], time_s[16], run[16];
	double ops = 0, packets = 0, bpf_pct;
	uint64_t full, lost;
	time_t now = time(NULL);
	struct tm tm;

	for (size_t i = 0; i < tp->nrows; i++) {
		const struct top_row *r = &tp->rows[i];

		/* VMs' I/O is in their cgroups' rows too: count it once. */
		if (r->is_vm)
			continue;
		ops += r->v[TOP_RD] + r->v[TOP_WR];
		packets += r->v[TOP_PKT] > 0 ? r->v[TOP_PKT] : 0;
	}
	top_fmt_si(ops, iops, sizeof(iops));
	top_fmt_si(packets, pkts, sizeof(pkts));
	localtime_r(&now, &tm);
	strftime(time_s, sizeof(time_s), "%H:%M:%S", &tm);
	snprintf(tp->header[0], LINE_MAX_,
		 "iotrace top - %s  every %.1fs  host CPU %.1f%% of %d CPUs  IOPS %s  PKT/s %s  "
		 "cycles: %s%s",
		 time_s, tp->o->delay_s, tp->host_cpu_pct, tp->ncpus, iops, pkts,
		 tp->s.loader.cycles_source, tp->paused ? "  [paused]" : "");

	full = cnt[IOTRACE_CNT_STATS_FULL] + cnt[IOTRACE_CNT_INFLIGHT_FULL] +
	       cnt[IOTRACE_CNT_VM_FULL] + cnt[IOTRACE_CNT_BLK_DEV_FULL];
	lost = c->prog_missed + cnt[IOTRACE_CNT_UNSEEN_COMPLETE] + cnt[IOTRACE_CNT_PMU_READ_FAIL];
	if (tp->s.loader.stats_fd >= 0 && tp->interval_s > 0) {
		bpf_pct = c->prog_run_ns_delta / tp->interval_s / 1e7;
		top_fmt_si(c->prog_runs_delta ? (double)c->prog_run_ns_delta / c->prog_runs_delta :
						0,
			   run, sizeof(run));
		snprintf(tp->header[1], LINE_MAX_,
			 "iotrace itself: BPF %.2f%% of a CPU (%s ns/run), events lost %llu, "
			 "map updates failed %llu%s%s",
			 bpf_pct, run, (unsigned long long)lost, (unsigned long long)full,
			 tp->s.loader.net_off ? ", network off: " : "",
			 tp->s.loader.net_off ? tp->s.loader.net_off : "");
	} else {
		snprintf(tp->header[1], LINE_MAX_,
			 "iotrace itself: BPF run time unknown (statistics off), events lost %llu, "
			 "map updates failed %llu",
			 (unsigned long long)lost, (unsigned long long)full);
	}
	snprintf(tp->header[2], LINE_MAX_, "%zu workloads, %zu shown, sort %s%s%s%s", tp->nrows,
		 tp->nshown, top_cols[tp->sort].title, tp->filter[0] ? ", filter '" : "",
		 tp->filter, tp->filter[0] ? "'" : "");
}

static void add_detail(struct topper *tp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_detail(struct topper *tp, const char *fmt, ...)
{
	va_list ap;

	if (tp->ndetail == DETAIL_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(tp->detail_text[tp->ndetail++], LINE_MAX_, fmt, ap);
	va_end(ap);
}

static void add_counts(struct topper *tp, const char *title, const struct out_count *c, size_t n,
		       double interval_s)
{
	char v[16];

	if (!n)
		return;
	add_detail(tp, "%s", title);
	for (size_t i = 0; i < n && i < 12; i++) {
		top_fmt_si(rate(c[i].n, interval_s), v, sizeof(v));
		add_detail(tp, "  %-28s %8s/s", c[i].name, v);
	}
	if (n > 12)
		add_detail(tp, "  (%zu more)", n - 12);
}

/* Busiest device first: I/Os, then bytes, then number. */
static int dev_busier(const void *a, const void *b)
{
	const struct out_blk_dev *x = a, *y = b;
	uint64_t xo = x->read_ops + x->write_ops, yo = y->read_ops + y->write_ops;
	uint64_t xb = x->read_bytes + x->write_bytes, yb = y->read_bytes + y->write_bytes;

	if (xo != yo)
		return xo < yo ? 1 : -1;
	if (xb != yb)
		return xb < yb ? 1 : -1;
	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	return x->minor < y->minor ? -1 : x->minor > y->minor;
}

/*
 * A workload's block I/O by device, busiest first (the row's list is
 * scratch space: sorting it in place is fine).
 */
static void add_devices(struct topper *tp, const struct out_row *row, const struct wl_entry *e,
			double iv)
{
	struct out_blk_dev *d = (struct out_blk_dev *)row->devices;
	char a[16], b[16], c[16], label[OUT_DEV_NAME_MAX + 32];

	if (!d)
		return;
	qsort(d, row->n_devices, sizeof(*d), dev_busier);
	if (row->n_devices)
		add_detail(tp, "         %-24s %9s %9s %9s", "device", "reads/s", "writes/s",
			   "MB/s");
	for (size_t i = 0; i < row->n_devices; i++) {
		top_fmt_si(rate(d[i].read_ops, iv), a, sizeof(a));
		top_fmt_si(rate(d[i].write_ops, iv), b, sizeof(b));
		top_fmt_si(rate(d[i].read_bytes + d[i].write_bytes, iv) / 1e6, c, sizeof(c));
		snprintf(label, sizeof(label), "%s (%u:%u)", d[i].name[0] ? d[i].name : "?",
			 d[i].major, d[i].minor);
		add_detail(tp, "         %-24s %9s %9s %9s", label, a, b, c);
	}
	if (e && e->devs_untracked)
		add_detail(tp, "         (devices beyond the first %d it used are not split out)",
			   WL_MAX_DEVS);
}

/* text as detail lines of at most width columns, the first after lead, the others indented. */
static void add_wrapped(struct topper *tp, const char *lead, const char *text, int width)
{
	char line[LINE_MAX_];
	int indent = (int)strlen(lead), n = 0;
	const char *p = text;

	n = snprintf(line, sizeof(line), "%s", lead);
	while (*p) {
		size_t word = strcspn(p, " ");

		if (n > indent && n + 1 + (int)word > width) {
			add_detail(tp, "%s", line);
			n = snprintf(line, sizeof(line), "%*s", indent, "");
		}
		if (n > indent && n < (int)sizeof(line) - 1)
			line[n++] = ' ';
		n += snprintf(line + n, n < (int)sizeof(line) ? sizeof(line) - n : 0, "%.*s",
			      (int)word, p);
		if (n >= (int)sizeof(line))
			n = (int)sizeof(line) - 1;
		p += word;
		while (*p == ' ')
			p++;
	}
	add_detail(tp, "%s", line);
}

/*
 * What the advice rules say of the selected workload so far: each raised
 * finding with its remedy, then the rules that passed or lacked evidence,
 * with why (docs/advice.md).  Evaluated at each refresh of the drill-down.
 */
static void add_advice(struct topper *tp, const struct vm_entry *vm, const struct wl_entry *e)
{
	const struct advice_check *checks = NULL;
	const struct advice_finding *finds = NULL;
	size_t nchecks = 0, nfinds = 0;
	char lead[128];

	add_detail(tp, "%s", "");
	if (advisor_evaluate(&tp->adv)) {
		add_detail(tp, "Advice   (out of memory)");
		return;
	}
	if (vm) {
		const struct advice_result *r = advisor_vm_result(&tp->adv, vm);

		if (r) {
			checks = r->checks;
			nchecks = ADVICE_NRULES;
			finds = r->findings;
			nfinds = r->nfindings;
		}
	} else if (e) {
		const struct advice_ct_result *r = advisor_ct_result(&tp->adv, e->id);

		if (r) {
			checks = r->checks;
			nchecks = ADVICE_CT_NRULES;
			finds = r->findings;
			nfinds = r->nfindings;
		}
	}
	if (!checks) {
		add_detail(tp, "Advice   not judged: the rules are for VMs, and for containers (a "
			       "runtime's, or in their own namespaces) (docs/advice.md)");
		return;
	}
	add_detail(tp, "Advice   %zu finding%s so far (docs/advice.md)", nfinds,
		   nfinds == 1 ? "" : "s");
	for (size_t i = 0; i < nfinds; i++) {
		snprintf(lead, sizeof(lead), "  [%s] %s: ", advice_severity_name(finds[i].severity),
			 finds[i].id);
		add_wrapped(tp, lead, finds[i].summary, 100);
		add_wrapped(tp, "      remedy: ", finds[i].remedy, 100);
	}
	for (size_t i = 0; i < nchecks; i++) {
		if (checks[i].status == ADVICE_RAISED)
			continue;
		snprintf(lead, sizeof(lead), "  %s %s: ", checks[i].id,
			 checks[i].status == ADVICE_THIN ? "not judged" : "passed");
		add_wrapped(tp, lead, checks[i].reason, 100);
	}
}

/* The drill-down lines for the selected workload, from its row of this interval. */
static void build_detail(struct topper *tp)
{
	struct session *s = &tp->s;
	double iv = tp->interval_s;
	char a[16], b[16], c[16], d[16];
	bool refreshed = false, found = false;
	struct out_row row;
	struct wl_entry *e = NULL;
	struct vm_entry *vm = NULL;

	tp->ndetail = 0;
	if (tp->sel_vm) {
		vm = vm_table_find(&s->vms, (uint32_t)tp->sel_key);
		if (vm) {
			rows_fill_vm(s, &row, tp->vmrow, vm, false, iv);
			found = true;
		}
	} else {
		e = wl_table_find(&s->table, tp->sel_key);
		if (e) {
			session_identify(s, e, &refreshed);
			rows_fill(s, &row, &tp->wlrow, e, &e->delta, OUT_ROW_INTERVAL, iv);
			found = true;
		}
	}
	if (!found) {
		add_detail(tp, "The workload is gone.  Esc: back to the table.");
		return;
	}
	add_detail(tp, "%s  (%s)", row.wl.name, wl_kind_name(row.wl.kind));
	if (row.vm)
		add_detail(tp, "  VM pid %d  uuid %s  cgroup %s", row.vm->pid,
			   row.vm->vm_uuid ? row.vm->vm_uuid : "-",
			   row.wl.cgroup_path ? row.wl.cgroup_path : "?");
	else
		add_detail(
			tp, "  cgroup %s  (id %llu)  runtime %s  container %s",
			row.wl.cgroup_path ? row.wl.cgroup_path : "?",
			(unsigned long long)row.wl.cgroup_id, row.wl.runtime ? row.wl.runtime : "-",
			row.wl.container_id && row.wl.container_id[0] ? row.wl.container_id : "-");
	add_advice(tp, vm, e);
	add_detail(tp, "%s", "");
	fmt_count(row.cycles, a, sizeof(a));
	add_detail(tp, "CPU      %.1f%% of a CPU, %s cycles (%s)",
		   row.cpu_ns / (iv > 0 ? iv : 1) / 1e7, a, row.cycles_source);
	if (row.vm)
		add_detail(tp, "         guest %.1f%%, host %.1f%%", row.vm->guest_ns / iv / 1e7,
			   row.vm->host_ns / iv / 1e7);
	top_fmt_si(rate(row.read_ops, iv), a, sizeof(a));
	top_fmt_si(rate(row.write_ops, iv), b, sizeof(b));
	top_fmt_si(rate(row.read_bytes + row.write_bytes, iv) / 1e6, c, sizeof(c));
	add_detail(tp, "Block    reads %s/s  writes %s/s  %s MB/s", a, b, c);
	top_fmt_latency_us(row.lat_p50_us, a, sizeof(a));
	top_fmt_latency_us(row.lat_p99_us, b, sizeof(b));
	if (!row.vm)
		add_detail(tp, "         latency p50 %s  p99 %s  (latency over all devices)", a, b);
	add_devices(tp, &row, e, iv);
	if (row.has_net) {
		top_fmt_si(rate(row.tx_packets, iv), a, sizeof(a));
		top_fmt_si(rate(row.tx_bytes, iv) / 1e6, b, sizeof(b));
		top_fmt_si(rate(row.rx_packets, iv), c, sizeof(c));
		top_fmt_si(rate(row.rx_bytes, iv) / 1e6, d, sizeof(d));
		add_detail(tp,
			   "Network  tx %s pkt/s %s MB/s   rx %s pkt/s %s MB/s   softirq %.1f%%", a,
			   b, c, d, row.softirq_ns / (iv > 0 ? iv : 1) / 1e7);
		add_detail(tp, "         (%s)",
			   row.vm ? "at the VM's tap devices" :
				    "at the workload's sockets, any network namespace");
	} else {
		add_detail(tp, "Network  off: %s", s->loader.net_off ? s->loader.net_off : "?");
	}
	top_fmt_si(row.cycles_per_io, a, sizeof(a));
	top_fmt_si(row.cycles_per_packet, b, sizeof(b));
	if (row.cycles_per_byte >= 0)
		snprintf(c, sizeof(c), "%.2f", row.cycles_per_byte);
	else
		snprintf(c, sizeof(c), "-");
	add_detail(tp, "Cost     cycles per I/O %s  per packet %s  per byte %s", a, b, c);
	if (!row.vm)
		return;
	add_detail(tp, "         exits per I/O %.3f  host cycles per I/O %.0f  (%s)",
		   row.vm->exits_per_io, row.vm->host_cycles_per_io, row.vm->exits_source);
	add_detail(tp, "%s", "");
	add_detail(tp, "Threads  %-10s %7s %7s %9s %9s %9s", "role", "threads", "CPU%", "guest%",
		   "reads/s", "writes/s");
	for (size_t i = 0; i < row.vm->nroles; i++) {
		const struct out_vm_role *r = &row.vm->roles[i];

		top_fmt_si(rate(r->read_ops, iv), a, sizeof(a));
		top_fmt_si(rate(r->write_ops, iv), b, sizeof(b));
		add_detail(tp, "         %-10s %7u %7.1f %9.1f %9s %9s", r->role, r->threads,
			   r->cpu_ns / iv / 1e7, r->guest_ns / iv / 1e7, a, b);
	}
	add_detail(tp, "%s", "");
	top_fmt_si(rate(row.vm->exits, iv), a, sizeof(a));
	add_detail(tp, "Exits    %s/s (%s)", a, row.vm->exits_source);
	add_counts(tp, "  by reason:", row.vm->exits_by_reason, row.vm->n_exits_by_reason, iv);
	add_counts(tp, "  to the VMM, by reason:", row.vm->userspace_exits_by_reason,
		   row.vm->n_userspace_exits_by_reason, iv);
	add_counts(tp, "  port I/O, by port range:", row.vm->pio_ports, row.vm->n_pio_ports, iv);
	add_counts(tp, "  MMIO, by page:", row.vm->mmio_pages, row.vm->n_mmio_pages, iv);
}

/* Read an interval: tables, host CPU, rows, header. */
static int read_interval(struct topper *tp, double interval_s)
{
	struct host_cpu now;
	int err;

	err = session_read(&tp->s);
	if (err)
		return err;
	/* Batch mode shows no drill-down: no advice, no facts to read. */
	if (!tp->o->batch)
		advisor_observe(&tp->adv, ticks_mono(), interval_s);
	tp->interval_s = interval_s;
	if (read_host_cpu(&now) == 0) {
		unsigned long long db = now.busy - tp->cpu_prev.busy,
				   dt = now.total - tp->cpu_prev.total;

		tp->host_cpu_pct = dt ? 100.0 * db / dt : 0;
		tp->cpu_prev = now;
	}
	if (!tp->paused) {
		build_rows(tp);
		select_rows(tp);
	}
	build_header(tp);
	return 0;
}

/* ---- batch mode ------------------------------------------------------------ */

static int print_batch(struct topper *tp)
{
	enum top_col shown[TOP_NCOLS];
	char line[LINE_MAX_];
	int n, name_w;

	n = top_fit_columns(BATCH_WIDTH, shown, &name_w);
	for (int i = 0; i < 3; i++)
		printf("%s\n", tp->header[i]);
	printf("\n");
	top_format_header(shown, n, name_w, tp->sort, line, sizeof(line));
	printf("%s\n", line);
	for (size_t i = 0; i < tp->nshown; i++) {
		top_format_line(&tp->rows[tp->shown_idx[i]], shown, n, name_w, line, sizeof(line));
		printf("%s\n", line);
	}
	printf("\n");
	return fflush(stdout) ? -errno : 0;
}

/* ---- the full screen ----------------------------------------------------- */

static const char *const help_text[] = {
	"iotrace top: keys",
	"",
	"  q           quit",
	"  h           this help (any key: back)",
	"  c or P      sort by CPU%          r  by reads/s       w  by writes/s",
	"  m           sort by MB/s          t  by packets/s     e  by exits/s",
	"  y           sort by cycles/IO     x  by exits/IO      l  by p99 latency",
	"  n, k        sort by name, by kind",
	"  < >         sort by the column to the left / right",
	"  /           filter by name (Enter: apply, Esc: cancel, empty: all)",
	"  Enter       details of the selected workload (its devices, a VM's threads and exits)",
	"  Esc         back to the table",
	"  p           pause / resume the display",
	"  arrows, j k, PgUp PgDn, Home End: move the selection",
	"",
	"Columns: CPU% of one CPU; R/s W/s block ops per second; MB/s block bytes;",
	"PKT/s packets sent + received; EXIT/s KVM exits; CYC/IO cycles per block op",
	"or packet; EXIT/IO exits per block op or packet; P99 block latency.",
	"'-': not applicable (no I/O, not a VM, network figures off).",
};

static void draw(struct topper *tp, const char *footer)
{
	static char lines[MAX_ROWS < 4096 ? MAX_ROWS : 4096][LINE_MAX_];
	const char *ptrs[4096];
	const char *header_ptrs[3] = { tp->header[0], tp->header[1], tp->header[2] };
	struct top_screen sc = { .header = header_ptrs, .nheader = 3, .footer = footer };
	enum top_col shown[TOP_NCOLS];
	char title[LINE_MAX_];
	int rows, cols, n, name_w, room;

	top_view_size(&rows, &cols);
	if (tp->help) {
		sc.header = help_text;
		sc.nheader = (int)(sizeof(help_text) / sizeof(help_text[0]));
		sc.footer = "any key: back";
		top_view_draw(&sc);
		return;
	}
	if (tp->detail) {
		build_detail(tp);
		for (int i = 0; i < tp->ndetail; i++)
			ptrs[i] = tp->detail_text[i];
		sc.lines = ptrs;
		sc.nlines = tp->ndetail;
		sc.selected = -1;
		sc.footer = "Esc: back to the table   q: quit   p: pause";
		top_view_draw(&sc);
		return;
	}
	n = top_fit_columns(cols, shown, &name_w);
	top_format_header(shown, n, name_w, tp->sort, title, sizeof(title));
	sc.table_header = title;
	room = top_view_table_rows(3);
	/* Keep the selection on screen. */
	if (tp->sel >= 0 && tp->sel < tp->first)
		tp->first = tp->sel;
	if (tp->sel >= 0 && room > 0 && tp->sel >= tp->first + room)
		tp->first = tp->sel - room + 1;
	if (tp->first > 0 && (size_t)tp->first >= tp->nshown)
		tp->first = 0;
	for (size_t i = 0; i < tp->nshown && i < 4096; i++) {
		top_format_line(&tp->rows[tp->shown_idx[i]], shown, n, name_w, lines[i],
				sizeof(lines[i]));
		ptrs[i] = lines[i];
	}
	sc.lines = ptrs;
	sc.nlines = tp->nshown < 4096 ? (int)tp->nshown : 4096;
	sc.first = tp->first;
	sc.selected = tp->sel;
	top_view_draw(&sc);
}

static void move_sel(struct topper *tp, int by)
{
	long sel = tp->sel + by;

	if (!tp->nshown)
		return;
	if (sel < 0)
		sel = 0;
	if (sel >= (long)tp->nshown)
		sel = (long)tp->nshown - 1;
	tp->sel = (int)sel;
	tp->sel_key = tp->rows[tp->shown_idx[sel]].key;
	tp->sel_vm = tp->rows[tp->shown_idx[sel]].is_vm;
}

/* Read a filter on the footer line; Esc keeps the old one. */
static void prompt_filter(struct topper *tp)
{
	char buf[sizeof(tp->filter)], footer[LINE_MAX_];
	size_t n = 0;
	int ch;

	buf[0] = '\0';
	for (;;) {
		snprintf(footer, sizeof(footer),
			 "filter by name: %s_   (Enter: apply, Esc: cancel)", buf);
		draw(tp, footer);
		ch = top_view_key(-1);
		if (stop_requested)
			return;
		if (ch == TOP_KEY_ESC)
			return;
		if (ch == TOP_KEY_ENTER)
			break;
		if (ch == TOP_KEY_BACKSPACE && n > 0)
			buf[--n] = '\0';
		else if (ch >= 32 && ch < 256 && ch != TOP_KEY_BACKSPACE && n + 1 < sizeof(buf)) {
			buf[n++] = (char)ch;
			buf[n] = '\0';
		}
	}
	snprintf(tp->filter, sizeof(tp->filter), "%s", buf);
	tp->first = 0;
	select_rows(tp);
	build_header(tp);
}

/* The sort column next to the current one among those on screen. */
static void sort_step(struct topper *tp, int dir)
{
	enum top_col shown[TOP_NCOLS];
	int rows, cols, n, name_w, at = 0;

	top_view_size(&rows, &cols);
	n = top_fit_columns(cols, shown, &name_w);
	for (int i = 0; i < n; i++)
		if (shown[i] == tp->sort)
			at = i;
	at = (at + dir + n) % n;
	tp->sort = shown[at];
}

/* Handle one key; returns false to quit. */
static bool on_key(struct topper *tp, int ch)
{
	int col;

	if (tp->help) {
		tp->help = false;
		return ch != 'q';
	}
	switch (ch) {
	case 'q':
		return false;
	case 'h':
	case '?':
		tp->help = true;
		return true;
	case 'p':
		tp->paused = !tp->paused;
		build_header(tp);
		return true;
	case TOP_KEY_ESC:
		tp->detail = false;
		return true;
	case TOP_KEY_ENTER:
		if (tp->sel >= 0)
			tp->detail = true;
		return true;
	case '/':
		if (!tp->detail)
			prompt_filter(tp);
		return true;
	case '<':
	case '>':
		sort_step(tp, ch == '<' ? -1 : 1);
		break;
	case TOP_KEY_UP:
	case 'k':
		move_sel(tp, -1);
		return true;
	case TOP_KEY_DOWN:
	case 'j':
		move_sel(tp, 1);
		return true;
	case TOP_KEY_PGUP:
		move_sel(tp, -top_view_table_rows(3));
		return true;
	case TOP_KEY_PGDN:
		move_sel(tp, top_view_table_rows(3));
		return true;
	case TOP_KEY_HOME:
		move_sel(tp, -(int)tp->nshown);
		return true;
	case TOP_KEY_END:
		move_sel(tp, (int)tp->nshown);
		return true;
	case TOP_KEY_RESIZE:
		return true;
	default:
		col = top_col_by_key(ch);
		if (col < 0)
			return true;
		tp->sort = (enum top_col)col;
		break;
	}
	/* A new sort column: re-sort what is shown now. */
	top_sort(tp->rows, tp->nrows, tp->sort);
	select_rows(tp);
	build_header(tp);
	return true;
}

static const char footer_keys[] =
	"q quit  h help  c/r/w/t/y sort  < > column  / filter  Enter details  p pause";

/* Read the interval that ends now, and set the next deadline. */
static int tick(struct topper *tp, double *last, double *next)
{
	double now = ticks_mono();
	int err = read_interval(tp, now - *last);

	*last = now;
	while (*next <= now)
		*next += tp->o->delay_s;
	return err;
}

static int run_screen(struct topper *tp)
{
	double last = ticks_mono(), next = last + tp->o->delay_s;
	long updates = 0;
	int err, ch;

	draw(tp, "starting...");
	for (;;) {
		if (ticks_mono() >= next) {
			err = tick(tp, &last, &next);
			if (err)
				return err;
			updates++;
		}
		draw(tp, footer_keys);
		if (tp->o->iterations && updates >= tp->o->iterations)
			return 0;
		ch = top_view_key((int)((next - ticks_mono()) * 1000) + 1);
		if (stop_requested)
			return 0;
		if (ch >= 0 && !on_key(tp, ch))
			return 0;
	}
}

static int run_batch(struct topper *tp)
{
	double last = ticks_mono(), next = last + tp->o->delay_s, left;
	struct timespec ts;
	int err;

	for (long updates = 0; !tp->o->iterations || updates < tp->o->iterations; updates++) {
		while (!stop_requested && (left = next - ticks_mono()) > 0) {
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
		}
		if (stop_requested)
			return 0;
		err = tick(tp, &last, &next);
		if (err)
			return err;
		err = print_batch(tp);
		if (err) {
			fprintf(stderr, "iotrace: cannot write to standard output: %s\n",
				strerror(-err));
			return err;
		}
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o;
	struct topper tp = { .o = &o, .s = SESSION_INIT, .sort = TOP_CPU, .sel = -1 };
	struct session_opts so = { .t = &o.t, .bpf_stats = true };
	struct sigaction sa = { .sa_handler = on_stop };
	char err[2048];
	int ret = 1;

	switch (cli_parse_top(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_top_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace top: %s\nTry 'iotrace top --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}
	/* Like top: no terminal on standard output means batch mode. */
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		o.batch = true;

	/* No SA_RESTART: a signal must end the wait for a key at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	tp.rows = calloc(MAX_ROWS, sizeof(*tp.rows));
	tp.shown_idx = calloc(MAX_ROWS, sizeof(*tp.shown_idx));
	tp.vmrow = rows_vm_buf_new();
	if (!tp.rows || !tp.shown_idx || !tp.vmrow) {
		fprintf(stderr, "iotrace: out of memory\n");
		goto out;
	}
	tp.ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	read_host_cpu(&tp.cpu_prev);
	if (session_open(&tp.s, &so))
		goto out;
	advisor_init(&tp.adv, &tp.s);
	if (stop_requested) {
		ret = 0;
		goto out;
	}
	if (o.batch) {
		ret = run_batch(&tp) ? 1 : 0;
	} else {
		if (top_view_open()) {
			fprintf(stderr, "iotrace: cannot use the terminal; try batch mode (-b)\n");
			goto out;
		}
		ret = run_screen(&tp) ? 1 : 0;
		top_view_close();
	}
out:
	advisor_free(&tp.adv);
	session_close(&tp.s);
	rows_vm_buf_free(tp.vmrow);
	free(tp.shown_idx);
	free(tp.rows);
	return ret;
}
