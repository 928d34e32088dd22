#!/usr/bin/env bash
# Reading a large file of HL7 v2 ORU^R01 messages: the four example
# messages of examples/interop/patients.hl7 copied N times (each copy its
# own control ids and patients: 4 messages and 4 drug levels per copy, the
# sunitinib one with its metabolite), then `tdm convert` (reading and mapping only) and `tdm eval`
# (all of it), each run three times; wall time and peak memory.
# Usage: tests/bench/hl7-read.sh [N]   (default 25000: 100,000 messages and levels)
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-25000}"
cargo build --release -q -p tdm-cli
file="$(mktemp --suffix .hl7)"
trap 'rm -f "$file"' EXIT
python3 - "$n" "$file" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
text = open("examples/interop/patients.hl7", encoding="utf-8").read()
messages = [m for m in text.split("MSH|") if m]
with open(out, "w", encoding="utf-8", newline="") as f:
    for i in range(n):
        for m in messages:
            # MSH-10 (control id) and PID-3 (patient) made unique per copy.
            m = m.replace("|MSG-", f"|C{i}-MSG-").replace("||P-", f"||C{i}-P-")
            f.write("MSH|" + m)
print(f"{n * len(messages)} messages")
PY
ls -l "$file" | awk '{printf "%.1f MB\n", $5 / 1e6}'
for command in convert eval; do
  for _ in 1 2 3; do
    args=(--pack examples/packs/hospital-lab "$file")
    [ "$command" = eval ] && args+=(--format ndjson -q)
    /usr/bin/time -f "$command: %e s, %M KB peak" target/release/tdm "$command" "${args[@]}" > /dev/null
  done
done
