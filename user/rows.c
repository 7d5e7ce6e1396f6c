// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rows from the session's tables.  See rows.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cycles.h"
#include "hist.h"
#include "kvm_exits.h"
#include "rows.h"

static int dev_cmp(const void *a, const void *b)
{
	const struct out_blk_dev *x = a, *y = b;

	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	if (x->minor != y->minor)
		return x->minor < y->minor ? -1 : 1;
	return 0;
}

/* Unknown (a device gone since, or 0:0 when the kernel gave none): "", null. */
static void name_dev(const struct session *s, struct out_blk_dev *o, const struct timespec *now)
{
	if (!s->devnames || blkdev_name(s->devnames, o->major, o->minor, (uint64_t)now->tv_sec,
					o->name, sizeof(o->name)))
		o->name[0] = '\0';
}

/* The devices e did I/O on in the period, named; over the run with `total`. */
static void fill_devices(const struct session *s, struct out_row *row, struct wl_row_buf *rb,
			 const struct wl_entry *e, bool total)
{
	struct timespec now;
	size_t n = 0;

	_Static_assert(sizeof(rb->devs[0].name) >= BLKDEV_NAME_MAX, "device names fit");
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < e->ndevs; i++) {
		const struct wl_dev *d = &e->devs[i];
		const struct wl_dev_counters *c = total ? &d->total : &d->delta;
		struct out_blk_dev *o;

		if (!c->rd_ops && !c->wr_ops && !c->rd_bytes && !c->wr_bytes)
			continue;
		o = &rb->devs[n++];
		o->major = d->major;
		o->minor = d->minor;
		o->read_ops = c->rd_ops;
		o->write_ops = c->wr_ops;
		o->read_bytes = c->rd_bytes;
		o->write_bytes = c->wr_bytes;
		name_dev(s, o, &now);
	}
	qsort(rb->devs, n, sizeof(rb->devs[0]), dev_cmp);
	row->devices = rb->devs;
	row->n_devices = n;
}

void rows_fill(const struct session *s, struct out_row *row, struct wl_row_buf *rb,
	       const struct wl_entry *e, const struct wl_counters *c, enum out_row_type type,
	       double interval_s)
{
	uint64_t ops = wl_counters_ops(c), packets = wl_counters_packets(c), bytes, cost;
	double p;

	memset(row, 0, sizeof(*row));
	row->type = type;
	clock_gettime(CLOCK_REALTIME, &row->ts);
	row->interval_s = interval_s;
	row->wl.kind = e->cls.kind;
	row->wl.cgroup_id = e->id;
	row->wl.cgroup_path = e->path_known ? e->path : NULL;
	row->wl.runtime = e->cls.runtime;
	row->wl.container_id = e->cls.container_id;
	row->wl.name = e->cls.name;

	row->cpu_ns = c->cpu_ns;
	row->cycles_source = s->loader.cycles_source;
	if (s->loader.pmu_fds)
		row->cycles = c->cpu_cycles;
	else
		row->cycles = cycles_from_ns(c->cpu_ns, s->tsc_hz);

	row->read_ops = c->rd_ops;
	row->write_ops = c->wr_ops;
	row->read_bytes = c->rd_bytes;
	row->write_bytes = c->wr_bytes;
	p = hist_percentile_ns(c->lat_hist, IOTRACE_LAT_SLOTS, 50);
	row->lat_p50_us = p < 0 ? -1 : p / 1000;
	p = hist_percentile_ns(c->lat_hist, IOTRACE_LAT_SLOTS, 99);
	row->lat_p99_us = p < 0 ? -1 : p / 1000;
	fill_devices(s, row, rb, e, c == &e->total);

	row->has_net = !s->loader.net_off;
	row->tx_packets = c->tx_packets;
	row->tx_bytes = c->tx_bytes;
	row->rx_packets = c->rx_packets;
	row->rx_bytes = c->rx_bytes;
	row->softirq_ns = c->softirq_ns;

	/*
	 * The cost of a workload's I/O: its CPU cycles and its share of the
	 * network softirq, whose cycles are estimated from time even when a
	 * counter measures the rest.  An I/O is a block op or a packet.
	 */
	cost = row->cycles + cycles_from_ns(c->softirq_ns, s->tsc_hz);
	bytes = c->tx_bytes + c->rx_bytes;
	row->iops = interval_s > 0 ? ops / interval_s : 0;
	row->cycles_per_io = ops + packets ? (double)cost / (ops + packets) : -1;
	row->cycles_per_packet = packets ? (double)cost / packets : -1;
	row->cycles_per_byte = bytes ? (double)cost / bytes : -1;
}

/* Scratch space for one VM row's lists: names live until the row is written. */
struct vm_row_buf {
	struct out_vm vm;
	struct out_count exits[VM_MAX_BUCKETS], user[VM_MAX_BUCKETS];
	struct out_count pio[VM_MAX_BUCKETS], mmio[VM_MAX_BUCKETS];
	char names[VM_MAX_BUCKETS][48];
	struct out_vm_role roles[VM_ROLE_MAX];
};

static int count_desc(const void *a, const void *b)
{
	const struct out_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

static const char *bucket_name(const struct vm_bucket *b, char *buf, size_t len)
{
	const char *name;

	switch (b->kind) {
	case IOTRACE_KVM_VMX:
	case IOTRACE_KVM_SVM:
		if (b->code == IOTRACE_KVM_REASON_UNKNOWN)
			return "unknown";
		name = kvm_exit_reason_name(b->kind, b->code);
		if (!name)
			snprintf(buf, len, "unknown-%llu", (unsigned long long)b->code);
		else if (b->kind == IOTRACE_KVM_VMX && (b->code & KVM_VMX_EXIT_FAILED_VMENTRY))
			snprintf(buf, len, "%s+FAILED_VMENTRY", name);
		else
			return name;
		return buf;
	case IOTRACE_KVM_USERSPACE:
		name = kvm_userspace_exit_name(b->code);
		if (name)
			return name;
		snprintf(buf, len, "unknown-%llu", (unsigned long long)b->code);
		return buf;
	default:
		snprintf(buf, len, "0x%llx", (unsigned long long)b->code);
		return buf;
	}
}

void rows_fill_unfinished(const struct session *s, struct out_row *row, struct unfinished *u,
			  enum unfinished_owner owner, uint64_t id)
{
	struct out_blk_dev *figs;
	struct timespec now;
	size_t n = unfinished_of(u, owner, id, &figs);

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < n; i++)
		name_dev(s, &figs[i], &now);
	row->has_unfinished = true;
	row->unfinished = figs;
	row->n_unfinished = n;
}

void rows_fill_vm(const struct session *s, struct out_row *row, struct vm_row_buf *vb,
		  const struct vm_entry *vm, bool summary, double interval_s)
{
	const struct vm_counters *c = summary ? &vm->total : &vm->delta;
	const struct iotrace_net_stats *net = summary ? &vm->net_total : &vm->net_delta;
	struct out_vm *o = &vb->vm;
	uint64_t ops = c->rd_ops + c->wr_ops, host_cycles, packets, bytes, cost, sirq;
	bool hw = vm->total.kvm_exits > 0;

	memset(row, 0, sizeof(*row));
	memset(o, 0, sizeof(*o));
	row->type = summary ? OUT_ROW_SUMMARY : OUT_ROW_INTERVAL;
	clock_gettime(CLOCK_REALTIME, &row->ts);
	row->interval_s = interval_s;
	row->wl.kind = WL_KIND_VM;
	row->wl.cgroup_id = vm->cgroup_id;
	row->wl.cgroup_path = vm->cgroup_path[0] ? vm->cgroup_path : NULL;
	row->wl.runtime = vm->runtime;
	row->wl.container_id = NULL;
	row->wl.name = vm->name;

	row->cpu_ns = c->cpu_ns;
	row->cycles_source = s->loader.cycles_source;
	row->cycles = s->loader.pmu_fds ? c->cpu_cycles : cycles_from_ns(c->cpu_ns, s->tsc_hz);
	row->read_ops = c->rd_ops;
	row->write_ops = c->wr_ops;
	row->read_bytes = c->rd_bytes;
	row->write_bytes = c->wr_bytes;
	/*
	 * Latency and the split by device are kept per cgroup only: see the
	 * VM's cgroup row (devices stays NULL: null).
	 */
	row->lat_p50_us = row->lat_p99_us = -1;
	/*
	 * The guest's traffic, at its tap devices.  As for workloads, an I/O is
	 * a block op or a packet, and the cost includes the softirq share.
	 */
	row->has_net = !s->loader.net_off;
	row->tx_packets = net->tx_packets;
	row->tx_bytes = net->tx_bytes;
	row->rx_packets = net->rx_packets;
	row->rx_bytes = net->rx_bytes;
	row->softirq_ns = net->softirq_ns;
	packets = net->tx_packets + net->rx_packets;
	bytes = net->tx_bytes + net->rx_bytes;
	sirq = cycles_from_ns(net->softirq_ns, s->tsc_hz);
	cost = row->cycles + sirq;
	row->iops = interval_s > 0 ? ops / interval_s : 0;
	row->cycles_per_io = ops + packets ? (double)cost / (ops + packets) : -1;
	row->cycles_per_packet = packets ? (double)cost / packets : -1;
	row->cycles_per_byte = bytes ? (double)cost / bytes : -1;

	o->pid = (int)vm->pid;
	o->vm_name = vm->name;
	o->vm_uuid = vm->uuid[0] ? vm->uuid : NULL;
	o->guest_ns = vm_counters_guest_ns(c);
	o->host_ns = vm_counters_host_ns(c);
	o->exits_source = hw ? "kvm_exit" : "userspace_exit";
	o->exits = hw ? c->kvm_exits : c->userspace_exits;
	o->userspace_exits = c->userspace_exits;
	o->pio_exits = c->pio_exits;
	o->mmio_exits = c->mmio_exits;
	o->exit_handling_ns = hw ? (int64_t)c->exit_handling_ns : -1;
	for (size_t i = 0; i < vm->nbuckets; i++) {
		const struct vm_bucket *b = &vm->buckets[i];
		uint64_t n = summary ? b->total.count : b->delta.count;
		struct out_count *dst;

		if (!n)
			continue;
		switch (b->kind) {
		case IOTRACE_KVM_USERSPACE:
			dst = &vb->user[o->n_userspace_exits_by_reason++];
			break;
		case IOTRACE_KVM_PIO:
			dst = &vb->pio[o->n_pio_ports++];
			break;
		case IOTRACE_KVM_MMIO:
			dst = &vb->mmio[o->n_mmio_pages++];
			break;
		default:
			dst = &vb->exits[o->n_exits_by_reason++];
		}
		dst->name = bucket_name(b, vb->names[i], sizeof(vb->names[i]));
		dst->n = n;
	}
	qsort(vb->exits, o->n_exits_by_reason, sizeof(vb->exits[0]), count_desc);
	qsort(vb->user, o->n_userspace_exits_by_reason, sizeof(vb->user[0]), count_desc);
	qsort(vb->pio, o->n_pio_ports, sizeof(vb->pio[0]), count_desc);
	qsort(vb->mmio, o->n_mmio_pages, sizeof(vb->mmio[0]), count_desc);
	o->exits_by_reason = vb->exits;
	o->userspace_exits_by_reason = vb->user;
	o->pio_ports = vb->pio;
	o->mmio_pages = vb->mmio;

	for (int k = 0; k < VM_ROLE_MAX; k++) {
		const struct vm_role_stats *rs = &vm->roles[k];
		const struct vm_counters *rc = summary ? &rs->total : &rs->delta;
		uint32_t threads = summary ? rs->threads_total : rs->threads;
		struct out_vm_role *dst;

		if (!threads)
			continue;
		dst = &vb->roles[o->nroles++];
		dst->role = vm_role_name((enum vm_role)k);
		dst->threads = threads;
		dst->cpu_ns = rc->cpu_ns;
		dst->guest_ns = vm_counters_guest_ns(rc);
		dst->read_ops = rc->rd_ops;
		dst->write_ops = rc->wr_ops;
		dst->read_bytes = rc->rd_bytes;
		dst->write_bytes = rc->wr_bytes;
		dst->migrations = rc->migrations;
		dst->runq_wait_ns = s->loader.sched_info ? (int64_t)rc->runq_wait_ns : -1;
		dst->runq_waits = s->loader.sched_info ? (int64_t)rc->runq_waits : -1;
	}
	o->roles = vb->roles;

	o->exits_per_io = ops + packets ? (double)o->exits / (ops + packets) : -1;
	/* Host cycles: the share of the cycles not spent in the guest, and the softirq. */
	host_cycles = c->cpu_ns ? (uint64_t)((double)row->cycles * o->host_ns / c->cpu_ns) : 0;
	host_cycles += sirq;
	o->host_cycles_per_io = ops + packets ? (double)host_cycles / (ops + packets) : -1;
	row->vm = o;
}

struct vm_row_buf *rows_vm_buf_new(void)
{
	return malloc(sizeof(struct vm_row_buf));
}

void rows_vm_buf_free(struct vm_row_buf *vb)
{
	free(vb);
}

bool rows_fill_self(const struct session *s, struct out_self *self, const uint64_t *cnt,
		    uint64_t prog_missed, double interval_s)
{
	bool any = prog_missed != 0;

	memset(self, 0, sizeof(*self));
	self->interval_s = interval_s;
	self->inflight_at_exit = -1;
	clock_gettime(CLOCK_REALTIME, &self->ts);
	self->stats_full = cnt[IOTRACE_CNT_STATS_FULL];
	self->inflight_full = cnt[IOTRACE_CNT_INFLIGHT_FULL];
	self->rq_no_owner = cnt[IOTRACE_CNT_RQ_NO_OWNER];
	self->unseen_complete = cnt[IOTRACE_CNT_UNSEEN_COMPLETE];
	self->pmu_read_fail = cnt[IOTRACE_CNT_PMU_READ_FAIL];
	self->recovered = cnt[IOTRACE_CNT_RECOVERED];
	self->prog_missed = prog_missed;
	self->cgroups_untracked = s->table.overflow + cgfs_cache_overflow(s->cache);
	self->vm_full = cnt[IOTRACE_CNT_VM_FULL];
	self->net_owners_full = cnt[IOTRACE_CNT_NET_OWNERS_FULL];
	self->net_off = s->loader.net_off;
	self->blk_dev_full = cnt[IOTRACE_CNT_BLK_DEV_FULL];
	self->devices_untracked = s->table.devs_untracked;
	self->pruned = s->coll.pruned;
	self->evicted = s->table.evicted;
	self->vms_untracked = s->vms.overflow;
	for (size_t i = 0; i < s->vms.n; i++)
		self->vms_untracked +=
			s->vms.vms[i]->threads_untracked + s->vms.vms[i]->buckets_untracked;
	for (int i = 0; i < IOTRACE_CNT_MAX; i++)
		any |= cnt[i] != 0;
	/* A pruned cgroup is normal; an evicted one's summary line is missing. */
	return any || self->cgroups_untracked || self->vms_untracked || self->devices_untracked ||
	       self->evicted;
}
