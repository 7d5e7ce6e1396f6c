// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Finding a VM process's tap devices in a fake /proc/PID/fd and fdinfo. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "fake_fs.h"
#include "vm_taps.h"

static void fd_link(const char *root, const char *fd, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/42/fd/%s", root, fd);
	assert_int_equal(symlink(target, path), 0);
}

/* A QEMU-like process: a disk, two queues of one tap, another tap, a tun fd not attached yet. */
static void make_proc(const char *root)
{
	mkdir_at(root, "42");
	mkdir_at(root, "42/fd");
	mkdir_at(root, "42/fdinfo");
	fd_link(root, "3", "/var/lib/images/disk.qcow2");
	write_str_at(root, "42/fdinfo/3", "pos:\t0\nflags:\t02\nmnt_id:\t1\n");
	fd_link(root, "10", "/dev/net/tun");
	write_str_at(root, "42/fdinfo/10",
		     "pos:\t0\nflags:\t0104002\nmnt_id:\t25\nino:\t9\niff:\ttap0\n");
	fd_link(root, "11", "/dev/net/tun");
	write_str_at(root, "42/fdinfo/11",
		     "pos:\t0\nflags:\t0104002\nmnt_id:\t25\nino:\t9\niff:\ttap0\n");
	fd_link(root, "12", "/dev/net/tun");
	write_str_at(root, "42/fdinfo/12",
		     "pos:\t0\nflags:\t02\nmnt_id:\t25\nino:\t9\niff:\tvnet7\n");
	fd_link(root, "13", "/dev/net/tun");
	write_str_at(root, "42/fdinfo/13", "pos:\t0\nflags:\t02\nmnt_id:\t25\nino:\t9\n");
	fd_link(root, "14", "socket:[1234]");
}

static int name_index(char (*names)[VM_TAP_NAME_MAX], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

static void test_finds_each_tap_once(void **state)
{
	char names[8][VM_TAP_NAME_MAX];
	int more = -1, n;

	make_proc(*state);
	n = vm_taps_of(*state, 42, names, 8, &more);
	assert_int_equal(n, 2);
	assert_int_equal(more, 0);
	assert_true(name_index(names, n, "tap0") >= 0);
	assert_true(name_index(names, n, "vnet7") >= 0);
}

static void test_more_than_max_is_said(void **state)
{
	char names[1][VM_TAP_NAME_MAX];
	int more = 0;

	make_proc(*state);
	assert_int_equal(vm_taps_of(*state, 42, names, 1, &more), 1);
	assert_int_equal(more, 1);
}

static void test_gone_process(void **state)
{
	char names[2][VM_TAP_NAME_MAX];
	int more;

	assert_int_equal(vm_taps_of(*state, 77, names, 2, &more), -ENOENT);
}

/* A name that cannot be a device name (too long) is not taken. */
static void test_bad_iff_ignored(void **state)
{
	char names[2][VM_TAP_NAME_MAX];
	int more;

	mkdir_at(*state, "42");
	mkdir_at(*state, "42/fd");
	mkdir_at(*state, "42/fdinfo");
	fd_link(*state, "5", "/dev/net/tun");
	write_str_at(*state, "42/fdinfo/5", "iff:\tthis-name-is-far-too-long\n");
	assert_int_equal(vm_taps_of(*state, 42, names, 2, &more), 0);
}

static void test_netns_ino(void **state)
{
	uint64_t ino = 0;

	(void)state;
	assert_int_equal(proc_netns_ino(NULL, getpid(), &ino), 0);
	assert_true(ino > 0);
	assert_int_equal(proc_netns_ino(*state, 99, &ino), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_finds_each_tap_once, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_more_than_max_is_said, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_gone_process, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_bad_iff_ignored, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_netns_ino, tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
