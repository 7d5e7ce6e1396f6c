/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_ADVISE_H
#define IOTRACE_ADVISE_H

/* `iotrace advise`; argv[0] is "advise".  Returns the exit status. */
int cmd_advise(int argc, char **argv);

#endif
