// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Workload classification from a cgroup path.
 *
 * The path is split into components and each component is matched against
 * the names container runtimes, kubelet and libvirt give their cgroups.
 * The deepest match wins, so that a container's own children ("init.scope"
 * of a systemd container, libvirt's "emulator" and "vcpuN") stay attributed
 * to it and a container nested in another one is named after the inner one.
 * Only when nothing matches does the last component decide: a systemd unit,
 * a kubelet QoS level, or a plain cgroup.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "classify.h"

#define CID_LEN 64 /* full container id: 64 lowercase hex digits */
#define CID_SHORT 12 /* the short form docker ps shows */
#define POD_UID_MAX 64

enum match {
	M_NONE,
	M_CONTAINER,
	M_CONMON,
	M_POD,
	M_MACHINE,
};

/* One path component: not NUL-terminated. */
struct comp {
	const char *s;
	size_t n;
};

const char *wl_kind_name(enum wl_kind kind)
{
	switch (kind) {
	case WL_KIND_CGROUP:
		return "cgroup";
	case WL_KIND_CONTAINER:
		return "container";
	case WL_KIND_VM:
		return "vm";
	case WL_KIND_HOST:
		return "host";
	}
	return "unknown";
}

/*
 * Copy n bytes of src as a NUL-terminated string into dst of size dlen.  When
 * it does not fit, cut before a UTF-8 character that would be split, so that
 * a valid UTF-8 name stays valid.
 */
static void copy_trunc(char *dst, size_t dlen, const char *src, size_t n)
{
	if (!dlen)
		return;
	if (n >= dlen) {
		size_t k = dlen - 1;

		/* src[k] is the first byte dropped; don't split its char. */
		while (k > 0 && ((unsigned char)src[k] & 0xC0) == 0x80)
			k--;
		n = k ? k : dlen - 1;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void set_name(struct wl_class *out, const char *s, size_t n)
{
	copy_trunc(out->name, sizeof(out->name), s, n);
}

static bool comp_eq(struct comp c, const char *lit)
{
	size_t n = strlen(lit);

	return c.n == n && !memcmp(c.s, lit, n);
}

static bool comp_prefix(struct comp c, const char *lit)
{
	size_t n = strlen(lit);

	return c.n >= n && !memcmp(c.s, lit, n);
}

static bool comp_suffix(struct comp c, const char *lit)
{
	size_t n = strlen(lit);

	return c.n >= n && !memcmp(c.s + c.n - n, lit, n);
}

static bool comp_contains(struct comp c, const char *lit)
{
	size_t n = strlen(lit);

	for (size_t i = 0; i + n <= c.n; i++)
		if (!memcmp(c.s + i, lit, n))
			return true;
	return false;
}

static bool is_lower_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static bool is_cid(const char *s, size_t n)
{
	if (n != CID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

/*
 * "<prefix><64 hex><suffix>": return the id, or NULL.  With suffix "" the
 * component must end right after the id.
 */
static const char *match_unit_id(struct comp c, const char *prefix, const char *suffix)
{
	size_t pn = strlen(prefix), sn = strlen(suffix);

	if (c.n != pn + CID_LEN + sn || !comp_prefix(c, prefix) || !comp_suffix(c, suffix))
		return NULL;
	return is_cid(c.s + pn, CID_LEN) ? c.s + pn : NULL;
}

/* Same, accepting both the systemd ("....scope") and cgroupfs spelling. */
static const char *match_scope_id(struct comp c, const char *prefix)
{
	const char *id = match_unit_id(c, prefix, ".scope");

	return id ? id : match_unit_id(c, prefix, "");
}

static void set_container(struct wl_class *out, const char *runtime, const char *id)
{
	out->kind = WL_KIND_CONTAINER;
	out->runtime = runtime;
	memcpy(out->container_id, id, CID_LEN);
	out->container_id[CID_LEN] = '\0';
	set_name(out, id, CID_SHORT);
}

static void set_conmon(struct wl_class *out, const char *runtime, const char *id)
{
	char name[sizeof("conmon-") + CID_SHORT];

	out->kind = WL_KIND_CGROUP;
	out->runtime = runtime;
	out->container_id[0] = '\0';
	snprintf(name, sizeof(name), "conmon-%.*s", CID_SHORT, id);
	set_name(out, name, strlen(name));
}

/* Kubernetes pod UIDs: a UUID, or 32 hex digits for static pods. */
static bool is_pod_uid(const char *s, size_t n)
{
	if (!n || n > POD_UID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/*
 * A pod cgroup: systemd "kubepods[-qos]-pod<uid>.slice" (with the dashes of
 * the uid escaped as '_', and possibly a "kubelet-" prefix as kind uses), or
 * cgroupfs "pod<uid>" somewhere under a "kubepods" cgroup.  Returns the uid.
 */
static bool match_pod(struct comp c, bool in_kubepods, struct comp *uid)
{
	if (comp_suffix(c, ".slice") && comp_contains(c, "kubepods")) {
		size_t end = c.n - strlen(".slice");
		size_t i = end;

		while (i > 0 && c.s[i - 1] != '-')
			i--;
		if (i == 0 || end - i < 4 || memcmp(c.s + i, "pod", 3))
			return false;
		uid->s = c.s + i + 3;
		uid->n = end - i - 3;
		return is_pod_uid(uid->s, uid->n);
	}
	if (in_kubepods && comp_prefix(c, "pod")) {
		uid->s = c.s + 3;
		uid->n = c.n - 3;
		return is_pod_uid(uid->s, uid->n);
	}
	return false;
}

static void set_pod(struct wl_class *out, struct comp uid)
{
	char name[sizeof("pod") + POD_UID_MAX];
	size_t i;

	memcpy(name, "pod", 3);
	for (i = 0; i < uid.n; i++)
		name[3 + i] = uid.s[i] == '_' ? '-' : uid.s[i];
	name[3 + i] = '\0';
	out->kind = WL_KIND_CGROUP;
	out->runtime = "kubernetes";
	out->container_id[0] = '\0';
	set_name(out, name, 3 + uid.n);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Undo systemd's unit name escaping (\xNN) into buf; returns the length. */
static size_t systemd_unescape(const char *s, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
		    hexval(s[i + 3]) >= 0) {
			char ch = (char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));

			if (ch != '\0') {
				buf[o++] = ch;
				i += 3;
				continue;
			}
		}
		buf[o++] = s[i];
	}
	buf[o] = '\0';
	return o;
}

/*
 * libvirt machine names are "<driver>-<domid>-<name>" ("qemu-1-debian12",
 * "lxc-4242-web"); older versions used "<driver>-<name>" or just the name.
 * Name the workload by the domain name alone.
 */
static void set_machine(struct wl_class *out, const char *m, size_t n)
{
	const char *name = m;
	size_t len = n;
	bool lxc = false;

	if (len > 5 && !memcmp(name, "qemu-", 5)) {
		name += 5;
		len -= 5;
	} else if (len > 4 && !memcmp(name, "lxc-", 4)) {
		name += 4;
		len -= 4;
		lxc = true;
	}
	if (name != m) {
		size_t d = 0;

		while (d < len && name[d] >= '0' && name[d] <= '9')
			d++;
		if (d > 0 && d < len && name[d] == '-') {
			name += d + 1;
			len -= d + 1;
		}
	}
	if (!len) {
		name = m;
		len = n;
	}
	out->kind = lxc ? WL_KIND_CONTAINER : WL_KIND_VM;
	out->runtime = "libvirt";
	out->container_id[0] = '\0';
	set_name(out, name, len);
}

/*
 * libvirt: systemd "machine-qemu\x2d1\x2ddebian12.scope" (the '-' of the
 * machine name escaped), or cgroupfs "qemu-1-debian12.libvirt-qemu" under
 * the "/machine" partition.  Returns true when c is such a machine.
 */
static bool match_machine(struct comp c, struct wl_class *out)
{
	char buf[WL_NAME_MAX * 2];
	size_t n;

	if (comp_prefix(c, "machine-") && comp_suffix(c, ".scope")) {
		size_t pn = strlen("machine-"), sn = strlen(".scope");

		if (c.n <= pn + sn)
			return false;
		n = systemd_unescape(c.s + pn, c.n - pn - sn, buf, sizeof(buf));
		if ((n > 5 && !memcmp(buf, "qemu-", 5)) || (n > 4 && !memcmp(buf, "lxc-", 4))) {
			set_machine(out, buf, n);
			return true;
		}
		return false;
	}

	const char *sfx[] = { ".libvirt-qemu", ".libvirt-lxc" };

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t sn = strlen(sfx[i]);
		const char *m = c.s;

		if (!comp_suffix(c, sfx[i]) || c.n <= sn)
			continue;
		n = c.n - sn;
		/* libvirt prefixes names that could clash with cgroup files. */
		if (*m == '_' && n > 1) {
			m++;
			n--;
		}
		set_machine(out, m, n);
		/* the suffix, not the name, says which driver it is */
		out->kind = i == 0 ? WL_KIND_VM : WL_KIND_CONTAINER;
		return true;
	}
	return false;
}

/* A kubelet QoS-level cgroup ("kubepods.slice", "/kubepods/burstable"). */
static bool is_kube_level(struct comp c, struct comp parent)
{
	if (comp_eq(c, "kubepods"))
		return true;
	if (comp_contains(c, "kubepods") && comp_suffix(c, ".slice"))
		return true;
	return comp_eq(parent, "kubepods") &&
	       (comp_eq(c, "burstable") || comp_eq(c, "besteffort") || comp_eq(c, "guaranteed"));
}

/* The unit types that systemd gives cgroups to. */
static bool is_systemd_unit(struct comp c)
{
	static const char *const sfx[] = { ".slice",  ".scope", ".service",
					   ".socket", ".mount", ".swap" };

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (comp_suffix(c, sfx[i]) && c.n > strlen(sfx[i]))
			return true;
	return false;
}

/*
 * Try every runtime pattern on component c; on a match fill out and return
 * what matched.  prev is the previous match, parent the parent component.
 */
static enum match match_comp(struct comp c, struct comp parent, enum match prev, bool parent_pod,
			     bool in_kubepods, struct wl_class *out)
{
	/* Containers right under a pod are the pod's: kubelet names them. */
	const char *k8s = prev == M_POD ? "kubernetes" : NULL;
	const char *id;
	struct comp uid;

	if ((id = match_unit_id(c, "docker-", ".scope"))) {
		set_container(out, k8s ? k8s : "docker", id);
		return M_CONTAINER;
	}
	if ((id = match_scope_id(c, "libpod-conmon-"))) {
		set_conmon(out, k8s ? k8s : "podman", id);
		return M_CONMON;
	}
	if ((id = match_scope_id(c, "libpod-"))) {
		set_container(out, k8s ? k8s : "podman", id);
		return M_CONTAINER;
	}
	if ((id = match_unit_id(c, "cri-containerd-", ".scope")) ||
	    (id = match_unit_id(c, "nerdctl-", ".scope"))) {
		set_container(out, k8s ? k8s : "containerd", id);
		return M_CONTAINER;
	}
	if ((id = match_scope_id(c, "crio-conmon-"))) {
		set_conmon(out, k8s ? k8s : "cri-o", id);
		return M_CONMON;
	}
	if ((id = match_scope_id(c, "crio-"))) {
		set_container(out, k8s ? k8s : "cri-o", id);
		return M_CONTAINER;
	}
	if (is_cid(c.s, c.n) && (parent_pod || comp_eq(parent, "docker"))) {
		/* cgroupfs drivers: "/kubepods/.../pod<uid>/<id>", "/docker/<id>" */
		set_container(out, parent_pod ? "kubernetes" : "docker", c.s);
		return M_CONTAINER;
	}
	if (comp_eq(c, "conmon") && comp_eq(parent, "libpod_parent")) {
		/* podman's cgroupfs manager puts every conmon in one cgroup */
		out->kind = WL_KIND_CGROUP;
		out->runtime = "podman";
		out->container_id[0] = '\0';
		set_name(out, "conmon", strlen("conmon"));
		return M_CONMON;
	}
	if (match_pod(c, in_kubepods, &uid)) {
		set_pod(out, uid);
		return M_POD;
	}
	if (match_machine(c, out))
		return M_MACHINE;
	return M_NONE;
}

static bool next_comp(const char **p, struct comp *c)
{
	const char *s = *p;

	while (*s == '/')
		s++;
	if (!*s)
		return false;
	c->s = s;
	while (*s && *s != '/')
		s++;
	c->n = (size_t)(s - c->s);
	*p = s;
	return true;
}

void wl_classify(const char *cgroup_path, struct wl_class *out)
{
	struct comp c, parent = { "", 0 }, last = { "", 0 };
	enum match prev = M_NONE;
	bool in_kubepods = false, any = false, kube_level = false, parent_pod = false;
	const char *p = cgroup_path ? cgroup_path : "";

	memset(out, 0, sizeof(*out));
	while (next_comp(&p, &c)) {
		struct wl_class m;
		enum match r;

		memset(&m, 0, sizeof(m));
		r = match_comp(c, parent, prev, parent_pod, in_kubepods, &m);
		if (r != M_NONE) {
			*out = m;
			prev = r;
		}
		parent_pod = r == M_POD;
		kube_level = is_kube_level(c, parent);
		if (comp_contains(c, "kubepods"))
			in_kubepods = true;
		parent = c;
		last = c;
		any = true;
	}

	if (!any) {
		out->kind = WL_KIND_HOST;
		out->runtime = NULL;
		set_name(out, "host", strlen("host"));
		return;
	}
	if (prev != M_NONE)
		return;

	out->kind = WL_KIND_CGROUP;
	if (kube_level)
		out->runtime = "kubernetes";
	else if (is_systemd_unit(last))
		out->runtime = "systemd";
	else
		out->runtime = NULL;
	set_name(out, last.s, last.n);
}

/*
 * A minimal streaming JSON reader: enough to find one string member of the
 * top-level object without being fooled by the same key in nested objects
 * or by quotes inside other strings.
 */
struct jbuf {
	char *s;
	size_t len; /* capacity, including the NUL */
	size_t n;
	bool trunc;
};

static int j_ws(FILE *f)
{
	int ch;

	do
		ch = getc(f);
	while (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r');
	return ch;
}

static void j_put(struct jbuf *b, unsigned char ch)
{
	if (!b)
		return;
	if (b->n + 1 < b->len)
		b->s[b->n++] = (char)ch;
	else
		b->trunc = true;
	b->s[b->n] = '\0';
}

static void j_put_utf8(struct jbuf *b, unsigned int cp)
{
	if (cp == 0)
		return; /* would end the C string early */
	if (cp < 0x80) {
		j_put(b, (unsigned char)cp);
	} else if (cp < 0x800) {
		j_put(b, (unsigned char)(0xC0 | (cp >> 6)));
		j_put(b, (unsigned char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		j_put(b, (unsigned char)(0xE0 | (cp >> 12)));
		j_put(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		j_put(b, (unsigned char)(0x80 | (cp & 0x3F)));
	} else {
		j_put(b, (unsigned char)(0xF0 | (cp >> 18)));
		j_put(b, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
		j_put(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		j_put(b, (unsigned char)(0x80 | (cp & 0x3F)));
	}
}

static int j_hex4(FILE *f, unsigned int *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int d = getc(f);

		if (d == EOF || hexval((char)d) < 0)
			return -EBADMSG;
		*v = *v * 16 + (unsigned int)hexval((char)d);
	}
	return 0;
}

/* Read a string whose opening quote was consumed; decode it into b if set. */
static int j_string(FILE *f, struct jbuf *b)
{
	for (;;) {
		int ch = getc(f);
		unsigned int cp, lo;

		if (ch == EOF)
			return -EBADMSG;
		if (ch == '"')
			return 0;
		if (ch != '\\') {
			j_put(b, (unsigned char)ch);
			continue;
		}
		ch = getc(f);
		switch (ch) {
		case '"':
		case '\\':
		case '/':
			j_put(b, (unsigned char)ch);
			break;
		case 'b':
			j_put(b, '\b');
			break;
		case 'f':
			j_put(b, '\f');
			break;
		case 'n':
			j_put(b, '\n');
			break;
		case 'r':
			j_put(b, '\r');
			break;
		case 't':
			j_put(b, '\t');
			break;
		case 'u':
			if (j_hex4(f, &cp))
				return -EBADMSG;
			if (cp >= 0xD800 && cp < 0xDC00) {
				/* a high surrogate; its pair must follow */
				if (getc(f) != '\\' || getc(f) != 'u' || j_hex4(f, &lo))
					return -EBADMSG;
				if (lo >= 0xDC00 && lo < 0xE000)
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				else
					cp = 0xFFFD;
			} else if (cp >= 0xDC00 && cp < 0xE000) {
				cp = 0xFFFD;
			}
			j_put_utf8(b, cp);
			break;
		default:
			return -EBADMSG;
		}
	}
}

/* Skip the value that starts with ch. */
static int j_skip(FILE *f, int ch)
{
	if (ch == '"')
		return j_string(f, NULL);
	if (ch == '{' || ch == '[') {
		unsigned long depth = 1;

		while (depth) {
			ch = getc(f);
			if (ch == EOF)
				return -EBADMSG;
			if (ch == '"') {
				if (j_string(f, NULL))
					return -EBADMSG;
			} else if (ch == '{' || ch == '[') {
				depth++;
			} else if (ch == '}' || ch == ']') {
				depth--;
			}
		}
		return 0;
	}
	/* number, true, false, null */
	if (ch == EOF || ch == ',' || ch == '}' || ch == ']' || ch == ':')
		return -EBADMSG;
	while ((ch = getc(f)) != EOF) {
		if (ch == ',' || ch == '}' || ch == ']' || ch == ' ' || ch == '\t' || ch == '\n' ||
		    ch == '\r') {
			ungetc(ch, f);
			return 0;
		}
	}
	return -EBADMSG;
}

/*
 * Find the string member `key` of the top-level object.  0 with the value in
 * b, -ENOENT when absent (or not a string), -EBADMSG when malformed.
 */
static int j_find_top_string(FILE *f, const char *key, struct jbuf *b)
{
	char kbuf[64];
	int ch;

	if (j_ws(f) != '{')
		return -EBADMSG;
	ch = j_ws(f);
	if (ch == '}')
		return -ENOENT;
	for (;;) {
		struct jbuf k = { kbuf, sizeof(kbuf), 0, false };
		bool want;

		if (ch != '"' || j_string(f, &k))
			return -EBADMSG;
		kbuf[k.n] = '\0';
		want = !k.trunc && !strcmp(kbuf, key);
		if (j_ws(f) != ':')
			return -EBADMSG;
		ch = j_ws(f);
		if (want && ch == '"') {
			b->n = 0;
			b->trunc = false;
			b->s[0] = '\0';
			return j_string(f, b);
		}
		if (j_skip(f, ch))
			return -EBADMSG;
		ch = j_ws(f);
		if (ch == '}')
			return -ENOENT;
		if (ch != ',')
			return -EBADMSG;
		ch = j_ws(f);
	}
}

int wl_name_from_docker_json(struct wl_class *out, FILE *f)
{
	char val[WL_NAME_MAX + 8];
	struct jbuf b = { val, sizeof(val), 0, false };
	const char *name;
	size_t n;
	int ret;

	ret = j_find_top_string(f, "Name", &b);
	if (ret)
		return ret;

	/* docker stores names with a leading '/' */
	name = val;
	n = b.n;
	if (n && *name == '/') {
		name++;
		n--;
	}
	if (!n)
		return -ENOENT;
	set_name(out, name, n);
	return 0;
}

int wl_name_from_runtime(struct wl_class *out, const char *docker_root)
{
	char path[4096];
	FILE *f;
	int ret;

	if (!out || !out->runtime || strcmp(out->runtime, "docker"))
		return -EINVAL;
	/* the id becomes a path component: only a real id may */
	if (!is_cid(out->container_id, strnlen(out->container_id, sizeof(out->container_id))))
		return -EINVAL;
	if (!docker_root || !*docker_root)
		docker_root = "/var/lib/docker";
	ret = snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json", docker_root,
		       out->container_id);
	if (ret < 0 || (size_t)ret >= sizeof(path))
		return -ENAMETOOLONG;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	ret = wl_name_from_docker_json(out, f);
	fclose(f);
	return ret;
}
