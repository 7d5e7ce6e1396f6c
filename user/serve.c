// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace serve`: the session's run totals as Prometheus metrics (prom.c),
 * over HTTP at /metrics (libmicrohttpd, its own thread) and/or as a
 * node_exporter textfile.  A scrape reads the kernel tables then and
 * there; the main thread reads them every --interval too, and rewrites the
 * textfile.  One mutex guards the session: the HTTP thread and the main
 * thread never touch it at once.  docs/metrics.md says what is exported
 * and why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "cli.h"
#include "prom.h"
#include "rows.h"
#include "serve.h"
#include "session.h"
#include "ticks.h"
#include "version.h"

/* The largest exposition served (about 3 KiB per workload at most). */
#define PROM_MAX_BYTES (128u << 20)
#define MAX_SETS (IOTRACE_MAX_WORKLOADS + IOTRACE_MAX_VMS)
#define TEXTFILE_NAME "iotrace.prom"
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct server {
	const struct serve_opts *o;
	pthread_mutex_t lock; /* the session and the scratch space below */
	struct session s;
	struct vm_row_buf *vmrow;
	struct wl_row_buf wlrow;
	struct prom_wl *wls; /* MAX_SETS */
	struct prom_prog *progs;
	int nprogs_cap;
	int listen_fd;
	struct MHD_Daemon *httpd;
	char url[INET6_ADDRSTRLEN + 32];
	char textfile[PATH_MAX];
	bool textfile_failing; /* the last write failed: said once */
	bool textfile_written; /* removed at exit */
};

/* ---- the figures ------------------------------------------------------------ */

static void wl_from_row(struct prom_wl *w, const struct out_row *r)
{
	memset(w, 0, sizeof(*w));
	/*
	 * kind="vm" is a VM process (id: its pid); a libvirt machine's cgroup
	 * is "vm_cgroup", so that the two never share a label set and
	 * kind!="vm" partitions the host by cgroup without counting twice.
	 */
	w->kind = r->vm ? "vm" : r->wl.kind == WL_KIND_VM ? "vm_cgroup" : wl_kind_name(r->wl.kind);
	w->name = r->wl.name;
	w->id = r->wl.cgroup_id;
	w->cgroup = r->wl.cgroup_path;
	w->runtime = r->wl.runtime;
	w->container_id = r->wl.container_id;
	w->cpu_ns = r->cpu_ns;
	w->cycles = r->cycles;
	w->read_ops = r->read_ops;
	w->write_ops = r->write_ops;
	w->read_bytes = r->read_bytes;
	w->write_bytes = r->write_bytes;
	w->has_net = r->has_net;
	w->tx_packets = r->tx_packets;
	w->tx_bytes = r->tx_bytes;
	w->rx_packets = r->rx_packets;
	w->rx_bytes = r->rx_bytes;
	w->softirq_ns = r->softirq_ns;
	if (!r->vm)
		return;
	w->is_vm = true;
	w->id = (uint64_t)r->vm->pid;
	w->name = r->vm->vm_name;
	w->has_hw_exits = !strcmp(r->vm->exits_source, "kvm_exit");
	w->guest_ns = r->vm->guest_ns;
	w->exits = r->vm->exits;
	w->userspace_exits = r->vm->userspace_exits;
	w->pio_exits = r->vm->pio_exits;
	w->mmio_exits = r->vm->mmio_exits;
}

/*
 * A VM that is gone keeps its totals in the table; when its pid came back
 * as another VM, only the newer one is exported (same labels).
 */
static bool vm_superseded(const struct vm_table *t, size_t i)
{
	const struct vm_entry *vm = t->vms[i];

	if (!vm->gone)
		return false;
	for (size_t j = 0; j < t->n; j++)
		if (j != i && t->vms[j]->pid == vm->pid && (!t->vms[j]->gone || j > i))
			return true;
	return false;
}

/* Every workload and VM seen in the run, as totals; the count. */
static size_t fill_workloads(struct server *sv)
{
	struct session *s = &sv->s;
	bool refreshed = false;
	struct out_row row;
	struct wl_entry *e;
	size_t n = 0;

	wl_table_for_each(&s->table, e)
	{
		if (!e->ever_active || !session_wanted(s, e->id) || n == MAX_SETS)
			continue;
		session_identify(s, e, &refreshed);
		rows_fill(s, &row, &sv->wlrow, e, &e->total, OUT_ROW_SUMMARY, 0);
		wl_from_row(&sv->wls[n], &row);
		sv->wls[n++].lat_hist = e->total.lat_hist;
	}
	for (size_t i = 0; i < s->vms.n && n < MAX_SETS; i++) {
		struct vm_entry *vm = s->vms.vms[i];

		if (!vm->ever_active || vm_superseded(&s->vms, i))
			continue;
		session_identify_vm(s, vm);
		if (!session_wanted(s, vm->cgroup_id))
			continue;
		rows_fill_vm(s, &row, sv->vmrow, vm, true, 0);
		wl_from_row(&sv->wls[n++], &row);
	}
	return n;
}

/* The programs' own figures; how many could be read. */
static size_t fill_progs(struct server *sv)
{
	struct collector_prog_stat st;
	size_t n = 0;

	for (int i = 0; i < sv->s.loader.nlinks && i < sv->nprogs_cap; i++) {
		if (collector_prog_stat(&sv->s.coll, i, &st))
			continue;
		sv->progs[n].name = st.name;
		sv->progs[n].run_ns = st.run_ns;
		sv->progs[n].runs = st.runs;
		sv->progs[n++].recursion_misses = st.recursion_misses;
	}
	return n;
}

/*
 * Read the kernel tables and write the whole exposition into b.  Call with
 * the lock held.  0, -EIO (the maps could not be read, said on stderr) or
 * -E2BIG (b's bound reached).
 */
static int collect(struct server *sv, struct prom_buf *b)
{
	struct session *s = &sv->s;
	struct prom_self self = { 0 };
	double t0 = ticks_mono();
	size_t n;

	if (session_read(s))
		return -EIO;
	n = fill_workloads(sv);
	prom_write_workloads(b, sv->wls, n);

	self.version = IOTRACE_VERSION;
	self.prog_type = prog_mode_name(s->loader.mode);
	self.cycles_source = s->loader.cycles_source;
	self.net_off = s->loader.net_off;
	self.counters = s->coll.counters;
	self.prog_missed = s->coll.prog_missed;
	self.workloads_untracked = s->table.overflow + cgfs_cache_overflow(s->cache);
	self.devices_untracked = s->table.devs_untracked;
	self.pruned = s->coll.pruned;
	self.evicted = s->table.evicted;
	self.workloads = n;
	self.workloads_limit = s->table.limit;
	self.bpf_stats = s->loader.stats_fd >= 0;
	self.progs = sv->progs;
	self.nprogs = fill_progs(sv);
	self.timestamp_s = ticks_real();
	self.collect_s = ticks_mono() - t0;
	prom_write_self(b, &self);
	return b->full ? -E2BIG : 0;
}

static int collect_locked(struct server *sv, struct prom_buf *b)
{
	int err;

	pthread_mutex_lock(&sv->lock);
	err = collect(sv, b);
	pthread_mutex_unlock(&sv->lock);
	if (err == -E2BIG)
		fprintf(stderr, "iotrace serve: the metrics exceed %u MiB; not served\n",
			PROM_MAX_BYTES >> 20);
	return err;
}

/* ---- HTTP ------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_metrics(struct server *sv, struct MHD_Connection *conn)
{
	struct MHD_Response *r;
	struct prom_buf b;
	enum MHD_Result ret;
	size_t len;
	char *text;
	int err;

	prom_buf_init(&b, PROM_MAX_BYTES);
	err = collect_locked(sv, &b);
	if (err) {
		prom_buf_free(&b);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     err == -E2BIG ? "iotrace: the metrics exceed the size limit\n" :
					     "iotrace: cannot read the BPF maps\n");
	}
	text = prom_buf_take(&b, &len);
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static const char landing[] = "<html><head><title>iotrace</title></head><body><h1>iotrace</h1>"
			      "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct server *sv = cls;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     "iotrace: only GET and HEAD\n");
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body on a GET: ignored */
		return MHD_YES;
	}
	if (!strcmp(url, "/metrics"))
		return reply_metrics(sv, conn);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html", landing);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
		     "iotrace: not found; the metrics are at /metrics\n");
}

/*
 * Bind and listen on --listen, before anything is attached, so that a bad
 * address or a port in use is said at once.  The URL goes in sv->url.
 * 0 or -1 (said on stderr).
 */
static int open_listener(struct server *sv)
{
	const struct serve_opts *o = sv->o;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	const char *host = o->listen_host[0] ? o->listen_host : NULL;
	char port[8], addr[INET6_ADDRSTRLEN];
	int fd, rc, one = 1, e;

	if (host && !strcmp(host, "localhost"))
		host = "127.0.0.1";
	snprintf(port, sizeof(port), "%u", o->listen_port);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fprintf(stderr,
			"iotrace serve: bad --listen address '%s': '%s' is not an IPv4 or IPv6 "
			"address (%s)\n",
			o->listen, o->listen_host, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen)) {
		e = errno;
		close(fd);
		goto fail;
	}
	freeaddrinfo(res);
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
		snprintf(sv->url, sizeof(sv->url), "http://[%s]:%u/metrics", addr,
			 ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
		snprintf(sv->url, sizeof(sv->url), "http://%s:%u/metrics", addr,
			 ntohs(a->sin_port));
	}
	sv->listen_fd = fd;
	return 0;
fail:
	freeaddrinfo(res);
	fprintf(stderr, "iotrace serve: cannot listen on %s: %s\n", o->listen, strerror(e));
	return -1;
}

static int start_httpd(struct server *sv)
{
	sv->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
					     MHD_USE_ERROR_LOG,
				     0, NULL, NULL, on_request, sv, MHD_OPTION_LISTEN_SOCKET,
				     sv->listen_fd, MHD_OPTION_CONNECTION_LIMIT, 64u,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!sv->httpd) {
		fprintf(stderr, "iotrace serve: cannot start the HTTP server on %s\n",
			sv->o->listen);
		return -1;
	}
	sv->listen_fd = -1; /* the daemon's now: it closes it */
	return 0;
}

/* ---- the textfile ------------------------------------------------------------ */

/* A temporary file in dir, 0644, as an fd; its name in tmp. -errno. */
static int open_temp(const char *dir, char *tmp, size_t len)
{
	int fd;

	/* node_exporter reads only *.prom: the temporary name is ignored. */
	if ((size_t)snprintf(tmp, len, "%s/.%s.XXXXXX", dir, TEXTFILE_NAME) >= len)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644)) {
		int e = -errno;

		close(fd);
		unlink(tmp);
		return e;
	}
	return fd;
}

/* Can the textfile be written?  Checked before anything is attached. */
static int check_textfile_dir(struct server *sv)
{
	const char *dir = sv->o->textfile_dir;
	char tmp[PATH_MAX];
	struct stat st;
	int fd;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "iotrace serve: cannot write to textfile directory %s: %s\n", dir,
			stat(dir, &st) ? strerror(errno) : "not a directory");
		return -1;
	}
	fd = open_temp(dir, tmp, sizeof(tmp));
	if (fd < 0) {
		fprintf(stderr, "iotrace serve: cannot write to textfile directory %s: %s\n", dir,
			strerror(-fd));
		return -1;
	}
	close(fd);
	unlink(tmp);
	if ((size_t)snprintf(sv->textfile, sizeof(sv->textfile), "%s/%s", dir, TEXTFILE_NAME) >=
	    sizeof(sv->textfile)) {
		fprintf(stderr, "iotrace serve: textfile directory name too long: %s\n", dir);
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Write the exposition to a temporary file in the directory, then rename
 * it over DIR/iotrace.prom: a reader sees the old file or the new one,
 * never half of one.
 */
static int write_textfile(struct server *sv)
{
	char tmp[PATH_MAX];
	struct prom_buf b;
	int fd, err;

	prom_buf_init(&b, PROM_MAX_BYTES);
	err = collect_locked(sv, &b);
	if (err)
		goto out;
	fd = open_temp(sv->o->textfile_dir, tmp, sizeof(tmp));
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = write_all(fd, b.data, b.len);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, sv->textfile))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		sv->textfile_written = true;
out:
	if (err && err != -EIO && !sv->textfile_failing)
		fprintf(stderr, "iotrace serve: cannot write %s: %s (will retry)\n", sv->textfile,
			strerror(-err));
	else if (!err && sv->textfile_failing)
		fprintf(stderr, "iotrace serve: %s written again\n", sv->textfile);
	sv->textfile_failing = err != 0;
	prom_buf_free(&b);
	return err;
}

/* ---- the command -------------------------------------------------------------- */

/* Until a stop signal: read the tables, and write the textfile, every interval. */
static void run_loop(struct server *sv, const sigset_t *stopset)
{
	double next = ticks_mono() + sv->o->interval_s, now;

	while (!ticks_wait_until(stopset, next)) {
		if (sv->o->textfile_dir) {
			write_textfile(sv);
		} else {
			pthread_mutex_lock(&sv->lock);
			session_read(&sv->s);
			pthread_mutex_unlock(&sv->lock);
		}
		now = ticks_mono();
		while (next <= now)
			next += sv->o->interval_s;
	}
}

static void say_ready(struct server *sv)
{
	const struct session *s = &sv->s;
	char cycles[96];

	if (!strcmp(s->loader.cycles_source, "tsc-estimate"))
		snprintf(cycles, sizeof(cycles), "cycles estimated at %.1f MHz TSC",
			 s->tsc_hz / 1e6);
	else
		snprintf(cycles, sizeof(cycles), "cycles from %s", s->loader.cycles_source);
	fprintf(stderr, "iotrace: recording (%s programs, %s), interval %g s",
		prog_mode_name(s->loader.mode), cycles, sv->o->interval_s);
	if (sv->httpd)
		fprintf(stderr, "; serving %s", sv->url);
	if (sv->o->textfile_dir)
		fprintf(stderr, "; writing %s", sv->textfile);
	fprintf(stderr, "; Ctrl-C to stop\n");
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts o;
	struct server sv = { .o = &o, .s = SESSION_INIT, .listen_fd = -1 };
	struct session_opts so = { .t = &o.t, .bpf_stats = true };
	sigset_t stopset;
	char err[2048];
	int ret = 1;

	switch (cli_parse_serve(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_serve_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace serve: %s\nTry 'iotrace serve --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}

	/* Blocked in the HTTP thread too (it inherits the mask): the main thread takes them. */
	ticks_hold_stop_signals(&stopset);
	pthread_mutex_init(&sv.lock, NULL);

	/* What can be wrong with the options is said before anything is attached. */
	if (o.textfile_dir && check_textfile_dir(&sv))
		goto out;
	if (o.listen && open_listener(&sv))
		goto out;

	sv.vmrow = rows_vm_buf_new();
	sv.wls = calloc(MAX_SETS, sizeof(*sv.wls));
	if (!sv.vmrow || !sv.wls) {
		fprintf(stderr, "iotrace: out of memory\n");
		goto out;
	}
	if (session_open(&sv.s, &so))
		goto out;
	sv.nprogs_cap = sv.s.loader.nlinks;
	sv.progs = calloc(sv.nprogs_cap ? sv.nprogs_cap : 1, sizeof(*sv.progs));
	if (!sv.progs) {
		fprintf(stderr, "iotrace: out of memory\n");
		goto out;
	}
	if (o.listen && start_httpd(&sv))
		goto out;
	if (o.textfile_dir)
		write_textfile(&sv);
	say_ready(&sv);
	run_loop(&sv, &stopset);
	ret = 0;
out:
	/* The HTTP thread first: it may be using the session. */
	if (sv.httpd)
		MHD_stop_daemon(sv.httpd);
	if (sv.listen_fd >= 0)
		close(sv.listen_fd);
	/* A file left behind would be served as current by node_exporter. */
	if (sv.textfile_written && unlink(sv.textfile) && errno != ENOENT)
		fprintf(stderr, "iotrace serve: cannot remove %s: %s\n", sv.textfile,
			strerror(errno));
	session_close(&sv.s);
	pthread_mutex_destroy(&sv.lock);
	rows_vm_buf_free(sv.vmrow);
	free(sv.wls);
	free(sv.progs);
	return ret;
}
