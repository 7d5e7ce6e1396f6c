// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The softirq apportioning rule (include/net_share.h), the same code the
 * BPF program runs at every NET_RX/NET_TX softirq exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_share.h"

static __u64 sum(const __u64 *v, __u32 n)
{
	__u64 s = 0;

	for (__u32 i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void test_one_owner_takes_all(void **state)
{
	struct iotrace_softirq_owner o[] = { { 42, 7 } };
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = { 0 };

	(void)state;
	assert_int_equal(iotrace_apportion(12345, o, 1, 0, shares), 0);
	assert_int_equal(shares[0], 12345);
}

static void test_shares_follow_packets(void **state)
{
	struct iotrace_softirq_owner o[] = { { 1, 1 }, { 2, 3 } };
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = { 0 };

	(void)state;
	assert_int_equal(iotrace_apportion(4000, o, 2, 0, shares), 0);
	assert_int_equal(shares[0], 1000);
	assert_int_equal(shares[1], 3000);
}

/* Rounding never loses or invents time: it goes to the first owner. */
static void test_rounding_goes_to_first_owner(void **state)
{
	struct iotrace_softirq_owner o[] = { { 1, 1 }, { 2, 1 }, { 3, 1 } };
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = { 0 };

	(void)state;
	assert_int_equal(iotrace_apportion(100, o, 3, 0, shares), 0);
	assert_int_equal(shares[0], 34);
	assert_int_equal(shares[1], 33);
	assert_int_equal(shares[2], 33);
}

static void test_no_owner_is_unattributed(void **state)
{
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = { 0 };

	(void)state;
	/* A run that delivered nothing to a socket (forwarding, ARP). */
	assert_int_equal(iotrace_apportion(5000, NULL, 0, 0, shares), 5000);
	/* Or only packets of owners the list had no room for. */
	assert_int_equal(iotrace_apportion(5000, NULL, 0, 9, shares), 5000);
}

static void test_other_packets_share_unattributed(void **state)
{
	struct iotrace_softirq_owner o[] = { { 1, 2 } };
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = { 0 };

	(void)state;
	assert_int_equal(iotrace_apportion(900, o, 1, 1, shares), 300);
	assert_int_equal(shares[0], 600);
}

/* Many owners, awkward numbers: every share is within 1 ns of exact. */
static void test_sum_is_exact(void **state)
{
	struct iotrace_softirq_owner o[IOTRACE_SOFTIRQ_OWNERS];
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = { 0 }, rest, total = 5, elapsed = 999983;

	(void)state;
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++) {
		o[i].cgroup_id = 100 + i;
		o[i].packets = 3 * i + 1;
		total += o[i].packets;
	}
	rest = iotrace_apportion(elapsed, o, IOTRACE_SOFTIRQ_OWNERS, 5, shares);
	assert_int_equal(sum(shares, IOTRACE_SOFTIRQ_OWNERS) + rest, elapsed);
	for (__u32 i = 1; i < IOTRACE_SOFTIRQ_OWNERS; i++)
		assert_int_equal(shares[i], elapsed * o[i].packets / total);
	assert_int_equal(rest, elapsed * 5 / total);
}

/* An owner count beyond the list is clamped, never read past it. */
static void test_nr_clamped(void **state)
{
	struct iotrace_softirq_owner o[IOTRACE_SOFTIRQ_OWNERS];
	__u64 shares[IOTRACE_SOFTIRQ_OWNERS] = { 0 }, rest;

	(void)state;
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++) {
		o[i].cgroup_id = i + 1;
		o[i].packets = 1;
	}
	rest = iotrace_apportion(800, o, IOTRACE_SOFTIRQ_OWNERS + 5, 0, shares);
	assert_int_equal(rest, 0);
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++)
		assert_int_equal(shares[i], 100);
}

static void test_share_large_values(void **state)
{
	(void)state;
	assert_int_equal(iotrace_share(10, 1, 0), 0);
	assert_int_equal(iotrace_share(1ULL << 40, 3, 4), 3ULL << 38);
	/* Past 32 bits per factor it divides first: still the right figure here. */
	assert_int_equal(iotrace_share(1ULL << 40, 1ULL << 33, 1ULL << 34), 1ULL << 39);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_owner_takes_all),
		cmocka_unit_test(test_shares_follow_packets),
		cmocka_unit_test(test_rounding_goes_to_first_owner),
		cmocka_unit_test(test_no_owner_is_unattributed),
		cmocka_unit_test(test_other_packets_share_unattributed),
		cmocka_unit_test(test_sum_is_exact),
		cmocka_unit_test(test_nr_clamped),
		cmocka_unit_test(test_share_large_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
