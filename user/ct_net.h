/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A container's network path as the host sees it, for `iotrace advise`'s
 * net.nat and net.bridge (user/advice_ct.h): whether one of the cgroup's
 * processes is in another network namespace than iotrace's, the veth that
 * links that namespace to this one, the bridge the veth is a port of, the
 * bridge's IPv4 subnet, and the NAT rules of this namespace that name the
 * bridge or its subnet.
 *
 * Everything is asked from iotrace's own namespace, never entering the
 * container's:
 *  - the namespace: /proc/PID/ns/net against /proc/self/ns/net (inode);
 *  - the veth: RTM_GETNSID with the container's namespace descriptor gives
 *    its netnsid here, and the RTM_GETLINK dump lists the veths whose peer
 *    (IFLA_LINK_NETNSID) is in it (as user/netns_links.c does), with each
 *    link's IFLA_MASTER and kind;
 *  - the bridge's subnet: RTM_GETADDR (IPv4);
 *  - NAT: the nf_tables rules of this namespace, dumped over nfnetlink
 *    (NFT_MSG_GETRULE).  iptables-nft (Debian 12's iptables) and nft both
 *    store their rules there: a rule whose action is NAT (nft's masq, nat,
 *    redir expressions; iptables-nft's compat targets MASQUERADE, SNAT,
 *    DNAT, REDIRECT, NETMAP) counts when one of its comparisons is against
 *    the bridge's name (iifname/oifname) or its subnet's network address
 *    (ip saddr/daddr, as many bytes as the prefix covers).  Reading them
 *    needs CAP_NET_ADMIN; without it, NAT is unknown (said, not guessed).
 *    Rules of the legacy x_tables (iptables-legacy) are not read: when
 *    /proc/net/ip_tables_names lists a nat table, NAT is unknown unless
 *    nf_tables has a rule.  Sets and maps (a subnet in an anonymous set)
 *    are not looked into.
 *
 * The parsers are separate from the sockets (tests/unit/test_advice_ct.c).
 */
#ifndef IOTRACE_CT_NET_H
#define IOTRACE_CT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_IFNAMSIZ 16

/* One link of an RTM_GETLINK dump. */
struct ct_link {
	uint32_t ifindex;
	uint32_t master; /* IFLA_MASTER; 0: none */
	int32_t link_netnsid; /* IFLA_LINK_NETNSID; -1: absent */
	char kind[16]; /* IFLA_INFO_KIND: "veth", "bridge", ...; "" */
	char name[CT_IFNAMSIZ];
};

/* One IPv4 address of an RTM_GETADDR dump. */
struct ct_addr {
	uint32_t ifindex;
	uint8_t prefixlen;
	uint8_t addr[4];
};

/* What one nf_tables rule holds that matters here. */
#define CT_RULE_MAX_CMP 16
struct ct_rule {
	char table[64];
	char chain[64];
	uint8_t family; /* NFPROTO_* */
	char nat[16]; /* "masquerade", "snat", "dnat", "redirect", "netmap"; "": not NAT */
	size_t ncmp;
	struct {
		uint8_t len;
		uint8_t data[16];
	} cmp[CT_RULE_MAX_CMP]; /* the values compared against (cmp's NFTA_DATA_VALUE) */
};

/*
 * Parse one recv() of a netlink dump (RTM_NEWLINK, RTM_NEWADDR or
 * nf_tables' NEWRULE messages of sequence seq; others skipped).  Each
 * appends to out[*n] up to max (more: counted in *more).  1 once
 * NLMSG_DONE is seen, 0 when more is to come, -errno for an NLMSG_ERROR,
 * -EBADMSG for a message that does not parse.
 */
int ct_parse_links(const void *buf, size_t len, uint32_t seq, struct ct_link *out, size_t max,
		   size_t *n, size_t *more);
int ct_parse_addrs(const void *buf, size_t len, uint32_t seq, struct ct_addr *out, size_t max,
		   size_t *n, size_t *more);
int ct_parse_rules(const void *buf, size_t len, uint32_t seq, struct ct_rule *out, size_t max,
		   size_t *n, size_t *more);

/*
 * Whether rule r is a NAT rule for bridge `bridge` with subnet
 * addr/prefixlen (prefixlen 0: the subnet is not known, the name only).
 */
bool ct_rule_nat_for(const struct ct_rule *r, const char *bridge, const uint8_t addr[4],
		     uint8_t prefixlen);

/* What was found for one container process. */
struct ct_net_facts {
	bool read; /* the namespace could be compared */
	bool host_netns; /* in iotrace's network namespace */
	uint64_t netns; /* its namespace's inode */
	char veth[CT_IFNAMSIZ]; /* the host end of its veth; "": none found */
	unsigned int nveths;
	char master_kind[16]; /* kind of the veth's master ("bridge", "openvswitch"); "": none */
	char bridge[CT_IFNAMSIZ]; /* the master's name */
	uint8_t bridge_addr[4], bridge_prefixlen; /* its first IPv4 subnet; prefixlen 0: none */
	bool nat_known; /* the NAT rules could be read */
	char nat_unknown[128]; /* when not: why */
	unsigned int nat_rules; /* NAT rules for the bridge */
	char nat_kinds[64]; /* their actions, "masquerade,dnat" */
	char nat_where[160]; /* the first one's "family table chain" */
	unsigned int rules_seen; /* nf_tables rules read, in all */
	char error[128]; /* a fact that could not be read, when read is false or no veth */
};

/* The network path of process pid.  0, or -errno when pid is gone (f->error says). */
int ct_net_read(int pid, struct ct_net_facts *f);

#endif
