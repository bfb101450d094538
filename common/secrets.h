/*
 * The smarthost credentials table, "secrets FILE" in sallyport.conf(5):
 * one "LABEL USER PASSWORD" per line, read whole by a root parent and
 * refused unless owned by root and closed to group and others.  A
 * "relay to ... auth LABEL" route names its line.  Every copy of a
 * password is wiped when the table is freed.
 */
#ifndef SALLYPORT_SECRETS_H
#define SALLYPORT_SECRETS_H

#include <sys/types.h>

#include <stddef.h>

struct secrets;

/*
 * Reads and checks the file at path (owned by root, mode without group
 * or other bits).  NULL with "PATH: reason" or "PATH:LINE: reason" in
 * err on any error.
 */
struct secrets	*secrets_load(const char *path, char *err, size_t errlen);
/* The same with the owner required given: the tests' own uid. */
struct secrets	*secrets_load_owner(const char *path, uid_t owner, char *err,
		    size_t errlen);
/* 0 with the user and password of label (valid until freed), or -1. */
int		 secrets_lookup(const struct secrets *, const char *label,
		    const char **user, const char **password);
size_t		 secrets_count(const struct secrets *);
/* Wipes and frees; NULL is fine. */
void		 secrets_free(struct secrets *);
/* A label as the file and "auth LABEL" take it: 1 or 0. */
int		 secrets_valid_label(const char *);

#endif
