/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IOTRACE_VERSION_H
#define IOTRACE_VERSION_H

/* Overridable from the build (make CPPFLAGS+=-DIOTRACE_VERSION=...). */
#ifndef IOTRACE_VERSION
#define IOTRACE_VERSION "0.1.0"
#endif

#endif
