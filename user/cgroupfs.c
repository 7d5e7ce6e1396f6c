// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cgroup2 hierarchy from user space: the mount point, path
 * normalisation, and a bounded id -> path cache filled by walking the tree.
 *
 * A cgroup's id is the inode number of its directory on cgroup2, so the
 * cache works unchanged on any directory tree, which is how it is tested.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/openat2.h>) && defined(SYS_openat2)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif
#endif

#include "cgroupfs.h"

/* Mount points in /proc/mounts escape ' ', '\t', '\n' and '\\' as \ooo. */
static int unescape_mount(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	while (*s) {
		char ch = *s;

		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			ch = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			s++;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		buf[o++] = ch;
	}
	if (o >= len)
		return -ENAMETOOLONG;
	buf[o] = '\0';
	return 0;
}

int cgfs_find_mount(const char *mounts_file, char *buf, size_t len)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;
	FILE *f;

	if (!buf || !len)
		return -EINVAL;
	f = fopen(mounts_file, "re");
	if (!f)
		return -errno;
	for (;;) {
		char *save = NULL, *mnt, *type;

		errno = 0;
		if (getline(&line, &cap, f) == -1) {
			/* EOF, or a read error that ferror() tells apart */
			if (ferror(f))
				ret = errno ? -errno : -EIO;
			break;
		}
		if (!strtok_r(line, " \t\n", &save))
			continue;
		mnt = strtok_r(NULL, " \t\n", &save);
		type = strtok_r(NULL, " \t\n", &save);
		if (!mnt || !type || strcmp(type, "cgroup2"))
			continue;
		ret = unescape_mount(mnt, buf, len);
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/* One path component, not NUL-terminated; "." components are skipped. */
struct comp {
	const char *s;
	size_t n;
};

static bool next_comp(const char **p, struct comp *c)
{
	const char *s = *p;

	for (;;) {
		while (*s == '/')
			s++;
		if (!*s) {
			*p = s;
			return false;
		}
		c->s = s;
		while (*s && *s != '/')
			s++;
		c->n = (size_t)(s - c->s);
		if (c->n != 1 || c->s[0] != '.')
			break;
	}
	*p = s;
	return true;
}

static bool comp_same(struct comp a, struct comp b)
{
	return a.n == b.n && !memcmp(a.s, b.s, a.n);
}

int cgfs_normalize(const char *mount, const char *in, char *out, size_t len)
{
	const char *p;
	struct comp c;
	size_t skip = 0, o = 0;

	if (!in || !*in || !out || !len)
		return -EINVAL;

	for (p = in; next_comp(&p, &c);)
		if (c.n == 2 && c.s[0] == '.' && c.s[1] == '.')
			return -EINVAL;

	/*
	 * An absolute path is inside the mount when the mount's components
	 * are a prefix of its components; "/sys/fs/cgroup/unifiedX" is not
	 * inside "/sys/fs/cgroup/unified".  A path beside the mount, under
	 * its parent, is a mistake (a v1 controller path on a hybrid host),
	 * not a cgroup named "/sys/fs/cgroup/...".
	 */
	if (in[0] == '/' && mount && *mount) {
		const char *mp = mount, *ip = in;
		struct comp mc, ic;
		size_t m = 0, k = 0;
		bool diverged = false;

		while (next_comp(&mp, &mc)) {
			m++;
			if (diverged)
				continue;
			if (next_comp(&ip, &ic) && comp_same(mc, ic))
				k++;
			else
				diverged = true;
		}
		if (k == m)
			skip = m;
		else if (m >= 2 && k >= m - 1)
			return -EINVAL;
	}

	for (p = in; next_comp(&p, &c);) {
		if (skip) {
			skip--;
			continue;
		}
		if (o + 1 + c.n + 1 > len)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, c.s, c.n);
		o += c.n;
	}
	if (!o) {
		if (len < 2)
			return -ENAMETOOLONG;
		out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}

int cgfs_path_to_id(const char *mount, const char *rel, uint64_t *id)
{
	char r[PATH_MAX], full[PATH_MAX];
	struct stat st;
	int ret;

	if (!mount || !*mount || !id)
		return -EINVAL;
	ret = cgfs_normalize(mount, rel, r, sizeof(r));
	if (ret)
		return ret;
	ret = snprintf(full, sizeof(full), "%s%s", mount, strcmp(r, "/") ? r : "");
	if (ret < 0 || (size_t)ret >= sizeof(full))
		return -ENAMETOOLONG;
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = (uint64_t)st.st_ino;
	return 0;
}

int cgfs_parse_proc_cgroup(const char *contents, char *out, size_t len)
{
	const char *line = contents, *end;
	size_t n;

	while (line && *line) {
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line) : strlen(line);
		if (n >= 3 && !strncmp(line, "0::", 3)) {
			n -= 3;
			if (n == 0 || line[3] != '/')
				return -ENOENT;
			if (n >= len)
				return -ENAMETOOLONG;
			memcpy(out, line + 3, n);
			out[n] = '\0';
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int cgfs_proc_cgroup(const char *procfs_root, int pid, char *out, size_t len)
{
	char path[PATH_MAX], buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/cgroup", procfs_root ? procfs_root : "/proc", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return cgfs_parse_proc_cgroup(buf, out, len);
}

/*
 * The cache: open addressing with linear probing, at most half full, and
 * backward-shift deletion so that no tombstones build up.  Id 0 marks a
 * free slot; no inode and no cgroup has number 0.
 */
struct cg_entry {
	uint64_t id;
	char *path;
	uint64_t walk; /* the walk that last recorded it (cgfs_cache.walks + 1 during it) */
};

struct cgfs_cache {
	char *mount;
	size_t max;
	size_t count;
	size_t mask;
	struct cg_entry *tab;
	size_t overflow;
	uint64_t walks; /* refreshes that walked the whole tree */
	uint64_t dropped; /* gone cgroups forgotten to make room */
};

static size_t slot_of(const struct cgfs_cache *c, uint64_t id)
{
	/* splitmix64 finaliser: inode numbers are often sequential */
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ULL;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebULL;
	id ^= id >> 31;
	return (size_t)id & c->mask;
}

static struct cg_entry *find_slot(const struct cgfs_cache *c, uint64_t id)
{
	size_t i = slot_of(c, id);

	while (c->tab[i].id && c->tab[i].id != id)
		i = (i + 1) & c->mask;
	return &c->tab[i];
}

struct cgfs_cache *cgfs_cache_new(const char *mount, size_t max_entries)
{
	struct cgfs_cache *c;
	size_t size = 8;

	if (!mount || !*mount || !max_entries) {
		errno = EINVAL;
		return NULL;
	}
	while (size / 2 < max_entries) {
		if (size > SIZE_MAX / 2 / sizeof(struct cg_entry)) {
			errno = ENOMEM;
			return NULL;
		}
		size *= 2;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->mount = strdup(mount);
	c->tab = calloc(size, sizeof(*c->tab));
	if (!c->mount || !c->tab) {
		free(c->mount);
		free(c->tab);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->max = max_entries;
	c->mask = size - 1;
	return c;
}

void cgfs_cache_free(struct cgfs_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i <= c->mask; i++)
		free(c->tab[i].path);
	free(c->tab);
	free(c->mount);
	free(c);
}

/* Record or update id -> path; a new id beyond capacity is counted. */
static int record(struct cgfs_cache *c, uint64_t id, const char *path)
{
	struct cg_entry *e;
	char *dup;

	if (!id)
		return 0;
	e = find_slot(c, id);
	if (e->id) {
		e->walk = c->walks + 1;
		/* known: a rename keeps the id, so take the new path */
		if (strcmp(e->path, path)) {
			dup = strdup(path);
			if (!dup)
				return -ENOMEM;
			free(e->path);
			e->path = dup;
		}
		return 0;
	}
	if (c->count >= c->max) {
		c->overflow++;
		return 0;
	}
	dup = strdup(path);
	if (!dup)
		return -ENOMEM;
	e->id = id;
	e->path = dup;
	e->walk = c->walks + 1;
	c->count++;
	return 0;
}

struct walk {
	struct cgfs_cache *c;
	int root;
	size_t seen;
	char path[PATH_MAX]; /* relative to the mount, "/" for the root */
};

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

#ifdef HAVE_OPENAT2
/* Set once openat2 turns out to be missing; the kernel won't grow it. */
static _Atomic bool no_openat2;
#endif

/*
 * Open a directory below the root without following symlinks on any
 * component: openat2 when the kernel has it, else O_NOFOLLOW on the last
 * component (cgroupfs has no symlinks at all; this is for other trees).
 */
static int open_below(struct walk *w, const char *rel)
{
	if (!*rel)
		return openat(w->root, ".", DIR_FLAGS);
#ifdef HAVE_OPENAT2
	if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		struct open_how how;
		long fd;

		memset(&how, 0, sizeof(how));
		how.flags = DIR_FLAGS;
		how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
		fd = syscall(SYS_openat2, w->root, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM && errno != E2BIG)
			return -1;
		/* old kernel, seccomp, or valgrind */
		atomic_store_explicit(&no_openat2, true, memory_order_relaxed);
	}
#endif
	return openat(w->root, rel, DIR_FLAGS);
}

/* Errors of a walk that mean "this part of the tree is gone", not failure. */
static bool vanished(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ELOOP || err == EACCES || err == EXDEV;
}

/* Append name + NUL to a growable buffer. */
static int push_name(char **buf, size_t *n, size_t *cap, const char *name, size_t len)
{
	if (*n + len + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		char *nb;

		while (ncap < *n + len + 1)
			ncap *= 2;
		nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *n, name, len + 1);
	*n += len + 1;
	return 0;
}

/*
 * Record every subdirectory of w->path (of length plen), then descend into
 * each.  The directory is closed before descending, so the walk holds two
 * descriptors whatever the depth.
 */
static int walk_dir(struct walk *w, size_t plen)
{
	size_t base = plen == 1 ? 0 : plen; /* where "/<child>" goes */
	char *names = NULL;
	size_t nn = 0, ncap = 0;
	struct dirent *de;
	int fd, ret = 0;
	DIR *d;

	fd = open_below(w, w->path + 1);
	if (fd < 0)
		return vanished(errno) ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}

	for (;;) {
		struct stat st;
		size_t n;

		errno = 0;
		de = readdir(d);
		if (!de) {
			/* a directory removed while read reports ENOENT */
			if (errno && errno != ENOENT)
				ret = -errno;
			break;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			if (errno == ENOENT)
				continue;
			ret = -errno;
			break;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		w->seen++;
		n = strlen(de->d_name);
		if (base + 1 + n >= sizeof(w->path)) {
			w->c->overflow++; /* can't be named; nor can its subtree */
			continue;
		}
		w->path[base] = '/';
		memcpy(w->path + base + 1, de->d_name, n + 1);
		ret = record(w->c, (uint64_t)st.st_ino, w->path);
		w->path[plen] = '\0';
		if (ret)
			break;
		ret = push_name(&names, &nn, &ncap, de->d_name, n);
		if (ret)
			break;
	}
	closedir(d);

	for (size_t off = 0; !ret && off < nn;) {
		size_t n = strlen(names + off);

		w->path[base] = '/';
		memcpy(w->path + base + 1, names + off, n + 1);
		ret = walk_dir(w, base + 1 + n);
		w->path[plen] = '\0';
		off += n + 1;
	}
	free(names);
	return ret;
}

static int walk_tree(struct cgfs_cache *c)
{
	struct walk *w;
	struct stat st;
	int ret;

	c->overflow = 0;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->c = c;
	w->seen = 0;
	w->path[0] = '/';
	w->path[1] = '\0';
	w->root = open(c->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->root < 0) {
		ret = -errno;
		free(w);
		return ret;
	}
	if (fstat(w->root, &st)) {
		ret = -errno;
	} else {
		w->seen = 1;
		ret = record(c, (uint64_t)st.st_ino, "/");
		if (!ret)
			ret = walk_dir(w, 1);
	}
	if (!ret) {
		c->walks++;
		ret = w->seen > INT_MAX ? INT_MAX : (int)w->seen;
	}
	close(w->root);
	free(w);
	return ret;
}

/*
 * After a whole walk that had no room for some cgroups: forget the entries
 * that walk did not see (cgroups removed since, whose names nobody asked
 * for in time; a named workload keeps its own copy).  Returns how many.
 */
static size_t drop_unseen(struct cgfs_cache *c)
{
	uint64_t *ids = malloc(c->count * sizeof(*ids));
	size_t n = 0;

	if (!ids)
		return 0;
	for (size_t i = 0; i <= c->mask; i++)
		if (c->tab[i].id && c->tab[i].walk != c->walks)
			ids[n++] = c->tab[i].id;
	for (size_t i = 0; i < n; i++)
		cgfs_cache_forget(c, ids[i]);
	free(ids);
	c->dropped += n;
	return n;
}

int cgfs_cache_refresh(struct cgfs_cache *c)
{
	int ret;

	if (!c)
		return -EINVAL;
	ret = walk_tree(c);
	/*
	 * Removed cgroups keep their room until it is needed: then they go,
	 * and a second walk records the live ones the first had no room for.
	 */
	if (ret >= 0 && c->overflow && drop_unseen(c))
		ret = walk_tree(c);
	return ret;
}

int cgfs_cache_lookup(struct cgfs_cache *c, uint64_t id, char *path, size_t len)
{
	struct cg_entry *e;
	size_t n;

	if (!c || !id)
		return -ENOENT;
	e = find_slot(c, id);
	if (!e->id)
		return -ENOENT;
	n = strlen(e->path);
	if (!path || n + 1 > len)
		return -ENAMETOOLONG;
	memcpy(path, e->path, n + 1);
	return 0;
}

void cgfs_cache_forget(struct cgfs_cache *c, uint64_t id)
{
	struct cg_entry *e;
	size_t i, j;

	if (!c || !id)
		return;
	e = find_slot(c, id);
	if (!e->id)
		return;
	free(e->path);
	i = (size_t)(e - c->tab);
	/* shift back the entries of the probe run that would lose their way */
	for (j = (i + 1) & c->mask; c->tab[j].id; j = (j + 1) & c->mask) {
		size_t k = slot_of(c, c->tab[j].id);
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);

		if (!stays) {
			c->tab[i] = c->tab[j];
			i = j;
		}
	}
	c->tab[i].id = 0;
	c->tab[i].path = NULL;
	c->count--;
}

size_t cgfs_cache_overflow(const struct cgfs_cache *c)
{
	return c ? c->overflow : 0;
}

uint64_t cgfs_cache_walks(const struct cgfs_cache *c)
{
	return c ? c->walks : 0;
}

uint64_t cgfs_cache_dropped(const struct cgfs_cache *c)
{
	return c ? c->dropped : 0;
}
