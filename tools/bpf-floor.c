// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf-floor: attach empty programs to iotrace's tracepoints until SIGINT or
 * SIGTERM.  Used by `make bench` as the floor of the overhead comparison.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

int main(void)
{
	struct floor_bpf *skel;
	sigset_t set;
	int sig, err;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bpf-floor: cannot load the empty programs\n");
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "bpf-floor: cannot attach: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	fprintf(stderr, "bpf-floor: attached\n");
	sigwait(&set, &sig);
	floor_bpf__destroy(skel);
	return 0;
}
