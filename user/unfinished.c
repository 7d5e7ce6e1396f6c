// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* I/Os left in flight at the end of a run.  See unfinished.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unfinished.h"

/* The kernel's REQ_OP_WRITE (include/linux/blk_types.h); the table holds only reads and writes. */
#define KERNEL_REQ_OP_WRITE 1

void unfinished_init(struct unfinished *u)
{
	memset(u, 0, sizeof(*u));
}

void unfinished_free(struct unfinished *u)
{
	free(u->keys);
	free(u->figs);
	unfinished_init(u);
}

static int key_cmp(const struct unfinished_key *a, const struct unfinished_key *b)
{
	if (a->owner != b->owner)
		return a->owner < b->owner ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return 0;
}

/*
 * A linear search: the table holds few entries at the end of a run (the
 * I/Os in flight at that instant), and this runs once per run.
 */
static struct out_blk_dev *entry_of(struct unfinished *u, const struct unfinished_key *k)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!key_cmp(&u->keys[i], k))
			return &u->figs[i];
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct unfinished_key *keys = realloc(u->keys, cap * sizeof(*keys));
		struct out_blk_dev *figs;

		if (!keys)
			return NULL;
		u->keys = keys;
		figs = realloc(u->figs, cap * sizeof(*figs));
		if (!figs)
			return NULL;
		u->figs = figs;
		u->cap = cap;
	}
	u->keys[i] = *k;
	memset(&u->figs[i], 0, sizeof(u->figs[i]));
	u->figs[i].major = IOTRACE_DEV_MAJOR(k->dev);
	u->figs[i].minor = IOTRACE_DEV_MINOR(k->dev);
	u->n++;
	return &u->figs[i];
}

static int count(struct unfinished *u, enum unfinished_owner owner, uint64_t id,
		 const struct iotrace_io_info *io)
{
	struct unfinished_key k = { .id = id, .owner = owner, .dev = io->dev };
	struct out_blk_dev *f = entry_of(u, &k);

	if (!f)
		return -ENOMEM;
	if (io->op == KERNEL_REQ_OP_WRITE) {
		f->write_ops++;
		f->write_bytes += io->bytes;
	} else {
		f->read_ops++;
		f->read_bytes += io->bytes;
	}
	return 0;
}

int unfinished_add(struct unfinished *u, const struct iotrace_io_info *io)
{
	int err = count(u, UNFINISHED_CGROUP, io->cgroup_id, io);

	if (!err && io->vm_tgid)
		err = count(u, UNFINISHED_VM, io->vm_tgid, io);
	if (!err)
		u->ios++;
	return err;
}

void unfinished_sort(struct unfinished *u)
{
	/* Few entries: an insertion sort keeps keys and figures together. */
	for (size_t i = 1; i < u->n; i++) {
		struct unfinished_key k = u->keys[i];
		struct out_blk_dev f = u->figs[i];
		size_t j = i;

		for (; j > 0 && key_cmp(&u->keys[j - 1], &k) > 0; j--) {
			u->keys[j] = u->keys[j - 1];
			u->figs[j] = u->figs[j - 1];
		}
		u->keys[j] = k;
		u->figs[j] = f;
	}
}

size_t unfinished_of(const struct unfinished *u, enum unfinished_owner owner, uint64_t id,
		     struct out_blk_dev **figs)
{
	size_t i = 0, n = 0;

	while (i < u->n && (u->keys[i].owner != owner || u->keys[i].id != id))
		i++;
	while (i + n < u->n && u->keys[i + n].owner == owner && u->keys[i + n].id == id)
		n++;
	*figs = n ? &u->figs[i] : NULL;
	return n;
}
