/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * VM names for `iotrace record`, asked of libvirt without ever waiting on
 * it for long.  libvirt's calls block until libvirtd answers, and a
 * libvirtd that is stopped (SIGSTOP, a debugger, a hung host) never does:
 * a tracer attached to a production host must not hang with it.  So the
 * libvirt lookups run on a thread of their own, and a lookup that takes
 * longer than the timeout is given up: the VM is named from QEMU's command
 * line instead (include/vm_names.h), and while that lookup is still stuck,
 * the next ones are not even tried.
 */
#ifndef IOTRACE_VM_NAMER_H
#define IOTRACE_VM_NAMER_H

#include "vm_names.h"

struct vm_namer;

/*
 * A namer over libvirt's run_dir (NULL: the default); timeout_ms bounds each
 * libvirt lookup.  NULL with errno set when out of memory.
 */
struct vm_namer *vm_namer_open(const char *run_dir, unsigned int timeout_ms);

/*
 * vm_name_resolve() with libvirt, bounded by the timeout, as the first
 * source.  *stuck (may be NULL) is set when libvirt did not answer in time.
 */
int vm_namer_resolve(struct vm_namer *n, int pid, struct vm_name *out, int *stuck);

/* Stop the thread and free; a thread stuck in libvirt is left to exit with the process. */
void vm_namer_close(struct vm_namer *n);

#endif
