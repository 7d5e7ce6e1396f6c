// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * (pid, start time) process identities from /proc/PID/stat, and thread
 * names from /proc/PID/task/TID/comm.  See include/proc_ident.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc_ident.h"

#define STAT_FIELD_STARTTIME 22
#define STAT_FIELD_GUEST_TIME 43
/*
 * A stat line is 52 numeric fields of at most 20 digits and a comm of at
 * most 64 bytes, about 1.2 KiB.  Fields 22 and 43 lie in its first kilobyte,
 * so the head of a longer line (fields added by a future kernel) is all
 * that is parsed.
 */
#define STAT_MAX 4096
#define COMM_FILE_MAX 256 /* comm is 15 bytes, 63 for some kernel threads */

/* Parse an unsigned decimal ending at a space, newline or NUL. */
static int parse_u64(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	if (*p && *p != ' ' && *p != '\n')
		return -EINVAL;
	*end = p;
	*v = x;
	return 0;
}

/*
 * The pid (field 1) and numeric field `want` (>= 3) of a stat line.  comm
 * may hold spaces and parentheses, so fields are counted from the last ')'.
 */
static int parse_stat_field(const char *stat_line, int want, uint64_t *pidp, uint64_t *v)
{
	const char *p, *rparen, *end;
	uint64_t pid;
	size_t len;
	int field;

	if (!stat_line)
		return -EINVAL;
	/* Field 1, the pid, then " (" and comm up to the last ')'. */
	if (parse_u64(stat_line, &end, &pid) || pid == 0 || pid > INT_MAX)
		return -EINVAL;
	if (end[0] != ' ' || end[1] != '(')
		return -EINVAL;
	rparen = strrchr(end + 2, ')');
	if (!rparen)
		return -EINVAL;
	/*
	 * Field 2 ends at rparen; each later field is one space and a non-empty
	 * token (the kernel never writes an empty one).
	 */
	p = rparen + 1;
	for (field = 3; field <= want; field++) {
		if (*p != ' ')
			return -EINVAL;
		p++;
		if (field == want)
			break;
		len = strcspn(p, " \n");
		if (len == 0)
			return -EINVAL;
		p += len;
		if (!*p || *p == '\n')
			return -EINVAL;
	}
	if (parse_u64(p, &end, v))
		return -EINVAL;
	*pidp = pid;
	return 0;
}

int proc_ident_parse_stat(const char *stat_line, struct proc_ident *out)
{
	uint64_t pid, start;

	if (!out || parse_stat_field(stat_line, STAT_FIELD_STARTTIME, &pid, &start))
		return -EINVAL;
	out->pid = (int)pid;
	out->start_ticks = start;
	return 0;
}

int proc_parse_guest_ticks(const char *stat_line, uint64_t *ticks)
{
	uint64_t pid;

	if (!ticks || parse_stat_field(stat_line, STAT_FIELD_GUEST_TIME, &pid, ticks))
		return -EINVAL;
	return 0;
}

/*
 * Read the start of a file, at most cap - 1 bytes, into buf and NUL-terminate
 * it.  A /proc file whose task went away gives ENOENT on open or ESRCH on
 * read: both become -ENOENT.
 */
static int read_head(const char *path, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	while (n < cap - 1) {
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno == ESRCH ? -ENOENT : -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return err;
}

static int proc_path(char *path, size_t size, const char *root, int pid, int tid, const char *leaf)
{
	int n;

	if (!root)
		root = "/proc";
	if (tid > 0)
		n = snprintf(path, size, "%s/%d/task/%d/%s", root, pid, tid, leaf);
	else
		n = snprintf(path, size, "%s/%d/%s", root, pid, leaf);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int proc_read_file(const char *root, int pid, int tid, const char *leaf, char *buf, size_t cap,
		   size_t *len)
{
	char path[PATH_MAX];
	int err;

	err = proc_path(path, sizeof(path), root, pid, tid, leaf);
	if (!err)
		err = read_head(path, buf, cap, len);
	if (!err && *len == 0)
		err = -ENOENT;
	return err;
}

int proc_ident_read(const char *procfs_root, int pid, struct proc_ident *out)
{
	char buf[STAT_MAX];
	struct proc_ident id;
	size_t len;
	int err;

	if (pid <= 0 || !out)
		return -EINVAL;
	err = proc_read_file(procfs_root, pid, 0, "stat", buf, sizeof(buf), &len);
	if (err)
		return err;
	if (proc_ident_parse_stat(buf, &id) || id.pid != pid)
		return -EINVAL;
	*out = id;
	return 0;
}

bool proc_ident_same(const struct proc_ident *a, const struct proc_ident *b)
{
	return a && b && a->pid > 0 && a->pid == b->pid && a->start_ticks == b->start_ticks;
}

int proc_task_comm(const char *procfs_root, int pid, int tid, char *buf, size_t len)
{
	char comm[COMM_FILE_MAX];
	size_t n;
	int err;

	if (pid <= 0 || tid <= 0 || !buf || len == 0)
		return -EINVAL;
	err = proc_read_file(procfs_root, pid, tid, "comm", comm, sizeof(comm), &n);
	if (err)
		return err;
	if (comm[n - 1] == '\n')
		comm[--n] = '\0';
	if (n >= len)
		n = len - 1;
	memcpy(buf, comm, n);
	buf[n] = '\0';
	return 0;
}

int proc_task_guest_ticks(const char *procfs_root, int pid, int tid, uint64_t *ticks)
{
	char buf[STAT_MAX];
	size_t len;
	int err;

	if (pid <= 0 || tid <= 0 || !ticks)
		return -EINVAL;
	err = proc_read_file(procfs_root, pid, tid, "stat", buf, sizeof(buf), &len);
	if (err)
		return err;
	return proc_parse_guest_ticks(buf, ticks);
}
