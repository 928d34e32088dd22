//! Raw pack files exactly as authors write them in YAML.
//!
//! These types only describe the shape of the files (unknown keys are
//! errors). Nothing here is trusted: [`crate::load`] checks every value and
//! builds the validated [`crate::model`] that evaluation uses.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `pack.yaml`: the pack's identity, evidence sources and policy defaults.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub effective: Option<String>,
    /// Citations, by the short id that every `source:` in the pack starts with.
    pub sources: BTreeMap<String, RawSource>,
    pub policy: RawPolicy,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub citation: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation for readers of the pack
    pub note: Option<String>,
}

/// A policy number with the source that justifies it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cited<T> {
    pub value: T,
    pub source: Spanned<String>,
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    /// CTCAE grade from which toxicity changes the decision (Figure 1).
    pub toxicity_grade: Cited<Spanned<u8>>,
    /// Act on population-mean targets of exploratory drugs, or only interpret.
    pub act_on_population_mean: Cited<bool>,
    /// When a drug's time to steady state is unknown: this many half-lives.
    pub steady_state_half_lives: Cited<Spanned<f64>>,
    /// A sample this close to the end of the interval counts as a trough.
    pub trough_tolerance_h: Cited<Spanned<f64>>,
    /// Non-dose steps before any dose increase, in order.
    pub interventions_before_increase: Vec<RawIntervention>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIntervention {
    pub action: String,
    #[serde(default)]
    pub beyond_label: bool,
    pub source: Spanned<String>,
}

/// `drugs/<drug>.yaml`: everything the pack says about one drug.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDrug {
    pub drug: Spanned<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The kinase family as the seed groups it (for readers).
    pub group: String,
    pub analytes: Vec<RawAnalyte>,
    pub pk: RawPk,
    pub trough_correction: RawTroughCorrection,
    pub targets: Vec<RawTarget>,
    #[serde(default)]
    pub toxicity_signals: Vec<RawSignal>,
    pub dosing: RawDosing,
    #[serde(default)]
    pub notes: Vec<String>,
    /// A Rhai script for hooks a table cannot express: a path inside the
    /// pack under `scripts/` (not supported by this version).
    #[serde(default)]
    pub script: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnalyte {
    pub name: Spanned<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub role: Role,
    /// g/mol of the free base; needed for nmol/L and µmol/L input.
    #[serde(default)]
    pub molar_mass: Option<Spanned<f64>>,
    /// Half-life of a metabolite, hours (the parent's is under `pk`).
    #[serde(default)]
    pub half_life_h: Option<Spanned<f64>>,
    pub source: Spanned<String>,
    #[serde(default)]
    pub unconfirmed: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // for readers of the pack; part of the digest
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    Parent,
    Metabolite,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPk {
    #[serde(default)]
    pub half_life_h: Option<Spanned<f64>>,
    #[serde(default)]
    pub steady_state_days: Option<Spanned<f64>>,
    pub source: Spanned<String>,
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTroughCorrection {
    pub method: CorrectionMethod,
    /// Earliest hours after the dose from which extrapolation is valid.
    #[serde(default)]
    pub valid_from_h: Option<Spanned<f64>>,
    /// Why there is no correction, or what limits it.
    #[serde(default)]
    pub reason: Option<String>,
    pub source: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CorrectionMethod {
    LogLinear,
    None,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    pub id: Spanned<String>,
    #[serde(rename = "use")]
    pub usage: TargetUse,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub indications: Vec<String>,
    #[serde(default)]
    pub regimens: Vec<String>,
    pub measure: crate::model::Measure,
    #[serde(default)]
    pub lower: Option<Spanned<f64>>,
    #[serde(default)]
    pub upper: Option<Spanned<f64>>,
    /// A lower bound proportional to the dose (ng/mL per mg).
    #[serde(default)]
    pub lower_per_mg_dose: Option<Spanned<f64>>,
    pub unit: Spanned<String>,
    /// The analytes whose sum the bounds refer to; the parent when empty.
    #[serde(default)]
    pub sum_of: Vec<Spanned<String>>,
    pub basis: crate::model::Basis,
    pub evidence: crate::model::Evidence,
    #[serde(default)]
    pub outcome: Option<String>,
    /// Mean or median exposure at the approved dose, in `unit`.
    #[serde(default)]
    pub population_mean: Option<Spanned<f64>>,
    pub source: Spanned<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Why a bound far from the population mean (below 20 % or above 500 %)
    /// is right; without it such a bound is refused as a likely unit slip.
    #[serde(default)]
    pub plausibility_override: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TargetUse {
    Primary,
    Alternative,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignal {
    pub above: Spanned<f64>,
    pub unit: Spanned<String>,
    pub effect: String,
    pub source: Spanned<String>,
    #[serde(default)]
    pub references: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDosing {
    pub interval_h: Spanned<f64>,
    pub standard_mg: Spanned<f64>,
    #[serde(default)]
    pub strengths_mg: Vec<f64>,
    /// Every level from the lowest reduction to the maximum, ascending.
    pub levels: Vec<RawLevel>,
    /// Drug-specific steps before a dose increase, after the policy's own.
    #[serde(default)]
    pub interventions: Vec<RawIntervention>,
    pub source: Spanned<String>,
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLevel {
    pub mg: Spanned<f64>,
    /// Dosing interval of this level when it differs from the drug's.
    #[serde(default)]
    pub interval_h: Option<f64>,
    /// Whether the drug's label provides this level.
    #[serde(default = "yes")]
    pub label: bool,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub source: Option<Spanned<String>>,
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

fn yes() -> bool {
    true
}

/// `tests/<name>.yaml`: a pack's own test cases.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCaseFile {
    pub cases: Vec<RawCase>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    pub name: String,
    /// The sample as in the input contract (schemas/sample.schema.json). Not
    /// checked here: a case may feed deliberately broken input.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub sample: serde_json::Value,
    pub expect: crate::cases::Expect,
}
