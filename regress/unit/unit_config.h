/* Helpers the configuration tests share (defined in test_config.c). */
#ifndef REGRESS_UNIT_CONFIG_H
#define REGRESS_UNIT_CONFIG_H

#include "config.h"

/* What config_print writes, in a malloc'd string. */
char	*unit_config_print(const struct config *);
/*
 * print(parse(print(parse(in)))) == print(parse(in)); returns the first
 * printout (malloc'd).  name is for the failure messages.
 */
char	*unit_config_roundtrip(const char *name, const struct config *);

#endif
