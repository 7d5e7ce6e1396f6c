#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A real Docker container: named by the Engine API, its network figures
# exact.
#
# The test starts a dockerd of its own, with everything of it in $TEST_TMP
# (--data-root, --exec-root, socket, pidfile, an empty --config-file), so
# /var/lib/docker knows nothing of its containers: the name can only come
# from the Engine API at $DOCKER_HOST, which points the docker CLI and
# iotrace at that socket alike.  The daemon is given a bridge of the
# test's own (iotdk$$, on netlib.sh's free 10.X.Y.0/24, IPv6 off) rather
# than docker0, which a docker on the host may own, and:
#   --ip-forward=false    the traffic goes from the host into the
#                         container, never through it: so net.ipv4.ip_forward,
#                         the FORWARD policy and bridge netfilter stay as
#                         they are (dockerd changes all three otherwise);
#   --userland-proxy=false  the published port is iptables DNAT alone, no
#                         docker-proxy in between;
#   --storage-driver vfs  the image is a few MB and $TEST_TMP is tmpfs.
# The image is `docker import`ed from a busybox-static root file system
# with netgen and the libraries it needs (no registry).  The container runs
# `netgen udp-recv` on port 5000, published as -p HPORT:5000/udp; the host
# sends COUNT datagrams of SIZE bytes to the bridge's address at HPORT,
# which the nat OUTPUT chain's DOCKER rules DNAT to the container, while
# `iotrace record --cgroup /docker/ID` runs.  The container's summary must
# say runtime docker, the container's id, its docker name, and exactly
# COUNT packets and COUNT * SIZE payload bytes received, nothing sent.
#
# Afterwards everything dockerd made goes: container, image, daemon (and
# its containerd), data and exec roots, the bridge, the iptables rules and
# DOCKER chains it added, the /docker cgroups, /etc/docker/key.json and
# /run/docker when they were not there before; the FORWARD policy and the
# sysctls it may touch are put back to what they were.  Another running
# dockerd is a failure, not a skip: a second daemon would rewrite its
# iptables chains.
#
# Env: IOTRACE, NETGEN, DOCKERD (default: dockerd on PATH), DOCKER_CLI
# (default /usr/bin/docker: a newer client elsewhere on PATH may not speak
# to a 20.10 daemon).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=netlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/netlib.sh"

COUNT=1000
SIZE=512
DPORT=5000
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
DOCKERD=${DOCKERD:-$(command -v dockerd || echo /usr/sbin/dockerd)}

require_root
require_cmd ip iptables jq sysctl busybox ldd tar pgrep
require_exec "$IOTRACE" "$NETGEN" "$DOCKER_CLI" "$DOCKERD"

D=$TEST_TMP/docker
BR=iotdk$$
BR_IP=$NET_PREFIX.1
SUBNET=$NET_PREFIX.0/24
NAME=iotrace-test-$$
IMAGE=iotrace-test-$$:latest
HPORT=$(net_port 0)
IPT=(iptables -w 10)
SYSCTLS=(net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
	net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables)
export DOCKER_HOST=unix://$D/docker.sock

docker() {
	"$DOCKER_CLI" "$@"
}

# The cleanup steps below start with this: a second SIGINT or SIGTERM (lib.sh
# resets the traps when cleanup starts) must not cut them short and leave
# dockerd running or the host's iptables changed.  Each step is bounded in
# time instead.
# shellcheck disable=SC2317 # run at exit, through on_exit
no_signals() {
	trap '' INT TERM HUP
}

# docker_quiet ARG...: a docker command of the cleanup; what it removes is
# no news, only its errors are.
# shellcheck disable=SC2317 # run at exit, through on_exit
docker_quiet() {
	no_signals
	timeout 30 "$DOCKER_CLI" "$@" >/dev/null
}

# wait_log ERE [TIMEOUT_S]: wait (10 s) for a line of the container's
# output that matches ERE.
wait_log() {
	local i logs
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		logs=$(docker logs "$NAME" 2>&1) || true
		grep -Eq -- "$1" <<<"$logs" && return 0
		sleep 0.1
	done
	return 1
}

# cgroup mounts, v1 and v2: dockerd makes a "docker" parent in each.
cg_mounts() {
	awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts
}

# ---- the host as it was -------------------------------------------------------

mkdir "$D" "$D/before" || fatal "cannot create $D"
if pids=$(pgrep -x dockerd); then
	fatal "another dockerd is running (pid ${pids//$'\n'/ }): a second daemon would rewrite its iptables chains; stop it first"
fi
for t in filter nat; do
	"${IPT[@]}" -t "$t" -S >"$D/before/$t" 2>/dev/null ||
		fatal "iptables -t $t -S failed (is iptables installed and nf_tables usable?)"
done
for k in "${SYSCTLS[@]}"; do
	echo "$k $(sysctl -n "$k" 2>/dev/null || echo -)"
done >"$D/before/sysctl"
for p in /etc/docker /etc/docker/key.json /run/docker /run/docker/plugins \
	$(cg_mounts | sed 's|$|/docker|'); do
	[[ ! -e $p ]] || echo "$p"
done >"$D/before/paths"

# _ipt_undo TABLE: delete what dockerd added to TABLE: rules of the built-in
# chains that name a DOCKER chain, our bridge or our subnet, then the
# DOCKER chains that were not there before (flushed first: they jump to
# each other).  Rules and chains of anyone else stay.
# shellcheck disable=SC2317 # run at exit, through on_exit
_ipt_undo() {
	local t=$1 line rule chain
	local -a args chains=()
	"${IPT[@]}" -t "$t" -S >"$D/after.$t" 2>/dev/null || return 1
	while IFS= read -r line; do
		grep -qxF -- "$line" "$D/before/$t" && continue
		case $line in
		"-N DOCKER"*)
			chains+=("${line#-N }")
			;;
		"-A "*)
			rule=${line#-A }
			chain=${rule%% *}
			[[ $chain != DOCKER* ]] || continue
			[[ $rule == *DOCKER* || $rule == *" $BR "* || $rule == *" $SUBNET "* ]] ||
				continue
			read -ra args <<<"$rule"
			"${IPT[@]}" -t "$t" -D "${args[@]}" ||
				echo "$TEST_NAME: cannot delete iptables -t $t rule: $rule" >&2
			;;
		esac
	done <"$D/after.$t"
	for chain in "${chains[@]}"; do
		"${IPT[@]}" -t "$t" -F "$chain"
	done
	for chain in "${chains[@]}"; do
		"${IPT[@]}" -t "$t" -X "$chain" ||
			echo "$TEST_NAME: cannot delete iptables -t $t chain $chain" >&2
	done
}

# Put the host back (runs last, after the daemon is gone).
# shellcheck disable=SC2317 # run at exit, through on_exit
restore_host() {
	local t k v now p i
	local -a args
	no_signals
	for t in filter nat; do
		_ipt_undo "$t"
	done
	p=$(grep '^-P FORWARD ' "$D/before/filter")
	if [[ -n $p && $p != "$("${IPT[@]}" -S FORWARD 2>/dev/null | grep '^-P FORWARD ')" ]]; then
		echo "# restoring the iptables FORWARD policy: $p"
		read -ra args <<<"$p"
		"${IPT[@]}" "${args[@]}"
	fi
	while read -r k v; do
		now=$(sysctl -n "$k" 2>/dev/null || echo -)
		[[ $v != - && $now != "$v" ]] || continue
		echo "# restoring sysctl $k=$v (was $now)"
		sysctl -qw "$k=$v"
	done <"$D/before/sysctl"
	grep -qxF /etc/docker/key.json "$D/before/paths" || rm -f /etc/docker/key.json
	for p in /run/docker/plugins /run/docker /etc/docker $(cg_mounts | sed 's|$|/docker|'); do
		if [[ ! -e $p ]] || grep -qxF "$p" "$D/before/paths"; then
			continue
		fi
		for ((i = 0; i < 20; i++)); do
			rmdir "$p" 2>/dev/null && break
			sleep 0.1
		done
		[[ ! -e $p ]] || echo "$TEST_NAME: cannot remove $p (not empty?)" >&2
	done
}
on_exit restore_host

# ---- the daemon -------------------------------------------------------------

# The bridge dockerd attaches its containers to (--bridge): ours, made
# before the daemon and deleted after it.
ip link add name "$BR" type bridge || fatal "cannot create bridge $BR"
on_exit _net_link_del "$BR"
sysctl -qw "net.ipv6.conf.$BR.disable_ipv6=1" || fatal "cannot disable IPv6 on $BR"
ip addr add "$BR_IP/24" dev "$BR" || fatal "cannot add $BR_IP/24 to $BR"
ip link set "$BR" up || fatal "cannot bring $BR up"

# Unmount what a killed daemon left mounted in $D, deepest first, so that
# removing $TEST_TMP never reaches through a mount.
# shellcheck disable=SC2317 # run at exit, through on_exit
_umount_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		umount -l "$m" || echo "$TEST_NAME: cannot unmount $m" >&2
	done
}

# shellcheck disable=SC2317 # run at exit, through on_exit
stop_dockerd() {
	local pid=$1 i cpid
	no_signals
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$TEST_NAME: dockerd (pid $pid) still running 20 s after SIGTERM: killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	# the containerd it started stops with it; after a SIGKILL it does not
	cpid=$(cat "$D/exec/containerd/containerd.pid" 2>/dev/null || true)
	if [[ -n $cpid ]] && kill -0 "$cpid" 2>/dev/null &&
		grep -q "$D/exec/containerd" "/proc/$cpid/cmdline" 2>/dev/null; then
		kill -KILL "$cpid" 2>/dev/null || true
	fi
	_umount_under "$D"
}

echo '{}' >"$D/daemon.json"
"$DOCKERD" --config-file "$D/daemon.json" --data-root "$D/data" \
	--exec-root "$D/exec" --pidfile "$D/docker.pid" --host "$DOCKER_HOST" \
	--bridge "$BR" --ip-forward=false --userland-proxy=false \
	--storage-driver vfs --exec-opt native.cgroupdriver=cgroupfs \
	--log-level warn >"$D/dockerd.log" 2>&1 </dev/null &
DOCKERD_PID=$!
on_exit stop_dockerd "$DOCKERD_PID"
for ((i = 0; i < 300; i++)); do
	docker version >/dev/null 2>&1 && break
	kill -0 "$DOCKERD_PID" 2>/dev/null ||
		fatal "dockerd exited at start: $(tail -n 20 "$D/dockerd.log")"
	sleep 0.1
done
docker version >"$D/version" 2>&1 ||
	fatal "dockerd does not answer at $DOCKER_HOST after 30 s: $(tail -n 20 "$D/dockerd.log")"
pass "dockerd $(docker version -f '{{.Server.Version}}') runs with its data root in $D/data"

# ---- image and container ----------------------------------------------------

# rootfs: busybox-static and its applets, netgen and what it is linked to.
R=$D/rootfs
mkdir -p "$R/bin" "$R/tmp" || fatal "cannot create $R"
cp /bin/busybox "$R/bin/busybox" || fatal "cannot copy /bin/busybox"
applets=$(busybox --list) || fatal "busybox --list failed"
for a in $applets; do
	[[ $a == busybox ]] || ln -s busybox "$R/bin/$a" || fatal "cannot link $R/bin/$a"
done
cp "$NETGEN" "$R/bin/netgen" || fatal "cannot copy $NETGEN"
for lib in $(ldd "$NETGEN" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
	$1 ~ /^\// { print $1 }'); do
	mkdir -p "$R$(dirname "$lib")" || fatal "cannot create $R$(dirname "$lib")"
	cp -L "$lib" "$R$lib" || fatal "cannot copy $lib into the image"
done
tar -C "$R" -cf "$D/rootfs.tar" . || fatal "cannot pack $R"
docker import "$D/rootfs.tar" "$IMAGE" >"$D/import.out" 2>&1 ||
	fatal "docker import failed: $(cat "$D/import.out")"
on_exit docker_quiet rmi -f "$IMAGE"

# The shell stays after netgen so that the container (and its cgroup) is
# still there when iotrace names it.
docker run -d --name "$NAME" -p "$HPORT:$DPORT/udp" "$IMAGE" /bin/sh -c \
	"/bin/netgen udp-recv --bind 0.0.0.0:$DPORT --count $COUNT --size $SIZE --timeout 30; echo exit=\$?; exec sleep 600" \
	>"$D/run.out" 2>&1 || fatal "docker run failed: $(cat "$D/run.out")"
on_exit docker_quiet rm -f "$NAME"
wait_log '^ready ' ||
	fatal "netgen in $NAME not ready after 10 s: $(docker logs "$NAME" 2>&1 | tail -n 5)"
read -r CPID ID <<<"$(docker inspect -f '{{.State.Pid}} {{.Id}}' "$NAME")"
CG=$(awk -F: '$1 == "0" { print $3 }' "/proc/$CPID/cgroup")
assert_eq "$CG" "/docker/$ID" "the container's cgroup (cgroupfs driver) is /docker/<id>"
assert_eq "$(ls -d "/var/lib/docker/containers/$ID" 2>/dev/null)" "" \
	"/var/lib/docker has no config.v2.json of it: only the Engine API can name it"

# ---- traffic, recorded --------------------------------------------------------

iotrace_start "$TEST_TMP/rec.err" record --interval 1 --cgroup "$CG"
on_exit no_signals # from the first cleanup step on, iotrace's
iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/rec.err"
rc=0
"$NETGEN" udp-send --to "$BR_IP:$HPORT" --count "$COUNT" --size "$SIZE" \
	--timeout 10 >"$D/send.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "udp-send to $BR_IP:$HPORT (DNAT to $NAME:$DPORT) exits 0 ($(tail -n 1 "$D/send.out"))"
assert_eq "$(netgen_field "$D/send.out" datagrams)" "$COUNT" "the host sent $COUNT datagrams"
wait_log '^exit=' || true
docker logs "$NAME" >"$D/recv.out" 2>"$D/recv.err"
assert_eq "$(grep '^exit=' "$D/recv.out")" "exit=0" \
	"netgen udp-recv in the container exits 0 ($(tail -n 1 "$D/recv.err"))"
assert_eq "$(netgen_field "$D/recv.out" datagrams)/$(netgen_field "$D/recv.out" dropped)" \
	"$COUNT/0" "the container received all $COUNT datagrams, none dropped"
sleep 1.2 # one interval line with the traffic in it, besides the summary
iotrace_stop_ok "$IOTRACE_PID" "$TEST_TMP/rec.err" "iotrace record exits 0"
OUT=$TEST_TMP/rec.err.stdout
assert_eq "$(json_bad_lines "$OUT")" "" "every line is a JSON object"

assert_eq "$(summary_field "$OUT" "$CG" '"\(.workload.kind) \(.workload.runtime) \(.workload.container_id)"')" \
	"container docker $ID" "the summary is a docker container with its full id"
assert_eq "$(summary_field "$OUT" "$CG" .workload.name)" "$NAME" \
	"workload.name is the docker name, from the Engine API at \$DOCKER_HOST"
assert_eq "$(record_values "$OUT" "select(.workload.cgroup_path == \"$CG\") | .workload.name")" \
	"$NAME" "every line of it carries that name"
assert_eq "$(summary_field "$OUT" "$CG" '"\(.net.rx_packets) \(.net.rx_bytes)"')" \
	"$COUNT $((COUNT * SIZE))" "net.rx_packets and rx_bytes: exactly $COUNT x $SIZE"
assert_eq "$(summary_field "$OUT" "$CG" '"\(.net.tx_packets) \(.net.tx_bytes)"')" \
	"0 0" "net.tx: the receiver sent nothing"
assert_eq "$(grep -c 'Docker Engine API' "$TEST_TMP/rec.err")" 0 \
	"no warning about the Engine API"

finish
