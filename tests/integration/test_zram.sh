#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Bio-based devices have no requests: only block_bio_queue and
# block_bio_complete fire.  A zram device stands for them (dm and md are
# bio-based too).  Exact 4 KiB direct reads and writes from one cgroup must
# be counted exactly, against the generator's counts and the device's own
# /sys/block/zramN/stat, with latency samples, and all on the zram device
# in block.devices.
#
# Env: IOTRACE (default build/iotrace), IOGEN (default build/tools/iogen).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READS=2000
WRITES=500
BS=4096

require_root
require_cmd jq dd
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN" "$(command -v dd)"
[[ -w /sys/class/zram-control/hot_add ]] ||
	fatal "zram is not available (/sys/class/zram-control/hot_add): the kernel needs CONFIG_ZRAM"

id=$(cat /sys/class/zram-control/hot_add)
on_exit sh -c "echo $id > /sys/class/zram-control/hot_remove"
dev=/dev/zram$id
echo 64M >"/sys/block/zram$id/disksize"
# The first open scans the device: do it here, outside the test cgroup.
dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none

cg=$(mk_cgroup a)
rel=$(cg_rel "$cg")
out=$TEST_TMP/out.json
err=$TEST_TMP/iotrace.err

iotrace_start "$err" record --cgroup "$rel" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"
read -r r0 w0 < <(awk '{ print $1, $5 }' "/sys/block/zram$id/stat")
rc=0
"$IOGEN" --cgroup "$cg" rand --dev "$dev" --reads "$READS" --writes "$WRITES" \
	--bs "$BS" >"$TEST_TMP/iogen.out" 2>&1 || rc=$?
read -r r1 w1 < <(awk '{ print $1, $5 }' "/sys/block/zram$id/stat")
assert_eq "$rc" 0 "iogen rand on zram exits 0"
sleep 1.2
iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0"

sf() { summary_field "$out" "$rel" "$1"; }
assert_eq "$((r1 - r0))" "$READS" "fixture: the device completed exactly the reads"
assert_eq "$((w1 - w0))" "$WRITES" "fixture: the device completed exactly the writes"
assert_eq "$(sf 'done(.read_ops)')" "$READS" "zram read_ops"
assert_eq "$(sf 'done(.write_ops)')" "$WRITES" "zram write_ops"
assert_eq "$(sf 'done(.read_bytes)')" "$((READS * BS))" "zram read_bytes"
assert_eq "$(sf 'done(.write_bytes)')" "$((WRITES * BS))" "zram write_bytes"
check_unfinished "$out" "$rel"
assert_gt "$(sf .block.lat_p50_us)" 0 "zram latency measured (queue -> complete)"
# Bio-based: the device is the bio's at completion.
zdev=$(cat "/sys/block/zram$id/dev")
assert_eq "$(sf '[.block.devices[] | "\(.dev) \(.name)"] | join(",")')" "$zdev zram$id" \
	"block.devices: the zram device alone, by number and name"
assert_eq "$(sf "done_on(\"$zdev\"; .read_ops)") $(sf "done_on(\"$zdev\"; .write_ops)")" \
	"$READS $WRITES" "block.devices: all of the reads and writes on the zram device"
self=$(grep '"type":"self"' "$out" | tail -n 1)
echo "# last self line: $self"
assert_match "$(jq -r '.inflight_at_exit | type' <<<"$self")" '^number$' \
	"the run's last self line counts the I/O left in flight"

finish
