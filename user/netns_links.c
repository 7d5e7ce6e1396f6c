// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The host ends of containers' veths, found with rtnetlink.  See netns_links.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netns_links.h"

/* Links of one dump kept; more are counted in links_beyond. */
#define NL_LINKS_MAX 4096
/* Processes of a cgroup tried, should the first ones have exited meanwhile. */
#define PIDS_TRIED 8

/* ---- parsing ------------------------------------------------------------ */

/* An attribute's payload as a u32 or s32; false if it is too short. */
static bool rta_u32(const struct rtattr *a, uint32_t *v)
{
	if (RTA_PAYLOAD(a) < sizeof(*v))
		return false;
	memcpy(v, RTA_DATA(a), sizeof(*v));
	return true;
}

/* IFLA_LINKINFO: whether its IFLA_INFO_KIND is "veth". */
static bool linkinfo_is_veth(const struct rtattr *info)
{
	const struct rtattr *a = RTA_DATA(info);
	int len = (int)RTA_PAYLOAD(info);
	static const char veth[] = "veth";

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		/* The kind is a NUL-terminated string; accept it without the NUL too. */
		if (a->rta_type == IFLA_INFO_KIND)
			return (RTA_PAYLOAD(a) == sizeof(veth) ||
				RTA_PAYLOAD(a) == sizeof(veth) - 1) &&
			       !memcmp(RTA_DATA(a), veth, sizeof(veth) - 1);
	}
	return false;
}

static int parse_link(const struct nlmsghdr *h, struct nl_link *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *a;
	uint32_t v;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EBADMSG;
	memset(l, 0, sizeof(*l));
	l->ifindex = (uint32_t)ifi->ifi_index;
	l->link_netnsid = -1;
	a = IFLA_RTA(ifi);
	len = (int)IFLA_PAYLOAD(h);
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_LINK:
			if (rta_u32(a, &v))
				l->link = v;
			break;
		case IFLA_LINK_NETNSID:
			if (rta_u32(a, &v))
				l->link_netnsid = (int32_t)v;
			break;
		case IFLA_LINKINFO:
			l->veth = linkinfo_is_veth(a);
			break;
		}
	}
	return 0;
}

int nl_parse_links(const void *buf, size_t len, uint32_t seq, struct nl_link *links, size_t max,
		   size_t *n, size_t *more)
{
	const struct nlmsghdr *h = buf;
	unsigned int left = len > UINT_MAX ? UINT_MAX : (unsigned int)len;
	int err, done;

	for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_seq != seq)
			continue; /* the rest of an abandoned request */
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			/* A dump that failed half-way says so here. */
			done = 0;
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(done)))
				memcpy(&done, NLMSG_DATA(h), sizeof(done));
			return done < 0 ? done : 1;
		case NLMSG_ERROR:
			err = nlsock_error(h);
			if (err)
				return err;
			break;
		case RTM_NEWLINK:
			if (*n == max) {
				(*more)++;
				break;
			}
			err = parse_link(h, &links[*n]);
			if (err)
				return err;
			(*n)++;
			break;
		}
	}
	/* Anything left over is a message cut short. */
	return left ? -EBADMSG : 0;
}

size_t nl_veths_to(const struct nl_link *links, size_t n, int32_t nsid, uint32_t *ifindex,
		   size_t max)
{
	size_t k = 0;

	if (nsid < 0)
		return 0;
	for (size_t i = 0; i < n && k < max; i++)
		if (links[i].veth && links[i].link_netnsid == nsid && links[i].ifindex)
			ifindex[k++] = links[i].ifindex;
	return k;
}

size_t nl_parse_pids(const char *text, int *pids, size_t max)
{
	const char *p = text;
	size_t n = 0;
	char *end;
	long v;

	while (*p && n < max) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		/* A line a short read cut off has no newline yet: not a pid. */
		if (v > 0 && v <= INT_MAX && *end == '\n')
			pids[n++] = (int)v;
		p = end + strcspn(end, "\n");
		if (*p)
			p++;
	}
	return n;
}

/* ---- requests ----------------------------------------------------------- */

/*
 * The veths of iotrace's namespace.  The request asks the kernel for veths
 * only (IFLA_LINKINFO as a filter) and no statistics; an older kernel may
 * ignore either, the parse checks the kind itself.
 */
static int parse_links(void *ctx, const void *buf, size_t len, uint32_t seq)
{
	struct netns_links *nl = ctx;
	size_t more = 0;
	int err;

	err = nl_parse_links(buf, len, seq, nl->links, NL_LINKS_MAX, &nl->nlinks, &more);
	nl->links_beyond += more;
	return err;
}

static int nl_dump_links(struct netns_links *nl)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
		char attrs[64];
	} req = { 0 };
	__u32 mask = RTEXT_FILTER_SKIP_STATS;
	struct rtattr *info;

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.ifi.ifi_family = AF_UNSPEC;
	nlsock_put_attr(&req.h, IFLA_EXT_MASK, &mask, sizeof(mask));
	info = (struct rtattr *)((char *)&req.h + NLMSG_ALIGN(req.h.nlmsg_len));
	nlsock_put_attr(&req.h, IFLA_LINKINFO, NULL, 0);
	nlsock_put_attr(&req.h, IFLA_INFO_KIND, "veth", sizeof("veth"));
	info->rta_len = (unsigned short)((char *)&req.h + req.h.nlmsg_len - (char *)info);
	nl->nlinks = 0;
	return nlsock_request(&nl->sock, &req.h, parse_links, nl);
}

/* ---- cgroups ------------------------------------------------------------ */

/*
 * The network namespace of one of the processes of the cgroup at path
 * (relative to the mount): an open descriptor in *ns_fd, or -1 when it is
 * iotrace's own.  0, -ENOENT when the cgroup is gone, -ESRCH when it has
 * no process whose namespace can be opened (empty, exited meanwhile, or
 * not ours to look at).
 */
static int cgroup_netns(struct netns_links *nl, const char *path, int *ns_fd)
{
	char rel[PATH_MAX], text[4096], ns[64];
	int pids[PIDS_TRIED], fd;
	struct stat st;
	ssize_t r;
	size_t n;

	while (*path == '/')
		path++;
	if (snprintf(rel, sizeof(rel), "%s%scgroup.procs", path, *path ? "/" : "") >=
	    (int)sizeof(rel))
		return -ENAMETOOLONG;
	fd = openat(nl->cgroup_root_fd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The first few processes are enough: they share the namespace. */
	r = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (r < 0)
		return -errno;
	text[r] = '\0';
	n = nl_parse_pids(text, pids, PIDS_TRIED);
	for (size_t i = 0; i < n; i++) {
		snprintf(ns, sizeof(ns), "/proc/%d/ns/net", pids[i]);
		fd = open(ns, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st)) {
			close(fd);
			continue;
		}
		if (st.st_ino == nl->self_ns) {
			close(fd);
			fd = -1;
		}
		*ns_fd = fd;
		return 0;
	}
	return -ESRCH;
}

int netns_links_init(struct netns_links *nl, int cgroup_root_fd, uint64_t self_ns)
{
	memset(nl, 0, sizeof(*nl));
	nl->sock.fd = -1;
	nl->cgroup_root_fd = cgroup_root_fd;
	nl->self_ns = self_ns;
	nl->links = calloc(NL_LINKS_MAX, sizeof(*nl->links));
	if (!nl->links) {
		netns_links_free(nl);
		return -ENOMEM;
	}
	return 0;
}

void netns_links_free(struct netns_links *nl)
{
	nlsock_close(&nl->sock);
	free(nl->links);
	free(nl->watch);
	nl->links = NULL;
	nl->watch = NULL;
	nl->nwatch = 0;
}

/* A cgroup looked at this interval: its table slot and its namespace. */
struct due {
	size_t slot;
	int ns_fd; /* -1: none to look into (iotrace's, or no process) */
	bool known; /* its devices can be decided (else: keep them for now) */
};

/* Devices of a due cgroup with a namespace of its own: its veths' host ends. */
static size_t due_devices(struct netns_links *nl, const struct due *d, struct iotrace_dev_key *keys,
			  bool *known)
{
	uint32_t ifindex[NETNS_LINKS_DEVS_MAX];
	int32_t nsid;
	size_t n;

	*known = false;
	nl->last_err = nlsock_nsid_of(&nl->sock, d->ns_fd, &nsid);
	if (nl->last_err)
		return 0;
	*known = true;
	n = nl_veths_to(nl->links, nl->nlinks, nsid, ifindex, NETNS_LINKS_DEVS_MAX);
	for (size_t i = 0; i < n; i++) {
		keys[i].netns = nl->self_ns;
		keys[i].ifindex = ifindex[i];
		keys[i].pad = 0;
	}
	return n;
}

/* Pick up to NETNS_LINKS_PER_READ due cgroups, from where the last interval stopped. */
static size_t pick_due(struct netns_links *nl, struct wl_table *t, uint64_t now_ns, struct due *due)
{
	size_t ndue = 0, k, i;
	struct netns_watch *w;
	struct wl_entry *e;
	int err;

	for (k = 0; k < t->cap && ndue < NETNS_LINKS_PER_READ; k++) {
		i = (nl->cursor + k) % t->cap;
		e = t->slots[i].e;
		w = &nl->watch[i];
		if (!e)
			continue;
		if (w->id != e->id) {
			memset(w, 0, sizeof(*w));
			w->id = e->id;
		}
		if (e->id == IOTRACE_UNATTRIBUTED_ID)
			continue;
		/*
		 * Its path is known once the outputs named it, after the read
		 * that first saw it active: remember the activity till then.
		 * A cgroup holding devices is looked at when idle too: to let
		 * go of them.
		 */
		if (e->active)
			w->was_active = true;
		if (!e->path_known || !(w->was_active || w->ndevs) || now_ns < w->next_ns)
			continue;
		w->was_active = false;
		due[ndue].slot = i;
		due[ndue].ns_fd = -1;
		err = cgroup_netns(nl, e->path, &due[ndue].ns_fd);
		/* Gone or empty: it has no devices now.  Anything else: ask again later. */
		due[ndue].known = !err || err == -ENOENT || err == -ESRCH;
		ndue++;
	}
	nl->cursor = t->cap ? (nl->cursor + k) % t->cap : 0;
	return ndue;
}

int netns_links_sync(struct netns_links *nl, struct wl_table *t, uint64_t now_ns,
		     netns_links_enter_fn enter, void *ctx)
{
	struct iotrace_dev_key keys[NETNS_LINKS_DEVS_MAX];
	struct due due[NETNS_LINKS_PER_READ];
	size_t ndue, n, i;
	int err = 0;
	bool known;

	if (nl->cgroup_root_fd < 0 || !t->cap)
		return 0;
	if (nl->nwatch != t->cap) {
		struct netns_watch *watch = calloc(t->cap, sizeof(*watch));

		if (!watch)
			return -ENOMEM;
		/* The table's index grew: each cgroup's watch goes to its new slot. */
		for (i = 0; i < nl->nwatch; i++) {
			size_t slot = wl_table_slot(t, nl->watch[i].id);

			if (nl->watch[i].id && slot < t->cap)
				watch[slot] = nl->watch[i];
		}
		free(nl->watch);
		nl->watch = watch;
		nl->nwatch = t->cap;
		nl->cursor %= t->cap;
	}
	ndue = pick_due(nl, t, now_ns, due);
	/* List the veths once, and only when some cgroup has a namespace of its own. */
	for (i = 0; i < ndue && due[i].ns_fd < 0; i++)
		;
	if (i < ndue) {
		err = nlsock_open(&nl->sock, NETLINK_ROUTE);
		if (!err)
			err = nl_dump_links(nl);
		if (err)
			nl->last_err = err;
	}
	for (i = 0; i < ndue; i++) {
		struct netns_watch *w = &nl->watch[due[i].slot];

		w->next_ns = now_ns + NETNS_LINKS_RECHECK_NS;
		nl->looks++;
		n = 0;
		known = due[i].known;
		if (due[i].ns_fd >= 0) {
			if (!err)
				n = due_devices(nl, &due[i], keys, &known);
			else
				known = false;
			close(due[i].ns_fd);
		}
		if (!known)
			continue;
		enter(ctx, w->id, keys, n);
		w->ndevs = (uint32_t)n;
	}
	return err ? err : (int)ndue;
}
