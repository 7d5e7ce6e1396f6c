// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Workload table: open addressing (linear probing), bounded by `limit`;
 * workloads whose cgroup is gone are dropped, oldest first, when it nears
 * the limit.
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

int wl_table_init(struct wl_table *t, size_t limit)
{
	size_t cap = 16;

	memset(t, 0, sizeof(*t));
	if (!limit)
		return -EINVAL;
	while (cap < limit * 2)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = cap;
	t->limit = limit;
	return 0;
}

void wl_table_free(struct wl_table *t)
{
	struct wl_entry *e;

	if (t->slots) {
		wl_table_for_each(t, e)
		{
			free(e->devs);
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

static struct wl_entry *probe(struct wl_table *t, uint64_t id)
{
	size_t i = hash_id(id) & (t->cap - 1);

	/* The load factor stays <= 1/2, so an empty slot is always reached. */
	while (t->slots[i].used && t->slots[i].id != id)
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

struct wl_entry *wl_table_find(struct wl_table *t, uint64_t id)
{
	struct wl_entry *e = probe(t, id);

	return e->used ? e : NULL;
}

struct wl_entry *wl_table_get(struct wl_table *t, uint64_t id)
{
	struct wl_entry *e = probe(t, id);

	if (e->used)
		return e;
	if (t->n >= t->limit) {
		t->overflow++;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->id = id;
	t->n++;
	return e;
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
	memcpy((char *)&c + off, (const char *)cur + off, len);
	memcpy((char *)&l + off, (const char *)&e->last + off, len);
	wl_counters_delta(&c, &l, &d);
	memcpy((char *)&e->delta + off, (const char *)&d + off, len);
	wl_counters_add(&e->total, &d);
	memcpy((char *)&e->last + off, (const char *)cur + off, len);
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
		if (!e->devs)
			e->devs = calloc(WL_MAX_DEVS, sizeof(*e->devs));
		if (!e->devs || e->ndevs == WL_MAX_DEVS) {
			e->devs_untracked++;
			t->devs_untracked++;
			return e->devs ? -ENOSPC : -ENOMEM;
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
	memset(&e->last, 0, sizeof(e->last));
	for (size_t i = 0; i < e->ndevs; i++)
		memset(&e->devs[i].last, 0, sizeof(e->devs[i].last));
	e->in_kernel = false;
	e->gone = true;
	e->gone_seq = ++t->gone_seq;
}

void wl_table_remove(struct wl_table *t, struct wl_entry *e)
{
	size_t i = (size_t)(e - t->slots), j, k;
	const size_t mask = t->cap - 1;

	free(e->devs);
	/* Shift back the entries of the probe run that would lose their way. */
	for (j = (i + 1) & mask; t->slots[j].used; j = (j + 1) & mask) {
		bool stays;

		k = hash_id(t->slots[j].id) & mask;
		stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			t->slots[i] = t->slots[j]; /* its device list goes with it */
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
