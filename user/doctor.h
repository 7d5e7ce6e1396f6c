/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_DOCTOR_H
#define IOTRACE_DOCTOR_H

/* `iotrace doctor`; argv[0] is "doctor".  Returns the exit status. */
int cmd_doctor(int argc, char **argv);

#endif
