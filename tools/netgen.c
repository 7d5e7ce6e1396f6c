// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * netgen - network traffic whose packet and byte counts are known exactly.
 *
 * Used by the integration tests (tests/integration/netlib.sh) and the
 * benchmarks to give iotrace network workloads with an unambiguous expected
 * result: udp-send sends exactly --count datagrams of exactly --size payload
 * bytes (a send the kernel refuses with ENOBUFS or EAGAIN is retried, never
 * skipped), udp-recv counts what arrives and says what the socket dropped;
 * tcp-send/tcp-recv move an exact byte count over one connection.
 *
 * `--cgroup` moves netgen into a cgroup first, `--netns` then enters a
 * network namespace, so all its work is charged to the cgroup and all its
 * sockets live in the namespace.  Receivers print "ready bind=ADDR:PORT" on
 * stdout (flushed) once they can receive, so a caller can start the sender
 * without sleeping; every mode ends with one line of key=value counts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

const char tool_name[] = "netgen";

#define DEFAULT_TIMEOUT_S 60.0
#define DEFAULT_RCVBUF (64U << 20)
#define UDP_MAX_PAYLOAD 65507 /* IPv4: 65535 - 20 (IP) - 8 (UDP) */
#define UDP_MAX_PAYLOAD6 65527 /* IPv6 without jumbograms */
#define TCP_CHUNK (64U << 10)
#define RECV_BUF (65536 + 1)

enum mode {
	MODE_NONE,
	MODE_UDP_SEND,
	MODE_UDP_RECV,
	MODE_TCP_SEND,
	MODE_TCP_RECV,
};

static const char *const mode_names[] = {
	[MODE_NONE] = "none",	      [MODE_UDP_SEND] = "udp-send", [MODE_UDP_RECV] = "udp-recv",
	[MODE_TCP_SEND] = "tcp-send", [MODE_TCP_RECV] = "tcp-recv",
};

struct env {
	const char *cgroup;
	const char *netns;
	enum mode mode;
	const char *addr; /* --to or --bind, as given */
	struct sockaddr_storage sa;
	socklen_t salen;
	uint64_t count;
	uint64_t size;
	uint64_t bytes;
	uint64_t rcvbuf;
	double rate;
	double timeout;
	bool have_count, have_size, have_bytes;
};

static const char usage_text[] =
	"Usage: netgen [--cgroup DIR] [--netns NAME|PATH] MODE [MODE OPTIONS]\n"
	"\n"
	"Generate network traffic whose packet and byte counts are known exactly.\n"
	"\n"
	"Options:\n"
	"  --cgroup DIR      first move netgen into cgroup2 directory DIR\n"
	"                    (absolute path), so all its work is charged there\n"
	"  --netns NAME|PATH then enter that network namespace: NAME is\n"
	"                    /run/netns/NAME (from 'ip netns add'), a PATH has a '/'\n"
	"  -h, --help        show this help\n"
	"\n"
	"Modes (ADDR:PORT is 10.0.0.1:5000 or [fd00::1]:5000; PORT 0 binds any):\n"
	"  udp-send --to ADDR:PORT --count N --size BYTES [--rate PPS]\n"
	"           [--timeout S]\n"
	"      exactly N datagrams of BYTES payload on one connected socket;\n"
	"      a send refused with ENOBUFS/EAGAIN is retried, any other error\n"
	"      (e.g. ICMP port unreachable) ends netgen with status 1.  --rate\n"
	"      paces to PPS datagrams a second (default: as fast as possible).\n"
	"      BYTES above the path MTU - 28 go out as IP fragments\n"
	"  udp-recv --bind ADDR:PORT --count N [--size BYTES] [--rcvbuf BYTES]\n"
	"           [--timeout S]\n"
	"      receive until N datagrams arrived; with --size, datagrams of\n"
	"      another size are counted (bad_size) and make the exit status 1;\n"
	"      the socket drops nothing with the default 64 MiB --rcvbuf\n"
	"      unless the sender outruns it (dropped= says how many)\n"
	"  tcp-send --to ADDR:PORT --bytes B [--timeout S]\n"
	"      connect, write exactly B bytes, shut down the sending side and\n"
	"      wait for the receiver to close (so it has read everything)\n"
	"  tcp-recv --bind ADDR:PORT [--bytes B] [--timeout S]\n"
	"      accept one connection, read to end of file, close; with --bytes,\n"
	"      any other byte count makes the exit status 1\n"
	"\n"
	"--timeout S (default 60, fractional allowed) bounds the whole run; on\n"
	"timeout netgen says so on stderr (a receiver also prints its counts)\n"
	"and exits 1.  Receivers print\n"
	"'ready bind=ADDR:PORT' on stdout (flushed) once bound (and listening);\n"
	"start the sender after that.  Every mode ends with one line\n"
	"'netgen: key=value ...' on stdout.  Exit status: 0 success, 1 run-time\n"
	"error, 2 usage error.\n"
	"\n"
	"Examples:\n"
	"  netgen udp-recv --bind 127.0.0.1:0 --count 10000 --size 512\n"
	"  netgen --cgroup /sys/fs/cgroup/unified/a --netns ct1 \\\n"
	"         udp-send --to 10.9.0.1:5000 --count 10000 --size 512\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static double parse_seconds(const char *opt, const char *s, bool positive)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || (positive && v == 0))
		usage_error("%s needs a %s number, got '%s'", opt,
			    positive ? "positive" : "non-negative", s);
	return v;
}

/*
 * "10.0.0.1:5000", "[fd00::1]:5000": numeric only (no name lookups, so
 * nothing but the traffic asked for goes on the wire), dotted quads only.
 */
static void parse_addr(const char *opt, const char *s, struct env *env)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&env->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&env->sa;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port;
	size_t hlen;
	bool v6 = s[0] == '[';
	uint16_t p;

	if (v6) {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			usage_error("%s needs [IPV6]:PORT, got '%s'", opt, s);
		hlen = close - s - 1;
		memcpy(host, s + 1, hlen < sizeof(host) ? hlen : 0);
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			usage_error("%s needs IPV4:PORT or [IPV6]:PORT, got '%s'", opt, s);
		hlen = colon - s;
		memcpy(host, s, hlen < sizeof(host) ? hlen : 0);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		usage_error("%s: bad address in '%s'", opt, s);
	host[hlen] = '\0';
	p = (uint16_t)parse_u64(opt, port, 65535);
	memset(&env->sa, 0, sizeof(env->sa));
	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			usage_error("%s: '%s' is not a numeric IPv6 address", opt, host);
		env->salen = sizeof(*in6);
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons(p);
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			usage_error("%s: '%s' is not a dotted-quad IPv4 address", opt, host);
		env->salen = sizeof(*in);
	}
	env->addr = s;
}

static const char *sa_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}

static bool sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

static void parse_args(int argc, char **argv, struct env *env)
{
	const char *v, *mname;
	enum mode m;
	int i;

	/* Global options, up to the mode. */
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			exit(0);
		} else if ((v = opt_value(argc, argv, &i, "--cgroup"))) {
			if (v[0] != '/')
				usage_error(
					"--cgroup needs an absolute cgroup2 directory, got '%s'",
					v);
			env->cgroup = v;
		} else if ((v = opt_value(argc, argv, &i, "--netns"))) {
			if (!v[0])
				usage_error("--netns needs a name or a path");
			env->netns = v;
		} else if (arg[0] == '-') {
			usage_error("unknown option '%s'", arg);
		} else {
			break;
		}
	}
	if (i >= argc)
		usage_error("no mode given (udp-send, udp-recv, tcp-send or tcp-recv)");
	for (m = MODE_UDP_SEND; m <= MODE_TCP_RECV; m++)
		if (!strcmp(argv[i], mode_names[m]))
			env->mode = m;
	if (env->mode == MODE_NONE)
		usage_error("unknown mode '%s' (udp-send, udp-recv, tcp-send or tcp-recv)",
			    argv[i]);
	m = env->mode;
	mname = mode_names[m];

	/* Mode options. */
	for (i++; i < argc; i++) {
		bool sender = m == MODE_UDP_SEND || m == MODE_TCP_SEND;
		bool udp = m == MODE_UDP_SEND || m == MODE_UDP_RECV;
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			exit(0);
		} else if (sender && (v = opt_value(argc, argv, &i, "--to"))) {
			parse_addr("--to", v, env);
		} else if (!sender && (v = opt_value(argc, argv, &i, "--bind"))) {
			parse_addr("--bind", v, env);
		} else if (udp && (v = opt_value(argc, argv, &i, "--count"))) {
			env->count = parse_u64("--count", v, UINT64_MAX);
			env->have_count = true;
		} else if (udp && (v = opt_value(argc, argv, &i, "--size"))) {
			env->size = parse_u64("--size", v, UDP_MAX_PAYLOAD6);
			env->have_size = true;
		} else if (m == MODE_UDP_SEND && (v = opt_value(argc, argv, &i, "--rate"))) {
			env->rate = parse_seconds("--rate", v, true);
		} else if (m == MODE_UDP_RECV && (v = opt_value(argc, argv, &i, "--rcvbuf"))) {
			env->rcvbuf = parse_u64("--rcvbuf", v, INT_MAX / 2);
		} else if (!udp && (v = opt_value(argc, argv, &i, "--bytes"))) {
			env->bytes = parse_u64("--bytes", v, UINT64_MAX);
			env->have_bytes = true;
		} else if ((v = opt_value(argc, argv, &i, "--timeout"))) {
			env->timeout = parse_seconds("--timeout", v, true);
		} else {
			usage_error("unknown option or argument '%s' for mode %s", arg, mname);
		}
	}

	if (!env->addr)
		usage_error("%s needs %s ADDR:PORT", mname,
			    m == MODE_UDP_SEND || m == MODE_TCP_SEND ? "--to" : "--bind");
	if ((m == MODE_UDP_SEND || m == MODE_TCP_SEND) &&
	    ((env->sa.ss_family == AF_INET && !((struct sockaddr_in *)&env->sa)->sin_port) ||
	     (env->sa.ss_family == AF_INET6 && !((struct sockaddr_in6 *)&env->sa)->sin6_port)))
		usage_error("%s --to needs a port other than 0", mname);
	if (m == MODE_UDP_SEND || m == MODE_UDP_RECV) {
		if (!env->have_count)
			usage_error("%s needs --count", mname);
		if (m == MODE_UDP_RECV && env->count == 0)
			usage_error("udp-recv --count must be at least 1");
		if (m == MODE_UDP_SEND && !env->have_size)
			usage_error("udp-send needs --size");
		if (env->have_size && env->sa.ss_family == AF_INET && env->size > UDP_MAX_PAYLOAD)
			usage_error("--size can be at most %d for IPv4, got %llu", UDP_MAX_PAYLOAD,
				    (unsigned long long)env->size);
	}
	if (m == MODE_TCP_SEND && !env->have_bytes)
		usage_error("tcp-send needs --bytes");
}

/* Enter the network namespace /run/netns/NAME, or PATH if it has a '/'. */
static void join_netns(const char *ns)
{
	char path[4096];
	int fd, n;

	if (strchr(ns, '/'))
		n = snprintf(path, sizeof(path), "%s", ns);
	else
		n = snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (n < 0 || (size_t)n >= sizeof(path))
		die("network namespace path too long: %s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot enter network namespace %s: open %s: %s%s", ns, path, strerror(errno),
		    errno == ENOENT && !strchr(ns, '/') ? " (create it with 'ip netns add NAME')" :
							  "");
	if (setns(fd, CLONE_NEWNET))
		die("cannot enter network namespace %s: setns %s: %s (needs CAP_SYS_ADMIN)", ns,
		    path, strerror(errno));
	close(fd);
}

static double now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime: %s", strerror(errno));
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = {
		.tv_sec = (time_t)t,
		.tv_nsec = (long)((t - (time_t)t) * 1e9),
	};
	int err;

	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	do
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	while (err == EINTR);
	if (err)
		die("clock_nanosleep: %s", strerror(err));
}

/*
 * Wait until fd has one of events or the deadline passes.  Returns false on
 * timeout.
 */
static bool wait_fd(int fd, short events, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	for (;;) {
		double left = deadline - now_s();

		if (left <= 0)
			return false;
		n = poll(&pfd, 1, (int)ceil(left * 1000));
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

/* Say "ready bind=ADDR:PORT"; from now on env->addr is that address. */
static void ready(int fd, struct env *env)
{
	static char buf[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		die("getsockname: %s", strerror(errno));
	env->addr = sa_str((struct sockaddr *)&sa, buf, sizeof(buf));
	printf("ready bind=%s\n", env->addr);
	if (fflush(stdout) || ferror(stdout))
		die("writing to stdout: %s", strerror(errno));
}

static void finish_stdout(void)
{
	if (fflush(stdout) || ferror(stdout))
		die("writing to stdout: %s", strerror(errno));
}

static int xsocket(const struct env *env, int type)
{
	int fd = socket(env->sa.ss_family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	return fd;
}

static void xbind(int fd, const struct env *env)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("setsockopt SO_REUSEADDR: %s", strerror(errno));
	if (bind(fd, (const struct sockaddr *)&env->sa, env->salen))
		die("cannot bind %s: %s%s", env->addr, strerror(errno),
		    errno == EADDRNOTAVAIL ? " (no such local address in this network namespace;"
					     " --netns?)" :
		    errno == EADDRINUSE	   ? " (another socket has it; pick another port or 0)" :
					     "");
}

static void fill_payload(char *buf, uint64_t len)
{
	uint64_t i, state = 1;

	/* Non-zero, not compressible: nothing along the way can shortcut it. */
	for (i = 0; i < len; i++)
		buf[i] = (char)(rng_next(&state) | 1);
}

/* ---- UDP ------------------------------------------------------------------ */

static void run_udp_send(const struct env *env)
{
	uint64_t sent = 0, retries = 0;
	double start, elapsed;
	char *buf;
	int fd, one = 1;

	buf = malloc(env->size ? env->size : 1);
	if (!buf)
		die("out of memory");
	fill_payload(buf, env->size);
	fd = xsocket(env, SOCK_DGRAM);
	/*
	 * Without IP_RECVERR the kernel turns a datagram dropped on the way
	 * out (ENOBUFS from a full queue) into success: with it, we see the
	 * drop and send that datagram again.
	 */
	if (env->sa.ss_family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)))
			die("setsockopt IPV6_RECVERR: %s", strerror(errno));
	} else if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one))) {
		die("setsockopt IP_RECVERR: %s", strerror(errno));
	}
	/* Connected: an ICMP port unreachable fails the next send. */
	if (connect(fd, (const struct sockaddr *)&env->sa, env->salen))
		die("udp-send: connect to %s: %s", env->addr, strerror(errno));

	start = now_s();
	while (sent < env->count) {
		ssize_t n;

		if (now_s() - start > env->timeout)
			die("udp-send: timed out after %.1f s having sent %llu of %llu datagrams to "
			    "%s (retries=%llu); raise --timeout or lower --count",
			    env->timeout, (unsigned long long)sent, (unsigned long long)env->count,
			    env->addr, (unsigned long long)retries);
		if (env->rate > 0)
			sleep_until(start + sent / env->rate);
		n = send(fd, buf, env->size, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN || errno == EWOULDBLOCK) {
				retries++;
				/* Let the queue drain a little. */
				usleep(retries % 64 ? 0 : 1000);
				sched_yield();
				continue;
			}
			die("udp-send: send to %s failed after %llu of %llu datagrams: %s%s",
			    env->addr, (unsigned long long)sent, (unsigned long long)env->count,
			    strerror(errno),
			    errno == ECONNREFUSED ?
				    " (an ICMP port unreachable came back: nothing listens there; "
				    "start udp-recv and wait for its 'ready' line first)" :
				    "");
		}
		if ((uint64_t)n != env->size)
			die("udp-send: short send of datagram %llu: %zd of %llu bytes",
			    (unsigned long long)sent + 1, n, (unsigned long long)env->size);
		sent++;
	}
	elapsed = now_s() - start;
	if (close(fd))
		die("close: %s", strerror(errno));
	free(buf);
	printf("netgen: datagrams=%llu bytes=%llu size=%llu retries=%llu seconds=%.3f\n",
	       (unsigned long long)sent, (unsigned long long)(sent * env->size),
	       (unsigned long long)env->size, (unsigned long long)retries, elapsed);
}

/* Big enough that the socket never drops what a fast sender sends. */
static void set_rcvbuf(int fd, uint64_t want)
{
	int v = (int)want, got;
	socklen_t len = sizeof(got);

	/* SO_RCVBUFFORCE (CAP_NET_ADMIN) passes net.core.rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)))
		die("setsockopt SO_RCVBUF %d: %s", v, strerror(errno));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len))
		die("getsockopt SO_RCVBUF: %s", strerror(errno));
	if ((uint64_t)got < want)
		fprintf(stderr,
			"netgen: warning: receive buffer is %d bytes, not %llu (no CAP_NET_ADMIN "
			"and net.core.rmem_max is lower): a fast sender may overrun it "
			"(see dropped=)\n",
			got, (unsigned long long)want);
}

static void run_udp_recv(struct env *env)
{
	uint64_t got = 0, bytes = 0, bad_size = 0, other_peers = 0;
	uint32_t dropped = 0;
	struct sockaddr_storage first = { 0 };
	double start = now_s(), deadline = start + env->timeout, t0 = 0, t1 = 0;
	char peer[INET6_ADDRSTRLEN + 16] = "-";
	char *buf;
	int fd, one = 1;

	buf = malloc(RECV_BUF);
	if (!buf)
		die("out of memory");
	fd = xsocket(env, SOCK_DGRAM);
	set_rcvbuf(fd, env->rcvbuf);
	/* The kernel tells, with each datagram, how many it dropped so far. */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)))
		die("setsockopt SO_RXQ_OVFL: %s", strerror(errno));
	xbind(fd, env);
	ready(fd, env);

	while (got < env->count) {
		char cbuf[CMSG_SPACE(sizeof(uint32_t))];
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = buf, .iov_len = RECV_BUF };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = cbuf,
			.msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm;
		ssize_t n;

		if (!wait_fd(fd, POLLIN, deadline)) {
			printf("netgen: datagrams=%llu bytes=%llu bad_size=%llu dropped=%u "
			       "other_peers=%llu seconds=%.3f peer=%s\n",
			       (unsigned long long)got, (unsigned long long)bytes,
			       (unsigned long long)bad_size, dropped,
			       (unsigned long long)other_peers, now_s() - start, peer);
			finish_stdout();
			die("udp-recv: timed out after %.1f s on %s with %llu of %llu datagrams "
			    "(%llu bytes, %u dropped by the socket): %s",
			    env->timeout, env->addr, (unsigned long long)got,
			    (unsigned long long)env->count, (unsigned long long)bytes, dropped,
			    dropped ? "the receive buffer overflowed: raise --rcvbuf or give "
				      "udp-send a --rate" :
				      "is the sender running, and is the path to this address up?");
		}
		n = recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			die("udp-recv: recvmsg on %s: %s", env->addr, strerror(errno));
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
				memcpy(&dropped, CMSG_DATA(cm), sizeof(dropped));
		if (got == 0) {
			t0 = now_s();
			first = from;
			sa_str((struct sockaddr *)&from, peer, sizeof(peer));
		} else if (!sa_equal(&first, &from)) {
			other_peers++;
		}
		got++;
		bytes += n;
		if (env->have_size && (uint64_t)n != env->size)
			bad_size++;
	}
	t1 = now_s();
	close(fd);
	free(buf);
	printf("netgen: datagrams=%llu bytes=%llu bad_size=%llu dropped=%u other_peers=%llu "
	       "seconds=%.3f peer=%s\n",
	       (unsigned long long)got, (unsigned long long)bytes, (unsigned long long)bad_size,
	       dropped, (unsigned long long)other_peers, t1 - t0, peer);
	finish_stdout();
	if (bad_size)
		die("udp-recv: %llu of %llu datagrams were not %llu bytes long: another sender "
		    "uses %s, or the sender's --size differs",
		    (unsigned long long)bad_size, (unsigned long long)got,
		    (unsigned long long)env->size, env->addr);
	if (dropped)
		die("udp-recv: the socket dropped %u datagrams (receive buffer full): raise "
		    "--rcvbuf or give udp-send a --rate",
		    dropped);
}

/* ---- TCP ------------------------------------------------------------------ */

static const char *timeout_what_g = "";

static void on_alarm(int sig)
{
	static const char msg[] = "netgen: timed out (--timeout): ";
	ssize_t r;

	(void)sig;
	r = write(2, msg, sizeof(msg) - 1);
	r = write(2, timeout_what_g, strlen(timeout_what_g));
	r = write(2, "\n", 1);
	(void)r;
	_exit(EXIT_RUNTIME);
}

static void arm_timeout(double seconds, const char *what)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { 0 };

	timeout_what_g = what;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		die("sigaction: %s", strerror(errno));
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds - (time_t)seconds) * 1e6);
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	if (setitimer(ITIMER_REAL, &it, NULL))
		die("setitimer: %s", strerror(errno));
}

static void run_tcp_send(const struct env *env)
{
	uint64_t left = env->bytes, extra = 0;
	double start, elapsed;
	char *buf, peer[INET6_ADDRSTRLEN + 16];
	int fd;

	arm_timeout(env->timeout,
		    "tcp-send did not finish: is tcp-recv running, and did it read everything?");
	buf = malloc(TCP_CHUNK);
	if (!buf)
		die("out of memory");
	fill_payload(buf, TCP_CHUNK);
	fd = xsocket(env, SOCK_STREAM);
	start = now_s();
	while (connect(fd, (const struct sockaddr *)&env->sa, env->salen)) {
		if (errno == EINTR)
			continue;
		die("tcp-send: connect to %s: %s%s", env->addr, strerror(errno),
		    errno == ECONNREFUSED ? " (nothing listens there: start tcp-recv and wait for "
					    "its 'ready' line first)" :
					    "");
	}
	while (left) {
		size_t len = left < TCP_CHUNK ? left : TCP_CHUNK;
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("tcp-send: write to %s after %llu of %llu bytes: %s", env->addr,
			    (unsigned long long)(env->bytes - left), (unsigned long long)env->bytes,
			    strerror(errno));
		}
		left -= n;
	}
	if (shutdown(fd, SHUT_WR))
		die("tcp-send: shutdown: %s", strerror(errno));
	/* The receiver closes once it has read our end of file. */
	for (;;) {
		ssize_t n = read(fd, buf, TCP_CHUNK);

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("tcp-send: waiting for %s to close: %s", env->addr, strerror(errno));
		}
		extra += n;
	}
	elapsed = now_s() - start;
	close(fd);
	free(buf);
	sa_str((const struct sockaddr *)&env->sa, peer, sizeof(peer));
	printf("netgen: bytes=%llu received=%llu seconds=%.3f peer=%s\n",
	       (unsigned long long)env->bytes, (unsigned long long)extra, elapsed, peer);
	finish_stdout();
}

static void run_tcp_recv(struct env *env)
{
	uint64_t bytes = 0;
	double start = now_s(), deadline = start + env->timeout, t0;
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	char *buf, peer[INET6_ADDRSTRLEN + 16];
	int lfd, fd;

	buf = malloc(TCP_CHUNK);
	if (!buf)
		die("out of memory");
	lfd = xsocket(env, SOCK_STREAM);
	xbind(lfd, env);
	if (listen(lfd, 1))
		die("tcp-recv: listen on %s: %s", env->addr, strerror(errno));
	ready(lfd, env);
	if (!wait_fd(lfd, POLLIN, deadline)) {
		printf("netgen: bytes=0 seconds=0.000 peer=-\n");
		finish_stdout();
		die("tcp-recv: timed out after %.1f s on %s: no connection came (is tcp-send "
		    "running, and is the path to this address up?)",
		    env->timeout, env->addr);
	}
	fd = accept4(lfd, (struct sockaddr *)&from, &flen, SOCK_CLOEXEC);
	if (fd < 0)
		die("tcp-recv: accept on %s: %s", env->addr, strerror(errno));
	close(lfd);
	sa_str((struct sockaddr *)&from, peer, sizeof(peer));
	t0 = now_s();
	for (;;) {
		ssize_t n;

		if (!wait_fd(fd, POLLIN, deadline)) {
			printf("netgen: bytes=%llu seconds=%.3f peer=%s\n",
			       (unsigned long long)bytes, now_s() - t0, peer);
			finish_stdout();
			die("tcp-recv: timed out after %.1f s on %s with %llu bytes read and no end "
			    "of file from %s",
			    env->timeout, env->addr, (unsigned long long)bytes, peer);
		}
		n = read(fd, buf, TCP_CHUNK);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("tcp-recv: read from %s after %llu bytes: %s", peer,
			    (unsigned long long)bytes, strerror(errno));
		}
		bytes += n;
	}
	if (close(fd))
		die("tcp-recv: close: %s", strerror(errno));
	free(buf);
	printf("netgen: bytes=%llu seconds=%.3f peer=%s\n", (unsigned long long)bytes, now_s() - t0,
	       peer);
	finish_stdout();
	if (env->have_bytes && bytes != env->bytes)
		die("tcp-recv: read %llu bytes from %s, expected %llu", (unsigned long long)bytes,
		    peer, (unsigned long long)env->bytes);
}

int main(int argc, char **argv)
{
	struct env env = {
		.timeout = DEFAULT_TIMEOUT_S,
		.rcvbuf = DEFAULT_RCVBUF,
	};

	parse_args(argc, argv, &env);
	if (env.cgroup)
		join_cgroup(env.cgroup);
	if (env.netns)
		join_netns(env.netns);

	switch (env.mode) {
	case MODE_UDP_SEND:
		run_udp_send(&env);
		break;
	case MODE_UDP_RECV:
		run_udp_recv(&env);
		break;
	case MODE_TCP_SEND:
		run_tcp_send(&env);
		break;
	case MODE_TCP_RECV:
		run_tcp_recv(&env);
		break;
	case MODE_NONE:
		usage_error("no mode given");
	}
	finish_stdout();
	return 0;
}
