#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A workload's block I/O split by device.
#
# One cgroup does exactly 3000 reads on loop device A, then 5000 reads and
# 1000 writes on loop device B, under `iotrace record` restricted to it.
# Its summary's block.devices must list exactly A and B, by number and
# name, with exact op and byte counts that add up to the workload's own;
# its interval lines' device figures must add up to the summary's.  Then
# `iotrace top`, in tmux, with the cgroup reading from both devices: the
# drill-down lists both devices by name.
#
# Env: IOTRACE, IOGEN.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READS_A=3000
READS_B=5000
WRITES_B=1000
BS=4096

require_root
require_cmd jq losetup dd truncate tmux
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN"

cg=$(mk_cgroup devs)
rel=$(cg_rel "$cg")
name=${rel##*/}
loop_a=$(mk_loop 64)
loop_b=$(mk_loop 64)
dev_a=$(cat "/sys/class/block/${loop_a##*/}/dev")
dev_b=$(cat "/sys/class/block/${loop_b##*/}/dev")
echo "# A: $loop_a ($dev_a), B: $loop_b ($dev_b)"
out=$TEST_TMP/out.json
err=$TEST_TMP/iotrace.err

# ---- record: exact counts per device -----------------------------------------

iotrace_start "$err" record --interval 1 --cgroup "$rel" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"
rc=0
"$IOGEN" --cgroup "$cg" rand --dev "$loop_a" --reads "$READS_A" --writes 0 --bs "$BS" \
	>"$TEST_TMP/iogen_a.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "iogen on A exits 0 ($(cat "$TEST_TMP/iogen_a.out"))"
rc=0
"$IOGEN" --cgroup "$cg" rand --dev "$loop_b" --reads "$READS_B" --writes "$WRITES_B" \
	--bs "$BS" >"$TEST_TMP/iogen_b.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "iogen on B exits 0 ($(cat "$TEST_TMP/iogen_b.out"))"
# Let the last interval be read before stopping.
sleep 1.5
iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0 on SIGINT"

[[ -s $out ]] || fatal "iotrace wrote no output to $out"
bad=$(json_bad_lines "$out")
assert_eq "${bad:-none}" none "every line is a JSON object (bad line numbers)"

echo "# last self line: $(grep '"type":"self"' "$out" | tail -n 1)"
sf() { summary_field "$out" "$rel" "$@"; }
# dev_field DEV JQPATH: JQPATH of DEV's entry in the summary's device list.
dev_field() {
	sf "[.block.devices[] | select(.dev == \"$1\")] | if length == 1 then .[0] | $2 else \"<\(length) entries for $1>\" end"
}
# dev_done DEV FIELD: FIELD of DEV's entry, with DEV's I/Os left unfinished (lib.sh done()).
dev_done() {
	sf "done_on(\"$1\"; .$2)"
}

assert_eq "$(sf 'done(.read_ops)')" $((READS_A + READS_B)) "the workload's read_ops"
check_unfinished "$out" "$rel"
assert_eq "$(sf '[.block.devices[].dev] | sort | join(" ")')" \
	"$(printf '%s\n' "$dev_a" "$dev_b" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"block.devices lists exactly A and B"
assert_eq "$(dev_field "$dev_a" .name)" "${loop_a##*/}" "A is named after its device"
assert_eq "$(dev_field "$dev_b" .name)" "${loop_b##*/}" "B is named after its device"
assert_eq "$(dev_done "$dev_a" read_ops)" "$READS_A" "A read_ops"
assert_eq "$(dev_done "$dev_a" write_ops)" 0 "A write_ops"
assert_eq "$(dev_done "$dev_a" read_bytes)" $((READS_A * BS)) "A read_bytes"
assert_eq "$(dev_done "$dev_b" read_ops)" "$READS_B" "B read_ops"
assert_eq "$(dev_done "$dev_b" write_ops)" "$WRITES_B" "B write_ops"
assert_eq "$(dev_done "$dev_b" read_bytes)" $((READS_B * BS)) "B read_bytes"
assert_eq "$(dev_done "$dev_b" write_bytes)" $((WRITES_B * BS)) "B write_bytes"
assert_eq "$(sf '[.block.devices[] | .read_ops + .write_ops] | add')" \
	"$(sf '.block.read_ops + .block.write_ops')" \
	"the devices' ops add up to the workload's"
assert_eq "$(interval_sum "$out" "$rel" "[.block.devices[] | select(.dev == \"$dev_b\") | .read_ops] | add // 0")" \
	"$(dev_field "$dev_b" .read_ops)" "B: interval lines' read_ops add up to the summary's"
assert_eq "$(jq -nR -r "$_JQ_RECS"'[recs[] | select(.type == "self") | .lost.blk_dev_full, .devices_untracked] | add' "$out")" \
	0 "nothing lost from the device split (self lines)"

# ---- top: the drill-down lists both devices ---------------------------------------

SESSION=iotrace-devs-$$

# Reads on both devices until the cgroup is killed at exit.
"$IOGEN" --cgroup "$cg" rand --dev "$loop_a" --reads 100000000 --writes 0 >/dev/null 2>&1 &
disown $!
"$IOGEN" --cgroup "$cg" rand --dev "$loop_b" --reads 100000000 --writes 0 >/dev/null 2>&1 &
disown $!
on_exit tmux_kill "$SESSION"
tmux new-session -d -s "$SESSION" -x 150 -y 40 \
	"$(printf '%q ' "$IOTRACE" top -d 0.5 --cgroup "$rel") 2>$TEST_TMP/top.err; echo \$? >$TEST_TMP/top.exit; sleep 600"
tmux_wait_for "$SESSION" "top shows the workload" 20 tmux_screen_has "$SESSION" "^$name "
tmux send-keys -t "$SESSION" Enter
tmux_wait_for "$SESSION" "the drill-down lists A by name and number" 10 \
	tmux_screen_has "$SESSION" "${loop_a##*/} \($dev_a\)"
tmux_wait_for "$SESSION" "the drill-down lists B by name and number" 5 \
	tmux_screen_has "$SESSION" "${loop_b##*/} \($dev_b\)"
assert_match "$(tmux_screen "$SESSION")" "latency over all devices" \
	"the drill-down says the latency is over all devices"
tmux send-keys -t "$SESSION" q
# Its exit status, so that a sanitizer report (which aborts) fails here too.
tmux_wait_for "$SESSION" "top exits on q" 10 test -s "$TEST_TMP/top.exit"
assert_eq "$(cat "$TEST_TMP/top.exit")" 0 "iotrace top exits 0 ($(head -c 300 "$TEST_TMP/top.err"))"
tmux_kill "$SESSION"
_cg_kill "$cg"

finish
