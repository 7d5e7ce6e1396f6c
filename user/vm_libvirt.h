/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * VM names from libvirt: a cache of libvirt's active QEMU domains, keyed by
 * the pid of their QEMU process.  user/vm_namer.c puts it first in the
 * naming chain (then QEMU's command line, then kvm-<pid>; include/vm_names.h)
 * and bounds its calls in time.
 *
 * libvirt is asked read-only through "qemu:///system", and only when
 * libvirtd's read-only socket (/run/libvirt/libvirt-sock-ro) exists, so that
 * iotrace never starts a daemon nor waits for one that is not there (a
 * systemd socket unit that starts libvirtd on connect is the admin's choice).
 * A domain's pid comes from libvirt's pid file <run_dir>/<name>.pid (libvirt
 * 9.0: the pid in decimal, no newline, mode 0644).  When libvirt cannot be
 * asked (not running, or iotrace run without root and libvirt's polkit auth
 * refuses it) names come from QEMU's command line, which for a libvirt
 * domain holds the same name and UUID.
 *
 * libvirt's calls block until libvirtd answers, with no timeout (libvirt's
 * keepalive needs an event loop): a stopped or hung libvirtd blocks a lookup
 * that refreshes the cache for as long as it is stuck, so lookups belong
 * off any per-event path (once per new VM; a dedicated thread if that
 * matters).  A libvirtd that dies mid-call raises no SIGPIPE in the caller:
 * it is blocked around libvirt's calls.  libvirt never prints: a
 * process-wide error handler that drops its messages is installed by
 * vm_libvirt_open() (virSetErrorFunc).  Not thread-safe: one handle, one
 * thread.
 *
 * Built without libvirt (no HAVE_LIBVIRT), the same calls exist and lookups
 * return -ENOTSUP.
 */
#ifndef IOTRACE_VM_LIBVIRT_H
#define IOTRACE_VM_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "vm_names.h"

#define VM_LIBVIRT_RUN_DIR "/run/libvirt/qemu"
#define VM_LIBVIRT_SOCK_RO "/run/libvirt/libvirt-sock-ro"
#define VM_LIBVIRT_URI "qemu:///system"
/* Domains cached at most (a refresh keeps the first ones libvirt lists). */
#define VM_LIBVIRT_MAX_DOMAINS 4096

struct vm_libvirt;

/* Whether this build has libvirt support (HAVE_LIBVIRT). */
bool vm_libvirt_built(void);

/*
 * A cache reading pid files from run_dir (NULL means VM_LIBVIRT_RUN_DIR).
 * Does not connect: the first lookup does.  Returns the handle, or NULL with
 * errno ENOMEM or ENAMETOOLONG (run_dir longer than PATH_MAX - 1).
 */
struct vm_libvirt *vm_libvirt_open(const char *run_dir);

/*
 * Name and UUID of the active domain whose QEMU process has this pid.  A pid
 * not in the cache refreshes it (connecting, or reconnecting after libvirtd
 * restarted), at most once a second; a cached pid is checked against its
 * process start time (include/proc_ident.h), so a reused pid never inherits
 * a stopped domain's name.  Writes NUL-terminated name and uuid (lower-case
 * 36-character form).  Returns 0;
 *   -ENOENT        libvirt answered and no active domain has this pid;
 *   -EAGAIN        not in the cache, and the cache was refreshed less than a
 *                  second ago (ask again later for a domain just started);
 *   -ENOTCONN      libvirtd is not running or does not answer, or refused
 *                  us for another reason (with polkit auth, non-root callers
 *                  need the system D-Bus and polkit: without them libvirt
 *                  gives an "internal error");
 *   -EACCES        libvirtd denied read-only access (auth or ACL);
 *   -ENOTSUP       built without libvirt;
 *   -EINVAL        lv NULL, pid <= 0, NULL buffers or sizes 0;
 *   -ENAMETOOLONG  name or uuid does not fit (uuid needs VM_UUID_MAX);
 *   -ENOMEM.
 * On error name and uuid are "".
 */
int vm_libvirt_lookup(struct vm_libvirt *lv, int pid, char *name, size_t name_size, char *uuid,
		      size_t uuid_size);

/* Disconnect and free.  NULL is a no-op. */
void vm_libvirt_close(struct vm_libvirt *lv);

#endif
