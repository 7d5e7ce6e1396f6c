/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command-line parsing, kept apart from the commands so it can be tested. */
#ifndef IOTRACE_CLI_H
#define IOTRACE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "loader.h"
#include "output.h"
#include "report_agg.h"

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
	bool no_bpf_stats; /* leave BPF run-time statistics off (own cost not shown) */
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

/* `iotrace report FILE.iotr`: what to print from a recording. */
enum report_format {
	REPORT_TABLE,
	REPORT_JSON,
	REPORT_CSV,
};

struct report_opts {
	const char *input; /* the recording */
	enum report_format format;
	enum report_by by;
	enum report_sort sort;
	long top; /* show the first N rows; 0: all */
	const char *output; /* NULL: stdout */
};

/* argv[0] is "report"; exactly one FILE argument. */
enum cli_result cli_parse_report(int argc, char **argv, struct report_opts *o, char *err,
				 size_t errlen);
extern const char cli_report_usage[];

/* argv[0] is "top".  batch is set by -b only; the caller adds the no-tty rule. */
enum cli_result cli_parse_top(int argc, char **argv, struct top_opts *o, char *err, size_t errlen);

/* `iotrace serve`: a Prometheus endpoint, a node_exporter textfile, or both. */
#define CLI_SERVE_DEFAULT_LISTEN "127.0.0.1:9464"

struct serve_opts {
	const char *listen; /* HOST:PORT as given; NULL: no HTTP endpoint */
	char listen_host[256]; /* "127.0.0.1", "::1" (brackets gone); "": every address */
	unsigned int listen_port; /* 0: any free port */
	const char *textfile_dir; /* NULL: no textfile */
	double interval_s; /* between reads of the kernel tables, and textfile writes */
	struct trace_opts t;
};

/*
 * argv[0] is "serve".  Without --listen or --textfile, listens on
 * CLI_SERVE_DEFAULT_LISTEN.  Only the syntax of --listen is checked here.
 */
enum cli_result cli_parse_serve(int argc, char **argv, struct serve_opts *o, char *err,
				size_t errlen);

extern const char cli_record_usage[];
extern const char cli_top_usage[];
extern const char cli_serve_usage[];
extern const char cli_main_usage[];

/* `iotrace doctor`: the trace options only decide how the programs load. */
struct doctor_opts {
	struct trace_opts t;
};

/* argv[0] is "doctor". */
enum cli_result cli_parse_doctor(int argc, char **argv, struct doctor_opts *o, char *err,
				 size_t errlen);
extern const char cli_doctor_usage[];

/* `iotrace advise`: watch for a while, then the findings for every VM seen. */
enum advise_format {
	ADVISE_TABLE,
	ADVISE_JSON,
};

struct advise_opts {
	double duration_s; /* > 0: how long to watch (default 10) */
	enum advise_format format;
	struct trace_opts t;
};

/* argv[0] is "advise". */
enum cli_result cli_parse_advise(int argc, char **argv, struct advise_opts *o, char *err,
				 size_t errlen);
extern const char cli_advise_usage[];

#endif
