// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace record`: attach, then every interval read the maps into the
 * workload table and write a line per active workload; at the end (duration
 * or SIGINT/SIGTERM) write a summary line per workload seen during the run.
 * The line contract is docs/record-format.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroupfs.h"
#include "classify.h"
#include "cli.h"
#include "collector.h"
#include "cycles.h"
#include "docker_names.h"
#include "hist.h"
#include "kvm_exits.h"
#include "loader.h"
#include "output.h"
#include "record.h"
#include "vm_namer.h"
#include "vmtable.h"
#include "wltable.h"

#define DOCKER_ROOT "/var/lib/docker"

struct recorder {
	const struct record_opts *o;
	char mount[4096];
	struct cgfs_cache *cache;
	uint64_t filter[CLI_MAX_CGROUPS];
	int nfilter;
	struct loader loader;
	struct collector coll;
	struct wl_table table;
	struct vm_table vms;
	struct vm_namer *namer; /* libvirt, bounded in time; NULL: command lines only */
	bool libvirt_warned;
	struct vm_row_buf *vmrow;
	struct out_writer out;
	FILE *f;
	uint64_t tsc_hz;
	double run_s;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool wanted(const struct recorder *r, uint64_t id)
{
	if (!r->nfilter)
		return true;
	for (int i = 0; i < r->nfilter; i++)
		if (r->filter[i] == id)
			return true;
	return false;
}

static int resolve_filters(struct recorder *r)
{
	char rel[4096];
	int err;

	for (int i = 0; i < r->o->ncgroups; i++) {
		const char *arg = r->o->cgroups[i];

		err = cgfs_normalize(r->mount, arg, rel, sizeof(rel));
		if (!err)
			err = cgfs_path_to_id(r->mount, rel, &r->filter[i]);
		if (err) {
			fprintf(stderr,
				"iotrace: --cgroup %s: no such cgroup under the cgroup2 mount %s (%s); "
				"give a path relative to it, e.g. /system.slice, or an absolute path "
				"inside it\n",
				arg, r->mount, strerror(-err));
			return err;
		}
	}
	r->nfilter = r->o->ncgroups;
	return 0;
}

/*
 * The path of cgroup id from the name cache, walking the cgroup tree again
 * on a miss unless *refreshed says this emit already did.  0 or -ENOENT.
 */
static int cgroup_path_of(struct recorder *r, uint64_t id, char *path, size_t len, bool *refreshed)
{
	if (cgfs_cache_lookup(r->cache, id, path, len) == 0)
		return 0;
	if (*refreshed)
		return -ENOENT;
	cgfs_cache_refresh(r->cache);
	*refreshed = true;
	return cgfs_cache_lookup(r->cache, id, path, len);
}

/* Name a workload once: path from the cgroup tree, then runtime and name. */
static void identify(struct recorder *r, struct wl_entry *e, bool *refreshed)
{
	if (e->named)
		return;
	if (e->id == IOTRACE_UNATTRIBUTED_ID) {
		e->cls.kind = WL_KIND_HOST;
		e->cls.runtime = NULL;
		snprintf(e->cls.name, sizeof(e->cls.name), "unattributed");
		e->named = true;
		return;
	}
	if (cgroup_path_of(r, e->id, e->path, sizeof(e->path), refreshed) == 0) {
		e->path_known = true;
		wl_classify(e->path, &e->cls);
		/* The daemon's own answer first: its --data-root may be anywhere. */
		if (e->cls.runtime && !strcmp(e->cls.runtime, "docker") &&
		    docker_name_from_api(&e->cls))
			wl_name_from_runtime(&e->cls, DOCKER_ROOT);
	} else {
		/* Gone before we could see it: still reported, by id. */
		e->cls.kind = WL_KIND_CGROUP;
		e->cls.runtime = NULL;
		e->cls.container_id[0] = '\0';
		snprintf(e->cls.name, sizeof(e->cls.name), "cgroup-%llu",
			 (unsigned long long)e->id);
	}
	e->named = true;
}

static void fill_row(const struct recorder *r, struct out_row *row, const struct wl_entry *e,
		     const struct wl_counters *c, enum out_row_type type, double interval_s)
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
	row->cycles_source = r->loader.cycles_source;
	if (r->loader.pmu_fds)
		row->cycles = c->cpu_cycles;
	else
		row->cycles = cycles_from_ns(c->cpu_ns, r->tsc_hz);

	row->read_ops = c->rd_ops;
	row->write_ops = c->wr_ops;
	row->read_bytes = c->rd_bytes;
	row->write_bytes = c->wr_bytes;
	p = hist_percentile_ns(c->lat_hist, IOTRACE_LAT_SLOTS, 50);
	row->lat_p50_us = p < 0 ? -1 : p / 1000;
	p = hist_percentile_ns(c->lat_hist, IOTRACE_LAT_SLOTS, 99);
	row->lat_p99_us = p < 0 ? -1 : p / 1000;

	row->has_net = !r->loader.net_off;
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
	cost = row->cycles + cycles_from_ns(c->softirq_ns, r->tsc_hz);
	bytes = c->tx_bytes + c->rx_bytes;
	row->iops = interval_s > 0 ? ops / interval_s : 0;
	row->cycles_per_io = ops + packets ? (double)cost / (ops + packets) : -1;
	row->cycles_per_packet = packets ? (double)cost / packets : -1;
	row->cycles_per_byte = bytes ? (double)cost / bytes : -1;
}

/*
 * Name a VM once: libvirt's name and uuid, else QEMU's -name, else
 * kvm-<pid>; and the cgroup its process is in.
 */
static void identify_vm(struct recorder *r, struct vm_entry *vm)
{
	struct vm_name nm;
	struct wl_class cls;
	bool refreshed = false;
	int stuck = 0;

	if (vm->named)
		return;
	if (vm_namer_resolve(r->namer, (int)vm->pid, &nm, &stuck) == 0) {
		snprintf(vm->name, sizeof(vm->name), "%s", nm.name);
		snprintf(vm->uuid, sizeof(vm->uuid), "%s", nm.uuid);
		vm->name_source = vm_name_source_str(nm.source);
		if (stuck && !r->libvirt_warned) {
			fprintf(stderr,
				"iotrace: warning: libvirtd does not answer; naming VMs from "
				"QEMU's command line until it does\n");
			r->libvirt_warned = true;
		}
	} else {
		snprintf(vm->name, sizeof(vm->name), "kvm-%u", vm->pid);
		vm->name_source = "pid";
	}
	/*
	 * The main thread's cgroup while the process lives; for a VM that came
	 * and went within an interval, the one its first KVM event came from.
	 */
	if (cgfs_proc_cgroup(NULL, (int)vm->pid, vm->cgroup_path, sizeof(vm->cgroup_path)) ||
	    cgfs_path_to_id(r->mount, vm->cgroup_path, &vm->cgroup_id)) {
		vm->cgroup_id = vm->bpf_cgroup_id;
		if (!vm->cgroup_id || cgroup_path_of(r, vm->cgroup_id, vm->cgroup_path,
						     sizeof(vm->cgroup_path), &refreshed))
			vm->cgroup_path[0] = '\0';
	}
	if (vm->cgroup_path[0]) {
		wl_classify(vm->cgroup_path, &cls);
		vm->runtime = cls.runtime;
	}
	vm->named = true;
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

static void fill_vm_row(const struct recorder *r, struct out_row *row, struct vm_row_buf *vb,
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
	row->cycles_source = r->loader.cycles_source;
	row->cycles = r->loader.pmu_fds ? c->cpu_cycles : cycles_from_ns(c->cpu_ns, r->tsc_hz);
	row->read_ops = c->rd_ops;
	row->write_ops = c->wr_ops;
	row->read_bytes = c->rd_bytes;
	row->write_bytes = c->wr_bytes;
	/* Latency is kept per cgroup only: see the VM's cgroup row. */
	row->lat_p50_us = row->lat_p99_us = -1;
	/*
	 * The guest's traffic, at its tap devices.  As for workloads, an I/O is
	 * a block op or a packet, and the cost includes the softirq share.
	 */
	row->has_net = !r->loader.net_off;
	row->tx_packets = net->tx_packets;
	row->tx_bytes = net->tx_bytes;
	row->rx_packets = net->rx_packets;
	row->rx_bytes = net->rx_bytes;
	row->softirq_ns = net->softirq_ns;
	packets = net->tx_packets + net->rx_packets;
	bytes = net->tx_bytes + net->rx_bytes;
	sirq = cycles_from_ns(net->softirq_ns, r->tsc_hz);
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
	}
	o->roles = vb->roles;

	o->exits_per_io = ops + packets ? (double)o->exits / (ops + packets) : -1;
	/* Host cycles: the share of the cycles not spent in the guest, and the softirq. */
	host_cycles = c->cpu_ns ? (uint64_t)((double)row->cycles * o->host_ns / c->cpu_ns) : 0;
	host_cycles += sirq;
	o->host_cycles_per_io = ops + packets ? (double)host_cycles / (ops + packets) : -1;
	row->vm = o;
}

static int write_row(struct recorder *r, const struct out_row *row)
{
	int err = out_row(&r->out, row);

	if (err)
		fprintf(stderr, "iotrace: cannot write to %s: %s\n",
			r->o->output ? r->o->output : "standard output", strerror(-err));
	return err;
}

static int write_self(struct recorder *r, double interval_s, const uint64_t *cnt,
		      uint64_t prog_missed, bool always)
{
	struct out_self s = { .interval_s = interval_s, .inflight_at_exit = -1 };
	uint64_t inflight;
	bool any = false;

	clock_gettime(CLOCK_REALTIME, &s.ts);
	s.stats_full = cnt[IOTRACE_CNT_STATS_FULL];
	s.inflight_full = cnt[IOTRACE_CNT_INFLIGHT_FULL];
	s.rq_no_owner = cnt[IOTRACE_CNT_RQ_NO_OWNER];
	s.unseen_complete = cnt[IOTRACE_CNT_UNSEEN_COMPLETE];
	s.pmu_read_fail = cnt[IOTRACE_CNT_PMU_READ_FAIL];
	s.recovered = cnt[IOTRACE_CNT_RECOVERED];
	s.prog_missed = prog_missed;
	s.cgroups_untracked = r->table.overflow + cgfs_cache_overflow(r->cache);
	s.vm_full = cnt[IOTRACE_CNT_VM_FULL];
	s.net_owners_full = cnt[IOTRACE_CNT_NET_OWNERS_FULL];
	s.net_off = r->loader.net_off;
	s.vms_untracked = r->vms.overflow;
	for (size_t i = 0; i < r->vms.n; i++)
		s.vms_untracked +=
			r->vms.vms[i]->threads_untracked + r->vms.vms[i]->buckets_untracked;
	for (int i = 0; i < IOTRACE_CNT_MAX; i++)
		any |= cnt[i] != 0;
	if (!any && !prog_missed && !s.cgroups_untracked && !s.vms_untracked && !always)
		return 0;
	/* The run's last line: what iotrace saw start and never saw end. */
	if (always && collector_inflight(&r->coll, &inflight) == 0)
		s.inflight_at_exit = (int64_t)inflight;
	return out_self(&r->out, &s) ? -EIO : 0;
}

/*
 * Write a row per workload: the interval's deltas of the workloads active
 * in it, or the run's totals of every workload seen; then the self line.
 */
static int emit(struct recorder *r, enum out_row_type type, double interval_s)
{
	bool summary = type == OUT_ROW_SUMMARY, refreshed = false;
	struct out_row row;
	struct wl_entry *e;
	int err;

	wl_table_for_each(&r->table, e)
	{
		if (!(summary ? e->ever_active : e->active) || !wanted(r, e->id))
			continue;
		identify(r, e, &refreshed);
		fill_row(r, &row, e, summary ? &e->total : &e->delta, type, interval_s);
		err = write_row(r, &row);
		if (err)
			return err;
	}
	for (size_t i = 0; i < r->vms.n; i++) {
		struct vm_entry *vm = r->vms.vms[i];

		if (!(summary ? vm->ever_active : vm->active))
			continue;
		identify_vm(r, vm);
		if (!wanted(r, vm->cgroup_id))
			continue;
		fill_vm_row(r, &row, r->vmrow, vm, summary, interval_s);
		err = write_row(r, &row);
		if (err)
			return err;
	}
	err = summary ? write_self(r, interval_s, r->coll.counters, r->coll.prog_missed, true) :
			write_self(r, interval_s, r->coll.counters_delta, r->coll.prog_missed_delta,
				   false);
	if (err)
		return -EIO;
	return fflush(r->f) ? -errno : 0;
}

/* Sleep until `deadline` (monotonic s) or a stop signal. true: stop. */
static bool wait_until(const sigset_t *stopset, double deadline)
{
	double left = deadline - mono_now();
	struct timespec ts;
	int sig;

	if (left <= 0)
		return false;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
	do {
		sig = sigtimedwait(stopset, NULL, &ts);
	} while (sig < 0 && errno == EINTR);
	return sig > 0;
}

static int run_loop(struct recorder *r, const sigset_t *stopset)
{
	const struct record_opts *o = r->o;
	double t0 = mono_now(), last = t0, next = t0 + o->interval_s, now;
	bool stop = false;
	int err;

	while (!stop) {
		double deadline = next;

		if (o->duration_s > 0 && t0 + o->duration_s < deadline)
			deadline = t0 + o->duration_s;
		stop = wait_until(stopset, deadline);
		now = mono_now();
		if (o->duration_s > 0 && now - t0 >= o->duration_s - 1e-6)
			stop = true;
		err = collector_read(&r->coll, &r->table, &r->vms);
		if (err) {
			fprintf(stderr, "iotrace: cannot read the BPF maps: %s\n", strerror(-err));
			return err;
		}
		/* Name new VMs now, while their processes can still be asked. */
		for (size_t i = 0; i < r->vms.n; i++)
			identify_vm(r, r->vms.vms[i]);
		err = emit(r, OUT_ROW_INTERVAL, now - last);
		if (err)
			return err;
		last = now;
		while (next <= now)
			next += o->interval_s;
	}
	r->run_s = last - t0;
	return emit(r, OUT_ROW_SUMMARY, r->run_s);
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o;
	struct recorder r = { .o = &o, .loader = LOADER_INIT };
	struct loader_opts lo = { 0 };
	sigset_t stopset;
	char err[2048];
	int ret = 1, e;

	switch (cli_parse_record(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_record_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace record: %s\nTry 'iotrace record --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}

	e = cgfs_find_mount("/proc/mounts", r.mount, sizeof(r.mount));
	if (e) {
		fprintf(stderr,
			"iotrace: no cgroup2 file system is mounted (%s); workloads are cgroup2 "
			"cgroups: mount it, e.g. mount -t cgroup2 none /sys/fs/cgroup/unified\n",
			strerror(-e));
		return 1;
	}
	if (resolve_filters(&r))
		return 1;
	r.cache = cgfs_cache_new(r.mount, IOTRACE_MAX_WORKLOADS);
	r.vmrow = malloc(sizeof(*r.vmrow));
	if (!r.cache || !r.vmrow || wl_table_init(&r.table, IOTRACE_MAX_WORKLOADS) ||
	    vm_table_init(&r.vms, IOTRACE_MAX_VMS)) {
		fprintf(stderr, "iotrace: out of memory\n");
		goto out;
	}
	cgfs_cache_refresh(r.cache);
	if (cycles_tsc_hz(&r.tsc_hz)) {
		fprintf(stderr,
			"iotrace: cannot find the TSC or CPU frequency to estimate cycles\n");
		goto out;
	}

	if (o.output) {
		r.f = fopen(o.output, "w");
		if (!r.f) {
			fprintf(stderr, "iotrace: cannot open output file %s: %s\n", o.output,
				strerror(errno));
			goto out;
		}
	} else {
		r.f = stdout;
	}
	out_init(&r.out, r.f, o.format);

	/* Held pending until the loop waits for them: none is lost during load. */
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGHUP);
	sigprocmask(SIG_BLOCK, &stopset, NULL);
	/* A closed pipe on stdout must end the run cleanly, not kill it. */
	signal(SIGPIPE, SIG_IGN);

	lo.prog = o.prog;
	lo.pmu = o.pmu;
	lo.verbose = o.verbose;
	e = loader_open(&r.loader, &lo, err, sizeof(err));
	if (e) {
		fprintf(stderr, "iotrace: %s\n", err);
		goto out;
	}
	if (r.loader.net_off)
		fprintf(stderr, "iotrace: warning: no network figures: %s\n", r.loader.net_off);
	/* libvirt names VMs when its daemon runs; else QEMU's -name does. */
	r.namer = vm_namer_open(NULL, 1000);
	if (collector_init(&r.coll, &r.loader)) {
		fprintf(stderr, "iotrace: cannot set up the collector: out of memory\n");
		goto out;
	}
	e = collector_find_vms(&r.coll);
	if (e < 0)
		fprintf(stderr, "iotrace: warning: cannot look for running VMs in /proc: %s\n",
			strerror(-e));
	if (!strcmp(r.loader.cycles_source, "tsc-estimate"))
		fprintf(stderr,
			"iotrace: recording (%s programs, cycles estimated at %.1f MHz TSC), "
			"interval %g s; Ctrl-C to stop\n",
			prog_mode_name(r.loader.mode), r.tsc_hz / 1e6, o.interval_s);
	else
		fprintf(stderr,
			"iotrace: recording (%s programs, cycles from %s), interval %g s; Ctrl-C "
			"to stop\n",
			prog_mode_name(r.loader.mode), r.loader.cycles_source, o.interval_s);

	ret = run_loop(&r, &stopset) ? 1 : 0;
	if (!ret && (r.coll.counters[IOTRACE_CNT_STATS_FULL] || r.table.overflow))
		fprintf(stderr,
			"iotrace: warning: %llu events lost to a full workload table, %zu workloads "
			"untracked\n",
			(unsigned long long)r.coll.counters[IOTRACE_CNT_STATS_FULL],
			r.table.overflow);
out:
	collector_free(&r.coll);
	loader_close(&r.loader);
	if (r.f && r.f != stdout && fclose(r.f) && !ret) {
		fprintf(stderr, "iotrace: cannot write to %s: %s\n", o.output, strerror(errno));
		ret = 1;
	}
	wl_table_free(&r.table);
	vm_table_free(&r.vms);
	vm_namer_close(r.namer);
	free(r.vmrow);
	cgfs_cache_free(r.cache);
	return ret;
}
