// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A container's veth, bridge and NAT rules, from rtnetlink and nf_tables.  See ct_net.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ct_net.h"
#include "nlsock.h"

#define CT_LINKS_MAX 4096
#define CT_ADDRS_MAX 4096
#define CT_RULES_MAX 8192

/* ---- parsing ------------------------------------------------------------ */

/* Walk the messages of one datagram: each of sequence seq handed to fn (1: done, < 0: error). */
typedef int (*msg_fn)(const struct nlmsghdr *h, void *ctx);

static int walk(const void *buf, size_t len, uint32_t seq, msg_fn fn, void *ctx)
{
	const struct nlmsghdr *h = buf;
	int left = (int)len, err;

	for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_DONE) {
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
				int e = *(const int *)NLMSG_DATA(h);

				if (e < 0)
					return e;
			}
			return 1;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			err = nlsock_error(h);
			if (err)
				return err;
			continue; /* an acknowledgement */
		}
		err = fn(h, ctx);
		if (err < 0)
			return err;
	}
	return left ? -EBADMSG : 0;
}

static void copy_str(char *dst, size_t size, const void *src, size_t len)
{
	size_t n = strnlen(src, len);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct acc {
	void *out;
	size_t max, *n, *more;
};

static int link_msg(const struct nlmsghdr *h, void *ctx)
{
	struct acc *a = ctx;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct ct_link l = { .link_netnsid = -1 };
	const struct rtattr *rta;
	int alen;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EBADMSG;
	l.ifindex = (uint32_t)ifi->ifi_index;
	alen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
		size_t plen = RTA_PAYLOAD(rta);

		switch (rta->rta_type) {
		case IFLA_IFNAME:
			copy_str(l.name, sizeof(l.name), RTA_DATA(rta), plen);
			break;
		case IFLA_MASTER:
			if (plen >= 4)
				memcpy(&l.master, RTA_DATA(rta), 4);
			break;
		case IFLA_LINK_NETNSID:
			if (plen >= 4)
				memcpy(&l.link_netnsid, RTA_DATA(rta), 4);
			break;
		case IFLA_LINKINFO: {
			const struct rtattr *in = RTA_DATA(rta);
			int ilen = (int)plen;

			for (; RTA_OK(in, ilen); in = RTA_NEXT(in, ilen))
				if (in->rta_type == IFLA_INFO_KIND)
					copy_str(l.kind, sizeof(l.kind), RTA_DATA(in),
						 RTA_PAYLOAD(in));
			break;
		}
		}
	}
	if (*a->n < a->max)
		((struct ct_link *)a->out)[(*a->n)++] = l;
	else
		(*a->more)++;
	return 0;
}

int ct_parse_links(const void *buf, size_t len, uint32_t seq, struct ct_link *out, size_t max,
		   size_t *n, size_t *more)
{
	struct acc a = { out, max, n, more };

	return walk(buf, len, seq, link_msg, &a);
}

static int addr_msg(const struct nlmsghdr *h, void *ctx)
{
	struct acc *a = ctx;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct ct_addr ad = { 0 };
	const struct rtattr *rta;
	bool have = false;
	int alen;

	if (h->nlmsg_type != RTM_NEWADDR)
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return -EBADMSG;
	if (ifa->ifa_family != AF_INET)
		return 0;
	ad.ifindex = ifa->ifa_index;
	ad.prefixlen = ifa->ifa_prefixlen;
	alen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	for (rta = IFA_RTA(ifa); RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
		/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on point-to-point links. */
		if ((rta->rta_type == IFA_LOCAL || (rta->rta_type == IFA_ADDRESS && !have)) &&
		    RTA_PAYLOAD(rta) >= 4) {
			memcpy(ad.addr, RTA_DATA(rta), 4);
			have = true;
		}
	}
	if (!have)
		return 0;
	if (*a->n < a->max)
		((struct ct_addr *)a->out)[(*a->n)++] = ad;
	else
		(*a->more)++;
	return 0;
}

int ct_parse_addrs(const void *buf, size_t len, uint32_t seq, struct ct_addr *out, size_t max,
		   size_t *n, size_t *more)
{
	struct acc a = { out, max, n, more };

	return walk(buf, len, seq, addr_msg, &a);
}

/* nfnetlink attributes: struct nlattr, type masked of its flags. */
#define NLA_OK_(a, rem)                                                                  \
	((rem) >= (int)sizeof(struct nlattr) && (a)->nla_len >= sizeof(struct nlattr) && \
	 (a)->nla_len <= (rem))
#define NLA_NEXT_(a, rem)                  \
	((rem) -= NLA_ALIGN((a)->nla_len), \
	 (const struct nlattr *)((const char *)(a) + NLA_ALIGN((a)->nla_len)))
#define NLA_DATA_(a) ((const void *)((const char *)(a) + NLA_HDRLEN))
#define NLA_LEN_(a) ((size_t)((a)->nla_len - NLA_HDRLEN))
#define NLA_TYPE_(a) ((a)->nla_type & NLA_TYPE_MASK)

/* The nested attribute of type want inside a, or NULL. */
static const struct nlattr *nla_find(const struct nlattr *a, int want)
{
	const struct nlattr *in = NLA_DATA_(a);
	int rem = (int)NLA_LEN_(a);

	for (; NLA_OK_(in, rem); in = NLA_NEXT_(in, rem))
		if (NLA_TYPE_(in) == want)
			return in;
	return NULL;
}

static void set_nat(struct ct_rule *r, const char *what)
{
	if (!r->nat[0])
		snprintf(r->nat, sizeof(r->nat), "%s", what);
}

/* One expression (an NFTA_LIST_ELEM) of a rule. */
static void rule_expr(struct ct_rule *r, const struct nlattr *elem)
{
	const struct nlattr *name = nla_find(elem, NFTA_EXPR_NAME);
	const struct nlattr *data = nla_find(elem, NFTA_EXPR_DATA);
	char ename[32], tname[32];

	if (!name)
		return;
	copy_str(ename, sizeof(ename), NLA_DATA_(name), NLA_LEN_(name));
	if (!strcmp(ename, "masq")) {
		set_nat(r, "masquerade");
	} else if (!strcmp(ename, "redir")) {
		set_nat(r, "redirect");
	} else if (!strcmp(ename, "nat") && data) {
		const struct nlattr *t = nla_find(data, NFTA_NAT_TYPE);
		uint32_t type = 0;

		if (t && NLA_LEN_(t) >= 4)
			memcpy(&type, NLA_DATA_(t), 4);
		set_nat(r, ntohl(type) == NFT_NAT_DNAT ? "dnat" : "snat");
	} else if (!strcmp(ename, "target") && data) {
		const struct nlattr *t = nla_find(data, NFTA_TARGET_NAME);
		static const char *const targets[][2] = {
			{ "MASQUERADE", "masquerade" }, { "SNAT", "snat" },	{ "DNAT", "dnat" },
			{ "REDIRECT", "redirect" },	{ "NETMAP", "netmap" },
		};

		if (!t)
			return;
		copy_str(tname, sizeof(tname), NLA_DATA_(t), NLA_LEN_(t));
		for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
			if (!strcmp(tname, targets[i][0]))
				set_nat(r, targets[i][1]);
	} else if (!strcmp(ename, "cmp") && data) {
		const struct nlattr *d = nla_find(data, NFTA_CMP_DATA), *v;

		v = d ? nla_find(d, NFTA_DATA_VALUE) : NULL;
		if (!v || r->ncmp >= CT_RULE_MAX_CMP)
			return;
		r->cmp[r->ncmp].len = (uint8_t)(NLA_LEN_(v) > 16 ? 16 : NLA_LEN_(v));
		memcpy(r->cmp[r->ncmp].data, NLA_DATA_(v), r->cmp[r->ncmp].len);
		r->ncmp++;
	}
}

static int rule_msg(const struct nlmsghdr *h, void *ctx)
{
	struct acc *a = ctx;
	const struct nfgenmsg *g = NLMSG_DATA(h);
	const struct nlattr *at;
	struct ct_rule *r;
	int rem;

	if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE))
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*g)))
		return -EBADMSG;
	if (*a->n >= a->max) {
		(*a->more)++;
		return 0;
	}
	r = &((struct ct_rule *)a->out)[*a->n];
	memset(r, 0, sizeof(*r));
	r->family = g->nfgen_family;
	at = (const struct nlattr *)((const char *)g + NLMSG_ALIGN(sizeof(*g)));
	rem = (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));
	for (; NLA_OK_(at, rem); at = NLA_NEXT_(at, rem)) {
		switch (NLA_TYPE_(at)) {
		case NFTA_RULE_TABLE:
			copy_str(r->table, sizeof(r->table), NLA_DATA_(at), NLA_LEN_(at));
			break;
		case NFTA_RULE_CHAIN:
			copy_str(r->chain, sizeof(r->chain), NLA_DATA_(at), NLA_LEN_(at));
			break;
		case NFTA_RULE_EXPRESSIONS: {
			const struct nlattr *e = NLA_DATA_(at);
			int erem = (int)NLA_LEN_(at);

			for (; NLA_OK_(e, erem); e = NLA_NEXT_(e, erem))
				if (NLA_TYPE_(e) == NFTA_LIST_ELEM)
					rule_expr(r, e);
			break;
		}
		}
	}
	(*a->n)++;
	return 0;
}

int ct_parse_rules(const void *buf, size_t len, uint32_t seq, struct ct_rule *out, size_t max,
		   size_t *n, size_t *more)
{
	struct acc a = { out, max, n, more };

	return walk(buf, len, seq, rule_msg, &a);
}

bool ct_rule_nat_for(const struct ct_rule *r, const char *bridge, const uint8_t addr[4],
		     uint8_t prefixlen)
{
	size_t blen = strlen(bridge);
	/* A prefix on a byte boundary is compared on its bytes only (nft loads no more). */
	size_t alen = prefixlen && prefixlen % 8 == 0 ? prefixlen / 8u : 4;
	uint8_t net[4];

	if (!r->nat[0])
		return false;
	for (int i = 0; i < 4; i++) {
		int bits = (int)prefixlen - 8 * i;

		net[i] = bits >= 8 ? addr[i] :
			 bits <= 0 ? 0 :
				     (uint8_t)(addr[i] & (0xff << (8 - bits)));
	}
	for (size_t i = 0; i < r->ncmp; i++) {
		const uint8_t *d = r->cmp[i].data;
		size_t len = r->cmp[i].len;

		/* iifname/oifname: the name, NUL-padded (to IFNAMSIZ, or not at all). */
		if (blen && len >= blen && !memcmp(d, bridge, blen)) {
			bool pad = true;

			for (size_t k = blen; k < len; k++)
				pad = pad && !d[k];
			if (pad)
				return true;
		}
		if (prefixlen >= 8 && len == alen && !memcmp(d, net, alen))
			return true;
	}
	return false;
}

/* ---- requests ------------------------------------------------------------ */

/* A dump's parser and where it puts what it finds. */
struct dump {
	int (*parse)(const void *buf, size_t len, uint32_t seq, void *out, size_t max, size_t *n,
		     size_t *more);
	void *out;
	size_t max, n, more;
};

static int parse_links(const void *buf, size_t len, uint32_t seq, void *out, size_t max, size_t *n,
		       size_t *more)
{
	return ct_parse_links(buf, len, seq, out, max, n, more);
}

static int parse_addrs(const void *buf, size_t len, uint32_t seq, void *out, size_t max, size_t *n,
		       size_t *more)
{
	return ct_parse_addrs(buf, len, seq, out, max, n, more);
}

static int parse_rules(const void *buf, size_t len, uint32_t seq, void *out, size_t max, size_t *n,
		       size_t *more)
{
	return ct_parse_rules(buf, len, seq, out, max, n, more);
}

static int parse_dump(void *ctx, const void *buf, size_t len, uint32_t seq)
{
	struct dump *d = ctx;

	return d->parse(buf, len, seq, d->out, d->max, &d->n, &d->more);
}

/* Send request h and parse the whole answer into d; *n: what was kept. */
static int nl_dump(struct nlsock *nl, struct nlmsghdr *h, struct dump *d, size_t *n)
{
	int err;

	d->n = d->more = 0;
	err = nlsock_request(nl, h, parse_dump, d);
	*n = d->n;
	return err;
}

static int dump_links(struct nlsock *nl, struct ct_link *links, size_t *n)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = { 0 };

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.ifi.ifi_family = AF_UNSPEC;
	struct dump d = { .parse = parse_links, .out = links, .max = CT_LINKS_MAX };

	return nl_dump(nl, &req.h, &d, n);
}

static int dump_addrs(struct nlsock *nl, struct ct_addr *addrs, size_t *n)
{
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg ifa;
	} req = { 0 };

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.h.nlmsg_type = RTM_GETADDR;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.ifa.ifa_family = AF_INET;
	struct dump d = { .parse = parse_addrs, .out = addrs, .max = CT_ADDRS_MAX };

	return nl_dump(nl, &req.h, &d, n);
}

static int dump_rules(struct nlsock *nl, struct ct_rule *rules, size_t *n)
{
	struct {
		struct nlmsghdr h;
		struct nfgenmsg g;
	} req = { 0 };

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.g));
	req.h.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.g.nfgen_family = NFPROTO_UNSPEC;
	req.g.version = NFNETLINK_V0;
	struct dump d = { .parse = parse_rules, .out = rules, .max = CT_RULES_MAX };

	return nl_dump(nl, &req.h, &d, n);
}

/* Whether /proc/net/ip_tables_names (the legacy x_tables) lists a nat table. */
static bool legacy_nat(void)
{
	char line[64];
	bool nat = false;
	FILE *f = fopen("/proc/net/ip_tables_names", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		nat = nat || !strcmp(line, "nat\n");
	fclose(f);
	return nat;
}

static const char *family_name(uint8_t f)
{
	switch (f) {
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_BRIDGE:
		return "bridge";
	default:
		return "other";
	}
}

static void read_nat(struct ct_net_facts *f)
{
	struct nlsock nl = NLSOCK_INIT;
	struct ct_rule *rules = calloc(CT_RULES_MAX, sizeof(*rules));
	size_t n = 0;
	int err;

	if (!rules) {
		snprintf(f->nat_unknown, sizeof(f->nat_unknown), "out of memory");
		goto out;
	}
	err = nlsock_open(&nl, NETLINK_NETFILTER);
	if (!err)
		err = dump_rules(&nl, rules, &n);
	if (err) {
		snprintf(f->nat_unknown, sizeof(f->nat_unknown),
			 "cannot read the nf_tables rules: %s%s", strerror(-err),
			 err == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
		goto out;
	}
	f->rules_seen = (unsigned int)n;
	for (size_t i = 0; i < n; i++) {
		const struct ct_rule *r = &rules[i];
		size_t len = strlen(f->nat_kinds);

		if (!ct_rule_nat_for(r, f->bridge, f->bridge_addr, f->bridge_prefixlen))
			continue;
		if (!f->nat_rules++)
			snprintf(f->nat_where, sizeof(f->nat_where), "%s %s %s",
				 family_name(r->family), r->table, r->chain);
		if (!strstr(f->nat_kinds, r->nat))
			snprintf(f->nat_kinds + len, sizeof(f->nat_kinds) - len, "%s%s",
				 len ? "," : "", r->nat);
	}
	if (!f->nat_rules && legacy_nat()) {
		snprintf(f->nat_unknown, sizeof(f->nat_unknown),
			 "no nf_tables NAT rule for %s, but a legacy iptables nat table exists, "
			 "whose rules iotrace does not read",
			 f->bridge);
		goto out;
	}
	f->nat_known = true;
out:
	nlsock_close(&nl);
	free(rules);
}

int ct_net_read(int pid, struct ct_net_facts *f)
{
	struct nlsock nl = NLSOCK_INIT;
	struct ct_link *links = NULL;
	struct ct_addr *addrs = NULL;
	struct stat self, st;
	char path[64];
	int32_t nsid = -1;
	size_t nl_n = 0, na = 0;
	const struct ct_link *veth = NULL, *master = NULL;
	int ns_fd = -1, err = 0;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat("/proc/self/ns/net", &self) || stat(path, &st)) {
		err = -errno;
		snprintf(f->error, sizeof(f->error), "cannot stat %s: %s", path, strerror(errno));
		return err;
	}
	f->read = true;
	f->netns = st.st_ino;
	f->host_netns = st.st_ino == self.st_ino && st.st_dev == self.st_dev;
	if (f->host_netns)
		return 0;
	links = calloc(CT_LINKS_MAX, sizeof(*links));
	addrs = calloc(CT_ADDRS_MAX, sizeof(*addrs));
	if (!links || !addrs) {
		snprintf(f->error, sizeof(f->error), "out of memory");
		goto out;
	}
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		snprintf(f->error, sizeof(f->error), "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	err = nlsock_open(&nl, NETLINK_ROUTE);
	if (!err)
		err = nlsock_nsid_of(&nl, ns_fd, &nsid);
	if (!err && nsid >= 0)
		err = dump_links(&nl, links, &nl_n);
	if (err) {
		snprintf(f->error, sizeof(f->error), "rtnetlink: %s", strerror(-err));
		err = 0;
		goto out;
	}
	for (size_t i = 0; nsid >= 0 && i < nl_n; i++) {
		if (strcmp(links[i].kind, "veth") || links[i].link_netnsid != nsid)
			continue;
		if (!f->nveths++)
			veth = &links[i];
	}
	if (!veth) {
		snprintf(f->error, sizeof(f->error),
			 "no veth of this namespace leads to the container's");
		goto out;
	}
	snprintf(f->veth, sizeof(f->veth), "%s", veth->name);
	for (size_t i = 0; veth->master && i < nl_n; i++)
		if (links[i].ifindex == veth->master)
			master = &links[i];
	if (!master)
		goto out;
	snprintf(f->master_kind, sizeof(f->master_kind), "%s", master->kind);
	snprintf(f->bridge, sizeof(f->bridge), "%s", master->name);
	if (strcmp(master->kind, "bridge"))
		goto out;
	if (!dump_addrs(&nl, addrs, &na)) {
		for (size_t i = 0; i < na; i++)
			if (addrs[i].ifindex == master->ifindex) {
				memcpy(f->bridge_addr, addrs[i].addr, 4);
				f->bridge_prefixlen = addrs[i].prefixlen;
				break;
			}
	}
	read_nat(f);
out:
	if (ns_fd >= 0)
		close(ns_fd);
	nlsock_close(&nl);
	free(links);
	free(addrs);
	return err;
}
