/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_REPORT_H
#define IOTRACE_REPORT_H

/*
 * `iotrace report FILE.iotr`: per-workload cost summaries of a recording.
 * argv[0] is "report".  Returns the exit status: 0 when a report was
 * written (also from a damaged recording, which it says on stderr and in
 * the JSON), 1 when the recording cannot be read or the report cannot be
 * written, 2 on bad arguments.
 */
int cmd_report(int argc, char **argv);

#endif
