/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How the time of one NET_RX or NET_TX softirq run is divided among
 * workloads.  The same code runs in the BPF program (bpf/net.bpf.c) and in
 * the unit tests (tests/unit/test_net_share.c).
 *
 * A softirq run handles packets of many workloads on behalf of none: it
 * runs on the stack of whatever task was interrupted (or in ksoftirqd), so
 * its time must not stay with that task.  During a run, every packet that
 * reaches or leaves a local socket names its owner (the socket's cgroup),
 * and the run keeps a short list of owners with their packet counts.  At
 * the end of the run its time is divided in proportion to packets:
 *
 *   share(owner) = elapsed * packets(owner) / packets(all)
 *
 * Packets rather than bytes, because the cost of this path is mostly per
 * packet (lookup, netfilter, socket queueing); a GRO or GSO packet counts
 * as the wire packets it carries.  Packets of owners beyond the list
 * (`other`) and a run that handled no owned packet at all (forwarding,
 * ARP, packets dropped before a socket) are charged to the unattributed
 * workload.  What integer division leaves over goes to the first owner, so
 * the shares always add up to the elapsed time exactly.
 */
#ifndef IOTRACE_NET_SHARE_H
#define IOTRACE_NET_SHARE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Owners remembered per softirq run; a run rarely serves more. */
#define IOTRACE_SOFTIRQ_OWNERS 8

struct iotrace_softirq_owner {
	__u64 cgroup_id;
	__u64 packets;
};

/*
 * elapsed * part / total, 0 when total is 0.  Exact while both factors fit
 * in 32 bits (a softirq run lasts microseconds, not 4 seconds); beyond that
 * it divides first rather than overflow.
 */
static inline __u64 iotrace_share(__u64 elapsed, __u64 part, __u64 total)
{
	if (!total)
		return 0;
	if ((elapsed | part) >> 32)
		return elapsed / total * part;
	return elapsed * part / total;
}

/*
 * Divide `elapsed` among owners[0..nr) and the packets of no listed owner
 * (`other`): shares[i] for owners[i], the return value for the
 * unattributed workload.  The shares and the return value add up to
 * elapsed.
 */
static inline __u64 iotrace_apportion(__u64 elapsed, const struct iotrace_softirq_owner *owners,
				      __u32 nr, __u64 other, __u64 *shares)
{
	__u64 total = other, given = 0, rest;
	__u32 i;

	if (nr > IOTRACE_SOFTIRQ_OWNERS)
		nr = IOTRACE_SOFTIRQ_OWNERS;
	for (i = 0; i < IOTRACE_SOFTIRQ_OWNERS && i < nr; i++)
		total += owners[i].packets;
	if (!nr || !total)
		return elapsed;
	for (i = 0; i < IOTRACE_SOFTIRQ_OWNERS && i < nr; i++) {
		shares[i] = iotrace_share(elapsed, owners[i].packets, total);
		given += shares[i];
	}
	rest = iotrace_share(elapsed, other, total);
	given += rest;
	/* Rounding: given <= elapsed, off by less than nr + 1. */
	shares[0] += elapsed - given;
	return rest;
}

#endif
