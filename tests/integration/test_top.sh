#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# iotrace top as a person sees it, in tmux: a cgroup doing block reads
# shows up with reads per second; sorting by CPU puts a CPU-bound cgroup
# first; the name filter hides the other rows; Enter shows the details;
# q exits 0 and leaves the terminal as it was (cooked mode, echo on, the
# table gone with the alternate screen).  Then batch mode: -b -n 3 prints
# three tables and exits 0, and its reads agree with record's for the
# same workload.
#
# Env: IOTRACE, IOGEN.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd tmux stty awk
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN"

cg_io=$(mk_cgroup io)
cg_cpu=$(mk_cgroup cpu)
rel_io=$(cg_rel "$cg_io")
rel_cpu=$(cg_rel "$cg_cpu")
name_io=${rel_io##*/}
name_cpu=${rel_cpu##*/}
loop=$(mk_loop 256)
SESSION=iotrace-top-$$

screen() {
	tmux_screen "$SESSION"
}

# The table's data lines: those after the column titles, not the key help
# on the last line.
table_rows() {
	screen | awk '/^NAME / { on = 1; next } on && NF && !/^q quit /'
}

# rate_of NAME COLUMN_TITLE: that column of NAME's row as a number ("2.50k"
# is 2500, "-" is -1); empty when the row is not on screen.
rate_of() {
	screen | awk -v n="$1" -v t="$2" '
		/^NAME / { for (i = 1; i <= NF; i++) { h = $i; sub(/\*$/, "", h); if (h == t) c = i } next }
		c && $1 == n {
			v = $c; m = 1
			if (v == "-") { print -1; exit }
			if (v ~ /k$/) m = 1e3; else if (v ~ /M$/) m = 1e6; else if (v ~ /G$/) m = 1e9
			sub(/[kMG]$/, "", v); print v * m; exit
		}'
}

wait_for() {
	tmux_wait_for "$SESSION" "$@"
}

reads_shown() {
	local r
	r=$(rate_of "$name_io" R/s)
	[[ -n $r ]] && awk -v r="$r" 'BEGIN { exit !(r > 0) }'
}

first_row_is() {
	[[ $(table_rows | awk 'NR == 1 { print $1 }') == "$1" ]]
}

only_row_is() {
	[[ $(table_rows | awk '{ print $1 }' | tr '\n' ' ') == "$1 " ]]
}

screen_has() {
	grep -qF -- "$1" <<<"$(screen)"
}

exited() {
	[[ -s $TEST_TMP/exit ]]
}

# ---- the full screen ---------------------------------------------------------

# Known work: reads in one cgroup, a CPU burner in the other.
# (disowned: the cgroups' cleanup kills them, and bash need not report it)
"$IOGEN" --cgroup "$cg_io" rand --dev "$loop" --reads 100000000 --writes 0 \
	>/dev/null 2>&1 &
disown $!
"$IOGEN" --cgroup "$cg_cpu" spin --seconds 120 >/dev/null 2>&1 &
disown $!

on_exit tmux_kill "$SESSION"
tmux new-session -d -s "$SESSION" -x 150 -y 40 \
	"$(printf '%q ' "$IOTRACE" top -d 0.5 --cgroup "$rel_io" --cgroup "$rel_cpu") 2>$TEST_TMP/top.err; echo \$? >$TEST_TMP/exit; stty -a >$TEST_TMP/stty; sleep 600"

wait_for "top shows the reading cgroup with reads per second > 0" 20 reads_shown
tmux send-keys -t "$SESSION" r
wait_for "r: the reading cgroup sorts first by reads" 5 first_row_is "$name_io"
tmux send-keys -t "$SESSION" c
wait_for "c: the CPU-bound cgroup moves to the top" 5 first_row_is "$name_cpu"
assert_match "$(screen | grep '^NAME ')" 'CPU%\*' "the CPU column is marked as the sort column"

tmux send-keys -t "$SESSION" / "$name_io" Enter
wait_for "/ filter: only the matching row is shown" 5 only_row_is "$name_io"
assert_match "$(screen)" "filter '$name_io'" "the header says what the filter is"

tmux send-keys -t "$SESSION" Enter
wait_for "Enter: the details of the selected workload" 5 screen_has "Block    reads"
# A cgroup named with --cgroup is judged as a container (docs/advice.md): a
# second of block reads and no traffic is too little for any rule.
assert_match "$(screen)" "^Advice   0 findings so far" \
	"the drill-down has the advice rules' outcome for the workload"
assert_match "$(screen)" "^  net\\.nat (passed|not judged): .+" \
	"and each rule that raised nothing, with why"
assert_match "$(screen | head -n 4)" "$name_io" "the details are the filtered workload's"
assert_match "$(screen)" "cgroup $rel_io" "the details show its cgroup"
tmux send-keys -t "$SESSION" Escape
wait_for "Esc: back to the table" 5 screen_has "NAME "

tmux send-keys -t "$SESSION" q
wait_for "q: iotrace top exits" 10 exited
assert_eq "$(cat "$TEST_TMP/exit")" 0 "iotrace top exits with status 0 ($(head -c 300 "$TEST_TMP/top.err"))"
assert_eq "$(screen | grep -c '^NAME ')" 0 "the table is gone from the terminal (alternate screen left)"
stty_after=$(cat "$TEST_TMP/stty")
assert_match "$stty_after" '(^| )icanon( |$)' "the terminal is back in canonical mode"
assert_match "$stty_after" '(^| )echo( |$)' "the terminal echoes again"
tmux_kill "$SESSION"
_cg_kill "$cg_io"
_cg_kill "$cg_cpu"

# ---- batch mode ----------------------------------------------------------------

rc=0
timeout 30 "$IOTRACE" top -b -n 3 -d 0.5 --cgroup "$rel_cpu" >"$TEST_TMP/batch" \
	2>"$TEST_TMP/batch.err" || rc=$?
assert_eq "$rc" 0 "top -b -n 3 exits 0 ($(head -c 300 "$TEST_TMP/batch.err"))"
assert_eq "$(grep -c '^iotrace top - ' "$TEST_TMP/batch")" 3 "top -b -n 3 prints three tables"
assert_eq "$(grep -c '^NAME ' "$TEST_TMP/batch")" 3 "each with its column titles"

# The same workload under record and top -b at once: top's reads per
# second times its interval add up to record's count, to top's three
# significant digits.
READS=30000
iotrace_start "$TEST_TMP/rec.err" record --interval 1 --cgroup "$rel_io" \
	--output "$TEST_TMP/rec.json"
iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/rec.err"
"$IOTRACE" top -b -n 6 -d 1 --cgroup "$rel_io" >"$TEST_TMP/batch2" 2>"$TEST_TMP/batch2.err" &
top_pid=$!
on_exit kill_wait "$top_pid"
wait_for "top -b attached" 30 grep -q '^iotrace top - ' "$TEST_TMP/batch2"
"$IOGEN" --cgroup "$cg_io" rand --dev "$loop" --reads "$READS" --writes 0 \
	>"$TEST_TMP/iogen.out" 2>&1
wait "$top_pid"
assert_eq "$?" 0 "top -b -n 6 exits 0"
iotrace_stop_ok "$IOTRACE_PID" "$TEST_TMP/rec.err" "record exits 0"
rec_reads=$(summary_field "$TEST_TMP/rec.json" "$rel_io" 'done(.read_ops)')
top_reads=$(awk -v n="$name_io" '
	/^iotrace top - / { for (i = 1; i <= NF; i++) if ($i == "every") { d = $(i + 1); sub(/s$/, "", d) } }
	/^NAME / { for (i = 1; i <= NF; i++) { h = $i; sub(/\*$/, "", h); if (h == "R/s") c = i } next }
	c && $1 == n {
		v = $c; m = 1
		if (v ~ /k$/) m = 1e3; else if (v ~ /M$/) m = 1e6
		sub(/[kM]$/, "", v); s += v * m * d
	}
	END { printf "%.0f", s }' "$TEST_TMP/batch2")
echo "# reads: iogen $READS, record $rec_reads, top -b (R/s x interval, summed) $top_reads"
assert_eq "$rec_reads" "$READS" "record counts the workload's reads exactly"
check_unfinished "$TEST_TMP/rec.json" "$rel_io"
assert_within_pct "$top_reads" "$rec_reads" 2 "top -b's reads agree with record's"

finish
