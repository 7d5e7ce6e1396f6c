#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Buffered writes made durable by fsync are charged to the writer's cgroup.
#
# Cgroup A writes 2000 sequential 4k blocks through the page cache of a loop
# device and fsyncs.  The writeback bios are built from the dirty pages, so
# they merge (the op count is not fixed) but every byte must be charged to A,
# not to a kworker or "unattributed".
#
# Env: IOTRACE (default build/iotrace), IOGEN (default build/tools/iogen).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WRITES=2000
BS=4096

require_root
require_cmd jq losetup dd truncate
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN"

cg_a=$(mk_cgroup a)
rel_a=$(cg_rel "$cg_a")
loop=$(mk_loop 64)
out=$TEST_TMP/out.json
err=$TEST_TMP/iotrace.err

# The absolute form of --cgroup (test_block_cpu uses the relative one).
iotrace_start "$err" record --interval 1 --cgroup "$cg_a" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"

rc=0
"$IOGEN" --cgroup "$cg_a" buffered --dev "$loop" --writes "$WRITES" \
	--bs "$BS" >"$TEST_TMP/iogen.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "iogen buffered in A exits 0 ($(cat "$TEST_TMP/iogen.out"))"

# Let the last interval be read before stopping.
sleep 1.5
iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0 on SIGINT"

[[ -s $out ]] || fatal "iotrace wrote no output to $out"
bad=$(json_bad_lines "$out")
assert_eq "${bad:-none}" none "every line is a JSON object (bad line numbers)"
assert_eq "$(record_values "$out" .workload.cgroup_path)" "$rel_a" \
	"--cgroup filter: only A appears"
assert_eq "$(summary_count "$out" "$rel_a")" 1 "one summary line for A"
assert_eq "$(summary_field "$out" "$rel_a" 'done(.write_bytes)')" \
	"$((WRITES * BS))" "A write_bytes: all writeback charged to A"
assert_ge "$(summary_field "$out" "$rel_a" .block.write_ops)" 1 \
	"A write_ops >= 1"
assert_eq "$(summary_field "$out" "$rel_a" 'done(.read_ops)')" 0 "A read_ops"
check_unfinished "$out" "$rel_a"

finish
