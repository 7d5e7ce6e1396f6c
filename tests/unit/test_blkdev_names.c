// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Block device names: uevent and /proc/partitions parsing, the cache. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev_names.h"
#include "fake_fs.h"

static const char partitions[] = "major minor  #blocks  name\n"
				 "\n"
				 "   7        0     262144 loop0\n"
				 "   8        0   41943040 sda\n"
				 "   8        1   41942016 sda1\n"
				 " 259        0  104857600 nvme0n1\n";

static void test_uevent_devname(void **state)
{
	char name[BLKDEV_NAME_MAX];

	(void)state;
	assert_int_equal(blkdev_uevent_devname("MAJOR=7\nMINOR=1\nDEVNAME=loop1\nDEVTYPE=disk\n",
					       name, sizeof(name)),
			 0);
	assert_string_equal(name, "loop1");
	/* The last line need not end in a newline. */
	assert_int_equal(blkdev_uevent_devname("MAJOR=253\nDEVNAME=dm-0", name, sizeof(name)), 0);
	assert_string_equal(name, "dm-0");
	/* Missing, empty, or not fit for output: unknown. */
	assert_int_equal(blkdev_uevent_devname("MAJOR=7\nMINOR=1\n", name, sizeof(name)), -ENOENT);
	assert_string_equal(name, "");
	assert_int_equal(blkdev_uevent_devname("DEVNAME=\n", name, sizeof(name)), -ENOENT);
	assert_int_equal(blkdev_uevent_devname("DEVNAME=a b\n", name, sizeof(name)), -ENOENT);
	assert_int_equal(blkdev_uevent_devname("DEVNAME=loop1\n", name, 5), -ENOENT);
	/* Only a whole key counts. */
	assert_int_equal(blkdev_uevent_devname("XDEVNAME=sdz\n", name, sizeof(name)), -ENOENT);
}

static void test_partitions_name(void **state)
{
	char name[BLKDEV_NAME_MAX];

	(void)state;
	assert_int_equal(blkdev_partitions_name(partitions, 8, 1, name, sizeof(name)), 0);
	assert_string_equal(name, "sda1");
	assert_int_equal(blkdev_partitions_name(partitions, 259, 0, name, sizeof(name)), 0);
	assert_string_equal(name, "nvme0n1");
	assert_int_equal(blkdev_partitions_name(partitions, 8, 2, name, sizeof(name)), -ENOENT);
	assert_string_equal(name, "");
	/* The header line is no device. */
	assert_int_equal(blkdev_partitions_name(partitions, 0, 0, name, sizeof(name)), -ENOENT);
}

/* sysfs first, /proc/partitions for what sysfs lacks, cached for the TTL. */
static void test_cache(void **state)
{
	const char *root = *state;
	char sys[PATH_MAX], proc[PATH_MAX], name[BLKDEV_NAME_MAX];
	struct blkdev_names *n;

	mkdir_at(root, "sys");
	mkdir_at(root, "sys/dev");
	mkdir_at(root, "sys/dev/block");
	mkdir_at(root, "sys/dev/block/7:0");
	write_str_at(root, "sys/dev/block/7:0/uevent", "MAJOR=7\nMINOR=0\nDEVNAME=loopA\n");
	mkdir_at(root, "proc");
	write_str_at(root, "proc/partitions", partitions);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	n = blkdev_names_new(sys, proc);
	assert_non_null(n);

	assert_int_equal(blkdev_name(n, 7, 0, 100, name, sizeof(name)), 0);
	assert_string_equal(name, "loopA"); /* sysfs wins */
	assert_int_equal(blkdev_name(n, 8, 1, 100, name, sizeof(name)), 0);
	assert_string_equal(name, "sda1"); /* not in sysfs */
	assert_int_equal(blkdev_name(n, 9, 9, 100, name, sizeof(name)), -ENOENT);
	assert_string_equal(name, "");

	/* Renamed: the cache answers until the TTL is over, then reads again. */
	write_str_at(root, "sys/dev/block/7:0/uevent", "DEVNAME=loopB\n");
	assert_int_equal(blkdev_name(n, 7, 0, 100 + BLKDEV_NAME_TTL_S - 1, name, sizeof(name)), 0);
	assert_string_equal(name, "loopA");
	assert_int_equal(blkdev_name(n, 7, 0, 100 + BLKDEV_NAME_TTL_S, name, sizeof(name)), 0);
	assert_string_equal(name, "loopB");
	/* A clock that went back reads again too. */
	write_str_at(root, "sys/dev/block/7:0/uevent", "DEVNAME=loopC\n");
	assert_int_equal(blkdev_name(n, 7, 0, 5, name, sizeof(name)), 0);
	assert_string_equal(name, "loopC");
	blkdev_names_free(n);

	/* Without either file: unknown, not an error. */
	n = blkdev_names_new("/nonexistent-iotrace", "/nonexistent-iotrace");
	assert_non_null(n);
	assert_int_equal(blkdev_name(n, 7, 0, 1, name, sizeof(name)), -ENOENT);
	blkdev_names_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uevent_devname),
		cmocka_unit_test(test_partitions_name),
		cmocka_unit_test_setup_teardown(test_cache, tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests_name("blkdev_names", tests, NULL, NULL);
}
