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

enum { IO_MAIN, HUGE, CPU };

/* A QEMU VM under KVM, 4 vCPUs, -cpu host with a topology, THP-backed RAM, no I/O. */
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
	for (size_t i = 0; i < res->nfindings; i++)
		if (!strcmp(res->findings[i].id, id))
			return &res->findings[i];
	return NULL;
}

static const struct advice_fig *fig(const struct advice_fig *figs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(figs[i].key, key))
			return &figs[i];
	return NULL;
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
	for (int i = 0; i < ADVICE_NRULES; i++) {
		assert_int_equal(res.checks[i].status, ADVICE_THIN);
		assert_non_null(strstr(res.checks[i].reason, "not a QEMU process (vmm)"));
	}
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
		cmocka_unit_test(test_not_qemu),
		cmocka_unit_test(test_names_and_bounds),
	};

	return cmocka_run_group_tests_name("advice", tests, NULL, NULL);
}
