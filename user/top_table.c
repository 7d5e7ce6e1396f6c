// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The `iotrace top` table: columns, cell formatting, fitting, sorting. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "top_table.h"

#define NAME_MIN 12
#define NAME_CAP 40

/*
 * `keep`: what an SRE looks for first stays longest on a narrow terminal:
 * CPU and the cost per I/O, then the I/O rates, then the rest.
 */
const struct top_col_def top_cols[TOP_NCOLS] = {
	[TOP_NAME] = { "NAME", NAME_MIN, 100, 'n' },
	[TOP_KIND] = { "KIND", 9, 60, 'k' },
	[TOP_CPU] = { "CPU%", 6, 90, 'c' },
	[TOP_RD] = { "R/s", 6, 80, 'r' },
	[TOP_WR] = { "W/s", 6, 75, 'w' },
	[TOP_MBS] = { "MB/s", 6, 40, 'm' },
	[TOP_PKT] = { "PKT/s", 6, 70, 't' },
	[TOP_EXIT] = { "EXIT/s", 6, 30, 'e' },
	[TOP_CYCIO] = { "CYC/IO", 6, 85, 'y' },
	[TOP_EXITIO] = { "EXIT/IO", 7, 65, 'x' },
	[TOP_P99] = { "P99", 7, 50, 'l' },
};

int top_fit_columns(int width, enum top_col *shown, int *name_width)
{
	bool on[TOP_NCOLS];
	int used, n = 0, c;

	for (c = 0; c < TOP_NCOLS; c++)
		on[c] = true;
	for (;;) {
		int lowest = -1;

		used = NAME_MIN;
		for (c = 1; c < TOP_NCOLS; c++)
			if (on[c])
				used += 1 + top_cols[c].width;
		if (used <= width)
			break;
		for (c = 1; c < TOP_NCOLS; c++)
			if (on[c] && (lowest < 0 || top_cols[c].keep < top_cols[lowest].keep))
				lowest = c;
		if (lowest < 0)
			break; /* only NAME left: it is cut to fit */
		on[lowest] = false;
	}
	*name_width = NAME_MIN + (width > used ? width - used : 0);
	if (*name_width > NAME_CAP)
		*name_width = NAME_CAP;
	if (used > width && width > 0 && width < NAME_MIN)
		*name_width = width;
	for (c = 0; c < TOP_NCOLS; c++)
		if (on[c])
			shown[n++] = (enum top_col)c;
	return n;
}

void top_fmt_si(double v, char *buf, size_t len)
{
	static const char units[] = "kMGTPE";
	int u = -1;

	if (!isfinite(v) || v < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (v < 999.5) {
		/* Small rates keep a decimal: 0.5 ops/s is not 0. */
		if (v > 0 && v < 9.95 && v != floor(v))
			snprintf(buf, len, "%.1f", v);
		else
			snprintf(buf, len, "%.0f", v);
		return;
	}
	/* Round first, so 999.6k becomes 1.00M and never "1000k". */
	while (u < 5 && v >= 999.5) {
		v /= 1000;
		u++;
	}
	if (v < 9.995)
		snprintf(buf, len, "%.2f%c", v, units[u]);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
}

void top_fmt_latency_us(double us, char *buf, size_t len)
{
	if (!isfinite(us) || us < 0)
		snprintf(buf, len, "-");
	else if (us < 999.5)
		snprintf(buf, len, "%.0fµs", us);
	else if (us < 9995)
		snprintf(buf, len, "%.2fms", us / 1000);
	else if (us < 99950)
		snprintf(buf, len, "%.1fms", us / 1000);
	else if (us < 999500)
		snprintf(buf, len, "%.0fms", us / 1000);
	else
		snprintf(buf, len, "%.2fs", us / 1e6);
}

int top_display_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void top_format_cell(const struct top_row *r, enum top_col c, char *buf, size_t len)
{
	double v = r->v[c];

	switch (c) {
	case TOP_NAME:
		snprintf(buf, len, "%s", r->name);
		break;
	case TOP_KIND:
		snprintf(buf, len, "%s", r->kind ? r->kind : "-");
		break;
	case TOP_CPU:
		if (!isfinite(v) || v < 0)
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, v < 999.95 ? "%.1f" : "%.0f", v);
		break;
	case TOP_EXITIO:
		if (!isfinite(v) || v < 0)
			snprintf(buf, len, "-");
		else if (v < 99.995)
			snprintf(buf, len, "%.2f", v);
		else
			top_fmt_si(v, buf, len);
		break;
	case TOP_P99:
		top_fmt_latency_us(v, buf, len);
		break;
	default:
		top_fmt_si(v, buf, len);
		break;
	}
}

/* Append `text` padded to `width` display columns (left or right aligned). */
static size_t put_cell(char *buf, size_t len, size_t at, const char *text, int width, bool left)
{
	int w = top_display_width(text), pad = width > w ? width - w : 0;
	int n;

	if (at >= len)
		return at;
	n = left ? snprintf(buf + at, len - at, "%s%*s", text, pad, "") :
		   snprintf(buf + at, len - at, "%*s%s", pad, "", text);
	if (n < 0)
		return at;
	at += (size_t)n;
	return at < len ? at : len - 1;
}

/* A name cut to `width` display columns, the last one '~' when cut. */
static void cut_name(const char *name, int width, char *out, size_t len)
{
	size_t i = 0, o = 0;
	int w = 0;

	if (top_display_width(name) <= width) {
		snprintf(out, len, "%s", name);
		return;
	}
	while (name[i] && w < width - 1 && o + 4 < len) {
		/* Copy one whole UTF-8 sequence. */
		do
			out[o++] = name[i++];
		while (name[i] && ((unsigned char)name[i] & 0xc0) == 0x80);
		w++;
	}
	if (width > 0 && o + 1 < len)
		out[o++] = '~';
	out[o] = '\0';
}

void top_format_line(const struct top_row *r, const enum top_col *shown, int n, int name_width,
		     char *buf, size_t len)
{
	char cell[TOP_NAME_MAX + 8], cut[TOP_NAME_MAX + 8];
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		enum top_col c = shown[i];

		if (i)
			at = put_cell(buf, len, at, " ", 1, true);
		top_format_cell(r, c, cell, sizeof(cell));
		if (c == TOP_NAME) {
			cut_name(cell, name_width, cut, sizeof(cut));
			at = put_cell(buf, len, at, cut, name_width, true);
		} else {
			at = put_cell(buf, len, at, cell, top_cols[c].width, c == TOP_KIND);
		}
	}
}

void top_format_header(const enum top_col *shown, int n, int name_width, enum top_col sort,
		       char *buf, size_t len)
{
	char title[32];
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		enum top_col c = shown[i];
		bool left = c == TOP_NAME || c == TOP_KIND;

		if (i)
			at = put_cell(buf, len, at, " ", 1, true);
		snprintf(title, sizeof(title), "%s%s", top_cols[c].title, c == sort ? "*" : "");
		at = put_cell(buf, len, at, title, c == TOP_NAME ? name_width : top_cols[c].width,
			      left);
	}
}

static enum top_col sort_by;

static int cmp_rows(const void *pa, const void *pb)
{
	const struct top_row *a = pa, *b = pb;
	int d = 0;

	if (sort_by == TOP_KIND) {
		d = strcmp(a->kind ? a->kind : "", b->kind ? b->kind : "");
	} else if (sort_by != TOP_NAME) {
		double x = a->v[sort_by], y = b->v[sort_by];
		bool xa = isfinite(x) && x >= 0, ya = isfinite(y) && y >= 0;

		if (xa != ya)
			return xa ? -1 : 1;
		if (xa && x != y)
			return x > y ? -1 : 1;
	}
	if (!d)
		d = strcmp(a->name, b->name);
	if (!d && a->key != b->key)
		d = a->key < b->key ? -1 : 1;
	return d;
}

void top_sort(struct top_row *rows, size_t n, enum top_col by)
{
	/* qsort has no context argument in C11; the view is single-threaded. */
	sort_by = by;
	qsort(rows, n, sizeof(*rows), cmp_rows);
}

int top_col_by_key(int key)
{
	if (key == 'P')
		return TOP_CPU; /* top's and virt-top's habit */
	for (int c = 0; c < TOP_NCOLS; c++)
		if (top_cols[c].sort_key == key)
			return c;
	return -1;
}

bool top_filter_match(const struct top_row *r, const char *filter)
{
	size_t n = strlen(filter);

	if (!n)
		return true;
	for (const char *p = r->name; *p; p++)
		if (!strncasecmp(p, filter, n))
			return true;
	return false;
}
