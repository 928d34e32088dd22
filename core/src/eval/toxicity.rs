//! Step 1 of the decision tree, version 2 (design.md, "Decision"): toxicity
//! at or above the pack's grade (or a grade 2 the patient finds
//! intolerable) is acted on first, whatever the value or the timing, and
//! named. Grade 3 or 4: withhold until recovery as the label says, then
//! resume one level down; at the lowest level, what the label says there
//! (discontinue, or for a drug with one level, resume it); an adverse event
//! the label manages otherwise (`toxicity_type`) as the label says. The red
//! box (an alternative treatment) only for a usable, plausible,
//! steady-state value with known timing below a threshold target (seed
//! 818–824).

use super::decide::{Decision, Situation};
use super::ladder::{
    current, current_level, level_warnings, lower_level, not_a_level, one_level_down,
};
use super::plausibility::Plausible;
use super::text::Sig;
use crate::pack::model::{DoseLevel, ToxicityAction, ToxicityEvent};
use crate::result::{Advice, Basis, Classification};

pub(crate) fn decide<'a>(s: &Situation<'a>, grade: u8) -> Decision<'a> {
    let what = if grade < s.policy.toxicity_grade {
        format!("grade {grade} toxicity that the patient finds intolerable")
    } else {
        format!("grade {grade} toxicity")
    };
    let event = event(s);
    let mut d = match event.map(|e| e.action) {
        Some(ToxicityAction::Discontinue) => stop(s, &what, event),
        Some(ToxicityAction::ResumeSameDose) => resume_same(s, &what, event),
        _ => match red_box(s, &what) {
            Some(d) => d,
            None => one_level(s, &what),
        },
    };
    if let Some(e) = event
        && let Some(why) = &e.unconfirmed
    {
        d.warnings
            .push(format!("the label's management of {}: {why}", e.kind));
    }
    if let Some(why) = s.invalid {
        d.warnings.push(format!(
            "the level cannot be judged ({why}): the toxicity is acted on all the same; measure again once the dose is stable"
        ));
    }
    d.warnings.extend(label_warnings(s, event));
    d
}

/// The event the label manages in its own way, from `toxicity_type`.
fn event<'a>(s: &Situation<'a>) -> Option<&'a ToxicityEvent> {
    let kind = s.sample.toxicity_type.as_deref()?;
    let indication = s.sample.indication.as_deref();
    let grade = s.limiting_grade?;
    s.drug.toxicity.events.iter().find(|e| {
        e.is_named(kind)
            && (e.grades.is_empty() || e.grades.contains(&grade))
            && (e.indications.is_empty()
                || indication
                    .is_some_and(|i| e.indications.iter().any(|x| x.eq_ignore_ascii_case(i))))
    })
}

fn usable(s: &Situation) -> bool {
    s.invalid.is_none() && !s.parent_only && !s.undetectable && s.plausible == Plausible::Yes
}

/// Figure 1's red box: toxicity with a valid steady-state level below a
/// threshold target; a lower dose would lose efficacy.
fn red_box<'a>(s: &Situation<'a>, what: &str) -> Option<Decision<'a>> {
    let red = usable(s)
        && s.classification == Some(Classification::Below)
        && s.target.basis == Basis::Threshold
        && s.hours_known
        && s.days_known;
    red.then(|| {
        Decision::new(
            Advice::ConsiderAlternative,
            format!(
                "{what} despite exposure below target at steady state: a lower dose would lose efficacy; consider an alternative treatment (Figure 1, red box)"
            ),
        )
    })
}

fn context(s: &Situation) -> &'static str {
    let mean = s.target.basis == Basis::PopulationMean;
    match (usable(s), s.classification, mean) {
        (true, Some(Classification::Below), false) => " with exposure below target",
        (true, Some(Classification::Below), true) => " with exposure below the population mean",
        (true, Some(_), false) => " with exposure at or above target",
        (true, Some(_), true) => " with exposure at or above the population mean",
        _ => "",
    }
}

/// Withhold, then resume one level down; at the lowest level, what the label says.
fn one_level<'a>(s: &Situation<'a>, what: &str) -> Decision<'a> {
    let context = context(s);
    match one_level_down(s) {
        Some(Some(level)) => {
            let mut d = Decision::new(
                Advice::ReduceDose,
                sentence!(
                    what,
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
        Some(None) if s.drug.toxicity.at_lowest == ToxicityAction::ResumeSameDose => {
            resume_same(s, what, None)
        }
        Some(None) => Decision::new(
            Advice::ConsiderAlternative,
            sentence!(
                what,
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
                    "{what}{context}: withhold {} until the toxicity has resolved, as the label says, then resume one level down",
                    s.drug.name
                ),
            );
            d.conditions
                .push("resume one level down only once the toxicity has resolved".into());
            d.warnings.push(super::ladder::unknown_next(s));
            d
        }
    }
}

/// The label stops the drug for good on this event.
fn stop<'a>(s: &Situation<'a>, what: &str, event: Option<&ToxicityEvent>) -> Decision<'a> {
    let mut reason = sentence!(
        what,
        ": stop ",
        &s.drug.name,
        " for good, as its label says"
    );
    if let Some(e) = event {
        put!(&mut reason, " for ", &e.kind);
        if let Some(note) = &e.note {
            put!(&mut reason, " (", note, ")");
        }
    }
    reason.push_str("; consider an alternative treatment");
    Decision::new(Advice::ConsiderAlternative, reason)
}

/// Withhold until recovery, then resume at the same dose.
fn resume_same<'a>(s: &Situation<'a>, what: &str, event: Option<&ToxicityEvent>) -> Decision<'a> {
    let note = event
        .and_then(|e| e.note.as_deref())
        .or(s.drug.toxicity.at_lowest_note.as_deref());
    let mut reason = sentence!(
        what,
        ": withhold ",
        &s.drug.name,
        " until the toxicity has resolved"
    );
    if let Some(e) = event {
        put!(&mut reason, " (", &e.kind, ")");
    }
    put!(
        &mut reason,
        ", then resume at the same dose, ",
        current(s),
        ", as the label says"
    );
    if let Some(note) = note {
        put!(&mut reason, " (", note, ")");
    }
    let mut d = Decision::new(Advice::Continue, reason);
    d.next = current_level(s);
    d.conditions.push(sentence!(
        "resume at ",
        current(s),
        " only once the toxicity has resolved"
    ));
    d
}

/// What the result must say of the label's management.
fn label_warnings(s: &Situation, event: Option<&ToxicityEvent>) -> Vec<String> {
    let m = &s.drug.toxicity;
    let mut out = Vec::new();
    if !m.given {
        out.push(format!(
            "the label's management of toxicity for {} is not in the pack: the general rule (withhold until resolved, resume one level down) is applied; check the label",
            s.drug.name
        ));
    } else if let Some(why) = &m.unconfirmed {
        out.push(format!(
            "the label's management of toxicity for {}: {why}",
            s.drug.name
        ));
    }
    match (s.sample.toxicity_type.as_deref(), event) {
        (Some(kind), None) => out.push(format!(
            "toxicity_type `{kind}` is not an adverse event the pack manages apart for {}{}: the general management applies; check the label for this event",
            s.drug.name,
            known(s)
        )),
        (None, _) => out.push(format!(
            "the label's management of the adverse event decides: some events resume at the same dose (e.g. a first haematological event in CML), some stop {} for good (e.g. pneumonitis, or hepatotoxicity meeting Hy's law); give toxicity_type{}, or check the label for this event",
            s.drug.name,
            known(s)
        )),
        (Some(_), Some(_)) => {}
    }
    out
}

/// ` (the pack knows: pneumonitis, ...)`, or nothing.
fn known(s: &Situation) -> String {
    let kinds: Vec<&str> = s
        .drug
        .toxicity
        .events
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    if kinds.is_empty() {
        String::new()
    } else {
        format!(" (the pack knows: {})", kinds.join(", "))
    }
}

/// For toxicity at or above target: the exposure expected at the lower
/// dose, assuming it falls in proportion (seed 821–823: such patients
/// "might be successfully treated at the lower dose").
fn projection(s: &Situation, level: &DoseLevel) -> Option<String> {
    let at_or_above = matches!(
        s.classification,
        Some(Classification::Within | Classification::Above)
    );
    let daily = s.dose_mg? * 24.0 / s.interval_h;
    let lower = s.lower?;
    if !(usable(s) && at_or_above && daily > 0.0) {
        return None;
    }
    let projected = s.total * level.daily_mg() / daily;
    let what = if s.target.basis == Basis::PopulationMean {
        "the population mean"
    } else {
        "the target"
    };
    let (side, then) = if projected < lower {
        (
            "below ",
            ": check the level at steady state on the lower dose",
        )
    } else {
        ("still at or above ", "")
    };
    Some(sentence!(
        "at ",
        level,
        " the exposure is expected to be about ",
        Sig(projected),
        " ",
        s.unit,
        " (in proportion to the dose), ",
        side,
        what,
        " of ",
        Sig(lower),
        " ",
        s.unit,
        then
    ))
}

/// The level a reduction leads to, for the sentence of an upper bound.
pub(crate) fn reduction_hint(s: &Situation) -> Option<String> {
    lower_level(s).map(|level| sentence!("a reduction to ", level, " may be considered"))
}
