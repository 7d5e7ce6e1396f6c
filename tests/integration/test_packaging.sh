#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# What ships beside the binary is true to it:
#   - tools/systemd/iotrace.service passes systemd-analyze verify with no
#     warning, and the capabilities it grants are enough: doctor, run as an
#     unprivileged user holding exactly those, exits 0 with the network
#     figures on;
#   - docs/iotrace.8 formats without a groff warning and has an entry for
#     every command `iotrace --help` lists.
#
# Env: IOTRACE.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd systemd-analyze groff setpriv
require_exec "$IOTRACE"

unit=$REPO_ROOT/tools/systemd/iotrace.service
man=$REPO_ROOT/docs/iotrace.8

# ---- the systemd unit ---------------------------------------------------------
bin=$(mktemp /dev/shm/iotrace-pkg.XXXXXX)
on_exit rm -f "$bin"
install -m 755 "$IOTRACE" "$bin"
mkdir "$TEST_TMP/unit"
sed "s|/usr/local/sbin/iotrace|$bin|" "$unit" >"$TEST_TMP/unit/iotrace.service"
rc=0
systemd-analyze verify --man=no "$TEST_TMP/unit/iotrace.service" >"$TEST_TMP/verify" 2>&1 || rc=$?
assert_eq "$rc" 0 "systemd-analyze verify accepts the unit"
assert_eq "$(cat "$TEST_TMP/verify")" "" "systemd-analyze verify has nothing to say about it"

caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
assert_eq "$caps" "$bounding" "the unit bounds the capabilities to those it grants"
assert_eq "$(sed -n 's/^DynamicUser=//p' "$unit")" yes "the unit does not run as root"
# CAP_BPF CAP_PERFMON -> +bpf,+perfmon
set_caps=$(tr ' ' '\n' <<<"$caps" | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,)
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$set_caps" \
	--ambient-caps="$set_caps" --bounding-set="-all,$set_caps" "$bin" doctor \
	>"$TEST_TMP/doctor" 2>&1 || rc=$?
sed 's/^/#   /' "$TEST_TMP/doctor"
assert_eq "$rc" 0 "with the unit's capabilities ($caps) only, doctor exits 0"
assert_match "$(grep -E '^  [a-zA-Z]+ +net ' "$TEST_TMP/doctor")" '^  ok ' \
	"with the unit's capabilities the network figures are on"

# ---- the man page -------------------------------------------------------------
rc=0
LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man" >"$TEST_TMP/groff" 2>&1 || rc=$?
assert_eq "$rc:$(cat "$TEST_TMP/groff")" "0:" "docs/iotrace.8 formats without warnings"
commands=$("$IOTRACE" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 != "Commands:" { print $1 }' |
	grep -v -x -e help -e version)
[[ -n $commands ]] || fatal "iotrace --help lists no commands"
for c in $commands; do
	assert_match "$(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$man")" "^\\.B $c\$" \
		"the man page describes 'iotrace $c'"
done

finish
