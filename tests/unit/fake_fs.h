/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A scratch directory tree for unit tests that read files (a fake procfs,
 * a fake libvirt run directory): cmocka setup and teardown that make it
 * under /tmp and remove it even when the test failed, and helpers to fill
 * it.  Include after <cmocka.h>.
 */
#ifndef IOTRACE_TESTS_FAKE_FS_H
#define IOTRACE_TESTS_FAKE_FS_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int fake_fs_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a directory tree; a failure fails the test. */
static inline void rm_tree(const char *path)
{
	assert_int_equal(nftw(path, fake_fs_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* cmocka setup: *state is the new directory's path. */
static inline int tmpdir_setup(void **state)
{
	static char root[64];

	strcpy(root, "/tmp/iotrace-test-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	*state = root;
	return 0;
}

static inline int tmpdir_teardown(void **state)
{
	struct stat st;

	if (!stat(*state, &st))
		rm_tree(*state);
	return 0;
}

static inline void mkdir_at(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static inline void write_at(const char *root, const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static inline void write_str_at(const char *root, const char *rel, const char *s)
{
	write_at(root, rel, s, strlen(s));
}

#endif
