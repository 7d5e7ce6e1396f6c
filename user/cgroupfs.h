/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The cgroup2 hierarchy as seen from user space: where it is mounted, and
 * the mapping between cgroup ids (the inode number of a cgroup directory,
 * which is what bpf_get_current_cgroup_id() returns) and paths.
 */
#ifndef IOTRACE_CGROUPFS_H
#define IOTRACE_CGROUPFS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Find the cgroup2 mount point in a mounts table (normally /proc/mounts).
 * Returns 0 and fills buf, -ENOENT when no cgroup2 is mounted, -ENAMETOOLONG
 * when buf is too small, or another -errno when the file can't be read.
 */
int cgfs_find_mount(const char *mounts_file, char *buf, size_t len);

/*
 * Turn a user-supplied cgroup path into the path relative to the mount
 * ("/" for the root, "/a/b" otherwise, no trailing slash).  Accepts either a
 * path already relative to the mount or an absolute path inside the mount.
 * Returns 0, or -EINVAL for an empty path, a path with "..", or an absolute
 * path under the mount's parent that is not inside it.
 */
int cgfs_normalize(const char *mount, const char *in, char *out, size_t len);

/* The id of the cgroup at `rel` (relative to mount). 0 or -errno. */
int cgfs_path_to_id(const char *mount, const char *rel, uint64_t *id);

/*
 * The cgroup2 path of a process from the "0::PATH" line of a
 * /proc/PID/cgroup file's contents.  0, -ENOENT when there is no such line
 * (a v1-only host), -ENAMETOOLONG when out is too small.
 */
int cgfs_parse_proc_cgroup(const char *contents, char *out, size_t len);

/* Read <procfs_root or /proc>/<pid>/cgroup and parse it as above. */
int cgfs_proc_cgroup(const char *procfs_root, int pid, char *out, size_t len);

/*
 * A bounded id -> path cache, filled by walking the hierarchy.  Cgroups that
 * disappear keep their last known path until cgfs_cache_forget(), or until
 * a walk finds no room for a live cgroup: then every entry that walk did
 * not see is dropped (cgfs_cache_dropped()) and the tree walked again.
 */
struct cgfs_cache;

struct cgfs_cache *cgfs_cache_new(const char *mount, size_t max_entries);
void cgfs_cache_free(struct cgfs_cache *c);

/*
 * Walk the hierarchy and record every cgroup.  Returns the number of
 * cgroups seen, or -errno.  Directories beyond the capacity are counted in
 * cgfs_cache_overflow(), never silently ignored.
 */
int cgfs_cache_refresh(struct cgfs_cache *c);

/* 0 and the path relative to the mount, or -ENOENT when unknown. */
int cgfs_cache_lookup(struct cgfs_cache *c, uint64_t id, char *path, size_t len);

/* Drop an id, e.g. once a dead cgroup's summary has been written. */
void cgfs_cache_forget(struct cgfs_cache *c, uint64_t id);

/* How many cgroups the last refresh could not record for lack of room. */
size_t cgfs_cache_overflow(const struct cgfs_cache *c);

/*
 * How many refreshes walked the whole tree so far: a cgroup that existed
 * before a walk began and that the walk did not record (with no overflow)
 * is gone.
 */
uint64_t cgfs_cache_walks(const struct cgfs_cache *c);

/* Entries of removed cgroups dropped to make room, so far. */
uint64_t cgfs_cache_dropped(const struct cgfs_cache *c);

#endif
