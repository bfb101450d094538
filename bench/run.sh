#!/bin/sh
# The benchmark ("make bench", which builds the suite first).  As root:
#
#   sh bench/run.sh [bench.py options]
#
# builds the load generators bench/out/smtp-load and bench/out/pop3-load,
# installs Postfix when it is missing and may be installed (see below),
# then runs bench/bench.py:
# for each scenario a fresh sallyport suite, then a fresh Postfix instance,
# under temporary directories on free loopback ports, and prints a table.
# The figures are also written to bench/out/results.txt and results.json.
# Then bench/pop3.py: POP3 against a fresh suite and a Dovecot instance
# of its own (installed like Postfix), into bench/out/pop3.txt and
# pop3.json.
# Then bench/imap.py: IMAP against a fresh suite and a Dovecot instance
# (dovecot-imapd) of its own, into bench/out/imap.txt and imap.json.
#
# Environment:
#   BENCH_POSTFIX=no        do not run Postfix
#   BENCH_INSTALL=no        do not install Postfix when it is missing
#   BENCH_OPTS="..."        more options for bench.py (same as the
#                           arguments), e.g. "--messages 500 --per-conn 1"
#   BENCH_SMTP=no           skip the SMTP benchmark (bench/bench.py)
#   BENCH_POP3=no           skip the POP3 benchmark (bench/pop3.py)
#   BENCH_IMAP=no           skip the IMAP benchmark (bench/imap.py)
#   BENCH_DOVECOT=no        do not run Dovecot in the POP3 and IMAP
#                           benchmarks
#   BENCH_IMAP_OPTS="..."   more options for bench/imap.py
#   BENCH_RELAY=no          do not run the relay benchmark (bench/relay.py:
#                           2,000 messages to 10 domains relayed to a sink)
#   BENCH_QUICK=1           short POP3, IMAP and relay runs (IMAP: under
#                           a minute, a 5,000-message folder)
#   BENCH_RELAY_OPTS="..."  more options for bench/relay.py
#
# The POP3 benchmark (bench/pop3.py) runs after the SMTP one, side by
# side with a Dovecot instance of its own, installed here like Postfix;
# then the relay benchmark, side by side with Postfix.
#
# Postfix is installed only with apt-get, only when no other mail server
# provides /usr/sbin/sendmail (installing it would remove that one), with
# debconf's "No configuration": the system's own Postfix is not set up nor
# started; the benchmark runs its own instance from a temporary directory.
# Everything talks to 127.0.0.1 only and nothing makes a DNS query.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/bench/out
# The whole benchmark ends by itself: each scenario is bounded in
# bench.py; this is the last resort.
BENCH_TIMEOUT_SECS=1200
BENCH_POP3_TIMEOUT_SECS=600
BENCH_IMAP_TIMEOUT_SECS=900
BENCH_RELAY_TIMEOUT_SECS=600

say() { echo "bench: $*"; }
die() { echo "bench: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must be run as root: the suite starts as root" \
    "and drops to its own users and chroots (sudo make bench)"

# build_load NAME: bench/out/NAME from bench/NAME.c and what the load
# generators share (bench/load-common.c), unless up to date.
build_load() {
	mkdir -p "$OUT"
	src=$TOP/bench/$1.c
	common=$TOP/bench/load-common
	bin=$OUT/$1
	[ -x "$bin" ] && [ -z "$(find "$src" "$common.c" "$common.h" \
	    -newer "$bin")" ] && return 0
	flags=$(pkg-config --cflags --libs libbsd-overlay libevent) ||
	    die "pkg-config does not know libbsd-overlay or libevent" \
	    "(make deps installs them)"
	# shellcheck disable=SC2086
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra \
	    -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	    -Wpointer-arith -Wcast-qual -Wsign-compare -Werror \
	    -o "$bin" "$src" "$common.c" $flags || die "cannot build $bin"
	say "built $bin"
}

want_postfix() {
	[ "${BENCH_POSTFIX:-yes}" != no ] || return 1
	command -v postfix >/dev/null 2>&1 && return 0
	if [ "${BENCH_INSTALL:-yes}" = no ]; then
		say "Postfix is not installed (BENCH_INSTALL=no): sallyport alone"
		return 1
	fi
	if [ -e /usr/sbin/sendmail ]; then
		say "another mail server owns /usr/sbin/sendmail; not installing" \
		    "Postfix over it: sallyport alone"
		return 1
	fi
	command -v apt-get >/dev/null 2>&1 || {
		say "no apt-get to install Postfix with: sallyport alone"
		return 1
	}
	say "installing Postfix (debconf: No configuration) for the comparison"
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix \
	    >"$OUT/apt.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq \
		    >>"$OUT/apt.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    postfix >>"$OUT/apt.log" 2>&1 || {
			say "apt-get install postfix failed (see $OUT/apt.log):" \
			    "sallyport alone"
			return 1
		}
	fi
	command -v postfix >/dev/null 2>&1
}

# want_dovecot PROTO: Dovecot (dovecot-core, dovecot-PROTOd: pop3 or
# imap) for the POP3 or IMAP comparison, when it is missing and may be
# installed.  Its postinst starts the system's
# Dovecot: a policy-rc.d that refuses every start (Debian's invoke-rc.d
# policy, exit 101, as etc/deps.sh does for nsd) keeps it stopped; the
# benchmark runs its own instance (dovecot -c FILE) from a temporary
# directory.
want_dovecot() {
	[ "${BENCH_DOVECOT:-yes}" != no ] || return 1
	command -v dovecot >/dev/null 2>&1 &&
	    [ -x "/usr/lib/dovecot/$1" ] && return 0
	if [ "${BENCH_INSTALL:-yes}" = no ]; then
		say "Dovecot is not installed (BENCH_INSTALL=no): sallyport alone"
		return 1
	fi
	command -v apt-get >/dev/null 2>&1 || {
		say "no apt-get to install Dovecot with: sallyport alone"
		return 1
	}
	say "installing Dovecot (no service started) for the $1 comparison"
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
	fi
	st=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-core \
	    "dovecot-$1d" >>"$OUT/apt.log" 2>&1 || {
		DEBIAN_FRONTEND=noninteractive apt-get update -qq \
		    >>"$OUT/apt.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    dovecot-core "dovecot-$1d" >>"$OUT/apt.log" 2>&1 || st=1
	}
	[ -z "$policy" ] || rm -f "$policy"
	if [ "$st" != 0 ]; then
		say "apt-get install dovecot-$1d failed (see $OUT/apt.log):" \
		    "sallyport alone"
		return 1
	fi
	command -v dovecot >/dev/null 2>&1 && [ -x "/usr/lib/dovecot/$1" ]
}

for p in authd smtpd queued pop3d; do
	[ -x "$TOP/$p/$p" ] || die "$p/$p is not built (make bench builds it)"
done
build_load smtp-load
build_load pop3-load
build_load imap-load
servers=sallyport
if want_postfix; then
	servers=sallyport,postfix
fi
pop3_servers=sallyport
if [ "${BENCH_POP3:-yes}" != no ] && want_dovecot pop3; then
	pop3_servers=sallyport,dovecot
fi
imap_servers=sallyport
if [ "${BENCH_IMAP:-yes}" != no ] && want_dovecot imap; then
	imap_servers=sallyport,dovecot
fi
cd "$TOP"
st=0
if [ "${BENCH_SMTP:-yes}" != no ]; then
	# shellcheck disable=SC2086
	timeout -k 30 "$BENCH_TIMEOUT_SECS" python3 bench/bench.py \
	    --servers "$servers" ${BENCH_OPTS:-} "$@" || st=$?
fi
if [ "${BENCH_POP3:-yes}" != no ]; then
	timeout -k 30 "$BENCH_POP3_TIMEOUT_SECS" python3 bench/pop3.py \
	    --servers "$pop3_servers" || st=$?
fi
if [ "${BENCH_IMAP:-yes}" != no ]; then
	# bench/imap.py runs sallyport only when its imapd is built (it
	# says so otherwise and runs Dovecot alone).
	# shellcheck disable=SC2086
	timeout -k 30 "$BENCH_IMAP_TIMEOUT_SECS" python3 bench/imap.py \
	    --servers "$imap_servers" ${BENCH_IMAP_OPTS:-} || st=$?
fi
if [ "${BENCH_RELAY:-yes}" != no ]; then
	# shellcheck disable=SC2086
	timeout -k 30 "$BENCH_RELAY_TIMEOUT_SECS" python3 bench/relay.py \
	    --servers "$servers" ${BENCH_RELAY_OPTS:-} || st=$?
fi
exit "$st"
