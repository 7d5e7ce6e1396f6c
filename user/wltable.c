// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Workload table: an index by id with open addressing (linear probing),
 * growing with use, over entries allocated one by one; bounded by `limit`;
 * workloads whose cgroup is gone are kept small, and dropped, oldest
 * first, when it nears the limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wltable.h"

void wl_counters_delta(const struct wl_counters *cur, const struct wl_counters *last,
		       struct wl_counters *delta)
{
	const uint64_t *c = (const uint64_t *)cur, *l = (const uint64_t *)last;
	uint64_t *d = (uint64_t *)delta;
	size_t i, n = sizeof(*cur) / sizeof(uint64_t);

	for (i = 0; i < n; i++) {
		if (c[i] < l[i]) {
			/* The entry restarted from zero: all of cur is new. */
			*delta = *cur;
			return;
		}
	}
	for (i = 0; i < n; i++)
		d[i] = c[i] - l[i];
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

void wl_counters_add(struct wl_counters *acc, const struct wl_counters *d)
{
	acc->cpu_ns = sat_add(acc->cpu_ns, d->cpu_ns);
	acc->cpu_cycles = sat_add(acc->cpu_cycles, d->cpu_cycles);
	acc->rd_ops = sat_add(acc->rd_ops, d->rd_ops);
	acc->wr_ops = sat_add(acc->wr_ops, d->wr_ops);
	acc->rd_bytes = sat_add(acc->rd_bytes, d->rd_bytes);
	acc->wr_bytes = sat_add(acc->wr_bytes, d->wr_bytes);
	for (int i = 0; i < IOTRACE_LAT_SLOTS; i++)
		acc->lat_hist[i] = sat_add(acc->lat_hist[i], d->lat_hist[i]);
	acc->tx_packets = sat_add(acc->tx_packets, d->tx_packets);
	acc->tx_bytes = sat_add(acc->tx_bytes, d->tx_bytes);
	acc->rx_packets = sat_add(acc->rx_packets, d->rx_packets);
	acc->rx_bytes = sat_add(acc->rx_bytes, d->rx_bytes);
	acc->softirq_ns = sat_add(acc->softirq_ns, d->softirq_ns);
}

bool wl_counters_zero(const struct wl_counters *c)
{
	static const struct wl_counters zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

uint64_t wl_counters_ops(const struct wl_counters *c)
{
	return sat_add(c->rd_ops, c->wr_ops);
}

uint64_t wl_counters_packets(const struct wl_counters *c)
{
	return sat_add(c->tx_packets, c->rx_packets);
}

/* The index's first size: a run with a few workloads needs no more. */
#define WL_MIN_CAP 64

/* Twice the limit, so that the index is at most half full. */
static size_t max_cap(size_t limit)
{
	size_t cap = 16;

	while (cap < limit * 2)
		cap <<= 1;
	return cap;
}

int wl_table_init(struct wl_table *t, size_t limit)
{
	size_t cap;

	memset(t, 0, sizeof(*t));
	if (!limit)
		return -EINVAL;
	cap = max_cap(limit) < WL_MIN_CAP ? max_cap(limit) : WL_MIN_CAP;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = cap;
	t->limit = limit;
	return 0;
}

/* An empty name, shared: most workloads have no container id. */
static const char no_name[] = "";

static void free_name(const char *s)
{
	if (s != no_name)
		free((char *)s);
}

static void entry_free(struct wl_entry *e)
{
	free(e->last);
	free(e->devs);
	free(e->path);
	free_name(e->cls.container_id);
	free_name(e->cls.name);
	free(e);
}

void wl_table_free(struct wl_table *t)
{
	struct wl_entry *e;

	if (t->slots) {
		wl_table_for_each(t, e)
		{
			entry_free(e);
		}
	}
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static size_t hash_id(uint64_t id)
{
	/* splitmix64 finaliser: cgroup ids are sequential inode numbers. */
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ULL;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebULL;
	id ^= id >> 31;
	return (size_t)id;
}

/* The slot of id, or the free slot where it would go. */
static size_t probe(const struct wl_slot *slots, size_t cap, uint64_t id)
{
	size_t i = hash_id(id) & (cap - 1);

	/* The load factor stays <= 1/2, so an empty slot is always reached. */
	while (slots[i].e && slots[i].id != id)
		i = (i + 1) & (cap - 1);
	return i;
}

size_t wl_table_slot(const struct wl_table *t, uint64_t id)
{
	size_t i = probe(t->slots, t->cap, id);

	return t->slots[i].e ? i : t->cap;
}

struct wl_entry *wl_table_find(struct wl_table *t, uint64_t id)
{
	return t->slots[probe(t->slots, t->cap, id)].e;
}

/* Double the index; the entries stay where they are. */
static int grow(struct wl_table *t)
{
	size_t cap = t->cap * 2;
	struct wl_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].e)
			slots[probe(slots, cap, t->slots[i].id)] = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

struct wl_entry *wl_table_get(struct wl_table *t, uint64_t id)
{
	size_t i = probe(t->slots, t->cap, id);
	struct wl_entry *e = t->slots[i].e;

	if (e)
		return e;
	if (t->n >= t->limit)
		goto refuse;
	/* At most half full: max_cap() leaves room for the limit. */
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t))
			goto refuse;
		i = probe(t->slots, t->cap, id);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto refuse;
	e->id = id;
	e->cls.container_id = no_name;
	e->cls.name = no_name;
	t->slots[i].id = id;
	t->slots[i].e = e;
	t->n++;
	return e;
refuse:
	t->overflow++;
	return NULL;
}

int wl_entry_set_path(struct wl_entry *e, const char *path)
{
	char *dup = NULL;

	if (path) {
		dup = strdup(path);
		if (!dup)
			return -ENOMEM;
	}
	free(e->path);
	e->path = dup;
	return 0;
}

/* A copy of the string in an array of size n; the shared no_name when empty. */
static const char *dup_name(const char *s, size_t n)
{
	return *s ? strndup(s, n - 1) : no_name;
}

int wl_entry_set_class(struct wl_entry *e, const struct wl_class *cls)
{
	const char *id = dup_name(cls->container_id, sizeof(cls->container_id));
	const char *name = dup_name(cls->name, sizeof(cls->name));

	if (!id || !name) {
		free_name(id);
		free_name(name);
		return -ENOMEM;
	}
	free_name(e->cls.container_id);
	free_name(e->cls.name);
	e->cls.kind = cls->kind;
	e->cls.runtime = cls->runtime;
	e->cls.container_id = id;
	e->cls.name = name;
	return 0;
}

void wl_table_begin(struct wl_table *t)
{
	struct wl_entry *e;

	wl_table_for_each(t, e)
	{
		memset(&e->delta, 0, sizeof(e->delta));
		for (size_t i = 0; i < e->ndevs; i++)
			memset(&e->devs[i].delta, 0, sizeof(e->devs[i].delta));
		e->active = false;
	}
}

/* Feed one part of the counters: only the fields in [off, off+len) change. */
static int feed(struct wl_table *t, uint64_t id, const struct wl_counters *cur, size_t off,
		size_t len)
{
	struct wl_counters c = { 0 }, l = { 0 }, d;
	struct wl_entry *e = wl_table_get(t, id);

	if (!e)
		return -ENOSPC;
	/* New, or pruned: last readings of zero.  No memory: nothing recorded yet. */
	if (!e->last && !(e->last = calloc(1, sizeof(*e->last))))
		return -ENOMEM;
	memcpy((char *)&c + off, (const char *)cur + off, len);
	memcpy((char *)&l + off, (const char *)e->last + off, len);
	wl_counters_delta(&c, &l, &d);
	memcpy((char *)&e->delta + off, (const char *)&d + off, len);
	wl_counters_add(&e->total, &d);
	memcpy((char *)e->last + off, (const char *)cur + off, len);
	e->in_kernel = true;
	e->gone = false;
	return 0;
}

int wl_table_feed_cpu(struct wl_table *t, uint64_t id, uint64_t cpu_ns, uint64_t cpu_cycles)
{
	struct wl_counters cur = { .cpu_ns = cpu_ns, .cpu_cycles = cpu_cycles };

	return feed(t, id, &cur, offsetof(struct wl_counters, cpu_ns),
		    offsetof(struct wl_counters, rd_ops) - offsetof(struct wl_counters, cpu_ns));
}

int wl_table_feed_blk(struct wl_table *t, uint64_t id, const struct iotrace_blk_stats *b)
{
	struct wl_counters cur = {
		.rd_ops = b->rd_ops,
		.wr_ops = b->wr_ops,
		.rd_bytes = b->rd_bytes,
		.wr_bytes = b->wr_bytes,
	};

	memcpy(cur.lat_hist, b->lat_hist, sizeof(cur.lat_hist));
	return feed(t, id, &cur, offsetof(struct wl_counters, rd_ops),
		    offsetof(struct wl_counters, tx_packets) -
			    offsetof(struct wl_counters, rd_ops));
}

int wl_table_feed_net(struct wl_table *t, uint64_t id, const struct iotrace_net_stats *n)
{
	struct wl_counters cur = {
		.tx_packets = n->tx_packets,
		.tx_bytes = n->tx_bytes,
		.rx_packets = n->rx_packets,
		.rx_bytes = n->rx_bytes,
		.softirq_ns = n->softirq_ns,
	};

	return feed(t, id, &cur, offsetof(struct wl_counters, tx_packets),
		    sizeof(struct wl_counters) - offsetof(struct wl_counters, tx_packets));
}

/* Where major:minor is in e's device list; e->ndevs when it is not. */
static size_t dev_index(const struct wl_entry *e, uint32_t major, uint32_t minor)
{
	size_t i;

	for (i = 0; i < e->ndevs; i++)
		if (e->devs[i].major == major && e->devs[i].minor == minor)
			break;
	return i;
}

const struct wl_dev *wl_entry_dev(const struct wl_entry *e, uint32_t major, uint32_t minor)
{
	size_t i = dev_index(e, major, minor);

	return i < e->ndevs ? &e->devs[i] : NULL;
}

/* Room for one more device: double the list, up to WL_MAX_DEVS. */
static int grow_devs(struct wl_entry *e)
{
	size_t cap = e->devs_cap ? 2 * (size_t)e->devs_cap : 1;
	struct wl_dev *devs;

	if (cap > WL_MAX_DEVS)
		cap = WL_MAX_DEVS;
	devs = realloc(e->devs, cap * sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	e->devs = devs;
	e->devs_cap = (uint8_t)cap;
	return 0;
}

int wl_table_feed_blk_dev(struct wl_table *t, uint64_t id, uint32_t major, uint32_t minor,
			  const struct iotrace_blk_dev_stats *b)
{
	const struct wl_dev_counters cur = {
		.rd_ops = b->rd_ops,
		.wr_ops = b->wr_ops,
		.rd_bytes = b->rd_bytes,
		.wr_bytes = b->wr_bytes,
	};
	struct wl_entry *e = wl_table_get(t, id);
	struct wl_dev *d;
	size_t i;

	if (!e)
		return -ENOSPC;
	i = dev_index(e, major, minor);
	if (i < e->ndevs) {
		d = &e->devs[i];
	} else {
		if (e->ndevs == WL_MAX_DEVS || (e->ndevs == e->devs_cap && grow_devs(e))) {
			e->devs_untracked++;
			t->devs_untracked++;
			return e->ndevs == WL_MAX_DEVS ? -ENOSPC : -ENOMEM;
		}
		d = &e->devs[e->ndevs++];
		memset(d, 0, sizeof(*d));
		d->major = major;
		d->minor = minor;
	}
	/* Any field that went backwards: the kernel entry was recreated. */
	if (cur.rd_ops < d->last.rd_ops || cur.wr_ops < d->last.wr_ops ||
	    cur.rd_bytes < d->last.rd_bytes || cur.wr_bytes < d->last.wr_bytes) {
		d->delta = cur;
	} else {
		d->delta.rd_ops = cur.rd_ops - d->last.rd_ops;
		d->delta.wr_ops = cur.wr_ops - d->last.wr_ops;
		d->delta.rd_bytes = cur.rd_bytes - d->last.rd_bytes;
		d->delta.wr_bytes = cur.wr_bytes - d->last.wr_bytes;
	}
	d->total.rd_ops = sat_add(d->total.rd_ops, d->delta.rd_ops);
	d->total.wr_ops = sat_add(d->total.wr_ops, d->delta.wr_ops);
	d->total.rd_bytes = sat_add(d->total.rd_bytes, d->delta.rd_bytes);
	d->total.wr_bytes = sat_add(d->total.wr_bytes, d->delta.wr_bytes);
	d->last = cur;
	e->in_kernel = true;
	e->gone = false;
	return 0;
}

void wl_table_end(struct wl_table *t)
{
	struct wl_entry *e;

	wl_table_for_each(t, e)
	{
		e->active = !wl_counters_zero(&e->delta);
		if (e->active)
			e->ever_active = true;
	}
}

void wl_table_pruned(struct wl_table *t, struct wl_entry *e)
{
	struct wl_dev *devs;

	free(e->last);
	e->last = NULL;
	for (size_t i = 0; i < e->ndevs; i++)
		memset(&e->devs[i].last, 0, sizeof(e->devs[i].last));
	/* Kept for its summary, perhaps for hours: no spare room.  Failing, it keeps some. */
	if (e->ndevs && e->ndevs < e->devs_cap) {
		devs = realloc(e->devs, e->ndevs * sizeof(*devs));
		if (devs) {
			e->devs = devs;
			e->devs_cap = (uint8_t)e->ndevs;
		}
	}
	e->in_kernel = false;
	e->gone = true;
	e->gone_seq = ++t->gone_seq;
}

void wl_table_remove(struct wl_table *t, struct wl_entry *e)
{
	size_t i = probe(t->slots, t->cap, e->id), j, k;
	const size_t mask = t->cap - 1;

	entry_free(e);
	/* Shift back the slots of the probe run that would lose their way. */
	for (j = (i + 1) & mask; t->slots[j].e; j = (j + 1) & mask) {
		bool stays;

		k = hash_id(t->slots[j].id) & mask;
		stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->n--;
}

struct victim {
	uint64_t seq, id;
};

static int by_seq(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t wl_table_evict_gone(struct wl_table *t)
{
	size_t high = t->limit - (t->limit / 16 ? t->limit / 16 : 1);
	size_t low = t->limit - (t->limit / 8 ? t->limit / 8 : 1);
	struct victim *v;
	struct wl_entry *e;
	size_t nv = 0, done = 0;

	if (t->n < high)
		return 0;
	v = malloc(t->n * sizeof(*v));
	if (!v)
		return 0;
	wl_table_for_each(t, e)
	{
		/* Active: its interval line is still to be written. */
		if (e->gone && !e->active) {
			v[nv].seq = e->gone_seq;
			v[nv++].id = e->id;
		}
	}
	qsort(v, nv, sizeof(*v), by_seq);
	/* By id: removing an entry may move others. */
	for (size_t i = 0; i < nv && t->n > low; i++) {
		e = wl_table_find(t, v[i].id);
		if (!e)
			continue;
		wl_table_remove(t, e);
		t->evicted++;
		done++;
	}
	free(v);
	return done;
}
