// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Which capabilities iotrace keeps after attaching (user/privs.c). */
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "privs.h"

#define B(c) (1ull << (c))

/* Root: everything goes but map access, netlink, /proc reading. */
static void test_root_keeps_four(void **state)
{
	uint64_t all = (B(CAP_LAST_CAP + 1) - 1);

	(void)state;
	assert_int_equal(privs_keep_mask(all), B(CAP_BPF) | B(CAP_NET_ADMIN) | B(CAP_SYS_PTRACE) |
						       B(CAP_DAC_READ_SEARCH));
	assert_false(privs_keep_mask(all) & B(CAP_SYS_ADMIN));
	assert_false(privs_keep_mask(all) & B(CAP_PERFMON));
	assert_false(privs_keep_mask(all) & B(CAP_DAC_OVERRIDE));
}

/* The documented least privilege: CAP_PERFMON only served attaching. */
static void test_least_privilege_keeps_bpf(void **state)
{
	(void)state;
	assert_int_equal(privs_keep_mask(B(CAP_BPF) | B(CAP_PERFMON)), B(CAP_BPF));
	assert_int_equal(privs_keep_mask(B(CAP_BPF) | B(CAP_PERFMON) | B(CAP_NET_ADMIN)),
			 B(CAP_BPF) | B(CAP_NET_ADMIN));
}

/* Without CAP_BPF (before 5.8, or only CAP_SYS_ADMIN granted) bpf(2) needs CAP_SYS_ADMIN. */
static void test_sys_admin_kept_without_bpf(void **state)
{
	(void)state;
	assert_int_equal(privs_keep_mask(B(CAP_SYS_ADMIN)), B(CAP_SYS_ADMIN));
	assert_int_equal(privs_keep_mask(B(CAP_SYS_ADMIN) | B(CAP_BPF)), B(CAP_BPF));
}

/* Nothing is ever added. */
static void test_never_adds(void **state)
{
	(void)state;
	assert_int_equal(privs_keep_mask(0), 0);
	assert_int_equal(privs_keep_mask(B(CAP_CHOWN) | B(CAP_KILL)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_keeps_four),
		cmocka_unit_test(test_least_privilege_keeps_bpf),
		cmocka_unit_test(test_sys_admin_kept_without_bpf),
		cmocka_unit_test(test_never_adds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
