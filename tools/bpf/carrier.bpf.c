// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark's lower bound for per-workload block accounting: the least
 * any design must do to charge a completion to the workload that submitted
 * it.  The owner is known only at submission and the completion runs in
 * someone else's context, so the owner has to be written somewhere at
 * block_bio_queue and read back at block_rq_complete.  Here that is one
 * array slot per I/O written with plain stores (no claim, no collision
 * handling, no clock, no histogram) and one per-CPU counter increment: not
 * correct accounting, only the cost floor of carrying an owner.  The other
 * tracepoints keep the empty programs of floor.bpf.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define SLOTS_BITS 14

struct slot {
	__u64 key;
	__u64 owner;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << SLOTS_BITS);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} ops SEC(".maps");

/* A BTF pointer as a number, as bpf/maps.bpf.h's addr_of() does. */
static __always_inline __u64 addr_of(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

static __always_inline struct slot *slot_of(__u64 key)
{
	__u32 idx = (__u32)((key * 0x9E3779B97F4A7C15ULL) >> (64 - SLOTS_BITS));

	return bpf_map_lookup_elem(&slots, &idx);
}

SEC("tp_btf/block_bio_queue")
int BPF_PROG(carrier_bio_queue, struct bio *bio)
{
	__u64 key = addr_of(bio);
	struct slot *s = slot_of(key);

	if (s) {
		s->key = key;
		s->owner = bpf_get_current_cgroup_id();
	}
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(carrier_rq_complete, struct request *rq)
{
	__u64 key = addr_of(rq->bio);
	struct slot *s = slot_of(key);
	__u32 idx;
	__u64 *n;

	if (!s || s->key != key)
		return 0;
	idx = s->owner & 1023;
	n = bpf_map_lookup_elem(&ops, &idx);
	if (n)
		*n += 1;
	s->key = 0;
	return 0;
}

SEC("tp_btf/sched_switch")
int carrier_sched_switch(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_bio_backmerge")
int carrier_bio_backmerge(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_rq_insert")
int carrier_rq_insert(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_bio_frontmerge")
int carrier_bio_frontmerge(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_split")
int carrier_split(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_bio_complete")
int carrier_bio_complete(void *ctx)
{
	return 0;
}

SEC("tp_btf/softirq_entry")
int carrier_softirq_entry(void *ctx)
{
	return 0;
}

SEC("tp_btf/softirq_exit")
int carrier_softirq_exit(void *ctx)
{
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int carrier_netif_receive_skb(void *ctx)
{
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int carrier_net_dev_start_xmit(void *ctx)
{
	return 0;
}

/* Attached to the cgroup2 root by bpf-floor, as iotrace attaches its own. */
SEC("cgroup_skb/egress")
int carrier_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int carrier_ingress(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
