//! Properties that must hold for every input, checked with proptest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::Cursor;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value, json};
use tdm_core::{
    InputFormat, Pack, eval::evaluate_value, eval::log_linear_factor, evaluate_record, input::Unit,
    load_pack, read_records, result::Advice, result::Classification,
};

/// `cases` cases, past failures kept in tests/proptest-regressions/ (the
/// tests run in the `tests` directory), not at the repository's top.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/properties.txt",
            ),
        )),
        ..ProptestConfig::default()
    }
}

fn ki() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| load_pack(tdm_tests::tests_dir().join("../rules/ki-oncology")).unwrap())
}

proptest! {
    #![proptest_config(config(256))]
    /// Converting to the canonical unit and back is the identity, and molar
    /// units go through the molar mass.
    #[test]
    fn units_round_trip(value in 1e-6f64..1e7, molar_mass in 100.0f64..1000.0) {
        for symbol in Unit::all() {
            let unit = Unit::parse(symbol).unwrap();
            let canonical = unit.to_canonical(value, Some(molar_mass)).unwrap();
            let back = unit.from_canonical(canonical, Some(molar_mass)).unwrap();
            prop_assert!(((back - value) / value).abs() < 1e-12, "{symbol}: {value} -> {canonical} -> {back}");
            if unit.molar {
                let per_nmol = if symbol.starts_with('n') { 1e-3 } else { 1.0 };
                prop_assert!((canonical - value * molar_mass * per_nmol).abs() <= 1e-9 * canonical.abs());
            }
        }
    }

    /// Before the trough time the corrected value is never above the
    /// measured one; at the trough time it equals it.
    #[test]
    fn extrapolation_never_raises_a_pre_trough_sample(t in 0.0f64..24.0, half_life in 1.0f64..500.0) {
        let f = log_linear_factor(t, 24.0, half_life);
        prop_assert!(f > 0.0 && f <= 1.0);
        prop_assert_eq!(log_linear_factor(24.0, 24.0, half_life), 1.0);
    }

    /// The same end to end: imatinib samples from 3 h (where extrapolation is
    /// valid) to the trough.
    #[test]
    fn extrapolated_imatinib_troughs_are_at_most_the_measured_value(t in 3.0f64..=24.0, value in 100.0f64..10_000.0) {
        let r = evaluate_value(ki(), &json!({"drug": "imatinib", "indication": "CML", "value": value,
            "unit": "ng/mL", "hours_since_dose": t, "days_on_dose": 30}));
        let exposure = r.assessment.as_ref().unwrap().exposure.value;
        prop_assert!(exposure <= value * (1.0 + 1e-6), "{exposure} > {value} at {t} h");
        if t == 24.0 {
            prop_assert!((exposure - value).abs() <= value * 1e-6);
        }
    }
}

/// A sample of a threshold drug at `value` times its lower bound.
fn threshold_sample(drug: usize, factor: f64, grade: u8) -> Value {
    let mut s = match drug {
        0 => {
            json!({"drug": "imatinib", "indication": "CML", "value": 1000.0 * factor, "dose_mg": 400})
        }
        1 => {
            json!({"drug": "sunitinib", "regimen": "intermittent", "value": 35.0 * factor, "dose_mg": 50,
                    "metabolites": {"SU12662": 15.0 * factor}})
        }
        2 => json!({"drug": "pazopanib", "value": 20_000.0 * factor, "dose_mg": 800}),
        3 => json!({"drug": "nilotinib", "value": 469.0 * factor, "dose_mg": 300}),
        _ => json!({"drug": "gefitinib", "value": 200.0 * factor, "dose_mg": 250}),
    };
    s["unit"] = json!("ng/mL");
    s["hours_since_dose"] = json!(if drug == 3 { 12 } else { 24 });
    s["days_on_dose"] = json!(60);
    s["toxicity_grade"] = json!(grade);
    s
}

fn rank(c: Option<Classification>) -> u8 {
    match c {
        Some(Classification::Below) => 0,
        Some(Classification::Within) => 1,
        Some(Classification::Above) => 2,
        // A value added to the contract later ranks with "not classified".
        _ => 9,
    }
}

/// +1 up, 0 stay, -1 down; `None` for advice without a dose direction.
fn direction(a: Advice) -> Option<i8> {
    match a {
        Advice::IncreaseDose => Some(1),
        Advice::Continue => Some(0),
        Advice::ReduceDose => Some(-1),
        _ => None,
    }
}

proptest! {
    #![proptest_config(config(256))]
    /// For a fixed drug, dose and toxicity, a higher exposure never gives a
    /// lower classification nor a more aggressive increase.
    #[test]
    fn decisions_are_monotone_in_exposure(drug in 0usize..5, grade in 0u8..=4, a in 0.05f64..6.0, b in 0.05f64..6.0) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let r1 = evaluate_value(ki(), &threshold_sample(drug, low, grade));
        let r2 = evaluate_value(ki(), &threshold_sample(drug, high, grade));
        let (a1, a2) = (r1.assessment.as_ref().unwrap(), r2.assessment.as_ref().unwrap());
        prop_assert!(rank(a1.classification) <= rank(a2.classification), "{:?} then {:?}", a1.classification, a2.classification);
        if let (Some(d1), Some(d2)) = (direction(a1.advice), direction(a2.advice)) {
            prop_assert!(d1 >= d2, "{:?} at {low} then {:?} at {high}", a1.advice, a2.advice);
        }
        prop_assert!(!(a1.advice == Advice::Continue && a2.advice == Advice::IncreaseDose));
    }

    /// Toxicity of grade 3 or more is never absent from the result and never
    /// lets the dose go up, whatever the level; grade 5 is never advised on.
    #[test]
    fn toxicity_is_named_and_never_increased_on(drug in 0usize..5, grade in 3u8..=5, f in 0.01f64..20.0, days in 0u32..90) {
        let mut sample = threshold_sample(drug, f, grade);
        sample["days_on_dose"] = json!(days);
        let r = evaluate_value(ki(), &sample);
        if grade == 5 {
            prop_assert_eq!(r.status, tdm_core::result::Status::Error);
            prop_assert!(r.error.as_deref().unwrap_or("").contains("grade 5 is death"));
        } else {
            let a = r.assessment.as_ref().unwrap();
            prop_assert!(a.advice != Advice::IncreaseDose, "{:?}", a.advice);
            let named = format!("grade {grade} toxicity");
            prop_assert!(r.rationale.as_deref().unwrap_or("").contains(&named), "{:?}", r.rationale);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]
    /// A value outside the range expected for the dose (improbable: outside
    /// the 0.5–99.5th percentile; impossible: 100 times off) never raises the
    /// dose: it is verified or refused; with toxicity, the toxicity decides.
    #[test]
    fn implausible_values_are_never_increased_on(drug in 0usize..5, grade in 0u8..=4, exponent in -4.0f64..4.0) {
        let factor = 10f64.powf(exponent);
        let r = evaluate_value(ki(), &threshold_sample(drug, factor, grade));
        match r.assessment.as_ref() {
            None => prop_assert_eq!(r.error_code, Some(tdm_core::result::ErrorCode::ImplausibleValue)),
            Some(a) => {
                let e = a.exposure.expected.as_ref().expect("these drugs have an expected level");
                let outside = e.improbable_below.is_some_and(|b| a.exposure.value < b)
                    || e.improbable_above.is_some_and(|b| a.exposure.value > b);
                if outside {
                    prop_assert!(a.advice != Advice::IncreaseDose, "{:?} at {}", a.advice, a.exposure.value);
                    if grade < 3 {
                        prop_assert_eq!(a.advice, Advice::RepeatSample);
                    }
                }
            }
        }
    }
}

/// One input line: a valid sample, or one of the ways a line goes wrong.
fn line() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        (0usize..5, 0.1f64..5.0, 0u8..=5)
            .prop_map(|(d, f, g)| (threshold_sample(d, f, g).to_string(), true)),
        "[a-z ]{1,20}".prop_map(|s| (format!("not json {s}"), false)),
        Just((
            r#"{"drug": "imatinib", "value": "850", "unit": "ng/mL"}"#.to_owned(),
            false
        )),
        Just((
            r#"{"drug": "unknownib", "value": 1, "unit": "ng/mL"}"#.to_owned(),
            false
        )),
        Just((r#"[1, 2, 3]"#.to_owned(), false)),
        Just((
            r#"{"drug": "gefitinib", "value": 1, "value": 2, "unit": "ng/mL"}"#.to_owned(),
            false
        )),
    ]
}

proptest! {
    #![proptest_config(config(256))]
    /// Any mix of valid and invalid records: exactly one result per record,
    /// in order, and each valid record's result equals its result alone.
    #[test]
    fn batches_keep_every_record_in_order(lines in prop::collection::vec(line(), 0..40)) {
        let text: String = lines.iter().enumerate().map(|(i, (l, valid))| {
            // Number the records through their id where the line is an object.
            let mut v: Value = serde_json::from_str(l).unwrap_or(Value::Null);
            if *valid { v["id"] = json!(format!("r{i}")); v.to_string() } else { l.clone() }
        }).collect::<Vec<_>>().join("\n");
        let mut results = Vec::new();
        read_records(Cursor::new(text.clone()), InputFormat::Ndjson, ki(), |r| {
            results.push(evaluate_record(ki(), r));
            Ok(())
        }).unwrap();
        prop_assert_eq!(results.len(), lines.len());
        for (i, ((l, valid), r)) in lines.iter().zip(&results).enumerate() {
            prop_assert_eq!(r.line, Some(i as u64 + 1));
            if *valid {
                let mut alone_input: Value = serde_json::from_str(l).unwrap();
                alone_input["id"] = json!(format!("r{i}"));
                let mut alone = evaluate_value(ki(), &alone_input);
                alone.line = r.line;
                prop_assert_eq!(&alone, r);
            } else {
                prop_assert_eq!(r.status, tdm_core::result::Status::Error);
            }
        }
    }
}

/// Writes `value` as JSON (which is YAML) with keys in an order drawn from
/// `seed` and irregular spacing.
fn next(seed: &mut u64) -> usize {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*seed >> 33) as usize
}

fn emit(value: &Value, seed: &mut u64, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            for i in (1..keys.len()).rev() {
                keys.swap(i, next(seed) % (i + 1));
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(if next(seed).is_multiple_of(2) {
                        ", "
                    } else {
                        ",\n  "
                    });
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                emit(&map[*k], seed, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                emit(item, seed, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn base() -> std::path::PathBuf {
    tdm_tests::tests_dir().join("broken/_base")
}

fn digest_with_drug_file(text: &str) -> String {
    let dir = tdm_tests::assemble(None);
    fs::write(dir.path().join("drugs/testinib.yaml"), text).unwrap();
    load_pack(dir.path())
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"))
        .id()
        .digest
        .clone()
}

proptest! {
    #![proptest_config(config(32))]

    /// Formatting, key order and comments never change the digest; a
    /// changed clinical number always does.
    #[test]
    fn the_digest_follows_content_not_form(seed in any::<u64>(), delta in 1u32..500) {
        let original = fs::read_to_string(base().join("drugs/testinib.yaml")).unwrap();
        let reference = digest_with_drug_file(&original);
        let value = tdm_core::pack::yaml_to_json(&original, "drug").unwrap();
        let mut text = String::from("# reformatted, keys shuffled\n");
        let mut s = seed;
        emit(&value, &mut s, &mut text);
        text.push_str("\n# the end\n");
        prop_assert_eq!(digest_with_drug_file(&text), reference.clone());
        let changed = original.replace("lower: 1000", &format!("lower: {}", 1000 + delta));
        prop_assert_ne!(digest_with_drug_file(&changed), reference);
    }
}

proptest! {
    #![proptest_config(config(256))]
    /// Any finite input numbers, at any magnitude the format allows, give
    /// either an error result or a result whose every number is finite:
    /// never "inf" or "NaN" in a sentence, never a decision on one.
    #[test]
    fn no_number_that_is_not_finite_reaches_a_result(
        value in prop_oneof![any::<f64>(), 1e-320f64..1e-300, 1e300f64..1e308, 0.0f64..1e4],
        dose in prop_oneof![any::<f64>(), 1e-320f64..1.0, 1.0f64..1e308],
        interval in prop_oneof![any::<f64>(), 1e-300f64..1.0, 1.0f64..1e308],
        hours in prop_oneof![any::<f64>(), 0.0f64..48.0],
        days in prop_oneof![any::<f64>(), 0.0f64..1e308],
        unit in prop::sample::select(vec!["ng/mL", "mg/L", "nmol/L", "µM"]),
        grade in 0u8..=4,
    ) {
        let mut sample = json!({"drug": "imatinib", "indication": "CML", "unit": unit,
                                "toxicity_grade": grade});
        for (key, v) in [("value", value), ("dose_mg", dose), ("interval_h", interval),
                         ("hours_since_dose", hours), ("days_on_dose", days)] {
            if let Some(n) = serde_json::Number::from_f64(v) {
                sample[key] = json!(n);
            }
        }
        let r = evaluate_value(ki(), &sample);
        let text = format!("{} {}", r.rationale.as_deref().unwrap_or(""), r.warnings.join(" "));
        prop_assert!(!text.contains("NaN") && !text.contains("inf "), "{text}");
        if let Some(a) = &r.assessment {
            let e = &a.exposure;
            prop_assert!(e.value.is_finite());
            prop_assert!(e.analytes.iter().all(|x| x.value.is_finite() && x.measured.is_finite()));
            if let Some(x) = &e.expected {
                prop_assert!(x.value.is_finite() && x.impossible_above.is_finite() && x.impossible_below.is_finite());
            }
            prop_assert!(a.next_dose_mg.is_none_or(f64::is_finite));
        }
    }
}

/// Any string, with the characters that delimit JSON and CSV made common.
fn tricky_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just('"'),
            Just('\\'),
            Just(','),
            Just('['),
            Just(']'),
            Just('{'),
            Just('}'),
            Just('\n'),
            Just('\r'),
            Just(' '),
            any::<char>(),
        ],
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// The ids of the records read, in order (None for an error record).
fn ids_read(text: &str, format: InputFormat) -> Vec<Option<String>> {
    let mut ids = Vec::new();
    read_records(Cursor::new(text.as_bytes()), format, ki(), |r| {
        ids.push(r.sample.ok().and_then(|s| s.id));
        Ok(())
    })
    .unwrap();
    ids
}

proptest! {
    #![proptest_config(config(300))]

    /// The JSON array splitter agrees with serde_json writing the array
    /// (compact or pretty): the same samples, in order, as when each is
    /// read as a line of NDJSON.
    #[test]
    fn json_arrays_are_split_as_serde_json_writes_them(ids in prop::collection::vec(tricky_text(), 0..8), pretty in any::<bool>()) {
        let samples: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "drug": "gefitinib", "nested": [{"a": id}, []], "value": 250, "unit": "ng/mL"}))
            .collect();
        let text = if pretty {
            serde_json::to_string_pretty(&samples).unwrap()
        } else {
            serde_json::to_string(&samples).unwrap()
        };
        let lines: Vec<String> = samples.iter().map(Value::to_string).collect();
        let expected = ids_read(&lines.join("\n"), InputFormat::Ndjson);
        prop_assert_eq!(expected.len(), ids.len());
        prop_assert_eq!(ids_read(&text, InputFormat::Json), expected);
    }

    /// The CSV record gate agrees with the csv crate's writer: every record
    /// it quotes (commas, quotes, line ends in cells) is read back whole,
    /// and blank id cells aside, with its id.
    #[test]
    fn csv_records_are_read_as_the_csv_crate_writes_them(ids in prop::collection::vec(tricky_text(), 0..8)) {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(["id", "drug", "value", "unit"]).unwrap();
        for id in &ids {
            writer.write_record([id.as_str(), "gefitinib", "250", "ng/mL"]).unwrap();
        }
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let expected: Vec<Option<String>> = ids
            .iter()
            .map(|id| Some(id.trim().to_owned()).filter(|t| !t.is_empty()))
            .collect();
        prop_assert_eq!(ids_read(&text, InputFormat::Csv), expected);
    }
}
