/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tap (or tun) devices a VM process holds open: where its guest's
 * network traffic crosses the host.  QEMU (and a vhost worker on its
 * behalf) reads and writes them through file descriptors on /dev/net/tun,
 * whose fdinfo names the device ("iff:\ttap0").
 */
#ifndef IOTRACE_VM_TAPS_H
#define IOTRACE_VM_TAPS_H

#include <stddef.h>
#include <stdint.h>

#define VM_TAP_NAME_MAX 16 /* IFNAMSIZ */

/*
 * Names of the devices attached to pid's /dev/net/tun descriptors, under
 * procfs_root (NULL: /proc), each once, at most `max`.  Returns how many
 * were found (a multiqueue device open on several descriptors counts once),
 * or -errno (-ENOENT: the process is gone).  *more is set when there were
 * more than max.
 */
int vm_taps_of(const char *procfs_root, int pid, char (*names)[VM_TAP_NAME_MAX], int max,
	       int *more);

/* The inode number of pid's network namespace.  0 or -errno. */
int proc_netns_ino(const char *procfs_root, int pid, uint64_t *ino);

#endif
