//! A pack's own test cases (`tests/*.yaml` in the pack): a sample and the
//! result it must give. `tdm test` and the snapshot tests share this runner.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::pack::error::{PackError, Problem, ProblemKind};
use crate::pack::model::Pack;
use crate::result::model::ModelFit;
use crate::result::{Advice, Classification, EvalResult, Status};
use schemars::JsonSchema;

/// What a case expects; every field given must match, absent fields are not checked.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `ok` or `error`.
    #[serde(default)]
    pub status: Option<Status>,
    /// `below`, `within`, `above`, or null (cannot be interpreted).
    #[serde(default, deserialize_with = "present")]
    pub classification: Option<Option<Classification>>,
    /// The advice.
    #[serde(default)]
    pub advice: Option<Advice>,
    /// The next dose, or null for none.
    #[serde(default, deserialize_with = "present")]
    pub next_dose_mg: Option<Option<f64>>,
    /// Interval of the next dose.
    #[serde(default)]
    pub next_interval_h: Option<f64>,
    /// The id of the target used.
    #[serde(default)]
    pub target: Option<String>,
    /// The exposure value (canonical unit), to 0.1 %.
    #[serde(default)]
    pub exposure: Option<f64>,
    /// The population model fitted, by id; null for none.
    #[serde(default, deserialize_with = "present")]
    pub model: Option<Option<String>>,
    /// The model's predicted steady-state trough (ng/mL), to 1 %; null
    /// when it is withheld.
    #[serde(default, deserialize_with = "present")]
    pub model_trough: Option<Option<f64>>,
    /// Levels the model was fitted to (the sample's and its patient's
    /// earlier ones).
    #[serde(default)]
    pub levels_used: Option<usize>,
    /// The model's predicted steady-state trough lies in `[low, high]`
    /// (ng/mL).
    #[serde(default)]
    pub model_trough_within: Option<[f64; 2]>,
    /// The dose (mg per administration) the model recommends; null for none.
    #[serde(default, deserialize_with = "present")]
    pub model_recommended_mg: Option<Option<f64>>,
    /// The interval (h) of the dose the model recommends.
    #[serde(default)]
    pub model_recommended_interval_h: Option<f64>,
    /// The probability that the recommended dose reaches the target lies in
    /// `[low, high]`.
    #[serde(default)]
    pub model_probability_within: Option<[f64; 2]>,
    /// Text the recommendation's note (how it stands to the tree) must
    /// contain.
    #[serde(default)]
    pub model_note_contains: Option<String>,
    /// Text the error must contain.
    #[serde(default)]
    pub error_contains: Option<String>,
    /// Text one of the warnings must contain.
    #[serde(default)]
    pub warning_contains: Option<String>,
    /// Text the rationale must contain.
    #[serde(default)]
    pub rationale_contains: Option<String>,
    /// Text one of the script's notes must contain.
    #[serde(default)]
    pub note_contains: Option<String>,
    /// Text one of the conditions must contain.
    #[serde(default)]
    pub condition_contains: Option<String>,
    /// Whether a toxicity signal is passed.
    #[serde(default)]
    pub toxicity_signal_exceeded: Option<bool>,
}

/// `key: null` is `Some(None)`; an absent key is `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// One test case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case file, relative to the pack.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// The sample, as in the input contract.
    pub sample: serde_json::Value,
    /// The patient's earlier samples, evaluated first in this order, as in
    /// a batch: a population model is fitted to their levels too.
    pub earlier: Vec<serde_json::Value>,
    /// What it must give.
    pub expect: Expect,
}

/// A case's result and how it differs from what was expected.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case.
    pub case: Case,
    /// The full result.
    pub result: EvalResult,
    /// One line per mismatch; empty when the case passed.
    pub failures: Vec<String>,
}

/// Reads every case file under `<pack>/tests/`, in file-name order.
pub fn load_cases(pack_dir: impl AsRef<Path>) -> Result<Vec<Case>, PackError> {
    let dir = pack_dir.as_ref().join("tests");
    let mut paths: Vec<_> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(PackError::Io { path: dir, error }),
    };
    paths.sort();
    let mut cases = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    for path in paths {
        let text = fs::read_to_string(&path).map_err(|error| PackError::Io {
            path: path.clone(),
            error,
        })?;
        let file = format!(
            "tests/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        match crate::pack::load::parse_checked::<RawCaseFile>(&text, &file, schema()) {
            Ok((raw, _)) => {
                for c in raw.cases {
                    if let Some(why) = unstated(&c.expect) {
                        let at = crate::pack::yaml::position(&c.name);
                        let mut p =
                            Problem::new(
            ProblemKind::Case,
            &file, at, format!("case `{}`: {why}", c.name.value))
                                .with_help("a case states what a pharmacist would check: the advice, and the next dose when the advice changes it (null for none)");
                        p.text = Some(text.as_str().into());
                        problems.push(p);
                    }
                    cases.push(Case {
                        file: file.clone(),
                        name: c.name.value,
                        sample: c.sample,
                        earlier: c.earlier,
                        expect: c.expect,
                    });
                }
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(PackError::invalid(
            pack_dir.as_ref().to_path_buf(),
            problems,
        ))
    }
}

/// What an ok case leaves unstated: its advice, or the next dose of an
/// advice that changes the dose. A case that expects an error states that.
fn unstated(e: &Expect) -> Option<&'static str> {
    let error = e.status == Some(Status::Error) || e.error_contains.is_some();
    match e.advice {
        _ if error => None,
        None => Some("an ok case must state its `advice`"),
        Some(Advice::IncreaseDose | Advice::ReduceDose) if e.next_dose_mg.is_none() => {
            Some("a case whose advice changes the dose must state `next_dose_mg`")
        }
        Some(_) => None,
    }
}

/// Evaluates one case and compares.
pub fn run_case(pack: &Pack, case: &Case) -> CaseOutcome {
    let mut histories = crate::eval::Histories::default();
    let record = |value: &serde_json::Value| crate::input::record_from_value(1, 0, value.clone());
    for earlier in &case.earlier {
        histories.evaluate_record(pack, record(earlier));
    }
    let result = histories.evaluate_record(pack, record(&case.sample));
    let failures = compare(&case.expect, &result);
    CaseOutcome {
        case: case.clone(),
        result,
        failures,
    }
}

fn compare(expect: &Expect, r: &EvalResult) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: &str, want: String, got: String| {
        if want != got {
            out.push(format!("{what}: expected {want}, got {got}"));
        }
    };
    let a = r.assessment.as_ref();
    if let Some(s) = expect.status {
        check("status", format!("{s:?}"), format!("{:?}", r.status));
    }
    if let Some(c) = expect.classification {
        check(
            "classification",
            show(c.map(|c| c.as_str())),
            show(a.and_then(|a| a.classification).map(|c| c.as_str())),
        );
    }
    if let Some(advice) = expect.advice {
        check(
            "advice",
            advice.as_str().into(),
            show(a.map(|a| a.advice.as_str())),
        );
    }
    if let Some(n) = expect.next_dose_mg {
        check(
            "next_dose_mg",
            show(n),
            show(a.and_then(|a| a.next_dose_mg)),
        );
    }
    if let Some(n) = expect.next_interval_h {
        check(
            "next_interval_h",
            n.to_string(),
            show(a.and_then(|a| a.next_interval_h)),
        );
    }
    if let Some(t) = &expect.target {
        check("target", t.clone(), show(a.map(|a| a.target.id.as_str())));
    }
    compare_model(expect, a.and_then(|a| a.model.as_ref()), &mut check);
    if let Some(x) = expect.exposure {
        let got = a.map(|a| a.exposure.value);
        if !got.is_some_and(|g| (g - x).abs() <= x.abs() * 1e-3) {
            out.push(format!(
                "exposure: expected {x} (±0.1 %), got {}",
                show(got)
            ));
        }
    }
    for (what, want, got) in [
        ("error", &expect.error_contains, r.error.as_deref()),
        (
            "rationale",
            &expect.rationale_contains,
            r.rationale.as_deref(),
        ),
    ] {
        if let Some(text) = want
            && !got.is_some_and(|g| g.contains(text.as_str()))
        {
            out.push(format!(
                "{what}: expected it to contain `{text}`, got {}",
                show(got)
            ));
        }
    }
    if let Some(want) = expect.toxicity_signal_exceeded {
        let got = a.map(|a| a.toxicity_signal_exceeded);
        if got != Some(want) {
            out.push(format!(
                "toxicity_signal_exceeded: expected {want}, got {}",
                show(got)
            ));
        }
    }
    if let Some(text) = &expect.condition_contains {
        let conditions = a.map(|a| a.conditions.clone()).unwrap_or_default();
        if !conditions.iter().any(|c| c.contains(text.as_str())) {
            out.push(format!(
                "conditions: expected one containing `{text}`, got {conditions:?}"
            ));
        }
    }
    if let Some(text) = &expect.note_contains {
        let notes = a
            .and_then(|a| a.script.as_ref())
            .map(|s| s.notes.clone())
            .unwrap_or_default();
        if !notes.iter().any(|n| n.contains(text.as_str())) {
            out.push(format!(
                "script notes: expected one containing `{text}`, got {notes:?}"
            ));
        }
    }
    if let Some(text) = &expect.warning_contains
        && !r.warnings.iter().any(|w| w.contains(text.as_str()))
    {
        out.push(format!(
            "warnings: expected one containing `{text}`, got {:?}",
            r.warnings
        ));
    }
    out
}

/// The expectations on the population model's block.
fn compare_model(
    expect: &Expect,
    fitted: Option<&ModelFit>,
    check: &mut impl FnMut(&str, String, String),
) {
    let recommended = fitted.and_then(|m| m.recommendation.as_ref());
    if let Some(id) = &expect.model {
        check(
            "model",
            show(id.as_deref()),
            show(fitted.map(|m| m.id.as_str())),
        );
    }
    if let Some(n) = expect.levels_used {
        check(
            "levels_used",
            n.to_string(),
            show(fitted.map(|m| m.levels_used)),
        );
    }
    if let Some([low, high]) = expect.model_trough_within {
        let got = fitted.and_then(|m| m.trough.as_ref()).map(|t| t.value);
        if !got.is_some_and(|g| (low..=high).contains(&g)) {
            check("model_trough_within", format!("{low}-{high}"), show(got));
        }
    }
    if let Some(want) = expect.model_recommended_mg {
        check(
            "model_recommended_mg",
            show(want),
            show(recommended.map(|r| r.dose_mg)),
        );
    }
    if let Some(want) = expect.model_recommended_interval_h {
        check(
            "model_recommended_interval_h",
            want.to_string(),
            show(recommended.map(|r| r.interval_h)),
        );
    }
    if let Some([low, high]) = expect.model_probability_within {
        let got = recommended.map(|r| r.p_target);
        if !got.is_some_and(|p| (low..=high).contains(&p)) {
            check(
                "model_probability_within",
                format!("{low}-{high}"),
                show(got),
            );
        }
    }
    if let Some(want) = &expect.model_note_contains {
        let got = recommended.map(|r| r.note.as_str());
        if !got.is_some_and(|n| n.contains(want.as_str())) {
            check("model_note_contains", want.clone(), show(got));
        }
    }
    if let Some(want) = expect.model_trough {
        let got = fitted.and_then(|m| m.trough.as_ref()).map(|t| t.value);
        let agrees = match (want, got) {
            (Some(w), Some(g)) => (g - w).abs() <= w.abs() * 1e-2,
            (None, None) => true,
            _ => false,
        };
        if !agrees {
            check("model_trough", format!("{} (±1 %)", show(want)), show(got));
        }
    }
}

fn show<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "null".into(), |v| v.to_string())
}

/// `tests/<name>.yaml`: a pack's own test cases.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCaseFile {
    /// The cases, each a sample and what it must give.
    pub cases: Vec<RawCase>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    /// What the case shows.
    pub name: crate::pack::yaml::Spanned<String>,
    /// The sample as in the input contract (schemas/sample.schema.json). Not
    /// checked here: a case may feed deliberately broken input.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub sample: serde_json::Value,
    /// The patient's earlier samples, in the order a batch would list them
    /// (same `patient`, each with `sampled_at`).
    #[serde(default)]
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub earlier: Vec<serde_json::Value>,
    /// The expected result; only the fields given are checked.
    pub expect: Expect,
}

/// The schema a case file is checked against, generated once per process.
fn schema() -> &'static serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| crate::pack::schema::generate::<RawCaseFile>(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(cases: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/a.yaml"), cases).unwrap();
        match load_cases(dir.path()) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_case_states_its_advice_and_the_next_dose_it_leads_to() {
        let sample = "{drug: imatinib, value: 1, unit: ng/mL}";
        let no_advice = format!(
            "cases:\n  - name: vague\n    sample: {sample}\n    expect: {{classification: below}}\n"
        );
        let p = problems_of(&no_advice);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("tests/a.yaml:2:"), "{p:?}");
        assert!(p[0].contains("must state its `advice`"), "{p:?}");
        let no_dose = format!(
            "cases:\n  - name: up\n    sample: {sample}\n    expect: {{advice: increase_dose}}\n"
        );
        let p = problems_of(&no_dose);
        assert!(p[0].contains("must state `next_dose_mg`"), "{p:?}");
        for fine in [
            "{advice: increase_dose, next_dose_mg: 600}",
            "{advice: reduce_dose, next_dose_mg: null}",
            "{advice: continue}",
            "{status: error, error_contains: unit}",
        ] {
            let text =
                format!("cases:\n  - name: fine\n    sample: {sample}\n    expect: {fine}\n");
            assert!(problems_of(&text).is_empty(), "{fine}");
        }
    }
}
