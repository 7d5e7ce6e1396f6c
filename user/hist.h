/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Percentiles from the kernel's log2 latency histogram. */
#ifndef IOTRACE_HIST_H
#define IOTRACE_HIST_H

#include <stdint.h>
#include <stddef.h>

/*
 * The p-th percentile (0 < p <= 100) in nanoseconds of a histogram whose
 * slot i counts values in [2^i, 2^(i+1)), interpolating linearly inside the
 * slot.  Returns a negative value when the histogram is empty.
 */
double hist_percentile_ns(const uint64_t *slots, size_t nslots, double p);

/* The slot a value in ns falls into, as the BPF side computes it. */
unsigned int hist_slot(uint64_t ns, size_t nslots);

#endif
