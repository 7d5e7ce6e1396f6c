/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The role of a thread in a QEMU (or other KVM VMM) process, told from its
 * comm and from whether it was seen in a KVM tracepoint.
 *
 * QEMU names its threads when started with -name ...,debug-threads=on:
 * "CPU <n>/<accel>" for vCPUs, with the accelerator's name in letters
 * ("CPU 0/KVM"; "CPU 0/TCG" under TCG, whose vCPUs never enter KVM and so
 * are known by name only; HVF, WHPX, NVMM elsewhere), "IO <id>" for
 * iothreads, "worker" for its thread pool; the kernel adds
 * "vhost-<owner pid>" (vhost workers, threads of the VMM process since
 * Linux 6.4) and "iou-wrk-<tid>" / "iou-sqp-<tid>" (io_uring workers and
 * SQ-poll threads).
 *
 * A comm is attacker-controlled: any process can rename its own threads
 * (prctl(PR_SET_NAME), /proc/self/task/<tid>/comm) to anything of up to 15
 * bytes.  The role is a label for reports, never a security or attribution
 * decision: cycles and I/O are charged by tgid and tid whatever the label.
 */
#ifndef IOTRACE_VM_ROLES_H
#define IOTRACE_VM_ROLES_H

#include <stdbool.h>

enum vm_role {
	VM_ROLE_VCPU,
	VM_ROLE_IOTHREAD,
	VM_ROLE_WORKER,
	VM_ROLE_VHOST,
	VM_ROLE_IO_URING,
	VM_ROLE_MAIN,
	VM_ROLE_OTHER,
	VM_ROLE_MAX,
};

/*
 * Classify a thread.  comm is as in /proc/PID/task/TID/comm without the
 * newline (NULL is taken as ""); it is at most 15 bytes, so QEMU's vCPU name
 * may arrive truncated ("CPU 1234567/KVM" is the longest that fits whole): a
 * comm of exactly 15 bytes that is "CPU <n>" followed by nothing, "/", or "/"
 * and letters is taken as a cut vCPU name, a shorter one needs "/" and at
 * least one letter.
 * Precedence: seen_in_kvm (a thread that entered the guest is a vCPU whatever
 * its name), then the name rules, then tid == tgid (the main loop), then
 * other.
 */
enum vm_role vm_role_classify(const char *comm, int tid, int tgid, bool seen_in_kvm);

/*
 * "vcpu", "iothread", "worker", "vhost", "io_uring", "main", "other".  Out
 * of range values give "other", so the set of labels stays closed.
 */
const char *vm_role_name(enum vm_role r);

#endif
