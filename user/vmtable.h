/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The VM table: per VM process, its threads' cumulative counters as last
 * read, and per thread role and per KVM bucket the delta of the current
 * interval and the total of the run.  Like the workload table it knows
 * nothing of BPF or of text: the collector feeds it, outputs read it.
 *
 * A VM is (pid, start time): when a pid shows up with another start time,
 * the VM that had it is marked gone and a new one begins, so two processes
 * are never merged.  A gone VM leaves the live table (no more interval
 * rows) but keeps its totals for the run's summary.
 */
#ifndef IOTRACE_VMTABLE_H
#define IOTRACE_VMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotrace.h"
#include "proc_ident.h"
#include "vm_roles.h"

#define VM_MAX_THREADS 1024 /* live threads followed per VM */
#define VM_MAX_BUCKETS 256 /* KVM count buckets per VM */

/*
 * A thread's (or a sum of threads') counters.  The first fields are those
 * of struct iotrace_thread_stats, in its order; guest_proc_ns is guest time
 * from /proc (tick-sampled), for hosts where kvm_entry/kvm_exit never fire.
 */
struct vm_counters {
	uint64_t cpu_ns, cpu_cycles;
	uint64_t rd_ops, wr_ops, rd_bytes, wr_bytes;
	uint64_t kvm_exits, exit_handling_ns, guest_ns;
	uint64_t userspace_exits, pio_exits, mmio_exits;
	uint64_t migrations, runq_wait_ns, runq_waits;
	uint64_t guest_proc_ns;
};

void vm_counters_add(struct vm_counters *acc, const struct vm_counters *d);

/*
 * Guest time: from kvm_entry -> kvm_exit spans where those fire, else from
 * /proc.  Host time is the rest of the on-CPU time, never below zero.
 */
uint64_t vm_counters_guest_ns(const struct vm_counters *c);
uint64_t vm_counters_host_ns(const struct vm_counters *c);
bool vm_counters_kvm_seen(const struct vm_counters *c);

struct vm_thread {
	uint32_t tid;
	enum vm_role role;
	bool role_set;
	struct vm_counters last; /* cumulative, as last read */
	uint64_t guest_proc_base; /* /proc guest time when first seen */
	bool guest_base_set;
	bool fed; /* fed in the current read */
};

struct vm_role_stats {
	uint32_t threads; /* threads of this role active in the interval */
	uint32_t threads_total; /* threads that had this role during the run */
	struct vm_counters delta, total;
};

struct vm_bucket {
	uint32_t kind; /* enum iotrace_kvm_kind */
	uint64_t code;
	struct iotrace_kvm_count last, delta, total;
};

struct vm_entry {
	uint32_t pid;
	uint64_t start_ns; /* the group leader's start time, from BPF */
	bool gone; /* exited, or its pid now belongs to another process */
	bool active; /* non-zero delta in the current interval */
	bool ever_active;
	struct proc_ident ident; /* from /proc at the first read; pid 0: unknown */
	bool named; /* the fields below are set */
	char name[256];
	char uuid[40]; /* "" when unknown */
	const char *name_source; /* "libvirt", "cmdline" or "pid" */
	uint64_t cgroup_id; /* the process's cgroup2 id; 0: unknown */
	uint64_t bpf_cgroup_id; /* the cgroup its first KVM event came from */
	char cgroup_path[512]; /* relative to the cgroup2 mount; "": unknown */
	const char *runtime; /* of that cgroup, e.g. "libvirt"; NULL: none */

	struct vm_thread *threads;
	size_t nthreads, threads_cap;
	size_t threads_untracked; /* threads refused: VM_MAX_THREADS reached */
	struct vm_role_stats roles[VM_ROLE_MAX];
	struct vm_counters delta, total;

	struct vm_bucket buckets[VM_MAX_BUCKETS];
	size_t nbuckets;
	size_t buckets_untracked; /* (kind, code) pairs refused: table full */

	/* The traffic of the VM's tap devices and its network softirq share. */
	struct iotrace_net_stats net_last, net_delta, net_total;
	int ntaps; /* tap devices found at the last look */
};

struct vm_table {
	struct vm_entry **vms;
	size_t n, limit;
	size_t overflow; /* VMs refused because the table was at its limit */
};

int vm_table_init(struct vm_table *t, size_t limit);
void vm_table_free(struct vm_table *t);

/* Start an interval: clear every delta and the active marks. */
void vm_table_begin(struct vm_table *t);

/*
 * The live VM with this pid and start time, created if there is room
 * (NULL and overflow++ if not).  A live VM with the same pid but another
 * start time is marked gone first.
 */
struct vm_entry *vm_table_get(struct vm_table *t, uint32_t pid, uint64_t start_ns);

/* The live VM with this pid, or NULL. */
struct vm_entry *vm_table_find(struct vm_table *t, uint32_t pid);

/* The thread tid of vm, created if there is room (NULL if not; counted). */
struct vm_thread *vm_thread_get(struct vm_entry *vm, uint32_t tid, bool *created);

/*
 * Give a thread its role (at its first sighting, or when it turns out to be
 * a vCPU); later deltas go to that role, earlier ones stay where they were.
 */
void vm_thread_set_role(struct vm_entry *vm, struct vm_thread *th, enum vm_role role);

/*
 * Feed a thread's cumulative counters (guest_proc_ns: cumulative /proc
 * guest time of the thread, or 0 when unknown).  The delta against the
 * last read is charged to the thread's role; a counter that went backwards
 * means the kernel entry was recreated, and then all of cur is new.
 */
void vm_thread_feed(struct vm_entry *vm, struct vm_thread *th, const struct vm_counters *cur);

/*
 * Feed the VM's cumulative tap traffic (vm_net); a counter that went
 * backwards means the kernel entry was recreated, and all of cur is new.
 */
void vm_net_feed(struct vm_entry *vm, const struct iotrace_net_stats *cur);

/* Forget a thread that is gone, after its last feed; its totals stay. */
void vm_thread_remove(struct vm_entry *vm, struct vm_thread *th);

/* Feed a KVM bucket's cumulative count; false if the bucket table is full. */
bool vm_bucket_feed(struct vm_entry *vm, uint32_t kind, uint64_t code,
		    const struct iotrace_kvm_count *cur);

/* Close the interval: mark VMs whose delta is non-zero active. */
void vm_table_end(struct vm_table *t);

#define vm_table_for_each(t, i, e) for ((i) = 0; (i) < (t)->n && ((e) = (t)->vms[(i)], 1); (i)++)

#endif
