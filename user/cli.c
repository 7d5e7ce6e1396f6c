// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Parsing of `iotrace record` options; every error names the option. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_main_usage[] =
	"Usage: iotrace COMMAND [OPTIONS]\n"
	"\n"
	"Measure, per workload (cgroup, container, VM), the CPU time and block I/O\n"
	"it costs the host, with BPF programs on kernel tracepoints.\n"
	"\n"
	"Commands:\n"
	"  record     write per-workload figures every interval as JSON lines or CSV\n"
	"  help       show this help, or a command's: iotrace help record\n"
	"  version    print the version\n"
	"\n"
	"Needs root, or CAP_BPF and CAP_PERFMON, and a kernel with BTF.\n"
	"See 'iotrace record --help' and docs/record-format.md.\n";

const char cli_record_usage[] =
	"Usage: iotrace record [OPTIONS]\n"
	"\n"
	"Write one line per active workload every interval and, when the duration\n"
	"ends or on SIGINT/SIGTERM, one summary line per workload seen.  Workloads\n"
	"are cgroups, and VMs: each KVM or QEMU process gets a row of its own\n"
	"(kind \"vm\") with its exits and its threads' costs by role.\n"
	"\n"
	"Options:\n"
	"  -i, --interval SEC     seconds between lines (default 1; 0.1 to 3600)\n"
	"  -D, --duration SEC     stop after SEC seconds (default: run until Ctrl-C)\n"
	"  -f, --format FMT       json (JSON lines, default) or csv\n"
	"  -o, --output FILE      write to FILE instead of standard output\n"
	"  -c, --cgroup PATH      only this cgroup (repeatable); PATH relative to the\n"
	"                         cgroup2 mount (/docker/ID) or absolute inside it;\n"
	"                         descendants are separate workloads, not merged;\n"
	"                         a VM is shown when its process is in one of them\n"
	"      --prog-type TYPE   auto (default: tp_btf if the kernel takes it, else\n"
	"                         raw_tp), tp_btf or raw_tp\n"
	"      --cycles SRC       auto (default: hardware cycle counter if present,\n"
	"                         else on-CPU time x TSC frequency), tsc, or\n"
	"                         cpu-clock (software event; tests the counter path,\n"
	"                         reported as cycles_source \"pmu-cpu-clock\")\n"
	"  -v, --verbose          print libbpf and verifier messages\n"
	"  -h, --help             show this help\n"
	"\n"
	"Examples:\n"
	"  iotrace record -D 60 -o run.json            one minute of the whole host\n"
	"  iotrace record -c /system.slice/docker-ID.scope -f csv\n";

static int parse_seconds(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

enum cli_result cli_parse_record(int argc, char **argv, struct record_opts *o, char *err,
				 size_t errlen)
{
	enum { OPT_PROG_TYPE = 256, OPT_CYCLES };
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "prog-type", required_argument, NULL, OPT_PROG_TYPE },
		{ "cycles", required_argument, NULL, OPT_CYCLES },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->interval_s = 1.0;
	o->format = OUT_JSON;
	o->prog = PROG_AUTO;
	o->pmu = PMU_AUTO;
	err[0] = '\0';

	optind = 0; /* glibc: full reinitialisation, so tests may parse again */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:D:f:o:c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds(optarg, 0.1, 3600, &o->interval_s)) {
				snprintf(
					err, errlen,
					"--interval: '%s' is not a number of seconds from 0.1 to 3600",
					optarg);
				return CLI_ERROR;
			}
			break;
		case 'D':
			if (parse_seconds(optarg, 0, 31 * 24 * 3600.0, &o->duration_s)) {
				snprintf(err, errlen,
					 "--duration: '%s' is not a number of seconds >= 0",
					 optarg);
				return CLI_ERROR;
			}
			break;
		case 'f':
			if (!strcmp(optarg, "json")) {
				o->format = OUT_JSON;
			} else if (!strcmp(optarg, "csv")) {
				o->format = OUT_CSV;
			} else {
				snprintf(err, errlen, "--format: '%s' is not json or csv", optarg);
				return CLI_ERROR;
			}
			break;
		case 'o':
			if (!*optarg) {
				snprintf(err, errlen, "--output: empty file name");
				return CLI_ERROR;
			}
			o->output = optarg;
			break;
		case 'c':
			if (o->ncgroups == CLI_MAX_CGROUPS) {
				snprintf(err, errlen, "--cgroup: at most %d cgroups",
					 CLI_MAX_CGROUPS);
				return CLI_ERROR;
			}
			if (!*optarg) {
				snprintf(err, errlen, "--cgroup: empty path");
				return CLI_ERROR;
			}
			o->cgroups[o->ncgroups++] = optarg;
			break;
		case OPT_PROG_TYPE:
			if (!strcmp(optarg, "auto")) {
				o->prog = PROG_AUTO;
			} else if (!strcmp(optarg, "tp_btf")) {
				o->prog = PROG_TP_BTF;
			} else if (!strcmp(optarg, "raw_tp")) {
				o->prog = PROG_RAW_TP;
			} else {
				snprintf(err, errlen,
					 "--prog-type: '%s' is not auto, tp_btf or raw_tp", optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_CYCLES:
			if (!strcmp(optarg, "auto")) {
				o->pmu = PMU_AUTO;
			} else if (!strcmp(optarg, "tsc")) {
				o->pmu = PMU_NONE;
			} else if (!strcmp(optarg, "cpu-clock")) {
				o->pmu = PMU_CPU_CLOCK;
			} else {
				snprintf(err, errlen,
					 "--cycles: '%s' is not auto, tsc or cpu-clock", optarg);
				return CLI_ERROR;
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			return CLI_HELP;
		case ':':
			snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
			return CLI_ERROR;
		default:
			if (optopt)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return CLI_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return CLI_ERROR;
	}
	return CLI_OK;
}
