// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Collector: BPF maps -> workload table, once per interval. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "iotrace.skel.h"

int collector_init(struct collector *c, struct loader *l)
{
	size_t per_cpu = sizeof(struct iotrace_blk_stats);

	memset(c, 0, sizeof(*c));
	c->l = l;
	c->cpu_fd = loader_map_fd(l, "cpu_stats");
	c->blk_fd = loader_map_fd(l, "blk_stats");
	c->cnt_fd = loader_map_fd(l, "counters");
	if (c->cpu_fd < 0 || c->blk_fd < 0 || c->cnt_fd < 0)
		return -ENOENT;
	/* The largest per-CPU value; all are multiples of 8 as the kernel wants. */
	c->vals = calloc(l->ncpus, per_cpu);
	return c->vals ? 0 : -ENOMEM;
}

void collector_free(struct collector *c)
{
	free(c->vals);
	c->vals = NULL;
}

static int read_cpu_map(struct collector *c, struct wl_table *t)
{
	const struct iotrace_cpu_stats *v = c->vals;
	__u64 key, next, *prev = NULL;

	while (bpf_map_get_next_key(c->cpu_fd, prev, &next) == 0) {
		uint64_t ns = 0, cycles = 0;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->cpu_fd, &key, c->vals)) {
			if (errno == ENOENT) /* removed since get_next_key */
				continue;
			return -errno;
		}
		for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
			ns += v[cpu].cpu_ns;
			cycles += v[cpu].cpu_cycles;
		}
		/* A full table is counted by wl_table_get(). */
		wl_table_feed_cpu(t, key, ns, cycles);
	}
	return errno == ENOENT ? 0 : -errno;
}

static int read_blk_map(struct collector *c, struct wl_table *t)
{
	const struct iotrace_blk_stats *v = c->vals;
	__u64 key, next, *prev = NULL;
	struct iotrace_blk_stats sum;

	while (bpf_map_get_next_key(c->blk_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->blk_fd, &key, c->vals)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		memset(&sum, 0, sizeof(sum));
		for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
			sum.rd_ops += v[cpu].rd_ops;
			sum.wr_ops += v[cpu].wr_ops;
			sum.rd_bytes += v[cpu].rd_bytes;
			sum.wr_bytes += v[cpu].wr_bytes;
			for (int i = 0; i < IOTRACE_LAT_SLOTS; i++)
				sum.lat_hist[i] += v[cpu].lat_hist[i];
		}
		wl_table_feed_blk(t, key, &sum);
	}
	return errno == ENOENT ? 0 : -errno;
}

static int read_prog_missed(struct collector *c)
{
	uint64_t sum = 0;

	for (int i = 0; i < c->l->nlinks; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(c->l->progs[i]);

		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		sum += info.recursion_misses;
	}
	c->prog_missed_delta = sum >= c->prog_missed ? sum - c->prog_missed : sum;
	c->prog_missed = sum;
	return 0;
}

static int read_counters(struct collector *c)
{
	const __u64 *v = c->vals;

	for (__u32 i = 0; i < IOTRACE_CNT_MAX; i++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(c->cnt_fd, &i, c->vals))
			return -errno;
		for (int cpu = 0; cpu < c->l->ncpus; cpu++)
			sum += v[cpu];
		c->counters_delta[i] = sum >= c->counters[i] ? sum - c->counters[i] : sum;
		c->counters[i] = sum;
	}
	return 0;
}

int collector_inflight(struct collector *c, uint64_t *n)
{
	int slots_fd = loader_map_fd(c->l, "io_slots"), over_fd = loader_map_fd(c->l, "inflight");
	struct iotrace_io_slot slot;
	__u64 key, next, *prev = NULL;
	__u32 i, nslots;

	if (slots_fd < 0 || over_fd < 0)
		return -ENOENT;
	*n = 0;
	nslots = bpf_map__max_entries(bpf_object__find_map_by_name(c->l->skel->obj, "io_slots"));
	for (i = 0; i < nslots; i++) {
		if (bpf_map_lookup_elem(slots_fd, &i, &slot))
			return -errno;
		if (slot.key)
			(*n)++;
	}
	while (bpf_map_get_next_key(over_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		(*n)++;
	}
	return 0;
}

int collector_read(struct collector *c, struct wl_table *t)
{
	int err;

	err = loader_flush(c->l);
	if (err)
		return err;
	wl_table_begin(t);
	err = read_cpu_map(c, t);
	if (!err)
		err = read_blk_map(c, t);
	if (!err)
		err = read_counters(c);
	if (!err)
		err = read_prog_missed(c);
	wl_table_end(t);
	return err;
}
