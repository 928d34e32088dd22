//! Evaluation: a pure function of (pack, sample) -> result, no I/O.
//!
//! `assess` runs the stages of design.md's data flow in order, each in its
//! own module with a typed output: find the drug and read the unit (here),
//! choose the target (`target.rs`), convert and combine the analytes
//! (`analytes.rs`), check timing (`timing.rs`), correct to trough
//! (`exposure.rs`), classify (`classify.rs`), decide and step the dose
//! (`advise.rs`, `decide.rs`), and write the result (`assemble.rs`,
//! `text.rs`). No stage re-checks what an earlier one established.

#[macro_use]
mod sentence;
mod advise;
mod analytes;
mod assemble;
mod classify;
mod decide;
mod error;
mod exposure;
mod finite;
mod history;
mod hooks;
mod ladder;
mod model_dose;
mod model_fit;
mod model_history;
mod plausibility;
mod product;
mod target;
mod text;
mod timing;
mod toxicity;
mod verify;

pub use error::EvalError;
pub use history::{Earlier, Histories};
pub use timing::log_linear_factor;

pub(crate) use target::describe as describe_target;

use crate::input::Record;
use crate::input::sample::{FIELDS, Sample};
use crate::input::units::{Quantity, Unit};
use crate::pack::model::{Drug, HookProvider, Pack};
use crate::result::{ErrorCode, EvalResult, Hook, Measure, Provider, ScriptUsed};

/// Evaluates one batch record: a sample, or the error that replaced it.
pub fn evaluate_record(pack: &Pack, record: Record) -> EvalResult {
    evaluate_record_with(pack, record, &Earlier::default())
}

/// Evaluates one batch record with the patient's earlier samples.
pub fn evaluate_record_with(pack: &Pack, record: Record, earlier: &Earlier) -> EvalResult {
    let mut result = match record.sample {
        Ok(sample) => evaluate_with(pack, &sample, earlier),
        Err(e) => {
            let mut r = EvalResult::error(pack.id(), e.id, e.drug, e.code, e.message);
            r.patient = e.patient;
            r
        }
    };
    if record.line > 0 {
        result.line = Some(record.line);
    }
    result
}

/// Evaluates a sample given as a JSON value (an object of contract fields).
/// Parse JSON text with [`crate::input::parse_json`] so that duplicate keys
/// are refused.
pub fn evaluate_value(pack: &Pack, value: &serde_json::Value) -> EvalResult {
    evaluate_record(pack, crate::input::record_from_value(1, 0, value.clone()))
}

/// Evaluates one sample against `pack`. Never panics; a sample that cannot
/// be evaluated gives an error result that names the field and the problem.
///
/// ```
/// let pack = tdm_core::load_pack("../rules/ki-oncology")?;
/// let sample = serde_json::json!({
///     "drug": "imatinib", "indication": "CML", "value": 850, "unit": "ng/mL",
///     "dose_mg": 400, "hours_since_dose": 24, "days_on_dose": 30, "toxicity_grade": 0,
/// });
/// let result = tdm_core::eval::evaluate_value(&pack, &sample);
/// let a = result.assessment.as_ref().expect("an ok result");
/// assert_eq!(a.advice, tdm_core::result::Advice::IncreaseDose);
/// assert_eq!(a.next_dose_mg, Some(600.0));
/// # Ok::<(), tdm_core::PackError>(())
/// ```
pub fn evaluate(pack: &Pack, sample: &Sample) -> EvalResult {
    evaluate_with(pack, sample, &Earlier::default())
}

/// Evaluates `sample` with the patient's earlier samples (see
/// [`Histories`]): a drug's population model is then fitted to their
/// levels as well.
pub fn evaluate_with(pack: &Pack, sample: &Sample, earlier: &Earlier) -> EvalResult {
    let assessed = assess(pack, sample, earlier).and_then(|r| match &r.assessment {
        Some(a) if !finite::all_finite(a) => Err(EvalError::new(
            ErrorCode::InvalidField,
            "a number computed from this sample is not finite (check `value`, `dose_mg` and the times): no advice is given",
        )),
        _ => Ok(r),
    });
    let mut result = match assessed {
        Ok(r) => r,
        Err(e) => {
            let drug = pack
                .drug(&sample.drug)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| sample.drug.clone());
            EvalResult::error(pack.id(), sample.id.clone(), Some(drug), e.code, e.message)
        }
    };
    result.patient = sample.patient.clone();
    result.sampled_at = sample.sampled_at.clone();
    if !sample.extra.is_empty() {
        let inputs = pack
            .drug(&sample.drug)
            .map_or(&[][..], |d| d.inputs.as_slice());
        let unknown = unknown_field_warnings(sample, inputs);
        result.warnings.splice(0..0, unknown);
    }
    result
}

/// The stages up to the plausibility check: what a sample's own
/// evaluation reads, and what a later sample's model fit reads of it.
pub(crate) struct Staged<'a> {
    pub cx: Context<'a>,
    pub unit: Reading,
    pub notes: Notes,
    pub target: std::borrow::Cow<'a, crate::pack::model::Target>,
    pub measured: analytes::Measured,
    pub timing: timing::Timing,
    pub exposure: exposure::Combined,
    pub plausible: plausibility::Plausibility,
}

pub(crate) fn staged<'a>(pack: &'a Pack, sample: &'a Sample) -> Result<Staged<'a>, EvalError> {
    let base = find_drug(pack, sample)?;
    refuse(sample)?;
    let mut chosen = Vec::new();
    let drug = product::select(base, sample, &mut chosen)?;
    let cx = Context { pack, drug, sample };
    let unit = read_unit(sample)?;
    let mut notes = Notes::for_drug(drug);
    notes.warnings.append(&mut chosen);
    let target = target::stage(&cx, unit.measure, &mut notes)?;
    let measured = analytes::measure(drug, sample, &unit.unit, &target, &mut notes.warnings)?;
    let mut timing = timing::stage(&cx, &measured, unit.measure, &mut notes);
    let exposure = exposure::combine(&cx, &unit, &measured, &mut timing, &mut notes)?;
    let plausible = plausibility::check(
        &cx,
        &target,
        &exposure,
        &timing,
        undetectable(sample),
        limiting_grade(&pack.policy, sample).is_some(),
        &mut notes,
    )?;
    Ok(Staged {
        cx,
        unit,
        notes,
        target,
        measured,
        timing,
        exposure,
        plausible,
    })
}

/// The stages in the order of the data flow.
fn assess(pack: &Pack, sample: &Sample, earlier: &Earlier) -> Result<EvalResult, EvalError> {
    let Staged {
        cx,
        unit,
        mut notes,
        target,
        measured,
        timing,
        mut exposure,
        plausible,
    } = staged(pack, sample)?;
    // An impossible value (a likely unit slip) is not fitted either.
    let fitted = (plausible.verdict != plausibility::Plausible::Impossible)
        .then(|| model_fit::stage(&cx, &target, &unit, &measured, &timing, earlier, &mut notes))
        .flatten();
    if let Some(ratio) = fitted.as_ref().and_then(|f| f.trough_ratio) {
        exposure::by_model(&mut exposure, &measured, ratio);
    }
    let mut judged = classify::classify(&cx, &target, &exposure, &timing, &mut notes)?;
    if plausible.verdict == plausibility::Plausible::Impossible {
        // Kept only for the toxicity's sake: the value itself is not judged.
        judged.classification = None;
        judged.percentile = None;
    }
    let advised = advise::advise(
        &cx, &target, &judged, &exposure, &measured, &timing, &plausible, &mut notes,
    )?;
    let model = fitted.map(|f| model_dose::add(&cx, &target, &advised, f, &mut notes.warnings));
    let mut result = assemble::result(
        &cx, &unit, &target, exposure, timing, judged, plausible, advised, notes,
    );
    if let Some(a) = result.assessment.as_mut() {
        a.model = model;
    }
    Ok(result)
}

/// The grade that the toxicity branch acts on: the pack's grade or more,
/// or a grade 2 the patient finds intolerable (seed 796–797).
/// The toxicity grade the decision acts on first (step 1 of the tree): a
/// grade at or above the pack's, or an intolerable grade 2; None otherwise.
pub fn toxicity_acted_on(pack: &crate::Pack, sample: &Sample) -> Option<u8> {
    limiting_grade(pack.policy(), sample)
}

pub(crate) fn limiting_grade(policy: &crate::pack::model::Policy, sample: &Sample) -> Option<u8> {
    let grade = sample.toxicity_grade?;
    let intolerable = grade == 2 && sample.toxicity_intolerable == Some(true);
    (grade >= policy.toxicity_grade || intolerable).then_some(grade)
}

/// The level is undetectable: reported below the limit of quantification,
/// under the sample's `lloq`, or 0.
pub(crate) fn undetectable(sample: &Sample) -> bool {
    sample.below_lloq == Some(true)
        || sample.value == 0.0
        || sample.lloq.is_some_and(|l| sample.value < l)
}

/// What every stage reads: the pack, the drug's rule and the sample.
pub(crate) struct Context<'a> {
    pub pack: &'a Pack,
    pub drug: &'a Drug,
    pub sample: &'a Sample,
}

/// The sample's unit, checked against its measure.
pub(crate) struct Reading {
    pub unit: Unit,
    pub quantity: Quantity,
    pub measure: Measure,
}

/// What the stages add beside their output: warnings, and which hooks of
/// the drug's script or plugin changed the result.
pub(crate) struct Notes {
    pub warnings: Vec<String>,
    pub trace: Option<ScriptUsed>,
}

impl Notes {
    fn for_drug(drug: &Drug) -> Self {
        let trace = drug.hooks.as_ref().map(|h| {
            let (kind, file) = match h {
                HookProvider::Script(s) => (Provider::Script, s.path.clone()),
                HookProvider::Plugin { path, .. } => (Provider::Plugin, path.clone()),
            };
            ScriptUsed {
                kind,
                file,
                hooks: Vec::new(),
                notes: Vec::new(),
            }
        });
        Notes {
            warnings: Vec::new(),
            trace,
        }
    }

    /// Records that `hook` changed the result, with what it reported.
    pub fn used(&mut self, hook: Hook, notes: Vec<String>) {
        if let Some(t) = &mut self.trace {
            t.hooks.push(hook);
            t.notes.extend(notes);
        }
    }
}

fn find_drug<'a>(pack: &'a Pack, sample: &Sample) -> Result<&'a Drug, EvalError> {
    pack.drug(&sample.drug).ok_or_else(|| {
        let hint = crate::suggest(&sample.drug, pack.drug_names())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        EvalError::new(
            ErrorCode::UnknownDrug,
            format!(
                "field `drug`: `{}` is not a drug of pack {}{hint}",
                sample.drug,
                pack.id().name
            ),
        )
    })
}

/// Step 0 of the decision tree: what cannot be advised on at all.
fn refuse(sample: &Sample) -> Result<(), EvalError> {
    if sample.toxicity_grade == Some(5) {
        return Err(EvalError::new(
            ErrorCode::InvalidField,
            "field `toxicity_grade`: grade 5 is death related to the adverse event (CTCAE v5.0); no dose advice is given: check the entry",
        ));
    }
    Ok(())
}

fn read_unit(sample: &Sample) -> Result<Reading, EvalError> {
    let quantity = sample.measure.unwrap_or(Quantity::Concentration);
    let measure = match quantity {
        Quantity::Concentration => Measure::Cmin,
        Quantity::Auc => Measure::Auc,
    };
    let unit = Unit::parse(&sample.unit)
        .map_err(|e| EvalError::new(ErrorCode::Unit, format!("field `unit`: {e}")))?;
    if unit.quantity != quantity {
        let name = |q| match q {
            Quantity::Auc => "AUC",
            Quantity::Concentration => "concentration",
        };
        let given = match quantity {
            Quantity::Auc => "`auc`",
            Quantity::Concentration => "`concentration` (the default)",
        };
        return Err(EvalError::new(
            ErrorCode::Unit,
            format!(
                "field `unit`: `{}` is a unit of {}, but `measure` is {given}",
                unit.symbol,
                name(unit.quantity)
            ),
        ));
    }
    Ok(Reading {
        unit,
        quantity,
        measure,
    })
}

fn unknown_field_warnings(sample: &Sample, inputs: &[String]) -> Vec<String> {
    sample
        .extra
        .iter()
        .filter(|(key, _)| !inputs.iter().any(|i| i == key))
        .map(|(key, _)| {
            let hint = crate::suggest(key, FIELDS.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!("field `{key}` is not part of the input contract and was ignored{hint}")
        })
        .collect()
}
