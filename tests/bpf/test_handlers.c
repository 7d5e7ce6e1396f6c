// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The raw_tp handlers run through BPF_PROG_TEST_RUN on synthetic arguments,
 * without being attached, so nothing else on the host feeds the maps.
 *
 * The runs go to CPU 0 with BPF_F_TEST_RUN_ON_CPU while this process is
 * pinned there: the handler then runs from an IPI on top of this process,
 * current is this process, and its slice is charged to this cgroup.
 *
 * The KVM handlers are tested the same way, this process playing the vCPU
 * thread: kvm_exit and kvm_entry never fire on the PVM host the tests run
 * on, and a real vCPU could not be steered to a chosen exit anyway.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fake_vcpu.skel.h"
#include "bpf_test.h"
#include "iotrace.h"
#include "iotrace.skel.h"
#include "proc_ident.h"

/* Open and load the raw_tp variant with this vCPU layout, attach nothing. */
static struct iotrace_bpf *load_raw_layout(bool use_pmu, uint64_t attach_ns,
					   const struct iotrace_kvm_layout *layout)
{
	struct iotrace_bpf *skel = iotrace_bpf__open();
	struct bpf_program *prog;

	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);

		if (strstr(name, "_btf"))
			bpf_program__set_autoload(prog, false);
	}
	skel->rodata->use_pmu = use_pmu;
	skel->rodata->attach_ns = attach_ns;
	if (layout)
		skel->rodata->kvm_layout = *layout;
	bpf_map__set_max_entries(skel->maps.pmu, libbpf_num_possible_cpus());
	if (iotrace_bpf__load(skel))
		fail_msg("cannot load the raw_tp programs: %s", strerror(errno));
	return skel;
}

static struct iotrace_bpf *load_raw(bool use_pmu, uint64_t attach_ns)
{
	return load_raw_layout(use_pmu, attach_ns, NULL);
}

static void run_on_cpu(struct bpf_program *prog, __u64 *args, size_t nargs, int cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = nargs * sizeof(__u64),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = cpu);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		fail_msg("test run of %s failed: %s", bpf_program__name(prog), strerror(errno));
}

static void run_on_cpu0(struct bpf_program *prog, __u64 *args, size_t nargs)
{
	run_on_cpu(prog, args, nargs, 0);
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
}

static struct iotrace_cpu_stats cpu_stats_of(struct iotrace_bpf *skel, uint64_t id)
{
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_cpu_stats *v = calloc(ncpus, sizeof(*v)), sum = { 0 };

	assert_non_null(v);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cpu_stats), &id, v) == 0) {
		for (int i = 0; i < ncpus; i++) {
			sum.cpu_ns += v[i].cpu_ns;
			sum.cpu_cycles += v[i].cpu_cycles;
		}
	}
	free(v);
	return sum;
}

/* A workload's read ops in blk_stats, summed over CPUs. */
static uint64_t blk_rd_ops_of(struct iotrace_bpf *skel, uint64_t id)
{
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_blk_stats *v = calloc(ncpus, sizeof(*v));
	uint64_t ops = 0;

	assert_non_null(v);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.blk_stats), &id, v) == 0)
		for (int i = 0; i < ncpus; i++)
			ops += v[i].rd_ops;
	free(v);
	return ops;
}

/* The (workload, device) counters summed over CPUs; *found: the entry exists. */
static struct iotrace_blk_dev_stats dev_stats_of(struct iotrace_bpf *skel, uint64_t id,
						 uint32_t dev, bool *found)
{
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_blk_dev_stats *v = calloc(ncpus, sizeof(*v)), sum = { 0 };
	struct iotrace_blk_dev_key key = { .cgroup_id = id, .dev = dev };

	assert_non_null(v);
	*found = bpf_map_lookup_elem(bpf_map__fd(skel->maps.blk_dev_stats), &key, v) == 0;
	if (*found) {
		for (int i = 0; i < ncpus; i++) {
			sum.rd_ops += v[i].rd_ops;
			sum.wr_ops += v[i].wr_ops;
			sum.rd_bytes += v[i].rd_bytes;
			sum.wr_bytes += v[i].wr_bytes;
		}
	}
	free(v);
	return sum;
}

static uint64_t counter_of(struct iotrace_bpf *skel, __u32 idx)
{
	return percpu_u64_sum(bpf_map__fd(skel->maps.counters), idx);
}

/*
 * The run time charged between two flushes is bounded on the scheduler's
 * own clock: at least this task's schedstat delta read inside them, at
 * most the delta read around them (a read brings the sum up to date, and
 * the sum only grows).  Not by wall time: under this hypervisor run time
 * and CLOCK_MONOTONIC drift apart when the host is busy (seen: 23.92 ms of
 * run time, by schedstat, within 20.4 ms of wall time).  A double count
 * would add the 10 ms spans again.
 */
static void assert_charged_between(uint64_t charged, uint64_t lo, uint64_t hi)
{
	if (charged < lo || charged > hi)
		fail_msg("charged %llu ns, expected within [%llu, %llu]",
			 (unsigned long long)charged, (unsigned long long)lo,
			 (unsigned long long)hi);
}

/* This task's scheduler run time; reading it brings the value up to date. */
static uint64_t own_runtime_ns(void)
{
	unsigned long long ns = 0;
	FILE *f = fopen("/proc/self/schedstat", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &ns), 1);
	fclose(f);
	return ns;
}

/*
 * The flush program closes the running slice of current, as a switch does.
 * Reading schedstat updates this task's sum_exec_runtime, so the run time
 * charged between two flushes is at least the schedstat delta between them
 * and at most the wall time around them.
 */
static void test_flush_charges_run_time(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	__u64 args[1] = { 0 };
	uint64_t id = own_cgroup_id(), r0, r1, r2, r3, first;
	struct iotrace_cpu_stats s;

	(void)state;
	pin_cpu0();
	/*
	 * The first sighting charges the slice current is in; start after it.
	 * Later flushes charge everything since it, reading `first` included,
	 * so the upper bound starts before it.
	 */
	r0 = own_runtime_ns();
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	first = cpu_stats_of(skel, id).cpu_ns;
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	r1 = own_runtime_ns();
	spin_ns(30 * 1000 * 1000);
	r2 = own_runtime_ns();
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	r3 = own_runtime_ns();

	s = cpu_stats_of(skel, id);
	s.cpu_ns -= first;
	assert_charged_between(s.cpu_ns, r2 - r1, r3 - r0);
	assert_int_equal(s.cpu_cycles, 0); /* no counter in use */
	iotrace_bpf__destroy(skel);
}

/*
 * Every charge point charges only the run time not charged before, so
 * extra or missing switches never double count or lose time: a switch-out
 * (synthetic, charging current) between two flushes changes nothing to the
 * total, which still lies between the run time between the flushes and the
 * wall time around them.
 */
static void test_charge_points_never_double_count(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	__u64 sw[4] = { 0, 0x1000, 0x2000, 0 }; /* preempt, prev, next, state */
	__u64 flush[1] = { 0 };
	uint64_t id = own_cgroup_id(), r0, r1, r2, r3, first;

	(void)state;
	pin_cpu0();
	r0 = own_runtime_ns(); /* before the first sighting: later charges start there */
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	first = cpu_stats_of(skel, id).cpu_ns; /* first sighting: current slice */
	r1 = own_runtime_ns();
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	spin_ns(10 * 1000 * 1000);
	run_on_cpu0(skel->progs.sched_switch_raw, sw, 4);
	run_on_cpu0(skel->progs.sched_switch_raw, sw, 4);
	spin_ns(10 * 1000 * 1000);
	r2 = own_runtime_ns();
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	r3 = own_runtime_ns();
	assert_charged_between(cpu_stats_of(skel, id).cpu_ns - first, r2 - r1, r3 - r0);
	iotrace_bpf__destroy(skel);
}

/*
 * The first time a task is seen, its current slice is charged from where
 * the scheduler says it began, but never from before iotrace attached.
 */
static void test_first_sighting_clamped_to_attach(void **state)
{
	uint64_t t_attach = now_ns();
	struct iotrace_bpf *skel = load_raw(false, t_attach);
	__u64 flush[1] = { 0 };
	uint64_t t1;

	(void)state;
	pin_cpu0();
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	t1 = now_ns();
	assert_true(cpu_stats_of(skel, own_cgroup_id()).cpu_ns <= t1 - t_attach);
	iotrace_bpf__destroy(skel);
}

/*
 * An RT task's prev_sum_exec_runtime is stale (only the fair class sets it
 * at switch-in): seen for the first time, such a task is owed nothing of
 * its slice, never its whole life.  This thread runs SCHED_FIFO for the
 * flush after burning 50 ms of CPU since the program was loaded (attach_ns
 * 0 would otherwise allow all of it), and must be charged nothing.
 */
static void test_first_sighting_of_rt_task_charges_nothing(void **state)
{
	struct sched_param rt = { .sched_priority = 1 }, normal = { .sched_priority = 0 };
	struct iotrace_bpf *skel = load_raw(false, 0);
	__u64 flush[1] = { 0 };
	struct iotrace_cpu_stats st;
	int err;

	(void)state;
	pin_cpu0();
	spin_ns(50 * 1000 * 1000);
	err = sched_setscheduler(0, SCHED_FIFO, &rt);
	if (err)
		fail_msg("cannot run as SCHED_FIFO: %s", strerror(errno));
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	sched_setscheduler(0, SCHED_OTHER, &normal);
	st = cpu_stats_of(skel, own_cgroup_id());
	assert_int_equal(st.cpu_ns, 0);
	iotrace_bpf__destroy(skel);
}

/*
 * The cycle counter path, with the software cpu-clock event standing in for
 * hardware cycles (this machine has no PMU).  A CPU-wide cpu-clock event
 * counts the CPU's wall time, so the delta between two flushes lies between
 * the span between them and the span around them.
 */
static void test_counter_path_with_cpu_clock(void **state)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
	};
	struct iotrace_bpf *skel = load_raw(true, 0);
	__u64 args[1] = { 0 };
	uint64_t id = own_cgroup_id(), t0, t1, t2, t3;
	struct iotrace_cpu_stats s;
	int fd, cpu = 0;

	(void)state;
	fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		fail_msg("cannot open the cpu-clock event on CPU 0: %s", strerror(errno));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.pmu), &cpu, &fd, BPF_ANY), 0);
	pin_cpu0();
	t0 = now_ns();
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	t1 = now_ns();
	spin_ns(30 * 1000 * 1000);
	t2 = now_ns();
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	t3 = now_ns();
	s = cpu_stats_of(skel, id);
	if (s.cpu_cycles < t2 - t1 || s.cpu_cycles > t3 - t0)
		fail_msg("counter delta %llu, expected within [%llu, %llu]",
			 (unsigned long long)s.cpu_cycles, (unsigned long long)(t2 - t1),
			 (unsigned long long)(t3 - t0));
	assert_int_equal(counter_of(skel, IOTRACE_CNT_PMU_READ_FAIL), 0);
	close(fd);
	iotrace_bpf__destroy(skel);
}

/* Without a counter installed for the CPU, each read failure is counted. */
static void test_counter_read_failure_is_counted(void **state)
{
	struct iotrace_bpf *skel = load_raw(true, 0);
	__u64 args[1] = { 0 };

	(void)state;
	pin_cpu0();
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	spin_ns(1000 * 1000);
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_PMU_READ_FAIL), 2);
	assert_int_equal(cpu_stats_of(skel, own_cgroup_id()).cpu_cycles, 0);
	iotrace_bpf__destroy(skel);
}

/*
 * A completion whose request was never seen issued (synthetic pointer):
 * charged to the unattributed workload and counted, not dropped.  The
 * request's fields read as zero (a read with no bytes left), so nr_bytes
 * completes it.
 */
static void test_unseen_completion_is_unattributed(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	__u64 args[3] = { 0x1000, 0, 4096 }; /* rq, error, nr_bytes */
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_blk_stats *v = calloc(ncpus, sizeof(*v));
	__u64 key = IOTRACE_UNATTRIBUTED_ID, ops = 0, bytes = 0;
	struct iotrace_blk_dev_stats d;
	bool found;

	(void)state;
	assert_non_null(v);
	run_on_cpu0(skel->progs.block_rq_complete_raw, args, 3);
	run_on_cpu0(skel->progs.block_rq_complete_raw, args, 3);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.blk_stats), &key, v), 0);
	for (int i = 0; i < ncpus; i++) {
		ops += v[i].rd_ops;
		bytes += v[i].rd_bytes;
	}
	assert_int_equal(ops, 2);
	assert_int_equal(bytes, 8192);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_UNSEEN_COMPLETE), 2);
	/*
	 * Split by device as well: the synthetic request has no partition nor
	 * queue (its fields read as zero), so its device is 0, unknown.
	 */
	d = dev_stats_of(skel, IOTRACE_UNATTRIBUTED_ID, 0, &found);
	assert_true(found);
	assert_int_equal(d.rd_ops, 2);
	assert_int_equal(d.rd_bytes, 8192);
	assert_int_equal(d.wr_ops + d.wr_bytes, 0);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_BLK_DEV_FULL), 0);
	free(v);
	iotrace_bpf__destroy(skel);
}

/*
 * A full (workload, device) table loses only the split: the workload's own
 * figures are still counted, and the loss is counted.
 */
static void test_full_dev_table_is_counted(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	__u64 args[3] = { 0x1000, 0, 4096 }; /* rq, error, nr_bytes */
	int ncpus = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.blk_dev_stats);
	struct iotrace_blk_dev_stats *zero = calloc(ncpus, sizeof(*zero));
	struct iotrace_blk_dev_key key = { .cgroup_id = 1 };
	bool found;

	(void)state;
	assert_non_null(zero);
	for (__u32 i = 0; i < bpf_map__max_entries(skel->maps.blk_dev_stats); i++) {
		key.dev = i + 1;
		assert_int_equal(bpf_map_update_elem(fd, &key, zero, BPF_NOEXIST), 0);
	}
	run_on_cpu0(skel->progs.block_rq_complete_raw, args, 3);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_BLK_DEV_FULL), 1);
	dev_stats_of(skel, IOTRACE_UNATTRIBUTED_ID, 0, &found);
	assert_false(found);
	/* The workload's own figures are still counted. */
	assert_int_equal(counter_of(skel, IOTRACE_CNT_UNSEEN_COMPLETE), 1);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_STATS_FULL), 0);
	assert_int_equal(blk_rd_ops_of(skel, IOTRACE_UNATTRIBUTED_ID), 1);
	free(zero);
	iotrace_bpf__destroy(skel);
}

/* A zero-byte completion (the empty pre-flush write of fsync) is no I/O. */
static void test_empty_completion_is_not_io(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	__u64 args[3] = { 0x1000, 0, 0 };
	__u64 key = IOTRACE_UNATTRIBUTED_ID;
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_blk_stats *v = calloc(ncpus, sizeof(*v));
	bool found;

	(void)state;
	assert_non_null(v);
	run_on_cpu0(skel->progs.block_rq_complete_raw, args, 3);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.blk_stats), &key, v), 0);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_UNSEEN_COMPLETE), 0);
	dev_stats_of(skel, key, 0, &found);
	assert_false(found);
	free(v);
	iotrace_bpf__destroy(skel);
}

/*
 * Run PROG with ARGS (the bio first) over an in-flight entry left under the
 * bio's address by an I/O whose completion was missed: the entry must be
 * counted for its owner, on the device it was queued to, the recovery
 * counted, and the entry gone.  (The synthetic bio reads as a non-data bio
 * and as a split without a parent, so no new entry replaces the old one.)
 */
static void check_stale_entry_recovered(const char *prog_name, __u64 *args, size_t nargs)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	struct iotrace_io_info io = {
		.cgroup_id = 4242,
		.start_ns = 1,
		.sector = 8,
		.op = 1 /* write */,
		.bytes = 8192,
		.dev = (7 << 20) | 3, /* loop3, where it was queued */
	};
	struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, prog_name);
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_blk_stats *v = calloc(ncpus, sizeof(*v));
	__u64 key = args[0], owner = 4242, ops = 0, bytes = 0;
	struct iotrace_blk_dev_stats d;
	bool found;

	assert_non_null(prog);
	assert_non_null(v);
	/* Put it in the overflow table, as a handler would on a slot collision. */
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.inflight), &key, &io, BPF_ANY),
			 0);
	skel->bss->overflow_entries = 1;
	pin_cpu0();
	run_on_cpu0(prog, args, nargs);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.blk_stats), &owner, v), 0);
	for (int i = 0; i < ncpus; i++) {
		ops += v[i].wr_ops;
		bytes += v[i].wr_bytes;
		assert_int_equal(v[i].rd_ops, 0);
	}
	assert_int_equal(ops, 1);
	assert_int_equal(bytes, 8192);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_RECOVERED), 1);
	/* Its completion was never seen: it counts on the device it was queued to. */
	d = dev_stats_of(skel, owner, (7 << 20) | 3, &found);
	assert_true(found);
	assert_int_equal(d.wr_ops, 1);
	assert_int_equal(d.wr_bytes, 8192);
	assert_int_equal(d.rd_ops, 0);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.inflight), &key, &io), 0);
	assert_int_equal(skel->bss->overflow_entries, 0);
	free(v);
	iotrace_bpf__destroy(skel);
}

/* A bio queued at the address of an I/O whose completion was missed. */
static void test_missed_completion_recovered_on_key_reuse(void **state)
{
	__u64 args[1] = { 0x5000 };

	(void)state;
	check_stale_entry_recovered("block_bio_queue_raw", args, 1);
}

/*
 * A bio split off at such an address: the split is a new bio, so the entry
 * is not its own and must not be overwritten by the split's part.
 */
static void test_missed_completion_recovered_on_split(void **state)
{
	__u64 args[2] = { 0x6000, 0 }; /* split, new_sector */

	(void)state;
	check_stale_entry_recovered("block_split_raw", args, 2);
}

/*
 * KVM.  The fake vCPU is the value of fake_vcpu.bpf.c's array: kernel
 * memory at a fixed address, which the handler reads with the probe helper
 * as it would a struct vcpu_vmx or vcpu_svm.  Offsets below are arbitrary
 * (not the kernel's): the rodata layout says where things are.
 */
#define FAKE_SIZE 4096
#define FAKE_VMX_REASON 0x1a4
#define FAKE_SVM_VMCB 0x40
#define FAKE_VMCB 0x800 /* the fake vmcb, inside the same value */
#define FAKE_SVM_CODE 0x70
#define FAKE_FILL 0xcc /* everywhere else: a misplaced read sees 0xcccccccc */

#define VMX_EXIT_IO_INSTRUCTION 30
#define VMX_EXIT_FAILED_INVALID_STATE 0x80000021U /* FAILED_VMENTRY | INVALID_STATE */
#define SVM_EXIT_IOIO 0x07b
#define KVM_EXIT_IO 2
#define KVM_TRACE_MMIO_READ_UNSATISFIED 0
#define KVM_TRACE_MMIO_READ 1
#define KVM_TRACE_MMIO_WRITE 2

struct fake_vcpu {
	struct fake_vcpu_bpf *skel;
	uint64_t addr; /* kernel address of mem's copy */
	uint8_t mem[FAKE_SIZE];
};

static void fake_open(struct fake_vcpu *f)
{
	__u64 args[1] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	memset(f->mem, FAKE_FILL, sizeof(f->mem));
	f->skel = fake_vcpu_bpf__open_and_load();
	if (!f->skel)
		fail_msg("cannot load the fake vCPU: %s", strerror(errno));
	assert_int_equal(bpf_map__value_size(f->skel->maps.fake_mem), FAKE_SIZE);
	if (bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.fake_vcpu_addr), &opts))
		fail_msg("test run of fake_vcpu_addr failed: %s", strerror(errno));
	f->addr = f->skel->bss->fake_addr;
	assert_true(f->addr != 0);
}

/* Copy mem into the kernel's value; an array value never moves. */
static void fake_store(struct fake_vcpu *f)
{
	__u32 key = 0;

	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(f->skel->maps.fake_mem), &key, f->mem, BPF_ANY), 0);
}

static void fake_put32(struct fake_vcpu *f, size_t off, uint32_t v)
{
	memcpy(f->mem + off, &v, sizeof(v));
}

static void fake_put64(struct fake_vcpu *f, size_t off, uint64_t v)
{
	memcpy(f->mem + off, &v, sizeof(v));
}

static void fake_close(struct fake_vcpu *f)
{
	fake_vcpu_bpf__destroy(f->skel);
}

/*
 * Without BPF_F_TEST_RUN_ON_CPU a raw_tp program runs in the caller's own
 * context, as the KVM tracepoints run in the vCPU thread's: current is
 * this thread.
 */
static void run_here(struct bpf_program *prog, __u64 *args, size_t nargs)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = nargs * sizeof(__u64));

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		fail_msg("test run of %s failed: %s", bpf_program__name(prog), strerror(errno));
}

static void kvm_exit_run(struct iotrace_bpf *skel, uint64_t vcpu, uint32_t isa)
{
	__u64 args[2] = { vcpu, isa };

	run_here(skel->progs.kvm_exit_raw, args, 2);
}

static void kvm_entry_run(struct iotrace_bpf *skel, uint64_t vcpu)
{
	__u64 args[2] = { vcpu, 0 /* immediate_exit */ };

	run_here(skel->progs.kvm_entry_raw, args, 2);
}

static uint32_t own_tid(void)
{
	return (uint32_t)syscall(SYS_gettid);
}

/* This thread's VM counters summed over CPUs; false when it has none. */
static bool own_thread_stats(struct iotrace_bpf *skel, struct iotrace_thread_stats *sum)
{
	struct iotrace_thread_key key = { .tgid = (uint32_t)getpid(), .tid = own_tid() };
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_thread_stats *v = calloc(ncpus, sizeof(*v));
	const size_t nfields = sizeof(*sum) / sizeof(__u64);
	bool found;

	assert_non_null(v);
	memset(sum, 0, sizeof(*sum));
	found = bpf_map_lookup_elem(bpf_map__fd(skel->maps.thread_stats), &key, v) == 0;
	for (int i = 0; found && i < ncpus; i++)
		for (size_t j = 0; j < nfields; j++)
			((__u64 *)sum)[j] += ((__u64 *)&v[i])[j];
	free(v);
	return found;
}

static struct iotrace_thread_stats own_thread_stats_present(struct iotrace_bpf *skel)
{
	struct iotrace_thread_stats s;

	if (!own_thread_stats(skel, &s))
		fail_msg("no thread_stats entry for this thread");
	return s;
}

/* This process's kvm_counts bucket summed over CPUs; false when absent. */
static bool kvm_count_of(struct iotrace_bpf *skel, __u32 kind, __u64 code,
			 struct iotrace_kvm_count *sum)
{
	struct iotrace_kvm_key key = { .tgid = (uint32_t)getpid(), .kind = kind, .code = code };
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_kvm_count *v = calloc(ncpus, sizeof(*v));
	bool found;

	assert_non_null(v);
	memset(sum, 0, sizeof(*sum));
	found = bpf_map_lookup_elem(bpf_map__fd(skel->maps.kvm_counts), &key, v) == 0;
	for (int i = 0; found && i < ncpus; i++) {
		sum->count += v[i].count;
		sum->ns += v[i].ns;
	}
	free(v);
	return found;
}

static void assert_kvm_count(struct iotrace_bpf *skel, __u32 kind, __u64 code, __u64 count)
{
	struct iotrace_kvm_count c;

	if (!kvm_count_of(skel, kind, code, &c))
		fail_msg("no kvm_counts entry for kind %u code %#llx", kind,
			 (unsigned long long)code);
	if (c.count != count)
		fail_msg("kind %u code %#llx: count %llu, expected %llu", kind,
			 (unsigned long long)code, (unsigned long long)c.count,
			 (unsigned long long)count);
}

static void assert_no_kvm_count(struct iotrace_bpf *skel, __u32 kind, __u64 code)
{
	struct iotrace_kvm_count c;

	if (kvm_count_of(skel, kind, code, &c))
		fail_msg("unexpected kvm_counts entry for kind %u code %#llx (count %llu)", kind,
			 (unsigned long long)code, (unsigned long long)c.count);
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * This process is in vm_procs with its own start time.  The kernel keeps
 * it in CLOCK_MONOTONIC ns (task->start_time); /proc's field 22 is the same
 * instant in CLOCK_BOOTTIME clock ticks, which is ahead by the time spent
 * suspended (taken as unchanged since this process started).
 */
static void assert_own_vm_proc(struct iotrace_bpf *skel)
{
	__u32 tgid = (uint32_t)getpid();
	struct iotrace_vm_proc vp;
	struct proc_ident id;
	uint64_t boot_off, tick_ns, ticks;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.vm_procs), &tgid, &vp))
		fail_msg("this process (%u) is not in vm_procs", tgid);
	assert_int_equal(proc_ident_read(NULL, (int)tgid, &id), 0);
	boot_off = clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC);
	tick_ns = 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK);
	ticks = (vp.start_ns + boot_off) / tick_ns;
	if (vp.start_ns == 0 || vp.start_ns > now_ns() || ticks + 1 < id.start_ticks ||
	    ticks > id.start_ticks + 1)
		fail_msg("vm_procs start_ns %llu (%llu ticks), /proc says %llu ticks",
			 (unsigned long long)vp.start_ns, (unsigned long long)ticks,
			 (unsigned long long)id.start_ticks);
}

static void assert_within(const char *what, uint64_t v, uint64_t lo, uint64_t hi)
{
	if (v < lo || v > hi)
		fail_msg("%s %llu ns, expected within [%llu, %llu]", what, (unsigned long long)v,
			 (unsigned long long)lo, (unsigned long long)hi);
}

/*
 * A VMX exit, its entry, and the next exit: the first KVM event enters this
 * process as a VM; the reason is read at the layout's offset and counted
 * whole (flag bits included, as kvm_exit prints it); exit -> entry is
 * handling time, charged to the thread and to the exit's reason, and
 * entry -> exit is guest time.
 */
static void test_kvm_vmx_exit_entry_exit(void **state)
{
	const struct iotrace_kvm_layout layout = { .vmx_reason_off = FAKE_VMX_REASON };
	struct iotrace_bpf *skel = load_raw_layout(false, 0, &layout);
	uint64_t t0, t1, t2, t3, t4, t5;
	struct iotrace_thread_stats s;
	struct iotrace_kvm_count c;
	struct fake_vcpu f;

	(void)state;
	fake_open(&f);
	fake_put32(&f, FAKE_VMX_REASON, VMX_EXIT_IO_INSTRUCTION);
	fake_store(&f);
	assert_int_equal(skel->bss->vm_state.nr_vms, 0);

	t0 = now_ns();
	kvm_exit_run(skel, f.addr, IOTRACE_KVM_VMX);
	t1 = now_ns();
	assert_own_vm_proc(skel);
	assert_int_equal(skel->bss->vm_state.nr_vms, 1);
	assert_true(skel->bss->vm_state.generation >= 1);
	s = own_thread_stats_present(skel);
	assert_int_equal(s.kvm_exits, 1);
	assert_int_equal(s.exit_handling_ns, 0);
	assert_int_equal(s.guest_ns, 0);
	assert_kvm_count(skel, IOTRACE_KVM_VMX, VMX_EXIT_IO_INSTRUCTION, 1);

	spin_ns(2 * 1000 * 1000);
	t2 = now_ns();
	kvm_entry_run(skel, f.addr);
	t3 = now_ns();
	s = own_thread_stats_present(skel);
	assert_within("exit handling", s.exit_handling_ns, t2 - t1, t3 - t0);
	assert_true(kvm_count_of(skel, IOTRACE_KVM_VMX, VMX_EXIT_IO_INSTRUCTION, &c));
	assert_int_equal(c.count, 1);
	assert_int_equal(c.ns, s.exit_handling_ns);

	spin_ns(2 * 1000 * 1000);
	fake_put32(&f, FAKE_VMX_REASON, VMX_EXIT_FAILED_INVALID_STATE);
	fake_store(&f);
	t4 = now_ns();
	kvm_exit_run(skel, f.addr, IOTRACE_KVM_VMX);
	t5 = now_ns();
	s = own_thread_stats_present(skel);
	assert_int_equal(s.kvm_exits, 2);
	assert_within("guest", s.guest_ns, t4 - t3, t5 - t2);
	assert_kvm_count(skel, IOTRACE_KVM_VMX, VMX_EXIT_FAILED_INVALID_STATE, 1);
	assert_no_kvm_count(skel, IOTRACE_KVM_VMX, VMX_EXIT_FAILED_INVALID_STATE & 0xffff);
	assert_kvm_count(skel, IOTRACE_KVM_VMX, VMX_EXIT_IO_INSTRUCTION, 1);
	/* Still the same VM: entered once. */
	assert_int_equal(skel->bss->vm_state.nr_vms, 1);

	fake_close(&f);
	iotrace_bpf__destroy(skel);
}

/* The fake vcpu_svm's vmcb pointer, to the fake vmcb, with this exit code. */
static void fake_svm(struct fake_vcpu *f, uint64_t code)
{
	fake_put64(f, FAKE_SVM_VMCB, f->addr + FAKE_VMCB);
	fake_put64(f, FAKE_VMCB + FAKE_SVM_CODE, code);
	fake_store(f);
}

/*
 * An SVM exit: the code is read through the vCPU's vmcb pointer (not at
 * the same offset from the vCPU, where the fill is), whole, and counted
 * under SVM; the VMX reason is unknown in the same layout.
 */
static void test_kvm_svm_exit(void **state)
{
	const struct iotrace_kvm_layout layout = {
		.svm_vmcb_off = FAKE_SVM_VMCB,
		.svm_code_off = FAKE_SVM_CODE,
		.svm_code_size = 8,
	};
	struct iotrace_bpf *skel = load_raw_layout(false, 0, &layout);
	struct iotrace_thread_stats s;
	struct iotrace_kvm_count c;
	struct fake_vcpu f;

	(void)state;
	fake_open(&f);
	fake_svm(&f, SVM_EXIT_IOIO);
	kvm_exit_run(skel, f.addr, IOTRACE_KVM_SVM);
	assert_own_vm_proc(skel);
	assert_kvm_count(skel, IOTRACE_KVM_SVM, SVM_EXIT_IOIO, 1);
	spin_ns(1000 * 1000);
	kvm_entry_run(skel, f.addr);
	s = own_thread_stats_present(skel);
	assert_int_equal(s.kvm_exits, 1);
	assert_true(s.exit_handling_ns >= 1000 * 1000);
	assert_true(kvm_count_of(skel, IOTRACE_KVM_SVM, SVM_EXIT_IOIO, &c));
	assert_int_equal(c.ns, s.exit_handling_ns);

	/* All 64 bits count with an 8-byte exit_code. */
	fake_svm(&f, 0x100000000ULL | SVM_EXIT_IOIO);
	kvm_exit_run(skel, f.addr, IOTRACE_KVM_SVM);
	assert_kvm_count(skel, IOTRACE_KVM_SVM, 0x100000000ULL | SVM_EXIT_IOIO, 1);

	kvm_exit_run(skel, f.addr, IOTRACE_KVM_VMX);
	assert_kvm_count(skel, IOTRACE_KVM_VMX, IOTRACE_KVM_REASON_UNKNOWN, 1);
	assert_int_equal(own_thread_stats_present(skel).kvm_exits, 3);
	assert_int_equal(skel->bss->vm_state.nr_vms, 1);

	fake_close(&f);
	iotrace_bpf__destroy(skel);
}

/* A 32-bit exit_code (older kernels): the word after it is exit_code_hi, not ours. */
static void test_kvm_svm_u32_exit_code(void **state)
{
	const struct iotrace_kvm_layout layout = {
		.svm_vmcb_off = FAKE_SVM_VMCB,
		.svm_code_off = FAKE_SVM_CODE,
		.svm_code_size = 4,
	};
	struct iotrace_bpf *skel = load_raw_layout(false, 0, &layout);
	struct fake_vcpu f;

	(void)state;
	fake_open(&f);
	fake_svm(&f, 0xdeadbeef00000000ULL | SVM_EXIT_IOIO);
	kvm_exit_run(skel, f.addr, IOTRACE_KVM_SVM);
	assert_kvm_count(skel, IOTRACE_KVM_SVM, SVM_EXIT_IOIO, 1);
	assert_no_kvm_count(skel, IOTRACE_KVM_SVM, 0xdeadbeef00000000ULL | SVM_EXIT_IOIO);
	fake_close(&f);
	iotrace_bpf__destroy(skel);
}

/* No layout (no BTF for the vendor structs): exits are still counted, as unknown. */
static void test_kvm_unknown_layout(void **state)
{
	const struct iotrace_kvm_layout layout = { 0 };
	struct iotrace_bpf *skel = load_raw_layout(false, 0, &layout);
	struct fake_vcpu f;

	(void)state;
	fake_open(&f);
	fake_put32(&f, FAKE_VMX_REASON, VMX_EXIT_IO_INSTRUCTION);
	fake_svm(&f, SVM_EXIT_IOIO);
	kvm_exit_run(skel, f.addr, IOTRACE_KVM_SVM);
	assert_kvm_count(skel, IOTRACE_KVM_SVM, IOTRACE_KVM_REASON_UNKNOWN, 1);
	assert_no_kvm_count(skel, IOTRACE_KVM_SVM, SVM_EXIT_IOIO);
	kvm_exit_run(skel, f.addr, IOTRACE_KVM_VMX);
	assert_kvm_count(skel, IOTRACE_KVM_VMX, IOTRACE_KVM_REASON_UNKNOWN, 1);
	assert_no_kvm_count(skel, IOTRACE_KVM_VMX, VMX_EXIT_IO_INSTRUCTION);
	assert_int_equal(own_thread_stats_present(skel).kvm_exits, 2);
	assert_own_vm_proc(skel);
	fake_close(&f);
	iotrace_bpf__destroy(skel);
}

/* Exits to the VMM by KVM_EXIT_* reason; one ended by a signal is a "restart". */
static void test_kvm_userspace_exits(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	__u64 io[2] = { KVM_EXIT_IO, 0 }; /* reason, errno */
	__u64 intr[2] = { KVM_EXIT_IO, (__u64)-4 /* -EINTR */ };

	(void)state;
	run_here(skel->progs.kvm_userspace_exit_raw, io, 2);
	assert_own_vm_proc(skel);
	assert_int_equal(skel->bss->vm_state.nr_vms, 1);
	assert_int_equal(own_thread_stats_present(skel).userspace_exits, 1);
	assert_kvm_count(skel, IOTRACE_KVM_USERSPACE, KVM_EXIT_IO, 1);

	run_here(skel->progs.kvm_userspace_exit_raw, intr, 2);
	assert_int_equal(own_thread_stats_present(skel).userspace_exits, 2);
	assert_kvm_count(skel, IOTRACE_KVM_USERSPACE, ~0ULL, 1);
	assert_kvm_count(skel, IOTRACE_KVM_USERSPACE, KVM_EXIT_IO, 1);
	assert_int_equal(own_thread_stats_present(skel).kvm_exits, 0);
	iotrace_bpf__destroy(skel);
}

/*
 * Port I/O by 8-port range, MMIO by 4 KiB page.  An unsatisfied read
 * (fired before the exit to the VMM, then again as a read once answered)
 * is not counted, so each access counts once.
 */
static void test_kvm_pio_mmio(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	/* rw, port, size, count, data */
	__u64 pio13[5] = { 1, 0x13, 1, 1, 0 }, pio17[5] = { 0, 0x17, 1, 1, 0 };
	__u64 pio18[5] = { 1, 0x18, 1, 1, 0 };
	/* type, len, gpa, val */
	__u64 unsat[4] = { KVM_TRACE_MMIO_READ_UNSATISFIED, 4, 0xd0000123, 0 };
	__u64 wr[4] = { KVM_TRACE_MMIO_WRITE, 4, 0xd0000123, 0 };
	__u64 rd[4] = { KVM_TRACE_MMIO_READ, 4, 0xd0000ffc, 0 };
	struct iotrace_thread_stats s;

	(void)state;
	run_here(skel->progs.kvm_pio_raw, pio13, 5);
	run_here(skel->progs.kvm_pio_raw, pio17, 5);
	run_here(skel->progs.kvm_pio_raw, pio18, 5);
	assert_own_vm_proc(skel);
	assert_kvm_count(skel, IOTRACE_KVM_PIO, 0x10, 2);
	assert_kvm_count(skel, IOTRACE_KVM_PIO, 0x18, 1);
	assert_no_kvm_count(skel, IOTRACE_KVM_PIO, 0x13);
	assert_int_equal(own_thread_stats_present(skel).pio_exits, 3);

	run_here(skel->progs.kvm_mmio_raw, unsat, 4);
	assert_int_equal(own_thread_stats_present(skel).mmio_exits, 0);
	assert_no_kvm_count(skel, IOTRACE_KVM_MMIO, 0xd0000000);
	assert_no_kvm_count(skel, IOTRACE_KVM_MMIO, 0xd0000123);

	run_here(skel->progs.kvm_mmio_raw, wr, 4);
	run_here(skel->progs.kvm_mmio_raw, rd, 4);
	s = own_thread_stats_present(skel);
	assert_int_equal(s.mmio_exits, 2);
	assert_int_equal(s.pio_exits, 3);
	assert_kvm_count(skel, IOTRACE_KVM_MMIO, 0xd0000000, 2);
	assert_no_kvm_count(skel, IOTRACE_KVM_MMIO, 0xd0000123);
	assert_int_equal(skel->bss->vm_state.nr_vms, 1);
	iotrace_bpf__destroy(skel);
}

/* This thread's se.nr_migrations (/proc/.../sched) and run_delay, pcount (schedstat). */
static bool own_sched_counts(uint64_t *mig, uint64_t *delay, uint64_t *pcount)
{
	char path[96], line[256];
	unsigned long long run, d, p, m;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%u/schedstat", own_tid());
	f = fopen(path, "re");
	if (!f)
		return false;
	found = fscanf(f, "%llu %llu %llu", &run, &d, &p) == 3;
	fclose(f);
	if (!found)
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%u/sched", own_tid());
	f = fopen(path, "re");
	if (!f)
		return false;
	found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "se.nr_migrations : %llu", &m) == 1;
	fclose(f);
	*mig = m;
	*delay = d;
	*pcount = p;
	return found;
}

static void set_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
}

static void assert_between(const char *what, uint64_t v, uint64_t lo, uint64_t hi)
{
	if (v < lo || v > hi)
		fail_msg("%s %llu, expected within [%llu, %llu]", what, (unsigned long long)v,
			 (unsigned long long)lo, (unsigned long long)hi);
}

/*
 * A VM thread's migrations and run-queue wait are the kernel's own counts
 * (se.nr_migrations, sched_info.run_delay and pcount) from its first
 * sighting, charged when it is seen on the CPU: moved to CPU 1 and back,
 * this thread's figures after a flush on its CPU are the growth /proc shows
 * between the first KVM event and the flush.
 */
static void test_vm_thread_migrations_and_wait(void **state)
{
	__u64 io[2] = { KVM_EXIT_IO, 0 }, none[1] = { 0 };
	uint64_t m0, d0, p0, mb, db, pb, m1, d1, p1, m2, d2, p2;
	struct iotrace_thread_stats s;
	struct iotrace_bpf *skel;

	(void)state;
	/* Needed, not optional: a skip would pass silently in CI. */
	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		fail_msg("a migration needs two online CPUs");
	if (!own_sched_counts(&m0, &d0, &p0))
		fail_msg("cannot read /proc/self/task/TID/sched and schedstat "
			 "(CONFIG_SCHED_DEBUG, CONFIG_SCHEDSTATS)");
	pin_cpu0();
	skel = load_raw(false, now_ns());
	/* The first KVM event: a VM thread from now, its counts' baseline taken (between 0 and b). */
	assert_true(own_sched_counts(&m0, &d0, &p0));
	run_here(skel->progs.kvm_userspace_exit_raw, io, 2);
	assert_true(own_sched_counts(&mb, &db, &pb));
	set_cpu(1);
	set_cpu(0);
	assert_true(own_sched_counts(&m1, &d1, &p1));
	run_on_cpu0(skel->progs.iotrace_flush, none, 1);
	assert_true(own_sched_counts(&m2, &d2, &p2));
	s = own_thread_stats_present(skel);
	assert_true(m1 - mb >= 2);
	assert_between("migrations", s.migrations, m1 - mb, m2 - m0);
	assert_between("runq_wait_ns", s.runq_wait_ns, d1 - db, d2 - d0);
	assert_between("runq_waits", s.runq_waits, p1 - pb, p2 - p0);
	assert_true(s.runq_waits >= 1);
	iotrace_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush_charges_run_time),
		cmocka_unit_test(test_charge_points_never_double_count),
		cmocka_unit_test(test_first_sighting_clamped_to_attach),
		cmocka_unit_test(test_first_sighting_of_rt_task_charges_nothing),
		cmocka_unit_test(test_counter_path_with_cpu_clock),
		cmocka_unit_test(test_counter_read_failure_is_counted),
		cmocka_unit_test(test_unseen_completion_is_unattributed),
		cmocka_unit_test(test_full_dev_table_is_counted),
		cmocka_unit_test(test_empty_completion_is_not_io),
		cmocka_unit_test(test_missed_completion_recovered_on_key_reuse),
		cmocka_unit_test(test_missed_completion_recovered_on_split),
		cmocka_unit_test(test_kvm_vmx_exit_entry_exit),
		cmocka_unit_test(test_kvm_svm_exit),
		cmocka_unit_test(test_kvm_svm_u32_exit_code),
		cmocka_unit_test(test_kvm_unknown_layout),
		cmocka_unit_test(test_kvm_userspace_exits),
		cmocka_unit_test(test_kvm_pio_mmio),
		cmocka_unit_test(test_vm_thread_migrations_and_wait),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_handlers: must run as root (loads BPF programs)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("bpf handlers", tests, NULL, NULL);
}
