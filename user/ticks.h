/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The clock and the stop signals of the commands that read every interval
 * (record, serve, advise, top): SIGINT, SIGTERM and SIGHUP are held
 * pending from before attaching, so that none is lost while loading, and
 * taken synchronously between intervals.
 */
#ifndef IOTRACE_TICKS_H
#define IOTRACE_TICKS_H

#include <signal.h>
#include <stdbool.h>

/* CLOCK_MONOTONIC and CLOCK_REALTIME, in seconds. */
double ticks_mono(void);
double ticks_real(void);

/*
 * Block SIGINT, SIGTERM and SIGHUP in the calling thread (and in threads it
 * creates later), fill *stopset with them, and ignore SIGPIPE (a closed
 * pipe must end a run cleanly, not kill it).
 */
void ticks_hold_stop_signals(sigset_t *stopset);

/* Sleep until `deadline` (ticks_mono() seconds) or a stop signal.  true: stop. */
bool ticks_wait_until(const sigset_t *stopset, double deadline);

#endif
