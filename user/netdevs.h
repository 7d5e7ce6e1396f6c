/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The devices the BPF side attributes to a workload (net_devs): VMs' taps
 * and the host ends of containers' veths, kept in step with what user
 * space finds: entered when found, removed when the owner lets go of them
 * or is gone.  The count in net_state.nr_devs lets the device programs
 * return at once while there are none.
 */
#ifndef IOTRACE_NETDEVS_H
#define IOTRACE_NETDEVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotrace.h"

struct netdev_entry {
	struct iotrace_dev_key key;
	struct iotrace_dev_owner owner;
};

struct netdevs {
	int map_fd;
	__u64 *nr_devs; /* net_state.nr_devs, in the programs' .bss */
	struct netdev_entry *devs;
	size_t n;
	size_t refused; /* devices not entered: the map is full */
};

int netdevs_init(struct netdevs *nd, int map_fd, __u64 *nr_devs);
void netdevs_free(struct netdevs *nd);

/*
 * Make owner's devices (same id and kind) exactly keys[0..n): enter the
 * new ones, remove those it no longer holds.  A device another owner holds
 * already stays with it.  0, or -errno of the first failed map update (the
 * rest are still attempted).
 */
int netdevs_sync(struct netdevs *nd, uint64_t id, enum iotrace_dev_kind kind,
		 const struct iotrace_dev_key *keys, size_t n);

/* Remove all of an owner's devices. */
void netdevs_forget(struct netdevs *nd, uint64_t id, enum iotrace_dev_kind kind);

static inline int netdevs_sync_vm(struct netdevs *nd, uint32_t tgid,
				  const struct iotrace_dev_key *keys, size_t n)
{
	return netdevs_sync(nd, tgid, IOTRACE_DEV_VM, keys, n);
}

static inline void netdevs_forget_vm(struct netdevs *nd, uint32_t tgid)
{
	netdevs_forget(nd, tgid, IOTRACE_DEV_VM);
}

#endif
