#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The paths test_block_cpu.sh does not take, end to end on the real kernel:
# the raw_tp programs (the fallback for kernels that refuse tp_btf), the
# cycle-counter path (with the software cpu-clock event, as this host has no
# PMU), and CSV output.  Exact I/O counts are still required.
#
# Env: IOTRACE (default build/iotrace), IOGEN (default build/tools/iogen).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READS=5000
WRITES=1000
BS=4096

require_root
require_cmd jq losetup dd truncate
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN"

cg_a=$(mk_cgroup a)
cg_b=$(mk_cgroup b)
rel_a=$(cg_rel "$cg_a")
rel_b=$(cg_rel "$cg_b")
loop=$(mk_loop 128)

# run_workload: exact I/O in A, 1 s of CPU in B.
run_workload() {
	local rc=0
	"$IOGEN" --cgroup "$cg_a" rand --dev "$loop" --reads "$READS" \
		--writes "$WRITES" --bs "$BS" >"$TEST_TMP/iogen.out" 2>&1 || rc=$?
	assert_eq "$rc" 0 "iogen rand in A exits 0"
	rc=0
	"$IOGEN" --cgroup "$cg_b" spin --seconds 1 >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 0 "iogen spin in B exits 0"
}

# ---- raw_tp programs + cpu-clock counter, JSON -----------------------------

out=$TEST_TMP/raw.json
err=$TEST_TMP/raw.err
iotrace_start "$err" record --prog-type raw_tp --cycles cpu-clock \
	--cgroup "$rel_a" --cgroup "$rel_b" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"
assert_match "$(cat "$err")" "raw_tp programs" "raw_tp programs were loaded"
run_workload
sleep 1.2
iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace (raw_tp, cpu-clock) exits 0"

sf() { summary_field "$out" "$@"; }
assert_eq "$(sf "$rel_a" 'done(.read_ops)')" "$READS" "raw_tp: A read_ops"
assert_eq "$(sf "$rel_a" 'done(.write_ops)')" "$WRITES" "raw_tp: A write_ops"
assert_eq "$(sf "$rel_a" 'done(.read_bytes)')" "$((READS * BS))" "raw_tp: A read_bytes"
check_unfinished "$out" "$rel_a"
assert_eq "$(sf "$rel_b" .block.read_ops)" 0 "raw_tp: B read_ops"
assert_eq "$(record_values "$out" .cpu.cycles_source)" pmu-cpu-clock \
	"cycles_source names the counter used"
# cpu-clock counts the CPU's wall time while B's task is switched in, and
# B spins alone on its CPU: the counter must track its run time closely.
assert_within_pct "$(sf "$rel_b" .cpu.cycles)" "$(sf "$rel_b" .cpu.ns)" 10 \
	"counter path: B's cpu-clock delta matches its run time"
assert_gt "$(sf "$rel_b" .cpu.ns)" 500000000 "B's 1 s spin was charged"

# ---- tp_btf, CSV -----------------------------------------------------------

out=$TEST_TMP/out.csv
err=$TEST_TMP/csv.err
iotrace_start "$err" record --format csv --cgroup "$rel_a" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"
run_workload
sleep 1.2
iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace (csv) exits 0"

header=$(head -n 1 "$out")
assert_eq "$(grep -c '^type,ts,' "$out")" 1 "CSV: one header line"
# Column numbers from the header, so the test does not hard-code positions.
col() { tr ',' '\n' <<<"$header" | grep -nx "$1" | cut -d: -f1; }
summary=$(awk -F, -v p="$rel_a" -v c="$(col workload.cgroup_path)" \
	'$1 == "summary" && $c == p' "$out")
assert_eq "$(wc -l <<<"$summary")" 1 "CSV: one summary record for A"
# csv_done OP: A's OP ops in the summary, with those left unfinished at exit.
csv_done() {
	echo $(($(cut -d, -f"$(col "block.$1_ops")" <<<"$summary") +
		$(cut -d, -f"$(col "block.unfinished_$1_ops")" <<<"$summary")))
}
assert_eq "$(csv_done read)" "$READS" "CSV: A read_ops"
assert_eq "$(csv_done write)" "$WRITES" "CSV: A write_ops"
assert_eq "$(cut -d, -f"$(col cpu.cycles_source)" <<<"$summary")" tsc-estimate \
	"CSV: cycles_source"
fields=$(awk -F, '{ print NF }' "$out" | sort -u)
assert_eq "$fields" "$(tr ',' '\n' <<<"$header" | wc -l)" \
	"CSV: every record has as many fields as the header"
assert_eq "$(grep -c '"type":"self"' "$out")" 0 "CSV: no JSON self lines"

finish
