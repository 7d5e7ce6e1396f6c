// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace advise`: attach as record does, read every second for the
 * duration (or until SIGINT/SIGTERM/SIGHUP), and meanwhile read each live
 * VM's configuration (user/vm_config.h) while its process can still be
 * asked; then evaluate the rules (user/advice.h) for every VM seen and
 * print the findings as a table or JSON lines (docs/advice.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "advise.h"
#include "cli.h"
#include "output.h"
#include "proc_ident.h"
#include "rows.h"
#include "session.h"
#include "ticks.h"
#include "vm_config.h"

/* A live VM's configuration is read again this often (smaps changes as the guest runs). */
#define ADVISE_CONFIG_REFRESH_S 2.0
#define ADVISE_INTERVAL_S 1.0

/* What advise keeps of a VM besides the session's table entry. */
struct watch {
	const struct vm_entry *vm;
	struct vm_config cfg; /* the last good read; cmdline_read false: none */
	double cfg_at; /* monotonic time of that read */
	double seconds; /* watched while it ran */
	bool gone; /* gone at the last read */
};

struct advisor {
	const struct advise_opts *o;
	struct session s;
	struct watch *w;
	size_t nw, capw;
	double run_s;
};

static struct watch *watch_of(struct advisor *a, const struct vm_entry *vm, bool *created)
{
	struct watch *w;

	*created = false;
	for (size_t i = 0; i < a->nw; i++)
		if (a->w[i].vm == vm)
			return &a->w[i];
	if (a->nw == a->capw) {
		size_t cap = a->capw ? a->capw * 2 : 16;
		struct watch *n = realloc(a->w, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->w = n;
		a->capw = cap;
	}
	w = &a->w[a->nw++];
	memset(w, 0, sizeof(*w));
	w->vm = vm;
	*created = true;
	return w;
}

/*
 * Read a live VM's configuration, keeping it only if the pid still names
 * the same process afterwards (a pid reused meanwhile is another process).
 */
static void read_config(struct watch *w, double now)
{
	const struct vm_entry *vm = w->vm;
	struct proc_ident id;
	struct vm_config *cfg = malloc(sizeof(*cfg));

	if (!cfg)
		return;
	if (vm_config_read(NULL, (int)vm->pid, cfg) == 0 &&
	    proc_ident_read(NULL, (int)vm->pid, &id) == 0 &&
	    (!vm->ident.pid || proc_ident_same(&id, &vm->ident))) {
		w->cfg = *cfg;
		w->cfg_at = now;
	}
	free(cfg);
}

/*
 * After each read: time watched (each interval a VM began alive: the one
 * it was found in is not counted, the one it died in is), and
 * configurations due.
 */
static void watch_vms(struct advisor *a, double now, double dt)
{
	struct vm_entry *vm;
	struct watch *w;
	bool created;
	size_t i;

	vm_table_for_each(&a->s.vms, i, vm)
	{
		w = watch_of(a, vm, &created);
		if (!w)
			continue;
		if (!created && !w->gone)
			w->seconds += dt;
		w->gone = vm->gone;
		if (vm->gone)
			continue;
		if (!w->cfg.cmdline_read || now - w->cfg_at >= ADVISE_CONFIG_REFRESH_S)
			read_config(w, now);
	}
}

static int run_loop(struct advisor *a, const sigset_t *stopset)
{
	double t0 = ticks_mono(), last = t0, next = t0 + ADVISE_INTERVAL_S, now;
	bool stop = false;
	int err;

	/* VMs already running: their configuration now, while they run. */
	watch_vms(a, t0, 0);
	while (!stop) {
		double deadline = next;

		if (t0 + a->o->duration_s < deadline)
			deadline = t0 + a->o->duration_s;
		stop = ticks_wait_until(stopset, deadline);
		now = ticks_mono();
		if (now - t0 >= a->o->duration_s - 1e-6)
			stop = true;
		err = session_read(&a->s);
		if (err)
			return err;
		watch_vms(a, now, now - last);
		last = now;
		while (next <= now)
			next += ADVISE_INTERVAL_S;
	}
	a->run_s = last - t0;
	return 0;
}

/* ---- inputs of the rules ---- */

static void fill_vm(struct advisor *a, struct vm_row_buf *vb, const struct watch *w,
		    struct advice_vm *av)
{
	const struct vm_entry *vm = w->vm;
	struct advice_vm_measure *m = &av->m;
	struct out_row row;

	memset(av, 0, sizeof(*av));
	av->name = vm->name;
	av->pid = (int)vm->pid;
	av->cfg = w->cfg;
	rows_fill_vm(&a->s, &row, vb, vm, true, w->seconds);
	m->seconds = w->seconds;
	for (int k = 0; k < VM_ROLE_MAX; k++) {
		const struct vm_role_stats *rs = &vm->roles[k];

		m->role_ops[k] = rs->total.rd_ops + rs->total.wr_ops;
		m->role_cpu_ns[k] = rs->total.cpu_ns;
		m->role_threads[k] = rs->threads_total;
	}
	m->packets = row.tx_packets + row.rx_packets;
	m->cycles_per_ns = row.cpu_ns ? (double)row.cycles / (double)row.cpu_ns : a->s.tsc_hz / 1e9;
	m->cycles_source = row.cycles_source;
	m->exits_source = row.vm->exits_source;
	m->exits_per_io = row.vm->exits_per_io;
	m->host_cycles_per_io = row.vm->host_cycles_per_io;
}

/* ---- output ---- */

static void json_fig(FILE *f, const struct advice_fig *g)
{
	out_json_str(f, g->key);
	fputc(':', f);
	switch (g->type) {
	case ADVICE_FIG_NUM:
		fprintf(f, "%.*f", g->prec, g->num);
		break;
	case ADVICE_FIG_STR:
		out_json_str(f, g->str);
		break;
	default:
		fputs("null", f);
	}
}

static void json_workload(FILE *f, const struct vm_entry *vm)
{
	fprintf(f, "{\"kind\":\"vm\",\"pid\":%u,\"name\":", vm->pid);
	out_json_str(f, vm->name);
	fputs(",\"vm_uuid\":", f);
	out_json_str(f, vm->uuid[0] ? vm->uuid : NULL);
	fputs(",\"cgroup_path\":", f);
	out_json_str(f, vm->cgroup_path[0] ? vm->cgroup_path : NULL);
	fputc('}', f);
}

static void json_finding(FILE *f, const struct vm_entry *vm, const struct advice_finding *fd)
{
	fputs("{\"type\":\"finding\",\"id\":", f);
	out_json_str(f, fd->id);
	fputs(",\"severity\":", f);
	out_json_str(f, advice_severity_name(fd->severity));
	fputs(",\"workload\":", f);
	json_workload(f, vm);
	fputs(",\"summary\":", f);
	out_json_str(f, fd->summary);
	fputs(",\"evidence\":{", f);
	for (size_t i = 0; i < fd->nevidence; i++) {
		json_fig(f, &fd->evidence[i]);
		fputc(',', f);
	}
	fputs("\"source\":", f);
	out_json_str(f, fd->source);
	fputs("},\"remedy\":", f);
	out_json_str(f, fd->remedy);
	fputs(",\"saving\":{\"estimated\":", f);
	fputs(fd->nsaving ? "true" : "false", f);
	for (size_t i = 0; i < fd->nsaving; i++) {
		fputc(',', f);
		json_fig(f, &fd->saving[i]);
	}
	fputs(",\"basis\":", f);
	out_json_str(f, fd->saving_basis);
	fputs("}}\n", f);
}

/* Print text wrapped at 78 columns, every line after the first indented by indent. */
static void wrap(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col > indent && col + 1 + (int)word > 78) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, word, f);
		col += (int)word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

static void fig_text(const struct advice_fig *g, char *buf, size_t len)
{
	switch (g->type) {
	case ADVICE_FIG_NUM:
		snprintf(buf, len, "%s=%.*f", g->key, g->prec, g->num);
		break;
	case ADVICE_FIG_STR:
		snprintf(buf, len, "%s=%s", g->key, g->str);
		break;
	default:
		snprintf(buf, len, "%s=null", g->key);
	}
}

static void table_finding(FILE *f, const struct vm_entry *vm, const struct advice_finding *fd)
{
	char line[2048], one[160];
	size_t n = 0;

	fprintf(f, "\n[%s] %s  %s (pid %u)\n", advice_severity_name(fd->severity), fd->id, vm->name,
		vm->pid);
	fputs("  ", f);
	wrap(f, fd->summary, 2, 2);
	line[0] = '\0';
	for (size_t i = 0; i < fd->nevidence; i++) {
		fig_text(&fd->evidence[i], one, sizeof(one));
		n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, "%s%s",
				      i ? " " : "", one);
		if (n >= sizeof(line))
			break;
	}
	fputs("  evidence: ", f);
	wrap(f, line, 12, 12);
	fputs("  from:     ", f);
	wrap(f, fd->source, 12, 12);
	fputs("  remedy:   ", f);
	wrap(f, fd->remedy, 12, 12);
	line[0] = '\0';
	n = 0;
	for (size_t i = 0; i < fd->nsaving; i++) {
		fig_text(&fd->saving[i], one, sizeof(one));
		n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, "%s ",
				      one);
		if (n >= sizeof(line))
			break;
	}
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "%s%s", fd->nsaving ? "-- " : "",
			 fd->saving_basis);
	fputs("  saving:   ", f);
	wrap(f, line, 12, 12);
}

static int print_results(struct advisor *a)
{
	FILE *f = stdout;
	bool json = a->o->format == ADVISE_JSON;
	struct advice_vm *vms = calloc(a->nw ? a->nw : 1, sizeof(*vms));
	struct advice_result *res = calloc(a->nw ? a->nw : 1, sizeof(*res));
	struct vm_row_buf *vb = rows_vm_buf_new();
	size_t nfind = 0, nthin = 0, nvm = 0, *idx = calloc(a->nw ? a->nw : 1, sizeof(*idx));
	int ret = 0;

	if (!vms || !res || !vb || !idx) {
		fprintf(stderr, "iotrace: out of memory\n");
		ret = 1;
		goto out;
	}
	/* The VMs in the --cgroup filter: named (it was needed to know their cgroup). */
	for (size_t i = 0; i < a->nw; i++) {
		struct vm_entry *vm = (struct vm_entry *)a->w[i].vm;

		session_identify_vm(&a->s, vm);
		if (!session_wanted(&a->s, vm->cgroup_id))
			continue;
		fill_vm(a, vb, &a->w[i], &vms[nvm]);
		idx[nvm++] = i;
	}
	for (size_t i = 0; i < nvm; i++) {
		advice_evaluate(vms, nvm, i, &res[i]);
		nfind += res[i].nfindings;
		for (int k = 0; k < ADVICE_NRULES; k++)
			nthin += res[i].checks[k].status == ADVICE_THIN;
	}
	if (!json)
		fprintf(f, "iotrace advise: %zu VM%s watched over %.1f s: %zu finding%s\n", nvm,
			nvm == 1 ? "" : "s", a->run_s, nfind, nfind == 1 ? "" : "s");
	for (size_t i = 0; i < nvm; i++) {
		const struct vm_entry *vm = a->w[idx[i]].vm;

		for (size_t k = 0; k < res[i].nfindings; k++) {
			if (json)
				json_finding(f, vm, &res[i].findings[k]);
			else
				table_finding(f, vm, &res[i].findings[k]);
		}
	}
	if (json) {
		struct timespec now;
		char ts[64];
		bool first = true;

		clock_gettime(CLOCK_REALTIME, &now);
		out_format_ts(&now, ts, sizeof(ts));
		fputs("{\"type\":\"advise\",\"ts\":", f);
		out_json_str(f, ts);
		fprintf(f,
			",\"duration_s\":%.3f,\"vms\":%zu,\"findings\":%zu,\"thin\":%zu,\"checks\":[",
			a->run_s, nvm, nfind, nthin);
		for (size_t i = 0; i < nvm; i++) {
			const struct vm_entry *vm = a->w[idx[i]].vm;

			for (int k = 0; k < ADVICE_NRULES; k++) {
				const struct advice_check *c = &res[i].checks[k];

				fputs(first ? "{\"id\":" : ",{\"id\":", f);
				first = false;
				out_json_str(f, c->id);
				fprintf(f, ",\"pid\":%u,\"name\":", vm->pid);
				out_json_str(f, vm->name);
				fputs(",\"status\":", f);
				out_json_str(f, advice_status_name(c->status));
				fputs(",\"reason\":", f);
				out_json_str(f, c->status == ADVICE_RAISED ? NULL : c->reason);
				fputc('}', f);
			}
		}
		fputs("]}\n", f);
	} else {
		for (int pass = 0; pass < 2; pass++) {
			enum advice_status want = pass ? ADVICE_PASSED : ADVICE_THIN;
			bool head = false;

			for (size_t i = 0; i < nvm; i++) {
				const struct vm_entry *vm = a->w[idx[i]].vm;

				bool same = true;

				/* One line for a VM whose rules all say the same (not QEMU, say). */
				for (int k = 1; k < ADVICE_NRULES; k++)
					same = same &&
					       res[i].checks[k].status == res[i].checks[0].status &&
					       !strcmp(res[i].checks[k].reason,
						       res[i].checks[0].reason);
				for (int k = 0; k < (same ? 1 : ADVICE_NRULES); k++) {
					const struct advice_check *c = &res[i].checks[k];
					char lead[512];

					if (c->status != want)
						continue;
					if (!head)
						fprintf(f, "\n%s\n",
							pass ? "Checked, nothing to change:" :
							       "Not judged (evidence too thin):");
					head = true;
					snprintf(lead, sizeof(lead), "%s %s (pid %u): %s",
						 same ? "every rule:" : c->id, vm->name, vm->pid,
						 c->reason);
					fputs("  ", f);
					wrap(f, lead, 2, 4);
				}
			}
		}
		if (!nvm)
			fputs("No VM was seen running.\n", f);
	}
	if (fflush(f)) {
		fprintf(stderr, "iotrace: cannot write to standard output: %s\n", strerror(errno));
		ret = 1;
	}
out:
	rows_vm_buf_free(vb);
	free(vms);
	free(res);
	free(idx);
	return ret;
}

int cmd_advise(int argc, char **argv)
{
	struct advise_opts o;
	struct advisor a = { .o = &o, .s = SESSION_INIT };
	struct session_opts so = { 0 };
	sigset_t stopset;
	char err[2048];
	int ret = 1;

	switch (cli_parse_advise(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_advise_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace advise: %s\nTry 'iotrace advise --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}
	ticks_hold_stop_signals(&stopset);

	so.t = &o.t;
	so.bpf_stats = false;
	if (session_open(&a.s, &so))
		goto out;
	fprintf(stderr, "iotrace: advise: watching every VM for %g s; Ctrl-C to stop early\n",
		o.duration_s);
	if (run_loop(&a, &stopset))
		goto out;
	ret = print_results(&a);
out:
	session_close(&a.s);
	free(a.w);
	return ret;
}
