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

SEC("tp_btf/softirq_entry")
int floor_softirq_entry(void *ctx)
{
	return 0;
}

SEC("tp_btf/softirq_exit")
int floor_softirq_exit(void *ctx)
{
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int floor_netif_receive_skb(void *ctx)
{
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int floor_net_dev_start_xmit(void *ctx)
{
	return 0;
}

/* Attached to the cgroup2 root by bpf-floor, as iotrace attaches its own. */
SEC("cgroup_skb/egress")
int floor_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
