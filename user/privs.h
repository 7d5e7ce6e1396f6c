/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Dropping the capabilities iotrace needs only to load and attach.  Once
 * the programs are attached, what is left is reading and updating maps
 * through bpf(2), reading /proc and finding containers' veths with
 * rtnetlink; everything else goes, for good (permitted set too), so that
 * a bug in the long-running part cannot use it.
 */
#ifndef IOTRACE_PRIVS_H
#define IOTRACE_PRIVS_H

#include <stdint.h>

/*
 * The capabilities to keep, as a mask of (1 << CAP_x), from those held:
 *   CAP_BPF              bpf(2) on the maps (kernel.unprivileged_bpf_disabled)
 *   CAP_SYS_ADMIN        the same, but only where CAP_BPF is not held
 *                        (kernels before 5.8 have no CAP_BPF)
 *   CAP_NET_ADMIN        rtnetlink queries into containers' namespaces
 *   CAP_SYS_PTRACE       /proc/PID/fdinfo and ns/net of other users' processes
 *   CAP_DAC_READ_SEARCH  reading /proc and the cgroup tree whatever the modes
 */
uint64_t privs_keep_mask(uint64_t held);

/*
 * Reduce the effective, permitted and inheritable sets to
 * privs_keep_mask(effective).  0, or -errno (nothing changed then).
 * *dropped (may be NULL) gets the mask of capabilities given up.
 */
int privs_drop_after_attach(uint64_t *dropped);

#endif
