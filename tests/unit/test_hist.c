// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of user/hist.c: slot choice and percentiles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iotrace.h"
#include "hist.h"

#define NS IOTRACE_LAT_SLOTS

static void near(double got, double want, double tol, const char *what)
{
	if (fabs(got - want) > tol)
		fail_msg("%s: got %.12f, want %.12f", what, got, want);
}

static unsigned int bpf_slot(uint64_t ns)
{
	unsigned int slot = iotrace_log2(ns); /* what the BPF side computes */

	return slot >= NS ? NS - 1 : slot;
}

static void test_slot_boundaries(void **state)
{
	(void)state;
	assert_int_equal(hist_slot(0, NS), 0);
	assert_int_equal(hist_slot(1, NS), 0);
	assert_int_equal(hist_slot(2, NS), 1);
	assert_int_equal(hist_slot(3, NS), 1);
	assert_int_equal(hist_slot(4, NS), 2);
	assert_int_equal(hist_slot(7, NS), 2);
	assert_int_equal(hist_slot(8, NS), 3);
	assert_int_equal(hist_slot(1023, NS), 9);
	assert_int_equal(hist_slot(1024, NS), 10);
	assert_int_equal(hist_slot(1025, NS), 10);
	assert_int_equal(hist_slot((1ULL << 39) - 1, NS), 38);
	assert_int_equal(hist_slot(1ULL << 39, NS), 39);
	assert_int_equal(hist_slot(1ULL << 40, NS), 39);
	assert_int_equal(hist_slot(UINT64_MAX, NS), 39);
	/* Other table sizes. */
	assert_int_equal(hist_slot(UINT64_MAX, 64), 63);
	assert_int_equal(hist_slot(1ULL << 63, 64), 63);
	assert_int_equal(hist_slot((1ULL << 63) - 1, 64), 62);
	assert_int_equal(hist_slot(1000, 4), 3);
	assert_int_equal(hist_slot(12345, 1), 0);
	assert_int_equal(hist_slot(12345, 0), 0);
}

/* Every power of two and its neighbours agree with the BPF computation. */
static void test_slot_matches_bpf(void **state)
{
	unsigned int i;
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (i = 0; i < 64; i++) {
		uint64_t v = 1ULL << i;

		assert_int_equal(hist_slot(v, NS), bpf_slot(v));
		assert_int_equal(hist_slot(v - 1, NS), bpf_slot(v - 1));
		assert_int_equal(hist_slot(v + 1, NS), bpf_slot(v + 1));
		if (i < NS)
			assert_int_equal(hist_slot(v, NS), i);
	}
	for (i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		assert_int_equal(hist_slot(x >> (i % 64), NS), bpf_slot(x >> (i % 64)));
	}
}

static void test_empty(void **state)
{
	uint64_t h[NS];

	(void)state;
	memset(h, 0, sizeof(h));
	assert_true(hist_percentile_ns(h, NS, 50) == -1.0);
	assert_true(hist_percentile_ns(h, NS, 99) == -1.0);
	assert_true(hist_percentile_ns(h, NS, 100) == -1.0);
	assert_true(hist_percentile_ns(h, 0, 50) == -1.0);
	assert_true(hist_percentile_ns(NULL, NS, 50) == -1.0);
	h[5] = 1;
	assert_true(hist_percentile_ns(h, NS, NAN) == -1.0);
}

/* 100 values in [1024, 2048): the percentile walks across the slot. */
static void test_single_bucket(void **state)
{
	uint64_t h[NS] = { 0 };

	(void)state;
	h[10] = 100;
	near(hist_percentile_ns(h, NS, 50), 1536.0, 1e-9, "p50");
	near(hist_percentile_ns(h, NS, 99), 1024.0 + 1024.0 * 0.99, 1e-9, "p99");
	near(hist_percentile_ns(h, NS, 1), 1024.0 + 10.24, 1e-9, "p1");
	near(hist_percentile_ns(h, NS, 100), 2048.0, 1e-9, "p100");
	/* Out-of-range p is clamped. */
	near(hist_percentile_ns(h, NS, 150), 2048.0, 1e-9, "p150");
	near(hist_percentile_ns(h, NS, 0), 1024.0, 1e-9, "p0");

	/* One value: the middle of its slot is the median. */
	memset(h, 0, sizeof(h));
	h[10] = 1;
	near(hist_percentile_ns(h, NS, 50), 1536.0, 1e-9, "one p50");

	/* Slot 0 covers [0, 2). */
	memset(h, 0, sizeof(h));
	h[0] = 4;
	near(hist_percentile_ns(h, NS, 50), 1.0, 1e-9, "slot0 p50");
	near(hist_percentile_ns(h, NS, 25), 0.5, 1e-9, "slot0 p25");
	near(hist_percentile_ns(h, NS, 100), 2.0, 1e-9, "slot0 p100");

	/* The last slot interpolates over [2^39, 2^40). */
	memset(h, 0, sizeof(h));
	h[NS - 1] = 2;
	near(hist_percentile_ns(h, NS, 50), 0x1p39 * 1.5, 1e-3, "last p50");
}

/* 30 values in [8, 16) and 70 in [128, 256). */
static void test_two_buckets(void **state)
{
	uint64_t h[NS] = { 0 };

	(void)state;
	h[3] = 30;
	h[7] = 70;
	near(hist_percentile_ns(h, NS, 10), 8.0 + 8.0 * 10.0 / 30.0, 1e-9, "p10");
	/* Rank 30 is reached at the end of slot 3: its upper bound. */
	near(hist_percentile_ns(h, NS, 30), 16.0, 1e-9, "p30");
	/* Rank 50: 20 of 70 into slot 7. */
	near(hist_percentile_ns(h, NS, 50), 128.0 + 128.0 * 20.0 / 70.0, 1e-9, "p50");
	near(hist_percentile_ns(h, NS, 50), 164.571428571, 1e-6, "p50 literal");
	near(hist_percentile_ns(h, NS, 99), 128.0 + 128.0 * 69.0 / 70.0, 1e-9, "p99");
	near(hist_percentile_ns(h, NS, 99), 254.171428571, 1e-6, "p99 literal");
	near(hist_percentile_ns(h, NS, 100), 256.0, 1e-9, "p100");

	/* A rank that lands on a slot's end stays in it, even for p = 99.9. */
	memset(h, 0, sizeof(h));
	h[3] = 999;
	h[20] = 1;
	near(hist_percentile_ns(h, NS, 99.9), 16.0, 1e-9, "p99.9 at edge");
	near(hist_percentile_ns(h, NS, 99.95), 0x1p20 * 1.5, 1e-6, "p99.95");
	memset(h, 0, sizeof(h));
	h[3] = 99;
	h[20] = 1;
	near(hist_percentile_ns(h, NS, 99), 16.0, 1e-9, "p99 at edge");
}

/* 10 values in each of slots 0..9. */
static void test_uniform(void **state)
{
	uint64_t h[NS] = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		h[i] = 10;
	near(hist_percentile_ns(h, NS, 5), 1.0, 1e-9, "p5");
	near(hist_percentile_ns(h, NS, 15), 3.0, 1e-9, "p15");
	near(hist_percentile_ns(h, NS, 50), 32.0, 1e-9, "p50");
	near(hist_percentile_ns(h, NS, 55), 48.0, 1e-9, "p55");
	near(hist_percentile_ns(h, NS, 95), 768.0, 1e-9, "p95");
	near(hist_percentile_ns(h, NS, 99), 512.0 + 512.0 * 0.9, 1e-9, "p99");
	near(hist_percentile_ns(h, NS, 100), 1024.0, 1e-9, "p100");
	/* Monotonic in p. */
	for (i = 1; i < 100; i++)
		assert_true(hist_percentile_ns(h, NS, i) <= hist_percentile_ns(h, NS, i + 1));
}

static void test_huge_counts(void **state)
{
	uint64_t h[NS] = { 0 };
	int i;

	(void)state;
	h[3] = UINT64_MAX;
	h[5] = UINT64_MAX;
	near(hist_percentile_ns(h, NS, 50), 16.0, 1e-9, "2xMAX p50");
	near(hist_percentile_ns(h, NS, 75), 48.0, 1e-9, "2xMAX p75");
	near(hist_percentile_ns(h, NS, 100), 64.0, 1e-9, "2xMAX p100");

	/* A 64-bit sum would wrap to 1 here and put p50 in slot 1. */
	memset(h, 0, sizeof(h));
	h[0] = UINT64_MAX;
	h[1] = 2;
	near(hist_percentile_ns(h, NS, 50), 1.0, 1e-9, "wrap p50");
	near(hist_percentile_ns(h, NS, 100), 4.0, 1e-9, "wrap p100");

	/* Every slot full: 40 * UINT64_MAX. */
	for (i = 0; i < NS; i++)
		h[i] = UINT64_MAX;
	near(hist_percentile_ns(h, NS, 50), 1048576.0, 1e-6, "full p50");
	near(hist_percentile_ns(h, NS, 100), 0x1p40, 1e-3, "full p100");
	assert_true(isfinite(hist_percentile_ns(h, NS, 99)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_boundaries), cmocka_unit_test(test_slot_matches_bpf),
		cmocka_unit_test(test_empty),		cmocka_unit_test(test_single_bucket),
		cmocka_unit_test(test_two_buckets),	cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_huge_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
