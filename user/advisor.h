/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The advice rules run over a session (user/advice.h, user/advice_ct.h):
 * while the session reads, each live VM's configuration and each
 * container's network path and mounts are read (they can only be asked
 * while the process runs); at the end, every rule is evaluated for every
 * VM and container seen.  `iotrace advise` prints the outcome, `record`
 * puts the findings in its summary.
 */
#ifndef IOTRACE_ADVISOR_H
#define IOTRACE_ADVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "advice.h"
#include "advice_ct.h"
#include "session.h"

struct vm_row_buf;
struct wl_row_buf;
struct advisor_watch;
struct advisor_ct_watch;
struct advisor_skip;

/*
 * Workloads watched as containers or host-network references at most
 * (each keeps its mounts and network facts, about 14 KiB): removed ones
 * not judged make room first; beyond, counted in ct_untracked.
 */
#define ADVISOR_MAX_CT_WATCHES 256

/* A VM as judged: what the rules were given, and what they found. */
struct advisor_vm {
	const struct vm_entry *vm;
	struct advice_vm in;
	struct advice_result res;
};

/* A container (in.judged) or a host-network reference, and the rules' outcome for the first. */
struct advisor_ct {
	const struct wl_entry *e;
	struct advice_ct in;
	struct advice_ct_result res;
};

struct advisor {
	struct session *s;
	struct advisor_watch *w; /* VMs */
	size_t nw, capw;
	struct advisor_ct_watch *cw; /* workloads that may be containers, by cgroup id */
	size_t ncw, capcw;
	/* Workloads found not to be containers, and when: looked at again after a while. */
	struct advisor_skip *skip;
	uint64_t ct_untracked; /* workloads not watched: ADVISOR_MAX_CT_WATCHES reached */
	/* The last advisor_evaluate(): VMs in the session's filter, every watched workload. */
	struct advisor_vm *vms;
	size_t nvms;
	struct advisor_ct *cts;
	size_t ncts, njudged;
	size_t nfindings, nthin; /* over both */
	struct vm_row_buf *vb;
	struct wl_row_buf *rb;
};

void advisor_init(struct advisor *a, struct session *s);
void advisor_free(struct advisor *a);

/*
 * After each session_read() (now: monotonic seconds; dt: since the last):
 * count the time each VM and container was watched, and read the facts
 * that are due.  Also once before the first read, with dt 0.
 */
void advisor_observe(struct advisor *a, double now, double dt);

/* Evaluate every rule for everything watched so far.  0, or -ENOMEM. */
int advisor_evaluate(struct advisor *a);

/* The last evaluation's outcome for a VM, or a judged container (by cgroup id); NULL: none. */
const struct advice_result *advisor_vm_result(const struct advisor *a, const struct vm_entry *vm);
const struct advice_ct_result *advisor_ct_result(const struct advisor *a, uint64_t cgroup_id);

#endif
