// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writers of the `iotrace record` line contract: JSON lines or CSV.
 *
 * JSON: one object per line, keys always present and always in the same
 * order; a value that is unknown or meaningless (no I/O in the interval) is
 * null, never NaN or Infinity.  Strings are escaped so that the output is
 * valid UTF-8 JSON whatever bytes a cgroup or container name holds.
 *
 * CSV: RFC 4180, the same columns as the JSON keys flattened with dots
 * (lists and maps, such as block.devices and a VM's exits by reason, have
 * no columns).
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

#include "advice_out.h"
#include "output.h"

#define CSV_EOL "\n"

static const char csv_header[] =
	"type,ts,interval_s,workload.kind,workload.cgroup_id,workload.cgroup_path,"
	"workload.runtime,workload.container_id,workload.name,cpu.ns,cpu.cycles,"
	"cpu.cycles_source,block.read_ops,block.write_ops,block.read_bytes,"
	"block.write_bytes,block.lat_p50_us,block.lat_p99_us,derived.iops,"
	"derived.cycles_per_io,workload.pid,workload.vm_name,workload.vm_uuid,cpu.guest_ns,"
	"cpu.host_ns,kvm.exits_source,kvm.exits,kvm.userspace_exits,kvm.pio_exits,"
	"kvm.mmio_exits,kvm.exit_handling_ns,derived.exits_per_io,derived.host_cycles_per_io,"
	"net.tx_packets,net.tx_bytes,net.rx_packets,net.rx_bytes,net.softirq_ns,"
	"derived.cycles_per_packet,derived.cycles_per_byte,block.unfinished_read_ops,"
	"block.unfinished_write_ops,block.unfinished_read_bytes,block.unfinished_write_bytes,"
	"findings";

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

static void json_counts(FILE *f, const char *key, const struct out_count *c, size_t n)
{
	fprintf(f, ",\"%s\":{", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_str(f, c[i].name);
		fprintf(f, ":%" PRIu64, c[i].n);
	}
	fputc('}', f);
}

static void json_vm_kvm(FILE *f, const struct out_vm *vm)
{
	fputs(",\"kvm\":{\"exits_source\":", f);
	json_str(f, vm->exits_source);
	fprintf(f, ",\"exits\":%" PRIu64, vm->exits);
	json_counts(f, "exits_by_reason", vm->exits_by_reason, vm->n_exits_by_reason);
	fprintf(f,
		",\"userspace_exits\":%" PRIu64 ",\"pio_exits\":%" PRIu64 ",\"mmio_exits\":%" PRIu64
		",\"exit_handling_ns\":",
		vm->userspace_exits, vm->pio_exits, vm->mmio_exits);
	if (vm->exit_handling_ns < 0)
		fputs("null", f);
	else
		fprintf(f, "%" PRId64, vm->exit_handling_ns);
	json_counts(f, "userspace_exits_by_reason", vm->userspace_exits_by_reason,
		    vm->n_userspace_exits_by_reason);
	json_counts(f, "pio_exits_by_port", vm->pio_ports, vm->n_pio_ports);
	json_counts(f, "mmio_exits_by_page", vm->mmio_pages, vm->n_mmio_pages);
	fputs("},\"threads\":[", f);
	for (size_t i = 0; i < vm->nroles; i++) {
		const struct out_vm_role *r = &vm->roles[i];

		fprintf(f, "%s{\"role\":", i ? "," : "");
		json_str(f, r->role);
		fprintf(f,
			",\"threads\":%u,\"cpu_ns\":%" PRIu64 ",\"guest_ns\":%" PRIu64
			",\"read_ops\":%" PRIu64 ",\"write_ops\":%" PRIu64
			",\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64
			",\"migrations\":%" PRIu64,
			r->threads, r->cpu_ns, r->guest_ns, r->read_ops, r->write_ops,
			r->read_bytes, r->write_bytes, r->migrations);
		if (r->runq_wait_ns < 0)
			fputs(",\"runq_wait_ns\":null,\"runq_waits\":null}", f);
		else
			fprintf(f, ",\"runq_wait_ns\":%" PRId64 ",\"runq_waits\":%" PRId64 "}",
				r->runq_wait_ns, r->runq_waits);
	}
	fputc(']', f);
}

static void json_devices(FILE *f, const char *key, bool present, const struct out_blk_dev *d,
			 size_t n)
{
	fprintf(f, ",\"%s\":", key);
	if (!present) {
		fputs("null", f);
		return;
	}
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"dev\":\"%u:%u\",\"name\":", i ? "," : "", d[i].major, d[i].minor);
		json_str(f, d[i].name[0] ? d[i].name : NULL);
		fprintf(f,
			",\"read_ops\":%" PRIu64 ",\"write_ops\":%" PRIu64
			",\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64 "}",
			d[i].read_ops, d[i].write_ops, d[i].read_bytes, d[i].write_bytes);
	}
	fputc(']', f);
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
	if (r->vm) {
		fprintf(f, ",\"pid\":%d,\"vm_name\":", r->vm->pid);
		json_str(f, r->vm->vm_name);
		fputs(",\"vm_uuid\":", f);
		json_str(f, r->vm->vm_uuid);
	}

	fprintf(f, "},\"cpu\":{\"ns\":%" PRIu64 ",\"cycles\":%" PRIu64 ",\"cycles_source\":",
		r->cpu_ns, r->cycles);
	json_str(f, r->cycles_source);
	if (r->vm)
		fprintf(f, ",\"guest_ns\":%" PRIu64 ",\"host_ns\":%" PRIu64, r->vm->guest_ns,
			r->vm->host_ns);

	fprintf(f,
		"},\"block\":{\"read_ops\":%" PRIu64 ",\"write_ops\":%" PRIu64
		",\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64 ",\"lat_p50_us\":",
		r->read_ops, r->write_ops, r->read_bytes, r->write_bytes);
	json_num(f, r->lat_p50_us, 3, true);
	fputs(",\"lat_p99_us\":", f);
	json_num(f, r->lat_p99_us, 3, true);
	json_devices(f, "devices", r->devices, r->devices, r->n_devices);
	json_devices(f, "unfinished", r->has_unfinished, r->unfinished, r->n_unfinished);

	fputc('}', f);
	if (r->has_net)
		fprintf(f,
			",\"net\":{\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
			",\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			",\"softirq_ns\":%" PRIu64 "}",
			r->tx_packets, r->tx_bytes, r->rx_packets, r->rx_bytes, r->softirq_ns);
	else
		fputs(",\"net\":null", f);
	if (r->vm)
		json_vm_kvm(f, r->vm);
	fputs(",\"derived\":{\"iops\":", f);
	json_num(f, r->iops, 3, false);
	fputs(",\"cycles_per_io\":", f);
	json_num(f, r->cycles_per_io, 1, true);
	fputs(",\"cycles_per_packet\":", f);
	json_num(f, r->cycles_per_packet, 1, true);
	fputs(",\"cycles_per_byte\":", f);
	json_num(f, r->cycles_per_byte, 3, true);
	if (r->vm) {
		fputs(",\"exits_per_io\":", f);
		json_num(f, r->vm->exits_per_io, 4, true);
		fputs(",\"host_cycles_per_io\":", f);
		json_num(f, r->vm->host_cycles_per_io, 1, true);
	}
	fputs("},\"findings\":", f);
	if (r->has_findings) {
		fputc('[', f);
		for (size_t i = 0; i < r->nfindings; i++) {
			if (i)
				fputc(',', f);
			advice_json_finding(f, &r->findings[i]);
		}
		fputc(']', f);
	} else {
		fputs("null", f);
	}
	fputs("}\n", f);
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

void out_json_str(FILE *f, const char *s)
{
	json_str(f, s);
}

void out_csv_str(FILE *f, const char *s)
{
	csv_str(f, s);
}

static void csv_num(FILE *f, double v, int prec, bool neg_is_null)
{
	if (isfinite(v) && !(neg_is_null && v < 0))
		fprintf(f, "%.*f", prec, v);
}

/* block.unfinished summed over its devices: CSV has no lists. */
static void csv_unfinished(FILE *f, const struct out_row *r)
{
	uint64_t ro = 0, wo = 0, rb = 0, wb = 0;

	if (!r->has_unfinished) {
		fputs(",,,,", f);
		return;
	}
	for (size_t i = 0; i < r->n_unfinished; i++) {
		ro += r->unfinished[i].read_ops;
		wo += r->unfinished[i].write_ops;
		rb += r->unfinished[i].read_bytes;
		wb += r->unfinished[i].write_bytes;
	}
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, ro, wo, rb, wb);
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
	if (r->vm) {
		const struct out_vm *vm = r->vm;

		fprintf(f, ",%d,", vm->pid);
		csv_str(f, vm->vm_name);
		fputc(',', f);
		csv_str(f, vm->vm_uuid);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", vm->guest_ns, vm->host_ns);
		csv_str(f, vm->exits_source);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", vm->exits,
			vm->userspace_exits, vm->pio_exits, vm->mmio_exits);
		if (vm->exit_handling_ns >= 0)
			fprintf(f, "%" PRId64, vm->exit_handling_ns);
		fputc(',', f);
		csv_num(f, vm->exits_per_io, 4, true);
		fputc(',', f);
		csv_num(f, vm->host_cycles_per_io, 1, true);
	} else {
		/* The VM columns, empty. */
		fputs(",,,,,,,,,,,,,", f);
	}
	if (r->has_net)
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			r->tx_packets, r->tx_bytes, r->rx_packets, r->rx_bytes, r->softirq_ns);
	else
		fputs(",,,,,", f);
	fputc(',', f);
	csv_num(f, r->cycles_per_packet, 1, true);
	fputc(',', f);
	csv_num(f, r->cycles_per_byte, 3, true);
	csv_unfinished(f, r);
	/* The findings' ids, space-separated; empty on interval rows and with none. */
	fputc(',', f);
	for (size_t i = 0; r->has_findings && i < r->nfindings; i++)
		fprintf(f, "%s%s", i ? " " : "", r->findings[i].id);
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

/*
 * iotrace's own cost: "bpf":{"stats","run_ns","runs","cpu_pct","programs"}.
 * With the statistics off the figures are null, never 0.
 */
static void json_self_bpf(FILE *f, const struct out_self *s)
{
	if (!s->bpf_stats) {
		fputs(",\"bpf\":{\"stats\":false,\"run_ns\":null,\"runs\":null,\"cpu_pct\":null,"
		      "\"programs\":null}",
		      f);
		return;
	}
	fprintf(f,
		",\"bpf\":{\"stats\":true,\"run_ns\":%" PRIu64 ",\"runs\":%" PRIu64 ",\"cpu_pct\":",
		s->bpf_run_ns, s->bpf_runs);
	json_num(f, s->interval_s > 0 ? s->bpf_run_ns / (s->interval_s * 1e7) : -1, 3, true);
	fputs(",\"programs\":", f);
	if (!s->progs) {
		fputs("null}", f);
		return;
	}
	fputc('[', f);
	for (size_t i = 0; i < s->nprogs; i++) {
		fprintf(f, "%s{\"name\":", i ? "," : "");
		json_str(f, s->progs[i].name);
		fprintf(f, ",\"runs\":%" PRIu64 ",\"run_ns\":%" PRIu64 ",\"ns_per_run\":",
			s->progs[i].runs, s->progs[i].run_ns);
		json_num(f, s->progs[i].runs ? (double)s->progs[i].run_ns / s->progs[i].runs : -1,
			 1, true);
		fputc('}', f);
	}
	fputs("]}", f);
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
		",\"pmu_read_fail\":%" PRIu64 ",\"prog_missed\":%" PRIu64 ",\"vm_full\":%" PRIu64
		",\"blk_dev_full\":%" PRIu64 "},\"recovered\":%" PRIu64
		",\"unattributed\":{\"rq_no_owner\":%" PRIu64 ",\"unseen_complete\":%" PRIu64 "}"
		",\"cgroups_untracked\":%" PRIu64 ",\"vms_untracked\":%" PRIu64
		",\"inflight_at_exit\":",
		s->stats_full, s->inflight_full, s->pmu_read_fail, s->prog_missed, s->vm_full,
		s->blk_dev_full, s->recovered, s->rq_no_owner, s->unseen_complete,
		s->cgroups_untracked, s->vms_untracked);
	if (s->inflight_at_exit < 0)
		fputs("null", w->f);
	else
		fprintf(w->f, "%" PRId64, s->inflight_at_exit);
	fprintf(w->f, ",\"net_owners_full\":%" PRIu64 ",\"net_off\":", s->net_owners_full);
	json_str(w->f, s->net_off);
	fprintf(w->f, ",\"devices_untracked\":%" PRIu64, s->devices_untracked);
	fprintf(w->f, ",\"pruned\":%" PRIu64 ",\"evicted\":%" PRIu64, s->pruned, s->evicted);
	json_self_bpf(w->f, s);
	fputs("}\n", w->f);
	return stream_status(w->f);
}
