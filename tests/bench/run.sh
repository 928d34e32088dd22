#!/usr/bin/env bash
# End-to-end cost of `tdm eval` on generated lab batches, next to a baseline
# that only reads and writes the same records (no evaluation).
# Usage: tests/bench/run.sh [N ...]   (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -q -p tdm-cli --bin tdm --example passthrough
tdm=target/release/tdm
pass=target/release/examples/passthrough
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-10s %-32s %9s %12s %11s\n' records job seconds records/s "peak RSS"
measure() { # label n command...
  local label=$1 n=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2>&1 || true
  read -r secs kb < <(tail -n 1 "$work/time")
  awk -v n="$n" -v l="$label" -v s="$secs" -v kb="$kb" \
    'BEGIN { printf "%-10s %-32s %9s %12.0f %8.1f MB\n", n, l, s, (s > 0 ? n / s : 0), kb / 1024 }'
}
# `taskset -c 0` holds a run to one core; the default uses every core.
one_core=(taskset -c 0)
command -v taskset > /dev/null || one_core=()
for n in "${sizes[@]}"; do
  $tdm gen-samples --n "$n" --seed 1 --format csv > "$work/s.csv"
  $tdm gen-samples --n "$n" --seed 1 --format ndjson > "$work/s.ndjson"
  measure "csv -> ndjson (eval, 1 core)" "$n" "${one_core[@]}" $tdm eval --pack rules/ki-oncology --format ndjson -q --jobs 1 "$work/s.csv"
  measure "csv -> ndjson (eval, $(nproc) cores)" "$n" $tdm eval --pack rules/ki-oncology --format ndjson -q "$work/s.csv"
  measure "csv -> ndjson (read+write)" "$n" "${one_core[@]}" $pass ndjson "$work/s.csv"
  measure "ndjson -> csv (eval, 1 core)" "$n" "${one_core[@]}" $tdm eval --pack rules/ki-oncology --format csv -q --jobs 1 "$work/s.ndjson"
  measure "ndjson -> csv (eval, $(nproc) cores)" "$n" $tdm eval --pack rules/ki-oncology --format csv -q "$work/s.ndjson"
  measure "ndjson -> csv (read+write)" "$n" "${one_core[@]}" $pass csv "$work/s.ndjson"
done
