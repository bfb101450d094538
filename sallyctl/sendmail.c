/*
 * sendmail(8), mailq(1), newaliases(1): the main of sallyport's front
 * end for local programs.  Runs as its caller (no setuid or setgid
 * bit), no chroot, no seccomp.  See sendmail.h and sendmail.8.
 *
 * Mail is read from standard input into a temporary file, then sent
 * over <rundir>/submit.sock to smtpd, which takes the caller's uid from
 * the kernel and decides the envelope sender itself; what this program
 * computes of the sender only writes the From field it adds.  The queue
 * verbs (-bp, -q, -bi) are root's: sallyctl's, run as a child.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "sallyctl.h"
#include "sendmail.h"

#define SENDMAIL_OPTSTRING \
	"+A:B:b:C:d:F:f:Gh:iL:mN:nO:o:p:q::R:r:tUV:vX:"
/* Options of other MTAs that mean nothing here: accepted, ignored. */
#define SENDMAIL_IGNORED	"ABdGhLmNnOpRUVX"

static void __attribute__((noreturn))
sendmail_usage(const char *why)
{
	warnx("%s; usage: sendmail [-itv] [-C file] [-F name] [-f sender] "
	    "[-bm|-bs|-bp|-bi] [-q] [recipient ...]", why);
	exit(EX_USAGE);
}

/* -b: the modes there are; the others of sendmail(8) are refused. */
static void
sendmail_opt_mode(struct sendmail_opts *o, const char *arg)
{
	static const char	 modes[] = "mspi";

	if (arg[0] == '\0' || arg[1] != '\0' ||
	    strchr(modes, arg[0]) == NULL) {
		warnx("-b%s is not supported (-bm, -bs, -bp and -bi are)",
		    arg);
		exit(EX_USAGE);
	}
	o->mode = arg[0];
}

static void
sendmail_opt(struct sendmail_opts *o, int ch, const char *arg)
{
	char	 why[64];

	switch (ch) {
	case 'b':
		sendmail_opt_mode(o, arg);
		break;
	case 'C':
		o->conffile = arg;
		break;
	case 'F':
		o->fullname = arg;
		break;
	case 'f':
	case 'r':
		o->sender = arg;
		break;
	case 'i':
		o->ignore_dots = 1;
		break;
	case 'o':
		/* -oi is -i; every other -o option is ignored. */
		if (strcmp(arg, "i") == 0)
			o->ignore_dots = 1;
		break;
	case 'q':
		o->mode = 'q';
		break;
	case 't':
		o->extract = 1;
		break;
	case 'v':
		o->verbose = 1;
		break;
	default:
		if (ch != '?' && ch != ':' &&
		    strchr(SENDMAIL_IGNORED, ch) != NULL)
			break;
		(void)snprintf(why, sizeof(why), "%s -%c",
		    ch == ':' ? "missing argument to" : "unknown option",
		    optopt);
		sendmail_usage(why);
	}
}

static void
sendmail_options(struct sendmail_opts *o, int argc, char *argv[])
{
	int	 ch;

	opterr = 0;
	while ((ch = getopt(argc, argv, SENDMAIL_OPTSTRING)) != -1)
		sendmail_opt(o, ch, optarg);
	o->rcpts = argv + optind;
	o->nrcpts = argc - optind;
}

/*
 * -bp and -q are sallyctl's "show queue" and "schedule all": this
 * program run again under that name, as Postfix's sendmail runs
 * postqueue, so that the verbs keep one implementation.  Its failure is
 * EX_UNAVAILABLE, after sallyctl's own line.
 */
static int
sendmail_ctl(const char *conffile, const char *verb, const char *arg)
{
	static char	 w[5][PATH_MAX];
	char		*argv[] = { w[0], w[1], w[2], w[3], w[4], NULL };
	pid_t		 pid;
	int		 status;

	(void)strlcpy(w[0], "sallyctl", sizeof(w[0]));
	(void)strlcpy(w[1], "-f", sizeof(w[1]));
	if (strlcpy(w[2], conffile, sizeof(w[2])) >= sizeof(w[2]))
		errx(EX_USAGE, "%s: path too long", conffile);
	(void)strlcpy(w[3], verb, sizeof(w[3]));
	(void)strlcpy(w[4], arg, sizeof(w[4]));
	(void)fflush(stdout);
	if ((pid = fork()) == -1)
		err(EX_OSERR, "fork");
	if (pid == 0) {
		/* XXX Linux: the BSDs would need the installed path. */
		execv("/proc/self/exe", argv);
		warn("exec /proc/self/exe");
		_exit(EX_OSERR);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			err(EX_OSERR, "waitpid");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 :
	    EX_UNAVAILABLE;
}

/* -bp, -q, -bi: root's, through sallyctl. */
static int
sendmail_admin(const struct sendmail_opts *o, struct config *conf)
{
	struct ctl_env	 env;

	if (geteuid() != 0) {
		warnx("only root may %s", o->mode == 'p' ? "list the queue "
		    "(it names every sender and recipient)" : o->mode == 'q' ?
		    "run the queue" : "reload the aliases");
		return EX_NOPERM;
	}
	if (o->mode == 'p')
		return sendmail_ctl(o->conffile, "show", "queue");
	if (o->mode == 'q')
		return sendmail_ctl(o->conffile, "schedule", "all");
	/*
	 * authd reads the aliases file again on SIGHUP: there is no
	 * database to build.  Not running, it reads it when it starts.
	 */
	memset(&env, 0, sizeof(env));
	env.conf = conf;
	return ctl_reload_authd(&env) == 0 ? 0 : EX_UNAVAILABLE;
}

/* A display name as a quoted-string (RFC 5322 3.2.4) when it needs one. */
static void
sendmail_from_line(char *dst, size_t len, const char *name,
    const char *addr)
{
	char	 q[SENDMAIL_LOGIN_MAX_BYTES * 2];
	size_t	 i, n = 0;

	if (name == NULL || name[0] == '\0') {
		(void)snprintf(dst, len, "From: <%s>", addr);
		return;
	}
	for (i = 0; name[i] != '\0' && n + 3 < sizeof(q); i++) {
		if ((unsigned char)name[i] < ' ' || name[i] == 0x7f)
			continue;
		if (name[i] == '"' || name[i] == '\\')
			q[n++] = '\\';
		q[n++] = name[i];
	}
	q[n] = '\0';
	(void)snprintf(dst, len, "From: \"%s\" <%s>", q, addr);
}

/*
 * The sender given in MAIL: -f as given (smtpd decides whether it
 * stands), bare names qualified, "<>" the null sender; else the
 * caller's own address.  own is login@origin.  -1 when it is too long
 * or holds what MAIL FROM cannot carry (a space, a CR or LF, <, >).
 */
static int
sendmail_sender(const char *given, const char *own, const char *origin,
    char *dst, size_t len)
{
	char	 a[SMTP_PATH_MAX_BYTES];
	size_t	 n;
	int	 r;

	if (given == NULL)
		return strlcpy(dst, own, len) < len ? 0 : -1;
	if (strlcpy(a, given, sizeof(a)) >= sizeof(a))
		return -1;
	n = strlen(a);
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a[n - 1] = '\0';
		memmove(a, a + 1, n - 1);
	}
	if (a[0] != '\0' && !sendmail_addr_valid(a))
		return -1;
	if (a[0] == '\0' || strchr(a, '@') != NULL)
		r = snprintf(dst, len, "%s", a);
	else
		r = snprintf(dst, len, "%s@%s", a, origin);
	return r < 0 || (size_t)r >= len ? -1 : 0;
}

/*
 * The caller's login name (never $USER or $LOGNAME): the effective
 * uid's, which is the one smtpd gets from the kernel.
 */
static const struct passwd *
sendmail_caller(void)
{
	const struct passwd	*pw;

	if ((pw = getpwuid(geteuid())) == NULL) {
		warnx("mail not sent: uid %lu has no login name",
		    (unsigned long)geteuid());
		exit(EX_NOUSER);
	}
	return pw;
}

/* The full name of -F, else the first field of the passwd GECOS. */
static const char *
sendmail_fullname(const struct sendmail_opts *o, const struct passwd *pw,
    char *buf, size_t len)
{
	if (o->fullname != NULL)
		return o->fullname;
	if (pw->pw_gecos == NULL)
		return NULL;
	(void)strlcpy(buf, pw->pw_gecos, len);
	buf[strcspn(buf, ",")] = '\0';
	return buf;
}

/* The message: read, then sent; the exit status. */
static int
sendmail_mail(struct sendmail_opts *o, const struct config *conf)
{
	const struct passwd	*pw = sendmail_caller();
	struct sendmail_rcpts	 rc = { NULL, 0, conf->max_rcpts,
	    config_origin(conf) };
	struct sendmail_msg	 m;
	char			 own[SMTP_PATH_MAX_BYTES];
	char			 sender[SMTP_PATH_MAX_BYTES];
	char			 from[1024], name[256];
	char			 sock[PATH_MAX];
	const char		*errstr;
	FILE			*fp;
	int			 i, status;

	if (snprintf(own, sizeof(own), "%s@%s", pw->pw_name, rc.origin) >=
	    (int)sizeof(own) || sendmail_sender(o->sender, own, rc.origin,
	    sender, sizeof(sender)) == -1)
		errx(EX_USAGE, "invalid or too long sender address");
	for (i = 0; i < o->nrcpts; i++)
		if (sendmail_rcpt_add(&rc, o->rcpts[i], &errstr) == -1)
			errx(EX_USAGE, "%s: %s", o->rcpts[i], errstr);
	memset(&m, 0, sizeof(m));
	m.extract = o->extract;
	m.ignore_dots = o->ignore_dots;
	m.max_bytes = conf->max_message_bytes;
	m.rcpts = &rc;
	/* smtpd keeps -f for root and trusted users only: so does From. */
	sendmail_from_line(from, sizeof(from), sendmail_fullname(o, pw, name,
	    sizeof(name)), config_submit_trusted(conf, geteuid(), pw->pw_name) ?
	    sender : own);
	if (sender[0] != '\0')
		m.from_line = from;
	if ((fp = tmpfile()) == NULL)
		err(EX_CANTCREAT, "mail not sent: temporary file");
	if ((status = sendmail_msg_read(&m, stdin, fp, &errstr)) != 0)
		errx(status, "mail not sent: %s", errstr);
	if (rc.n == 0)
		errx(EX_USAGE, "mail not sent: no recipients");
	o->sender = sender;
	config_runpath(conf, SUBMIT_SOCKET, sock, sizeof(sock));
	status = sendmail_smtp_send(o, sock, conf->hostname, &rc, fp);
	(void)fclose(fp);
	sendmail_rcpts_free(&rc);
	return status;
}

const char *
sendmail_name(const char *argv0)
{
	static const char *const names[] = { "sendmail", "mailq",
	    "newaliases" };
	const char	*base;
	size_t		 i;

	if (argv0 == NULL)
		return NULL;
	base = (base = strrchr(argv0, '/')) != NULL ? base + 1 : argv0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(base, names[i]) == 0)
			return names[i];
	return NULL;
}

int
sendmail_main(int argc, char *argv[])
{
	struct sendmail_opts	 o;
	struct config		*conf;
	const char		*name = sendmail_name(argv[0]);
	char			 err[512], sock[PATH_MAX];
	int			 status;

	log_init(name, 1);
	memset(&o, 0, sizeof(o));
	o.conffile = CONFIG_DEFAULT_PATH;
	o.mode = strcmp(name, "mailq") == 0 ? 'p' :
	    strcmp(name, "newaliases") == 0 ? 'i' : 'm';
	sendmail_options(&o, argc, argv);
	if ((conf = config_load(o.conffile, err, sizeof(err))) == NULL)
		errx(EX_CONFIG, "%s", err);
	switch (o.mode) {
	case 's':
		config_runpath(conf, SUBMIT_SOCKET, sock, sizeof(sock));
		status = sendmail_smtp_session(sock, conf->hostname);
		break;
	case 'm':
		status = sendmail_mail(&o, conf);
		break;
	default:
		status = sendmail_admin(&o, conf);
		break;
	}
	config_free(conf);
	return status;
}
