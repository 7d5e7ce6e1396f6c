// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace advise`: attach as record does, read every second for the
 * duration (or until SIGINT/SIGTERM/SIGHUP) while the advisor
 * (user/advisor.h) reads each live VM's and container's facts; then
 * evaluate the rules for every VM and container seen and print the
 * findings as a table or JSON lines (docs/advice.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "advice_ct.h"
#include "advice_out.h"
#include "advise.h"
#include "advisor.h"
#include "cli.h"
#include "output.h"
#include "session.h"
#include "ticks.h"

#define ADVISE_INTERVAL_S 1.0

struct advise_run {
	const struct advise_opts *o;
	struct session s;
	struct advisor adv;
	double run_s;
};

static int run_loop(struct advise_run *a, const sigset_t *stopset)
{
	double t0 = ticks_mono(), last = t0, next = t0 + ADVISE_INTERVAL_S, now;
	bool stop = false;
	int err;

	/* VMs and containers already running: their facts now, while they run. */
	advisor_observe(&a->adv, t0, 0);
	while (!stop) {
		double deadline = next;

		if (t0 + a->o->duration_s < deadline)
			deadline = t0 + a->o->duration_s;
		stop = ticks_wait_until(stopset, deadline);
		now = ticks_mono();
		if (now - t0 >= a->o->duration_s - 1e-6)
			stop = true;
		err = session_read(&a->s);
		if (err)
			return err;
		advisor_observe(&a->adv, now, now - last);
		last = now;
		while (next <= now)
			next += ADVISE_INTERVAL_S;
	}
	a->run_s = last - t0;
	return 0;
}

/* ---- output ---- */

static void json_workload(FILE *f, const struct vm_entry *vm)
{
	fprintf(f, "{\"kind\":\"vm\",\"pid\":%u,\"name\":", vm->pid);
	out_json_str(f, vm->name);
	fputs(",\"vm_uuid\":", f);
	out_json_str(f, vm->uuid[0] ? vm->uuid : NULL);
	fputs(",\"cgroup_path\":", f);
	out_json_str(f, vm->cgroup_path[0] ? vm->cgroup_path : NULL);
	fputc('}', f);
}

static void json_ct_workload(FILE *f, const struct advice_ct *ct, const struct wl_entry *e)
{
	fputs("{\"kind\":\"container\",\"cgroup_id\":", f);
	fprintf(f, "%llu,\"cgroup_path\":", (unsigned long long)e->id);
	out_json_str(f, ct->cgroup_path);
	fputs(",\"name\":", f);
	out_json_str(f, ct->name);
	fputs(",\"runtime\":", f);
	out_json_str(f, e->cls.runtime);
	fputs(",\"container_id\":", f);
	out_json_str(f, e->cls.container_id[0] ? e->cls.container_id : NULL);
	fprintf(f, ",\"pid\":%d}", ct->pid);
}

/* A finding line: its head, the workload, then its body (user/advice_out.h). */
static void json_finding_head(FILE *f, const struct advice_finding *fd)
{
	fputs("{\"type\":\"finding\",", f);
	advice_json_id(f, fd);
	fputs(",\"workload\":", f);
}

static void json_finding_body(FILE *f, const struct advice_finding *fd)
{
	advice_json_body(f, fd);
	fputs("}\n", f);
}

static void json_finding(FILE *f, const struct vm_entry *vm, const struct advice_finding *fd)
{
	json_finding_head(f, fd);
	json_workload(f, vm);
	json_finding_body(f, fd);
}

static void ct_print_findings(FILE *f, bool json, const struct advisor *adv)
{
	for (size_t i = 0; i < adv->ncts; i++) {
		const struct advisor_ct *c = &adv->cts[i];

		for (size_t k = 0; c->in.judged && k < c->res.nfindings; k++) {
			if (json) {
				json_finding_head(f, &c->res.findings[k]);
				json_ct_workload(f, &c->in, c->e);
				json_finding_body(f, &c->res.findings[k]);
			} else {
				char who[700];

				snprintf(who, sizeof(who), "container %s (cgroup %s)", c->in.name,
					 c->in.cgroup_path);
				advice_table_finding(f, who, &c->res.findings[k]);
			}
		}
	}
}

static void ct_json_checks(FILE *f, const struct advisor *adv, bool first)
{
	for (size_t i = 0; i < adv->ncts; i++) {
		const struct advisor_ct *ct = &adv->cts[i];

		for (int k = 0; ct->in.judged && k < ADVICE_CT_NRULES; k++) {
			const struct advice_check *c = &ct->res.checks[k];

			fputs(first ? "{\"id\":" : ",{\"id\":", f);
			first = false;
			out_json_str(f, c->id);
			fputs(",\"cgroup_path\":", f);
			out_json_str(f, ct->in.cgroup_path);
			fputs(",\"name\":", f);
			out_json_str(f, ct->in.name);
			fputs(",\"status\":", f);
			out_json_str(f, advice_status_name(c->status));
			fputs(",\"reason\":", f);
			out_json_str(f, c->status == ADVICE_RAISED ? NULL : c->reason);
			fputc('}', f);
		}
	}
}

static void ct_table_checks(FILE *f, const struct advisor *adv)
{
	for (int pass = 0; pass < 2; pass++) {
		enum advice_status want = pass ? ADVICE_PASSED : ADVICE_THIN;
		bool head = false;

		for (size_t i = 0; i < adv->ncts; i++) {
			const struct advisor_ct *ct = &adv->cts[i];

			for (int k = 0; ct->in.judged && k < ADVICE_CT_NRULES; k++) {
				const struct advice_check *c = &ct->res.checks[k];
				char lead[1024];

				if (c->status != want)
					continue;
				if (!head)
					fprintf(f, "\n%s\n",
						pass ? "Containers checked, nothing to change:" :
						       "Containers not judged (evidence too thin):");
				head = true;
				snprintf(lead, sizeof(lead), "%s %s (cgroup %s): %s", c->id,
					 ct->in.name, ct->in.cgroup_path, c->reason);
				fputs("  ", f);
				advice_wrap(f, lead, 2, 4);
			}
		}
	}
}

static int print_results(struct advise_run *a)
{
	FILE *f = stdout;
	bool json = a->o->format == ADVISE_JSON;
	const struct advisor *adv = &a->adv;
	size_t nvm;
	int ret = 0;

	if (advisor_evaluate(&a->adv)) {
		fprintf(stderr, "iotrace: out of memory\n");
		return 1;
	}
	nvm = adv->nvms;
	if (!json)
		fprintf(f,
			"iotrace advise: %zu VM%s watched over %.1f s (and %zu container%s): %zu finding%s\n",
			nvm, nvm == 1 ? "" : "s", a->run_s, adv->njudged,
			adv->njudged == 1 ? "" : "s", adv->nfindings,
			adv->nfindings == 1 ? "" : "s");
	for (size_t i = 0; i < nvm; i++) {
		const struct vm_entry *vm = adv->vms[i].vm;
		const struct advice_result *res = &adv->vms[i].res;

		for (size_t k = 0; k < res->nfindings; k++) {
			if (json) {
				json_finding(f, vm, &res->findings[k]);
			} else {
				char who[300];

				snprintf(who, sizeof(who), "%s (pid %u)", vm->name, vm->pid);
				advice_table_finding(f, who, &res->findings[k]);
			}
		}
	}
	ct_print_findings(f, json, adv);
	if (json) {
		struct timespec now;
		char ts[64];
		bool first = true;

		clock_gettime(CLOCK_REALTIME, &now);
		out_format_ts(&now, ts, sizeof(ts));
		fputs("{\"type\":\"advise\",\"ts\":", f);
		out_json_str(f, ts);
		fprintf(f,
			",\"duration_s\":%.3f,\"vms\":%zu,\"containers\":%zu,"
			"\"containers_untracked\":%llu,\"findings\":%zu,\"thin\":%zu,\"checks\":[",
			a->run_s, nvm, adv->njudged, (unsigned long long)adv->ct_untracked,
			adv->nfindings, adv->nthin);
		for (size_t i = 0; i < nvm; i++) {
			const struct vm_entry *vm = adv->vms[i].vm;

			for (int k = 0; k < ADVICE_NRULES; k++) {
				const struct advice_check *c = &adv->vms[i].res.checks[k];

				fputs(first ? "{\"id\":" : ",{\"id\":", f);
				first = false;
				out_json_str(f, c->id);
				fprintf(f, ",\"pid\":%u,\"name\":", vm->pid);
				out_json_str(f, vm->name);
				fputs(",\"status\":", f);
				out_json_str(f, advice_status_name(c->status));
				fputs(",\"reason\":", f);
				out_json_str(f, c->status == ADVICE_RAISED ? NULL : c->reason);
				fputc('}', f);
			}
		}
		ct_json_checks(f, adv, first);
		fputs("]}\n", f);
	} else {
		for (int pass = 0; pass < 2; pass++) {
			enum advice_status want = pass ? ADVICE_PASSED : ADVICE_THIN;
			bool head = false;

			for (size_t i = 0; i < nvm; i++) {
				const struct vm_entry *vm = adv->vms[i].vm;
				const struct advice_check *checks = adv->vms[i].res.checks;
				bool same = true;

				/* One line for a VM whose rules all say the same (not QEMU, say). */
				for (int k = 1; k < ADVICE_NRULES; k++)
					same = same && checks[k].status == checks[0].status &&
					       !strcmp(checks[k].reason, checks[0].reason);
				for (int k = 0; k < (same ? 1 : ADVICE_NRULES); k++) {
					const struct advice_check *c = &checks[k];
					char lead[1024];

					if (c->status != want)
						continue;
					if (!head)
						fprintf(f, "\n%s\n",
							pass ? "Checked, nothing to change:" :
							       "Not judged (evidence too thin):");
					head = true;
					snprintf(lead, sizeof(lead), "%s %s (pid %u): %s",
						 same ? "every rule:" : c->id, vm->name, vm->pid,
						 c->reason);
					fputs("  ", f);
					advice_wrap(f, lead, 2, 4);
				}
			}
		}
		ct_table_checks(f, adv);
		if (!nvm && !adv->njudged)
			fputs("No VM or container was seen running.\n", f);
	}
	if (fflush(f)) {
		fprintf(stderr, "iotrace: cannot write to standard output: %s\n", strerror(errno));
		ret = 1;
	}
	return ret;
}

int cmd_advise(int argc, char **argv)
{
	struct advise_opts o;
	struct advise_run a = { .o = &o, .s = SESSION_INIT };
	struct session_opts so = { 0 };
	sigset_t stopset;
	char err[2048];
	int ret = 1;

	switch (cli_parse_advise(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_advise_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace advise: %s\nTry 'iotrace advise --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}
	ticks_hold_stop_signals(&stopset);

	so.t = &o.t;
	so.bpf_stats = false;
	if (session_open(&a.s, &so))
		goto out;
	advisor_init(&a.adv, &a.s);
	fprintf(stderr,
		"iotrace: advise: watching every VM and container for %g s; Ctrl-C to stop early\n",
		o.duration_s);
	if (run_loop(&a, &stopset))
		goto out;
	ret = print_results(&a);
out:
	advisor_free(&a.adv);
	session_close(&a.s);
	return ret;
}
