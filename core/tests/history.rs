//! A patient's samples fitted together: the doses the evaluation assumes
//! between samples are the ones written out by hand here, dose by dose,
//! and what cannot be fitted is named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tdm_core::eval::Histories;
use tdm_core::pk::{Analyte, Dosing, Level, Patient, fit};
use tdm_core::result::model::ModelFit;
use tdm_core::{EvalResult, InputFormat, Pack, load_pack, read_records};

/// The shipped pack, loaded once.
fn pack() -> &'static Pack {
    static PACK: std::sync::OnceLock<Pack> = std::sync::OnceLock::new();
    PACK.get_or_init(|| {
        load_pack(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/ki-oncology")).unwrap()
    })
}

fn evaluate(pack: &Pack, ndjson: &str) -> Vec<EvalResult> {
    let mut histories = Histories::default();
    let mut results = Vec::new();
    read_records(ndjson.as_bytes(), InputFormat::Ndjson, pack, |record| {
        results.push(histories.evaluate_record(pack, record));
        Ok(())
    })
    .unwrap();
    results
}

fn model(r: &EvalResult) -> &ModelFit {
    r.assessment.as_ref().unwrap().model.as_ref().unwrap()
}

const IMATINIB: &str = r#""drug": "imatinib", "indication": "CML", "unit": "ng/mL""#;

/// 400 mg daily from 2 February (28 days at the first sample), 600 mg from
/// 10 March (10 days at the second), a trough on 27 March: every morning
/// dose at 09:00, 2 February to 26 March.
fn three_samples() -> String {
    [
        r#"{"id": "S1", "patient": "P", "sampled_at": "2026-03-02T09:00", "value": 900, "dose_mg": 400, "hours_since_dose": 24, "days_on_dose": 28, "#,
        r#"{"id": "S2", "patient": "P", "sampled_at": "2026-03-20T15:00", "value": 2600, "dose_mg": 600, "hours_since_dose": 6, "days_on_dose": 10, "#,
        r#"{"id": "S3", "patient": "P", "sampled_at": "2026-03-27T09:00", "value": 1500, "dose_mg": 600, "hours_since_dose": 24, "#,
    ]
    .map(|s| format!("{s}{IMATINIB}}}\n"))
    .concat()
}

#[test]
fn a_patients_samples_are_fitted_with_the_doses_between_them() {
    let pack_ = pack();
    let results = evaluate(pack_, &three_samples());
    assert_eq!(results.len(), 3);
    let used: Vec<usize> = results.iter().map(|r| model(r).levels_used).collect();
    assert_eq!(used, [1, 2, 3]);
    let last = model(&results[2]);
    let ids: Vec<_> = last
        .predictions
        .iter()
        .map(|p| p.sample.as_deref())
        .collect();
    assert_eq!(ids, [Some("S1"), Some("S2"), Some("S3")]);
    assert!(
        last.dosing.contains("3 samples from 2026-03-02T09:00"),
        "{}",
        last.dosing
    );
    assert!(
        last.dosing
            .contains("400 mg every 24 h, then 600 mg every 24 h"),
        "{}",
        last.dosing
    );

    // By hand: 53 morning doses before S3 (27 March 09:00), 400 mg up to
    // 10 March (the 17th day before S3) and 600 mg after.
    let doses: Vec<(f64, f64)> = (1..=53)
        .map(|days_before| {
            let mg = if days_before >= 17 { 400.0 } else { 600.0 };
            (-24.0 * f64::from(days_before), mg)
        })
        .collect();
    let levels = vec![
        Level {
            t_h: -25.0 * 24.0,
            ng_ml: 900.0,
            analyte: Analyte::Parent,
        },
        Level {
            t_h: -(6.0 * 24.0 + 18.0),
            ng_ml: 2600.0,
            analyte: Analyte::Parent,
        },
        Level {
            t_h: 0.0,
            ng_ml: 1500.0,
            analyte: Analyte::Parent,
        },
    ];
    let m = &pack_.drug("imatinib").unwrap().models[0].model;
    let patient = Patient {
        typical: m.typical_for(&[]).unwrap(),
        dosing: Dosing::History(doses),
        levels,
    };
    let by_hand = fit(m, &patient).unwrap();
    let cl = last.parameters.iter().find(|p| p.name == "cl").unwrap();
    assert!(
        (cl.value - by_hand.params.cl).abs() < 1e-6 * cl.value,
        "{} vs {}",
        cl.value,
        by_hand.params.cl
    );
    for (p, (f, _)) in last.predictions.iter().zip(&by_hand.predictions) {
        assert!((p.predicted - f).abs() < 1e-6 * f, "{p:?} vs {f}");
    }
    // Three levels inform the trough more than one.
    let shrinkage = |r: &EvalResult| model(r).trough.as_ref().unwrap().shrinkage;
    assert!(shrinkage(&results[2]) < shrinkage(&results[0]) - 0.1);

    // S3's forecast: the same hand-written doses fitted to S1 and S2 only,
    // their curve read at S3's time.
    let earlier = Patient {
        levels: patient.levels[..2].to_vec(),
        ..patient.clone()
    };
    let from_two = fit(m, &earlier).unwrap();
    let expected = earlier.dosing.concentration(&from_two.params, 0.0);
    let forecast = last.forecast.as_ref().unwrap();
    assert_eq!(forecast.from_levels, 2);
    assert!(
        (forecast.predicted - expected).abs() < 1e-6 * expected,
        "{} vs {expected}",
        forecast.predicted
    );
    assert_eq!(forecast.observed, 1500.0);
    let error = (expected - 1500.0) / 1500.0 * 100.0;
    assert!(
        (forecast.error_percent - error).abs() < 1e-4,
        "{forecast:?}"
    );
    assert!(forecast.lower_90 < expected && expected < forecast.upper_90);
    // The first sample has nothing to be forecast from.
    assert!(model(&results[0]).forecast.is_none());
}

#[test]
fn earlier_samples_that_cannot_be_fitted_are_named_with_the_reason() {
    let lines = [
        r#"{"id": "A", "patient": "P", "sampled_at": "2026-03-01T09:00", "value": 0, "below_lloq": true, "dose_mg": 400, "hours_since_dose": 24, "#,
        r#"{"id": "B", "patient": "P", "sampled_at": "2026-03-05T09:00", "value": 1000, "hours_since_dose": 24, "#,
        r#"{"id": "C", "patient": "P", "sampled_at": "2026-03-20T09:00", "value": 1000, "dose_mg": 400, "hours_since_dose": 24, "#,
        r#"{"id": "D", "patient": "P", "sampled_at": "2026-03-10T09:00", "value": 1100, "dose_mg": 400, "hours_since_dose": 24, "#,
        r#"{"id": "E", "patient": "Q", "value": 1100, "dose_mg": 400, "hours_since_dose": 24, "#,
    ]
    .map(|s| format!("{s}{IMATINIB}}}\n"))
    .concat();
    let results = evaluate(pack(), &lines);
    let warnings = |i: usize| results[i].warnings.join("\n");
    assert_eq!(model(&results[2]).levels_used, 1);
    let c = warnings(2);
    assert!(c.contains("earlier samples of patient P not fitted"), "{c}");
    assert!(c.contains("A (an undetectable level"), "{c}");
    assert!(c.contains("B (the dose (dose_mg))"), "{c}");
    // D is listed after C but drawn before it: fitted with A-C only, of
    // which none fit, and C is named as out of order.
    let d = warnings(3);
    assert!(
        d.contains("C (listed before this sample, drawn at or after it"),
        "{d}"
    );
    assert_eq!(model(&results[3]).levels_used, 1);
    // Without `sampled_at`, a sample is fitted alone and not remembered.
    assert_eq!(model(&results[4]).levels_used, 1);
}

#[test]
fn a_dose_change_without_days_on_dose_is_assumed_from_the_earlier_sample_on() {
    let lines = [
        r#"{"id": "A", "patient": "P", "sampled_at": "2026-03-01T09:00", "value": 900, "dose_mg": 400, "hours_since_dose": 24, "#,
        r#"{"id": "B", "patient": "P", "sampled_at": "2026-03-15T09:00", "value": 1500, "dose_mg": 600, "hours_since_dose": 24, "#,
    ]
    .map(|s| format!("{s}{IMATINIB}}}\n"))
    .concat();
    let results = evaluate(pack(), &lines);
    let b = model(&results[1]);
    assert_eq!(b.levels_used, 2);
    assert!(
        b.dosing.contains("from the earlier sample on"),
        "{}",
        b.dosing
    );
}

/// Twenty weekly troughs of one patient: the fit converges with every one
/// of them (with many levels the objective is steep, and BFGS from a unit
/// first step once failed its line search at the 14th).
#[test]
fn twenty_weekly_troughs_are_all_fitted() {
    let lines: String = (0..20u32)
        .map(|week| {
            let day = 1 + week * 7;
            let (month, day) = (1 + (day - 1) / 28, 1 + (day - 1) % 28);
            let value = 700 + (23 * 37 + week * 11) % 900;
            format!(
                r#"{{"id": "W{week}", "patient": "P", "sampled_at": "2026-{month:02}-{day:02}T09:00", "value": {value}, "dose_mg": 400, "hours_since_dose": 24, {IMATINIB}}}"#
            ) + "\n"
        })
        .collect();
    let results = evaluate(pack(), &lines);
    for (week, r) in results.iter().enumerate() {
        let m = r.assessment.as_ref().unwrap().model.as_ref();
        assert_eq!(m.map(|m| m.levels_used), Some(week + 1), "{:?}", r.warnings);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(60))]

    /// Histories of up to 12 samples, levels from a fifth to five times
    /// the typical, any time after the dose, doses changing: every fit
    /// converges (a level the model cannot explain is said, not dropped).
    #[test]
    fn plausible_histories_are_always_fitted(
        samples in proptest::collection::vec(
            (0.2f64..5.0, 1u32..=26, proptest::sample::select(vec![300, 400, 600, 800]), 3u32..30),
            1..12,
        ),
    ) {
        let lines: String = samples
            .iter()
            .enumerate()
            .map(|(week, (scale, hours, dose, days))| {
                let day = 1 + week * 7;
                let (month, day) = (1 + (day - 1) / 28, 1 + (day - 1) % 28);
                let value = (scale * 1000.0 * f64::from(*dose) / 400.0).round();
                format!(
                    r#"{{"patient": "P", "sampled_at": "2026-{month:02}-{day:02}T09:00", "value": {value}, "dose_mg": {dose}, "hours_since_dose": {hours}, "days_on_dose": {days}, {IMATINIB}}}"#
                ) + "\n"
            })
            .collect();
        let results = evaluate(pack(), &lines);
        for r in &results {
            let fitted = r.assessment.as_ref().and_then(|a| a.model.as_ref());
            proptest::prop_assert!(fitted.is_some(), "{:?} {:?}", r.error, r.warnings);
        }
    }
}

#[test]
fn another_time_of_day_neither_skips_nor_doubles_a_dose() {
    // S1: a trough at 09:00, the dose taken at 09:00; S2 says 600 mg for
    // 30 days (since before S1), taken at 08:30. After S1 the 09:00 dose
    // is still taken, then the 08:30 doses: no gap of two days, no two
    // doses within half a day.
    let text = [
        r#"{"id": "A1", "patient": "Q", "sampled_at": "2026-03-02T09:00", "value": 900, "dose_mg": 400, "hours_since_dose": 24, "days_on_dose": 28, "#,
        r#"{"id": "A2", "patient": "Q", "sampled_at": "2026-03-20T08:30", "value": 1500, "dose_mg": 600, "hours_since_dose": 24, "days_on_dose": 30, "#,
    ]
    .map(|s| format!("{s}{IMATINIB}}}\n"))
    .concat();
    let results = evaluate(pack(), &text);
    let detail = model(&results[1]).detail.as_deref().unwrap();
    let Dosing::Courses(courses) = &detail.patient.dosing else {
        panic!("{:?}", detail.patient.dosing)
    };
    let mut times: Vec<f64> = courses
        .iter()
        .flat_map(|c| (0..c.count.unwrap()).map(move |k| c.last_h - f64::from(k) * c.tau_h))
        .collect();
    times.sort_by(f64::total_cmp);
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| (12.0..=36.0).contains(g)), "{gaps:?}");
    // The 09:00 dose after A1 (at A1's time, 17 days 23.5 h before A2).
    let a1 = -(17.0 * 24.0 + 23.5);
    assert!(times.iter().any(|t| (t - a1).abs() < 1e-6), "{times:?}");
}
