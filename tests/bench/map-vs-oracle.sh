#!/usr/bin/env bash
# The MAP fit against the independent implementation, timed in the same
# run on the same fixture patients (core/tests/map.rs writes them):
# seconds per patient for each, and the ratio.
# Usage: tests/bench/map-vs-oracle.sh [REPEATS]   (Rust repeats, default 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
TDM_ORACLE_FIXTURES="$work/fixtures.json" \
  cargo test --release -q -p tdm-core --test map map_agrees_with_the_independent_implementation > /dev/null 2>&1
cargo build --release -q -p tdm-core --example map_fixtures
python3 tests/oracle/map_oracle.py < "$work/fixtures.json" > "$work/oracle.json"
target/release/examples/map_fixtures "$work/fixtures.json" "${1:-200}" > "$work/rust.ndjson"
python3 - "$work/oracle.json" "$work/rust.ndjson" <<'PY'
import json, sys
oracle = json.load(open(sys.argv[1]))
rust = [json.loads(line) for line in open(sys.argv[2])]
print(f"{'patient':<52} {'scipy ms':>9} {'Rust us':>8} {'ratio':>7} {'trough diff':>11}")
ratios = []
for o, r in zip(oracle, rust, strict=True):
    ratio = o["seconds"] / r["seconds"]
    ratios.append(ratio)
    diff = abs(o["trough"] - r["trough"]) / o["trough"]
    print(f"{o['id']:<52} {o['seconds'] * 1e3:9.1f} {r['seconds'] * 1e6:8.1f} {ratio:7.0f} {diff:11.1e}")
print(f"ratio scipy / Rust: {min(ratios):.0f} to {max(ratios):.0f}")
PY
