//! The decision tree, version 2 (design.md, "Decision"): toxicity first
//! (`toxicity.rs`), then whether the sample can be used, then the exposure
//! against the target (`verify.rs` for what is verified first); the dose
//! ladder (`ladder.rs`) turns advice into a next dose. Increases carry the
//! conditions under which they may be followed.

use super::ladder::{
    Position, current, level_warnings, not_a_level, not_a_level_warning, one_level_down, position,
    unknown_next,
};
use super::verify::{early_high, improbable, undetectable};
use crate::pack::model::{Basis, DoseLevel, Drug, Evidence, Policy, Target};
use crate::result::num::Num;
use crate::result::{Advice, Classification};

/// Everything the decision depends on.
pub(crate) struct Situation<'a> {
    pub drug: &'a Drug,
    pub policy: &'a Policy,
    pub target: &'a Target,
    pub classification: Option<Classification>,
    /// Why the sample cannot be interpreted.
    pub invalid: Option<&'a str>,
    /// The target is a total but only the parent was measured.
    pub parent_only: bool,
    pub toxicity_grade: Option<u8>,
    /// The grade the toxicity branch acts on (an intolerable grade 2 too).
    pub limiting_grade: Option<u8>,
    /// Whether the value is possible and probable for the dose.
    pub plausible: super::plausibility::Plausible,
    /// The sample, for what the decision names (co-medication, the event).
    pub sample: &'a crate::input::Sample,
    pub dose_mg: Option<f64>,
    pub interval_h: f64,
    /// The exposure judged, at full precision, in `unit`.
    pub total: f64,
    pub unit: &'a str,
    /// The lower bound as it applies to this sample.
    pub lower: Option<f64>,
    /// `hours_since_dose` was given (the trough is not assumed).
    pub hours_known: bool,
    /// `days_on_dose` was given (steady state is not assumed).
    pub days_known: bool,
    /// The level is undetectable: reported below the limit of
    /// quantification, under the sample's `lloq`, or 0.
    pub undetectable: bool,
    /// Before steady state: where a trough level already stands.
    pub early: Option<Classification>,
    /// A toxicity signal is passed.
    pub signal_exceeded: bool,
    /// The level's percentile among patients on the reference's dose.
    pub percentile: Option<f64>,
    pub days_on_dose: Option<f64>,
}

/// The advice and what follows from it.
pub(crate) struct Decision<'a> {
    pub advice: Advice,
    pub next: Option<&'a DoseLevel>,
    pub interventions: Vec<String>,
    /// What must hold before the advice is followed.
    pub conditions: Vec<String>,
    pub warnings: Vec<String>,
    /// The second half of the rationale: what to do and why.
    pub reason: String,
}

impl Decision<'_> {
    pub(crate) fn new(advice: Advice, reason: impl Into<String>) -> Self {
        Decision {
            advice,
            next: None,
            interventions: Vec::new(),
            conditions: Vec::new(),
            warnings: Vec::new(),
            reason: reason.into(),
        }
    }
}

/// Runs the tree.
pub(crate) fn decide<'a>(s: &Situation<'a>) -> Decision<'a> {
    // 1. Toxicity first, whatever the value or the timing.
    if let Some(grade) = s.limiting_grade {
        return super::toxicity::decide(s, grade);
    }
    // An undetectable level is a question to ask first, never a level to dose on.
    if s.undetectable {
        return undetectable(s);
    }
    // An improbable level is verified before any change.
    if let super::plausibility::Plausible::Improbable { high } = s.plausible {
        return improbable(s, high);
    }
    // 2. A sample that cannot be interpreted; a high level before steady
    // state is watched, not reduced.
    if let Some(why) = s.invalid {
        return early_high(s, why)
            .unwrap_or_else(|| Decision::new(Advice::RepeatSample, why.to_owned()));
    }
    let Some(class) = s.classification else {
        return Decision::new(Advice::RepeatSample, "the sample cannot be classified");
    };
    // A total judged on the parent alone: the value is only a lower bound.
    if s.parent_only {
        return Decision::new(
            Advice::InterpretOnly,
            "the target is a total of parent and metabolite, but only the parent was measured: interpret only, and measure the metabolite before adjusting the dose",
        );
    }
    // Population mean of an exploratory drug: a reference, not a target to act on.
    let proxy =
        s.target.basis == Basis::PopulationMean && s.target.evidence == Evidence::Exploratory;
    if proxy && !s.policy.act_on_population_mean {
        let mut d = Decision::new(
            Advice::InterpretOnly,
            "the reference is the population mean exposure of an exploratory drug, too early to act on (Verheijen 2017): use it to interpret, not to change the dose",
        );
        if let Some(p) = s.percentile {
            put!(
                &mut d.reason,
                "; the level is at about the ",
                Num((p.round()).clamp(1.0, 99.0)),
                ordinal(p.round().clamp(1.0, 99.0)),
                " percentile of patients on the reference's dose (log-normal)"
            );
            // The mean is a reference for patients with interactions or
            // compliance issues (seed 847–850): a level among the lowest
            // twentieth of patients brings the non-dose steps.
            if p < VERY_LOW_PERCENTILE {
                d.interventions = non_dose_steps(s);
                d.reason.push_str(", among the lowest 5 %: ");
                d.reason.push_str(&d.interventions.join("; "));
            }
        }
        return d;
    }
    // 3. No limiting toxicity.
    match class {
        Classification::Within => Decision::new(Advice::Continue, "continue the current dose"),
        Classification::Above => above_bound(s),
        _ => step_up(s),
    }
}

/// Below this percentile of a population reference a level is very low.
const VERY_LOW_PERCENTILE: f64 = 5.0;

/// The steps that may raise exposure without a dose change, in order: the
/// pack's, the co-medication the sample names, then the drug's own.
fn non_dose_steps(s: &Situation) -> Vec<String> {
    use crate::input::Comedication;
    let takes = |c| s.sample.comedication.contains(&c);
    let mut steps: Vec<String> = s
        .policy
        .interventions_before_increase
        .iter()
        .map(|i| i.action.clone())
        .collect();
    if takes(Comedication::StrongCyp3a4Inducer) {
        steps.push("replace the strong CYP3A4 inducer where possible (it lowers the level)".into());
    }
    if takes(Comedication::AcidReducer)
        && let Some(action) = &s.drug.acid_reducers
    {
        steps.push(action.clone());
    }
    steps.extend(s.drug.dosing.interventions.iter().map(|i| {
        if i.beyond_label {
            sentence!(&i.action, " (beyond the label)")
        } else {
            i.action.clone()
        }
    }));
    steps
}

/// The co-medication the pack cannot judge for this drug.
fn comedication_warnings(s: &Situation) -> Vec<String> {
    let acid = s
        .sample
        .comedication
        .contains(&crate::input::Comedication::AcidReducer);
    (acid && s.drug.acid_reducers.is_none())
        .then(|| {
            format!(
                "whether an acid reducer lowers the absorption of {} is not in the pack: check the label",
                s.drug.name
            )
        })
        .into_iter()
        .collect()
}

/// `st`, `nd`, `rd` or `th` after a whole number.
fn ordinal(n: f64) -> &'static str {
    let n = n as u32;
    match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// Above an upper bound without limiting toxicity: the source ties no
/// action to the bound, so the dose stays and a reduction may be considered
/// (sunitinib: a reduction "could be considered", seed 590–593; the DPOG
/// protocol reduces only on toxicity).
fn above_bound<'a>(s: &Situation<'a>) -> Decision<'a> {
    if let Some(source) = &s.target.reduce_above {
        return reduce_above(s, source);
    }
    let mut reason = String::from(
        "exposure above the upper bound without limiting toxicity: continue the current dose",
    );
    if s.sample
        .comedication
        .contains(&crate::input::Comedication::StrongCyp3a4Inhibitor)
    {
        reason.push_str("; the strong CYP3A4 inhibitor the patient takes may explain the level");
    }
    if let Some(hint) = super::toxicity::reduction_hint(s) {
        put!(&mut reason, "; ", &hint);
    }
    let mut d = Decision::new(Advice::Continue, reason);
    d.warnings.push(
        "the upper bound is tied to no action in the sources: a dose reduction is a judgement, not a rule"
            .into(),
    );
    d
}

fn step_up<'a>(s: &Situation<'a>) -> Decision<'a> {
    let mut d = Decision::new(Advice::IncreaseDose, String::new());
    d.interventions = non_dose_steps(s);
    d.warnings = comedication_warnings(s);
    let levels = &s.drug.dosing.levels;
    let next = match position(s) {
        Position::At(i) => levels.get(i + 1),
        Position::Between { above, .. } => {
            d.warnings.push(not_a_level_warning(s));
            above.map(|i| &levels[i])
        }
        Position::Unknown => {
            d.warnings.push(unknown_next(s));
            d.reason = if levels.is_empty() {
                "increase the dose".into()
            } else {
                "increase the dose one level".into()
            };
            d.conditions = increase_conditions(s);
            return d;
        }
    };
    match next {
        Some(level) => {
            let same_daily = s
                .dose_mg
                .is_some_and(|mg| mg * 24.0 / s.interval_h == level.daily_mg());
            let step = if same_daily {
                "split the intake: from "
            } else {
                "increase the dose from "
            };
            d.reason = sentence!(step, current(s), " to ", level);
            level_warnings(s.drug, level, &mut d.warnings);
            d.next = Some(level);
            d.conditions = increase_conditions(s);
        }
        // Pharmacokinetics alone is never a reason to switch therapy in the
        // review: the steps that may raise exposure remain.
        None => {
            d.advice = Advice::Continue;
            d.reason = sentence!(
                current(s),
                " is already the highest dose level of the pack: continue it"
            );
            for (i, step) in d.interventions.iter().enumerate() {
                d.reason.push_str(if i == 0 {
                    ", and take the steps that may raise exposure: "
                } else {
                    "; "
                });
                d.reason.push_str(step);
            }
            d.warnings.push(sentence!(
                "a dose above ",
                current(s),
                " is beyond the pack's dose levels for ",
                &s.drug.name
            ));
            d.warnings
                .extend(s.drug.dosing.above_highest.iter().cloned());
        }
    }
    d
}

/// Above an upper bound that a source ties to a reduction: one level down.
fn reduce_above<'a>(s: &Situation<'a>, source: &str) -> Decision<'a> {
    let why = "exposure above the upper bound";
    match one_level_down(s) {
        Some(Some(level)) => {
            let mut d = Decision::new(
                Advice::ReduceDose,
                sentence!(
                    why,
                    ": reduce the dose from ",
                    current(s),
                    " to ",
                    level,
                    " (",
                    source,
                    ")"
                ),
            );
            d.warnings.extend(not_a_level(s));
            level_warnings(s.drug, level, &mut d.warnings);
            d.next = Some(level);
            d
        }
        Some(None) => Decision::new(
            Advice::Continue,
            sentence!(
                why,
                ", but ",
                current(s),
                " is already the lowest dose level: continue it"
            ),
        ),
        None => {
            let mut d = Decision::new(
                Advice::ReduceDose,
                sentence!(why, ": reduce the dose one level (", source, ")"),
            );
            d.warnings.push(unknown_next(s));
            d
        }
    }
}

/// What must hold before an increase is followed: a tolerated dose when
/// the grade is unknown or 2, steady state when the days on dose are.
fn increase_conditions(s: &Situation) -> Vec<String> {
    let mut conditions = Vec::new();
    match s.toxicity_grade {
        None => conditions
            .push("only if the current dose is tolerated (no toxicity of grade 3 or more)".into()),
        Some(2) => {
            conditions.push("only if the grade 2 toxicity is tolerable and not persistent".into())
        }
        Some(_) => {}
    }
    if !s.days_known {
        conditions.push("only if at steady state on this dose".into());
    }
    conditions.extend(s.drug.dosing.escalation_conditions.iter().cloned());
    conditions
}
