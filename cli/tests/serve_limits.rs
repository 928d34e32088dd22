//! `tdm serve` against clients that would hold it: idle and half-sent
//! connections, large arrays, work past the time limit; and a load test
//! that combines them with pack swaps and reloads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::root;
use common::server::{get, post, raw, sample, start};
use serde_json::{Value, json};

/// Connects and sends `text`, then waits for the server to close the
/// connection: how long that took.
fn closed_after(base: &str, text: &str) -> Duration {
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    stream
        .write_all(text.replace("{addr}", addr).as_bytes())
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    started.elapsed()
}

#[test]
fn idle_and_half_sent_connections_are_closed_at_the_idle_timeout() {
    let server = start(&root().join("rules/ki-oncology"), &["--idle-timeout", "1"]);
    let waits = [
        ("nothing sent", ""),
        (
            "half the headers",
            "GET /healthz HTTP/1.1\r\nHost: {addr}\r\n",
        ),
        (
            "idle after a keep-alive request",
            "GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n",
        ),
    ];
    for (what, text) in waits {
        let waited = closed_after(&server.base, text);
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
            "{what}: closed after {waited:?}"
        );
    }
    // The server still answers.
    assert_eq!(get(&server.base, "/healthz").0, 200);
}

#[test]
fn an_array_is_answered_in_order_with_a_broken_element_in_its_place() {
    // 10,000 model fits in a debug build take some 15 s: room for a loaded machine.
    let server = start(&root().join("rules/ki-oncology"), &["--timeout", "120"]);
    let samples: Vec<Value> = (0..10_000)
        .map(|i| {
            let mut s = sample();
            s["id"] = json!(format!("S{i}"));
            s
        })
        .collect();
    let (status, answer) = post(&server.base, &Value::Array(samples), None);
    assert_eq!(status, 200);
    let results = answer.as_array().unwrap();
    assert_eq!(results.len(), 10_000);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["id"], format!("S{i}"));
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["pack"]["digest"], results[0]["pack"]["digest"]);
    }
    let body = format!(
        "[{}, {{\"id\": \"B\", \"value\": oops}}, {}]",
        sample(),
        sample()
    );
    let post_raw = |body: &str| {
        raw(
            &server.base,
            &format!(
                "POST /v1/evaluate HTTP/1.1\r\nHost: {{addr}}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let answer = post_raw(&body);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json_at = answer.find("\r\n\r\n").unwrap() + 4;
    let text = dechunk(&answer[json_at..]);
    let results: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[1]["error_code"], "unreadable");
    assert_eq!(results[2]["status"], "ok");
    // A break in the array's own structure is refused before anything is evaluated.
    let unclosed = format!("[{}, {}", sample(), sample());
    let answer = post_raw(&unclosed);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("the input ends before the array is closed"),
        "{answer}"
    );
}

/// The body of a chunked HTTP/1.1 answer.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

/// The test pack with a drug whose script takes its whole 50 ms budget.
fn slow_pack() -> tempfile::TempDir {
    let dir = tdm_tests::assemble(None);
    let drug = dir.path().join("drugs/testinib.yaml");
    let text = fs::read_to_string(&drug).unwrap();
    fs::write(
        &drug,
        text.replace("group: test\n", "group: test\nscript: scripts/slow.rhai\n"),
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("scripts")).unwrap();
    fs::copy(
        tdm_tests::tests_dir().join("hostile-scripts/slow-sorts.rhai"),
        dir.path().join("scripts/slow.rhai"),
    )
    .unwrap();
    dir
}

#[test]
fn samples_whose_turn_comes_after_the_time_limit_are_not_evaluated() {
    let pack = slow_pack();
    let server = start(pack.path(), &["--timeout", "1"]);
    let samples: Vec<Value> = (0..60)
        .map(|i| json!({"id": format!("T{i}"), "drug": "testinib", "value": 1200, "unit": "ng/mL", "dose_mg": 400}))
        .collect();
    let started = Instant::now();
    let (status, answer) = post(&server.base, &Value::Array(samples), None);
    let took = started.elapsed();
    assert_eq!(status, 200);
    let results = answer.as_array().unwrap();
    assert_eq!(results.len(), 60, "one result per sample");
    assert_eq!(results[0]["error_code"], "hook", "{}", results[0]);
    let last = &results[59];
    assert_eq!(last["id"], "T59");
    assert_eq!(last["error_code"], "time_limit", "{last}");
    assert!(
        last["error"].as_str().unwrap().contains("send it again"),
        "{last}"
    );
    // 60 samples of 50 ms each would take 3 s.
    assert!(
        took < Duration::from_millis(2900),
        "answered after {took:?}"
    );
}

fn peak_memory_kb(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Samples, three of them with values that overflow or underflow in
/// conversion.
fn kinds() -> [Value; 4] {
    [
        json!({"drug": "testinib", "value": 1200, "unit": "ng/mL", "dose_mg": 400}),
        json!({"drug": "testinib", "value": 1e308, "unit": "mg/L", "dose_mg": 400}),
        json!({"drug": "testinib", "value": 5e-324, "unit": "ng/mL", "dose_mg": 400}),
        json!({"drug": "testinib", "value": 800, "unit": "ng/mL", "dose_mg": 400, "interval_h": 1e308, "hours_since_dose": 12}),
    ]
}

fn batch(n: usize) -> Value {
    let kinds = kinds();
    Value::Array((0..n).map(|i| kinds[i % kinds.len()].clone()).collect())
}

/// Swaps of a ConfigMap-mounted pack every 2 ms, SIGHUP reloads, clients
/// that hold connections or trickle a body, and large arrays, for a few
/// seconds: every answer comes from one of the two real packs, no number
/// is not finite, and the server's memory stays bounded.
#[test]
fn under_swaps_reloads_slow_clients_and_large_arrays_every_answer_is_whole() {
    let source = tdm_tests::assemble(None);
    let mount = tempfile::tempdir().unwrap();
    let m = mount.path();
    tdm_tests::two_versions(m, source.path());
    // What the library answers for each sample kind with each version: a
    // served result must be one of these, whole.
    let mut expected = std::collections::HashMap::new();
    for v in ["1.0.1", "1.0.2"] {
        let pack = tdm_core::load_pack(m.join(format!("..{v}"))).unwrap();
        let results: Vec<Value> = kinds()
            .iter()
            .map(|k| serde_json::to_value(tdm_core::eval::evaluate_value(&pack, k)).unwrap())
            .collect();
        let text = serde_json::to_string(&results).unwrap();
        assert!(!text.contains("NaN") && !text.contains("inf "), "{text}");
        assert_eq!(results[0]["status"], "ok");
        assert!(
            results[1..].iter().all(|r| r["status"] == "error"),
            "{text}"
        );
        expected.insert(pack.id().digest.clone(), results);
    }
    assert_eq!(expected.len(), 2);
    let server = start(
        m,
        &[
            "--poll",
            "20",
            "--timeout",
            "3",
            "--idle-timeout",
            "1",
            "--max-samples",
            "20000",
        ],
    );
    let pid = server.child.id();
    let stop = AtomicBool::new(false);
    let until = Instant::now() + Duration::from_secs(6);
    let answered = std::thread::scope(|s| {
        // The helpers stop however the clients end, a failed assertion
        // included, so that a failure fails the test instead of hanging it.
        let _stop = tdm_tests::StopOnDrop(&stop);
        s.spawn(|| swap_and_reload(m, pid, &stop));
        s.spawn(|| hold_connections(&server.base, &stop));
        s.spawn(|| trickle_a_body(&server.base, &stop));
        let clients: Vec<_> = [200, 200, 20_000]
            .into_iter()
            .map(|n| {
                let (base, expected) = (&server.base, &expected);
                s.spawn(move || {
                    let (mut answered, mut seen) = (0, std::collections::HashSet::new());
                    while Instant::now() < until {
                        let (status, answer) = post(base, &batch(n), None);
                        assert_eq!(status, 200, "{answer}");
                        let results = answer.as_array().unwrap();
                        assert_eq!(results.len(), n);
                        let d = results[0]["pack"]["digest"].as_str().unwrap();
                        seen.insert(d.to_owned());
                        let Some(whole) = expected.get(d) else {
                            panic!("a torn pack: {d} is neither version");
                        };
                        for (i, r) in results.iter().enumerate() {
                            // Under load a large array may pass the time limit.
                            if r["error_code"] == "time_limit" && r["pack"]["digest"] == d {
                                continue;
                            }
                            assert_eq!(r, &whole[i % whole.len()], "one whole pack per request");
                        }
                        answered += 1;
                    }
                    (answered, seen)
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    });
    let seen: std::collections::HashSet<&String> = answered.iter().flat_map(|a| &a.1).collect();
    assert_eq!(seen.len(), 2, "both versions were served");
    let answered: Vec<usize> = answered.iter().map(|a| a.0).collect();
    assert!(answered.iter().all(|&n| n > 0), "{answered:?}");
    let peak = peak_memory_kb(pid);
    assert!(peak < 300 * 1024, "peak memory {peak} kB");
    eprintln!("requests answered per client: {answered:?}; server peak memory {peak} kB");
}

fn swap_and_reload(m: &Path, pid: u32, stop: &AtomicBool) {
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tdm_tests::point(
            m,
            if i.is_multiple_of(2) {
                "1.0.2"
            } else {
                "1.0.1"
            },
        );
        if i.is_multiple_of(25) {
            Command::new("kill")
                .args(["-HUP", &pid.to_string()])
                .status()
                .unwrap();
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Opens connections that send half their headers and never finish.
fn hold_connections(base: &str, stop: &AtomicBool) {
    let addr = base.strip_prefix("http://").unwrap();
    let mut held = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut c) = TcpStream::connect(addr) {
            let _ = c.write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: ");
            held.push(c);
        }
        if held.len() > 200 {
            held.clear();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a body one byte every 100 ms: it is answered 408 at the time
/// limit (3 s).
fn trickle_a_body(base: &str, stop: &AtomicBool) {
    let addr = base.strip_prefix("http://").unwrap();
    while !stop.load(Ordering::Relaxed) {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /v1/evaluate HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        );
        c.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) && !stop.load(Ordering::Relaxed) {
            if c.write_all(b" ").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut answer = String::new();
        let _ = c.read_to_string(&mut answer);
        if !stop.load(Ordering::Relaxed) {
            assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        }
    }
}
