#!/bin/sh
# "make check": the Criterion unit tests, then the integration tests
# against the real daemons, then a short run of every fuzz harness
# (regress/fuzz/run.sh smoke, one pass or failure per harness).  Must
# run as root: the integration tests start the daemons with their real
# users and chroots.  Ends with one line "N passed, N failed" over all,
# and fails if anything failed.
set -u

cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "check: must be run as root (the integration tests start the" \
	    "daemons with their real users and chroots): sudo make check" >&2
	exit 1
fi

# The PATH may hold another python first (pyenv); the tests use Debian's.
PY=/usr/bin/python3
UNIT=regress/unit/unit_tests
passed=0
failed=0
tmp=$(mktemp -d /tmp/sallyport-check.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Runs "$@" with its output shown and kept in $tmp/out; its status in
# $tmp/rc (a pipeline in sh reports only the status of its last part).
run_logged() {
	{ "$@" 2>&1; echo $? >"$tmp/rc"; } | tee "$tmp/out"
	rc=$(cat "$tmp/rc")
}

count() {	# count NAME TEXT: the number after "NAME:" or "N NAME"
	echo "$2" | sed -n "s/.*$1: *\([0-9][0-9]*\).*/\1/p"
}

echo "==> unit tests: $UNIT"
if [ -x "$UNIT" ]; then
	run_logged "$UNIT"
	# "[====] Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N"
	syn=$(sed -n 's/.*Synthesis: //p' "$tmp/out" | tail -n 1)
	up=$(count Passing "$syn")
	uf=$(count Failing "$syn")
	uc=$(count Crashing "$syn")
	if [ -z "$up" ] || [ -z "$uf" ] || [ -z "$uc" ]; then
		echo "check: no Criterion synthesis line from $UNIT" >&2
		up=0 uf=1 uc=0
	elif [ "$rc" != 0 ] && [ $((uf + uc)) = 0 ]; then
		echo "check: $UNIT exited with status $rc" >&2
		uf=1
	fi
	passed=$((passed + up))
	failed=$((failed + uf + uc))
else
	echo "check: $UNIT is missing (make check builds it)" >&2
	failed=$((failed + 1))
fi

# In a sanitizer build ("make asan-check") the daemons' leak check at
# exit is off: it runs in a thread that their seccomp filters refuse.
# What ASan and UBSan find otherwise fails the test (suite.py).
echo "==> integration tests: regress/integration/run.py"
if [ -x "$PY" ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
	    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
	    run_logged "$PY" regress/integration/run.py
	# The runner's last line: "N passed, N failed[, N skipped]".
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/out" | tail -n 1)
	ip=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed.*/\1/p')
	if_=$(echo "$last" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
	if [ -z "$ip" ] || [ -z "$if_" ]; then
		echo "check: no summary line from run.py" >&2
		ip=0 if_=1
	elif [ "$rc" != 0 ] && [ "$if_" = 0 ]; then
		echo "check: run.py exited with status $rc" >&2
		if_=1
	fi
	passed=$((passed + ip))
	failed=$((failed + if_))
else
	echo "check: $PY is missing (make deps installs it)" >&2
	failed=$((failed + 1))
fi

echo "==> fuzz harnesses, a short run each: regress/fuzz/run.sh"
names=$(ls regress/fuzz/fuzz_*.c 2>/dev/null | sed 's,.*/fuzz_,,; s,\.c$,,')
run_logged sh regress/fuzz/run.sh smoke $names
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/out" | tail -n 1)
fp=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed.*/\1/p')
ff=$(echo "$last" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
if [ -z "$fp" ] || [ -z "$ff" ]; then
	echo "check: no summary line from regress/fuzz/run.sh" >&2
	fp=0 ff=1
fi
passed=$((passed + fp))
failed=$((failed + ff))

echo "==> all tests"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
