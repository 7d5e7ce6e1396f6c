// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CPU cycles where the host has no hardware cycle counter: on-CPU time
 * times the TSC frequency.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include "cycles.h"

#define NSEC_PER_SEC 1000000000ULL

/*
 * With ns = a * 1e9 + b and hz = c * 1e9 + d (b, d < 1e9):
 *   ns * hz / 1e9 = a * hz + b * c + b * d / 1e9
 * where the first two terms are integers, so the floor of the whole is
 * a * hz + b * c + floor(b * d / 1e9), and b * d < 1e18 fits in 64 bits.
 * Exact, and portable to targets without a 128-bit integer type.
 */
uint64_t cycles_from_ns(uint64_t ns, uint64_t hz)
{
	uint64_t a = ns / NSEC_PER_SEC, b = ns % NSEC_PER_SEC;
	uint64_t c = hz / NSEC_PER_SEC, d = hz % NSEC_PER_SEC;
	uint64_t r, t;

	if (__builtin_mul_overflow(a, hz, &r))
		return UINT64_MAX;
	if (__builtin_mul_overflow(b, c, &t) || __builtin_add_overflow(r, t, &r))
		return UINT64_MAX;
	if (__builtin_add_overflow(r, b * d / NSEC_PER_SEC, &r))
		return UINT64_MAX;
	return r;
}

/* cpuinfo_max_freq is in kHz. */
static int cpufreq_hz(uint64_t *hz)
{
	const char *path = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq";
	unsigned long long khz;
	FILE *f;
	int n;

	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	n = fscanf(f, "%llu", &khz);
	fclose(f);
	if (n != 1 || khz == 0 || khz > UINT64_MAX / 1000)
		return -ENOENT;
	*hz = (uint64_t)khz * 1000;
	return 0;
}

#if defined(__x86_64__) || defined(__i386__)

/*
 * The TSC counts at a fixed rate whatever the P- and C-state only with both
 * flags; otherwise on-CPU time times its frequency means nothing.
 */
static bool tsc_trusted(void)
{
	bool constant = false, nonstop = false;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		char *tok, *save = NULL;

		if (strncmp(line, "flags", 5) != 0)
			continue;
		tok = strchr(line, ':');
		if (!tok)
			continue;
		for (tok = strtok_r(tok + 1, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			if (!strcmp(tok, "constant_tsc"))
				constant = true;
			else if (!strcmp(tok, "nonstop_tsc"))
				nonstop = true;
		}
		break; /* the first CPU's flags speak for all */
	}
	free(line);
	fclose(f);
	return constant && nonstop;
}

/* CPUID leaf 0x15: TSC = crystal * ebx / eax, when the crystal is given. */
static int cpuid_tsc_hz(uint64_t *hz)
{
	unsigned int eax, ebx, ecx, edx;

	if (__get_cpuid_max(0, NULL) < 0x15)
		return -ENOENT;
	if (!__get_cpuid_count(0x15, 0, &eax, &ebx, &ecx, &edx))
		return -ENOENT;
	if (eax == 0 || ebx == 0 || ecx == 0)
		return -ENOENT;
	*hz = (uint64_t)ecx * ebx / eax;
	return *hz ? 0 : -ENOENT;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

/* One measurement of TSC ticks per second across a ~20 ms sleep. */
static int calibrate_once(long double *hz)
{
	struct timespec t0, t1, req = { 0, 20 * 1000 * 1000 }, rem;
	uint64_t c0, c1, dt;

	if (clock_gettime(CLOCK_MONOTONIC_RAW, &t0))
		return -errno;
	c0 = __rdtsc();
	while (nanosleep(&req, &rem)) {
		if (errno != EINTR)
			return -errno;
		req = rem;
	}
	c1 = __rdtsc();
	if (clock_gettime(CLOCK_MONOTONIC_RAW, &t1))
		return -errno;
	dt = ts_ns(&t1) - ts_ns(&t0);
	if (dt == 0 || c1 <= c0)
		return -EIO;
	*hz = (long double)(c1 - c0) * 1e9L / (long double)dt;
	return 0;
}

static int cmp_ld(const void *a, const void *b)
{
	long double x = *(const long double *)a, y = *(const long double *)b;

	return (x > y) - (x < y);
}

/* Median of three measurements, rounded to the nearest 100 kHz. */
static int calibrate_tsc_hz(uint64_t *hz)
{
	long double m[3];
	int i, err;

	for (i = 0; i < 3; i++) {
		err = calibrate_once(&m[i]);
		if (err)
			return err;
	}
	qsort(m, 3, sizeof(m[0]), cmp_ld);
	m[1] = (m[1] + 50000.0L) / 100000.0L;
	if (m[1] < 1.0L || m[1] >= (long double)(UINT64_MAX / 100000))
		return -EIO;
	*hz = (uint64_t)m[1] * 100000;
	return 0;
}

int cycles_tsc_hz(uint64_t *hz)
{
	if (tsc_trusted()) {
		if (!cpuid_tsc_hz(hz))
			return 0;
		if (!calibrate_tsc_hz(hz))
			return 0;
	}
	return cpufreq_hz(hz);
}

#else /* !x86 */

int cycles_tsc_hz(uint64_t *hz)
{
	return cpufreq_hz(hz);
}

#endif
