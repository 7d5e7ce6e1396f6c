// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* VM table: VMs by (pid, start time), threads by role, KVM buckets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmtable.h"

/* The fields fed from struct iotrace_thread_stats: all but guest_proc_ns. */
#define BPF_FIELDS (offsetof(struct vm_counters, guest_proc_ns) / sizeof(uint64_t))

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

void vm_counters_add(struct vm_counters *acc, const struct vm_counters *d)
{
	uint64_t *a = (uint64_t *)acc;
	const uint64_t *b = (const uint64_t *)d;

	for (size_t i = 0; i < sizeof(*acc) / sizeof(uint64_t); i++)
		a[i] = sat_add(a[i], b[i]);
}

uint64_t vm_counters_guest_ns(const struct vm_counters *c)
{
	return c->kvm_exits || c->guest_ns ? c->guest_ns : c->guest_proc_ns;
}

uint64_t vm_counters_host_ns(const struct vm_counters *c)
{
	uint64_t guest = vm_counters_guest_ns(c);

	return c->cpu_ns > guest ? c->cpu_ns - guest : 0;
}

bool vm_counters_kvm_seen(const struct vm_counters *c)
{
	return c->kvm_exits || c->userspace_exits || c->pio_exits || c->mmio_exits ||
	       c->exit_handling_ns || c->guest_ns;
}

static bool counters_zero(const struct vm_counters *c)
{
	static const struct vm_counters zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

int vm_table_init(struct vm_table *t, size_t limit)
{
	memset(t, 0, sizeof(*t));
	t->vms = calloc(limit, sizeof(*t->vms));
	if (!t->vms)
		return -ENOMEM;
	t->limit = limit;
	return 0;
}

void vm_table_free(struct vm_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->vms[i]->threads);
		free(t->vms[i]);
	}
	free(t->vms);
	memset(t, 0, sizeof(*t));
}

void vm_table_begin(struct vm_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct vm_entry *vm = t->vms[i];

		vm->active = false;
		memset(&vm->delta, 0, sizeof(vm->delta));
		for (int r = 0; r < VM_ROLE_MAX; r++) {
			memset(&vm->roles[r].delta, 0, sizeof(vm->roles[r].delta));
			vm->roles[r].threads = 0;
		}
		for (size_t b = 0; b < vm->nbuckets; b++)
			memset(&vm->buckets[b].delta, 0, sizeof(vm->buckets[b].delta));
		for (size_t k = 0; k < vm->nthreads; k++)
			vm->threads[k].fed = false;
		memset(&vm->net_delta, 0, sizeof(vm->net_delta));
	}
}

struct vm_entry *vm_table_find(struct vm_table *t, uint32_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->vms[i]->pid == pid && !t->vms[i]->gone)
			return t->vms[i];
	return NULL;
}

struct vm_entry *vm_table_get(struct vm_table *t, uint32_t pid, uint64_t start_ns)
{
	struct vm_entry *vm = vm_table_find(t, pid);

	if (vm && vm->start_ns == start_ns)
		return vm;
	if (vm)
		vm->gone = true;
	if (t->n >= t->limit) {
		t->overflow++;
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		t->overflow++;
		return NULL;
	}
	vm->pid = pid;
	vm->start_ns = start_ns;
	t->vms[t->n++] = vm;
	return vm;
}

struct vm_thread *vm_thread_get(struct vm_entry *vm, uint32_t tid, bool *created)
{
	struct vm_thread *th;
	size_t cap;

	*created = false;
	for (size_t i = 0; i < vm->nthreads; i++)
		if (vm->threads[i].tid == tid)
			return &vm->threads[i];
	if (vm->nthreads >= VM_MAX_THREADS) {
		vm->threads_untracked++;
		return NULL;
	}
	if (vm->nthreads == vm->threads_cap) {
		cap = vm->threads_cap ? vm->threads_cap * 2 : 16;
		th = realloc(vm->threads, cap * sizeof(*th));
		if (!th) {
			vm->threads_untracked++;
			return NULL;
		}
		vm->threads = th;
		vm->threads_cap = cap;
	}
	th = &vm->threads[vm->nthreads++];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	th->role = VM_ROLE_OTHER;
	*created = true;
	return th;
}

void vm_thread_set_role(struct vm_entry *vm, struct vm_thread *th, enum vm_role role)
{
	if (role >= VM_ROLE_MAX)
		role = VM_ROLE_OTHER;
	if (th->role_set && th->role == role)
		return;
	th->role = role;
	th->role_set = true;
	vm->roles[role].threads_total++;
}

void vm_thread_feed(struct vm_entry *vm, struct vm_thread *th, const struct vm_counters *cur)
{
	const uint64_t *c = (const uint64_t *)cur, *l = (const uint64_t *)&th->last;
	struct vm_counters d = { 0 };
	uint64_t *dv = (uint64_t *)&d, guest;
	struct vm_role_stats *rs;
	bool reset = false;
	size_t i;

	for (i = 0; i < BPF_FIELDS; i++)
		reset |= c[i] < l[i];
	for (i = 0; i < BPF_FIELDS; i++)
		dv[i] = reset ? c[i] : c[i] - l[i];
	/* /proc guest time counts from the thread's start: keep what is ours. */
	if (!th->guest_base_set) {
		th->guest_proc_base = cur->guest_proc_ns;
		th->guest_base_set = true;
	}
	guest = cur->guest_proc_ns > th->guest_proc_base ?
			cur->guest_proc_ns - th->guest_proc_base :
			0;
	d.guest_proc_ns = guest > th->last.guest_proc_ns ? guest - th->last.guest_proc_ns : 0;
	th->last = *cur;
	th->last.guest_proc_ns = guest;
	th->fed = true;

	if (counters_zero(&d))
		return;
	rs = &vm->roles[th->role < VM_ROLE_MAX ? th->role : VM_ROLE_OTHER];
	rs->threads++;
	vm_counters_add(&rs->delta, &d);
	vm_counters_add(&rs->total, &d);
	vm_counters_add(&vm->delta, &d);
	vm_counters_add(&vm->total, &d);
}

void vm_thread_remove(struct vm_entry *vm, struct vm_thread *th)
{
	size_t i = (size_t)(th - vm->threads);

	if (i >= vm->nthreads)
		return;
	vm->threads[i] = vm->threads[--vm->nthreads];
}

bool vm_bucket_feed(struct vm_entry *vm, uint32_t kind, uint64_t code,
		    const struct iotrace_kvm_count *cur)
{
	struct vm_bucket *b = NULL;
	struct iotrace_kvm_count d;

	for (size_t i = 0; i < vm->nbuckets; i++) {
		if (vm->buckets[i].kind == kind && vm->buckets[i].code == code) {
			b = &vm->buckets[i];
			break;
		}
	}
	if (!b) {
		if (vm->nbuckets >= VM_MAX_BUCKETS) {
			vm->buckets_untracked++;
			return false;
		}
		b = &vm->buckets[vm->nbuckets++];
		memset(b, 0, sizeof(*b));
		b->kind = kind;
		b->code = code;
	}
	if (cur->count < b->last.count || cur->ns < b->last.ns) {
		d = *cur;
	} else {
		d.count = cur->count - b->last.count;
		d.ns = cur->ns - b->last.ns;
	}
	b->last = *cur;
	b->delta.count = sat_add(b->delta.count, d.count);
	b->delta.ns = sat_add(b->delta.ns, d.ns);
	b->total.count = sat_add(b->total.count, d.count);
	b->total.ns = sat_add(b->total.ns, d.ns);
	return true;
}

void vm_net_feed(struct vm_entry *vm, const struct iotrace_net_stats *cur)
{
	const uint64_t *c = (const uint64_t *)cur, *l = (const uint64_t *)&vm->net_last;
	uint64_t *d = (uint64_t *)&vm->net_delta, *t = (uint64_t *)&vm->net_total;
	const size_t n = sizeof(*cur) / sizeof(uint64_t);
	bool reset = false;

	for (size_t i = 0; i < n; i++)
		reset |= c[i] < l[i];
	for (size_t i = 0; i < n; i++) {
		d[i] = reset ? c[i] : c[i] - l[i];
		t[i] = sat_add(t[i], d[i]);
	}
	vm->net_last = *cur;
}

void vm_table_end(struct vm_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct vm_entry *vm = t->vms[i];

		static const struct iotrace_net_stats no_net;

		vm->active = !counters_zero(&vm->delta) ||
			     memcmp(&vm->net_delta, &no_net, sizeof(no_net));
		for (size_t b = 0; !vm->active && b < vm->nbuckets; b++)
			vm->active = vm->buckets[b].delta.count != 0;
		vm->ever_active |= vm->active;
	}
}
