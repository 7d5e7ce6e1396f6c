// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VM names from libvirt.  See user/vm_libvirt.h.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

#include "proc_ident.h"
#include "vm_libvirt.h"
#include "vm_names.h"

#ifdef HAVE_LIBVIRT

_Static_assert(VM_UUID_MAX == VIR_UUID_STRING_BUFLEN, "VM_UUID_MAX must hold a libvirt UUID");

#define REFRESH_NS 1000000000LL

struct vm_domain {
	struct proc_ident qemu; /* its QEMU process when the cache was filled */
	char name[VM_NAME_MAX];
	char uuid[VM_UUID_MAX];
};

struct vm_libvirt {
	char run_dir[PATH_MAX];
	virConnectPtr conn;
	struct vm_domain *doms;
	size_t n_doms;
	long long refreshed_ns; /* CLOCK_MONOTONIC of the last refresh, 0 never */
	int refresh_err; /* what the last refresh gave */
};

bool vm_libvirt_built(void)
{
	return true;
}

/* libvirt's default handler prints to stderr: our outputs own stdout and stderr. */
static void quiet_error(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct vm_libvirt *vm_libvirt_open(const char *run_dir)
{
	struct vm_libvirt *lv;

	if (!run_dir)
		run_dir = VM_LIBVIRT_RUN_DIR;
	if (strlen(run_dir) >= sizeof(lv->run_dir)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	lv = calloc(1, sizeof(*lv));
	if (!lv)
		return NULL;
	strcpy(lv->run_dir, run_dir);
	lv->refresh_err = -ENOTCONN;
	virSetErrorFunc(NULL, quiet_error);
	return lv;
}

/*
 * libvirt's client writes to its socket in the calling thread, and a write
 * to a libvirtd that has gone raises SIGPIPE, whose default action kills
 * the process.  Every libvirt call runs with SIGPIPE blocked in this thread;
 * one raised meanwhile is taken back before unblocking, unless one was
 * already pending before (that one is not ours to drop).
 */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	g->was_pending = !sigpending(&pending) && sigismember(&pending, SIGPIPE) == 1;
}

static void sigpipe_unblock(struct sigpipe_guard *g)
{
	const struct timespec zero = { 0 };
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!g->was_pending && !sigpending(&pending) && sigismember(&pending, SIGPIPE) == 1)
		sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static void disconnect(struct vm_libvirt *lv)
{
	if (lv->conn) {
		virConnectClose(lv->conn);
		lv->conn = NULL;
	}
}

/*
 * Only connect when libvirtd's socket is there: connecting otherwise fails
 * anyway, after libvirt has tried whatever its client config says.
 */
static int connect_ro(struct vm_libvirt *lv)
{
	if (lv->conn)
		return 0;
	if (access(VM_LIBVIRT_SOCK_RO, F_OK))
		return -ENOTCONN;
	lv->conn = virConnectOpenReadOnly(VM_LIBVIRT_URI);
	if (!lv->conn) {
		int code = virGetLastErrorCode();

		virResetLastError();
		if (code == VIR_ERR_AUTH_FAILED || code == VIR_ERR_AUTH_CANCELLED ||
		    code == VIR_ERR_AUTH_UNAVAILABLE || code == VIR_ERR_ACCESS_DENIED)
			return -EACCES;
		return -ENOTCONN;
	}
	return 0;
}

/*
 * Active domains, connecting if needed.  A connection to a libvirtd that has
 * since restarted looks alive until used: the first failed call drops it and
 * the listing is tried once more on a new one.
 */
static int list_domains(struct vm_libvirt *lv, virDomainPtr **doms)
{
	int err, n;

	for (int attempt = 0; attempt < 2; attempt++) {
		err = connect_ro(lv);
		if (err)
			return err;
		n = virConnectListAllDomains(lv->conn, doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
		if (n >= 0)
			return n;
		virResetLastError();
		disconnect(lv);
	}
	return -ENOTCONN;
}

/* Fill d from dom; -errno when the domain cannot be named by pid. */
static int domain_entry(struct vm_libvirt *lv, virDomainPtr dom, struct vm_domain *d)
{
	const char *name;
	int pid, err;

	name = virDomainGetName(dom);
	if (!name || strlen(name) >= sizeof(d->name))
		return -ENAMETOOLONG;
	if (virDomainGetUUIDString(dom, d->uuid)) {
		virResetLastError();
		return -EIO;
	}
	err = vm_pidfile_read(lv->run_dir, name, &pid);
	if (err)
		return err;
	err = proc_ident_read(NULL, pid, &d->qemu);
	if (err)
		return err;
	strcpy(d->name, name);
	return 0;
}

static int refresh(struct vm_libvirt *lv)
{
	virDomainPtr *doms = NULL;
	struct vm_domain *fresh = NULL;
	size_t n_fresh = 0;
	int n, i;

	lv->refreshed_ns = now_ns();
	n = list_domains(lv, &doms);
	if (n < 0)
		return n;
	if (n > 0) {
		fresh = calloc((size_t)(n < VM_LIBVIRT_MAX_DOMAINS ? n : VM_LIBVIRT_MAX_DOMAINS),
			       sizeof(*fresh));
		if (!fresh) {
			for (i = 0; i < n; i++)
				virDomainFree(doms[i]);
			free(doms);
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		/* A domain stopping as we list it has no pid file: skip it. */
		if (n_fresh < VM_LIBVIRT_MAX_DOMAINS && !domain_entry(lv, doms[i], &fresh[n_fresh]))
			n_fresh++;
		virDomainFree(doms[i]);
	}
	free(doms);
	free(lv->doms);
	lv->doms = fresh;
	lv->n_doms = n_fresh;
	return 0;
}

/*
 * The cached domain of pid, if its QEMU process is still the one that was
 * cached.  A domain that stopped, or whose pid went to another process, is
 * dropped.
 */
static const struct vm_domain *find(struct vm_libvirt *lv, int pid)
{
	struct proc_ident now;

	for (size_t i = 0; i < lv->n_doms; i++) {
		struct vm_domain *d = &lv->doms[i];

		if (d->qemu.pid != pid)
			continue;
		if (!proc_ident_read(NULL, pid, &now) && proc_ident_same(&d->qemu, &now))
			return d;
		lv->doms[i] = lv->doms[--lv->n_doms];
		return NULL;
	}
	return NULL;
}

int vm_libvirt_lookup(struct vm_libvirt *lv, int pid, char *name, size_t name_size, char *uuid,
		      size_t uuid_size)
{
	const struct vm_domain *d;
	struct sigpipe_guard g;
	int err;

	if (!name || !name_size || !uuid || !uuid_size)
		return -EINVAL;
	name[0] = '\0';
	uuid[0] = '\0';
	if (!lv || pid <= 0)
		return -EINVAL;
	d = find(lv, pid);
	if (!d) {
		if (lv->refreshed_ns && now_ns() - lv->refreshed_ns < REFRESH_NS)
			return lv->refresh_err ? lv->refresh_err : -EAGAIN;
		sigpipe_block(&g);
		err = refresh(lv);
		sigpipe_unblock(&g);
		lv->refresh_err = err;
		if (err)
			return err;
		d = find(lv, pid);
		if (!d)
			return -ENOENT;
	}
	if (strlen(d->name) >= name_size || strlen(d->uuid) >= uuid_size)
		return -ENAMETOOLONG;
	strcpy(name, d->name);
	strcpy(uuid, d->uuid);
	return 0;
}

void vm_libvirt_close(struct vm_libvirt *lv)
{
	struct sigpipe_guard g;

	if (!lv)
		return;
	sigpipe_block(&g);
	disconnect(lv);
	sigpipe_unblock(&g);
	free(lv->doms);
	free(lv);
}

#else /* !HAVE_LIBVIRT */

struct vm_libvirt {
	int unused;
};

bool vm_libvirt_built(void)
{
	return false;
}

struct vm_libvirt *vm_libvirt_open(const char *run_dir)
{
	if (run_dir && strlen(run_dir) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return calloc(1, sizeof(struct vm_libvirt));
}

int vm_libvirt_lookup(struct vm_libvirt *lv, int pid, char *name, size_t name_size, char *uuid,
		      size_t uuid_size)
{
	if (!name || !name_size || !uuid || !uuid_size)
		return -EINVAL;
	name[0] = '\0';
	uuid[0] = '\0';
	if (!lv || pid <= 0)
		return -EINVAL;
	return -ENOTSUP;
}

void vm_libvirt_close(struct vm_libvirt *lv)
{
	free(lv);
}

#endif /* HAVE_LIBVIRT */
