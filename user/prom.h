/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4) of the figures
 * `iotrace serve` exports: metric families, label escaping, the block
 * latency histogram, iotrace's own figures.  Pure: it formats what it is
 * given into a bounded buffer, and reads neither BPF maps nor /proc.  The
 * metrics are documented in docs/metrics.md.
 */
#ifndef IOTRACE_PROM_H
#define IOTRACE_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotrace.h"

/* A growing text buffer that never grows beyond max bytes. */
struct prom_buf {
	char *data; /* NUL-terminated once anything was written */
	size_t len, cap, max;
	bool full; /* something did not fit (or no memory): the text is incomplete */
};

void prom_buf_init(struct prom_buf *b, size_t max);
void prom_buf_reset(struct prom_buf *b);
void prom_buf_free(struct prom_buf *b);
/* Hand over the text (free() it); the buffer is empty afterwards. */
char *prom_buf_take(struct prom_buf *b, size_t *len);

void prom_printf(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A label value, escaped as the format wants (backslash, double quote and
 * newline), with any byte that is not part of valid UTF-8 replaced by
 * U+FFFD: Prometheus refuses a whole scrape over one invalid label value.
 */
void prom_label_value(struct prom_buf *b, const char *v);

/*
 * The latency histogram's bucket bounds: le = 2^PROM_LAT_FIRST_LOG2,
 * 2^(PROM_LAT_FIRST_LOG2 + PROM_LAT_STEP_LOG2), ... ns (1.024 us to 4.29 s,
 * a factor of 4 apart), then +Inf.  Each is the upper edge of a kernel slot
 * (slot i counts [2^i, 2^(i+1)) ns), so the buckets are exact sums of slots.
 */
#define PROM_LAT_FIRST_LOG2 10
#define PROM_LAT_STEP_LOG2 2
#define PROM_LAT_BUCKETS 12

/* Upper bound of bucket k (0 <= k < PROM_LAT_BUCKETS) in ns. */
uint64_t prom_lat_bucket_ns(int k);

/*
 * Cumulative counts of the PROM_LAT_BUCKETS buckets from the kernel's
 * log2 slots; returns the count of all slots (the +Inf bucket).
 */
uint64_t prom_lat_buckets(const uint64_t *slots, uint64_t *cum);

/* One workload (a cgroup, container, VM) and its run totals. */
struct prom_wl {
	const char *kind; /* wl_kind_name(): label "kind" */
	const char *name; /* label "name"; NULL: "" */
	uint64_t id; /* label "id": the cgroup id, or a VM's pid */
	/* For iotrace_workload_info only; NULL: "". */
	const char *cgroup, *runtime, *container_id;

	uint64_t cpu_ns, cycles;
	uint64_t read_ops, write_ops, read_bytes, write_bytes;
	const uint64_t *lat_hist; /* IOTRACE_LAT_SLOTS slots; NULL: none kept (VMs) */

	bool has_net; /* network figures on */
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, softirq_ns;

	bool is_vm;
	bool has_hw_exits; /* exits counts kvm_exit (this host fires it) */
	uint64_t guest_ns, exits, userspace_exits, pio_exits, mmio_exits;
};

/* One BPF program's own figures, cumulative as the kernel keeps them. */
struct prom_prog {
	const char *name;
	uint64_t run_ns, runs, recursion_misses;
};

/* iotrace's own figures. */
struct prom_self {
	const char *version, *prog_type, *cycles_source;
	const char *net_off; /* why network figures are off; NULL: on */
	const uint64_t *counters; /* IOTRACE_CNT_MAX, cumulative */
	uint64_t prog_missed; /* recursion misses, all programs */
	uint64_t workloads_untracked; /* cgroups the tables had no room for */
	uint64_t devices_untracked;
	uint64_t pruned; /* removed cgroups whose kernel entries were deleted */
	uint64_t evicted; /* removed cgroups dropped from the workload table */
	size_t workloads; /* series sets exported (workloads and VMs) */
	size_t workloads_limit;
	bool bpf_stats; /* run time and runs measured: progs[] meaningful */
	const struct prom_prog *progs;
	size_t nprogs;
	double collect_s; /* time to read the maps and format the exposition */
	double timestamp_s; /* when the figures were read, Unix time */
};

/*
 * Every workload family: HELP and TYPE once, then the samples of every
 * workload in wls[].  Labels kind, name and id identify a workload.
 * Returns false when the buffer is full (the text is then incomplete).
 */
bool prom_write_workloads(struct prom_buf *b, const struct prom_wl *wls, size_t n);

/* iotrace's own families.  Returns false when the buffer is full. */
bool prom_write_self(struct prom_buf *b, const struct prom_self *s);

#endif
