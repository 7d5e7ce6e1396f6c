// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Thread roles in a VMM process from the thread's comm.  Pure string work;
 * see include/vm_roles.h for the names and why the result is only a label.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "vm_roles.h"

#define COMM_MAX 15 /* TASK_COMM_LEN - 1 */

/* s starts with one or more decimal digits; *end is set past them. */
static bool skip_digits(const char *s, const char **end)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	*end = p;
	return p != s;
}

/* prefix followed by one or more digits and nothing else. */
static bool prefix_number(const char *comm, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *end;

	if (strncmp(comm, prefix, n))
		return false;
	return skip_digits(comm + n, &end) && !*end;
}

/*
 * s starts with one or more ASCII letters; *end is set past them.  Not
 * isalpha(): the locale must not change a thread's label.
 */
static bool skip_letters(const char *s, const char **end)
{
	const char *p = s;

	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	*end = p;
	return p != s;
}

/*
 * "CPU <n>/<accel>", or that name cut by the kernel at 15 bytes.  A comm of
 * exactly 15 bytes may end anywhere after the digits, since every cut of a
 * run of letters is itself letters; a shorter one must have a non-empty
 * accelerator name, so that "CPU 1/" or "CPU 1" (someone's own name) do not
 * pass.
 */
static bool is_vcpu_name(const char *comm)
{
	const char *rest, *end;

	if (strncmp(comm, "CPU ", 4) || !skip_digits(comm + 4, &rest))
		return false;
	if (*rest == '/' && skip_letters(rest + 1, &end) && !*end)
		return true;
	if (strlen(comm) != COMM_MAX)
		return false;
	if (!*rest)
		return true;
	if (*rest != '/')
		return false;
	skip_letters(rest + 1, &end);
	return !*end;
}

enum vm_role vm_role_classify(const char *comm, int tid, int tgid, bool seen_in_kvm)
{
	if (seen_in_kvm)
		return VM_ROLE_VCPU;
	if (!comm)
		comm = "";
	if (is_vcpu_name(comm))
		return VM_ROLE_VCPU;
	/* "IO " and a non-empty iothread id. */
	if (!strncmp(comm, "IO ", 3) && comm[3])
		return VM_ROLE_IOTHREAD;
	if (!strcmp(comm, "worker"))
		return VM_ROLE_WORKER;
	if (prefix_number(comm, "vhost-"))
		return VM_ROLE_VHOST;
	if (prefix_number(comm, "iou-wrk-") || prefix_number(comm, "iou-sqp-"))
		return VM_ROLE_IO_URING;
	if (tid == tgid)
		return VM_ROLE_MAIN;
	return VM_ROLE_OTHER;
}

const char *vm_role_name(enum vm_role r)
{
	switch (r) {
	case VM_ROLE_VCPU:
		return "vcpu";
	case VM_ROLE_IOTHREAD:
		return "iothread";
	case VM_ROLE_WORKER:
		return "worker";
	case VM_ROLE_VHOST:
		return "vhost";
	case VM_ROLE_IO_URING:
		return "io_uring";
	case VM_ROLE_MAIN:
		return "main";
	case VM_ROLE_OTHER:
	case VM_ROLE_MAX:
		break;
	}
	return "other";
}
