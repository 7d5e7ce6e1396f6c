# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Network fixtures for tests/integration/test_*.sh, sourced after lib.sh:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   . "$(dirname "${BASH_SOURCE[0]}")/netlib.sh"
#
# Hand-built containers whose traffic is known exactly:
#
#   mk_bridge                 a Linux bridge with an IPv4 address, like
#                             docker0 (FORWARD accepts, MASQUERADE out)
#   mk_netns_container N IP   cgroup + netns + veth on the bridge
#   mk_bridge_nonat           a second bridge, routed without NAT
#   mk_netns_container_nonat N IP  the same, on that bridge
#   mk_netns_external N       cgroup + netns + routed veth: an outside host
#   mk_host_container N       cgroup only, in the host's netns (--net=host)
#   mk_port_forward HP N P    DNAT host:HP -> N:P, like `docker run -p HP:P`
#
# Helpers: net_ip N (an address on the bridge; net_nonat_ip N on the one
# without NAT), net_port K (a host port for this run), if_stats NETNS IF
# and stats_delta (link counters), if_mac, ct_netgen NAME MODE ... (netgen
# in a container), ct_netgen_bg (a receiver in the background, after its
# "ready" line), netgen_wait, netgen_field.
#
# The links carry nothing but the test's own traffic: IPv6 is disabled on
# every link before it comes up (no router solicitation, DAD or MLD), every
# neighbour is a static ARP entry both ways (no ARP), every container's MAC
# is a static FDB entry on the bridge (no flooding of unknown unicast to the
# other ports), the bridge has a fixed MAC (a bridge otherwise takes its
# lowest port's MAC, which would make the neighbour entries stale) and no
# multicast snooping (a snooping bridge joins 224.0.0.106 and sends an IGMP
# report to its ports).  So a veth's packet counters move by exactly what
# netgen sent over it (tests/integration/test_netfixture.sh checks this).
#
# Container NAME's facts live in associative arrays (set in the main shell,
# so the mk_* functions must not run inside $(...)):
#
#   CT_CG[NAME]  cgroup2 directory      CT_NS[NAME]  netns name ("" = host)
#   CT_IP[NAME]  its IPv4 address       CT_IF[NAME]  host end of its veth
#   CT_MAC[NAME] MAC of its eth0        CT_GW[NAME]  its gateway (host side)
#   CT_BR[NAME]  its bridge (bridge containers only)
#
# Inside a netns the container's link is always eth0.  Everything created is
# removed at exit (lib.sh on_exit), even on failure; names carry $$, and
# iptables rules live in chains of our own (IOT-*-$$) that only jumps at
# the top of the built-in chains lead to.
#
# Addresses: one 10.X.Y.0/24 per test run ($NET_PREFIX), derived from $$
# when this file is sourced and not used by any address or route on the
# host: the bridge is 10.X.Y.1/25 (containers .2 to .126), external links
# are /30s from 10.X.Y.128 (host .129+4k, external .130+4k).  The bridge
# without NAT has a /24 of its own ($NET_NONAT_PREFIX, picked when it is
# made), at .1/25 likewise: no MASQUERADE rule names it or its subnet.
#
# Env: NETGEN (default build/tools/netgen).

NETGEN=${NETGEN:-$REPO_ROOT/build/tools/netgen}

# Set here, read by the tests.
# shellcheck disable=SC2034
declare -gA CT_CG=() CT_NS=() CT_IP=() CT_IF=() CT_MAC=() CT_GW=() CT_BR=()
NET_BR=""       # bridge name, once mk_bridge ran
NET_BR_IP=""    # its address (the containers' gateway)
NET_BR_MAC=""   # its fixed MAC
NET_PREFIX=""   # "10.X.Y", set below
NET_SUBNET=""   # the bridge's subnet, "10.X.Y.0/25"
NET_NONAT_BR="" NET_NONAT_IP="" NET_NONAT_MAC="" NET_NONAT_PREFIX="" NET_NONAT_SUBNET=""
_net_nct=0      # links made so far (names and MACs)
_net_next=0     # external /30s handed out
_net_ipt=0      # our iptables chains exist

# ---- small helpers ----------------------------------------------------------

# shellcheck disable=SC2154 # _lib_main_pid is lib.sh's
_net_main_shell() {
	[[ $BASHPID == "$_lib_main_pid" ]] ||
		fatal "$1 must run in the test's main shell, not in \$(...) or a pipe"
}

# _net_mac IDX SIDE: a locally administered MAC unique to this run.
_net_mac() {
	printf '02:%02x:%02x:%02x:%02x:%02x' $((($$ >> 16) & 255)) \
		$((($$ >> 8) & 255)) $(($$ & 255)) "$1" "$2"
}

# _net_nssysctl NETNS KEY=VALUE...: sysctl -w in NETNS ("" for the host).
_net_nssysctl() {
	local ns=$1
	shift
	if [[ -n $ns ]]; then
		ip netns exec "$ns" sysctl -qw "$@" >/dev/null
	else
		sysctl -qw "$@" >/dev/null
	fi
}

# _net_link_del IF: delete IF if it still exists (deleting one end of a veth
# pair deletes both).
_net_link_del() {
	ip link show dev "$1" >/dev/null 2>&1 || return 0
	ip link del "$1"
}

_net_netns_del() {
	[[ -e /run/netns/$1 ]] || return 0
	ip netns del "$1"
}

# _net_pick_prefix: a 10.X.Y prefix from $$ whose /24 no host address or
# route uses (another test run, docker, a VPN).
_net_pick_prefix() {
	local n x y i used
	used=$(ip -4 -o addr show; ip -4 route show table all)
	n=$(($$ % 25600))
	for ((i = 0; i < 64; i++)); do
		x=$((100 + (n / 256) % 100))
		y=$((n % 256))
		if ! grep -q " 10\.$x\.$y\." <<<"$used" &&
			! grep -q "^10\.$x\.$y\." <<<"$used"; then
			echo "10.$x.$y"
			return 0
		fi
		n=$(((n + 257) % 25600))
	done
	fatal "no free 10.X.Y.0/24 for the test network"
}
command -v ip >/dev/null || fatal "required command 'ip' not found on PATH (iproute2)"
NET_PREFIX=$(_net_pick_prefix) || exit 1

# ---- iptables, in chains of our own ----------------------------------------

_NET_IPT=(iptables -w 10)

# _net_ipt_chain TABLE CHAIN: create CHAIN in TABLE; flushed and deleted at
# exit (after the jumps to it, registered later, are gone).
_net_ipt_chain() {
	"${_NET_IPT[@]}" -t "$1" -N "$2" ||
		fatal "iptables -t $1 -N $2 failed (is iptables installed and nf_tables usable?)"
	on_exit _net_ipt_drop_chain "$1" "$2"
}

_net_ipt_drop_chain() {
	"${_NET_IPT[@]}" -t "$1" -F "$2" && "${_NET_IPT[@]}" -t "$1" -X "$2"
}

# _net_ipt_insert TABLE FROM RULE...: insert RULE (ending "-j CHAIN") first in FROM;
# deleted at exit.
_net_ipt_insert() {
	local table=$1 from=$2
	shift 2
	"${_NET_IPT[@]}" -t "$table" -I "$from" 1 "$@" ||
		fatal "iptables -t $table -I $from 1 $* failed"
	on_exit "${_NET_IPT[@]}" -t "$table" -D "$from" "$@"
}

_net_ipt_add() {
	local table=$1 chain=$2
	shift 2
	"${_NET_IPT[@]}" -t "$table" -A "$chain" "$@" ||
		fatal "iptables -t $table -A $chain $* failed"
}

# Our chains, like Docker's: filter FORWARD accepts to and from our links
# (dockerd sets the FORWARD policy to DROP), nat PREROUTING/OUTPUT jump to a
# DNAT chain for local destinations, POSTROUTING masquerades what leaves
# the bridge subnet through another link.  Other rules are never touched.
_net_ipt_setup() {
	((_net_ipt)) && return 0
	require_cmd iptables
	_NET_FWD=IOT-FWD-$$
	_NET_DNAT=IOT-DNAT-$$
	_NET_POST=IOT-POST-$$
	_net_ipt_chain filter "$_NET_FWD"
	_net_ipt_chain nat "$_NET_DNAT"
	_net_ipt_chain nat "$_NET_POST"
	_net_ipt_insert filter FORWARD -j "$_NET_FWD"
	_net_ipt_insert nat PREROUTING -m addrtype --dst-type LOCAL -j "$_NET_DNAT"
	_net_ipt_insert nat OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL \
		-j "$_NET_DNAT"
	_net_ipt_insert nat POSTROUTING -j "$_NET_POST"
	_net_ipt=1
}

# ---- the bridge -------------------------------------------------------------

# mk_bridge: bridge iotbr$$ at $NET_BR_IP/25 with fixed MAC $NET_BR_MAC, no
# multicast snooping, IPv6 off, forwarding on (for that link only, see
# below), iptables FORWARD accepts and MASQUERADE for its subnet.  Sets
# NET_BR, NET_BR_IP, NET_BR_MAC, NET_SUBNET.  The other mk_* call it when
# needed.
#
# IPv4 forwarding is decided by the input link's own flag
# (net.ipv4.conf.IF.forwarding): setting it on our links only, which go
# away at exit, routes what we need without touching net.ipv4.ip_forward,
# which other tests or a dockerd rely on and which nothing has to restore.
# (A write to net.ipv4.ip_forward, by anyone, sets every link's flag,
# ours included.)
mk_bridge() {
	_net_main_shell mk_bridge
	[[ -z $NET_BR ]] || return 0
	require_cmd ip iptables sysctl
	NET_SUBNET=$NET_PREFIX.0/25
	NET_BR=iotbr$$
	NET_BR_IP=$NET_PREFIX.1
	NET_BR_MAC=$(_net_mac 0 1)
	_net_mk_br "$NET_BR" "$NET_BR_IP" "$NET_BR_MAC"
	_net_ipt_add nat "$_NET_POST" -s "$NET_SUBNET" ! -o "$NET_BR" -j MASQUERADE
}

# _net_mk_br BR IP MAC: bridge BR at IP/25 with MAC, no multicast snooping,
# IPv6 off, forwarding on, iptables FORWARD accepts to and from it.
_net_mk_br() {
	local br=$1 ip=$2 mac=$3
	ip link add "$br" address "$mac" type bridge mcast_snooping 0 ||
		fatal "cannot create bridge $br"
	on_exit _net_link_del "$br"
	_net_nssysctl "" "net.ipv6.conf.$br.disable_ipv6=1" \
		"net.ipv4.conf.$br.forwarding=1" ||
		fatal "cannot set sysctls of $br"
	ip addr add "$ip/25" dev "$br" || fatal "cannot add $ip/25 to $br"
	ip link set "$br" up || fatal "cannot bring $br up"
	_net_ipt_setup
	_net_ipt_add filter "$_NET_FWD" -i "$br" -j ACCEPT
	_net_ipt_add filter "$_NET_FWD" -o "$br" -j ACCEPT
}

# mk_bridge_nonat: a second bridge, iotbn$$ at $NET_NONAT_IP/25 on a /24 of
# its own, like mk_bridge but without MASQUERADE: its containers' traffic
# is routed out with their own addresses (a docker network made with
# -o com.docker.network.bridge.enable_ip_masquerade=false).  An outside
# host (mk_netns_external) receives it; it has no route back unless the
# test adds one.  Sets NET_NONAT_BR, NET_NONAT_IP, NET_NONAT_MAC,
# NET_NONAT_PREFIX, NET_NONAT_SUBNET.
# shellcheck disable=SC2034 # NET_NONAT_SUBNET is for the tests
mk_bridge_nonat() {
	_net_main_shell mk_bridge_nonat
	[[ -z $NET_NONAT_BR ]] || return 0
	# The first bridge's prefix is then in use: the pick below is another.
	mk_bridge
	NET_NONAT_PREFIX=$(_net_pick_prefix) || exit 1
	[[ $NET_NONAT_PREFIX != "$NET_PREFIX" ]] || fatal "no second 10.X.Y.0/24 for the bridge without NAT"
	NET_NONAT_SUBNET=$NET_NONAT_PREFIX.0/25
	NET_NONAT_BR=iotbn$$
	NET_NONAT_IP=$NET_NONAT_PREFIX.1
	NET_NONAT_MAC=$(_net_mac 0 3)
	_net_mk_br "$NET_NONAT_BR" "$NET_NONAT_IP" "$NET_NONAT_MAC"
}

# ---- containers -------------------------------------------------------------

# _net_mk_netns NAME: the cgroup and an empty netns (IPv6 off by default in
# it, so links moved or made there never run IPv6; lo up).  Sets CT_CG,
# CT_NS.
_net_mk_netns() {
	local name=$1 ns
	[[ -z ${CT_CG[$name]:-} ]] || fatal "container '$name' exists already"
	CT_CG[$name]=$(mk_cgroup "$name") || exit 1
	ns=iotrace-test-$name-$$
	ip netns add "$ns" || fatal "cannot create netns $ns"
	on_exit _net_netns_del "$ns"
	CT_NS[$name]=$ns
	_net_nssysctl "$ns" net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 ||
		fatal "cannot disable IPv6 in netns $ns"
	ip -n "$ns" link set lo up || fatal "cannot bring lo up in $ns"
}

# _net_mk_veth NAME HOSTIF: a veth pair HOSTIF (host netns, down, IPv6 off)
# <-> eth0 (in NAME's netns, down, IPv6 off), fixed MACs.  Sets CT_IF,
# CT_MAC; echoes nothing.
_net_mk_veth() {
	local name=$1 hostif=$2 ns=${CT_NS[$1]} idx
	_net_nct=$((_net_nct + 1))
	idx=$_net_nct
	ip link add "$hostif" address "$(_net_mac "$idx" 2)" type veth \
		peer name eth0 address "$(_net_mac "$idx" 1)" netns "$ns" ||
		fatal "cannot create veth $hostif <-> $ns:eth0"
	on_exit _net_link_del "$hostif"
	# Down until here: nothing has been sent yet.
	_net_nssysctl "" "net.ipv6.conf.$hostif.disable_ipv6=1" ||
		fatal "cannot disable IPv6 on $hostif"
	_net_nssysctl "$ns" net.ipv6.conf.eth0.disable_ipv6=1 ||
		fatal "cannot disable IPv6 on $ns:eth0"
	CT_IF[$name]=$hostif
	CT_MAC[$name]=$(_net_mac "$idx" 1)
}

# mk_netns_container NAME IP: a container on the bridge (made by mk_bridge
# if not yet there).  Creates cgroup iotrace-test-NAME-$$ (lib.sh
# mk_cgroup), netns iotrace-test-NAME-$$ and veth iotv$$-K (on the bridge)
# <-> eth0 (IP/25 in the netns), default route via $NET_BR_IP, static ARP
# entries both ways with the host and with every other bridge container,
# and a static FDB entry for eth0's MAC on the bridge port.  IP must be in
# $NET_PREFIX.2 to .126 (net_ip N gives $NET_PREFIX.N).
mk_netns_container() {
	_net_main_shell mk_netns_container
	mk_bridge
	_net_br_container "$1" "$2" "$NET_BR" "$NET_BR_IP" "$NET_BR_MAC" "$NET_PREFIX" net_ip
}

# mk_netns_container_nonat NAME IP: the same on the bridge without NAT
# (made by mk_bridge_nonat if not yet there); IP in $NET_NONAT_PREFIX.2 to
# .126 (net_nonat_ip N).
mk_netns_container_nonat() {
	_net_main_shell mk_netns_container_nonat
	mk_bridge_nonat
	_net_br_container "$1" "$2" "$NET_NONAT_BR" "$NET_NONAT_IP" "$NET_NONAT_MAC" \
		"$NET_NONAT_PREFIX" net_nonat_ip
}

# _net_br_container NAME IP BR BR_IP BR_MAC PREFIX HELPER: mk_netns_container's
# work, on bridge BR (address BR_IP, MAC BR_MAC, subnet PREFIX.0/25; HELPER
# is the function giving its addresses, for the error message).
_net_br_container() {
	local name=$1 ip=$2 br=$3 br_ip=$4 br_mac=$5 prefix=$6 helper=$7 ns hostif other
	if ! [[ $ip =~ ^${prefix//./\\.}\.([0-9]+)$ ]] ||
		((BASH_REMATCH[1] < 2 || BASH_REMATCH[1] > 126)); then
		fatal "${FUNCNAME[1]}: IP $ip is not in $prefix.2-126 (use $helper N)"
	fi
	for other in "${!CT_IP[@]}"; do
		[[ ${CT_IP[$other]} != "$ip" ]] ||
			fatal "mk_netns_container: $ip is $other's already"
	done
	_net_mk_netns "$name"
	ns=${CT_NS[$name]}
	hostif=iotv$$-$((_net_nct + 1))
	_net_mk_veth "$name" "$hostif"
	CT_IP[$name]=$ip
	CT_GW[$name]=$br_ip
	CT_BR[$name]=$br

	ip link set "$hostif" master "$br" || fatal "cannot add $hostif to $br"
	bridge fdb replace "${CT_MAC[$name]}" dev "$hostif" master static ||
		fatal "cannot add static FDB entry for $name on $hostif"
	ip -n "$ns" addr add "$ip/25" dev eth0 || fatal "cannot add $ip to $ns:eth0"
	ip -n "$ns" neigh replace "$br_ip" lladdr "$br_mac" dev eth0 \
		nud permanent || fatal "cannot add neighbour $br_ip in $ns"
	ip neigh replace "$ip" lladdr "${CT_MAC[$name]}" dev "$br" \
		nud permanent || fatal "cannot add neighbour $ip on $br"
	for other in "${!CT_IP[@]}"; do
		[[ $other != "$name" && ${CT_BR[$other]:-} == "$br" ]] || continue
		ip -n "$ns" neigh replace "${CT_IP[$other]}" \
			lladdr "${CT_MAC[$other]}" dev eth0 nud permanent ||
			fatal "cannot add neighbour $other in $ns"
		ip -n "${CT_NS[$other]}" neigh replace "$ip" \
			lladdr "${CT_MAC[$name]}" dev eth0 nud permanent ||
			fatal "cannot add neighbour $name in ${CT_NS[$other]}"
	done
	ip link set "$hostif" up || fatal "cannot bring $hostif up"
	ip -n "$ns" link set eth0 up || fatal "cannot bring $ns:eth0 up"
	ip -n "$ns" route add default via "$br_ip" dev eth0 ||
		fatal "cannot add default route in $ns"
}

# mk_netns_external NAME: a host outside, reached over its own routed link
# (no bridge): cgroup + netns iotrace-test-NAME-$$, veth iotx$$-K (host,
# address CT_GW[NAME]) <-> eth0 (CT_IP[NAME]) on a /30, default route via
# the host, static ARP both ways, forwarding on iotx$$-K, and FORWARD
# accepts for it.  Its traffic to $CT_GW:HOSTPORT takes mk_port_forward's
# DNAT like a remote client's; bridge containers reach it masqueraded.
mk_netns_external() {
	local name=$1 ns hostif base gw ip
	_net_main_shell mk_netns_external
	mk_bridge
	((_net_next < 32)) || fatal "mk_netns_external: at most 32 per test"
	base=$((128 + 4 * _net_next))
	_net_next=$((_net_next + 1))
	gw=$NET_PREFIX.$((base + 1))
	ip=$NET_PREFIX.$((base + 2))
	_net_mk_netns "$name"
	ns=${CT_NS[$name]}
	hostif=iotx$$-$((_net_nct + 1))
	_net_mk_veth "$name" "$hostif"
	CT_IP[$name]=$ip
	CT_GW[$name]=$gw

	_net_nssysctl "" "net.ipv4.conf.$hostif.forwarding=1" ||
		fatal "cannot enable forwarding on $hostif"
	ip addr add "$gw/30" dev "$hostif" || fatal "cannot add $gw to $hostif"
	ip -n "$ns" addr add "$ip/30" dev eth0 || fatal "cannot add $ip to $ns:eth0"
	ip -n "$ns" neigh replace "$gw" lladdr "$(_net_mac "$_net_nct" 2)" \
		dev eth0 nud permanent || fatal "cannot add neighbour $gw in $ns"
	ip neigh replace "$ip" lladdr "${CT_MAC[$name]}" dev "$hostif" \
		nud permanent || fatal "cannot add neighbour $ip on $hostif"
	_net_ipt_add filter "$_NET_FWD" -i "$hostif" -j ACCEPT
	_net_ipt_add filter "$_NET_FWD" -o "$hostif" -j ACCEPT
	ip link set "$hostif" up || fatal "cannot bring $hostif up"
	ip -n "$ns" link set eth0 up || fatal "cannot bring $ns:eth0 up"
	ip -n "$ns" route add default via "$gw" dev eth0 ||
		fatal "cannot add default route in $ns"
}

# mk_host_container NAME: like `docker run --net=host`: cgroup
# iotrace-test-NAME-$$ only, in the host's netns (CT_NS[NAME] is "").
# shellcheck disable=SC2034 # CT_GW is read by the tests
mk_host_container() {
	local name=$1
	_net_main_shell mk_host_container
	[[ -z ${CT_CG[$name]:-} ]] || fatal "container '$name' exists already"
	CT_CG[$name]=$(mk_cgroup "$name") || exit 1
	CT_NS[$name]=""
	CT_IP[$name]=127.0.0.1
	CT_IF[$name]=""
	CT_MAC[$name]=""
	CT_GW[$name]=""
}

# mk_port_forward HOSTPORT NAME PORT: like `docker run -p HOSTPORT:PORT`:
# UDP and TCP to any local address but 127/8 at HOSTPORT, from anywhere but
# the bridge itself, are DNATed to NAME's IP:PORT (PREROUTING for traffic
# from outside, OUTPUT for the host's own).  Replies are un-NATed by
# conntrack.
mk_port_forward() {
	local hport=$1 name=$2 port=$3 proto
	_net_main_shell mk_port_forward
	[[ -n ${CT_IP[$name]:-} && ${CT_IF[$name]:-} == iotv* ]] ||
		fatal "mk_port_forward: '$name' is not a bridge container"
	for proto in udp tcp; do
		_net_ipt_add nat "$_NET_DNAT" ! -i "$NET_BR" -p "$proto" \
			--dport "$hport" -j DNAT --to-destination "${CT_IP[$name]}:$port"
	done
}

# net_ip N: $NET_PREFIX.N, an address on the bridge subnet (N in 2..126).
net_ip() {
	echo "$NET_PREFIX.$1"
}

# net_nonat_ip N: $NET_NONAT_PREFIX.N, an address on the bridge without NAT
# (mk_bridge_nonat first).
net_nonat_ip() {
	[[ -n $NET_NONAT_PREFIX ]] || fatal "net_nonat_ip: no bridge without NAT (mk_bridge_nonat)"
	echo "$NET_NONAT_PREFIX.$1"
}

# net_port OFFSET: a TCP/UDP port for the host's netns that differs between
# concurrent runs (from $$), 20000..59999.
net_port() {
	echo $((20000 + ($$ * 7 + $1) % 40000))
}

# ---- counters ---------------------------------------------------------------
# From ip, not /sys/class/net: sysfs shows the links of the netns that
# mounted it, which need not be ours.

# if_mac NETNS IF: the MAC of link IF in NETNS ("" for the host's).
if_mac() {
	local -a nsarg=()
	[[ -z $1 ]] || nsarg=(-n "$1")
	ip "${nsarg[@]}" -j link show dev "$2" | jq -r '.[0].address' ||
		fatal "cannot read the MAC of ${1:+$1:}$2"
}

# if_stats NETNS IF: "rx_packets rx_bytes tx_packets tx_bytes" of link IF
# in NETNS ("" for the host's).
if_stats() {
	local -a nsarg=()
	[[ -z $1 ]] || nsarg=(-n "$1")
	ip "${nsarg[@]}" -s -j link show dev "$2" |
		jq -r '.[0].stats64 | "\(.rx.packets) \(.rx.bytes) \(.tx.packets) \(.tx.bytes)"' ||
		fatal "cannot read the counters of ${1:+$1:}$2"
}

# stats_delta BEFORE AFTER: field-wise AFTER - BEFORE of two if_stats lines.
stats_delta() {
	local -a b a
	read -ra b <<<"$1"
	read -ra a <<<"$2"
	echo "$((a[0] - b[0])) $((a[1] - b[1])) $((a[2] - b[2])) $((a[3] - b[3]))"
}

# ---- running netgen in a container ------------------------------------------

# ct_netgen NAME MODE ARG...: run netgen MODE ARG... in container NAME (its
# cgroup, its netns) in the foreground.
ct_netgen() {
	local name=$1
	shift
	[[ -n ${CT_CG[$name]:-} ]] || fatal "ct_netgen: no container '$name'"
	local -a nsarg=()
	[[ -z ${CT_NS[$name]} ]] || nsarg=(--netns "${CT_NS[$name]}")
	"$NETGEN" --cgroup "${CT_CG[$name]}" "${nsarg[@]}" "$@"
}

# ct_netgen_bg NAME OUT MODE ARG...: start a receiver (udp-recv/tcp-recv)
# in container NAME with stdout to OUT and stderr to OUT.err, and wait (5 s
# at most) for its "ready" line.  Sets NETGEN_PID, NETGEN_BIND (ADDR:PORT
# it bound) and NETGEN_PORT.  Main shell only.
ct_netgen_bg() {
	local name=$1 out=$2 i line=""
	shift 2
	_net_main_shell ct_netgen_bg
	ct_netgen "$name" "$@" >"$out" 2>"$out.err" </dev/null &
	NETGEN_PID=$!
	on_exit kill_wait "$NETGEN_PID"
	for ((i = 0; i < 100; i++)); do
		line=$(grep -m1 '^ready ' "$out" 2>/dev/null || true)
		[[ -z $line ]] || break
		kill -0 "$NETGEN_PID" 2>/dev/null ||
			fatal "netgen $* in $name exited before 'ready': $(cat "$out.err")"
		sleep 0.05
	done
	[[ -n $line ]] || fatal "netgen $* in $name not ready after 5 s: $(cat "$out.err")"
	NETGEN_BIND=${line#ready bind=}
	# shellcheck disable=SC2034 # read by the tests
	NETGEN_PORT=${NETGEN_BIND##*:}
}

# netgen_wait PID [TIMEOUT_S]: wait for a netgen started by ct_netgen_bg
# (killing it after TIMEOUT_S, default 30); sets NETGEN_RC.  Main shell only.
# shellcheck disable=SC2034 # NETGEN_RC is read by the tests
netgen_wait() {
	local pid=$1 timeout=${2:-30} i
	_net_main_shell netgen_wait
	for ((i = 0; i < timeout * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	NETGEN_RC=0
	wait "$pid" || NETGEN_RC=$?
}

# netgen_field FILE KEY: KEY's value in the last "netgen: k=v ..." line.
netgen_field() {
	awk -v k="$2" '/^netgen: / { line = $0 }
		END {
			n = split(line, f, " ")
			for (i = 2; i <= n; i++)
				if (index(f[i], k "=") == 1) {
					print substr(f[i], length(k) + 2); found = 1
				}
			exit !found
		}' "$1" || echo "<no $2= in $1>"
}
