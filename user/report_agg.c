// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace report`'s sums over a recording, per workload.  Rows are found
 * by a key string in an open-addressing hash table; each keeps the sums of
 * its interval records, of its summary records, and the interval in which
 * it did the most I/O operations.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles.h"
#include "hist.h"
#include "report_agg.h"

const char *report_by_name(enum report_by by)
{
	switch (by) {
	case REPORT_BY_CONTAINER:
		return "container";
	case REPORT_BY_VM:
		return "vm";
	case REPORT_BY_CGROUP:
		break;
	}
	return "cgroup";
}

const char *report_sort_name(enum report_sort s)
{
	switch (s) {
	case REPORT_SORT_IOPS:
		return "iops";
	case REPORT_SORT_PACKETS:
		return "packets";
	case REPORT_SORT_CYCLES_PER_IO:
		return "cycles-per-io";
	case REPORT_SORT_EXITS_PER_IO:
		return "exits-per-io";
	case REPORT_SORT_P99:
		return "p99";
	case REPORT_SORT_NAME:
		return "name";
	case REPORT_SORT_CPU:
		break;
	}
	return "cpu";
}

int report_agg_init(struct report_agg *a, enum report_by by, uint64_t tsc_hz)
{
	memset(a, 0, sizeof(*a));
	a->by = by;
	a->tsc_hz = tsc_hz;
	a->self.inflight_at_exit = -1;
	a->self_summary.inflight_at_exit = -1;
	a->nslots = 256;
	a->slots = calloc(a->nslots, sizeof(*a->slots));
	return a->slots ? 0 : -ENOMEM;
}

static void wl_free(struct report_wl *w)
{
	if (!w)
		return;
	free(w->findings);
	free(w->key);
	free(w->name);
	free(w->cgroup_path);
	free(w->runtime);
	free(w->container_id);
	free(w);
}

void report_agg_free(struct report_agg *a)
{
	for (size_t i = 0; i < a->nwl; i++)
		wl_free(a->wl[i]);
	free(a->wl);
	free(a->slots);
	free(a->self.net_off);
	free(a->self_summary.net_off);
	memset(a, 0, sizeof(*a));
}

/* FNV-1a. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct report_wl **slot_of(struct report_wl **slots, size_t nslots, const char *key)
{
	size_t i = hash_str(key) & (nslots - 1);

	while (slots[i] && strcmp(slots[i]->key, key))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int grow_slots(struct report_agg *a)
{
	size_t n = a->nslots * 2;
	struct report_wl **s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < a->nwl; i++)
		*slot_of(s, n, a->wl[i]->key) = a->wl[i];
	free(a->slots);
	a->slots = s;
	a->nslots = n;
	return 0;
}

/*
 * The key a record is summed under, or false when --by leaves it out.  The
 * key's text is never shown; it only has to be unique per row.
 */
static bool key_of(const struct report_agg *a, const struct iotr_workload *w, char *key, size_t len)
{
	bool vm = w->flags & IOTR_WL_VM;

	switch (a->by) {
	case REPORT_BY_CONTAINER:
		if (w->kind != IOTR_KIND_CONTAINER)
			return false;
		if (w->container_id && w->container_id[0])
			snprintf(key, len, "C%s", w->container_id);
		else
			snprintf(key, len, "c%" PRIu64, w->cgroup_id);
		return true;
	case REPORT_BY_VM:
		if (!vm)
			return false;
		snprintf(key, len, "v%" PRId32 ":%s", w->pid, w->name ? w->name : "");
		return true;
	case REPORT_BY_CGROUP:
		break;
	}
	snprintf(key, len, "k%u:%" PRIu64 ":%" PRId32, w->kind, w->cgroup_id, vm ? w->pid : 0);
	return true;
}

static struct report_wl *find_or_add(struct report_agg *a, const char *key)
{
	struct report_wl **slot, *w;

	if ((a->nwl + 1) * 2 > a->nslots && grow_slots(a))
		return NULL;
	slot = slot_of(a->slots, a->nslots, key);
	if (*slot)
		return *slot;
	if (a->nwl == a->capwl) {
		size_t cap = a->capwl ? a->capwl * 2 : 64;
		struct report_wl **p = realloc(a->wl, cap * sizeof(*p));

		if (!p)
			return NULL;
		a->wl = p;
		a->capwl = cap;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->key = strdup(key);
	if (!w->key) {
		free(w);
		return NULL;
	}
	a->wl[a->nwl++] = w;
	*slot = w;
	return w;
}

/* *dst becomes a copy of src when src is known; false: out of memory. */
static bool set_str(char **dst, const char *src)
{
	char *s;

	if (!src || (*dst && !strcmp(*dst, src)))
		return true;
	s = strdup(src);
	if (!s)
		return false;
	free(*dst);
	*dst = s;
	return true;
}

/* Saturating: a sum never wraps around into a small number. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void counters_add(struct report_counters *c, const struct iotr_workload *w)
{
	c->cpu_ns = sat_add(c->cpu_ns, w->cpu_ns);
	c->cycles = sat_add(c->cycles, w->cycles);
	c->guest_ns = sat_add(c->guest_ns, w->guest_ns);
	c->read_ops = sat_add(c->read_ops, w->read_ops);
	c->write_ops = sat_add(c->write_ops, w->write_ops);
	c->read_bytes = sat_add(c->read_bytes, w->read_bytes);
	c->write_bytes = sat_add(c->write_bytes, w->write_bytes);
	if (w->flags & IOTR_WL_NET) {
		c->tx_packets = sat_add(c->tx_packets, w->tx_packets);
		c->tx_bytes = sat_add(c->tx_bytes, w->tx_bytes);
		c->rx_packets = sat_add(c->rx_packets, w->rx_packets);
		c->rx_bytes = sat_add(c->rx_bytes, w->rx_bytes);
		c->softirq_ns = sat_add(c->softirq_ns, w->softirq_ns);
	}
	if (w->flags & IOTR_WL_VM) {
		c->exits = sat_add(c->exits, w->exits);
		c->userspace_exits = sat_add(c->userspace_exits, w->userspace_exits);
		c->pio_exits = sat_add(c->pio_exits, w->pio_exits);
		c->mmio_exits = sat_add(c->mmio_exits, w->mmio_exits);
	}
	c->unf_read_ops = sat_add(c->unf_read_ops, w->unf_read_ops);
	c->unf_write_ops = sat_add(c->unf_write_ops, w->unf_write_ops);
	c->unf_read_bytes = sat_add(c->unf_read_bytes, w->unf_read_bytes);
	c->unf_write_bytes = sat_add(c->unf_write_bytes, w->unf_write_bytes);
	for (uint32_t i = 0; w->lat_hist && i < w->lat_slots && i < IOTR_HIST_MAX; i++)
		c->lat_hist[i] = sat_add(c->lat_hist[i], w->lat_hist[i]);
	if (w->lat_slots > c->lat_slots)
		c->lat_slots = w->lat_slots > IOTR_HIST_MAX ? IOTR_HIST_MAX : w->lat_slots;
	c->rows++;
	c->flags |= w->flags;
}

static uint64_t counters_packets(const struct report_counters *c)
{
	return sat_add(c->tx_packets, c->rx_packets);
}

static uint64_t counters_ops(const struct report_counters *c)
{
	return sat_add(c->read_ops, c->write_ops);
}

/* The interval the row was being summed over is over: is it the peak? */
static void close_peak(struct report_wl *w)
{
	uint64_t n = sat_add(w->cur_ops, w->cur_packets);

	if (w->cur_serial && n > sat_add(w->peak.block_ops, w->peak.packets)) {
		w->peak.ts_ns = w->cur_ts_ns;
		w->peak.interval_ns = w->cur_ns;
		w->peak.block_ops = w->cur_ops;
		w->peak.packets = w->cur_packets;
	}
	w->cur_serial = 0;
	w->cur_ops = 0;
	w->cur_packets = 0;
}

void report_agg_block(struct report_agg *a)
{
	/* Until the block's own interval record says which interval it is. */
	a->cur_valid = false;
}

static void interval_record(struct report_agg *a, const struct iotr_interval *iv)
{
	if (iv->flags & IOTR_IVL_SUMMARY) {
		if (!a->summary_seen || !(iv->flags & IOTR_IVL_CONTINUED)) {
			a->summary_ts_ns = iv->ts_ns;
			a->summary_ns = iv->interval_ns;
		}
		a->summary_seen = true;
		a->cur_summary = true;
		a->cur_valid = true;
		return;
	}
	/*
	 * A CONTINUED copy of the interval being read goes on with it.  One of
	 * an interval never started (its first block was lost) is an interval
	 * of its own, whose rows are only partly there.
	 */
	if ((iv->flags & IOTR_IVL_CONTINUED) && a->cur_serial && !a->cur_summary &&
	    iv->ts_ns == a->cur_ts_ns) {
		a->cur_valid = true;
		return;
	}
	if (iv->flags & IOTR_IVL_CONTINUED)
		a->partial_intervals++;
	a->cur_serial++;
	a->cur_ts_ns = iv->ts_ns;
	a->cur_ns = iv->interval_ns;
	a->cur_summary = false;
	a->cur_valid = true;
	if (!a->intervals || iv->ts_ns < a->first_ts_ns) {
		a->first_ts_ns = iv->ts_ns;
		a->first_start_ns = iv->ts_ns > iv->interval_ns ? iv->ts_ns - iv->interval_ns : 0;
	}
	if (iv->ts_ns > a->last_ts_ns)
		a->last_ts_ns = iv->ts_ns;
	a->intervals++;
	a->covered_ns = sat_add(a->covered_ns, iv->interval_ns);
}

static int workload_record(struct report_agg *a, const struct iotr_workload *r)
{
	char key[IOTR_STR_MAX + 64];
	struct report_wl *w;

	if (!a->cur_valid) {
		a->rows_orphan++;
		return 0;
	}
	if (!key_of(a, r, key, sizeof(key))) {
		a->rows_filtered++;
		a->finding_filtered = true;
		return 0;
	}
	w = find_or_add(a, key);
	if (!w)
		return -ENOMEM;
	a->rows++;
	if (a->cur_summary) {
		a->summary_rows++;
		counters_add(&w->sum, r);
		a->finding_wl = w;
	} else {
		if (w->cur_serial != a->cur_serial) {
			close_peak(w);
			w->cur_serial = a->cur_serial;
			w->cur_ts_ns = a->cur_ts_ns;
			w->cur_ns = a->cur_ns;
			w->intervals++;
			if (!w->first_ts_ns || a->cur_ts_ns < w->first_ts_ns)
				w->first_ts_ns = a->cur_ts_ns;
			if (a->cur_ts_ns > w->last_ts_ns)
				w->last_ts_ns = a->cur_ts_ns;
		}
		counters_add(&w->iv, r);
		w->cur_ops = sat_add(w->cur_ops, sat_add(r->read_ops, r->write_ops));
		if (r->flags & IOTR_WL_NET)
			w->cur_packets =
				sat_add(w->cur_packets, sat_add(r->tx_packets, r->rx_packets));
	}
	/* The identity of the last record: names are resolved as a run goes. */
	w->kind = r->kind;
	w->cgroup_id = r->cgroup_id;
	if (r->flags & IOTR_WL_VM)
		w->pid = r->pid;
	if (!set_str(&w->name, r->name) || !set_str(&w->cgroup_path, r->cgroup_path) ||
	    !set_str(&w->runtime, r->runtime) || !set_str(&w->container_id, r->container_id))
		return -ENOMEM;
	return 0;
}

static int self_record(struct report_agg *a, const struct iotr_self *s)
{
	struct report_self *o = a->cur_summary ? &a->self_summary : &a->self;

	if (!a->cur_valid)
		return 0;
	if (a->cur_summary)
		a->self_summary_seen = true;
	o->records++;
	o->stats_full = sat_add(o->stats_full, s->stats_full);
	o->inflight_full = sat_add(o->inflight_full, s->inflight_full);
	o->rq_no_owner = sat_add(o->rq_no_owner, s->rq_no_owner);
	o->unseen_complete = sat_add(o->unseen_complete, s->unseen_complete);
	o->pmu_read_fail = sat_add(o->pmu_read_fail, s->pmu_read_fail);
	o->prog_missed = sat_add(o->prog_missed, s->prog_missed);
	o->recovered = sat_add(o->recovered, s->recovered);
	o->vm_full = sat_add(o->vm_full, s->vm_full);
	o->net_owners_full = sat_add(o->net_owners_full, s->net_owners_full);
	if (s->cgroups_untracked > o->cgroups_untracked)
		o->cgroups_untracked = s->cgroups_untracked;
	if (s->vms_untracked > o->vms_untracked)
		o->vms_untracked = s->vms_untracked;
	if (s->inflight_at_exit >= 0)
		o->inflight_at_exit = s->inflight_at_exit;
	if (s->has_v1) {
		o->v1_records++;
		o->blk_dev_full = sat_add(o->blk_dev_full, s->blk_dev_full);
		if (s->devices_untracked > o->devices_untracked)
			o->devices_untracked = s->devices_untracked;
		if (s->pruned > o->pruned)
			o->pruned = s->pruned;
		if (s->evicted > o->evicted)
			o->evicted = s->evicted;
		if (s->bpf_stats) {
			o->bpf_records++;
			o->bpf_run_ns = sat_add(o->bpf_run_ns, s->bpf_run_ns);
			o->bpf_runs = sat_add(o->bpf_runs, s->bpf_runs);
		}
	}
	return set_str(&o->net_off, s->net_off) ? 0 : -ENOMEM;
}

/* A finding about the row of the summary workload record just read. */
static int finding_record(struct report_agg *a, const struct advice_finding *f)
{
	struct report_wl *w = a->finding_wl;
	struct report_finding *rf;

	if (!w) {
		/* Not about a row of this report (--by), or about no row at all. */
		if (!a->finding_filtered)
			a->findings_orphan++;
		return 0;
	}
	if (w->nfindings == REPORT_FINDINGS_MAX) {
		w->findings_beyond++;
		return 0;
	}
	if (!w->findings) {
		w->findings = calloc(REPORT_FINDINGS_MAX, sizeof(*w->findings));
		if (!w->findings)
			return -ENOMEM;
	}
	rf = &w->findings[w->nfindings++];
	rf->f = *f;
	snprintf(rf->keys[0], sizeof(rf->keys[0]), "%s", f->id);
	rf->f.id = rf->keys[0];
	for (size_t i = 0; i < f->nevidence; i++) {
		snprintf(rf->keys[1 + i], sizeof(rf->keys[0]), "%s", f->evidence[i].key);
		rf->f.evidence[i].key = rf->keys[1 + i];
	}
	for (size_t i = 0; i < f->nsaving; i++) {
		snprintf(rf->keys[1 + ADVICE_MAX_FIGS + i], sizeof(rf->keys[0]), "%s",
			 f->saving[i].key);
		rf->f.saving[i].key = rf->keys[1 + ADVICE_MAX_FIGS + i];
	}
	return 0;
}

int report_agg_record(struct report_agg *a, const struct iotr_record *rec)
{
	/* A finding follows its summary row directly, or belongs to none. */
	if (rec->type != IOTR_REC_FINDING) {
		a->finding_wl = NULL;
		a->finding_filtered = false;
	}
	switch (rec->type) {
	case IOTR_REC_INTERVAL:
		interval_record(a, &rec->interval);
		return 0;
	case IOTR_REC_WORKLOAD:
		return workload_record(a, &rec->wl);
	case IOTR_REC_FINDING:
		return finding_record(a, &rec->finding);
	case IOTR_REC_SELF:
		return self_record(a, &rec->self);
	default:
		return 0;
	}
}

/* The counters that must add up exactly (cycles and softirq time are rounded per row). */
static bool same_totals(const struct report_counters *x, const struct report_counters *y)
{
	return x->cpu_ns == y->cpu_ns && x->read_ops == y->read_ops &&
	       x->write_ops == y->write_ops && x->read_bytes == y->read_bytes &&
	       x->write_bytes == y->write_bytes && x->tx_packets == y->tx_packets &&
	       x->rx_packets == y->rx_packets && x->tx_bytes == y->tx_bytes &&
	       x->rx_bytes == y->rx_bytes && x->exits == y->exits;
}

void report_agg_finish(struct report_agg *a, bool intact)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nwl; i++)
		close_peak(a->wl[i]);
	intact = intact && !a->rows_orphan && !a->partial_intervals;
	a->used_summary = !a->intervals && a->summary_rows;
	a->summary_checked = intact && a->summary_seen && a->intervals;
	a->summary_mismatches = 0;
	/* Keep the rows that have figures in the sums reported. */
	for (size_t i = 0; i < a->nwl; i++) {
		struct report_wl *w = a->wl[i];
		bool keep = a->used_summary ? w->sum.rows > 0 : w->iv.rows > 0;

		if (a->summary_checked && !same_totals(&w->iv, &w->sum))
			a->summary_mismatches++;
		if (keep)
			a->wl[n++] = w;
		else
			wl_free(w);
	}
	a->nwl = n;
	/* No lookups after this: the table would point to freed rows. */
	memset(a->slots, 0, a->nslots * sizeof(*a->slots));
}

int report_agg_read(struct report_agg *a, struct iotr_reader *r)
{
	struct iotr_record rec;
	int e;

	while ((e = iotr_reader_next_block(r, NULL)) > 0) {
		report_agg_block(a);
		while ((e = iotr_reader_next_record(r, &rec)) > 0) {
			e = report_agg_record(a, &rec);
			if (e)
				return e;
		}
		if (e < 0)
			return e;
	}
	if (e < 0)
		return e;
	report_agg_finish(a, iotr_reader_stats(r)->damage == 0);
	return 0;
}

const struct report_counters *report_counters_of(const struct report_agg *a,
						 const struct report_wl *w)
{
	return a->used_summary ? &w->sum : &w->iv;
}

void report_derive(const struct report_agg *a, const struct report_wl *w, struct report_derived *d)
{
	const struct report_counters *c = report_counters_of(a, w);
	uint64_t ops = counters_ops(c), packets = counters_packets(c);
	double io = (double)ops + (double)packets;
	double cost = (double)c->cycles + (double)cycles_from_ns(c->softirq_ns, a->tsc_hz);
	double p;

	memset(d, 0, sizeof(*d));
	d->c = c;
	d->seconds = (a->used_summary ? a->summary_ns : a->covered_ns) / 1e9;
	d->cpu_s = c->cpu_ns / 1e9;
	d->cpu_pct = d->seconds > 0 ? d->cpu_s / d->seconds * 100 : -1;
	d->iops = d->seconds > 0 ? ops / d->seconds : -1;
	d->packets_per_s = d->seconds > 0 && (c->flags & IOTR_WL_NET) ? packets / d->seconds : -1;
	d->cycles_per_io = io > 0 ? cost / io : -1;
	d->exits_per_io = -1;
	d->host_cycles_per_io = -1;
	if ((c->flags & IOTR_WL_VM) && io > 0) {
		uint64_t host_ns = c->cpu_ns > c->guest_ns ? c->cpu_ns - c->guest_ns : 0;
		double host_cycles = c->cpu_ns ? (double)c->cycles * host_ns / c->cpu_ns : 0;

		d->exits_per_io = c->exits / io;
		host_cycles += (double)cycles_from_ns(c->softirq_ns, a->tsc_hz);
		d->host_cycles_per_io = host_cycles / io;
	}
	p = hist_percentile_ns(c->lat_hist, c->lat_slots, 50);
	d->lat_p50_us = p < 0 ? -1 : p / 1000;
	p = hist_percentile_ns(c->lat_hist, c->lat_slots, 99);
	d->lat_p99_us = p < 0 ? -1 : p / 1000;
	d->peak_iops = -1;
	d->peak_packets_per_s = -1;
	d->peak_s = -1;
	if (!a->used_summary && w->peak.ts_ns && w->peak.interval_ns) {
		d->peak_s = w->peak.interval_ns / 1e9;
		d->peak_iops = w->peak.block_ops / d->peak_s;
		if (c->flags & IOTR_WL_NET)
			d->peak_packets_per_s = w->peak.packets / d->peak_s;
	}
}

/* qsort has no context argument in C11; the command is single-threaded. */
static const struct report_agg *sort_agg;
static enum report_sort sort_by;

/* The sort value of a row; < 0: not applicable, sorted last. */
static double sort_value(const struct report_wl *w)
{
	const struct report_counters *c = report_counters_of(sort_agg, w);
	struct report_derived d;

	switch (sort_by) {
	case REPORT_SORT_IOPS:
		return (double)counters_ops(c);
	case REPORT_SORT_PACKETS:
		return c->flags & IOTR_WL_NET ? (double)counters_packets(c) : -1;
	case REPORT_SORT_CYCLES_PER_IO:
		report_derive(sort_agg, w, &d);
		return d.cycles_per_io;
	case REPORT_SORT_EXITS_PER_IO:
		report_derive(sort_agg, w, &d);
		return d.exits_per_io;
	case REPORT_SORT_P99:
		report_derive(sort_agg, w, &d);
		return d.lat_p99_us;
	case REPORT_SORT_CPU:
	case REPORT_SORT_NAME:
		break;
	}
	return (double)c->cpu_ns;
}

static int cmp_wl(const void *pa, const void *pb)
{
	const struct report_wl *a = *(struct report_wl *const *)pa;
	const struct report_wl *b = *(struct report_wl *const *)pb;
	int d;

	if (sort_by != REPORT_SORT_NAME) {
		double x = sort_value(a), y = sort_value(b);
		bool xa = x >= 0, ya = y >= 0;

		if (xa != ya)
			return xa ? -1 : 1;
		if (xa && x != y)
			return x > y ? -1 : 1;
	}
	d = strcmp(a->name ? a->name : "", b->name ? b->name : "");
	return d ? d : strcmp(a->key, b->key);
}

void report_sort(struct report_agg *a, enum report_sort s)
{
	sort_agg = a;
	sort_by = s;
	if (a->nwl > 1)
		qsort(a->wl, a->nwl, sizeof(*a->wl), cmp_wl);
}
