//! Step 1 of the decision tree, version 2 (design.md, "Decision"): toxicity
//! at or above the pack's grade is acted on first, whatever the value or the
//! timing, and named. Grade 3 or 4: withhold until recovery as the label
//! says, then resume one level down; at the lowest level, discontinue. The
//! red box (an alternative treatment) only for a usable, steady-state value
//! with known timing below a threshold target (seed 818–824).

use super::decide::{
    Decision, Situation, current, level_warnings, lower_level, not_a_level, one_level_down,
};
use super::text::Sig;
use crate::result::{Advice, Basis, Classification};

pub(crate) fn decide<'a>(s: &Situation<'a>, grade: u8) -> Decision<'a> {
    let usable = s.invalid.is_none() && !s.parent_only && !s.undetectable;
    let red_box = usable
        && s.classification == Some(Classification::Below)
        && s.target.basis == Basis::Threshold
        && s.hours_known
        && s.days_known;
    if red_box {
        let mut d = Decision::new(
            Advice::ConsiderAlternative,
            format!(
                "grade {grade} toxicity despite exposure below target at steady state: a lower dose would lose efficacy; consider an alternative treatment (Figure 1, red box)"
            ),
        );
        d.warnings.push(exceptions(s));
        return d;
    }
    let mean = s.target.basis == Basis::PopulationMean;
    let context = match (usable, s.classification, mean) {
        (true, Some(Classification::Below), false) => " with exposure below target",
        (true, Some(Classification::Below), true) => " with exposure below the population mean",
        (true, Some(_), false) => " with exposure at or above target",
        (true, Some(_), true) => " with exposure at or above the population mean",
        _ => "",
    };
    let mut d = match one_level_down(s) {
        Some(Some(level)) => {
            let mut d = Decision::new(
                Advice::ReduceDose,
                sentence!(
                    "grade ",
                    grade.to_string().as_str(),
                    " toxicity",
                    context,
                    ": withhold ",
                    &s.drug.name,
                    " until the toxicity has resolved, as the label says, then resume one level down, from ",
                    current(s),
                    " to ",
                    level
                ),
            );
            d.conditions.push(sentence!(
                "resume at ",
                level,
                " only once the toxicity has resolved"
            ));
            d.warnings.extend(not_a_level(s));
            level_warnings(s.drug, level, &mut d.warnings);
            d.warnings.extend(projection(s, level));
            d.next = Some(level);
            d
        }
        Some(None) => Decision::new(
            Advice::ConsiderAlternative,
            sentence!(
                "grade ",
                grade.to_string().as_str(),
                " toxicity",
                context,
                " at the lowest dose level of the pack (",
                current(s),
                "): discontinue ",
                &s.drug.name,
                " as the label says, and consider an alternative treatment"
            ),
        ),
        None => {
            let mut d = Decision::new(
                Advice::ReduceDose,
                format!(
                    "grade {grade} toxicity{context}: withhold {} until the toxicity has resolved, as the label says, then resume one level down",
                    s.drug.name
                ),
            );
            d.conditions
                .push("resume one level down only once the toxicity has resolved".into());
            d.warnings
                .push("dose_mg not given: the next dose cannot be computed".into());
            d
        }
    };
    if let Some(why) = s.invalid {
        d.warnings.push(format!(
            "the level cannot be judged ({why}): the toxicity is acted on all the same; measure again once the dose is stable"
        ));
    }
    d.warnings.push(exceptions(s));
    d
}

/// What the tool cannot judge without knowing the adverse event.
fn exceptions(s: &Situation) -> String {
    format!(
        "the label's management of the adverse event decides: some events resume at the same dose (e.g. a first haematological event in CML), some stop {} for good (e.g. pneumonitis, or hepatotoxicity meeting Hy's law); check the label for this event",
        s.drug.name
    )
}

/// For toxicity at or above target: the exposure expected at the lower
/// dose, assuming it falls in proportion (seed 821–823: such patients
/// "might be successfully treated at the lower dose").
fn projection(s: &Situation, level: &crate::pack::model::DoseLevel) -> Option<String> {
    let usable = s.invalid.is_none() && !s.parent_only && !s.undetectable;
    let at_or_above = matches!(
        s.classification,
        Some(Classification::Within | Classification::Above)
    );
    let daily = s.dose_mg? * 24.0 / s.interval_h;
    let lower = s.lower?;
    if !(usable && at_or_above && daily > 0.0) {
        return None;
    }
    let projected = s.total * level.daily_mg() / daily;
    let verdict = if projected < lower {
        "below the target: check the level at steady state on the lower dose"
    } else {
        "still at or above the target"
    };
    Some(sentence!(
        "at ",
        level,
        " the exposure is expected to be about ",
        Sig(projected),
        " ",
        s.unit,
        " (in proportion to the dose), ",
        verdict,
        " of ",
        Sig(lower),
        " ",
        s.unit
    ))
}

/// The level a reduction leads to, for the sentence of an upper bound.
pub(crate) fn reduction_hint(s: &Situation) -> Option<String> {
    lower_level(s).map(|level| sentence!("a reduction to ", level, " may be considered"))
}
