//! The dose ladder: where the sample's dose stands among the drug's levels,
//! the level one step up or down, and the warnings a level carries (beyond
//! the label, unconfirmed, a dose between levels).

use super::decide::Situation;
use crate::pack::model::{DoseLevel, Drug, Frequency};
use crate::result::num::Num;

/// Index of the current dose among the levels, or where it would sit.
pub(crate) enum Position {
    At(usize),
    /// Not a level: between `below` (if any) and `above` (if any).
    Between {
        below: Option<usize>,
        above: Option<usize>,
    },
    Unknown,
}

pub(crate) fn position(s: &Situation) -> Position {
    let levels = &s.drug.dosing.levels;
    if levels.is_empty() {
        return Position::Unknown;
    }
    let Some(mg) = s.dose_mg else {
        // A drug with one level is at it, whatever its dose.
        return if levels.len() == 1 {
            Position::At(0)
        } else {
            Position::Unknown
        };
    };
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
pub(crate) struct Current<'a, 'b>(&'a Situation<'b>);

pub(crate) fn current<'a, 'b>(s: &'a Situation<'b>) -> Current<'a, 'b> {
    Current(s)
}

/// The level below the current dose: `None` when the dose is not known,
/// `Some(None)` at the lowest level.
pub(crate) fn one_level_down<'a>(s: &Situation<'a>) -> Option<Option<&'a DoseLevel>> {
    match position(s) {
        Position::At(i) => Some(i.checked_sub(1).map(|j| &s.drug.dosing.levels[j])),
        Position::Between { below, .. } => Some(below.map(|i| &s.drug.dosing.levels[i])),
        Position::Unknown => None,
    }
}

/// Why the next dose is not computed.
pub(crate) fn unknown_next(s: &Situation) -> String {
    if s.drug.dosing.levels.is_empty() {
        let name = s.drug.product.as_ref().map_or(&s.drug.name, |p| &p.name);
        format!(
            "the pack has no dose levels for {name}{}: the next dose is not computed; set it as the label says",
            s.drug
                .dosing
                .unconfirmed
                .as_ref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        )
    } else {
        "dose_mg not given: the next dose cannot be computed".into()
    }
}

/// The level of the current dose, when it is one.
pub(crate) fn current_level<'a>(s: &Situation<'a>) -> Option<&'a DoseLevel> {
    match position(s) {
        Position::At(i) => s.drug.dosing.levels.get(i),
        _ => None,
    }
}

/// The level a reduction would lead to, when there is one.
pub(crate) fn lower_level<'a>(s: &Situation<'a>) -> Option<&'a DoseLevel> {
    one_level_down(s).flatten()
}

impl super::sentence::Piece for Current<'_, '_> {
    fn put(self, out: &mut String) {
        match self.0.dose_mg {
            Some(mg) => put!(out, Num(mg), " mg ", Frequency(self.0.interval_h)),
            None => out.push_str("the current dose"),
        }
    }
}

pub(crate) fn not_a_level_warning(s: &Situation) -> String {
    sentence!(
        "the current dose (",
        Current(s),
        ") is not one of the pack's dose levels for ",
        &s.drug.name,
        ": the next level was taken by daily dose"
    )
}

/// The sentence that warns of a dose between levels.
pub(crate) fn not_a_level(s: &Situation) -> Option<String> {
    matches!(position(s), Position::Between { .. }).then(|| not_a_level_warning(s))
}

pub(crate) fn level_warnings(drug: &Drug, level: &DoseLevel, warnings: &mut Vec<String>) {
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
