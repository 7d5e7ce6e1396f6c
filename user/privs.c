// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Giving up the capabilities needed only to attach: see privs.h. */
#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#define CAP_BIT(c) (1ull << (c))

uint64_t privs_keep_mask(uint64_t held)
{
	uint64_t keep = CAP_BIT(CAP_BPF) | CAP_BIT(CAP_NET_ADMIN) | CAP_BIT(CAP_SYS_PTRACE) |
			CAP_BIT(CAP_DAC_READ_SEARCH);

	if (!(held & CAP_BIT(CAP_BPF)))
		keep |= CAP_BIT(CAP_SYS_ADMIN);
	return held & keep;
}

int privs_drop_after_attach(uint64_t *dropped)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t held, keep;

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	held = data[0].effective | (uint64_t)data[1].effective << 32;
	keep = privs_keep_mask(held);
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));

		data[i].effective &= k;
		data[i].permitted &= k;
		data[i].inheritable &= k;
	}
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	if (dropped)
		*dropped = held & ~keep;
	return 0;
}
