// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark's floor: empty programs on the tracepoints iotrace uses
 * (keep the two lists the same).
 * What they cost is the price of being attached at all; iotrace's own cost
 * is measured against it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_switch")
int floor_sched_switch(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_bio_queue")
int floor_bio_queue(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_bio_backmerge")
int floor_bio_backmerge(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_rq_insert")
int floor_rq_insert(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_bio_frontmerge")
int floor_bio_frontmerge(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_split")
int floor_split(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_rq_complete")
int floor_rq_complete(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_bio_complete")
int floor_bio_complete(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
