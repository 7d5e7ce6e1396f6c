// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of user/output.c: the `iotrace record` line contract. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <iconv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"

#define JQ "/usr/bin/jq"

/* An in-memory stream and what was written to it. */
struct sink {
	FILE *f;
	char *buf;
	size_t len;
};

static void sink_open(struct sink *s)
{
	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	assert_non_null(s->f);
}

static const char *sink_text(struct sink *s)
{
	assert_int_equal(fflush(s->f), 0);
	return s->buf;
}

static void sink_close(struct sink *s)
{
	fclose(s->f);
	free(s->buf);
}

/* The container's I/O on two devices, one of unknown name. */
static const struct out_blk_dev full_devs[] = {
	{ 7, 0, "loop0", 6, 5, 24576, 20480 },
	{ 259, 1048575, "", 4, 0, 16384, 0 },
};

/* 2026-11-25T02:46:33.123Z, a container with I/O. */
static struct out_row full_row(void)
{
	struct out_row r = {
		.type = OUT_ROW_INTERVAL,
		.ts = { .tv_sec = 1795574793, .tv_nsec = 123999999 },
		.interval_s = 1.0004,
		.wl = {
			.kind = WL_KIND_CONTAINER,
			.cgroup_id = 1234,
			.cgroup_path = "/system.slice/docker-abc.scope",
			.runtime = "docker",
			.container_id = "abc123",
			.name = "web",
		},
		.cpu_ns = 1500000,
		.cycles = 3900000,
		.cycles_source = "tsc-estimate",
		.read_ops = 10,
		.write_ops = 5,
		.read_bytes = 40960,
		.write_bytes = 20480,
		.lat_p50_us = 12.3456,
		.lat_p99_us = 250.5,
		.devices = full_devs,
		.n_devices = 2,
		.has_net = true,
		.tx_packets = 100,
		.tx_bytes = 51200,
		.rx_packets = 200,
		.rx_bytes = 102400,
		.softirq_ns = 3000,
		.iops = 15.0,
		.cycles_per_io = 260000.04,
		.cycles_per_packet = 13000.04,
		.cycles_per_byte = 25.3906,
	};

	return r;
}

/* A plain cgroup without I/O: latencies and cycles per I/O are unknown. */
static struct out_row idle_row(void)
{
	static const struct out_blk_dev none[1];
	static const struct advice_finding fnd[1] = {
		{ .id = "net.nat",
		  .severity = ADVICE_INFO,
		  .summary = "s",
		  .evidence = { { .key = "ratio", .type = ADVICE_FIG_NUM, .num = 1.5, .prec = 2 } },
		  .nevidence = 1,
		  .source = "src",
		  .remedy = "r",
		  .saving_basis = "b" },
	};
	static const struct out_blk_dev unf[1] = {
		{ .major = 7, .minor = 2, .name = "loop2", .read_ops = 1, .read_bytes = 4096 },
	};

	struct out_row r = {
		.type = OUT_ROW_SUMMARY,
		.ts = { .tv_sec = 951868799, .tv_nsec = 5000000 },
		.interval_s = 10.0,
		.wl = {
			.kind = WL_KIND_CGROUP,
			.cgroup_id = 77,
			.cgroup_path = NULL,
			.runtime = NULL,
			.container_id = "",
			.name = "idle",
		},
		.cpu_ns = 0,
		.cycles = 0,
		.cycles_source = "pmu",
		.lat_p50_us = -1,
		.lat_p99_us = -1,
		.devices = none,
		.n_devices = 0,
		.has_unfinished = true,
		.unfinished = unf,
		.n_unfinished = 1,
		.has_findings = true,
		.findings = fnd,
		.nfindings = 1,
		.iops = 0,
		.cycles_per_io = -1,
		.cycles_per_packet = -1,
		.cycles_per_byte = -1,
	};

	return r;
}

static struct out_self self_line(void)
{
	struct out_self s = {
		.ts = { .tv_sec = 1795574793, .tv_nsec = 0 },
		.interval_s = 1.0,
		.stats_full = 1,
		.inflight_full = 2,
		.rq_no_owner = 4,
		.unseen_complete = 5,
		.pmu_read_fail = 6,
		.prog_missed = 7,
		.recovered = 8,
		.cgroups_untracked = UINT64_MAX,
		.vm_full = 10,
		.vms_untracked = 11,
		.inflight_at_exit = 9,
		.net_owners_full = 12,
		.blk_dev_full = 13,
		.devices_untracked = 14,
		.pruned = 15,
		.evicted = 16,
	};

	return s;
}

static const char full_json[] =
	"{\"type\":\"interval\",\"ts\":\"2026-11-25T02:46:33.123Z\",\"interval_s\":1.000,"
	"\"workload\":{\"kind\":\"container\",\"cgroup_id\":1234,"
	"\"cgroup_path\":\"/system.slice/docker-abc.scope\",\"runtime\":\"docker\","
	"\"container_id\":\"abc123\",\"name\":\"web\"},"
	"\"cpu\":{\"ns\":1500000,\"cycles\":3900000,\"cycles_source\":\"tsc-estimate\"},"
	"\"block\":{\"read_ops\":10,\"write_ops\":5,\"read_bytes\":40960,\"write_bytes\":20480,"
	"\"lat_p50_us\":12.346,\"lat_p99_us\":250.500,"
	"\"devices\":[{\"dev\":\"7:0\",\"name\":\"loop0\",\"read_ops\":6,\"write_ops\":5,"
	"\"read_bytes\":24576,\"write_bytes\":20480},"
	"{\"dev\":\"259:1048575\",\"name\":null,\"read_ops\":4,\"write_ops\":0,"
	"\"read_bytes\":16384,\"write_bytes\":0}],\"unfinished\":null},"
	"\"net\":{\"tx_packets\":100,\"tx_bytes\":51200,\"rx_packets\":200,"
	"\"rx_bytes\":102400,\"softirq_ns\":3000},"
	"\"derived\":{\"iops\":15.000,\"cycles_per_io\":260000.0,"
	"\"cycles_per_packet\":13000.0,\"cycles_per_byte\":25.391},\"findings\":null}\n";

static const char idle_json[] =
	"{\"type\":\"summary\",\"ts\":\"2000-02-29T23:59:59.005Z\",\"interval_s\":10.000,"
	"\"workload\":{\"kind\":\"cgroup\",\"cgroup_id\":77,\"cgroup_path\":null,"
	"\"runtime\":null,\"container_id\":null,\"name\":\"idle\"},"
	"\"cpu\":{\"ns\":0,\"cycles\":0,\"cycles_source\":\"pmu\"},"
	"\"block\":{\"read_ops\":0,\"write_ops\":0,\"read_bytes\":0,\"write_bytes\":0,"
	"\"lat_p50_us\":null,\"lat_p99_us\":null,\"devices\":[],"
	"\"unfinished\":[{\"dev\":\"7:2\",\"name\":\"loop2\",\"read_ops\":1,\"write_ops\":0,"
	"\"read_bytes\":4096,\"write_bytes\":0}]},\"net\":null,"
	"\"derived\":{\"iops\":0.000,\"cycles_per_io\":null,\"cycles_per_packet\":null,"
	"\"cycles_per_byte\":null},\"findings\":[{\"id\":\"net.nat\",\"severity\":\"info\","
	"\"summary\":\"s\",\"evidence\":{\"ratio\":1.50,\"source\":\"src\"},\"remedy\":\"r\","
	"\"saving\":{\"estimated\":false,\"basis\":\"b\"}}]}\n";

static const char self_json[] =
	"{\"type\":\"self\",\"ts\":\"2026-11-25T02:46:33.000Z\",\"interval_s\":1.000,"
	"\"lost\":{\"stats_full\":1,\"inflight_full\":2,\"pmu_read_fail\":6,\"prog_missed\":7,"
	"\"vm_full\":10,\"blk_dev_full\":13},\"recovered\":8,"
	"\"unattributed\":{\"rq_no_owner\":4,\"unseen_complete\":5},"
	"\"cgroups_untracked\":18446744073709551615,\"vms_untracked\":11,\"inflight_at_exit\":9,"
	"\"net_owners_full\":12,\"net_off\":null,\"devices_untracked\":14,\"pruned\":15,"
	"\"evicted\":16,\"bpf\":{\"stats\":false,\"run_ns\":null,\"runs\":null,\"cpu_pct\":null,"
	"\"programs\":null}}\n";

/* The same line with the statistics on: the interval's totals, and per program. */
static const char self_bpf_json[] =
	"\"bpf\":{\"stats\":true,\"run_ns\":25000000,\"runs\":400000,\"cpu_pct\":2.500,"
	"\"programs\":[{\"name\":\"sched_switch_btf\",\"runs\":400000,\"run_ns\":25000000,"
	"\"ns_per_run\":62.5},{\"name\":\"idle\",\"runs\":0,\"run_ns\":0,\"ns_per_run\":null}]}}\n";

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

/* A row that is not a VM's leaves the VM columns empty. */
#define NO_VM ",,,,,,,,,,,,,"

static const char full_csv[] = "interval,2026-11-25T02:46:33.123Z,1.000,container,1234,"
			       "/system.slice/docker-abc.scope,docker,abc123,web,1500000,"
			       "3900000,tsc-estimate,10,5,40960,20480,12.346,250.500,15.000,"
			       "260000.0" NO_VM ",100,51200,200,102400,3000,13000.0,25.391,,,,,\n";

static const char idle_csv[] = "summary,2000-02-29T23:59:59.005Z,10.000,cgroup,77,,,,idle,0,0,"
			       "pmu,0,0,0,0,,,0.000," NO_VM ",,,,,,,,1,0,4096,0,net.nat\n";

/*
 * Cgroup names can hold any byte but NUL.  Expected: JSON escapes, bytes
 * that are not UTF-8 as \u00XX, valid UTF-8 (é, €, U+1F600) as is.
 */
static const char nasty_name[] = "q\"b\\n\n"
				 "t\tc\x01"
				 "d\x7f"
				 "e\xff"
				 "\xc3\xa9"
				 "\r\b\f\x1f"
				 "\xe2\x82\xac"
				 "\xf0\x9f\x98\x80";
static const char nasty_json[] = "\"q\\\"b\\\\n\\nt\\tc\\u0001d\\u007fe\\u00ff\xc3\xa9"
				 "\\r\\b\\f\\u001f\xe2\x82\xac\xf0\x9f\x98\x80\"";
/* What jq decodes nasty_json to: 0xff became U+00FF, "\xc3\xbf". */
static const char nasty_decoded[] = "q\"b\\n\n"
				    "t\tc\x01"
				    "d\x7f"
				    "e\xc3\xbf"
				    "\xc3\xa9"
				    "\r\b\f\x1f"
				    "\xe2\x82\xac"
				    "\xf0\x9f\x98\x80";

/* Ill-formed UTF-8: overlong, surrogate, above U+10FFFF, truncated. */
static const char bad_utf8[] = "\xc0\xaf|\xe0\x9f\xbf|\xf0\x8f\xbf\xbf|\xed\xa0\x80|"
			       "\xf4\x90\x80\x80|\xf5\x80\x80\x80|\xe2\x82x|\x80|\xf0\x9f\x98";
static const char bad_utf8_json[] = "\"\\u00c0\\u00af|\\u00e0\\u009f\\u00bf|"
				    "\\u00f0\\u008f\\u00bf\\u00bf|\\u00ed\\u00a0\\u0080|"
				    "\\u00f4\\u0090\\u0080\\u0080|\\u00f5\\u0080\\u0080\\u0080|"
				    "\\u00e2\\u0082x|\\u0080|\\u00f0\\u009f\\u0098\"";

/*
 * The edges of well-formed UTF-8, written as is: U+0080, U+07FF, U+0800,
 * U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF.
 */
static const char edge_utf8[] = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
				"\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";

static void test_format_ts(void **state)
{
	struct timespec ts = { 1795574793, 123999999 };
	char buf[64], small[5];

	(void)state;
	out_format_ts(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-25T02:46:33.123Z");
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	out_format_ts(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	ts.tv_sec = 951868799;
	ts.tv_nsec = 999999999;
	out_format_ts(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T23:59:59.999Z");
	ts.tv_nsec = 1000000;
	out_format_ts(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T23:59:59.001Z");
	/* Truncated, still terminated. */
	out_format_ts(&ts, small, sizeof(small));
	assert_string_equal(small, "2000");
}

static void test_json_full_row(void **state)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct sink s;

	(void)state;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	assert_string_equal(sink_text(&s), full_json);
	sink_close(&s);
}

static void test_json_big_numbers(void **state)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct sink s;

	(void)state;
	r.wl.cgroup_id = UINT64_MAX;
	r.cpu_ns = UINT64_MAX;
	r.cycles = UINT64_MAX - 1;
	r.write_bytes = 1ULL << 63;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	sink_text(&s);
	assert_non_null(strstr(s.buf, "\"cgroup_id\":18446744073709551615,"));
	assert_non_null(strstr(s.buf, "\"cpu\":{\"ns\":18446744073709551615,"
				      "\"cycles\":18446744073709551614,"));
	assert_non_null(strstr(s.buf, "\"write_bytes\":9223372036854775808,"));
	sink_close(&s);
}

static void test_json_nulls(void **state)
{
	struct out_writer w;
	struct out_row r = idle_row();
	struct sink s;

	(void)state;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	assert_string_equal(sink_text(&s), idle_json);
	sink_close(&s);

	/* container_id NULL is null as well as "". */
	r.wl.container_id = NULL;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	assert_string_equal(sink_text(&s), idle_json);
	sink_close(&s);
}

/* NaN and infinities would make invalid JSON: they are null. */
static void test_json_never_nan(void **state)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct sink s;

	(void)state;
	r.interval_s = NAN;
	r.lat_p50_us = INFINITY;
	r.lat_p99_us = NAN;
	r.iops = -INFINITY;
	r.cycles_per_io = INFINITY;
	r.cycles_per_packet = NAN;
	r.cycles_per_byte = -INFINITY;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	sink_text(&s);
	assert_null(strstr(s.buf, "nan"));
	assert_null(strstr(s.buf, "inf"));
	assert_non_null(strstr(s.buf, "\"interval_s\":null,"));
	assert_non_null(strstr(s.buf, "\"lat_p50_us\":null,\"lat_p99_us\":null,\"devices\":["));
	assert_non_null(strstr(s.buf, "\"derived\":{\"iops\":null,\"cycles_per_io\":null,"
				      "\"cycles_per_packet\":null,\"cycles_per_byte\":null},"
				      "\"findings\":null}\n"));
	sink_close(&s);
}

/* The JSON text of the name field of a row named `name`. */
static char *json_name_of(const char *name)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct sink s;
	const char *start, *end;
	char *out;

	r.wl.name = name;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	sink_text(&s);
	start = strstr(s.buf, ",\"name\":");
	end = strstr(s.buf, "},\"cpu\":");
	assert_non_null(start);
	assert_non_null(end);
	start += strlen(",\"name\":");
	out = strndup(start, (size_t)(end - start));
	sink_close(&s);
	return out;
}

static void test_json_escaping(void **state)
{
	char *got;

	(void)state;
	got = json_name_of(nasty_name);
	assert_string_equal(got, nasty_json);
	free(got);

	got = json_name_of(bad_utf8);
	assert_string_equal(got, bad_utf8_json);
	free(got);

	got = json_name_of(edge_utf8);
	assert_int_equal(strlen(got), strlen(edge_utf8) + 2);
	assert_int_equal(got[0], '"');
	assert_memory_equal(got + 1, edge_utf8, strlen(edge_utf8));
	free(got);

	got = json_name_of("");
	assert_string_equal(got, "\"\"");
	free(got);

	got = json_name_of(NULL);
	assert_string_equal(got, "null");
	free(got);
}

/* The whole output decodes as UTF-8 (checked by iconv, not by our code). */
static bool valid_utf8(const char *text, size_t len)
{
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	size_t cap = 4 * len + 4, r;
	char *out = malloc(cap), *in = (char *)text, *o = out;
	size_t inleft = len, outleft = cap;

	assert_true(cd != (iconv_t)-1);
	assert_non_null(out);
	r = iconv(cd, &in, &inleft, &o, &outleft);
	iconv_close(cd);
	free(out);
	return r != (size_t)-1 && inleft == 0;
}

static void test_json_valid_utf8(void **state)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct sink s;

	(void)state;
	/* The checker does reject what the writer must not let through. */
	assert_false(valid_utf8(nasty_name, strlen(nasty_name)));
	assert_false(valid_utf8(bad_utf8, strlen(bad_utf8)));
	assert_true(valid_utf8(edge_utf8, strlen(edge_utf8)));

	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	r.wl.name = nasty_name;
	assert_int_equal(out_row(&w, &r), 0);
	r.wl.name = bad_utf8;
	r.wl.cgroup_path = bad_utf8;
	assert_int_equal(out_row(&w, &r), 0);
	sink_text(&s);
	assert_true(valid_utf8(s.buf, s.len));
	sink_close(&s);
}

/* Run `cmd` with `text` on its stdin; returns its exit status. */
static int run_with_input(const char *cmd, const char *text, char *out, size_t outlen)
{
	char path[] = "/tmp/iotrace-test-XXXXXX", full[512];
	size_t n = 0;
	FILE *p;
	int fd, st;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_true(snprintf(full, sizeof(full), "%s < %s", cmd, path) < (int)sizeof(full));
	p = popen(full, "r");
	assert_non_null(p);
	if (out) {
		n = fread(out, 1, outlen - 1, p);
		out[n] = '\0';
	} else {
		char sinkbuf[4096];

		while (fread(sinkbuf, 1, sizeof(sinkbuf), p) > 0)
			;
	}
	st = pclose(p);
	unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_json_parses_with_jq(void **state)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct out_self sl = self_line();
	struct sink s;
	char decoded[256];
	char *got;

	(void)state;
	if (access(JQ, X_OK))
		fail_msg("%s is missing: install jq (make deps)", JQ);
	/*
	 * jq -e does fail on invalid input, so the checks below mean something
	 * (jq 1.6 accepts nan, which is why test_json_never_nan checks text).
	 */
	assert_int_not_equal(run_with_input(JQ " -e . 2>/dev/null", "{\"a\":bad}\n", NULL, 0), 0);

	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	r = idle_row();
	assert_int_equal(out_row(&w, &r), 0);
	r = full_row();
	r.wl.name = nasty_name;
	r.wl.cgroup_path = bad_utf8;
	r.iops = NAN;
	assert_int_equal(out_row(&w, &r), 0);
	assert_int_equal(out_self(&w, &sl), 0);
	sink_text(&s);
	assert_int_equal(run_with_input(JQ " -e . >/dev/null", s.buf, NULL, 0), 0);
	/* Exactly four objects, one per line. */
	assert_int_equal(run_with_input(JQ " -s -e 'length == 4' >/dev/null", s.buf, NULL, 0), 0);
	/* Keys in contract order. */
	assert_int_equal(run_with_input(JQ
					" -s -e '.[0] | keys_unsorted == "
					"[\"type\",\"ts\",\"interval_s\",\"workload\",\"cpu\","
					"\"block\",\"net\",\"derived\",\"findings\"]' >/dev/null",
					s.buf, NULL, 0),
			 0);
	/* block.devices and .unfinished come last in block, their objects' keys in contract order. */
	assert_int_equal(
		run_with_input(
			JQ " -s -e '.[0].block | keys_unsorted == "
			   "[\"read_ops\",\"write_ops\",\"read_bytes\",\"write_bytes\","
			   "\"lat_p50_us\",\"lat_p99_us\",\"devices\",\"unfinished\"]' >/dev/null",
			s.buf, NULL, 0),
		0);
	assert_int_equal(run_with_input(JQ
					" -s -e '.[0].block.devices | map(keys_unsorted) == "
					"[range(2) | [\"dev\",\"name\",\"read_ops\",\"write_ops\","
					"\"read_bytes\",\"write_bytes\"]]' >/dev/null",
					s.buf, NULL, 0),
			 0);
	assert_int_equal(
		run_with_input(
			JQ " -s -e '.[3] | keys_unsorted == "
			   "[\"type\",\"ts\",\"interval_s\",\"lost\","
			   "\"recovered\",\"unattributed\",\"cgroups_untracked\",\"vms_untracked\","
			   "\"inflight_at_exit\",\"net_owners_full\",\"net_off\","
			   "\"devices_untracked\",\"pruned\",\"evicted\",\"bpf\"]' >/dev/null",
			s.buf, NULL, 0),
		0);
	sink_close(&s);

	/* jq reads back the name byte for byte (0xff as U+00FF). */
	got = json_name_of(nasty_name);
	sink_open(&s);
	fprintf(s.f, "%s\n", got);
	free(got);
	sink_text(&s);
	assert_int_equal(run_with_input(JQ " -j .", s.buf, decoded, sizeof(decoded)), 0);
	assert_string_equal(decoded, nasty_decoded);
	sink_close(&s);
}

static void test_csv_rows(void **state)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct sink s;
	char want[2048];

	(void)state;
	assert_string_equal(out_csv_header(), csv_header);
	sink_open(&s);
	out_init(&w, s.f, OUT_CSV);
	assert_int_equal(out_row(&w, &r), 0);
	r = idle_row();
	assert_int_equal(out_row(&w, &r), 0);
	r = full_row();
	assert_int_equal(out_row(&w, &r), 0);
	snprintf(want, sizeof(want), "%s\n%s%s%s", csv_header, full_csv, idle_csv, full_csv);
	assert_string_equal(sink_text(&s), want);
	sink_close(&s);
}

static void test_csv_header_once(void **state)
{
	struct out_writer w;
	struct out_row r = idle_row();
	struct sink s;
	const char *p;
	int i, n = 0;

	(void)state;
	sink_open(&s);
	out_init(&w, s.f, OUT_CSV);
	/* Nothing, not even the header, before the first row. */
	assert_int_equal(sink_text(&s)[0], '\0');
	for (i = 0; i < 5; i++)
		assert_int_equal(out_row(&w, &r), 0);
	sink_text(&s);
	assert_int_equal(strncmp(s.buf, csv_header, strlen(csv_header)), 0);
	for (p = s.buf; (p = strstr(p, "type,ts,")); p++)
		n++;
	assert_int_equal(n, 1);
	for (p = s.buf, n = 0; (p = strstr(p, "\n")); p++)
		n++;
	assert_int_equal(n, 6);
	sink_close(&s);
}

static void test_csv_quoting(void **state)
{
	struct out_writer w;
	struct out_row r = idle_row();
	struct sink s;
	char want[2048];

	(void)state;
	r.wl.name = "a,b\"c\nd";
	r.wl.cgroup_path = "/x,y";
	r.wl.runtime = "cr\rhere";
	r.wl.container_id = "\"";
	sink_open(&s);
	out_init(&w, s.f, OUT_CSV);
	assert_int_equal(out_row(&w, &r), 0);
	snprintf(want, sizeof(want),
		 "%s\nsummary,2000-02-29T23:59:59.005Z,10.000,cgroup,77,\"/x,y\","
		 "\"cr\rhere\",\"\"\"\",\"a,b\"\"c\nd\",0,0,pmu,0,0,0,0,,,0.000," NO_VM
		 ",,,,,,,,1,0,4096,0,net.nat\n",
		 csv_header);
	assert_string_equal(sink_text(&s), want);
	sink_close(&s);

	/* Plain text with spaces, quotes-free: unquoted; formulas left alone. */
	r = idle_row();
	r.wl.name = "=1+2 x";
	sink_open(&s);
	out_init(&w, s.f, OUT_CSV);
	assert_int_equal(out_row(&w, &r), 0);
	assert_non_null(strstr(sink_text(&s), ",,,,=1+2 x,0,"));
	sink_close(&s);
}

static void test_self(void **state)
{
	static const struct out_prog progs[] = {
		{ "sched_switch_btf", 400000, 25000000 },
		{ "idle", 0, 0 },
	};
	struct out_writer w;
	struct out_self sl = self_line();
	struct out_row r = idle_row();
	struct sink s;
	char want[2048];

	(void)state;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_self(&w, &sl), 0);
	assert_string_equal(sink_text(&s), self_json);
	sink_close(&s);

	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	sl.bpf_stats = true;
	sl.bpf_run_ns = 25000000;
	sl.bpf_runs = 400000;
	sl.progs = progs;
	sl.nprogs = 2;
	assert_int_equal(out_self(&w, &sl), 0);
	assert_non_null(strstr(sink_text(&s), ",\"evicted\":16,\"bpf\""));
	assert_string_equal(strstr(sink_text(&s), "\"bpf\""), self_bpf_json);
	sink_close(&s);
	sl = self_line();

	sink_open(&s);
	out_init(&w, s.f, OUT_CSV);
	assert_int_equal(out_self(&w, &sl), 0);
	assert_int_equal(sink_text(&s)[0], '\0');
	assert_int_equal(s.len, 0);
	/* ... and does not count as the first row for the header. */
	assert_int_equal(out_row(&w, &r), 0);
	assert_int_equal(out_self(&w, &sl), 0);
	snprintf(want, sizeof(want), "%s\n%s", csv_header, idle_csv);
	assert_string_equal(sink_text(&s), want);
	sink_close(&s);
}

static FILE *open_full(void)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		return NULL;
	assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
	return f;
}

static void test_write_error(void **state)
{
	struct out_writer w;
	struct out_row r = full_row();
	struct out_self sl = self_line();
	FILE *f;
	int err;

	(void)state;
	f = open_full();
	if (!f)
		fail_msg("cannot open /dev/full: %s", strerror(errno));
	out_init(&w, f, OUT_JSON);
	err = out_row(&w, &r);
	assert_true(err < 0);
	assert_int_equal(err, -ENOSPC);
	err = out_self(&w, &sl);
	assert_true(err < 0);
	fclose(f);

	f = open_full();
	assert_non_null(f);
	out_init(&w, f, OUT_CSV);
	err = out_row(&w, &r);
	assert_int_equal(err, -ENOSPC);
	/* The error sticks to the stream: later rows fail too. */
	assert_true(out_row(&w, &r) < 0);
	fclose(f);

	/* A stream that already failed reports it even without errno. */
	f = fopen("/dev/null", "r");
	assert_non_null(f);
	assert_int_equal(fputc('x', f), EOF);
	assert_true(ferror(f));
	out_init(&w, f, OUT_JSON);
	err = out_row(&w, &r);
	assert_true(err < 0);
	fclose(f);
}

/* Interval self lines do not count in-flight I/O: the field is null. */
static void test_self_inflight_null(void **state)
{
	struct out_self sl = self_line();
	struct out_writer w;
	struct sink s;

	(void)state;
	sl.inflight_at_exit = -1;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_self(&w, &sl), 0);
	sink_text(&s);
	assert_non_null(strstr(s.buf, ",\"inflight_at_exit\":null,"));
	sink_close(&s);
}

/* A VM row: the workload, cpu and derived objects gain fields; kvm and threads follow block. */
static void test_vm_row(void **state)
{
	static const struct out_count reasons[] = { { "KVM_EXIT_IO", 10000 },
						    { "KVM_EXIT_HLT", 1 } };
	static const struct out_count ports[] = { { "0x10", 10000 } };
	static const struct out_vm_role roles[] = {
		{ "vcpu", 1, 112000, 0, 0, 0, 0, 0, 47, 9177000000, 19947 },
		/* A kernel without run-queue wait per task: null. */
		{ "iothread", 1, 48000, 0, 7500, 2500, 30720000, 10240000, 3, -1, -1 },
	};
	const struct out_vm vm = {
		.pid = 4242,
		.vm_name = "web\"1",
		.vm_uuid = NULL,
		.guest_ns = 0,
		.host_ns = 160000,
		.exits_source = "userspace_exit",
		.exits = 10001,
		.userspace_exits = 10001,
		.pio_exits = 10000,
		.mmio_exits = 0,
		.exit_handling_ns = -1,
		.userspace_exits_by_reason = reasons,
		.n_userspace_exits_by_reason = 2,
		.pio_ports = ports,
		.n_pio_ports = 1,
		.roles = roles,
		.nroles = 2,
		.exits_per_io = 1.0001,
		.host_cycles_per_io = 41.6,
	};
	struct out_row r = full_row();
	struct out_writer w;
	struct sink s;

	(void)state;
	r.wl.kind = WL_KIND_VM;
	r.vm = &vm;
	r.devices = NULL; /* kept per cgroup only */
	r.has_net = false;
	r.cycles_per_packet = r.cycles_per_byte = -1;
	sink_open(&s);
	out_init(&w, s.f, OUT_JSON);
	assert_int_equal(out_row(&w, &r), 0);
	assert_string_equal(
		sink_text(&s),
		"{\"type\":\"interval\",\"ts\":\"2026-11-25T02:46:33.123Z\",\"interval_s\":1.000,"
		"\"workload\":{\"kind\":\"vm\",\"cgroup_id\":1234,"
		"\"cgroup_path\":\"/system.slice/docker-abc.scope\",\"runtime\":\"docker\","
		"\"container_id\":\"abc123\",\"name\":\"web\",\"pid\":4242,\"vm_name\":\"web\\\"1\","
		"\"vm_uuid\":null},\"cpu\":{\"ns\":1500000,\"cycles\":3900000,"
		"\"cycles_source\":\"tsc-estimate\",\"guest_ns\":0,\"host_ns\":160000},"
		"\"block\":{\"read_ops\":10,\"write_ops\":5,\"read_bytes\":40960,"
		"\"write_bytes\":20480,\"lat_p50_us\":12.346,\"lat_p99_us\":250.500,"
		"\"devices\":null,\"unfinished\":null},\"net\":null,"
		"\"kvm\":{\"exits_source\":\"userspace_exit\",\"exits\":10001,\"exits_by_reason\":{},"
		"\"userspace_exits\":10001,\"pio_exits\":10000,\"mmio_exits\":0,"
		"\"exit_handling_ns\":null,"
		"\"userspace_exits_by_reason\":{\"KVM_EXIT_IO\":10000,\"KVM_EXIT_HLT\":1},"
		"\"pio_exits_by_port\":{\"0x10\":10000},\"mmio_exits_by_page\":{}},"
		"\"threads\":[{\"role\":\"vcpu\",\"threads\":1,\"cpu_ns\":112000,\"guest_ns\":0,"
		"\"read_ops\":0,\"write_ops\":0,\"read_bytes\":0,\"write_bytes\":0,"
		"\"migrations\":47,\"runq_wait_ns\":9177000000,\"runq_waits\":19947},"
		"{\"role\":\"iothread\",\"threads\":1,\"cpu_ns\":48000,\"guest_ns\":0,"
		"\"read_ops\":7500,\"write_ops\":2500,\"read_bytes\":30720000,"
		"\"write_bytes\":10240000,\"migrations\":3,\"runq_wait_ns\":null,"
		"\"runq_waits\":null}],"
		"\"derived\":{\"iops\":15.000,\"cycles_per_io\":260000.0,\"cycles_per_packet\":null,"
		"\"cycles_per_byte\":null,\"exits_per_io\":1.0001,\"host_cycles_per_io\":41.6},"
		"\"findings\":null}\n");
	assert_int_equal(run_with_input(JQ
					" -e '.kvm.pio_exits_by_port.\"0x10\" == 10000' >/dev/null",
					s.buf, NULL, 0),
			 0);
	sink_close(&s);

	sink_open(&s);
	out_init(&w, s.f, OUT_CSV);
	assert_int_equal(out_row(&w, &r), 0);
	assert_non_null(strstr(sink_text(&s),
			       ",260000.0,4242,\"web\"\"1\",,0,160000,userspace_exit,10001,10001,"
			       "10000,0,,1.0001,41.6,,,,,,,,,,,,\n"));
	sink_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_inflight_null),
		cmocka_unit_test(test_vm_row),
		cmocka_unit_test(test_format_ts),
		cmocka_unit_test(test_json_full_row),
		cmocka_unit_test(test_json_big_numbers),
		cmocka_unit_test(test_json_nulls),
		cmocka_unit_test(test_json_never_nan),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_json_valid_utf8),
		cmocka_unit_test(test_json_parses_with_jq),
		cmocka_unit_test(test_csv_rows),
		cmocka_unit_test(test_csv_header_once),
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
