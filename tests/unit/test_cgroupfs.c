// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/cgroupfs.c.  The cache is exercised on plain directory
 * trees under /tmp (ids are inode numbers there too), and once against the
 * machine's real cgroup2 mount, which must exist; a process's cgroup2 path
 * on /proc/PID/cgroup contents of hybrid, pure v2 and v1-only hosts, a fake
 * procfs, and this process's own.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroupfs.h"

/* ---- helpers ---- */

static void make_tmpdir(char *buf, size_t len)
{
	assert_true(len > 32);
	strcpy(buf, "/tmp/iotrace-cgfs-XXXXXX");
	assert_non_null(mkdtemp(buf));
}

/* Remove name under dfd recursively; descriptors, so any depth of path. */
static void rm_at(int dfd, const char *name)
{
	struct dirent *de;
	int fd;
	DIR *d;

	if (!unlinkat(dfd, name, 0))
		return;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rm_at(dirfd(d), de->d_name);
	}
	closedir(d);
	assert_int_equal(unlinkat(dfd, name, AT_REMOVEDIR), 0);
}

static void rm_tree(const char *path)
{
	rm_at(AT_FDCWD, path);
}

static void mkdirp(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void touch(const char *root, const char *rel)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static uint64_t ino_of(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(lstat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void expect_path(struct cgfs_cache *c, uint64_t id, const char *want)
{
	char buf[PATH_MAX];
	int ret = cgfs_cache_lookup(c, id, buf, sizeof(buf));

	if (ret)
		print_error("lookup of id %llu (want %s): %d\n", (unsigned long long)id, want, ret);
	assert_int_equal(ret, 0);
	assert_string_equal(buf, want);
}

/* ---- cgfs_find_mount ---- */

static int find_in(const char *text, char *buf, size_t len)
{
	char dir[64], path[128];
	int ret;

	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/mounts", dir);
	write_file(path, text);
	ret = cgfs_find_mount(path, buf, len);
	rm_tree(dir);
	return ret;
}

static const char hybrid[] =
	"sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
	"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
	"tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0\n"
	"cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n"
	"cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,"
	"name=systemd 0 0\n"
	"cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
	"cgroup /sys/fs/cgroup/blkio cgroup rw,nosuid,nodev,noexec,relatime,blkio 0 0\n";

static const char pure_v2[] =
	"sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
	"cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,"
	"memory_recursiveprot 0 0\n"
	"/dev/sda1 / ext4 rw,relatime 0 0\n";

static const char v1_only[] =
	"tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0\n"
	"cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,"
	"cpuacct 0 0\n"
	"cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
	"cgroup2 /not/a/cgroup2 tmpfs rw 0 0\n"; /* source name, not fstype */

static void test_find_mount_hybrid(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(find_in(hybrid, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/unified");
}

static void test_find_mount_pure_v2(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(find_in(pure_v2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup");
}

static void test_find_mount_none(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	strcpy(buf, "untouched");
	assert_int_equal(find_in("proc /proc proc rw 0 0\nsysfs /sys sysfs rw 0 0\n", buf,
				 sizeof(buf)),
			 -ENOENT);
	assert_int_equal(find_in("", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(find_in("\n\n   \ncgroup2\ncgroup2 /x\n", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cgfs_find_mount("/nonexistent/iotrace/mounts", buf, sizeof(buf)), -ENOENT);
	/* opens, but can't be read */
	assert_int_equal(cgfs_find_mount("/tmp", buf, sizeof(buf)), -EISDIR);
}

static void test_find_mount_v1_only(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(find_in(v1_only, buf, sizeof(buf)), -ENOENT);
}

static void test_find_mount_escapes(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(find_in("cgroup2 /mnt/my\\040cgroup\\011tab\\134back\\012nl cgroup2 "
				 "rw 0 0\n",
				 buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "/mnt/my cgroup\ttab\\back\nnl");
	/* a backslash not followed by three octal digits stays */
	assert_int_equal(find_in("cgroup2 /mnt/a\\9b\\04 cgroup2 rw 0 0\n", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/mnt/a\\9b\\04");
}

static void test_find_mount_first_and_odd_lines(void **state)
{
	char big[20000], buf[PATH_MAX];
	size_t n;

	(void)state;
	/* the first cgroup2 entry wins */
	assert_int_equal(find_in("cgroup2 /first cgroup2 rw 0 0\ncgroup2 /second cgroup2 rw 0 0\n",
				 buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "/first");

	/* a very long line before it, and no final newline */
	n = (size_t)snprintf(big, sizeof(big), "overlay / overlay rw,lowerdir=");
	memset(big + n, 'x', 15000);
	n += 15000;
	snprintf(big + n, sizeof(big) - n, " 0 0\ncgroup2\t/cg\tcgroup2\trw\t0\t0");
	assert_int_equal(find_in(big, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/cg");
}

static void test_find_mount_small_buf(void **state)
{
	char buf[32];

	(void)state;
	/* "/sys/fs/cgroup/unified" is 22 bytes + NUL */
	assert_int_equal(find_in(hybrid, buf, 22), -ENAMETOOLONG);
	assert_int_equal(find_in(hybrid, buf, 23), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/unified");
	assert_int_equal(find_in(hybrid, buf, 0), -EINVAL);
}

/* ---- cgfs_normalize ---- */

struct ncase {
	const char *mount;
	const char *in;
	int ret;
	const char *out;
};

#define HY "/sys/fs/cgroup/unified"
#define V2 "/sys/fs/cgroup"

static const struct ncase ncases[] = {
	/* relative to the mount, in every spelling */
	{ HY, "/a/b", 0, "/a/b" },
	{ HY, "a/b", 0, "/a/b" },
	{ HY, "/a/b/", 0, "/a/b" },
	{ HY, "//a//b", 0, "/a/b" },
	{ HY, "//a//b//", 0, "/a/b" },
	{ HY, "a", 0, "/a" },
	{ HY, "./a/./b/.", 0, "/a/b" },
	{ HY, "/system.slice/docker-1.scope", 0, "/system.slice/docker-1.scope" },
	{ HY, "/a/..b/b..", 0, "/a/..b/b.." },
	{ HY, "/with space/x", 0, "/with space/x" },
	/* the root */
	{ HY, "/", 0, "/" },
	{ HY, "//", 0, "/" },
	{ HY, ".", 0, "/" },
	/* absolute, inside the mount */
	{ HY, HY, 0, "/" },
	{ HY, HY "/", 0, "/" },
	{ HY, HY "/a/b", 0, "/a/b" },
	{ HY, "/sys//fs/cgroup/./unified//a/", 0, "/a" },
	{ HY "/", HY "/a", 0, "/a" },
	{ V2, V2 "/system.slice/ssh.service", 0, "/system.slice/ssh.service" },
	{ V2, V2, 0, "/" },
	/* beside the mount: component-wise, not string prefix */
	{ HY, "/sys/fs/cgroup/unifiedX", -EINVAL, NULL },
	{ HY, "/sys/fs/cgroup/unifiedX/a", -EINVAL, NULL },
	{ HY, "/sys/fs/cgroup/memory/docker", -EINVAL, NULL },
	{ HY, "/sys/fs/cgroup", -EINVAL, NULL },
	{ HY, "/sys/fs/cgroup/", -EINVAL, NULL },
	{ V2, "/sys/fs/cgroupfoo/a", -EINVAL, NULL },
	/* only absolute paths are taken as inside the mount */
	{ HY, "sys/fs/cgroup/unified/x", 0, "/sys/fs/cgroup/unified/x" },
	/* a mount one level deep has "/" as parent: anything goes */
	{ "/cg", "/cgx/a", 0, "/cgx/a" },
	{ "/cg", "/cg/a", 0, "/a" },
	{ "/cg", "/cg", 0, "/" },
	{ "/mnt/my cg", "/mnt/my cg/x", 0, "/x" },
	/* rejected */
	{ HY, "", -EINVAL, NULL },
	{ HY, "..", -EINVAL, NULL },
	{ HY, "/..", -EINVAL, NULL },
	{ HY, "/a/../b", -EINVAL, NULL },
	{ HY, "/a/..", -EINVAL, NULL },
	{ HY, "a/../../etc", -EINVAL, NULL },
	{ HY, HY "/..", -EINVAL, NULL },
	{ HY, HY "/../memory", -EINVAL, NULL },
};

static void test_normalize(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		const struct ncase *t = &ncases[i];
		char out[PATH_MAX];
		int ret;

		strcpy(out, "garbage");
		ret = cgfs_normalize(t->mount, t->in, out, sizeof(out));
		if (ret != t->ret || (t->out && strcmp(out, t->out)))
			print_error("normalize(%s, \"%s\") = %d \"%s\", want %d \"%s\"\n", t->mount,
				    t->in, ret, ret ? "" : out, t->ret, t->out ? t->out : "");
		assert_int_equal(ret, t->ret);
		if (t->out)
			assert_string_equal(out, t->out);
	}
}

static void test_normalize_edges(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(cgfs_normalize(HY, NULL, out, sizeof(out)), -EINVAL);
	/* "/abc/de" is 7 bytes + NUL: fits exactly in 8, not in 7 */
	assert_int_equal(cgfs_normalize(HY, "abc//de/", out, 8), 0);
	assert_string_equal(out, "/abc/de");
	assert_int_equal(cgfs_normalize(HY, "abc//de/", out, 7), -ENAMETOOLONG);
	assert_int_equal(cgfs_normalize(HY, "/", out, 2), 0);
	assert_string_equal(out, "/");
	assert_int_equal(cgfs_normalize(HY, "/", out, 1), -ENAMETOOLONG);
	/* without a mount, every path is relative */
	assert_int_equal(cgfs_normalize(NULL, "/x//y", out, sizeof(out)), 0);
	assert_string_equal(out, "/x/y");
}

/* ---- cgfs_path_to_id ---- */

static void test_path_to_id(void **state)
{
	char dir[64], abs[128];
	uint64_t id = 0;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	mkdirp(dir, "a");
	mkdirp(dir, "a/b");
	touch(dir, "a/file");

	assert_int_equal(cgfs_path_to_id(dir, "/", &id), 0);
	assert_int_equal(id, ino_of(dir, "."));
	assert_int_equal(cgfs_path_to_id(dir, "/a", &id), 0);
	assert_int_equal(id, ino_of(dir, "a"));
	assert_int_equal(cgfs_path_to_id(dir, "a//b/", &id), 0);
	assert_int_equal(id, ino_of(dir, "a/b"));
	snprintf(abs, sizeof(abs), "%s/a/b", dir);
	id = 0;
	assert_int_equal(cgfs_path_to_id(dir, abs, &id), 0);
	assert_int_equal(id, ino_of(dir, "a/b"));
	assert_true(ino_of(dir, "a") != ino_of(dir, "a/b"));

	assert_int_equal(cgfs_path_to_id(dir, "/missing", &id), -ENOENT);
	assert_int_equal(cgfs_path_to_id(dir, "/a/file", &id), -ENOTDIR);
	assert_int_equal(cgfs_path_to_id(dir, "/a/file/x", &id), -ENOTDIR);
	assert_int_equal(cgfs_path_to_id(dir, "/a/../a", &id), -EINVAL);
	assert_int_equal(cgfs_path_to_id(dir, "", &id), -EINVAL);
	rm_tree(dir);
}

/* ---- the cache on a fake hierarchy ---- */

/* root, 6 directories, files, and symlinks that must not be followed */
static void build_tree(const char *dir, const char *outside)
{
	char target[PATH_MAX];

	mkdirp(dir, "a");
	mkdirp(dir, "a/b");
	mkdirp(dir, "a/b/c");
	mkdirp(dir, "d");
	mkdirp(dir, "e f");
	mkdirp(dir, "g\"h\xc3\xa9");
	touch(dir, "cgroup.procs");
	touch(dir, "a/cgroup.procs");
	touch(dir, "a/b/io.stat");
	snprintf(target, sizeof(target), "%s/link-in", dir);
	assert_int_equal(symlink("a", target), 0);
	snprintf(target, sizeof(target), "%s/d/link-out", dir);
	assert_int_equal(symlink(outside, target), 0);
}

static void check_tree(struct cgfs_cache *c, const char *dir)
{
	expect_path(c, ino_of(dir, "."), "/");
	expect_path(c, ino_of(dir, "a"), "/a");
	expect_path(c, ino_of(dir, "a/b"), "/a/b");
	expect_path(c, ino_of(dir, "a/b/c"), "/a/b/c");
	expect_path(c, ino_of(dir, "d"), "/d");
	expect_path(c, ino_of(dir, "e f"), "/e f");
	expect_path(c, ino_of(dir, "g\"h\xc3\xa9"), "/g\"h\xc3\xa9");
}

static void test_cache_basic(void **state)
{
	char dir[64], outside[64], buf[PATH_MAX];
	struct cgfs_cache *c;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	make_tmpdir(outside, sizeof(outside));
	mkdirp(outside, "sub");
	build_tree(dir, outside);

	c = cgfs_cache_new(dir, 64);
	assert_non_null(c);
	/* nothing known before the first walk */
	assert_int_equal(cgfs_cache_lookup(c, ino_of(dir, "."), buf, sizeof(buf)), -ENOENT);

	assert_int_equal(cgfs_cache_refresh(c), 7);
	assert_int_equal(cgfs_cache_overflow(c), 0);
	check_tree(c, dir);

	/* symlinks are not directories of the tree: not followed, not named */
	assert_int_equal(cgfs_cache_lookup(c, ino_of(outside, "."), buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cgfs_cache_lookup(c, ino_of(outside, "sub"), buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cgfs_cache_lookup(c, ino_of(dir, "link-in"), buf, sizeof(buf)), -ENOENT);
	/* files are not cgroups */
	assert_int_equal(cgfs_cache_lookup(c, ino_of(dir, "a/cgroup.procs"), buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(cgfs_cache_lookup(c, 0, buf, sizeof(buf)), -ENOENT);

	/* buffer sizes: "/a/b/c" is 6 bytes + NUL */
	assert_int_equal(cgfs_cache_lookup(c, ino_of(dir, "a/b/c"), buf, 7), 0);
	assert_string_equal(buf, "/a/b/c");
	assert_int_equal(cgfs_cache_lookup(c, ino_of(dir, "a/b/c"), buf, 6), -ENAMETOOLONG);
	assert_int_equal(cgfs_cache_lookup(c, ino_of(dir, "a/b/c"), NULL, 0), -ENAMETOOLONG);

	/* a second walk of an unchanged tree changes nothing */
	assert_int_equal(cgfs_cache_refresh(c), 7);
	assert_int_equal(cgfs_cache_overflow(c), 0);
	check_tree(c, dir);

	cgfs_cache_free(c);
	rm_tree(dir);
	rm_tree(outside);
}

static void test_cache_vanish_and_forget(void **state)
{
	char dir[64], path[PATH_MAX], buf[PATH_MAX];
	uint64_t c_id, b_id;
	struct cgfs_cache *c;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	mkdirp(dir, "a");
	mkdirp(dir, "a/b");
	mkdirp(dir, "a/b/c");
	c_id = ino_of(dir, "a/b/c");
	b_id = ino_of(dir, "a/b");

	c = cgfs_cache_new(dir, 16);
	assert_non_null(c);
	assert_int_equal(cgfs_cache_refresh(c), 4);

	/* c disappears: still named after the next walk */
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(cgfs_cache_refresh(c), 3);
	expect_path(c, c_id, "/a/b/c");

	/* until forgotten */
	cgfs_cache_forget(c, c_id);
	assert_int_equal(cgfs_cache_lookup(c, c_id, buf, sizeof(buf)), -ENOENT);
	cgfs_cache_forget(c, c_id); /* twice is harmless */
	cgfs_cache_forget(c, 0);
	cgfs_cache_forget(c, 0xdeadbeefULL);
	expect_path(c, b_id, "/a/b");
	expect_path(c, ino_of(dir, "a"), "/a");

	/* forgetting a live cgroup: back at the next walk */
	cgfs_cache_forget(c, b_id);
	assert_int_equal(cgfs_cache_lookup(c, b_id, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cgfs_cache_refresh(c), 3);
	expect_path(c, b_id, "/a/b");

	cgfs_cache_free(c);
	rm_tree(dir);
}

static void test_cache_rename(void **state)
{
	char dir[64], from[PATH_MAX], to[PATH_MAX];
	uint64_t b_id, x_id;
	struct cgfs_cache *c;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	mkdirp(dir, "a");
	mkdirp(dir, "a/b");
	mkdirp(dir, "a/b/x");
	b_id = ino_of(dir, "a/b");
	x_id = ino_of(dir, "a/b/x");

	c = cgfs_cache_new(dir, 16);
	assert_non_null(c);
	assert_int_equal(cgfs_cache_refresh(c), 4);
	expect_path(c, x_id, "/a/b/x");

	/* rename keeps the inode: the id now has the new path, subtree too */
	snprintf(from, sizeof(from), "%s/a/b", dir);
	snprintf(to, sizeof(to), "%s/renamed", dir);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(cgfs_cache_refresh(c), 4);
	expect_path(c, b_id, "/renamed");
	expect_path(c, x_id, "/renamed/x");
	assert_int_equal(cgfs_cache_overflow(c), 0);

	cgfs_cache_free(c);
	rm_tree(dir);
}

static size_t count_known(struct cgfs_cache *c, const uint64_t *ids, size_t n)
{
	char buf[PATH_MAX];
	size_t known = 0;

	for (size_t i = 0; i < n; i++)
		if (!cgfs_cache_lookup(c, ids[i], buf, sizeof(buf)))
			known++;
	return known;
}

static void test_cache_capacity(void **state)
{
	char dir[64], name[16], path[PATH_MAX];
	uint64_t ids[7], old1, old2;
	struct cgfs_cache *c;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		mkdirp(dir, name);
		ids[i] = ino_of(dir, name);
	}
	ids[6] = ino_of(dir, ".");

	/* 7 cgroups, room for 3: all seen, 4 counted, never more than 3 kept */
	c = cgfs_cache_new(dir, 3);
	assert_non_null(c);
	assert_int_equal(cgfs_cache_refresh(c), 7);
	assert_int_equal(cgfs_cache_overflow(c), 4);
	assert_int_equal(count_known(c, ids, 7), 3);
	/* the count is per walk, not accumulated */
	assert_int_equal(cgfs_cache_refresh(c), 7);
	assert_int_equal(cgfs_cache_overflow(c), 4);
	assert_int_equal(count_known(c, ids, 7), 3);
	cgfs_cache_free(c);

	/*
	 * Full of entries, some of them dead: the dead hold their room until a
	 * live cgroup needs it, then they go.
	 */
	c = cgfs_cache_new(dir, 7);
	assert_non_null(c);
	assert_int_equal(cgfs_cache_refresh(c), 7);
	assert_int_equal(cgfs_cache_overflow(c), 0);
	snprintf(path, sizeof(path), "%s/d5", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(cgfs_cache_refresh(c), 6);
	expect_path(c, ids[5], "/d5"); /* room to spare: still named */
	assert_int_equal(cgfs_cache_dropped(c), 0);
	mkdirp(dir, "d5");
	ids[5] = ino_of(dir, "d5");
	assert_int_equal(cgfs_cache_refresh(c), 7);
	old1 = ids[0];
	old2 = ids[1];
	snprintf(path, sizeof(path), "%s/d0", dir);
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/d1", dir);
	assert_int_equal(rmdir(path), 0);
	mkdirp(dir, "new0");
	mkdirp(dir, "new1");
	ids[0] = ino_of(dir, "new0");
	ids[1] = ino_of(dir, "new1");
	/* The new ones need room: the dead ones (d5's old entry too) go, all live ones are named. */
	assert_int_equal(cgfs_cache_refresh(c), 7);
	assert_int_equal(cgfs_cache_overflow(c), 0);
	expect_path(c, ids[0], "/new0");
	expect_path(c, ids[1], "/new1");
	assert_int_equal(count_known(c, ids, 7), 7);
	/* some filesystems hand a freed inode number to a new directory */
	if (ids[0] != old1 && ids[0] != old2 && ids[1] != old1 && ids[1] != old2) {
		assert_int_equal(count_known(c, (uint64_t[]){ old1, old2 }, 2), 0);
		assert_int_equal(cgfs_cache_dropped(c), 3);
	}
	cgfs_cache_free(c);
	rm_tree(dir);
}

/* Many entries: lookups and deletions in a crowded table stay right. */
static void test_cache_many(void **state)
{
	enum { TOP = 10, SUB = 60, N = TOP * SUB };
	char dir[64], rel[64], buf[PATH_MAX];
	uint64_t *ids = calloc(N, sizeof(*ids));
	struct cgfs_cache *c;

	(void)state;
	assert_non_null(ids);
	make_tmpdir(dir, sizeof(dir));
	for (int i = 0; i < TOP; i++) {
		snprintf(rel, sizeof(rel), "t%d", i);
		mkdirp(dir, rel);
		for (int j = 0; j < SUB; j++) {
			snprintf(rel, sizeof(rel), "t%d/s%d", i, j);
			mkdirp(dir, rel);
			ids[i * SUB + j] = ino_of(dir, rel);
		}
	}
	/* exactly full: the table is at its highest load */
	c = cgfs_cache_new(dir, N + TOP + 1);
	assert_non_null(c);
	assert_int_equal(cgfs_cache_refresh(c), N + TOP + 1);
	assert_int_equal(cgfs_cache_overflow(c), 0);
	for (int k = 0; k < N; k++) {
		snprintf(rel, sizeof(rel), "/t%d/s%d", k / SUB, k % SUB);
		expect_path(c, ids[k], rel);
	}
	/* forget every third: the rest must still be found */
	for (int k = 0; k < N; k += 3)
		cgfs_cache_forget(c, ids[k]);
	for (int k = 0; k < N; k++) {
		if (k % 3 == 0) {
			assert_int_equal(cgfs_cache_lookup(c, ids[k], buf, sizeof(buf)), -ENOENT);
			continue;
		}
		snprintf(rel, sizeof(rel), "/t%d/s%d", k / SUB, k % SUB);
		expect_path(c, ids[k], rel);
	}
	/* and they all come back */
	assert_int_equal(cgfs_cache_refresh(c), N + TOP + 1);
	assert_int_equal(count_known(c, ids, N), N);
	cgfs_cache_free(c);
	rm_tree(dir);
	free(ids);
}

/* Directories whose path relative to the mount exceeds PATH_MAX. */
static void test_cache_long_paths(void **state)
{
	enum { LEVELS = 25, NAMELEN = 200 };
	char dir[64], name[NAMELEN + 1];
	uint64_t ids[LEVELS];
	struct cgfs_cache *c;
	int fd, nfd;
	size_t fit = 0;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	memset(name, 'n', NAMELEN);
	name[NAMELEN] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (int i = 0; i < LEVELS; i++) {
		struct stat st;

		assert_int_equal(mkdirat(fd, name, 0755), 0);
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(nfd >= 0);
		assert_int_equal(fstat(nfd, &st), 0);
		ids[i] = (uint64_t)st.st_ino;
		close(fd);
		fd = nfd;
		/* the relative path of level i is (i + 1) * "/<name>" */
		if ((size_t)(i + 1) * (NAMELEN + 1) < PATH_MAX)
			fit++;
	}
	close(fd);
	assert_true(fit > 0 && fit < LEVELS);

	c = cgfs_cache_new(dir, 1024);
	assert_non_null(c);
	/* root, the levels that fit, and the first that doesn't */
	assert_int_equal(cgfs_cache_refresh(c), (int)(1 + fit + 1));
	assert_int_equal(cgfs_cache_overflow(c), 1);
	assert_int_equal(count_known(c, ids, fit), fit);
	assert_int_equal(count_known(c, ids + fit, LEVELS - fit), 0);
	{
		char buf[PATH_MAX];

		assert_int_equal(cgfs_cache_lookup(c, ids[fit - 1], buf, sizeof(buf)), 0);
		assert_int_equal(strlen(buf), fit * (NAMELEN + 1));
	}
	cgfs_cache_free(c);
	rm_tree(dir);
}

/* Directories appearing and vanishing during the walk are not errors. */
static void test_cache_churn(void **state)
{
	char dir[64];
	struct cgfs_cache *c;
	struct timespec t0, t;
	int status, walks = 0;
	pid_t pid;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	mkdirp(dir, "stable");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char p[PATH_MAX];
		time_t end = time(NULL) + 10; /* bounded even if never killed */

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		while (time(NULL) < end) {
			for (int i = 0; i < 20; i++) {
				snprintf(p, sizeof(p), "%s/c%d", dir, i);
				mkdir(p, 0755);
				snprintf(p, sizeof(p), "%s/c%d/x", dir, i);
				mkdir(p, 0755);
				snprintf(p, sizeof(p), "%s/c%d/x/y", dir, i);
				mkdir(p, 0755);
			}
			for (int i = 0; i < 20; i++) {
				snprintf(p, sizeof(p), "%s/c%d/x/y", dir, i);
				rmdir(p);
				snprintf(p, sizeof(p), "%s/c%d/x", dir, i);
				rmdir(p);
				snprintf(p, sizeof(p), "%s/c%d", dir, i);
				rmdir(p);
			}
		}
		_exit(0);
	}

	c = cgfs_cache_new(dir, 4096);
	assert_non_null(c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int ret = cgfs_cache_refresh(c);

		if (ret < 2)
			kill(pid, SIGKILL);
		assert_true(ret >= 2); /* root and "stable" at least */
		expect_path(c, ino_of(dir, "stable"), "/stable");
		walks++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 500000000L);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(walks > 0);
	cgfs_cache_free(c);
	rm_tree(dir);
}

static void test_cache_errors(void **state)
{
	struct cgfs_cache *c;

	(void)state;
	errno = 0;
	assert_null(cgfs_cache_new("/tmp", 0));
	assert_int_equal(errno, EINVAL);
	assert_null(cgfs_cache_new(NULL, 8));
	assert_null(cgfs_cache_new("/tmp", SIZE_MAX));
	cgfs_cache_free(NULL);
	assert_int_equal(cgfs_cache_overflow(NULL), 0);

	c = cgfs_cache_new("/nonexistent/iotrace/cgroup", 8);
	assert_non_null(c);
	assert_int_equal(cgfs_cache_refresh(c), -ENOENT);
	cgfs_cache_free(c);

	c = cgfs_cache_new("/dev/null", 8);
	assert_non_null(c);
	assert_int_equal(cgfs_cache_refresh(c), -ENOTDIR);
	cgfs_cache_free(c);
}

/* ---- a process's cgroup2 path: /proc/PID/cgroup ---- */

/* /proc/PID/cgroup of a hybrid host: the v1 hierarchies, then cgroup2's "0::". */
static const char cg_hybrid[] = "12:pids:/user.slice/user-1000.slice\n"
				"11:memory:/user.slice\n"
				"10:cpu,cpuacct:/\n"
				"1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
				"0::/a/b\n";

static const char cg_v1_only[] = "3:cpuset:/\n"
				 "2:memory:/docker/0123abcd\n"
				 "1:name=systemd:/docker/0123abcd\n";

/* Parse, checking that a failure leaves out as it was. */
static int parse_cg(const char *contents, char *out, size_t len)
{
	char before[64];
	int ret;

	assert_true(len <= sizeof(before));
	memcpy(before, out, len);
	ret = cgfs_parse_proc_cgroup(contents, out, len);
	if (ret)
		assert_memory_equal(out, before, len);
	return ret;
}

static void test_proc_cgroup_parse(void **state)
{
	char out[64];

	(void)state;
	memset(out, 'z', sizeof(out));
	assert_int_equal(parse_cg(cg_hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	/* Pure v2: the root. */
	assert_int_equal(parse_cg("0::/\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	/* Without the final newline; the "0::" line first or in the middle. */
	assert_int_equal(parse_cg("0::/x/y", out, sizeof(out)), 0);
	assert_string_equal(out, "/x/y");
	assert_int_equal(parse_cg("0::/first\n1:name=systemd:/\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/first");
	assert_int_equal(parse_cg("2:memory:/m\n0::/mid\n1:name=systemd:/s\n", out, sizeof(out)),
			 0);
	assert_string_equal(out, "/mid");
	/* Only the first two colons separate: a path may hold more, and spaces. */
	assert_int_equal(parse_cg("0::/a:b/c d::e\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/a:b/c d::e");
	/* The path seen from inside a cgroup namespace may climb out of it. */
	assert_int_equal(parse_cg("0::/../../sys\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/../../sys");
}

static void test_proc_cgroup_parse_none(void **state)
{
	char out[64];

	(void)state;
	memset(out, 'z', sizeof(out));
	/* A v1-only host has no "0::" line. */
	assert_int_equal(parse_cg(cg_v1_only, out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("\n\n", out, sizeof(out)), -ENOENT);
	/* "0::" with no path, or one that is not absolute. */
	assert_int_equal(parse_cg("0::\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("0::", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("1:cpu:/\n0::\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("0::a/b\n", out, sizeof(out)), -ENOENT);
	/* Look-alikes: hierarchy 10, "0::" not at a line's start, "0:". */
	assert_int_equal(parse_cg("10::/x\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("1:name=systemd:/0::/x\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg(" 0::/x\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("0:/x\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("0:name=x:/x\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(parse_cg("0", out, sizeof(out)), -ENOENT);
	/* ... and they do not hide the real line after them. */
	assert_int_equal(parse_cg("0:/x\n10::/y\n0:name=x:/z\n0::/real\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/real");
}

static void test_proc_cgroup_parse_small_buf(void **state)
{
	char out[64];

	(void)state;
	memset(out, 'z', sizeof(out));
	/* "/a/b" and its NUL take 5 bytes. */
	assert_int_equal(parse_cg(cg_hybrid, out, 4), -ENAMETOOLONG);
	assert_int_equal(parse_cg(cg_hybrid, out, 1), -ENAMETOOLONG);
	assert_int_equal(parse_cg(cg_hybrid, out, 0), -ENAMETOOLONG);
	assert_int_equal(parse_cg(cg_hybrid, out, 5), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(out[5], 'z'); /* nothing written past len */
	assert_int_equal(parse_cg("0::/\n", out, 1), -ENAMETOOLONG);
	assert_int_equal(parse_cg("0::/\n", out, 2), 0);
	assert_string_equal(out, "/");
}

static void test_proc_cgroup_fake_procfs(void **state)
{
	char dir[64], path[128], out[64];

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	mkdirp(dir, "123");
	snprintf(path, sizeof(path), "%s/123/cgroup", dir);
	write_file(path, cg_hybrid);
	assert_int_equal(cgfs_proc_cgroup(dir, 123, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(cgfs_proc_cgroup(dir, 123, out, 4), -ENAMETOOLONG);

	write_file(path, "0::/\n");
	assert_int_equal(cgfs_proc_cgroup(dir, 123, out, sizeof(out)), 0);
	assert_string_equal(out, "/");

	write_file(path, cg_v1_only);
	assert_int_equal(cgfs_proc_cgroup(dir, 123, out, sizeof(out)), -ENOENT);
	write_file(path, "");
	assert_int_equal(cgfs_proc_cgroup(dir, 123, out, sizeof(out)), -ENOENT);

	/* The process is gone. */
	assert_int_equal(cgfs_proc_cgroup(dir, 124, out, sizeof(out)), -ENOENT);
	rm_tree(dir);
	assert_int_equal(cgfs_proc_cgroup(dir, 123, out, sizeof(out)), -ENOENT);
}

static void test_proc_cgroup_real_self(void **state)
{
	char want[PATH_MAX + 8] = "", line[PATH_MAX + 8], out[PATH_MAX];
	bool found = false;
	FILE *f;

	(void)state;
	/* What the kernel says, read here line by line. */
	f = fopen("/proc/self/cgroup", "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(want, sizeof(want), "%s", line + 3);
		found = true;
	}
	fclose(f);
	if (!found) {
		/* No cgroup2 at all here: the function must say so. */
		assert_int_equal(cgfs_proc_cgroup(NULL, getpid(), out, sizeof(out)), -ENOENT);
		return;
	}
	assert_true(want[0] == '/');
	assert_int_equal(cgfs_proc_cgroup(NULL, getpid(), out, sizeof(out)), 0);
	assert_string_equal(out, want);
	memset(out, 0, sizeof(out));
	assert_int_equal(cgfs_proc_cgroup("/proc", getpid(), out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(cgfs_proc_cgroup("/proc", getpid(), out, strlen(want)), -ENAMETOOLONG);
}

/* ---- the real cgroup2 hierarchy of this machine ---- */

static void real_mount(char *buf, size_t len)
{
	int ret = cgfs_find_mount("/proc/mounts", buf, len);

	if (ret) {
		print_error("no cgroup2 mount found in /proc/mounts (%s): iotrace needs "
			    "cgroup2 mounted (e.g. mount -t cgroup2 none /sys/fs/cgroup/unified)\n",
			    strerror(-ret));
		fail();
	}
}

static void test_real_cgroup2(void **state)
{
	char mount[PATH_MAX], buf[PATH_MAX], line[PATH_MAX + 8];
	struct cgfs_cache *c;
	uint64_t id = 0;
	struct stat st;
	FILE *f;
	int n;

	(void)state;
	real_mount(mount, sizeof(mount));

	/* the root cgroup's id is 1 */
	assert_int_equal(stat(mount, &st), 0);
	assert_int_equal(st.st_ino, 1);
	assert_int_equal(cgfs_path_to_id(mount, "/", &id), 0);
	assert_int_equal(id, 1);
	id = 0;
	assert_int_equal(cgfs_path_to_id(mount, mount, &id), 0);
	assert_int_equal(id, 1);

	/* the kernel's cgroup id (its file handle) is the inode number */
	{
		struct {
			struct file_handle fh;
			unsigned char buf[64];
		} h;
		int mount_id;
		uint64_t kid;

		h.fh.handle_bytes = sizeof(h.buf);
		if (!name_to_handle_at(AT_FDCWD, mount, &h.fh, &mount_id, 0)) {
			assert_int_equal(h.fh.handle_bytes, sizeof(kid));
			memcpy(&kid, h.fh.f_handle, sizeof(kid));
			assert_int_equal(kid, 1);
		}
	}

	c = cgfs_cache_new(mount, 65536);
	assert_non_null(c);
	n = cgfs_cache_refresh(c);
	assert_true(n >= 1);
	expect_path(c, 1, "/");

	/* our own cgroup, from /proc/self/cgroup's "0::<path>" line */
	f = fopen("/proc/self/cgroup", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char norm[PATH_MAX];

		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		assert_int_equal(cgfs_normalize(mount, line + 3, norm, sizeof(norm)), 0);
		assert_int_equal(cgfs_path_to_id(mount, norm, &id), 0);
		assert_true(id >= 1);
		assert_int_equal(cgfs_cache_lookup(c, id, buf, sizeof(buf)), 0);
		assert_string_equal(buf, norm);
	}
	fclose(f);
	cgfs_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_mount_hybrid),
		cmocka_unit_test(test_find_mount_pure_v2),
		cmocka_unit_test(test_find_mount_none),
		cmocka_unit_test(test_find_mount_v1_only),
		cmocka_unit_test(test_find_mount_escapes),
		cmocka_unit_test(test_find_mount_first_and_odd_lines),
		cmocka_unit_test(test_find_mount_small_buf),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_edges),
		cmocka_unit_test(test_path_to_id),
		cmocka_unit_test(test_cache_basic),
		cmocka_unit_test(test_cache_vanish_and_forget),
		cmocka_unit_test(test_cache_rename),
		cmocka_unit_test(test_cache_capacity),
		cmocka_unit_test(test_cache_many),
		cmocka_unit_test(test_cache_long_paths),
		cmocka_unit_test(test_cache_churn),
		cmocka_unit_test(test_cache_errors),
		cmocka_unit_test(test_real_cgroup2),
		cmocka_unit_test(test_proc_cgroup_parse),
		cmocka_unit_test(test_proc_cgroup_parse_none),
		cmocka_unit_test(test_proc_cgroup_parse_small_buf),
		cmocka_unit_test(test_proc_cgroup_fake_procfs),
		cmocka_unit_test(test_proc_cgroup_real_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
