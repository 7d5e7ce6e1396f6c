/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Loading and attaching the BPF programs: probe which program type this
 * kernel takes (tp_btf, else raw_tp), set up the cycle counter when there is
 * one, attach, and undo all of it on close.
 */
#ifndef IOTRACE_LOADER_H
#define IOTRACE_LOADER_H

#include <stdbool.h>
#include <stddef.h>

enum prog_mode {
	PROG_AUTO,
	PROG_TP_BTF,
	PROG_RAW_TP,
};

enum pmu_mode {
	PMU_AUTO, /* hardware cycles if the host has them, else TSC */
	PMU_NONE, /* always estimate from TSC */
	PMU_CPU_CLOCK, /* the software cpu-clock event: tests the counter path */
};

struct loader_opts {
	enum prog_mode prog;
	enum pmu_mode pmu;
	bool verbose;
};

struct iotrace_bpf;
struct bpf_link;
struct bpf_program;

struct loader {
	struct iotrace_bpf *skel;
	enum prog_mode mode; /* PROG_TP_BTF or PROG_RAW_TP once loaded */
	const char *cycles_source; /* "pmu", "pmu-cpu-clock" or "tsc-estimate" */
	int ncpus; /* possible CPUs: per-CPU map value count */
	int *pmu_fds;
	struct bpf_link **links;
	struct bpf_program **progs; /* progs[i] is attached by links[i] */
	int nlinks;
	int flush_fd;
	bool kvm; /* KVM tracepoints attached: VMs are discovered */
	bool kvm_exit; /* kvm_exit/kvm_entry among them (Intel, AMD) */
	bool kvm_reasons; /* the exit reason's place in the vCPU is known */
	/*
	 * The kernel keeps each task's run-queue wait (struct sched_info,
	 * CONFIG_SCHED_INFO): VM threads' runq_wait_ns and runq_waits are
	 * measured; without it they stay 0 and are reported as unknown.
	 */
	bool sched_info;
	bool net_cap; /* CAP_NET_ADMIN held: socket programs may load */
	int cgroup_root_fd; /* where the socket programs attach; -1: none */
	const char *net_off; /* why network figures are off; NULL: they are on */
	int stats_fd; /* BPF run-time statistics on while open; -1: off */
};

const char *prog_mode_name(enum prog_mode m);

/*
 * Load and attach.  On failure returns -errno with a message in err saying
 * what to do, and leaves nothing loaded.
 */
int loader_open(struct loader *l, const struct loader_opts *o, char *err, size_t errlen);

/*
 * Turn on the kernel's BPF run-time statistics (run_time_ns, run_cnt per
 * program) for as long as the loader lives; the kernel turns them off when
 * the last holder closes.  They cost 20 to 40 ns per program run.  0 or
 * -errno.
 */
int loader_enable_stats(struct loader *l);

/* Charge every CPU's running slice so that the maps are current. */
int loader_flush(struct loader *l);

int loader_map_fd(const struct loader *l, const char *name);

/*
 * Forget a VM that is gone (its entry in vm_procs must already be deleted):
 * one VM fewer, and a new generation so that tasks stop caching it.
 */
void loader_vm_removed(struct loader *l);

/* A VM entered by user space: one VM more, and a new generation. */
void loader_vm_added(struct loader *l);

/* A loader that holds nothing: loader_close() on it does nothing. */
#define LOADER_INIT                                  \
	{                                            \
		.flush_fd = -1, .cgroup_root_fd = -1 \
	}

/* Detach and unload everything; safe on LOADER_INIT or a half-opened loader. */
void loader_close(struct loader *l);

#endif
