/*
 * imapd: the commands valid in every state (RFC 3501 6.1): CAPABILITY,
 * NOOP, LOGOUT, and ID (RFC 2971).  Linked into both the login engine
 * (user imap, chrooted to the empty dir, seccomp SANDBOX_ENGINE) and
 * the mailbox process (the mail user, chrooted to the mail home); what
 * differs between them (the capability list, NOOP's updates) comes from
 * the connection's imap_conn_ops.
 */
#include <sys/types.h>

#include <string.h>
#include <vis.h>

#include "imapd.h"
#include "lineio.h"
#include "log.h"

int
imap_cmd_capability(struct imap_conn *c, const struct imap_command *cmd)
{
	char	 capa[IMAP_REPLY_MAX_BYTES];

	if (c->ops->capability(c, capa, sizeof(capa)) == -1) {
		imap_no(c, cmd->tag, "[SERVERBUG] capability list too long");
		return 0;
	}
	imap_line(c, "* CAPABILITY %s", capa);
	imap_ok(c, cmd->tag, "Capability completed");
	return 0;
}

/* RFC 3501 6.1.2: a chance for the server to send its updates. */
int
imap_cmd_noop(struct imap_conn *c, const struct imap_command *cmd)
{
	if (c->ops->updates != NULL)
		c->ops->updates(c);
	imap_ok(c, cmd->tag, "NOOP completed");
	return 0;
}

/* RFC 3501 6.1.3: BYE, then the tagged OK, then the connection closes. */
int
imap_cmd_logout(struct imap_conn *c, const struct imap_command *cmd)
{
	log_info("%08x imap logout state=%s", c->id,
	    imap_state_name(c->state));
	imap_line(c, "* BYE sallyport IMAP server logging out");
	imap_ok(c, cmd->tag, "Logout completed");
	imap_set_state(c, IMAP_S_LOGOUT);
	c->closing = 1;
	if (c->lio != NULL)
		lineio_shutdown(c->lio);
	return -1;
}

/*
 * RFC 2971 3.3: NIL, or a list of at most 30 field-value pairs, each
 * field a string of at most 30 octets, each value a string (or NIL) of
 * at most 1024.  Returns NULL, or why the list is refused; the client's
 * name and version, when given, go into name (vis'd, for the log).
 */
static const char *
imap_id_check(const struct imap_arg *a, char *name, size_t namelen)
{
	const struct imap_arg	*f, *v;
	const char		*s;
	size_t			 len;
	int			 i;

	if (a->type == IMAP_ARG_NIL)
		return NULL;
	if (a->type != IMAP_ARG_LIST)
		return "ID takes a list or NIL";
	if (a->nlist % 2 != 0 || a->nlist / 2 > IMAP_ID_PAIRS_MAX)
		return "ID takes at most 30 field-value pairs";
	for (i = 0; i < a->nlist; i += 2) {
		f = &a->list[i];
		v = &a->list[i + 1];
		if (f->type == IMAP_ARG_NIL || (s = imap_arg_astring(f,
		    &len)) == NULL || len > IMAP_ID_FIELD_MAX_BYTES)
			return "ID field names are strings of 30 octets "
			    "at most";
		if (v->type != IMAP_ARG_NIL && (imap_arg_astring(v, &len) ==
		    NULL || len > IMAP_ID_VALUE_MAX_BYTES))
			return "ID values are strings of 1024 octets at most";
		/* Spaces encoded too: the name is one word of the log. */
		if (v->type != IMAP_ARG_NIL && strcasecmp(s, "name") == 0)
			(void)strnvis(name, v->str, namelen,
			    VIS_CSTYLE | VIS_WHITE | VIS_DQ | VIS_OCTAL);
	}
	return NULL;
}

/* RFC 2971 3.1: the server's own list, before the tagged OK. */
int
imap_cmd_id(struct imap_conn *c, const struct imap_command *cmd)
{
	const char	*err;
	char		 name[4 * 64 + 1];

	(void)strlcpy(name, "-", sizeof(name));
	if ((err = imap_id_check(&cmd->args[0], name, sizeof(name))) !=
	    NULL) {
		imap_bad(c, cmd->tag, "%s", err);
		return 0;
	}
	log_info("%08x imap id client-name=%s", c->id, name);
	imap_line(c, "* ID (\"name\" \"sallyport\" \"vendor\" \"sallyport\")");
	imap_ok(c, cmd->tag, "ID completed");
	return 0;
}
