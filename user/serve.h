/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_SERVE_H
#define IOTRACE_SERVE_H

/* `iotrace serve`; argv[0] is "serve".  Returns the exit status. */
int cmd_serve(int argc, char **argv);

#endif
