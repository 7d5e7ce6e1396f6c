// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VMM thread roles from comm: QEMU's names under KVM, TCG and other
 * accelerators, the kernel's vhost and io_uring workers, 15-byte truncation,
 * near misses, and the precedence of seen-in-KVM over names over main thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "vm_roles.h"

#define TGID 4242

struct role_case {
	const char *comm;
	int tid;
	bool seen_in_kvm;
	enum vm_role want;
};

static const struct role_case cases[] = {
	/* QEMU -name ...,debug-threads=on */
	{ "CPU 0/KVM", 4243, false, VM_ROLE_VCPU },
	{ "CPU 12/KVM", 4244, false, VM_ROLE_VCPU },
	{ "CPU 123/KVM", 4245, false, VM_ROLE_VCPU },
	{ "CPU 1234567/KVM", 4246, false, VM_ROLE_VCPU }, /* exactly 15 bytes */
	{ "CPU 12345678/KV", 4247, false, VM_ROLE_VCPU }, /* cut at 15 bytes */
	{ "CPU 123456789/K", 4248, false, VM_ROLE_VCPU },
	{ "CPU 1234567890/", 4249, false, VM_ROLE_VCPU },
	{ "CPU 12345678901", 4290, false, VM_ROLE_VCPU }, /* cut in the digits */
	/* other accelerators: any name of letters */
	{ "CPU 0/TCG", 4291, false, VM_ROLE_VCPU },
	{ "CPU 17/TCG", 4292, false, VM_ROLE_VCPU },
	{ "CPU 3/HVF", 4293, false, VM_ROLE_VCPU },
	{ "CPU 2/WHPX", 4294, false, VM_ROLE_VCPU },
	{ "CPU 1/NVMM", 4295, false, VM_ROLE_VCPU },
	{ "CPU 0/DUMMY", 4296, false, VM_ROLE_VCPU },
	{ "CPU 4/Xen", 4297, false, VM_ROLE_VCPU },
	{ "CPU 1/K", 4298, false, VM_ROLE_VCPU },
	{ "CPU 1/KV", 4266, false, VM_ROLE_VCPU },
	{ "CPU 1/TCG", 4267, false, VM_ROLE_VCPU },
	{ "CPU 1/kvm", 4299, false, VM_ROLE_VCPU },
	{ "CPU 1234567/TCG", 4300, false, VM_ROLE_VCPU }, /* exactly 15 bytes */
	{ "CPU 123456/WHPX", 4301, false, VM_ROLE_VCPU }, /* exactly 15 bytes */
	{ "CPU 1234567/WHP", 4302, false, VM_ROLE_VCPU }, /* "/WHPX" cut */
	{ "CPU 12345678/KX", 4270, false, VM_ROLE_VCPU }, /* 15 bytes, letters */
	{ "CPU 12345678/TC", 4303, false, VM_ROLE_VCPU },
	{ "IO iothread0", 4250, false, VM_ROLE_IOTHREAD },
	{ "IO io1", 4251, false, VM_ROLE_IOTHREAD },
	{ "worker", 4252, false, VM_ROLE_WORKER },
	/* kernel-named threads in the VMM process */
	{ "vhost-4242", 4253, false, VM_ROLE_VHOST },
	{ "vhost-1", 4254, false, VM_ROLE_VHOST },
	{ "iou-wrk-4243", 4255, false, VM_ROLE_IO_URING },
	{ "iou-sqp-4242", 4256, false, VM_ROLE_IO_URING },
	{ "iou-wrk-4194304", 4257, false, VM_ROLE_IO_URING }, /* PID_MAX_LIMIT, 15 bytes */
	/* main loop and the rest */
	{ "qemu-system-x86", TGID, false, VM_ROLE_MAIN },
	{ "qemu-system-x86", 4258, false, VM_ROLE_OTHER },
	{ "call_rcu", 4259, false, VM_ROLE_OTHER },
	{ "", 4260, false, VM_ROLE_OTHER },
	{ "", TGID, false, VM_ROLE_MAIN },
	/* near misses */
	{ "CPU", 4261, false, VM_ROLE_OTHER },
	{ "CPU ", 4262, false, VM_ROLE_OTHER },
	{ "CPU x/KVM", 4263, false, VM_ROLE_OTHER },
	{ "CPU /KVM", 4264, false, VM_ROLE_OTHER },
	{ "CPU 1/KVM ", 4265, false, VM_ROLE_OTHER },
	{ "cpu 1/kvm", 4268, false, VM_ROLE_OTHER },
	{ " CPU 1/KVM", 4269, false, VM_ROLE_OTHER },
	/* short, so not a cut name: the accelerator's name must be there */
	{ "CPU 1", 4304, false, VM_ROLE_OTHER },
	{ "CPU 1/", 4305, false, VM_ROLE_OTHER },
	{ "CPU 123456789/", 4306, false, VM_ROLE_OTHER }, /* 14 bytes */
	{ "CPU 1234567890", 4322, false, VM_ROLE_OTHER }, /* 14 bytes */
	/* an accelerator's name is letters and nothing else */
	{ "CPU 1/KVM2", 4307, false, VM_ROLE_OTHER },
	{ "CPU 1/K-VM", 4308, false, VM_ROLE_OTHER },
	{ "CPU 1/T G", 4309, false, VM_ROLE_OTHER },
	{ "CPU 1//TCG", 4310, false, VM_ROLE_OTHER },
	{ "CPU 1/TCG/", 4311, false, VM_ROLE_OTHER },
	{ "CPU 1/ TCG", 4312, false, VM_ROLE_OTHER },
	{ "CPU 1/TCG\n", 4313, false, VM_ROLE_OTHER },
	{ "CPU 1/TC\xc3\x89", 4314, false, VM_ROLE_OTHER }, /* not ASCII */
	{ "CPU -1/TCG", 4315, false, VM_ROLE_OTHER },
	{ "CPU 1 /TCG", 4316, false, VM_ROLE_OTHER },
	/* 15 bytes, but what follows the digits is not a cut "/<letters>" */
	{ "CPU 123456/TCG1", 4317, false, VM_ROLE_OTHER },
	{ "CPU 1234567/TC_", 4318, false, VM_ROLE_OTHER },
	{ "CPU 1234567890x", 4319, false, VM_ROLE_OTHER },
	{ "CPU 1234567890 ", 4320, false, VM_ROLE_OTHER },
	{ "CPU 12345/T/KVM", 4321, false, VM_ROLE_OTHER },
	{ "IOthread", 4271, false, VM_ROLE_OTHER },
	{ "IO ", 4272, false, VM_ROLE_OTHER },
	{ "IO", 4273, false, VM_ROLE_OTHER },
	{ "io iothread0", 4274, false, VM_ROLE_OTHER },
	{ "workers", 4275, false, VM_ROLE_OTHER },
	{ "worker ", 4276, false, VM_ROLE_OTHER },
	{ "kworker", 4277, false, VM_ROLE_OTHER },
	{ "vhost-", 4278, false, VM_ROLE_OTHER },
	{ "vhost", 4279, false, VM_ROLE_OTHER },
	{ "vhost-12a", 4280, false, VM_ROLE_OTHER },
	{ "vhost-net", 4281, false, VM_ROLE_OTHER },
	{ "iou-wrk", 4282, false, VM_ROLE_OTHER },
	{ "iou-wrk-", 4283, false, VM_ROLE_OTHER },
	{ "iou-wrk-12x", 4284, false, VM_ROLE_OTHER },
	{ "iou-abc-12", 4285, false, VM_ROLE_OTHER },
	/* a main thread with a vCPU-like name: names rank above main */
	{ "CPU 0/KVM", TGID, false, VM_ROLE_VCPU },
	{ "worker", TGID, false, VM_ROLE_WORKER },
	/* seen in a KVM tracepoint: a vCPU whatever it calls itself */
	{ "qemu-system-x86", TGID, true, VM_ROLE_VCPU },
	{ "worker", 4286, true, VM_ROLE_VCPU },
	{ "IO iothread0", 4287, true, VM_ROLE_VCPU },
	{ "vmm", 4288, true, VM_ROLE_VCPU },
	{ "", 4289, true, VM_ROLE_VCPU },
};

static void test_cases(void **state)
{
	size_t n = sizeof(cases) / sizeof(cases[0]);

	(void)state;
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		const struct role_case *c = &cases[i];
		enum vm_role got = vm_role_classify(c->comm, c->tid, TGID, c->seen_in_kvm);

		assert_true(strlen(c->comm) <= 15); /* only what a comm can hold */
		if (got != c->want)
			fail_msg("case %zu \"%s\" tid %d kvm %d: want %s, got %s", i, c->comm,
				 c->tid, c->seen_in_kvm, vm_role_name(c->want), vm_role_name(got));
	}
}

static void test_null_comm(void **state)
{
	(void)state;
	assert_int_equal(vm_role_classify(NULL, 10, 10, false), VM_ROLE_MAIN);
	assert_int_equal(vm_role_classify(NULL, 11, 10, false), VM_ROLE_OTHER);
	assert_int_equal(vm_role_classify(NULL, 11, 10, true), VM_ROLE_VCPU);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vm_role_name(VM_ROLE_VCPU), "vcpu");
	assert_string_equal(vm_role_name(VM_ROLE_IOTHREAD), "iothread");
	assert_string_equal(vm_role_name(VM_ROLE_WORKER), "worker");
	assert_string_equal(vm_role_name(VM_ROLE_VHOST), "vhost");
	assert_string_equal(vm_role_name(VM_ROLE_IO_URING), "io_uring");
	assert_string_equal(vm_role_name(VM_ROLE_MAIN), "main");
	assert_string_equal(vm_role_name(VM_ROLE_OTHER), "other");
	/* Every role has a distinct name; out of range stays in the label set. */
	for (int i = 0; i < VM_ROLE_MAX; i++)
		for (int j = i + 1; j < VM_ROLE_MAX; j++)
			assert_string_not_equal(vm_role_name(i), vm_role_name(j));
	assert_string_equal(vm_role_name(VM_ROLE_MAX), "other");
	assert_string_equal(vm_role_name((enum vm_role) - 1), "other");
	assert_string_equal(vm_role_name((enum vm_role)1000), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_null_comm),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("vm_roles", tests, NULL, NULL);
}
