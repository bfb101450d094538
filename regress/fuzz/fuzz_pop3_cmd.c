/*
 * pop3d/pop3_dispatch.c: a POP3 command line as lineio hands it over,
 * parsed against the login engine's table (pop3_cmd_auth.c) or the
 * mailbox process's (pop3_user.c).  The first input byte picks the
 * table, the state and the LINE_F_* flags.
 */
#include "fuzz.h"

#include "lineio.h"
#include "../../pop3d/pop3d.h"

static const int fuzz_states[] = {
	POP3_S_AUTH, POP3_S_USER, POP3_S_TRANS, POP3_S_UPDATE,
};

static void
fuzz_check(const struct pop3_cmd *cmd, const struct pop3_req *req,
    int state)
{
	int	 i;

	FUZZ_ASSERT((cmd->states & state) != 0 && cmd->handler != NULL);
	FUZZ_ASSERT(strcmp(cmd->verb, req->verb) == 0);
	FUZZ_ASSERT(req->argc >= 0 && req->argc <= POP3_ARGS_MAX);
	for (i = 0; i < req->argc; i++)
		FUZZ_ASSERT(strlen(req->argv[i]) <= POP3_ARG_MAX_BYTES &&
		    req->argv[i][0] != '\0');
	if (cmd->args == ARG_REST)
		FUZZ_ASSERT(memchr(req->rest, '\0', sizeof(req->rest)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pop3_req	 req;
	const struct pop3_cmd	*tab, *cmd;
	const char		*err = NULL;
	unsigned int		 sel;
	int			 state, flags;
	char			*line;

	sel = fuzz_byte(&data, &size);
	tab = (sel & 1) ? pop3_user_cmds : pop3_auth_cmds;
	state = fuzz_states[(sel >> 1) % 4];
	flags = (int)(sel >> 3) & (LINE_F_TOOLONG | LINE_F_BARELF |
	    LINE_F_NUL | LINE_F_BARECR);
	/* lineio hands over at most the line maximum, and more is refused. */
	if (size > 4 * POP3_CMD_LINE_MAX_BYTES)
		return 0;
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(line, data, size);
	/* lineio flags what it saw; the parser relies on that. */
	if (memchr(line, '\0', size) != NULL)
		flags |= LINE_F_NUL;
	if (memchr(line, '\r', size) != NULL)
		flags |= LINE_F_BARECR;
	cmd = pop3_parse(tab, state, line, size, flags, &req, &err);
	if (cmd != NULL)
		fuzz_check(cmd, &req, state);
	else
		FUZZ_ASSERT(err != NULL);
	free(line);
	return 0;
}
