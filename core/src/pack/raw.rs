//! Raw pack files exactly as authors write them in YAML.
//!
//! These types only describe the shape of the files (unknown keys are
//! errors). Nothing here is trusted: the checker (`check.rs`) reads every value and
//! the loader builds the validated model (`model.rs`) that evaluation uses.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::pack::yaml::Spanned;

/// `pack.yaml`: the pack's identity, evidence sources and policy defaults.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    /// The pack's name, e.g. `ki-oncology`.
    pub name: Spanned<String>,
    /// Semantic version of the pack content, quoted: "1.0.0".
    pub version: Spanned<String>,
    /// A human title.
    pub title: String,
    #[serde(default)]
    /// What the pack is for.
    pub description: Option<String>,
    #[serde(default)]
    /// Date from which the content applies, e.g. "2026-11-24".
    pub effective: Option<Spanned<String>>,
    /// Citations, by the short id that every `source:` in the pack starts with.
    pub sources: BTreeMap<String, RawSource>,
    /// Pack-wide decision policy.
    pub policy: RawPolicy,
    /// Native plugins the drug rules use, by name: each a library inside the
    /// pack pinned by its sha256. They load only with the operator's opt-in.
    #[serde(default)]
    pub plugins: BTreeMap<String, RawPlugin>,
    /// What changed in each version, newest first; when given, the current
    /// version must have an entry.
    #[serde(default)]
    pub changelog: Vec<RawChangelogEntry>,
    /// Who approved this version of the pack, and when.
    #[serde(default)]
    pub approval: Option<RawApproval>,
}

/// One version's entry in the changelog.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChangelogEntry {
    /// The version, e.g. "1.1.0".
    pub version: Spanned<String>,
    /// When it was released, e.g. "2026-12-01".
    pub date: Spanned<String>,
    /// What changed, one line each.
    pub changes: Spanned<Vec<String>>,
}

/// The approval of a pack version.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApproval {
    /// Who approved it (a committee, a person and role).
    pub by: String,
    /// When, e.g. "2026-11-30".
    pub on: Spanned<String>,
    /// Conditions or remarks.
    #[serde(default)]
    pub note: Option<String>,
}

/// A native plugin library of the pack.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlugin {
    /// Path of the library inside the pack, e.g. `plugins/libratio.so`.
    pub path: Spanned<String>,
    /// The sha256 of the library's bytes (64 hex digits); a library that
    /// does not match is refused before it is loaded.
    pub sha256: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    /// The full citation.
    pub citation: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation for readers of the pack
    pub note: Option<String>,
}

/// A policy number with the source that justifies it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cited<T> {
    /// The value.
    pub value: T,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// Why the value rests on an unconfirmed fact, if it does.
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
    /// The coefficient of variation (percent) of a population exposure whose
    /// source gives none, for the check of improbable values (0.5–99.5th
    /// percentile). Without it only impossible values are refused.
    #[serde(default)]
    pub default_cv_percent: Option<Cited<Spanned<f64>>>,
    /// A sample with no time after the dose is taken as a trough only for a
    /// drug whose peak-to-trough ratio, `2^(interval / half-life)`, is at most
    /// this. Without it such a sample is never taken as a trough.
    #[serde(default)]
    pub untimed_trough_max_swing: Option<Cited<Spanned<f64>>>,
    /// The probability with which a population model's recommended dose
    /// must reach the target (0.5: the model's prediction reaches it).
    /// Without it, 0.5, marked a local convention.
    #[serde(default)]
    pub model_target_probability: Option<Cited<Spanned<f64>>>,
}

/// The spread of a population exposure.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpread {
    /// The coefficient of variation, percent.
    pub cv_percent: Spanned<f64>,
    /// `geometric` when `population_mean` is a geometric mean (the median of
    /// the log-normal), `arithmetic` when it is an arithmetic mean.
    pub mean: MeanKind,
    /// The dose per administration the figures were observed at, mg.
    pub dose_mg: Spanned<f64>,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
}

/// Which mean a population mean is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MeanKind {
    /// The geometric mean.
    Geometric,
    /// The arithmetic mean.
    Arithmetic,
}

/// A condition of a dose increase.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    /// As a pharmacist writes it, starting with "only if" (`only if a recent
    /// ECG shows no QTc prolongation`).
    pub condition: String,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIntervention {
    /// What to do, as a pharmacist writes it (`check adherence`).
    pub action: String,
    /// The step departs from the label; results say so.
    #[serde(default)]
    pub beyond_label: bool,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
}

/// `drugs/<drug>.yaml`: everything the pack says about one drug.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDrug {
    /// The drug's INN in lower case, e.g. `imatinib`.
    pub drug: Spanned<String>,
    /// Other names matched case-insensitively (brands, codes).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The kinase family as the seed groups it (for readers).
    pub group: String,
    /// The parent drug first, then its metabolites.
    pub analytes: Vec<RawAnalyte>,
    /// Pharmacokinetic facts of the parent.
    pub pk: RawPk,
    /// How a sample not drawn at trough may be corrected.
    pub trough_correction: RawTroughCorrection,
    /// Primary targets (the tables) and alternatives (the text).
    pub targets: Vec<RawTarget>,
    /// Exposures linked to toxicity, reported as warnings.
    #[serde(default)]
    pub toxicity_signals: Vec<RawSignal>,
    /// Dose levels, the standard dose and non-dose steps.
    pub dosing: RawDosing,
    /// Notes for readers of the rule.
    #[serde(default)]
    pub notes: Vec<String>,
    /// A Rhai script for hooks a table cannot express: a path inside the
    /// pack under `scripts/`, e.g. `scripts/nintedanib.rhai`.
    #[serde(default)]
    pub script: Option<Spanned<String>>,
    /// A native plugin (a name under `plugins:` in pack.yaml) implementing
    /// hooks instead of a script.
    #[serde(default)]
    pub plugin: Option<Spanned<String>>,
    /// Extra sample fields the script reads, e.g. `diastolic_bp`: passed
    /// through to the script and not warned about as unknown.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Products of the drug that are not interchangeable (Cometriq and
    /// Cabometyx): each with its own dose levels and the targets that apply.
    #[serde(default)]
    pub products: Vec<RawProduct>,
    /// Indications the drug is used in that have no target, and why: a
    /// sample for one is refused with the reason, never judged against
    /// another indication's target.
    #[serde(default)]
    pub no_target: Vec<RawNoTarget>,
    /// The label's management of grade 3 or 4 toxicity.
    #[serde(default)]
    pub toxicity_management: Option<RawToxicityManagement>,
    /// Interactions the pack knows of, for co-medication given with a sample.
    #[serde(default)]
    pub interactions: Option<RawInteractions>,
    /// The expected trough lies near the limits of common assays: an
    /// undetectable level then does not point to non-adherence.
    #[serde(default)]
    pub near_assay_limits: Option<RawNearLimits>,
    /// Population PK models from the literature; the first is the one
    /// evaluation uses (beside the rule-based advice, informational).
    #[serde(default)]
    pub models: Vec<crate::pack::raw_pk::RawModel>,
}

/// Why an undetectable level is not a sign of non-adherence for this drug.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNearLimits {
    /// For the result, e.g. "its mean trough of 2.61 ng/mL lies near ...".
    pub reason: String,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// What here rests on an unconfirmed fact.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

/// A product (brand, formulation) of a drug that is not interchangeable
/// with the drug's others.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProduct {
    /// The product's name, e.g. `Cometriq`.
    pub name: Spanned<String>,
    /// Other names of the product, matched case-insensitively.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// What it is, for readers (`capsules`, `tablets`).
    #[serde(default)]
    pub form: Option<String>,
    /// The product used when a sample names only the drug (with a warning).
    #[serde(default)]
    pub default: bool,
    /// The indications it is licensed for: a sample's indication selects
    /// the one product that lists it.
    #[serde(default)]
    pub indications: Vec<String>,
    /// Ids of the drug's targets that apply to this product.
    #[serde(default)]
    pub targets: Vec<Spanned<String>>,
    /// Why no target applies to this product, when `targets` is empty.
    #[serde(default)]
    pub no_target: Option<String>,
    /// Its own dose levels; the drug's when absent.
    #[serde(default)]
    pub dosing: Option<RawDosing>,
    /// Why the pack has no dose levels for the product (e.g. dosed by body
    /// surface area): advice then gives a direction, never a next dose.
    #[serde(default)]
    pub dose_levels_unknown: Option<String>,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// A note for readers and results.
    #[serde(default)]
    pub note: Option<String>,
}

/// Indications without a target.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNoTarget {
    /// The indications, e.g. `[HCC]`.
    pub indications: Vec<Spanned<String>>,
    /// Why there is no target, for the refusal.
    pub reason: String,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
}

/// How the label manages grade 3 or 4 toxicity of a drug.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawToxicityManagement {
    /// At the lowest dose level: `discontinue` (the default) or
    /// `resume_same_dose` (a drug with one level that the label interrupts
    /// and resumes, e.g. gefitinib).
    #[serde(default)]
    pub at_lowest: Option<ToxicityAction>,
    /// The label's words for that, e.g. "interrupt for up to 14 days".
    #[serde(default)]
    pub at_lowest_note: Option<String>,
    /// Adverse events the label manages otherwise, by `toxicity_type`.
    #[serde(default)]
    pub events: Vec<RawToxicityEvent>,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// What here rests on an unconfirmed fact.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

/// What the label does on an adverse event of grade 3 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ToxicityAction {
    /// Withhold until recovery, then resume one level down (the default).
    ResumeLower,
    /// Withhold until recovery, then resume at the same dose.
    ResumeSameDose,
    /// Stop the drug for good.
    Discontinue,
}

/// One adverse event the label manages in its own way.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawToxicityEvent {
    /// The `toxicity_type` it answers to, e.g. `pneumonitis`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Other `toxicity_type` values for it.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Indications it applies to; empty means any.
    #[serde(default)]
    pub indications: Vec<String>,
    /// CTCAE grades it applies to, e.g. `[3]`; empty means any.
    #[serde(default)]
    pub grades: Vec<u8>,
    /// What the label says to do.
    pub action: ToxicityAction,
    /// The label's words, e.g. "first occurrence; on recurrence resume at 300 mg".
    #[serde(default)]
    pub note: Option<String>,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// What here rests on an unconfirmed fact.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

/// Interactions, as the label states them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInteractions {
    /// Acid reducers lower the drug's absorption: what the label says to do.
    #[serde(default)]
    pub acid_reducers: Option<RawInteraction>,
}

/// One interaction and what to do about it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInteraction {
    /// The step, as a pharmacist writes it.
    pub action: String,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnalyte {
    /// The analyte's name; the parent is named like the drug.
    pub name: Spanned<String>,
    /// Other names, e.g. `SU12662`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `parent` (first) or `metabolite`.
    pub role: Role,
    /// g/mol of the free base; needed for nmol/L and µmol/L input.
    #[serde(default)]
    pub molar_mass: Option<Spanned<f64>>,
    /// Half-life of a metabolite, hours (the parent's is under `pk`).
    #[serde(default)]
    pub half_life_h: Option<Spanned<f64>>,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// What about this analyte is not confirmed.
    #[serde(default)]
    pub unconfirmed: Option<String>,
    /// A note for readers.
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
    /// Elimination half-life of the parent, hours.
    #[serde(default)]
    pub half_life_h: Option<Spanned<f64>>,
    /// Days to steady state; estimated from the half-life when absent.
    #[serde(default)]
    pub steady_state_days: Option<Spanned<f64>>,
    /// The citation of these facts: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// What in this block is not confirmed.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTroughCorrection {
    /// `log_linear` (Wang 2009) or `none`.
    pub method: CorrectionMethod,
    /// Earliest hours after the dose from which extrapolation is valid.
    #[serde(default)]
    pub valid_from_h: Option<Spanned<f64>>,
    /// Why there is no correction, or what limits it.
    #[serde(default)]
    pub reason: Option<String>,
    /// The citation: a source id from `sources:`, then where in it.
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
    /// Identifier, unique within the drug.
    pub id: Spanned<String>,
    /// `primary` (the tables' recommendation) or `alternative` (from the text).
    #[serde(rename = "use")]
    pub usage: TargetUse,
    /// The target used when a sample does not say which applies.
    #[serde(default)]
    pub default: bool,
    /// Indications it applies to; empty means any.
    #[serde(default)]
    pub indications: Vec<String>,
    /// Regimens it applies to; empty means any.
    #[serde(default)]
    pub regimens: Vec<String>,
    /// `cmin` or `auc`.
    pub measure: crate::result::Measure,
    /// Lower bound (inclusive), in `unit`.
    #[serde(default)]
    pub lower: Option<Spanned<f64>>,
    /// Upper bound (inclusive), in `unit`.
    #[serde(default)]
    pub upper: Option<Spanned<f64>>,
    /// The source that ties the upper bound to a dose reduction (a source
    /// id, then where in it). Without one, an exposure above the bound and
    /// no limiting toxicity gives `continue`, with a reduction to consider.
    #[serde(default)]
    pub reduce_above: Option<Spanned<String>>,
    /// A lower bound proportional to the dose (ng/mL per mg).
    #[serde(default)]
    pub lower_per_mg_dose: Option<Spanned<f64>>,
    /// Unit of the bounds: a mass unit such as ng/mL or mg/L (AUC: ng*h/mL).
    pub unit: Spanned<String>,
    /// The analytes whose sum the bounds refer to; the parent when empty.
    #[serde(default)]
    pub sum_of: Vec<Spanned<String>>,
    /// `threshold` or `population_mean`.
    pub basis: crate::result::Basis,
    /// Evidence level of the seed's weighting.
    pub evidence: crate::result::Evidence,
    /// The outcome the target is tied to.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Mean or median exposure at the approved dose, in `unit`.
    #[serde(default)]
    pub population_mean: Option<Spanned<f64>>,
    /// The spread of the population exposure at the approved dose, where
    /// the source gives one: a patient's level is then placed as a
    /// percentile of a log-normal distribution.
    #[serde(default)]
    pub population_spread: Option<RawSpread>,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// Reference numbers of the review behind the value.
    #[serde(default)]
    pub references: Vec<String>,
    /// Caveats, such as a disagreement between text and table.
    #[serde(default)]
    pub note: Option<String>,
    /// What the target's values were measured in: `plasma` (the default;
    /// serum reads alike) or `whole_blood`.
    #[serde(default)]
    pub matrix: Option<crate::input::Matrix>,
    /// For an AUC target: the interval it covers, hours (12 for AUC0-12,
    /// 24 for AUC0-24). A sample must then say which AUC it is.
    #[serde(default)]
    pub auc_interval_h: Option<Spanned<f64>>,
    /// Why the interval of an AUC target is not known: then no AUC is
    /// judged against it (an AUC over half the interval is half the value).
    #[serde(default)]
    pub auc_interval_unknown: Option<String>,
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
    /// The exposure above which the signal applies, in `unit`.
    pub above: Spanned<f64>,
    /// A mass concentration unit.
    pub unit: Spanned<String>,
    /// The effect, for the warning.
    pub effect: String,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// Reference numbers of the review.
    #[serde(default)]
    pub references: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDosing {
    /// Usual dosing interval, hours (24 once daily, 12 twice daily).
    pub interval_h: Spanned<f64>,
    /// The standard dose per administration, mg; one of the levels.
    pub standard_mg: Spanned<f64>,
    /// Available strengths, mg.
    #[serde(default)]
    pub strengths_mg: Vec<f64>,
    /// Every level from the lowest reduction to the maximum, ascending.
    pub levels: Vec<RawLevel>,
    /// Drug-specific steps before a dose increase, after the policy's own.
    #[serde(default)]
    pub interventions: Vec<RawIntervention>,
    /// What must hold before any increase of this drug (the label's
    /// titration conditions, an ECG for an exposure-related QTc
    /// prolongation), each with its source.
    #[serde(default)]
    pub escalation_conditions: Vec<RawCondition>,
    /// The citation of the dose facts: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
    /// What about the dose ladder is not confirmed.
    #[serde(default)]
    pub unconfirmed: Option<String>,
    /// The label's rule on food, where it matters to the steps: a drug
    /// taken `fasting` never gets "take with food".
    #[serde(default)]
    pub intake: Option<RawIntake>,
    /// What a source says of doses above the highest level (pazopanib:
    /// exposure does not rise above 800 mg/day), said at the highest level.
    #[serde(default)]
    pub above_highest: Option<RawNote>,
}

/// A sentence for results, with its source.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNote {
    /// As a pharmacist reads it.
    pub note: String,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
}

/// The label's rule on food.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIntake {
    /// `fasting`, `with_food` or `either`.
    pub food: FoodRule,
    /// The citation: a source id from `sources:`, then where in it.
    pub source: Spanned<String>,
}

/// Intake and food, as a label says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FoodRule {
    /// On an empty stomach.
    Fasting,
    /// With food.
    WithFood,
    /// With or without food.
    Either,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLevel {
    /// Dose per administration, mg.
    pub mg: Spanned<f64>,
    /// Dosing interval of this level when it differs from the drug's.
    #[serde(default)]
    pub interval_h: Option<f64>,
    /// Whether the drug's label provides this level.
    #[serde(default = "yes")]
    pub label: bool,
    /// A caveat shown with the level.
    #[serde(default)]
    pub note: Option<String>,
    /// The citation of a level beyond the label (required then).
    #[serde(default)]
    pub source: Option<Spanned<String>>,
    /// Why the level rests on an unconfirmed fact, if it does.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

fn yes() -> bool {
    true
}

/// `signatures.yaml`: the approvers' signatures of a pack version, kept
/// beside its files and outside its digest (a signature cannot sign itself).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignatures {
    /// One entry per approver.
    pub signatures: Vec<Spanned<RawSignature>>,
}

/// One approver's signature.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignature {
    /// The exact text that was signed: `tdm pack approval v1`, then `pack:`,
    /// `version:`, `digest:`, `signer:`, `role:` and `signed_at:` lines.
    pub statement: String,
    /// The `ssh-keygen -Y sign -n tdm-pack` signature of the statement
    /// (`-----BEGIN SSH SIGNATURE-----` ...).
    pub signature: String,
}
