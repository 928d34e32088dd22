//! The validated pack: what evaluation reads. Built only by the loader (`load.rs`),
//! immutable afterwards, and free of anything unchecked.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::result::PackId;
use crate::result::num::Num;
pub use crate::result::{Basis, Evidence, Measure};

/// A loaded, validated rule pack. Built only by the loader and immutable
/// afterwards: its fields are read through accessors, since an index
/// points into the drugs.
#[derive(Debug, Clone)]
pub struct Pack {
    pub(crate) id: PackId,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) effective: Option<String>,
    pub(crate) policy: Policy,
    /// Sorted by name.
    pub(crate) drugs: Vec<Drug>,
    /// Newest first.
    pub(crate) changelog: Vec<ChangelogEntry>,
    pub(crate) approval: Option<Approval>,
    /// The approvers' signatures, when the pack was loaded requiring them.
    pub(crate) signatures: Option<SignedBy>,
    /// Citations by source id.
    pub(crate) sources: Vec<(String, String)>,
    /// Lower-case name or alias -> index in `drugs` (a few dozen names:
    /// a sorted map is found faster than a hash is computed).
    pub(crate) index: BTreeMap<String, usize>,
    /// How laboratory and EHR codes name the pack's drugs, units and indications.
    pub(crate) codes: crate::pack::codes::Codes,
    /// The sandboxed engine the pack's scripts run on.
    pub(crate) engine: std::sync::Arc<crate::pack::script::ScriptEngine>,
}

impl Pack {
    /// Name, version and digest: what every result is stamped with.
    pub fn id(&self) -> &PackId {
        &self.id
    }

    /// The signatures the pack was accepted with; `None` when it was loaded
    /// without requiring any ([`crate::LoadOptions::trust`]).
    pub fn signed_by(&self) -> Option<&SignedBy> {
        self.signatures.as_ref()
    }

    /// The pack's signatures checked again against `trust` now: a key
    /// revoked or expired since the pack was loaded no longer counts.
    /// `None` when the pack was loaded without requiring signatures.
    pub fn recheck_signatures(
        &self,
        trust: &crate::pack::trust::Trust,
    ) -> Option<crate::pack::signature::Verdict> {
        let signed = self.signatures.as_ref()?;
        Some(
            signed
                .signatures
                .check(&self.id, trust, jiff::Timestamp::now()),
        )
    }

    /// Human title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// What the pack is for.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Date from which the pack's content applies, `YYYY-MM-DD`.
    pub fn effective(&self) -> Option<&str> {
        self.effective.as_deref()
    }

    /// Pack-wide decision policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Every drug, sorted by name.
    pub fn drugs(&self) -> &[Drug] {
        &self.drugs
    }

    /// What changed in each version, newest first.
    pub fn changelog(&self) -> &[ChangelogEntry] {
        &self.changelog
    }

    /// Who approved this version, and when.
    pub fn approval(&self) -> Option<&Approval> {
        self.approval.as_ref()
    }

    /// Citations by source id, in the manifest's order.
    pub fn sources(&self) -> &[(String, String)] {
        &self.sources
    }

    /// Finds a drug by name or alias, ignoring case.
    pub fn drug(&self, name: &str) -> Option<&Drug> {
        // Names are indexed in lower case, as samples mostly give them.
        // ASCII case only: Unicode lower-casing would fold compatibility
        // characters into letters (the Kelvin sign of `Ty\u{212A}erb` into
        // `k`), matching a name nobody wrote.
        let found = match self.index.get(name) {
            Some(i) => Some(i),
            None => self.index.get(&name.to_ascii_lowercase()),
        };
        found.map(|&i| &self.drugs[i])
    }

    /// The code maps of `codes/*.yaml`.
    pub fn codes(&self) -> &crate::pack::codes::Codes {
        &self.codes
    }

    /// Every name and alias the pack knows, for suggestions.
    pub fn drug_names(&self) -> impl Iterator<Item = &str> {
        self.drugs.iter().flat_map(|d| {
            let products = d
                .products
                .iter()
                .filter_map(|p| p.product.as_ref())
                .flat_map(|p| {
                    std::iter::once(p.name.as_str()).chain(p.aliases.iter().map(String::as_str))
                });
            std::iter::once(d.name.as_str())
                .chain(d.aliases.iter().map(String::as_str))
                .chain(products)
        })
    }
}

/// One version's entry in the changelog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangelogEntry {
    /// The version.
    pub version: String,
    /// Its release date, `YYYY-MM-DD`.
    pub date: String,
    /// What changed.
    pub changes: Vec<String>,
}

/// The signatures a pack was accepted with.
#[derive(Debug, Clone)]
pub struct SignedBy {
    /// The signatures file as read, to check again under a changed trust.
    pub(crate) signatures: std::sync::Arc<crate::pack::signature::Signatures>,
    /// What the check found when the pack was loaded.
    pub verdict: crate::pack::signature::Verdict,
}

/// The approval of a pack version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approval {
    /// Who approved it.
    pub by: String,
    /// When, `YYYY-MM-DD`.
    pub on: String,
    /// Conditions or remarks.
    pub note: Option<String>,
}

/// Pack-wide decisions (Figure 1 of the seed, plus practice).
#[derive(Debug, Clone)]
pub struct Policy {
    /// CTCAE grade at or above which toxicity changes the decision.
    pub toxicity_grade: u8,
    /// Act on population-mean targets of exploratory drugs.
    pub act_on_population_mean: bool,
    /// Half-lives to steady state when a drug's time to steady state is unknown.
    pub steady_state_half_lives: f64,
    /// Hours around the end of the interval in which a sample counts as a trough.
    pub trough_tolerance_h: f64,
    /// Non-dose steps before any increase, in order.
    pub interventions_before_increase: Vec<Intervention>,
    /// CV (fraction) of a population exposure whose source gives none.
    pub default_cv: Option<f64>,
    /// Largest peak-to-trough ratio for which a sample without a time is
    /// taken as a trough; `None`: never.
    pub untimed_trough_max_swing: Option<f64>,
    /// The probability with which a model's recommended dose must reach the
    /// target.
    pub model_target_probability: f64,
    /// Policy values that rest on unconfirmed facts, with why.
    pub unconfirmed: Vec<String>,
}

/// A non-dose step (check adherence, take with food, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Intervention {
    /// What to do, as a pharmacist would write it.
    pub action: String,
    /// The step departs from the label; a result says so.
    pub beyond_label: bool,
}

/// One drug's rule.
#[derive(Debug, Clone)]
pub struct Drug {
    /// International non-proprietary name, lower case.
    pub name: String,
    /// Other names (brands, codes), matched case-insensitively.
    pub aliases: Vec<String>,
    /// The kinase family as the seed groups it.
    pub group: String,
    /// Notes for readers of the rule.
    pub notes: Vec<String>,
    /// What in the PK block is not confirmed.
    pub pk_unconfirmed: Option<String>,
    /// Parent first, then metabolites.
    pub analytes: Vec<Analyte>,
    /// Elimination half-life of the parent, hours.
    pub half_life_h: Option<f64>,
    /// Days to steady state, when a source gives it.
    pub steady_state_days: Option<f64>,
    /// Trough correction rule.
    pub correction: TroughCorrection,
    /// Every target, primary and alternative.
    pub targets: Vec<Target>,
    /// Exposure levels linked to toxicity, reported as warnings.
    pub signals: Vec<Signal>,
    /// Dose levels and steps.
    pub dosing: Dosing,
    /// The script or native plugin that implements some hooks, if any.
    pub hooks: Option<HookProvider>,
    /// Extra input fields the script reads (passed through, not warned about).
    pub inputs: Vec<String>,
    /// Set on a product's rule: which product it is.
    pub product: Option<Product>,
    /// The drug's products, each a complete rule with the product's own
    /// dose levels and targets; empty when the drug has none.
    pub products: Vec<Drug>,
    /// Indications without a target, and why.
    pub no_target: Vec<NoTarget>,
    /// The label's management of grade 3 or 4 toxicity.
    pub toxicity: ToxicityManagement,
    /// What to do about an acid reducer, where the label says it matters.
    pub acid_reducers: Option<String>,
    /// Why an undetectable level does not point to non-adherence (an
    /// expected trough near assay limits), with what is unconfirmed.
    pub near_assay_limits: Option<(String, Option<String>)>,
    /// Population PK models, the first the one evaluation uses.
    pub models: Vec<DrugModel>,
}

/// A population PK model of a drug with what a reader needs to trust it.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugModel {
    /// The numbers, in ng/mL.
    pub model: crate::pk::Model,
    /// The citation.
    pub source: String,
    /// What is secondary, conflicting or unconfirmed.
    pub unconfirmed: Option<String>,
    /// Who it was estimated on, in words.
    pub population: String,
    /// Lowest and highest daily dose studied, mg.
    pub doses_mg: (f64, f64),
    /// The unit the model predicts in, as the pack writes it.
    pub unit: String,
    /// Inter-occasion variances.
    pub iov: Vec<(crate::pk::Param, f64)>,
    /// The model to use when a covariate is missing.
    pub fallback: Option<String>,
    /// The drug's analyte (its index) the model's metabolite predicts.
    pub metabolite: Option<usize>,
}

/// A product of a drug that is not interchangeable with its others.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// The product's name (`Cometriq`).
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// Capsules, tablets.
    pub form: Option<String>,
    /// Used when a sample names only the drug.
    pub default: bool,
    /// Indications it is licensed for.
    pub indications: Vec<String>,
    /// Why no target applies, when none does.
    pub no_target: Option<String>,
    /// A note for results.
    pub note: Option<String>,
}

impl Product {
    /// The product's name or one of its aliases, ignoring case.
    pub fn is_named(&self, name: &str) -> bool {
        same_name(&self.name, name) || self.aliases.iter().any(|a| same_name(a, name))
    }
}

/// Indications without a target.
#[derive(Debug, Clone, PartialEq)]
pub struct NoTarget {
    /// The indications.
    pub indications: Vec<String>,
    /// Why.
    pub reason: String,
}

/// The label's management of grade 3 or 4 toxicity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToxicityManagement {
    /// What the label does at the lowest level.
    pub at_lowest: ToxicityAction,
    /// The label's words for it.
    pub at_lowest_note: Option<String>,
    /// Adverse events managed otherwise.
    pub events: Vec<ToxicityEvent>,
    /// What rests on an unconfirmed fact.
    pub unconfirmed: Option<String>,
    /// The label's management is in the pack (else the tool's default).
    pub given: bool,
}

/// What the label does on an adverse event of grade 3 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToxicityAction {
    /// Withhold until recovery, resume one level down; at the lowest, discontinue.
    #[default]
    ResumeLower,
    /// Withhold until recovery, resume at the same dose.
    ResumeSameDose,
    /// Stop for good.
    Discontinue,
}

/// One adverse event the label manages in its own way.
#[derive(Debug, Clone, PartialEq)]
pub struct ToxicityEvent {
    /// The `toxicity_type` it answers to.
    pub kind: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// Indications it applies to; empty means any.
    pub indications: Vec<String>,
    /// CTCAE grades it applies to; empty means any.
    pub grades: Vec<u8>,
    /// The label's action.
    pub action: ToxicityAction,
    /// The label's words.
    pub note: Option<String>,
    /// What rests on an unconfirmed fact.
    pub unconfirmed: Option<String>,
}

impl ToxicityEvent {
    /// The event answers to `name`, ignoring case, `-`, `_` and spaces.
    pub fn is_named(&self, name: &str) -> bool {
        let key = |s: &str| {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
        };
        let wanted = key(name);
        key(&self.kind) == wanted || self.aliases.iter().any(|a| key(a) == wanted)
    }
}

impl Drug {
    /// Finds an analyte by name or alias, ignoring case.
    pub fn analyte(&self, name: &str) -> Option<usize> {
        self.analytes
            .iter()
            .position(|a| same_name(&a.name, name) || a.aliases.iter().any(|x| same_name(x, name)))
    }
}

/// Names equal ignoring ASCII case: compatibility characters are never
/// folded into letters (`Ty\u{212A}erb` is not `Tykerb`).
fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// What implements a drug's hooks beyond its YAML rule.
#[derive(Debug, Clone)]
pub enum HookProvider {
    /// A Rhai script of the pack.
    Script(std::sync::Arc<crate::pack::script::Script>),
    /// A native plugin of the pack.
    Plugin {
        /// The library's path inside the pack.
        path: String,
        /// The loaded plugin.
        plugin: std::sync::Arc<dyn crate::pack::plugin::NativePlugin>,
    },
}

/// The parent drug or a metabolite.
#[derive(Debug, Clone)]
pub struct Analyte {
    /// Name as the pack spells it.
    pub name: String,
    /// Other names (`SU12662`).
    pub aliases: Vec<String>,
    /// Molar mass of the free base, g/mol.
    pub molar_mass: Option<f64>,
    /// Elimination half-life, hours (the parent's is `pk.half_life_h`).
    pub half_life_h: Option<f64>,
    /// What about this analyte is not confirmed (e.g. a derived formula).
    pub unconfirmed: Option<String>,
}

/// How a sample not drawn at trough may be corrected.
#[derive(Debug, Clone, PartialEq)]
pub enum TroughCorrection {
    /// Log-linear extrapolation (Wang et al. 2009) from this many hours after the dose.
    LogLinear {
        /// Earliest valid sampling time, hours after the dose.
        valid_from_h: f64,
    },
    /// No validated correction: only trough samples are interpreted.
    None {
        /// Why, for the result.
        reason: String,
    },
}

/// A lower bound, fixed or proportional to the dose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lower {
    /// A fixed value in the canonical unit.
    Fixed(f64),
    /// Canonical units per mg of the current dose (a dose-normalised proxy).
    PerMgDose(f64),
}

/// One target of a drug.
#[derive(Debug, Clone)]
pub struct Target {
    /// Identifier, unique within the drug.
    pub id: String,
    /// The tables' recommendation (primary) or a value from the text (alternative).
    pub primary: bool,
    /// The target used when a sample does not say which applies.
    pub default: bool,
    /// Indications it applies to; empty means any.
    pub indications: Vec<String>,
    /// Regimens it applies to; empty means any.
    pub regimens: Vec<String>,
    /// Cmin or AUC.
    pub measure: Measure,
    /// Lower bound, canonical unit.
    pub lower: Option<Lower>,
    /// Upper bound, canonical unit.
    pub upper: Option<f64>,
    /// The source that ties the upper bound to a dose reduction, if one does.
    pub reduce_above: Option<String>,
    /// Indices of the analytes summed; the parent alone when it is `[0]`.
    pub sum_of: Vec<usize>,
    /// Threshold or population mean.
    pub basis: Basis,
    /// Evidence level.
    pub evidence: Evidence,
    /// The outcome the target is tied to.
    pub outcome: Option<String>,
    /// Mean or median exposure at the approved dose, canonical unit.
    pub population_mean: Option<f64>,
    /// The spread of that exposure, where the source gives one.
    pub spread: Option<Spread>,
    /// Reference numbers of the seed review.
    pub references: Vec<String>,
    /// The citation: a source id of the pack's `sources`, then where in it
    /// (`verheijen2017 Table 2 (imatinib)`).
    pub source: String,
    /// Caveats a reader must see (disagreements, derivations).
    pub note: Option<String>,
    /// What the values were measured in (plasma reads as serum).
    pub matrix: crate::input::Matrix,
    /// For an AUC: the interval it covers, hours.
    pub auc_interval_h: Option<f64>,
    /// For an AUC whose interval is not known: why (no AUC is judged).
    pub auc_interval_unknown: Option<String>,
}

impl Target {
    /// The indications and regimens it is specific to, as `CML/GIST`;
    /// `None` when it applies to any.
    pub fn scope(&self) -> Option<String> {
        let scope: Vec<&str> = self
            .indications
            .iter()
            .chain(&self.regimens)
            .map(String::as_str)
            .collect();
        (!scope.is_empty()).then(|| scope.join("/"))
    }
}

/// The spread of a population exposure (a log-normal distribution).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Coefficient of variation, as a fraction (0.454).
    pub cv: f64,
    /// The population mean is a geometric mean (the log-normal's median).
    pub geometric: bool,
    /// The dose per administration it was observed at, mg.
    pub dose_mg: f64,
}

impl Spread {
    /// The percentile (0–100) of `value` among patients on the dose:
    /// ln X ~ N(ln median, ln(1 + CV²)), the median being the geometric
    /// mean, or the arithmetic mean / sqrt(1 + CV²).
    pub fn percentile(&self, value: f64, mean: f64) -> Option<f64> {
        let variance = (1.0 + self.cv * self.cv).ln();
        let median = if self.geometric {
            mean
        } else {
            mean / (1.0 + self.cv * self.cv).sqrt()
        };
        if !(value > 0.0 && median > 0.0 && variance > 0.0) {
            return None;
        }
        let z = (value / median).ln() / variance.sqrt();
        let p = 50.0 * (1.0 + libm::erf(z / std::f64::consts::SQRT_2));
        p.is_finite().then_some(p)
    }
}

/// An exposure linked to toxicity.
#[derive(Debug, Clone)]
pub struct Signal {
    /// Canonical-unit value above which the signal applies.
    pub above: f64,
    /// The effect, for the warning.
    pub effect: String,
    /// Reference numbers.
    pub references: Vec<String>,
}

/// Dose levels and steps of a drug.
#[derive(Debug, Clone)]
pub struct Dosing {
    /// Usual dosing interval, hours.
    pub interval_h: f64,
    /// Index of the standard dose in `levels`.
    pub standard: usize,
    /// Ascending by daily dose; the last is the maximum.
    pub levels: Vec<DoseLevel>,
    /// Drug-specific steps before an increase.
    pub interventions: Vec<Intervention>,
    /// What must hold before any increase (titration rules, an ECG).
    pub escalation_conditions: Vec<String>,
    /// Available strengths, mg.
    pub strengths_mg: Vec<f64>,
    /// What about the dose ladder is not confirmed.
    pub unconfirmed: Option<String>,
    /// The label says to take it fasting: never "take with food".
    pub fasting: bool,
    /// What a source says of doses above the highest level.
    pub above_highest: Option<String>,
}

/// One step of the dose ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseLevel {
    /// Dose per administration, mg.
    pub mg: f64,
    /// Dosing interval, hours.
    pub interval_h: f64,
    /// Provided by the label (false: TDM practice beyond the label).
    pub label: bool,
    /// Caveat to show with the level.
    pub note: Option<String>,
    /// The level rests on an unconfirmed fact; shown as a warning.
    pub unconfirmed: Option<String>,
}

impl DoseLevel {
    /// mg per day.
    pub fn daily_mg(&self) -> f64 {
        self.mg * 24.0 / self.interval_h
    }

    /// `400 mg once daily`, `5 mg twice daily`.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for DoseLevel {
    /// `400 mg once daily`, `5 mg twice daily`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} mg {}", Num(self.mg), Frequency(self.interval_h))
    }
}

/// `once daily`, `twice daily`, `every 8 h`.
#[derive(Debug, Clone, Copy)]
pub struct Frequency(pub f64);

impl Frequency {
    /// The words for the usual intervals; other intervals are `every N h`.
    pub(crate) fn words(self) -> Option<&'static str> {
        match self.0 {
            24.0 => Some("once daily"),
            12.0 => Some("twice daily"),
            48.0 => Some("every other day"),
            _ => None,
        }
    }
}

impl std::fmt::Display for Frequency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.words() {
            Some(words) => f.write_str(words),
            None => write!(f, "every {} h", Num(self.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_spelled_in_sentences_as_in_the_contract() {
        for e in [
            Evidence::Exploratory,
            Evidence::Promising,
            Evidence::Viable,
            Evidence::StandardOfCare,
            Evidence::Negative,
        ] {
            let json = serde_json::to_value(e).unwrap();
            assert_eq!(json.as_str(), Some(e.as_str()));
        }
    }

    /// Against Python's `math.erf` on the same log-normal (an independent
    /// implementation): 50 at the median, and the review's figures.
    #[test]
    fn percentiles_of_a_log_normal_population() {
        let geometric = |cv| Spread {
            cv,
            geometric: true,
            dose_mg: 45.0,
        };
        let arithmetic = |cv| Spread {
            cv,
            geometric: false,
            dose_mg: 125.0,
        };
        let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-6, "{a:?} vs {b}");
        close(geometric(0.454).percentile(34.2, 34.2), 50.0);
        close(geometric(0.454).percentile(20.0, 34.2), 10.761879426899984);
        close(geometric(0.487).percentile(332.0, 166.0), 93.3515512877486);
        close(arithmetic(0.42).percentile(61.0, 61.0), 57.98582922461668);
        close(arithmetic(0.74).percentile(300.0, 953.0), 7.800416920752918);
        assert_eq!(geometric(0.454).percentile(0.0, 34.2), None);
    }

    #[test]
    fn frequencies_as_a_pharmacist_says_them() {
        assert_eq!(Frequency(24.0).to_string(), "once daily");
        assert_eq!(Frequency(12.0).to_string(), "twice daily");
        assert_eq!(Frequency(48.0).to_string(), "every other day");
        assert_eq!(Frequency(8.0).to_string(), "every 8 h");
    }
}
