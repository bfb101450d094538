/* Helpers the configuration tests share (defined in test_config.c). */
#ifndef REGRESS_UNIT_CONFIG_H
#define REGRESS_UNIT_CONFIG_H

#include "config.h"

/* What config_print writes, in a malloc'd string. */
char	*unit_config_print(const struct config *);

#endif
