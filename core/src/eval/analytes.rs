//! The measured analytes: the parent and each metabolite given, converted to
//! the canonical unit, checked against the drug, and compared with what the
//! target counts.

use crate::input::sample::Sample;
use crate::input::units::Unit;
use crate::pack::model::{Drug, Target};

/// Per analyte of the drug: `(as given, canonical)` when measured.
pub(crate) type Measured = Vec<Option<(f64, f64)>>;

/// Converts the sample's analytes; the flag is true when the target is a
/// total but a counted metabolite was not measured.
pub(crate) fn measure(
    drug: &Drug,
    sample: &Sample,
    unit: &Unit,
    target: &Target,
    warnings: &mut Vec<String>,
) -> Result<(Measured, bool), String> {
    let mut measured: Vec<Option<(f64, f64)>> = vec![None; drug.analytes.len()];
    let to_canonical = |value: f64, index: usize| {
        unit.to_canonical(value, drug.analytes[index].molar_mass)
            .map_err(|e| format!("field `unit` for {}: {e}", drug.analytes[index].name))
    };
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
                return Err(format!(
                    "field `metabolites`: `{name}` is the parent drug; give it as `value`"
                ));
            }
            Some(i) => i,
            None => {
                let known: Vec<&str> = drug.analytes[1..].iter().map(|a| a.name.as_str()).collect();
                return Err(format!(
                    "field `metabolites`: `{name}` is not a metabolite of {} in this pack (known: {})",
                    drug.name,
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ));
            }
        };
        if measured[index].is_some() {
            return Err(format!("field `metabolites`: `{name}` is given twice"));
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

    Ok((measured, parent_only))
}

fn names(drug: &Drug, indices: &[usize]) -> String {
    indices
        .iter()
        .map(|&i| drug.analytes[i].name.as_str())
        .collect::<Vec<_>>()
        .join(" + ")
}
