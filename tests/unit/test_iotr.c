// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/iotr.c, the recording format: every field round-trips;
 * a recording cut at any byte, with a corrupt byte, a foreign or a future
 * one is read as far as it is intact, with the damage reported.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "fake_fs.h"
#include "iotr.h"
#include "output.h"

/* ---- Helpers ---- */

static const struct iotr_info sample_info = {
	.created_ns = 1795574793123456789ULL,
	.tsc_hz = 2400000000ULL,
	.hostname = "testhost",
	.version = "0.1.0",
	.cycles_source = "tsc-estimate",
};

#define T0 1795574794000000000ULL
#define SEC 1000000000ULL

static uint64_t hist40[40];

static struct iotr_workload container_row(void)
{
	struct iotr_workload w = {
		.kind = IOTR_KIND_CONTAINER,
		.flags = IOTR_WL_NET,
		.cgroup_id = 8123,
		.name = "web",
		.cgroup_path = "/system.slice/docker-4f3c.scope",
		.runtime = "docker",
		.container_id = "4f3c",
		.cpu_ns = 12500000,
		.cycles = 32500000,
		.read_ops = 2000,
		.write_ops = 500,
		.read_bytes = 8192000,
		.write_bytes = 2048000,
		.tx_packets = 10000,
		.tx_bytes = 5120000,
		.rx_packets = 120,
		.softirq_ns = 900000,
		.lat_hist = hist40,
		.lat_slots = 40,
	};

	return w;
}

static struct iotr_workload vm_row(void)
{
	struct iotr_workload w = {
		.kind = IOTR_KIND_VM,
		.flags = IOTR_WL_VM,
		.pid = 4242,
		.cgroup_id = 11364,
		.name = "guest",
		.cpu_ns = 161082633,
		.exits = 10001,
		.userspace_exits = 10001,
		.pio_exits = 10000,
	};

	return w;
}

static const struct iotr_self sample_self = { .rq_no_owner = 3, .inflight_at_exit = -1 };

/* path: nblocks intervals, one block each: interval, 2 workloads, self. */
static void write_sample(const char *path, int nblocks)
{
	struct iotr_interval iv = { .ts_ns = T0, .interval_ns = SEC };
	struct iotr_workload c = container_row(), vm = vm_row();
	struct iotr_writer *w;

	for (int i = 0; i < 40; i++)
		hist40[i] = i * 3;
	assert_int_equal(iotr_writer_open(&w, path, &sample_info, 0), 0);
	for (int i = 0; i < nblocks; i++) {
		assert_int_equal(iotr_write_interval(w, &iv), 0);
		assert_int_equal(iotr_write_workload(w, &c), 0);
		assert_int_equal(iotr_write_workload(w, &vm), 0);
		assert_int_equal(iotr_write_self(w, &sample_self), 0);
		assert_int_equal(iotr_writer_flush(w), 0);
		iv.ts_ns += SEC;
	}
	assert_int_equal(iotr_writer_blocks(w), nblocks);
	assert_int_equal(iotr_writer_close(w), 0);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *p;
	FILE *f;

	assert_int_equal(stat(path, &st), 0);
	p = malloc(st.st_size + 1);
	assert_non_null(p);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(p, 1, st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*n = st.st_size;
	return p;
}

static void spill(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/* Where the blocks of a good file start; returns how many. */
static int block_offsets(const uint8_t *p, size_t n, size_t *off, int max)
{
	size_t at = le32(p + 12);
	int k = 0;

	while (at + IOTR_BLOCK_HDR_LEN <= n && k < max) {
		off[k++] = at;
		at += IOTR_BLOCK_HDR_LEN + le32(p + at + 8);
	}
	off[k] = at;
	return k;
}

/* What a reader returned, in short. */
struct got {
	int blocks, intervals, workloads, selves;
	uint32_t seq[16];
	uint64_t ts[64];
};

static void read_all(struct iotr_reader *r, struct got *g)
{
	struct iotr_record rec;
	struct iotr_block b;
	int e;

	memset(g, 0, sizeof(*g));
	while ((e = iotr_reader_next_block(r, &b)) > 0) {
		assert_true(g->blocks < 16);
		g->seq[g->blocks++] = b.seq;
		while (iotr_reader_next_record(r, &rec) > 0) {
			switch (rec.type) {
			case IOTR_REC_INTERVAL:
				assert_true(g->intervals < 64);
				g->ts[g->intervals++] = rec.interval.ts_ns;
				break;
			case IOTR_REC_WORKLOAD:
				g->workloads++;
				break;
			case IOTR_REC_SELF:
				g->selves++;
				break;
			default:
				fail_msg("record of type %u returned", rec.type);
			}
		}
	}
	assert_int_equal(e, 0);
}

static void check_damage(const struct iotr_reader *r, size_t i, enum iotr_damage_kind kind,
			 uint64_t off, uint64_t len, const char *what)
{
	const struct iotr_damage *d = iotr_reader_damage(r, i);

	assert_non_null(d);
	assert_int_equal(d->kind, kind);
	assert_int_equal(d->offset, off);
	assert_int_equal(d->length, len);
	if (what)
		assert_string_equal(d->what, what);
}

static char *path_in(void **state, const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", (const char *)*state, name);
	return path;
}

/* ---- Round trip ---- */

static void check_wl(const struct iotr_workload *got, const struct iotr_workload *want)
{
	assert_int_equal(got->kind, want->kind);
	assert_int_equal(got->flags, want->flags);
	assert_int_equal(got->pid, want->pid);
	assert_int_equal(got->cgroup_id, want->cgroup_id);
#define STR_EQ(f)                                             \
	do {                                                  \
		if (want->f)                                  \
			assert_string_equal(got->f, want->f); \
		else                                          \
			assert_null(got->f);                  \
	} while (0)
	STR_EQ(name);
	STR_EQ(cgroup_path);
	STR_EQ(runtime);
	STR_EQ(container_id);
#undef STR_EQ
	assert_int_equal(got->cpu_ns, want->cpu_ns);
	assert_int_equal(got->cycles, want->cycles);
	assert_int_equal(got->guest_ns, want->guest_ns);
	assert_int_equal(got->read_ops, want->read_ops);
	assert_int_equal(got->write_ops, want->write_ops);
	assert_int_equal(got->read_bytes, want->read_bytes);
	assert_int_equal(got->write_bytes, want->write_bytes);
	assert_int_equal(got->tx_packets, want->tx_packets);
	assert_int_equal(got->tx_bytes, want->tx_bytes);
	assert_int_equal(got->rx_packets, want->rx_packets);
	assert_int_equal(got->rx_bytes, want->rx_bytes);
	assert_int_equal(got->softirq_ns, want->softirq_ns);
	assert_int_equal(got->exits, want->exits);
	assert_int_equal(got->userspace_exits, want->userspace_exits);
	assert_int_equal(got->pio_exits, want->pio_exits);
	assert_int_equal(got->mmio_exits, want->mmio_exits);
	assert_int_equal(got->unf_read_ops, want->unf_read_ops);
	assert_int_equal(got->unf_write_ops, want->unf_write_ops);
	assert_int_equal(got->unf_read_bytes, want->unf_read_bytes);
	assert_int_equal(got->unf_write_bytes, want->unf_write_bytes);
	assert_int_equal(got->lat_slots, want->lat_slots);
	if (want->lat_slots)
		assert_memory_equal(got->lat_hist, want->lat_hist, want->lat_slots * 8);
	else
		assert_null(got->lat_hist);
}

static void test_round_trip(void **state)
{
	/* Every field distinct and using all its bytes. */
	uint64_t hist[IOTR_HIST_MAX];
	struct iotr_workload full = {
		.kind = IOTR_KIND_HOST,
		.flags = IOTR_WL_NET | IOTR_WL_VM | IOTR_WL_EXITS_HW,
		.pid = -2,
		.cgroup_id = 0x0102030405060708ULL,
		.name = "n\xc3\xa4me",
		.cgroup_path = "/a/b",
		.runtime = "",
		.container_id = "c0ffee",
		.cpu_ns = UINT64_MAX,
		.cycles = 0x8000000000000001ULL,
		.guest_ns = 3,
		.read_ops = 4,
		.write_ops = 5,
		.read_bytes = 6,
		.write_bytes = 7,
		.tx_packets = 8,
		.tx_bytes = 9,
		.rx_packets = 10,
		.rx_bytes = 11,
		.softirq_ns = 12,
		.exits = 13,
		.userspace_exits = 14,
		.pio_exits = 15,
		.mmio_exits = 16,
		.unf_read_ops = 17,
		.unf_write_ops = 18,
		.unf_read_bytes = 19,
		.unf_write_bytes = 0xfedcba9876543210ULL,
		.lat_hist = hist,
		.lat_slots = IOTR_HIST_MAX,
	};
	struct iotr_workload bare = { .kind = 200, .cgroup_id = 0 }; /* unknown kind, no strings */
	struct iotr_self self = {
		.stats_full = 1,
		.inflight_full = 2,
		.rq_no_owner = 3,
		.unseen_complete = 4,
		.pmu_read_fail = 5,
		.prog_missed = 6,
		.recovered = 7,
		.cgroups_untracked = UINT64_MAX,
		.vm_full = 9,
		.vms_untracked = 10,
		.net_owners_full = 11,
		.inflight_at_exit = 12,
		.net_off = "needs CAP_NET_ADMIN",
		.has_v1 = true,
		.blk_dev_full = 13,
		.devices_untracked = 14,
		.pruned = 15,
		.evicted = 16,
		.bpf_stats = true,
		.bpf_run_ns = 17,
		.bpf_runs = 18,
	};
	struct iotr_self self_null = { .inflight_at_exit = -1 };
	struct iotr_interval iv = { .ts_ns = T0, .interval_ns = 1000123456 };
	struct iotr_interval sum = { .ts_ns = T0 + SEC,
				     .interval_ns = 2 * SEC,
				     .flags = IOTR_IVL_SUMMARY };
	static const uint8_t newer[] = { 9, 9, 9 };
	const struct iotr_header *h;
	struct iotr_workload c = container_row();
	struct iotr_reader *r;
	struct iotr_writer *w;
	struct iotr_record rec;
	struct iotr_block b;
	char *path = path_in(state, "rt.iotr"), err[256], sum_line[256];

	for (int i = 0; i < IOTR_HIST_MAX; i++)
		hist[i] = 0xa5a5a5a500000000ULL + i;
	for (int i = 0; i < 40; i++)
		hist40[i] = 1000 + i;
	assert_int_equal(iotr_writer_open(&w, path, &sample_info, IOTR_W_SYNC), 0);
	assert_int_equal(iotr_write_interval(w, &iv), 0);
	assert_int_equal(iotr_write_workload(w, &full), 0);
	assert_int_equal(iotr_write_raw(w, 0xbeef, newer, sizeof(newer)), 0);
	assert_int_equal(iotr_write_workload(w, &bare), 0);
	assert_int_equal(iotr_write_self(w, &self), 0);
	assert_int_equal(iotr_writer_flush(w), 0);
	assert_int_equal(iotr_write_interval(w, &sum), 0);
	assert_int_equal(iotr_write_workload(w, &c), 0);
	assert_int_equal(iotr_write_self(w, &self_null), 0);
	assert_int_equal(iotr_writer_close(w), 0);

	assert_int_equal(iotr_reader_open(&r, path, err, sizeof(err)), 0);
	h = iotr_reader_header(r);
	assert_int_equal(h->major, IOTR_MAJOR);
	assert_int_equal(h->minor, IOTR_MINOR);
	assert_int_equal(h->flags, 0);
	assert_int_equal(h->created_ns, sample_info.created_ns);
	assert_int_equal(h->tsc_hz, sample_info.tsc_hz);
	assert_string_equal(h->hostname, "testhost");
	assert_string_equal(h->version, "0.1.0");
	assert_string_equal(h->cycles_source, "tsc-estimate");

	assert_int_equal(iotr_reader_next_block(r, &b), 1);
	assert_int_equal(b.seq, 0);
	assert_int_equal(b.nrec, 5);
	assert_int_equal(b.first_ns, T0);
	assert_int_equal(b.last_ns, T0);
	assert_int_equal(iotr_reader_next_record(r, &rec), 1);
	assert_int_equal(rec.type, IOTR_REC_INTERVAL);
	assert_int_equal(rec.interval.ts_ns, T0);
	assert_int_equal(rec.interval.interval_ns, 1000123456);
	assert_int_equal(rec.interval.flags, 0);
	assert_int_equal(iotr_reader_next_record(r, &rec), 1);
	assert_int_equal(rec.type, IOTR_REC_WORKLOAD);
	check_wl(&rec.wl, &full);
	/* The record of an unknown type is skipped. */
	assert_int_equal(iotr_reader_next_record(r, &rec), 1);
	assert_int_equal(rec.type, IOTR_REC_WORKLOAD);
	check_wl(&rec.wl, &bare);
	assert_string_equal(iotr_kind_name(rec.wl.kind), "unknown");
	assert_int_equal(iotr_reader_next_record(r, &rec), 1);
	assert_int_equal(rec.type, IOTR_REC_SELF);
	assert_int_equal(rec.self.stats_full, 1);
	assert_int_equal(rec.self.inflight_full, 2);
	assert_int_equal(rec.self.rq_no_owner, 3);
	assert_int_equal(rec.self.unseen_complete, 4);
	assert_int_equal(rec.self.pmu_read_fail, 5);
	assert_int_equal(rec.self.prog_missed, 6);
	assert_int_equal(rec.self.recovered, 7);
	assert_int_equal(rec.self.cgroups_untracked, UINT64_MAX);
	assert_int_equal(rec.self.vm_full, 9);
	assert_int_equal(rec.self.vms_untracked, 10);
	assert_int_equal(rec.self.net_owners_full, 11);
	assert_int_equal(rec.self.inflight_at_exit, 12);
	assert_string_equal(rec.self.net_off, "needs CAP_NET_ADMIN");
	assert_true(rec.self.has_v1);
	assert_int_equal(rec.self.blk_dev_full, 13);
	assert_int_equal(rec.self.devices_untracked, 14);
	assert_int_equal(rec.self.pruned, 15);
	assert_int_equal(rec.self.evicted, 16);
	assert_true(rec.self.bpf_stats);
	assert_int_equal(rec.self.bpf_run_ns, 17);
	assert_int_equal(rec.self.bpf_runs, 18);
	assert_int_equal(iotr_reader_next_record(r, &rec), 0);
	assert_int_equal(iotr_reader_next_record(r, &rec), 0);

	assert_int_equal(iotr_reader_next_block(r, &b), 1);
	assert_int_equal(b.seq, 1);
	assert_int_equal(b.first_ns, T0 + SEC);
	assert_int_equal(iotr_reader_next_record(r, &rec), 1);
	assert_int_equal(rec.interval.flags, IOTR_IVL_SUMMARY);
	assert_int_equal(rec.interval.interval_ns, 2 * SEC);
	assert_int_equal(iotr_reader_next_record(r, &rec), 1);
	check_wl(&rec.wl, &c);
	assert_int_equal(iotr_reader_next_record(r, &rec), 1);
	assert_int_equal(rec.self.inflight_at_exit, -1);
	assert_null(rec.self.net_off);
	/* Written by this version: the 1.1 fields are there, BPF statistics off. */
	assert_true(rec.self.has_v1);
	assert_false(rec.self.bpf_stats);
	assert_int_equal(rec.self.bpf_run_ns, 0);
	assert_int_equal(iotr_reader_next_record(r, &rec), 0);
	assert_int_equal(iotr_reader_next_block(r, &b), 0);

	assert_int_equal(iotr_reader_stats(r)->blocks, 2);
	assert_int_equal(iotr_reader_stats(r)->records, 7);
	assert_int_equal(iotr_reader_stats(r)->records_unknown, 1);
	assert_int_equal(iotr_reader_stats(r)->damage, 0);
	assert_int_equal(iotr_reader_ndamage(r), 0);
	iotr_reader_summary(r, sum_line, sizeof(sum_line));
	assert_string_equal(sum_line,
			    "read 2 blocks, 7 records (1 records of newer types skipped)");
	iotr_reader_close(r);
}

/* The helpers that turn output rows into records. */
static void test_from_rows(void **state)
{
	static const struct out_vm vmx = {
		.pid = 77,
		.guest_ns = 5,
		.exits_source = "kvm_exit",
		.exits = 6,
		.userspace_exits = 7,
		.pio_exits = 8,
		.mmio_exits = 9,
	};
	static const struct out_blk_dev unf[2] = {
		{ .major = 7, .minor = 1, .read_ops = 1, .read_bytes = 4096 },
		{ .major = 8,
		  .minor = 0,
		  .read_ops = 2,
		  .write_ops = 3,
		  .read_bytes = 5,
		  .write_bytes = 6 },
	};
	struct out_row row = {
		.type = OUT_ROW_SUMMARY,
		.ts = { .tv_sec = 1795574794, .tv_nsec = 5 },
		.interval_s = 1.5,
		.wl = { .kind = WL_KIND_VM,
			.cgroup_id = 12,
			.cgroup_path = "/machine",
			.container_id = "",
			.name = "vm1" },
		.cpu_ns = 1,
		.cycles = 2,
		.read_ops = 3,
		.write_bytes = 4,
		.has_net = true,
		.tx_packets = 10,
		.softirq_ns = 11,
		.has_unfinished = true,
		.unfinished = unf,
		.n_unfinished = 2,
		.vm = &vmx,
	};
	struct out_self os = { .vm_full = 3,
			       .inflight_at_exit = -1,
			       .net_off = "x",
			       .pruned = 4,
			       .bpf_stats = true,
			       .bpf_run_ns = 5,
			       .bpf_runs = 6 };
	uint64_t hist[100] = { 1, 2, 3 };
	struct iotr_interval iv;
	struct iotr_workload w;
	struct iotr_self s;

	(void)state;
	iotr_interval_from_row(&iv, &row);
	assert_int_equal(iv.ts_ns, 1795574794000000005ULL);
	assert_int_equal(iv.interval_ns, 1500000000ULL);
	assert_int_equal(iv.flags, IOTR_IVL_SUMMARY);

	iotr_workload_from_row(&w, &row, hist, 100);
	assert_int_equal(w.kind, IOTR_KIND_VM);
	assert_int_equal(w.flags, IOTR_WL_NET | IOTR_WL_VM | IOTR_WL_EXITS_HW);
	assert_int_equal(w.pid, 77);
	assert_int_equal(w.cgroup_id, 12);
	assert_string_equal(w.name, "vm1");
	assert_string_equal(w.cgroup_path, "/machine");
	assert_null(w.runtime);
	assert_null(w.container_id); /* "" is none */
	assert_int_equal(w.cpu_ns, 1);
	assert_int_equal(w.cycles, 2);
	assert_int_equal(w.read_ops, 3);
	assert_int_equal(w.write_bytes, 4);
	assert_int_equal(w.tx_packets, 10);
	assert_int_equal(w.softirq_ns, 11);
	assert_int_equal(w.guest_ns, 5);
	assert_int_equal(w.exits, 6);
	assert_int_equal(w.userspace_exits, 7);
	assert_int_equal(w.pio_exits, 8);
	assert_int_equal(w.mmio_exits, 9);
	/* The unfinished I/Os summed over their devices. */
	assert_int_equal(w.unf_read_ops, 3);
	assert_int_equal(w.unf_write_ops, 3);
	assert_int_equal(w.unf_read_bytes, 4101);
	assert_int_equal(w.unf_write_bytes, 6);
	assert_ptr_equal(w.lat_hist, hist);
	assert_int_equal(w.lat_slots, IOTR_HIST_MAX);

	row.type = OUT_ROW_INTERVAL;
	row.wl.kind = WL_KIND_CONTAINER;
	row.has_net = false;
	row.vm = NULL;
	iotr_interval_from_row(&iv, &row);
	assert_int_equal(iv.flags, 0);
	iotr_workload_from_row(&w, &row, NULL, 40);
	assert_int_equal(w.kind, IOTR_KIND_CONTAINER);
	assert_int_equal(w.flags, 0);
	assert_int_equal(w.tx_packets, 0);
	assert_null(w.lat_hist);
	assert_int_equal(w.lat_slots, 0);

	iotr_self_from_out(&s, &os);
	assert_int_equal(s.vm_full, 3);
	assert_int_equal(s.inflight_at_exit, -1);
	assert_string_equal(s.net_off, "x");
	assert_true(s.has_v1);
	assert_int_equal(s.pruned, 4);
	assert_true(s.bpf_stats);
	assert_int_equal(s.bpf_run_ns, 5);
	assert_int_equal(s.bpf_runs, 6);
}

/* ---- Damage ---- */

/* A two-block file cut at every byte, read from memory and from a file. */
static void test_truncation_every_offset(void **state)
{
	char *path = path_in(state, "cut.iotr"), err[256], line[512];
	size_t n, off[4], hlen;
	uint8_t *file;

	write_sample(path, 2);
	file = slurp(path, &n);
	assert_int_equal(block_offsets(file, n, off, 3), 2);
	assert_int_equal(off[2], n);
	hlen = off[0];

	for (size_t cut = 0; cut <= n; cut++) {
		for (int how = 0; how < 2; how++) {
			struct iotr_reader *r;
			int e, want_blocks = (cut >= off[1]) + (cut >= off[2]);
			bool at_boundary = cut == off[0] || cut == off[1] || cut == off[2];
			struct got g;

			err[0] = '\0';
			if (how == 0) {
				e = iotr_reader_open_mem(&r, file, cut, err, sizeof(err));
			} else {
				spill(path, file, cut);
				e = iotr_reader_open(&r, path, err, sizeof(err));
			}
			if (cut == 0) {
				assert_int_equal(e, -EINVAL);
				assert_string_equal(err, "empty file, not an iotrace recording");
				continue;
			}
			if (cut < hlen) {
				assert_int_equal(e, -EBADMSG);
				assert_non_null(strstr(err, "truncated recording header"));
				continue;
			}
			assert_int_equal(e, 0);
			read_all(r, &g);
			assert_int_equal(g.blocks, want_blocks);
			assert_int_equal(g.intervals, want_blocks);
			assert_int_equal(g.workloads, 2 * want_blocks);
			assert_int_equal(g.selves, want_blocks);
			for (int i = 0; i < want_blocks; i++) {
				assert_int_equal(g.seq[i], i);
				assert_int_equal(g.ts[i], T0 + i * SEC);
			}
			if (at_boundary) {
				assert_int_equal(iotr_reader_stats(r)->damage, 0);
				assert_false(iotr_reader_stats(r)->truncated);
			} else {
				size_t at = off[want_blocks];

				/* Only the cut, at the start of the torn block. */
				assert_int_equal(iotr_reader_stats(r)->damage, 1);
				assert_true(iotr_reader_stats(r)->truncated);
				assert_int_equal(iotr_reader_stats(r)->truncated_at, at);
				check_damage(r, 0, IOTR_DMG_TRUNCATED, at, cut - at, NULL);
				assert_non_null(strstr(iotr_reader_damage(r, 0)->what,
						       "last block cut short"));
				iotr_reader_summary(r, line, sizeof(line));
				assert_non_null(strstr(line, "last block truncated at offset"));
			}
			iotr_reader_close(r);
		}
	}
	free(file);
}

/* Any one byte of block 0 changed: block 0 is skipped, block 1 read. */
static void test_corrupt_block(void **state)
{
	char *path = path_in(state, "bad.iotr"), err[256], line[512], want[128];
	size_t n, off[4];
	uint8_t *file;

	write_sample(path, 2);
	file = slurp(path, &n);
	assert_int_equal(block_offsets(file, n, off, 3), 2);

	for (size_t at = off[0]; at < off[1]; at++) {
		struct iotr_reader *r;
		struct got g;

		file[at] ^= 0x10;
		assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), 0);
		read_all(r, &g);
		assert_int_equal(g.blocks, 1);
		assert_int_equal(g.seq[0], 1);
		assert_int_equal(g.ts[0], T0 + SEC);
		assert_int_equal(g.workloads, 2);
		assert_int_equal(iotr_reader_ndamage(r), 1);
		if (at < off[0] + IOTR_MAGIC_LEN) {
			snprintf(want, sizeof(want),
				 "%zu bytes that are not a block (no block magic)",
				 off[1] - off[0]);
			check_damage(r, 0, IOTR_DMG_GARBAGE, off[0], off[1] - off[0], want);
		} else if (at < off[0] + IOTR_BLOCK_HDR_LEN) {
			check_damage(r, 0, IOTR_DMG_CORRUPT, off[0], off[1] - off[0],
				     "block header checksum mismatch");
		} else {
			check_damage(r, 0, IOTR_DMG_CORRUPT, off[0], off[1] - off[0],
				     "payload checksum mismatch");
		}
		if (at == off[0] + IOTR_BLOCK_HDR_LEN) {
			iotr_reader_summary(r, line, sizeof(line));
			snprintf(want, sizeof(want),
				 "read 1 blocks, 4 records; skipped 1 corrupt block; %zu bytes "
				 "unreadable",
				 off[1] - off[0]);
			assert_string_equal(line, want);
		}
		/* No sequence gap reported on top of the skipped block. */
		assert_int_equal(iotr_reader_stats(r)->gaps, 0);
		iotr_reader_close(r);
		file[at] ^= 0x10;
	}
	free(file);
}

/* A block header with a good checksum and absurd lengths allocates nothing. */
static void test_block_lengths_bounded(void **state)
{
	char *path = path_in(state, "len.iotr"), err[256];
	struct iotr_reader *r;
	size_t n, off[4];
	uint8_t *file;
	struct got g;

	write_sample(path, 2);
	file = slurp(path, &n);
	assert_int_equal(block_offsets(file, n, off, 3), 2);
	put_le32(file + off[0] + 12, 0xfffffff0); /* uncompressed length */
	put_le32(file + off[0] + 44, crc32(0, file + off[0], 44));
	assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), 0);
	read_all(r, &g);
	assert_int_equal(g.blocks, 1);
	assert_int_equal(g.seq[0], 1);
	assert_int_equal(iotr_reader_ndamage(r), 1);
	assert_int_equal(iotr_reader_damage(r, 0)->kind, IOTR_DMG_CORRUPT);
	assert_non_null(strstr(iotr_reader_damage(r, 0)->what, "block lengths out of bounds"));
	iotr_reader_close(r);

	/* A good payload that decompresses to more, or less, than the header says. */
	for (int i = 0; i < 2; i++) {
		uint32_t ulen;

		write_sample(path, 2);
		free(file);
		file = slurp(path, &n);
		ulen = le32(file + off[0] + 12);
		put_le32(file + off[0] + 12, i ? ulen + 100 : ulen - 1);
		put_le32(file + off[0] + 44, crc32(0, file + off[0], 44));
		assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), 0);
		read_all(r, &g);
		assert_int_equal(g.blocks, 1);
		assert_int_equal(iotr_reader_ndamage(r), 1);
		check_damage(r, 0, IOTR_DMG_CORRUPT, off[0], off[1] - off[0], NULL);
		assert_non_null(
			strstr(iotr_reader_damage(r, 0)->what,
			       i ? "payload decompresses to" : "payload does not decompress"));
		iotr_reader_close(r);
	}
	free(file);
}

static void test_foreign(void **state)
{
	static const char json[] = "{\"type\":\"interval\",\"ts\":\"2026-11-25T03:01:12.345Z\"}\n";
	char *path = path_in(state, "run.json"), err[256];
	struct iotr_reader *r;

	spill(path, (const uint8_t *)json, sizeof(json) - 1);
	assert_int_equal(iotr_reader_open(&r, path, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not an iotrace recording");
	assert_int_equal(iotr_reader_open_mem(&r, "\x89IOTX", 5, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not an iotrace recording");
	assert_int_equal(iotr_reader_open_mem(&r, "\x89IOT", 4, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "truncated recording header (4 bytes)");
	spill(path, NULL, 0);
	assert_int_equal(iotr_reader_open(&r, path, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "empty file, not an iotrace recording");
	assert_int_equal(iotr_reader_open(&r, (const char *)*state, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not a regular file");
	assert_int_equal(iotr_reader_open(&r, path_in(state, "none"), err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "cannot open: No such file or directory");
}

/* Re-checksum a file header after an edit. */
static void reseal_header(uint8_t *file)
{
	uint32_t hlen = le32(file + 12);

	put_le32(file + hlen - 4, crc32(0, file, hlen - 4));
}

static void test_versions(void **state)
{
	char *path = path_in(state, "v.iotr"), err[256];
	uint8_t *file, *newer;
	struct iotr_reader *r;
	size_t n, hlen;
	struct got g;

	write_sample(path, 2);
	file = slurp(path, &n);
	hlen = le32(file + 12);

	/* A newer major: refused, whatever follows. */
	file[8] = 2;
	assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_string_equal(err, "written by a newer iotrace (format 2), this one reads up to 1");
	file[8] = 0;
	file[9] = 1;
	assert_int_equal(iotr_reader_open_mem(&r, file, 16, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_string_equal(err, "written by a newer iotrace (format 256), this one reads up to 1");
	file[8] = 1;
	file[9] = 0;

	/* A corrupt header byte. */
	file[hlen - 10] ^= 1;
	assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "recording header is corrupt (checksum mismatch)");
	file[hlen - 10] ^= 1;

	/* An incompatible feature flag of a later version. */
	file[16] = 4;
	reseal_header(file);
	assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_string_equal(err, "recording uses features this iotrace does not know (flags 0x4), "
				 "a newer iotrace wrote it");
	/* A compatible one is fine. */
	file[16] = 0;
	file[18] = 1;
	reseal_header(file);
	assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), 0);
	assert_int_equal(iotr_reader_header(r)->flags, 0x10000);
	iotr_reader_close(r);
	file[18] = 0;

	/* A later minor with more header fields: read. */
	newer = malloc(n + 8);
	assert_non_null(newer);
	memcpy(newer, file, hlen - 4);
	memset(newer + hlen - 4, 0xee, 8);
	memcpy(newer + hlen + 8, file + hlen, n - hlen); /* after the new checksum */
	newer[10] = 7;
	put_le32(newer + 12, hlen + 8);
	reseal_header(newer);
	assert_int_equal(iotr_reader_open_mem(&r, newer, n + 8, err, sizeof(err)), 0);
	assert_int_equal(iotr_reader_header(r)->minor, 7);
	assert_string_equal(iotr_reader_header(r)->cycles_source, "tsc-estimate");
	read_all(r, &g);
	assert_int_equal(g.blocks, 2);
	assert_int_equal(iotr_reader_stats(r)->damage, 0);
	iotr_reader_close(r);
	free(newer);
	free(file);
}

/* Killed mid-write: half a block, or a few bytes of its header, at the end. */
static void test_killed_mid_write(void **state)
{
	char *path = path_in(state, "kill.iotr"), err[256], line[512], want[256];
	size_t n, off[5], tail_lens[3];
	uint8_t *file;

	write_sample(path, 3);
	file = slurp(path, &n);
	assert_int_equal(block_offsets(file, n, off, 4), 3);
	/* Blocks 0 and 1, then part of block 2, as a kill during its write leaves. */
	tail_lens[0] = (off[3] - off[2]) / 2;
	tail_lens[1] = 20;
	tail_lens[2] = 3;
	for (int i = 0; i < 3; i++) {
		struct iotr_reader *r;
		size_t len = off[2] + tail_lens[i];
		struct got g;

		spill(path, file, len);
		assert_int_equal(iotr_reader_open(&r, path, err, sizeof(err)), 0);
		read_all(r, &g);
		assert_int_equal(g.blocks, 2);
		assert_int_equal(g.ts[1], T0 + SEC);
		assert_int_equal(iotr_reader_ndamage(r), 1);
		check_damage(r, 0, IOTR_DMG_TRUNCATED, off[2], tail_lens[i], NULL);
		iotr_reader_summary(r, line, sizeof(line));
		snprintf(want, sizeof(want),
			 "read 2 blocks, 8 records; %zu bytes unreadable; last block truncated at "
			 "offset %zu (the recording was cut short)",
			 tail_lens[i], off[2]);
		assert_string_equal(line, want);
		iotr_reader_close(r);
	}
	free(file);
}

/* Block 1 of 3 cut out: a gap in the sequence, reported. */
static void test_missing_block(void **state)
{
	char *path = path_in(state, "gap.iotr"), err[256];
	size_t n, off[5];
	struct iotr_reader *r;
	uint8_t *file;
	struct got g;

	write_sample(path, 3);
	file = slurp(path, &n);
	assert_int_equal(block_offsets(file, n, off, 4), 3);
	memmove(file + off[1], file + off[2], n - off[2]);
	n -= off[2] - off[1];
	assert_int_equal(iotr_reader_open_mem(&r, file, n, err, sizeof(err)), 0);
	read_all(r, &g);
	assert_int_equal(g.blocks, 2);
	assert_int_equal(g.seq[1], 2);
	assert_int_equal(iotr_reader_stats(r)->gaps, 1);
	check_damage(r, 0, IOTR_DMG_MISSING, off[1], 0, "block 2 follows block 0");
	iotr_reader_close(r);
	free(file);
}

/*
 * Garbage longer than the reader's scan window between two blocks, with the
 * next block's magic across the window's edge: found, from a file and memory.
 */
static void test_resync_across_scan_window(void **state)
{
	char *path = path_in(state, "gar.iotr"), err[256], want[128];
	size_t n, off[4], glen = 65536 - 3 + 1, m;
	uint8_t *file, *big;

	write_sample(path, 2);
	file = slurp(path, &n);
	assert_int_equal(block_offsets(file, n, off, 3), 2);
	m = n + glen;
	big = malloc(m);
	assert_non_null(big);
	memcpy(big, file, off[1]);
	for (size_t i = 0; i < glen; i++)
		big[off[1] + i] = "IOTBLK\x89\n"[i % 8]; /* near misses of the magic */
	memcpy(big + off[1] + glen, file + off[1], n - off[1]);
	spill(path, big, m);
	for (int how = 0; how < 2; how++) {
		struct iotr_reader *r;
		struct got g;

		if (how)
			assert_int_equal(iotr_reader_open(&r, path, err, sizeof(err)), 0);
		else
			assert_int_equal(iotr_reader_open_mem(&r, big, m, err, sizeof(err)), 0);
		read_all(r, &g);
		assert_int_equal(g.blocks, 2);
		assert_int_equal(g.ts[1], T0 + SEC);
		assert_int_equal(iotr_reader_ndamage(r), 1);
		snprintf(want, sizeof(want), "%zu bytes that are not a block (no block magic)",
			 glen);
		check_damage(r, 0, IOTR_DMG_GARBAGE, off[1], glen, want);
		iotr_reader_close(r);
	}
	free(big);
	free(file);
}

/* Append a raw record (header and body) to a payload being built. */
static size_t rec(uint8_t *p, uint16_t type, const void *body, uint32_t len)
{
	p[0] = type;
	p[1] = type >> 8;
	put_le32(p + 2, len);
	memcpy(p + IOTR_REC_HDR_LEN, body, len);
	return IOTR_REC_HDR_LEN + len;
}

static void read_block_of(const uint8_t *payload, size_t len, uint32_t nrec, struct got *g,
			  struct iotr_reader **rp, uint8_t **filep)
{
	uint8_t *blk, *file;
	size_t blen, h;
	char err[256];

	assert_int_equal(iotr_encode_block(payload, len, nrec, 0, 0, 0, &blk, &blen), 0);
	file = malloc(IOTR_HEADER_MAX + blen);
	assert_non_null(file);
	h = iotr_encode_header(&sample_info, file);
	memcpy(file + h, blk, blen);
	free(blk);
	assert_int_equal(iotr_reader_open_mem(rp, file, h + blen, err, sizeof(err)), 0);
	read_all(*rp, g);
	*filep = file;
}

/* Records a writer bug could make, inside a block whose checksums are good. */
static void test_malformed_records(void **state)
{
	uint8_t payload[1024], body[300] = { 0 }, *file;
	struct iotr_reader *r;
	size_t len = 0;
	struct got g;

	(void)state;
	/* An interval record too short, then a good one. */
	len += rec(payload + len, IOTR_REC_INTERVAL, body, 12);
	len += rec(payload + len, IOTR_REC_INTERVAL, body, 20);
	/* A workload with 65 histogram slots. */
	body[2] = 65;
	len += rec(payload + len, IOTR_REC_WORKLOAD, body, 300);
	/* A workload whose name is longer than IOTR_STR_MAX. */
	body[2] = 0;
	body[144] = 0x01;
	body[145] = 0x10; /* 4097 */
	len += rec(payload + len, IOTR_REC_WORKLOAD, body, 146);
	/* A self record: its string runs past the record. */
	memset(body, 0, sizeof(body));
	body[96] = 5;
	len += rec(payload + len, IOTR_REC_SELF, body, 100);
	/* A good self, with an absent string. */
	body[96] = 0xff;
	body[97] = 0xff;
	len += rec(payload + len, IOTR_REC_SELF, body, 98);
	read_block_of(payload, len, 6, &g, &r, &file);
	assert_int_equal(g.intervals, 1);
	assert_int_equal(g.workloads, 0);
	assert_int_equal(g.selves, 1);
	assert_int_equal(iotr_reader_stats(r)->records_bad, 4);
	check_damage(r, 0, IOTR_DMG_RECORD, iotr_reader_damage(r, 0)->offset, 0,
		     "malformed record of type 1 at payload byte 0");
	check_damage(r, 1, IOTR_DMG_RECORD, iotr_reader_damage(r, 0)->offset, 0,
		     "malformed record of type 2 at payload byte 44");
	iotr_reader_close(r);
	free(file);

	/* A record whose length overruns the block: the rest is dropped. */
	len = rec(payload, IOTR_REC_INTERVAL, body, 20);
	len += rec(payload + len, IOTR_REC_INTERVAL, body, 20);
	put_le32(payload + len - 20 - 4, 21);
	read_block_of(payload, len, 2, &g, &r, &file);
	assert_int_equal(g.intervals, 1);
	assert_int_equal(iotr_reader_ndamage(r), 1);
	check_damage(r, 0, IOTR_DMG_RECORD, iotr_reader_damage(r, 0)->offset, 0,
		     "record at payload byte 26 overruns its block; 26 bytes dropped");
	iotr_reader_close(r);
	free(file);

	/* A record count that does not match. */
	len = rec(payload, IOTR_REC_INTERVAL, body, 20);
	read_block_of(payload, len, 3, &g, &r, &file);
	assert_int_equal(g.intervals, 1);
	assert_int_equal(iotr_reader_ndamage(r), 1);
	check_damage(r, 0, IOTR_DMG_RECORD, iotr_reader_damage(r, 0)->offset, 0,
		     "block holds 1 records, header says 3");
	iotr_reader_close(r);
	free(file);
}

/*
 * An interval larger than a block: split over blocks, each starting with
 * the interval record marked continued; over-long strings are cut.
 */
static void test_interval_over_blocks(void **state)
{
	char *path = path_in(state, "big.iotr"), err[256];
	static char longname[3 * IOTR_STR_MAX];
	struct iotr_interval iv = { .ts_ns = T0, .interval_ns = SEC };
	struct iotr_workload c = container_row();
	int rows = 0, conts = 0, blocks = 0, nrows = 100;
	struct iotr_reader *r;
	struct iotr_writer *w;
	struct iotr_record rc;
	struct iotr_block b;

	/* "ä" across the cut: the name is cut before it, not inside. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[IOTR_STR_MAX - 1] = '\xc3';
	longname[IOTR_STR_MAX] = '\xa4';
	c.name = c.cgroup_path = c.runtime = c.container_id = longname;
	assert_int_equal(iotr_writer_open(&w, path, &sample_info, 0), 0);
	assert_int_equal(iotr_write_interval(w, &iv), 0);
	for (int i = 0; i < nrows; i++) {
		c.cgroup_id = i;
		assert_int_equal(iotr_write_workload(w, &c), 0);
	}
	assert_int_equal(iotr_writer_close(w), 0);

	assert_int_equal(iotr_reader_open(&r, path, err, sizeof(err)), 0);
	while (iotr_reader_next_block(r, &b) > 0) {
		int first = 1;

		blocks++;
		assert_int_equal(b.first_ns, T0);
		while (iotr_reader_next_record(r, &rc) > 0) {
			if (first) {
				/* Every block starts with the interval. */
				assert_int_equal(rc.type, IOTR_REC_INTERVAL);
				assert_int_equal(rc.interval.ts_ns, T0);
				assert_int_equal(rc.interval.flags,
						 blocks > 1 ? IOTR_IVL_CONTINUED : 0);
				conts += blocks > 1;
				first = 0;
				continue;
			}
			assert_int_equal(rc.type, IOTR_REC_WORKLOAD);
			assert_int_equal(rc.wl.cgroup_id, rows);
			assert_int_equal(strlen(rc.wl.name), IOTR_STR_MAX - 1);
			assert_int_equal(strlen(rc.wl.container_id), IOTR_STR_MAX - 1);
			rows++;
		}
	}
	assert_true(blocks >= 2);
	assert_int_equal(conts, blocks - 1);
	assert_int_equal(rows, nrows);
	assert_int_equal(iotr_reader_stats(r)->damage, 0);
	iotr_reader_close(r);
}

static void test_writer_errors(void **state)
{
	struct iotr_workload c = container_row();
	struct iotr_writer *w;
	static uint8_t huge[IOTR_BLOCK_MAX / 2 + 1];

	assert_int_equal(iotr_writer_open(&w, path_in(state, "no/such/dir.iotr"), &sample_info, 0),
			 -ENOENT);
	assert_int_equal(iotr_writer_open(&w, path_in(state, "e.iotr"), &sample_info, 0), 0);
	c.lat_slots = IOTR_HIST_MAX + 1;
	assert_int_equal(iotr_write_workload(w, &c), -EINVAL);
	c.lat_slots = 3;
	c.lat_hist = NULL;
	assert_int_equal(iotr_write_workload(w, &c), -EINVAL);
	assert_int_equal(iotr_write_raw(w, 7, huge, sizeof(huge)), -EMSGSIZE);
	/* Nothing appended: the file is the header alone, and reads as empty. */
	assert_int_equal(iotr_writer_close(w), 0);
	assert_int_equal(iotr_writer_close(NULL), 0);
	{
		struct iotr_reader *r;
		char err[256];
		struct got g;

		assert_int_equal(iotr_reader_open(&r, path_in(state, "e.iotr"), err, sizeof(err)),
				 0);
		read_all(r, &g);
		assert_int_equal(g.blocks, 0);
		assert_int_equal(iotr_reader_stats(r)->damage, 0);
		iotr_reader_close(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_from_rows),
		cmocka_unit_test_setup_teardown(test_truncation_every_offset, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_block, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_block_lengths_bounded, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_foreign, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_versions, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_killed_mid_write, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_missing_block, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_resync_across_scan_window, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_malformed_records),
		cmocka_unit_test_setup_teardown(test_interval_over_blocks, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_writer_errors, tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
