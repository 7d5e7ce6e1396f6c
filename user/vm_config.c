// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A QEMU process's configuration from /proc/PID/cmdline and
 * /proc/PID/smaps: see vm_config.h.
 *
 * QEMU's option syntax (softmmu/vl.c, util/qemu-option.c, QEMU 7.2): an
 * option is an argument "-name" or "--name"; its value is the next
 * argument.  Most values are QemuOpts: comma-separated key=value items,
 * ",," standing for a literal comma, a first item without "=" being the
 * value of the option's implied key (-m 256M: size=256M; -object
 * iothread,id=io0: qom-type=iothread).  -object and -device also take a
 * JSON object, which libvirt uses since 7.x.  An option unknown here is
 * skipped alone: should it take a value that is itself exactly one of the
 * options below ("-append -m"), that value would be misread; telling it
 * apart needs QEMU's whole option table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "vm_config.h"
#include "vm_names.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

/* The longest QemuOpts item looked at; longer ones are skipped. */
#define ITEM_MAX 4096

const char *vm_accel_name(enum vm_accel a)
{
	switch (a) {
	case VM_ACCEL_KVM:
		return "kvm";
	case VM_ACCEL_TCG:
		return "tcg";
	case VM_ACCEL_OTHER:
		return "other";
	default:
		return "unknown";
	}
}

int vm_config_parse_size(const char *s, unsigned int default_shift, uint64_t *out)
{
	unsigned int shift = default_shift;
	char *end;
	double v;

	if (!s || !out || !(*s >= '0' && *s <= '9'))
		return -EINVAL;
	/* No hex, no exponent: QEMU's qemu_strtosz takes decimals only. */
	for (const char *p = s; *p; p++)
		if (*p == 'x' || *p == 'X' || *p == 'e')
			return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'b':
		case 'B':
			shift = 0;
			break;
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		case 't':
		case 'T':
			shift = 40;
			break;
		case 'p':
		case 'P':
			shift = 50;
			break;
		case 'E':
			shift = 60;
			break;
		default:
			return -EINVAL;
		}
		if (end[1])
			return -EINVAL;
	}
	v = ldexp(v, (int)shift);
	if (v >= 18446744073709551616.0)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

/* ---- JSON objects (-object '{...}', -device '{...}') ---- */

static const char *json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * A JSON string at p ('"'), unescaped into out (NULL: skipped).  Returns
 * the position after its closing quote, or NULL if it does not end or does
 * not fit (*fits false then, but the position is still returned when only
 * room was missing).
 */
static const char *json_string(const char *p, const char *end, char *out, size_t outsz, bool *fits)
{
	size_t n = 0;

	*fits = true;
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		char c = *p;

		if (c == '"') {
			if (out && outsz)
				out[n < outsz ? n : outsz - 1] = '\0';
			return p + 1;
		}
		if (c == '\\') {
			if (++p >= end)
				return NULL;
			switch (*p) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u':
				/* Not needed for the keys and values looked at: a placeholder. */
				if (end - p < 5)
					return NULL;
				p += 4;
				c = '?';
				break;
			default:
				c = *p; /* \" \\ \/ */
			}
		}
		if (out) {
			if (n + 1 < outsz)
				out[n++] = c;
			else
				*fits = false;
		}
	}
	return NULL;
}

/* Skip a JSON value at p; returns the position after it, or NULL. */
static const char *json_skip(const char *p, const char *end)
{
	int depth = 0;
	bool fits;

	p = json_ws(p, end);
	if (p >= end)
		return NULL;
	if (*p == '"')
		return json_string(p, end, NULL, 0, &fits);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n')
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			p = json_string(p, end, NULL, 0, &fits);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* key's scalar value in the top level of a JSON object; the last one wins. */
static bool json_get(const char *s, const char *key, char *out, size_t outsz)
{
	const char *end = s + strlen(s), *p = json_ws(s, end), *v;
	char k[128];
	bool found = false, fits;

	if (p >= end || *p != '{')
		return false;
	p++;
	for (;;) {
		p = json_ws(p, end);
		if (p < end && *p == '}')
			return found;
		p = json_string(p, end, k, sizeof(k), &fits);
		if (!p)
			return found;
		p = json_ws(p, end);
		if (p >= end || *p != ':')
			return found;
		v = json_ws(p + 1, end);
		if (fits && !strcmp(k, key) && v < end) {
			if (*v == '"') {
				char tmp[ITEM_MAX];
				bool vfits;

				p = json_string(v, end, tmp, sizeof(tmp), &vfits);
				if (!p)
					return found;
				if (vfits && strlen(tmp) < outsz) {
					strcpy(out, tmp);
					found = true;
				}
			} else if (*v != '{' && *v != '[') {
				size_t n = 0;

				p = v;
				while (p < end && *p != ',' && *p != '}' && *p != ' ' && *p != '\n')
					p++;
				n = (size_t)(p - v);
				if (n && n < outsz) {
					memcpy(out, v, n);
					out[n] = '\0';
					/* QemuOpts spells booleans on/off. */
					if (!strcmp(out, "true"))
						snprintf(out, outsz, "on");
					else if (!strcmp(out, "false"))
						snprintf(out, outsz, "off");
					found = true;
				}
			} else {
				p = json_skip(v, end);
			}
		} else {
			p = json_skip(v, end);
		}
		if (!p)
			return found;
		p = json_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		return found;
	}
}

/* ---- QemuOpts ---- */

bool vm_qemu_opt(const char *opts, const char *implied_key, const char *key, char *out,
		 size_t outsz)
{
	char item[ITEM_MAX];
	const char *p = opts;
	bool found = false, first = true;

	if (!opts || !key || !out || !outsz)
		return false;
	if (*opts == '{')
		return json_get(opts, key, out, outsz);
	while (*p) {
		size_t n = 0;
		bool cut = false;
		const char *val;
		char *eq;

		/* One item, ",," unescaped. */
		while (*p) {
			if (*p == ',') {
				if (p[1] != ',')
					break;
				p++;
			}
			if (n + 1 < sizeof(item))
				item[n++] = *p;
			else
				cut = true;
			p++;
		}
		item[n] = '\0';
		if (*p == ',')
			p++;
		eq = strchr(item, '=');
		if (eq) {
			*eq = '\0';
			val = eq + 1;
			if (!cut && !strcmp(item, key) && strlen(val) < outsz) {
				strcpy(out, val);
				found = true;
			}
		} else if (first && implied_key) {
			if (!cut && !strcmp(implied_key, key) && n < outsz) {
				strcpy(out, item);
				found = true;
			}
		} else if (!cut && !strcmp(item, key) && outsz > 2) {
			strcpy(out, "on"); /* a bare flag is key=on */
			found = true;
		}
		first = false;
	}
	return found;
}

/* ---- the command line ---- */

static bool is_on(const char *v)
{
	return !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "y");
}

static enum vm_accel accel_of(const char *name)
{
	size_t n = strcspn(name, ":");

	if (n == 3 && !strncmp(name, "kvm", 3))
		return VM_ACCEL_KVM;
	if (n == 3 && !strncmp(name, "tcg", 3))
		return VM_ACCEL_TCG;
	return n ? VM_ACCEL_OTHER : VM_ACCEL_UNKNOWN;
}

static void add_block(struct vm_config *cfg, uint64_t bytes)
{
	if (!bytes)
		return;
	for (size_t i = 0; i < cfg->nblocks; i++)
		if (cfg->blocks[i] == bytes)
			return;
	if (cfg->nblocks < VM_CONFIG_MAX_BLOCKS)
		cfg->blocks[cfg->nblocks++] = bytes;
}

static unsigned int opt_uint(const char *opts, const char *implied, const char *key)
{
	char v[32], *end;
	unsigned long n;

	if (!vm_qemu_opt(opts, implied, key, v, sizeof(v)) || !(*v >= '0' && *v <= '9'))
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n > 1u << 20)
		return 0;
	return (unsigned int)n;
}

static void parse_object(struct vm_config *cfg, const char *v)
{
	char type[64], val[256];
	uint64_t size;

	if (!vm_qemu_opt(v, "qom-type", "qom-type", type, sizeof(type)))
		return;
	if (!strcmp(type, "iothread")) {
		cfg->iothreads++;
		return;
	}
	if (strncmp(type, "memory-backend-", 15))
		return;
	snprintf(cfg->mem_backend, sizeof(cfg->mem_backend), "%s", type);
	if (vm_qemu_opt(v, NULL, "size", val, sizeof(val)) && !vm_config_parse_size(val, 0, &size))
		add_block(cfg, size);
	if (!strcmp(type, "memory-backend-file"))
		vm_qemu_opt(v, NULL, "mem-path", cfg->mem_path, sizeof(cfg->mem_path));
	if (!strcmp(type, "memory-backend-memfd") &&
	    vm_qemu_opt(v, NULL, "hugetlb", val, sizeof(val)) && is_on(val))
		cfg->memfd_hugetlb = true;
}

static void parse_device(struct vm_config *cfg, const char *v)
{
	char val[256];

	if (vm_qemu_opt(v, "driver", "iothread", val, sizeof(val)) && val[0])
		cfg->iothread_devices++;
	else if (vm_qemu_opt(v, "driver", "iothread-vq-mapping", val, sizeof(val)))
		cfg->iothread_devices++;
}

static void parse_smp(struct vm_config *cfg, const char *v)
{
	unsigned int cpus = opt_uint(v, "cpus", "cpus"), prod;

	cfg->sockets = opt_uint(v, NULL, "sockets");
	cfg->dies = opt_uint(v, NULL, "dies");
	cfg->cores = opt_uint(v, NULL, "cores");
	cfg->threads = opt_uint(v, NULL, "threads");
	cfg->smp_topology = cfg->sockets || cfg->cores || cfg->threads;
	prod = (cfg->sockets ? cfg->sockets : 1) * (cfg->dies ? cfg->dies : 1) *
	       (cfg->cores ? cfg->cores : 1) * (cfg->threads ? cfg->threads : 1);
	cfg->smp_cpus = cpus ? cpus : (cfg->smp_topology ? prod : 1);
}

/* The option name of an argument ("-m", "--m" -> "m"), or NULL. */
static const char *opt_name(const char *arg)
{
	if (arg[0] != '-' || !arg[1])
		return NULL;
	return arg[1] == '-' ? arg + 2 : arg + 1;
}

int vm_config_parse_cmdline(const char *buf, size_t len, struct vm_config *cfg)
{
	const char *argv[4096];
	size_t argc = 0, i = 0;
	enum vm_accel accel = VM_ACCEL_UNKNOWN, machine_accel = VM_ACCEL_UNKNOWN;
	char *copy, val[256];
	const char *base;

	if (!buf || !cfg || !len)
		return -EINVAL;
	/* A NUL-terminated copy: the last argument may come without its NUL. */
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	while (i < len && argc < sizeof(argv) / sizeof(argv[0])) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	cfg->cmdline_read = true;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	snprintf(cfg->argv0, sizeof(cfg->argv0), "%s", base);
	cfg->is_qemu = !strncmp(base, "qemu-system-", 12) || !strcmp(base, "qemu-kvm") ||
		       !strcmp(base, "kvm");
	if (!cfg->is_qemu) {
		free(copy);
		return 0;
	}
	cfg->ram_bytes = VM_DEFAULT_RAM;
	cfg->smp_cpus = 1;
	for (i = 1; i < argc; i++) {
		const char *o = opt_name(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!o)
			continue;
		if (!strcmp(o, "enable-kvm")) {
			if (accel == VM_ACCEL_UNKNOWN)
				accel = VM_ACCEL_KVM;
			continue;
		}
		if (!v)
			break;
		if (!strcmp(o, "m")) {
			uint64_t sz;

			if (vm_qemu_opt(v, "size", "size", val, sizeof(val)) &&
			    !vm_config_parse_size(val, 20, &sz))
				cfg->ram_bytes = sz;
		} else if (!strcmp(o, "mem-path")) {
			snprintf(cfg->mem_backend, sizeof(cfg->mem_backend), "mem-path");
			snprintf(cfg->mem_path, sizeof(cfg->mem_path), "%s", v);
		} else if (!strcmp(o, "object")) {
			parse_object(cfg, v);
		} else if (!strcmp(o, "device")) {
			parse_device(cfg, v);
		} else if (!strcmp(o, "cpu")) {
			size_t n = strcspn(v, ",");

			if (n >= sizeof(cfg->cpu_model))
				n = sizeof(cfg->cpu_model) - 1;
			memcpy(cfg->cpu_model, v, n);
			cfg->cpu_model[n] = '\0';
		} else if (!strcmp(o, "smp")) {
			parse_smp(cfg, v);
		} else if (!strcmp(o, "accel")) {
			/* Several -accel: tried in order; the first is what runs when it can. */
			if (accel == VM_ACCEL_UNKNOWN &&
			    vm_qemu_opt(v, "accel", "accel", val, sizeof(val)))
				accel = accel_of(val);
		} else if (!strcmp(o, "machine") || !strcmp(o, "M")) {
			if (vm_qemu_opt(v, "type", "accel", val, sizeof(val)))
				machine_accel = accel_of(val);
		} else {
			continue; /* an option of no interest: its value, if any, is skipped as a non-option */
		}
		i++;
	}
	if (accel == VM_ACCEL_UNKNOWN)
		accel = machine_accel;
	if (accel == VM_ACCEL_UNKNOWN) {
		/* qemu-kvm (RHEL) and Debian's kvm wrapper default to KVM; QEMU itself to TCG. */
		accel = !strcmp(base, "qemu-kvm") || !strcmp(base, "kvm") ? VM_ACCEL_KVM :
									    VM_ACCEL_TCG;
	}
	cfg->accel = accel;
	add_block(cfg, cfg->ram_bytes);
	free(copy);
	return 0;
}

/* ---- smaps ---- */

struct smaps_map {
	bool valid;
	uint64_t bytes;
	char perms[5];
	bool special; /* [heap], [stack], [vdso], ... */
	uint64_t rss_kb, thp_kb, kps_kb;
};

static bool is_ram_block(const struct vm_config *cfg, uint64_t bytes)
{
	for (size_t i = 0; i < cfg->nblocks; i++)
		if (bytes >= cfg->blocks[i] && bytes - cfg->blocks[i] <= VM_RAM_MAP_SLACK)
			return true;
	return false;
}

static void smaps_close(struct vm_config *cfg, struct smaps_map *m)
{
	if (!m->valid)
		return;
	m->valid = false;
	if (m->perms[1] != 'w' || m->perms[2] == 'x' || m->special)
		return;
	if (m->kps_kb > 4) {
		/* Only guest RAM goes on hugetlbfs in QEMU. */
		cfg->ram_maps++;
		cfg->ram_map_bytes += m->bytes;
		cfg->ram_hugetlb_bytes += m->bytes;
		if (m->kps_kb * 1024 > cfg->hugetlb_page_bytes)
			cfg->hugetlb_page_bytes = m->kps_kb * 1024;
		return;
	}
	if (!is_ram_block(cfg, m->bytes))
		return;
	cfg->ram_maps++;
	cfg->ram_map_bytes += m->bytes;
	cfg->ram_rss_bytes += m->rss_kb * 1024;
	cfg->ram_thp_bytes += m->thp_kb * 1024;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* One line of smaps, without its newline. */
static void smaps_line(struct vm_config *cfg, struct smaps_map *m, const char *line)
{
	unsigned long long start, end, kb;
	char key[32];
	int off = 0;

	if (is_hex(line[0])) {
		const char *dash = line;

		while (is_hex(*dash))
			dash++;
		if (*dash != '-')
			return;
		smaps_close(cfg, m);
		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %n", &start, &end, m->perms, &off) <
			    3 ||
		    end < start)
			return;
		m->rss_kb = m->thp_kb = m->kps_kb = 0;
		m->bytes = end - start;
		m->special = off > 0 && line[off] == '[' && strncmp(line + off, "[anon:", 6);
		m->valid = true;
		return;
	}
	if (!m->valid || sscanf(line, "%31[A-Za-z_]: %llu kB", key, &kb) != 2)
		return;
	if (!strcmp(key, "Rss"))
		m->rss_kb = kb;
	else if (!strcmp(key, "KernelPageSize"))
		m->kps_kb = kb;
	else if (!strcmp(key, "AnonHugePages") || !strcmp(key, "ShmemPmdMapped") ||
		 !strcmp(key, "FilePmdMapped"))
		m->thp_kb += kb;
}

static void smaps_begin(struct vm_config *cfg)
{
	cfg->smaps_read = true;
	cfg->ram_maps = 0;
	cfg->ram_map_bytes = cfg->ram_rss_bytes = cfg->ram_thp_bytes = 0;
	cfg->ram_hugetlb_bytes = cfg->hugetlb_page_bytes = 0;
	if (!cfg->nblocks)
		add_block(cfg, cfg->ram_bytes ? cfg->ram_bytes : VM_DEFAULT_RAM);
}

int vm_config_parse_smaps(const char *buf, size_t len, struct vm_config *cfg)
{
	struct smaps_map m = { 0 };
	char line[512];
	size_t i = 0;

	if (!buf || !cfg)
		return -EINVAL;
	smaps_begin(cfg);
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n;

		if (!nl)
			break; /* a cut last line */
		n = (size_t)(nl - (buf + i));
		if (n >= sizeof(line))
			n = sizeof(line) - 1; /* long paths: the fields looked at come first */
		memcpy(line, buf + i, n);
		line[n] = '\0';
		smaps_line(cfg, &m, line);
		i = (size_t)(nl - buf) + 1;
	}
	smaps_close(cfg, &m);
	return 0;
}

static int read_smaps(const char *root, int pid, struct vm_config *cfg)
{
	struct smaps_map m = { 0 };
	char path[PATH_MAX], line[512];
	size_t total = 0;
	bool midline = false;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%d/smaps", root, pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	smaps_begin(cfg);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		bool whole = n && line[n - 1] == '\n';

		total += n;
		if (total > VM_SMAPS_MAX_BYTES) {
			cfg->smaps_truncated = true;
			break;
		}
		/* The rest of a line longer than the buffer is not a line of its own. */
		if (!midline) {
			if (whole)
				line[n - 1] = '\0';
			smaps_line(cfg, &m, line);
		}
		midline = !whole;
	}
	smaps_close(cfg, &m);
	fclose(f);
	return 0;
}

int vm_config_read(const char *procfs_root, int pid, struct vm_config *cfg)
{
	const char *root = procfs_root ? procfs_root : "/proc";
	char path[PATH_MAX];
	struct statfs sfs;
	size_t len = 0;
	char *buf;
	int err;

	if (!cfg || pid <= 0)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	buf = malloc(VM_CMDLINE_MAX);
	if (!buf)
		return -ENOMEM;
	err = vm_cmdline_read(procfs_root, pid, buf, VM_CMDLINE_MAX, &len);
	if (!err && !len)
		err = -ENOENT; /* a zombie or a kernel thread */
	if (!err)
		err = vm_config_parse_cmdline(buf, len, cfg);
	free(buf);
	if (err)
		return err;
	/* The path as the VM sees it: libvirt gives QEMU its own mount namespace. */
	if (cfg->mem_path[0] &&
	    snprintf(path, sizeof(path), "%s/%d/root%s%s", root, pid,
		     cfg->mem_path[0] == '/' ? "" : "/", cfg->mem_path) < (int)sizeof(path) &&
	    statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == HUGETLBFS_MAGIC)
		cfg->mem_path_hugetlbfs = true;
	read_smaps(root, pid, cfg); /* smaps_read stays false if it cannot be read */
	return 0;
}

int vm_cpulist_parse(const char *s, unsigned int *ncpus, int *first)
{
	unsigned long long n = 0;
	long lo = -1;

	if (!s || !ncpus || !first)
		return -EINVAL;
	for (;;) {
		char *end;
		long a, b;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		a = strtol(s, &end, 10);
		b = a;
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			b = strtol(s, &end, 10);
		}
		if (a < 0 || b < a || a > INT_MAX || b > INT_MAX)
			return -EINVAL;
		n += (unsigned long long)(b - a) + 1;
		if (lo < 0 || a < lo)
			lo = a;
		s = end;
		if (*s != ',')
			break;
		s++;
	}
	if (*s != '\0' || n > UINT_MAX)
		return -EINVAL;
	*ncpus = (unsigned int)n;
	*first = (int)lo;
	return 0;
}

/* Cpus_allowed_list of one thread into list; 0 or -errno. */
static int thread_cpulist(const char *root, int pid, uint32_t tid, char *list, size_t len)
{
	static const char key[] = "Cpus_allowed_list:";
	char path[PATH_MAX], line[4096];
	int err = -ENOENT;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%d/task/%u/status", root, pid, tid) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v = line + sizeof(key) - 1;

		if (strncmp(line, key, sizeof(key) - 1))
			continue;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		if (strlen(v) >= len) {
			err = -ERANGE;
			break;
		}
		strcpy(list, v);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int vm_config_read_vcpu_pinning(const char *procfs_root, int pid, const uint32_t *tids, size_t n,
				struct vm_config *cfg)
{
	const char *root = procfs_root ? procfs_root : "/proc";
	struct vm_vcpu_pinning *p;
	int *cpu; /* the one CPU of each thread read; -1: several */
	size_t used = 0;
	char list[1024];

	if (!cfg || pid <= 0 || (n && !tids))
		return -EINVAL;
	p = &cfg->pin;
	memset(p, 0, sizeof(*p));
	if (n > VM_MAX_VCPU_AFFINITY)
		n = VM_MAX_VCPU_AFFINITY;
	cpu = calloc(n ? n : 1, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned int ncpus;
		int first, w;

		if (thread_cpulist(root, pid, tids[i], list, sizeof(list)) ||
		    vm_cpulist_parse(list, &ncpus, &first))
			continue;
		cpu[p->read] = ncpus == 1 ? first : -1;
		if (!p->read)
			p->first_tid = (int)tids[i];
		p->read++;
		/* "TID:LIST" while it fits, then "..." once. */
		if (used < sizeof(p->affinity)) {
			w = snprintf(p->affinity + used, sizeof(p->affinity) - used, "%s%u:%s",
				     used ? " " : "", tids[i], list);
			if (w < 0 || (size_t)w >= sizeof(p->affinity) - used - 4) {
				p->affinity[used] = '\0';
				snprintf(p->affinity + used, sizeof(p->affinity) - used, "%s...",
					 used ? " " : "");
				used = sizeof(p->affinity);
			} else {
				used += (size_t)w;
			}
		}
	}
	for (unsigned int i = 0; i < p->read; i++) {
		bool alone = true;

		if (cpu[i] < 0)
			continue;
		for (unsigned int j = 0; j < p->read; j++)
			alone = alone && (j == i || cpu[j] != cpu[i]);
		if (alone)
			p->pinned++;
		else
			p->shared++;
	}
	free(cpu);
	return (int)p->read;
}
