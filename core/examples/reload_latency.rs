//! Measures how long a change to a pack file takes to go live: from the
//! moment an editor's save (write a temporary file, rename it over) returns
//! to the moment the new pack is the one evaluations get.
//!
//! `cargo run --release -p tdm-core --example reload_latency [RUNS]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use tdm_core::{LoadOptions, reload::LivePack, reload::WatchOptions, reload::watch};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let tmp = tempfile::tempdir().unwrap();
    tdm_tests::copy_into(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/ki-oncology"),
        tmp.path(),
    );
    let live = LivePack::load(tmp.path(), LoadOptions::default()).unwrap();
    let _watcher = watch(live.clone(), WatchOptions::default(), |_| {}).unwrap();
    let file = tmp.path().join("drugs/gefitinib.yaml");
    let original = fs::read_to_string(&file).unwrap();
    let mut latencies = Vec::with_capacity(runs);
    for i in 0..runs {
        let before = live.pack().id().digest.clone();
        let tmp_file = file.with_extension("swp");
        fs::write(
            &tmp_file,
            original.replace("lower: 200", &format!("lower: {}", 201 + i)),
        )
        .unwrap();
        fs::rename(&tmp_file, &file).unwrap();
        let saved = Instant::now();
        while live.pack().id().digest == before {
            assert!(saved.elapsed() < Duration::from_secs(10), "no reload");
            std::thread::sleep(Duration::from_micros(200));
        }
        latencies.push(saved.elapsed());
        std::thread::sleep(Duration::from_millis(150));
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{runs} reloads of ki-oncology (debounce {} ms): median {:.1} ms, worst {:.1} ms, best {:.1} ms",
        WatchOptions::default().debounce.as_millis(),
        ms(latencies[runs / 2]),
        ms(latencies[runs - 1]),
        ms(latencies[0])
    );
}
