/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The devices whose traffic the BPF side counts for a VM (net_devs), kept
 * in step with the taps each VM process holds: entered when found, removed
 * when the VM lets go of them or is gone.  The count in net_state.nr_devs
 * lets the device programs return at once while there are none.
 */
#ifndef IOTRACE_NETDEVS_H
#define IOTRACE_NETDEVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotrace.h"

struct netdev_entry {
	struct iotrace_dev_key key;
	uint32_t tgid;
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
 * Make VM tgid's devices exactly keys[0..n): enter the new ones, remove
 * those it no longer holds.  0, or -errno of the first failed map update
 * (the rest are still attempted).
 */
int netdevs_sync_vm(struct netdevs *nd, uint32_t tgid, const struct iotrace_dev_key *keys,
		    size_t n);

/* Remove all of VM tgid's devices. */
void netdevs_forget_vm(struct netdevs *nd, uint32_t tgid);

#endif
