// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Seed corpus of tests/fuzz/fuzz_iotr.c, written by the real writer so that
 * the seeds follow the format as it is: `gen_corpus DIR` writes one file per
 * seed, each starting with the harness's mode byte (0: whole file, 1: block
 * payload, 2: compressed payload, 3: whole file through a descriptor).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "iotr.h"

static const char *dir;

static void die(const char *what, int err)
{
	fprintf(stderr, "gen_corpus: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void seed(const char *name, int mode, const uint8_t *p, size_t n)
{
	char path[4096];
	uint8_t m = mode;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&m, 1, 1, f) != 1 || (n && fwrite(p, 1, n, f) != n) || fclose(f))
		die(path, errno);
}

/* Two intervals, one block each, every record type and a newer one. */
static void write_sample(const char *path)
{
	static const uint64_t hist[40] = { [3] = 5, [10] = 1000, [11] = 20, [39] = 1 };
	struct iotr_info info = {
		.created_ns = 1795574793000000000ULL,
		.tsc_hz = 2400000000ULL,
		.hostname = "seedhost",
		.version = "0.1.0",
		.cycles_source = "tsc-estimate",
	};
	struct iotr_workload c = {
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
		.softirq_ns = 900000,
		.lat_hist = hist,
		.lat_slots = 40,
	};
	struct iotr_workload vm = {
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
	struct iotr_self self = { .rq_no_owner = 3, .inflight_at_exit = -1, .net_off = NULL };
	struct advice_finding fd = {
		.id = "net.nat",
		.severity = ADVICE_WARNING,
		.summary = "traffic through veth + bridge + NAT",
		.source = "iotrace: socket traffic",
		.remedy = "docker run --net=host",
		.saving_basis = "measured on this host",
		.evidence = { { .key = "ratio", .type = ADVICE_FIG_NUM, .num = 1.2, .prec = 3 },
			      { .key = "bridge", .type = ADVICE_FIG_STR, .str = "docker0" } },
		.nevidence = 2,
		.saving = { { .key = "cycles_per_byte",
			      .type = ADVICE_FIG_NUM,
			      .num = 0.4,
			      .prec = 2 } },
		.nsaving = 1,
	};
	struct iotr_interval iv = { .ts_ns = 1795574794000000000ULL, .interval_ns = 1000000000 };
	static const uint8_t newer[] = { 1, 2, 3, 4 };
	struct iotr_writer *w;
	int err;

	err = iotr_writer_open(&w, path, &info, 0);
	if (err)
		die(path, err);
	for (int i = 0; i < 2; i++) {
		err = err ?: iotr_write_interval(w, &iv);
		err = err ?: iotr_write_workload(w, &c);
		err = err ?: iotr_write_finding(w, &fd);
		err = err ?: iotr_write_workload(w, &vm);
		err = err ?: iotr_write_raw(w, 99, newer, sizeof(newer));
		err = err ?: iotr_write_self(w, &self);
		err = err ?: iotr_writer_flush(w);
		iv.ts_ns += iv.interval_ns;
		c.cpu_ns += 1000;
	}
	err = err ?: iotr_writer_close(w);
	if (err)
		die(path, err);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	uint8_t *p = malloc(1 << 20);
	FILE *f = fopen(path, "rb");

	if (!p || !f)
		die(path, errno);
	*n = fread(p, 1, 1 << 20, f);
	fclose(f);
	return p;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char **argv)
{
	char path[4096];
	uint8_t *file, *blk, *payload;
	size_t n, hlen, clen, b2;
	uLongf ulen;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	snprintf(path, sizeof(path), "%s/sample.tmp", dir);
	write_sample(path);
	file = slurp(path, &n);
	remove(path);

	hlen = le32(file + 12);
	blk = file + hlen;
	clen = le32(blk + 8);
	ulen = le32(blk + 12);
	b2 = hlen + IOTR_BLOCK_HDR_LEN + clen;

	seed("file-two-blocks", 0, file, n);
	seed("fd-two-blocks", 3, file, n);
	seed("file-header-only", 0, file, hlen);
	seed("file-truncated", 0, file, b2 + (n - b2) / 2);
	file[hlen + IOTR_BLOCK_HDR_LEN + clen / 2] ^= 0x40;
	seed("file-corrupt-payload", 0, file, n);
	file[hlen + IOTR_BLOCK_HDR_LEN + clen / 2] ^= 0x40;
	file[8] = 2; /* a future major version */
	seed("file-future", 0, file, hlen);
	file[8] = 1;
	seed("file-foreign", 0, (const uint8_t *)"{\"type\":\"interval\"}\n", 21);

	/* Mode 1 takes a count byte, then the records. */
	payload = malloc(ulen + 1);
	if (!payload)
		die("malloc", ENOMEM);
	payload[0] = 4;
	if (uncompress(payload + 1, &ulen, blk + IOTR_BLOCK_HDR_LEN, clen) != Z_OK)
		die("uncompress", EBADMSG);
	seed("payload-records", 1, payload, ulen + 1);

	/* Mode 2 takes 3 bytes of length and a count byte, then zlib data. */
	blk[IOTR_BLOCK_HDR_LEN - 4] = ulen;
	blk[IOTR_BLOCK_HDR_LEN - 3] = ulen >> 8;
	blk[IOTR_BLOCK_HDR_LEN - 2] = ulen >> 16;
	blk[IOTR_BLOCK_HDR_LEN - 1] = 3;
	seed("zlib-records", 2, blk + IOTR_BLOCK_HDR_LEN - 4, clen + 4);
	free(payload);
	free(file);
	return 0;
}
