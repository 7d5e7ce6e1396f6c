/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `iotrace advise`'s rules: from a VM's measured figures (what iotrace saw
 * it cost, by thread role) and its configuration facts (user/vm_config.h),
 * the findings worth raising, each with its evidence, its remedy and the
 * saving to expect.  Pure: no BPF, no /proc, no output; user/advise.c
 * gathers the inputs and prints.  docs/advice.md is the reference for every
 * rule, threshold and wording here.
 *
 * A rule that lacks the evidence it needs (too few I/Os, too short a look,
 * too little resident memory, a configuration that could not be read) is
 * not raised: it is reported as "thin", with why.
 */
#ifndef IOTRACE_ADVICE_H
#define IOTRACE_ADVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_config.h"
#include "vm_roles.h"

/*
 * vm.io_main_loop needs this many block operations, seen over at least
 * ADVICE_MIN_SECONDS: per-I/O figures over fewer are dominated by QEMU's
 * own start-up I/O (its alignment probes, the guest's partition scan: a
 * handful of I/Os on the main thread whatever the configuration), and a
 * role split over a shorter look may be one burst.
 */
#define ADVICE_MIN_BLOCK_OPS 1000
#define ADVICE_MIN_SECONDS 3.0
/* vm.io_main_loop: raised when at least this share of the block ops is the main loop's. */
#define ADVICE_MAIN_LOOP_MIN_SHARE 0.5
/*
 * vm.no_hugepages: transparent huge pages are given per 2 MiB region as the
 * guest touches it, so their coverage is judged only once this much guest
 * RAM is resident (16 regions); hugetlbfs-backed RAM needs no minimum.
 */
#define ADVICE_HUGE_MIN_RSS (32ull << 20)
/* vm.no_hugepages: raised when huge pages back less than this share of the resident guest RAM. */
#define ADVICE_HUGE_MIN_COVERAGE 0.5

/*
 * vm.unpinned_vcpu is judged once the vCPU threads ran this long (on-CPU,
 * all of them, over at least ADVICE_MIN_SECONDS): a VM whose vCPUs are
 * nearly idle loses little to where they run, and its shares are those of
 * a few hundred slices.
 */
#define ADVICE_PIN_MIN_VCPU_NS 250000000ull
/*
 * vm.unpinned_vcpu: raised when unpinned vCPU threads move between host
 * CPUs at least this often (per vCPU thread and second; an I/O-bound vCPU
 * of tools/vmm moved about 9 times a second on this idle host) ...
 */
#define ADVICE_PIN_MIN_MIGRATIONS_PER_S 20.0
/*
 * ... or wait runnable for at least this share of their runnable time
 * (run-queue wait / (wait + on-CPU time): what the guest sees as steal
 * time), at this mean wait or more per switch-in.  A hand-off (the
 * wakeup, the waker finishing its work) costs microseconds -- 6 to 22 us
 * a switch-in for tools/vmm on this idle host, pinned or not -- while a
 * wait behind another runnable task lasts up to its slice (EEVDF: 0.75 ms
 * times 1 + log2 of the CPUs).
 */
#define ADVICE_PIN_MIN_WAIT_SHARE 0.10
#define ADVICE_PIN_MIN_MEAN_WAIT_US 50.0

#define ADVICE_NRULES 4
#define ADVICE_MAX_FIGS 14
#define ADVICE_MAX_SAVING 4

enum advice_status {
	ADVICE_PASSED, /* checked, nothing to say */
	ADVICE_RAISED, /* a finding */
	ADVICE_THIN, /* not judged: evidence too thin (reason says what is missing) */
};

enum advice_severity {
	ADVICE_INFO,
	ADVICE_WARNING,
};

/* A figure of the evidence or the saving: a number, a string, or null. */
enum advice_fig_type {
	ADVICE_FIG_NULL,
	ADVICE_FIG_NUM,
	ADVICE_FIG_STR,
};

struct advice_fig {
	const char *key;
	enum advice_fig_type type;
	double num;
	int prec; /* decimals to print num with */
	char str[96];
};

/* What iotrace measured of one VM over the run. */
struct advice_vm_measure {
	double seconds; /* how long iotrace watched the VM (while it ran) */
	uint64_t role_ops[VM_ROLE_MAX]; /* block read + write ops by thread role */
	uint64_t role_cpu_ns[VM_ROLE_MAX];
	uint32_t role_threads[VM_ROLE_MAX]; /* threads that had the role during the run */
	uint64_t packets; /* tap packets, both ways */
	double cycles_per_ns; /* the cycle source's rate (TSC GHz, or measured) */
	const char *cycles_source; /* "pmu", "tsc-estimate", ... */
	const char *exits_source; /* "kvm_exit" or "userspace_exit" */
	double exits_per_io; /* as record's derived.exits_per_io; < 0: null */
	double host_cycles_per_io; /* as record's derived.host_cycles_per_io; < 0: null */
	/* Scheduling of the role's threads (record's threads[].migrations, runq_wait_ns, ...). */
	uint64_t role_migrations[VM_ROLE_MAX];
	uint64_t role_runq_wait_ns[VM_ROLE_MAX];
	uint64_t role_runq_waits[VM_ROLE_MAX];
	bool runq_wait_known; /* the kernel keeps run-queue wait (loader.sched_info) */
};

/* One VM: who it is, what was measured, what its configuration is. */
struct advice_vm {
	const char *name;
	int pid;
	struct advice_vm_measure m;
	struct vm_config cfg; /* cfg.cmdline_read false: never read */
};

struct advice_finding {
	const char *id;
	enum advice_severity severity;
	char summary[256]; /* one line, with the figures that matter */
	struct advice_fig evidence[ADVICE_MAX_FIGS];
	size_t nevidence;
	char source[256]; /* where the evidence came from */
	char remedy[1024];
	struct advice_fig saving[ADVICE_MAX_SAVING]; /* the estimate's figures; none: not estimated */
	size_t nsaving;
	char saving_basis[512]; /* how it was estimated, or why it was not */
};

/* The outcome of one rule for one VM. */
struct advice_check {
	const char *id;
	enum advice_status status;
	char reason[256]; /* thin or passed: why; raised: the finding's summary */
};

struct advice_result {
	struct advice_check checks[ADVICE_NRULES];
	struct advice_finding findings[ADVICE_NRULES];
	size_t nfindings;
};

/*
 * Evaluate every rule for vms[which].  The other VMs are the host's
 * reference: a measured saving compares with the best of them that already
 * has the remedy (say, a VM doing its I/O on an iothread).
 */
void advice_evaluate(const struct advice_vm *vms, size_t nvms, size_t which,
		     struct advice_result *res);

/*
 * The rule ids, in evaluation order: "vm.io_main_loop", "vm.no_hugepages",
 * "vm.cpu_topology" (QEMU only), "vm.unpinned_vcpu" (any VMM).
 */
extern const char *const advice_rule_ids[ADVICE_NRULES];

const char *advice_severity_name(enum advice_severity s);

/*
 * Building a finding (user/advice.c's and user/advice_ct.c's rules): a
 * figure of evidence (a number, v < 0 for null; a string, NULL for null),
 * a figure of the saving, each left out once the finding is full.
 */
void advice_ev_num(struct advice_finding *fd, const char *key, double v, int prec);
void advice_ev_str(struct advice_finding *fd, const char *key, const char *s);
void advice_sv_num(struct advice_finding *fd, const char *key, double v, int prec);

/* snprintf into a finding's or check's text field. */
__attribute__((format(printf, 3, 4))) void advice_setf(char *dst, size_t size, const char *fmt,
						       ...);
#define ADVICE_SETF(field, ...) advice_setf((field), sizeof(field), __VA_ARGS__)
const char *advice_status_name(enum advice_status s);

/*
 * vm.io_main_loop's split: the block ops counted as the main loop's.  main
 * always; worker and io_uring too when the configuration is known to have
 * no iothread (no -device ...,iothread= and no "IO ..." thread), because
 * QEMU's thread pool and io_uring are then fed by the main loop.
 */
uint64_t advice_main_loop_ops(const struct advice_vm *vm, bool *with_pool);

/* Block ops over every role. */
uint64_t advice_block_ops(const struct advice_vm_measure *m);

/*
 * The I/O path's cycles per block op: the CPU of every thread but the
 * vCPUs' (which run the guest, and under TCG emulate it), per block op;
 * < 0 without ops.
 */
double advice_io_path_cycles_per_io(const struct advice_vm_measure *m);

#endif
