/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command-line parsing, kept apart from the commands so it can be tested. */
#ifndef IOTRACE_CLI_H
#define IOTRACE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "loader.h"
#include "output.h"

#define CLI_MAX_CGROUPS 64

/* What to trace and how: the options record and top share. */
struct trace_opts {
	const char *cgroups[CLI_MAX_CGROUPS];
	int ncgroups;
	enum prog_mode prog;
	enum pmu_mode pmu;
	bool verbose;
};

/* What record writes: lines (docs/record-format.md) or a recording. */
enum record_format {
	REC_JSON,
	REC_CSV,
	REC_IOTR, /* compressed recording (docs/recording-format.md); needs --output */
};

struct record_opts {
	double interval_s; /* > 0 */
	double duration_s; /* 0: until SIGINT or SIGTERM */
	enum record_format format;
	const char *output; /* NULL: stdout */
	struct trace_opts t;
};

struct top_opts {
	double delay_s; /* > 0: between refreshes */
	bool batch; /* -b, or chosen because stdout is not a terminal */
	long iterations; /* -n: stop after that many updates; 0: never */
	struct trace_opts t;
};

enum cli_result {
	CLI_OK = 0,
	CLI_HELP = 1, /* --help: print usage, exit 0 */
	CLI_ERROR = -1, /* bad arguments: err says why, exit 2 */
};

/* argv[0] is the command name ("record"). */
enum cli_result cli_parse_record(int argc, char **argv, struct record_opts *o, char *err,
				 size_t errlen);

/* argv[0] is "top".  batch is set by -b only; the caller adds the no-tty rule. */
enum cli_result cli_parse_top(int argc, char **argv, struct top_opts *o, char *err, size_t errlen);

extern const char cli_record_usage[];
extern const char cli_top_usage[];
extern const char cli_main_usage[];

/* `iotrace doctor`: the trace options only decide how the programs load. */
struct doctor_opts {
	struct trace_opts t;
};

/* argv[0] is "doctor". */
enum cli_result cli_parse_doctor(int argc, char **argv, struct doctor_opts *o, char *err,
				 size_t errlen);
extern const char cli_doctor_usage[];

#endif
