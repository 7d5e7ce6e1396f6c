/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lookups by name in the advice rules' results, for the tests of the VM
 * and the container rules.
 */
#ifndef IOTRACE_TESTS_ADVICE_LOOKUP_H
#define IOTRACE_TESTS_ADVICE_LOOKUP_H

#include <stddef.h>
#include <string.h>

#include "advice.h"

/* The finding with this id among n; NULL: not raised. */
static inline const struct advice_finding *finding_of(const struct advice_finding *findings,
						      size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(findings[i].id, id))
			return &findings[i];
	return NULL;
}

/* The figure named key among n (evidence or saving); NULL: none. */
static inline const struct advice_fig *fig(const struct advice_fig *figs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(figs[i].key, key))
			return &figs[i];
	return NULL;
}

#endif
