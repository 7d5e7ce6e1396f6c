// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The one definition of the maps that several subsystem objects share. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define IOTRACE_DEFINE_MAPS
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
