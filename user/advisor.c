// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The advice rules over a session.  See advisor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "advisor.h"
#include "cycles.h"
#include "netns_links.h"
#include "proc_ident.h"
#include "rows.h"
#include "vm_config.h"

/* A live VM's configuration is read again this often (smaps changes as the guest runs). */
#define ADVISOR_CONFIG_REFRESH_S 2.0

/* What the advisor keeps of a VM besides the session's table entry. */
struct advisor_watch {
	const struct vm_entry *vm;
	struct vm_config cfg; /* the last good read; cmdline_read false: none */
	double cfg_at; /* monotonic time of that read */
	double seconds; /* watched while it ran */
	bool gone; /* gone at the last read */
};

/*
 * What the advisor keeps of a workload judged as a container (or watched as a
 * host-network reference), by cgroup id: the facts read while it ran.
 */
struct advisor_ct_watch {
	uint64_t id;
	int pid; /* the process the facts were read of; 0: none yet */
	bool judged; /* a container: a runtime's cgroup, or another netns or mount ns */
	bool host_mntns;
	struct ct_net_facts net;
	struct ct_mounts mounts;
	double facts_at; /* monotonic time of the last read; 0: never */
	double seconds; /* watched while it had processes */
};

/*
 * The array arr of n elements of size bytes, with room for one more (its
 * capacity *cap doubles when full); NULL when out of memory, arr then
 * untouched.
 */
static void *room_for_one(void *arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *grown;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 16;
	grown = realloc(arr, ncap * size);
	if (grown)
		*cap = ncap;
	return grown;
}

static struct advisor_watch *watch_of(struct advisor *a, const struct vm_entry *vm, bool *created)
{
	struct advisor_watch *w;

	*created = false;
	for (size_t i = 0; i < a->nw; i++)
		if (a->w[i].vm == vm)
			return &a->w[i];
	w = room_for_one(a->w, a->nw, &a->capw, sizeof(*w));
	if (!w)
		return NULL;
	a->w = w;
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
static void read_pinning(const struct advisor_watch *w, struct vm_config *cfg)
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
static void read_config(struct advisor_watch *w, double now)
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
	struct advisor_watch *w;
	bool created;
	size_t i;

	vm_table_for_each(&a->s->vms, i, vm)
	{
		w = watch_of(a, vm, &created);
		if (!w)
			continue;
		if (!created && !w->gone)
			w->seconds += dt;
		w->gone = vm->gone;
		if (vm->gone)
			continue;
		if (!w->cfg.cmdline_read || now - w->cfg_at >= ADVISOR_CONFIG_REFRESH_S)
			read_config(w, now);
	}
}

/* ---- containers ---- */

/* A container's facts are read again this often (its pid may change, rules may come). */
#define ADVISOR_CT_REFRESH_S 5.0
/* Cgroups whose facts are read for the first time in one interval, at most. */
#define ADVISOR_CT_NEW_PER_READ 32

/* Workloads found to be neither a container nor a reference: direct-mapped by id. */
#define ADVISOR_SKIP_SLOTS 1024

struct advisor_skip {
	uint64_t id;
	double at; /* monotonic time of the look */
};

static struct advisor_skip *skip_slot(struct advisor *a, uint64_t id)
{
	if (!a->skip)
		a->skip = calloc(ADVISOR_SKIP_SLOTS, sizeof(*a->skip));
	return a->skip ? &a->skip[(id * 0x9E3779B97F4A7C15ULL) >> 54] : NULL;
}

/* Room for one more watch: drop those of removed workloads that are not judged. */
static bool ct_room(struct advisor *a)
{
	size_t k = 0;

	if (a->ncw < ADVISOR_MAX_CT_WATCHES)
		return true;
	for (size_t i = 0; i < a->ncw; i++) {
		const struct wl_entry *e = wl_table_find(&a->s->table, a->cw[i].id);

		if (!a->cw[i].judged && (!e || e->gone))
			continue;
		a->cw[k++] = a->cw[i];
	}
	a->ncw = k;
	return a->ncw < ADVISOR_MAX_CT_WATCHES;
}

static struct advisor_ct_watch *ct_watch_of(struct advisor *a, uint64_t id, bool create)
{
	struct advisor_ct_watch *w;

	for (size_t i = 0; i < a->ncw; i++)
		if (a->cw[i].id == id)
			return &a->cw[i];
	if (!create)
		return NULL;
	if (!ct_room(a)) {
		a->ct_untracked++;
		return NULL;
	}
	w = room_for_one(a->cw, a->ncw, &a->capcw, sizeof(*w));
	if (!w)
		return NULL;
	a->cw = w;
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

	vm_table_for_each(&a->s->vms, i, vm)
	{
		if (vm->cgroup_id == id)
			return true;
	}
	return false;
}

static void read_ct_facts(struct advisor *a, struct advisor_ct_watch *w, const struct wl_entry *e,
			  double now)
{
	int pid = cgroup_pid(a->s, e->path);
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
				    !net->host_netns || !w->host_mntns || a->s->nfilter > 0;
		}
	}
	free(net);
	free(mt);
}

/*
 * Whether a workload without a watch needs one: a runtime's container, a
 * workload with traffic (a container in its own namespace, or a reference
 * for one), one named with --cgroup, or one whose process is in another
 * network or mount namespace than iotrace.  A plain host cgroup doing
 * block I/O only needs none; it is looked at again every
 * ADVISOR_CT_REFRESH_S while active.
 */
static bool may_be_container(struct advisor *a, const struct wl_entry *e, double now)
{
	struct advisor_skip *sk;
	int pid;

	if (e->cls.kind == WL_KIND_CONTAINER || a->s->nfilter ||
	    e->total.tx_packets + e->total.rx_packets)
		return true;
	sk = skip_slot(a, e->id);
	if (sk && sk->id == e->id && now - sk->at < ADVISOR_CT_REFRESH_S)
		return false;
	pid = cgroup_pid(a->s, e->path);
	if (!pid || !same_ns(pid, "net") || !same_ns(pid, "mnt"))
		return true;
	if (sk) {
		sk->id = e->id;
		sk->at = now;
	}
	return false;
}

/*
 * After each read: every workload with traffic or block I/O that passes
 * the filter and holds no VM gets its facts read while it runs (again
 * every ADVISOR_CT_REFRESH_S), and its time watched counted.
 */
static void watch_cts(struct advisor *a, double now, double dt)
{
	struct wl_entry *e;
	bool refreshed = false;
	int fresh = 0;

	wl_table_for_each(&a->s->table, e)
	{
		struct advisor_ct_watch *w = ct_watch_of(a, e->id, false);

		if (w && !e->gone && w->pid)
			w->seconds += dt;
		if (e->gone || !e->ever_active || e->id == IOTRACE_UNATTRIBUTED_ID ||
		    !session_wanted(a->s, e->id))
			continue;
		if (!w && fresh >= ADVISOR_CT_NEW_PER_READ)
			continue;
		session_identify(a->s, e, &refreshed);
		if (!e->path_known || e->cls.kind == WL_KIND_HOST || !strcmp(e->path, "/") ||
		    holds_vm(a, e->id))
			continue;
		if (w && w->facts_at && now - w->facts_at < ADVISOR_CT_REFRESH_S)
			continue;
		if (!w && !may_be_container(a, e, now))
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

/* ---- inputs of the rules ---- */

static void fill_vm(struct advisor *a, struct vm_row_buf *vb, const struct advisor_watch *w,
		    struct advice_vm *av)
{
	const struct vm_entry *vm = w->vm;
	struct advice_vm_measure *m = &av->m;
	struct out_row row;

	memset(av, 0, sizeof(*av));
	av->name = vm->name;
	av->pid = (int)vm->pid;
	av->cfg = w->cfg;
	rows_fill_vm(a->s, &row, vb, vm, true, w->seconds);
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
	m->runq_wait_known = a->s->loader.sched_info;
	m->packets = row.tx_packets + row.rx_packets;
	m->cycles_per_ns = row.cpu_ns ? (double)row.cycles / (double)row.cpu_ns :
					a->s->tsc_hz / 1e9;
	m->cycles_source = row.cycles_source;
	m->exits_source = row.vm->exits_source;
	m->exits_per_io = row.vm->exits_per_io;
	m->host_cycles_per_io = row.vm->host_cycles_per_io;
}

static void fill_ct(struct advisor *a, struct wl_row_buf *rb, const struct advisor_ct_watch *w,
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
	rows_fill(a->s, &row, rb, e, &e->total, OUT_ROW_SUMMARY, w->seconds);
	m->seconds = w->seconds;
	m->tx_packets = e->total.tx_packets;
	m->tx_bytes = e->total.tx_bytes;
	m->rx_packets = e->total.rx_packets;
	m->rx_bytes = e->total.rx_bytes;
	m->cost_cycles = (double)(row.cycles + cycles_from_ns(e->total.softirq_ns, a->s->tsc_hz));
	m->cycles_per_ns = row.cpu_ns ? (double)row.cycles / (double)row.cpu_ns :
					a->s->tsc_hz / 1e9;
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

/* ---- the whole ---- */

void advisor_init(struct advisor *a, struct session *s)
{
	memset(a, 0, sizeof(*a));
	a->s = s;
}

void advisor_free(struct advisor *a)
{
	free(a->w);
	free(a->cw);
	free(a->skip);
	free(a->vms);
	free(a->cts);
	rows_vm_buf_free(a->vb);
	free(a->rb);
	memset(a, 0, sizeof(*a));
}

void advisor_observe(struct advisor *a, double now, double dt)
{
	watch_vms(a, now, dt);
	watch_cts(a, now, dt);
}

int advisor_evaluate(struct advisor *a)
{
	size_t nw = a->nw ? a->nw : 1, ncw = a->ncw ? a->ncw : 1;
	struct advisor_vm *vms = realloc(a->vms, nw * sizeof(*vms));
	struct advisor_ct *cts;

	if (!vms)
		return -ENOMEM;
	a->vms = vms;
	cts = realloc(a->cts, ncw * sizeof(*cts));
	if (!cts)
		return -ENOMEM;
	a->cts = cts;
	if (!a->vb)
		a->vb = rows_vm_buf_new();
	if (!a->rb)
		a->rb = calloc(1, sizeof(*a->rb));
	if (!a->vb || !a->rb)
		return -ENOMEM;
	a->nvms = a->ncts = a->njudged = a->nfindings = a->nthin = 0;

	/* The VMs in the --cgroup filter: named (it was needed to know their cgroup). */
	for (size_t i = 0; i < a->nw; i++) {
		struct vm_entry *vm = (struct vm_entry *)a->w[i].vm;

		session_identify_vm(a->s, vm);
		if (!session_wanted(a->s, vm->cgroup_id))
			continue;
		vms[a->nvms].vm = vm;
		fill_vm(a, a->vb, &a->w[i], &vms[a->nvms].in);
		a->nvms++;
	}
	/* Each VM is judged against the others: the rules take them as one array. */
	{
		struct advice_vm *in = malloc(nw * sizeof(*in));

		if (!in)
			return -ENOMEM;
		for (size_t i = 0; i < a->nvms; i++)
			in[i] = vms[i].in;
		for (size_t i = 0; i < a->nvms; i++) {
			advice_evaluate(in, a->nvms, i, &vms[i].res);
			a->nfindings += vms[i].res.nfindings;
			for (int k = 0; k < ADVICE_NRULES; k++)
				a->nthin += vms[i].res.checks[k].status == ADVICE_THIN;
		}
		free(in);
	}

	for (size_t i = 0; i < a->ncw; i++) {
		const struct advisor_ct_watch *w = &a->cw[i];
		const struct wl_entry *e = wl_table_find(&a->s->table, w->id);

		if (!e || !w->pid)
			continue;
		memset(&cts[a->ncts].res, 0, sizeof(cts[a->ncts].res));
		cts[a->ncts].e = e;
		fill_ct(a, a->rb, w, e, &cts[a->ncts].in);
		a->ncts++;
	}
	{
		struct advice_ct *in = malloc(ncw * sizeof(*in));

		if (!in)
			return -ENOMEM;
		for (size_t i = 0; i < a->ncts; i++)
			in[i] = cts[i].in;
		for (size_t i = 0; i < a->ncts; i++) {
			if (!in[i].judged)
				continue;
			a->njudged++;
			advice_ct_evaluate(in, a->ncts, i, &cts[i].res);
			a->nfindings += cts[i].res.nfindings;
			for (int k = 0; k < ADVICE_CT_NRULES; k++)
				a->nthin += cts[i].res.checks[k].status == ADVICE_THIN;
		}
		free(in);
	}
	return 0;
}

const struct advice_result *advisor_vm_result(const struct advisor *a, const struct vm_entry *vm)
{
	for (size_t i = 0; i < a->nvms; i++)
		if (a->vms[i].vm == vm)
			return &a->vms[i].res;
	return NULL;
}

const struct advice_ct_result *advisor_ct_result(const struct advisor *a, uint64_t cgroup_id)
{
	for (size_t i = 0; i < a->ncts; i++)
		if (a->cts[i].e->id == cgroup_id && a->cts[i].in.judged)
			return &a->cts[i].res;
	return NULL;
}
