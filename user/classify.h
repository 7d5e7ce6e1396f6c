/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a cgroup path says about the workload in it: container runtime,
 * container id, VM, systemd unit.  Pure string work, so it is unit-tested on
 * real-world paths; naming from on-disk runtime state is separate.
 */
#ifndef IOTRACE_CLASSIFY_H
#define IOTRACE_CLASSIFY_H

#include <stddef.h>
#include <stdio.h>

enum wl_kind {
	WL_KIND_CGROUP, /* a plain cgroup */
	WL_KIND_CONTAINER, /* docker, podman, containerd, cri-o, kubernetes */
	WL_KIND_VM, /* libvirt machine (VMs found by KVM come later) */
	WL_KIND_HOST, /* the root cgroup, unattributed I/O */
};

#define WL_ID_MAX 129 /* 128 hex digits is more than any runtime uses */
#define WL_NAME_MAX 256

struct wl_class {
	enum wl_kind kind;
	const char *runtime; /* static string: "docker", ... or NULL */
	char container_id[WL_ID_MAX]; /* "" when none */
	char name[WL_NAME_MAX]; /* never empty */
};

/* "cgroup", "container", "vm", "host". */
const char *wl_kind_name(enum wl_kind kind);

/*
 * Classify a cgroup path relative to the cgroup2 mount ("/" is the root).
 * The name is the best the path alone gives: the systemd unit, the libvirt
 * machine name, a 12-digit short container id, or the last path component.
 */
void wl_classify(const char *cgroup_path, struct wl_class *out);

/*
 * Replace out->name with the name the runtime's state on disk gives, when
 * it gives one (docker: <docker_root>/containers/<id>/config.v2.json).
 * docker_root is normally /var/lib/docker.  Returns 0 when a name was found.
 */
int wl_name_from_runtime(struct wl_class *out, const char *docker_root);

/*
 * Replace out->name with the top-level "Name" of the Docker container
 * object read from f, without its leading '/': docker's config.v2.json and
 * the Engine API's GET /containers/ID/json answer both carry one.  Returns 0
 * when a name was found, -ENOENT when there is none, -EBADMSG when f is not
 * a JSON object; out->name is unchanged unless 0.
 */
int wl_name_from_docker_json(struct wl_class *out, FILE *f);

#endif
