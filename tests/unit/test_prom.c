// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus exposition (user/prom.c): metric names and units, label
 * escaping of odd names, HELP and TYPE once per family with its samples
 * together, the latency histogram's cumulative buckets and +Inf, no NaN,
 * families left out when they do not apply, the buffer's bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static uint64_t counters[IOTRACE_CNT_MAX];

static struct prom_wl wl(const char *kind, const char *name, uint64_t id)
{
	struct prom_wl w = { .kind = kind, .name = name, .id = id };

	return w;
}

static struct prom_self self_defaults(void)
{
	struct prom_self s = {
		.version = "0.1.0",
		.prog_type = "tp_btf",
		.cycles_source = "tsc-estimate",
		.counters = counters,
		.workloads_limit = 16384,
		.timestamp_s = 1700000000.5,
	};

	return s;
}

/* The text of wls[] and self; free() it. */
static char *expose(const struct prom_wl *wls, size_t n, const struct prom_self *s)
{
	struct prom_buf b;
	size_t len;

	prom_buf_init(&b, 1 << 20);
	assert_true(prom_write_workloads(&b, wls, n));
	if (s)
		assert_true(prom_write_self(&b, s));
	return prom_buf_take(&b, &len);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The value of the sample line that starts with `series ` (exact), as text. */
static const char *value_of(const char *text, const char *series, char *buf, size_t len)
{
	size_t sl = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, series, sl) && p[sl] == ' ') {
			const char *v = p + sl + 1, *e = strchr(v, '\n');
			size_t n = e ? (size_t)(e - v) : strlen(v);

			snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), v);
			return buf;
		}
	}
	return NULL;
}

/* ---- a small validator of the text format ------------------------------------- */

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* One sample line: name{labels} value.  Returns the end of its name or NULL. */
static const char *check_sample(const char *line, size_t len, char *name, size_t nlen)
{
	const char *p = line, *end = line + len;
	size_t n = 0;
	char *vend;
	double v;
	char val[64];

	if (!name_char(*p, true))
		return NULL;
	while (p < end && name_char(*p, false)) {
		if (n + 1 < nlen)
			name[n++] = *p;
		p++;
	}
	name[n] = '\0';
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			if (!name_char(*p, true))
				return NULL;
			while (p < end && name_char(*p, false))
				p++;
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return NULL;
			p += 2;
			while (p < end && *p != '"') {
				if (*p == '\n')
					return NULL;
				if (*p == '\\') {
					if (p + 1 >= end ||
					    (p[1] != '\\' && p[1] != '"' && p[1] != 'n'))
						return NULL;
					p++;
				}
				p++;
			}
			if (p >= end)
				return NULL;
			p++;
			if (p < end && *p == ',')
				p++;
		}
		if (p >= end)
			return NULL;
		p++;
	}
	if (p >= end || *p != ' ')
		return NULL;
	p++;
	if ((size_t)(end - p) >= sizeof(val) || end == p)
		return NULL;
	memcpy(val, p, (size_t)(end - p));
	val[end - p] = '\0';
	v = strtod(val, &vend);
	if (*vend || !isfinite(v) || strstr(val, "nan") || strstr(val, "NaN"))
		return NULL;
	return line;
}

/* The base family name of a sample: histogram suffixes removed. */
static void family_of(const char *sample, const char *type_name, char *out, size_t len)
{
	snprintf(out, len, "%s", sample);
	if (!strncmp(sample, type_name, strlen(type_name)))
		snprintf(out, len, "%s", type_name);
}

/*
 * Every line is a comment or a valid sample; each family has one HELP and
 * one TYPE, before its samples, and its samples are together.
 */
static void check_text(const char *text)
{
	char fam[128] = "", seen[64][128], name[128], base[128];
	int nseen = 0;
	const char *p = text;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len;

		assert_non_null(e); /* every line ends with a newline */
		len = (size_t)(e - p);
		if (!strncmp(p, "# HELP ", 7)) {
			char n[128];

			assert_int_equal(sscanf(p + 7, "%127s", n), 1);
			for (int i = 0; i < nseen; i++)
				if (!strcmp(seen[i], n))
					fail_msg("family %s described twice", n);
			assert_true(nseen < 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", n);
			snprintf(fam, sizeof(fam), "%s", n);
			assert_true(!strncmp(n, "iotrace_", 8));
		} else if (!strncmp(p, "# TYPE ", 7)) {
			char n[128], t[32];

			assert_int_equal(sscanf(p + 7, "%127s %31s", n, t), 2);
			assert_string_equal(n, fam); /* right after its HELP */
			if (!strcmp(t, "counter"))
				assert_true(strlen(n) > 6 && !strcmp(n + strlen(n) - 6, "_total"));
			else if (strcmp(t, "gauge") && strcmp(t, "histogram"))
				fail_msg("type %s", t);
		} else {
			if (!check_sample(p, len, name, sizeof(name)))
				fail_msg("bad sample line: %.*s", (int)len, p);
			family_of(name, fam, base, sizeof(base));
			if (strcmp(base, fam))
				fail_msg("sample %s outside its family (in %s)", name, fam);
		}
		p = e + 1;
	}
}

/* ---- tests ------------------------------------------------------------------ */

static void test_names_units_values(void **state)
{
	struct prom_wl w = wl("cgroup", "a", 42);
	char buf[64];
	char *t;

	(void)state;
	w.cpu_ns = 1500000000ULL;
	w.cycles = 3000000000ULL;
	w.read_ops = 20000;
	w.write_ops = 5000;
	w.read_bytes = 20000ULL * 4096;
	w.write_bytes = 5000ULL * 4096;
	t = expose(&w, 1, NULL);
	check_text(t);
	assert_string_equal(
		value_of(t, "iotrace_cpu_seconds_total{kind=\"cgroup\",name=\"a\",id=\"42\"}", buf,
			 sizeof(buf)),
		"1.500000000");
	assert_string_equal(
		value_of(t, "iotrace_cpu_cycles_total{kind=\"cgroup\",name=\"a\",id=\"42\"}", buf,
			 sizeof(buf)),
		"3000000000");
	assert_string_equal(
		value_of(t,
			 "iotrace_block_ops_total{kind=\"cgroup\",name=\"a\",id=\"42\",op=\"read\"}",
			 buf, sizeof(buf)),
		"20000");
	assert_string_equal(
		value_of(
			t,
			"iotrace_block_ops_total{kind=\"cgroup\",name=\"a\",id=\"42\",op=\"write\"}",
			buf, sizeof(buf)),
		"5000");
	assert_string_equal(
		value_of(t,
			 "iotrace_block_bytes_total{kind=\"cgroup\",name=\"a\",id=\"42\","
			 "op=\"read\"}",
			 buf, sizeof(buf)),
		"81920000");
	assert_non_null(strstr(t, "iotrace_workload_info{kind=\"cgroup\",name=\"a\",id=\"42\","
				  "cgroup=\"\",runtime=\"\",container_id=\"\"} 1\n"));
	/* No I/O latency, no network, not a VM: those families are left out. */
	assert_null(strstr(t, "latency"));
	assert_null(strstr(t, "network"));
	assert_null(strstr(t, "iotrace_vm_"));
	free(t);
}

static void test_escaping(void **state)
{
	struct prom_buf b;
	size_t len;
	char *t;

	(void)state;
	prom_buf_init(&b, 4096);
	prom_label_value(&b, "a\\b\"c\nd");
	t = prom_buf_take(&b, &len);
	assert_string_equal(t, "a\\\\b\\\"c\\nd");
	assert_int_equal(len, strlen(t));
	free(t);

	/* Valid UTF-8 stays; every invalid byte becomes U+FFFD. */
	prom_label_value(&b, "\xc2\xb5s \xf0\x9f\x90\xb3");
	t = prom_buf_take(&b, &len);
	assert_string_equal(t, "\xc2\xb5s \xf0\x9f\x90\xb3");
	free(t);
	prom_label_value(&b, "x\xffy");
	t = prom_buf_take(&b, &len);
	assert_string_equal(t, "x\xef\xbf\xbdy");
	free(t);
	prom_label_value(&b, "\xc0\xaf"); /* overlong '/' */
	t = prom_buf_take(&b, &len);
	assert_string_equal(t, "\xef\xbf\xbd\xef\xbf\xbd");
	free(t);
	prom_label_value(&b, "\xed\xa0\x80"); /* a surrogate */
	t = prom_buf_take(&b, &len);
	assert_string_equal(t, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(t);
	prom_label_value(&b, "ab\xe2\x82"); /* cut short at the end */
	t = prom_buf_take(&b, &len);
	assert_string_equal(t, "ab\xef\xbf\xbd\xef\xbf\xbd");
	free(t);
	prom_label_value(&b, NULL);
	t = prom_buf_take(&b, &len);
	assert_true(!t || !*t);
	free(t);
}

/* Odd names in a whole exposition: still valid text. */
static void test_odd_names(void **state)
{
	struct prom_wl w[3] = { wl("container", "we\"ird\\na\nme", 1),
				wl("cgroup", "sp ace{}=,#", 2), wl("vm", "\xff\xfe", 3) };
	char buf[64];
	char *t;

	(void)state;
	w[0].cgroup = "/docker/\"x\"\n";
	w[2].is_vm = true;
	t = expose(w, 3, NULL);
	check_text(t);
	assert_non_null(value_of(
		t,
		"iotrace_cpu_seconds_total{kind=\"container\",name=\"we\\\"ird\\\\na\\nme\","
		"id=\"1\"}",
		buf, sizeof(buf)));
	assert_non_null(strstr(t, "cgroup=\"/docker/\\\"x\\\"\\n\""));
	assert_non_null(value_of(
		t, "iotrace_cpu_seconds_total{kind=\"cgroup\",name=\"sp ace{}=,#\",id=\"2\"}", buf,
		sizeof(buf)));
	free(t);
}

static void test_families_once(void **state)
{
	struct prom_wl w[3] = { wl("cgroup", "a", 1), wl("container", "b", 2), wl("vm", "c", 3) };
	struct prom_self s = self_defaults();
	uint64_t hist[IOTRACE_LAT_SLOTS] = { 0 };
	char *t;

	(void)state;
	hist[12] = 3;
	for (int i = 0; i < 3; i++) {
		w[i].has_net = true;
		w[i].lat_hist = i < 2 ? hist : NULL;
	}
	w[2].is_vm = true;
	t = expose(w, 3, &s);
	check_text(t);
	assert_int_equal(count(t, "# TYPE iotrace_block_ops_total counter\n"), 1);
	assert_int_equal(count(t, "# HELP iotrace_block_ops_total "), 1);
	assert_int_equal(count(t, "\niotrace_block_ops_total{"), 6);
	assert_int_equal(count(t, "# TYPE iotrace_block_latency_seconds histogram\n"), 1);
	assert_int_equal(count(t, "\niotrace_block_latency_seconds_count{"), 2);
	assert_int_equal(count(t, "# TYPE iotrace_network_packets_total counter\n"), 1);
	assert_int_equal(count(t, "\niotrace_network_packets_total{"), 6);
	assert_int_equal(count(t, "# TYPE iotrace_vm_userspace_exits_total counter\n"), 1);
	assert_int_equal(count(t, "\niotrace_vm_userspace_exits_total{"), 1);
	/* kvm_exit does not fire for this VM: no exits family. */
	assert_null(strstr(t, "iotrace_vm_exits_total"));
	assert_int_equal(count(t, "# TYPE iotrace_info gauge\n"), 1);
	free(t);

	w[2].has_hw_exits = true;
	w[2].exits = 7;
	t = expose(w, 3, NULL);
	assert_non_null(strstr(t, "iotrace_vm_exits_total{kind=\"vm\",name=\"c\",id=\"3\"} 7\n"));
	free(t);
}

static void test_histogram(void **state)
{
	uint64_t hist[IOTRACE_LAT_SLOTS] = { 0 }, cum[PROM_LAT_BUCKETS];
	struct prom_wl w = wl("cgroup", "h", 9);
	char series[256], buf[64], le[32];
	uint64_t prev = 0, total;
	char *t;

	(void)state;
	hist[0] = 1; /* [1, 2) ns */
	hist[9] = 2; /* [512, 1024) ns: in le=1.024 us */
	hist[10] = 4; /* [1024, 2048) ns: first in le=4.096 us */
	hist[11] = 8; /* [2048, 4096): le=4.096 us */
	hist[20] = 16; /* [1.048576, 2.097152) ms: le=4.194304 ms */
	hist[39] = 32; /* beyond 4.29 s: only +Inf */
	total = prom_lat_buckets(hist, cum);
	assert_int_equal(total, 63);
	assert_int_equal(cum[0], 3);
	assert_int_equal(cum[1], 15);
	assert_int_equal(cum[4], 15); /* le = 262.144 us */
	assert_int_equal(cum[5], 15); /* le = 1.048576 ms */
	assert_int_equal(cum[6], 31); /* le = 4.194304 ms */
	assert_int_equal(cum[PROM_LAT_BUCKETS - 1], 31);
	assert_int_equal(prom_lat_bucket_ns(0), 1024);
	assert_int_equal(prom_lat_bucket_ns(PROM_LAT_BUCKETS - 1), 1ULL << 32);

	w.lat_hist = hist;
	t = expose(&w, 1, NULL);
	check_text(t);
	/* Cumulative, le increasing, +Inf equal to the count, no _sum. */
	for (int k = 0; k < PROM_LAT_BUCKETS; k++) {
		uint64_t ns = prom_lat_bucket_ns(k), v;

		snprintf(le, sizeof(le), "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
			 (unsigned long long)(ns % 1000000000u));
		snprintf(series, sizeof(series),
			 "iotrace_block_latency_seconds_bucket{kind=\"cgroup\",name=\"h\",id=\"9\","
			 "le=\"%s\"}",
			 le);
		assert_non_null(value_of(t, series, buf, sizeof(buf)));
		v = strtoull(buf, NULL, 10);
		assert_true(v >= prev);
		assert_int_equal(v, cum[k]);
		prev = v;
	}
	assert_string_equal(
		value_of(t,
			 "iotrace_block_latency_seconds_bucket{kind=\"cgroup\",name=\"h\","
			 "id=\"9\",le=\"+Inf\"}",
			 buf, sizeof(buf)),
		"63");
	assert_string_equal(
		value_of(t,
			 "iotrace_block_latency_seconds_count{kind=\"cgroup\",name=\"h\","
			 "id=\"9\"}",
			 buf, sizeof(buf)),
		"63");
	assert_int_equal(count(t, "le=\"0.000001024\""), 1);
	assert_int_equal(count(t, "le=\"4.294967296\""), 1);
	assert_int_equal(count(t, "_bucket{"), PROM_LAT_BUCKETS + 1);
	assert_null(strstr(t, "iotrace_block_latency_seconds_sum"));
	free(t);

	/* An empty histogram (a workload without block I/O) is not written. */
	memset(hist, 0, sizeof(hist));
	t = expose(&w, 1, NULL);
	assert_null(strstr(t, "latency"));
	free(t);
}

static void test_self(void **state)
{
	struct prom_prog progs[2] = { { "sched_switch_btf", 2500000000ULL, 1000, 3 },
				      { "block_rq_complete_btf", 1000, 10, 0 } };
	struct prom_self s = self_defaults();
	char buf[64];
	char *t;

	(void)state;
	memset(counters, 0, sizeof(counters));
	counters[IOTRACE_CNT_STATS_FULL] = 5;
	counters[IOTRACE_CNT_UNSEEN_COMPLETE] = 6;
	s.prog_missed = 3;
	s.pruned = 11;
	s.evicted = 12;
	s.progs = progs;
	s.nprogs = 2;
	s.collect_s = NAN; /* never written as NaN */
	t = expose(NULL, 0, &s);
	check_text(t);
	/* No workloads: no workload family, not even its HELP. */
	assert_null(strstr(t, "iotrace_workload_info"));
	assert_null(strstr(t, "NaN"));
	assert_null(strstr(t, "nan"));
	assert_string_equal(value_of(t, "iotrace_scrape_duration_seconds", buf, sizeof(buf)),
			    "0.000000");
	assert_string_equal(value_of(t, "iotrace_map_update_failures_total{map=\"workload_stats\"}",
				     buf, sizeof(buf)),
			    "5");
	assert_string_equal(value_of(t, "iotrace_events_lost_total{reason=\"unseen_completion\"}",
				     buf, sizeof(buf)),
			    "6");
	assert_string_equal(value_of(t, "iotrace_events_lost_total{reason=\"prog_recursion\"}", buf,
				     sizeof(buf)),
			    "3");
	assert_string_equal(value_of(t, "iotrace_cgroups_pruned_total", buf, sizeof(buf)), "11");
	assert_string_equal(value_of(t, "iotrace_workloads_evicted_total", buf, sizeof(buf)), "12");
	assert_string_equal(value_of(t, "iotrace_bpf_stats_enabled", buf, sizeof(buf)), "0");
	/* Statistics off: no run time (unknown is not zero); recursion misses still. */
	assert_null(strstr(t, "iotrace_bpf_program_run_seconds_total"));
	assert_string_equal(value_of(t,
				     "iotrace_bpf_program_recursion_misses_total{program="
				     "\"sched_switch_btf\"}",
				     buf, sizeof(buf)),
			    "3");
	assert_non_null(strstr(t, "iotrace_info{version=\"0.1.0\",prog_type=\"tp_btf\","
				  "cycles_source=\"tsc-estimate\",network=\"on\"} 1\n"));
	free(t);

	s.bpf_stats = true;
	s.collect_s = 0.0123;
	s.net_off = "no CAP_NET_ADMIN";
	t = expose(NULL, 0, &s);
	check_text(t);
	assert_string_equal(value_of(t,
				     "iotrace_bpf_program_run_seconds_total{program="
				     "\"sched_switch_btf\"}",
				     buf, sizeof(buf)),
			    "2.500000000");
	assert_string_equal(value_of(t,
				     "iotrace_bpf_program_runs_total{program="
				     "\"block_rq_complete_btf\"}",
				     buf, sizeof(buf)),
			    "10");
	assert_string_equal(value_of(t, "iotrace_scrape_duration_seconds", buf, sizeof(buf)),
			    "0.012300");
	assert_non_null(strstr(t, "network=\"off\""));
	free(t);
}

/* The bound holds: a text that does not fit is reported, never overrun. */
static void test_bound(void **state)
{
	struct prom_wl w[64];
	struct prom_buf b;
	char name[64][16];

	(void)state;
	for (int i = 0; i < 64; i++) {
		snprintf(name[i], sizeof(name[i]), "w%d", i);
		w[i] = wl("cgroup", name[i], (uint64_t)i);
	}
	prom_buf_init(&b, 2000);
	assert_false(prom_write_workloads(&b, w, 64));
	assert_true(b.full);
	assert_true(b.len < 2000);
	assert_true(b.cap <= 2000);
	assert_int_equal(strlen(b.data), b.len);
	prom_buf_reset(&b);
	assert_false(b.full);
	assert_int_equal(b.len, 0);
	assert_true(prom_write_workloads(&b, w, 2));
	prom_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_units_values),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_odd_names),
		cmocka_unit_test(test_families_once),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
