// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Block I/O per workload: ops, bytes and issue -> complete latency.
 *
 * Who owns an I/O is decided when its bio is queued, because that is the
 * only point that reliably runs in the submitter's context: a request is
 * often issued from a kworker (kblockd, bcc #826), block_rq_insert does not
 * fire on direct issue, and completions run in irq or softirq context on
 * behalf of whoever happened to be running.  The owner then travels with the
 * bio pointer to the request (rq->bio at insert or issue) and with the
 * request pointer to its completion.
 *
 * Request-based devices (loop, nvme, virtio-blk, scsi) are counted per
 * request: bytes at every block_rq_complete (a request may complete in
 * several parts), one op and one latency sample at the last part.
 * Bio-based devices (zram, dm, md) have no requests: they are counted per
 * bio from block_bio_queue to block_bio_complete.
 *
 * An I/O whose start was not seen is charged to IOTRACE_UNATTRIBUTED_ID and
 * counted, never dropped.  Only reads and writes that move data count:
 * flushes and the empty pre-flush writes of fsync are not I/O operations.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

#define REQ_OP_MASK ((1U << 8) - 1) /* REQ_OP_BITS, include/linux/blk_types.h */
#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/*
 * In-flight tables churn at the I/O rate and some keys are never removed
 * (the first bio of a request that another bio front-merges into), so they
 * are LRU: an evicted entry only makes its completion unattributed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IOTRACE_MAX_INFLIGHT);
	__type(key, __u64); /* struct bio * */
	__type(value, struct iotrace_bio_info);
} inflight_bio SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IOTRACE_MAX_INFLIGHT);
	__type(key, __u64); /* struct request * */
	__type(value, struct iotrace_rq_info);
} inflight_rq SEC(".maps");

static const struct iotrace_blk_stats zero_blk_stats;

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFFFF) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

/*
 * The cgroup2 id of the bio's blkcg, or 0 when the bio has none or its blkcg
 * lives on a v1 hierarchy (hybrid hosts mount the io controller as v1).
 */
static __always_inline __u64 bio_blkcg_id(struct bio *bio)
{
	struct blkcg_gq *blkg;
	struct cgroup *cgrp;

	if (!bpf_core_field_exists(bio->bi_blkg))
		return 0;
	blkg = BPF_CORE_READ(bio, bi_blkg);
	if (!blkg)
		return 0;
	cgrp = BPF_CORE_READ(blkg, blkcg, css.cgroup);
	if (!cgrp)
		return 0;
	/* The default (v2) hierarchy is hierarchy 0, as in /proc/PID/cgroup. */
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	return BPF_CORE_READ(cgrp, kn, id);
}

/*
 * Owner of a bio queued by current.  A user task owns what it submits, even
 * when its io controller css is an ancestor.  A kernel thread (writeback
 * kworker, loop worker) submits on someone's behalf: the bio's blkcg says
 * whose, when it is on the v2 hierarchy.
 */
static __always_inline __u64 bio_owner(struct bio *bio)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 id;

	if (BPF_CORE_READ(task, flags) & PF_KTHREAD) {
		id = bio_blkcg_id(bio);
		if (id)
			return id;
	}
	return bpf_get_current_cgroup_id();
}

static __always_inline bool is_data_op(__u32 op)
{
	return op == REQ_OP_READ || op == REQ_OP_WRITE;
}

static __always_inline void account_io(__u64 owner, __u32 op, __u64 bytes, bool done,
				       __u64 start_ns)
{
	struct iotrace_blk_stats *s;
	__u64 now, slot;

	s = lookup_or_init(&blk_stats, owner, &zero_blk_stats);
	if (!s)
		return;
	/* Task-context completions (zram) may be preempted by irq ones. */
	if (op == REQ_OP_WRITE) {
		__sync_fetch_and_add(&s->wr_bytes, bytes);
		if (done)
			__sync_fetch_and_add(&s->wr_ops, 1);
	} else {
		__sync_fetch_and_add(&s->rd_bytes, bytes);
		if (done)
			__sync_fetch_and_add(&s->rd_ops, 1);
	}
	if (!done || !start_ns)
		return;
	now = bpf_ktime_get_ns();
	slot = now > start_ns ? log2_u64(now - start_ns) : 0;
	if (slot >= IOTRACE_LAT_SLOTS)
		slot = IOTRACE_LAT_SLOTS - 1;
	__sync_fetch_and_add(&s->lat_hist[slot], 1);
}

static __always_inline void on_bio_queue(struct bio *bio)
{
	struct iotrace_bio_info info = {};
	__u64 key = (__u64)bio;

	if (!is_data_op(BPF_CORE_READ(bio, bi_opf) & REQ_OP_MASK))
		return;
	if (!BPF_CORE_READ(bio, bi_iter.bi_size))
		return;
	info.cgroup_id = bio_owner(bio);
	info.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight_bio, &key, &info, BPF_ANY))
		count_event(IOTRACE_CNT_BIO_FULL);
}

/* A bio appended to an existing request: the request's owner covers it. */
static __always_inline void on_bio_backmerge(struct bio *bio)
{
	__u64 key = (__u64)bio;

	bpf_map_delete_elem(&inflight_bio, &key);
}

static __always_inline __u64 rq_owner(struct request *rq)
{
	struct iotrace_bio_info *bi;
	struct task_struct *task;
	__u64 key, id;

	key = (__u64)BPF_CORE_READ(rq, bio);
	bi = key ? bpf_map_lookup_elem(&inflight_bio, &key) : NULL;
	if (bi) {
		id = bi->cgroup_id;
		bpf_map_delete_elem(&inflight_bio, &key);
		return id;
	}
	/* No queued bio seen (passthrough, or attached mid-flight). */
	task = (void *)bpf_get_current_task();
	if (!(BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return bpf_get_current_cgroup_id();
	count_event(IOTRACE_CNT_RQ_NO_OWNER);
	return IOTRACE_UNATTRIBUTED_ID;
}

static __always_inline bool rq_is_data(struct request *rq)
{
	return is_data_op(BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK) &&
	       BPF_CORE_READ(rq, __data_len);
}

/* Insert runs in the submitter's context when it fires at all. */
static __always_inline void on_rq_insert(struct request *rq)
{
	struct iotrace_rq_info info = {};
	__u64 key = (__u64)rq;

	if (!rq_is_data(rq) || bpf_map_lookup_elem(&inflight_rq, &key))
		return;
	info.cgroup_id = rq_owner(rq);
	if (bpf_map_update_elem(&inflight_rq, &key, &info, BPF_ANY))
		count_event(IOTRACE_CNT_RQ_FULL);
}

/* Issue (and re-issue after a requeue) starts the latency clock. */
static __always_inline void on_rq_issue(struct request *rq)
{
	struct iotrace_rq_info info = {}, *ri;
	__u64 key = (__u64)rq;

	if (!rq_is_data(rq))
		return;
	ri = bpf_map_lookup_elem(&inflight_rq, &key);
	if (ri) {
		ri->issue_ns = bpf_ktime_get_ns();
		return;
	}
	info.cgroup_id = rq_owner(rq);
	info.issue_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight_rq, &key, &info, BPF_ANY))
		count_event(IOTRACE_CNT_RQ_FULL);
}

static __always_inline void on_rq_complete(struct request *rq, unsigned int nr_bytes)
{
	__u32 op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK;
	struct iotrace_rq_info *ri;
	__u64 key = (__u64)rq;
	bool done;

	if (!is_data_op(op))
		return;
	/* __data_len still holds the bytes left before this part completes. */
	done = nr_bytes >= BPF_CORE_READ(rq, __data_len);
	ri = bpf_map_lookup_elem(&inflight_rq, &key);
	if (!ri) {
		if (!nr_bytes)
			return;
		if (done)
			count_event(IOTRACE_CNT_UNSEEN_COMPLETE);
		account_io(IOTRACE_UNATTRIBUTED_ID, op, nr_bytes, done, 0);
		return;
	}
	account_io(ri->cgroup_id, op, nr_bytes, done, ri->issue_ns);
	if (done)
		bpf_map_delete_elem(&inflight_rq, &key);
}

/* Fires for bio-based queues only; request-based ones are counted above. */
static __always_inline void on_bio_complete(struct request_queue *q, struct bio *bio)
{
	__u32 op = BPF_CORE_READ(bio, bi_opf) & REQ_OP_MASK;
	struct iotrace_bio_info *bi;
	__u64 key = (__u64)bio, bytes;

	if (BPF_CORE_READ(q, mq_ops)) {
		bpf_map_delete_elem(&inflight_bio, &key);
		return;
	}
	if (!is_data_op(op))
		return;
	bytes = BPF_CORE_READ(bio, bi_iter.bi_size);
	bi = bpf_map_lookup_elem(&inflight_bio, &key);
	if (!bi) {
		if (!bytes)
			return;
		count_event(IOTRACE_CNT_UNSEEN_COMPLETE);
		account_io(IOTRACE_UNATTRIBUTED_ID, op, bytes, true, 0);
		return;
	}
	account_io(bi->cgroup_id, op, bytes, true, bi->start_ns);
	bpf_map_delete_elem(&inflight_bio, &key);
}

/*
 * Each handler exists as tp_btf (preferred) and raw_tp (fallback); user space
 * loads one set after probing.  The bodies read through CO-RE either way.
 */
SEC("tp_btf/block_bio_queue")
int BPF_PROG(block_bio_queue_btf, struct bio *bio)
{
	on_bio_queue(bio);
	return 0;
}

SEC("raw_tp/block_bio_queue")
int BPF_PROG(block_bio_queue_raw, struct bio *bio)
{
	on_bio_queue(bio);
	return 0;
}

SEC("tp_btf/block_bio_backmerge")
int BPF_PROG(block_bio_backmerge_btf, struct bio *bio)
{
	on_bio_backmerge(bio);
	return 0;
}

SEC("raw_tp/block_bio_backmerge")
int BPF_PROG(block_bio_backmerge_raw, struct bio *bio)
{
	on_bio_backmerge(bio);
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert_btf, struct request *rq)
{
	on_rq_insert(rq);
	return 0;
}

SEC("raw_tp/block_rq_insert")
int BPF_PROG(block_rq_insert_raw, struct request *rq)
{
	on_rq_insert(rq);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue_btf, struct request *rq)
{
	on_rq_issue(rq);
	return 0;
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(block_rq_issue_raw, struct request *rq)
{
	on_rq_issue(rq);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete_btf, struct request *rq, int error, unsigned int nr_bytes)
{
	on_rq_complete(rq, nr_bytes);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(block_rq_complete_raw, struct request *rq, int error, unsigned int nr_bytes)
{
	on_rq_complete(rq, nr_bytes);
	return 0;
}

SEC("tp_btf/block_bio_complete")
int BPF_PROG(block_bio_complete_btf, struct request_queue *q, struct bio *bio)
{
	on_bio_complete(q, bio);
	return 0;
}

SEC("raw_tp/block_bio_complete")
int BPF_PROG(block_bio_complete_raw, struct request_queue *q, struct bio *bio)
{
	on_bio_complete(q, bio);
	return 0;
}
