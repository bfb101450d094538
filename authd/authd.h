/*
 * Between the files of authd only: the tables, the recipient resolver,
 * the password and token checks, and the server that answers other
 * daemons over <rundir>/authd.sock.  Nothing here crosses a process
 * boundary; that is common/proto.h.
 */
#ifndef SALLYPORT_AUTHD_H
#define SALLYPORT_AUTHD_H

#include <sys/types.h>
#include <sys/tree.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <crypt.h>
#include <event2/event.h>

#include "config.h"
#include "ipc.h"
#include "sp_limits.h"
#include "proto.h"

/* authd_table.c: what both table files share. */

/*
 * Reads one line of at most AUTH_TABLE_LINE_MAX_BYTES into buf (of
 * that size plus one), without its line end, counting lines in
 * *lineno.  Returns 1, 0 at the end of the file, or -1 with *errstr.
 */
int	authd_table_getline(FILE *, char *buf, size_t bufsize,
	    size_t *lineno, const char **errstr);
/* 1 for a blank line or a comment ('#' first after blanks). */
int	authd_table_skip(const char *line);
/*
 * One line of a table, neither blank nor a comment: NULL, or the reason
 * it is refused, with *errline set when the fault is on another line.
 */
typedef const char	*(*authd_table_line_fn)(void *arg, char *line,
			    size_t lineno, size_t *errline);
/*
 * Reads fp to its end through fn.  -1 at the first refused or unreadable
 * line, with "NAME:LINE: reason" in err.
 */
int	authd_table_read(FILE *, const char *name, authd_table_line_fn fn,
	    void *arg, char *err, size_t errlen);
/*
 * Checks a user or alias name and writes its lower-case form, the
 * table key, into dst (AUTHD_NAME_MAX_BYTES + 1).  -1 when invalid.
 */
int	authd_table_name(const char *s, size_t len, char *dst);
/* Lower-cases ASCII letters in place. */
void	authd_table_lower(char *);
/*
 * Opens a table file for reading and refuses one that others may
 * write.  NULL with "FILE: reason" in err.
 */
FILE	*authd_table_open(const char *path, char *err, size_t errlen);

/* authd_users.c: "name:hash:uid:gid:home[:quota=SIZE]" lines. */

struct auth_user {
	RB_ENTRY(auth_user)	 entry;
	char			 name[AUTHD_NAME_MAX_BYTES + 1];
	char			*hash;
	char			*home;
	uid_t			 uid;
	gid_t			 gid;
	uint64_t		 quota;		/* bytes; 0: none */
};
RB_HEAD(auth_user_tree, auth_user);
RB_PROTOTYPE(auth_user_tree, auth_user, entry, authd_users_cmp);

struct auth_users {
	struct auth_user_tree	 tree;
	size_t			 count;
	/* Checked when the user is unknown: see authd_passwd.c. */
	char			 dummy[CRYPT_OUTPUT_SIZE];
};

int			 authd_users_cmp(const struct auth_user *,
			    const struct auth_user *);
/*
 * Parses a users table from fp; name is used in error messages,
 * "NAME:LINE: reason".  NULL on any error: a table loads whole or not
 * at all.
 */
struct auth_users	*authd_users_read(FILE *, const char *name,
			    char *err, size_t errlen);
/* The same for a file. */
struct auth_users	*authd_users_load(const char *path, char *err,
			    size_t errlen);
void			 authd_users_free(struct auth_users *);
/* Any case; NULL when there is no such user. */
const struct auth_user	*authd_users_find(const struct auth_users *,
			    const char *name);
/*
 * A quota's size: decimal bytes, or with a K, M, G or T suffix (powers
 * of 1024, either case), at most AUTH_QUOTA_MAX_BYTES.  NULL and *v, or
 * the reason it is refused.
 */
const char		*authd_users_size(const char *s, uint64_t *v);
/* 1 when the user may log in with a password ('*' or '!' hash: no). */
int			 authd_users_can_login(const struct auth_user *);

/* authd_aliases.c: aliases(5) lines. */

enum alias_target_kind {
	ALIAS_T_NAME = 1,	/* an alias or a user */
	ALIAS_T_USER,		/* \name: the user, never an alias */
	ALIAS_T_ADDR,		/* local@domain */
};

struct alias_target {
	enum alias_target_kind	 kind;
	/* A lower-case name, or an address. */
	char			*value;
};

struct auth_alias {
	RB_ENTRY(auth_alias)	 entry;
	char			 name[AUTHD_NAME_MAX_BYTES + 1];
	size_t			 line;
	size_t			 ntargets;
	struct alias_target	*targets;
};
RB_HEAD(auth_alias_tree, auth_alias);
RB_PROTOTYPE(auth_alias_tree, auth_alias, entry, authd_aliases_cmp);

struct auth_aliases {
	struct auth_alias_tree	 tree;
	size_t			 count;
	char			 file[PATH_MAX];	/* for messages */
};

int			 authd_aliases_cmp(const struct auth_alias *,
			    const struct auth_alias *);
/* As authd_users_read, for an aliases table. */
struct auth_aliases	*authd_aliases_read(FILE *, const char *name,
			    char *err, size_t errlen);
struct auth_aliases	*authd_aliases_load(const char *path, char *err,
			    size_t errlen);
void			 authd_aliases_free(struct auth_aliases *);
const struct auth_alias	*authd_aliases_find(const struct auth_aliases *,
			    const char *name);

/* authd_resolve.c: recipients to mailboxes; pure, no I/O. */

struct auth_resolver {
	const struct auth_users		*users;
	const struct auth_aliases	*aliases;
	/* 1 when the (lower-case) domain is one of ours. */
	int				(*is_local)(const char *, void *);
	void				*arg;
};

struct auth_target {
	enum target_kind	 kind;
	/* A user name (TARGET_MAILBOX) or an address (TARGET_REMOTE). */
	char			 value[AUTHD_TARGET_MAX_BYTES + 1];
};

/* Large: allocate it. */
struct auth_expand {
	enum result_code	 result;
	/* Why the result is not RESULT_OK, for the log. */
	char			 why[AUTHD_REASON_MAX_BYTES];
	size_t			 count;
	struct auth_target	 targets[ALIAS_TARGETS_MAX];
	/* Aliases met so far and whether their expansion is finished. */
	size_t			 nseen;
	const struct auth_alias	*seen[ALIAS_TARGETS_MAX];
	int			 done[ALIAS_TARGETS_MAX];
};

/*
 * RCPT_CHECK: whether address is ours and leads to at least one
 * mailbox.  A broken alias (loop, depth, unknown target) answers
 * RCPT_TEMPFAIL so that the mail waits at the sender while the admin
 * mends the table; postmaster is always RCPT_LOCAL (RFC 5321 4.5.1).
 */
enum rcpt_status	 authd_resolve_check(const struct auth_resolver *,
			    const char *address);
/*
 * RCPT_EXPAND: address to targets, in e.  RESULT_PERMFAIL when a local
 * address has no user or alias; RESULT_TEMPFAIL for a broken alias
 * table or a missing postmaster.  A remote address expands to itself.
 */
void			 authd_resolve_expand(const struct auth_resolver *,
			    const char *address, struct auth_expand *e);
/*
 * Expands every alias, so that a table with a loop, a nesting past
 * ALIAS_DEPTH_MAX or an unknown name is refused when it is loaded.
 * -1 with "FILE:LINE: alias NAME: reason" in err.
 */
int			 authd_resolve_validate(const struct auth_resolver *,
			    char *err, size_t errlen);
/*
 * The users table key for a login name: lower case, and a local
 * domain dropped ("Alice@example.org" logs in as alice).  -1 when it
 * does not fit.
 */
int			 authd_resolve_login(const struct auth_resolver *,
			    const char *login, char *dst, size_t dstlen);

/* authd_passwd.c: crypt(3) checks in constant time. */

/* Fills users->dummy; -1 when crypt(3) cannot make one. */
int	authd_passwd_prepare(struct auth_users *);
/*
 * 0 when password is the user's.  Always runs one crypt, against the
 * dummy hash when the user is unknown or cannot log in, so that the
 * time taken does not tell which users exist.
 */
int	authd_passwd_check(const struct auth_users *, const char *name,
	    const char *password);
/* 1 when the buffers are equal, in time that depends on len only. */
int	authd_passwd_equal(const void *, const void *, size_t len);

/* authd_token.c: one-time login tokens. */

/*
 * Makes a token for user, good once until now + AUTH_TOKEN_TTL_SECS.
 * -1 when AUTHD_TOKENS_MAX tokens are waiting.
 */
int	authd_token_create(const char *user, time_t now,
	    uint8_t token[AUTH_TOKEN_BYTES]);
/* Takes a token back: its user into user, or -1 unknown or expired. */
int	authd_token_redeem(const uint8_t token[AUTH_TOKEN_BYTES], time_t now,
	    char *user, size_t userlen);
size_t	authd_token_count(void);
void	authd_token_clear(void);

/* authd_table.c, too: loading both tables together. */

struct auth_tables {
	struct auth_users	*users;
	struct auth_aliases	*aliases;
};

/*
 * Loads and checks the users and aliases files of conf.  -1 with a
 * message naming the file in err; t is untouched then.
 */
int	authd_table_load(const struct config *, struct auth_tables *t,
	    char *err, size_t errlen);
void	authd_table_free(struct auth_tables *);
/* 1 when an alias or a user is named postmaster. */
int	authd_table_postmaster(const struct auth_tables *);
/* config_is_local_domain, in the shape of auth_resolver.is_local. */
int	authd_table_is_local(const char *domain, void *conf);

/* authd_throttle.c: failed logins per client address (sp_limits.h). */

/* A throttle key: an IPv4 address, or an IPv6 /64 with its suffix. */
#define AUTHD_THROTTLE_KEY_MAX_BYTES	64

/*
 * The key client's failures count under: the address in its usual
 * text form, an IPv6 address's /64 ("2001:db8::/64"), an IPv4-mapped
 * address as IPv4, anything else itself.  -1 when it does not fit.
 */
int		authd_throttle_key(const char *client, char *key,
		    size_t keylen);
/* 1 when client is past AUTH_FAILURES_MAX in its window: refuse it. */
int		authd_throttle_locked(const char *client, time_t now);
/* Counts a failure of client; returns its failures in the window. */
unsigned int	authd_throttle_fail(const char *client, time_t now);
size_t		authd_throttle_count(void);
void		authd_throttle_clear(void);

/* authd_pidfile.c: the start as a daemon, the pidfile (as root). */

/*
 * Forks; the parent waits for authd_detach_done() in the child and
 * exits 0, or, when the child dies first, with its status.
 */
void	authd_detach_start(void);
/* In the child, once up: stdio to /dev/null, the parent told to go. */
void	authd_detach_done(void);
/*
 * Locks path with flock(2) and writes our pid into it through a
 * descriptor closed at once.  Returns the read-only descriptor that
 * holds the lock, to keep.  Dies when another authd holds it.
 */
int	authd_pidfile_lock(const char *path);

/* authd_server.c: the listener and the connections. */

struct authd_conn;

/*
 * Starts accepting on fd.  Only peers whose uid is 0 or one of uids
 * (the daemon users) are served.  Takes ownership of tables.
 */
void	authd_server_init(struct event_base *, const struct config *,
	    int fd, const uid_t *uids, size_t nuids, struct auth_tables *);
/* Replaces the tables (after a reload); the old ones are freed. */
void	authd_server_set_tables(struct auth_tables *);
/* Closes every connection, frees the tables. */
void	authd_server_shutdown(void);
const struct auth_resolver *authd_server_resolver(void);
const struct auth_users	*authd_server_users(void);
uint32_t authd_conn_id(const struct authd_conn *);
uint32_t authd_conn_role(const struct authd_conn *);
/* Queues a reply; -1 when the connection is going away. */
int	authd_conn_send(struct authd_conn *, struct ipc_out *);
/*
 * Answers MSG_AUTH_PASSWORD_RESULT(RESULT_PERMFAIL) to peerid after
 * AUTH_FAIL_DELAY_MSECS.  -1 when too many answers are waiting.
 */
int	authd_conn_fail_later(struct authd_conn *, uint32_t peerid);

/* authd_msg.c: one handler per request type. */

/*
 * Handles one request.  -1 with *why set when the message is not
 * acceptable: the caller ends the connection.
 */
int	authd_msg_dispatch(struct authd_conn *, struct ipc_msg *,
	    const char **why);

#endif
