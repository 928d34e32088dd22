#!/usr/bin/env bash
# Reading a large FHIR Bundle: the four example patients of
# examples/interop/patients.fhir.json copied N times (each copy its own
# patients and ids: 24 resources and 4 drug levels per copy), then
# `tdm convert` (reading and mapping only) and `tdm eval` (all of it),
# each run three times; wall time and peak memory.
# Usage: tests/bench/fhir-read.sh [N]   (default 2500: 60,000 resources, 10,000 levels)
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-2500}"
cargo build --release -q -p tdm-cli
bundle="$(mktemp --suffix .json)"
trap 'rm -f "$bundle"' EXIT
python3 - "$n" "$bundle" <<'PY'
import copy, json, sys
n, out = int(sys.argv[1]), sys.argv[2]
base = json.load(open("examples/interop/patients.fhir.json"))
entries = []
for i in range(n):
    for e in base["entry"]:
        e = copy.deepcopy(e)
        r = e["resource"]
        r["id"] = f"{r['id']}-{i}"
        e["fullUrl"] = f"{e['fullUrl']}-{i}"
        if "subject" in r:
            r["subject"]["reference"] += f"-{i}"
        entries.append(e)
base["entry"] = entries
json.dump(base, open(out, "w"))
print(f"{len(entries)} resources, {n * 4} drug levels")
PY
ls -l "$bundle" | awk '{printf "%.1f MB\n", $5 / 1e6}'
for command in convert eval; do
  for _ in 1 2 3; do
    args=(--pack examples/packs/hospital-lab "$bundle")
    [ "$command" = eval ] && args+=(--format ndjson -q)
    /usr/bin/time -f "$command: %e s, %M KB peak" target/release/tdm "$command" "${args[@]}" > /dev/null
  done
done
