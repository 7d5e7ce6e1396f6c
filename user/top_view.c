// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ncurses drawing and key input for `iotrace top`. */
#define _GNU_SOURCE
#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "top_view.h"

static bool active;

/*
 * A crash must not leave the terminal in raw mode with the cursor hidden:
 * put it back, then die of the same signal.  endwin() is not async-signal
 * safe, but the process is about to end and nothing else will draw again
 * (htop and top do the same).
 */
static void on_fatal(int sig)
{
	if (active)
		endwin();
	active = false;
	signal(sig, SIG_DFL);
	raise(sig);
}

int top_view_open(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return -1;
	/* UTF-8 names and "µs" need the user's locale for the screen only. */
	setlocale(LC_CTYPE, "");
	if (!initscr())
		return -1;
	active = true;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], on_fatal);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	/* Esc alone must act at once, not wait for an escape sequence. */
	set_escdelay(25);
	return 0;
}

void top_view_close(void)
{
	if (!active)
		return;
	curs_set(1);
	endwin();
	active = false;
}

void top_view_size(int *rows, int *cols)
{
	getmaxyx(stdscr, *rows, *cols);
}

int top_view_table_rows(int nheader)
{
	int rows, cols;

	top_view_size(&rows, &cols);
	/* Header lines, the column titles, the footer. */
	rows -= nheader + 2;
	return rows > 0 ? rows : 0;
}

static void put_line(int y, const char *text, int cols)
{
	move(y, 0);
	clrtoeol();
	if (text)
		addnstr(text, cols);
}

void top_view_draw(const struct top_screen *s)
{
	int rows, cols, y = 0, room;

	top_view_size(&rows, &cols);
	erase();
	for (int i = 0; i < s->nheader && y < rows - 1; i++)
		put_line(y++, s->header[i], cols);
	if (s->table_header && y < rows - 1) {
		attron(A_REVERSE);
		put_line(y, s->table_header, cols);
		/* The whole width, so the bar reads as one. */
		mvchgat(y, 0, -1, A_REVERSE, 0, NULL);
		attroff(A_REVERSE);
		y++;
	}
	room = rows - 1 - y;
	for (int i = s->first; i < s->nlines && room > 0; i++, room--) {
		if (i == s->selected)
			attron(A_BOLD | A_REVERSE);
		put_line(y, s->lines[i], cols);
		if (i == s->selected) {
			mvchgat(y, 0, -1, A_BOLD | A_REVERSE, 0, NULL);
			attroff(A_BOLD | A_REVERSE);
		}
		y++;
	}
	put_line(rows - 1, s->footer, cols);
	refresh();
}

int top_view_key(int timeout_ms)
{
	int ch;

	timeout(timeout_ms);
	ch = getch();
	switch (ch) {
	case ERR:
		return -1;
	case KEY_UP:
		return TOP_KEY_UP;
	case KEY_DOWN:
		return TOP_KEY_DOWN;
	case KEY_PPAGE:
		return TOP_KEY_PGUP;
	case KEY_NPAGE:
		return TOP_KEY_PGDN;
	case KEY_HOME:
		return TOP_KEY_HOME;
	case KEY_END:
		return TOP_KEY_END;
	case KEY_RESIZE:
		return TOP_KEY_RESIZE;
	case KEY_ENTER:
	case '\r':
		return TOP_KEY_ENTER;
	case KEY_BACKSPACE:
	case 8:
		return TOP_KEY_BACKSPACE;
	default:
		return ch >= KEY_MIN ? TOP_KEY_OTHER : ch;
	}
}
