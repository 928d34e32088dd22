//! Unit tests over a small in-memory pack: loading, digest, classification
//! boundaries and the decision tree's policy switches.

use serde_json::json;

use crate::PackError;
use crate::eval::evaluate_value;
use crate::pack::load::from_files;
use crate::result::{Advice, Classification};

const MANIFEST: &str = r#"
name: mini
version: "0.1.0"
title: test pack
sources:
  s: {citation: a source}
policy:
  toxicity_grade: {value: 3, source: s}
  act_on_population_mean: {value: ACT, source: s}
  steady_state_half_lives: {value: 5, source: s}
  trough_tolerance_h: {value: 1, source: s}
  interventions_before_increase:
    - {action: check adherence, source: s}
"#;

const DRUG: &str = r#"
drug: testinib
aliases: [Testo]
group: test
analytes:
  - {name: testinib, role: parent, molar_mass: 500, source: s}
  - {name: M1, role: metabolite, molar_mass: 400, half_life_h: 20, source: s}
pk: {half_life_h: 10, steady_state_days: 3, source: s}
trough_correction: {method: log_linear, valid_from_h: 4, source: s}
targets:
  - {id: main, use: primary, measure: cmin, lower: 100, upper: 300, unit: ng/mL, basis: threshold, evidence: viable, source: s}
dosing:
  interval_h: 24
  standard_mg: 200
  levels: [{mg: 100}, {mg: 200}, {mg: 300}]
  source: s
"#;

const EXPLORATORY: &str = r#"
drug: explorinib
group: test
analytes: [{name: explorinib, role: parent, molar_mass: 300, source: s}]
pk: {half_life_h: 12, source: s}
trough_correction: {method: none, reason: none studied, source: s}
targets:
  - {id: mean, use: primary, measure: cmin, lower: 50, unit: ng/mL, basis: population_mean, evidence: exploratory, source: s}
dosing: {interval_h: 24, standard_mg: 10, levels: [{mg: 10}, {mg: 20}], source: s}
"#;

fn pack(act: bool) -> crate::Pack {
    let manifest = MANIFEST.replace("ACT", if act { "true" } else { "false" });
    from_files(&[
        ("pack.yaml", &manifest),
        ("drugs/t.yaml", DRUG),
        ("drugs/e.yaml", EXPLORATORY),
    ])
    .unwrap_or_else(|e| panic!("{e:?}"))
}

fn advice(
    pack: &crate::Pack,
    sample: serde_json::Value,
) -> (Option<Classification>, Option<Advice>, Option<f64>) {
    let r = evaluate_value(pack, &sample);
    let a = r.assessment.as_ref();
    (
        a.and_then(|a| a.classification),
        a.map(|a| a.advice),
        a.and_then(|a| a.next_dose_mg),
    )
}

#[test]
fn bounds_are_inclusive() {
    let p = pack(false);
    let at = |v: f64| {
        advice(
            &p,
            json!({"drug": "testinib", "value": v, "unit": "ng/mL", "dose_mg": 200, "hours_since_dose": 24}),
        )
        .0
    };
    assert_eq!(at(99.9), Some(Classification::Below));
    assert_eq!(at(100.0), Some(Classification::Within));
    assert_eq!(at(300.0), Some(Classification::Within));
    assert_eq!(at(300.1), Some(Classification::Above));
}

#[test]
fn decision_tree_branches() {
    let p = pack(false);
    let run = |v: f64, grade: u8, dose: f64| {
        advice(
            &p,
            json!({"drug": "testo", "value": v, "unit": "ng/mL", "dose_mg": dose, "toxicity_grade": grade, "hours_since_dose": 24}),
        )
    };
    assert_eq!(
        run(50.0, 0, 200.0),
        (
            Some(Classification::Below),
            Some(Advice::IncreaseDose),
            Some(300.0)
        )
    );
    assert_eq!(
        run(50.0, 0, 300.0),
        (Some(Classification::Below), Some(Advice::Continue), None),
        "at the maximum: never an alternative on exposure alone"
    );
    assert_eq!(
        run(200.0, 0, 200.0),
        (Some(Classification::Within), Some(Advice::Continue), None)
    );
    assert_eq!(
        run(400.0, 0, 200.0),
        (Some(Classification::Above), Some(Advice::Continue), None),
        "an upper bound no source ties to a reduction"
    );
    assert_eq!(
        run(200.0, 3, 200.0),
        (
            Some(Classification::Within),
            Some(Advice::ReduceDose),
            Some(100.0)
        )
    );
    assert_eq!(
        run(200.0, 4, 100.0),
        (
            Some(Classification::Within),
            Some(Advice::ConsiderAlternative),
            None
        ),
        "toxicity at the lowest level: discontinue"
    );
    assert_eq!(
        run(50.0, 3, 200.0),
        (
            Some(Classification::Below),
            Some(Advice::ReduceDose),
            Some(100.0)
        ),
        "no red box without the time of sampling and the days on dose"
    );
    let timed = advice(
        &p,
        json!({"drug": "testo", "value": 50, "unit": "ng/mL", "dose_mg": 200, "toxicity_grade": 3,
               "hours_since_dose": 24, "days_on_dose": 30}),
    );
    assert_eq!(timed.1, Some(Advice::ConsiderAlternative), "red box");
    assert_eq!(
        run(50.0, 2, 200.0).1,
        Some(Advice::IncreaseDose),
        "grade 2 is below the policy grade"
    );
}

#[test]
fn population_mean_targets_are_acted_on_only_when_the_policy_says_so() {
    let sample = json!({"drug": "explorinib", "value": 20, "unit": "ng/mL", "dose_mg": 10, "hours_since_dose": 24});
    assert_eq!(
        advice(&pack(false), sample.clone()).1,
        Some(Advice::InterpretOnly)
    );
    assert_eq!(
        advice(&pack(true), sample),
        (
            Some(Classification::Below),
            Some(Advice::IncreaseDose),
            Some(20.0)
        )
    );
}

#[test]
fn each_analyte_is_corrected_with_its_own_half_life() {
    let p = pack(false);
    // Parent t½ 10 h, M1 t½ 20 h, sampled 4 h after a once-daily dose (20 h to trough).
    let r = evaluate_value(
        &p,
        &json!({"drug": "testinib", "value": 400, "unit": "ng/mL", "metabolites": {"M1": 200}, "hours_since_dose": 4}),
    );
    let e = &r
        .assessment
        .as_ref()
        .unwrap_or_else(|| panic!("{r:?}"))
        .exposure;
    // The target counts the parent only; M1 is reported but not added.
    assert!((e.value - 100.0).abs() < 1e-9, "{}", e.value);
    assert!(r.warnings.iter().any(|w| w.contains("M1 was reported")));
    let c = e
        .corrected_from
        .as_ref()
        .unwrap_or_else(|| panic!("not corrected"));
    assert_eq!(
        (c.value, c.hours_since_dose, c.interval_h, c.half_life_h),
        (400.0, 4.0, 24.0, Some(10.0))
    );
}

#[test]
fn steady_state_is_checked_against_the_pack() {
    let p = pack(false);
    let r = advice(
        &p,
        json!({"drug": "testinib", "value": 50, "unit": "ng/mL", "days_on_dose": 2, "hours_since_dose": 24}),
    );
    assert_eq!(r, (None, Some(Advice::RepeatSample), None));
    let r = advice(
        &p,
        json!({"drug": "testinib", "value": 50, "unit": "ng/mL", "days_on_dose": 3, "dose_mg": 100, "hours_since_dose": 24}),
    );
    assert_eq!(r.1, Some(Advice::IncreaseDose));
}

#[test]
fn digest_ignores_formatting_and_follows_values() {
    let base = pack(false).id().digest.clone();
    let reformatted = DRUG.replace(
        "pk: {half_life_h: 10, steady_state_days: 3, source: s}",
        "# why\npk:\n  source: s\n  steady_state_days: 3.0\n  half_life_h: 10\n",
    );
    let manifest = MANIFEST.replace("ACT", "false");
    let other = from_files(&[
        ("pack.yaml", &manifest),
        ("drugs/t.yaml", &reformatted),
        ("drugs/e.yaml", EXPLORATORY),
    ])
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(other.id().digest, base);
    let changed = DRUG.replace("lower: 100", "lower: 110");
    let other = from_files(&[
        ("pack.yaml", &manifest),
        ("drugs/t.yaml", &changed),
        ("drugs/e.yaml", EXPLORATORY),
    ])
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_ne!(other.id().digest, base);
}

fn problems(drug: &str) -> Vec<String> {
    let manifest = MANIFEST.replace("ACT", "false");
    match from_files(&[("pack.yaml", &manifest), ("drugs/t.yaml", drug)]) {
        Ok(_) => Vec::new(),
        Err(e @ PackError::Invalid { .. }) => e
            .problems()
            .iter()
            .map(|p| {
                assert!(p.position.line > 0, "every problem has a line: {p}");
                p.to_string()
            })
            .collect(),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn every_semantic_problem_is_reported_with_its_line() {
    let broken = DRUG
        .replace("unit: ng/mL", "unit: ng/dL")
        .replace("upper: 300", "upper: 50")
        .replace(
            "[{mg: 100}, {mg: 200}, {mg: 300}]",
            "[{mg: 200}, {mg: 100}, {mg: 300}]",
        )
        .replace("standard_mg: 200", "standard_mg: 250")
        .replace(
            "molar_mass: 500, source: s",
            "molar_mass: 500, source: nowhere",
        );
    let found = problems(&broken);
    for expected in [
        "unknown unit `ng/dL`",
        "must be above lower",
        "must rise strictly",
        "250 mg is not among",
        "does not start with a known source id",
    ] {
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "missing `{expected}` in {found:#?}"
        );
    }
    assert!(
        found.iter().all(|p| p.starts_with("drugs/t.yaml:")),
        "{found:#?}"
    );
}

#[test]
fn syntax_and_shape_errors_have_line_and_column() {
    let found = problems(&DRUG.replace("group: test", "group: test\nbogus_key: 1"));
    assert!(found.iter().any(|p| p.contains("bogus_key")), "{found:#?}");
    let found = problems("drug: [unclosed\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    let found = problems(&DRUG.replace("  - {name: M1", "  - {name: M1, role: parent"));
    assert!(!found.is_empty());
}

#[test]
fn unknown_sum_of_analyte_is_refused() {
    let found = problems(&DRUG.replace(
        "evidence: viable, source: s}",
        "evidence: viable, sum_of: [testinib, M9], source: s}",
    ));
    assert!(
        found.iter().any(|p| p.contains("`M9` is not an analyte")),
        "{found:#?}"
    );
}

#[test]
fn a_version_is_read_as_semver_reads_it() {
    for (version, valid) in [
        ("1.0.0", true),
        ("1.0.0-rc.1", true),
        ("01.0.0", false),
        ("1.0", false),
        ("1.0.0.0", false),
    ] {
        let manifest = MANIFEST
            .replace("ACT", "false")
            .replace("\"0.1.0\"", &format!("\"{version}\""));
        let loaded = from_files(&[("pack.yaml", &manifest), ("drugs/t.yaml", DRUG)]);
        assert_eq!(loaded.is_ok(), valid, "{version}: {loaded:?}");
        if let Err(PackError::Invalid { problems, .. }) = loaded {
            assert!(
                problems[0].message.contains("is not a semantic version"),
                "{problems:?}"
            );
        }
    }
}

#[test]
fn every_problem_says_what_kind_it_is() {
    use crate::pack::ProblemKind;
    let kinds = |drug: &str| -> Vec<ProblemKind> {
        let manifest = MANIFEST.replace("ACT", "false");
        match from_files(&[("pack.yaml", &manifest), ("drugs/t.yaml", drug)]) {
            Err(PackError::Invalid { problems, .. }) => problems.iter().map(|p| p.kind).collect(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(kinds("drug: [unclosed"), vec![ProblemKind::Syntax]);
    assert_eq!(
        kinds(&DRUG.replace("group: test", "group: test\ncolour: red")),
        vec![ProblemKind::Shape]
    );
    assert_eq!(
        kinds(&DRUG.replace("lower: 100, upper: 300", "lower: 300, upper: 100")),
        vec![ProblemKind::Rule]
    );
}
