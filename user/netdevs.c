// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Keeping net_devs (BPF) in step with the devices user space finds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "netdevs.h"

int netdevs_init(struct netdevs *nd, int map_fd, __u64 *nr_devs)
{
	memset(nd, 0, sizeof(*nd));
	nd->map_fd = map_fd;
	nd->nr_devs = nr_devs;
	nd->devs = calloc(IOTRACE_MAX_NET_DEVS, sizeof(*nd->devs));
	return nd->devs ? 0 : -ENOMEM;
}

void netdevs_free(struct netdevs *nd)
{
	free(nd->devs);
	nd->devs = NULL;
	nd->n = 0;
}

static bool same_key(const struct iotrace_dev_key *a, const struct iotrace_dev_key *b)
{
	return a->netns == b->netns && a->ifindex == b->ifindex;
}

static bool owned_by(const struct netdev_entry *e, uint64_t id, enum iotrace_dev_kind kind)
{
	return e->owner.id == id && e->owner.kind == (__u32)kind;
}

/* Remove entry i (swap with the last). */
static void drop(struct netdevs *nd, size_t i)
{
	bpf_map_delete_elem(nd->map_fd, &nd->devs[i].key);
	nd->devs[i] = nd->devs[--nd->n];
	/* The programs read it with a plain load; they see the drop at once. */
	__atomic_store_n(nd->nr_devs, (__u64)nd->n, __ATOMIC_RELAXED);
}

int netdevs_sync(struct netdevs *nd, uint64_t id, enum iotrace_dev_kind kind,
		 const struct iotrace_dev_key *keys, size_t n)
{
	struct iotrace_dev_owner owner = { .id = id, .kind = kind };
	int err = 0;
	size_t i, k;

	for (i = 0; i < nd->n;) {
		bool kept = false;

		for (k = 0; k < n && !kept; k++)
			kept = same_key(&nd->devs[i].key, &keys[k]);
		if (owned_by(&nd->devs[i], id, kind) && !kept)
			drop(nd, i);
		else
			i++;
	}
	for (k = 0; k < n; k++) {
		bool have = false;

		for (i = 0; i < nd->n && !have; i++)
			have = same_key(&nd->devs[i].key, &keys[k]);
		if (have)
			continue; /* a device held by two owners stays with the first */
		if (nd->n == IOTRACE_MAX_NET_DEVS) {
			nd->refused++;
			continue;
		}
		if (bpf_map_update_elem(nd->map_fd, &keys[k], &owner, BPF_ANY)) {
			if (!err)
				err = -errno;
			nd->refused++;
			continue;
		}
		nd->devs[nd->n].key = keys[k];
		nd->devs[nd->n++].owner = owner;
		__atomic_store_n(nd->nr_devs, (__u64)nd->n, __ATOMIC_RELAXED);
	}
	return err;
}

void netdevs_forget(struct netdevs *nd, uint64_t id, enum iotrace_dev_kind kind)
{
	for (size_t i = 0; i < nd->n;) {
		if (owned_by(&nd->devs[i], id, kind))
			drop(nd, i);
		else
			i++;
	}
}
