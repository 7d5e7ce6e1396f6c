#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# I/Os the block layer reshapes, checked against the device's own counters
# (/sys/block/loopN/stat): 4 MiB direct writes that are split into requests
# of max_sectors_kb, buffered sequential reads (readahead), and buffered
# writes that are merged before a final fsync.  The cgroup's ops and bytes
# must equal the device's exactly, and nothing may be recovered late or left
# unattributed.
#
# Env: IOTRACE (default build/iotrace).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd jq losetup dd truncate
require_exec "$IOTRACE"
lock_in_memory "$(command -v dd)" "$(command -v sh)"

cg=$(mk_cgroup a)
rel=$(cg_rel "$cg")
loop=$(mk_loop 256)
dev=$(basename "$loop")
out=$TEST_TMP/out.json
err=$TEST_TMP/iotrace.err

# Fields 1, 3, 5, 7, 16 of the stat file: reads, sectors read, writes,
# sectors written, flushes.  diskstats counts the empty pre-flush write of an
# fsync (blkdev_issue_flush) as a write of 0 sectors, one per flush request;
# iotrace counts only I/O that moves data, so its writes are writes - flushes.
dev_stat() { awk '{ print $1, $3, $5 - $16, $7 }' "/sys/block/$dev/stat"; }

# in_cgroup CMD...: run CMD inside the test cgroup.
in_cgroup() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }

iotrace_start "$err" record --cgroup "$rel" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"

read -r r0 rs0 w0 ws0 < <(dev_stat)
in_cgroup dd if=/dev/zero of="$loop" bs=4M count=8 oflag=direct status=none
in_cgroup dd if="$loop" of=/dev/null bs=64k count=400 skip=1024 status=none
in_cgroup dd if=/dev/zero of="$loop" bs=4k count=300 seek=20000 conv=fsync status=none
read -r r1 rs1 w1 ws1 < <(dev_stat)
sleep 1.2
iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0"

echo "# device: $((r1 - r0)) reads, $((w1 - w0)) data writes; max_sectors_kb" \
	"$(cat "/sys/block/$dev/queue/max_sectors_kb")"
sf() { summary_field "$out" "$rel" "$1"; }
# A 4 MiB direct write is at least four bios (1 MiB each at most), and each
# bio is split again when its pages exceed the queue's segment limit; how
# often depends on how contiguous the buffer happens to be in memory.
assert_ge "$((w1 - w0))" 33 "fixture: the 4 MiB writes became many requests"
assert_eq "$(sf 'done(.read_ops)')" "$((r1 - r0))" "read ops equal the device's"
assert_eq "$(sf 'done(.read_bytes)')" "$(((rs1 - rs0) * 512))" "read bytes equal the device's"
assert_eq "$(sf 'done(.write_ops)')" "$((w1 - w0))" "write ops equal the device's"
assert_eq "$(sf 'done(.write_bytes)')" "$(((ws1 - ws0) * 512))" "write bytes equal the device's"
check_unfinished "$out" "$rel"
self=$(grep '"type":"self"' "$out" | tail -n 1)
assert_eq "$(jq '.recovered' <<<"$self")" 0 "no I/O was recovered late"
assert_eq "$(jq '.unattributed.unseen_complete + .unattributed.rq_no_owner' <<<"$self")" 0 \
	"no I/O was unattributed"

finish
