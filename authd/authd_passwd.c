/*
 * Password checks with libxcrypt.  Every check costs one crypt(3) run,
 * also for a user that does not exist or may not log in, and the result
 * is compared in constant time, so that neither the time taken nor the
 * answer's timing tells an attacker which users exist.  (The failure
 * delay of AUTH_FAIL_DELAY_MSECS is the server's: authd_server.c.)
 * Runs in authd as _sallyauth.  Passwords are never logged and are
 * wiped after use.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>

#include <openssl/crypto.h>

#include "authd.h"

/* The random phrase hashed into the dummy: never a password anyone knows. */
#define PASSWD_DUMMY_PHRASE_BYTES	32

/* Large (about 32 KiB): one, since authd runs one check at a time. */
static struct crypt_data	 passwd_cd;

/* Constant-time comparison, from libcrypto (libbsd has no timingsafe_bcmp). */
int
authd_passwd_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/*
 * The setting the dummy hash is made with: the first user's who can log
 * in, so that the dummy costs what a real check costs; else libxcrypt's
 * preferred method.  XXX A table mixing methods of different cost still
 * lets timing tell them apart from the dummy's.
 */
static const char *
authd_passwd_setting(const struct auth_users *t, char *buf, size_t buflen)
{
	struct auth_user	*u;

	RB_FOREACH(u, auth_user_tree,
	    (struct auth_user_tree *)(uintptr_t)&t->tree)
		if (authd_users_can_login(u))
			return u->hash;
	return crypt_gensalt_rn(NULL, 0, NULL, 0, buf, (int)buflen);
}

int
authd_passwd_prepare(struct auth_users *t)
{
	char		 setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char		 phrase[PASSWD_DUMMY_PHRASE_BYTES * 2 + 1];
	uint8_t		 rnd[PASSWD_DUMMY_PHRASE_BYTES];
	const char	*s, *out;
	size_t		 i;
	int		 rv = -1;

	arc4random_buf(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		(void)snprintf(phrase + 2 * i, 3, "%02x", rnd[i]);
	s = authd_passwd_setting(t, setting, sizeof(setting));
	out = s == NULL ? NULL :
	    crypt_rn(phrase, s, &passwd_cd, sizeof(passwd_cd));
	if (out != NULL && out[0] != '*' &&
	    strlcpy(t->dummy, out, sizeof(t->dummy)) < sizeof(t->dummy))
		rv = 0;
	explicit_bzero(phrase, sizeof(phrase));
	explicit_bzero(&passwd_cd, sizeof(passwd_cd));
	return rv;
}

int
authd_passwd_check(const struct auth_users *t, const char *name,
    const char *password)
{
	const struct auth_user	*u;
	const char		*hash, *out;
	size_t			 len;
	int			 ok;

	u = authd_users_find(t, name);
	if (u != NULL && authd_users_can_login(u))
		hash = u->hash;
	else
		hash = t->dummy;
	out = crypt_rn(password, hash, &passwd_cd, sizeof(passwd_cd));
	len = strlen(hash);
	ok = out != NULL && strlen(out) == len &&
	    authd_passwd_equal(out, hash, len);
	explicit_bzero(&passwd_cd, sizeof(passwd_cd));
	/* The dummy matched (it cannot, but): still no login. */
	if (hash == t->dummy)
		ok = 0;
	return ok ? 0 : -1;
}
