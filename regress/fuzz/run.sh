#!/bin/sh
# Runs the libFuzzer harnesses (regress/fuzz/fuzz_*, built by "make
# fuzz-build").  "make fuzz" and "make check" call it:
#
#   run.sh smoke NAME...	each harness over its seed corpus, then
#				FUZZ_SMOKE_RUNS inputs more; a few seconds
#   run.sh long NAME...		each harness for FUZZ_SECS seconds, its
#				corpus kept in obj/corpus/NAME between runs
#
# A crash, a leak or a broken check leaves its input in crashes/ (replay
# it with "regress/fuzz/fuzz_NAME crashes/FILE").  One line per harness
# says how many inputs ran; the last line is "N passed, N failed".
set -u

cd "$(dirname "$0")" || exit 1
mode=${1:-smoke}
shift
passed=0
failed=0
mkdir -p crashes obj/corpus
tmp=$(mktemp -d /tmp/sallyport-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

for name in "$@"; do
	bin=./fuzz_$name
	seeds=corpus/$name
	if [ "$mode" = long ]; then
		out=obj/corpus/$name
		opts="-max_total_time=${FUZZ_SECS:-60}"
	else
		out=$tmp/$name
		opts="-runs=${FUZZ_SMOKE_RUNS:-4000}"
	fi
	mkdir -p "$out"
	"$bin" $opts -print_final_stats=1 \
	    -artifact_prefix="crashes/$name-" "$out" "$seeds" \
	    >"$tmp/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log")
	if [ "$rc" = 0 ]; then
		echo "fuzz $name: ok, ${runs:-?} inputs"
		passed=$((passed + 1))
	else
		echo "fuzz $name: FAILED (status $rc), ${runs:-?}" \
		    "inputs; the report:"
		grep -v '^#[0-9]' "$tmp/log" | tail -n 40
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
