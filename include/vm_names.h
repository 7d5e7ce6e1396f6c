/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The name and UUID of a VM, given the pid of its VMM (QEMU) process.
 *
 * Sources, best first: libvirt (user/vm_libvirt.h: the domain whose pid file
 * holds this pid), then QEMU's own command line ("-name guest=NAME",
 * "-uuid UUID"), then "kvm-<pid>".  This file holds the parts that need no
 * libvirt: command line and pid file parsing, the fallback, and the order in
 * which the sources are tried.
 *
 * A name is whatever the VM's owner chose: any bytes but NUL, possibly
 * commas, quotes, newlines or invalid UTF-8.  It is a label for reports,
 * to be escaped by whoever prints it, never a path or an attribution key
 * (VMs are keyed by tgid and start time, see include/proc_ident.h).
 */
#ifndef IOTRACE_VM_NAMES_H
#define IOTRACE_VM_NAMES_H

#include <stddef.h>

/*
 * Room for a name and its NUL.  Neither QEMU nor libvirt limit a name's
 * length; longer ones are refused with -ENAMETOOLONG, never cut, so two
 * VMs whose names share a long prefix are never reported as one.
 */
#define VM_NAME_MAX 256
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and its NUL (libvirt's VIR_UUID_STRING_BUFLEN) */
#define VM_UUID_MAX 37
/*
 * The most of /proc/PID/cmdline read.  libvirt's QEMU command lines run to
 * 4-10 KiB and put -name and -uuid near the start.
 */
#define VM_CMDLINE_MAX 65536

/*
 * Find QEMU's guest name in a /proc/PID/cmdline buffer: len bytes of
 * NUL-separated arguments, the last one with or without its NUL; nothing
 * at or past buf[len] is read.  QEMU's rules are followed (softmmu/vl.c,
 * util/qemu-option.c):
 *  - the option is the argument "-name" or "--name"; its value is the next
 *    argument ("-name=X" is not an option to QEMU: it refuses to start);
 *  - the value is comma-separated key=value pairs, ",," standing for a
 *    literal comma; a first pair without "=" (before any ',') is the value
 *    of "guest": "-name vm1,debug-threads=on" names vm1;
 *  - several -name options merge, and the last guest= wins;
 *  - argv[0] is never an option.
 * The value of another option that is exactly "-name" (say "-append -name")
 * would be misread: telling it apart needs QEMU's whole option table.
 *
 * Writes the name, NUL-terminated, to name.  Returns 0; -ENOENT when no
 * -name gives a non-empty guest name; -EINVAL for NULL arguments, size 0,
 * or a -name that is the last argument (QEMU refuses to start without its
 * value); -ENAMETOOLONG when the name does not fit in size bytes with its
 * NUL.  On error name is "" (when size > 0).
 */
int vm_cmdline_name(const char *buf, size_t len, char *name, size_t size);

/*
 * Find "-uuid UUID" (or "--uuid UUID") in a cmdline buffer as above; the last
 * one wins, as in QEMU.  Writes it in lower case, NUL-terminated.  Returns 0;
 * -ENOENT when there is none; -EINVAL for bad arguments or a value that is
 * not 36 characters of 8-4-4-4-12 hex digits (QEMU refuses those too);
 * -ENAMETOOLONG when size < VM_UUID_MAX.  On error uuid is "" (size > 0).
 */
int vm_cmdline_uuid(const char *buf, size_t len, char *uuid, size_t size);

/*
 * Read <procfs_root>/<pid>/cmdline (procfs_root NULL means "/proc") into
 * buf, at most size bytes, setting *len.  When the command line is longer
 * than size, the partial last argument is dropped so that only whole
 * arguments are parsed (a name cut short is never reported).  *len is 0 for
 * kernel threads and zombies.  Returns 0; -ENOENT when the process is gone;
 * -EINVAL for pid <= 0, NULL arguments or size 0; -E2BIG when the first
 * argument alone does not fit; -ENAMETOOLONG for a too long path; or another
 * -errno from open/read.
 */
int vm_cmdline_read(const char *procfs_root, int pid, char *buf, size_t size, size_t *len);

/*
 * Parse a libvirt pid file (<run_dir>/<name>.pid): a decimal pid in
 * 1..INT_MAX, optionally followed by one newline, nothing else; len bytes of
 * buf, no NUL needed.  Returns 0, or -EINVAL.
 */
int vm_pidfile_parse(const char *buf, size_t len, int *pid);

/*
 * Read <run_dir>/<name>.pid and parse it as above.  name must be a file
 * name: not empty, ".", "..", nor containing '/' (libvirt forbids '/' in
 * domain names).  Returns 0; -ENOENT when there is no such file (domain not
 * running); -EINVAL for bad arguments or content; -ENAMETOOLONG; or another
 * -errno.
 */
int vm_pidfile_read(const char *run_dir, const char *name, int *pid);

/*
 * The last-resort name "kvm-<pid>".  Returns 0, -EINVAL for pid <= 0, NULL
 * or size 0, -ENAMETOOLONG when it does not fit (name is then "").
 */
int vm_name_fallback(int pid, char *name, size_t size);

enum vm_name_source {
	VM_NAME_SRC_LIBVIRT,
	VM_NAME_SRC_CMDLINE,
	VM_NAME_SRC_PID,
	VM_NAME_SRC_MAX,
};

/* "libvirt", "cmdline", "pid"; out of range values give "pid". */
const char *vm_name_source_str(enum vm_name_source src);

struct vm_name {
	char name[VM_NAME_MAX];
	char uuid[VM_UUID_MAX]; /* "" when unknown */
	enum vm_name_source source;
};

/*
 * A name lookup by pid in an external registry (libvirt), with the contract
 * of vm_libvirt_lookup(): 0 with name and uuid filled, or a -errno.
 */
typedef int (*vm_name_lookup_fn)(void *ctx, int pid, char *name, size_t name_size, char *uuid,
				 size_t uuid_size);

/*
 * Name the VM whose VMM has this pid.  Tries lookup(ctx, ...) when lookup is
 * not NULL, then <procfs_root>/<pid>/cmdline, then "kvm-<pid>"; the first
 * source that gives a name wins (any error, a name too long for
 * VM_NAME_MAX included, moves on to the next).  The UUID comes from the same
 * source as the name, except that a cmdline or pid name still takes -uuid
 * from the command line when there is one.  Returns 0 with out filled
 * whenever pid > 0; -EINVAL for pid <= 0 or out NULL.
 */
int vm_name_resolve(const char *procfs_root, int pid, vm_name_lookup_fn lookup, void *ctx,
		    struct vm_name *out);

#endif
