//! The measured analytes: the parent and each metabolite given, converted to
//! the canonical unit, checked against the drug, and compared with what the
//! target counts.

use super::EvalError;
use crate::input::sample::Sample;
use crate::input::units::Unit;
use crate::pack::model::{Drug, Target};
use crate::result::ErrorCode;

/// Per analyte of the drug: `(as given, canonical)` when measured.
pub(crate) type Values = [Option<(f64, f64)>];

/// The analytes of a sample, converted, and what the target counts of them.
pub(crate) struct Measured {
    /// Per analyte of the drug, parent first.
    pub values: Vec<Option<(f64, f64)>>,
    /// The analytes the target sums that were measured.
    pub counted: Vec<usize>,
    /// The target is a total but a counted metabolite was not measured.
    pub parent_only: bool,
}

/// Converts the sample's analytes and checks them against the drug.
pub(crate) fn measure(
    drug: &Drug,
    sample: &Sample,
    unit: &Unit,
    target: &Target,
    warnings: &mut Vec<String>,
) -> Result<Measured, EvalError> {
    let mut measured: Vec<Option<(f64, f64)>> = vec![None; drug.analytes.len()];
    let to_canonical = |value: f64, index: usize| {
        unit.to_canonical(value, drug.analytes[index].molar_mass)
            .map_err(|e| {
                let name = &drug.analytes[index].name;
                EvalError::new(ErrorCode::Unit, format!("field `unit` for {name}: {e}"))
            })
    };
    let metabolite = |message: String| EvalError::new(ErrorCode::Metabolite, message);
    if unit.molar {
        for (i, a) in drug.analytes.iter().enumerate() {
            let used = i == 0
                || sample
                    .metabolites
                    .iter()
                    .any(|(n, _)| drug.analyte(n) == Some(i));
            if let (true, Some(why)) = (used, &a.unconfirmed) {
                warnings.push(format!(
                    "{} converted with a molar mass that is not confirmed: {why}",
                    a.name
                ));
            }
        }
    }
    measured[0] = Some((sample.value, to_canonical(sample.value, 0)?));
    for (name, value) in &sample.metabolites {
        let index = match drug.analyte(name) {
            Some(0) => {
                return Err(metabolite(format!(
                    "field `metabolites`: `{name}` is the parent drug; give it as `value`"
                )));
            }
            Some(i) => i,
            None => {
                let known: Vec<&str> = drug.analytes[1..].iter().map(|a| a.name.as_str()).collect();
                return Err(metabolite(format!(
                    "field `metabolites`: `{name}` is not a metabolite of {} in this pack (known: {})",
                    drug.name,
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        };
        if measured[index].is_some() {
            return Err(metabolite(format!(
                "field `metabolites`: `{name}` is given twice"
            )));
        }
        measured[index] = Some((*value, to_canonical(*value, index)?));
    }
    let missing: Vec<&str> = target
        .sum_of
        .iter()
        .filter(|&&i| measured[i].is_none())
        .map(|&i| drug.analytes[i].name.as_str())
        .collect();
    let parent_only = !missing.is_empty();
    if parent_only {
        warnings.push(format!(
            "the target is the total of {}, but {} was not measured: judged on the parent alone, which understates the total",
            names(drug, &target.sum_of),
            missing.join(", ")
        ));
    }
    for (i, m) in measured.iter().enumerate().skip(1) {
        if m.is_some() && !target.sum_of.contains(&i) {
            warnings.push(format!(
                "{} was reported but the target counts {} only: it is not added",
                drug.analytes[i].name,
                names(drug, &target.sum_of)
            ));
        }
    }
    let counted = target
        .sum_of
        .iter()
        .copied()
        .filter(|&i| measured[i].is_some())
        .collect();
    Ok(Measured {
        values: measured,
        counted,
        parent_only,
    })
}

fn names(drug: &Drug, indices: &[usize]) -> String {
    indices
        .iter()
        .map(|&i| drug.analytes[i].name.as_str())
        .collect::<Vec<_>>()
        .join(" + ")
}
