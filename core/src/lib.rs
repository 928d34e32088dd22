//! `tdm-core`: therapeutic drug monitoring of oral kinase inhibitors as
//! rules-as-data.
//!
//! A [`Pack`] of YAML rules is loaded and validated once ([`load_pack`]);
//! samples are then evaluated against it with [`evaluate`], a pure function
//! with no I/O. Batches stream through [`read_records`]. Every result carries
//! the pack's name, version and digest and the intermediate values that
//! reproduce it.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod eval;
mod input;
mod pack;
mod reload;
mod result;
mod tools;

pub use eval::{evaluate, log_linear_factor};
pub use input::sample::{
    Cells, FIELDS, METABOLITE_COLUMN_PREFIX, Sample, SampleError, SampleInput,
};
pub use input::time::parse as parse_date_time;
pub use input::units::{Quantity, Unit, UnitError};
pub use input::{InputError, InputFormat, RawRecord, Record, read_raw_records, read_records};
pub use pack::error::{PackError, Position, Problem};
pub use pack::load::{load_pack, load_pack_with, resolve_pack};
pub use pack::model::{
    Approval, Basis, ChangelogEntry, Drug, Evidence, HookProvider, Lower, Measure, Pack, Target,
    TroughCorrection,
};
pub use pack::overlay::{Origin, ResolvedFile};
pub use pack::plugin::{LoadOptions, NativePlugin, PluginLoader, Plugins};
pub use pack::source::PackSource;
pub use pack::yaml::to_json_value as yaml_to_json;
pub use reload::{
    LivePack, PackWatcher, ReloadOutcome, ReloadStatus, WatchOptions, describe_error, watch,
};
pub use result::num::round_sig;
pub use result::num::{Num, fmt_num};
pub use result::{
    Advice, AnalyteValue, Assessment, Classification, Correction, EvalResult, Exposure, PackId,
    Sampling, ScriptUsed, Status, TargetUsed,
};
pub use tools::cases::{Case, CaseOutcome, Expect, load_cases, run_case};
pub use tools::diff::{Change, ChangeKind, Impact, PackDiff, diff_packs};
pub use tools::schemas::schemas;
pub use tools::stats::{ThresholdRow, ThresholdStats, threshold_stats};

/// Evaluates one batch record: a sample, or the error that replaced it.
pub fn evaluate_record(pack: &Pack, record: Record) -> EvalResult {
    let mut result = match record.sample {
        Ok(sample) => evaluate(pack, &sample),
        Err(e) => {
            let mut r = EvalResult::error(pack.id(), e.id, e.drug, e.message);
            r.patient = e.patient;
            r
        }
    };
    if record.line > 0 {
        result.line = Some(record.line);
    }
    result
}

/// Evaluates a sample given as a JSON value (an object of contract fields).
/// Parse JSON text with [`parse_json`] so that duplicate keys are refused.
pub fn evaluate_value(pack: &Pack, value: &serde_json::Value) -> EvalResult {
    evaluate_record(pack, input::record_from_value(1, 0, value.clone()))
}

/// Parses JSON text strictly: a key that appears twice in an object marks
/// the sample as an error (which value was meant cannot be told).
pub fn parse_json(text: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    input::strict::from_slice(text)
}

/// The content digest (`sha256:<hex>`) of pack files given as (name
/// relative to the pack, content): YAML files as their parsed values,
/// scripts as their text. Formatting, key order, comments and the spelling
/// of a number do not change it; [`Pack::digest`] is this of the pack's files.
pub fn content_digest<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
) -> String {
    pack::digest::digest(files)
}

/// The closest candidate to `given`, when one is close enough to suggest.
pub(crate) fn suggest<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let given = given.to_lowercase();
    candidates
        .map(|c| (c, strsim::jaro_winkler(&given, &c.to_lowercase())))
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests;
