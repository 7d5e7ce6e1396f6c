// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of user/cycles.c: ns -> cycles and the TSC frequency. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles.h"

static void test_from_ns_small(void **state)
{
	(void)state;
	assert_true(cycles_from_ns(0, 2600000000ULL) == 0);
	assert_true(cycles_from_ns(12345, 0) == 0);
	assert_true(cycles_from_ns(1, 1000000000ULL) == 1);
	assert_true(cycles_from_ns(1, 999999999ULL) == 0); /* floor */
	assert_true(cycles_from_ns(3, 2600000000ULL) == 7); /* 7.8 */
	assert_true(cycles_from_ns(1000, 2600000000ULL) == 2600);
	assert_true(cycles_from_ns(1000, 2599998000ULL) == 2599); /* 2599.998 */
	assert_true(cycles_from_ns(999999999, 1000000000ULL) == 999999999);
	assert_true(cycles_from_ns(1000000000ULL, 1) == 1);
	assert_true(cycles_from_ns(999999999ULL, 1) == 0);
}

static void test_from_ns_one_second(void **state)
{
	(void)state;
	assert_true(cycles_from_ns(1000000000ULL, 2600000000ULL) == 2600000000ULL);
	assert_true(cycles_from_ns(2500000000ULL, 2600000000ULL) == 6500000000ULL);
	assert_true(cycles_from_ns(1000000000ULL, UINT64_MAX) == UINT64_MAX);
}

static void test_from_ns_saturates(void **state)
{
	(void)state;
	assert_true(cycles_from_ns(UINT64_MAX, 5000000000ULL) == UINT64_MAX);
	assert_true(cycles_from_ns(UINT64_MAX, UINT64_MAX) == UINT64_MAX);
	assert_true(cycles_from_ns(UINT64_MAX / 2, 3000000000ULL) == UINT64_MAX);
	/* ns + 1 past the last ns whose result fits at 5 GHz. */
	assert_true(cycles_from_ns(3689348814741910324ULL, 5000000000ULL) == UINT64_MAX);
}

/* ns * hz overflows 64 bits, the result does not: it must be exact. */
static void test_from_ns_wide(void **state)
{
	(void)state;
	/* 10000 s at 3 GHz: ns * hz = 3e22. */
	assert_true(cycles_from_ns(10000000000000ULL, 3000000000ULL) == 30000000000000ULL);
	/* Expected values computed with arbitrary-precision integers. */
	assert_true(cycles_from_ns(12345678901234567ULL, 2599998000ULL) == 32098740451852071ULL);
	assert_true(cycles_from_ns(987654321987ULL, 2600000001ULL) == 2567901238153ULL);
	assert_true(cycles_from_ns(UINT64_MAX, 1000000000ULL) == UINT64_MAX);
	assert_true(cycles_from_ns(UINT64_MAX, 999999999ULL) == 18446744055262807541ULL);
	/* The largest results that still fit, exactly. */
	assert_true(cycles_from_ns(3689348814741910323ULL, 5000000000ULL) == UINT64_MAX);
	assert_true(cycles_from_ns(3689348814741910322ULL, 5000000000ULL) == UINT64_MAX - 5);
	assert_true(cycles_from_ns(7094901564082557712ULL, 2600000001ULL) == UINT64_MAX);
	assert_true(cycles_from_ns(7094901564082557711ULL, 2600000001ULL) == UINT64_MAX - 3);
}

/* The kernel's own calibration: "tsc: Detected 2599.998 MHz processor". */
static double dmesg_tsc_mhz(void)
{
	char line[512];
	double mhz = 0;
	FILE *p;

	p = popen("dmesg 2>/dev/null", "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		const char *s = strstr(line, "tsc: Detected ");
		double v;

		if (s && sscanf(s, "tsc: Detected %lf MHz", &v) == 1 && v > 0)
			mhz = v;
	}
	pclose(p);
	return mhz;
}

static double cpuinfo_mhz(void)
{
	char line[512];
	double mhz = 0;
	FILE *f;

	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *s = strchr(line, ':');

		if (!strncmp(line, "cpu MHz", 7) && s && sscanf(s + 1, "%lf", &mhz) == 1)
			break;
	}
	fclose(f);
	return mhz;
}

static void test_tsc_hz(void **state)
{
	uint64_t hz = 0, hz2 = 0;
	double want, tol;
	int err;

	(void)state;
	err = cycles_tsc_hz(&hz);
	assert_int_equal(err, 0);
	assert_true(hz > 0);

	want = dmesg_tsc_mhz() * 1e6;
	tol = 0.02;
	if (want == 0) {
		want = cpuinfo_mhz() * 1e6;
		tol = 0.05;
	}
	if (want == 0)
		fail_msg(
			"no reference frequency: neither dmesg's \"tsc: Detected\" line nor /proc/cpuinfo \"cpu MHz\"");
	if ((double)hz < want * (1 - tol) || (double)hz > want * (1 + tol))
		fail_msg("cycles_tsc_hz = %" PRIu64 " Hz, expected %.0f Hz +-%.0f%%", hz, want,
			 tol * 100);

	/* A second calibration agrees within 0.1%. */
	assert_int_equal(cycles_tsc_hz(&hz2), 0);
	assert_true((double)hz2 > (double)hz * 0.999 && (double)hz2 < (double)hz * 1.001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_ns_small),
		cmocka_unit_test(test_from_ns_one_second),
		cmocka_unit_test(test_from_ns_saturates),
		cmocka_unit_test(test_from_ns_wide),
		cmocka_unit_test(test_tsc_hz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
