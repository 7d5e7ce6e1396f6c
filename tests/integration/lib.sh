# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Helpers sourced by tests/integration/test_*.sh.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sourcing sets `set -euo pipefail`, makes $TEST_TMP (removed at exit) and
# installs an EXIT trap that runs the cleanup registry (on_exit) in reverse
# order, whether the test passes, fails an assertion, dies on an error or is
# killed by SIGINT/SIGTERM/SIGHUP.  Fixtures that create something (mk_cgroup,
# mk_loop, iotrace_start) register its removal themselves.
#
# The registry and the assertion results live in files, so helpers work the
# same inside $(...) (A=$(mk_cgroup a) registers A's removal).  Only
# iotrace_start/iotrace_stop must run in the main shell: they keep the pid
# and exit status of a child in variables.
#
# Missing prerequisites are failures, never skips: CI must not pass a test
# that did not run.

set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LIB_DIR/../.." && pwd)
IOTRACE=${IOTRACE:-$REPO_ROOT/build/iotrace}
IOGEN=${IOGEN:-$REPO_ROOT/build/tools/iogen}
TEST_NAME=$(basename "$0" .sh)

_lib_main_pid=$BASHPID
_lib_finished=0
# On tmpfs: the tests' own files must cause no block I/O, or a cgroup that
# writes one (a redirected iogen summary) would be charged for it, rightly.
TEST_TMP=$(mktemp -d "/dev/shm/iotrace-$TEST_NAME.XXXXXX")
_lib_registry=$TEST_TMP/.cleanup
_lib_cgroups=$TEST_TMP/.cgroups
_lib_results=$TEST_TMP/.results
: >"$_lib_registry"
: >"$_lib_cgroups"
: >"$_lib_results"

# ---- failing loudly ---------------------------------------------------------

# fatal MSG...: the test cannot go on.  Prints to stderr (so that it is seen
# even from inside $(...)) and exits 1; the EXIT trap cleans up.
fatal() {
	printf '%s: FATAL: %s\n' "$TEST_NAME" "$*" >&2
	echo fatal >>"$_lib_results"
	exit 1
}

require_root() {
	[[ $EUID -eq 0 ]] || fatal "must run as root (euid is $EUID)"
}

# require_cmd CMD...: each must be on PATH.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			fatal "required command '$c' not found on PATH"
	done
}

# require_exec PATH...: each must be an executable file (e.g. a build output).
require_exec() {
	local f
	for f in "$@"; do
		[[ -f $f && -x $f ]] ||
			fatal "required executable '$f' missing (run 'make' first?)"
	done
}

# ---- cleanup registry -------------------------------------------------------

# on_exit CMD [ARG...]: run CMD ARG... at exit; the last registered runs first.
on_exit() {
	local q
	q=$(printf '%q ' "$@")
	printf '%s\n' "$q" >>"$_lib_registry"
}

# Kill every process left in the test cgroups, then run the registry in
# reverse order, then remove $TEST_TMP.  Never stops early on an error.
_lib_on_exit() {
	local rc=$? i cg
	local -a cmds=()

	[[ $BASHPID == "$_lib_main_pid" ]] || return "$rc"
	set +e
	trap - EXIT INT TERM HUP
	if ((rc != 0 && !_lib_finished)); then
		echo "not ok - $TEST_NAME aborted: exit status $rc"
	fi
	# Workloads first, so nothing still uses a loop device when it goes.
	while IFS= read -r cg; do
		_cg_kill "$cg"
	done <"$_lib_cgroups"
	mapfile -t cmds <"$_lib_registry"
	for ((i = ${#cmds[@]} - 1; i >= 0; i--)); do
		eval "${cmds[i]}" ||
			echo "$TEST_NAME: cleanup step failed: ${cmds[i]}" >&2
	done
	rm -rf "$TEST_TMP"
	exit "$rc"
}
trap _lib_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# _is_our_child PID: PID is alive and a child of the test shell (so it was
# not reaped and reused by another process).
_is_our_child() {
	local stat ppid
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # past "pid (comm) ", comm may hold spaces
	read -r _ ppid _ <<<"$stat"
	[[ $ppid == "$_lib_main_pid" ]]
}

# kill_wait PID [TIMEOUT_S]: if PID is still our child, SIGTERM it, SIGKILL
# it after TIMEOUT_S (5), and reap it.
kill_wait() {
	local pid=$1 timeout=${2:-5} i
	_is_our_child "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ---- cgroups ----------------------------------------------------------------

# cg2_mount: the cgroup2 mount point, from the first cgroup2 line of
# /proc/mounts.
cg2_mount() {
	local mnt
	mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[[ -n $mnt ]] || fatal "no cgroup2 file system in /proc/mounts"
	echo "$mnt"
}

# mk_cgroup NAME: create <cgroup2 mount>/iotrace-test-NAME-$$ and echo its
# path.  It is emptied and removed at exit.
mk_cgroup() {
	local mnt dir
	mnt=$(cg2_mount) || exit 1
	dir=$mnt/iotrace-test-$1-$$
	mkdir "$dir" || fatal "cannot create cgroup $dir"
	echo "$dir" >>"$_lib_cgroups"
	on_exit _cg_remove "$dir"
	echo "$dir"
}

# cg_rel DIR: DIR relative to the cgroup2 mount, as iotrace reports it
# ("/iotrace-test-a-123").
cg_rel() {
	local mnt
	mnt=$(cg2_mount) || exit 1
	[[ $1 == "$mnt"/* ]] || fatal "$1 is not under the cgroup2 mount $mnt"
	echo "${1#"$mnt"}"
}

# cg_usage_usec DIR: usage_usec from DIR/cpu.stat.
cg_usage_usec() {
	awk '$1 == "usage_usec" { print $2; found = 1 }
	     END { exit !found }' "$1/cpu.stat" ||
		fatal "no usage_usec in $1/cpu.stat"
}

_cg_procs() {
	cat "$1/cgroup.procs" 2>/dev/null
}

# Kill everything in cgroup DIR and wait up to 5 s for it to empty.
_cg_kill() {
	local dir=$1 pid i
	[[ -d $dir ]] || return 0
	[[ -n $(_cg_procs "$dir") ]] || return 0
	if [[ -e $dir/cgroup.kill ]]; then
		echo 1 >"$dir/cgroup.kill"
	else
		for pid in $(_cg_procs "$dir"); do
			kill -KILL "$pid" 2>/dev/null
		done
	fi
	for ((i = 0; i < 50; i++)); do
		[[ -n $(_cg_procs "$dir") ]] || break
		sleep 0.1
	done
	return 0
}

# Empty cgroup DIR (kill, then move what is left to the root) and rmdir it.
_cg_remove() {
	local dir=$1 mnt pid i
	[[ -d $dir ]] || return 0
	mnt=$(cg2_mount) || return 1
	_cg_kill "$dir"
	for pid in $(_cg_procs "$dir"); do
		echo "$pid" >"$mnt/cgroup.procs" 2>/dev/null ||
			echo "$TEST_NAME: cannot move pid $pid out of $dir" >&2
	done
	# A killed task can linger a moment after leaving cgroup.procs.
	for ((i = 0; i < 50; i++)); do
		rmdir "$dir" 2>/dev/null && return 0
		sleep 0.1
	done
	rmdir "$dir"
}

# ---- page cache -------------------------------------------------------------

# lock_in_memory PATH...: keep PATHs (files or directories) and, for
# executables, the shared libraries ldd lists for them, in the page cache
# until the test exits (vmtouch -l as a daemon).  This host's DAMON pageout
# scheme evicts file pages it finds idle, even ones used seconds before; a
# page fault of a traced task on one of them is a read from the root disk
# by that task, rightly counted by iotrace but not a fixed amount, which
# would break a test's exact I/O counts.
lock_in_memory() {
	local p pid pf i
	local -a files=(/etc/ld.so.cache)
	require_cmd vmtouch ldd
	for p in "$@"; do
		p=$(readlink -f "$p") || fatal "lock_in_memory: no such file $p"
		files+=("$p")
		[[ -f $p && -x $p ]] || continue
		mapfile -t -O "${#files[@]}" files < <(ldd "$p" 2>/dev/null |
			awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
	done
	pf=$(mktemp "$TEST_TMP/vmtouch.XXXXXX") || fatal "cannot create a file in $TEST_TMP"
	vmtouch -q -f -l -d -w -P "$pf" "${files[@]}" ||
		fatal "vmtouch could not lock ${files[*]} in memory"
	pid=$(cat "$pf")
	on_exit kill "$pid"
	for ((i = 0; i < 50; i++)); do
		grep -q '^VmLck:[[:space:]]*[1-9]' "/proc/$pid/status" 2>/dev/null && return 0
		sleep 0.1
	done
	fatal "vmtouch (pid $pid) locked nothing of ${files[*]}"
}

# lock_qemu_in_memory: lock_in_memory QEMU's binary and libraries, its
# modules and the libraries they need, its firmware, and the time zone file
# it reads, so that QEMU's page faults read nothing from the root disk.
# The modules' libraries matter under libvirt: its QMP queries for device
# types make QEMU load every module (and so libusb, spice, ...) at start.
lock_qemu_in_memory() {
	local q libdir d m
	local -a extra=("$(readlink -f /etc/localtime)")
	q=$(readlink -f "$(command -v qemu-system-x86_64)")
	# Not `ldd | grep -q`: grep leaving early kills ldd with SIGPIPE, which
	# pipefail turns into a failure (seen in CI).
	[[ $(ldd "$q") == *'=> /'* ]] || fatal "ldd $q listed no libraries"
	libdir=$(dirname "$(ldd "$q" | awk '$1 == "libc.so.6" { print $3 }')")
	for d in "$libdir/qemu" "${q%/bin/*}/share/qemu" /usr/share/seabios; do
		[[ ! -d $d ]] || extra+=("$d")
	done
	for m in "$libdir"/qemu/*.so; do
		[[ -e $m ]] || continue
		mapfile -t -O "${#extra[@]}" extra < <(ldd "$m" 2>/dev/null |
			awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
	done
	lock_in_memory "$q" "${extra[@]}"
}

# test_vm_copy DIR: build the test VM in VM_DIR (tools/mkvm.sh; cached) and
# copy its kernel and initramfs to DIR, on tmpfs, so that QEMU's reads of
# them are no block I/O.
test_vm_copy() {
	bash "$REPO_ROOT/tools/mkvm.sh" "$VM_DIR" >"$TEST_TMP/mkvm.out" 2>&1 ||
		fatal "building the test VM failed: $(cat "$TEST_TMP/mkvm.out")"
	mkdir "$1" || fatal "cannot create $1"
	cp "$VM_DIR/vmlinuz" "$VM_DIR/initramfs.cpio.gz" "$1/" ||
		fatal "cannot copy the test VM from $VM_DIR"
}

# ---- block devices ----------------------------------------------------------

# mk_loop SIZE_MB: a loop device over a new SIZE_MB file in /dev/shm, read
# once (4k, O_DIRECT) from this shell -- outside any test cgroup -- so that
# the scan of a first open is not charged to a workload.  Echoes /dev/loopN.
# Detached and its file removed at exit.
mk_loop() {
	local size=$1 file dev
	[[ $size =~ ^[1-9][0-9]*$ ]] || fatal "mk_loop: bad size '$size'"
	if grep -q '^0::.*/iotrace-test-' /proc/self/cgroup; then
		fatal "mk_loop must run outside the test cgroups"
	fi
	file=$(mktemp /dev/shm/iotrace-test-XXXXXX.img) ||
		fatal "cannot create a file in /dev/shm"
	on_exit rm -f "$file"
	truncate -s "${size}M" "$file" || fatal "cannot size $file"
	dev=$(losetup -f --show "$file") || fatal "losetup -f --show $file failed"
	on_exit losetup -d "$dev"
	dd if="$dev" of=/dev/null bs=4096 count=1 iflag=direct status=none ||
		fatal "priming read of $dev failed"
	echo "$dev"
}

# ---- assertions -------------------------------------------------------------
# Each prints "ok - WHAT" or "not ok - WHAT: expected X got Y" and records the
# result; `finish` turns the record into the exit status.

pass() {
	echo "ok - $1"
	echo ok >>"$_lib_results"
}

# fail WHAT DETAIL
fail() {
	echo "not ok - $1: $2"
	echo fail >>"$_lib_results"
}

_is_num() {
	[[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]
}

# assert_eq ACTUAL EXPECTED WHAT: string equality.
assert_eq() {
	if [[ $1 == "$2" ]]; then
		pass "$3"
	else
		fail "$3" "expected $2 got ${1:-<empty>}"
	fi
}

# _assert_cmp OP ACTUAL BOUND WHAT: numeric ACTUAL OP BOUND (awk: > >= < <=).
_assert_cmp() {
	local op=$1 actual=$2 bound=$3 what=$4
	if _is_num "$actual" &&
		awk -v a="$actual" -v b="$bound" "BEGIN { exit !(a $op b) }"; then
		pass "$what"
	else
		fail "$what" "expected $op $bound got ${actual:-<empty>}"
	fi
}

assert_gt() { _assert_cmp '>' "$@"; }
assert_ge() { _assert_cmp '>=' "$@"; }
assert_lt() { _assert_cmp '<' "$@"; }
assert_le() { _assert_cmp '<=' "$@"; }

# assert_within_pct ACTUAL EXPECTED PCT WHAT: |ACTUAL - EXPECTED| is at most
# PCT percent of EXPECTED.
assert_within_pct() {
	local actual=$1 expected=$2 pct=$3 what=$4
	if _is_num "$actual" && _is_num "$expected" &&
		awk -v a="$actual" -v e="$expected" -v p="$pct" 'BEGIN {
			d = a - e; if (d < 0) d = -d
			m = e * p / 100; if (m < 0) m = -m
			exit !(d <= m)
		}'; then
		pass "$what"
	else
		fail "$what" "expected $expected ±$pct% got ${actual:-<empty>}"
	fi
}

# assert_match TEXT ERE WHAT: TEXT contains a match of ERE.
assert_match() {
	if grep -Eq -- "$2" <<<"$1"; then
		pass "$3"
	else
		fail "$3" "expected text matching /$2/ got '${1:0:300}'"
	fi
}

# finish: exit 0 if every assertion passed (and there was one), else 1.
finish() {
	local ok failed
	ok=$(grep -c '^ok$' "$_lib_results" || true)
	failed=$(grep -vc '^ok$' "$_lib_results" || true)
	echo "# $TEST_NAME: $ok passed, $failed failed"
	_lib_finished=1
	if ((failed > 0 || ok == 0)); then
		exit 1
	fi
	exit 0
}

# iotrace_programs_left: how many of iotrace's BPF programs are loaded on
# the host (by name; tests run one at a time).  The kernel frees a
# detached program after an RCU grace period: waits up to 2 s for none.
_IOTRACE_PROGS='^(sched_switch|block_[a-z_]+|kvm_[a-z_]+|net_[a-z_]+|vm_exec)_(btf|raw)$|^iotrace_flush$|^net_(egress|ingress)$'
iotrace_programs_left() {
	local n i
	for i in $(seq 40); do
		n=$(bpftool prog show -j | jq -r --arg re "$_IOTRACE_PROGS" \
			'[.[] | select(.name // "" | test($re))] | length')
		[[ $n == 0 ]] && break
		sleep 0.05
	done
	echo "$n"
}

# ---- iotrace record output (JSON lines) -------------------------------------
# Lines that are not JSON objects are skipped here; json_bad_lines finds them.

# done(f): a summary's block figure f (.read_ops, .write_bytes, ...) with its
# I/Os left in flight at exit (block.unfinished).  The kernel sometimes fires
# a completion without running iotrace's program (docs/design.md); when that
# I/O is among a run's last, record lists it in block.unfinished instead of
# block.*: exact counts compare with done(f), and check_unfinished keeps it rare.
# done_on(DEV; f): the same for device DEV ("major:minor") alone.
_JQ_RECS='def recs: [inputs | (try fromjson catch null) | objects];
def done(f): (.block | f) + ([.block.unfinished[]? | f] | add // 0);
def done_on($d; f): ([.block.devices[]? | select(.dev == $d) | f] | add // 0)
	+ ([.block.unfinished[]? | select(.dev == $d) | f] | add // 0);'

# json_bad_lines FILE: the numbers of (up to 10) lines that are not a JSON
# object and how many there are, e.g. "3 7 (2 lines)"; nothing if all are.
json_bad_lines() {
	jq -nR -r '[inputs | (try (fromjson | type) catch "invalid")]
		| [to_entries[] | select(.value != "object") | .key + 1]
		| select(length > 0)
		| "\(.[:10] | map(tostring) | join(" ")) (\(length) lines)"' "$1"
}

# summary_count FILE CGROUP_PATH: number of summary lines for CGROUP_PATH.
summary_count() {
	jq -nR -r --arg p "$2" "$_JQ_RECS"'
		[recs[] | select(.type == "summary" and
				 .workload.cgroup_path == $p)] | length' "$1"
}

# summary_field FILE CGROUP_PATH JQPATH: JQPATH (e.g. .block.read_ops) of the
# one summary line whose .workload.cgroup_path is CGROUP_PATH.  null prints
# as "null"; no or several such lines print "<N summary lines for PATH>".
summary_field() {
	jq -nR -r --arg p "$2" "$_JQ_RECS"'
		[recs[] | select(.type == "summary" and
				 .workload.cgroup_path == $p)]
		| if length == 1 then .[0] | ('"$3"')
		  else "<\(length) summary lines for \($p)>" end' "$1"
}

# interval_sum FILE CGROUP_PATH JQPATH: sum of JQPATH over CGROUP_PATH's
# interval lines (0 if none).
interval_sum() {
	jq -nR -r --arg p "$2" "$_JQ_RECS"'
		[recs[] | select(.type == "interval" and
				 .workload.cgroup_path == $p) | ('"$3"')]
		| if all(type == "number") then add // 0
		  else "<non-numeric values: \(map(tostring) | join(","))>"
		  end' "$1"
}

# check_unfinished FILE CGROUP_PATH: one assertion that the summary of
# CGROUP_PATH, whose I/O has all completed, lists at most 2 I/Os in
# block.unfinished (a kernel quirk, about one completion in 30,000 or more,
# not a way to lose I/Os); prints them when there are any.
# check_vm_unfinished FILE PID: the same for the VM summary of PID.
check_unfinished() { _check_unfinished summary_field "$1" "$2" "$2"; }
check_vm_unfinished() { _check_unfinished vm_summary "$1" "$2" "VM $2"; }

# _check_unfinished READER FILE KEY LABEL: READER FILE KEY JQPATH reads the summary.
_check_unfinished() {
	local get=$1 file=$2 key=$3 label=$4 n
	n=$("$get" "$file" "$key" '[.block.unfinished[]? | .read_ops + .write_ops] | add // 0')
	[[ $n == 0 ]] ||
		echo "# $label: block.unfinished: $("$get" "$file" "$key" '.block.unfinished | tostring')"
	assert_le "$n" 2 "$label: at most 2 completed I/Os reported unfinished (kernel quirk)"
}

# advise_find FILE FIELD VALUE ID JQ: JQ on the finding ID, in advise's JSON
# lines FILE, of the workload whose FIELD (pid, cgroup_path) is VALUE;
# "none" when it was not raised.
advise_find() {
	jq -r --arg k "$2" --arg v "$3" --arg id "$4" \
		'select(.type == "finding" and .id == $id and (.workload[$k] | tostring) == $v)
		 | '"$5" "$1" | grep . || echo none
}

# advise_check FILE FIELD VALUE ID: "STATUS REASON" of rule ID for that
# workload, from advise's final line.
advise_check() {
	jq -r --arg k "$2" --arg v "$3" --arg id "$4" \
		'select(.type == "advise") | .checks[]
		 | select(.id == $id and (.[$k] | tostring) == $v) | "\(.status) \(.reason)"' "$1"
}

# record_values FILE JQPATH: distinct values of JQPATH over all lines but
# "self" ones, one per line, sorted.
record_values() {
	jq -nR -r "$_JQ_RECS"'
		recs[] | select(.type != "self") | ('"$2"') | tostring' "$1" |
		sort -u
}

# vm_summary FILE PID JQPATH: JQPATH of the one VM summary line of PID;
# "<N VM summary lines for pid PID>" when there is not exactly one.
vm_summary() {
	jq -nR -r --argjson p "$2" "$_JQ_RECS"'
		[recs[] | select(.type == "summary" and .workload.kind == "vm" and
				 .workload.pid == $p)]
		| if length == 1 then .[0] | ('"$3"')
		  else "<\(length) VM summary lines for pid \($p)>" end' "$1"
}

# vm_role FILE PID ROLE JQPATH: JQPATH of ROLE's entry in the threads array
# of PID's VM summary line.
vm_role() {
	vm_summary "$1" "$2" "[.threads[] | select(.role == \"$3\")] | if length == 1 then .[0] | $4 else \"<\(length) $3 entries>\" end"
}

# assert_vm_role_io FILE PID ROLE "R W RB WB" WHAT: ROLE's block figures
# (read_ops write_ops read_bytes write_bytes) in PID's VM summary are R W RB
# WB.  The VM's I/Os left in flight at exit (block.unfinished: see done())
# are not split by role, so each figure may fall short of its expected value
# by at most the VM's unfinished figure; it is exact when there is none.
assert_vm_role_io() {
	local got unf
	got=$(vm_role "$1" "$2" "$3" '"\(.read_ops) \(.write_ops) \(.read_bytes) \(.write_bytes)"')
	unf=$(vm_summary "$1" "$2" '[.block.unfinished[]?] as $u
		| [("read_ops", "write_ops", "read_bytes", "write_bytes") as $k
		   | [$u[][$k]] | add // 0] | map(tostring) | join(" ")')
	if [[ $got == "$4" ]]; then
		pass "$5"
	elif [[ $got =~ ^[0-9\ ]+$ && $unf =~ ^[0-9\ ]+$ ]] &&
		awk -v g="$got" -v e="$4" -v u="$unf" 'BEGIN {
			n = split(g, G); split(e, E); split(u, U)
			if (n != 4) exit 1
			for (i = 1; i <= 4; i++)
				if (G[i] > E[i] || G[i] < E[i] - U[i]) exit 1
		}'; then
		pass "$5 (short by the VM's I/Os left in flight: $unf)"
	else
		fail "$5" "expected $4 (less at most the VM's unfinished ${unf:-<unknown>}) got ${got:-<empty>}"
	fi
}

# ---- tmux: a terminal program as a person sees it ---------------------------

# tmux_screen SESSION: what SESSION's screen shows now.
tmux_screen() {
	tmux capture-pane -p -t "$1"
}

# tmux_kill SESSION: end SESSION if it still runs.
tmux_kill() {
	tmux kill-session -t "$1" 2>/dev/null || true
}

# tmux_screen_has SESSION ERE: whether the screen has a line matching ERE.
tmux_screen_has() {
	grep -qE -- "$2" <<<"$(tmux_screen "$1")"
}

# tmux_wait_for SESSION WHAT TIMEOUT_S CMD...: until CMD succeeds; one
# assertion, with the screen when it fails.
tmux_wait_for() {
	local session=$1 what=$2 timeout=$3 i
	shift 3
	for ((i = 0; i < timeout * 10; i++)); do
		if "$@"; then
			pass "$what"
			return 0
		fi
		sleep 0.1
	done
	fail "$what" "not within ${timeout} s; screen:
$(tmux_screen "$session" | sed 's/^/#   /')"
}

# ---- running iotrace --------------------------------------------------------

# iotrace_start ERRFILE ARG...: run "$IOTRACE" ARG... in the background with
# stderr to ERRFILE and stdout to ERRFILE.stdout; sets IOTRACE_PID.  SIGINT is
# reset to its default first: bash starts background jobs with it ignored.
# Must run in the main shell.
iotrace_start() {
	local err=$1
	shift
	env --default-signal=INT "$IOTRACE" "$@" >"$err.stdout" 2>"$err" \
		</dev/null &
	IOTRACE_PID=$!
	on_exit kill_wait "$IOTRACE_PID"
}

# iotrace_wait_ready PID ERRFILE [TIMEOUT_S]: wait for the line
# "iotrace: recording" that iotrace prints on stderr once attached.
iotrace_wait_ready() {
	local pid=$1 err=$2 timeout=${3:-30} i
	for ((i = 0; i < timeout * 10; i++)); do
		if grep -q '^iotrace: recording' "$err" 2>/dev/null; then
			pass "iotrace attached (after ~$((i / 10)) s)"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			fail "iotrace attached" "it exited before printing 'iotrace: recording'; stderr: $(head -c 2000 "$err")"
			fatal "iotrace did not start"
		fi
		sleep 0.1
	done
	fail "iotrace attached" "no 'iotrace: recording' on stderr after ${timeout} s; stderr: $(head -c 2000 "$err")"
	fatal "iotrace did not start"
}

# iotrace_stop PID [TIMEOUT_S]: SIGINT, wait up to TIMEOUT_S (30) for it to
# exit, SIGKILL if it does not; sets IOTRACE_RC.  Must run in the main shell.
# shellcheck disable=SC2034 # IOTRACE_RC is read by the tests
iotrace_stop() {
	local pid=$1 timeout=${2:-30} i
	kill -INT "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "iotrace exits after SIGINT" "still running after $timeout s"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	IOTRACE_RC=0
	wait "$pid" || IOTRACE_RC=$?
}

# iotrace_stop_ok PID ERRFILE WHAT: stop iotrace, assert it exited 0 (WHAT
# names the check) and, when it did not, show what it said on stderr.
iotrace_stop_ok() {
	local pid=$1 err=$2 what=$3
	iotrace_stop "$pid"
	assert_eq "$IOTRACE_RC" 0 "$what"
	if [[ $IOTRACE_RC -ne 0 ]]; then
		echo "# iotrace stderr:" && sed 's/^/#   /' "$err"
	fi
}
