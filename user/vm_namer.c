// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libvirt lookups on a thread of their own, with a timeout.  See vm_namer.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm_libvirt.h"
#include "vm_namer.h"

struct vm_namer {
	struct vm_libvirt *lv;
	unsigned int timeout_ms;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	pthread_t thread;
	bool started, stop;
	int req_pid; /* asked of the thread; 0: nothing asked */
	bool busy; /* the thread is inside libvirt */
	int done_pid; /* the pid of the last answer */
	int result;
	char name[VM_NAME_MAX];
	char uuid[VM_UUID_MAX];
};

static void *worker(void *arg)
{
	struct vm_namer *n = arg;
	char name[VM_NAME_MAX], uuid[VM_UUID_MAX];
	int pid, r;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		while (!n->req_pid && !n->stop)
			pthread_cond_wait(&n->cond, &n->lock);
		if (n->stop)
			break;
		pid = n->req_pid;
		n->req_pid = 0;
		n->busy = true;
		pthread_mutex_unlock(&n->lock);

		r = vm_libvirt_lookup(n->lv, pid, name, sizeof(name), uuid, sizeof(uuid));

		pthread_mutex_lock(&n->lock);
		n->busy = false;
		n->done_pid = pid;
		n->result = r;
		memcpy(n->name, name, sizeof(name));
		memcpy(n->uuid, uuid, sizeof(uuid));
		pthread_cond_broadcast(&n->cond);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

struct vm_namer *vm_namer_open(const char *run_dir, unsigned int timeout_ms)
{
	struct vm_namer *n = calloc(1, sizeof(*n));
	pthread_condattr_t ca;

	if (!n)
		return NULL;
	n->lv = vm_libvirt_open(run_dir);
	if (!n->lv) {
		free(n);
		return NULL;
	}
	n->timeout_ms = timeout_ms;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cond, &ca);
	pthread_condattr_destroy(&ca);
	return n;
}

/* The vm_name_lookup_fn: ask the thread, wait at most the timeout. */
static int lookup(void *ctx, int pid, char *name, size_t name_size, char *uuid, size_t uuid_size)
{
	struct vm_namer *n = ctx;
	struct timespec deadline;
	int r = 0;

	pthread_mutex_lock(&n->lock);
	if (!n->started) {
		/* Started on first use, so it inherits the caller's blocked signals. */
		if (pthread_create(&n->thread, NULL, worker, n)) {
			pthread_mutex_unlock(&n->lock);
			return -EAGAIN;
		}
		n->started = true;
	}
	/* An earlier lookup is still inside libvirt: libvirtd is not answering. */
	if (n->busy || n->req_pid) {
		pthread_mutex_unlock(&n->lock);
		return -ETIMEDOUT;
	}
	n->req_pid = pid;
	n->done_pid = 0;
	pthread_cond_broadcast(&n->cond);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += n->timeout_ms / 1000;
	deadline.tv_nsec += (long)(n->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (n->done_pid != pid && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&n->cond, &n->lock, &deadline);
	if (n->done_pid != pid) {
		pthread_mutex_unlock(&n->lock);
		return -ETIMEDOUT;
	}
	r = n->result;
	if (!r) {
		if (strlen(n->name) >= name_size || strlen(n->uuid) >= uuid_size)
			r = -ENAMETOOLONG;
		else {
			strcpy(name, n->name);
			strcpy(uuid, n->uuid);
		}
	}
	pthread_mutex_unlock(&n->lock);
	return r;
}

struct stuck_probe {
	struct vm_namer *n;
	int timed_out;
};

static int probe(void *ctx, int pid, char *name, size_t name_size, char *uuid, size_t uuid_size)
{
	struct stuck_probe *p = ctx;
	int r = lookup(p->n, pid, name, name_size, uuid, uuid_size);

	if (r == -ETIMEDOUT)
		p->timed_out = 1;
	return r;
}

int vm_namer_resolve(struct vm_namer *n, int pid, struct vm_name *out, int *stuck)
{
	struct stuck_probe p = { .n = n };
	int r;

	if (!n)
		return vm_name_resolve(NULL, pid, NULL, NULL, out);
	r = vm_name_resolve(NULL, pid, probe, &p, out);
	if (stuck)
		*stuck = p.timed_out;
	return r;
}

void vm_namer_close(struct vm_namer *n)
{
	bool stuck;

	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	stuck = n->busy;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	if (!n->started) {
		vm_libvirt_close(n->lv);
		free(n);
		return;
	}
	if (stuck) {
		/* It may never come back: it and its memory go with the process. */
		pthread_detach(n->thread);
		return;
	}
	pthread_join(n->thread, NULL);
	vm_libvirt_close(n->lv);
	free(n);
}
