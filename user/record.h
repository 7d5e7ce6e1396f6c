/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_RECORD_H
#define IOTRACE_RECORD_H

/* `iotrace record`; argv[0] is "record".  Returns the exit status. */
int cmd_record(int argc, char **argv);

#endif
