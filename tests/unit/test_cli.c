// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `iotrace record` argument parsing: defaults, values, every error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cli.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static struct record_opts o;
static char err[512];

static enum cli_result parse(int argc, char **argv)
{
	return cli_parse_record(argc, argv, &o, err, sizeof(err));
}

static void test_defaults(void **state)
{
	char *argv[] = { "record" };

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), CLI_OK);
	assert_true(o.interval_s == 1.0);
	assert_true(o.duration_s == 0.0);
	assert_int_equal(o.format, OUT_JSON);
	assert_null(o.output);
	assert_int_equal(o.ncgroups, 0);
	assert_int_equal(o.prog, PROG_AUTO);
	assert_int_equal(o.pmu, PMU_AUTO);
}

static void test_all_options(void **state)
{
	char *argv[] = { "record",	 "--interval", "0.5",	      "-D",	"10",
			 "--format=csv", "-o",	       "out.csv",     "-c",	"/a",
			 "--cgroup",	 "/b/c",       "--prog-type", "raw_tp", "--cycles",
			 "cpu-clock",	 "-v" };

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), CLI_OK);
	assert_true(o.interval_s == 0.5);
	assert_true(o.duration_s == 10.0);
	assert_int_equal(o.format, OUT_CSV);
	assert_string_equal(o.output, "out.csv");
	assert_int_equal(o.ncgroups, 2);
	assert_string_equal(o.cgroups[0], "/a");
	assert_string_equal(o.cgroups[1], "/b/c");
	assert_int_equal(o.prog, PROG_RAW_TP);
	assert_int_equal(o.pmu, PMU_CPU_CLOCK);
	assert_true(o.verbose);
}

static void test_help(void **state)
{
	char *argv[] = { "record", "--help" };

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), CLI_HELP);
}

struct bad_case {
	const char *args[4];
	const char *msg; /* a substring the error must contain */
};

static void test_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ { "--interval", "0" }, "--interval" },
		{ { "--interval", "-1" }, "--interval" },
		{ { "--interval", "abc" }, "'abc'" },
		{ { "--interval", "1s" }, "'1s'" },
		{ { "--interval", "nan" }, "--interval" },
		{ { "--interval", "inf" }, "--interval" },
		{ { "--interval", "3601" }, "--interval" },
		{ { "--duration", "-5" }, "--duration" },
		{ { "--format", "xml" }, "'xml'" },
		{ { "--prog-type", "kprobe" }, "--prog-type" },
		{ { "--cycles", "pmu" }, "--cycles" },
		{ { "--output", "" }, "--output" },
		{ { "--cgroup", "" }, "--cgroup" },
		{ { "--bogus" }, "--bogus" },
		{ { "-x" }, "-x" },
		{ { "--interval" }, "needs a value" },
		{ { "stray" }, "'stray'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[5] = { "record" };
		int argc = 1;

		for (int j = 0; j < 4 && cases[i].args[j]; j++)
			argv[argc++] = (char *)cases[i].args[j];
		err[0] = '\0';
		if (parse(argc, argv) != CLI_ERROR)
			fail_msg("case %zu (%s) was accepted", i, cases[i].args[0]);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: error '%s' does not mention '%s'", i, err,
				 cases[i].msg);
	}
}

static void test_too_many_cgroups(void **state)
{
	char *argv[2 + 2 * (CLI_MAX_CGROUPS + 1)];
	int argc = 0;

	(void)state;
	argv[argc++] = "record";
	for (int i = 0; i <= CLI_MAX_CGROUPS; i++) {
		argv[argc++] = "-c";
		argv[argc++] = "/x";
	}
	assert_int_equal(parse(argc, argv), CLI_ERROR);
	assert_non_null(strstr(err, "at most"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_many_cgroups),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
