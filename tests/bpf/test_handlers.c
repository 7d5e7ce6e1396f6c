// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The raw_tp handlers run through BPF_PROG_TEST_RUN on synthetic arguments,
 * without being attached, so nothing else on the host feeds the maps.
 *
 * The runs go to CPU 0 with BPF_F_TEST_RUN_ON_CPU while this process is
 * pinned there: the handler then runs from an IPI on top of this process,
 * current is this process, and its slice is charged to this cgroup.
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

#include "cgroupfs.h"
#include "iotrace.h"
#include "iotrace.skel.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

static uint64_t own_cgroup_id(void)
{
	char mount[4096], line[4096], rel[4096];
	uint64_t id = 0;
	FILE *f;

	assert_int_equal(cgfs_find_mount("/proc/mounts", mount, sizeof(mount)), 0);
	f = fopen("/proc/self/cgroup", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		assert_int_equal(cgfs_normalize(mount, line + 3, rel, sizeof(rel)), 0);
		assert_int_equal(cgfs_path_to_id(mount, rel, &id), 0);
	}
	fclose(f);
	assert_true(id != 0);
	return id;
}

/* Open and load the raw_tp variant, attach nothing. */
static struct iotrace_bpf *load_raw(bool use_pmu, uint64_t attach_ns)
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
	bpf_map__set_max_entries(skel->maps.pmu, libbpf_num_possible_cpus());
	if (iotrace_bpf__load(skel))
		fail_msg("cannot load the raw_tp programs: %s", strerror(errno));
	return skel;
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

static uint64_t counter_of(struct iotrace_bpf *skel, __u32 idx)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *v = calloc(ncpus, sizeof(*v)), sum = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &idx, v), 0);
	for (int i = 0; i < ncpus; i++)
		sum += v[i];
	free(v);
	return sum;
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
	uint64_t id = own_cgroup_id(), t0, t1, r1, r2, first;
	struct iotrace_cpu_stats s;

	(void)state;
	pin_cpu0();
	/* The first sighting charges the slice current is in; start after it. */
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	first = cpu_stats_of(skel, id).cpu_ns;
	t0 = now_ns();
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	r1 = own_runtime_ns();
	spin_ns(30 * 1000 * 1000);
	r2 = own_runtime_ns();
	run_on_cpu0(skel->progs.iotrace_flush, args, 1);
	t1 = now_ns();

	s = cpu_stats_of(skel, id);
	s.cpu_ns -= first;
	if (s.cpu_ns < r2 - r1 || s.cpu_ns > t1 - t0)
		fail_msg("charged %llu ns, expected within [%llu, %llu]",
			 (unsigned long long)s.cpu_ns, (unsigned long long)(r2 - r1),
			 (unsigned long long)(t1 - t0));
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
	uint64_t id = own_cgroup_id(), t0, t1, r1, r2, first;

	(void)state;
	pin_cpu0();
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	first = cpu_stats_of(skel, id).cpu_ns; /* first sighting: current slice */
	t0 = now_ns();
	r1 = own_runtime_ns();
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	spin_ns(10 * 1000 * 1000);
	run_on_cpu0(skel->progs.sched_switch_raw, sw, 4);
	run_on_cpu0(skel->progs.sched_switch_raw, sw, 4);
	spin_ns(10 * 1000 * 1000);
	r2 = own_runtime_ns();
	run_on_cpu0(skel->progs.iotrace_flush, flush, 1);
	t1 = now_ns();
	uint64_t charged = cpu_stats_of(skel, id).cpu_ns - first;
	if (charged < r2 - r1 || charged > t1 - t0)
		fail_msg("charged %llu ns, expected within [%llu, %llu]",
			 (unsigned long long)charged, (unsigned long long)(r2 - r1),
			 (unsigned long long)(t1 - t0));
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
	free(v);
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

	(void)state;
	assert_non_null(v);
	run_on_cpu0(skel->progs.block_rq_complete_raw, args, 3);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.blk_stats), &key, v), 0);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_UNSEEN_COMPLETE), 0);
	free(v);
	iotrace_bpf__destroy(skel);
}

/*
 * An in-flight entry still present when its bio address is queued again
 * belongs to an I/O whose completion was missed: it is counted then, for
 * its owner, and the recovery is counted.  (The synthetic bio reads as a
 * non-data bio, so no new entry replaces the old one.)
 */
static void test_missed_completion_recovered_on_key_reuse(void **state)
{
	struct iotrace_bpf *skel = load_raw(false, 0);
	struct iotrace_io_info io = {
		.cgroup_id = 4242,
		.start_ns = 1,
		.sector = 8,
		.op = 1 /* write */,
		.bytes = 8192,
	};
	__u64 key = 0x5000, args[1] = { key };
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_blk_stats *v = calloc(ncpus, sizeof(*v));
	__u64 owner = 4242, ops = 0, bytes = 0;

	(void)state;
	assert_non_null(v);
	/* Put it in the overflow table, as a handler would on a slot collision. */
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.inflight), &key, &io, BPF_ANY),
			 0);
	skel->bss->overflow_entries = 1;
	pin_cpu0();
	run_on_cpu0(skel->progs.block_bio_queue_raw, args, 1);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.blk_stats), &owner, v), 0);
	for (int i = 0; i < ncpus; i++) {
		ops += v[i].wr_ops;
		bytes += v[i].wr_bytes;
		assert_int_equal(v[i].rd_ops, 0);
	}
	assert_int_equal(ops, 1);
	assert_int_equal(bytes, 8192);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_RECOVERED), 1);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.inflight), &key, &io), 0);
	assert_int_equal(skel->bss->overflow_entries, 0);
	free(v);
	iotrace_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush_charges_run_time),
		cmocka_unit_test(test_charge_points_never_double_count),
		cmocka_unit_test(test_first_sighting_clamped_to_attach),
		cmocka_unit_test(test_counter_path_with_cpu_clock),
		cmocka_unit_test(test_counter_read_failure_is_counted),
		cmocka_unit_test(test_unseen_completion_is_unattributed),
		cmocka_unit_test(test_empty_completion_is_not_io),
		cmocka_unit_test(test_missed_completion_recovered_on_key_reuse),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_handlers: must run as root (loads BPF programs)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("bpf handlers", tests, NULL, NULL);
}
