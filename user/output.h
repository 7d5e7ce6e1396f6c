/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writers of the `iotrace record` line contract (docs/record-format.md).
 * They format rows they are given; they never read BPF maps or /proc.
 */
#ifndef IOTRACE_OUTPUT_H
#define IOTRACE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "advice.h"
#include "classify.h"

enum out_format {
	OUT_JSON,
	OUT_CSV,
};

enum out_row_type {
	OUT_ROW_INTERVAL,
	OUT_ROW_SUMMARY,
};

/* Who the row is about. */
struct out_workload {
	enum wl_kind kind;
	uint64_t cgroup_id;
	const char *cgroup_path; /* relative to the cgroup2 mount; NULL: unknown */
	const char *runtime; /* NULL: none */
	const char *container_id; /* NULL or "": none */
	const char *name;
};

/* A workload's block I/O on one device, for the "devices" list of a row. */
#define OUT_DEV_NAME_MAX 64

struct out_blk_dev {
	uint32_t major, minor;
	char name[OUT_DEV_NAME_MAX]; /* the kernel's name ("loop0"); "": unknown, null */
	uint64_t read_ops, write_ops, read_bytes, write_bytes;
};

/* A name and a count, for the by-reason and by-bucket maps of a VM row. */
struct out_count {
	const char *name;
	uint64_t n;
};

/* The part of a thread role in a VM row. */
struct out_vm_role {
	const char *role; /* vm_role_name() */
	uint32_t threads;
	uint64_t cpu_ns, guest_ns;
	uint64_t read_ops, write_ops, read_bytes, write_bytes;
	uint64_t migrations; /* host CPU changes of the role's threads */
	int64_t runq_wait_ns, runq_waits; /* runnable but waiting for a CPU; < 0: unknown, null */
};

/* What a row of kind "vm" carries beyond a workload's. */
struct out_vm {
	int pid;
	const char *vm_name;
	const char *vm_uuid; /* NULL: unknown */
	uint64_t guest_ns, host_ns;
	/*
	 * "kvm_exit": exits are the hardware exits; "userspace_exit": this host
	 * never fires kvm_exit, and exits are those that reached the VMM.
	 */
	const char *exits_source;
	uint64_t exits, userspace_exits, pio_exits, mmio_exits;
	int64_t exit_handling_ns; /* < 0: not measured here, null */
	const struct out_count *exits_by_reason;
	size_t n_exits_by_reason;
	const struct out_count *userspace_exits_by_reason;
	size_t n_userspace_exits_by_reason;
	const struct out_count *pio_ports; /* by 8-port range, "0x10" */
	size_t n_pio_ports;
	const struct out_count *mmio_pages; /* by 4 KiB page, "0xd0000000" */
	size_t n_mmio_pages;
	const struct out_vm_role *roles;
	size_t nroles;
	double exits_per_io; /* < 0: no I/O, null */
	double host_cycles_per_io; /* < 0: no I/O, null */
};

/* One workload over one interval (or the whole run, for a summary). */
struct out_row {
	enum out_row_type type;
	struct timespec ts; /* CLOCK_REALTIME at the end of the interval */
	double interval_s;
	struct out_workload wl;

	uint64_t cpu_ns;
	uint64_t cycles;
	const char *cycles_source; /* "pmu" or "tsc-estimate" */

	uint64_t read_ops, write_ops, read_bytes, write_bytes;
	double lat_p50_us, lat_p99_us; /* < 0: no I/O, written as null */
	/* The block I/O split by device; NULL: not split (VM rows), null. */
	const struct out_blk_dev *devices;
	size_t n_devices;
	/*
	 * Summary rows: the I/Os still in the in-flight table when the run
	 * ended, by the device they were queued to (user/unfinished.h); not in
	 * the figures above.  !has_unfinished (interval rows): null.
	 */
	bool has_unfinished;
	const struct out_blk_dev *unfinished;
	size_t n_unfinished;
	/*
	 * Summary rows: what the advice rules found (user/advisor.h), after the
	 * row's other keys.  !has_findings (interval rows): null.
	 */
	bool has_findings;
	const struct advice_finding *findings;
	size_t nfindings;

	/* Sockets' traffic; all null when !has_net (network programs off, VM rows). */
	bool has_net;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	uint64_t softirq_ns; /* share of NET_RX/NET_TX softirq time */

	double iops;
	/* Cycles (CPU and network softirq share) per block op + packet. */
	double cycles_per_io; /* < 0: no I/O, written as null */
	double cycles_per_packet, cycles_per_byte; /* < 0: no traffic, null */

	const struct out_vm *vm; /* rows of kind "vm" only; NULL otherwise */
};

/* One BPF program's run count and run time (kernel BPF statistics). */
struct out_prog {
	const char *name;
	uint64_t runs, run_ns;
};

/* iotrace's own accounting problems over an interval (JSON only). */
struct out_self {
	struct timespec ts;
	double interval_s;
	uint64_t stats_full; /* events lost: workload table full */
	uint64_t inflight_full; /* in-flight table full */
	uint64_t rq_no_owner; /* requests charged to "unattributed" */
	uint64_t unseen_complete; /* completions whose issue was not seen */
	uint64_t pmu_read_fail;
	uint64_t prog_missed; /* handler runs the kernel skipped (nested) */
	uint64_t recovered; /* missed completions counted late */
	uint64_t cgroups_untracked; /* cgroups the name cache had no room for */
	uint64_t vm_full; /* KVM events or VM threads lost: a kernel VM table full */
	uint64_t vms_untracked; /* VMs, VM threads or KVM buckets user space refused */
	int64_t inflight_at_exit; /* < 0: not counted (interval lines), null */
	uint64_t net_owners_full; /* softirq shares charged unattributed: too many owners */
	const char *net_off; /* why network figures are off; NULL: on */
	uint64_t blk_dev_full; /* device splits lost: the kernel's (workload, device) table full */
	uint64_t devices_untracked; /* a workload's device list was full */
	uint64_t pruned; /* removed cgroups whose kernel entries were deleted (run total) */
	uint64_t evicted; /* removed cgroups dropped from the workload table (run total) */
	/* iotrace's own BPF run time (kernel BPF statistics); all null when !bpf_stats. */
	bool bpf_stats;
	uint64_t bpf_run_ns, bpf_runs; /* all programs, over the line's period */
	const struct out_prog *progs; /* per program, since attach; NULL: not listed */
	size_t nprogs;
};

struct out_writer {
	FILE *f;
	enum out_format fmt;
	bool header_done;
};

void out_init(struct out_writer *w, FILE *f, enum out_format fmt);

/* Write one row; the CSV header goes before the first row. 0 or -errno. */
int out_row(struct out_writer *w, const struct out_row *r);

/* Write a "self" line in JSON; CSV has no place for it and ignores it. */
int out_self(struct out_writer *w, const struct out_self *s);

/* Format ts as RFC 3339 UTC with milliseconds: 2026-11-25T02:46:33.123Z */
void out_format_ts(const struct timespec *ts, char *buf, size_t len);

/* The CSV header line (without newline), for tests and docs. */
const char *out_csv_header(void);

/*
 * The escaping the rows use, for other writers of the same conventions
 * (iotrace report): a JSON string (null for NULL), a CSV field (empty for
 * NULL, RFC 4180 quoting).
 */
void out_json_str(FILE *f, const char *s);
void out_csv_str(FILE *f, const char *s);

#endif
