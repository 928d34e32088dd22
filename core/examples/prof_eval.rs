#![allow(missing_docs, clippy::unwrap_used)]
use serde_json::json;
use tdm_core::{Cells, Sample, evaluate, load_pack};
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let pack = load_pack("rules/ki-oncology").unwrap();
    let v = json!({"drug": "imatinib", "indication": "CML", "value": 1400, "unit": "ng/mL",
                          "dose_mg": 400, "hours_since_dose": 10, "days_on_dose": 30});
    let s = Sample::from_map(v.as_object().unwrap(), Cells::Typed).unwrap();
    let n: usize = std::env::args()
        .nth(1)
        .map_or(10000, |a| a.parse().unwrap());
    let mut k = 0;
    for _ in 0..n {
        k += std::hint::black_box(evaluate(&pack, std::hint::black_box(&s)))
            .warnings
            .len();
    }
    println!("{k}");
}
