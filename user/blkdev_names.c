// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Block device names by number.  See blkdev_names.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkdev_names.h"

#define UEVENT_MAX 4096
/* About 50 bytes a line: room for some 20000 devices. */
#define PARTITIONS_MAX (1 << 20)

struct blkdev_slot {
	bool used;
	uint32_t major, minor;
	uint64_t read_s; /* when the name was read */
	char name[BLKDEV_NAME_MAX]; /* "": unknown */
};

struct blkdev_names {
	char sysfs[PATH_MAX], procfs[PATH_MAX];
	struct blkdev_slot slots[BLKDEV_NAMES_SLOTS];
};

struct blkdev_names *blkdev_names_new(const char *sysfs_root, const char *procfs_root)
{
	struct blkdev_names *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	snprintf(n->sysfs, sizeof(n->sysfs), "%s", sysfs_root ? sysfs_root : "/sys");
	snprintf(n->procfs, sizeof(n->procfs), "%s", procfs_root ? procfs_root : "/proc");
	return n;
}

void blkdev_names_free(struct blkdev_names *n)
{
	free(n);
}

/*
 * The start of path's content into buf (NUL-terminated, at most cap - 1
 * bytes).  0 or -errno.
 */
static int read_text(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return 0;
}

/* A name fit for output: not empty, no '/' at the ends, printable, fits. */
static int copy_name(const char *s, size_t n, char *buf, size_t len)
{
	if (!n || n >= len || s[0] == '/' || s[n - 1] == '/')
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return -ENOENT;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int blkdev_uevent_devname(const char *uevent, char *buf, size_t len)
{
	static const char key[] = "DEVNAME=";
	const char *p = uevent;

	if (len)
		buf[0] = '\0';
	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > sizeof(key) - 1 && !strncmp(p, key, sizeof(key) - 1))
			return copy_name(p + sizeof(key) - 1, n - (sizeof(key) - 1), buf, len);
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int blkdev_partitions_name(const char *partitions, uint32_t major, uint32_t minor, char *buf,
			   size_t len)
{
	const char *p = partitions;

	if (len)
		buf[0] = '\0';
	/* "major minor  #blocks  name", a blank line, then one line per device. */
	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char line[256], name[BLKDEV_NAME_MAX];
		unsigned int ma, mi;
		unsigned long long blocks;

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (sscanf(line, "%u %u %llu %63s", &ma, &mi, &blocks, name) == 4 &&
			    ma == major && mi == minor)
				return copy_name(name, strlen(name), buf, len);
		}
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

static int read_name(const struct blkdev_names *n, uint32_t major, uint32_t minor, char *buf,
		     size_t len)
{
	char path[PATH_MAX + 64], uevent[UEVENT_MAX], *parts;
	int err;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/uevent", n->sysfs, major, minor);
	if (read_text(path, uevent, sizeof(uevent)) == 0 &&
	    blkdev_uevent_devname(uevent, buf, len) == 0)
		return 0;
	parts = malloc(PARTITIONS_MAX);
	if (!parts)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/partitions", n->procfs);
	err = read_text(path, parts, PARTITIONS_MAX);
	if (!err)
		err = blkdev_partitions_name(parts, major, minor, buf, len);
	free(parts);
	return err;
}

int blkdev_name(struct blkdev_names *n, uint32_t major, uint32_t minor, uint64_t now_s, char *buf,
		size_t len)
{
	/* Minors of one major are consecutive, majors few: mix both in. */
	struct blkdev_slot *s = &n->slots[(major * 31 + minor) % BLKDEV_NAMES_SLOTS];
	int err;

	if (!s->used || s->major != major || s->minor != minor ||
	    now_s - s->read_s >= BLKDEV_NAME_TTL_S || now_s < s->read_s) {
		s->used = true;
		s->major = major;
		s->minor = minor;
		s->read_s = now_s;
		err = read_name(n, major, minor, s->name, sizeof(s->name));
		/* Unknown is cached too: a vanished device costs one read per TTL. */
		if (err)
			s->name[0] = '\0';
		/* Not for want of memory, though: that may pass by the next row. */
		if (err == -ENOMEM)
			s->used = false;
	}
	snprintf(buf, len, "%s", s->name);
	return s->name[0] ? 0 : -ENOENT;
}
