/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * CPU cycles where the host has no hardware cycle counter: on-CPU time
 * times the TSC frequency.
 */
#ifndef IOTRACE_CYCLES_H
#define IOTRACE_CYCLES_H

#include <stdint.h>

/*
 * The TSC frequency in Hz: calibrated against CLOCK_MONOTONIC_RAW over a
 * short window on x86, or the CPU's maximum frequency from cpufreq elsewhere.
 * Returns 0 and fills *hz, or -errno when no frequency can be found.
 */
int cycles_tsc_hz(uint64_t *hz);

/* ns * hz / 1e9 without overflow for any ns; saturates at UINT64_MAX. */
uint64_t cycles_from_ns(uint64_t ns, uint64_t hz);

#endif
