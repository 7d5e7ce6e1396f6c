/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Process identity that survives pid reuse.
 *
 * A pid alone does not name a process: once it exits its pid is handed to a
 * new one.  The pair (pid, start time) does, the start time being field 22
 * of /proc/PID/stat, in clock ticks since boot.  Caches keyed by pid store
 * the pair and drop the entry when the pair changes; two readings are the
 * same process only when both halves match, so a reused pid is a different
 * process and is never merged with the old one.
 */
#ifndef IOTRACE_PROC_IDENT_H
#define IOTRACE_PROC_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc_ident {
	int pid;
	uint64_t start_ticks; /* /proc/PID/stat field 22 */
};

/*
 * Parse one /proc/PID/stat line ("pid (comm) state ppid ... starttime ...").
 * comm may hold spaces and parentheses, so fields are counted from the last
 * ')'.  Returns 0, or -EINVAL for a line that is not a stat line: missing or
 * malformed pid (must be > 0), no "(...)", fewer than 22 fields, or a start
 * time that is not a plain unsigned decimal fitting in 64 bits.
 */
int proc_ident_parse_stat(const char *stat_line, struct proc_ident *out);

/*
 * Read <procfs_root>/<pid>/stat (procfs_root NULL means "/proc").  Returns 0,
 * -ENOENT when the process is gone (no such entry, or it exited while being
 * read), -EINVAL for a bad pid or a stat that does not parse or names another
 * pid, -ENAMETOOLONG, or another -errno from open/read.
 */
int proc_ident_read(const char *procfs_root, int pid, struct proc_ident *out);

/*
 * Read the head of <procfs_root or /proc>/<pid>[/task/<tid>]/<leaf> (tid 0:
 * the process's own file) into buf (at most cap - 1 bytes, NUL-terminated;
 * *len gets the length).  An empty read means the task died between open
 * and read: -ENOENT, as a missing file.  0 or -errno.
 */
int proc_read_file(const char *procfs_root, int pid, int tid, const char *leaf, char *buf,
		   size_t cap, size_t *len);

/*
 * Same process: same pid and same start time.  Identities with pid <= 0
 * (unset, or failed reads) are never the same as anything.
 */
bool proc_ident_same(const struct proc_ident *a, const struct proc_ident *b);

/*
 * Read <procfs_root>/<pid>/task/<tid>/comm into buf without its trailing
 * newline (only that one newline: a comm may itself contain one).  A comm
 * longer than len - 1 is cut to fit.  Returns 0, -ENOENT when the thread is
 * gone, -EINVAL for bad arguments (pid or tid <= 0, len 0), -ENAMETOOLONG, or
 * another -errno.
 */
int proc_task_comm(const char *procfs_root, int pid, int tid, char *buf, size_t len);

/*
 * Field 43 of a stat line, guest_time: clock ticks (sysconf(_SC_CLK_TCK))
 * the task spent running a guest's vCPU.  The kernel samples it at the tick,
 * so it is exact only to a tick or so.  0, or -EINVAL for a line that is not
 * a stat line or has fewer than 43 fields.
 */
int proc_parse_guest_ticks(const char *stat_line, uint64_t *ticks);

/* Read guest_time from <procfs_root>/<pid>/task/<tid>/stat; errors as above. */
int proc_task_guest_ticks(const char *procfs_root, int pid, int tid, uint64_t *ticks);

#endif
