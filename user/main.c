// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iotrace: per-workload I/O overhead tracer.  Dispatches to the commands;
 * each command parses its own options.
 */
#include <stdio.h>
#include <string.h>

#include "advise.h"
#include "cli.h"
#include "doctor.h"
#include "record.h"
#include "report.h"
#include "serve.h"
#include "top.h"
#include "version.h"

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(cli_main_usage, stderr);
		return 2;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(cli_main_usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "help")) {
		if (argc > 2 && !strcmp(argv[2], "record")) {
			fputs(cli_record_usage, stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "report")) {
			fputs(cli_report_usage, stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "doctor")) {
			fputs(cli_doctor_usage, stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "top")) {
			fputs(cli_top_usage, stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "advise")) {
			fputs(cli_advise_usage, stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "serve")) {
			fputs(cli_serve_usage, stdout);
			return 0;
		}
		fputs(cli_main_usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("iotrace %s\n", IOTRACE_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "record"))
		return cmd_record(argc - 1, argv + 1);
	if (!strcmp(cmd, "top"))
		return cmd_top(argc - 1, argv + 1);
	if (!strcmp(cmd, "doctor"))
		return cmd_doctor(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "advise"))
		return cmd_advise(argc - 1, argv + 1);
	fprintf(stderr, "iotrace: unknown command '%s'\n%s", cmd, cli_main_usage);
	return 2;
}
