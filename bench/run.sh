#!/bin/sh
# The benchmark ("make bench", which builds the suite first).  As root:
#
#   sh bench/run.sh [bench.py options]
#
# builds the load generator bench/out/smtp-load, installs Postfix when it
# is missing and may be installed (see below), then runs bench/bench.py:
# for each scenario a fresh sallyport suite, then a fresh Postfix instance,
# under temporary directories on free loopback ports, and prints a table.
# The figures are also written to bench/out/results.txt and results.json.
#
# Environment:
#   BENCH_POSTFIX=no        do not run Postfix
#   BENCH_INSTALL=no        do not install Postfix when it is missing
#   BENCH_OPTS="..."        more options for bench.py (same as the
#                           arguments), e.g. "--messages 500 --per-conn 1"
#   BENCH_RELAY=no          do not run the relay benchmark (bench/relay.py:
#                           2,000 messages to 10 domains relayed to a sink)
#   BENCH_QUICK=1           a short relay run (200 messages)
#   BENCH_RELAY_OPTS="..."  more options for bench/relay.py
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
BENCH_RELAY_TIMEOUT_SECS=600

say() { echo "bench: $*"; }
die() { echo "bench: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must be run as root: the suite starts as root" \
    "and drops to its own users and chroots (sudo make bench)"

build_load() {
	mkdir -p "$OUT"
	src=$TOP/bench/smtp-load.c
	bin=$OUT/smtp-load
	[ -x "$bin" ] && [ -z "$(find "$src" -newer "$bin")" ] && return 0
	flags=$(pkg-config --cflags --libs libbsd-overlay libevent) ||
	    die "pkg-config does not know libbsd-overlay or libevent" \
	    "(make deps installs them)"
	# shellcheck disable=SC2086
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra \
	    -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	    -Wpointer-arith -Wcast-qual -Wsign-compare -Werror \
	    -o "$bin" "$src" $flags || die "cannot build $bin"
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

for p in authd smtpd queued pop3d; do
	[ -x "$TOP/$p/$p" ] || die "$p/$p is not built (make bench builds it)"
done
build_load
servers=sallyport
if want_postfix; then
	servers=sallyport,postfix
fi
cd "$TOP"
status=0
# shellcheck disable=SC2086
timeout -k 30 "$BENCH_TIMEOUT_SECS" python3 bench/bench.py \
    --servers "$servers" ${BENCH_OPTS:-} "$@" || status=$?
if [ "${BENCH_RELAY:-yes}" != no ]; then
	# shellcheck disable=SC2086
	timeout -k 30 "$BENCH_RELAY_TIMEOUT_SECS" python3 bench/relay.py \
	    --servers "$servers" ${BENCH_RELAY_OPTS:-} || status=$?
fi
exit "$status"
