// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Network packets, bytes and softirq time per workload.
 *
 * Packets are charged to the cgroup of the socket that sends or receives
 * them, by cgroup_skb programs attached to the cgroup2 root: the kernel
 * runs them for every socket of every cgroup below it, in any network
 * namespace, with the socket at hand even when receive runs in softirq
 * context on behalf of whoever was interrupted.  Egress sees a packet as
 * it leaves its socket's IP layer (before fragmentation), ingress as it is
 * delivered to its socket (after reassembly): one count per packet per
 * end, whatever bridges, veths and NAT lie between.  Forwarded packets
 * have no local socket and are not counted here.
 *
 * Bytes are payload bytes: what follows the IP header and the UDP or TCP
 * header (an IPv6 extension header counts as payload, as does everything
 * after the IP header of other protocols), whatever the segmentation.  Packets are wire packets: a GSO or GRO
 * packet counts for the segments it carries.
 *
 * Devices: a VM's guest has no socket on the host; its packets cross the
 * host at its tap device, written and read by QEMU's threads.  User space
 * enters such devices in net_devs with their owner; netif_receive_skb on
 * one counts the owner's tx, net_dev_start_xmit to one its rx, in vm_net.  The
 * host end of a container's veth is entered too, owned by the container's
 * cgroup: its packets are counted at the container's sockets already, so
 * the device only names the cgroup as an owner of the softirq run in
 * progress (forwarding the container's packets, which no local socket
 * sees, is work done for it).  While no device is entered these programs
 * return after one load; with devices, a packet costs one hash lookup per
 * device it crosses.
 *
 * Softirq time: NET_RX and NET_TX runs are timed from softirq_entry to
 * softirq_exit, and their time is divided among the owners of the packets
 * each run handled (include/net_share.h).  The same time is taken back
 * from the task the run interrupted, whose scheduler run time includes it
 * on kernels without CONFIG_IRQ_TIME_ACCOUNTING, so that it is charged
 * once, to the workloads it served.  A run's time is the scheduler's: less
 * the steal time the task clock left out meanwhile (task_clock_lag()).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"
#include "net_share.h"

/* Field reads for both program variants, as in block.bpf.c. */
#define RD(btf, p, f) ((btf) ? (p)->f : BPF_CORE_READ(p, f))

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* Whether the scheduler's run time leaves out irq time (libbpf fills it in). */
extern bool CONFIG_IRQ_TIME_ACCOUNTING __kconfig __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IOTRACE_MAX_WORKLOADS);
	__type(key, __u64);
	__type(value, struct iotrace_net_stats);
} net_stats SEC(".maps");

/* The NET_RX or NET_TX run in progress on a CPU, and whose packets it handled. */
struct softirq_run {
	__u64 start_ns; /* 0: none in progress */
	__u64 lag_start; /* task_clock_lag() at the start */
	__u64 pmu_start;
	__u64 other; /* packets of owners beyond the list */
	__u32 nr;
	__u32 pad;
	struct iotrace_softirq_owner owners[IOTRACE_SOFTIRQ_OWNERS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct softirq_run);
} softirq_runs SEC(".maps");

/* Devices owned by a workload; filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOTRACE_MAX_NET_DEVS);
	__type(key, struct iotrace_dev_key);
	__type(value, struct iotrace_dev_owner);
} net_devs SEC(".maps");

/* Traffic of VMs' devices, by VM tgid; removed by user space with the VM. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IOTRACE_MAX_VMS);
	__type(key, __u32);
	__type(value, struct iotrace_net_stats);
} vm_net SEC(".maps");

struct iotrace_net_state net_state = {};

static const struct iotrace_net_stats zero_net_stats;

/*
 * How far this CPU's scheduler task clock (rq->clock_task, which task run
 * times and cpu.stat advance by) has fallen behind its clock (rq->clock):
 * on a guest whose hypervisor reports steal time, the steal time left out
 * (CONFIG_PARAVIRT_TIME_ACCOUNTING); with CONFIG_IRQ_TIME_ACCOUNTING, irq
 * time too.  bpf_ktime_get_ns() counts steal time: a run of a few
 * microseconds that the hypervisor stalled for milliseconds would take that
 * much from the interrupted task, whose run time never held it (seen here:
 * a sender charged 1 ms of its 181 ms).  The rq clocks are brought up to
 * date at every tick, and a stall ends with the tick that came due in it,
 * so the growth over a run is the steal in it, to a tick.  Reached through
 * the task's cfs_rq (CONFIG_FAIR_GROUP_SCHED): this_rq is not a symbol BPF
 * can resolve without CONFIG_KALLSYMS_ALL.  0 where it cannot be read.
 */
static __always_inline __u64 task_clock_lag(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct rq *rq;

	if (!bpf_core_field_exists(task->se.cfs_rq))
		return 0;
	rq = BPF_CORE_READ(task, se.cfs_rq, rq);
	if (!rq)
		return 0;
	return BPF_CORE_READ(rq, clock) - BPF_CORE_READ(rq, clock_task);
}

static __always_inline struct softirq_run *this_run(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&softirq_runs, &zero);
}

/* Payload bytes of a packet whose data starts at its IP header. */
static __always_inline __u64 payload_bytes(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 len = skb->len, hdr, proto;
	__u8 *b = data, *tcp;

	if ((void *)(b + 20) > end)
		return len;
	if ((b[0] >> 4) == 4) {
		hdr = (b[0] & 0xf) * 4;
		proto = b[9];
		/* Later fragments carry no transport header. */
		if ((b[6] & 0x1f) || b[7])
			return len > hdr ? len - hdr : 0;
	} else if ((b[0] >> 4) == 6 && (void *)(b + 40) <= end) {
		hdr = 40;
		proto = b[6];
	} else {
		return len;
	}
	if (proto == IPPROTO_UDP_) {
		hdr += 8;
	} else if (proto == IPPROTO_TCP_) {
		/* hdr is 40 or a multiple of 4 up to 60: the mask keeps it so for the verifier. */
		tcp = data + (hdr & 0x3c);
		/* Byte 12 of the TCP header: the data offset in 32-bit words. */
		if ((void *)(tcp + 13) > end)
			return len > hdr ? len - hdr : 0;
		hdr += (tcp[12] >> 4) * 4;
	}
	return len > hdr ? len - hdr : 0;
}

/*
 * Payload bytes of a packet of `len` bytes whose first bytes, from its IP
 * header, are in `b` (a copy from a kernel buffer): the same rule as
 * payload_bytes().
 */
#define HDR_COPY 128

static __always_inline __u64 payload_of_copy(const __u8 *b, __u32 len)
{
	__u32 hdr, proto, off;

	if ((b[0] >> 4) == 4) {
		hdr = (b[0] & 0xf) * 4;
		proto = b[9];
		if ((b[6] & 0x1f) || b[7])
			return len > hdr ? len - hdr : 0;
	} else if ((b[0] >> 4) == 6) {
		hdr = 40;
		proto = b[6];
	} else {
		return len;
	}
	if (proto == IPPROTO_UDP_) {
		hdr += 8;
	} else if (proto == IPPROTO_TCP_) {
		off = (hdr & 0x3c) + 12;
		if (off < HDR_COPY)
			hdr += (b[off & (HDR_COPY - 1)] >> 4) * 4;
	}
	return len > hdr ? len - hdr : 0;
}

/* Remember that the softirq run in progress on this CPU served `owner`. */
static __always_inline void note_owner(__u64 owner, __u64 packets)
{
	struct softirq_run *run = this_run();
	__u32 n;

	if (!run || !run->start_ns)
		return;
	n = run->nr;
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++) {
		if (i >= n)
			break;
		if (run->owners[i].cgroup_id == owner) {
			run->owners[i].packets += packets;
			return;
		}
	}
	if (n < IOTRACE_SOFTIRQ_OWNERS) {
		run->owners[n].cgroup_id = owner;
		run->owners[n].packets = packets;
		run->nr = n + 1;
		return;
	}
	run->other += packets;
	count_event(IOTRACE_CNT_NET_OWNERS_FULL);
}

static __always_inline void count_packet(struct __sk_buff *skb, bool egress)
{
	__u64 owner = bpf_skb_cgroup_id(skb), packets, bytes;
	struct iotrace_net_stats *s;

	packets = skb->gso_segs ? skb->gso_segs : 1;
	bytes = payload_bytes(skb);
	s = lookup_or_init(&net_stats, &owner, &zero_net_stats, IOTRACE_CNT_STATS_FULL);
	if (s) {
		/* Per-CPU, but a softirq may interrupt a task-context send. */
		if (egress) {
			__sync_fetch_and_add(&s->tx_packets, packets);
			__sync_fetch_and_add(&s->tx_bytes, bytes);
		} else {
			__sync_fetch_and_add(&s->rx_packets, packets);
			__sync_fetch_and_add(&s->rx_bytes, bytes);
		}
	}
	note_owner(owner, packets);
}

SEC("cgroup_skb/egress")
int net_egress(struct __sk_buff *skb)
{
	count_packet(skb, true);
	return 1;
}

SEC("cgroup_skb/ingress")
int net_ingress(struct __sk_buff *skb)
{
	count_packet(skb, false);
	return 1;
}

static __always_inline bool is_net_softirq(unsigned int vec)
{
	return vec == NET_RX_SOFTIRQ || vec == NET_TX_SOFTIRQ;
}

static __always_inline void on_softirq_entry(unsigned int vec)
{
	struct softirq_run *run;

	if (!is_net_softirq(vec))
		return;
	run = this_run();
	if (!run)
		return;
	run->nr = 0;
	run->other = 0;
	run->pmu_start = use_pmu ? read_pmu() : 0;
	run->lag_start = CONFIG_IRQ_TIME_ACCOUNTING ? 0 : task_clock_lag();
	run->start_ns = bpf_ktime_get_ns();
}

static __always_inline struct iotrace_net_stats *vm_net_of(__u32 tgid)
{
	return lookup_or_init(&vm_net, &tgid, &zero_net_stats, IOTRACE_CNT_VM_FULL);
}

static __always_inline void charge_share(__u64 owner, __u64 ns)
{
	struct iotrace_net_stats *s;

	if (!ns)
		return;
	if (owner & IOTRACE_OWNER_VM)
		s = vm_net_of((__u32)owner);
	else
		s = lookup_or_init(&net_stats, &owner, &zero_net_stats, IOTRACE_CNT_STATS_FULL);
	if (s)
		__sync_fetch_and_add(&s->softirq_ns, ns);
}

/*
 * The run's time leaves the interrupted task: its charged baseline moves
 * on by that much, so its next charge (sched.bpf.c) does not include it.
 * The idle task is charged nothing anyway.
 */
static __always_inline void uncharge_current(__u64 ns, __u64 cycles)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct iotrace_cpu_state *st;
	struct task_state *ts;
	__u32 zero = 0;

	if (!task->pid)
		return;
	if (!CONFIG_IRQ_TIME_ACCOUNTING) {
		ts = task_state_of(task);
		if (ts)
			ts->charged += ns;
	}
	if (cycles) {
		st = bpf_map_lookup_elem(&cpu_state, &zero);
		if (st && st->pmu_start)
			st->pmu_start += cycles;
	}
}

/*
 * A packet the host received from (rx_from_dev) or transmitted to a
 * device.  `l2` is the link header length in front of skb->data: 0 at
 * receive (the Ethernet header is pulled by then), ETH_HLEN at transmit.
 */
static __always_inline void on_dev_packet(struct sk_buff *skb, struct net_device *dev,
					  bool rx_from_dev, __u32 l2, bool btf)
{
	struct iotrace_dev_owner *owner;
	struct iotrace_dev_key key = {};
	struct iotrace_net_stats *s;
	struct skb_shared_info *shinfo;
	__u8 hdr[HDR_COPY] = {};
	__u64 packets, bytes;
	unsigned char *data;
	__u32 len;
	__u16 segs;

	if (!net_state.nr_devs || !dev)
		return;
	key.ifindex = RD(btf, dev, ifindex);
	key.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	owner = bpf_map_lookup_elem(&net_devs, &key);
	if (!owner)
		return;
	len = RD(btf, skb, len);
	if (len <= l2)
		return;
	len -= l2;
	/* Wire packets, as the socket programs count them (gso_segs). */
	shinfo = (struct skb_shared_info *)(RD(btf, skb, head) + RD(btf, skb, end));
	segs = BPF_CORE_READ(shinfo, gso_segs);
	packets = segs ? segs : 1;
	if (owner->kind == IOTRACE_DEV_CGROUP) {
		/* Counted at the container's sockets: no second count here. */
		note_owner(owner->id, packets);
		return;
	}
	if (owner->kind != IOTRACE_DEV_VM)
		return;
	data = RD(btf, skb, data);
	if (bpf_probe_read_kernel(hdr, sizeof(hdr), data + l2))
		bytes = len;
	else
		bytes = payload_of_copy(hdr, len);
	s = vm_net_of((__u32)owner->id);
	if (s) {
		if (rx_from_dev) {
			__sync_fetch_and_add(&s->tx_packets, packets);
			__sync_fetch_and_add(&s->tx_bytes, bytes);
		} else {
			__sync_fetch_and_add(&s->rx_packets, packets);
			__sync_fetch_and_add(&s->rx_bytes, bytes);
		}
	}
	note_owner(IOTRACE_OWNER_VM | owner->id, packets);
}

#define ETH_HLEN_ 14

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(net_dev_rx_btf, struct sk_buff *skb)
{
	on_dev_packet(skb, skb->dev, true, 0, true);
	return 0;
}

SEC("raw_tp/netif_receive_skb")
int BPF_PROG(net_dev_rx_raw, struct sk_buff *skb)
{
	on_dev_packet(skb, BPF_CORE_READ(skb, dev), true, 0, false);
	return 0;
}

/*
 * Before the driver's xmit, not after (net_dev_xmit): once a tap's driver
 * has queued the packet, the VMM reading the tap on another CPU may free
 * it before net_dev_xmit runs, and reading it there read freed memory
 * (seen: 1000 packets counted as 2.3 GB).  A tap takes every packet it is
 * handed (a full queue drops it and still answers NETDEV_TX_OK), so
 * counting here counts the same packets; a driver answering
 * NETDEV_TX_BUSY, which taps and veths never do, would have the retry
 * counted again.
 */
SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(net_dev_tx_btf, struct sk_buff *skb, struct net_device *dev)
{
	on_dev_packet(skb, dev, false, ETH_HLEN_, true);
	return 0;
}

SEC("raw_tp/net_dev_start_xmit")
int BPF_PROG(net_dev_tx_raw, struct sk_buff *skb, struct net_device *dev)
{
	on_dev_packet(skb, dev, false, ETH_HLEN_, false);
	return 0;
}

static __always_inline void on_softirq_exit(unsigned int vec)
{
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = {}, now, elapsed, rest, cycles = 0, pmu_now, lag;
	struct softirq_run *run;
	__u32 nr;

	if (!is_net_softirq(vec))
		return;
	run = this_run();
	if (!run || !run->start_ns)
		return;
	now = bpf_ktime_get_ns();
	elapsed = now > run->start_ns ? now - run->start_ns : 0;
	run->start_ns = 0;
	/*
	 * With CONFIG_IRQ_TIME_ACCOUNTING the lag holds the run itself, and
	 * the task clock never had it: nothing to take back, wall time shared.
	 */
	if (!CONFIG_IRQ_TIME_ACCOUNTING) {
		lag = task_clock_lag() - run->lag_start;
		/* Read racing a remote clock update: not steal, ignored. */
		if ((__s64)lag > 0)
			elapsed = lag < elapsed ? elapsed - lag : 0;
	}
	if (use_pmu && run->pmu_start) {
		pmu_now = read_pmu();
		cycles = pmu_now > run->pmu_start ? pmu_now - run->pmu_start : 0;
	}
	nr = run->nr;
	rest = iotrace_apportion(elapsed, run->owners, nr, run->other, shares);
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++) {
		if (i >= nr)
			break;
		charge_share(run->owners[i].cgroup_id, shares[i]);
	}
	charge_share(IOTRACE_UNATTRIBUTED_ID, rest);
	uncharge_current(elapsed, cycles);
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(net_softirq_entry_btf, unsigned int vec)
{
	on_softirq_entry(vec);
	return 0;
}

SEC("raw_tp/softirq_entry")
int BPF_PROG(net_softirq_entry_raw, unsigned int vec)
{
	on_softirq_entry(vec);
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(net_softirq_exit_btf, unsigned int vec)
{
	on_softirq_exit(vec);
	return 0;
}

SEC("raw_tp/softirq_exit")
int BPF_PROG(net_softirq_exit_raw, unsigned int vec)
{
	on_softirq_exit(vec);
	return 0;
}
