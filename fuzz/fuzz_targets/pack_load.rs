//! Arbitrary bytes as a drug file of an otherwise valid pack: loading must
//! answer a pack or a list of problems, never panic.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut files = common::small_pack_files();
    let text = String::from_utf8_lossy(data).into_owned();
    // Replace the drug rule (and, for short inputs, also the manifest).
    if let Some(f) = files.iter_mut().find(|(n, _)| n == "drugs/testinib.yaml") {
        f.1 = text.clone();
    }
    let _ = tdm_core::load_pack(tdm_core::PackSource::texts(files.clone()));
    if data.len() < 512 {
        files[0].1 = text;
        let _ = tdm_core::load_pack(tdm_core::PackSource::texts(files.clone()));
    }
});
