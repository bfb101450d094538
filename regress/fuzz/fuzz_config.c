/*
 * The configuration grammar (common/parse.y, common/config.c) from a
 * buffer, as the parent reads the file and as the smtpd engine reads
 * the parent's reload.  A configuration that parses is printed with
 * config_print and parsed again, as a reload does (smtpd/smtp_conf.c):
 * that must succeed and print the same text.
 */
#include "fuzz.h"

#include "config.h"
#include "log.h"

/* config_print's text; the caller frees it. */
static char *
fuzz_print(const struct config *conf, size_t *len)
{
	FILE	*fp;
	char	*text = NULL;

	if ((fp = open_memstream(&text, len)) == NULL)
		abort();
	config_print(fp, conf);
	if (fclose(fp) != 0)
		abort();
	return text;
}

static void
fuzz_reparse(const struct config *conf)
{
	struct config	*again;
	char		*text, *text2, err[1024];
	size_t		 len, len2;

	text = fuzz_print(conf, &len);
	again = config_parse("printed", text, len, err, sizeof(err));
	if (again == NULL)
		fprintf(stderr, "printed configuration refused: %s\n%s",
		    err, text);
	FUZZ_ASSERT(again != NULL);
	text2 = fuzz_print(again, &len2);
	FUZZ_ASSERT(len == len2 && memcmp(text, text2, len) == 0);
	config_free(again);
	free(text);
	free(text2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	struct config	*conf;
	char		*buf, err[1024];

	if (!init) {
		log_init("fuzz_config", 1);
		init = 1;
	}
	/* Its own buffer, not NUL-terminated: the parser has only len. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	err[0] = '\0';
	conf = config_parse("fuzz", buf, size, err, sizeof(err));
	if (conf != NULL) {
		fuzz_reparse(conf);
		config_free(conf);
	} else
		FUZZ_ASSERT(err[0] != '\0');
	free(buf);
	return 0;
}
