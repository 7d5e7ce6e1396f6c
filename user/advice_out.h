/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Findings (user/advice.h) as text and JSON, the same wherever they are
 * shown: `iotrace advise`, `record`'s summary lines, `report`
 * (docs/advice.md has the fields).
 */
#ifndef IOTRACE_ADVICE_OUT_H
#define IOTRACE_ADVICE_OUT_H

#include <stdio.h>

#include "advice.h"

/* `"id":"…","severity":"…"` */
void advice_json_id(FILE *f, const struct advice_finding *fd);

/* `,"summary":…,"evidence":{…,"source":…},"remedy":…,"saving":{"estimated":…,…,"basis":…}` */
void advice_json_body(FILE *f, const struct advice_finding *fd);

/* The whole finding as one JSON object (no newline). */
void advice_json_finding(FILE *f, const struct advice_finding *fd);

/*
 * Text wrapped at 78 columns, the first line starting at column col,
 * every other indented by indent; ends the line.
 */
void advice_wrap(FILE *f, const char *text, int col, int indent);

/* A finding in the table form: a heading line naming `who`, then its parts, indented. */
void advice_table_finding(FILE *f, const char *who, const struct advice_finding *fd);

#endif
