/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Names of block devices by number (major:minor), as the kernel names them
 * in /dev: DEVNAME= in /sys/dev/block/MAJ:MIN/uevent, else the name column
 * of /proc/partitions (sysfs may be missing in a container).
 *
 * A name is read once and kept BLKDEV_NAME_TTL_S seconds, so that naming
 * every row of every interval costs no file reads; then read again, since
 * a number freed by a removed device (dynamic majors: nvme partitions, dm)
 * may come back under another name.  The cache is direct-mapped and bounded:
 * two devices sharing a slot only cost reads.
 */
#ifndef IOTRACE_BLKDEV_NAMES_H
#define IOTRACE_BLKDEV_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define BLKDEV_NAME_MAX 64 /* DISK_NAME_LEN is 32; DEVNAME may hold a subfolder */
#define BLKDEV_NAME_TTL_S 30
#define BLKDEV_NAMES_SLOTS 256

struct blkdev_names;

/*
 * A cache reading <sysfs_root>/dev/block and <procfs_root>/partitions
 * (NULL: /sys and /proc).  NULL when out of memory.
 */
struct blkdev_names *blkdev_names_new(const char *sysfs_root, const char *procfs_root);
void blkdev_names_free(struct blkdev_names *n);

/*
 * The name of device major:minor into buf, at time now_s (any monotonic
 * seconds).  0, or -ENOENT when neither file knows the device (buf is then
 * ""; the answer is cached too).
 */
int blkdev_name(struct blkdev_names *n, uint32_t major, uint32_t minor, uint64_t now_s, char *buf,
		size_t len);

/* DEVNAME's value in the text of a uevent file into buf.  0 or -ENOENT. */
int blkdev_uevent_devname(const char *uevent, char *buf, size_t len);

/* The name of major:minor in the text of /proc/partitions into buf.  0 or -ENOENT. */
int blkdev_partitions_name(const char *partitions, uint32_t major, uint32_t minor, char *buf,
			   size_t len);

#endif
