// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `iotrace record` and `iotrace top` argument parsing: defaults, values, every error. */
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
	assert_int_equal(o.format, REC_JSON);
	assert_null(o.output);
	assert_int_equal(o.t.ncgroups, 0);
	assert_int_equal(o.t.prog, PROG_AUTO);
	assert_int_equal(o.t.pmu, PMU_AUTO);
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
	assert_int_equal(o.format, REC_CSV);
	assert_string_equal(o.output, "out.csv");
	assert_int_equal(o.t.ncgroups, 2);
	assert_string_equal(o.t.cgroups[0], "/a");
	assert_string_equal(o.t.cgroups[1], "/b/c");
	assert_int_equal(o.t.prog, PROG_RAW_TP);
	assert_int_equal(o.t.pmu, PMU_CPU_CLOCK);
	assert_true(o.t.verbose);
}

/* A recording: by name, or by --format; an explicit --format wins. */
static void test_recording_format(void **state)
{
	char *by_name[] = { "record", "-o", "run.iotr" };
	char *by_flag[] = { "record", "-f", "iotr", "-o", "run.bin" };
	char *explicit_json[] = { "record", "-o", "run.iotr", "-f", "json" };
	char *not_suffix[] = { "record", "-o", ".iotr" };

	(void)state;
	assert_int_equal(parse(ARGC(by_name), by_name), CLI_OK);
	assert_int_equal(o.format, REC_IOTR);
	assert_int_equal(parse(ARGC(by_flag), by_flag), CLI_OK);
	assert_int_equal(o.format, REC_IOTR);
	assert_string_equal(o.output, "run.bin");
	assert_int_equal(parse(ARGC(explicit_json), explicit_json), CLI_OK);
	assert_int_equal(o.format, REC_JSON);
	assert_int_equal(parse(ARGC(not_suffix), not_suffix), CLI_OK);
	assert_int_equal(o.format, REC_JSON);
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

/* Each case must be refused with an error that names what is wrong. */
static void check_bad_cases(enum cli_result (*parse_fn)(int, char **), const char *cmd,
			    const struct bad_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *argv[5] = { (char *)cmd };
		int argc = 1;

		for (int j = 0; j < 4 && cases[i].args[j]; j++)
			argv[argc++] = (char *)cases[i].args[j];
		err[0] = '\0';
		if (parse_fn(argc, argv) != CLI_ERROR)
			fail_msg("%s case %zu (%s) was accepted", cmd, i, cases[i].args[0]);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s case %zu: error '%s' does not mention '%s'", cmd, i, err,
				 cases[i].msg);
	}
}

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
		{ { "--format", "iotr" }, "needs --output" },
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
	check_bad_cases(parse, "record", cases, sizeof(cases) / sizeof(cases[0]));
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

static struct top_opts t;

static enum cli_result parse_top(int argc, char **argv)
{
	return cli_parse_top(argc, argv, &t, err, sizeof(err));
}

static void test_top_defaults_and_options(void **state)
{
	char *none[] = { "top" };
	char *all[] = { "top", "-d", "0.5", "-b", "-n", "3", "-c", "/a", "--cycles", "tsc", "-v" };
	char *help[] = { "top", "-h" };

	(void)state;
	assert_int_equal(parse_top(ARGC(none), none), CLI_OK);
	assert_true(t.delay_s == 1.0);
	assert_false(t.batch);
	assert_int_equal(t.iterations, 0);
	assert_int_equal(t.t.ncgroups, 0);
	assert_int_equal(t.t.prog, PROG_AUTO);
	assert_int_equal(parse_top(ARGC(all), all), CLI_OK);
	assert_true(t.delay_s == 0.5);
	assert_true(t.batch);
	assert_int_equal(t.iterations, 3);
	assert_int_equal(t.t.ncgroups, 1);
	assert_string_equal(t.t.cgroups[0], "/a");
	assert_int_equal(t.t.pmu, PMU_NONE);
	assert_true(t.t.verbose);
	assert_int_equal(parse_top(ARGC(help), help), CLI_HELP);
}

static void test_top_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ { "-d", "0" }, "--delay" },
		{ { "--delay", "x" }, "'x'" },
		{ { "-n", "0" }, "--iterations" },
		{ { "-n", "3x" }, "'3x'" },
		{ { "--iterations", "-2" }, "--iterations" },
		{ { "--prog-type", "kprobe" }, "--prog-type" },
		{ { "--format", "csv" }, "--format" },
		{ { "-n" }, "needs a value" },
		{ { "stray" }, "'stray'" },
	};

	(void)state;
	check_bad_cases(parse_top, "top", cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_defaults_and_options),
		cmocka_unit_test(test_top_errors),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_recording_format),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_many_cgroups),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
