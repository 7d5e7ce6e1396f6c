/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The table `iotrace top` shows, as data: its columns, how a row's figures
 * are formatted, which columns fit a terminal's width, sorting and the name
 * filter.  It knows nothing of ncurses or of BPF: the full-screen view and
 * batch mode both print lines made here, and the unit tests check them.
 */
#ifndef IOTRACE_TOP_TABLE_H
#define IOTRACE_TOP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum top_col {
	TOP_NAME,
	TOP_KIND,
	TOP_CPU, /* % of one CPU */
	TOP_RD, /* block reads per second */
	TOP_WR, /* block writes per second */
	TOP_MBS, /* block MB (10^6 bytes) per second, read + write */
	TOP_PKT, /* packets per second, sent + received */
	TOP_EXIT, /* KVM exits per second (VMs) */
	TOP_CYCIO, /* cycles per I/O operation (block op or packet) */
	TOP_EXITIO, /* exits per I/O operation (VMs) */
	TOP_P99, /* block latency p99, microseconds */
	TOP_NCOLS,
};

struct top_col_def {
	const char *title;
	int width; /* display columns */
	int keep; /* when the terminal is narrow, lower ranks go first */
	char sort_key; /* the letter that sorts by it */
};

extern const struct top_col_def top_cols[TOP_NCOLS];

#define TOP_NAME_MAX 128

/* One workload over one interval. */
struct top_row {
	char name[TOP_NAME_MAX];
	const char *kind; /* "container", "vm", "cgroup", "host" */
	uint64_t key; /* cgroup id, or the pid for a VM */
	bool is_vm;
	double v[TOP_NCOLS]; /* the numeric columns; < 0: not applicable, shown as "-" */
};

/*
 * The columns that fit in `width` display columns, in display order, in
 * shown[] (room for TOP_NCOLS).  NAME always stays; it takes what is left
 * over, up to TOP_NAME_MAX.  Returns how many; *name_width gets NAME's width.
 */
int top_fit_columns(int width, enum top_col *shown, int *name_width);

/*
 * Numbers in at most 5 display columns: "0", "999", "1.23k", "12.3k",
 * "123k", "1.23M", ... "G", "T"; negative: "-".
 */
void top_fmt_si(double v, char *buf, size_t len);

/* A latency in microseconds: "850µs", "1.23ms", "12.3ms", "123ms", "1.23s"; < 0: "-". */
void top_fmt_latency_us(double us, char *buf, size_t len);

/* Display width of a UTF-8 string (code points; all are one column wide here). */
int top_display_width(const char *s);

/* The text of one cell. */
void top_format_cell(const struct top_row *r, enum top_col c, char *buf, size_t len);

/*
 * One line of the table, the columns shown[0..n) with NAME name_width wide
 * (a longer name is cut, ending in '~'), numbers right-aligned.  No newline.
 */
void top_format_line(const struct top_row *r, const enum top_col *shown, int n, int name_width,
		     char *buf, size_t len);

/* The header line for the same columns, the sort column marked with '*'. */
void top_format_header(const enum top_col *shown, int n, int name_width, enum top_col sort,
		       char *buf, size_t len);

/*
 * Sort rows by column `by`: numbers largest first (not applicable last),
 * NAME and KIND alphabetically; ties by name, then key, so the order is
 * stable between refreshes.
 */
void top_sort(struct top_row *rows, size_t n, enum top_col by);

/* The column whose sort key is `key`, or -1. */
int top_col_by_key(int key);

/* Whether the row's name contains `filter`, ignoring case ("" matches all). */
bool top_filter_match(const struct top_row *r, const char *filter);

#endif
