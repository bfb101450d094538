#!/bin/sh
# Installs the Debian packages that sallyport needs to build and to run
# its tests, when they are missing.  "make deps" runs it; as root it uses
# apt-get, otherwise it prints the command to run and fails.
set -eu

BUILD="gcc make pkg-config bison libbsd-dev libtls-dev libssl-dev \
libevent-dev zlib1g-dev libcriterion-dev libcrypt-dev libseccomp-dev libunbound-dev \
clang-14 libclang-rt-14-dev"
TESTS="python3 swaks msmtp curl openssl iproute2 procps mpop fetchmail \
isync neomutt offlineimap3"
# The relay's default CA bundle for "tls verify" (queued/relay_smtp.c).
RUN="ca-certificates"
# Local programs that call sendmail(8), for regress/integration/
# test_sendmail.py: mail(1) and git send-email.
TESTS="$TESTS bsd-mailx git-email"
# "make deb" and its test (regress/integration/test_deb.py): debhelper,
# lintian, and systemd for systemd-sysusers (the package's users) and
# "systemd-analyze verify" (its units); nothing is started.
DEB="debhelper lintian systemd"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: dpkg-query not found: this script knows Debian only;" \
	    "install by hand: $BUILD $TESTS $RUN $DEB" >&2
	exit 1
fi

missing=""
for p in $BUILD $TESTS $RUN $DEB; do
	# "ii" is the only state in which a package is really installed.
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

# Postfix, for the interop tests (regress/integration/test_smtp_interop.py
# runs an instance of its own), only where no other mail server owns
# /usr/sbin/sendmail, and with debconf's "No configuration" so that the
# system's Postfix is neither configured nor started.
POSTFIX_NOCONF="postfix postfix/main_mailer_type select No configuration"
if ! command -v postfix >/dev/null 2>&1 && [ ! -e /usr/sbin/sendmail ]; then
	missing="$missing postfix"
fi

# nsd and ldnsutils, for the relay's DNS tests
# (regress/integration/test_relay_dns.py runs an nsd of its own).  nsd's
# postinst starts the system's nsd: a policy-rc.d that refuses every
# start (Debian's invoke-rc.d policy, exit 101) keeps it stopped while
# it is installed.
NSD_PKGS="nsd ldnsutils"
for p in $NSD_PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all packages are installed"
	exit 0
fi

echo "deps: missing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "$POSTFIX_NOCONF" | debconf-set-selections
apt-get update -qq
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
fi
# shellcheck disable=SC2086
apt-get install -y -qq $missing || { [ -z "$policy" ] || rm -f "$policy"; exit 1; }
[ -z "$policy" ] || rm -f "$policy"
echo "deps: installed:$missing"
