//! The cards of a CDS Hooks answer: one per drug, for the drug's latest
//! level of the patient in context. Its summary says the level, the
//! classification and the advice with the next dose; its detail is the
//! advice as `tdm report` writes it (rationale, conditions, evidence,
//! warnings) with the sample and the pack's name, version and digest; its
//! indicator is `critical` for toxicity the advice acts on, a toxicity
//! signal passed or an alternative treatment to consider, `warning` for a
//! dose change, a repeat sample or a level that could not be judged, and
//! `info` otherwise; a dose change comes with a suggestion that creates the
//! proposed MedicationRequest (`intent: proposal`) for the prescriber.
//! Levels of another patient in the prefetch are never shown as this
//! patient's: a warning card says they were left out.

use serde_json::{Value, json};
use tdm_core::result::{Advice, Assessment, Classification, fmt_num, round_sig};
use tdm_core::{EvalResult, Pack};

use super::serve_cds::Call;
use crate::commands::report::markdown;
use crate::output_fhir::{fhir_reference, proposal};

/// CDS Hooks' limit on a summary: "<140 characters".
const SUMMARY_MAX: usize = 139;

/// One evaluated drug level.
pub(crate) struct Judged {
    pub result: EvalResult,
    /// The toxicity grade the advice acted on first (the result does not
    /// echo the sample's grade).
    pub toxicity: Option<u8>,
}

pub(crate) fn cards(call: &Call, judged: &[Judged], pack: &Pack) -> Vec<Value> {
    let ours = |j: &&Judged| {
        j.result
            .patient
            .as_deref()
            .is_none_or(|p| p == call.patient)
    };
    let others = judged.iter().filter(|j| !ours(j)).count();
    let mut latest: Vec<&Judged> = Vec::new();
    for j in judged.iter().filter(ours) {
        match latest.iter_mut().find(|l| l.result.drug == j.result.drug) {
            Some(l) if later(&l.result, &j.result) => {}
            Some(l) => *l = j,
            None => latest.push(j),
        }
    }
    let mut out = Vec::new();
    match &call.ordered {
        None => out.extend(latest.iter().map(|j| card(call, j))),
        Some(drugs) => {
            for drug in drugs {
                match latest
                    .iter()
                    .find(|j| j.result.drug.as_deref() == Some(drug))
                {
                    Some(j) => out.push(card(call, j)),
                    None => out.push(no_level(call, drug, pack)),
                }
            }
        }
    }
    if others > 0 {
        out.push(other_patients(call, others, pack));
    }
    out
}

/// `a` was drawn after `b`: by their times when both read as instants,
/// else by their order (a later entry is the later level).
fn later(a: &EvalResult, b: &EvalResult) -> bool {
    let at = |r: &EvalResult| r.sampled_at.as_deref()?.parse::<jiff::Timestamp>().ok();
    match (at(a), at(b)) {
        (Some(a), Some(b)) => a > b,
        _ => false,
    }
}

fn card(call: &Call, j: &Judged) -> Value {
    let r = &j.result;
    let drug = r.drug.as_deref().unwrap_or("drug");
    let Some(a) = &r.assessment else {
        let code = r.error_code.map_or("error", |c| c.as_str());
        return json!({
            "uuid": uuid(call, r, "card"),
            "summary": summary(&format!("{drug}: the latest level could not be judged ({code})")),
            "detail": detail(r),
            "indicator": "warning",
            "source": source(r),
        });
    };
    let mut card = json!({
        "uuid": uuid(call, r, "card"),
        "summary": summary(&headline(drug, a, j.toxicity)),
        "detail": detail(r),
        "indicator": indicator(a, j.toxicity),
        "source": source(r),
    });
    let changes = matches!(a.advice, Advice::IncreaseDose | Advice::ReduceDose);
    let reason =
        r.id.as_deref()
            .and_then(|id| fhir_reference(id, "Observation"));
    if changes && let Some(resource) = proposal(r, a, reason) {
        let dose = next_dose(a).unwrap_or_default();
        card["suggestions"] = json!([{
            "label": format!("Propose {drug} {dose}"),
            "uuid": uuid(call, r, "suggestion"),
            "isRecommended": true,
            "actions": [{
                "type": "create",
                "description": format!(
                    "A proposed MedicationRequest (intent proposal, status draft) for {drug} {dose}, for the prescriber to review"
                ),
                "resource": resource,
            }],
        }]);
        card["selectionBehavior"] = json!("at-most-one");
    }
    card
}

/// `imatinib Cmin 600 ng/mL, below target: increase the dose to 600 mg every 24 h`.
fn headline(drug: &str, a: &Assessment, toxicity: Option<u8>) -> String {
    let class = match a.classification {
        Some(Classification::Below) => "below target",
        Some(Classification::Within) => "within target",
        Some(Classification::Above) => "above target",
        _ => "not interpretable",
    };
    let advice = match a.advice {
        Advice::IncreaseDose => "increase the dose",
        Advice::Continue => "continue the dose",
        Advice::ReduceDose => "reduce the dose",
        Advice::ConsiderAlternative => "consider an alternative treatment",
        Advice::RepeatSample => "repeat the sample",
        Advice::InterpretOnly => "reference value only, do not act on it",
        _ => a.advice.as_str(),
    };
    let dose = match a.advice {
        Advice::IncreaseDose | Advice::ReduceDose => next_dose(a).map(|d| format!(" to {d}")),
        _ => None,
    };
    let toxicity = toxicity
        .map(|g| format!("grade {g} toxicity; "))
        .unwrap_or_default();
    format!(
        "{drug} {} {} {}, {class}: {toxicity}{advice}{}",
        a.exposure.measure.label(),
        fmt_num(round_sig(a.exposure.value, 3)),
        a.exposure.unit,
        dose.unwrap_or_default()
    )
}

fn next_dose(a: &Assessment) -> Option<String> {
    let (mg, h) = (a.next_dose_mg?, a.next_interval_h?);
    Some(format!("{} mg every {} h", fmt_num(mg), fmt_num(h)))
}

fn indicator(a: &Assessment, toxicity: Option<u8>) -> &'static str {
    if toxicity.is_some() || a.toxicity_signal_exceeded || a.advice == Advice::ConsiderAlternative {
        "critical"
    } else if matches!(
        a.advice,
        Advice::IncreaseDose | Advice::ReduceDose | Advice::RepeatSample
    ) {
        "warning"
    } else {
        "info"
    }
}

/// The summary cut to CDS Hooks' limit, on a character boundary.
fn summary(text: &str) -> String {
    if text.chars().count() <= SUMMARY_MAX {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(SUMMARY_MAX - 1).collect();
    cut.push('…');
    cut
}

/// The advice in Markdown, then the sample and the pack it was judged by.
fn detail(r: &EvalResult) -> String {
    let mut out = markdown::advice(r);
    out.push_str(&format!(
        "\nSample {}{}.\n\nPack {} {} ({}), {}.",
        r.id.as_deref().unwrap_or("without id"),
        r.sampled_at
            .as_deref()
            .map(|t| format!(", drawn {t}"))
            .unwrap_or_default(),
        r.pack.name,
        r.pack.version,
        r.pack.digest,
        r.engine
    ));
    if let Some(id) = &r.decision_id {
        out.push_str(&format!(" Decision {id} in the audit log."));
    }
    out
}

fn source(r: &EvalResult) -> Value {
    json!({"label": format!("tdm rule pack {} {}", r.pack.name, r.pack.version)})
}

fn pack_source(pack: &Pack) -> Value {
    json!({"label": format!("tdm rule pack {} {}", pack.id().name, pack.id().version)})
}

/// A selected order's drug without a level in the prefetch.
fn no_level(call: &Call, drug: &str, pack: &Pack) -> Value {
    let name = format!(
        "{}/{}/no-level/{drug}",
        call.hook_instance,
        pack.id().digest
    );
    json!({
        "uuid": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string(),
        "summary": summary(&format!("{drug}: no drug level of this patient on record")),
        "detail": format!(
            "No {drug} level of this patient was among the prefetched Observations, so there is no TDM advice for this order. \
             Pack {} {} ({}).",
            pack.id().name, pack.id().version, pack.id().digest
        ),
        "indicator": "info",
        "source": pack_source(pack),
    })
}

/// The prefetch held levels of other patients: not this patient's advice.
fn other_patients(call: &Call, n: usize, pack: &Pack) -> Value {
    let name = format!("{}/{}/other-patients", call.hook_instance, pack.id().digest);
    json!({
        "uuid": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string(),
        "summary": summary(&format!(
            "{n} drug level{} in the prefetch belong{} to another patient and {} left out",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            if n == 1 { "was" } else { "were" }
        )),
        "detail": format!(
            "The EHR sent drug-level Observations whose subject is not {}. They were not used for this patient's advice; \
             check the prefetch configuration of the EHR.",
            call.patient
        ),
        "indicator": "warning",
        "source": pack_source(pack),
    })
}

/// A name-based UUID of the call, the pack and the sample: the same call
/// answered by the same pack gives the same ids.
fn uuid(call: &Call, r: &EvalResult, kind: &str) -> String {
    let name = format!(
        "{}/{}/{}/{}/{kind}",
        call.hook_instance,
        r.pack.digest,
        r.id.as_deref().unwrap_or(""),
        r.drug.as_deref().unwrap_or("")
    );
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}
