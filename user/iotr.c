// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Recordings: writer and reader of the .iotr format (docs/recording-format.md).
 *
 * Every integer is encoded and decoded byte by byte, little-endian, so the
 * layout never depends on a C struct, the compiler or the host.  The reader
 * treats the file as hostile: every length is checked against its bound and
 * against what is left before anything is allocated or copied.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "classify.h"
#include "iotr.h"
#include "output.h"

/*
 * 0x89 is not ASCII (a text file or a 7-bit transfer cannot start so), CR LF
 * catches line-ending conversion, 0x1a stops a DOS `type`: PNG's reasoning.
 */
const uint8_t iotr_file_magic[IOTR_MAGIC_LEN] = { 0x89, 'I', 'O', 'T', 'R', '\r', '\n', 0x1a };
const uint8_t iotr_block_magic[IOTR_MAGIC_LEN] = { 0x89, 'I', 'O', 'T', 'B', 'L', 'K', '\n' };

/* Header: magic, major, minor, length, flags, created, tsc_hz. */
#define HDR_FIXED_LEN 36
/* The fixed part, three empty strings, the checksum. */
#define HDR_MIN_LEN (HDR_FIXED_LEN + 3 * 2 + 4)
/* Flags bits 0-15 change how the file must be read: unknown ones refuse it. */
#define HDR_FLAGS_INCOMPAT 0xffffu

#define STR_ABSENT 0xffffu

#define INTERVAL_BODY_LEN 20

/* ---- Little-endian helpers ---- */

static void le16_put(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void le64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint16_t le16_get(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t le32_get(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t le64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t crc(const void *p, size_t n)
{
	return crc32(crc32(0L, Z_NULL, 0), p, n);
}

/* ---- Growable output buffer ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static uint8_t *buf_room(struct buf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += n;
	return b->p + b->len - n;
}

static void put_bytes(struct buf *b, const void *d, size_t n)
{
	uint8_t *p = buf_room(b, n);

	if (p && n)
		memcpy(p, d, n);
}

static void put_u8(struct buf *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put_u16(struct buf *b, uint16_t v)
{
	uint8_t *p = buf_room(b, 2);

	if (p)
		le16_put(p, v);
}

static void put_u32(struct buf *b, uint32_t v)
{
	uint8_t *p = buf_room(b, 4);

	if (p)
		le32_put(p, v);
}

static void put_u64(struct buf *b, uint64_t v)
{
	uint8_t *p = buf_room(b, 8);

	if (p)
		le64_put(p, v);
}

/* The length of s cut to max bytes, never inside a UTF-8 sequence. */
static size_t cut_len(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* u16 length (STR_ABSENT for NULL), then the bytes, no terminator. */
static void put_str(struct buf *b, const char *s, size_t max)
{
	size_t n;

	if (!s) {
		put_u16(b, STR_ABSENT);
		return;
	}
	n = cut_len(s, max);
	put_u16(b, n);
	put_bytes(b, s, n);
}

/* ---- Bounded input cursor ---- */

struct cur {
	const uint8_t *p;
	size_t n, off;
	bool bad; /* read past the end or a bound broken */
};

static const uint8_t *take(struct cur *c, size_t n)
{
	const uint8_t *p;

	if (c->bad || c->n - c->off < n) {
		c->bad = true;
		return NULL;
	}
	p = c->p + c->off;
	c->off += n;
	return p;
}

static uint8_t get_u8(struct cur *c)
{
	const uint8_t *p = take(c, 1);

	return p ? p[0] : 0;
}

static uint16_t get_u16(struct cur *c)
{
	const uint8_t *p = take(c, 2);

	return p ? le16_get(p) : 0;
}

static uint32_t get_u32(struct cur *c)
{
	const uint8_t *p = take(c, 4);

	return p ? le32_get(p) : 0;
}

static uint64_t get_u64(struct cur *c)
{
	const uint8_t *p = take(c, 8);

	return p ? le64_get(p) : 0;
}

/*
 * A string into dst (max + 1 bytes), NUL-terminated; NULL for an absent
 * one when absent_ok, else bad.  A length past max is bad.
 */
static const char *get_str(struct cur *c, char *dst, size_t max, bool absent_ok)
{
	uint16_t n = get_u16(c);
	const uint8_t *p;

	if (c->bad)
		return NULL;
	if (n == STR_ABSENT) {
		if (!absent_ok)
			c->bad = true;
		return NULL;
	}
	if (n > max) {
		c->bad = true;
		return NULL;
	}
	p = take(c, n);
	if (!p)
		return NULL;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return dst;
}

/* ---- Records and rows ---- */

/* Decimals a figure is printed with, at most. */
#define FIG_PREC_MAX 9

const char *iotr_kind_name(unsigned int kind)
{
	switch (kind) {
	case IOTR_KIND_CGROUP:
		return "cgroup";
	case IOTR_KIND_CONTAINER:
		return "container";
	case IOTR_KIND_VM:
		return "vm";
	case IOTR_KIND_HOST:
		return "host";
	}
	return "unknown";
}

static uint8_t kind_of(enum wl_kind k)
{
	switch (k) {
	case WL_KIND_CGROUP:
		return IOTR_KIND_CGROUP;
	case WL_KIND_CONTAINER:
		return IOTR_KIND_CONTAINER;
	case WL_KIND_VM:
		return IOTR_KIND_VM;
	case WL_KIND_HOST:
		return IOTR_KIND_HOST;
	}
	return IOTR_KIND_CGROUP;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec < 0)
		return 0;
	return (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

void iotr_interval_from_row(struct iotr_interval *iv, const struct out_row *r)
{
	memset(iv, 0, sizeof(*iv));
	iv->ts_ns = ts_ns(&r->ts);
	/* Rounded to the ns; "!(x > 0)" also turns NaN away. */
	iv->interval_ns = !(r->interval_s > 0) ? 0 : (uint64_t)(r->interval_s * 1e9 + 0.5);
	if (r->type == OUT_ROW_SUMMARY)
		iv->flags |= IOTR_IVL_SUMMARY;
}

void iotr_workload_from_row(struct iotr_workload *w, const struct out_row *r,
			    const uint64_t *lat_hist, uint32_t lat_slots)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind_of(r->wl.kind);
	w->cgroup_id = r->wl.cgroup_id;
	w->name = r->wl.name;
	w->cgroup_path = r->wl.cgroup_path;
	w->runtime = r->wl.runtime;
	w->container_id = r->wl.container_id && r->wl.container_id[0] ? r->wl.container_id : NULL;
	w->cpu_ns = r->cpu_ns;
	w->cycles = r->cycles;
	w->read_ops = r->read_ops;
	w->write_ops = r->write_ops;
	w->read_bytes = r->read_bytes;
	w->write_bytes = r->write_bytes;
	if (r->has_net) {
		w->flags |= IOTR_WL_NET;
		w->tx_packets = r->tx_packets;
		w->tx_bytes = r->tx_bytes;
		w->rx_packets = r->rx_packets;
		w->rx_bytes = r->rx_bytes;
		w->softirq_ns = r->softirq_ns;
	}
	if (r->vm) {
		w->flags |= IOTR_WL_VM;
		if (r->vm->exits_source && !strcmp(r->vm->exits_source, "kvm_exit"))
			w->flags |= IOTR_WL_EXITS_HW;
		w->pid = r->vm->pid;
		w->guest_ns = r->vm->guest_ns;
		w->exits = r->vm->exits;
		w->userspace_exits = r->vm->userspace_exits;
		w->pio_exits = r->vm->pio_exits;
		w->mmio_exits = r->vm->mmio_exits;
	}
	for (size_t i = 0; i < r->n_unfinished; i++) {
		w->unf_read_ops += r->unfinished[i].read_ops;
		w->unf_write_ops += r->unfinished[i].write_ops;
		w->unf_read_bytes += r->unfinished[i].read_bytes;
		w->unf_write_bytes += r->unfinished[i].write_bytes;
	}
	if (lat_hist) {
		w->lat_hist = lat_hist;
		w->lat_slots = lat_slots > IOTR_HIST_MAX ? IOTR_HIST_MAX : lat_slots;
	}
}

void iotr_self_from_out(struct iotr_self *s, const struct out_self *o)
{
	memset(s, 0, sizeof(*s));
	s->stats_full = o->stats_full;
	s->inflight_full = o->inflight_full;
	s->rq_no_owner = o->rq_no_owner;
	s->unseen_complete = o->unseen_complete;
	s->pmu_read_fail = o->pmu_read_fail;
	s->prog_missed = o->prog_missed;
	s->recovered = o->recovered;
	s->cgroups_untracked = o->cgroups_untracked;
	s->vm_full = o->vm_full;
	s->vms_untracked = o->vms_untracked;
	s->net_owners_full = o->net_owners_full;
	s->inflight_at_exit = o->inflight_at_exit;
	s->net_off = o->net_off;
	s->has_v1 = true;
	s->blk_dev_full = o->blk_dev_full;
	s->devices_untracked = o->devices_untracked;
	s->pruned = o->pruned;
	s->evicted = o->evicted;
	s->bpf_stats = o->bpf_stats;
	s->bpf_run_ns = o->bpf_run_ns;
	s->bpf_runs = o->bpf_runs;
}

/* The field order is the format's (docs/recording-format.md); decode_workload mirrors it. */
static void encode_workload(struct buf *b, const struct iotr_workload *w)
{
	const uint64_t fixed[] = {
		w->cpu_ns,    w->cycles,	  w->guest_ns,	  w->read_ops,
		w->write_ops, w->read_bytes,	  w->write_bytes, w->tx_packets,
		w->tx_bytes,  w->rx_packets,	  w->rx_bytes,	  w->softirq_ns,
		w->exits,     w->userspace_exits, w->pio_exits,	  w->mmio_exits,
	};

	put_u8(b, w->kind);
	put_u8(b, w->flags);
	put_u16(b, w->lat_slots);
	put_u32(b, (uint32_t)w->pid);
	put_u64(b, w->cgroup_id);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		put_u64(b, fixed[i]);
	for (uint32_t i = 0; i < w->lat_slots; i++)
		put_u64(b, w->lat_hist[i]);
	put_str(b, w->name, IOTR_STR_MAX);
	put_str(b, w->cgroup_path, IOTR_STR_MAX);
	put_str(b, w->runtime, IOTR_STR_MAX);
	put_str(b, w->container_id, IOTR_STR_MAX);
	/* Minor 1. */
	put_u64(b, w->unf_read_ops);
	put_u64(b, w->unf_write_ops);
	put_u64(b, w->unf_read_bytes);
	put_u64(b, w->unf_write_bytes);
}

static void encode_self(struct buf *b, const struct iotr_self *s)
{
	put_u64(b, s->stats_full);
	put_u64(b, s->inflight_full);
	put_u64(b, s->rq_no_owner);
	put_u64(b, s->unseen_complete);
	put_u64(b, s->pmu_read_fail);
	put_u64(b, s->prog_missed);
	put_u64(b, s->recovered);
	put_u64(b, s->cgroups_untracked);
	put_u64(b, s->vm_full);
	put_u64(b, s->vms_untracked);
	put_u64(b, s->net_owners_full);
	put_u64(b, s->inflight_at_exit < 0 ? UINT64_MAX : (uint64_t)s->inflight_at_exit);
	put_str(b, s->net_off, IOTR_STR_MAX);
	/* Minor 1. */
	put_u64(b, s->blk_dev_full);
	put_u64(b, s->devices_untracked);
	put_u64(b, s->pruned);
	put_u64(b, s->evicted);
	put_u64(b, s->bpf_stats ? s->bpf_run_ns : UINT64_MAX);
	put_u64(b, s->bpf_stats ? s->bpf_runs : UINT64_MAX);
}

static bool decode_interval(struct cur *c, struct iotr_interval *iv)
{
	iv->ts_ns = get_u64(c);
	iv->interval_ns = get_u64(c);
	iv->flags = get_u32(c);
	return !c->bad;
}

static bool decode_workload(struct cur *c, struct iotr_workload *w, uint64_t *hist,
			    char (*str)[IOTR_STR_MAX + 1])
{
	uint64_t *fixed[] = {
		&w->cpu_ns,    &w->cycles,	    &w->guest_ns,    &w->read_ops,
		&w->write_ops, &w->read_bytes,	    &w->write_bytes, &w->tx_packets,
		&w->tx_bytes,  &w->rx_packets,	    &w->rx_bytes,    &w->softirq_ns,
		&w->exits,     &w->userspace_exits, &w->pio_exits,   &w->mmio_exits,
	};

	memset(w, 0, sizeof(*w));
	w->kind = get_u8(c);
	w->flags = get_u8(c);
	w->lat_slots = get_u16(c);
	w->pid = (int32_t)get_u32(c);
	w->cgroup_id = get_u64(c);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		*fixed[i] = get_u64(c);
	if (w->lat_slots > IOTR_HIST_MAX)
		return false;
	for (uint32_t i = 0; i < w->lat_slots; i++)
		hist[i] = get_u64(c);
	w->lat_hist = w->lat_slots ? hist : NULL;
	w->name = get_str(c, str[0], IOTR_STR_MAX, true);
	w->cgroup_path = get_str(c, str[1], IOTR_STR_MAX, true);
	w->runtime = get_str(c, str[2], IOTR_STR_MAX, true);
	w->container_id = get_str(c, str[3], IOTR_STR_MAX, true);
	/* Minor 1's fields; a minor 0 record ends here. */
	if (!c->bad && c->n - c->off >= 4 * sizeof(uint64_t)) {
		w->unf_read_ops = get_u64(c);
		w->unf_write_ops = get_u64(c);
		w->unf_read_bytes = get_u64(c);
		w->unf_write_bytes = get_u64(c);
	}
	return !c->bad;
}

static bool get_fig(struct cur *c, struct advice_fig *g, char *key)
{
	uint64_t bits;
	uint8_t type;

	memset(g, 0, sizeof(*g));
	g->key = get_str(c, key, IOTR_FIG_KEY_MAX, false);
	type = get_u8(c);
	g->prec = get_u8(c);
	bits = get_u64(c);
	memcpy(&g->num, &bits, sizeof(g->num));
	get_str(c, g->str, sizeof(g->str) - 1, true);
	if (c->bad || type > ADVICE_FIG_STR || g->prec > FIG_PREC_MAX)
		return false;
	g->type = (enum advice_fig_type)type;
	/* What a writer would never store: a number that is no number is null. */
	if (g->type == ADVICE_FIG_NUM && !isfinite(g->num))
		g->type = ADVICE_FIG_NULL;
	return true;
}

static bool decode_finding(struct cur *c, struct advice_finding *f,
			   char (*keys)[IOTR_FIG_KEY_MAX + 1])
{
	uint8_t severity;

	memset(f, 0, sizeof(*f));
	severity = get_u8(c);
	f->nevidence = get_u8(c);
	f->nsaving = get_u8(c);
	if (c->bad || severity > ADVICE_WARNING || f->nevidence > ADVICE_MAX_FIGS ||
	    f->nsaving > ADVICE_MAX_SAVING)
		return false;
	f->severity = (enum advice_severity)severity;
	f->id = get_str(c, keys[0], IOTR_FIG_KEY_MAX, false);
	get_str(c, f->summary, sizeof(f->summary) - 1, false);
	get_str(c, f->source, sizeof(f->source) - 1, false);
	get_str(c, f->remedy, sizeof(f->remedy) - 1, false);
	get_str(c, f->saving_basis, sizeof(f->saving_basis) - 1, false);
	for (size_t i = 0; i < f->nevidence; i++)
		if (!get_fig(c, &f->evidence[i], keys[1 + i]))
			return false;
	for (size_t i = 0; i < f->nsaving; i++)
		if (!get_fig(c, &f->saving[i], keys[1 + ADVICE_MAX_FIGS + i]))
			return false;
	return !c->bad;
}

static bool decode_self(struct cur *c, struct iotr_self *s, char *str)
{
	uint64_t at_exit;

	memset(s, 0, sizeof(*s));
	s->stats_full = get_u64(c);
	s->inflight_full = get_u64(c);
	s->rq_no_owner = get_u64(c);
	s->unseen_complete = get_u64(c);
	s->pmu_read_fail = get_u64(c);
	s->prog_missed = get_u64(c);
	s->recovered = get_u64(c);
	s->cgroups_untracked = get_u64(c);
	s->vm_full = get_u64(c);
	s->vms_untracked = get_u64(c);
	s->net_owners_full = get_u64(c);
	at_exit = get_u64(c);
	s->inflight_at_exit = at_exit > INT64_MAX ? -1 : (int64_t)at_exit;
	s->net_off = get_str(c, str, IOTR_STR_MAX, true);
	/* Minor 1's fields; a minor 0 record ends here. */
	if (!c->bad && c->n - c->off >= 6 * sizeof(uint64_t)) {
		s->has_v1 = true;
		s->blk_dev_full = get_u64(c);
		s->devices_untracked = get_u64(c);
		s->pruned = get_u64(c);
		s->evicted = get_u64(c);
		s->bpf_run_ns = get_u64(c);
		s->bpf_runs = get_u64(c);
		s->bpf_stats = s->bpf_run_ns != UINT64_MAX && s->bpf_runs != UINT64_MAX;
		if (!s->bpf_stats)
			s->bpf_run_ns = s->bpf_runs = 0;
	}
	return !c->bad;
}

/* ---- Framing ---- */

size_t iotr_encode_header(const struct iotr_info *info, uint8_t *out)
{
	struct buf b = { 0 };
	size_t n;

	put_bytes(&b, iotr_file_magic, IOTR_MAGIC_LEN);
	put_u16(&b, IOTR_MAJOR);
	put_u16(&b, IOTR_MINOR);
	put_u32(&b, 0); /* length, below */
	put_u32(&b, 0); /* flags: none defined in 1.0 */
	put_u64(&b, info->created_ns);
	put_u64(&b, info->tsc_hz);
	put_str(&b, info->hostname ? info->hostname : "", IOTR_HOSTNAME_MAX);
	put_str(&b, info->version ? info->version : "", IOTR_VERSION_MAX);
	put_str(&b, info->cycles_source ? info->cycles_source : "", IOTR_SOURCE_MAX);
	if (b.oom) {
		free(b.p);
		return 0;
	}
	/* The bounds above keep it far below IOTR_HEADER_MAX. */
	n = b.len + 4;
	le32_put(b.p + 12, n);
	memcpy(out, b.p, b.len);
	le32_put(out + b.len, crc(out, b.len));
	free(b.p);
	return n;
}

int iotr_encode_block(const void *payload, size_t len, uint32_t nrec, uint32_t seq,
		      uint64_t first_ns, uint64_t last_ns, uint8_t **out, size_t *outlen)
{
	uLongf clen;
	uint8_t *p;

	if (len > IOTR_BLOCK_MAX)
		return -EMSGSIZE;
	clen = compressBound(len);
	p = malloc(IOTR_BLOCK_HDR_LEN + clen);
	if (!p)
		return -ENOMEM;
	if (compress2(p + IOTR_BLOCK_HDR_LEN, &clen, payload, len, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(p);
		return -ENOMEM; /* the only way compress2 fails with a bound-sized buffer */
	}
	memcpy(p, iotr_block_magic, IOTR_MAGIC_LEN);
	le32_put(p + 8, clen);
	le32_put(p + 12, len);
	le32_put(p + 16, nrec);
	le32_put(p + 20, seq);
	le64_put(p + 24, first_ns);
	le64_put(p + 32, last_ns);
	le32_put(p + 40, crc(p + IOTR_BLOCK_HDR_LEN, clen));
	le32_put(p + 44, crc(p, 44));
	*out = p;
	*outlen = IOTR_BLOCK_HDR_LEN + clen;
	return 0;
}

/* ---- Writer ---- */

struct iotr_writer {
	int fd;
	unsigned int flags;
	int err; /* sticky -errno after a failed write */
	struct buf blk; /* records of the block being built */
	struct buf rec; /* one record's body */
	uint32_t nrec, seq;
	uint64_t first_ns, last_ns;
	bool have_ivl;
	struct iotr_interval ivl; /* the interval rows are going to */
	off_t good_end; /* end of the last whole block */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= k;
	}
	return 0;
}

int iotr_writer_open(struct iotr_writer **out, const char *path, const struct iotr_info *info,
		     unsigned int flags)
{
	struct iotr_info in = info ? *info : (struct iotr_info){ 0 };
	uint8_t hdr[IOTR_HEADER_MAX];
	char host[IOTR_HOSTNAME_MAX + 1];
	struct iotr_writer *w;
	struct timespec now;
	size_t n;
	int err;

	if (!in.created_ns) {
		clock_gettime(CLOCK_REALTIME, &now);
		in.created_ns = ts_ns(&now);
	}
	if (!in.hostname) {
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		in.hostname = host;
	}
	n = iotr_encode_header(&in, hdr);
	if (!n)
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->flags = flags;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		err = -errno;
		free(w);
		return err;
	}
	err = write_all(w->fd, hdr, n);
	if (!err && (flags & IOTR_W_SYNC) && fdatasync(w->fd) < 0)
		err = -errno;
	if (err) {
		close(w->fd);
		free(w);
		return err;
	}
	w->good_end = n;
	*out = w;
	return 0;
}

uint32_t iotr_writer_blocks(const struct iotr_writer *w)
{
	return w->seq;
}

int iotr_writer_flush(struct iotr_writer *w)
{
	uint8_t *blk;
	size_t len;
	int err;

	if (w->err)
		return w->err;
	if (!w->nrec)
		return 0;
	if (w->blk.oom)
		return w->err = -ENOMEM;
	err = iotr_encode_block(w->blk.p, w->blk.len, w->nrec, w->seq, w->first_ns, w->last_ns,
				&blk, &len);
	if (err)
		return w->err = err;
	/*
	 * One write of header and payload: a kill leaves the file ending on a
	 * whole block or one torn block, which the reader reports and skips.
	 */
	err = write_all(w->fd, blk, len);
	free(blk);
	if (err) {
		/* Do not leave a torn block for later blocks to follow. */
		if (ftruncate(w->fd, w->good_end) == 0)
			lseek(w->fd, w->good_end, SEEK_SET);
		return w->err = err;
	}
	if ((w->flags & IOTR_W_SYNC) && fdatasync(w->fd) < 0)
		return w->err = -errno;
	w->good_end += len;
	w->seq++;
	w->blk.len = 0;
	w->nrec = 0;
	w->first_ns = w->last_ns = 0;
	return 0;
}

/* Append a record header and body to the block; no continuation logic. */
static int append(struct iotr_writer *w, uint16_t type, const void *body, size_t len)
{
	int err;

	if (len > IOTR_BLOCK_MAX - IOTR_REC_HDR_LEN)
		return -EMSGSIZE;
	if (w->blk.len + IOTR_REC_HDR_LEN + len > IOTR_BLOCK_MAX) {
		err = iotr_writer_flush(w);
		if (err)
			return err;
	}
	put_u16(&w->blk, type);
	put_u32(&w->blk, len);
	put_bytes(&w->blk, body, len);
	if (w->blk.oom)
		return w->err = -ENOMEM;
	w->nrec++;
	return 0;
}

static int append_interval(struct iotr_writer *w, uint32_t flags)
{
	uint8_t body[INTERVAL_BODY_LEN];
	int err;

	le64_put(body, w->ivl.ts_ns);
	le64_put(body + 8, w->ivl.interval_ns);
	le32_put(body + 16, flags);
	err = append(w, IOTR_REC_INTERVAL, body, sizeof(body));
	if (err)
		return err;
	if (!w->first_ns)
		w->first_ns = w->ivl.ts_ns;
	w->last_ns = w->ivl.ts_ns;
	return 0;
}

/* A row record: its block must start with the interval it belongs to. */
static int append_row(struct iotr_writer *w, uint16_t type)
{
	int err;

	if (w->rec.oom)
		return w->err = -ENOMEM;
	if (w->blk.len + IOTR_REC_HDR_LEN + w->rec.len > IOTR_BLOCK_MAX) {
		err = iotr_writer_flush(w);
		if (err)
			return err;
	}
	if (w->blk.len == 0 && w->have_ivl) {
		err = append_interval(w, w->ivl.flags | IOTR_IVL_CONTINUED);
		if (err)
			return err;
	}
	err = append(w, type, w->rec.p, w->rec.len);
	if (err)
		return err;
	return w->blk.len >= IOTR_BLOCK_TARGET ? iotr_writer_flush(w) : 0;
}

int iotr_write_interval(struct iotr_writer *w, const struct iotr_interval *iv)
{
	if (w->err)
		return w->err;
	w->ivl = *iv;
	w->ivl.flags &= ~IOTR_IVL_CONTINUED;
	w->have_ivl = true;
	return append_interval(w, w->ivl.flags);
}

int iotr_write_workload(struct iotr_writer *w, const struct iotr_workload *wl)
{
	if (w->err)
		return w->err;
	if (wl->lat_slots > IOTR_HIST_MAX || (wl->lat_slots && !wl->lat_hist))
		return -EINVAL;
	w->rec.len = 0;
	encode_workload(&w->rec, wl);
	return append_row(w, IOTR_REC_WORKLOAD);
}

int iotr_write_self(struct iotr_writer *w, const struct iotr_self *s)
{
	if (w->err)
		return w->err;
	w->rec.len = 0;
	encode_self(&w->rec, s);
	return append_row(w, IOTR_REC_SELF);
}

static void put_fig(struct buf *b, const struct advice_fig *g)
{
	uint64_t bits;

	memcpy(&bits, &g->num, sizeof(bits));
	put_str(b, g->key, IOTR_FIG_KEY_MAX);
	put_u8(b, (uint8_t)g->type);
	put_u8(b, (uint8_t)g->prec);
	put_u64(b, bits);
	put_str(b, g->type == ADVICE_FIG_STR ? g->str : NULL, sizeof(g->str) - 1);
}

/* The field order is the format's (docs/recording-format.md); decode_finding mirrors it. */
static void encode_finding(struct buf *b, const struct advice_finding *f)
{
	put_u8(b, (uint8_t)f->severity);
	put_u8(b, (uint8_t)f->nevidence);
	put_u8(b, (uint8_t)f->nsaving);
	put_str(b, f->id, IOTR_FIG_KEY_MAX);
	put_str(b, f->summary, sizeof(f->summary) - 1);
	put_str(b, f->source, sizeof(f->source) - 1);
	put_str(b, f->remedy, sizeof(f->remedy) - 1);
	put_str(b, f->saving_basis, sizeof(f->saving_basis) - 1);
	for (size_t i = 0; i < f->nevidence; i++)
		put_fig(b, &f->evidence[i]);
	for (size_t i = 0; i < f->nsaving; i++)
		put_fig(b, &f->saving[i]);
}

int iotr_write_finding(struct iotr_writer *w, const struct advice_finding *f)
{
	if (w->err)
		return w->err;
	if (f->nevidence > ADVICE_MAX_FIGS || f->nsaving > ADVICE_MAX_SAVING || !f->id)
		return -EINVAL;
	w->rec.len = 0;
	encode_finding(&w->rec, f);
	return append_row(w, IOTR_REC_FINDING);
}

int iotr_write_raw(struct iotr_writer *w, uint16_t type, const void *body, size_t len)
{
	if (w->err)
		return w->err;
	/* Half a block at most, so that it always fits after an interval. */
	if (len > IOTR_BLOCK_MAX / 2)
		return -EMSGSIZE;
	w->rec.len = 0;
	put_bytes(&w->rec, body, len);
	return append_row(w, type);
}

int iotr_writer_close(struct iotr_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = iotr_writer_flush(w);
	if (!err && (w->flags & IOTR_W_SYNC) && fsync(w->fd) < 0)
		err = -errno;
	if (close(w->fd) < 0 && !err)
		err = -errno;
	free(w->blk.p);
	free(w->rec.p);
	free(w);
	return err;
}

/* ---- Reader ---- */

#define SCAN_CHUNK 65536

struct iotr_reader {
	int fd; /* -1 for a buffer */
	const uint8_t *mem;
	uint64_t size; /* as at open: a recording still growing is read up to there */
	uint64_t pos; /* where the next block is looked for */
	struct iotr_header hdr;

	uint8_t *cbuf, *ubuf, *scan;
	size_t ccap, ucap;

	bool in_block;
	struct iotr_block cur;
	size_t rpos; /* in ubuf */
	uint32_t seen; /* records of the block walked */

	bool have_seq, damaged; /* damaged: since the last good block */
	uint32_t next_seq;

	struct iotr_damage dmg[IOTR_DAMAGE_KEEP];
	size_t ndmg;
	struct iotr_stats st;
	char err[256];

	char str[4][IOTR_STR_MAX + 1];
	uint64_t hist[IOTR_HIST_MAX];
	/* A finding's id and its figures' names. */
	char keys[1 + ADVICE_MAX_FIGS + ADVICE_MAX_SAVING][IOTR_FIG_KEY_MAX + 1];
};

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static void damage(struct iotr_reader *r, enum iotr_damage_kind kind, uint64_t off, uint64_t len,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void damage(struct iotr_reader *r, enum iotr_damage_kind kind, uint64_t off, uint64_t len,
		   const char *fmt, ...)
{
	va_list ap;

	r->st.damage++;
	r->st.bytes_skipped += len;
	switch (kind) {
	case IOTR_DMG_CORRUPT:
		r->st.blocks_skipped++;
		break;
	case IOTR_DMG_TRUNCATED:
		r->st.truncated = true;
		r->st.truncated_at = off;
		break;
	case IOTR_DMG_RECORD:
		r->st.records_bad++;
		break;
	case IOTR_DMG_MISSING:
		r->st.gaps++;
		break;
	default:
		break;
	}
	if (kind != IOTR_DMG_RECORD && kind != IOTR_DMG_MISSING)
		r->damaged = true;
	if (r->ndmg < IOTR_DAMAGE_KEEP) {
		struct iotr_damage *d = &r->dmg[r->ndmg++];

		d->kind = kind;
		d->offset = off;
		d->length = len;
		va_start(ap, fmt);
		vsnprintf(d->what, sizeof(d->what), fmt, ap);
		va_end(ap);
	}
}

/* Up to n bytes at off; fewer only at the end of the source; or -errno. */
static ssize_t src_read(struct iotr_reader *r, uint64_t off, void *dst, size_t n)
{
	size_t got = 0;

	if (off >= r->size)
		return 0;
	if (n > r->size - off)
		n = r->size - off;
	if (r->mem) {
		memcpy(dst, r->mem + off, n);
		return n;
	}
	while (got < n) {
		ssize_t k = pread(r->fd, (uint8_t *)dst + got, n - got, off + got);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break; /* the file shrank under us */
		got += k;
	}
	return got;
}

static int read_fail(struct iotr_reader *r, ssize_t e, uint64_t off)
{
	snprintf(r->err, sizeof(r->err), "read error at offset %llu: %s", (unsigned long long)off,
		 strerror((int)-e));
	return (int)e;
}

/* Offset of the next block magic at or after from; r->size when none. */
static int64_t find_magic(struct iotr_reader *r, uint64_t from)
{
	while (from < r->size && r->size - from >= IOTR_MAGIC_LEN) {
		const uint8_t *p, *hit;
		ssize_t n;

		if (r->mem) {
			p = r->mem + from;
			n = r->size - from;
		} else {
			n = src_read(r, from, r->scan, SCAN_CHUNK);
			if (n < 0)
				return read_fail(r, n, from);
			p = r->scan;
		}
		if (n < IOTR_MAGIC_LEN)
			break;
		hit = memmem(p, n, iotr_block_magic, IOTR_MAGIC_LEN);
		if (hit)
			return from + (hit - p);
		/* Keep the last 7 bytes: a magic may straddle two chunks. */
		from += n - (IOTR_MAGIC_LEN - 1);
	}
	return r->size;
}

static uint32_t clen_max(void)
{
	return compressBound(IOTR_BLOCK_MAX);
}

static bool grow(uint8_t **p, size_t *cap, size_t n)
{
	uint8_t *q;

	if (*cap >= n)
		return true;
	q = realloc(*p, n);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static int open_common(struct iotr_reader *r, char *err, size_t errlen)
{
	uint8_t h[IOTR_HEADER_MAX];
	uint16_t major, minor;
	uint32_t hlen, flags;
	struct cur c;
	ssize_t n;

	n = src_read(r, 0, h, sizeof(h));
	if (n < 0) {
		set_err(err, errlen, "cannot read: %s", strerror((int)-n));
		return (int)n;
	}
	if (n == 0) {
		set_err(err, errlen, "empty file, not an iotrace recording");
		return -EINVAL;
	}
	if (memcmp(h, iotr_file_magic, n < IOTR_MAGIC_LEN ? n : IOTR_MAGIC_LEN)) {
		set_err(err, errlen, "not an iotrace recording");
		return -EINVAL;
	}
	if (n < 16) {
		set_err(err, errlen, "truncated recording header (%zd bytes)", n);
		return -EBADMSG;
	}
	/* Magic, major and minor stay where they are in every format version. */
	major = le16_get(h + 8);
	minor = le16_get(h + 10);
	if (major > IOTR_MAJOR) {
		set_err(err, errlen,
			"written by a newer iotrace (format %u), this one reads up to %u", major,
			IOTR_MAJOR);
		return -EPROTONOSUPPORT;
	}
	if (major == 0) {
		set_err(err, errlen, "recording header is corrupt (format 0)");
		return -EBADMSG;
	}
	hlen = le32_get(h + 12);
	if (hlen < HDR_MIN_LEN || hlen > IOTR_HEADER_MAX) {
		set_err(err, errlen, "recording header is corrupt (length %u)", hlen);
		return -EBADMSG;
	}
	if (hlen > n) {
		set_err(err, errlen, "truncated recording header (%zd of %u bytes)", n, hlen);
		return -EBADMSG;
	}
	if (crc(h, hlen - 4) != le32_get(h + hlen - 4)) {
		set_err(err, errlen, "recording header is corrupt (checksum mismatch)");
		return -EBADMSG;
	}
	flags = le32_get(h + 16);
	if (flags & HDR_FLAGS_INCOMPAT) {
		set_err(err, errlen,
			"recording uses features this iotrace does not know (flags 0x%x), "
			"a newer iotrace wrote it",
			flags & HDR_FLAGS_INCOMPAT);
		return -EPROTONOSUPPORT;
	}
	c = (struct cur){ .p = h, .n = hlen - 4, .off = 20 };
	r->hdr.major = major;
	r->hdr.minor = minor;
	r->hdr.flags = flags;
	r->hdr.created_ns = get_u64(&c);
	r->hdr.tsc_hz = get_u64(&c);
	get_str(&c, r->hdr.hostname, IOTR_HOSTNAME_MAX, false);
	get_str(&c, r->hdr.version, IOTR_VERSION_MAX, false);
	get_str(&c, r->hdr.cycles_source, IOTR_SOURCE_MAX, false);
	/* Bytes after the known fields are a later minor's: ignored. */
	if (c.bad) {
		set_err(err, errlen, "recording header is malformed");
		return -EBADMSG;
	}
	r->pos = hlen;
	return 0;
}

static struct iotr_reader *reader_new(void)
{
	struct iotr_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->fd = -1;
	return r;
}

int iotr_reader_open_mem(struct iotr_reader **out, const void *buf, size_t len, char *err,
			 size_t errlen)
{
	struct iotr_reader *r = reader_new();
	static const uint8_t none[1];
	int e;

	if (!r) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->mem = buf ? buf : none;
	r->size = buf ? len : 0;
	e = open_common(r, err, errlen);
	if (e) {
		iotr_reader_close(r);
		return e;
	}
	*out = r;
	return 0;
}

int iotr_reader_open(struct iotr_reader **out, const char *path, char *err, size_t errlen)
{
	struct iotr_reader *r = reader_new();
	struct stat st;
	int e;

	if (!r) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		e = -errno;
		set_err(err, errlen, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (fstat(r->fd, &st) < 0) {
		e = -errno;
		set_err(err, errlen, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		e = -EINVAL;
		set_err(err, errlen, "not a regular file");
		goto fail;
	}
	r->size = st.st_size;
	r->scan = malloc(SCAN_CHUNK);
	if (!r->scan) {
		e = -ENOMEM;
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	e = open_common(r, err, errlen);
	if (e)
		goto fail;
	*out = r;
	return 0;
fail:
	iotr_reader_close(r);
	return e;
}

void iotr_reader_close(struct iotr_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->cbuf);
	free(r->ubuf);
	free(r->scan);
	free(r);
}

const struct iotr_header *iotr_reader_header(const struct iotr_reader *r)
{
	return &r->hdr;
}

const struct iotr_stats *iotr_reader_stats(const struct iotr_reader *r)
{
	return &r->st;
}

size_t iotr_reader_ndamage(const struct iotr_reader *r)
{
	return r->ndmg;
}

const struct iotr_damage *iotr_reader_damage(const struct iotr_reader *r, size_t i)
{
	return i < r->ndmg ? &r->dmg[i] : NULL;
}

const char *iotr_reader_error(const struct iotr_reader *r)
{
	return r->err;
}

/* Skip from off to the next block magic at or after from, as one damage. */
static int skip_to_magic(struct iotr_reader *r, enum iotr_damage_kind kind, uint64_t off,
			 uint64_t from, const char *why)
{
	int64_t next = find_magic(r, from);

	if (next < 0)
		return (int)next;
	if (kind == IOTR_DMG_GARBAGE)
		damage(r, kind, off, next - off, "%llu bytes that are not a block (%s)",
		       (unsigned long long)(next - off), why);
	else
		damage(r, kind, off, next - off, "%s", why);
	r->pos = next;
	return 0;
}

int iotr_reader_next_block(struct iotr_reader *r, struct iotr_block *b)
{
	uint8_t h[IOTR_BLOCK_HDR_LEN];
	char why[128];
	int e;

	r->in_block = false;
	for (;;) {
		uint64_t off = r->pos, avail, end;
		uint32_t clen, ulen, nrec, seq;
		uLongf dlen;
		uLong slen;
		ssize_t n;
		int z;

		if (off >= r->size)
			return 0;
		avail = r->size - off;
		n = src_read(r, off, h, sizeof(h));
		if (n < 0)
			return read_fail(r, n, off);
		if (n < IOTR_BLOCK_HDR_LEN) {
			size_t m = n < IOTR_MAGIC_LEN ? n : IOTR_MAGIC_LEN;

			if (!memcmp(h, iotr_block_magic, m)) {
				/* The writer was stopped while writing this block. */
				damage(r, IOTR_DMG_TRUNCATED, off, n,
				       "last block cut short: %zd of %d header bytes", n,
				       IOTR_BLOCK_HDR_LEN);
				r->pos = r->size;
				return 0;
			}
			e = skip_to_magic(r, IOTR_DMG_GARBAGE, off, off + 1, "no block header");
			if (e)
				return e;
			continue;
		}
		if (memcmp(h, iotr_block_magic, IOTR_MAGIC_LEN)) {
			e = skip_to_magic(r, IOTR_DMG_GARBAGE, off, off + 1, "no block magic");
			if (e)
				return e;
			continue;
		}
		if (crc(h, 44) != le32_get(h + 44)) {
			/* Nothing in it can be trusted, its lengths least of all. */
			e = skip_to_magic(r, IOTR_DMG_CORRUPT, off, off + 1,
					  "block header checksum mismatch");
			if (e)
				return e;
			continue;
		}
		clen = le32_get(h + 8);
		ulen = le32_get(h + 12);
		nrec = le32_get(h + 16);
		seq = le32_get(h + 20);
		if (!clen || clen > clen_max() || ulen > IOTR_BLOCK_MAX || !nrec ||
		    nrec > ulen / IOTR_REC_HDR_LEN) {
			snprintf(why, sizeof(why),
				 "block lengths out of bounds (compressed %u, uncompressed %u, %u "
				 "records)",
				 clen, ulen, nrec);
			e = skip_to_magic(r, IOTR_DMG_CORRUPT, off, off + IOTR_BLOCK_HDR_LEN, why);
			if (e)
				return e;
			continue;
		}
		if (clen > avail - IOTR_BLOCK_HDR_LEN) {
			damage(r, IOTR_DMG_TRUNCATED, off, avail,
			       "last block cut short: %llu of %u bytes", (unsigned long long)avail,
			       IOTR_BLOCK_HDR_LEN + clen);
			r->pos = r->size;
			return 0;
		}
		end = off + IOTR_BLOCK_HDR_LEN + clen;
		if (!grow(&r->cbuf, &r->ccap, clen)) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			return -ENOMEM;
		}
		n = src_read(r, off + IOTR_BLOCK_HDR_LEN, r->cbuf, clen);
		if (n < 0)
			return read_fail(r, n, off + IOTR_BLOCK_HDR_LEN);
		if ((size_t)n < clen) {
			damage(r, IOTR_DMG_TRUNCATED, off, IOTR_BLOCK_HDR_LEN + n,
			       "last block cut short: %llu of %u bytes",
			       (unsigned long long)(IOTR_BLOCK_HDR_LEN + n),
			       IOTR_BLOCK_HDR_LEN + clen);
			r->pos = r->size;
			return 0;
		}
		if (crc(r->cbuf, clen) != le32_get(h + 40)) {
			e = skip_to_magic(r, IOTR_DMG_CORRUPT, off, end,
					  "payload checksum mismatch");
			if (e)
				return e;
			continue;
		}
		if (!grow(&r->ubuf, &r->ucap, ulen ? ulen : 1)) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			return -ENOMEM;
		}
		dlen = ulen;
		slen = clen;
		z = uncompress2(r->ubuf, &dlen, r->cbuf, &slen);
		if (z != Z_OK || dlen != ulen || slen != clen) {
			if (z != Z_OK)
				snprintf(why, sizeof(why), "payload does not decompress (zlib: %s)",
					 z == Z_BUF_ERROR ?
						 "output overruns its length or input ends early" :
						 zError(z));
			else
				snprintf(
					why, sizeof(why),
					"payload decompresses to %lu bytes from %lu, header says %u "
					"from %u",
					(unsigned long)dlen, (unsigned long)slen, ulen, clen);
			e = skip_to_magic(r, IOTR_DMG_CORRUPT, off, end, why);
			if (e)
				return e;
			continue;
		}
		/* A jump with nothing skipped on the way: blocks were cut out. */
		if (r->have_seq && seq != r->next_seq && !r->damaged)
			damage(r, IOTR_DMG_MISSING, off, 0, "block %u follows block %u", seq,
			       r->next_seq - 1);
		r->have_seq = true;
		r->next_seq = seq + 1;
		r->damaged = false;

		r->cur = (struct iotr_block){
			.offset = off,
			.seq = seq,
			.nrec = nrec,
			.clen = clen,
			.ulen = ulen,
			.first_ns = le64_get(h + 24),
			.last_ns = le64_get(h + 32),
		};
		r->pos = end;
		r->in_block = true;
		r->rpos = 0;
		r->seen = 0;
		r->st.blocks++;
		if (b)
			*b = r->cur;
		return 1;
	}
}

int iotr_reader_next_record(struct iotr_reader *r, struct iotr_record *rec)
{
	while (r->in_block) {
		size_t left = r->cur.ulen - r->rpos, at = r->rpos;
		uint16_t type;
		uint32_t len;
		struct cur c;
		bool ok;

		if (left == 0) {
			r->in_block = false;
			if (r->seen != r->cur.nrec)
				damage(r, IOTR_DMG_RECORD, r->cur.offset, 0,
				       "block holds %u records, header says %u", r->seen,
				       r->cur.nrec);
			return 0;
		}
		if (left < IOTR_REC_HDR_LEN ||
		    le32_get(r->ubuf + at + 2) > left - IOTR_REC_HDR_LEN) {
			/* Record boundaries are lost: the rest of the block goes. */
			damage(r, IOTR_DMG_RECORD, r->cur.offset, 0,
			       "record at payload byte %zu overruns its block; %zu bytes dropped",
			       at, left);
			r->in_block = false;
			return 0;
		}
		type = le16_get(r->ubuf + at);
		len = le32_get(r->ubuf + at + 2);
		r->rpos = at + IOTR_REC_HDR_LEN + len;
		r->seen++;
		c = (struct cur){ .p = r->ubuf + at + IOTR_REC_HDR_LEN, .n = len };
		memset(rec, 0, sizeof(*rec));
		rec->type = type;
		/* Bytes after the known fields are a later minor's: ignored. */
		switch (type) {
		case IOTR_REC_INTERVAL:
			ok = decode_interval(&c, &rec->interval);
			break;
		case IOTR_REC_WORKLOAD:
			ok = decode_workload(&c, &rec->wl, r->hist, r->str);
			break;
		case IOTR_REC_SELF:
			ok = decode_self(&c, &rec->self, r->str[0]);
			break;
		case IOTR_REC_FINDING:
			ok = decode_finding(&c, &rec->finding, r->keys);
			break;
		default:
			r->st.records_unknown++;
			continue;
		}
		if (!ok) {
			damage(r, IOTR_DMG_RECORD, r->cur.offset, 0,
			       "malformed record of type %u at payload byte %zu", type, at);
			continue;
		}
		r->st.records++;
		return 1;
	}
	return 0;
}

void iotr_reader_summary(const struct iotr_reader *r, char *buf, size_t len)
{
	const struct iotr_stats *s = &r->st;
	size_t n;

#define APPEND(...)                                                   \
	do {                                                          \
		if (n < len)                                          \
			n += snprintf(buf + n, len - n, __VA_ARGS__); \
	} while (0)

	if (!len)
		return;
	n = 0;
	APPEND("read %llu blocks, %llu records", (unsigned long long)s->blocks,
	       (unsigned long long)s->records);
	if (s->records_unknown)
		APPEND(" (%llu records of newer types skipped)",
		       (unsigned long long)s->records_unknown);
	if (s->blocks_skipped)
		APPEND("; skipped %llu corrupt block%s", (unsigned long long)s->blocks_skipped,
		       s->blocks_skipped == 1 ? "" : "s");
	if (s->bytes_skipped)
		APPEND("; %llu bytes unreadable", (unsigned long long)s->bytes_skipped);
	if (s->records_bad)
		APPEND("; %llu malformed records skipped", (unsigned long long)s->records_bad);
	if (s->gaps)
		APPEND("; %llu gap%s in the block sequence", (unsigned long long)s->gaps,
		       s->gaps == 1 ? "" : "s");
	if (s->truncated)
		APPEND("; last block truncated at offset %llu (the recording was cut short)",
		       (unsigned long long)s->truncated_at);
#undef APPEND
}
