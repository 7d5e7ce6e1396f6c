#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `iotrace advise` on containers' storage (docs/advice.md,
# storage.writable_layer): two hand-built containers write the same
# 200 MiB with O_DIRECT, each in its own cgroup, mount namespace and
# overlayfs root (a busybox-static lower dir on tmpfs, the upper dirs on
# loop device A):
#
#   layer   into /data.bin of its own root: the overlay's upper dir, on A
#           -> storage.writable_layer raised, layer device A, 200 MiB on it
#   volume  into /data/data.bin, /data a bind mount from loop device B
#           -> nothing raised; the check passed, the volume named
#
# Built by hand rather than with docker, so that every write is known: both
# file systems are ext4 without a journal (no jbd2 writes), their inode
# tables initialised by mkfs (no ext4lazyinit writes), each data file fully
# written and synced outside the test cgroups beforehand (so the O_DIRECT
# overwrites change no block mapping and copy nothing up), and everything
# the containers run is busybox on tmpfs.  So each container's block writes
# are exactly 200 MiB, all on one device, submitted in its own context.
#
# advise runs without --cgroup: the containers are judged because their
# processes are in mount namespaces of their own (docs/advice.md, "Which
# workloads are containers").  `iotrace record` on the same run, restricted
# to the two cgroups, checks the exact bytes per device.  The containers
# set up first and wait on a pipe, so that their first I/O is the
# write, in the container; after it they sleep (keeping their mounts for
# advise to read) until the test ends.
#
# Env: IOTRACE.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIB=200
BYTES=$((MIB * 1024 * 1024))

require_root
require_cmd jq losetup truncate mkfs.ext4 mount umount sync dd mknod mkfifo busybox
require_exec "$IOTRACE"

# ---- the devices and the file systems (outside the test cgroups) ----------

loop_a=$(mk_loop $((MIB + 120)))
loop_b=$(mk_loop $((MIB + 120)))
dev_a=$(cat "/sys/class/block/${loop_a##*/}/dev")
dev_b=$(cat "/sys/class/block/${loop_b##*/}/dev")
echo "# A: $loop_a ($dev_a), B: $loop_b ($dev_b)"

# mk_fs DEV DIR: ext4 without a journal nor lazy init on DEV, mounted on
# DIR (unmounted at exit, before the loop device goes).
mk_fs() {
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=0,lazy_journal_init=0 "$1" ||
		fatal "mkfs.ext4 $1 failed"
	mkdir "$2" || fatal "cannot create $2"
	mount -t ext4 "$1" "$2" || fatal "cannot mount $1 on $2"
	on_exit umount "$2"
}
mnt_a=$TEST_TMP/mnt-a
mnt_b=$TEST_TMP/mnt-b
mk_fs "$loop_a" "$mnt_a"
mk_fs "$loop_b" "$mnt_b"
mkdir "$mnt_a"/{layer-up,layer-work,volume-up,volume-work} "$mnt_b/vol" ||
	fatal "cannot create the layers' directories"

# The files the containers overwrite, written once for good.
for f in "$mnt_a/layer-up/data.bin" "$mnt_b/vol/data.bin"; do
	dd if=/dev/zero of="$f" bs=1M count="$MIB" oflag=direct status=none ||
		fatal "cannot write $f"
	sync -f "$f" || fatal "sync -f $f failed"
done

# The image: busybox-static and /dev/zero, on tmpfs (no block I/O to run it).
lower=$TEST_TMP/lower
bb=$lower/bin/busybox
mkdir -p "$lower"/{bin,dev,data} || fatal "cannot create $lower"
cp "$(command -v busybox)" "$bb" || fatal "cannot copy busybox"
[[ $(ldd "$bb" 2>&1 || true) == *"not a dynamic executable"* ]] ||
	fatal "$(command -v busybox) is not statically linked (busybox-static)"
for a in sh dd sleep; do
	ln -s busybox "$lower/bin/$a" || fatal "cannot link $a"
done
mknod -m 666 "$lower/dev/zero" c 1 5 || fatal "cannot create $lower/dev/zero"
sync -f "$mnt_a" || fatal "sync -f $mnt_a failed"
sync -f "$mnt_b" || fatal "sync -f $mnt_b failed"

# ---- the containers --------------------------------------------------------

declare -A CG=() REL=() OUT=() GO=()

# start_ct NAME UPPER WORK TARGET [VOLUME]: container NAME in cgroup
# iotrace-test-NAME-$$, in a mount namespace of its own whose root is an
# overlay of $lower with UPPER/WORK, VOLUME (if any) bind mounted on /data;
# once "go" arrives on its pipe it overwrites TARGET with MIB MiB, O_DIRECT,
# says "wrote" and sleeps.
start_ct() {
	local name=$1 upper=$2 work=$3 target=$4 vol=${5:-} root script
	root=$TEST_TMP/root-$name
	mkdir "$root" || fatal "cannot create $root"
	CG[$name]=$(mk_cgroup "$name") || exit 1
	REL[$name]=$(cg_rel "${CG[$name]}") || exit 1
	OUT[$name]=$TEST_TMP/$name.out
	GO[$name]=$TEST_TMP/$name.go
	mkfifo "${GO[$name]}" || fatal "cannot create ${GO[$name]}"
	script="$bb mount -t overlay -o lowerdir=$lower,upperdir=$upper,workdir=$work overlay $root"
	[[ -z $vol ]] || script+=" && $bb mount --bind $vol $root/data"
	script+=" && exec $bb chroot $root /bin/sh -c 'read go &&
		dd if=/dev/zero of=$target bs=1M count=$MIB oflag=direct conv=notrunc &&
		echo wrote && exec sleep 600'"
	# The cgroup first; stdin opened (on the pipe) before that, by the child.
	bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "${CG[$name]}" \
		"$bb" unshare -m --propagation private "$bb" sh -c "$script" \
		<"${GO[$name]}" >"${OUT[$name]}" 2>&1 &
	# Killed with its cgroup (lib.sh), without bash's job notice.
	disown $!
	exec {fd}>"${GO[$name]}" || fatal "cannot open ${GO[$name]}"
	GO[$name]=$fd
}
start_ct layer "$mnt_a/layer-up" "$mnt_a/layer-work" /data.bin
start_ct volume "$mnt_a/volume-up" "$mnt_a/volume-work" /data/data.bin "$mnt_b/vol"

# Both set up: in their own mount namespace, the overlay their root.
for c in layer volume; do
	ok=0
	for ((i = 0; i < 100; i++)); do
		while read -r pid; do
			if [[ $(readlink "/proc/$pid/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]] &&
				grep -q ' / / .* - overlay ' "/proc/$pid/mountinfo" 2>/dev/null; then
				ok=1
			fi
		done <"${CG[$c]}/cgroup.procs"
		((ok)) && break
		sleep 0.1
	done
	((ok)) || fatal "container $c did not set up: $(cat "${OUT[$c]}")"
done

err=$TEST_TMP/advise.err
out=$err.stdout
rec_err=$TEST_TMP/record.err
rec=$TEST_TMP/record.json
iotrace_start "$rec_err" record --interval 1 --cgroup "${REL[layer]}" \
	--cgroup "${REL[volume]}" --output "$rec"
rec_pid=$IOTRACE_PID
iotrace_wait_ready "$rec_pid" "$rec_err"
iotrace_start "$err" advise --duration 600 --format json
adv_pid=$IOTRACE_PID
for ((i = 0; i < 300; i++)); do
	grep -q '^iotrace: advise: watching' "$err" 2>/dev/null && break
	kill -0 "$adv_pid" 2>/dev/null || fatal "iotrace advise exited: $(cat "$err")"
	sleep 0.1
done
grep -q '^iotrace: advise: watching' "$err" || fatal "iotrace advise did not start: $(cat "$err")"

for c in layer volume; do
	echo go >&"${GO[$c]}" || fatal "cannot start container $c"
done
for c in layer volume; do
	for ((i = 0; i < 1200; i++)); do
		grep -q '^wrote$' "${OUT[$c]}" && break
		[[ -n $(cat "${CG[$c]}/cgroup.procs") ]] || break
		sleep 0.1
	done
	assert_match "$(cat "${OUT[$c]}")" '^wrote$' "$c: wrote $MIB MiB ($(tr '\n' ' ' <"${OUT[$c]}"))"
done
# Watched for more than advise's 3 s minimum after the writes (they sleep on).
sleep 5

iotrace_stop "$adv_pid"
assert_eq "$IOTRACE_RC" 0 "iotrace advise exits 0 after SIGINT"
[[ $IOTRACE_RC -eq 0 ]] || sed 's/^/#   /' "$err"
sleep 1.5
iotrace_stop_ok "$rec_pid" "$rec_err" "iotrace record exits 0 after SIGINT"
# The containers' mounts go before their file systems are unmounted at exit.
for c in layer volume; do
	_cg_kill "${CG[$c]}"
done

# ---- record: the exact bytes per device -----------------------------------------

assert_eq "$(json_bad_lines "$rec")" "" "record: every line is a JSON object"
for c in layer volume; do
	if [[ $c == layer ]]; then on=$dev_a off=$dev_b; else on=$dev_b off=$dev_a; fi
	sf() { summary_field "$rec" "${REL[$c]}" "$@"; }
	assert_eq "$(sf "done_on(\"$on\"; .write_bytes)")" "$BYTES" \
		"$c: record: exactly $BYTES bytes written on $on"
	assert_eq "$(sf "done_on(\"$off\"; .write_bytes)")" 0 "$c: record: none on $off"
	assert_eq "$(sf 'done(.write_bytes)')" "$BYTES" "$c: record: no block write elsewhere"
	check_unfinished "$rec" "${REL[$c]}"
	echo "# $c: devices: $(sf '.block.devices | tostring')"
	# record's summary carries the same findings as advise (docs/record-format.md).
	if [[ $c == layer ]]; then want=storage.writable_layer; else want=""; fi
	assert_eq "$(sf '[.findings[].id] | join(" ")')" "$want" \
		"$c: record's summary lists the findings: '$want'"
done
assert_eq "$(summary_field "$rec" "${REL[layer]}" \
	'.findings[] | select(.id == "storage.writable_layer") | .evidence.layer_wr_bytes')" \
	"$BYTES" "layer: record's finding has the layer's exact write bytes as evidence"
assert_eq "$(jq -nR -r "$_JQ_RECS"'[recs[] | select(.type == "self") | .lost.blk_dev_full, .devices_untracked] | add' "$rec")" \
	0 "record: nothing lost from the device split (self lines)"

# ---- advise ---------------------------------------------------------------------

assert_eq "$(json_bad_lines "$out")" "" "advise: every line is a JSON object"

# find NAME ID JQ: JQ on finding ID of container NAME ("none" if not raised).
find() { advise_find "$out" cgroup_path "${REL[$1]}" "$2" "$3"; }
# check NAME ID: "STATUS REASON" of rule ID for container NAME.
check() { advise_check "$out" cgroup_path "${REL[$1]}" "$2"; }

W=storage.writable_layer
ev() { find layer "$W" ".evidence.$1"; }
assert_eq "$(find layer "$W" .severity)" warning "layer: $W raised"
assert_eq "$(find layer "$W" .workload.kind)" container "layer: the workload is a container"
assert_eq "$(ev layer_device)" "$dev_a" "layer: the layer's device is A"
assert_eq "$(ev layer_fstype)" overlay "layer: the root is an overlay"
assert_eq "$(ev upper_dir)" "$mnt_a/layer-up" "layer: the upper dir named"
assert_eq "$(ev wr_bytes)" "$BYTES" "layer: evidence: $BYTES bytes written"
assert_eq "$(ev layer_wr_bytes)" "$BYTES" "layer: evidence: all $BYTES bytes on the layer's device"
assert_ge "$(ev layer_wr_ops)" 64 "layer: evidence: at least 64 writes on the layer's device"
assert_eq "$(ev layer_share)" 1 "layer: evidence: layer share 1"
assert_eq "$(ev volume_wr_bytes) $(ev other_wr_bytes)" "0 0" "layer: nothing on volumes or elsewhere"
assert_eq "$(ev devices_written)" "$dev_a" "layer: only A written"
assert_eq "$(ev attribution)" layer "layer: attribution to the layer (no volume shares A)"
assert_ge "$(ev seconds)" 3 "layer: watched for at least 3 s"
assert_match "$(find layer "$W" .remedy)" "docker run -v" "layer: the remedy is a volume"
echo "# layer: evidence $(find layer "$W" '.evidence | tostring')"
echo "# layer: saving $(find layer "$W" '.saving | tostring')"

assert_eq "$(find volume "$W" .id)" none "volume: $W not raised"
vcheck=$(check volume "$W")
echo "# volume: check: $vcheck"
assert_match "$vcheck" "^passed 0% of $MIB\.0 MiB written on the writable layer's device $dev_a " \
	"volume: $W checked and passed: nothing on the layer's device A"
assert_match "$vcheck" "$MIB\.0 MiB on volumes: /data\)" "volume: the check names the volume /data"
for c in layer volume; do
	assert_match "$(check "$c" net.nat)" "^passed in the host's network namespace" \
		"$c: net.nat checked and passed: the host's network namespace"
done
assert_eq "$(tail -1 "$out" | jq -r .type)" advise "the advise line comes last"

if grep -qv '^ok$' "$_lib_results"; then
	echo "# advise output:"
	sed 's/^/#   /' "$out"
fi

finish
