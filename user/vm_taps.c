// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Tap devices of a VM process, from /proc/PID/fd and /proc/PID/fdinfo. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_ident.h"
#include "vm_taps.h"

static const char *root_or_proc(const char *procfs_root)
{
	return procfs_root ? procfs_root : "/proc";
}

/* The device name on the "iff:" line of a tun descriptor's fdinfo. */
static int fdinfo_iff(const char *info, char *name)
{
	const char *p = info;
	size_t n;

	while (strncmp(p, "iff:\t", 5)) {
		p = strchr(p, '\n');
		if (!p)
			return -ENOENT;
		p++;
	}
	p += 5;
	n = strcspn(p, "\n");
	if (!n || n >= VM_TAP_NAME_MAX)
		return -EINVAL;
	memcpy(name, p, n);
	name[n] = '\0';
	return 0;
}

static bool known(char (*names)[VM_TAP_NAME_MAX], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

int vm_taps_of(const char *procfs_root, int pid, char (*names)[VM_TAP_NAME_MAX], int max, int *more)
{
	char path[PATH_MAX], target[64], info[1024], leaf[NAME_MAX + 8], name[VM_TAP_NAME_MAX];
	struct dirent *d;
	size_t len;
	ssize_t t;
	int n = 0;
	DIR *dir;

	*more = 0;
	snprintf(path, sizeof(path), "%s/%d/fd", root_or_proc(procfs_root), pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%d/fd/%s", root_or_proc(procfs_root), pid,
			 d->d_name);
		t = readlink(path, target, sizeof(target) - 1);
		if (t < 0)
			continue; /* closed meanwhile */
		target[t] = '\0';
		if (strcmp(target, "/dev/net/tun"))
			continue;
		snprintf(leaf, sizeof(leaf), "fdinfo/%s", d->d_name);
		if (proc_read_file(procfs_root, pid, 0, leaf, info, sizeof(info), &len))
			continue;
		/* A tun descriptor not attached to a device yet has no iff line. */
		if (fdinfo_iff(info, name) || known(names, n, name))
			continue;
		if (n == max) {
			*more = 1;
			continue;
		}
		memcpy(names[n++], name, sizeof(name));
	}
	closedir(dir);
	return n;
}

int proc_netns_ino(const char *procfs_root, int pid, uint64_t *ino)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%d/ns/net", root_or_proc(procfs_root), pid);
	if (stat(path, &st))
		return errno == ESRCH ? -ENOENT : -errno;
	*ino = st.st_ino;
	return 0;
}
