/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The block I/Os still in the in-flight table when a run ends, grouped by
 * owner and device.  Most were really in flight; on this kernel some are
 * I/Os whose completion fired without running iotrace's program (no miss
 * counted: docs/design.md "Completions the kernel did not show"), so that
 * the run's summary tells them apart instead of losing them.
 *
 * Pure: the collector feeds it the table's entries (collector_unfinished()),
 * rows read it.  Unit-tested in tests/unit/test_unfinished.c.
 */
#ifndef IOTRACE_UNFINISHED_H
#define IOTRACE_UNFINISHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotrace.h"
#include "output.h"

/* Whose: a cgroup (by id) or a VM process (by tgid). */
enum unfinished_owner {
	UNFINISHED_CGROUP,
	UNFINISHED_VM,
};

struct unfinished_key {
	uint64_t id;
	uint32_t owner; /* enum unfinished_owner */
	uint32_t dev; /* kernel dev_t the I/O was queued to */
};

/*
 * keys[i] and figs[i] go together; after unfinished_sort() an owner's
 * entries are consecutive, by device number, so that a row can point at
 * them.  figs[i].name is left empty for the caller to fill.
 */
struct unfinished {
	struct unfinished_key *keys;
	struct out_blk_dev *figs;
	size_t n, cap;
	uint64_t ios; /* entries fed */
};

void unfinished_init(struct unfinished *u);
void unfinished_free(struct unfinished *u);

/*
 * One in-flight entry: counted for its cgroup and, when a VM thread
 * submitted it, for that VM too.  -ENOMEM when it could not be kept.
 */
int unfinished_add(struct unfinished *u, const struct iotrace_io_info *io);

void unfinished_sort(struct unfinished *u);

/* The sorted entries of (owner, id), in *figs; returns how many (0: *figs NULL). */
size_t unfinished_of(const struct unfinished *u, enum unfinished_owner owner, uint64_t id,
		     struct out_blk_dev **figs);

#endif
