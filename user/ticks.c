// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The interval clock and the stop signals: see ticks.h. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "ticks.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double ticks_mono(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

double ticks_real(void)
{
	return clock_s(CLOCK_REALTIME);
}

void ticks_hold_stop_signals(sigset_t *stopset)
{
	sigemptyset(stopset);
	sigaddset(stopset, SIGINT);
	sigaddset(stopset, SIGTERM);
	sigaddset(stopset, SIGHUP);
	pthread_sigmask(SIG_BLOCK, stopset, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool ticks_wait_until(const sigset_t *stopset, double deadline)
{
	double left = deadline - ticks_mono();
	struct timespec ts;
	int sig;

	if (left <= 0)
		return false;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
	do {
		sig = sigtimedwait(stopset, NULL, &ts);
	} while (sig < 0 && errno == EINTR);
	return sig > 0;
}
