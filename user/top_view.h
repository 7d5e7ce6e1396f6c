/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The full-screen view of `iotrace top`: the only code that talks to
 * ncurses.  It draws lines it is given (header, table, footer) and reads
 * keys; it computes nothing.  The terminal is restored on close, and on a
 * fatal signal before the process dies.
 */
#ifndef IOTRACE_TOP_VIEW_H
#define IOTRACE_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>

/* Take over the terminal.  0, or -1 when stdout is not a usable terminal. */
int top_view_open(void);

/* Give the terminal back as it was; safe to call twice. */
void top_view_close(void);

/* The screen's size now (after a resize, the new one). */
void top_view_size(int *rows, int *cols);

struct top_screen {
	const char *const *header; /* summary lines at the top */
	int nheader;
	const char *table_header; /* column titles, shown in reverse video */
	const char *const *lines; /* the rows (or the drill-down's lines) */
	int nlines;
	int first; /* index of the first line shown (scrolling) */
	int selected; /* line shown highlighted; -1: none */
	const char *footer; /* key help or a prompt, on the last line */
};

/* Draw a whole screen; lines longer than the terminal are cut. */
void top_view_draw(const struct top_screen *s);

/* Keys other than characters, as top_view_key() returns them. */
enum top_key {
	TOP_KEY_ESC = 27,
	TOP_KEY_ENTER = '\n',
	TOP_KEY_BACKSPACE = 127,
	TOP_KEY_UP = 0x1000,
	TOP_KEY_DOWN,
	TOP_KEY_PGUP,
	TOP_KEY_PGDN,
	TOP_KEY_HOME,
	TOP_KEY_END,
	TOP_KEY_RESIZE, /* the terminal changed size: draw again */
	TOP_KEY_OTHER, /* a special key the monitor has no use for */
};

/*
 * The next key, waiting at most timeout_ms (< 0: forever): a character, an
 * enum top_key, or -1 on timeout or when a signal interrupted the wait.
 */
int top_view_key(int timeout_ms);

/* How many table lines fit below the header lines. */
int top_view_table_rows(int nheader);

#endif
