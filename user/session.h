/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A tracing session, shared by the commands that show workloads (record,
 * top): the programs loaded and attached, the collector and the workload
 * and VM tables it feeds, and the naming of what they hold (cgroup paths,
 * container and VM names).  It writes nothing but warnings; the commands
 * turn its tables into rows (rows.h) and show them their way.
 */
#ifndef IOTRACE_SESSION_H
#define IOTRACE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "blkdev_names.h"
#include "cgroupfs.h"
#include "cli.h"
#include "collector.h"
#include "loader.h"
#include "vm_namer.h"
#include "vmtable.h"
#include "wltable.h"

struct session_opts {
	const struct trace_opts *t; /* cgroup filter, program type, cycle source */
	bool bpf_stats; /* turn on BPF run-time statistics (iotrace's own cost) */
};

struct session {
	char mount[4096]; /* the cgroup2 mount */
	struct cgfs_cache *cache;
	uint64_t filter[CLI_MAX_CGROUPS];
	int nfilter;
	struct loader loader;
	struct collector coll;
	struct wl_table table;
	struct vm_table vms;
	struct vm_namer *namer; /* libvirt, bounded in time; NULL: command lines only */
	struct blkdev_names *devnames; /* block device names, for the rows' device lists */
	bool libvirt_warned;
	uint64_t tsc_hz;
};

/* A session that holds nothing: session_close() on it does nothing. */
#define SESSION_INIT                  \
	{                             \
		.loader = LOADER_INIT \
	}

/*
 * Everything up to attached programs and a first look for running VMs.
 * On failure says why on stderr (with what to do) and returns non-zero;
 * session_close() is still needed.
 */
int session_open(struct session *s, const struct session_opts *o);

/* Read one interval into the tables, and name the VMs that are new. */
int session_read(struct session *s);

/* Whether cgroup id passes the --cgroup filter. */
bool session_wanted(const struct session *s, uint64_t id);

/*
 * Name a workload (once): path, runtime, container id and name.  A cache
 * miss walks the cgroup tree again, once per *refreshed (reset it at each
 * round of naming).
 */
void session_identify(struct session *s, struct wl_entry *e, bool *refreshed);

/* Name a VM (once): libvirt, QEMU's -name, or kvm-<pid>; and its cgroup. */
void session_identify_vm(struct session *s, struct vm_entry *vm);

/* Detach and free everything. */
void session_close(struct session *s);

#endif
