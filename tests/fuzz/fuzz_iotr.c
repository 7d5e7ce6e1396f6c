// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target of the recording reader (user/iotr.c): whatever the bytes,
 * the reader must not crash, leak, hang or read out of bounds.
 *
 * Checksums stop random bytes at the block header, so the first input byte
 * picks what the rest is, to reach every layer:
 *   0  a whole recording file, read from memory;
 *   1  the uncompressed payload of one block (records), framed here with
 *      good checksums after a good file header;
 *   2  a compressed payload with good checksums (zlib's input is fuzzed);
 *   3  a whole recording file, read through a file descriptor.
 * tests/fuzz/gen_corpus.c writes seeds of each kind.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "iotr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink; /* keeps reads from being optimised away */

static void walk(struct iotr_reader *r)
{
	struct iotr_record rec;
	struct iotr_block b;
	char line[512];
	uint64_t h = 0;

	iotr_reader_header(r);
	while (iotr_reader_next_block(r, &b) > 0) {
		h += b.seq + b.nrec + b.first_ns;
		while (iotr_reader_next_record(r, &rec) > 0) {
			const struct iotr_workload *w = &rec.wl;

			switch (rec.type) {
			case IOTR_REC_INTERVAL:
				h += rec.interval.ts_ns + rec.interval.flags;
				break;
			case IOTR_REC_WORKLOAD:
				h += w->cpu_ns + w->mmio_exits + strlen(iotr_kind_name(w->kind));
				for (uint32_t i = 0; i < w->lat_slots; i++)
					h += w->lat_hist[i];
				h += w->name ? strlen(w->name) : 0;
				h += w->cgroup_path ? strlen(w->cgroup_path) : 0;
				h += w->runtime ? strlen(w->runtime) : 0;
				h += w->container_id ? strlen(w->container_id) : 0;
				break;
			case IOTR_REC_SELF:
				h += rec.self.net_owners_full;
				h += rec.self.net_off ? strlen(rec.self.net_off) : 0;
				break;
			case IOTR_REC_FINDING:
				/* Every string a finding's reader hands out must be whole. */
				h += strlen(rec.finding.id) + strlen(rec.finding.summary) +
				     strlen(rec.finding.remedy) + strlen(rec.finding.saving_basis);
				for (size_t i = 0; i < rec.finding.nevidence; i++)
					h += strlen(rec.finding.evidence[i].key) +
					     strlen(rec.finding.evidence[i].str);
				for (size_t i = 0; i < rec.finding.nsaving; i++)
					h += strlen(rec.finding.saving[i].key);
				break;
			}
		}
	}
	for (size_t i = 0; i < iotr_reader_ndamage(r); i++)
		h += strlen(iotr_reader_damage(r, i)->what);
	iotr_reader_summary(r, line, sizeof(line));
	h += strlen(line) + iotr_reader_stats(r)->damage;
	sink = h;
}

static void read_mem(const uint8_t *p, size_t n)
{
	struct iotr_reader *r;
	char err[256];

	if (iotr_reader_open_mem(&r, p, n, err, sizeof(err)) == 0) {
		walk(r);
		iotr_reader_close(r);
	} else if (!err[0]) {
		abort(); /* every refusal says why */
	}
}

static void read_fd(const uint8_t *p, size_t n)
{
	struct iotr_reader *r;
	char path[64], err[256];
	int fd = memfd_create("fuzz_iotr", MFD_CLOEXEC);

	if (fd < 0)
		return;
	if (n && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (iotr_reader_open(&r, path, err, sizeof(err)) == 0) {
		walk(r);
		iotr_reader_close(r);
	}
	close(fd);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/* A good file header then blk, read from memory. */
static void read_framed(const uint8_t *blk, size_t len)
{
	static const struct iotr_info info = { .created_ns = 1, .hostname = "fuzz" };
	uint8_t *file = malloc(IOTR_HEADER_MAX + len);
	size_t h;

	if (!file)
		return;
	h = iotr_encode_header(&info, file);
	memcpy(file + h, blk, len);
	read_mem(file, h + len);
	free(file);
}

/* Mode 1: records, framed and compressed by the writer's own code. */
static void fuzz_payload(const uint8_t *p, size_t n)
{
	uint32_t nrec;
	uint8_t *blk;
	size_t len;

	if (n < 1 + IOTR_REC_HDR_LEN)
		return;
	/* The header's record count, within what the reader accepts. */
	nrec = 1 + p[0] % ((n - 1) / IOTR_REC_HDR_LEN);
	if (iotr_encode_block(p + 1, n - 1, nrec, 0, 0, 0, &blk, &len))
		return;
	read_framed(blk, len);
	free(blk);
}

/* Mode 2: arbitrary zlib input with good checksums, framed by hand. */
static void fuzz_zlib(const uint8_t *p, size_t n)
{
	uint8_t *blk;
	uint32_t ulen, nrec;

	if (n < 5)
		return;
	/* At most 1 MiB uncompressed keeps executions fast. */
	ulen = (p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16) % (1u << 20);
	nrec = ulen / IOTR_REC_HDR_LEN ? 1 + p[3] % (ulen / IOTR_REC_HDR_LEN) : 1;
	p += 4;
	n -= 4;
	blk = malloc(IOTR_BLOCK_HDR_LEN + n);
	if (!blk)
		return;
	memset(blk, 0, IOTR_BLOCK_HDR_LEN);
	memcpy(blk, iotr_block_magic, IOTR_MAGIC_LEN);
	le32(blk + 8, n);
	le32(blk + 12, ulen);
	le32(blk + 16, nrec);
	le32(blk + 40, crc32(0, p, n));
	le32(blk + 44, crc32(0, blk, 44));
	memcpy(blk + IOTR_BLOCK_HDR_LEN, p, n);
	read_framed(blk, IOTR_BLOCK_HDR_LEN + n);
	free(blk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		read_mem(data + 1, size - 1);
		break;
	case 1:
		fuzz_payload(data + 1, size - 1);
		break;
	case 2:
		fuzz_zlib(data + 1, size - 1);
		break;
	case 3:
		read_fd(data + 1, size - 1);
		break;
	}
	return 0;
}
