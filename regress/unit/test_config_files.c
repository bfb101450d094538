/*
 * The configuration files of the tree: the sample shipped for a
 * production install, and the golden files of regress/config/.  Run from
 * the top of the tree.
 */
#include <sys/types.h>
#include <sys/param.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "config.h"
#include "unit_config.h"

#define ERRBUF_BYTES	512

/* The sample shipped for a production install parses and round-trips. */
Test(config, sample)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];

	conf = config_load("etc/sallyport.conf", err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	free(unit_config_roundtrip("etc/sallyport.conf", conf));
	cr_assert(config_is_local_domain(conf, "example.org"));
	cr_assert_not(TAILQ_EMPTY(&conf->listeners));
	config_free(conf);
}

static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*s;
	long	 len;

	cr_assert_not_null(fp = fopen(path, "r"), "%s: missing", path);
	cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
	cr_assert_geq(len = ftell(fp), 0);
	rewind(fp);
	cr_assert_not_null(s = malloc((size_t)len + 1));
	cr_assert_eq(fread(s, 1, (size_t)len, fp), (size_t)len);
	s[len] = '\0';
	(void)fclose(fp);
	return s;
}

/*
 * regress/config/NAME.in -> NAME.ok: what config_print writes, or the
 * error line and a newline when the file is refused.
 */
Test(config, golden)
{
	struct config	*conf;
	glob_t		 g;
	char		 err[ERRBUF_BYTES], ok[PATH_MAX];
	char		*got, *want;
	size_t		 i;

	cr_assert_eq(glob("regress/config/*.in", 0, NULL, &g), 0,
	    "no golden files: run from the top of the tree");
	for (i = 0; i < g.gl_pathc; i++) {
		(void)snprintf(ok, sizeof(ok), "%.*s.ok",
		    (int)(strlen(g.gl_pathv[i]) - 3), g.gl_pathv[i]);
		want = slurp(ok);
		if ((conf = config_load(g.gl_pathv[i], err, sizeof(err))) ==
		    NULL) {
			cr_assert_not_null(got = malloc(strlen(err) + 2));
			(void)snprintf(got, strlen(err) + 2, "%s\n", err);
		} else {
			got = unit_config_roundtrip(g.gl_pathv[i], conf);
			config_free(conf);
		}
		cr_expect_str_eq(got, want, "%s:\n--- got\n%s--- want\n%s",
		    g.gl_pathv[i], got, want);
		free(got);
		free(want);
	}
	cr_assert_geq(g.gl_pathc, 5);
	globfree(&g);
}
