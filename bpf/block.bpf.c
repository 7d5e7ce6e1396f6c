// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Block I/O per workload: ops, bytes and latency to completion.
 *
 * Who owns an I/O is decided when its bio is queued, because that is the
 * only point that reliably runs in the submitter's context: a request is
 * often issued from a kworker (kblockd, bcc #826), block_rq_insert does not
 * fire on direct issue, and completions run in irq or softirq context on
 * behalf of whoever happened to be running.  The owner then travels with the
 * bio pointer: a request is found by its first bio (rq->bio) at completion,
 * so one table entry follows an I/O from queue to completion with one
 * insert and one delete.  Latency starts at the request's own issue stamp
 * (rq_start_ns()), so block_rq_issue needs no program.
 *
 * Request-based devices (loop, nvme, virtio-blk, scsi) are counted per
 * request: bytes at every block_rq_complete (a request may complete in
 * several parts), one op and one latency sample at the last part.
 * Bio-based devices (zram, dm, md) have no requests: they are counted per
 * bio from block_bio_queue to block_bio_complete.  Each completion is also
 * counted per (workload, device it completed on) in blk_dev_stats.
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
 * Field reads.  tp_btf arguments are BTF-typed pointers: their fields load
 * directly (the verifier makes the loads fault-safe).  raw_tp arguments are
 * plain numbers and need a bpf_probe_read_kernel call per field (measured
 * here: a block_rq_issue handler took 71 ns as tp_btf, 92-112 ns as
 * raw_tp).  Each
 * body below is inlined into both variants with a constant `btf`, and clang
 * drops the branch a variant does not use.
 */
#define RD(btf, p, f) ((btf) ? (p)->f : BPF_CORE_READ(p, f))

/*
 * In-flight I/Os, one entry each.  A hash map update or delete takes a
 * bucket lock with interrupts off, which costs ~150 ns on a nested
 * hypervisor, and every I/O needs one of each.  So entries live in an array
 * of slots indexed by a hash of the key: a slot is claimed with one
 * compare-and-swap and released with one store.  A key whose slot is taken
 * by another I/O goes to the overflow hash.  The overflow is LRU because
 * keys churn at the I/O rate: an evicted entry only makes its completion
 * unattributed, and that is counted.
 */
#define IO_SLOTS_BITS 14

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << IO_SLOTS_BITS);
	__type(key, __u32);
	__type(value, struct iotrace_io_slot);
} io_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IOTRACE_MAX_INFLIGHT);
	__type(key, __u64); /* struct bio *, or struct request * */
	__type(value, struct iotrace_io_info);
} inflight SEC(".maps");

/*
 * Entries in the overflow hash.  Usually none, and then a key that is not
 * in its slot is in flight nowhere: no hash lookup is needed to know it.
 */
__s64 overflow_entries = 0;

static __always_inline struct iotrace_io_slot *slot_of(__u64 key)
{
	/* Fibonacci hashing: bio and request addresses share their low bits. */
	__u32 idx = (__u32)((key * 0x9E3779B97F4A7C15ULL) >> (64 - IO_SLOTS_BITS));

	return bpf_map_lookup_elem(&io_slots, &idx);
}

static __always_inline struct iotrace_io_info *io_find(__u64 key)
{
	struct iotrace_io_slot *slot = slot_of(key);

	if (slot && slot->key == key)
		return &slot->io;
	if (!overflow_entries)
		return NULL;
	return bpf_map_lookup_elem(&inflight, &key);
}

/*
 * The entry is written after the slot is claimed: nobody looks it up before
 * the handler that inserts it returns, because the I/O is not submitted yet.
 */
static __always_inline void io_insert(__u64 key, const struct iotrace_io_info *info)
{
	struct iotrace_io_slot *slot = slot_of(key);
	__u64 old;

	if (slot) {
		old = __sync_val_compare_and_swap(&slot->key, 0, key);
		if (old == 0 || old == key) {
			slot->io = *info;
			return;
		}
	}
	if (bpf_map_update_elem(&inflight, &key, info, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&overflow_entries, 1);
	else if (bpf_map_update_elem(&inflight, &key, info, BPF_EXIST))
		count_event(IOTRACE_CNT_INFLIGHT_FULL);
}

static __always_inline void io_delete(__u64 key)
{
	struct iotrace_io_slot *slot = slot_of(key);

	if (slot && slot->key == key)
		slot->key = 0;
	else if (overflow_entries && bpf_map_delete_elem(&inflight, &key) == 0)
		__sync_fetch_and_add(&overflow_entries, -1);
}

/*
 * Block I/O per (workload, device), without the histogram.  Not
 * preallocated, like blk_stats: most workloads use one or two devices.
 * A full table loses only the device split (counted in
 * IOTRACE_CNT_BLK_DEV_FULL), never the workload's own figures.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IOTRACE_MAX_BLK_DEVS);
	__type(key, struct iotrace_blk_dev_key);
	__type(value, struct iotrace_blk_dev_stats);
} blk_dev_stats SEC(".maps");

static const struct iotrace_blk_stats zero_blk_stats;
static const struct iotrace_blk_dev_stats zero_blk_dev_stats;

/* The kernel dev_t of a block device (a partition or a whole disk); 0: none. */
static __always_inline __u32 bdev_dev(struct block_device *bdev, bool btf)
{
	if (!bdev)
		return 0;
	return RD(btf, bdev, bd_dev);
}

/* The device a bio is on now: where it was queued, or remapped to since. */
static __always_inline __u32 bio_dev(struct bio *bio, bool btf)
{
	return bdev_dev(RD(btf, bio, bi_bdev), btf);
}

/*
 * The device a request completes on.  rq->part is its first bio's bi_bdev
 * (a partition, as in /proc/self/mountinfo), but blk-mq only sets it when
 * the queue keeps I/O statistics (iostats, on by default) and never for
 * passthrough.  Without it: the device the entry's bio was queued to,
 * which is the same unless a driver remapped the bio in place (md raid0
 * and linear); else the whole disk.
 */
static __always_inline __u32 rq_dev(struct request *rq, const struct iotrace_io_info *io, bool btf)
{
	struct block_device *part = RD(btf, rq, part);
	struct request_queue *q;
	struct gendisk *disk;

	if (part)
		return bdev_dev(part, btf);
	if (io)
		return io->dev;
	/* request_queue.disk: Linux 5.15; before, only rq->rq_disk had it. */
	q = RD(btf, rq, q);
	if (!q || !bpf_core_field_exists(q->disk))
		return 0;
	disk = RD(btf, q, disk);
	if (!disk)
		return 0;
	return bdev_dev(RD(btf, disk, part0), btf);
}

static __always_inline bool current_is_kthread(bool btf)
{
	struct task_struct *task;

	if (btf)
		return bpf_get_current_task_btf()->flags & PF_KTHREAD;
	task = (void *)bpf_get_current_task();
	return BPF_CORE_READ(task, flags) & PF_KTHREAD;
}

/*
 * The cgroup2 id of the bio's blkcg, or 0 when the bio has none or its blkcg
 * lives on a v1 hierarchy (hybrid hosts mount the io controller as v1).
 */
static __always_inline __u64 bio_blkcg_id(struct bio *bio, bool btf)
{
	struct blkcg_gq *blkg;
	struct blkcg *blkcg;
	struct cgroup *cgrp;

	if (!bpf_core_field_exists(bio->bi_blkg))
		return 0;
	blkg = RD(btf, bio, bi_blkg);
	if (!blkg)
		return 0;
	blkcg = RD(btf, blkg, blkcg);
	if (!blkcg)
		return 0;
	cgrp = RD(btf, blkcg, css.cgroup);
	if (!cgrp)
		return 0;
	/* The default (v2) hierarchy is hierarchy 0, as in /proc/PID/cgroup. */
	if (btf ? cgrp->root->hierarchy_id : BPF_CORE_READ(cgrp, root, hierarchy_id))
		return 0;
	return btf ? cgrp->kn->id : BPF_CORE_READ(cgrp, kn, id);
}

/*
 * Owner of a bio queued by current.  A user task owns what it submits, even
 * when its io controller css is an ancestor.  A kernel thread (writeback
 * kworker, loop worker) submits on someone's behalf: the bio's blkcg says
 * whose, when it is on the v2 hierarchy.
 */
static __always_inline __u64 bio_owner(struct bio *bio, bool btf)
{
	__u64 id;

	if (current_is_kthread(btf)) {
		id = bio_blkcg_id(bio, btf);
		if (id)
			return id;
	}
	return bpf_get_current_cgroup_id();
}

static __always_inline bool is_data_op(__u32 op)
{
	return op == REQ_OP_READ || op == REQ_OP_WRITE;
}

/* The same completion, for its device: one more lookup, no histogram. */
static __always_inline void account_dev_io(__u64 owner, __u32 dev, __u32 op, __u64 bytes, bool done)
{
	struct iotrace_blk_dev_key key = { .cgroup_id = owner, .dev = dev, .pad = 0 };
	struct iotrace_blk_dev_stats *d;

	d = lookup_or_init(&blk_dev_stats, &key, &zero_blk_dev_stats, IOTRACE_CNT_BLK_DEV_FULL);
	if (!d)
		return;
	if (op == REQ_OP_WRITE) {
		__sync_fetch_and_add(&d->wr_bytes, bytes);
		if (done)
			__sync_fetch_and_add(&d->wr_ops, 1);
	} else {
		__sync_fetch_and_add(&d->rd_bytes, bytes);
		if (done)
			__sync_fetch_and_add(&d->rd_ops, 1);
	}
}

static __always_inline void account_io(__u64 owner, __u32 dev, __u32 op, __u64 bytes, bool done,
				       __u64 start_ns)
{
	struct iotrace_blk_stats *s;
	__u64 now, slot;

	account_dev_io(owner, dev, op, bytes, done);
	s = lookup_or_init(&blk_stats, &owner, &zero_blk_stats, IOTRACE_CNT_STATS_FULL);
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
	slot = now > start_ns ? iotrace_log2(now - start_ns) : 0;
	if (slot >= IOTRACE_LAT_SLOTS)
		slot = IOTRACE_LAT_SLOTS - 1;
	__sync_fetch_and_add(&s->lat_hist[slot], 1);
}

/*
 * A VM thread's I/O is also counted for that thread (QEMU's I/O threads,
 * worker pool, main loop), so a VM's block cost can be split by role.
 */
static __always_inline void set_vm_submitter(struct iotrace_io_info *info)
{
	info->vm_tgid = current_vm_tgid();
	info->vm_tid = info->vm_tgid ? (__u32)bpf_get_current_pid_tgid() : 0;
}

static __always_inline void account_vm_io(const struct iotrace_io_info *io, __u32 op, __u64 bytes,
					  bool done)
{
	struct iotrace_thread_stats *t;

	if (!io->vm_tgid)
		return;
	t = thread_stats_of(io->vm_tgid, io->vm_tid);
	if (!t)
		return;
	if (op == REQ_OP_WRITE) {
		__sync_fetch_and_add(&t->wr_bytes, bytes);
		if (done)
			__sync_fetch_and_add(&t->wr_ops, 1);
	} else {
		__sync_fetch_and_add(&t->rd_bytes, bytes);
		if (done)
			__sync_fetch_and_add(&t->rd_ops, 1);
	}
}

/*
 * Count the I/O of an in-flight entry whose completion was never seen, now
 * that its key came back with another I/O (a bio cannot be queued twice while
 * in flight).  The kernel skips a tracing program nested in its own run on
 * the same CPU, so a completion can be missed: its op and bytes are still
 * counted for their owner, only the latency sample is lost.
 */
static __always_inline void recover(__u64 key, struct iotrace_io_info *old)
{
	count_event(IOTRACE_CNT_RECOVERED);
	account_io(old->cgroup_id, old->dev, old->op, old->bytes, true, 0);
	account_vm_io(old, old->op, old->bytes, true);
	io_delete(key);
}

/*
 * Any entry under the key of a bio that is only now entering the block layer
 * (queued, or split off another) is an older I/O at the same address.
 */
static __always_inline void recover_stale(__u64 key)
{
	struct iotrace_io_info *old = io_find(key);

	if (old)
		recover(key, old);
}

static __always_inline void on_bio_queue(struct bio *bio, bool btf)
{
	struct iotrace_io_info info;
	__u64 key = addr_of(bio);

	recover_stale(key);
	info.op = RD(btf, bio, bi_opf) & REQ_OP_MASK;
	info.bytes = RD(btf, bio, bi_iter.bi_size);
	if (!is_data_op(info.op) || !info.bytes)
		return;
	info.cgroup_id = bio_owner(bio, btf);
	info.start_ns = bpf_ktime_get_ns();
	info.sector = RD(btf, bio, bi_iter.bi_sector);
	/*
	 * Completions read their own device; this one serves those that
	 * cannot: missed and recovered, or requests without rq->part.
	 */
	info.dev = bio_dev(bio, btf);
	info.pad = 0;
	set_vm_submitter(&info);
	io_insert(key, &info);
}

/*
 * A bio merged into an existing request: the request's owner covers it.
 * After a front merge it becomes rq->bio, and the request's entry stays
 * under the old first bio, further down the bi_next chain (rq_entry()).
 */
static __always_inline void on_bio_merge(struct bio *bio)
{
	__u64 key = addr_of(bio);

	io_delete(key);
}

/*
 * A bio split to fit the device's limits: the front part (`split`, chained
 * to its parent through bi_private) becomes a request of its own, and the
 * parent now starts further on.  The parent's entry is divided, so that
 * each request finds its own part and no entry is left over.
 *
 * The split is a new bio: an entry under its address is an I/O whose
 * completion was missed, and is recovered before the part takes its place
 * (overwriting it lost a whole request, seen once in 30 runs of
 * test_advise_storage).
 */
static __always_inline void on_block_split(struct bio *split, bool btf)
{
	struct bio *parent = (struct bio *)RD(btf, split, bi_private);
	__u64 pkey = addr_of(parent), skey = addr_of(split);
	struct iotrace_io_info *p, part;
	__u32 bytes;

	recover_stale(skey);
	p = pkey ? io_find(pkey) : NULL;
	if (!p)
		return;
	part = *p;
	part.sector = RD(btf, split, bi_iter.bi_sector);
	part.bytes = bytes = RD(btf, split, bi_iter.bi_size);
	/* bi_private is untyped: read the parent through the probe helper. */
	p->sector = BPF_CORE_READ(parent, bi_iter.bi_sector);
	p->bytes = p->bytes > bytes ? p->bytes - bytes : 0;
	io_insert(skey, &part);
}

/*
 * The entry of the I/O whose first bio is `key` and which starts at
 * `sector`.  Keys are addresses, and addresses recur (small synchronous
 * direct I/O and blkdev_issue_flush() put their bio on the stack): an entry
 * at the same address but another sector is an older I/O, recovered.
 */
static __always_inline struct iotrace_io_info *lookup_io(__u64 key, __u64 sector)
{
	struct iotrace_io_info *io = io_find(key);

	if (!io || io->sector == sector)
		return io;
	recover(key, io);
	return NULL;
}

#define FRONT_MERGES_MAX 4

/*
 * The entry of a request, and its key in *keyp.  It is under the first bio,
 * unless bios were front-merged into the request: then it is under a later
 * one, found by following bi_next, and moved under the first.
 */
static __always_inline struct iotrace_io_info *rq_entry(struct request *rq, bool btf, __u64 *keyp)
{
	struct bio *bio = RD(btf, rq, bio);
	struct iotrace_io_info *io, moved;
	__u64 first = addr_of(bio), key = first;

	for (int i = 0; i < FRONT_MERGES_MAX; i++) {
		if (!bio)
			return NULL;
		if (i)
			key = addr_of(bio);
		io = lookup_io(key, RD(btf, bio, bi_iter.bi_sector));
		if (io) {
			*keyp = first;
			if (key == first)
				return io;
			moved = *io;
			io_delete(key);
			io_insert(first, &moved);
			return io_find(first);
		}
		bio = RD(btf, bio, bi_next);
	}
	return NULL;
}

static __always_inline bool rq_is_data(struct request *rq, bool btf)
{
	return is_data_op(RD(btf, rq, cmd_flags) & REQ_OP_MASK) && RD(btf, rq, __data_len);
}

/*
 * Insert fires (when it fires at all) in the submitter's context.  It only
 * matters for requests whose bios never went through block_bio_queue, such
 * as passthrough commands: their owner is the task inserting them.  A kernel
 * thread inserting such a request (a requeue of I/O queued before iotrace
 * attached) owns nothing: the request is charged to the unattributed
 * workload, and counted as such here rather than at completion.
 */
static __always_inline void on_rq_insert(struct request *rq, bool btf)
{
	struct iotrace_io_info info = {};
	__u64 key;

	if (!rq_is_data(rq, btf))
		return;
	key = addr_of(RD(btf, rq, bio));
	if (!key || rq_entry(rq, btf, &key))
		return;
	if (current_is_kthread(btf)) {
		count_event(IOTRACE_CNT_RQ_NO_OWNER);
		info.cgroup_id = IOTRACE_UNATTRIBUTED_ID;
	} else {
		info.cgroup_id = bpf_get_current_cgroup_id();
		set_vm_submitter(&info);
	}
	info.sector = RD(btf, rq, __sector);
	info.op = RD(btf, rq, cmd_flags) & REQ_OP_MASK;
	info.bytes = RD(btf, rq, __data_len);
	info.dev = rq_dev(rq, NULL, btf);
	io_insert(key, &info);
}

/*
 * When the request started.  blk-mq stamps a request when it is started on
 * the device (io_start_time_ns, kept when the queue gathers I/O statistics
 * for writeback throttling or iolatency) or else when it is allocated for
 * its first bio (start_time_ns, kept whenever iostats is on, the default):
 * the same clock as bpf_ktime_get_ns().  Using the kernel's stamps saves a
 * program on block_rq_issue, which cost about 130 ns per I/O on this
 * machine (docs/overhead.md).  The queue-time stamp of the entry covers
 * queues that keep neither.
 */
static __always_inline __u64 rq_start_ns(struct request *rq, struct iotrace_io_info *io, bool btf)
{
	__u64 t = RD(btf, rq, io_start_time_ns);

	if (!t)
		t = RD(btf, rq, start_time_ns);
	return t ? t : io->start_ns;
}

/*
 * Bytes are counted at every part of a completion, the op and its latency
 * at the last part.  A partial completion ends bios and moves rq->bio on,
 * so the entry is then re-keyed by the request for the parts to come.
 */
static __always_inline void on_rq_complete(struct request *rq, unsigned int nr_bytes, bool btf)
{
	__u32 op = RD(btf, rq, cmd_flags) & REQ_OP_MASK;
	struct iotrace_io_info *io = NULL, moved;
	__u64 key, rq_key = addr_of(rq), left;
	bool done;

	/* __data_len still holds the bytes left before this part completes. */
	left = RD(btf, rq, __data_len);
	/* Flushes, and the empty pre-flush write of fsync, move no data. */
	if (!is_data_op(op) || (!nr_bytes && !left))
		return;
	done = nr_bytes >= left;
	io = rq_entry(rq, btf, &key);
	if (!io) {
		/* After a partial completion the entry is under the request. */
		key = rq_key;
		io = io_find(key);
	}
	if (!io) {
		if (done)
			count_event(IOTRACE_CNT_UNSEEN_COMPLETE);
		account_io(IOTRACE_UNATTRIBUTED_ID, rq_dev(rq, NULL, btf), op, nr_bytes, done, 0);
		return;
	}
	account_io(io->cgroup_id, rq_dev(rq, io, btf), op, nr_bytes, done,
		   done ? rq_start_ns(rq, io, btf) : 0);
	account_vm_io(io, op, nr_bytes, done);
	if (done) {
		io_delete(key);
	} else if (key != rq_key) {
		moved = *io;
		io_delete(key);
		/* Not this I/O's: a request at this address whose end was missed. */
		recover_stale(rq_key);
		io_insert(rq_key, &moved);
	}
}

/* Bio-based queues' I/O ends here; request-based ones are counted above. */
static __always_inline void on_bio_complete(struct request_queue *q, struct bio *bio, bool btf)
{
	__u32 op = RD(btf, bio, bi_opf) & REQ_OP_MASK;
	struct iotrace_io_info *io;
	__u64 key = addr_of(bio), bytes;

	if (!is_data_op(op))
		return;
	if (RD(btf, q, mq_ops)) {
		/*
		 * A bio of a request-based queue ends here on its own only when it
		 * never became a request: the block layer refused it (a direct
		 * I/O into a misaligned buffer, a REQ_NOWAIT bio finding no
		 * tag).  A request fires block_rq_complete before its bios end,
		 * so its entry is gone by now.  Drop the refused bio's entry, or
		 * it would be recovered later as a completed I/O.
		 */
		io = io_find(key);
		if (io && io->sector == RD(btf, bio, bi_iter.bi_sector))
			io_delete(key);
		return;
	}
	bytes = RD(btf, bio, bi_iter.bi_size);
	io = lookup_io(key, RD(btf, bio, bi_iter.bi_sector));
	if (!io) {
		if (!bytes)
			return;
		count_event(IOTRACE_CNT_UNSEEN_COMPLETE);
		account_io(IOTRACE_UNATTRIBUTED_ID, bio_dev(bio, btf), op, bytes, true, 0);
		return;
	}
	account_io(io->cgroup_id, bio_dev(bio, btf), op, bytes, true, io->start_ns);
	account_vm_io(io, op, bytes, true);
	io_delete(key);
}

/*
 * Each handler exists as tp_btf (preferred) and raw_tp (fallback); user space
 * loads one set after probing.  The bodies read through CO-RE either way.
 */
SEC("tp_btf/block_bio_queue")
int BPF_PROG(block_bio_queue_btf, struct bio *bio)
{
	on_bio_queue(bio, true);
	return 0;
}

SEC("raw_tp/block_bio_queue")
int BPF_PROG(block_bio_queue_raw, struct bio *bio)
{
	on_bio_queue(bio, false);
	return 0;
}

SEC("tp_btf/block_bio_backmerge")
int BPF_PROG(block_bio_backmerge_btf, struct bio *bio)
{
	on_bio_merge(bio);
	return 0;
}

SEC("raw_tp/block_bio_backmerge")
int BPF_PROG(block_bio_backmerge_raw, struct bio *bio)
{
	on_bio_merge(bio);
	return 0;
}

SEC("tp_btf/block_bio_frontmerge")
int BPF_PROG(block_bio_frontmerge_btf, struct bio *bio)
{
	on_bio_merge(bio);
	return 0;
}

SEC("raw_tp/block_bio_frontmerge")
int BPF_PROG(block_bio_frontmerge_raw, struct bio *bio)
{
	on_bio_merge(bio);
	return 0;
}

SEC("tp_btf/block_split")
int BPF_PROG(block_split_btf, struct bio *split, unsigned int new_sector)
{
	on_block_split(split, true);
	return 0;
}

SEC("raw_tp/block_split")
int BPF_PROG(block_split_raw, struct bio *split, unsigned int new_sector)
{
	on_block_split(split, false);
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert_btf, struct request *rq)
{
	on_rq_insert(rq, true);
	return 0;
}

SEC("raw_tp/block_rq_insert")
int BPF_PROG(block_rq_insert_raw, struct request *rq)
{
	on_rq_insert(rq, false);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete_btf, struct request *rq, int error, unsigned int nr_bytes)
{
	on_rq_complete(rq, nr_bytes, true);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(block_rq_complete_raw, struct request *rq, int error, unsigned int nr_bytes)
{
	on_rq_complete(rq, nr_bytes, false);
	return 0;
}

SEC("tp_btf/block_bio_complete")
int BPF_PROG(block_bio_complete_btf, struct request_queue *q, struct bio *bio)
{
	on_bio_complete(q, bio, true);
	return 0;
}

SEC("raw_tp/block_bio_complete")
int BPF_PROG(block_bio_complete_raw, struct request_queue *q, struct bio *bio)
{
	on_bio_complete(q, bio, false);
	return 0;
}
