// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The `iotrace top` table: number formatting, column fitting, sorting, filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "top_table.h"

static const char *si(double v)
{
	static char buf[32];

	top_fmt_si(v, buf, sizeof(buf));
	return buf;
}

static const char *lat(double us)
{
	static char buf[32];

	top_fmt_latency_us(us, buf, sizeof(buf));
	return buf;
}

static void test_si(void **state)
{
	(void)state;
	assert_string_equal(si(0), "0");
	assert_string_equal(si(0.5), "0.5");
	assert_string_equal(si(7), "7");
	assert_string_equal(si(999), "999");
	assert_string_equal(si(999.4), "999");
	/* Rounding never shows "1000" or "1000k". */
	assert_string_equal(si(999.6), "1.00k");
	assert_string_equal(si(1234), "1.23k");
	assert_string_equal(si(12345), "12.3k");
	assert_string_equal(si(123456), "123k");
	assert_string_equal(si(999700), "1.00M");
	assert_string_equal(si(2.5e6), "2.50M");
	assert_string_equal(si(42e9), "42.0G");
	assert_string_equal(si(7e12), "7.00T");
	assert_string_equal(si(-1), "-");
	assert_string_equal(si(NAN), "-");
	assert_string_equal(si(INFINITY), "-");
	/* Every figure fits the 5 columns the table gives it. */
	for (double v = 0.3; v < 1e18; v *= 1.37)
		assert_true(top_display_width(si(v)) <= 5);
}

static void test_latency(void **state)
{
	(void)state;
	assert_string_equal(lat(0), "0µs");
	assert_string_equal(lat(850), "850µs");
	assert_string_equal(lat(999.7), "1.00ms");
	assert_string_equal(lat(1234), "1.23ms");
	assert_string_equal(lat(12345), "12.3ms");
	assert_string_equal(lat(123456), "123ms");
	assert_string_equal(lat(1.5e6), "1.50s");
	assert_string_equal(lat(-1), "-");
	assert_int_equal(top_display_width("850µs"), 5);
	for (double v = 0.3; v < 1e9; v *= 1.37)
		assert_true(top_display_width(lat(v)) <= top_cols[TOP_P99].width);
}

static bool has(const enum top_col *shown, int n, enum top_col c)
{
	for (int i = 0; i < n; i++)
		if (shown[i] == c)
			return true;
	return false;
}

static int line_width(const enum top_col *shown, int n, int name_width)
{
	int w = name_width;

	for (int i = 0; i < n; i++)
		if (shown[i] != TOP_NAME)
			w += 1 + top_cols[shown[i]].width;
	return w;
}

static void test_fit_wide_terminal_shows_all(void **state)
{
	enum top_col shown[TOP_NCOLS];
	int name_w, n;

	(void)state;
	n = top_fit_columns(200, shown, &name_w);
	assert_int_equal(n, TOP_NCOLS);
	for (int i = 0; i < n; i++)
		assert_int_equal(shown[i], i); /* display order */
	assert_int_equal(name_w, 40); /* capped */
}

/* Narrower and narrower: least important columns go first, never too wide. */
static void test_fit_drops_least_important_first(void **state)
{
	enum top_col shown[TOP_NCOLS];
	int name_w, n, prev = TOP_NCOLS;

	(void)state;
	for (int width = 120; width >= 12; width--) {
		n = top_fit_columns(width, shown, &name_w);
		assert_true(n <= prev);
		prev = n;
		assert_true(line_width(shown, n, name_w) <= width);
		assert_true(has(shown, n, TOP_NAME));
		/* A kept column never ranks below a dropped one. */
		for (int c = 1; c < TOP_NCOLS; c++)
			for (int d = 1; d < TOP_NCOLS; d++)
				if (has(shown, n, c) && !has(shown, n, d))
					assert_true(top_cols[c].keep > top_cols[d].keep);
	}
	n = top_fit_columns(80, shown, &name_w);
	assert_false(has(shown, n, TOP_EXIT));
	assert_true(has(shown, n, TOP_CPU));
	assert_true(has(shown, n, TOP_CYCIO));
	n = top_fit_columns(12, shown, &name_w);
	assert_int_equal(n, 1);
	assert_int_equal(name_w, 12);
}

static struct top_row row(const char *name, double cpu, double rd)
{
	struct top_row r = { .kind = "cgroup" };

	snprintf(r.name, sizeof(r.name), "%s", name);
	for (int c = 0; c < TOP_NCOLS; c++)
		r.v[c] = -1;
	r.v[TOP_CPU] = cpu;
	r.v[TOP_RD] = rd;
	return r;
}

static void test_line_and_header(void **state)
{
	enum top_col shown[] = { TOP_NAME, TOP_KIND, TOP_CPU, TOP_RD, TOP_P99 };
	struct top_row r = row("a-very-long-container-name", 12.345, 2500);
	char line[256];

	(void)state;
	r.v[TOP_P99] = 850;
	top_format_line(&r, shown, 5, 12, line, sizeof(line));
	assert_string_equal(line, "a-very-long~ cgroup      12.3  2.50k   850µs");
	top_format_header(shown, 5, 12, TOP_CPU, line, sizeof(line));
	assert_string_equal(line, "NAME         KIND       CPU%*    R/s     P99");
	/* Not applicable: "-". */
	r.v[TOP_CPU] = -1;
	top_format_line(&r, shown, 5, 12, line, sizeof(line));
	assert_string_equal(line, "a-very-long~ cgroup         -  2.50k   850µs");
	/* A short buffer is cut, never overrun. */
	top_format_line(&r, shown, 5, 12, line, 10);
	assert_int_equal(strlen(line), 9);
}

static void test_sort(void **state)
{
	struct top_row rows[] = { row("b", 5, -1), row("a", 50, 10), row("c", -1, 20),
				  row("d", 50, 5) };

	(void)state;
	top_sort(rows, 4, TOP_CPU);
	/* Largest first, ties by name, not applicable last. */
	assert_string_equal(rows[0].name, "a");
	assert_string_equal(rows[1].name, "d");
	assert_string_equal(rows[2].name, "b");
	assert_string_equal(rows[3].name, "c");
	top_sort(rows, 4, TOP_RD);
	assert_string_equal(rows[0].name, "c");
	assert_string_equal(rows[3].name, "b");
	top_sort(rows, 4, TOP_NAME);
	assert_string_equal(rows[0].name, "a");
	assert_string_equal(rows[3].name, "d");
}

static void test_keys_and_filter(void **state)
{
	struct top_row r = row("Web-Frontend", 1, 1);

	(void)state;
	assert_int_equal(top_col_by_key('c'), TOP_CPU);
	assert_int_equal(top_col_by_key('P'), TOP_CPU);
	assert_int_equal(top_col_by_key('y'), TOP_CYCIO);
	assert_int_equal(top_col_by_key('q'), -1);
	/* Every column has its own key. */
	for (int c = 0; c < TOP_NCOLS; c++)
		assert_int_equal(top_col_by_key(top_cols[c].sort_key), c);
	assert_true(top_filter_match(&r, ""));
	assert_true(top_filter_match(&r, "front"));
	assert_true(top_filter_match(&r, "WEB"));
	assert_false(top_filter_match(&r, "db"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_si),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_fit_wide_terminal_shows_all),
		cmocka_unit_test(test_fit_drops_least_important_first),
		cmocka_unit_test(test_line_and_header),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_keys_and_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
