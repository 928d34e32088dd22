//! Sentences for people: bounds and the one-sentence rationale.

use std::fmt;

use crate::pack::model::{Basis, Lower, Target};
use crate::result::num::{Num, round_sig};
use crate::result::{Assessment, Classification, Hook};

use super::sentence::Piece;

/// `>= 1000 ng/mL`, `50–100 ng/mL`, `<= 100 ng/mL`; `dose_mg` resolves a
/// dose-normalised lower bound.
pub(crate) fn bounds(t: &Target, dose_mg: Option<f64>) -> String {
    let mut out = String::with_capacity(32);
    write_bounds(&mut out, t, dose_mg);
    out
}

fn write_bounds(out: &mut String, t: &Target, dose_mg: Option<f64>) {
    let unit = t.measure.quantity().canonical();
    let lower = |out: &mut String| match (t.lower, dose_mg) {
        (Some(Lower::Fixed(v)), _) => put!(out, Sig(v)),
        (Some(Lower::PerMgDose(k)), Some(d)) => put!(out, Sig(k * d)),
        (Some(Lower::PerMgDose(k)), None) => put!(out, Num(k), " per mg of dose"),
        (None, _) => {}
    };
    match (t.lower, t.upper) {
        (Some(_), Some(u)) => {
            lower(out);
            put!(out, "–", Sig(u), " ", unit);
        }
        (Some(_), None) => {
            out.push_str(">= ");
            lower(out);
            put!(out, " ", unit);
        }
        (None, Some(u)) => put!(out, "<= ", Sig(u), " ", unit),
        (None, None) => {}
    }
}

/// Three significant digits, as a laboratory reports a level.
#[derive(Clone, Copy)]
pub(crate) struct Sig(pub f64);

impl Piece for Sig {
    fn put(self, out: &mut String) {
        Num(round_sig(self.0, 3)).push_to(out);
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Num(round_sig(self.0, 3)).fmt(f)
    }
}

/// The rationale: what was measured, against what, and what to do.
///
/// Written into one buffer: it is the longest text of every result.
pub(crate) fn rationale(
    a: &Assessment,
    target: &Target,
    dose_mg: Option<f64>,
    reason: &str,
) -> String {
    let e = &a.exposure;
    let mut out = String::with_capacity(320);
    put!(
        &mut out,
        target.measure.label(),
        " ",
        Sig(e.value),
        " ",
        &e.unit
    );
    if e.analytes.len() > 1 {
        for (i, x) in e.analytes.iter().enumerate() {
            out.push_str(if i == 0 { " (" } else { " + " });
            out.push_str(&x.name);
        }
        out.push(')');
    }
    if e.parent_only {
        out.push_str(" (parent only)");
    }
    if let Some(c) = &e.corrected_from {
        let how = if c.half_life_h.is_some() || c.model_ratio.is_some() {
            " (extrapolated from "
        } else {
            " (trough predicted from "
        };
        put!(
            &mut out,
            how,
            Sig(c.value),
            " ",
            &e.unit,
            " at ",
            Num(c.hours_since_dose),
            " h"
        );
        match (c.half_life_h, c.model_ratio) {
            (_, Some(ratio)) => put!(
                &mut out,
                " along the patient's model curve, x ",
                Num(ratio),
                ")"
            ),
            (Some(h), None) => put!(&mut out, ", t½ ", Num(h), " h)"),
            (None, None) => out.push(')'),
        }
    }
    by_script(&mut out, a, Hook::Exposure);
    out.push_str(match a.classification {
        Some(Classification::Below) => " is below the ",
        Some(Classification::Within) if target.basis == Basis::PopulationMean => {
            " is at or above the "
        }
        Some(Classification::Within) => " is within the ",
        Some(Classification::Above) => " is above the ",
        None => " cannot be judged against the ",
    });
    // Name the scope only when the target itself is specific to it.
    let scope = [
        (&target.indications, a.indication.as_deref()),
        (&target.regimens, a.regimen.as_deref()),
    ]
    .into_iter()
    .find(|(list, _)| !list.is_empty());
    if let Some((list, given)) = scope {
        match given.and_then(|g| list.iter().find(|x| x.eq_ignore_ascii_case(g))) {
            Some(name) => out.push_str(name),
            None => out.push_str(&list.join("/")),
        }
        out.push(' ');
    }
    let bounds_at = match target.basis {
        Basis::Threshold => {
            out.push_str("target of ");
            out.len()
        }
        Basis::PopulationMean => {
            out.push_str("population mean of ");
            out.len()
        }
    };
    write_bounds(&mut out, target, dose_mg);
    if target.basis == Basis::PopulationMean && out[bounds_at..].starts_with(">= ") {
        out.replace_range(bounds_at..bounds_at + 3, "");
    }
    by_script(&mut out, a, Hook::Target);
    put!(&mut out, " (", target.evidence.as_str());
    for (i, r) in target.references.iter().enumerate() {
        out.push_str(if i == 0 { "; ref " } else { ", " });
        out.push_str(r);
    }
    put!(&mut out, "): ", reason, ".");
    out
}

/// ` (set by a rule of the pack)` when the drug's script or plugin
/// changed this part of the result; which file is in the result's `script`.
fn by_script(out: &mut String, a: &Assessment, hook: Hook) {
    if a.script.as_ref().is_some_and(|s| s.hooks.contains(&hook)) {
        out.push_str(" (set by a rule of the pack)");
    }
}
