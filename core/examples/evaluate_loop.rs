//! Evaluates one ki-oncology sample N times (default 10,000): a steady
//! workload for profilers, with the allocator of the `tdm` binary. The
//! sample is imatinib extrapolated to trough, or with a second argument
//! `sunitinib`, parent + metabolite.
//!
//! ```sh
//! cargo build --release -p tdm-core --example evaluate_loop
//! valgrind --tool=callgrind target/release/examples/evaluate_loop 10000
//! ```
//!
//! Instructions per evaluation: (total at N - total at 0) / N.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use serde_json::json;
use tdm_core::{Sample, evaluate, input::Cells, load_pack};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/ki-oncology");
    let pack = load_pack(root).expect("the shipped pack loads");
    let sample = match std::env::args().nth(2).as_deref() {
        Some("sunitinib") => json!({"drug": "sunitinib", "regimen": "intermittent", "value": 30,
                                    "unit": "ng/mL", "metabolites": {"SU12662": 12}, "dose_mg": 50,
                                    "days_on_dose": 28}),
        _ => json!({"drug": "imatinib", "indication": "CML", "value": 1400, "unit": "ng/mL",
                    "dose_mg": 400, "hours_since_dose": 10, "days_on_dose": 30}),
    };
    let sample = Sample::from_map(sample.as_object().unwrap(), Cells::Typed).unwrap();
    let n: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |a| a.parse().expect("N is a count"));
    let mut warnings = 0;
    for _ in 0..n {
        warnings += black_box(evaluate(&pack, black_box(&sample)))
            .warnings
            .len();
    }
    println!("{n} evaluations, {warnings} warnings");
}
