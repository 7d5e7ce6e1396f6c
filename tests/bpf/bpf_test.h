/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the BPF handler tests (tests/bpf/test_*.c): clocks, a
 * busy wait, and the test process's own cgroup2 id.  Include after
 * <cmocka.h>.
 */
#ifndef IOTRACE_TESTS_BPF_TEST_H
#define IOTRACE_TESTS_BPF_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroupfs.h"

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Burn CPU for ns: the time is run time of this task, not sleep. */
static inline void spin_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

/* The cgroup2 id of this process's cgroup, as bpf_get_current_cgroup_id() gives it. */
static inline uint64_t own_cgroup_id(void)
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

/* The sum over CPUs of entry idx of a per-CPU array of __u64 (map_fd). */
static inline uint64_t percpu_u64_sum(int map_fd, __u32 idx)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *v = calloc(ncpus, sizeof(*v)), sum = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(map_fd, &idx, v), 0);
	for (int i = 0; i < ncpus; i++)
		sum += v[i];
	free(v);
	return sum;
}

#endif
