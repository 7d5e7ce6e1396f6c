/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A container's mounts as its block I/O sees them, for `iotrace advise`'s
 * storage.writable_layer (user/advice_ct.h): from /proc/PID/mountinfo,
 * each mount's device (major:minor), file system type and mount point;
 * for an overlayfs root, the device of its upper directory (the writable
 * layer: `upperdir=` in the super options, stat'ed), so that a block
 * device in iotrace's per-device split can be named "writable layer" or
 * "volume <mount point>".
 *
 * The upper directory's path is the one the mounter gave: docker and
 * podman mount from the host's namespace, so it is stat'ed there first,
 * then under /proc/PID/root (a mount made inside the container's own mount
 * namespace).  A root that is not overlayfs is its own writable layer.
 * Pseudo file systems (proc, sysfs, tmpfs, cgroup, ...) hold no block
 * I/O and are left out, as are the runtime's per-container files bind
 * mounted from its state directory (/etc/hosts, /etc/hostname,
 * /etc/resolv.conf, /run/.containerenv): they are not volumes.
 *
 * Parsing is separate from /proc (tests/unit/test_advice_ct.c).
 */
#ifndef IOTRACE_CT_MOUNTS_H
#define IOTRACE_CT_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_MOUNTS_MAX 32

struct ct_mount {
	uint32_t major, minor; /* the block device written to: mountinfo's, or the upper dir's */
	char mountpoint[256];
	char fstype[32];
	char source[128];
};

struct ct_mounts {
	bool read;
	bool layer_known; /* the writable layer's device is known */
	uint32_t layer_major, layer_minor;
	char layer_fstype[32]; /* the root's type: "overlay", "ext4", ... */
	char layer_upper[256]; /* overlay: the upper dir; "" otherwise */
	char layer_error[160]; /* when not known: why */
	struct ct_mount vol[CT_MOUNTS_MAX]; /* mounts other than the root that may hold block I/O */
	size_t nvol;
	size_t nvol_more; /* beyond CT_MOUNTS_MAX */
};

/* stat()'s device of path as major:minor; 0 or -errno. */
typedef int (*ct_dev_of_fn)(void *ctx, const char *path, uint32_t *major, uint32_t *minor);

/*
 * Parse a mountinfo text into out.  dev_of resolves an overlay root's
 * upper directory (NULL: not resolved, layer unknown).  0, or -EBADMSG
 * when no root mount was found.
 */
int ct_mountinfo_parse(const char *text, struct ct_mounts *out, ct_dev_of_fn dev_of, void *ctx);

/* Read /proc/PID/mountinfo.  0 or -errno (out->read false). */
int ct_mounts_read(int pid, struct ct_mounts *out);

/* The volume on device major:minor (first of them), or NULL. */
const struct ct_mount *ct_mounts_volume_on(const struct ct_mounts *m, uint32_t major,
					   uint32_t minor);

#endif
