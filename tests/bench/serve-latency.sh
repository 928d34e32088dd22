#!/usr/bin/env bash
# One patient through `tdm serve` over loopback, as a laboratory system
# sends it: the sunitinib example patient (both analytes fitted, the dose
# table and its probabilities), N requests on one kept-alive connection;
# the median, 95th percentile and worst time from request to full answer.
# Then as an EHR asks: N CDS Hooks patient-view calls
# (examples/interop/cds-patient-view.json: the imatinib patient's prefetch
# read as a FHIR Bundle, the model fitted, one card); and N evaluate
# forms posted to the web page (/ui: the sample, the answer, the page).
# Usage: tests/bench/serve-latency.sh [N [SERVE-FLAGS...]]   (default 1000)
#   e.g. tests/bench/serve-latency.sh 1000 --audit-log /tmp/audit.ndjson --audit-sync
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000}"
shift || true
cargo build --release -q -p tdm-cli
port=$((20000 + RANDOM % 20000))
target/release/tdm serve --pack rules/ki-oncology --addr "127.0.0.1:$port" "$@" > /dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
python3 - "$port" "$n" <<'PY'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
body = json.dumps({"id": "S-01", "drug": "sunitinib", "regimen": "continuous", "value": 24,
                   "unit": "ng/mL", "metabolites": {"SU12662": 9}, "dose_mg": 37.5,
                   "hours_since_dose": 24, "days_on_dose": 21, "toxicity_grade": 0,
                   "weight_kg": 68})
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("GET", "/v1/pack")
        c.getresponse().read()
        break
    except OSError:
        time.sleep(0.05)
def timed(path, body, what, kind="application/json"):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        c.request("POST", path, body, {"content-type": kind})
        answer = c.getresponse().read()
        answer = json.loads(answer) if kind == "application/json" else answer.decode()
        times.append(time.perf_counter() - start)
    times.sort()
    ms = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e3
    print(f"{n} {what}: median {ms(0.5):.3f} ms, 95th percentile {ms(0.95):.3f} ms, worst {times[-1] * 1e3:.3f} ms")
    return answer

answer = timed("/v1/evaluate", body, "requests")
assert answer["model"]["recommendation"]["dose_mg"] == 50.0, answer
call = open("examples/interop/cds-patient-view.json", encoding="utf-8").read()
cards = timed("/cds-services/tdm-levels", call, "CDS Hooks calls")
assert cards["cards"][0]["summary"].startswith("imatinib Cmin 785 ng/mL"), cards
form = ("drug=imatinib&indication=CML&value=1400&unit=ng%2FmL&dose_mg=400&interval_h=24"
        "&hours_since_dose=10&days_on_dose=30")
page = timed("/ui", form, "evaluate pages", "application/x-www-form-urlencoded")
assert '<span class="next-dose">600 mg once daily</span>' in page, page[-2000:]
PY
