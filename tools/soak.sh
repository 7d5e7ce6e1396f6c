#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Soak (`make soak`): iotrace record attached for SOAK_MINUTES (30) while
# fio drives the highest IOPS this machine gives (4 KiB random reads,
# libaio, queue depth 32, on a loop device over /dev/shm) from one cgroup,
# and short-lived cgroups come and go beside it, each doing an exact number
# of I/Os with iogen.  Every minute: iotrace's resident memory, the kernel
# table entries it holds, lost events and failed map updates so far.  At
# the end: the same totals from the run's last self line, the churned
# cgroups whose summary is not exact, and fio's IOPS against an untraced
# run of BASE_SECONDS (120) just before.  Prints figures; fails when
# something it drives fails, and on one number: iotrace's resident memory
# may grow by at most RSS_GROWTH_MAX_KIB (2048) after the first
# WARMUP_MINUTES (5).
#
# Why 2 MiB: what still grows after the warm-up is the removed cgroups
# kept for their summary lines, about 1.2 KB each in the workload table
# (docs/design.md "Removed cgroups") and 1.6 KB of RSS each as measured
# with the index and the allocator's share: 750 of them in 25 minutes at
# one every 2 s, 1.2 MiB.  Memory that grows with the run, such as the
# 8-9 KB per removed cgroup of before, fails it (6-7 MiB in 25 minutes).
# Cgroups that other tests make beside the soak count too: the end says
# how many workloads came after the warm-up.
#
#   SOAK_MINUTES=30 BASE_SECONDS=120 CHURN_EVERY=2 WARMUP_MINUTES=5 \
#   RSS_GROWTH_MAX_KIB=2048 bash tools/soak.sh [BUILD_DIR]
#
# A shorter try: SOAK_MINUTES=10 BASE_SECONDS=30 bash tools/soak.sh build
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
minutes=${SOAK_MINUTES:-30}
base_s=${BASE_SECONDS:-120}
churn_every=${CHURN_EVERY:-2}
warmup=${WARMUP_MINUTES:-5}
rss_max_kib=${RSS_GROWTH_MAX_KIB:-2048}
iotrace=$build/iotrace
iogen=$build/tools/iogen

[[ $EUID -eq 0 ]] || { echo "soak: must run as root" >&2; exit 1; }
for t in fio jq bpftool "$iotrace" "$iogen"; do
	command -v "$t" >/dev/null || { echo "soak: missing $t (make deps && make)" >&2; exit 1; }
done
mount=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[[ -n $mount ]] || { echo "soak: no cgroup2 mount" >&2; exit 1; }

work=$(mktemp -d /dev/shm/iotrace-soak.XXXXXX)
img=$work/disk.img
parent=$mount/iotrace-soak-$$
loop=""
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ -d $parent ]]; then
		for p in "$parent"/*/; do
			[[ -d $p ]] || continue
			while read -r q; do kill -9 "$q" 2>/dev/null || true; done <"$p/cgroup.procs"
			rmdir "$p" 2>/dev/null || true
		done
		rmdir "$parent" 2>/dev/null || true
	fi
	[[ -n $loop ]] && losetup -d "$loop"
	rm -rf "$work"
}
trap cleanup EXIT

truncate -s 1G "$img"
loop=$(losetup -f --show "$img")
# The partition scan of a first open, outside the workloads.
dd if="$loop" of=/dev/null bs=4k count=1 iflag=direct status=none
mkdir "$parent" "$parent/fio"

# run_fio SECONDS OUT: fio in the fio cgroup, its JSON in OUT.
run_fio() {
	bash -c 'echo $$ >"$1/cgroup.procs" && exec fio --name=soak --filename="$2" \
		--rw=randread --bs=4k --ioengine=libaio --iodepth=32 --direct=1 --time_based \
		--runtime="$3" --output-format=json --output="$4"' _ "$parent/fio" "$loop" "$1" "$2"
}
iops_of() { jq -r '.jobs[0].read.iops | floor' "$1"; }

echo "soak: untraced baseline, ${base_s} s of fio"
run_fio "$base_s" "$work/base.json"
base_iops=$(iops_of "$work/base.json")
echo "soak: untraced ${base_iops} IOPS"

out=$work/record.json
"$iotrace" record --interval 5 --output "$out" 2>"$work/record.err" &
rec_pid=$!
pids+=("$rec_pid")
for _ in $(seq 100); do
	grep -q '^iotrace: recording' "$work/record.err" && break
	sleep 0.1
done
grep -q '^iotrace: recording' "$work/record.err" ||
	{ echo "soak: iotrace did not start: $(cat "$work/record.err")" >&2; exit 1; }

run_fio $((minutes * 60)) "$work/traced.json" &
fio_pid=$!
pids+=("$fio_pid")

# Churn: a cgroup every CHURN_EVERY seconds, each with its own exact count.
: >"$work/churn.list"
(
	i=0
	while kill -0 "$fio_pid" 2>/dev/null; do
		i=$((i + 1))
		cg=$parent/c$i
		mkdir "$cg"
		reads=$((100 + i % 97))
		writes=$((20 + i % 13))
		# By id (the directory's inode): a cgroup gone before iotrace
		# named it has no path in the output.
		id=$(stat -c %i "$cg")
		if "$iogen" --cgroup "$cg" rand --dev "$loop" --reads "$reads" --writes "$writes" \
			--bs 4096 >/dev/null 2>&1; then
			echo "$id $reads $writes" >>"$work/churn.list"
		fi
		rmdir "$cg" 2>/dev/null || true
		sleep "$churn_every"
	done
) &
pids+=("$!")

# kernel_entries MAP: entries of one of iotrace's maps.
kernel_entries() {
	bpftool map dump name "$1" -j 2>/dev/null | jq 'length' 2>/dev/null || echo "?"
}

printf '%6s %10s %10s %10s %10s %8s\n' minute rss_kib blk_stats cpu_stats churned records
start=$(date +%s)
# RSS, churned cgroups and lines written at the end of the warm-up, and the most RSS since.
rss_warm="" churn_warm="" rec_warm="" rss_peak=0
for ((m = 1; m <= minutes; m++)); do
	while (($(date +%s) < start + m * 60)) && kill -0 "$fio_pid" 2>/dev/null; do
		sleep 1
	done
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$rec_pid/status" 2>/dev/null || echo "?")
	churned=$(wc -l <"$work/churn.list")
	records=$(wc -l <"$out")
	printf '%6d %10s %10s %10s %10s %8s\n' "$m" "$rss" "$(kernel_entries blk_stats)" \
		"$(kernel_entries cpu_stats)" "$churned" "$records"
	[[ $rss =~ ^[0-9]+$ ]] || continue
	if ((m == warmup)); then
		rss_warm=$rss churn_warm=$churned rec_warm=$records rss_peak=$rss
	elif ((m > warmup && rss > rss_peak)); then
		rss_peak=$rss
	fi
done
wait "$fio_pid" || { echo "soak: fio failed" >&2; exit 1; }
traced_iops=$(iops_of "$work/traced.json")
kill -INT "$rec_pid"
wait "$rec_pid" || { echo "soak: iotrace record failed: $(tail -3 "$work/record.err")" >&2; exit 1; }

self=$(grep '"type":"self"' "$out" | tail -n 1)
# Every churned cgroup's summary, against what iogen did there.
jq -nR -r '[inputs | (try fromjson catch null) | objects
	| select(.type == "summary" and .workload.kind != "vm")
	| {key: (.workload.cgroup_id | tostring), value: "\(.block.read_ops) \(.block.write_ops)"}]
	| from_entries | to_entries[] | "\(.key) \(.value)"' "$out" >"$work/summaries"
wrong=0
while read -r id reads writes; do
	got=$(awk -v p="$id" '$1 == p { print $2 " " $3 }' "$work/summaries")
	[[ $got == "$reads $writes" ]] || { wrong=$((wrong + 1)); echo "soak: cgroup $id: expected $reads $writes, got '${got}'"; }
done <"$work/churn.list"

echo
echo "soak: ${minutes} min, $(wc -l <"$work/churn.list") cgroups churned, ${wrong} of them not exact"
echo "soak: lost $(jq -c '.lost' <<<"$self"), recovered $(jq -r .recovered <<<"$self"), unattributed $(jq -c .unattributed <<<"$self")"
echo "soak: cgroups_untracked $(jq -r .cgroups_untracked <<<"$self"), inflight_at_exit $(jq -r .inflight_at_exit <<<"$self")"
echo "soak: iotrace's BPF run time $(jq -r '.bpf.cpu_pct' <<<"$self")% of a CPU"
awk -v b="$base_iops" -v t="$traced_iops" \
	'BEGIN { printf "soak: fio %d IOPS traced vs %d untraced: %.2f%%\n", t, b, b ? 100 * t / b : 0 }'

if ((minutes <= warmup)); then
	echo "soak: RSS not checked: ${minutes} min is no longer than the ${warmup}-min warm-up"
	exit 0
fi
[[ -n $rss_warm ]] || { echo "soak: FAIL: no RSS reading at minute ${warmup}" >&2; exit 1; }
grown=$((rss_peak - rss_warm))
churned=$(($(wc -l <"$work/churn.list") - churn_warm))
# Workloads first seen after the warm-up: the churned ones, and any other
# cgroup of the host (tests run beside the soak add theirs).
cgroup_ids() {
	jq -nR -r 'inputs | (try fromjson catch null) | objects
		| select(.type == "interval" and .workload.kind != "vm") | .workload.cgroup_id'
}
head -n "$rec_warm" "$out" | cgroup_ids | sort -u >"$work/ids.warm"
tail -n +$((rec_warm + 1)) "$out" | cgroup_ids | sort -u >"$work/ids.after"
new_wl=$(comm -13 "$work/ids.warm" "$work/ids.after" | wc -l)
awk -v w="$rss_warm" -v p="$rss_peak" -v g="$grown" -v c="$churned" -v n="$new_wl" \
	-v m=$((minutes - warmup)) -v warm="$warmup" -v max="$rss_max_kib" 'BEGIN {
	printf "soak: RSS %d KiB at minute %d, at most %d KiB after: %+d KiB in %d min, " \
		"%d new workloads (%d churned): %.0f B each; bound %d KiB\n",
		w, warm, p, g, m, n, c, n ? g * 1024 / n : 0, max }'
if ((grown > rss_max_kib)); then
	echo "soak: FAIL: iotrace's RSS grew ${grown} KiB after the warm-up, more than ${rss_max_kib} KiB" \
		"(${new_wl} new workloads: are other tests running beside the soak?)" >&2
	exit 1
fi
