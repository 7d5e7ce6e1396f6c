// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Findings as text and JSON.  See advice_out.h. */
#include <stdio.h>
#include <string.h>

#include "advice_out.h"
#include "output.h"

static void json_fig(FILE *f, const struct advice_fig *g)
{
	out_json_str(f, g->key);
	fputc(':', f);
	switch (g->type) {
	case ADVICE_FIG_NUM:
		fprintf(f, "%.*f", g->prec, g->num);
		break;
	case ADVICE_FIG_STR:
		out_json_str(f, g->str);
		break;
	default:
		fputs("null", f);
	}
}

void advice_json_id(FILE *f, const struct advice_finding *fd)
{
	fputs("\"id\":", f);
	out_json_str(f, fd->id);
	fputs(",\"severity\":", f);
	out_json_str(f, advice_severity_name(fd->severity));
}

void advice_json_body(FILE *f, const struct advice_finding *fd)
{
	fputs(",\"summary\":", f);
	out_json_str(f, fd->summary);
	fputs(",\"evidence\":{", f);
	for (size_t i = 0; i < fd->nevidence; i++) {
		json_fig(f, &fd->evidence[i]);
		fputc(',', f);
	}
	fputs("\"source\":", f);
	out_json_str(f, fd->source);
	fputs("},\"remedy\":", f);
	out_json_str(f, fd->remedy);
	fputs(",\"saving\":{\"estimated\":", f);
	fputs(fd->nsaving ? "true" : "false", f);
	for (size_t i = 0; i < fd->nsaving; i++) {
		fputc(',', f);
		json_fig(f, &fd->saving[i]);
	}
	fputs(",\"basis\":", f);
	out_json_str(f, fd->saving_basis);
	fputc('}', f);
}

void advice_json_finding(FILE *f, const struct advice_finding *fd)
{
	fputc('{', f);
	advice_json_id(f, fd);
	advice_json_body(f, fd);
	fputc('}', f);
}

void advice_wrap(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col > indent && col + 1 + (int)word > 78) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, word, f);
		col += (int)word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

static void fig_text(const struct advice_fig *g, char *buf, size_t len)
{
	switch (g->type) {
	case ADVICE_FIG_NUM:
		snprintf(buf, len, "%s=%.*f", g->key, g->prec, g->num);
		break;
	case ADVICE_FIG_STR:
		snprintf(buf, len, "%s=%s", g->key, g->str);
		break;
	default:
		snprintf(buf, len, "%s=null", g->key);
	}
}

/* Figures as "key=value key=value" into line; returns its length. */
static size_t figs_text(const struct advice_fig *g, size_t n, char *line, size_t len)
{
	char one[160];
	size_t at = 0;

	line[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++) {
		fig_text(&g[i], one, sizeof(one));
		at += (size_t)snprintf(line + at, len - at, "%s%s", i ? " " : "", one);
	}
	return at < len ? at : len - 1;
}

void advice_table_finding(FILE *f, const char *who, const struct advice_finding *fd)
{
	char line[2048];
	size_t n;

	fprintf(f, "\n[%s] %s  %s\n", advice_severity_name(fd->severity), fd->id, who);
	fputs("  ", f);
	advice_wrap(f, fd->summary, 2, 2);
	figs_text(fd->evidence, fd->nevidence, line, sizeof(line));
	fputs("  evidence: ", f);
	advice_wrap(f, line, 12, 12);
	fputs("  from:     ", f);
	advice_wrap(f, fd->source, 12, 12);
	fputs("  remedy:   ", f);
	advice_wrap(f, fd->remedy, 12, 12);
	n = figs_text(fd->saving, fd->nsaving, line, sizeof(line));
	snprintf(line + n, sizeof(line) - n, "%s%s", fd->nsaving ? " -- " : "", fd->saving_basis);
	fputs("  saving:   ", f);
	advice_wrap(f, line, 12, 12);
}
