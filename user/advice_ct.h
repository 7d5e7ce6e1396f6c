/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `iotrace advise`'s container rules: net.nat, net.bridge and
 * storage.writable_layer.  From a container's measured figures (its
 * cgroup's network and block counters, block I/O by device) and the facts
 * read while it ran (its network path, user/ct_net.h; its mounts,
 * user/ct_mounts.h), the findings, with the same finding and check
 * structures as the VM rules (advice.h).  Pure: no BPF, no /proc;
 * user/advise.c gathers and prints.  docs/advice.md explains every
 * threshold and wording.
 */
#ifndef IOTRACE_ADVICE_CT_H
#define IOTRACE_ADVICE_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "advice.h"
#include "ct_mounts.h"
#include "ct_net.h"

/*
 * net.nat / net.bridge need this much traffic over at least
 * ADVICE_MIN_SECONDS, for the workload and for a host-network reference:
 * cycles per byte over fewer packets are the socket's set-up and the
 * first packets' ARP and route lookups, not the path's steady cost.
 */
#define ADVICE_NET_MIN_PACKETS 1000
#define ADVICE_NET_MIN_BYTES (1ull << 20)
/*
 * The study's transmit cost (Felter et al., IBM RC25482, 2014): cycles per
 * byte with Docker's bridge + NAT against the host's network stack.
 */
#define ADVICE_STUDY_NAT_CPB 2.55
#define ADVICE_STUDY_NATIVE_CPB 2.1

/*
 * storage.writable_layer needs this much written over at least
 * ADVICE_MIN_SECONDS: under it the writes are a container's logs and
 * lock files, whose place does not matter.
 */
#define ADVICE_CT_MIN_WRITE_BYTES (16ull << 20)
#define ADVICE_CT_MIN_WRITE_OPS 64
/* raised when at least this share of the container's block writes is on its layer's device */
#define ADVICE_CT_LAYER_MIN_SHARE 0.5

#define ADVICE_CT_NRULES 3
#define ADVICE_CT_MAX_DEVS 16

/* A container's block I/O on one device. */
struct advice_ct_dev {
	uint32_t major, minor;
	uint64_t wr_ops, wr_bytes, rd_ops, rd_bytes;
};

/* What iotrace measured of one workload (a cgroup) over the run. */
struct advice_ct_measure {
	double seconds; /* watched */
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	double cost_cycles; /* CPU cycles + network softirq share (record's cycles_per_byte numerator) */
	double cycles_per_ns;
	const char *cycles_source;
	uint64_t wr_ops, wr_bytes;
	struct advice_ct_dev devs[ADVICE_CT_MAX_DEVS];
	size_t ndevs;
	uint64_t devs_untracked; /* device feeds refused: the split is incomplete */
};

struct advice_ct {
	const char *name;
	const char *cgroup_path;
	int pid; /* the process whose facts were read; 0: none */
	bool judged; /* a container to judge; else only a reference */
	struct advice_ct_measure m;
	struct ct_net_facts net; /* net.read false: never read */
	struct ct_mounts mounts; /* mounts.read false: never read */
};

struct advice_ct_result {
	struct advice_check checks[ADVICE_CT_NRULES];
	struct advice_finding findings[ADVICE_CT_NRULES];
	size_t nfindings;
};

/* "net.nat", "net.bridge", "storage.writable_layer". */
extern const char *const advice_ct_rule_ids[ADVICE_CT_NRULES];

/*
 * Evaluate every container rule for cts[which].  The others are the host's
 * reference: net.nat and net.bridge compare with a workload in the host's
 * network namespace measured in the same run.
 */
void advice_ct_evaluate(const struct advice_ct *cts, size_t n, size_t which,
			struct advice_ct_result *res);

/* Cycles per byte (tx + rx) of m; < 0 without bytes. */
double advice_ct_cycles_per_byte(const struct advice_ct_measure *m);

/* Whether m has enough traffic to be judged or to be a reference. */
bool advice_ct_net_enough(const struct advice_ct_measure *m);

#endif
