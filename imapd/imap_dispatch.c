/*
 * imapd/imap_dispatch.c: the command table's dispatcher (STYLE.md
 * "Dispatch"): finds the command (and the UID prefix, RFC 3501 6.4.8),
 * checks the state and the argument grammar, counts errors to
 * IMAP_ERRORS_MAX, paces commands to IMAP_CMDS_PER_SEC_MAX, and only then
 * calls the handler; imap_input() is the whole input path for an event
 * loop.  Shared by the login engine (_sallyimap, chroot, seccomp
 * "imapd-login") and the mailbox process (the mail user, seccomp
 * "imapd-user"), each with its own table.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "imap_reader.h"

static const struct imap_cmd *
disp_lookup(const struct imap_cmd *table, const char *name)
{
	for (; table->name != NULL; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* Whether one argument fits the grammar letter g. */
static const char *
disp_arg(char g, const struct imap_arg *a)
{
	struct imap_seqset	 set;
	const char		*err;
	uint32_t		 n;

	switch (g) {
	case 'a':
	case 'p':
		return imap_arg_is_astring(a) ? NULL : "expected a string";
	case 'm':
		return imap_arg_is_astring(a) ? NULL :
		    "expected a mailbox name";
	case 's':
		if (a->type != IMAP_ARG_ATOM ||
		    imap_seqset_parse(a->str, a->len, &set, &err) == -1)
			return "invalid sequence set";
		imap_seqset_free(&set);
		return NULL;
	case 'n':
		return imap_arg_number(a, &n, &err) == -1 ? err : NULL;
	case 'w':
		return a->type == IMAP_ARG_ATOM ? NULL : "expected an atom";
	case 'l':
		return a->type == IMAP_ARG_LIST ? NULL :
		    "expected a parenthesised list";
	default:
		return NULL;
	}
}

/* The arguments against a grammar string (imap_proto.h). */
static const char *
disp_grammar(const char *g, const struct imap_command *cmd)
{
	const char	*err;
	int		 i = 0, optional = 0;

	for (; *g != '\0'; g++) {
		if (*g == '*')
			return NULL;
		if (*g == '?') {
			optional = 1;
			continue;
		}
		if (i == cmd->nargs)
			return optional ? NULL : "missing argument";
		if ((err = disp_arg(*g, &cmd->args[i++])) != NULL)
			return err;
	}
	return i == cmd->nargs ? NULL : "too many arguments";
}

const struct imap_cmd *
imap_check(const struct imap_cmd *table, int state, struct imap_command *cmd,
    const char **err)
{
	const struct imap_cmd	*c;
	const char		*g;
	size_t			 i;

	if (strcmp(cmd->name, "UID") == 0) {
		if (cmd->nargs == 0 || cmd->args[0].type != IMAP_ARG_ATOM ||
		    cmd->args[0].len > IMAP_CMD_NAME_MAX_BYTES) {
			*err = "UID needs a command";
			return NULL;
		}
		for (i = 0; i <= cmd->args[0].len; i++)
			cmd->name[i] = (char)toupper(
			    (unsigned char)cmd->args[0].str[i]);
		cmd->args++;
		cmd->nargs--;
		cmd->uid = 1;
	}
	c = disp_lookup(table, cmd->name);
	if (c == NULL || c->handler == NULL) {
		*err = cmd->uid ? "Unknown UID command" : "Unknown command";
		return NULL;
	}
	if (cmd->uid && c->uid_args == NULL) {
		*err = "Command has no UID form";
		return NULL;
	}
	if ((c->states & state) == 0) {
		if ((state & IMAP_S_NOAUTH) &&
		    (c->states & (IMAP_S_AUTH | IMAP_S_SELECTED)))
			*err = "Log in first";
		else if ((state & IMAP_S_AUTH) &&
		    (c->states & IMAP_S_SELECTED))
			*err = "No mailbox selected";
		else
			*err = "Command not valid in this state";
		return NULL;
	}
	g = cmd->uid ? c->uid_args : c->args;
	if ((*err = disp_grammar(g != NULL ? g : "*", cmd)) != NULL)
		return NULL;
	cmd->cmd = c;
	return c;
}

/* "tag BAD reason", counted; -1 once the count reaches its maximum. */
static int
disp_bad(struct imap_reader *rd, const struct imap_command *cmd,
    const char *err)
{
	char	 line[RD_REPLY_MAX_BYTES + IMAP_CMD_NAME_MAX_BYTES];
	int	 n;

	n = snprintf(line, sizeof(line), "%s BAD %s%s%s\r\n", cmd->tag,
	    err, cmd->name[0] != '\0' ? ": " : "", cmd->name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = snprintf(line, sizeof(line), "%s BAD %s\r\n", cmd->tag,
		    "Invalid command");
	if (rd->io->log != NULL)
		rd->io->log(rd->conn, "bad-command", err);
	if (rd->io->write(rd->conn, line, (size_t)n) == -1)
		return -1;
	if (imap_reader_error(rd) == -1) {
		if (rd->io->log != NULL)
			rd->io->log(rd->conn, "too-many-errors", "");
		(void)rd->io->write(rd->conn, "* BYE Too many errors\r\n", 23);
		return -1;
	}
	return 0;
}

int
imap_dispatch(struct imap_reader *rd, int state, struct imap_command *cmd)
{
	const struct imap_cmd	*c;
	const char		*err = NULL;

	if ((c = imap_check(rd->table, state, cmd, &err)) == NULL)
		return disp_bad(rd, cmd, err);
	return c->handler(rd->conn, cmd);
}

/* Writes the reader's reply; the refusals count as errors. */
static int
disp_reply(struct imap_reader *rd, enum imap_rd_event ev)
{
	const char	*p;
	size_t		 n;

	p = imap_reader_reply(rd, &n);
	if (rd->io->write(rd->conn, p, n) == -1 || ev == IMAP_RD_FATAL)
		return -1;
	if (ev == IMAP_RD_REFUSE && imap_reader_error(rd) == -1) {
		(void)rd->io->write(rd->conn, "* BYE Too many errors\r\n", 23);
		return -1;
	}
	return 0;
}

/* The command held back by the rate limit, if it may run now. */
static int
disp_pending(struct imap_reader *rd, const int *state, uint64_t now_ms,
    unsigned int *wait_ms, int *stop)
{
	struct imap_command	*cmd;
	int			 r;

	*stop = 0;
	if (!rd->pending)
		return 0;
	if ((*wait_ms = imap_reader_throttle(rd, now_ms)) != 0) {
		*stop = 1;
		return 0;
	}
	rd->pending = 0;
	cmd = imap_reader_command(rd);
	r = imap_dispatch(rd, *state, cmd);
	if (cmd->cmd != NULL && (cmd->cmd->flags & IMAP_CMDF_STOP))
		*stop = 1;
	return r;
}

ssize_t
imap_input(struct imap_reader *rd, const int *state, const char *data,
    size_t len, uint64_t now_ms, unsigned int *wait_ms)
{
	enum imap_rd_event	 ev;
	size_t			 off = 0, used;
	int			 stop;

	*wait_ms = 0;
	for (;;) {
		if (disp_pending(rd, state, now_ms, wait_ms, &stop) == -1)
			return -1;
		if (stop)
			return (ssize_t)off;
		ev = imap_reader_feed(rd, data + off, len - off, &used);
		off += used;
		switch (ev) {
		case IMAP_RD_MORE:
		case IMAP_RD_LINE:
			return (ssize_t)off;
		case IMAP_RD_CMD:
			rd->pending = 1;
			break;
		default:
			if (disp_reply(rd, ev) == -1)
				return -1;
			break;
		}
	}
}
