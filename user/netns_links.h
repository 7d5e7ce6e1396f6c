/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host ends of containers' veths: the devices through which the host
 * forwards a container's traffic (bridge, NAT, routing) in softirq
 * context, where no local socket names the container.  The collector
 * enters them in net_devs as owned by the container's cgroup
 * (IOTRACE_DEV_CGROUP), so that the BPF side shares those softirq runs to
 * it.
 *
 * How a cgroup's veths are found, all from iotrace's own network
 * namespace, without entering another one: one RTM_GETLINK dump lists the
 * veths here with the peer's namespace as a netnsid (IFLA_LINK_NETNSID,
 * which the kernel assigns while it answers the dump); for a cgroup, one
 * of its processes' /proc/PID/ns/net is opened and RTM_GETNSID with that
 * descriptor (NETNSA_FD) gives the same namespace's netnsid; the cgroup's
 * devices are the veths whose peer has it.  Entering the namespace instead
 * (setns on a helper thread, or a forked child) would need CAP_SYS_ADMIN,
 * which iotrace does not otherwise need, and would run code inside a
 * container's namespace; here nothing but netlink requests and an open of
 * a /proc file happen, none of which can block on a dead process.
 *
 * The parsing of netlink messages is separate from the sockets, for the
 * unit tests (tests/unit/test_netns_links.c).
 */
#ifndef IOTRACE_NETNS_LINKS_H
#define IOTRACE_NETNS_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotrace.h"
#include "nlsock.h"
#include "wltable.h"

/* One link of an RTM_GETLINK dump, as far as this module cares. */
struct nl_link {
	uint32_t ifindex;
	uint32_t link; /* IFLA_LINK: the peer's ifindex (in its namespace); 0: none */
	int32_t link_netnsid; /* IFLA_LINK_NETNSID; -1: absent (the peer is here) */
	bool veth; /* IFLA_LINKINFO's IFLA_INFO_KIND is "veth" */
};

/*
 * Parse the messages of one recv() of an RTM_GETLINK dump: each
 * RTM_NEWLINK with sequence number seq is appended to links[*n] (up to
 * max; more are counted in *more); messages of another sequence are
 * skipped.  Returns 1 once NLMSG_DONE is seen, 0 when more is to come, or
 * -errno for an NLMSG_ERROR (or a DONE carrying an error) and -EBADMSG for
 * a message that does not parse.
 */
int nl_parse_links(const void *buf, size_t len, uint32_t seq, struct nl_link *links, size_t max,
		   size_t *n, size_t *more);

/* nl_parse_nsid(): user/nlsock.h. */

/* The ifindexes of the veths of links[0..n) whose peer is in netnsid nsid. */
size_t nl_veths_to(const struct nl_link *links, size_t n, int32_t nsid, uint32_t *ifindex,
		   size_t max);

/*
 * The first max processes listed in the text of a cgroup.procs file; a
 * last line without its newline (cut by a short read) is left out.
 */
size_t nl_parse_pids(const char *text, int *pids, size_t max);

/*
 * Look at a cgroup again this long after a look, and at most this many
 * cgroups per interval: a look costs a few system calls and a netlink
 * round trip; the dump, one per interval at most, a message per veth.
 */
#define NETNS_LINKS_RECHECK_NS (10ULL * 1000 * 1000 * 1000)
#define NETNS_LINKS_PER_READ 32
#define NETNS_LINKS_DEVS_MAX 64 /* veths of one cgroup */

/* Enter cgroup id's devices (n may be 0: it has none). */
typedef int (*netns_links_enter_fn)(void *ctx, uint64_t cgroup_id,
				    const struct iotrace_dev_key *keys, size_t n);

/* What was decided for one cgroup of the workload table. */
struct netns_watch {
	uint64_t id; /* the cgroup in the table slot this mirrors */
	uint64_t next_ns; /* do not look again before */
	uint32_t ndevs; /* devices entered at the last look */
	bool was_active; /* active since the last look */
};

struct netns_links {
	struct nlsock sock; /* NETLINK_ROUTE, in iotrace's namespace; opened at the first sync */
	int cgroup_root_fd; /* the cgroup2 mount (not ours to close) */
	uint64_t self_ns; /* iotrace's network namespace (inode) */
	struct nl_link *links; /* the last dump */
	size_t nlinks;
	struct netns_watch *watch; /* parallel to the workload table's slots */
	size_t nwatch;
	size_t cursor; /* where the next interval's looks start */
	uint64_t looks; /* cgroups looked at, in all */
	uint64_t links_beyond; /* links of a dump beyond the buffer */
	int last_err; /* the last dump's or request's outcome, -errno; 0: success */
};

/*
 * cgroup_root_fd: the cgroup2 mount; self_ns: iotrace's network
 * namespace.  Opens nothing yet.  0 or -errno.
 */
int netns_links_init(struct netns_links *nl, int cgroup_root_fd, uint64_t self_ns);
void netns_links_free(struct netns_links *nl);

/*
 * One interval: look at the cgroups of t that are due (active since their
 * last look, or holding devices, and not looked at for
 * NETNS_LINKS_RECHECK_NS), at most NETNS_LINKS_PER_READ, and call enter()
 * with each one's devices; a cgroup that is gone or empty gets none.
 * Cgroups whose path is not known yet wait.  Returns how many were looked
 * at, or -errno when the links could not be listed (nl->last_err too).
 */
int netns_links_sync(struct netns_links *nl, struct wl_table *t, uint64_t now_ns,
		     netns_links_enter_fn enter, void *ctx);

#endif
