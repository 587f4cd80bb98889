#!/usr/bin/env bash
# Builds a libFuzzer + AddressSanitizer binary per pure-Swift parser and runs each for $1 seconds
# (default 60). Each target is its parser's source files plus a harness; crashes land in
# .build/fuzz-swift/<target>/crash-*, and the script exits non-zero on any.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
out=.build/fuzz-swift
mkdir -p "$out"

# target name | sources (space separated) | seed generator
targets=(
    "frame|Sources/Ingest/Native/Frame.swift Tests/Fuzz/fuzz_frame.swift"
)

seed_frame() {
    # HELLO, a SCAN and a PING, as a station sends them.
    printf 'VIGL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10{"versions":[1]}' > "$1/hello"
    printf 'VIGL\x03\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x16\x00\x00\x00\x0e{"scanId":"A"}\x89PNG' > "$1/scan"
    printf 'VIGL\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02hb' > "$1/ping"
}

status=0
for entry in "${targets[@]}"; do
    name=${entry%%|*}
    sources=${entry#*|}
    dir="$out/$name"
    mkdir -p "$dir/corpus"
    "seed_$name" "$dir/corpus"
    # shellcheck disable=SC2086
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name Fuzz$name $sources -o "$out/fuzz-$name" \
        2>"$out/build-$name.log" || { cat "$out/build-$name.log"; exit 2; }
    echo "== $name: ${seconds}s"
    (cd "$dir" && ../fuzz-$name -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 corpus 2>&1 \
        | grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done") || true
    if ls "$dir"/crash-* "$dir"/leak-* "$dir"/oom-* >/dev/null 2>&1; then
        echo "$name: findings in $dir"; status=1
    fi
done
exit $status
