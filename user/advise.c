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
#include <sys/stat.h>
#include <time.h>

#include "advice.h"
#include "advice_ct.h"
#include "advice_out.h"
#include "advise.h"
#include "cli.h"
#include "cycles.h"
#include "netns_links.h"
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

/*
 * What advise keeps of a workload judged as a container (or watched as a
 * host-network reference), by cgroup id: the facts read while it ran.
 */
struct ct_watch {
	uint64_t id;
	int pid; /* the process the facts were read of; 0: none yet */
	bool judged; /* a container: a runtime's cgroup, or another netns or mount ns */
	bool host_mntns;
	struct ct_net_facts net;
	struct ct_mounts mounts;
	double facts_at; /* monotonic time of the last read; 0: never */
	double seconds; /* watched while it had processes */
};

struct advisor {
	const struct advise_opts *o;
	struct session s;
	struct watch *w;
	size_t nw, capw;
	struct ct_watch *cw;
	size_t ncw, capcw;
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
 * The CPU affinity of the VM's live vCPU threads (iotrace's roles) into
 * cfg->pin; when none could be read (the vCPUs gone before the process),
 * the last reading stays.
 */
static void read_pinning(const struct watch *w, struct vm_config *cfg)
{
	const struct vm_entry *vm = w->vm;
	uint32_t tids[VM_MAX_VCPU_AFFINITY];
	size_t n = 0;

	for (size_t i = 0; i < vm->nthreads && n < VM_MAX_VCPU_AFFINITY; i++)
		if (vm->threads[i].role == VM_ROLE_VCPU)
			tids[n++] = vm->threads[i].tid;
	if (vm_config_read_vcpu_pinning(NULL, (int)vm->pid, tids, n, cfg) <= 0)
		cfg->pin = w->cfg.pin;
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
	if (vm_config_read(NULL, (int)vm->pid, cfg) == 0) {
		read_pinning(w, cfg);
		if (proc_ident_read(NULL, (int)vm->pid, &id) == 0 &&
		    (!vm->ident.pid || proc_ident_same(&id, &vm->ident))) {
			w->cfg = *cfg;
			w->cfg_at = now;
		}
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

/* ---- containers ---- */

/* A container's facts are read again this often (its pid may change, rules may come). */
#define ADVISE_CT_REFRESH_S 5.0
/* Cgroups whose facts are read for the first time in one interval, at most. */
#define ADVISE_CT_NEW_PER_READ 32

static struct ct_watch *ct_watch_of(struct advisor *a, uint64_t id, bool create)
{
	struct ct_watch *w;

	for (size_t i = 0; i < a->ncw; i++)
		if (a->cw[i].id == id)
			return &a->cw[i];
	if (!create)
		return NULL;
	if (a->ncw == a->capcw) {
		size_t cap = a->capcw ? a->capcw * 2 : 16;
		struct ct_watch *n = realloc(a->cw, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->cw = n;
		a->capcw = cap;
	}
	w = &a->cw[a->ncw++];
	memset(w, 0, sizeof(*w));
	w->id = id;
	return w;
}

/* The first live process of the cgroup at path (relative to the mount); 0: none. */
static int cgroup_pid(const struct session *s, const char *path)
{
	char file[4096 + 600], text[4096];
	int pids[8];
	size_t n, r;
	FILE *f;

	snprintf(file, sizeof(file), "%s%s/cgroup.procs", s->mount, path);
	f = fopen(file, "re");
	if (!f)
		return 0;
	r = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[r] = '\0';
	n = nl_parse_pids(text, pids, 8);
	return n ? pids[0] : 0;
}

static bool same_ns(int pid, const char *ns)
{
	char path[64], self[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	snprintf(self, sizeof(self), "/proc/self/ns/%s", ns);
	return !stat(path, &a) && !stat(self, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* Whether a VM's process is in cgroup id: judged as a VM, not as a container. */
static bool holds_vm(struct advisor *a, uint64_t id)
{
	struct vm_entry *vm;
	size_t i;

	vm_table_for_each(&a->s.vms, i, vm)
	{
		if (vm->cgroup_id == id)
			return true;
	}
	return false;
}

static void read_ct_facts(struct advisor *a, struct ct_watch *w, const struct wl_entry *e,
			  double now)
{
	int pid = cgroup_pid(&a->s, e->path);
	struct ct_net_facts *net;
	struct ct_mounts *mt;

	w->facts_at = now;
	if (!pid)
		return;
	net = malloc(sizeof(*net));
	mt = malloc(sizeof(*mt));
	if (net && mt && !ct_net_read(pid, net)) {
		int merr = ct_mounts_read(pid, mt);

		/* Kept only if the process was still there after the reads. */
		if (!merr || w->pid != pid || !w->mounts.read) {
			w->net = *net;
			if (!merr)
				w->mounts = *mt;
			else if (w->pid != pid)
				memset(&w->mounts, 0, sizeof(w->mounts));
			w->pid = pid;
			w->host_mntns = same_ns(pid, "mnt");
			w->judged = w->judged || e->cls.kind == WL_KIND_CONTAINER ||
				    !net->host_netns || !w->host_mntns || a->s.nfilter > 0;
		}
	}
	free(net);
	free(mt);
}

/*
 * After each read: every workload with traffic or block I/O that passes
 * the filter and holds no VM gets its facts read while it runs (again
 * every ADVISE_CT_REFRESH_S), and its time watched counted.
 */
static void watch_cts(struct advisor *a, double now, double dt)
{
	struct wl_entry *e;
	bool refreshed = false;
	int fresh = 0;

	wl_table_for_each(&a->s.table, e)
	{
		struct ct_watch *w = ct_watch_of(a, e->id, false);

		if (w && !e->gone && w->pid)
			w->seconds += dt;
		if (e->gone || !e->ever_active || e->id == IOTRACE_UNATTRIBUTED_ID ||
		    !session_wanted(&a->s, e->id))
			continue;
		if (!w && fresh >= ADVISE_CT_NEW_PER_READ)
			continue;
		session_identify(&a->s, e, &refreshed);
		if (!e->path_known || e->cls.kind == WL_KIND_HOST || !strcmp(e->path, "/") ||
		    holds_vm(a, e->id))
			continue;
		if (w && w->facts_at && now - w->facts_at < ADVISE_CT_REFRESH_S)
			continue;
		if (!w) {
			w = ct_watch_of(a, e->id, true);
			if (!w)
				continue;
			fresh++;
		}
		read_ct_facts(a, w, e, now);
	}
}

static int run_loop(struct advisor *a, const sigset_t *stopset)
{
	double t0 = ticks_mono(), last = t0, next = t0 + ADVISE_INTERVAL_S, now;
	bool stop = false;
	int err;

	/* VMs already running: their configuration now, while they run. */
	watch_vms(a, t0, 0);
	watch_cts(a, t0, 0);
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
		watch_cts(a, now, now - last);
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
		m->role_migrations[k] = rs->total.migrations;
		m->role_runq_wait_ns[k] = rs->total.runq_wait_ns;
		m->role_runq_waits[k] = rs->total.runq_waits;
	}
	m->runq_wait_known = a->s.loader.sched_info;
	m->packets = row.tx_packets + row.rx_packets;
	m->cycles_per_ns = row.cpu_ns ? (double)row.cycles / (double)row.cpu_ns : a->s.tsc_hz / 1e9;
	m->cycles_source = row.cycles_source;
	m->exits_source = row.vm->exits_source;
	m->exits_per_io = row.vm->exits_per_io;
	m->host_cycles_per_io = row.vm->host_cycles_per_io;
}

static void fill_ct(struct advisor *a, struct wl_row_buf *rb, const struct ct_watch *w,
		    const struct wl_entry *e, struct advice_ct *ac)
{
	struct advice_ct_measure *m = &ac->m;
	struct out_row row;

	memset(ac, 0, sizeof(*ac));
	ac->name = e->cls.name;
	ac->cgroup_path = e->path;
	ac->pid = w->pid;
	ac->judged = w->judged;
	ac->net = w->net;
	ac->mounts = w->mounts;
	rows_fill(&a->s, &row, rb, e, &e->total, OUT_ROW_SUMMARY, w->seconds);
	m->seconds = w->seconds;
	m->tx_packets = e->total.tx_packets;
	m->tx_bytes = e->total.tx_bytes;
	m->rx_packets = e->total.rx_packets;
	m->rx_bytes = e->total.rx_bytes;
	m->cost_cycles = (double)(row.cycles + cycles_from_ns(e->total.softirq_ns, a->s.tsc_hz));
	m->cycles_per_ns = row.cpu_ns ? (double)row.cycles / (double)row.cpu_ns : a->s.tsc_hz / 1e9;
	m->cycles_source = row.cycles_source;
	m->wr_ops = e->total.wr_ops;
	m->wr_bytes = e->total.wr_bytes;
	for (size_t i = 0; i < e->ndevs && m->ndevs < ADVICE_CT_MAX_DEVS; i++) {
		struct advice_ct_dev *d = &m->devs[m->ndevs++];

		d->major = e->devs[i].major;
		d->minor = e->devs[i].minor;
		d->wr_ops = e->devs[i].total.wr_ops;
		d->wr_bytes = e->devs[i].total.wr_bytes;
		d->rd_ops = e->devs[i].total.rd_ops;
		d->rd_bytes = e->devs[i].total.rd_bytes;
	}
	m->devs_untracked = e->devs_untracked;
}

/* ---- output ---- */

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

static void json_ct_workload(FILE *f, const struct advice_ct *ct, const struct wl_entry *e)
{
	fputs("{\"kind\":\"container\",\"cgroup_id\":", f);
	fprintf(f, "%llu,\"cgroup_path\":", (unsigned long long)e->id);
	out_json_str(f, ct->cgroup_path);
	fputs(",\"name\":", f);
	out_json_str(f, ct->name);
	fputs(",\"runtime\":", f);
	out_json_str(f, e->cls.runtime);
	fputs(",\"container_id\":", f);
	out_json_str(f, e->cls.container_id[0] ? e->cls.container_id : NULL);
	fprintf(f, ",\"pid\":%d}", ct->pid);
}

/* A finding line: its head, the workload, then its body (user/advice_out.h). */
static void json_finding_head(FILE *f, const struct advice_finding *fd)
{
	fputs("{\"type\":\"finding\",", f);
	advice_json_id(f, fd);
	fputs(",\"workload\":", f);
}

static void json_finding_body(FILE *f, const struct advice_finding *fd)
{
	advice_json_body(f, fd);
	fputs("}\n", f);
}

static void json_finding(FILE *f, const struct vm_entry *vm, const struct advice_finding *fd)
{
	json_finding_head(f, fd);
	json_workload(f, vm);
	json_finding_body(f, fd);
}

/* The containers and host-network references seen, and the judged ones' results. */
struct ct_set {
	struct advice_ct *cts;
	const struct wl_entry **ents;
	struct advice_ct_result *res;
	struct wl_row_buf *rb;
	size_t n, njudged;
};

static int ct_prepare(struct advisor *a, struct ct_set *cx, size_t *nfind, size_t *nthin)
{
	size_t cap = a->ncw ? a->ncw : 1;

	memset(cx, 0, sizeof(*cx));
	cx->cts = calloc(cap, sizeof(*cx->cts));
	cx->ents = calloc(cap, sizeof(*cx->ents));
	cx->res = calloc(cap, sizeof(*cx->res));
	cx->rb = calloc(1, sizeof(*cx->rb));
	if (!cx->cts || !cx->ents || !cx->res || !cx->rb)
		return -1;
	for (size_t i = 0; i < a->ncw; i++) {
		const struct ct_watch *w = &a->cw[i];
		const struct wl_entry *e = wl_table_find(&a->s.table, w->id);

		if (!e || !w->pid)
			continue;
		cx->ents[cx->n] = e;
		fill_ct(a, cx->rb, w, e, &cx->cts[cx->n]);
		cx->n++;
	}
	for (size_t i = 0; i < cx->n; i++) {
		if (!cx->cts[i].judged)
			continue;
		cx->njudged++;
		advice_ct_evaluate(cx->cts, cx->n, i, &cx->res[i]);
		*nfind += cx->res[i].nfindings;
		for (int k = 0; k < ADVICE_CT_NRULES; k++)
			*nthin += cx->res[i].checks[k].status == ADVICE_THIN;
	}
	return 0;
}

static void ct_free(struct ct_set *cx)
{
	free(cx->cts);
	free(cx->ents);
	free(cx->res);
	free(cx->rb);
}

static void ct_print_findings(FILE *f, bool json, const struct ct_set *cx)
{
	for (size_t i = 0; i < cx->n; i++) {
		const struct advice_ct *ct = &cx->cts[i];

		for (size_t k = 0; ct->judged && k < cx->res[i].nfindings; k++) {
			if (json) {
				json_finding_head(f, &cx->res[i].findings[k]);
				json_ct_workload(f, ct, cx->ents[i]);
				json_finding_body(f, &cx->res[i].findings[k]);
			} else {
				char who[700];

				snprintf(who, sizeof(who), "container %s (cgroup %s)", ct->name,
					 ct->cgroup_path);
				advice_table_finding(f, who, &cx->res[i].findings[k]);
			}
		}
	}
}

static void ct_json_checks(FILE *f, const struct ct_set *cx, bool first)
{
	for (size_t i = 0; i < cx->n; i++) {
		const struct advice_ct *ct = &cx->cts[i];

		for (int k = 0; ct->judged && k < ADVICE_CT_NRULES; k++) {
			const struct advice_check *c = &cx->res[i].checks[k];

			fputs(first ? "{\"id\":" : ",{\"id\":", f);
			first = false;
			out_json_str(f, c->id);
			fputs(",\"cgroup_path\":", f);
			out_json_str(f, ct->cgroup_path);
			fputs(",\"name\":", f);
			out_json_str(f, ct->name);
			fputs(",\"status\":", f);
			out_json_str(f, advice_status_name(c->status));
			fputs(",\"reason\":", f);
			out_json_str(f, c->status == ADVICE_RAISED ? NULL : c->reason);
			fputc('}', f);
		}
	}
}

static void ct_table_checks(FILE *f, const struct ct_set *cx)
{
	for (int pass = 0; pass < 2; pass++) {
		enum advice_status want = pass ? ADVICE_PASSED : ADVICE_THIN;
		bool head = false;

		for (size_t i = 0; i < cx->n; i++) {
			const struct advice_ct *ct = &cx->cts[i];

			for (int k = 0; ct->judged && k < ADVICE_CT_NRULES; k++) {
				const struct advice_check *c = &cx->res[i].checks[k];
				char lead[1024];

				if (c->status != want)
					continue;
				if (!head)
					fprintf(f, "\n%s\n",
						pass ? "Containers checked, nothing to change:" :
						       "Containers not judged (evidence too thin):");
				head = true;
				snprintf(lead, sizeof(lead), "%s %s (cgroup %s): %s", c->id,
					 ct->name, ct->cgroup_path, c->reason);
				fputs("  ", f);
				advice_wrap(f, lead, 2, 4);
			}
		}
	}
}

static int print_results(struct advisor *a)
{
	FILE *f = stdout;
	bool json = a->o->format == ADVISE_JSON;
	struct advice_vm *vms = calloc(a->nw ? a->nw : 1, sizeof(*vms));
	struct advice_result *res = calloc(a->nw ? a->nw : 1, sizeof(*res));
	struct vm_row_buf *vb = rows_vm_buf_new();
	size_t nfind = 0, nthin = 0, nvm = 0, *idx = calloc(a->nw ? a->nw : 1, sizeof(*idx));
	struct ct_set cx = { 0 };
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
	if (ct_prepare(a, &cx, &nfind, &nthin)) {
		fprintf(stderr, "iotrace: out of memory\n");
		ret = 1;
		goto out;
	}
	if (!json)
		fprintf(f,
			"iotrace advise: %zu VM%s watched over %.1f s (and %zu container%s): %zu finding%s\n",
			nvm, nvm == 1 ? "" : "s", a->run_s, cx.njudged, cx.njudged == 1 ? "" : "s",
			nfind, nfind == 1 ? "" : "s");
	for (size_t i = 0; i < nvm; i++) {
		const struct vm_entry *vm = a->w[idx[i]].vm;

		for (size_t k = 0; k < res[i].nfindings; k++) {
			if (json)
				json_finding(f, vm, &res[i].findings[k]);
			else {
				char who[300];

				snprintf(who, sizeof(who), "%s (pid %u)", vm->name, vm->pid);
				advice_table_finding(f, who, &res[i].findings[k]);
			}
		}
	}
	ct_print_findings(f, json, &cx);
	if (json) {
		struct timespec now;
		char ts[64];
		bool first = true;

		clock_gettime(CLOCK_REALTIME, &now);
		out_format_ts(&now, ts, sizeof(ts));
		fputs("{\"type\":\"advise\",\"ts\":", f);
		out_json_str(f, ts);
		fprintf(f,
			",\"duration_s\":%.3f,\"vms\":%zu,\"containers\":%zu,\"findings\":%zu,"
			"\"thin\":%zu,\"checks\":[",
			a->run_s, nvm, cx.njudged, nfind, nthin);
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
		ct_json_checks(f, &cx, first);
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
					advice_wrap(f, lead, 2, 4);
				}
			}
		}
		ct_table_checks(f, &cx);
		if (!nvm && !cx.njudged)
			fputs("No VM or container was seen running.\n", f);
	}
	if (fflush(f)) {
		fprintf(stderr, "iotrace: cannot write to standard output: %s\n", strerror(errno));
		ret = 1;
	}
out:
	ct_free(&cx);
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
	fprintf(stderr,
		"iotrace: advise: watching every VM and container for %g s; Ctrl-C to stop early\n",
		o.duration_s);
	if (run_loop(&a, &stopset))
		goto out;
	ret = print_results(&a);
out:
	session_close(&a.s);
	free(a.w);
	free(a.cw);
	return ret;
}
