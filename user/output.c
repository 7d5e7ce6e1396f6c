// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writers of the `iotrace record` line contract: JSON lines or CSV.
 *
 * JSON: one object per line, keys always present and always in the same
 * order; a value that is unknown or meaningless (no I/O in the interval) is
 * null, never NaN or Infinity.  Strings are escaped so that the output is
 * valid UTF-8 JSON whatever bytes a cgroup or container name holds.
 *
 * CSV: RFC 4180, the same columns as the JSON keys flattened with dots.
 * Records end in LF (every RFC 4180 reader takes it, and Unix tools see no
 * stray CR on the last column).  A field is quoted only when it holds
 * a comma, a double quote, CR or LF, with inner quotes doubled.  Fields are
 * deliberately NOT defused against spreadsheet formula injection (a leading
 * '=', '+', '-' or '@' is written as is): the output is data for programs,
 * and altering values would break round-tripping of cgroup names.
 *
 * Numbers are written with printf, so the process must keep LC_NUMERIC as
 * "C" (iotrace never calls setlocale()).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "output.h"

#define CSV_EOL "\n"

static const char csv_header[] =
	"type,ts,interval_s,workload.kind,workload.cgroup_id,workload.cgroup_path,"
	"workload.runtime,workload.container_id,workload.name,cpu.ns,cpu.cycles,"
	"cpu.cycles_source,block.read_ops,block.write_ops,block.read_bytes,"
	"block.write_bytes,block.lat_p50_us,block.lat_p99_us,derived.iops,"
	"derived.cycles_per_io";

const char *out_csv_header(void)
{
	return csv_header;
}

void out_init(struct out_writer *w, FILE *f, enum out_format fmt)
{
	w->f = f;
	w->fmt = fmt;
	w->header_done = false;
}

void out_format_ts(const struct timespec *ts, char *buf, size_t len)
{
	char date[64];
	struct tm tm;
	time_t sec = ts->tv_sec;
	long ms = ts->tv_nsec / 1000000;

	if (!buf || len == 0)
		return;
	buf[0] = '\0';
	if (ms < 0)
		ms = 0;
	if (ms > 999)
		ms = 999;
	if (!gmtime_r(&sec, &tm))
		return;
	if (!strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
		return;
	snprintf(buf, len, "%s.%03ldZ", date, ms);
}

static const char *row_type_name(enum out_row_type t)
{
	return t == OUT_ROW_SUMMARY ? "summary" : "interval";
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when the byte at s does not
 * start one.  s[0] >= 0x80.
 */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = 0x80, hi = 0xbf;

		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
		if (s[1] < lo || s[1] > hi)
			return 0;
		return (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = 0x80, hi = 0xbf;

		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
		if (s[1] < lo || s[1] > hi)
			return 0;
		if ((s[2] & 0xc0) != 0x80)
			return 0;
		return (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/*
 * A JSON string, or null for NULL.  The checks above stop at the string's
 * NUL: a NUL fails the continuation-byte test, so no read goes past it.
 */
static void json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		size_t n;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, f);
			} else if ((n = utf8_seq_len(s)) != 0) {
				fwrite(s, 1, n, f);
				s += n;
				continue;
			} else {
				/* Not UTF-8: the byte as the code point U+00XX. */
				fprintf(f, "\\u%04x", c);
			}
		}
		s++;
	}
	fputc('"', f);
}

/* A double with `prec` decimals, or null when not finite or when < 0. */
static void json_num(FILE *f, double v, int prec, bool neg_is_null)
{
	if (!isfinite(v) || (neg_is_null && v < 0))
		fputs("null", f);
	else
		fprintf(f, "%.*f", prec, v);
}

/* 0, or -errno (-EIO when the stream does not say why) after a failure. */
static int stream_status(FILE *f)
{
	if (!ferror(f))
		return 0;
	return errno > 0 ? -errno : -EIO;
}

static void json_row(FILE *f, const struct out_row *r)
{
	const struct out_workload *wl = &r->wl;
	const char *cid = wl->container_id && wl->container_id[0] ? wl->container_id : NULL;
	char ts[64];

	out_format_ts(&r->ts, ts, sizeof(ts));
	fprintf(f, "{\"type\":\"%s\",\"ts\":", row_type_name(r->type));
	json_str(f, ts);
	fputs(",\"interval_s\":", f);
	json_num(f, r->interval_s, 3, false);

	fputs(",\"workload\":{\"kind\":", f);
	json_str(f, wl_kind_name(wl->kind));
	fprintf(f, ",\"cgroup_id\":%" PRIu64 ",\"cgroup_path\":", wl->cgroup_id);
	json_str(f, wl->cgroup_path);
	fputs(",\"runtime\":", f);
	json_str(f, wl->runtime);
	fputs(",\"container_id\":", f);
	json_str(f, cid);
	fputs(",\"name\":", f);
	json_str(f, wl->name);

	fprintf(f, "},\"cpu\":{\"ns\":%" PRIu64 ",\"cycles\":%" PRIu64 ",\"cycles_source\":",
		r->cpu_ns, r->cycles);
	json_str(f, r->cycles_source);

	fprintf(f,
		"},\"block\":{\"read_ops\":%" PRIu64 ",\"write_ops\":%" PRIu64
		",\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64 ",\"lat_p50_us\":",
		r->read_ops, r->write_ops, r->read_bytes, r->write_bytes);
	json_num(f, r->lat_p50_us, 3, true);
	fputs(",\"lat_p99_us\":", f);
	json_num(f, r->lat_p99_us, 3, true);

	fputs("},\"derived\":{\"iops\":", f);
	json_num(f, r->iops, 3, false);
	fputs(",\"cycles_per_io\":", f);
	json_num(f, r->cycles_per_io, 1, true);
	fputs("}}\n", f);
}

/* A CSV field; NULL is the empty field. */
static void csv_str(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_num(FILE *f, double v, int prec, bool neg_is_null)
{
	if (isfinite(v) && !(neg_is_null && v < 0))
		fprintf(f, "%.*f", prec, v);
}

static void csv_row(FILE *f, const struct out_row *r)
{
	const struct out_workload *wl = &r->wl;
	char ts[64];

	out_format_ts(&r->ts, ts, sizeof(ts));
	fprintf(f, "%s,%s,", row_type_name(r->type), ts);
	csv_num(f, r->interval_s, 3, false);
	fputc(',', f);
	csv_str(f, wl_kind_name(wl->kind));
	fprintf(f, ",%" PRIu64 ",", wl->cgroup_id);
	csv_str(f, wl->cgroup_path);
	fputc(',', f);
	csv_str(f, wl->runtime);
	fputc(',', f);
	csv_str(f, wl->container_id);
	fputc(',', f);
	csv_str(f, wl->name);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", r->cpu_ns, r->cycles);
	csv_str(f, r->cycles_source);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", r->read_ops, r->write_ops,
		r->read_bytes, r->write_bytes);
	csv_num(f, r->lat_p50_us, 3, true);
	fputc(',', f);
	csv_num(f, r->lat_p99_us, 3, true);
	fputc(',', f);
	csv_num(f, r->iops, 3, false);
	fputc(',', f);
	csv_num(f, r->cycles_per_io, 1, true);
	fputs(CSV_EOL, f);
}

int out_row(struct out_writer *w, const struct out_row *r)
{
	errno = 0;
	if (w->fmt == OUT_CSV) {
		if (!w->header_done) {
			fputs(csv_header, w->f);
			fputs(CSV_EOL, w->f);
			w->header_done = true;
		}
		csv_row(w->f, r);
	} else {
		json_row(w->f, r);
	}
	return stream_status(w->f);
}

int out_self(struct out_writer *w, const struct out_self *s)
{
	char ts[64];

	if (w->fmt != OUT_JSON)
		return 0;
	errno = 0;
	out_format_ts(&s->ts, ts, sizeof(ts));
	fputs("{\"type\":\"self\",\"ts\":", w->f);
	json_str(w->f, ts);
	fputs(",\"interval_s\":", w->f);
	json_num(w->f, s->interval_s, 3, false);
	fprintf(w->f,
		",\"lost\":{\"stats_full\":%" PRIu64 ",\"inflight_full\":%" PRIu64
		",\"pmu_read_fail\":%" PRIu64 ",\"prog_missed\":%" PRIu64 "}"
		",\"recovered\":%" PRIu64 ",\"unattributed\":{\"rq_no_owner\":%" PRIu64
		",\"unseen_complete\":%" PRIu64 "}"
		",\"cgroups_untracked\":%" PRIu64 ",\"inflight_at_exit\":",
		s->stats_full, s->inflight_full, s->pmu_read_fail, s->prog_missed, s->recovered,
		s->rq_no_owner, s->unseen_complete, s->cgroups_untracked);
	if (s->inflight_at_exit < 0)
		fputs("null", w->f);
	else
		fprintf(w->f, "%" PRId64, s->inflight_at_exit);
	fputs("}\n", w->f);
	return stream_status(w->f);
}
