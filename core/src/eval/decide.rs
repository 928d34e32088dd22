//! The decision tree of Figure 1 of the seed, made explicit (design.md,
//! "Decision"), and the dose ladder that turns advice into a next dose.

use crate::pack::model::Frequency;
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
    pub dose_mg: Option<f64>,
    pub interval_h: f64,
}

/// The advice and what follows from it.
pub(crate) struct Decision<'a> {
    pub advice: Advice,
    pub next: Option<&'a DoseLevel>,
    pub interventions: Vec<String>,
    pub warnings: Vec<String>,
    /// The second half of the rationale: what to do and why.
    pub reason: String,
}

impl Decision<'_> {
    fn new(advice: Advice, reason: impl Into<String>) -> Self {
        Decision {
            advice,
            next: None,
            interventions: Vec::new(),
            warnings: Vec::new(),
            reason: reason.into(),
        }
    }
}

/// Runs the tree.
pub(crate) fn decide<'a>(s: &Situation<'a>) -> Decision<'a> {
    // 1. A sample that cannot be interpreted.
    if let Some(why) = s.invalid {
        return Decision::new(Advice::RepeatSample, why.to_owned());
    }
    let Some(class) = s.classification else {
        return Decision::new(Advice::RepeatSample, "the sample cannot be classified");
    };
    let toxic = s
        .toxicity_grade
        .is_some_and(|g| g >= s.policy.toxicity_grade);
    let grade = s.toxicity_grade.unwrap_or_default();
    // A total judged on the parent alone: the value is only a lower bound.
    if s.parent_only {
        let mut d = Decision::new(
            Advice::InterpretOnly,
            "the target is a total of parent and metabolite, but only the parent was measured: interpret only, and measure the metabolite before adjusting the dose",
        );
        if toxic {
            d.warnings.push(toxicity_warning(grade, s.drug));
        }
        return d;
    }
    // 4. Population mean of an exploratory drug: a reference, not a target to act on.
    let proxy =
        s.target.basis == Basis::PopulationMean && s.target.evidence == Evidence::Exploratory;
    if proxy && !s.policy.act_on_population_mean {
        let mut d = Decision::new(
            Advice::InterpretOnly,
            "the reference is the population mean exposure of an exploratory drug, too early to act on (Verheijen 2017): use it to interpret, not to change the dose",
        );
        if toxic {
            d.warnings.push(toxicity_warning(grade, s.drug));
        }
        return d;
    }
    // 2. Toxicity.
    if toxic {
        return match class {
            Classification::Below => Decision::new(
                Advice::ConsiderAlternative,
                format!(
                    "grade {grade} toxicity despite exposure below target: a lower dose would lose efficacy; consider an alternative treatment (Figure 1, red box)"
                ),
            ),
            _ => step_down(
                s,
                &format!("grade {grade} toxicity with exposure at or above target"),
            ),
        };
    }
    // 3. No limiting toxicity.
    match class {
        Classification::Within => Decision::new(Advice::Continue, "continue the current dose"),
        Classification::Above => step_down(s, "exposure above the upper bound"),
        Classification::Below => step_up(s),
    }
}

fn toxicity_warning(grade: u8, drug: &Drug) -> String {
    let lower: Vec<String> = drug.dosing.levels.iter().map(DoseLevel::describe).collect();
    format!(
        "grade {grade} toxicity: manage it as the label says (dose levels of {}: {})",
        drug.name,
        lower.join(", ")
    )
}

/// Index of the current dose among the levels, or where it would sit.
enum Position {
    At(usize),
    /// Not a level: between `below` (if any) and `above` (if any).
    Between {
        below: Option<usize>,
        above: Option<usize>,
    },
    Unknown,
}

fn position(s: &Situation) -> Position {
    let Some(mg) = s.dose_mg else {
        return Position::Unknown;
    };
    let levels = &s.drug.dosing.levels;
    if let Some(i) = levels
        .iter()
        .position(|l| l.mg == mg && l.interval_h == s.interval_h)
    {
        return Position::At(i);
    }
    let daily = mg * 24.0 / s.interval_h;
    Position::Between {
        below: levels.iter().rposition(|l| l.daily_mg() < daily),
        above: levels.iter().position(|l| l.daily_mg() > daily),
    }
}

/// The sample's dose: `400 mg once daily`, or `the current dose`.
struct Current<'a, 'b>(&'a Situation<'b>);

impl super::sentence::Piece for Current<'_, '_> {
    fn put(self, out: &mut String) {
        match self.0.dose_mg {
            Some(mg) => put!(out, Num(mg), " mg ", Frequency(self.0.interval_h)),
            None => out.push_str("the current dose"),
        }
    }
}

fn not_a_level_warning(s: &Situation) -> String {
    sentence!(
        "the current dose (",
        Current(s),
        ") is not one of the pack's dose levels for ",
        &s.drug.name,
        ": the next level was taken by daily dose"
    )
}

fn step_up<'a>(s: &Situation<'a>) -> Decision<'a> {
    let mut d = Decision::new(Advice::IncreaseDose, String::new());
    d.interventions = s
        .policy
        .interventions_before_increase
        .iter()
        .chain(&s.drug.dosing.interventions)
        .map(|i| {
            if i.beyond_label {
                sentence!(&i.action, " (beyond the label)")
            } else {
                i.action.clone()
            }
        })
        .collect();
    let next = match position(s) {
        Position::At(i) => s.drug.dosing.levels.get(i + 1),
        Position::Between { above, .. } => {
            d.warnings.push(not_a_level_warning(s));
            above.map(|i| &s.drug.dosing.levels[i])
        }
        Position::Unknown => {
            d.warnings
                .push("dose_mg not given: the next dose cannot be computed".into());
            d.reason = "increase the dose one level".into();
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
            d.reason = sentence!(step, Current(s), " to ", level);
            level_warnings(s.drug, level, &mut d.warnings);
            d.next = Some(level);
        }
        None => {
            d.advice = Advice::ConsiderAlternative;
            d.reason = sentence!(
                Current(s),
                " is already the highest dose level of the pack: consider an alternative treatment"
            );
        }
    }
    d
}

fn step_down<'a>(s: &Situation<'a>, why: &str) -> Decision<'a> {
    let mut d = Decision::new(Advice::ReduceDose, String::new());
    let next = match position(s) {
        Position::At(i) => i.checked_sub(1).map(|j| &s.drug.dosing.levels[j]),
        Position::Between { below, .. } => {
            d.warnings.push(not_a_level_warning(s));
            below.map(|i| &s.drug.dosing.levels[i])
        }
        Position::Unknown => {
            d.warnings
                .push("dose_mg not given: the next dose cannot be computed".into());
            d.reason = format!("{why}: reduce the dose one level");
            return d;
        }
    };
    match next {
        Some(level) => {
            d.reason = sentence!(why, ": reduce the dose from ", Current(s), " to ", level);
            level_warnings(s.drug, level, &mut d.warnings);
            d.next = Some(level);
        }
        None => {
            d.advice = Advice::ConsiderAlternative;
            d.reason = sentence!(
                why,
                ", and ",
                Current(s),
                " is already the lowest dose level: consider an alternative treatment"
            );
        }
    }
    d
}

fn level_warnings(drug: &Drug, level: &DoseLevel, warnings: &mut Vec<String>) {
    if !level.label {
        warnings.push(format!(
            "{} of {} is beyond the label (used in TDM practice){}",
            level,
            drug.name,
            level
                .note
                .as_ref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        ));
    } else if let Some(note) = &level.note {
        warnings.push(format!("{}: {note}", level));
    }
    if let Some(why) = &level.unconfirmed {
        warnings.push(format!("{} rests on an unconfirmed fact: {why}", level));
    }
}
