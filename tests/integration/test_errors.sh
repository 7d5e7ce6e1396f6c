#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `iotrace` rejects bad command lines and unusable settings clearly:
# usage errors exit 2 with a message on stderr, runtime errors exit non-zero
# with a message naming what was wrong, --help exits 0.
#
# Each command runs under `timeout`: an iotrace that accepted a bad command
# line would otherwise record forever.
#
# Env: IOTRACE (default build/iotrace).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TIMEOUT_S=30

require_root
require_cmd timeout
require_exec "$IOTRACE"

# run NAME ARG...: run iotrace ARG..., leaving its exit status in $rc and its
# output in $TEST_TMP/NAME.{out,err}.
run() {
	local name=$1
	shift
	rc=0
	timeout --kill-after=5 "$TIMEOUT_S" "$IOTRACE" "$@" \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" </dev/null ||
		rc=$?
	stdout=$(cat "$TEST_TMP/$name.out")
	stderr=$(cat "$TEST_TMP/$name.err")
	if ((rc == 124 || rc == 137)); then
		fail "iotrace $*" "still running after $TIMEOUT_S s"
	fi
}

# expect_usage_error NAME ERE ARG...: exit 2, stderr matches ERE.
expect_usage_error() {
	local name=$1 ere=$2
	shift 2
	run "$name" "$@"
	assert_eq "$rc" 2 "iotrace $* exits 2"
	assert_match "$stderr" "$ere" "iotrace $*: usage error on stderr"
}

run no_cgroup record --cgroup /no-such-cgroup-xyz
assert_gt "$rc" 0 "iotrace record --cgroup /no-such-cgroup-xyz fails"
assert_match "$stderr" 'no-such-cgroup-xyz' \
	"unknown cgroup: stderr names the cgroup"

expect_usage_error interval0 'interval' record --interval 0
expect_usage_error format_xml 'format|xml' record --format xml
expect_usage_error bad_opt 'no-such-option' record --no-such-option

run help --help
assert_eq "$rc" 0 "iotrace --help exits 0"
assert_match "$stdout" 'record' "iotrace --help lists 'record' on stdout"

run bad_output record --output /nonexistent-dir/x.json --duration 1
assert_gt "$rc" 0 "iotrace record --output /nonexistent-dir/x.json fails"
assert_match "$stderr" '/nonexistent-dir/x\.json' \
	"unwritable output: stderr names the path"

# Without privileges: a clear message naming what is missing.  The binary is
# copied where the unprivileged user can reach it.
require_cmd setpriv bpftool
nopriv=$(mktemp /dev/shm/iotrace-nopriv.XXXXXX)
on_exit rm -f "$nopriv"
install -m 755 "$IOTRACE" "$nopriv"
rc=0
timeout "$TIMEOUT_S" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all "$nopriv" record --duration 1 >/dev/null 2>"$TEST_TMP/nopriv.err" || rc=$?
assert_gt "$rc" 0 "iotrace record without privileges fails"
assert_match "$(cat "$TEST_TMP/nopriv.err")" 'CAP_BPF' \
	"missing privileges: stderr names CAP_BPF"

# Nothing stays attached after a run ends, by duration or by SIGTERM.
run duration record --duration 1
assert_eq "$rc" 0 "iotrace record --duration 1 exits 0"
assert_eq "$(iotrace_programs_left)" 0 "after --duration: none of iotrace's programs is loaded"
iotrace_start "$TEST_TMP/term.err" record --output /dev/null
iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/term.err"
kill -TERM "$IOTRACE_PID"
rc=0
wait "$IOTRACE_PID" || rc=$?
assert_eq "$rc" 0 "iotrace record exits 0 on SIGTERM"
assert_eq "$(iotrace_programs_left)" 0 "after SIGTERM: none of iotrace's programs is loaded"

finish
