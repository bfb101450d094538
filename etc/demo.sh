#!/bin/sh
# The demo: the whole suite under ./run on 127.0.0.1, as root with its
# real users and chroots.  "make demo" runs "start", "make demo-stop"
# runs "stop".
#
#   sh etc/demo.sh start	create what is missing, start the daemons
#   sh etc/demo.sh stop		stop them
#   sh etc/demo.sh status	say which daemons run
#   sh etc/demo.sh users	create the system users only (also used by
#				the integration tests)
#
# Nothing here does a DNS lookup: the configuration says "resolver none"
# and every address is numeric.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
RUN=$TOP/run
CONF=$RUN/etc/sallyport.conf
SOCK=$RUN/sock
LOGDIR=$RUN/log
SMTP_PORT=2525
SUBMISSION_PORT=2587
SMTPS_PORT=2465
POP3_PORT=2110
POP3S_PORT=2995
IMAP_PORT=2143
IMAPS_PORT=2993
DAEMONS="authd queued smtpd pop3d imapd"
# Seconds to wait for a daemon to come up, and for one to exit.
START_TIMEOUT=15
STOP_TIMEOUT=10

# The users each daemon role runs as (etc/users.sh creates them too).
DAEMON_USERS="_sallyauth _sallysmtp _sallyqueue _sallyrelay _sallypop \
_sallyimap"
# The system users behind the demo's virtual mail users.
MAIL_USERS="sp_alice sp_bob"

say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "must be run as root: the daemons start" \
	    "as root and drop to their own users and chroots (sudo make demo)"
}

nologin() {
	for s in /usr/sbin/nologin /sbin/nologin /bin/false; do
		[ -x "$s" ] && { echo "$s"; return; }
	done
	echo /bin/false
}

# A system user with its own group (joined if it is left over from an
# earlier user), no home, no login.
mkuser() {
	id -u "$1" >/dev/null 2>&1 && return 0
	if getent group "$1" >/dev/null 2>&1; then
		set -- "$1" --gid "$1"
	else
		set -- "$1" --user-group
	fi
	useradd --system "$2" ${3:+"$3"} --no-create-home \
	    --home-dir /nonexistent --shell "$(nologin)" \
	    --comment "sallyport demo" "$1" || die "cannot create user $1"
	say "created system user $1"
}

make_users() {
	if [ -f "$TOP/etc/users.sh" ]; then
		sh "$TOP/etc/users.sh" || die "etc/users.sh failed"
	fi
	# Fallback while etc/users.sh is missing or incomplete.
	for u in $DAEMON_USERS $MAIL_USERS; do
		mkuser "$u"
	done
}

# write_file PATH MODE OWNER: stdin into PATH, atomically.
write_file() {
	cat >"$1.tmp"
	chown "$3" "$1.tmp"
	chmod "$2" "$1.tmp"
	mv -f "$1.tmp" "$1"
}

make_dirs() {
	install -d -m 0755 -o root -g root "$RUN" "$RUN/etc" "$SOCK" \
	    "$RUN/empty" "$RUN/mail"
	# The logs name addresses and client IPs: root's only.
	install -d -m 0750 -o root -g root "$LOGDIR"
	chmod 0750 "$LOGDIR"
	# The chroot of the engines: empty, root's, not writable by them.
	chown root:root "$RUN/empty"
	chmod 0755 "$RUN/empty"
	install -d -m 0700 -o _sallyqueue -g _sallyqueue "$RUN/spool"
	install -d -m 0700 -o sp_alice -g sp_alice "$RUN/mail/alice"
	install -d -m 0700 -o sp_bob -g sp_bob "$RUN/mail/bob"
}

make_config() {
	write_file "$CONF" 0644 root:root <<EOF
# sallyport demo configuration, written by etc/demo.sh.
hostname "mail.example.test"
rundir "$SOCK"
spool "$RUN/spool"
chroot "$RUN/empty"
users "$RUN/etc/users"
aliases "$RUN/etc/aliases"
resolver none
domain "example.test"
listen smtp on 127.0.0.1 port $SMTP_PORT
listen pop3 on 127.0.0.1 port $POP3_PORT
listen pop3s on 127.0.0.1 port $POP3S_PORT
listen imap on 127.0.0.1 port $IMAP_PORT
listen imaps on 127.0.0.1 port $IMAPS_PORT
listen submission on 127.0.0.1 port $SUBMISSION_PORT
listen smtps on 127.0.0.1 port $SMTPS_PORT
pki "mail.example.test" cert "$RUN/etc/cert.pem" key "$RUN/etc/key.pem"
# The demo is on 127.0.0.1: passwords may go in clear text there (POP3
# USER/PASS and AUTH, IMAP LOGIN and AUTHENTICATE, SMTP AUTH); elsewhere
# only under TLS.
auth plaintext-on-loopback yes
# Outbound mail: with "resolver none" it waits in the queue.  To send it
# all through a smarthost instead (see sallyport.conf(5)):
#secrets "$RUN/etc/secrets"
#relay to default via "smtp.provider.example" port 587 tls verify auth "provider"
EOF
}

# users(5) line for one demo user: name:hash:uid:gid:home
user_line() {
	printf '%s:%s:%s:%s:%s\n' "$1" "$2" "$(id -u "$3")" "$(id -g "$3")" \
	    "$RUN/mail/$1"
}

make_tables() {
	if [ ! -f "$RUN/etc/users" ]; then
		hash=$(openssl passwd -6 demo) || die "openssl passwd failed"
		{
			echo "# name:crypt-hash:uid:gid:home (etc/demo.sh)"
			user_line alice "$hash" sp_alice
			user_line bob "$hash" sp_bob
		} | write_file "$RUN/etc/users" 0640 root:_sallyauth
	fi
	chgrp _sallyauth "$RUN/etc/users"
	chmod 0640 "$RUN/etc/users"
	[ -f "$RUN/etc/aliases" ] ||
	    write_file "$RUN/etc/aliases" 0644 root:root <<EOF
# aliases(5) of the demo (etc/demo.sh)
postmaster: alice
abuse: alice
team: alice, bob
EOF
}

# A self-signed certificate for STARTTLS, SMTPS, STLS and POP3S.
make_cert() {
	[ -f "$RUN/etc/cert.pem" ] && [ -f "$RUN/etc/key.pem" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
	    -subj /CN=mail.example.test -keyout "$RUN/etc/key.pem" \
	    -out "$RUN/etc/cert.pem" >/dev/null 2>&1 ||
	    die "openssl req failed"
	chmod 0600 "$RUN/etc/key.pem"
	chmod 0644 "$RUN/etc/cert.pem"
	say "created a self-signed certificate in run/etc/cert.pem"
}

# The pid of a running daemon, from its pidfile, or nothing.  A live
# daemon holds the pidfile's lock (flock): one nobody holds is stale.
running_pid() {
	pf=$SOCK/$1.pid
	[ -f "$pf" ] || return 0
	if command -v flock >/dev/null 2>&1 && flock -n "$pf" true; then
		return 0
	fi
	pid=$(tr -dc 0-9 <"$pf")
	[ -n "$pid" ] || return 0
	# The pid may have been reused by another program since.
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
	[ "$exe" = "$TOP/$1/$1" ] && echo "$pid"
	return 0
}

listening() {
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# A Unix socket that listens (flag __SO_ACCEPTCON in /proc/net/unix): a
# socket file that a dead daemon left behind does not count.
unix_listening() {
	awk -v p="$SOCK/$1" '$8 == p && $4 == "00010000" { f = 1 }
	    END { exit !f }' /proc/net/unix
}

is_up() {
	case $1 in
	authd)	unix_listening authd.sock ;;
	queued)	unix_listening queue.sock ;;
	smtpd)	listening $SMTP_PORT ;;
	pop3d)	listening $POP3_PORT ;;
	imapd)	listening $IMAP_PORT ;;
	esac
}

log_tail() {
	echo "---- last lines of $LOGDIR/$1.log ----" >&2
	tail -n 25 "$LOGDIR/$1.log" >&2 || true
	echo "----" >&2
}

start_one() {
	d=$1
	bin=$TOP/$d/$d
	[ -x "$bin" ] || die "$d/$d is not built (make demo builds it)"
	if [ -n "$(running_pid "$d")" ]; then
		say "$d already runs (pid $(running_pid "$d"))"
		return 0
	fi
	# Not readable by others (addresses, client IPs), also when an
	# older demo made it 0644.
	(umask 027 && : >>"$LOGDIR/$d.log")
	chmod 0640 "$LOGDIR/$d.log"
	echo "==== $(date '+%F %T') start" >>"$LOGDIR/$d.log"
	# setsid: its own session, so that it outlives this shell.
	nohup setsid "$bin" -d -f "$CONF" </dev/null \
	    >>"$LOGDIR/$d.log" 2>&1 &
	pid=$!
	i=0
	while ! is_up "$d"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log_tail "$d"
			die "$d exited at start; see $LOGDIR/$d.log"
		fi
		i=$((i + 1))
		if [ $i -gt $((START_TIMEOUT * 10)) ]; then
			log_tail "$d"
			die "$d did not come up in ${START_TIMEOUT}s (pid $pid);" \
			    "make demo-stop stops what runs"
		fi
		sleep 0.1
	done
	say "started $d (pid $pid)"
}

usage_text() {
	cat <<EOF

The demo runs on 127.0.0.1: SMTP port $SMTP_PORT (STARTTLS), submission
$SUBMISSION_PORT (STARTTLS, then AUTH), SMTPS $SMTPS_PORT, POP3 port $POP3_PORT (STLS), POP3S $POP3S_PORT,
IMAP port $IMAP_PORT (STARTTLS), IMAPS $IMAPS_PORT,
domain example.test, users alice and bob (password "demo"),
aliases postmaster, abuse (alice) and team (alice, bob).

  Send a message to bob:
    swaks --server 127.0.0.1:$SMTP_PORT --helo client.example.test \\
        --from alice@example.test --to bob@example.test
  Submit one over TLS with AUTH (submission, then SMTPS):
    swaks --server 127.0.0.1:$SUBMISSION_PORT --tls --auth PLAIN \\
        --auth-user alice --auth-password demo \\
        --from alice@example.test --to bob@example.test
    swaks --server 127.0.0.1:$SMTPS_PORT --tlsc --auth LOGIN \\
        --auth-user alice --auth-password demo \\
        --from alice@example.test --to bob@example.test
  Read it over POP3 (with curl, if it is installed, or python3):
    curl -s pop3://127.0.0.1:$POP3_PORT/ -u bob:demo        (list)
    curl -s pop3://127.0.0.1:$POP3_PORT/1 -u bob:demo       (message 1)
    python3 -c 'import poplib; p = poplib.POP3("127.0.0.1", $POP3_PORT); p.user("bob"); p.pass_("demo"); print(b"\n".join(p.retr(1)[1]).decode()); p.quit()'
  The same over TLS, the certificate checked (POP3S, then STLS):
    curl -s --cacert run/etc/cert.pem --resolve mail.example.test:$POP3S_PORT:127.0.0.1 \\
        pop3s://mail.example.test:$POP3S_PORT/1 -u bob:demo
    curl -s --ssl-reqd --cacert run/etc/cert.pem --resolve mail.example.test:$POP3_PORT:127.0.0.1 \\
        pop3://mail.example.test:$POP3_PORT/1 -u bob:demo
  Read it over IMAP (curl, python3's imaplib), then over IMAPS:
    curl -s imap://127.0.0.1:$IMAP_PORT/INBOX -u bob:demo -X 'FETCH 1:* (FLAGS)'
    curl -s 'imap://127.0.0.1:$IMAP_PORT/INBOX;UID=1' -u bob:demo
    python3 -c 'import imaplib; c = imaplib.IMAP4("127.0.0.1", $IMAP_PORT); c.login("bob", "demo"); c.select(); print(c.fetch("1", "(BODY[])")[1][0][1].decode()); c.logout()'
    curl -s --cacert run/etc/cert.pem --resolve mail.example.test:$IMAPS_PORT:127.0.0.1 \\
        'imaps://mail.example.test:$IMAPS_PORT/INBOX;UID=1' -u bob:demo
  It is stored in run/mail/bob/Maildir/new/.
  The queue and the daemons:
    sallyctl/sallyctl -f run/etc/sallyport.conf show queue
    sallyctl/sallyctl -f run/etc/sallyport.conf show status
    sallyctl/sallyctl -f run/etc/sallyport.conf help
  Logs: run/log/authd.log queued.log smtpd.log pop3d.log imapd.log
  Configuration: run/etc/sallyport.conf (users: run/etc/users,
  aliases: run/etc/aliases)
  Stop it: make demo-stop
EOF
}

# The daemons' users and the mail users must reach ./run: a tree under
# a private directory (/root is 0700) cannot hold the demo.
check_reach() {
	for u in _sallyauth sp_alice; do
		setpriv --reuid="$u" --regid="$u" --clear-groups \
		    test -x "$RUN/etc" -a -x "$RUN/mail" 2>/dev/null && continue
		die "user $u cannot reach $RUN: a directory above it is" \
		    "closed to other users (e.g. /root is 0700); run the demo" \
		    "from a tree under /usr/src, /srv or /tmp, or chmod o+x it"
	done
}

demo_start() {
	need_root
	cd "$TOP"
	for d in $DAEMONS; do
		[ -x "$d/$d" ] || die "$d/$d is not built; run make demo"
	done
	make_users
	make_dirs
	check_reach
	make_cert
	make_config
	make_tables
	# Refuse a broken configuration before anything starts.
	authd/authd -n -f "$CONF" >/dev/null ||
	    die "the configuration $CONF does not load"
	for d in $DAEMONS; do
		start_one "$d"
	done
	usage_text
}

# wait_gone PID SECS: 0 once PID has exited, 1 after SECS.
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

demo_stop() {
	need_root
	pids=""
	for d in imapd pop3d smtpd queued authd; do
		p=$(running_pid "$d")
		[ -n "$p" ] && pids="$pids $d:$p"
	done
	if [ -z "$pids" ]; then
		say "nothing runs"
		return 0
	fi
	# sallyctl stop asks the suite to stop; the pidfiles are the fallback.
	if [ -x sallyctl/sallyctl ] &&
	    sallyctl/sallyctl -f "$CONF" stop >/dev/null 2>&1; then
		say "asked the suite to stop with sallyctl stop"
	fi
	for dp in $pids; do
		d=${dp%%:*} p=${dp#*:}
		if wait_gone "$p" 2; then
			say "stopped $d (pid $p)"
			continue
		fi
		kill -TERM "$p" 2>/dev/null || true
		if wait_gone "$p" "$STOP_TIMEOUT"; then
			say "stopped $d (pid $p) with SIGTERM"
		else
			# Its own session and group since start (setsid).
			kill -KILL "-$p" 2>/dev/null ||
			    kill -KILL "$p" 2>/dev/null || true
			say "$d (pid $p) ignored SIGTERM for ${STOP_TIMEOUT}s:" \
			    "killed it"
		fi
	done
}

demo_status() {
	for d in $DAEMONS; do
		p=$(running_pid "$d")
		if [ -n "$p" ]; then
			say "$d up (pid $p)"
		else
			say "$d down"
		fi
	done
}

case ${1:-} in
start)	demo_start ;;
stop)	demo_stop ;;
status)	demo_status ;;
users)	need_root; make_users ;;
*)	echo "usage: sh etc/demo.sh start|stop|status|users" >&2; exit 2 ;;
esac
