//! `tdm-core`: therapeutic drug monitoring of oral kinase inhibitors as
//! rules-as-data.
//!
//! A [`Pack`] of YAML rules is loaded and validated once ([`load_pack`]);
//! samples are then evaluated against it with [`evaluate`], a pure function
//! with no I/O. Batches stream through [`read_records`]; evaluated through
//! one [`eval::Histories`], each sample's population-model fit also uses the
//! patient's samples listed before it. Every result carries
//! the pack's name, version and digest and the intermediate values that
//! reproduce it.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod eval;
pub mod input;
pub mod interop;
pub mod pack;
pub mod pk;
#[cfg(feature = "reload")]
pub mod reload;
pub mod result;
pub mod tools;

pub use eval::{EvalError, evaluate, evaluate_record};
pub use input::{InputFormat, Record, Sample, SampleError, read_records};
pub use pack::{LoadOptions, Pack, PackError, PackSource, Plugins, load_pack, load_pack_with};
pub use result::EvalResult;

/// The closest candidate to `given`, when one is close enough to suggest
/// (Jaro-Winkler similarity, ignoring case): the one did-you-mean of the
/// pack checks, the sample fields, drug names and units.
pub(crate) fn suggest<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let given = given.to_lowercase();
    candidates
        .map(|c| (c, strsim::jaro_winkler(&given, &c.to_lowercase())))
        .filter(|(_, score)| *score >= 0.8)
        // The first of equally close candidates: `ng/mL` before `ng/ml`.
        .reduce(|best, c| if c.1 > best.1 { c } else { best })
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests;
