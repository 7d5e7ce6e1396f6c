#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Stopping `iotrace record --output FILE.iotr` in the middle of a run:
#   - SIGTERM: exit 0 within 1 s, the recording complete (its summary
#     there and agreeing with its intervals) with cgroup A's exact counts,
#     and none of iotrace's programs left loaded;
#   - SIGKILL: no chance to clean up, yet the recording is readable up to
#     its last whole interval, with A's exact counts (its I/O ended two
#     intervals before the kill), and nothing left loaded either: every
#     program hangs on a file descriptor (bpf_link), none is pinned.
#
# Env: IOTRACE, IOGEN.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READS=2000
WRITES=500
BS=4096

require_root
require_cmd jq bpftool
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN"

cg_a=$(mk_cgroup a)
rel_a=$(cg_rel "$cg_a")
loop=$(mk_loop 64)

# run_io: A's exact I/O.
run_io() {
	"$IOGEN" --cgroup "$cg_a" rand --dev "$loop" --reads "$READS" --writes "$WRITES" \
		--bs "$BS" >"$TEST_TMP/iogen.out" 2>&1 || fatal "iogen failed: $(cat "$TEST_TMP/iogen.out")"
}

# a_counts FILE: A's "reads writes read_bytes write_bytes" in report's JSON of
# FILE, with those left unfinished at exit when the run's summary is there
# (lib.sh done()).
a_counts() {
	"$IOTRACE" report "$1" --format json >"$TEST_TMP/rep.out" 2>"$TEST_TMP/rep.err" ||
		fatal "report $1 failed: $(cat "$TEST_TMP/rep.err")"
	jq -r --arg p "$rel_a" 'select(.type == "workload" and .workload.cgroup_path == $p)
		| .block as $b | ($b.unfinished // {}) as $u
		| [$b.read_ops + ($u.read_ops // 0), $b.write_ops + ($u.write_ops // 0),
		   $b.read_bytes + ($u.read_bytes // 0), $b.write_bytes + ($u.write_bytes // 0)]
		| join(" ")' \
		"$TEST_TMP/rep.out"
}
expected="$READS $WRITES $((READS * BS)) $((WRITES * BS))"

# ---- SIGTERM ------------------------------------------------------------------
rec=$TEST_TMP/term.iotr
iotrace_start "$TEST_TMP/term.err" record --interval 0.5 --output "$rec"
iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/term.err"
run_io
sleep 1.2
t0=$(date +%s%N)
kill -TERM "$IOTRACE_PID"
rc=0
wait "$IOTRACE_PID" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# exited ${ms} ms after SIGTERM"
assert_eq "$rc" 0 "SIGTERM: record exits 0 ($(tail -c 300 "$TEST_TMP/term.err"))"
assert_lt "$ms" 1000 "SIGTERM: record exits within 1 s"
assert_eq "$(iotrace_programs_left)" 0 "SIGTERM: none of iotrace's programs is left loaded"
assert_eq "$(a_counts "$rec")" "$expected" "SIGTERM: the recording has A's exact counts"
assert_eq "$(jq -r 'select(.type == "report") | "\(.damage.intact) \(.summary.present) \(.summary.mismatches)"' \
	"$TEST_TMP/rep.out")" "true true 0" "SIGTERM: the recording is whole, its summary there and agreeing"

# ---- SIGKILL ------------------------------------------------------------------
rec=$TEST_TMP/kill.iotr
iotrace_start "$TEST_TMP/kill.err" record --interval 0.5 --output "$rec"
iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/kill.err"
run_io
sleep 1.2
kill -KILL "$IOTRACE_PID"
rc=0
wait "$IOTRACE_PID" || rc=$?
assert_eq "$rc" $((128 + 9)) "SIGKILL: record was killed"
assert_eq "$(iotrace_programs_left)" 0 "SIGKILL: none of iotrace's programs is left loaded"
assert_eq "$(a_counts "$rec")" "$expected" "SIGKILL: the recording has A's exact counts"
assert_eq "$(jq -r 'select(.type == "report") | .summary.present' "$TEST_TMP/rep.out")" false \
	"SIGKILL: no summary (the run never ended), the intervals are read"
assert_gt "$(jq -r 'select(.type == "report") | .intervals' "$TEST_TMP/rep.out")" 1 \
	"SIGKILL: the intervals before the kill are there"

finish
