//! Arbitrary bytes as a drug's Rhai script: the pack is refused or the
//! script runs under the sandbox limits; a hostile script never hangs or
//! crashes the evaluation.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let mut files = common::small_pack_files();
    if let Some(f) = files.iter_mut().find(|(n, _)| n == "drugs/testinib.yaml") {
        f.1 = f.1.replace("group: test\n", "group: test\nscript: scripts/fuzz.rhai\n");
    }
    files.push(("scripts/fuzz.rhai".to_owned(), String::from_utf8_lossy(data).into_owned()));
    if let Ok(pack) = tdm_core::load_pack(tdm_core::PackSource::texts(files.clone())) {
        let sample = json!({"drug": "testinib", "value": 1200, "unit": "ng/mL", "dose_mg": 400,
                            "hours_since_dose": 12, "days_on_dose": 30, "toxicity_grade": 1});
        let r = tdm_core::eval::evaluate_value(&pack, &sample);
        assert!(r.error.is_some() || r.assessment.is_some());
    }
});
