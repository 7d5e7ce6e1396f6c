// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf-floor: attach the benchmark's reference programs to iotrace's
 * tracepoints until SIGINT or SIGTERM.  By default the empty programs (the
 * floor); with --carrier, the least per-I/O work that charging a completion
 * to its submitter needs (tools/bpf/carrier.bpf.c).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "carrier.skel.h"
#include "floor.skel.h"

static void wait_for_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fprintf(stderr, "bpf-floor: attached\n");
	sigwait(&set, &sig);
}

static int run_floor(void)
{
	struct floor_bpf *skel = floor_bpf__open_and_load();
	int err;

	if (!skel) {
		fprintf(stderr, "bpf-floor: cannot load the empty programs\n");
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err)
		fprintf(stderr, "bpf-floor: cannot attach: %s\n", strerror(-err));
	else
		wait_for_signal();
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}

static int run_carrier(void)
{
	struct carrier_bpf *skel = carrier_bpf__open_and_load();
	int err;

	if (!skel) {
		fprintf(stderr, "bpf-floor: cannot load the carrier programs\n");
		return 1;
	}
	err = carrier_bpf__attach(skel);
	if (err)
		fprintf(stderr, "bpf-floor: cannot attach: %s\n", strerror(-err));
	else
		wait_for_signal();
	carrier_bpf__destroy(skel);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return run_floor();
	if (argc == 2 && !strcmp(argv[1], "--carrier"))
		return run_carrier();
	fprintf(stderr, "usage: bpf-floor [--carrier]\n");
	return 2;
}
