// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VM table: pid reuse, per-thread deltas charged to roles, counter resets,
 * role changes, /proc guest time baselines, guest and host time, intervals,
 * KVM buckets, and the bounds on VMs, threads and buckets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vmtable.h"

#define NFIELDS (sizeof(struct vm_counters) / sizeof(uint64_t))

/* ---- helpers ---- */

static uint64_t field(const struct vm_counters *c, size_t i)
{
	return ((const uint64_t *)c)[i];
}

static bool is_zero(const struct vm_counters *c)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (field(c, i))
			return false;
	return true;
}

/*
 * The VM's figures are the sum of its roles', field by field: nothing is
 * charged to the VM without a role, nor twice.
 */
static void check_vm_is_sum_of_roles(const struct vm_entry *vm)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		uint64_t d = 0, t = 0;

		for (int r = 0; r < VM_ROLE_MAX; r++) {
			d += field(&vm->roles[r].delta, i);
			t += field(&vm->roles[r].total, i);
		}
		if (d != field(&vm->delta, i) || t != field(&vm->total, i))
			fail_msg("field %zu: roles sum to %llu/%llu, VM has %llu/%llu", i,
				 (unsigned long long)d, (unsigned long long)t,
				 (unsigned long long)field(&vm->delta, i),
				 (unsigned long long)field(&vm->total, i));
	}
}

static struct vm_thread *new_thread(struct vm_entry *vm, uint32_t tid, enum vm_role role)
{
	struct vm_thread *th;
	bool created = false;

	th = vm_thread_get(vm, tid, &created);
	assert_non_null(th);
	assert_true(created);
	assert_int_equal(th->tid, tid);
	vm_thread_set_role(vm, th, role);
	return th;
}

/* The thread tid, which must exist already. */
static struct vm_thread *thread_of(struct vm_entry *vm, uint32_t tid)
{
	struct vm_thread *th;
	bool created = true;

	th = vm_thread_get(vm, tid, &created);
	assert_non_null(th);
	assert_false(created);
	return th;
}

/* ---- VMs and pid reuse ---- */

static void test_pid_reuse(void **state)
{
	struct vm_counters cur_a = { .cpu_ns = 500, .rd_ops = 2 };
	struct vm_counters cur_b = { .cpu_ns = 300, .wr_ops = 1 };
	struct vm_entry *a, *b, *e;
	struct vm_table t;
	size_t i, seen = 0;

	(void)state;
	assert_int_equal(vm_table_init(&t, 8), 0);
	a = vm_table_get(&t, 100, 1000);
	assert_non_null(a);
	assert_int_equal(a->pid, 100);
	assert_int_equal(a->start_ns, 1000);
	assert_false(a->gone);
	assert_ptr_equal(vm_table_get(&t, 100, 1000), a);
	assert_int_equal(t.n, 1);

	vm_table_begin(&t);
	vm_thread_feed(a, new_thread(a, 101, VM_ROLE_VCPU), &cur_a);
	vm_table_end(&t);
	assert_int_equal(a->total.cpu_ns, 500);

	/* pid 100 now belongs to a process started later: a new VM. */
	vm_table_begin(&t);
	b = vm_table_get(&t, 100, 2000);
	assert_non_null(b);
	assert_ptr_not_equal(b, a);
	assert_true(a->gone);
	assert_false(b->gone);
	assert_int_equal(b->pid, 100);
	assert_int_equal(b->start_ns, 2000);
	assert_int_equal(t.n, 2);
	assert_ptr_equal(vm_table_find(&t, 100), b);
	assert_ptr_equal(vm_table_get(&t, 100, 2000), b);
	assert_int_equal(t.n, 2);
	/* Nothing of the old process came along. */
	assert_int_equal(b->nthreads, 0);
	assert_true(is_zero(&b->total));
	assert_true(is_zero(&b->roles[VM_ROLE_VCPU].total));

	/* Its first thread may even have the old one's tid: counted afresh. */
	vm_thread_feed(b, new_thread(b, 101, VM_ROLE_VCPU), &cur_b);
	vm_table_end(&t);
	assert_int_equal(b->total.cpu_ns, 300);
	assert_int_equal(b->total.wr_ops, 1);
	assert_int_equal(b->total.rd_ops, 0);
	assert_int_equal(b->roles[VM_ROLE_VCPU].threads_total, 1);
	assert_true(b->active);

	/* The gone VM keeps its totals for the summary, and is no longer fed. */
	assert_int_equal(a->total.cpu_ns, 500);
	assert_int_equal(a->total.rd_ops, 2);
	assert_int_equal(a->total.wr_ops, 0);
	assert_int_equal(a->roles[VM_ROLE_VCPU].total.cpu_ns, 500);
	assert_int_equal(a->nthreads, 1);
	assert_false(a->active);
	assert_true(a->ever_active);
	vm_table_begin(&t);
	vm_table_end(&t);
	assert_int_equal(a->total.cpu_ns, 500);

	assert_null(vm_table_find(&t, 999));
	/* Gone VMs stay in the table (for the summary). */
	vm_table_for_each(&t, i, e)
	{
		assert_ptr_equal(e, i == 0 ? a : b);
		seen++;
	}
	assert_int_equal(seen, 2);
	assert_int_equal(t.overflow, 0);
	vm_table_free(&t);
}

static void test_table_limit(void **state)
{
	struct vm_entry *one, *two;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 2), 0);
	one = vm_table_get(&t, 1, 10);
	two = vm_table_get(&t, 2, 20);
	assert_non_null(one);
	assert_non_null(two);
	assert_null(vm_table_get(&t, 3, 30));
	assert_int_equal(t.overflow, 1);
	assert_int_equal(t.n, 2);
	assert_null(vm_table_find(&t, 3));
	/* The VMs already there are still found while the table is full. */
	assert_ptr_equal(vm_table_get(&t, 1, 10), one);
	assert_ptr_equal(vm_table_find(&t, 2), two);
	assert_int_equal(t.overflow, 1);
	assert_null(vm_table_get(&t, 4, 40));
	assert_int_equal(t.overflow, 2);

	/* pid 2 reused with no room for the new VM: the old one is still gone. */
	assert_null(vm_table_get(&t, 2, 21));
	assert_int_equal(t.overflow, 3);
	assert_true(two->gone);
	assert_null(vm_table_find(&t, 2));
	assert_false(one->gone);
	assert_int_equal(t.n, 2);
	vm_table_free(&t);
	assert_int_equal(t.n, 0);
	assert_null(t.vms);
}

/* ---- threads ---- */

static void test_feed_deltas_by_role(void **state)
{
	struct vm_counters io1 = { .cpu_ns = 100, .rd_ops = 1, .rd_bytes = 4096 };
	struct vm_counters wk1 = { .cpu_ns = 50, .wr_ops = 2, .wr_bytes = 8192 };
	struct vm_counters io2 = { .cpu_ns = 250, .rd_ops = 3, .rd_bytes = 12288 };
	struct vm_thread *io, *wk;
	struct vm_entry *vm;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 4), 0);
	vm = vm_table_get(&t, 500, 1);
	assert_non_null(vm);
	io = new_thread(vm, 501, VM_ROLE_IOTHREAD);
	wk = new_thread(vm, 502, VM_ROLE_WORKER);

	/* A thread's first read is all new: its kernel entry is as young as iotrace's watch. */
	vm_table_begin(&t);
	vm_thread_feed(vm, io, &io1);
	vm_thread_feed(vm, wk, &wk1);
	vm_table_end(&t);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].delta.cpu_ns, 100);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].delta.rd_ops, 1);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].delta.rd_bytes, 4096);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].delta.wr_ops, 0);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].delta.cpu_ns, 50);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].delta.wr_ops, 2);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].delta.wr_bytes, 8192);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].delta.rd_ops, 0);
	assert_int_equal(vm->delta.cpu_ns, 150);
	assert_int_equal(vm->delta.rd_ops, 1);
	assert_int_equal(vm->delta.wr_ops, 2);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].threads, 1);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].threads, 1);
	for (int r = 0; r < VM_ROLE_MAX; r++) {
		if (r == VM_ROLE_IOTHREAD || r == VM_ROLE_WORKER)
			continue;
		assert_true(is_zero(&vm->roles[r].total));
		assert_int_equal(vm->roles[r].threads, 0);
		assert_int_equal(vm->roles[r].threads_total, 0);
	}
	check_vm_is_sum_of_roles(vm);
	assert_true(vm->active);
	assert_true(io->fed);

	/* Second interval: the delta is against the last read, not zero. */
	vm_table_begin(&t);
	assert_false(io->fed);
	vm_thread_feed(vm, io, &io2);
	vm_thread_feed(vm, wk, &wk1); /* unchanged */
	vm_table_end(&t);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].delta.cpu_ns, 150);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].delta.rd_ops, 2);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].delta.rd_bytes, 8192);
	assert_true(is_zero(&vm->roles[VM_ROLE_WORKER].delta));
	/* Fed but idle: not one of the interval's active threads. */
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].threads, 1);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].threads, 0);
	assert_true(wk->fed);
	assert_int_equal(vm->delta.cpu_ns, 150);
	assert_int_equal(vm->delta.wr_ops, 0);
	assert_int_equal(vm->total.cpu_ns, 300);
	assert_int_equal(vm->total.rd_ops, 3);
	assert_int_equal(vm->total.rd_bytes, 12288);
	assert_int_equal(vm->total.wr_ops, 2);
	assert_int_equal(vm->total.wr_bytes, 8192);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].total.cpu_ns, 250);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].total.cpu_ns, 50);
	check_vm_is_sum_of_roles(vm);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].threads_total, 1);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].threads_total, 1);

	/* Third interval, nothing moved: idle, but was active once. */
	vm_table_begin(&t);
	vm_thread_feed(vm, io, &io2);
	vm_thread_feed(vm, wk, &wk1);
	vm_table_end(&t);
	assert_true(is_zero(&vm->delta));
	assert_false(vm->active);
	assert_true(vm->ever_active);
	assert_int_equal(vm->total.cpu_ns, 300);
	vm_table_free(&t);
}

static void test_every_field_flows(void **state)
{
	struct vm_counters first, cur, want;
	struct vm_entry *vm;
	struct vm_thread *th;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 7, 7);
	th = new_thread(vm, 8, VM_ROLE_VCPU);
	/*
	 * Field i is 1000 + i, then grows by i + 1, so that a field read from
	 * its neighbour's place shows; /proc guest time starts at 0 (its base).
	 */
	for (size_t i = 0; i < NFIELDS; i++)
		((uint64_t *)&first)[i] = 1000 + i;
	first.guest_proc_ns = 0;
	vm_thread_feed(vm, th, &first);
	cur = first;
	for (size_t i = 0; i < NFIELDS; i++)
		((uint64_t *)&cur)[i] += i + 1;
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &cur);
	vm_table_end(&t);
	for (size_t i = 0; i < NFIELDS; i++)
		((uint64_t *)&want)[i] = i + 1;
	assert_memory_equal(&vm->delta, &want, sizeof(want));
	assert_memory_equal(&vm->roles[VM_ROLE_VCPU].delta, &want, sizeof(want));
	for (size_t i = 0; i < NFIELDS; i++)
		((uint64_t *)&want)[i] += field(&first, i);
	assert_memory_equal(&vm->total, &want, sizeof(want));
	assert_memory_equal(&vm->roles[VM_ROLE_VCPU].total, &want, sizeof(want));
	vm_table_free(&t);
}

static void test_counter_reset(void **state)
{
	struct vm_counters c1 = { .cpu_ns = 1000, .rd_ops = 50, .kvm_exits = 7 };
	struct vm_counters c2 = { .cpu_ns = 1200, .rd_ops = 3, .kvm_exits = 9 };
	struct vm_counters c3 = { .cpu_ns = 1300, .rd_ops = 4, .kvm_exits = 9 };
	struct vm_counters c4 = { .cpu_ns = 1400, .rd_ops = 4, .kvm_exits = 9, .mmio_exits = 5 };
	struct vm_counters c5 = { .cpu_ns = 1450, .rd_ops = 4, .kvm_exits = 9, .mmio_exits = 2 };
	struct vm_entry *vm;
	struct vm_thread *th;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 7, 7);
	th = new_thread(vm, 8, VM_ROLE_VCPU);
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c1);
	vm_table_end(&t);

	/*
	 * rd_ops went backwards: the kernel entry was recreated, so all of c2
	 * is new, cpu_ns and kvm_exits included though they grew.
	 */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c2);
	vm_table_end(&t);
	assert_int_equal(vm->delta.cpu_ns, 1200);
	assert_int_equal(vm->delta.rd_ops, 3);
	assert_int_equal(vm->delta.kvm_exits, 9);
	assert_int_equal(vm->total.cpu_ns, 2200);
	assert_int_equal(vm->total.rd_ops, 53);
	assert_int_equal(vm->total.kvm_exits, 16);

	/* And the next delta is against c2. */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c3);
	vm_table_end(&t);
	assert_int_equal(vm->delta.cpu_ns, 100);
	assert_int_equal(vm->delta.rd_ops, 1);
	assert_int_equal(vm->delta.kvm_exits, 0);

	/* The last of the kernel's fields counts as much as the first. */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c4);
	vm_thread_feed(vm, th, &c5);
	vm_table_end(&t);
	assert_int_equal(vm->delta.mmio_exits, 5 + 2);
	assert_int_equal(vm->delta.cpu_ns, 100 + 1450);
	assert_int_equal(vm->delta.rd_ops, 4);
	assert_int_equal(vm->delta.kvm_exits, 9);
	assert_int_equal(vm->total.cpu_ns, 2200 + 100 + 100 + 1450);
	assert_int_equal(vm->total.rd_ops, 53 + 1 + 4);
	check_vm_is_sum_of_roles(vm);
	vm_table_free(&t);
}

static void test_proc_guest_backwards_is_not_a_reset(void **state)
{
	struct vm_counters c1 = { .cpu_ns = 1000, .guest_proc_ns = 9000 };
	struct vm_counters c2 = { .cpu_ns = 1500, .guest_proc_ns = 9400 };
	struct vm_counters c3 = { .cpu_ns = 1700, .guest_proc_ns = 100 };
	struct vm_entry *vm;
	struct vm_thread *th;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 7, 7);
	th = new_thread(vm, 8, VM_ROLE_VCPU);
	vm_thread_feed(vm, th, &c1);
	vm_thread_feed(vm, th, &c2);
	assert_int_equal(vm->total.guest_proc_ns, 400);

	/*
	 * /proc time is not the kernel entry's: its going down says nothing
	 * about the BPF counters, and is never charged as a negative or as a
	 * wrapped huge value.
	 */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c3);
	vm_table_end(&t);
	assert_int_equal(vm->delta.cpu_ns, 200);
	assert_int_equal(vm->delta.guest_proc_ns, 0);
	assert_int_equal(vm->total.cpu_ns, 1700);
	assert_int_equal(vm->total.guest_proc_ns, 400);
	vm_table_free(&t);
}

static void test_role_change(void **state)
{
	struct vm_counters c1 = { .cpu_ns = 100, .wr_ops = 1 };
	struct vm_counters c2 = { .cpu_ns = 300, .wr_ops = 1, .kvm_exits = 4, .guest_ns = 150 };
	struct vm_entry *vm;
	struct vm_thread *th;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 7, 7);
	th = new_thread(vm, 9, VM_ROLE_OTHER);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads_total, 1);
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c1);
	vm_table_end(&t);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].delta.cpu_ns, 100);

	/* It turns out to run guest code: a vCPU from now on. */
	vm_table_begin(&t);
	vm_thread_set_role(vm, th, VM_ROLE_VCPU);
	assert_int_equal(th->role, VM_ROLE_VCPU);
	vm_thread_set_role(vm, th, VM_ROLE_VCPU); /* again: not a new vCPU */
	vm_thread_feed(vm, th, &c2);
	vm_table_end(&t);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads_total, 1);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads_total, 1); /* it was one */
	assert_int_equal(vm->roles[VM_ROLE_VCPU].delta.cpu_ns, 200);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].delta.kvm_exits, 4);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].delta.guest_ns, 150);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].delta.wr_ops, 0);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads, 1);
	assert_true(is_zero(&vm->roles[VM_ROLE_OTHER].delta));
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads, 0);
	/* What it did before stays where it was charged. */
	assert_int_equal(vm->roles[VM_ROLE_OTHER].total.cpu_ns, 100);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].total.wr_ops, 1);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].total.cpu_ns, 200);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].total.wr_ops, 0);
	assert_int_equal(vm->total.cpu_ns, 300);
	check_vm_is_sum_of_roles(vm);
	vm_table_free(&t);
}

static void test_set_role_edges(void **state)
{
	struct vm_counters c = { .cpu_ns = 5 };
	struct vm_thread *th, *plain;
	struct vm_entry *vm;
	struct vm_table t;
	bool created;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 7, 7);

	/* A new thread is "other" until told, but not counted as one until then. */
	plain = vm_thread_get(vm, 10, &created);
	assert_non_null(plain);
	assert_true(created);
	assert_int_equal(plain->role, VM_ROLE_OTHER);
	assert_false(plain->role_set);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads_total, 0);
	vm_thread_set_role(vm, plain, VM_ROLE_OTHER);
	assert_true(plain->role_set);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads_total, 1);

	/* Out of range roles are "other": the role array is never overrun. */
	th = new_thread(vm, 11, VM_ROLE_MAX);
	assert_int_equal(th->role, VM_ROLE_OTHER);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads_total, 2);
	vm_thread_set_role(vm, th, (enum vm_role)1000);
	assert_int_equal(th->role, VM_ROLE_OTHER);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads_total, 2);
	vm_thread_feed(vm, th, &c);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].total.cpu_ns, 5);
	check_vm_is_sum_of_roles(vm);
	vm_table_free(&t);
}

static void test_threads_counts(void **state)
{
	static const enum vm_role roles[] = {
		VM_ROLE_VCPU,	  VM_ROLE_VCPU,	    VM_ROLE_VCPU,
		VM_ROLE_IOTHREAD, VM_ROLE_IOTHREAD, VM_ROLE_MAIN,
	};
	const size_t n = sizeof(roles) / sizeof(roles[0]);
	struct vm_counters busy = { .cpu_ns = 10 }, idle = { 0 };
	struct vm_thread *th[6];
	struct vm_entry *vm;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 20, 1);
	for (size_t i = 0; i < n; i++)
		th[i] = new_thread(vm, (uint32_t)(21 + i), roles[i]);
	assert_int_equal(vm->nthreads, 6);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads_total, 3);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].threads_total, 2);
	assert_int_equal(vm->roles[VM_ROLE_MAIN].threads_total, 1);
	assert_int_equal(vm->roles[VM_ROLE_OTHER].threads_total, 0);

	/* Two vCPUs and the main thread did something, the rest nothing. */
	vm_table_begin(&t);
	for (size_t i = 0; i < n; i++)
		vm_thread_feed(vm, th[i], i == 0 || i == 2 || i == 5 ? &busy : &idle);
	vm_table_end(&t);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads, 2);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].threads, 0);
	assert_int_equal(vm->roles[VM_ROLE_MAIN].threads, 1);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].delta.cpu_ns, 20);

	/* The interval count starts over; the run's count does not. */
	vm_table_begin(&t);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads, 0);
	assert_int_equal(vm->roles[VM_ROLE_MAIN].threads, 0);
	vm_thread_feed(vm, th[3], &busy);
	vm_table_end(&t);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads, 0);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].threads, 1);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads_total, 3);
	assert_int_equal(vm->roles[VM_ROLE_IOTHREAD].threads_total, 2);
	vm_table_free(&t);
}

static void test_thread_remove_keeps_totals(void **state)
{
	struct vm_counters c = { .cpu_ns = 70, .rd_ops = 1 };
	struct vm_entry *vm;
	struct vm_table t;
	bool created;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 30, 1);
	vm_thread_feed(vm, new_thread(vm, 31, VM_ROLE_MAIN), &c);
	vm_thread_feed(vm, new_thread(vm, 32, VM_ROLE_VCPU), &c);
	vm_thread_feed(vm, new_thread(vm, 33, VM_ROLE_WORKER), &c);

	vm_thread_remove(vm, thread_of(vm, 32));
	assert_int_equal(vm->nthreads, 2);
	assert_int_equal(thread_of(vm, 31)->role, VM_ROLE_MAIN);
	assert_int_equal(thread_of(vm, 33)->role, VM_ROLE_WORKER);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].total.cpu_ns, 70);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].total.rd_ops, 1);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads_total, 1);
	assert_int_equal(vm->total.cpu_ns, 210);

	/* The last one too (nothing to move into its place). */
	vm_thread_remove(vm, thread_of(vm, 33));
	assert_int_equal(vm->nthreads, 1);
	assert_int_equal(vm->threads[0].tid, 31);
	assert_int_equal(vm->roles[VM_ROLE_WORKER].total.cpu_ns, 70);

	/* A thread that comes back is a new kernel entry: all of it is new. */
	assert_non_null(vm_thread_get(vm, 32, &created));
	assert_true(created);
	vm_thread_set_role(vm, thread_of(vm, 32), VM_ROLE_VCPU);
	vm_thread_feed(vm, thread_of(vm, 32), &c);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].total.cpu_ns, 140);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads_total, 2);
	assert_int_equal(vm->total.cpu_ns, 280);
	check_vm_is_sum_of_roles(vm);
	vm_table_free(&t);
}

static void test_thread_limit(void **state)
{
	struct vm_counters c = { .cpu_ns = 1 };
	struct vm_thread *first;
	struct vm_entry *vm;
	struct vm_table t;
	bool created;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 1, 1);
	for (uint32_t tid = 1; tid <= VM_MAX_THREADS; tid++) {
		created = false;
		assert_non_null(vm_thread_get(vm, tid, &created));
		assert_true(created);
	}
	assert_int_equal(vm->nthreads, VM_MAX_THREADS);
	assert_int_equal(vm->threads_untracked, 0);

	created = true;
	assert_null(vm_thread_get(vm, VM_MAX_THREADS + 1, &created));
	assert_false(created);
	assert_int_equal(vm->threads_untracked, 1);
	assert_null(vm_thread_get(vm, VM_MAX_THREADS + 2, &created));
	assert_int_equal(vm->threads_untracked, 2);
	assert_int_equal(vm->nthreads, VM_MAX_THREADS);

	/* Threads already followed still are. */
	first = thread_of(vm, 1);
	assert_int_equal(first->tid, 1);
	assert_int_equal(thread_of(vm, VM_MAX_THREADS)->tid, VM_MAX_THREADS);
	vm_thread_feed(vm, first, &c);
	assert_int_equal(vm->total.cpu_ns, 1);
	assert_int_equal(vm->threads_untracked, 2);

	/* A thread gone makes room for one more. */
	vm_thread_remove(vm, first);
	assert_non_null(vm_thread_get(vm, VM_MAX_THREADS + 1, &created));
	assert_true(created);
	assert_int_equal(vm->nthreads, VM_MAX_THREADS);
	assert_int_equal(vm->threads_untracked, 2);
	vm_table_free(&t);
}

/* ---- guest and host time ---- */

static void test_guest_proc_baseline(void **state)
{
	const uint64_t base = 5000000000ULL; /* guest time before iotrace saw it */
	struct vm_counters c1 = { .cpu_ns = 1000, .guest_proc_ns = base };
	struct vm_counters c2 = { .cpu_ns = 3000, .guest_proc_ns = base + 1500 };
	struct vm_counters c3 = { .cpu_ns = 3100, .guest_proc_ns = base + 1500 };
	struct vm_counters c4 = { .cpu_ns = 3200, .guest_proc_ns = base + 1900 };
	struct vm_entry *vm;
	struct vm_thread *th;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 40, 1);
	th = new_thread(vm, 41, VM_ROLE_VCPU);

	/* The first reading is the base: time from before is not ours. */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c1);
	vm_table_end(&t);
	assert_true(th->guest_base_set);
	assert_int_equal(th->guest_proc_base, base);
	assert_int_equal(vm->delta.guest_proc_ns, 0);
	assert_int_equal(vm->delta.cpu_ns, 1000);
	assert_int_equal(vm_counters_guest_ns(&vm->delta), 0);
	assert_int_equal(vm_counters_host_ns(&vm->delta), 1000);

	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c2);
	vm_table_end(&t);
	assert_int_equal(vm->delta.guest_proc_ns, 1500);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].delta.guest_proc_ns, 1500);
	assert_int_equal(vm_counters_guest_ns(&vm->delta), 1500);
	assert_int_equal(vm_counters_host_ns(&vm->delta), 500);
	assert_int_equal(th->guest_proc_base, base);

	/* No guest time in this interval, though the cumulative figure is high. */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c3);
	vm_table_end(&t);
	assert_int_equal(vm->delta.guest_proc_ns, 0);
	assert_int_equal(vm->delta.cpu_ns, 100);

	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c4);
	vm_table_end(&t);
	assert_int_equal(vm->delta.guest_proc_ns, 400);
	assert_int_equal(vm->total.guest_proc_ns, 1900);
	assert_int_equal(vm->total.cpu_ns, 3200);
	assert_int_equal(vm_counters_guest_ns(&vm->total), 1900);
	assert_int_equal(vm_counters_host_ns(&vm->total), 1300);
	check_vm_is_sum_of_roles(vm);

	/* A guest-time-only interval is activity too. */
	c4.guest_proc_ns += 10;
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c4);
	vm_table_end(&t);
	assert_true(vm->active);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].threads, 1);
	vm_table_free(&t);
}

static void test_guest_and_host_ns(void **state)
{
	const struct vm_counters proc_only = { .cpu_ns = 10, .guest_proc_ns = 7 };
	const struct vm_counters spans = {
		.cpu_ns = 10, .kvm_exits = 1, .guest_ns = 4, .guest_proc_ns = 7
	};
	const struct vm_counters spans_no_exits = { .cpu_ns = 10,
						    .guest_ns = 5,
						    .guest_proc_ns = 7 };
	const struct vm_counters exits_no_spans = { .cpu_ns = 10,
						    .kvm_exits = 3,
						    .guest_proc_ns = 7 };
	const struct vm_counters over = { .cpu_ns = 3, .kvm_exits = 1, .guest_ns = 4 };
	const struct vm_counters equal = { .cpu_ns = 4, .kvm_exits = 1, .guest_ns = 4 };
	const struct vm_counters proc_over = { .cpu_ns = 10, .guest_proc_ns = 12 };
	const struct vm_counters none = { 0 };

	(void)state;
	/* Spans where kvm_entry/kvm_exit fire, /proc's ticks where they never do. */
	assert_int_equal(vm_counters_guest_ns(&proc_only), 7);
	assert_int_equal(vm_counters_host_ns(&proc_only), 3);
	assert_int_equal(vm_counters_guest_ns(&spans), 4);
	assert_int_equal(vm_counters_host_ns(&spans), 6);
	assert_int_equal(vm_counters_guest_ns(&spans_no_exits), 5);
	assert_int_equal(vm_counters_host_ns(&spans_no_exits), 5);
	/* Exits seen, so the tracepoints fire: no span time is no guest time. */
	assert_int_equal(vm_counters_guest_ns(&exits_no_spans), 0);
	assert_int_equal(vm_counters_host_ns(&exits_no_spans), 10);
	/* Guest time above on-CPU time (ticks, rounding): host time is 0, not a wrap. */
	assert_int_equal(vm_counters_host_ns(&over), 0);
	assert_int_equal(vm_counters_host_ns(&equal), 0);
	assert_int_equal(vm_counters_host_ns(&proc_over), 0);
	assert_int_equal(vm_counters_guest_ns(&none), 0);
	assert_int_equal(vm_counters_host_ns(&none), 0);
}

static void test_kvm_seen(void **state)
{
	static const size_t kvm_fields[] = {
		offsetof(struct vm_counters, kvm_exits) / sizeof(uint64_t),
		offsetof(struct vm_counters, exit_handling_ns) / sizeof(uint64_t),
		offsetof(struct vm_counters, guest_ns) / sizeof(uint64_t),
		offsetof(struct vm_counters, userspace_exits) / sizeof(uint64_t),
		offsetof(struct vm_counters, pio_exits) / sizeof(uint64_t),
		offsetof(struct vm_counters, mmio_exits) / sizeof(uint64_t),
	};
	struct vm_counters c;

	(void)state;
	/* Each KVM field alone says KVM; no other field does. */
	for (size_t i = 0; i < NFIELDS; i++) {
		bool want = false;

		for (size_t k = 0; k < sizeof(kvm_fields) / sizeof(kvm_fields[0]); k++)
			want |= kvm_fields[k] == i;
		memset(&c, 0, sizeof(c));
		((uint64_t *)&c)[i] = 1;
		if (vm_counters_kvm_seen(&c) != want)
			fail_msg("field %zu: kvm_seen should be %d", i, want);
	}
	memset(&c, 0, sizeof(c));
	assert_false(vm_counters_kvm_seen(&c));
}

static void test_add_saturates(void **state)
{
	struct vm_counters acc, d;

	(void)state;
	/* Every field, the last (guest_proc_ns) included. */
	for (size_t i = 0; i < NFIELDS; i++) {
		((uint64_t *)&acc)[i] = UINT64_MAX - 1;
		((uint64_t *)&d)[i] = 10;
	}
	acc.rd_ops = 5;
	vm_counters_add(&acc, &d);
	for (size_t i = 0; i < NFIELDS; i++) {
		if (i == offsetof(struct vm_counters, rd_ops) / sizeof(uint64_t))
			assert_int_equal(field(&acc, i), 15);
		else if (field(&acc, i) != UINT64_MAX)
			fail_msg("field %zu: %llu", i, (unsigned long long)field(&acc, i));
	}
}

/* ---- intervals ---- */

static void test_begin_clears_end_marks(void **state)
{
	struct vm_counters c1 = { .cpu_ns = 10 }, c2 = { .cpu_ns = 25 };
	struct iotrace_kvm_count k1 = { .count = 3, .ns = 30 }, k2 = { .count = 5, .ns = 50 };
	struct vm_entry *vm, *quiet;
	struct vm_thread *th;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 2), 0);
	vm = vm_table_get(&t, 50, 1);
	quiet = vm_table_get(&t, 60, 1);
	th = new_thread(vm, 51, VM_ROLE_VCPU);

	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c1);
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_USERSPACE, 2, &k1));
	vm_table_end(&t);
	assert_true(vm->active);
	assert_true(vm->ever_active);
	assert_false(quiet->active);
	assert_false(quiet->ever_active);

	vm_table_begin(&t);
	assert_false(vm->active);
	assert_true(vm->ever_active);
	assert_true(is_zero(&vm->delta));
	for (int r = 0; r < VM_ROLE_MAX; r++) {
		assert_true(is_zero(&vm->roles[r].delta));
		assert_int_equal(vm->roles[r].threads, 0);
	}
	assert_int_equal(vm->buckets[0].delta.count, 0);
	assert_int_equal(vm->buckets[0].delta.ns, 0);
	/* Totals and the last reads stay. */
	assert_int_equal(vm->total.cpu_ns, 10);
	assert_int_equal(vm->roles[VM_ROLE_VCPU].total.cpu_ns, 10);
	assert_int_equal(vm->buckets[0].total.count, 3);
	assert_int_equal(th->last.cpu_ns, 10);
	assert_int_equal(vm->buckets[0].last.count, 3);

	/* Only a bucket moved (its thread's entry was already read): active. */
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_USERSPACE, 2, &k2));
	vm_thread_feed(vm, th, &c1);
	vm_table_end(&t);
	assert_true(is_zero(&vm->delta));
	assert_true(vm->active);

	/* Nothing moved: idle, but active once. */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c1);
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_USERSPACE, 2, &k2));
	vm_table_end(&t);
	assert_false(vm->active);
	assert_true(vm->ever_active);

	/* A thread moved, no bucket did. */
	vm_table_begin(&t);
	vm_thread_feed(vm, th, &c2);
	vm_table_end(&t);
	assert_true(vm->active);
	assert_int_equal(vm->delta.cpu_ns, 15);
	assert_false(quiet->active);
	assert_false(quiet->ever_active);
	vm_table_free(&t);
}

/* ---- KVM buckets ---- */

static void test_buckets(void **state)
{
	struct iotrace_kvm_count k;
	struct vm_entry *vm;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 70, 1);

	vm_table_begin(&t);
	k = (struct iotrace_kvm_count){ .count = 5, .ns = 500 };
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_VMX, 30, &k));
	k = (struct iotrace_kvm_count){ .count = 1, .ns = 10 };
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_USERSPACE, 30, &k)); /* same code */
	vm_table_end(&t);
	assert_int_equal(vm->nbuckets, 2);
	assert_int_equal(vm->buckets[0].kind, IOTRACE_KVM_VMX);
	assert_int_equal(vm->buckets[0].code, 30);
	assert_int_equal(vm->buckets[0].delta.count, 5);
	assert_int_equal(vm->buckets[0].delta.ns, 500);
	assert_int_equal(vm->buckets[1].kind, IOTRACE_KVM_USERSPACE);
	assert_int_equal(vm->buckets[1].delta.count, 1);

	/* Deltas against the last read. */
	vm_table_begin(&t);
	k = (struct iotrace_kvm_count){ .count = 8, .ns = 800 };
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_VMX, 30, &k));
	vm_table_end(&t);
	assert_int_equal(vm->nbuckets, 2);
	assert_int_equal(vm->buckets[0].delta.count, 3);
	assert_int_equal(vm->buckets[0].delta.ns, 300);
	assert_int_equal(vm->buckets[0].total.count, 8);
	assert_int_equal(vm->buckets[0].total.ns, 800);
	assert_int_equal(vm->buckets[1].delta.count, 0);
	assert_int_equal(vm->buckets[1].total.count, 1);

	/* Reset: the kernel entry was recreated, all of it is new. */
	vm_table_begin(&t);
	k = (struct iotrace_kvm_count){ .count = 2, .ns = 900 };
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_VMX, 30, &k));
	vm_table_end(&t);
	assert_int_equal(vm->buckets[0].delta.count, 2);
	assert_int_equal(vm->buckets[0].delta.ns, 900);
	assert_int_equal(vm->buckets[0].total.count, 10);
	assert_int_equal(vm->buckets[0].total.ns, 1700);
	/* Either half going backwards is a reset. */
	vm_table_begin(&t);
	k = (struct iotrace_kvm_count){ .count = 4, .ns = 100 };
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_VMX, 30, &k));
	vm_table_end(&t);
	assert_int_equal(vm->buckets[0].delta.count, 4);
	assert_int_equal(vm->buckets[0].delta.ns, 100);
	assert_int_equal(vm->buckets[0].total.count, 14);
	assert_int_equal(vm->buckets[0].total.ns, 1800);
	vm_table_free(&t);
}

static void test_bucket_limit(void **state)
{
	struct iotrace_kvm_count k = { .count = 1, .ns = 1 };
	struct vm_entry *vm;
	struct vm_table t;

	(void)state;
	assert_int_equal(vm_table_init(&t, 1), 0);
	vm = vm_table_get(&t, 80, 1);
	for (uint64_t code = 0; code < VM_MAX_BUCKETS; code++)
		assert_true(vm_bucket_feed(vm, IOTRACE_KVM_PIO, code, &k));
	assert_int_equal(vm->nbuckets, VM_MAX_BUCKETS);
	assert_int_equal(vm->buckets_untracked, 0);

	assert_false(vm_bucket_feed(vm, IOTRACE_KVM_PIO, VM_MAX_BUCKETS, &k));
	assert_int_equal(vm->buckets_untracked, 1);
	assert_false(vm_bucket_feed(vm, IOTRACE_KVM_MMIO, 0, &k));
	assert_int_equal(vm->buckets_untracked, 2);
	assert_int_equal(vm->nbuckets, VM_MAX_BUCKETS);

	/* The buckets already there still count. */
	k.count = 4;
	k.ns = 9;
	vm_table_begin(&t);
	assert_true(vm_bucket_feed(vm, IOTRACE_KVM_PIO, VM_MAX_BUCKETS - 1, &k));
	vm_table_end(&t);
	assert_int_equal(vm->buckets[VM_MAX_BUCKETS - 1].delta.count, 3);
	assert_int_equal(vm->buckets[VM_MAX_BUCKETS - 1].total.count, 4);
	assert_int_equal(vm->buckets[VM_MAX_BUCKETS - 1].total.ns, 9);
	assert_int_equal(vm->buckets_untracked, 2);
	assert_true(vm->active);
	vm_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_table_limit),
		cmocka_unit_test(test_feed_deltas_by_role),
		cmocka_unit_test(test_every_field_flows),
		cmocka_unit_test(test_counter_reset),
		cmocka_unit_test(test_proc_guest_backwards_is_not_a_reset),
		cmocka_unit_test(test_role_change),
		cmocka_unit_test(test_set_role_edges),
		cmocka_unit_test(test_threads_counts),
		cmocka_unit_test(test_thread_remove_keeps_totals),
		cmocka_unit_test(test_thread_limit),
		cmocka_unit_test(test_guest_proc_baseline),
		cmocka_unit_test(test_guest_and_host_ns),
		cmocka_unit_test(test_kvm_seen),
		cmocka_unit_test(test_add_saturates),
		cmocka_unit_test(test_begin_clears_end_marks),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_bucket_limit),
	};

	return cmocka_run_group_tests_name("vmtable", tests, NULL, NULL);
}
