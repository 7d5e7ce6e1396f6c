// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Percentiles from the kernel's log2 latency histogram.
 *
 * Counts are summed in long double: the histogram holds at most a few dozen
 * slots, each at most UINT64_MAX, so the sum cannot overflow and stays
 * exact or within one part in 2^63 of it (x86's long double has a 64-bit
 * mantissa), which is far below what a log2 histogram can resolve anyway.
 */
#include <math.h>

#include "hist.h"

unsigned int hist_slot(uint64_t ns, size_t nslots)
{
	unsigned int slot;

	if (nslots == 0 || ns == 0)
		return 0;
	/* floor(log2(ns)) for ns > 0; the same value as iotrace_log2(), which the BPF side uses. */
	slot = 63u - (unsigned int)__builtin_clzll(ns);
	if (slot >= nslots)
		slot = (unsigned int)(nslots - 1);
	return slot;
}

/* Bounds of slot i in ns: [2^i, 2^(i+1)), except slot 0 which is [0, 2). */
static void slot_bounds(size_t i, long double *lo, long double *hi)
{
	*lo = i == 0 ? 0.0L : ldexpl(1.0L, (int)i);
	*hi = ldexpl(1.0L, (int)i + 1);
}

double hist_percentile_ns(const uint64_t *slots, size_t nslots, double p)
{
	long double total = 0.0L, cum = 0.0L, rank, slack, lo, hi, frac;
	size_t i, last = 0;

	if (!slots || nslots == 0 || isnan(p))
		return -1.0;
	for (i = 0; i < nslots; i++) {
		if (slots[i]) {
			total += (long double)slots[i];
			last = i;
		}
	}
	if (total == 0.0L)
		return -1.0;

	if (p < 0.0)
		p = 0.0;
	if (p >= 100.0) {
		/* The maximum: the top of the last non-empty slot. */
		slot_bounds(last, &lo, &hi);
		return (double)hi;
	}
	/*
	 * Multiplying first keeps rank exact for integer p and moderate
	 * totals (p = 30 of 100 values is rank 30, not 30.000000000000004).
	 * The slack then absorbs what p's binary representation adds (99.9 is
	 * not exact), so that a rank that is an integer in decimal does not
	 * spill into the next slot and jump to its lower bound.
	 */
	rank = (long double)p * total / 100.0L;
	slack = rank * 1e-12L;

	/* The first non-empty slot whose cumulative count reaches rank. */
	for (i = 0; i < nslots; i++) {
		long double n = (long double)slots[i];

		if (!slots[i])
			continue;
		if (cum + n + slack >= rank || i == last) {
			slot_bounds(i, &lo, &hi);
			frac = (rank - cum) / n;
			if (frac < 0.0L)
				frac = 0.0L;
			if (frac > 1.0L)
				frac = 1.0L;
			return (double)(lo + (hi - lo) * frac);
		}
		cum += n;
	}
	return -1.0; /* not reached: `last` is non-empty */
}
