// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The container rules of `iotrace advise`: see advice_ct.h, and
 * docs/advice.md for why each threshold is what it is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "advice_ct.h"

const char *const advice_ct_rule_ids[ADVICE_CT_NRULES] = {
	"net.nat",
	"net.bridge",
	"storage.writable_layer",
};

/* ---- building a finding: advice.h's advice_ev_num() and the rest ---- */

static struct advice_finding *raise(struct advice_ct_result *res, struct advice_check *c,
				    enum advice_severity sev)
{
	struct advice_finding *fd = &res->findings[res->nfindings++];

	memset(fd, 0, sizeof(*fd));
	fd->id = c->id;
	fd->severity = sev;
	c->status = ADVICE_RAISED;
	return fd;
}

static void thin(struct advice_check *c)
{
	c->status = ADVICE_THIN;
}

static void passed(struct advice_check *c)
{
	c->status = ADVICE_PASSED;
}

static double mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* ---- the network rules ---- */

double advice_ct_cycles_per_byte(const struct advice_ct_measure *m)
{
	uint64_t bytes = m->tx_bytes + m->rx_bytes;

	return bytes ? m->cost_cycles / (double)bytes : -1;
}

static double cycles_per_packet(const struct advice_ct_measure *m)
{
	uint64_t p = m->tx_packets + m->rx_packets;

	return p ? m->cost_cycles / (double)p : -1;
}

bool advice_ct_net_enough(const struct advice_ct_measure *m)
{
	return m->tx_packets + m->rx_packets >= ADVICE_NET_MIN_PACKETS &&
	       m->tx_bytes + m->rx_bytes >= ADVICE_NET_MIN_BYTES &&
	       m->seconds >= ADVICE_MIN_SECONDS;
}

/* Mostly sending (true) or mostly receiving, by bytes. */
static bool sends(const struct advice_ct_measure *m)
{
	return m->tx_bytes >= m->rx_bytes;
}

static double bytes_per_packet(const struct advice_ct_measure *m)
{
	uint64_t p = m->tx_packets + m->rx_packets;

	return p ? (double)(m->tx_bytes + m->rx_bytes) / (double)p : 0;
}

/*
 * The host-network reference for cts[which]: a workload in the host's
 * namespace with enough traffic, in the same direction, of the nearest
 * packet size (the cost per byte depends on it).
 */
static const struct advice_ct *net_reference(const struct advice_ct *cts, size_t n, size_t which)
{
	const struct advice_ct *me = &cts[which], *best = NULL;
	double want = bytes_per_packet(&me->m), dist = 0;

	for (size_t j = 0; j < n; j++) {
		const struct advice_ct *c = &cts[j];
		double d;

		if (j == which || !c->net.read || !c->net.host_netns ||
		    !advice_ct_net_enough(&c->m) || sends(&c->m) != sends(&me->m))
			continue;
		d = bytes_per_packet(&c->m) - want;
		d = d < 0 ? -d : d;
		if (!best || d < dist) {
			best = c;
			dist = d;
		}
	}
	return best;
}

/* The network path's facts and traffic allow judging; else why not (thin) or passed. */
static bool net_judgeable(const struct advice_ct *ct, struct advice_check *c)
{
	const struct ct_net_facts *f = &ct->net;
	const struct advice_ct_measure *m = &ct->m;

	if (!f->read) {
		ADVICE_SETF(
			c->reason,
			"the network namespace of the container's processes could not be read%s%s",
			f->error[0] ? ": " : " (gone before iotrace looked?)", f->error);
		thin(c);
		return false;
	}
	if (f->host_netns) {
		ADVICE_SETF(c->reason,
			    "in the host's network namespace (--net=host): no veth, bridge or NAT");
		passed(c);
		return false;
	}
	if (!f->veth[0]) {
		ADVICE_SETF(c->reason,
			    "its own network namespace, not on a veth to the host's (%s)",
			    f->error[0] ? f->error : "none found");
		passed(c);
		return false;
	}
	if (strcmp(f->master_kind, "bridge")) {
		ADVICE_SETF(c->reason, "veth %s is %s%s%s: not a Linux bridge, not judged", f->veth,
			    f->master_kind[0] ? "a port of " : "routed, on no bridge",
			    f->master_kind[0] ? f->master_kind : "",
			    f->master_kind[0] ? " device" : "");
		if (f->master_kind[0])
			thin(c);
		else
			passed(c);
		return false;
	}
	if (!advice_ct_net_enough(m)) {
		ADVICE_SETF(
			c->reason,
			"%llu packets, %.2f MiB over %.1f s: needs at least %d packets and %llu MiB over "
			"%.0f s to measure the path's cost",
			(unsigned long long)(m->tx_packets + m->rx_packets),
			mib(m->tx_bytes + m->rx_bytes), m->seconds, ADVICE_NET_MIN_PACKETS,
			ADVICE_NET_MIN_BYTES >> 20, ADVICE_MIN_SECONDS);
		thin(c);
		return false;
	}
	if (!f->nat_known) {
		ADVICE_SETF(c->reason, "on bridge %s; whether NAT applies is unknown: %s",
			    f->bridge, f->nat_unknown);
		thin(c);
		return false;
	}
	return true;
}

/* The saving's figures: save_cpb cycles per byte at rate bytes/s. */
static void net_saving(struct advice_finding *fd, const struct advice_ct_measure *m,
		       double save_cpb, double rate)
{
	double cpu_pct = m->cycles_per_ns > 0 ? save_cpb * rate / (m->cycles_per_ns * 1e9) * 100 :
						0;

	advice_sv_num(fd, "cycles_per_byte", save_cpb, 3);
	advice_sv_num(fd, "cpu_pct_of_one_cpu", cpu_pct, 2);
}

static void net_finding(const struct advice_ct *cts, size_t n, size_t which,
			struct advice_finding *fd, bool nat)
{
	const struct advice_ct *ct = &cts[which], *ref = net_reference(cts, n, which);
	const struct advice_ct_measure *m = &ct->m;
	const struct ct_net_facts *f = &ct->net;
	double cpb = advice_ct_cycles_per_byte(m), cpp = cycles_per_packet(m);
	double ref_cpb = -1, ref_cpp = -1, ratio = -1, rate;
	char subnet[32] = "unknown";

	if (f->bridge_prefixlen)
		ADVICE_SETF(subnet, "%u.%u.%u.%u/%u", f->bridge_addr[0], f->bridge_addr[1],
			    f->bridge_addr[2], f->bridge_addr[3], f->bridge_prefixlen);
	if (ref) {
		ref_cpb = advice_ct_cycles_per_byte(&ref->m);
		ref_cpp = cycles_per_packet(&ref->m);
		ratio = ref_cpb > 0 ? cpb / ref_cpb : -1;
	} else if (nat) {
		ratio = ADVICE_STUDY_NAT_CPB / ADVICE_STUDY_NATIVE_CPB;
	}
	if (nat)
		ADVICE_SETF(
			fd->summary,
			"the container's traffic goes through veth %s, bridge %s and NAT (%s); %.2f "
			"cycles per byte, %.0f per packet%s",
			f->veth, f->bridge, f->nat_kinds, cpb, cpp,
			ref && ratio > 0 ? ", against the host network's" : "");
	else
		ADVICE_SETF(
			fd->summary,
			"the container's traffic goes through veth %s and bridge %s (no NAT); %.2f "
			"cycles per byte, %.0f per packet%s",
			f->veth, f->bridge, cpb, cpp,
			ref && ratio > 0 ? ", against the host network's" : "");
	if (ref && ratio > 0) {
		size_t len = strlen(fd->summary);

		snprintf(fd->summary + len, sizeof(fd->summary) - len, " %.2f (%.2fx)", ref_cpb,
			 ratio);
	}
	advice_ev_num(fd, "tx_packets", (double)m->tx_packets, 0);
	advice_ev_num(fd, "tx_bytes", (double)m->tx_bytes, 0);
	advice_ev_num(fd, "rx_packets", (double)m->rx_packets, 0);
	advice_ev_num(fd, "rx_bytes", (double)m->rx_bytes, 0);
	advice_ev_num(fd, "cycles_per_byte", cpb, 3);
	advice_ev_num(fd, "cycles_per_packet", cpp, 1);
	advice_ev_str(fd, "reference", ref ? ref->name : nat ? "study" : NULL);
	advice_ev_num(fd, "reference_cycles_per_byte",
		      ref ? ref_cpb :
		      nat ? ADVICE_STUDY_NATIVE_CPB :
			    -1,
		      3);
	advice_ev_num(fd, "reference_cycles_per_packet", ref_cpp, 1);
	advice_ev_num(fd, "cycles_per_byte_ratio", ratio, 3);
	advice_ev_str(fd, "ratio_source", ref ? "measured" : nat ? "study" : NULL);
	advice_ev_str(fd, "path", nat ? "veth+bridge+nat" : "veth+bridge");
	advice_ev_str(fd, "bridge", f->bridge);
	advice_ev_str(fd, "nat", nat ? f->nat_kinds : NULL);
	ADVICE_SETF(
		fd->source,
		"iotrace: cgroup_skb packets and bytes, CPU and softirq share over %.1f s (%s); "
		"rtnetlink: veth %s, bridge %s %s; nf_tables: %u rules, %u NAT rule%s for it%s%s",
		m->seconds, m->cycles_source ? m->cycles_source : "unknown", f->veth, f->bridge,
		subnet, f->rules_seen, f->nat_rules, f->nat_rules == 1 ? "" : "s",
		f->nat_rules ? " in " : "", f->nat_where);
	ADVICE_SETF(
		fd->remedy,
		"Run the container in the host's network namespace: docker run --net=host (podman "
		"run --network=host; compose: network_mode: host; Kubernetes: hostNetwork: true)%s. "
		"Its ports are then the host's: drop -p/--publish and check they do not clash; it "
		"loses its own network isolation. If it must keep it, prefer a macvlan/ipvlan "
		"network (docker network create -d macvlan) to the default bridge.",
		nat ? ", which takes the veth, the bridge and the NAT off its path" :
		      ", which takes the veth and the bridge off its path");
	rate = m->seconds > 0 ? (double)(m->tx_bytes + m->rx_bytes) / m->seconds : 0;
	if (ref) {
		if (ref_cpb >= cpb) {
			ADVICE_SETF(
				fd->saving_basis,
				"no cycles to save measured: %s, in the host's network namespace on this "
				"host in this run, costs %.2f cycles per byte against this container's "
				"%.2f",
				ref->name, ref_cpb, cpb);
			return;
		}
		net_saving(fd, m, cpb - ref_cpb, rate);
		ADVICE_SETF(
			fd->saving_basis,
			"measured on this host: %s, in the host's network namespace, at %.2f cycles "
			"per byte (%.0f per packet), this container at %.2f (%.0f); the difference at "
			"this container's %.0f bytes/s",
			ref->name, ref_cpb, ref_cpp, cpb, cpp, rate);
		return;
	}
	if (!nat) {
		ADVICE_SETF(
			fd->saving_basis,
			"not estimated: no workload in the host's network namespace with at least %d "
			"packets in the same direction was measured in this run, and the study "
			"measured bridge + NAT, not a bridge alone",
			ADVICE_NET_MIN_PACKETS);
		return;
	}
	net_saving(fd, m, cpb * (1 - ADVICE_STUDY_NATIVE_CPB / ADVICE_STUDY_NAT_CPB), rate);
	ADVICE_SETF(
		fd->saving_basis,
		"the study's ratio, not measured here: Felter et al. (IBM RC25482, 2014) measured "
		"%.2f cycles per byte through Docker's bridge + NAT against %.2f on the host's "
		"network (transmit); applied to this container's %.2f at its %.0f bytes/s. Run a "
		"host-network workload with the same traffic to measure it",
		ADVICE_STUDY_NAT_CPB, ADVICE_STUDY_NATIVE_CPB, cpb, rate);
}

static void rule_net(const struct advice_ct *cts, size_t n, size_t which,
		     struct advice_ct_result *res, struct advice_check *c_nat,
		     struct advice_check *c_br)
{
	const struct advice_ct *ct = &cts[which];

	if (!net_judgeable(ct, c_nat)) {
		c_br->status = c_nat->status;
		memcpy(c_br->reason, c_nat->reason, sizeof(c_br->reason));
		return;
	}
	if (ct->net.nat_rules) {
		net_finding(cts, n, which, raise(res, c_nat, ADVICE_WARNING), true);
		ADVICE_SETF(c_br->reason, "bridge %s with NAT: net.nat says it", ct->net.bridge);
		passed(c_br);
	} else {
		ADVICE_SETF(c_nat->reason, "bridge %s: no NAT rule for it among %u nf_tables rules",
			    ct->net.bridge, ct->net.rules_seen);
		passed(c_nat);
		net_finding(cts, n, which, raise(res, c_br, ADVICE_INFO), false);
	}
}

/* ---- storage.writable_layer ---- */

static bool is_layer(const struct ct_mounts *mt, const struct advice_ct_dev *d)
{
	return mt->layer_known && d->major == mt->layer_major && d->minor == mt->layer_minor;
}

/* Writes mostly on volumes: the remedy in place, a reference for the saving. */
static bool writes_on_volumes(const struct advice_ct *ct)
{
	const struct advice_ct_measure *m = &ct->m;
	uint64_t vol = 0;

	if (!ct->mounts.read || !ct->mounts.layer_known ||
	    m->wr_bytes < ADVICE_CT_MIN_WRITE_BYTES || m->seconds < ADVICE_MIN_SECONDS)
		return false;
	for (size_t i = 0; i < m->ndevs; i++)
		if (!is_layer(&ct->mounts, &m->devs[i]) &&
		    ct_mounts_volume_on(&ct->mounts, m->devs[i].major, m->devs[i].minor))
			vol += m->devs[i].wr_bytes;
	return vol >= ADVICE_CT_LAYER_MIN_SHARE * (double)m->wr_bytes;
}

static void layer_saving(const struct advice_ct *cts, size_t n, size_t which,
			 struct advice_finding *fd)
{
	const struct advice_ct *ct = &cts[which], *ref = NULL;
	double mine = ct->m.wr_bytes ? ct->m.cost_cycles / (double)ct->m.wr_bytes : -1, best = -1;
	double rate, pct;

	for (size_t j = 0; j < n; j++) {
		double c;

		if (j == which || !writes_on_volumes(&cts[j]))
			continue;
		c = cts[j].m.cost_cycles / (double)cts[j].m.wr_bytes;
		if (!ref || c < best) {
			ref = &cts[j];
			best = c;
		}
	}
	if (!ref) {
		ADVICE_SETF(
			fd->saving_basis,
			"not estimated: no container writing at least %llu MiB mostly to a volume was "
			"measured on this host in this run; the study (Felter et al. 2014) found "
			"volumes at native speed, and overlayfs adds a copy of each file on its first "
			"write",
			ADVICE_CT_MIN_WRITE_BYTES >> 20);
		return;
	}
	if (best >= mine) {
		ADVICE_SETF(
			fd->saving_basis,
			"no cycles to save measured: %s, writing to a volume on this host in this run, "
			"costs %.3f CPU cycles per written byte against this container's %.3f (the "
			"writeback's own CPU is not in either)",
			ref->name, best, mine);
		return;
	}
	rate = ct->m.seconds > 0 ? (double)ct->m.wr_bytes / ct->m.seconds : 0;
	pct = ct->m.cycles_per_ns > 0 ? (mine - best) * rate / (ct->m.cycles_per_ns * 1e9) * 100 :
					0;
	advice_sv_num(fd, "cycles_per_written_byte", mine - best, 3);
	advice_sv_num(fd, "cpu_pct_of_one_cpu", pct, 2);
	ADVICE_SETF(
		fd->saving_basis,
		"measured on this host: %s writes to a volume at %.3f CPU cycles per written byte, "
		"this container to its layer at %.3f; the difference at this container's %.0f "
		"bytes/s (the writeback's own CPU is not in either)",
		ref->name, best, mine, rate);
}

static void rule_writable_layer(const struct advice_ct *cts, size_t n, size_t which,
				struct advice_ct_result *res, struct advice_check *c)
{
	const struct advice_ct *ct = &cts[which];
	const struct advice_ct_measure *m = &ct->m;
	const struct ct_mounts *mt = &ct->mounts;
	uint64_t layer_wr = 0, layer_ops = 0, vol_wr = 0, other_wr = 0;
	char shared[96] = "", devs[96] = "", vols[128] = "", layer_dev[24];
	const struct ct_mount *v;
	struct advice_finding *fd;
	double share;

	if (!mt->read) {
		ADVICE_SETF(
			c->reason,
			"the container's mounts could not be read (gone before iotrace looked?)");
		thin(c);
		return;
	}
	if (!mt->layer_known) {
		ADVICE_SETF(c->reason, "the writable layer's device is unknown: %s",
			    mt->layer_error);
		thin(c);
		return;
	}
	if (m->wr_bytes < ADVICE_CT_MIN_WRITE_BYTES || m->wr_ops < ADVICE_CT_MIN_WRITE_OPS ||
	    m->seconds < ADVICE_MIN_SECONDS) {
		ADVICE_SETF(
			c->reason,
			"%.1f MiB in %llu block writes over %.1f s: needs at least %llu MiB in %d writes "
			"over %.0f s to judge where the container writes",
			mib(m->wr_bytes), (unsigned long long)m->wr_ops, m->seconds,
			ADVICE_CT_MIN_WRITE_BYTES >> 20, ADVICE_CT_MIN_WRITE_OPS,
			ADVICE_MIN_SECONDS);
		thin(c);
		return;
	}
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct advice_ct_dev *d = &m->devs[i];
		size_t len = strlen(devs);

		if (!d->wr_bytes)
			continue;
		snprintf(devs + len, sizeof(devs) - len, "%s%u:%u", len ? "," : "", d->major,
			 d->minor);
		if (is_layer(mt, d)) {
			layer_wr += d->wr_bytes;
			layer_ops += d->wr_ops;
		} else if ((v = ct_mounts_volume_on(mt, d->major, d->minor))) {
			size_t vlen = strlen(vols);

			vol_wr += d->wr_bytes;
			snprintf(vols + vlen, sizeof(vols) - vlen, "%s%.*s", vlen ? "," : ": ",
				 (int)(sizeof(vols) - vlen), v->mountpoint);
		} else {
			other_wr += d->wr_bytes;
		}
	}
	for (size_t i = 0; i < mt->nvol; i++) {
		size_t len = strlen(shared);

		if (mt->vol[i].major == mt->layer_major && mt->vol[i].minor == mt->layer_minor)
			snprintf(shared + len, sizeof(shared) - len, "%s%s", len ? "," : "",
				 mt->vol[i].mountpoint);
	}
	ADVICE_SETF(layer_dev, "%u:%u", mt->layer_major, mt->layer_minor);
	share = (double)layer_wr / (double)m->wr_bytes;
	if (share < ADVICE_CT_LAYER_MIN_SHARE) {
		ADVICE_SETF(
			c->reason,
			"%.0f%% of %.1f MiB written on the writable layer's device %s (%.1f MiB on "
			"volumes%s), under %.0f%%",
			share * 100, mib(m->wr_bytes), layer_dev, mib(vol_wr), vols,
			ADVICE_CT_LAYER_MIN_SHARE * 100);
		passed(c);
		return;
	}
	fd = raise(res, c, shared[0] ? ADVICE_INFO : ADVICE_WARNING);
	if (shared[0])
		ADVICE_SETF(
			fd->summary,
			"%.0f%% of the container's %.1f MiB of block writes land on device %s, which "
			"holds both its writable layer (%s) and volume %s: iotrace cannot tell them "
			"apart at the block layer",
			share * 100, mib(m->wr_bytes), layer_dev, mt->layer_fstype, shared);
	else
		ADVICE_SETF(
			fd->summary,
			"%.0f%% of the container's %.1f MiB of block writes land on device %s, the "
			"file system of its writable layer (%s), not on a volume",
			share * 100, mib(m->wr_bytes), layer_dev, mt->layer_fstype);
	advice_ev_num(fd, "wr_bytes", (double)m->wr_bytes, 0);
	advice_ev_num(fd, "wr_ops", (double)m->wr_ops, 0);
	advice_ev_num(fd, "layer_wr_bytes", (double)layer_wr, 0);
	advice_ev_num(fd, "layer_wr_ops", (double)layer_ops, 0);
	advice_ev_num(fd, "layer_share", share, 3);
	advice_ev_num(fd, "volume_wr_bytes", (double)vol_wr, 0);
	advice_ev_num(fd, "other_wr_bytes", (double)other_wr, 0);
	advice_ev_str(fd, "layer_device", layer_dev);
	advice_ev_str(fd, "layer_fstype", mt->layer_fstype);
	advice_ev_str(fd, "upper_dir", mt->layer_upper[0] ? mt->layer_upper : NULL);
	advice_ev_str(fd, "devices_written", devs);
	advice_ev_str(fd, "volumes_on_layer_device", shared[0] ? shared : NULL);
	advice_ev_str(fd, "attribution", shared[0] ? "ambiguous" : "layer");
	advice_ev_num(fd, "seconds", m->seconds, 1);
	ADVICE_SETF(
		fd->source,
		"iotrace: the cgroup's block writes by device (owner from the bio's cgroup, "
		"writeback included) over %.1f s%s; /proc/%d/mountinfo: root %s, %zu volume%s and "
		"bind mount%s",
		m->seconds, m->devs_untracked ? ", some devices not tracked" : "", ct->pid,
		mt->layer_upper[0] ? "overlay, upper dir stat'ed" : mt->layer_fstype, mt->nvol,
		mt->nvol == 1 ? "" : "s", mt->nvol == 1 ? "" : "s");
	ADVICE_SETF(
		fd->remedy,
		"Write the data to a volume instead of the container's file system: docker run -v "
		"NAME:/path (or --mount type=volume,src=NAME,dst=/path), or a host directory: "
		"--mount type=bind,src=/host/dir,dst=/path (podman: the same -v and --mount). "
		"Volumes bypass overlayfs (no copy-up of whole files, no layer growth) and can be "
		"put on their own device.%s",
		shared[0] ? " Here a volume shares the layer's device: put it on another device to "
			    "see, and keep, the two apart." :
			    "");
	layer_saving(cts, n, which, fd);
}

void advice_ct_evaluate(const struct advice_ct *cts, size_t n, size_t which,
			struct advice_ct_result *res)
{
	memset(res, 0, sizeof(*res));
	if (!cts || which >= n)
		return;
	for (int i = 0; i < ADVICE_CT_NRULES; i++)
		res->checks[i].id = advice_ct_rule_ids[i];
	rule_net(cts, n, which, res, &res->checks[0], &res->checks[1]);
	rule_writable_layer(cts, n, which, res, &res->checks[2]);
}
