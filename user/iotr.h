/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Recordings (`iotrace record --output FILE.iotr`): every interval of the
 * workload table, zlib-compressed, in self-delimiting checksummed blocks, so
 * that a recording cut short by a kill stays readable up to its last whole
 * block and a damaged block costs only itself.  The byte layout, and why, is
 * in docs/recording-format.md.  Pure file and buffer work: no BPF, no /proc.
 */
#ifndef IOTRACE_IOTR_H
#define IOTRACE_IOTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "advice.h"

struct out_row;
struct out_self;

/* Format version this code writes; it reads every minor of this major. */
#define IOTR_MAJOR 1
#define IOTR_MINOR 1

#define IOTR_MAGIC_LEN 8
extern const uint8_t iotr_file_magic[IOTR_MAGIC_LEN];
extern const uint8_t iotr_block_magic[IOTR_MAGIC_LEN];

/* Bounds a reader enforces before it allocates or copies anything. */
#define IOTR_HEADER_MAX 4096 /* whole file header, checksum included */
#define IOTR_HOSTNAME_MAX 255
#define IOTR_VERSION_MAX 64
#define IOTR_SOURCE_MAX 32
#define IOTR_STR_MAX 4096 /* any string of a record */
#define IOTR_HIST_MAX 64 /* latency histogram slots of a workload record */
#define IOTR_BLOCK_HDR_LEN 48
#define IOTR_BLOCK_MAX (16u << 20) /* uncompressed payload of one block */
#define IOTR_BLOCK_TARGET (1u << 20) /* the writer flushes past this */
#define IOTR_REC_HDR_LEN 6 /* u16 type, u32 body length */

/* Record types.  A reader skips, by length, types it does not know. */
enum iotr_rec_type {
	IOTR_REC_INTERVAL = 1,
	IOTR_REC_WORKLOAD = 2,
	IOTR_REC_SELF = 3,
	IOTR_REC_FINDING = 4, /* minor 1 */
};

/* Workload kinds as stored (fixed numbers, independent of enum wl_kind). */
enum iotr_kind {
	IOTR_KIND_CGROUP = 0,
	IOTR_KIND_CONTAINER = 1,
	IOTR_KIND_VM = 2,
	IOTR_KIND_HOST = 3,
};

/* What the file header says. */
struct iotr_header {
	uint16_t major, minor;
	uint32_t flags;
	uint64_t created_ns; /* CLOCK_REALTIME when the recording started */
	uint64_t tsc_hz; /* 0: unknown */
	char hostname[IOTR_HOSTNAME_MAX + 1];
	char version[IOTR_VERSION_MAX + 1]; /* of the iotrace that wrote it */
	char cycles_source[IOTR_SOURCE_MAX + 1]; /* "pmu", "tsc-estimate", ... */
};

/* Interval flags. */
#define IOTR_IVL_SUMMARY (1u << 0) /* the rows are the whole run's totals */
#define IOTR_IVL_CONTINUED (1u << 1) /* repeated at the top of a new block */

/*
 * Starts an interval: the workload and self records that follow, up to the
 * next interval record, belong to it.  Every block that holds rows of an
 * interval starts with its interval record (IOTR_IVL_CONTINUED when the
 * interval began in an earlier block), so a block read alone is complete.
 */
struct iotr_interval {
	uint64_t ts_ns; /* CLOCK_REALTIME at the end of the interval, out_row.ts */
	uint64_t interval_ns; /* measured length; the run's length for a summary */
	uint32_t flags;
};

/* Workload flags. */
#define IOTR_WL_NET (1u << 0) /* tx/rx/softirq are measured (out_row.has_net) */
#define IOTR_WL_VM (1u << 1) /* a VM process: pid, guest_ns and exits valid */
#define IOTR_WL_EXITS_HW (1u << 2) /* exits are kvm_exit's, not VMM exits */

/* One workload row over an interval.  Strings may be NULL (unknown). */
struct iotr_workload {
	uint8_t kind; /* enum iotr_kind; a reader may see kinds it does not know */
	uint8_t flags;
	int32_t pid; /* IOTR_WL_VM only, else 0 */
	uint64_t cgroup_id;
	const char *name, *cgroup_path, *runtime, *container_id;
	uint64_t cpu_ns, cycles, guest_ns;
	uint64_t read_ops, write_ops, read_bytes, write_bytes;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, softirq_ns;
	uint64_t exits, userspace_exits, pio_exits, mmio_exits;
	/*
	 * Summary rows (minor 1): I/Os left in flight as the run ended, not in
	 * the figures above (out_row.unfinished, summed over devices).
	 */
	uint64_t unf_read_ops, unf_write_ops, unf_read_bytes, unf_write_bytes;
	/* Latency slot i counts [2^i, 2^(i+1)) ns, as IOTRACE_LAT_SLOTS. */
	const uint64_t *lat_hist; /* NULL when lat_slots is 0 */
	uint32_t lat_slots; /* <= IOTR_HIST_MAX */
};

/* iotrace's own accounting problems over the interval (struct out_self). */
struct iotr_self {
	uint64_t stats_full, inflight_full, rq_no_owner, unseen_complete;
	uint64_t pmu_read_fail, prog_missed, recovered, cgroups_untracked;
	uint64_t vm_full, vms_untracked, net_owners_full;
	int64_t inflight_at_exit; /* < 0: not counted */
	const char *net_off; /* NULL: network figures on */
	/* Minor 1 (has_v1 false: a 1.0 record, these are 0). */
	bool has_v1;
	uint64_t blk_dev_full, devices_untracked, pruned, evicted;
	bool bpf_stats; /* bpf_run_ns and bpf_runs are measured */
	uint64_t bpf_run_ns, bpf_runs;
};

/*
 * A finding of the advice rules (user/advice.h) about the workload of the
 * workload record just before it, in a summary interval (minor 1).  Read
 * back, its strings point into the reader (valid until the next record).
 */
#define IOTR_FIG_KEY_MAX 63 /* a figure's name */

struct iotr_record {
	uint16_t type; /* enum iotr_rec_type */
	union {
		struct iotr_interval interval;
		struct iotr_workload wl;
		struct iotr_self self;
		struct advice_finding finding;
	};
};

/* "cgroup", "container", "vm", "host", or "unknown". */
const char *iotr_kind_name(unsigned int kind);

/*
 * Fill a workload record from an output row and the row's latency
 * histogram (wl_counters.lat_hist, IOTRACE_LAT_SLOTS slots; NULL for none).
 * Strings point into r.
 */
void iotr_workload_from_row(struct iotr_workload *w, const struct out_row *r,
			    const uint64_t *lat_hist, uint32_t lat_slots);
void iotr_interval_from_row(struct iotr_interval *iv, const struct out_row *r);
void iotr_self_from_out(struct iotr_self *s, const struct out_self *o);

/* ---- Writer ---- */

struct iotr_writer;

/* What goes in the file header (NULL: all defaults); NULL strings and 0 are filled. */
struct iotr_info {
	uint64_t created_ns; /* 0: now */
	uint64_t tsc_hz;
	const char *hostname; /* NULL: gethostname() */
	const char *version; /* NULL: "" */
	const char *cycles_source; /* NULL: "" */
};

#define IOTR_W_SYNC (1u << 0) /* fdatasync after every block */

/*
 * Create or truncate path and write the file header.  0 and *out, or
 * -errno.  Strings longer than the header's bounds are cut.
 */
int iotr_writer_open(struct iotr_writer **out, const char *path, const struct iotr_info *info,
		     unsigned int flags);

/*
 * Append a record to the block being built; a block past IOTR_BLOCK_TARGET
 * is flushed.  Strings longer than IOTR_STR_MAX are cut.  0 or -errno; after
 * a write error every call fails with that error.
 */
int iotr_write_interval(struct iotr_writer *w, const struct iotr_interval *iv);
int iotr_write_workload(struct iotr_writer *w, const struct iotr_workload *wl);
int iotr_write_self(struct iotr_writer *w, const struct iotr_self *s);
/* A finding about the workload just written (its summary row). */
int iotr_write_finding(struct iotr_writer *w, const struct advice_finding *f);
/* Any record type with a body in its final form: for tests and extensions. */
int iotr_write_raw(struct iotr_writer *w, uint16_t type, const void *body, size_t len);

/*
 * Compress the records appended since the last flush and write them as one
 * block, with a single write(2).  Call it when an interval ends: a kill
 * then loses at most the interval being built.  0 (nothing to write is
 * fine) or -errno; on a failed write the file is cut back to its last whole
 * block.
 */
int iotr_writer_flush(struct iotr_writer *w);

/* Flush, sync when IOTR_W_SYNC, close and free (w may be NULL).  0 or -errno. */
int iotr_writer_close(struct iotr_writer *w);

/* Blocks written so far. */
uint32_t iotr_writer_blocks(const struct iotr_writer *w);

/*
 * The lower layer the writer uses, for tests and the fuzz harness: encode
 * a file header into buf (IOTR_HEADER_MAX bytes); returns its length.
 */
size_t iotr_encode_header(const struct iotr_info *info, uint8_t *buf);

/*
 * Frame an uncompressed payload of records as a block: *out (malloc'd,
 * header then compressed payload) and *outlen.  0 or -errno (-EMSGSIZE past
 * IOTR_BLOCK_MAX).
 */
int iotr_encode_block(const void *payload, size_t len, uint32_t nrec, uint32_t seq,
		      uint64_t first_ns, uint64_t last_ns, uint8_t **out, size_t *outlen);

/* ---- Reader ---- */

struct iotr_reader;

/* What the reader met and skipped, in file order. */
enum iotr_damage_kind {
	IOTR_DMG_CORRUPT, /* a block with a bad checksum, lengths or zlib data */
	IOTR_DMG_GARBAGE, /* bytes where a block should start, up to the next one */
	IOTR_DMG_TRUNCATED, /* the last block is incomplete (writer killed) */
	IOTR_DMG_RECORD, /* a malformed record in a good block (writer bug) */
	IOTR_DMG_MISSING, /* the block sequence jumps: blocks were cut out */
};

struct iotr_damage {
	enum iotr_damage_kind kind;
	uint64_t offset; /* in the file, where the damage starts */
	uint64_t length; /* bytes skipped (0 for records and missing blocks) */
	char what[160]; /* one clause, without the offset: "payload checksum mismatch" */
};

#define IOTR_DAMAGE_KEEP 64 /* damage entries kept; the rest only counted */

struct iotr_stats {
	uint64_t blocks; /* good blocks read */
	uint64_t records; /* records returned */
	uint64_t records_unknown; /* skipped: type newer than this reader */
	uint64_t blocks_skipped; /* corrupt blocks */
	uint64_t records_bad; /* malformed records skipped */
	uint64_t bytes_skipped; /* corrupt blocks, garbage and a torn tail */
	uint64_t gaps; /* jumps in the block sequence with nothing skipped */
	uint64_t damage; /* damage entries, kept or not */
	bool truncated; /* the last block is incomplete */
	uint64_t truncated_at; /* its offset */
};

/* A good block, as next_block returns it. */
struct iotr_block {
	uint64_t offset;
	uint32_t seq, nrec;
	uint32_t clen, ulen;
	uint64_t first_ns, last_ns; /* interval timestamps it holds, 0: none */
};

/*
 * Open a recording and check its header.  0 and *out, or a negative errno
 * with err set (without the path, which the caller adds):
 *   -EINVAL            "not an iotrace recording"
 *   -EPROTONOSUPPORT   "written by a newer iotrace (format N), this one reads up to M"
 *   -EBADMSG           the header is corrupt or truncated
 *   other              the file cannot be opened or read
 */
int iotr_reader_open(struct iotr_reader **out, const char *path, char *err, size_t errlen);

/* The same on a buffer, which must outlive the reader. */
int iotr_reader_open_mem(struct iotr_reader **out, const void *buf, size_t len, char *err,
			 size_t errlen);

void iotr_reader_close(struct iotr_reader *r);

const struct iotr_header *iotr_reader_header(const struct iotr_reader *r);

/*
 * Move to the next good block, skipping and recording damage on the way.
 * 1 and *b filled (may be NULL), 0 at the end of the file, or -errno on a
 * read error (iotr_reader_error() says which).
 */
int iotr_reader_next_block(struct iotr_reader *r, struct iotr_block *b);

/*
 * The next record of the current block: 1 and *rec filled, 0 when the block
 * is done.  Unknown types are skipped, malformed records are recorded as
 * damage and skipped.  Strings and lat_hist in *rec stay valid until the
 * next call.
 */
int iotr_reader_next_record(struct iotr_reader *r, struct iotr_record *rec);

const struct iotr_stats *iotr_reader_stats(const struct iotr_reader *r);
size_t iotr_reader_ndamage(const struct iotr_reader *r);
const struct iotr_damage *iotr_reader_damage(const struct iotr_reader *r, size_t i);
const char *iotr_reader_error(const struct iotr_reader *r);

/*
 * One line on what was read and skipped: "read 12 blocks, 340 records;
 * skipped 1 corrupt block, 4120 bytes; last block truncated at offset 9000".
 */
void iotr_reader_summary(const struct iotr_reader *r, char *buf, size_t len);

#endif
