/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_TOP_H
#define IOTRACE_TOP_H

/* `iotrace top`; argv[0] is "top".  Returns the exit status. */
int cmd_top(int argc, char **argv);

#endif
