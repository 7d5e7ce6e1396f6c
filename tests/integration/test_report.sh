#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `iotrace report` on a real recording (docs/report.md).
#
# Cgroup A does three bursts of exactly 1000 4k O_DIRECT reads and 250
# writes on a loop device, half a second apart, under
# `iotrace record -i 0.5 -o run.iotr` restricted to A.  Then:
#   - report --format json has A's exact operation and byte counts, the
#     summary agrees with the intervals, nothing is damaged; table and CSV
#     work;
#   - one byte flipped in the payload of a block with I/O in it, and the
#     file cut in the middle of a later block: report exits 0, names both
#     places (offsets) on stderr and in the JSON, and its counts are the sum
#     of the blocks left intact (each read alone, as a recording of its own:
#     a block holds whole intervals), fewer than the full run's;
#   - a foreign file, a future format version, an unwritable --output: a
#     clear error and exit status 1.
#
# Env: IOTRACE (default build/iotrace), IOGEN (default build/tools/iogen).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BURSTS=3
READS=1000
WRITES=250
BS=4096

require_root
require_cmd jq losetup dd truncate od
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN"

cg_a=$(mk_cgroup a)
rel_a=$(cg_rel "$cg_a")
loop=$(mk_loop 64)
rec=$TEST_TMP/run.iotr
err=$TEST_TMP/iotrace.err

iotrace_start "$err" record --interval 0.5 --cgroup "$rel_a" --output "$rec"
iotrace_wait_ready "$IOTRACE_PID" "$err"

for ((i = 0; i < BURSTS; i++)); do
	"$IOGEN" --cgroup "$cg_a" --seed $((i + 1)) rand --dev "$loop" --reads "$READS" \
		--writes "$WRITES" --bs "$BS" >"$TEST_TMP/iogen.out" 2>&1 ||
		fatal "iogen failed: $(cat "$TEST_TMP/iogen.out")"
	sleep 0.6
done
sleep 0.6
iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0 on SIGINT"
[[ -s $rec ]] || fatal "iotrace wrote no recording to $rec"

# report FILE ARG...: run iotrace report, stdout to $TEST_TMP/rep.out,
# stderr to $TEST_TMP/rep.err; sets REPORT_RC.
report() {
	REPORT_RC=0
	"$IOTRACE" report "$@" >"$TEST_TMP/rep.out" 2>"$TEST_TMP/rep.err" || REPORT_RC=$?
}

# wl_field JQPATH: JQPATH of A's workload line in $TEST_TMP/rep.out.
wl_field() {
	jq -r --arg p "$rel_a" 'select(.type == "workload" and .workload.cgroup_path == $p)
		| '"$1" "$TEST_TMP/rep.out"
}

head_field() {
	jq -r 'select(.type == "report") | '"$1" "$TEST_TMP/rep.out"
}

# ---- the whole recording ----------------------------------------------------

report "$rec" --format json
assert_eq "$REPORT_RC" 0 "report exits 0 ($(head -c 500 "$TEST_TMP/rep.err"))"
assert_eq "$(head_field .damage.intact)" true "an intact recording: damage.intact"
assert_eq "$(head_field '.summary | "\(.present) \(.checked) \(.mismatches)"')" \
	"true true 0" "the summary is there and agrees with the sum of the intervals"
assert_eq "$(head_field .format_version)" 1.1 "the recording is of format 1.1"
assert_gt "$(head_field .self.bpf.runs)" 0 "self.bpf: iotrace's own BPF runs over the run (from the summary)"
assert_eq "$(head_field '"\(.self.blk_dev_full) \(.self.devices_untracked) \(.self.evicted)"')" "0 0 0" \
	"self: nothing lost from the device split, no workload evicted"
# With the I/Os the run's summary lists as unfinished (lib.sh done()).
assert_eq "$(wl_field '.block.read_ops + .block.unfinished.read_ops')" $((BURSTS * READS)) "A read_ops"
assert_eq "$(wl_field '.block.write_ops + .block.unfinished.write_ops')" $((BURSTS * WRITES)) "A write_ops"
assert_eq "$(wl_field '.block.read_bytes + .block.unfinished.read_bytes')" $((BURSTS * READS * BS)) \
	"A read_bytes"
assert_eq "$(wl_field '.block.write_bytes + .block.unfinished.write_bytes')" \
	$((BURSTS * WRITES * BS)) "A write_bytes"
assert_le "$(wl_field '.block.unfinished | .read_ops + .write_ops')" 2 \
	"A: at most 2 completed I/Os reported unfinished (kernel quirk)"
assert_gt "$(wl_field .block.lat_p99_us)" 0 "A lat_p99_us from the summed histograms"
assert_lt "$(wl_field .block.lat_p99_us)" 100000 "A lat_p99_us < 100 ms"
assert_gt "$(wl_field .cpu.ns)" 0 "A cpu.ns"
assert_gt "$(wl_field .derived.cycles_per_io)" 0 "A cycles_per_io"
assert_gt "$(wl_field .peak.block_ops)" 0 "A has a peak interval"
assert_ge "$(wl_field .intervals)" 2 "A's I/O is spread over intervals"
full_reads=$(wl_field .block.read_ops)
full_writes=$(wl_field .block.write_ops)

report "$rec"
assert_eq "$REPORT_RC" 0 "report (table) exits 0"
assert_match "$(cat "$TEST_TMP/rep.out")" "^NAME +KIND +CPU%" "the table has its header"
assert_match "$(cat "$TEST_TMP/rep.out")" "iotrace-test-a-$$ +cgroup " "the table has A's row"
report "$rec" --format csv --top 1
assert_eq "$REPORT_RC" 0 "report --format csv exits 0"
assert_eq "$(wc -l <"$TEST_TMP/rep.out")" 2 "CSV: a header and one row (--top 1)"
assert_match "$(head -1 "$TEST_TMP/rep.out")" "^rank,workload.kind," "CSV header"

# ---- the blocks, read alone -------------------------------------------------

# u32 FILE OFFSET: the little-endian u32 at OFFSET.
u32() {
	od -An -tu4 --endian=little -j "$2" -N 4 "$1" | tr -d ' '
}

hlen=$(u32 "$rec" 12)
size=$(stat -c %s "$rec")
offs=()
lens=()
at=$hlen
while ((at + 48 <= size)); do
	offs+=("$at")
	clen=$(u32 "$rec" $((at + 8)))
	lens+=($((48 + clen)))
	at=$((at + 48 + clen))
done
assert_eq "$at" "$size" "the blocks' lengths add up to the file's size"
nblocks=${#offs[@]}
echo "# $nblocks blocks, header $hlen bytes"
((nblocks >= 4)) || fatal "expected at least 4 blocks, got $nblocks"

# The read ops of block I, as a recording of its own (the file header and
# that block: a block holds whole intervals, with their interval records).
block_reads=()
for ((i = 0; i < nblocks; i++)); do
	one=$TEST_TMP/block$i.iotr
	head -c "$hlen" "$rec" >"$one"
	dd if="$rec" bs=1 skip="${offs[i]}" count="${lens[i]}" status=none >>"$one"
	report "$one" --format json
	n=$(wl_field .block.read_ops)
	block_reads+=("${n:-0}")
done
echo "# read ops by block: ${block_reads[*]}"
# The last block is the run's summary: the rest add up to the whole.
sum=0
for ((i = 0; i < nblocks - 1; i++)); do
	sum=$((sum + block_reads[i]))
done
assert_eq "$sum" "$full_reads" "the interval blocks read alone add up to the whole"

# ---- damage: a flipped byte, and the file cut mid-block ---------------------

# The block to corrupt: the first with reads; the cut: mid the last interval
# block, so the summary goes too.
bad=-1
for ((i = 0; i < nblocks - 2; i++)); do
	if ((block_reads[i] > 0)); then
		bad=$i
		break
	fi
done
((bad >= 0)) || fatal "no interval block with reads before the last two"
cut_block=$((nblocks - 2))
((cut_block > bad)) || fatal "nothing left to cut after block $bad"

dmg=$TEST_TMP/damaged.iotr
cp "$rec" "$dmg"
pos=$((offs[bad] + 48 + (lens[bad] - 48) / 2))
byte=$(od -An -tu1 -j "$pos" -N 1 "$dmg" | tr -d ' ')
printf '%b' "$(printf '\\0%03o' $((byte ^ 0xff)))" |
	dd of="$dmg" bs=1 seek="$pos" count=1 conv=notrunc status=none
cut_at=$((offs[cut_block] + lens[cut_block] / 2))
truncate -s "$cut_at" "$dmg"

expected=0
for ((i = 0; i < cut_block; i++)); do
	((i == bad)) || expected=$((expected + block_reads[i]))
done

report "$dmg" --format json
assert_eq "$REPORT_RC" 0 "a damaged recording: report exits 0"
assert_eq "$(head_field .damage.intact)" false "damage.intact is false"
assert_eq "$(head_field "[.damage.skipped[] | select(.kind == \"corrupt\") | .offset] | join(\" \")")" \
	"${offs[bad]}" "the JSON names the corrupt block's offset"
assert_eq "$(head_field .damage.truncated_at)" "${offs[cut_block]}" \
	"the JSON names the cut block's offset"
assert_eq "$(head_field .summary.present)" false "the summary was cut off"
got=$(wl_field .block.read_ops)
assert_eq "$got" "$expected" "read_ops are those of the intact blocks"
assert_lt "$got" "$full_reads" "read_ops fewer than the whole run's"
assert_ge "$(wl_field .block.write_ops)" 0 "write_ops present"
assert_lt "$(wl_field .block.write_ops)" "$((full_writes + 1))" "write_ops at most the whole run's"
errtext=$(cat "$TEST_TMP/rep.err")
assert_match "$errtext" "at offset ${offs[bad]}: payload checksum mismatch" \
	"stderr names the corrupt block and its offset"
assert_match "$errtext" "at offset ${offs[cut_block]}: last block cut short" \
	"stderr names the cut block and its offset"
assert_match "$errtext" "the report covers the [0-9]+ intervals that could be read" \
	"stderr says what the report covers"
report "$dmg"
assert_eq "$REPORT_RC" 0 "a damaged recording: the table too"
assert_match "$(cat "$TEST_TMP/rep.out")" "^recording damaged: " "the table says it is damaged"

# ---- refused input, unwritable output ---------------------------------------

report /etc/passwd
assert_eq "$REPORT_RC" 1 "a foreign file: exit 1"
assert_match "$(cat "$TEST_TMP/rep.err")" "/etc/passwd: not an iotrace recording" \
	"a foreign file: clear error"
assert_eq "$(wc -c <"$TEST_TMP/rep.out")" 0 "a foreign file: no report"

future=$TEST_TMP/future.iotr
cp "$rec" "$future"
printf '\002' | dd of="$future" bs=1 seek=8 count=1 conv=notrunc status=none
report "$future"
assert_eq "$REPORT_RC" 1 "a future format: exit 1"
assert_match "$(cat "$TEST_TMP/rep.err")" "written by a newer iotrace \(format 2\)" \
	"a future format: clear error"

report "$rec" --output "$TEST_TMP/no/such/dir/out.json"
assert_eq "$REPORT_RC" 1 "an output that cannot be created: exit 1"
assert_match "$(cat "$TEST_TMP/rep.err")" "cannot open output file .*: No such file or directory" \
	"an output that cannot be created: clear error"
report "$rec" --format json --output /dev/full
assert_eq "$REPORT_RC" 1 "an output that cannot be written: exit 1"
assert_match "$(cat "$TEST_TMP/rep.err")" "cannot write to /dev/full: No space left on device" \
	"an output that cannot be written: clear error"
report "$rec" --top 0
assert_eq "$REPORT_RC" 2 "bad arguments: exit 2"

finish
