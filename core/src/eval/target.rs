//! Choosing the target that applies to a sample (design.md, "Which number
//! is the target"): the tables' row unless the sample's indication or
//! regimen selects another, never an alternative without saying so.

use std::borrow::Cow;

use super::{Context, EvalError, Notes, hooks};
use crate::input::sample::Sample;
use crate::pack::model::{Drug, Measure, Target};
use crate::result::{ErrorCode, Hook};

/// The target stage: the rule's choice, then the drug's `target` hook,
/// which may replace its bounds.
pub(crate) fn stage<'a>(
    cx: &Context<'a>,
    measure: Measure,
    notes: &mut Notes,
) -> Result<Cow<'a, Target>, EvalError> {
    if let Some(indication) = &cx.sample.indication
        && let Some(none) = cx.drug.no_target.iter().find(|n| {
            n.indications
                .iter()
                .any(|i| i.eq_ignore_ascii_case(indication))
        })
    {
        return Err(EvalError::no_target(format!(
            "field `indication`: {} has no target for {indication}: {}",
            cx.drug.name, none.reason
        )));
    }
    let choice = choose(cx.drug, cx.sample, measure).map_err(EvalError::no_target)?;
    notes.warnings.extend(choice.warnings);
    same_quantity(cx, choice.target, notes)?;
    match hooks::target(cx.pack, cx.drug, cx.sample, choice.target).map_err(EvalError::hook)? {
        Some(scripted) => {
            notes.used(Hook::Target, Vec::new());
            Ok(Cow::Owned(scripted))
        }
        None => Ok(Cow::Borrowed(choice.target)),
    }
}

/// A level is judged only against a target of the same quantity: the same
/// matrix (a plasma level against a whole-blood target is refused) and, for
/// an AUC, the same interval (AUC0-12 and AUC0-24 differ by a factor of 2).
fn same_quantity(cx: &Context<'_>, target: &Target, notes: &mut Notes) -> Result<(), EvalError> {
    use crate::input::Matrix;
    let refused = |message: String| Err(EvalError::new(ErrorCode::Matrix, message));
    match (cx.sample.matrix, target.matrix) {
        (Some(given), wanted) if !given.same_kind(wanted) => {
            return refused(format!(
                "field `matrix`: the {} target of {} is a {} level; a {} level is another quantity and is not judged against it",
                target.id,
                cx.drug.name,
                wanted.words(),
                given.words()
            ));
        }
        (None, Matrix::WholeBlood) => notes.warnings.push(format!(
            "matrix not given: the level is taken to be measured in whole blood, as the target of {} is; a plasma or serum level cannot be judged against it",
            cx.drug.name
        )),
        _ => {}
    }
    if let Some(why) = &target.auc_interval_unknown {
        return refused(format!(
            "the AUC target of {} is not judged: {why}; send a trough level (measure `concentration`) instead",
            cx.drug.name
        ));
    }
    if let Some(wanted) = target.auc_interval_h {
        let name = |h: f64| format!("AUC0-{}", crate::result::num::Num(h));
        match cx.sample.auc_interval_h {
            None => {
                return refused(format!(
                    "field `auc_interval_h` is required: the target of {} is an {}, and an AUC over another interval differs by the ratio of the intervals",
                    cx.drug.name,
                    name(wanted)
                ));
            }
            Some(given) if given != wanted => {
                return refused(format!(
                    "field `auc_interval_h`: the target of {} is an {}, the sample is an {}; send the AUC over the target's interval",
                    cx.drug.name,
                    name(wanted),
                    name(given)
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The chosen target and the warnings its choice needs.
pub(crate) struct Choice<'a> {
    pub target: &'a Target,
    pub warnings: Vec<String>,
}

fn matches(list: &[String], given: Option<&str>) -> bool {
    match given {
        None => true,
        Some(g) => list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(g)),
    }
}

fn specific(list: &[String], given: Option<&str>) -> bool {
    given.is_some_and(|g| list.iter().any(|x| x.eq_ignore_ascii_case(g)))
}

/// Picks the target for `sample` among the drug's targets of `measure`.
pub(crate) fn choose<'a>(
    drug: &'a Drug,
    sample: &Sample,
    measure: Measure,
) -> Result<Choice<'a>, String> {
    let indication = sample.indication.as_deref();
    let regimen = sample.regimen.as_deref();
    // The candidates narrow step by step; the lists are only gathered for
    // an error message.
    let of_measure = || drug.targets.iter().filter(|t| t.measure == measure);
    if of_measure().next().is_none() {
        let mut others: Vec<&str> = drug.targets.iter().map(|t| t.measure.label()).collect();
        others.dedup();
        return Err(format!(
            "field `measure`: {} has no {} target (its targets use {}); send the measure the pack has",
            drug.name,
            measure.label(),
            others.join(", ")
        ));
    }
    let by_indication = || of_measure().filter(|t| matches(&t.indications, indication));
    if by_indication().next().is_none() {
        return Err(format!(
            "field `indication`: {} has no {} target for `{}`; known: {}",
            drug.name,
            measure.label(),
            indication.unwrap_or_default(),
            known(&of_measure().collect::<Vec<_>>(), |t| &t.indications)
        ));
    }
    let pool: Vec<&Target> = by_indication()
        .filter(|t| matches(&t.regimens, regimen))
        .collect();
    if pool.is_empty() {
        return Err(format!(
            "field `regimen`: {} has no {} target for regimen `{}`; known: {}",
            drug.name,
            measure.label(),
            regimen.unwrap_or_default(),
            known(&by_indication().collect::<Vec<_>>(), |t| &t.regimens)
        ));
    }
    // Preference: what the sample names explicitly, the tables before the
    // text; an alternative the sample does not name comes last.
    let rank_of = |t: &Target| {
        let named = specific(&t.indications, indication) || specific(&t.regimens, regimen);
        match (named, t.primary) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        }
    };
    let Some(rank) = pool.iter().map(|t| rank_of(t)).min() else {
        return Err(format!("{} has no applicable target", drug.name));
    };
    let group: Vec<&Target> = pool.into_iter().filter(|t| rank_of(t) == rank).collect();
    let mut warnings = Vec::new();
    let target = if group.len() == 1 {
        group[0]
    } else if let Some(default) = group.iter().find(|t| t.default) {
        warnings.push(format!(
            "several targets apply ({}); used the default `{}`: give `indication` or `regimen` to choose",
            group.iter().map(|t| describe(t)).collect::<Vec<_>>().join("; "),
            default.id
        ));
        default
    } else {
        return Err(choices_error(
            drug,
            &group,
            indication.is_none(),
            regimen.is_none(),
        ));
    };
    match rank {
        1 => warnings.push(format!(
            "judged against `{}`, a value from the review's text specific to this {} rather than the tables' row{}",
            target.id,
            if specific(&target.indications, indication) { "indication" } else { "regimen" },
            primary_hint(drug, measure)
        )),
        3 => warnings.push(format!(
            "judged against the alternative target `{}` ({}): the tables' primary target uses another measure{}",
            target.id,
            describe(target),
            primary_hint(drug, measure)
        )),
        _ => {}
    }
    Ok(Choice { target, warnings })
}

fn primary_hint(drug: &Drug, measure: Measure) -> String {
    drug.targets
        .iter()
        .find(|t| t.primary && (t.measure != measure || t.indications.is_empty()))
        .map(|t| format!(" (tables: {})", describe(t)))
        .unwrap_or_default()
}

fn choices_error(drug: &Drug, group: &[&Target], no_indication: bool, no_regimen: bool) -> String {
    let field = if group.iter().any(|t| !t.regimens.is_empty()) && no_regimen {
        "regimen"
    } else if no_indication {
        "indication"
    } else {
        "regimen"
    };
    format!(
        "field `{field}`: {} has several targets and none is the default; give `{field}` to choose: {}",
        drug.name,
        group
            .iter()
            .map(|t| describe(t))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

fn known(targets: &[&Target], list: impl Fn(&Target) -> &Vec<String>) -> String {
    let mut names: Vec<&str> = targets
        .iter()
        .flat_map(|t| list(t).iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// `CML: Cmin >= 1000 ng/mL`.
pub(crate) fn describe(t: &Target) -> String {
    let scope = t.scope().map(|s| format!("{s}: ")).unwrap_or_default();
    format!(
        "{scope}{} {}",
        t.measure.label(),
        super::text::bounds(t, None)
    )
}
