/*
 * authd's tables (authd/authd_users.c, authd/authd_aliases.c, read
 * through authd/authd_table.c): the users and aliases files, read at
 * start and on every reload.  The first input byte picks the table; a
 * table that loads is looked up with the names of its own lines.
 */
#include "fuzz.h"

#include "../../authd/authd.h"

static void
fuzz_lookups(const char *buf, size_t size, const struct auth_users *u,
    const struct auth_aliases *a)
{
	char		 name[64];
	size_t		 i, n;

	for (i = 0; i < size; i += n + 1) {
		n = strcspn(buf + i, ":\n");
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, buf + i, n);
		name[n] = '\0';
		if (u != NULL)
			(void)authd_users_find(u, name);
		if (a != NULL)
			(void)authd_aliases_find(a, name);
		n += strcspn(buf + i + n, "\n");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_users	*u = NULL;
	struct auth_aliases	*a = NULL;
	unsigned int		 sel;
	char			*buf, err[1024];
	FILE			*fp;

	sel = fuzz_byte(&data, &size);
	buf = fuzz_str(data, size);
	if ((fp = fmemopen(buf, size > 0 ? size : 1, "r")) == NULL)
		abort();
	err[0] = '\0';
	if (sel & 1)
		a = authd_aliases_read(fp, "aliases", err, sizeof(err));
	else
		u = authd_users_read(fp, "users", err, sizeof(err));
	if (u == NULL && a == NULL)
		FUZZ_ASSERT(err[0] != '\0');
	else
		fuzz_lookups(buf, size, u, a);
	authd_users_free(u);
	authd_aliases_free(a);
	(void)fclose(fp);
	free(buf);
	return 0;
}
