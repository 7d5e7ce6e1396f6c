#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `iotrace advise` on real QEMU (TCG) VMs: the VM findings are raised when
# the configuration calls for them, and only then (docs/advice.md).
#
# Three VMs of tools/qemu-vm.sh run at once in one test cgroup, each doing
# READS 4 KiB reads and WRITES 4 KiB writes on its own loop device, under
# one `iotrace advise --cgroup` (stopped with SIGINT once they are done):
#
#   adv-a  aio=native, no iothread: the main loop submits the I/O;
#          RAM from memory-backend-memfd (shmem: 4 KiB pages, THP for
#          shmem being off by default)
#          -> vm.io_main_loop raised (with exits/IO and host cycles/IO),
#             vm.no_hugepages raised
#   adv-b  aio=native with an iothread; RAM on hugetlbfs (-mem-path on a
#          hugetlbfs mount of the test's own, with 128 huge pages reserved
#          for it through /proc/sys/vm/nr_hugepages; both given back at
#          exit, whatever happens)
#          -> neither raised; and adv-a's saving is estimated against it
#   adv-c  aio=threads, no iothread, plain anonymous RAM: QEMU's thread
#          pool, fed by the main loop, does the I/O
#          -> vm.io_main_loop raised (workers counted as the main loop's);
#             vm.no_hugepages as the host's THP setting says: QEMU asks
#             for THP on guest RAM (madvise), so it is not raised unless
#             /sys/kernel/mm/transparent_hugepage/enabled is "never"
#
# vm.cpu_topology is raised for all three: they run QEMU's default CPU
# model (qemu64), and TCG cannot do -cpu host, so the "not raised" case is
# in tests/unit/test_advice.c only.
#
# QEMU's files are locked in memory and the VM copied to tmpfs as in
# test_vm_qemu.sh, so that QEMU's page faults add no reads of their own.
#
# Env: IOTRACE, VM_DIR (default build/vm, made by tools/mkvm.sh if missing).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VM_DIR=${VM_DIR:-$REPO_ROOT/build/vm}
READS=1200
WRITES=300
HUGE_PAGES=128 # the VMs' -m 256M in 2 MiB pages

require_root
require_cmd jq losetup qemu-system-x86_64 vmtouch ldd mount umount
require_exec "$IOTRACE"
grep -qx tcg <<<"$(qemu-system-x86_64 -accel help 2>/dev/null)" ||
	fatal "qemu-system-x86_64 has no TCG accelerator ('-accel help' does not list tcg)"

vm=$TEST_TMP/vm
test_vm_copy "$vm"
lock_qemu_in_memory

cg=$(mk_cgroup advise)
rel=$(cg_rel "$cg")
declare -A disk=([adv-a]=$(mk_loop 64) [adv-b]=$(mk_loop 64) [adv-c]=$(mk_loop 64))

# ---- huge pages: reserved and mounted for adv-b, given back at exit ----------

# shellcheck disable=SC2317 # called from the cleanup registry
hp_restore() {
	echo "$1" >/proc/sys/vm/nr_hugepages
}

# Unmount, waiting for QEMU (killed with the cgroup) to let go of its file.
# shellcheck disable=SC2317 # called from the cleanup registry
hp_umount() {
	local i
	for ((i = 0; i < 50; i++)); do
		umount "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	umount -l "$1"
}

hp_old=$(cat /proc/sys/vm/nr_hugepages)
on_exit hp_restore "$hp_old"
echo $((hp_old + HUGE_PAGES)) >/proc/sys/vm/nr_hugepages ||
	fatal "cannot reserve $HUGE_PAGES huge pages in /proc/sys/vm/nr_hugepages"
hp_free=$(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo)
((hp_free >= HUGE_PAGES)) ||
	fatal "only $hp_free huge pages free after reserving $HUGE_PAGES (memory too fragmented?)"
hugedir=$(mktemp -d /tmp/iotrace-hugetlbfs.XXXXXX)
on_exit rmdir "$hugedir"
mount -t hugetlbfs -o pagesize=2M none "$hugedir" || fatal "cannot mount hugetlbfs on $hugedir"
on_exit hp_umount "$hugedir"

# ---- the run ------------------------------------------------------------------

err=$TEST_TMP/advise.err
out=$err.stdout
iotrace_start "$err" advise --duration 600 --format json --cgroup "$rel"
for ((i = 0; i < 300; i++)); do
	grep -q '^iotrace: advise: watching' "$err" 2>/dev/null && break
	kill -0 "$IOTRACE_PID" 2>/dev/null || fatal "iotrace advise exited: $(cat "$err")"
	sleep 0.1
done
grep -q '^iotrace: advise: watching' "$err" || fatal "iotrace advise did not start: $(cat "$err")"

declare -A bg=() qpid=()

# start_vm NAME AIO [QEMU-ARG...]: boot the VM in the test cgroup.
start_vm() {
	local name=$1 mode=$2 a
	local -a extra=()
	shift 2
	for a in "$@"; do
		extra+=(--qemu-arg "$a")
	done
	(
		echo "$BASHPID" >"$cg/cgroup.procs" || exit 1
		exec bash "$REPO_ROOT/tools/qemu-vm.sh" --disk "${disk[$name]}" --aio "$mode" \
			--name "$name" --reads "$READS" --writes "$WRITES" --vm "$vm" \
			--pidfile "$TEST_TMP/$name.pid" --timeout 120 "${extra[@]}"
	) >"$TEST_TMP/$name.log" 2>&1 &
	bg[$name]=$!
}

start=$(date +%s)
start_vm adv-a native -object memory-backend-memfd,id=mem0,size=256M -machine memory-backend=mem0
start_vm adv-b iothread -mem-path "$hugedir"
start_vm adv-c threads

# QEMU removes its pid file when it exits: read them while they run.
for name in adv-a adv-b adv-c; do
	while [[ -z ${qpid[$name]:-} ]] && kill -0 "${bg[$name]}" 2>/dev/null; do
		p=$(cat "$TEST_TMP/$name.pid" 2>/dev/null) || p=""
		if [[ $p =~ ^[0-9]+$ ]]; then
			qpid[$name]=$p
		else
			sleep 0.05
		fi
	done
done
for name in adv-a adv-b adv-c; do
	rc=0
	wait "${bg[$name]}" || rc=$?
	assert_eq "$rc" 0 "$name: the guest did its I/O"
	[[ $rc -eq 0 ]] || sed 's/^/#   /' "$TEST_TMP/$name.log"
	[[ -n ${qpid[$name]:-} ]] || fatal "$name: never read QEMU's pid"
done
echo "# the three VMs took $(($(date +%s) - start)) s"

iotrace_stop "$IOTRACE_PID"
assert_eq "$IOTRACE_RC" 0 "iotrace advise exits 0 after SIGINT, findings or not"
[[ $IOTRACE_RC -eq 0 ]] || sed 's/^/#   /' "$err"
assert_eq "$(json_bad_lines "$out")" "" "every line is a JSON object"

# find NAME ID JQ: JQ on the finding ID of VM NAME ("none" if not raised).
find() { advise_find "$out" pid "${qpid[$1]}" "$2" "$3"; }
# check NAME ID: "STATUS REASON" of rule ID for VM NAME, from the final line.
check() { advise_check "$out" pid "${qpid[$1]}" "$2"; }

total=$((READS + WRITES))

# (a) aio=native, no iothread: the main loop.
assert_eq "$(find adv-a vm.io_main_loop .severity)" warning "adv-a: vm.io_main_loop raised"
assert_eq "$(find adv-a vm.io_main_loop .workload.name)" adv-a "adv-a: the finding names the VM"
assert_ge "$(find adv-a vm.io_main_loop .evidence.block_ops)" "$total" \
	"adv-a: evidence counts the guest's $total I/Os"
assert_ge "$(find adv-a vm.io_main_loop .evidence.main_ops)" "$total" "adv-a: on the main thread"
assert_ge "$(find adv-a vm.io_main_loop .evidence.main_loop_share)" 0.99 \
	"adv-a: the main loop's share is (nearly) all"
assert_eq "$(find adv-a vm.io_main_loop '.evidence.exits_per_io | type')" number \
	"adv-a: exits per I/O in the evidence"
assert_eq "$(find adv-a vm.io_main_loop .evidence.exits_source)" userspace_exit \
	"adv-a: exits counted at the VMM (no kvm_exit under TCG)"
assert_gt "$(find adv-a vm.io_main_loop .evidence.host_cycles_per_io)" 0 \
	"adv-a: host cycles per I/O in the evidence"
assert_ge "$(find adv-a vm.io_main_loop .evidence.seconds)" 3 "adv-a: watched 3 s or more"
assert_match "$(find adv-a vm.io_main_loop .remedy)" \
	"-object iothread,id=io0 -device virtio-blk-pci,drive=DRIVE,iothread=io0" \
	"adv-a: the remedy gives QEMU's iothread options"
assert_match "$(find adv-a vm.io_main_loop .remedy)" \
	"<iothreads>1</iothreads>.*iothread='1'" "adv-a: and libvirt's"
assert_match "$(find adv-a vm.io_main_loop .saving.basis)" "adv-b \\(pid ${qpid[adv-b]}\\)" \
	"adv-a: the saving is estimated against adv-b, measured on this host"

# (b) an iothread: not raised.
assert_eq "$(find adv-b vm.io_main_loop .id)" none "adv-b (iothread): vm.io_main_loop not raised"
assert_match "$(check adv-b vm.io_main_loop)" "^passed " "adv-b: vm.io_main_loop checked and passed"

# (c) hugetlbfs-backed RAM or not.
assert_eq "$(find adv-a vm.no_hugepages .id)" vm.no_hugepages \
	"adv-a (memfd, 4 KiB pages): vm.no_hugepages raised"
assert_eq "$(find adv-a vm.no_hugepages .evidence.backend)" memory-backend-memfd \
	"adv-a: the backend in the evidence"
assert_eq "$(find adv-a vm.no_hugepages .evidence.huge_coverage)" 0 "adv-a: no huge page at all"
assert_eq "$(find adv-a vm.no_hugepages .evidence.ram_mapped_bytes)" $((256 << 20)) \
	"adv-a: the 256 MiB of guest RAM found in smaps"
assert_match "$(find adv-a vm.no_hugepages .remedy)" "mem-path=/dev/hugepages" \
	"adv-a: the remedy gives QEMU's hugetlbfs backend"
assert_match "$(find adv-a vm.no_hugepages .remedy)" "<memoryBacking><hugepages/>" \
	"adv-a: and libvirt's"
assert_eq "$(find adv-b vm.no_hugepages .id)" none "adv-b (hugetlbfs): vm.no_hugepages not raised"
assert_match "$(check adv-b vm.no_hugepages)" "^passed .*hugetlbfs" \
	"adv-b: passed, on hugetlbfs"

# adv-c: aio=threads without an iothread is the main loop's too.
assert_eq "$(find adv-c vm.io_main_loop .severity)" warning \
	"adv-c (aio=threads, no iothread): vm.io_main_loop raised"
assert_ge "$(find adv-c vm.io_main_loop .evidence.worker_ops)" "$total" \
	"adv-c: the I/O is on the worker threads"
assert_eq "$(find adv-c vm.io_main_loop .evidence.main_loop_roles)" main,worker,io_uring \
	"adv-c: workers counted as the main loop's"
if grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
	assert_eq "$(find adv-c vm.no_hugepages .id)" vm.no_hugepages \
		"adv-c: THP off on this host: vm.no_hugepages raised"
else
	assert_match "$(check adv-c vm.no_hugepages)" "^passed .*transparent huge pages" \
		"adv-c: anonymous RAM on THP: vm.no_hugepages passed"
fi

# vm.cpu_topology: QEMU's default model, everywhere.
for name in adv-a adv-b adv-c; do
	assert_eq "$(find $name vm.cpu_topology .severity)" info "$name: vm.cpu_topology raised"
	assert_eq "$(find $name vm.cpu_topology .evidence.accel)" tcg "$name: accel tcg"
	assert_match "$(find $name vm.cpu_topology .summary)" "qemu64" "$name: the qemu64 model named"
done

nfind=$(jq -s '[.[] | select(.type == "finding")] | length' "$out")
assert_eq "$(jq -r 'select(.type == "advise") | "\(.vms) \(.findings)"' "$out")" "3 $nfind" \
	"the last line counts 3 VMs and every finding"
assert_eq "$(tail -1 "$out" | jq -r .type)" advise "the advise line comes last"

# The table, briefly, with nothing left to see: it still runs and exits 0.
rc=0
"$IOTRACE" advise --duration 1 --cgroup "$rel" >"$TEST_TMP/table.out" 2>"$TEST_TMP/table.err" ||
	rc=$?
assert_eq "$rc" 0 "advise --format table exits 0"
assert_match "$(cat "$TEST_TMP/table.out")" "^iotrace advise: 0 VMs watched" "the table's head line"

if grep -qv '^ok$' "$_lib_results"; then
	echo "# advise output:"
	sed 's/^/#   /' "$out"
fi

finish
