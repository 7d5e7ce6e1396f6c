/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command-line parsing, kept apart from the commands so it can be tested. */
#ifndef IOTRACE_CLI_H
#define IOTRACE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "loader.h"
#include "output.h"

#define CLI_MAX_CGROUPS 64

struct record_opts {
	double interval_s; /* > 0 */
	double duration_s; /* 0: until SIGINT or SIGTERM */
	enum out_format format;
	const char *output; /* NULL: stdout */
	const char *cgroups[CLI_MAX_CGROUPS];
	int ncgroups;
	enum prog_mode prog;
	enum pmu_mode pmu;
	bool verbose;
};

enum cli_result {
	CLI_OK = 0,
	CLI_HELP = 1, /* --help: print usage, exit 0 */
	CLI_ERROR = -1, /* bad arguments: err says why, exit 2 */
};

/* argv[0] is the command name ("record"). */
enum cli_result cli_parse_record(int argc, char **argv, struct record_opts *o, char *err,
				 size_t errlen);

extern const char cli_record_usage[];
extern const char cli_main_usage[];

#endif
