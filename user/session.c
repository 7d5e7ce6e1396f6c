// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A tracing session: attach, read, name.  See session.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "cycles.h"
#include "docker_names.h"
#include "privs.h"
#include "session.h"

#define DOCKER_ROOT "/var/lib/docker"

static int resolve_filters(struct session *s, const struct trace_opts *o)
{
	char rel[4096];
	int err;

	for (int i = 0; i < o->ncgroups; i++) {
		const char *arg = o->cgroups[i];

		err = cgfs_normalize(s->mount, arg, rel, sizeof(rel));
		if (!err)
			err = cgfs_path_to_id(s->mount, rel, &s->filter[i]);
		if (err) {
			fprintf(stderr,
				"iotrace: --cgroup %s: no such cgroup under the cgroup2 mount %s (%s); "
				"give a path relative to it, e.g. /system.slice, or an absolute path "
				"inside it\n",
				arg, s->mount, strerror(-err));
			return err;
		}
	}
	s->nfilter = o->ncgroups;
	return 0;
}

bool session_wanted(const struct session *s, uint64_t id)
{
	if (!s->nfilter)
		return true;
	for (int i = 0; i < s->nfilter; i++)
		if (s->filter[i] == id)
			return true;
	return false;
}

/*
 * The path of cgroup id from the name cache, walking the cgroup tree again
 * on a miss unless *refreshed says this emit already did.  0 or -ENOENT.
 */
static int cgroup_path_of(struct session *s, uint64_t id, char *path, size_t len, bool *refreshed)
{
	if (cgfs_cache_lookup(s->cache, id, path, len) == 0)
		return 0;
	if (*refreshed)
		return -ENOENT;
	cgfs_cache_refresh(s->cache);
	*refreshed = true;
	return cgfs_cache_lookup(s->cache, id, path, len);
}

/* Name a workload once: path from the cgroup tree, then runtime and name. */
void session_identify(struct session *s, struct wl_entry *e, bool *refreshed)
{
	struct wl_class cls = { 0 };
	char path[WL_PATH_MAX];

	if (e->named)
		return;
	/* Named in cls, then kept in e at the length of each name (wl_entry_set_class). */
	if (e->id == IOTRACE_UNATTRIBUTED_ID) {
		cls.kind = WL_KIND_HOST;
		snprintf(cls.name, sizeof(cls.name), "unattributed");
	} else if (e->path_known || cgroup_path_of(s, e->id, path, sizeof(path), refreshed) == 0) {
		/* A cgroup pruned before it was named: the collector kept its path. */
		if (!e->path_known) {
			if (wl_entry_set_path(e, path))
				return; /* out of memory: tried again at its next row */
			e->path_known = true;
		}
		wl_classify(e->path, &cls);
		/* The daemon's own answer first: its --data-root may be anywhere. */
		if (cls.runtime && !strcmp(cls.runtime, "docker") && docker_name_from_api(&cls))
			wl_name_from_runtime(&cls, DOCKER_ROOT);
	} else {
		/* Gone before we could see it: still reported, by id. */
		cls.kind = WL_KIND_CGROUP;
		snprintf(cls.name, sizeof(cls.name), "cgroup-%llu", (unsigned long long)e->id);
	}
	/* Out of memory: unnamed still, tried again at its next row too. */
	if (wl_entry_set_class(e, &cls) == 0)
		e->named = true;
}

/*
 * Name a VM once: libvirt's name and uuid, else QEMU's -name, else
 * kvm-<pid>; and the cgroup its process is in.
 */
void session_identify_vm(struct session *s, struct vm_entry *vm)
{
	struct vm_name nm;
	struct wl_class cls;
	bool refreshed = false;
	int stuck = 0;

	if (vm->named)
		return;
	if (vm_namer_resolve(s->namer, (int)vm->pid, &nm, &stuck) == 0) {
		snprintf(vm->name, sizeof(vm->name), "%s", nm.name);
		snprintf(vm->uuid, sizeof(vm->uuid), "%s", nm.uuid);
		vm->name_source = vm_name_source_str(nm.source);
		if (stuck && !s->libvirt_warned) {
			fprintf(stderr,
				"iotrace: warning: libvirtd does not answer; naming VMs from "
				"QEMU's command line until it does\n");
			s->libvirt_warned = true;
		}
	} else {
		snprintf(vm->name, sizeof(vm->name), "kvm-%u", vm->pid);
		vm->name_source = "pid";
	}
	/*
	 * The main thread's cgroup while the process lives; for a VM that came
	 * and went within an interval, the one its first KVM event came from.
	 */
	if (cgfs_proc_cgroup(NULL, (int)vm->pid, vm->cgroup_path, sizeof(vm->cgroup_path)) ||
	    cgfs_path_to_id(s->mount, vm->cgroup_path, &vm->cgroup_id)) {
		vm->cgroup_id = vm->bpf_cgroup_id;
		if (!vm->cgroup_id || cgroup_path_of(s, vm->cgroup_id, vm->cgroup_path,
						     sizeof(vm->cgroup_path), &refreshed))
			vm->cgroup_path[0] = '\0';
	}
	if (vm->cgroup_path[0]) {
		wl_classify(vm->cgroup_path, &cls);
		vm->runtime = cls.runtime;
	}
	vm->named = true;
}

int session_open(struct session *s, const struct session_opts *o)
{
	struct loader_opts lo = { .prog = o->t->prog, .pmu = o->t->pmu, .verbose = o->t->verbose };
	uint64_t dropped = 0;
	char err[2048];
	int e;

	e = cgfs_find_mount("/proc/mounts", s->mount, sizeof(s->mount));
	if (e) {
		fprintf(stderr,
			"iotrace: no cgroup2 file system is mounted (%s); workloads are cgroup2 "
			"cgroups: mount it, e.g. mount -t cgroup2 none /sys/fs/cgroup/unified\n",
			strerror(-e));
		return 1;
	}
	if (resolve_filters(s, o->t))
		return 1;
	s->cache = cgfs_cache_new(s->mount, IOTRACE_MAX_WORKLOADS);
	s->devnames = blkdev_names_new(NULL, NULL);
	if (!s->cache || !s->devnames || wl_table_init(&s->table, IOTRACE_MAX_WORKLOADS) ||
	    vm_table_init(&s->vms, IOTRACE_MAX_VMS)) {
		fprintf(stderr, "iotrace: out of memory\n");
		return 1;
	}
	cgfs_cache_refresh(s->cache);
	if (cycles_tsc_hz(&s->tsc_hz)) {
		fprintf(stderr,
			"iotrace: cannot find the TSC or CPU frequency to estimate cycles\n");
		return 1;
	}
	e = loader_open(&s->loader, &lo, err, sizeof(err));
	if (e) {
		fprintf(stderr, "iotrace: %s\n", err);
		return 1;
	}
	if (s->loader.net_off)
		fprintf(stderr, "iotrace: warning: no network figures: %s\n", s->loader.net_off);
	if (o->bpf_stats) {
		e = loader_enable_stats(&s->loader);
		if (e)
			fprintf(stderr,
				"iotrace: warning: cannot turn on BPF run-time statistics (%s): "
				"iotrace's own cost is not shown\n",
				strerror(-e));
	}
	/* libvirt names VMs when its daemon runs; else QEMU's -name does. */
	s->namer = vm_namer_open(NULL, 1000);
	if (collector_init(&s->coll, &s->loader)) {
		fprintf(stderr, "iotrace: cannot set up the collector: out of memory\n");
		return 1;
	}
	/* Removed cgroups' kernel entries are pruned: the maps stay bounded. */
	e = collector_use_cgroups(&s->coll, s->mount, s->cache);
	if (e)
		fprintf(stderr,
			"iotrace: warning: cannot open the cgroup2 mount %s (%s): entries of removed "
			"cgroups stay in the kernel tables\n",
			s->mount, strerror(-e));
	e = collector_find_vms(&s->coll);
	if (e < 0)
		fprintf(stderr, "iotrace: warning: cannot look for running VMs in /proc: %s\n",
			strerror(-e));
	/* Attached: what only loading and attaching needed goes now. */
	e = privs_drop_after_attach(&dropped);
	if (e)
		fprintf(stderr, "iotrace: warning: cannot drop capabilities after attaching: %s\n",
			strerror(-e));
	else if (o->t->verbose)
		fprintf(stderr, "iotrace: capabilities dropped after attaching: 0x%llx\n",
			(unsigned long long)dropped);
	return 0;
}

int session_read(struct session *s)
{
	int err = collector_read(&s->coll, &s->table, &s->vms);

	if (err) {
		fprintf(stderr, "iotrace: cannot read the BPF maps: %s\n", strerror(-err));
		return err;
	}
	/* Name new VMs now, while their processes can still be asked. */
	for (size_t i = 0; i < s->vms.n; i++)
		session_identify_vm(s, s->vms.vms[i]);
	return 0;
}

void session_close(struct session *s)
{
	collector_free(&s->coll);
	loader_close(&s->loader);
	wl_table_free(&s->table);
	vm_table_free(&s->vms);
	vm_namer_close(s->namer);
	s->namer = NULL;
	cgfs_cache_free(s->cache);
	s->cache = NULL;
	blkdev_names_free(s->devnames);
	s->devnames = NULL;
}
