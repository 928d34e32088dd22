//! Arbitrary unit strings: parsed or refused, never guessed, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(unit) = tdm_core::input::Unit::parse(&text) {
        assert!(tdm_core::input::Unit::all().any(|s| s == unit.symbol));
        let canonical = unit.to_canonical(123.0, Some(400.0)).unwrap_or(123.0);
        assert!(canonical.is_finite());
    }
});
