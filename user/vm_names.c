// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VM names without libvirt: QEMU's -name and -uuid from /proc/PID/cmdline,
 * libvirt pid files, the kvm-<pid> fallback, and the order of the sources.
 * See include/vm_names.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm_names.h"

#define UUID_STR_LEN (VM_UUID_MAX - 1)
/* "2147483647\n" and then some: a bigger pid file is not libvirt's */
#define PIDFILE_MAX 32

/* One argument of a cmdline buffer: [p, p + len), with no NUL inside. */
struct arg {
	const char *p;
	size_t len;
};

struct arg_iter {
	const char *buf;
	size_t len;
	size_t pos;
};

static bool arg_next(struct arg_iter *it, struct arg *a)
{
	const char *nul;

	if (it->pos >= it->len)
		return false;
	a->p = it->buf + it->pos;
	nul = memchr(a->p, '\0', it->len - it->pos);
	a->len = nul ? (size_t)(nul - a->p) : it->len - it->pos;
	/* Past the NUL, or at len when the last argument has none. */
	it->pos += a->len + (nul ? 1 : 0);
	return true;
}

static bool arg_is(const struct arg *a, const char *s)
{
	size_t n = strlen(s);

	return a->len == n && memcmp(a->p, s, n) == 0;
}

/* QEMU takes "--opt" for "-opt", and nothing else ("-opt=value" is refused). */
static bool arg_is_opt(const struct arg *a, const char *opt)
{
	struct arg rest;

	if (a->len < 2 || a->p[0] != '-')
		return false;
	rest.p = a->p + 1;
	rest.len = a->len - 1;
	if (rest.p[0] == '-') {
		rest.p++;
		rest.len--;
	}
	return arg_is(&rest, opt);
}

/*
 * Walk the options that matter here, -name and -uuid, and hand each value of
 * opt to fn.  Both are walked whatever opt is, so that "-uuid -name" is read
 * as QEMU reads it: "-name" there is the value of -uuid.  Returns -EINVAL
 * when opt is the last argument (no value), else the first non-zero return
 * of fn, else 0.
 */
static int walk_opt(const char *buf, size_t len, const char *opt,
		    int (*fn)(const struct arg *value, void *ctx), void *ctx)
{
	struct arg_iter it = { .buf = buf, .len = len };
	struct arg a, value;
	int err;

	if (!arg_next(&it, &a)) /* argv[0] */
		return 0;
	while (arg_next(&it, &a)) {
		bool want = arg_is_opt(&a, opt);

		if (!want && !arg_is_opt(&a, "name") && !arg_is_opt(&a, "uuid"))
			continue;
		if (!arg_next(&it, &value))
			return want ? -EINVAL : 0;
		if (!want)
			continue;
		err = fn(&value, ctx);
		if (err)
			return err;
	}
	return 0;
}

/*
 * End of a QemuOpts value starting at v[i]: the first ',' not doubled, or
 * end.  Same as QEMU's get_opt_value(): ",," is a literal comma, so ",,,"
 * is a comma followed by the separator.
 */
static size_t opt_value_end(const char *v, size_t end, size_t i)
{
	while (i < end) {
		if (v[i] != ',')
			i++;
		else if (i + 1 < end && v[i + 1] == ',')
			i += 2;
		else
			break;
	}
	return i;
}

struct guest_span {
	bool found;
	const char *p; /* raw value, ",," not yet undone */
	size_t len;
};

/*
 * One -name value, split as QEMU's opts_do_parse() does with implied option
 * "guest": each pair is key=value; a first pair whose first '=' or ','
 * is not '=' is the value of guest; a later pair without '=' is a flag,
 * ending at the first ',' (doubled or not).  The last guest wins.
 */
static int scan_name_value(const struct arg *value, void *ctx)
{
	struct guest_span *g = ctx;
	const char *v = value->p;
	size_t end = value->len, i = 0;
	bool first = true;

	while (i < end) {
		size_t k = i, val;

		while (k < end && v[k] != '=' && v[k] != ',')
			k++;
		if (k == end || v[k] == ',') {
			if (!first) {
				/* a flag: "debug-threads" for debug-threads=on */
				i = k < end ? k + 1 : k;
				continue;
			}
			val = i;
		} else if (k - i == 5 && memcmp(v + i, "guest", 5) == 0) {
			val = k + 1;
		} else {
			/* another key: skip its value */
			i = opt_value_end(v, end, k + 1);
			i = i < end ? i + 1 : i;
			first = false;
			continue;
		}
		i = opt_value_end(v, end, val);
		g->found = true;
		g->p = v + val;
		g->len = i - val;
		i = i < end ? i + 1 : i;
		first = false;
	}
	return 0;
}

int vm_cmdline_name(const char *buf, size_t len, char *name, size_t size)
{
	struct guest_span g = { 0 };
	size_t i, n = 0;
	int err;

	if (!name || size == 0)
		return -EINVAL;
	name[0] = '\0';
	if (!buf)
		return -EINVAL;
	err = walk_opt(buf, len, "name", scan_name_value, &g);
	if (err)
		return err;
	if (!g.found || g.len == 0)
		return -ENOENT;
	/* Undo ",,", and count before writing: a name is whole or absent. */
	for (i = 0; i < g.len; i++, n++) {
		if (g.p[i] == ',')
			i++;
	}
	if (n >= size)
		return -ENAMETOOLONG;
	for (i = 0, n = 0; i < g.len; i++) {
		name[n++] = g.p[i];
		if (g.p[i] == ',')
			i++;
	}
	name[n] = '\0';
	return 0;
}

static int take_last(const struct arg *value, void *ctx)
{
	*(struct arg *)ctx = *value;
	return 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int vm_cmdline_uuid(const char *buf, size_t len, char *uuid, size_t size)
{
	struct arg last = { 0 };
	size_t i;
	int err;

	if (!uuid || size == 0)
		return -EINVAL;
	uuid[0] = '\0';
	if (!buf)
		return -EINVAL;
	err = walk_opt(buf, len, "uuid", take_last, &last);
	if (err)
		return err;
	if (!last.p)
		return -ENOENT;
	if (last.len != UUID_STR_LEN)
		return -EINVAL;
	for (i = 0; i < UUID_STR_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? last.p[i] != '-' : !is_hex(last.p[i]))
			return -EINVAL;
	}
	if (size < VM_UUID_MAX)
		return -ENAMETOOLONG;
	/* libvirt prints UUIDs in lower case: keep one spelling per VM. */
	for (i = 0; i < UUID_STR_LEN; i++) {
		char c = last.p[i];

		uuid[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
	}
	uuid[UUID_STR_LEN] = '\0';
	return 0;
}

/*
 * Read at most size bytes of a file into buf; *truncated says whether more
 * followed.  A /proc file whose task went away gives ENOENT on open or ESRCH
 * on read: both become -ENOENT.
 */
static int read_bounded(const char *path, char *buf, size_t size, size_t *len, bool *truncated)
{
	size_t n = 0;
	ssize_t r;
	char extra;
	int fd, err = 0;

	*truncated = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	for (;;) {
		/* Once buf is full, one more byte tells whether that was all. */
		if (n < size)
			r = read(fd, buf + n, size - n);
		else
			r = read(fd, &extra, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno == ESRCH ? -ENOENT : -errno;
			break;
		}
		if (r == 0)
			break;
		if (n == size) {
			*truncated = true;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return err;
}

int vm_cmdline_read(const char *procfs_root, int pid, char *buf, size_t size, size_t *len)
{
	char path[PATH_MAX];
	bool truncated;
	size_t n;
	int err;

	if (pid <= 0 || !buf || size == 0 || !len)
		return -EINVAL;
	*len = 0;
	err = snprintf(path, sizeof(path), "%s/%d/cmdline", procfs_root ? procfs_root : "/proc",
		       pid);
	if (err < 0 || (size_t)err >= sizeof(path))
		return -ENAMETOOLONG;
	err = read_bounded(path, buf, size, &n, &truncated);
	if (err)
		return err;
	if (truncated) {
		const char *nul = NULL;

		for (size_t i = n; i > 0; i--) {
			if (buf[i - 1] == '\0') {
				nul = buf + i - 1;
				break;
			}
		}
		if (!nul)
			return -E2BIG;
		n = (size_t)(nul - buf) + 1;
	}
	*len = n;
	return 0;
}

int vm_pidfile_parse(const char *buf, size_t len, int *pid)
{
	long long v = 0;
	size_t i;

	if (!buf || !pid)
		return -EINVAL;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		v = v * 10 + (buf[i] - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*pid = (int)v;
	return 0;
}

int vm_pidfile_read(const char *run_dir, const char *name, int *pid)
{
	char path[PATH_MAX], buf[PIDFILE_MAX];
	bool truncated;
	size_t n;
	int err;

	if (!run_dir || !name || !pid)
		return -EINVAL;
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	err = snprintf(path, sizeof(path), "%s/%s.pid", run_dir, name);
	if (err < 0 || (size_t)err >= sizeof(path))
		return -ENAMETOOLONG;
	err = read_bounded(path, buf, sizeof(buf), &n, &truncated);
	if (err)
		return err;
	if (truncated)
		return -EINVAL;
	return vm_pidfile_parse(buf, n, pid);
}

int vm_name_fallback(int pid, char *name, size_t size)
{
	int n;

	if (pid <= 0 || !name || size == 0)
		return -EINVAL;
	n = snprintf(name, size, "kvm-%d", pid);
	if (n < 0 || (size_t)n >= size) {
		name[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

const char *vm_name_source_str(enum vm_name_source src)
{
	switch (src) {
	case VM_NAME_SRC_LIBVIRT:
		return "libvirt";
	case VM_NAME_SRC_CMDLINE:
		return "cmdline";
	default:
		return "pid";
	}
}

int vm_name_resolve(const char *procfs_root, int pid, vm_name_lookup_fn lookup, void *ctx,
		    struct vm_name *out)
{
	char *cmdline;
	size_t len;

	if (pid <= 0 || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (lookup &&
	    !lookup(ctx, pid, out->name, sizeof(out->name), out->uuid, sizeof(out->uuid)) &&
	    out->name[0] && memchr(out->name, '\0', sizeof(out->name)) &&
	    memchr(out->uuid, '\0', sizeof(out->uuid))) {
		out->source = VM_NAME_SRC_LIBVIRT;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	/* Heap, not stack: this may run deep in a caller's stack. */
	cmdline = malloc(VM_CMDLINE_MAX);
	if (cmdline && !vm_cmdline_read(procfs_root, pid, cmdline, VM_CMDLINE_MAX, &len)) {
		vm_cmdline_uuid(cmdline, len, out->uuid, sizeof(out->uuid));
		if (!vm_cmdline_name(cmdline, len, out->name, sizeof(out->name))) {
			free(cmdline);
			out->source = VM_NAME_SRC_CMDLINE;
			return 0;
		}
	}
	free(cmdline);
	/* "kvm-2147483647" always fits in VM_NAME_MAX. */
	vm_name_fallback(pid, out->name, sizeof(out->name));
	out->source = VM_NAME_SRC_PID;
	return 0;
}
