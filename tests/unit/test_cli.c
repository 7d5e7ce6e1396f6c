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

static struct report_opts ro;

static enum cli_result parse_report(int argc, char **argv)
{
	return cli_parse_report(argc, argv, &ro, err, sizeof(err));
}

static void test_report_defaults_and_options(void **state)
{
	char *none[] = { "report", "run.iotr" };
	char *all[] = { "report", "--format", "json", "--by", "container", "-s",
			"p99",	  "run.iotr", "-t",   "5",    "-o",	   "out.json" };
	char *vm[] = { "report", "-f", "csv", "-b", "vm", "--sort=name", "--top=1", "x.iotr" };
	char *help[] = { "report", "--help" };

	(void)state;
	assert_int_equal(parse_report(ARGC(none), none), CLI_OK);
	assert_string_equal(ro.input, "run.iotr");
	assert_int_equal(ro.format, REPORT_TABLE);
	assert_int_equal(ro.by, REPORT_BY_CGROUP);
	assert_int_equal(ro.sort, REPORT_SORT_CPU);
	assert_int_equal(ro.top, 0);
	assert_null(ro.output);
	assert_int_equal(parse_report(ARGC(all), all), CLI_OK);
	assert_string_equal(ro.input, "run.iotr");
	assert_int_equal(ro.format, REPORT_JSON);
	assert_int_equal(ro.by, REPORT_BY_CONTAINER);
	assert_int_equal(ro.sort, REPORT_SORT_P99);
	assert_int_equal(ro.top, 5);
	assert_string_equal(ro.output, "out.json");
	assert_int_equal(parse_report(ARGC(vm), vm), CLI_OK);
	assert_int_equal(ro.format, REPORT_CSV);
	assert_int_equal(ro.by, REPORT_BY_VM);
	assert_int_equal(ro.sort, REPORT_SORT_NAME);
	assert_int_equal(ro.top, 1);
	assert_int_equal(parse_report(ARGC(help), help), CLI_HELP);
}

static void test_report_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ { "run.iotr", "--format", "xml" }, "'xml'" },
		{ { "run.iotr", "--format", "iotr" }, "--format" },
		{ { "run.iotr", "--by", "pod" }, "--by" },
		{ { "run.iotr", "--sort", "cost" }, "--sort" },
		{ { "run.iotr", "--top", "0" }, "--top" },
		{ { "run.iotr", "--top", "-3" }, "--top" },
		{ { "run.iotr", "-t", "2x" }, "'2x'" },
		{ { "run.iotr", "--output", "" }, "--output" },
		{ { "run.iotr", "--interval", "1" }, "--interval" },
		{ { "run.iotr", "--top" }, "needs a value" },
		{ { "run.iotr", "other.iotr" }, "'other.iotr'" },
		{ { "--format", "json" }, "missing the recording" },
		{ { "" }, "empty recording file name" },
	};

	(void)state;
	check_bad_cases(parse_report, "report", cases, sizeof(cases) / sizeof(cases[0]));
}

static struct serve_opts so;

static enum cli_result parse_serve(int argc, char **argv)
{
	return cli_parse_serve(argc, argv, &so, err, sizeof(err));
}

static void test_serve_defaults_and_options(void **state)
{
	char *def[] = { "serve" };
	char *all[] = { "serve", "--listen", "[::1]:0", "-t", "/tmp/tf", "-i", "0.5", "-c", "/a" };
	char *tf[] = { "serve", "--textfile=/var/tf" };
	char *any[] = { "serve", "-l", ":9100" };

	(void)state;
	assert_int_equal(parse_serve(1, def), CLI_OK);
	assert_string_equal(so.listen, CLI_SERVE_DEFAULT_LISTEN);
	assert_string_equal(so.listen_host, "127.0.0.1");
	assert_int_equal(so.listen_port, 9464);
	assert_null(so.textfile_dir);
	assert_true(so.interval_s == 5.0);
	assert_int_equal(so.t.prog, PROG_AUTO);

	assert_int_equal(parse_serve(ARGC(all), all), CLI_OK);
	assert_string_equal(so.listen, "[::1]:0");
	assert_string_equal(so.listen_host, "::1");
	assert_int_equal(so.listen_port, 0);
	assert_string_equal(so.textfile_dir, "/tmp/tf");
	assert_true(so.interval_s == 0.5);
	assert_int_equal(so.t.ncgroups, 1);

	/* A textfile alone: no HTTP endpoint. */
	assert_int_equal(parse_serve(ARGC(tf), tf), CLI_OK);
	assert_null(so.listen);
	assert_string_equal(so.textfile_dir, "/var/tf");

	assert_int_equal(parse_serve(ARGC(any), any), CLI_OK);
	assert_string_equal(so.listen_host, "");
	assert_int_equal(so.listen_port, 9100);
}

static void test_serve_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ { "--listen", "127.0.0.1" }, "is not HOST:PORT" },
		{ { "--listen", "127.0.0.1:" }, "the port" },
		{ { "--listen", "127.0.0.1:65536" }, "the port" },
		{ { "--listen", "127.0.0.1:-1" }, "the port" },
		{ { "--listen", "127.0.0.1:+80" }, "the port" },
		{ { "--listen", "127.0.0.1:http" }, "'127.0.0.1:http'" },
		{ { "--listen", "::1:9464" }, "is not HOST:PORT" },
		{ { "--listen", "[::1]9464" }, "is not HOST:PORT" },
		{ { "--listen", "[]:9464" }, "is not HOST:PORT" },
		{ { "--listen", "" }, "--listen" },
		{ { "--textfile", "" }, "--textfile" },
		{ { "--interval", "0" }, "--interval" },
		{ { "-i", "x" }, "'x'" },
		{ { "--format", "json" }, "--format" },
		{ { "--listen" }, "needs a value" },
		{ { "stray" }, "'stray'" },
	};
	char *help[] = { "serve", "-h" };

	(void)state;
	check_bad_cases(parse_serve, "serve", cases, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(parse_serve(ARGC(help), help), CLI_HELP);
}

static struct advise_opts ao;

static enum cli_result parse_advise(int argc, char **argv)
{
	return cli_parse_advise(argc, argv, &ao, err, sizeof(err));
}

static void test_advise_defaults_and_options(void **state)
{
	char *none[] = { "advise" };
	char *all[] = { "advise", "--duration", "2.5", "--format", "json", "-c", "/a", "-v" };
	char *shrt[] = { "advise", "-D", "60", "-f", "table" };
	char *help[] = { "advise", "--help" };

	(void)state;
	assert_int_equal(parse_advise(ARGC(none), none), CLI_OK);
	assert_true(ao.duration_s == 10.0);
	assert_int_equal(ao.format, ADVISE_TABLE);
	assert_int_equal(ao.t.ncgroups, 0);
	assert_int_equal(ao.t.prog, PROG_AUTO);
	assert_int_equal(parse_advise(ARGC(all), all), CLI_OK);
	assert_true(ao.duration_s == 2.5);
	assert_int_equal(ao.format, ADVISE_JSON);
	assert_int_equal(ao.t.ncgroups, 1);
	assert_string_equal(ao.t.cgroups[0], "/a");
	assert_true(ao.t.verbose);
	assert_int_equal(parse_advise(ARGC(shrt), shrt), CLI_OK);
	assert_true(ao.duration_s == 60.0);
	assert_int_equal(ao.format, ADVISE_TABLE);
	assert_int_equal(parse_advise(ARGC(help), help), CLI_HELP);
	assert_non_null(strstr(cli_advise_usage, "--duration"));
	assert_non_null(strstr(cli_main_usage, "advise"));
}

static void test_advise_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ { "--duration", "0" }, "--duration" },
		{ { "--duration", "0.5" }, "--duration" },
		{ { "--duration", "-3" }, "--duration" },
		{ { "--duration", "86401" }, "--duration" },
		{ { "--duration", "ten" }, "'ten'" },
		{ { "-D", "nan" }, "--duration" },
		{ { "--duration" }, "needs a value" },
		{ { "--format", "csv" }, "'csv'" },
		{ { "--format", "" }, "--format" },
		{ { "--interval", "1" }, "unknown option" },
		{ { "-o", "x" }, "unknown option -o" },
		{ { "--cycles", "pmu" }, "--cycles" },
		{ { "--cgroup", "" }, "--cgroup" },
		{ { "vm1" }, "'vm1'" },
	};

	(void)state;
	check_bad_cases(parse_advise, "advise", cases, sizeof(cases) / sizeof(cases[0]));
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
		cmocka_unit_test(test_report_defaults_and_options),
		cmocka_unit_test(test_report_errors),
		cmocka_unit_test(test_serve_defaults_and_options),
		cmocka_unit_test(test_serve_errors),
		cmocka_unit_test(test_advise_defaults_and_options),
		cmocka_unit_test(test_advise_errors),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
