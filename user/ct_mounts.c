// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A container's writable layer and volumes, from its mountinfo.  See ct_mounts.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ct_mounts.h"

#define MOUNTINFO_MAX (4u << 20)

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* File systems that hold no block I/O of their own. */
static bool pseudo_fs(const char *t)
{
	static const char *const pseudo[] = {
		"proc",	  "sysfs",     "tmpfs",	     "devtmpfs", "devpts",  "mqueue",
		"cgroup", "cgroup2",   "securityfs", "debugfs",	 "tracefs", "bpf",
		"pstore", "hugetlbfs", "fusectl",    "configfs", "autofs",  "binfmt_misc",
		"nsfs",	  "ramfs",     "rpc_pipefs", "efivarfs", "shm",	    "overlay",
	};

	for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (!strcmp(t, pseudo[i]))
			return true;
	return false;
}

/* The runtime's own per-container files, bind mounted: not volumes. */
static bool runtime_file(const char *mp)
{
	static const char *const files[] = {
		"/etc/hosts",
		"/etc/hostname",
		"/etc/resolv.conf",
		"/run/.containerenv",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(mp, files[i]))
			return true;
	return false;
}

/* The value of key= in a comma-separated option list (no escapes: overlay's paths have none). */
static bool opt_value(const char *opts, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);
	const char *p = opts;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = len - klen - 1;

			if (vlen >= size)
				vlen = size - 1;
			memcpy(val, p + klen + 1, vlen);
			val[vlen] = '\0';
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

int ct_mountinfo_parse(const char *text, struct ct_mounts *out, ct_dev_of_fn dev_of, void *ctx)
{
	const char *line = text;
	bool root = false;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096], *f[16], *sep, *save = NULL, *tok;
		unsigned int maj, min;
		int nf = 0;

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : NULL;
		/* id parent major:minor root mountpoint options [optional...] - fstype source super */
		sep = strstr(buf, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (tok = strtok_r(buf, " ", &save); tok && nf < 6;
		     tok = strtok_r(NULL, " ", &save))
			f[nf++] = tok;
		save = NULL;
		for (tok = strtok_r(sep + 3, " ", &save); tok && nf < 9;
		     tok = strtok_r(NULL, " ", &save))
			f[nf++] = tok;
		if (nf < 9 || sscanf(f[2], "%u:%u", &maj, &min) != 2)
			continue;
		unescape(f[4]);
		unescape(f[7]);
		if (!strcmp(f[4], "/")) {
			/* The last mount on / is the one seen. */
			root = true;
			out->layer_known = false;
			out->layer_upper[0] = '\0';
			out->layer_error[0] = '\0';
			copy(out->layer_fstype, sizeof(out->layer_fstype), f[6]);
			if (!strcmp(f[6], "overlay")) {
				uint32_t a, b;
				int err;

				if (!opt_value(f[8], "upperdir", out->layer_upper,
					       sizeof(out->layer_upper))) {
					copy(out->layer_error, sizeof(out->layer_error),
					     "overlay root without upperdir= (read-only layers only)");
					continue;
				}
				unescape(out->layer_upper);
				err = dev_of ? dev_of(ctx, out->layer_upper, &a, &b) : -ENOSYS;
				if (err) {
					snprintf(out->layer_error, sizeof(out->layer_error),
						 "cannot stat the upper dir: %s", strerror(-err));
					continue;
				}
				out->layer_major = a;
				out->layer_minor = b;
			} else {
				out->layer_major = maj;
				out->layer_minor = min;
			}
			out->layer_known = true;
			continue;
		}
		if (pseudo_fs(f[6]) || runtime_file(f[4]))
			continue;
		if (out->nvol >= CT_MOUNTS_MAX) {
			out->nvol_more++;
			continue;
		}
		out->vol[out->nvol].major = maj;
		out->vol[out->nvol].minor = min;
		copy(out->vol[out->nvol].mountpoint, sizeof(out->vol[0].mountpoint), f[4]);
		copy(out->vol[out->nvol].fstype, sizeof(out->vol[0].fstype), f[6]);
		copy(out->vol[out->nvol].source, sizeof(out->vol[0].source), f[7]);
		out->nvol++;
	}
	out->read = root;
	return root ? 0 : -EBADMSG;
}

const struct ct_mount *ct_mounts_volume_on(const struct ct_mounts *m, uint32_t major,
					   uint32_t minor)
{
	for (size_t i = 0; i < m->nvol; i++)
		if (m->vol[i].major == major && m->vol[i].minor == minor)
			return &m->vol[i];
	return NULL;
}

/* The upper dir in the host's namespace, else under the process's root. */
static int proc_dev_of(void *ctx, const char *path, uint32_t *major, uint32_t *minor)
{
	int pid = *(const int *)ctx;
	char alt[4096];
	struct stat st;

	if (stat(path, &st)) {
		snprintf(alt, sizeof(alt), "/proc/%d/root%s", pid, path);
		if (stat(alt, &st))
			return -errno;
	}
	*major = major(st.st_dev);
	*minor = minor(st.st_dev);
	return 0;
}

int ct_mounts_read(int pid, struct ct_mounts *out)
{
	char path[64];
	char *text = malloc(MOUNTINFO_MAX + 1);
	size_t n = 0, r;
	FILE *f;
	int err;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		free(text);
		return err;
	}
	while (n < MOUNTINFO_MAX && (r = fread(text + n, 1, MOUNTINFO_MAX - n, f)) > 0)
		n += r;
	fclose(f);
	text[n] = '\0';
	err = ct_mountinfo_parse(text, out, proc_dev_of, &pid);
	free(text);
	return err;
}
