#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `iotrace advise` on containers' networks (docs/advice.md, net.nat and
# net.bridge): three hand-built containers of netlib.sh send the same
# fixed UDP load to the same outside host (ext, in its own namespace on a
# routed link):
#
#   nat    netns + veth on a bridge, masqueraded on its way out (what
#          docker's default bridge does)   -> net.nat raised, its cycles
#          per byte compared with hostc's, measured in the same run
#   br     netns + veth on another bridge, routed out without NAT (a docker
#          network with enable_ip_masquerade=false) -> net.bridge raised,
#          not net.nat, compared with hostc's likewise
#   hostc  a cgroup in the host's netns (--net=host) -> nothing raised;
#          the rule passed, the host's namespace named
#
# Each container also holds a sleeping process (its "init"), so that
# advise finds a process to read the facts of after the sender exited.
# Only nat, br and hostc are given to --cgroup: ext, the receiver, is
# neither judged nor a reference.  The figures of the finding must be the exact
# traffic sent; its ratio must be its own two cycles-per-byte figures'
# quotient.  Whether NAT costs more here is measured, not asserted.
#
# Env: IOTRACE, NETGEN.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=netlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/netlib.sh"

COUNT=20000
SIZE=1024
DPORT=5000

require_root
require_cmd ip iptables bridge jq sysctl sleep
require_exec "$IOTRACE" "$NETGEN"

mk_bridge
mk_netns_container nat "$(net_ip 2)"
mk_bridge_nonat
mk_netns_container_nonat br "$(net_nonat_ip 2)"
mk_netns_external ext
mk_host_container hostc

declare -A REL
for c in nat br hostc; do
	REL[$c]=$(cg_rel "${CT_CG[$c]}")
done

# hold NAME: a process that stays in container NAME (cgroup and netns) until exit.
hold() {
	local name=$1
	local -a nsarg=()
	# The cgroup first: `ip netns exec` remounts /sys, hiding the cgroup2 mount.
	[[ -z ${CT_NS[$name]} ]] || nsarg=(ip netns exec "${CT_NS[$name]}")
	bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "${CT_CG[$name]}" \
		"${nsarg[@]}" sleep 600 </dev/null >/dev/null 2>&1 &
	on_exit kill_wait $!
}
hold nat
hold br
hold hostc

err=$TEST_TMP/advise.err
out=$err.stdout
iotrace_start "$err" advise --duration 600 --format json \
	--cgroup "${REL[nat]}" --cgroup "${REL[br]}" --cgroup "${REL[hostc]}"
for ((i = 0; i < 300; i++)); do
	grep -q '^iotrace: advise: watching' "$err" 2>/dev/null && break
	kill -0 "$IOTRACE_PID" 2>/dev/null || fatal "iotrace advise exited: $(cat "$err")"
	sleep 0.1
done
grep -q '^iotrace: advise: watching' "$err" || fatal "iotrace advise did not start: $(cat "$err")"

# send TAG SENDER: COUNT datagrams of SIZE bytes from SENDER to ext, all received.
send() {
	local tag=$1 sender=$2 rc=0
	ct_netgen_bg ext "$TEST_TMP/$tag.recv" udp-recv --bind "${CT_IP[ext]}:$DPORT" \
		--count "$COUNT" --size "$SIZE" --timeout 20
	ct_netgen "$sender" udp-send --to "${CT_IP[ext]}:$DPORT" --count "$COUNT" --size "$SIZE" \
		--timeout 20 >"$TEST_TMP/$tag.send" 2>&1 || rc=$?
	assert_eq "$rc" 0 "($tag) udp-send $sender -> ext exits 0 ($(tail -n1 "$TEST_TMP/$tag.send"))"
	netgen_wait "$NETGEN_PID" 20
	assert_eq "$(netgen_field "$TEST_TMP/$tag.recv" datagrams)" "$COUNT" \
		"($tag) ext received all $COUNT datagrams"
}

send nat nat
send br br
send host hostc
# Both watched for more than advise's 3 s minimum (they keep their sleeper).
sleep 4

iotrace_stop "$IOTRACE_PID"
assert_eq "$IOTRACE_RC" 0 "iotrace advise exits 0 after SIGINT"
[[ $IOTRACE_RC -eq 0 ]] || sed 's/^/#   /' "$err"
assert_eq "$(json_bad_lines "$out")" "" "every line is a JSON object"

# find NAME ID JQ: JQ on finding ID of container NAME ("none" if not raised).
find() { advise_find "$out" cgroup_path "${REL[$1]}" "$2" "$3"; }
# check NAME ID: "STATUS REASON" of rule ID for container NAME.
check() { advise_check "$out" cgroup_path "${REL[$1]}" "$2"; }

hostc_name=${REL[hostc]#/}
assert_eq "$(find nat net.nat .severity)" warning "nat: net.nat raised"
assert_eq "$(find nat net.nat .workload.kind)" container "nat: the workload is a container"
assert_eq "$(find nat net.nat '"\(.evidence.tx_packets) \(.evidence.tx_bytes)"')" \
	"$COUNT $((COUNT * SIZE))" "nat: evidence has the $COUNT datagrams and their bytes exactly"
assert_eq "$(find nat net.nat .evidence.path)" veth+bridge+nat "nat: veth + bridge + NAT"
assert_eq "$(find nat net.nat .evidence.bridge)" "$NET_BR" "nat: the bridge named"
assert_match "$(find nat net.nat .evidence.nat)" masquerade "nat: the MASQUERADE rule found"
assert_match "$(find nat net.nat .evidence.source)" "nf_tables: [0-9]+ rules, 1 NAT rule for it" "nat: the source names the NAT rule found in nf_tables"
assert_eq "$(find nat net.nat .evidence.reference)" "$hostc_name" \
	"nat: compared with hostc, measured in the same run"
assert_eq "$(find nat net.nat .evidence.ratio_source)" measured "nat: the ratio is measured"
cpb=$(find nat net.nat .evidence.cycles_per_byte)
ref=$(find nat net.nat .evidence.reference_cycles_per_byte)
ratio=$(find nat net.nat .evidence.cycles_per_byte_ratio)
assert_gt "$cpb" 0 "nat: cycles per byte measured"
assert_gt "$ref" 0 "nat: hostc's cycles per byte measured"
assert_gt "$(find nat net.nat .evidence.cycles_per_packet)" 0 "nat: cycles per packet measured"
assert_within_pct "$ratio" "$(awk -v a="$cpb" -v b="$ref" 'BEGIN { printf "%.6f", a / b }')" 1 \
	"nat: the ratio is its cycles per byte over hostc's"
echo "# nat: $cpb cycles/byte, hostc: $ref, ratio $ratio; saving: $(find nat net.nat .saving)"
assert_match "$(find nat net.nat .remedy)" "--net=host" "nat: the remedy is --net=host"
assert_match "$(find nat net.nat .saving.basis)" "$hostc_name" \
	"nat: the saving's basis names the reference"
assert_match "$(check nat net.bridge)" "^passed " "nat: net.bridge passed (net.nat says it)"

assert_eq "$(find br net.bridge .severity)" info "br: net.bridge raised (info)"
assert_eq "$(find br net.nat .id)" none "br: net.nat not raised"
assert_match "$(check br net.nat)" "^passed bridge $NET_NONAT_BR: no NAT rule for it among [0-9]+ nf_tables rules" \
	"br: net.nat checked and passed: no NAT rule for its bridge"
assert_eq "$(find br net.bridge .workload.kind)" container "br: the workload is a container"
assert_eq "$(find br net.bridge '"\(.evidence.tx_packets) \(.evidence.tx_bytes)"')" \
	"$COUNT $((COUNT * SIZE))" "br: evidence has the $COUNT datagrams and their bytes exactly"
assert_eq "$(find br net.bridge .evidence.path)" veth+bridge "br: veth + bridge"
assert_eq "$(find br net.bridge .evidence.bridge)" "$NET_NONAT_BR" "br: its bridge named"
assert_eq "$(find br net.bridge .evidence.nat)" null "br: no NAT"
assert_match "$(find br net.bridge .evidence.source)" "nf_tables: [0-9]+ rules, 0 NAT rules for it" \
	"br: the source says no NAT rule was found for it"
assert_eq "$(find br net.bridge .evidence.reference)" "$hostc_name" \
	"br: compared with hostc, measured in the same run"
assert_eq "$(find br net.bridge .evidence.ratio_source)" measured "br: the ratio is measured"
bcpb=$(find br net.bridge .evidence.cycles_per_byte)
bref=$(find br net.bridge .evidence.reference_cycles_per_byte)
bratio=$(find br net.bridge .evidence.cycles_per_byte_ratio)
assert_gt "$bcpb" 0 "br: cycles per byte measured"
assert_eq "$bref" "$ref" "br: the same reference figure as nat's"
assert_within_pct "$bratio" "$(awk -v a="$bcpb" -v b="$bref" 'BEGIN { printf "%.6f", a / b }')" 1 \
	"br: the ratio is its cycles per byte over hostc's"
echo "# br: $bcpb cycles/byte, hostc: $bref, ratio $bratio; saving: $(find br net.bridge .saving)"
assert_match "$(find br net.bridge .remedy)" "--net=host" "br: the remedy is --net=host"
assert_match "$(find br net.bridge .saving.basis)" "$hostc_name" \
	"br: the saving's basis names the reference"

assert_eq "$(find hostc net.nat .id)" none "hostc (host netns): net.nat not raised"
assert_eq "$(find hostc net.bridge .id)" none "hostc: net.bridge not raised"
assert_match "$(check hostc net.nat)" "^passed in the host's network namespace" \
	"hostc: net.nat checked and passed: the host's namespace"
assert_eq "$(jq -r 'select(.type == "advise") | .containers' "$out")" 3 \
	"the advise line counts the 3 containers"
assert_eq "$(tail -1 "$out" | jq -r .type)" advise "the advise line comes last"

if grep -qv '^ok$' "$_lib_results"; then
	echo "# advise output:"
	sed 's/^/#   /' "$out"
fi

finish
