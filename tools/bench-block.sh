#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Block-I/O overhead benchmark (`make bench`).  Prints figures; never fails
# on a number.
#
# fio 4 KiB random reads (libaio, queue depth 32) on a loop device over
# /dev/shm, in interleaved rounds of:
#   untraced   nothing attached
#   floor      empty BPF programs on the same tracepoints (tools/bpf-floor)
#   carrier    the least per-I/O work that charges a completion to its
#              submitter: owner stored at queue, read at completion
#              (tools/bpf/carrier.bpf.c), the lower bound of any design
#   iotrace    iotrace record
#   bpftrace   the same accounting written in bpftrace (when installed)
# For each: median IOPS, ratio to untraced, host CPU ns per I/O (from
# /proc/stat) and what it adds over untraced.  Then one run per tracer with
# BPF run-time stats on: each program's own ns per event.
#
#   ROUNDS=5 SECONDS_PER_RUN=5 bash tools/bench-block.sh [BUILD_DIR]
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
rounds=${ROUNDS:-5}
secs=${SECONDS_PER_RUN:-5}
iotrace=$build/iotrace
floor=$build/tools/bpf-floor
hz=$(getconf CLK_TCK)

[[ $EUID -eq 0 ]] || { echo "bench: must run as root" >&2; exit 1; }
for t in fio jq "$iotrace" "$floor"; do
	command -v "$t" >/dev/null || { echo "bench: missing $t (make deps && make)" >&2; exit 1; }
done
modes=(untraced floor carrier iotrace)
if command -v bpftrace >/dev/null; then
	modes+=(bpftrace)
else
	echo "bench: bpftrace not installed, skipping the bpftrace comparison"
fi

img=$(mktemp /dev/shm/iotrace-bench.XXXXXX)
work=$(mktemp -d)
loop=""
tracer_pid=""
cleanup() {
	[[ -n $tracer_pid ]] && kill -INT "$tracer_pid" 2>/dev/null && wait "$tracer_pid" 2>/dev/null
	[[ -n $loop ]] && losetup -d "$loop"
	rm -rf "$img" "$work"
	sysctl -qw kernel.bpf_stats_enabled=0 || true
}
trap cleanup EXIT
truncate -s 1G "$img"
loop=$(losetup -f --show "$img")
dd if="$loop" of=/dev/null bs=4k count=1 iflag=direct status=none

# The same accounting as iotrace's, in bpftrace: CPU time per cgroup at
# sched_switch, and block I/O owner, bytes and latency carried from queue to
# completion.  bpftrace 0.17 has no raw tracepoints, so an I/O is keyed by
# (device, sector) from the tracepoint arguments, as biolatency.bt does.
cat >"$work/equiv.bt" <<'EOF'
tracepoint:sched:sched_switch {
	if (@slice[cpu]) { if (args->prev_pid) { @cpu_ns[cgroup] = sum(nsecs - @slice[cpu]); } }
	@slice[cpu] = nsecs;
}
tracepoint:block:block_bio_queue {
	@owner[args->dev, args->sector] = cgroup;
	@ts[args->dev, args->sector] = nsecs;
}
tracepoint:block:block_rq_issue {
	if (@ts[args->dev, args->sector]) { @ts[args->dev, args->sector] = nsecs; }
}
tracepoint:block:block_rq_complete {
	if (@ts[args->dev, args->sector]) {
		$o = @owner[args->dev, args->sector];
		@ops[$o] = count();
		@bytes[$o] = sum(args->nr_sector * 512);
		@lat[$o] = hist(nsecs - @ts[args->dev, args->sector]);
		delete(@owner[args->dev, args->sector]);
		delete(@ts[args->dev, args->sector]);
	}
}
EOF

start_tracer() { # mode
	case $1 in
	untraced) return 0 ;;
	floor) "$floor" 2>"$work/tracer.err" & ;;
	carrier) "$floor" --carrier 2>"$work/tracer.err" & ;;
	iotrace) "$iotrace" record -o /dev/null 2>"$work/tracer.err" & ;;
	bpftrace) bpftrace "$work/equiv.bt" >"$work/tracer.err" 2>&1 & ;;
	esac
	tracer_pid=$!
	# Wait until attached: each prints to stderr once its programs are live.
	for _ in $(seq 100); do
		grep -qE 'attached|recording|Attaching' "$work/tracer.err" 2>/dev/null && return 0
		kill -0 "$tracer_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: $1 did not attach:" >&2
	cat "$work/tracer.err" >&2
	exit 1
}

stop_tracer() {
	[[ -n $tracer_pid ]] || return 0
	kill -INT "$tracer_pid"
	wait "$tracer_pid" || true
	tracer_pid=""
}

busy_jiffies() { # user+nice+system+irq+softirq+steal of all CPUs
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

run_fio() { # mode round -> appends "mode iops cpu_ns_per_io"
	local mode=$1 j0 j1 iops ios
	start_tracer "$mode"
	j0=$(busy_jiffies)
	fio --name=bench --filename="$loop" --rw=randread --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=32 --runtime="$secs" --time_based \
		--output-format=json >"$work/fio.json"
	j1=$(busy_jiffies)
	stop_tracer
	iops=$(jq '.jobs[0].read.iops' "$work/fio.json")
	ios=$(jq '.jobs[0].read.total_ios' "$work/fio.json")
	echo "$mode $iops $(awk -v j=$((j1 - j0)) -v hz="$hz" -v n="$ios" \
		'BEGIN { printf "%.0f", j * 1e9 / hz / n }')" >>"$work/results"
}

echo "iotrace block benchmark: fio randread 4k libaio qd32 on $loop (/dev/shm)," \
	"$rounds rounds x ${secs}s per mode, $(nproc) CPUs, $(uname -r)"
for r in $(seq "$rounds"); do
	for m in "${modes[@]}"; do
		run_fio "$m" "$r"
	done
	echo "  round $r/$rounds done"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base_iops=$(awk '$1 == "untraced" { print $2 }' "$work/results" | median)
base_cpu=$(awk '$1 == "untraced" { print $3 }' "$work/results" | median)
floor_cpu=$(awk '$1 == "floor" { print $3 }' "$work/results" | median)
echo
printf '%-10s %12s %10s %14s %14s %12s\n' mode "median IOPS" "vs untr." "CPU ns / I/O" "added ns/I/O" "vs floor"
for m in "${modes[@]}"; do
	iops=$(awk -v m="$m" '$1 == m { print $2 }' "$work/results" | median)
	cpu=$(awk -v m="$m" '$1 == m { print $3 }' "$work/results" | median)
	awk -v m="$m" -v i="$iops" -v b="$base_iops" -v c="$cpu" -v bc="$base_cpu" -v fc="$floor_cpu" 'BEGIN {
		added = c - bc; fadd = fc - bc
		ratio = (m == "untraced" || m == "floor" || fadd <= 0) ? "-" : sprintf("%.2fx", added / fadd)
		printf "%-10s %12.0f %9.2f%% %14.0f %14.0f %12s\n", m, i, 100 * i / b, c, added, ratio
	}'
done

echo
echo "Per-program cost (kernel.bpf_stats_enabled=1, one ${secs}s run each; stats add their own ~20-40 ns):"
for m in "${modes[@]}"; do
	[[ $m == untraced ]] && continue
	sysctl -qw kernel.bpf_stats_enabled=1
	start_tracer "$m"
	ids_before=$(bpftool prog show -j | jq -c '[.[] | {id, run_time_ns: (.run_time_ns // 0), run_cnt: (.run_cnt // 0)}]')
	fio --name=bench --filename="$loop" --rw=randread --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=32 --runtime="$secs" --time_based \
		--output-format=json >"$work/fio.json"
	bpftool prog show -j | jq -r --argjson before "$ids_before" --arg mode "$m" \
		--argjson ios "$(jq '.jobs[0].read.total_ios' "$work/fio.json")" '
		($before | map({(.id | tostring): .}) | add) as $b
		| [.[] | select(.run_cnt != null)
		   | ($b[.id | tostring] // {run_time_ns: 0, run_cnt: 0}) as $o
		   | {name, n: (.run_cnt - $o.run_cnt), t: (.run_time_ns - $o.run_time_ns)}
		   | select(.n > 0)] as $p
		| ($p[] | "  \($mode)\t\(.name)\t\(.t / .n | floor) ns/event\t\(.n) events"),
		  "  \($mode)\tall programs\t\(([$p[].t] | add) / $ios | floor) ns/I/O\t\($ios) I/Os"' |
		column -t -s $'\t' | tee -a "$work/progs"
	stop_tracer
	sysctl -qw kernel.bpf_stats_enabled=0
done

# The same ratio from the programs' own run time, which /proc/stat's jiffies
# blur: each tracer's run time per I/O against the floor's.
echo
echo "BPF run time per I/O (from the runs above):"
awk '$2 == "all" { ns[$1] = $4 } END {
	for (m in ns) if (m != "floor" && ns["floor"] > 0)
		printf "  %-9s %5d ns/I/O  %.2fx floor (%d ns/I/O)\n", m, ns[m], ns[m] / ns["floor"], ns["floor"]
}' "$work/progs" | sort
