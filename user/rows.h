/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * From the session's tables to rows (output.h): the figures every command
 * shows, computed once here (rates, cycles per I/O, percentiles, a VM's
 * roles and exit reasons), so that record, top and the exporters agree.
 */
#ifndef IOTRACE_ROWS_H
#define IOTRACE_ROWS_H

#include "output.h"
#include "session.h"
#include "unfinished.h"

/* Scratch space for a workload row's device list: it lives until the next fill. */
struct wl_row_buf {
	struct out_blk_dev devs[WL_MAX_DEVS];
};

/*
 * A workload's row over an interval (c = &e->delta) or the run (&e->total);
 * its device list (the devices with I/O in that period, by number) in rb.
 */
void rows_fill(const struct session *s, struct out_row *row, struct wl_row_buf *rb,
	       const struct wl_entry *e, const struct wl_counters *c, enum out_row_type type,
	       double interval_s);

/*
 * A summary row's unfinished I/Os: those of the cgroup or VM process `id`
 * in u (from collector_unfinished()), named.  The row points into u.
 */
void rows_fill_unfinished(const struct session *s, struct out_row *row, struct unfinished *u,
			  enum unfinished_owner owner, uint64_t id);

/* Scratch space for one VM row's lists: they live until the next fill. */
struct vm_row_buf;

struct vm_row_buf *rows_vm_buf_new(void);
void rows_vm_buf_free(struct vm_row_buf *vb);

/* A VM's row over the interval or, with summary, the run. */
void rows_fill_vm(const struct session *s, struct out_row *row, struct vm_row_buf *vb,
		  const struct vm_entry *vm, bool summary, double interval_s);

/*
 * The self figures from counters cnt (interval deltas or run totals) and
 * the programs' skipped runs.  Returns whether anything in it is non-zero.
 */
bool rows_fill_self(const struct session *s, struct out_self *self, const uint64_t *cnt,
		    uint64_t prog_missed, double interval_s);

#endif
