#!/bin/sh
# Creates the system users sallyport's daemons run as, when missing:
# system accounts with a group of the same name, no home directory and
# no login shell.  Running it again changes nothing.  Used by
# "make install" and by etc/demo.sh; systemd hosts get the same users
# from etc/sysusers.d/sallyport.conf.
#
#   sh etc/users.sh		(as root)
set -eu

USERS="_sallyauth _sallysmtp _sallyqueue _sallyrelay _sallypop _sallyimap"
HOME_NONE=/nonexistent

say() { echo "users.sh: $*"; }
die() { echo "users.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must be run as root"

nologin() {
	for s in /usr/sbin/nologin /sbin/nologin /usr/bin/false /bin/false; do
		[ -x "$s" ] && { echo "$s"; return 0; }
	done
	echo /bin/false
}

has_user() { id -u "$1" >/dev/null 2>&1; }

# A group of that name may already exist (made by systemd-sysusers, or
# left behind by userdel): join it rather than fail.
has_group() {
	if command -v getent >/dev/null 2>&1; then
		getent group "$1" >/dev/null 2>&1
	else
		grep -q "^$1:" /etc/group
	fi
}

add_linux() {
	if has_group "$1"; then
		grp="--gid $1"
	else
		grp="--user-group"
	fi
	# $grp is two words or one, split on purpose.
	# shellcheck disable=SC2086
	useradd --system $grp --no-create-home --home-dir "$HOME_NONE" \
	    --shell "$(nologin)" --comment "sallyport $2" "$1"
}

add_bsd() {
	has_group "$1" || pw groupadd -n "$1"
	pw useradd -n "$1" -g "$1" -d "$HOME_NONE" -s "$(nologin)" \
	    -c "sallyport $2" -h -
}

for u in $USERS; do
	has_user "$u" && continue
	role=${u#_sally}
	if command -v useradd >/dev/null 2>&1 && [ "$(uname -s)" = Linux ]; then
		add_linux "$u" "$role" || die "cannot create user $u"
	elif command -v pw >/dev/null 2>&1; then
		add_bsd "$u" "$role" || die "cannot create user $u"
	else
		die "neither useradd nor pw(8) found: create $u by hand"
	fi
	say "created system user $u"
done
