// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Parsing of the commands' options; every error names the option. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The options of struct trace_opts, in every tracing command's help. */
#define SHARED_OPTIONS_HELP                                                              \
	"  -c, --cgroup PATH      only this cgroup (repeatable); PATH relative to the\n" \
	"                         cgroup2 mount (/docker/ID) or absolute inside it;\n"   \
	"                         descendants are separate workloads, not merged;\n"     \
	"                         a VM is shown when its process is in one of them\n"    \
	"      --prog-type TYPE   auto (default: tp_btf if the kernel takes it, else\n"  \
	"                         raw_tp), tp_btf or raw_tp\n"                           \
	"      --cycles SRC       auto (default: hardware cycle counter if present,\n"   \
	"                         else on-CPU time x TSC frequency), tsc, or\n"          \
	"                         cpu-clock (software event; tests the counter path,\n"  \
	"                         reported as cycles_source \"pmu-cpu-clock\")\n"        \
	"  -v, --verbose          print libbpf and verifier messages\n"                  \
	"  -h, --help             show this help\n"

const char cli_main_usage[] =
	"Usage: iotrace COMMAND [OPTIONS]\n"
	"\n"
	"Measure, per workload (cgroup, container, VM), the CPU time and block I/O\n"
	"it costs the host, with BPF programs on kernel tracepoints.\n"
	"\n"
	"Commands:\n"
	"  top        live full-screen monitor of every workload (batch mode: -b)\n"
	"  record     write per-workload figures every interval as JSON lines or CSV\n"
	"  serve      Prometheus metrics over HTTP (/metrics) or as a textfile\n"
	"  report     per-workload cost summaries of a recording (record -o FILE.iotr)\n"
	"  doctor     what works on this host and what does not, and what to do\n"
	"  advise     watch VMs and containers a while, then what to change and why\n"
	"  help       show this help, or a command's: iotrace help top\n"
	"  version    print the version\n"
	"\n"
	"Needs root, or CAP_BPF and CAP_PERFMON, and a kernel with BTF.\n"
	"See 'iotrace top --help', 'iotrace record --help' and docs/record-format.md.\n";

const char cli_record_usage[] =
	"Usage: iotrace record [OPTIONS]\n"
	"\n"
	"Write one line per active workload every interval and, when the duration\n"
	"ends or on SIGINT/SIGTERM, one summary line per workload seen, with what\n"
	"the advice rules found (as 'iotrace advise').  Workloads are cgroups, and\n"
	"VMs: each KVM or QEMU process gets a row of its own (kind \"vm\") with its\n"
	"exits and its threads' costs by role.\n"
	"\n"
	"Options:\n"
	"  -i, --interval SEC     seconds between lines (default 1; 0.1 to 3600)\n"
	"  -D, --duration SEC     stop after SEC seconds (default: run until Ctrl-C)\n"
	"  -f, --format FMT       json (JSON lines, default), csv, or iotr (a\n"
	"                         compressed recording for 'iotrace report';\n"
	"                         the default when FILE ends in .iotr)\n"
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
	"      --no-bpf-stats     leave the kernel's BPF run-time statistics off\n"
	"                         (they cost 20-40 ns per program run; the self\n"
	"                         lines then have no own-cost figures)\n"
	"  -v, --verbose          print libbpf and verifier messages\n"
	"  -h, --help             show this help\n"
	"\n"
	"Examples:\n"
	"  iotrace record -D 60 -o run.json            one minute of the whole host\n"
	"  iotrace record -D 3600 -o host.iotr         an hour, for 'iotrace report'\n"
	"  iotrace record -c /system.slice/docker-ID.scope -f csv\n";

const char cli_top_usage[] =
	"Usage: iotrace top [OPTIONS]\n"
	"\n"
	"Live monitor of every workload on the host (containers, VMs, cgroups),\n"
	"refreshed every DELAY seconds: CPU, block reads and writes, packets, KVM\n"
	"exits, cycles and exits per I/O operation, p99 block latency.  Without a\n"
	"terminal on standard output, or with -b, prints the table as plain text\n"
	"every DELAY seconds instead (like top -b).\n"
	"\n"
	"Options:\n"
	"  -d, --delay SEC        seconds between updates (default 1; 0.1 to 3600)\n"
	"  -b, --batch            plain text tables, no full screen\n"
	"  -n, --iterations N     stop after N updates (default: run until q/Ctrl-C)\n" SHARED_OPTIONS_HELP
	"\n"
	"Keys: q quit, h help, c/r/w/m/t/e/y/x/l/n/k sort by CPU, reads, writes, MB/s,\n"
	"packets, exits, cycles/IO, exits/IO, latency, name, kind (P: CPU), < > the\n"
	"sort column left/right, / filter by name, Enter details, Esc back, p pause,\n"
	"arrows/PgUp/PgDn move.\n";

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

/* An option's number of seconds into *out; else -1 and err says what is allowed. */
static int seconds_opt(const char *name, const char *arg, double min, double max, double *out,
		       char *err, size_t errlen)
{
	if (!parse_seconds(arg, min, max, out))
		return 0;
	snprintf(err, errlen, "%s: '%s' is not a number of seconds from %.10g to %.10g", name, arg,
		 min, max);
	return -1;
}

enum { OPT_PROG_TYPE = 256, OPT_CYCLES, OPT_NO_BPF_STATS };

/* 1: opt was a trace option and is taken; 0: not one; -1: bad value (err set). */
static int parse_trace_option(int opt, const char *arg, struct trace_opts *t, char *err,
			      size_t errlen)
{
	switch (opt) {
	case 'c':
		if (t->ncgroups == CLI_MAX_CGROUPS) {
			snprintf(err, errlen, "--cgroup: at most %d cgroups", CLI_MAX_CGROUPS);
			return -1;
		}
		if (!*arg) {
			snprintf(err, errlen, "--cgroup: empty path");
			return -1;
		}
		t->cgroups[t->ncgroups++] = arg;
		return 1;
	case OPT_PROG_TYPE:
		if (!strcmp(arg, "auto")) {
			t->prog = PROG_AUTO;
		} else if (!strcmp(arg, "tp_btf")) {
			t->prog = PROG_TP_BTF;
		} else if (!strcmp(arg, "raw_tp")) {
			t->prog = PROG_RAW_TP;
		} else {
			snprintf(err, errlen, "--prog-type: '%s' is not auto, tp_btf or raw_tp",
				 arg);
			return -1;
		}
		return 1;
	case OPT_CYCLES:
		if (!strcmp(arg, "auto")) {
			t->pmu = PMU_AUTO;
		} else if (!strcmp(arg, "tsc")) {
			t->pmu = PMU_NONE;
		} else if (!strcmp(arg, "cpu-clock")) {
			t->pmu = PMU_CPU_CLOCK;
		} else {
			snprintf(err, errlen, "--cycles: '%s' is not auto, tsc or cpu-clock", arg);
			return -1;
		}
		return 1;
	case 'v':
		t->verbose = true;
		return 1;
	default:
		return 0;
	}
}

/* The start of every parse: trace defaults, getopt reset. */
static void parse_begin(struct trace_opts *t, char *err)
{
	t->prog = PROG_AUTO;
	t->pmu = PMU_AUTO;
	err[0] = '\0';
	optind = 0; /* glibc: full reinitialisation, so tests may parse again */
	opterr = 0;
}

/* The end of every parse: errors getopt reported, and stray arguments. */
static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

static enum cli_result parse_tail(int c, int argc, char **argv, char *err, size_t errlen)
{
	if (c == ':') {
		snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
		return CLI_ERROR;
	}
	if (c != -1) {
		if (optopt)
			snprintf(err, errlen, "unknown option -%c", optopt);
		else
			snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
		return CLI_ERROR;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return CLI_ERROR;
	}
	return CLI_OK;
}

#define TRACE_LONGOPTS                                                   \
	{ "cgroup", required_argument, NULL, 'c' },                      \
		{ "prog-type", required_argument, NULL, OPT_PROG_TYPE }, \
		{ "cycles", required_argument, NULL, OPT_CYCLES },       \
		{ "verbose", no_argument, NULL, 'v' },                   \
	{                                                                \
		"help", no_argument, NULL, 'h'                           \
	}

enum cli_result cli_parse_record(int argc, char **argv, struct record_opts *o, char *err,
				 size_t errlen)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-bpf-stats", no_argument, NULL, OPT_NO_BPF_STATS },
		TRACE_LONGOPTS,
		{ 0 },
	};
	bool format_given = false;
	int c, taken;

	memset(o, 0, sizeof(*o));
	o->interval_s = 1.0;
	o->format = REC_JSON;
	parse_begin(&o->t, err);
	while ((c = getopt_long(argc, argv, ":i:D:f:o:c:vh", longopts, NULL)) != -1) {
		taken = parse_trace_option(c, optarg, &o->t, err, errlen);
		if (taken < 0)
			return CLI_ERROR;
		if (taken)
			continue;
		switch (c) {
		case 'i':
			if (seconds_opt("--interval", optarg, 0.1, 3600, &o->interval_s, err,
					errlen))
				return CLI_ERROR;
			break;
		case 'D':
			if (seconds_opt("--duration", optarg, 0, 31 * 24 * 3600.0, &o->duration_s,
					err, errlen))
				return CLI_ERROR;
			break;
		case 'f':
			if (!strcmp(optarg, "json")) {
				o->format = REC_JSON;
			} else if (!strcmp(optarg, "csv")) {
				o->format = REC_CSV;
			} else if (!strcmp(optarg, "iotr")) {
				o->format = REC_IOTR;
			} else {
				snprintf(err, errlen, "--format: '%s' is not json, csv or iotr",
					 optarg);
				return CLI_ERROR;
			}
			format_given = true;
			break;
		case 'o':
			if (!*optarg) {
				snprintf(err, errlen, "--output: empty file name");
				return CLI_ERROR;
			}
			o->output = optarg;
			break;
		case OPT_NO_BPF_STATS:
			o->no_bpf_stats = true;
			break;
		case 'h':
			return CLI_HELP;
		default:
			return parse_tail(c, argc, argv, err, errlen);
		}
	}
	if (parse_tail(-1, argc, argv, err, errlen) != CLI_OK)
		return CLI_ERROR;
	/* An explicit --format wins over the file name. */
	if (!format_given && o->output && has_suffix(o->output, ".iotr"))
		o->format = REC_IOTR;
	if (o->format == REC_IOTR && !o->output) {
		snprintf(err, errlen,
			 "--format iotr: a recording is binary and needs --output FILE.iotr");
		return CLI_ERROR;
	}
	return CLI_OK;
}

const char cli_report_usage[] =
	"Usage: iotrace report FILE.iotr [OPTIONS]\n"
	"\n"
	"Per-workload cost summaries of a recording made with\n"
	"'iotrace record -o FILE.iotr': totals, IOPS, packets/s, CPU (% of one CPU\n"
	"and seconds), cycles and KVM exits per I/O operation, block latency p50 and\n"
	"p99 over the whole recording, and each workload's peak interval.  A damaged\n"
	"recording is read as far as it is intact; what was skipped, and where, is\n"
	"said on standard error (and in the JSON).\n"
	"\n"
	"Options:\n"
	"  -f, --format FMT       table (default), json (JSON lines) or csv\n"
	"  -b, --by WHAT          cgroup (default: every workload as recorded),\n"
	"                         container (container rows, one per container id)\n"
	"                         or vm (VM processes, one per pid and name)\n"
	"  -s, --sort KEY         cpu (default), iops, packets, cycles-per-io,\n"
	"                         exits-per-io, p99 (largest first) or name\n"
	"  -t, --top N            only the first N rows: the N costliest by CPU\n"
	"  -o, --output FILE      write to FILE instead of standard output\n"
	"  -h, --help             show this help\n"
	"\n"
	"Exit status: 0 report written (also from a damaged recording), 1 the\n"
	"recording cannot be read or the report cannot be written, 2 bad arguments.\n"
	"\n"
	"Examples:\n"
	"  iotrace record -D 600 -o run.iotr; iotrace report run.iotr\n"
	"  iotrace report run.iotr --by container --top 10 --format json\n";

enum cli_result cli_parse_report(int argc, char **argv, struct report_opts *o, char *err,
				 size_t errlen)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "by", required_argument, NULL, 'b' },
		{ "sort", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const sorts[] = {
		[REPORT_SORT_CPU] = "cpu",
		[REPORT_SORT_IOPS] = "iops",
		[REPORT_SORT_PACKETS] = "packets",
		[REPORT_SORT_CYCLES_PER_IO] = "cycles-per-io",
		[REPORT_SORT_EXITS_PER_IO] = "exits-per-io",
		[REPORT_SORT_P99] = "p99",
		[REPORT_SORT_NAME] = "name",
	};
	struct trace_opts unused;
	char *end;
	int c;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->format = REPORT_TABLE;
	o->by = REPORT_BY_CGROUP;
	o->sort = REPORT_SORT_CPU;
	parse_begin(&unused, err);
	while ((c = getopt_long(argc, argv, ":f:b:s:t:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "table")) {
				o->format = REPORT_TABLE;
			} else if (!strcmp(optarg, "json")) {
				o->format = REPORT_JSON;
			} else if (!strcmp(optarg, "csv")) {
				o->format = REPORT_CSV;
			} else {
				snprintf(err, errlen, "--format: '%s' is not table, json or csv",
					 optarg);
				return CLI_ERROR;
			}
			break;
		case 'b':
			if (!strcmp(optarg, "cgroup")) {
				o->by = REPORT_BY_CGROUP;
			} else if (!strcmp(optarg, "container")) {
				o->by = REPORT_BY_CONTAINER;
			} else if (!strcmp(optarg, "vm")) {
				o->by = REPORT_BY_VM;
			} else {
				snprintf(err, errlen, "--by: '%s' is not cgroup, container or vm",
					 optarg);
				return CLI_ERROR;
			}
			break;
		case 's':
			for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
				if (!strcmp(optarg, sorts[i]))
					break;
			if (i == sizeof(sorts) / sizeof(sorts[0])) {
				snprintf(err, errlen,
					 "--sort: '%s' is not cpu, iops, packets, cycles-per-io, "
					 "exits-per-io, p99 or name",
					 optarg);
				return CLI_ERROR;
			}
			o->sort = (enum report_sort)i;
			break;
		case 't':
			errno = 0;
			o->top = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->top < 1) {
				snprintf(err, errlen, "--top: '%s' is not a number >= 1", optarg);
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
		case 'h':
			return CLI_HELP;
		default:
			return parse_tail(c, argc, argv, err, errlen);
		}
	}
	if (optind >= argc) {
		snprintf(err, errlen, "missing the recording to read (iotrace report FILE.iotr)");
		return CLI_ERROR;
	}
	o->input = argv[optind++];
	if (!*o->input) {
		snprintf(err, errlen, "empty recording file name");
		return CLI_ERROR;
	}
	return parse_tail(-1, argc, argv, err, errlen);
}

enum cli_result cli_parse_top(int argc, char **argv, struct top_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		TRACE_LONGOPTS,
		{ 0 },
	};
	char *end;
	int c, taken;

	memset(o, 0, sizeof(*o));
	o->delay_s = 1.0;
	parse_begin(&o->t, err);
	while ((c = getopt_long(argc, argv, ":d:bn:c:vh", longopts, NULL)) != -1) {
		taken = parse_trace_option(c, optarg, &o->t, err, errlen);
		if (taken < 0)
			return CLI_ERROR;
		if (taken)
			continue;
		switch (c) {
		case 'd':
			if (seconds_opt("--delay", optarg, 0.1, 3600, &o->delay_s, err, errlen))
				return CLI_ERROR;
			break;
		case 'b':
			o->batch = true;
			break;
		case 'n':
			errno = 0;
			o->iterations = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->iterations < 1) {
				snprintf(err, errlen, "--iterations: '%s' is not a number >= 1",
					 optarg);
				return CLI_ERROR;
			}
			break;
		case 'h':
			return CLI_HELP;
		default:
			return parse_tail(c, argc, argv, err, errlen);
		}
	}
	return parse_tail(-1, argc, argv, err, errlen);
}

const char cli_serve_usage[] =
	"Usage: iotrace serve [OPTIONS]\n"
	"\n"
	"Export every workload's run totals (CPU time and cycles, block and network\n"
	"I/O, block latency histogram, a VM's exits) and iotrace's own figures as\n"
	"Prometheus metrics: over HTTP at /metrics, read from the kernel at each\n"
	"scrape, and/or as DIR/iotrace.prom for node_exporter's textfile collector,\n"
	"rewritten (temporary file, then rename) every interval.  The metrics are\n"
	"described in docs/metrics.md.\n"
	"\n"
	"Options:\n"
	"  -l, --listen ADDR      serve http://ADDR/metrics; ADDR is HOST:PORT\n"
	"                         (127.0.0.1:9464, [::1]:9464, or :9464 for every\n"
	"                         address; port 0: any free port).  Default\n"
	"                         " CLI_SERVE_DEFAULT_LISTEN " unless --textfile is given\n"
	"  -t, --textfile DIR     write DIR/iotrace.prom every interval (node_exporter\n"
	"                         --collector.textfile.directory); removed at exit\n"
	"  -i, --interval SEC     seconds between reads of the kernel tables, and\n"
	"                         textfile writes (default 5; 0.1 to 3600)\n" SHARED_OPTIONS_HELP
	"\n"
	"Examples:\n"
	"  iotrace serve --listen 127.0.0.1:9464\n"
	"  iotrace serve --textfile /var/lib/prometheus/node-exporter --interval 15\n";

/*
 * HOST:PORT, [V6HOST]:PORT or :PORT, PORT 0 to 65535.  0, or -1 with err
 * set.  The host is only split off here; serve resolves it.
 */
static int parse_listen(const char *arg, struct serve_opts *o, char *err, size_t errlen)
{
	const char *colon, *host = arg, *port;
	size_t hlen;
	char *end;
	long p;

	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':')
			goto bad;
		host = arg + 1;
		hlen = (size_t)(close - host);
		port = close + 2;
		if (!hlen)
			goto bad;
	} else {
		colon = strrchr(arg, ':');
		if (!colon || memchr(arg, ':', (size_t)(colon - arg)))
			goto bad; /* no port, or an IPv6 address without brackets */
		hlen = (size_t)(colon - arg);
		port = colon + 1;
	}
	if (hlen >= sizeof(o->listen_host))
		goto bad;
	errno = 0;
	p = strtol(port, &end, 10);
	if (*port < '0' || *port > '9' || *end || errno || p > 65535) {
		snprintf(err, errlen, "--listen: '%s': the port is not a number from 0 to 65535",
			 arg);
		return -1;
	}
	memcpy(o->listen_host, host, hlen);
	o->listen_host[hlen] = '\0';
	o->listen_port = (unsigned int)p;
	o->listen = arg;
	return 0;
bad:
	snprintf(err, errlen,
		 "--listen: '%s' is not HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, :9464)", arg);
	return -1;
}

enum cli_result cli_parse_serve(int argc, char **argv, struct serve_opts *o, char *err,
				size_t errlen)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "textfile", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		TRACE_LONGOPTS,
		{ 0 },
	};
	int c, taken;

	memset(o, 0, sizeof(*o));
	o->interval_s = 5.0;
	parse_begin(&o->t, err);
	while ((c = getopt_long(argc, argv, ":l:t:i:c:vh", longopts, NULL)) != -1) {
		taken = parse_trace_option(c, optarg, &o->t, err, errlen);
		if (taken < 0)
			return CLI_ERROR;
		if (taken)
			continue;
		switch (c) {
		case 'l':
			if (parse_listen(optarg, o, err, errlen))
				return CLI_ERROR;
			break;
		case 't':
			if (!*optarg) {
				snprintf(err, errlen, "--textfile: empty directory name");
				return CLI_ERROR;
			}
			o->textfile_dir = optarg;
			break;
		case 'i':
			if (seconds_opt("--interval", optarg, 0.1, 3600, &o->interval_s, err,
					errlen))
				return CLI_ERROR;
			break;
		case 'h':
			return CLI_HELP;
		default:
			return parse_tail(c, argc, argv, err, errlen);
		}
	}
	if (parse_tail(-1, argc, argv, err, errlen) != CLI_OK)
		return CLI_ERROR;
	if (!o->listen && !o->textfile_dir &&
	    parse_listen(CLI_SERVE_DEFAULT_LISTEN, o, err, errlen))
		return CLI_ERROR;
	return CLI_OK;
}

const char cli_doctor_usage[] =
	"Usage: iotrace doctor [OPTIONS]\n"
	"\n"
	"Check what works on this host and what does not, each with the reason\n"
	"and what to do: kernel BTF, privileges, cgroup mode, which program type\n"
	"loads (tp_btf or raw_tp), each tracepoint group (sched, block, net, kvm),\n"
	"the cycle source, whether kvm_exit fires (a tiny test guest is run when\n"
	"/dev/kvm is usable) and whether libvirt answers.  It loads and attaches\n"
	"the programs as 'iotrace top' does, for about a second.  Exit status 0\n"
	"when everything 'iotrace top' needs is there, 1 when not.\n"
	"\n"
	"Options:\n"
	"      --prog-type TYPE   auto (default), tp_btf or raw_tp\n"
	"      --cycles SRC       auto (default), tsc, or cpu-clock\n"
	"  -v, --verbose          print libbpf and verifier messages\n"
	"  -h, --help             show this help\n";

enum cli_result cli_parse_doctor(int argc, char **argv, struct doctor_opts *o, char *err,
				 size_t errlen)
{
	static const struct option longopts[] = {
		TRACE_LONGOPTS,
		{ 0 },
	};
	int c, taken;

	memset(o, 0, sizeof(*o));
	parse_begin(&o->t, err);
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		taken = parse_trace_option(c, optarg, &o->t, err, errlen);
		if (taken < 0)
			return CLI_ERROR;
		if (taken)
			continue;
		if (c == 'h')
			return CLI_HELP;
		return parse_tail(c, argc, argv, err, errlen);
	}
	if (parse_tail(-1, argc, argv, err, errlen) != CLI_OK)
		return CLI_ERROR;
	if (o->t.ncgroups) {
		snprintf(err, errlen, "--cgroup: doctor checks the whole host, not a cgroup");
		return CLI_ERROR;
	}
	return CLI_OK;
}

const char cli_advise_usage[] =
	"Usage: iotrace advise [OPTIONS]\n"
	"\n"
	"Watch every VM and container on this host for a while, then say what to\n"
	"change in each one's configuration and why: each finding has an id, the\n"
	"evidence measured (and where it came from), the QEMU, libvirt, docker or\n"
	"podman setting to change, and the saving to expect, estimated from this\n"
	"host's measurements where it can be.  A rule whose evidence is too thin\n"
	"(too few I/Os or packets, too short a look) raises nothing.  Findings:\n"
	"vm.io_main_loop, vm.no_hugepages, vm.cpu_topology, vm.unpinned_vcpu,\n"
	"net.nat, net.bridge, storage.writable_layer (docs/advice.md); record's\n"
	"summary lines, report and top's drill-down show them too.  Exit status 0\n"
	"whether or not anything is found.\n"
	"\n"
	"Options:\n"
	"  -D, --duration SEC     how long to watch (default 10; 1 to 86400); Ctrl-C\n"
	"                         stops early and advises on what was seen\n"
	"  -f, --format FMT       table (default) or json (JSON lines)\n" SHARED_OPTIONS_HELP;

enum cli_result cli_parse_advise(int argc, char **argv, struct advise_opts *o, char *err,
				 size_t errlen)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		TRACE_LONGOPTS,
		{ 0 },
	};
	int c, taken;

	memset(o, 0, sizeof(*o));
	o->duration_s = 10;
	o->format = ADVISE_TABLE;
	parse_begin(&o->t, err);
	while ((c = getopt_long(argc, argv, ":D:f:c:vh", longopts, NULL)) != -1) {
		taken = parse_trace_option(c, optarg, &o->t, err, errlen);
		if (taken < 0)
			return CLI_ERROR;
		if (taken)
			continue;
		switch (c) {
		case 'D':
			if (seconds_opt("--duration", optarg, 1, 86400, &o->duration_s, err,
					errlen))
				return CLI_ERROR;
			break;
		case 'f':
			if (!strcmp(optarg, "table")) {
				o->format = ADVISE_TABLE;
			} else if (!strcmp(optarg, "json")) {
				o->format = ADVISE_JSON;
			} else {
				snprintf(err, errlen, "--format: '%s' is not table or json",
					 optarg);
				return CLI_ERROR;
			}
			break;
		case 'h':
			return CLI_HELP;
		default:
			return parse_tail(c, argc, argv, err, errlen);
		}
	}
	return parse_tail(-1, argc, argv, err, errlen);
}
