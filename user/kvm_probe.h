/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_KVM_PROBE_H
#define IOTRACE_KVM_PROBE_H

#include <stddef.h>

/*
 * Run a tiny KVM guest in the calling thread that writes a port n times and
 * halts.  0 with *io_exits = the exits that reached user space (n when all
 * went well), or -errno with err saying what failed.
 */
int kvm_probe_run(unsigned int n, unsigned int *io_exits, char *err, size_t errlen);

#endif
