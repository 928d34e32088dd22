//! The result contract (design.md): one per input record, ok or error,
//! stamped with the pack that produced it.

pub(crate) mod compact;
pub mod model;
pub(crate) mod num;
mod values;

pub use num::{Bounds, Num, fmt_num, round_sig};
pub use tdm_plugin_api::Hook;
pub use values::*;

use schemars::JsonSchema;
use serde::Serialize;

/// One evaluation result.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EvalResult {
    /// The record's `id`, echoed.
    pub id: Option<String>,
    /// The record's `patient`, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// The record's `sampled_at`, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled_at: Option<String>,
    /// The drug as the pack names it (or as given, when unknown).
    pub drug: Option<String>,
    /// `ok` or `error`.
    pub status: Status,
    /// For an error: a sentence naming the field and the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For an error: what kind of problem, as a stable code for programs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    /// Input line of the record, for batch input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The assessment of an ok result.
    #[serde(flatten)]
    pub assessment: Option<Assessment>,
    /// Everything the reader must know that did not stop the evaluation.
    pub warnings: Vec<String>,
    /// One readable sentence: why this advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// The pack that produced the result.
    pub pack: PackId,
    /// The engine that evaluated it: `tdm-core` and its version
    /// ([`ENGINE`]), so that a result names the exact code as well as the
    /// exact rules.
    pub engine: &'static str,
    /// The id of this decision's record in the audit log, when one is
    /// kept (`tdm serve --audit-log`, `tdm eval --audit-log`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
}

/// `tdm-core <version>`: the engine every result names.
pub const ENGINE: &str = concat!("tdm-core ", env!("CARGO_PKG_VERSION"));

/// The clinical content of an ok result.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Assessment {
    /// The indication as given.
    pub indication: Option<String>,
    /// The regimen as given.
    pub regimen: Option<String>,
    /// The product whose dose levels and targets were used, where the
    /// drug's products differ (`Cometriq`, `Cabometyx`); null otherwise.
    pub product: Option<String>,
    /// The exposure judged, with how it was obtained.
    pub exposure: Exposure,
    /// Timing and steady state.
    pub sampling: Sampling,
    /// The target judged against.
    pub target: TargetUsed,
    /// `below`, `within`, `above`; null when the sample cannot be interpreted.
    pub classification: Option<Classification>,
    /// The exposure passes one of the drug's toxicity signals (the warnings
    /// say which). A signal is not an upper bound: it is reported here, not
    /// as `above`.
    pub toxicity_signal_exceeded: bool,
    /// What to do.
    pub advice: Advice,
    /// Dose per administration the advice leads to, mg.
    pub next_dose_mg: Option<f64>,
    /// Dosing interval of `next_dose_mg`, hours.
    pub next_interval_h: Option<f64>,
    /// Non-dose steps, in order: first these, then the advice.
    pub interventions: Vec<String>,
    /// What must hold before the advice is followed ("only if the current
    /// dose is tolerated", "resume ... only once the toxicity has resolved").
    pub conditions: Vec<String>,
    /// The drug's script, when it has one: which hooks changed this result.
    pub script: Option<ScriptUsed>,
    /// The drug's population PK model fitted to this level, when the drug
    /// has one: informational, beside the advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<model::ModelFit>,
}

/// A script's or native plugin's part in a result.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScriptUsed {
    /// `script` or `plugin`.
    pub kind: Provider,
    /// The script or plugin library, a path inside the pack.
    pub file: String,
    /// Hooks that returned a value (and so changed the result), in call order.
    pub hooks: Vec<Hook>,
    /// What the script reports alongside (e.g. a metabolite ratio).
    pub notes: Vec<String>,
}

/// The exposure value and every intermediate value behind it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Exposure {
    /// In the canonical unit.
    pub value: f64,
    /// `ng/mL` or `ng*h/mL`.
    pub unit: String,
    /// `cmin` or `auc`.
    pub measure: Measure,
    /// What `value` is the sum of, each converted.
    pub analytes: Vec<AnalyteValue>,
    /// True when the target is a total but only the parent was measured.
    pub parent_only: bool,
    /// Where the value stands among patients on the reference's dose, 0–100,
    /// for a population-mean reference whose source gives a spread (a
    /// log-normal with variance ln(1 + CV²)); null otherwise, or when the
    /// patient's dose is not the reference's.
    pub population_percentile: Option<f64>,
    /// The level expected for the patient's dose, and the ranges outside
    /// which a value is improbable (verified before any change) or
    /// impossible (refused); null when the pack has no expected level.
    pub expected: Option<Expected>,
    /// Present when the value was extrapolated to the trough.
    pub corrected_from: Option<Correction>,
}

/// The plausibility check of a value (design.md, "Decision", step 0), in
/// the canonical unit: everything needed to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Expected {
    /// The population mean trough scaled to the patient's daily dose.
    pub value: f64,
    /// The daily dose it is scaled to, mg (the standard dose when the
    /// sample gives none).
    pub daily_dose_mg: f64,
    /// The coefficient of variation used, as a fraction.
    pub cv: f64,
    /// `source` (the reference's own spread), `pack` (the pack's default)
    /// or `none` (only impossible values are checked).
    pub cv_from: CvFrom,
    /// Peak-to-trough ratio allowed for a value not at trough (1 at trough).
    pub swing: f64,
    /// The share of steady state reached on this dose (1 at steady state;
    /// before it, `1 - 2^(-days * 24 / half-life)`): the lower bounds are
    /// scaled by it.
    pub steady_state_reached: f64,
    /// Below this (the 0.5th percentile) a value is improbable.
    pub improbable_below: Option<f64>,
    /// Above this (the 99.5th percentile, times the swing) a value is improbable.
    pub improbable_above: Option<f64>,
    /// Below this (1/100 of the expected trough) a value is refused.
    pub impossible_below: f64,
    /// Above this (100 times the expected level at its peak) a value is refused.
    pub impossible_above: f64,
}

/// One analyte's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AnalyteValue {
    /// Name as the pack spells it.
    pub name: String,
    /// As measured, in the input unit.
    pub measured: f64,
    /// The input unit.
    pub measured_unit: String,
    /// Converted to the canonical unit (before any trough correction).
    pub value: f64,
    /// After trough correction, when corrected.
    pub at_trough: Option<f64>,
    /// Half-life used for the correction, hours.
    pub half_life_h: Option<f64>,
}

/// How a non-trough sample was extrapolated (Wang et al. 2009).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Correction {
    /// The summed value before correction, canonical unit.
    pub value: f64,
    /// Time of sampling after the dose.
    pub hours_since_dose: f64,
    /// Dosing interval (the trough time).
    pub interval_h: f64,
    /// The parent's half-life used (log-linear only).
    pub half_life_h: Option<f64>,
    /// `model` only: the patient's predicted trough over the predicted
    /// level at sampling, the factor applied.
    pub model_ratio: Option<f64>,
    /// `log-linear`; `model` where the drug has a population model fitted
    /// to the patient; `script` / `plugin` when the drug's script or plugin
    /// predicted the trough (named in `script`).
    pub method: CorrectionMethod,
}

/// Timing facts of the sample.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Sampling {
    /// As given.
    pub hours_since_dose: Option<f64>,
    /// The interval used, hours.
    pub interval_h: f64,
    /// Where the interval came from: `sample` or `pack`.
    pub interval_from: IntervalFrom,
    /// `measured_at_trough`, `corrected`, `assumed_trough`, `not_interpretable`,
    /// `not_applicable` (AUC), `predicted` (by the drug's script or plugin).
    pub trough: Trough,
    /// As given.
    pub days_on_dose: Option<f64>,
    /// What was measured, as given (`plasma`, `serum`, `whole_blood`).
    pub matrix: Option<crate::input::Matrix>,
    /// Days to steady state used for the check.
    pub steady_state_days: Option<f64>,
    /// `pack` (a sourced value), `half_lives` (estimated), or `unknown`.
    pub steady_state_from: SteadyStateFrom,
    /// `yes`, `no`, `assumed` (no days given), `unknown` (cannot be checked).
    pub steady_state: SteadyState,
}

/// The target as used, in the canonical unit.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TargetUsed {
    /// The target's id within the drug rule.
    pub id: String,
    /// Lower bound (resolved for dose-normalised targets).
    pub lower: Option<f64>,
    /// Upper bound.
    pub upper: Option<f64>,
    /// Canonical unit.
    pub unit: String,
    /// `cmin` or `auc`.
    pub measure: Measure,
    /// `threshold` or `population_mean`.
    pub basis: Basis,
    /// Evidence level.
    pub evidence: Evidence,
    /// `primary` (the tables) or `alternative` (the text).
    #[serde(rename = "use")]
    pub usage: TargetUse,
    /// The indications it applies to, or the sample's own when it applies to any.
    pub indication: Option<String>,
    /// The regimen it applies to.
    pub regimen: Option<String>,
    /// Analytes summed.
    pub sum_of: Vec<String>,
    /// Outcome tied to the target.
    pub outcome: Option<String>,
    /// Population mean exposure, canonical unit.
    pub population_mean: Option<f64>,
    /// Seed reference numbers.
    pub references: Vec<String>,
    /// Caveats.
    pub note: Option<String>,
}

/// Which pack produced a result: its identity wherever a pack is named
/// (results, diffs, reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PackId {
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
    /// `sha256:<hex>` of the pack content.
    pub digest: String,
}

impl EvalResult {
    /// An error result.
    pub fn error(
        pack: &PackId,
        id: Option<String>,
        drug: Option<String>,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Self {
        EvalResult {
            id,
            patient: None,
            sampled_at: None,
            drug,
            status: Status::Error,
            error: Some(message.into()),
            error_code: Some(code),
            line: None,
            assessment: None,
            warnings: Vec::new(),
            rationale: None,
            pack: pack.clone(),
            engine: ENGINE,
            decision_id: None,
        }
    }
}
