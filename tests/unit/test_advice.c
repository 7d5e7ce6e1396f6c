// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/advice.c: every rule raised and not raised, thin
 * evidence not raised (and said why), the main-loop roles, the measured
 * saving against a reference VM, and the remedies' wording.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "advice.h"
#include "advice_lookup.h"

enum { IO_MAIN, HUGE, CPU, PIN };

/*
 * A QEMU VM under KVM, 4 vCPUs, -cpu host with a topology, THP-backed RAM,
 * no I/O; its vCPU threads ran 5 s, each pinned to a CPU of its own, and
 * barely waited.
 */
static struct advice_vm good_vm(void)
{
	struct advice_vm vm;

	memset(&vm, 0, sizeof(vm));
	vm.name = "web";
	vm.pid = 4242;
	vm.m.seconds = 10;
	vm.m.cycles_per_ns = 2.0;
	vm.m.cycles_source = "tsc-estimate";
	vm.m.exits_source = "kvm_exit";
	vm.m.exits_per_io = -1;
	vm.m.host_cycles_per_io = -1;
	vm.cfg.cmdline_read = true;
	vm.cfg.is_qemu = true;
	snprintf(vm.cfg.argv0, sizeof(vm.cfg.argv0), "qemu-system-x86_64");
	vm.cfg.accel = VM_ACCEL_KVM;
	vm.cfg.ram_bytes = 1ull << 30;
	snprintf(vm.cfg.cpu_model, sizeof(vm.cfg.cpu_model), "host");
	vm.cfg.smp_cpus = 4;
	vm.cfg.smp_topology = true;
	vm.cfg.sockets = 1;
	vm.cfg.cores = 4;
	vm.cfg.threads = 1;
	vm.cfg.smaps_read = true;
	vm.cfg.ram_maps = 1;
	vm.cfg.ram_map_bytes = 1ull << 30;
	vm.cfg.ram_rss_bytes = 512ull << 20;
	vm.cfg.ram_thp_bytes = 500ull << 20;
	vm.m.role_threads[VM_ROLE_VCPU] = 4;
	vm.m.role_cpu_ns[VM_ROLE_VCPU] = 5000000000ull;
	vm.m.role_runq_wait_ns[VM_ROLE_VCPU] = 50000000; /* 1% of the runnable time */
	vm.m.role_runq_waits[VM_ROLE_VCPU] = 10000; /* 5 us a wait */
	vm.m.runq_wait_known = true;
	vm.cfg.pin.read = vm.cfg.pin.pinned = 4;
	vm.cfg.pin.first_tid = 101;
	snprintf(vm.cfg.pin.affinity, sizeof(vm.cfg.pin.affinity), "101:2 102:3 103:4 104:5");
	return vm;
}

/* I/O: ops on role, over 10 s, with figures as record would show them. */
static void with_io(struct advice_vm *vm, enum vm_role role, uint64_t ops)
{
	vm->m.role_ops[role] = ops;
	vm->m.role_threads[role] = 1;
	vm->m.role_cpu_ns[role] = ops * 100000; /* 100 us a I/O: 200k cycles */
	vm->m.role_threads[VM_ROLE_VCPU] = 4;
	vm->m.role_cpu_ns[VM_ROLE_VCPU] = 5000000000ull;
	vm->m.exits_per_io = 2.5;
	vm->m.host_cycles_per_io = 250000;
}

static const struct advice_check *eval(const struct advice_vm *vms, size_t n, size_t which,
				       struct advice_result *res, int rule)
{
	advice_evaluate(vms, n, which, res);
	return &res->checks[rule];
}

static const struct advice_finding *finding(const struct advice_result *res, const char *id)
{
	return finding_of(res->findings, res->nfindings, id);
}

static void test_good_vm_raises_nothing(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;

	(void)state;
	with_io(&vm, VM_ROLE_IOTHREAD, 5000);
	vm.cfg.iothreads = vm.cfg.iothread_devices = 1;
	advice_evaluate(&vm, 1, 0, &res);
	assert_int_equal(res.nfindings, 0);
	for (int i = 0; i < ADVICE_NRULES; i++) {
		assert_string_equal(res.checks[i].id, advice_rule_ids[i]);
		assert_int_equal(res.checks[i].status, ADVICE_PASSED);
		assert_true(res.checks[i].reason[0]);
	}
	assert_non_null(strstr(res.checks[HUGE].reason, "transparent huge pages"));
	assert_non_null(
		strstr(res.checks[PIN].reason, "pinned: each vCPU thread to a CPU of its own"));
	assert_non_null(strstr(res.checks[PIN].reason, "101:2 102:3 103:4 104:5"));
}

static void test_io_main_loop_native(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;
	const struct advice_finding *fd;

	(void)state;
	with_io(&vm, VM_ROLE_MAIN, 5000);
	vm.m.role_ops[VM_ROLE_IOTHREAD] = 0;
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_RAISED);
	fd = finding(&res, "vm.io_main_loop");
	assert_non_null(fd);
	assert_int_equal(fd->severity, ADVICE_WARNING);
	assert_true(fig(fd->evidence, fd->nevidence, "main_loop_share")->num == 1.0);
	assert_true(fig(fd->evidence, fd->nevidence, "exits_per_io")->num == 2.5);
	assert_true(fig(fd->evidence, fd->nevidence, "host_cycles_per_io")->num == 250000);
	assert_true(fig(fd->evidence, fd->nevidence, "block_ops")->num == 5000);
	assert_true(fig(fd->evidence, fd->nevidence, "iops")->num == 500);
	assert_non_null(strstr(fd->summary, "100% of the VM's 5000 disk I/Os"));
	assert_non_null(strstr(fd->summary, "2.50 exits per I/O"));
	/* The remedy names both QEMU's and libvirt's settings. */
	assert_non_null(strstr(fd->remedy, "-object iothread,id=io0"));
	assert_non_null(strstr(fd->remedy, "iothread=io0"));
	assert_non_null(strstr(fd->remedy, "<iothreads>1</iothreads>"));
	assert_non_null(strstr(fd->remedy, "iothread='1'"));
	assert_non_null(strstr(fd->remedy, "aio=native"));
	/* No iothread VM on the host to compare with: no estimate, and why. */
	assert_int_equal(fd->nsaving, 0);
	assert_non_null(strstr(fd->saving_basis, "not estimated"));
	assert_non_null(strstr(fd->saving_basis, "Felter"));
}

static void test_io_main_loop_workers(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;
	bool pool;

	(void)state;
	/* aio=threads, no iothread anywhere: the pool is fed by the main loop. */
	with_io(&vm, VM_ROLE_WORKER, 5000);
	assert_int_equal(advice_main_loop_ops(&vm, &pool), 5000);
	assert_true(pool);
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_RAISED);
	assert_non_null(strstr(res.findings[0].summary, "thread pool"));

	/* With an iothread configured, worker I/O may be its: not counted. */
	vm.cfg.iothread_devices = 1;
	assert_int_equal(advice_main_loop_ops(&vm, &pool), 0);
	assert_false(pool);
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_PASSED);
	/* An iothread seen running (hot-plugged, not on the command line) too. */
	vm.cfg.iothread_devices = 0;
	vm.m.role_threads[VM_ROLE_IOTHREAD] = 1;
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_PASSED);
	/* Command line unknown: workers are not counted either. */
	vm.m.role_threads[VM_ROLE_IOTHREAD] = 0;
	vm.cfg.cmdline_read = false;
	assert_int_equal(advice_main_loop_ops(&vm, &pool), 0);
}

static void test_io_main_loop_share(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;

	(void)state;
	/* The iothread does most; QEMU's probes and page faults on main. */
	with_io(&vm, VM_ROLE_IOTHREAD, 4000);
	vm.m.role_ops[VM_ROLE_MAIN] = 3999;
	vm.cfg.iothread_devices = 1;
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[IO_MAIN].reason, "under 50%"));
	vm.m.role_ops[VM_ROLE_MAIN] = 4000; /* exactly half: raised */
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_RAISED);
}

static void test_io_main_loop_thin(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;

	(void)state;
	with_io(&vm, VM_ROLE_MAIN, ADVICE_MIN_BLOCK_OPS - 1);
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_THIN);
	assert_null(finding(&res, "vm.io_main_loop"));
	assert_non_null(strstr(res.checks[IO_MAIN].reason, "999 block ops"));
	assert_non_null(strstr(res.checks[IO_MAIN].reason, "needs at least 1000"));

	with_io(&vm, VM_ROLE_MAIN, ADVICE_MIN_BLOCK_OPS);
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_RAISED);
	vm.m.seconds = ADVICE_MIN_SECONDS - 0.1;
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_THIN);
	/* No I/O at all. */
	vm = good_vm();
	assert_int_equal(eval(&vm, 1, 0, &res, IO_MAIN)->status, ADVICE_THIN);
}

static void test_io_main_loop_measured_saving(void **state)
{
	struct advice_vm vms[3] = { good_vm(), good_vm(), good_vm() };
	struct advice_result res;
	const struct advice_finding *fd;
	const struct advice_fig *f;

	(void)state;
	with_io(&vms[0], VM_ROLE_MAIN, 5000); /* 200k cycles a I/O outside vCPUs */
	vms[1].name = "ref";
	vms[1].pid = 7;
	with_io(&vms[1], VM_ROLE_IOTHREAD, 5000);
	vms[1].m.role_cpu_ns[VM_ROLE_IOTHREAD] = 5000 * 40000ull; /* 80k cycles a I/O */
	/* An iothread VM with too little I/O is no reference. */
	vms[2].name = "thin";
	with_io(&vms[2], VM_ROLE_IOTHREAD, 10);
	vms[2].m.role_cpu_ns[VM_ROLE_IOTHREAD] = 10;
	advice_evaluate(vms, 3, 0, &res);
	fd = finding(&res, "vm.io_main_loop");
	assert_non_null(fd);
	f = fig(fd->saving, fd->nsaving, "cycles_per_io");
	assert_non_null(f);
	assert_true(f->num > 119999 && f->num < 120001);
	/* 120k cycles x 500 IOPS / 2 GHz = 3% of a CPU. */
	f = fig(fd->saving, fd->nsaving, "cpu_pct_of_one_cpu");
	assert_non_null(f);
	assert_true(f->num > 2.99 && f->num < 3.01);
	assert_non_null(strstr(fd->saving_basis, "measured on this host: ref (pid 7)"));

	/* A reference that costs more: no saving in cycles, and said so. */
	vms[1].m.role_cpu_ns[VM_ROLE_IOTHREAD] = 5000 * 200000ull;
	advice_evaluate(vms, 3, 0, &res);
	fd = finding(&res, "vm.io_main_loop");
	assert_int_equal(fd->nsaving, 0);
	assert_non_null(strstr(fd->saving_basis, "no cycles to save measured"));
}

static void test_no_hugepages(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;
	const struct advice_finding *fd;
	const struct advice_fig *f;

	(void)state;
	vm.cfg.ram_thp_bytes = 0;
	snprintf(vm.cfg.mem_backend, sizeof(vm.cfg.mem_backend), "memory-backend-memfd");
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_RAISED);
	fd = finding(&res, "vm.no_hugepages");
	assert_non_null(fd);
	assert_int_equal(fd->severity, ADVICE_WARNING);
	assert_true(fig(fd->evidence, fd->nevidence, "huge_coverage")->num == 0);
	assert_string_equal(fig(fd->evidence, fd->nevidence, "backend")->str,
			    "memory-backend-memfd");
	assert_non_null(strstr(fd->summary, "1024 MiB"));
	assert_non_null(strstr(fd->remedy, "mem-path=/dev/hugepages"));
	assert_non_null(strstr(fd->remedy, "size=1024M"));
	assert_non_null(strstr(fd->remedy, "hugetlb=on"));
	assert_non_null(strstr(fd->remedy, "<memoryBacking><hugepages/></memoryBacking>"));
	assert_non_null(strstr(fd->remedy, "nr_hugepages"));
	/* 1 GiB: 2 MiB of 4 KiB page tables, 4 KiB of 2 MiB ones. */
	f = fig(fd->saving, fd->nsaving, "page_table_bytes");
	assert_non_null(f);
	assert_true(f->num == (double)((2u << 20) - 4096));
	assert_non_null(strstr(fd->saving_basis, "not measured"));

	/* Under TCG: only information. */
	vm.cfg.accel = VM_ACCEL_TCG;
	advice_evaluate(&vm, 1, 0, &res);
	assert_int_equal(finding(&res, "vm.no_hugepages")->severity, ADVICE_INFO);

	/* Partial THP: under half is raised, half is not. */
	vm.cfg.ram_thp_bytes = 255ull << 20;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_RAISED);
	vm.cfg.ram_thp_bytes = 256ull << 20;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_PASSED);
}

static void test_hugetlbfs(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;

	(void)state;
	/* hugetlbfs mapping, nothing of it resident yet (no prealloc): judged all the same. */
	vm.cfg.ram_rss_bytes = vm.cfg.ram_thp_bytes = 0;
	vm.cfg.ram_hugetlb_bytes = 1ull << 30;
	vm.cfg.hugetlb_page_bytes = 2u << 20;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[HUGE].reason, "hugetlbfs"));

	/* smaps unreadable, but the command line asks for hugetlbfs. */
	vm = good_vm();
	vm.cfg.smaps_read = false;
	vm.cfg.memfd_hugetlb = true;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_PASSED);
	vm.cfg.memfd_hugetlb = false;
	vm.cfg.mem_path_hugetlbfs = true;
	snprintf(vm.cfg.mem_path, sizeof(vm.cfg.mem_path), "/dev/hugepages");
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[HUGE].reason, "/dev/hugepages"));
}

static void test_no_hugepages_thin(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;

	(void)state;
	/* Too little resident to judge THP. */
	vm.cfg.ram_thp_bytes = 0;
	vm.cfg.ram_rss_bytes = ADVICE_HUGE_MIN_RSS - 1;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[HUGE].reason, "needs 32 MiB"));
	vm.cfg.ram_rss_bytes = ADVICE_HUGE_MIN_RSS;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_RAISED);
	/* smaps unreadable and nothing on the command line: not judged. */
	vm.cfg.smaps_read = false;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_THIN);
	/* No guest RAM mapping recognised. */
	vm.cfg.smaps_read = true;
	vm.cfg.ram_maps = 0;
	assert_int_equal(eval(&vm, 1, 0, &res, HUGE)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[HUGE].reason, "no guest RAM mapping"));
}

static void test_cpu_topology(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;
	const struct advice_finding *fd;

	(void)state;
	/* The test VM: no -cpu (qemu64), -smp 1, TCG. */
	vm.cfg.cpu_model[0] = '\0';
	vm.cfg.smp_cpus = 1;
	vm.cfg.smp_topology = false;
	vm.cfg.sockets = vm.cfg.cores = vm.cfg.threads = 0;
	vm.cfg.accel = VM_ACCEL_TCG;
	assert_int_equal(eval(&vm, 1, 0, &res, CPU)->status, ADVICE_RAISED);
	fd = finding(&res, "vm.cpu_topology");
	assert_int_equal(fd->severity, ADVICE_INFO);
	assert_non_null(strstr(fd->summary, "qemu64 (QEMU's default: no -cpu)"));
	assert_null(strstr(fd->summary, "sockets")); /* one vCPU: no topology to ask for */
	assert_non_null(strstr(fd->remedy, "-cpu host"));
	assert_non_null(strstr(fd->remedy, "refused under TCG"));
	assert_non_null(strstr(fd->remedy, "host-passthrough"));
	assert_non_null(
		strstr(fd->remedy, "<topology sockets='1' dies='1' cores='1' threads='1'/>"));
	assert_int_equal(fd->nsaving, 0);

	/* A named model hides the host's caches too. */
	vm = good_vm();
	snprintf(vm.cfg.cpu_model, sizeof(vm.cfg.cpu_model), "Skylake-Server");
	assert_int_equal(eval(&vm, 1, 0, &res, CPU)->status, ADVICE_RAISED);
	assert_non_null(strstr(res.findings[0].summary, "Skylake-Server"));
	/* -cpu host, but 4 vCPUs without a topology. */
	vm = good_vm();
	vm.cfg.smp_topology = false;
	assert_int_equal(eval(&vm, 1, 0, &res, CPU)->status, ADVICE_RAISED);
	assert_non_null(strstr(res.findings[0].summary, "4 vCPUs have no sockets/cores/threads"));
	assert_non_null(strstr(res.findings[0].remedy, "-smp 4,sockets=1,cores=4,threads=1"));
	/* -cpu max is the host's CPU under KVM, not under TCG. */
	vm = good_vm();
	snprintf(vm.cfg.cpu_model, sizeof(vm.cfg.cpu_model), "max");
	assert_int_equal(eval(&vm, 1, 0, &res, CPU)->status, ADVICE_PASSED);
	vm.cfg.accel = VM_ACCEL_TCG;
	assert_int_equal(eval(&vm, 1, 0, &res, CPU)->status, ADVICE_RAISED);
	/* -cpu host with one vCPU and no topology: nothing to say. */
	vm = good_vm();
	vm.cfg.smp_cpus = 1;
	vm.cfg.smp_topology = false;
	assert_int_equal(eval(&vm, 1, 0, &res, CPU)->status, ADVICE_PASSED);
	/* Command line unknown: not judged. */
	vm.cfg.cmdline_read = false;
	assert_int_equal(eval(&vm, 1, 0, &res, CPU)->status, ADVICE_THIN);
}

static void test_not_qemu(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;

	(void)state;
	with_io(&vm, VM_ROLE_MAIN, 5000);
	vm.cfg.is_qemu = false;
	snprintf(vm.cfg.argv0, sizeof(vm.cfg.argv0), "vmm");
	advice_evaluate(&vm, 1, 0, &res);
	assert_int_equal(res.nfindings, 0);
	/* QEMU's rules are not judged ... */
	for (int i = 0; i < PIN; i++) {
		assert_int_equal(res.checks[i].status, ADVICE_THIN);
		assert_non_null(strstr(res.checks[i].reason, "not a QEMU process (vmm)"));
	}
	/* ... vm.unpinned_vcpu is, for any VMM: passed pinned, raised not. */
	assert_string_equal(res.checks[PIN].id, "vm.unpinned_vcpu");
	assert_int_equal(res.checks[PIN].status, ADVICE_PASSED);
	vm.cfg.pin.pinned = 0;
	vm.m.role_migrations[VM_ROLE_VCPU] = 4 * 10 * 30; /* 30 a second a vCPU */
	advice_evaluate(&vm, 1, 0, &res);
	assert_int_equal(res.nfindings, 1);
	assert_string_equal(res.findings[0].id, "vm.unpinned_vcpu");
	assert_int_equal(res.checks[IO_MAIN].status, ADVICE_THIN);
}

/* tools/vmm beside CPU hogs on this host: one unpinned vCPU thread, waiting most of the time. */
static struct advice_vm contended_vm(void)
{
	struct advice_vm vm = good_vm();

	vm.m.seconds = 10;
	vm.m.role_threads[VM_ROLE_VCPU] = 1;
	vm.m.role_cpu_ns[VM_ROLE_VCPU] = 802000000ull;
	vm.m.role_runq_wait_ns[VM_ROLE_VCPU] = 9177000000ull;
	vm.m.role_runq_waits[VM_ROLE_VCPU] = 19947; /* 460 us a wait */
	vm.m.role_migrations[VM_ROLE_VCPU] = 47;
	vm.cfg.pin.read = 1;
	vm.cfg.pin.pinned = 0;
	vm.cfg.pin.first_tid = 5195;
	snprintf(vm.cfg.pin.affinity, sizeof(vm.cfg.pin.affinity), "5195:0-1");
	return vm;
}

static void test_unpinned_vcpu_waits(void **state)
{
	struct advice_vm vm = contended_vm();
	struct advice_result res;
	const struct advice_finding *fd;
	const struct advice_fig *f;

	(void)state;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
	fd = finding(&res, "vm.unpinned_vcpu");
	assert_non_null(fd);
	assert_int_equal(fd->severity, ADVICE_WARNING);
	assert_true(fig(fd->evidence, fd->nevidence, "migrations")->num == 47);
	assert_true(fig(fd->evidence, fd->nevidence, "migrations_per_s")->num == 4.7);
	assert_true(fig(fd->evidence, fd->nevidence, "runq_wait_ms")->num == 9177);
	assert_true(fig(fd->evidence, fd->nevidence, "runq_waits")->num == 19947);
	f = fig(fd->evidence, fd->nevidence, "runq_wait_share");
	assert_true(f->num > 0.919 && f->num < 0.920);
	f = fig(fd->evidence, fd->nevidence, "mean_wait_us");
	assert_true(f->num > 460 && f->num < 461);
	assert_true(fig(fd->evidence, fd->nevidence, "vcpu_threads")->num == 1);
	assert_true(fig(fd->evidence, fd->nevidence, "vcpus_pinned")->num == 0);
	assert_string_equal(fig(fd->evidence, fd->nevidence, "affinity")->str, "5195:0-1");
	assert_true(fig(fd->evidence, fd->nevidence, "vcpu_cpu_ms")->num == 802);
	assert_non_null(strstr(fd->summary, "1 vCPU thread not pinned one to a CPU (5195:0-1)"));
	assert_non_null(strstr(fd->summary, "47 migrations (4.7/s a vCPU)"));
	assert_non_null(strstr(fd->summary, "9.18 s runnable but waiting for a CPU (92%"));
	assert_non_null(strstr(fd->source, "se.nr_migrations"));
	assert_non_null(strstr(fd->source, "Cpus_allowed_list"));
	/* The remedy: taskset per vCPU thread, libvirt's cputune; not a QEMU option. */
	assert_non_null(strstr(fd->remedy, "taskset -p -c 2 5195"));
	assert_non_null(strstr(fd->remedy, "taskset -a -p -c OTHER_CPUS 4242"));
	assert_non_null(strstr(fd->remedy, "QEMU has no option for it"));
	assert_non_null(strstr(fd->remedy, "query-cpus-fast"));
	assert_non_null(strstr(fd->remedy, "<cputune><vcpupin vcpu='0' cpuset='2'/>"));
	assert_non_null(strstr(fd->remedy, "<emulatorpin cpuset='0-1'/></cputune>"));
	assert_non_null(strstr(fd->remedy, "virsh vcpupin"));
	assert_non_null(strstr(fd->remedy, "isolcpus=)."));
	assert_null(strstr(fd->remedy, "cpu-pm"));
	assert_null(strstr(fd->remedy, "-overcommit"));
	/* The saving: the wait measured, a second at a time, and labelled an estimate. */
	f = fig(fd->saving, fd->nsaving, "runq_wait_ms_per_s");
	assert_non_null(f);
	assert_true(f->num > 917.6 && f->num < 917.8);
	assert_non_null(strstr(fd->saving_basis, "estimated as the measured time"));
	assert_non_null(strstr(fd->saving_basis, "ready to run but waited"));
	assert_non_null(strstr(fd->saving_basis, "steal time"));
}

static void test_unpinned_vcpu_thresholds(void **state)
{
	struct advice_vm vm = contended_vm();
	struct advice_result res;

	(void)state;
	/* Wait share: 10% raises, just under does not (at 460 us a wait). */
	vm.m.role_migrations[VM_ROLE_VCPU] = 0;
	vm.m.role_cpu_ns[VM_ROLE_VCPU] = 9000000000ull;
	vm.m.role_runq_wait_ns[VM_ROLE_VCPU] = 1000000000ull;
	vm.m.role_runq_waits[VM_ROLE_VCPU] = 2000; /* 500 us a wait */
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
	vm.m.role_runq_wait_ns[VM_ROLE_VCPU] = 999000000ull;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[PIN].reason, "not pinned (5195:0-1)"));
	assert_non_null(strstr(res.checks[PIN].reason, "under 20"));

	/*
	 * A high share of short waits is hand-off latency, not contention:
	 * tools/vmm alone on this host, unpinned (3.3 s: 1085 ms on-CPU, 200 ms
	 * waiting in 18891 waits, 29 migrations).  Pinning would not change it.
	 */
	vm = contended_vm();
	vm.m.seconds = 3.3;
	vm.m.role_cpu_ns[VM_ROLE_VCPU] = 1085000000ull;
	vm.m.role_runq_wait_ns[VM_ROLE_VCPU] = 200000000ull;
	vm.m.role_runq_waits[VM_ROLE_VCPU] = 18891;
	vm.m.role_migrations[VM_ROLE_VCPU] = 29;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[PIN].reason, "16% of their runnable time waiting"));
	/* The mean wait at the threshold: raised. */
	vm.m.role_runq_waits[VM_ROLE_VCPU] = 4000; /* 50 us */
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
	vm.m.role_runq_waits[VM_ROLE_VCPU] = 4001;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_PASSED);

	/* Migrations alone: 20 a second a vCPU raises (4 vCPUs, 10 s), 19.9 does not. */
	vm = good_vm();
	vm.cfg.pin.pinned = 0;
	vm.m.role_migrations[VM_ROLE_VCPU] = 800;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
	assert_non_null(strstr(res.findings[0].summary, "4 vCPU threads not pinned"));
	assert_non_null(strstr(res.findings[0].summary, "800 migrations (20.0/s a vCPU)"));
	vm.m.role_migrations[VM_ROLE_VCPU] = 796;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_PASSED);
}

static void test_unpinned_vcpu_pinned(void **state)
{
	struct advice_vm vm = contended_vm();
	struct advice_result res;

	(void)state;
	/* Pinned one to a CPU: nothing, however long it waited. */
	vm.cfg.pin.pinned = 1;
	snprintf(vm.cfg.pin.affinity, sizeof(vm.cfg.pin.affinity), "5195:0");
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_PASSED);
	assert_null(finding(&res, "vm.unpinned_vcpu"));
	assert_non_null(strstr(res.checks[PIN].reason,
			       "pinned: each vCPU thread to a CPU of its own (5195:0)"));
	assert_non_null(strstr(res.checks[PIN].reason, "92% of their runnable time waiting"));

	/* Two vCPUs pinned to the same CPU are not pinned one to a CPU. */
	vm.m.role_threads[VM_ROLE_VCPU] = 2;
	vm.cfg.pin.read = 2;
	vm.cfg.pin.pinned = 0;
	vm.cfg.pin.shared = 2;
	snprintf(vm.cfg.pin.affinity, sizeof(vm.cfg.pin.affinity), "5195:3 5196:3");
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
	assert_true(fig(res.findings[0].evidence, res.findings[0].nevidence, "vcpus_sharing_a_cpu")
			    ->num == 2);
	/* One of two pinned alone, the other not: judged. */
	vm.cfg.pin.pinned = 1;
	vm.cfg.pin.shared = 0;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
}

static void test_unpinned_vcpu_thin(void **state)
{
	struct advice_vm vm = contended_vm();
	struct advice_result res;

	(void)state;
	vm.m.seconds = ADVICE_MIN_SECONDS - 0.1;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_THIN);
	assert_null(finding(&res, "vm.unpinned_vcpu"));
	assert_non_null(strstr(res.checks[PIN].reason, "needs at least 250 ms over 3 s"));
	/* Too little vCPU run time (a nearly idle guest): thin, however long it waited. */
	vm = contended_vm();
	vm.m.role_cpu_ns[VM_ROLE_VCPU] = ADVICE_PIN_MIN_VCPU_NS - 1;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[PIN].reason, "the vCPU threads ran 250 ms over 10.0 s"));
	vm.m.role_cpu_ns[VM_ROLE_VCPU] = ADVICE_PIN_MIN_VCPU_NS;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
	/* No vCPU thread at all (QEMU under TCG before its vCPU ran, say). */
	vm.m.role_threads[VM_ROLE_VCPU] = 0;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[PIN].reason, "no vCPU thread seen"));
	/* The affinity never read. */
	vm = contended_vm();
	memset(&vm.cfg.pin, 0, sizeof(vm.cfg.pin));
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[PIN].reason, "CPU affinity of the vCPU threads"));
}

static void test_unpinned_vcpu_no_sched_info(void **state)
{
	struct advice_vm vm = contended_vm();
	struct advice_result res;
	const struct advice_finding *fd;

	(void)state;
	/* A kernel without run-queue wait: the wait is unknown, not zero. */
	vm.m.runq_wait_known = false;
	vm.m.role_runq_wait_ns[VM_ROLE_VCPU] = vm.m.role_runq_waits[VM_ROLE_VCPU] = 0;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[PIN].reason, "run-queue wait unknown"));
	/* Judged on migrations alone. */
	vm.m.role_migrations[VM_ROLE_VCPU] = 500;
	assert_int_equal(eval(&vm, 1, 0, &res, PIN)->status, ADVICE_RAISED);
	fd = finding(&res, "vm.unpinned_vcpu");
	assert_int_equal(fig(fd->evidence, fd->nevidence, "runq_wait_ms")->type, ADVICE_FIG_NULL);
	assert_int_equal(fig(fd->evidence, fd->nevidence, "runq_wait_share")->type,
			 ADVICE_FIG_NULL);
	assert_int_equal(fd->nsaving, 0);
	assert_non_null(strstr(fd->saving_basis, "not estimated"));
	assert_null(strstr(fd->summary, "waiting"));
}

static void test_names_and_bounds(void **state)
{
	struct advice_vm vm = good_vm();
	struct advice_result res;

	(void)state;
	assert_string_equal(advice_severity_name(ADVICE_WARNING), "warning");
	assert_string_equal(advice_severity_name(ADVICE_INFO), "info");
	assert_string_equal(advice_status_name(ADVICE_THIN), "thin");
	assert_string_equal(advice_status_name(ADVICE_RAISED), "raised");
	assert_string_equal(advice_status_name(ADVICE_PASSED), "passed");
	advice_evaluate(&vm, 1, 1, &res); /* out of range: nothing */
	assert_int_equal(res.nfindings, 0);
	advice_evaluate(NULL, 0, 0, &res);
	assert_int_equal(res.nfindings, 0);
	assert_true(advice_io_path_cycles_per_io(&vm.m) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_vm_raises_nothing),
		cmocka_unit_test(test_io_main_loop_native),
		cmocka_unit_test(test_io_main_loop_workers),
		cmocka_unit_test(test_io_main_loop_share),
		cmocka_unit_test(test_io_main_loop_thin),
		cmocka_unit_test(test_io_main_loop_measured_saving),
		cmocka_unit_test(test_no_hugepages),
		cmocka_unit_test(test_hugetlbfs),
		cmocka_unit_test(test_no_hugepages_thin),
		cmocka_unit_test(test_cpu_topology),
		cmocka_unit_test(test_unpinned_vcpu_waits),
		cmocka_unit_test(test_unpinned_vcpu_thresholds),
		cmocka_unit_test(test_unpinned_vcpu_pinned),
		cmocka_unit_test(test_unpinned_vcpu_thin),
		cmocka_unit_test(test_unpinned_vcpu_no_sched_info),
		cmocka_unit_test(test_not_qemu),
		cmocka_unit_test(test_names_and_bounds),
	};

	return cmocka_run_group_tests_name("advice", tests, NULL, NULL);
}
