//! Arbitrary bytes as a batch in each input format: one result per record,
//! never a panic.
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tdm_core::{InputFormat, Pack};

fn pack() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| tdm_core::load_pack(tdm_core::PackSource::texts(common::ki_oncology_files())).expect("the shipped pack loads"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let format = match selector % 3 {
        0 => InputFormat::Json,
        1 => InputFormat::Ndjson,
        _ => InputFormat::Csv,
    };
    let mut count = 0usize;
    // Through a batch's histories, as `tdm eval` reads a file: a patient's
    // earlier samples are fitted with each later one.
    let mut histories = tdm_core::eval::Histories::default();
    let _ = tdm_core::read_records(std::io::Cursor::new(body), format, pack(), |record| {
        count += 1;
        let r = histories.evaluate_record(pack(), record);
        assert!(r.error.is_some() || r.assessment.is_some());
        Ok(())
    });
    if let Ok(value) = tdm_core::input::parse_json(body) {
        let _ = tdm_core::eval::evaluate_value(pack(), &value);
    }
});
