//! Step 0 of the decision tree and the level before steady state: what is
//! verified or watched before any dose change (an undetectable level, an
//! improbable one, a high level that has not yet accumulated).

use super::decide::{Decision, Situation};
use crate::result::{Advice, Classification};

/// A trough level above an upper bound or a toxicity signal before steady
/// state: continue and monitor, with the level it may reach, and repeat at
/// steady state. It is not certain to rise (imatinib's bioavailability falls
/// over the first months), so nothing is reduced on it.
pub(crate) fn early_high<'a>(s: &Situation<'a>, why: &str) -> Option<Decision<'a>> {
    let above = s.early == Some(Classification::Above);
    if !(above || (s.early.is_some() && s.signal_exceeded)) {
        return None;
    }
    let what = if above {
        "the upper bound"
    } else {
        "a toxicity signal"
    };
    let mut reason = sentence!(
        why,
        "; the level is already above ",
        what,
        ": continue the current dose and monitor the patient"
    );
    let fraction = match (s.days_on_dose, s.drug.half_life_h) {
        (Some(days), Some(h)) => super::timing::steady_state_share(days, h),
        _ => 0.0,
    };
    if fraction > 0.0 && fraction < 1.0 {
        put!(
            &mut reason,
            "; at steady state it may reach about ",
            super::text::Sig(s.total / fraction),
            " ",
            s.unit,
            ", though it is not certain to rise"
        );
    }
    Some(Decision::new(Advice::Continue, reason))
}

/// Step 0 of the tree: an undetectable level means possible non-adherence,
/// a held or missed dose, the wrong patient or tube, a strong inducer or
/// malabsorption; it is repeated after asking, never met with an increase.
pub(crate) fn undetectable<'a>(s: &Situation<'a>) -> Decision<'a> {
    if let Some((reason, unconfirmed)) = &s.drug.near_assay_limits {
        let mut d = Decision::new(
            Advice::RepeatSample,
            sentence!(
                "the level of ",
                &s.drug.name,
                " is undetectable, but ",
                reason,
                ", so it does not point to non-adherence: check the assay's limit of quantification and the time of sampling, then repeat the sample at trough with an assay sensitive enough; no dose change on an undetectable level"
            ),
        );
        d.interventions = vec![
            "check the assay's limit of quantification".into(),
            "check the sample: patient, tube, time of sampling".into(),
        ];
        d.warnings.extend(unconfirmed.iter().cloned());
        return d;
    }
    let mut d = Decision::new(
        Advice::RepeatSample,
        sentence!(
            "the level of ",
            &s.drug.name,
            " is undetectable: first check adherence (missed or held doses), a strong CYP3A4 inducer, malabsorption, and that the sample is this patient's and drawn at the right time; then repeat the sample at trough; no dose change on an undetectable level"
        ),
    );
    d.interventions = vec![
        "check adherence (missed or held doses)".into(),
        "check for a strong CYP3A4 inducer".into(),
        "check the sample: patient, tube, time of sampling".into(),
    ];
    d
}

/// Step 0: a level outside the 0.5–99.5th percentile expected for the dose
/// is verified before any change; a high one never reassures.
pub(crate) fn improbable<'a>(s: &Situation<'a>, high: bool) -> Decision<'a> {
    use crate::input::Comedication;
    let takes = |c| s.sample.comedication.contains(&c);
    let (side, causes, named) = if high {
        (
            "improbably high",
            "a strong CYP3A4 inhibitor, hepatic impairment, a sample drawn soon after the dose, or the wrong unit or patient",
            takes(Comedication::StrongCyp3a4Inhibitor)
                .then_some("; the strong CYP3A4 inhibitor the patient takes may explain it"),
        )
    } else {
        (
            "improbably low",
            "adherence (missed or held doses), a strong CYP3A4 inducer, malabsorption, or the wrong unit, tube or patient",
            takes(Comedication::StrongCyp3a4Inducer)
                .then_some("; the strong CYP3A4 inducer the patient takes may explain it"),
        )
    };
    let mut d = Decision::new(
        Advice::RepeatSample,
        sentence!(
            "the level is ",
            side,
            " for this dose (outside the 0.5–99.5th percentile of patients on it): verify it before any change: check ",
            causes,
            named.unwrap_or_default(),
            "; then repeat the sample at trough; no dose change on this value"
        ),
    );
    d.interventions = if high {
        vec![
            "check for a strong CYP3A4 inhibitor".into(),
            "check liver function (hepatic impairment)".into(),
            "check the sample: patient, tube, time of sampling, unit".into(),
        ]
    } else {
        vec![
            "check adherence (missed or held doses)".into(),
            "check for a strong CYP3A4 inducer".into(),
            "check the sample: patient, tube, time of sampling, unit".into(),
        ]
    };
    d
}
