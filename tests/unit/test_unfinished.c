// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of user/unfinished.c: grouping in-flight entries by owner and device. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "unfinished.h"

#define OP_READ 0
#define OP_WRITE 1
#define DEV(ma, mi) ((uint32_t)(ma) << IOTRACE_DEV_MINOR_BITS | (mi))

static struct iotrace_io_info io(uint64_t cg, uint32_t dev, uint32_t op, uint32_t bytes,
				 uint32_t vm_tgid)
{
	struct iotrace_io_info i;

	memset(&i, 0, sizeof(i));
	i.cgroup_id = cg;
	i.dev = dev;
	i.op = op;
	i.bytes = bytes;
	i.vm_tgid = vm_tgid;
	i.vm_tid = vm_tgid ? vm_tgid + 1 : 0;
	return i;
}

static void test_groups_by_owner_and_device(void **state)
{
	struct unfinished u;
	struct out_blk_dev *f;
	struct iotrace_io_info in[] = {
		io(7, DEV(259, 1), OP_WRITE, 8192, 0), io(5, DEV(7, 3), OP_READ, 4096, 0),
		io(7, DEV(7, 3), OP_READ, 512, 0),     io(7, DEV(259, 1), OP_WRITE, 4096, 0),
		io(7, DEV(7, 3), OP_READ, 1024, 0),
	};

	(void)state;
	unfinished_init(&u);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(unfinished_add(&u, &in[i]), 0);
	unfinished_sort(&u);
	assert_int_equal(u.ios, 5);

	assert_int_equal(unfinished_of(&u, UNFINISHED_CGROUP, 7, &f), 2);
	/* By device number: 7:3 before 259:1. */
	assert_int_equal(f[0].major, 7);
	assert_int_equal(f[0].minor, 3);
	assert_int_equal(f[0].read_ops, 2);
	assert_int_equal(f[0].read_bytes, 1536);
	assert_int_equal(f[0].write_ops, 0);
	assert_int_equal(f[1].major, 259);
	assert_int_equal(f[1].minor, 1);
	assert_int_equal(f[1].write_ops, 2);
	assert_int_equal(f[1].write_bytes, 12288);
	assert_int_equal(f[1].read_ops, 0);
	assert_string_equal(f[1].name, "");

	assert_int_equal(unfinished_of(&u, UNFINISHED_CGROUP, 5, &f), 1);
	assert_int_equal(f[0].read_ops, 1);
	assert_int_equal(f[0].read_bytes, 4096);

	assert_int_equal(unfinished_of(&u, UNFINISHED_CGROUP, 6, &f), 0);
	assert_null(f);
	unfinished_free(&u);
	assert_int_equal(u.n, 0);
}

/* A VM thread's I/O is its cgroup's and its VM's; ids of both kinds never mix. */
static void test_vm_io_counts_for_both(void **state)
{
	struct unfinished u;
	struct out_blk_dev *f;
	struct iotrace_io_info a = io(42, DEV(8, 0), OP_WRITE, 65536, 42);
	struct iotrace_io_info b = io(42, DEV(8, 0), OP_READ, 4096, 0);

	(void)state;
	unfinished_init(&u);
	assert_int_equal(unfinished_add(&u, &a), 0);
	assert_int_equal(unfinished_add(&u, &b), 0);
	unfinished_sort(&u);
	assert_int_equal(u.ios, 2);

	assert_int_equal(unfinished_of(&u, UNFINISHED_CGROUP, 42, &f), 1);
	assert_int_equal(f[0].write_ops, 1);
	assert_int_equal(f[0].read_ops, 1);
	assert_int_equal(unfinished_of(&u, UNFINISHED_VM, 42, &f), 1);
	assert_int_equal(f[0].write_ops, 1);
	assert_int_equal(f[0].write_bytes, 65536);
	assert_int_equal(f[0].read_ops, 0);
	unfinished_free(&u);
}

/* Many owners: the arrays grow and sorting keeps keys and figures together. */
static void test_many_owners(void **state)
{
	struct unfinished u;
	struct out_blk_dev *f;

	(void)state;
	unfinished_init(&u);
	for (uint64_t cg = 200; cg > 0; cg--) {
		struct iotrace_io_info i = io(cg, DEV(1, cg % 3), OP_READ, (uint32_t)cg, 0);

		assert_int_equal(unfinished_add(&u, &i), 0);
	}
	unfinished_sort(&u);
	assert_int_equal(u.n, 200);
	for (uint64_t cg = 1; cg <= 200; cg++) {
		assert_int_equal(unfinished_of(&u, UNFINISHED_CGROUP, cg, &f), 1);
		assert_int_equal(f[0].read_bytes, cg);
		assert_int_equal(f[0].minor, cg % 3);
	}
	unfinished_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_by_owner_and_device),
		cmocka_unit_test(test_vm_io_counts_for_both),
		cmocka_unit_test(test_many_owners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
