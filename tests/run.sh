#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The one test runner: `make test` calls `bash tests/run.sh BUILD_DIR`.
#
# Runs every BUILD_DIR/tests/test_* binary (cmocka unit tests, BPF tests),
# then every tests/integration/test_*.sh with IOTRACE, IOGEN and NETGEN set to the
# binaries in BUILD_DIR.  Each program is one test, passed if it exits 0.
# The last line is always "N passed, M failed"; the exit status is 1 if a
# test failed or none ran.
#
#   TESTS=PATTERN   run only tests whose name contains PATTERN (a shell glob;
#                   several patterns separated by spaces: any may match)
#   TEST_TIMEOUT=S  kill a test after S seconds (default 600)

set -euo pipefail

usage() {
	echo "usage: [TESTS=pattern] bash tests/run.sh [BUILD_DIR]" >&2
	exit 2
}

[[ $# -le 1 ]] || usage
build_arg=${1:-build}
[[ $EUID -eq 0 ]] || {
	echo "run.sh: the tests must run as root (euid is $EUID)" >&2
	exit 1
}
[[ -d $build_arg ]] || {
	echo "run.sh: build directory '$build_arg' does not exist" >&2
	exit 1
}
build=$(cd "$build_arg" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
timeout_s=${TEST_TIMEOUT:-600}

export IOTRACE=$build/iotrace
export IOGEN=$build/tools/iogen
export NETGEN=$build/tools/netgen

passed=0
failed=0
failed_names=()

selected() {
	local name=$1 pat
	local -a pats
	[[ -n ${TESTS:-} ]] || return 0
	read -ra pats <<<"$TESTS"
	for pat in "${pats[@]}"; do
		# shellcheck disable=SC2053 # $pat is a glob on purpose
		[[ $name == *$pat* ]] && return 0
	done
	return 1
}

# run_test NAME CMD...
run_test() {
	local name=$1 start end rc=0
	shift
	echo "--- $name"
	start=$(date +%s%N)
	timeout --kill-after=10 "$timeout_s" "$@" </dev/null || rc=$?
	end=$(date +%s%N)
	local secs
	secs=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
	if ((rc == 0)); then
		passed=$((passed + 1))
		echo "=== $name: PASS (${secs}s)"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		if ((rc == 124 || rc == 137)); then
			echo "=== $name: FAIL (${secs}s, timed out after ${timeout_s}s)"
		else
			echo "=== $name: FAIL (${secs}s, exit status $rc)"
		fi
	fi
}

shopt -s nullglob
for t in "$build"/tests/test_*; do
	[[ -f $t && -x $t ]] || continue
	name=$(basename "$t")
	selected "$name" || continue
	run_test "$name" "$t"
done
for t in "$root"/tests/integration/test_*.sh; do
	name=integration/$(basename "$t")
	selected "$name" || continue
	run_test "$name" bash "$t"
done

if ((failed > 0)); then
	echo "failed: ${failed_names[*]}"
fi
if ((passed + failed == 0)); then
	echo "run.sh: no test ran (TESTS=${TESTS:-<unset>})" >&2
fi
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
