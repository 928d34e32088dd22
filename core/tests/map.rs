//! MAP estimation against what must hold whatever the implementation:
//! known etas are recovered from nearly error-free simulated levels, and
//! with no level the posterior is the prior.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use tdm_core::pk::{
    Analyte, Course, Dosing, Level, Model, Param, Params, Patient, Residual, fit, predict,
};

/// A one-compartment model with etas on CL, V and ka, and a CL-V
/// correlation.
fn model(sigma: f64) -> Model {
    Model {
        id: "test".into(),
        typical: Params::one_compartment(0.6, 14.0, 350.0),
        etas: vec![Param::Cl, Param::V1, Param::Ka],
        omega: vec![0.13, 0.09, 0.0, 0.09, 0.40, 0.0, 0.0, 0.0, 0.2],
        residual: Residual::Proportional { b: sigma },
        metabolite_residual: None,
        covariates: vec![],
    }
}

/// 400 mg every 24 h at steady state, and a patient of `m` with `levels`.
fn at_steady_state(m: &Model, levels: Vec<Level>) -> (Dosing, Patient) {
    let dosing = Dosing::Regular {
        dose_mg: 400.0,
        tau_h: 24.0,
        count: None,
    };
    let patient = Patient {
        typical: m.typical,
        dosing: dosing.clone(),
        levels,
    };
    (dosing, patient)
}

fn history() -> Dosing {
    // 400 mg daily for 10 days, then 600 mg.
    Dosing::History(
        (0..14)
            .map(|d| (f64::from(d) * 24.0, if d < 10 { 400.0 } else { 600.0 }))
            .collect(),
    )
}

#[test]
fn known_etas_are_recovered_from_levels_with_little_error() {
    let m = model(0.01);
    let truth = [0.3, -0.4, 0.25];
    let dosing = history();
    let p = m.individual(&m.typical, &truth);
    let levels: Vec<Level> = [217.0, 219.0, 222.0, 228.0, 236.0, 320.0, 332.0]
        .iter()
        .map(|&t| Level {
            t_h: t,
            ng_ml: dosing.concentration(&p, t),
            analyte: Analyte::Parent,
        })
        .collect();
    let patient = Patient {
        typical: m.typical,
        dosing,
        levels,
    };
    let f = fit(&m, &patient).unwrap();
    for (i, (got, want)) in f.eta.iter().zip(truth).enumerate() {
        // The prior pulls a little even at 1 % error.
        assert!((got - want).abs() < 0.03, "eta {i}: {got} vs {want}");
    }
    assert!(
        f.predictions.iter().all(|(_, r)| r.abs() < 2.0),
        "{:?}",
        f.predictions
    );
}

#[test]
fn with_no_level_the_posterior_is_the_prior() {
    let m = model(0.3);
    let (dosing, patient) = at_steady_state(&m, vec![]);
    let f = fit(&m, &patient).unwrap();
    assert!(f.eta.iter().all(|e| e.abs() < 1e-6), "{:?}", f.eta);
    for (got, want) in f.covariance.iter().zip(&m.omega) {
        assert!(
            (got - want).abs() < 1e-4,
            "{:?} vs {:?}",
            f.covariance,
            m.omega
        );
    }
    let trough = predict(&m, &patient, &f, &dosing, 24.0);
    assert!((trough.shrinkage() - 1.0).abs() < 1e-3, "{trough:?}");
}

#[test]
fn a_level_informs_the_trough_more_than_the_prior_does() {
    let m = model(0.1);
    let (dosing, patient) = at_steady_state(
        &m,
        vec![Level {
            t_h: 23.0,
            ng_ml: 600.0,
            analyte: Analyte::Parent,
        }],
    );
    let f = fit(&m, &patient).unwrap();
    let trough = predict(&m, &patient, &f, &dosing, 24.0);
    assert!(trough.shrinkage() < 0.5, "{trough:?}");
    // The prediction lies between the typical patient's trough and the level.
    let typical = dosing.concentration(&m.typical, 24.0);
    assert!(
        trough.value < typical && trough.value > 550.0,
        "{} vs {typical}",
        trough.value
    );
}

/// One fixture patient: doses (time h, mg), levels (time h, ng/mL), and
/// the regimen whose steady-state trough is predicted.
struct Case {
    id: &'static str,
    doses: Vec<(f64, f64)>,
    levels: Vec<(f64, f64)>,
    current_mg: f64,
    /// Fitted as these courses (the doses they stand for go to the oracle).
    courses: Option<Vec<Course>>,
}

/// The doses of `courses`, one by one (each course's count given).
fn expand(courses: &[Course]) -> Vec<(f64, f64)> {
    courses
        .iter()
        .flat_map(|c| {
            (0..c.count.unwrap()).map(move |j| (c.last_h - f64::from(j) * c.tau_h, c.dose_mg))
        })
        .collect()
}

fn daily(days: std::ops::Range<u32>, mg: f64) -> Vec<(f64, f64)> {
    days.map(|d| (f64::from(d) * 24.0, mg)).collect()
}

/// Three samples of one patient, as `tdm eval` builds their dosing: 800 mg
/// daily, a trough after 3 weeks; then 400 mg from day 24, a level 3 h
/// after the morning dose on day 34; then a trough drawn 30 h after the
/// last dose (a dose missed) on day 45. Courses end where a sample was
/// drawn: no dose between a level and the dose before it.
fn pazopanib_samples() -> Case {
    let at = |day: u32, h: f64| f64::from(day) * 24.0 + h;
    let courses = vec![
        Course {
            last_h: at(20, 0.0),
            dose_mg: 800.0,
            tau_h: 24.0,
            count: Some(21),
        },
        Course {
            last_h: at(23, 0.0),
            dose_mg: 800.0,
            tau_h: 24.0,
            count: Some(2),
        },
        Course {
            last_h: at(34, 0.0),
            dose_mg: 400.0,
            tau_h: 24.0,
            count: Some(11),
        },
        Course {
            last_h: at(43, 18.0),
            dose_mg: 400.0,
            tau_h: 24.0,
            count: Some(10),
        },
    ];
    Case {
        id: "pazopanib three samples as courses, a dose missed",
        doses: expand(&courses),
        levels: vec![
            (at(21, 0.0), 26000.0),
            (at(34, 3.0), 24000.0),
            (at(45, 0.0), 12000.0),
        ],
        current_mg: 400.0,
        courses: Some(courses),
    }
}

/// Widmer 2006's imatinib base model and Ozbey 2021's pazopanib model (at
/// AST 50 U/L) as the pack ships them, with fixture patients of one, two
/// and three levels and a dose change.
fn fixtures() -> Vec<(Model, Vec<Case>)> {
    let widmer = Model {
        id: "widmer2006-base".into(),
        typical: Params::one_compartment(0.61, 14.3, 347.0),
        etas: vec![Param::Cl, Param::V1],
        omega: vec![0.1296, 0.0, 0.0, 0.3969],
        residual: Residual::Proportional { b: 0.31 },
        metabolite_residual: None,
        covariates: vec![],
    };
    let at = |day: u32, h: f64| f64::from(day) * 24.0 + h;
    let imatinib = vec![
        Case {
            id: "one level 6 h after the dose",
            doses: daily(0..30, 400.0),
            levels: vec![(at(29, 6.0), 1800.0)],
            current_mg: 400.0,
            courses: None,
        },
        Case {
            id: "two levels",
            doses: daily(0..30, 400.0),
            levels: vec![(at(29, 6.0), 1800.0), (at(29, 24.0), 900.0)],
            current_mg: 400.0,
            courses: None,
        },
        Case {
            id: "three levels",
            doses: daily(0..30, 400.0),
            levels: vec![
                (at(29, 2.0), 1500.0),
                (at(29, 6.0), 2100.0),
                (at(29, 23.0), 1200.0),
            ],
            current_mg: 400.0,
            courses: None,
        },
        Case {
            id: "dose change 400 -> 600 mg",
            doses: [daily(0..20, 400.0), daily(20..30, 600.0)].concat(),
            levels: vec![
                (at(19, 24.0), 700.0),
                (at(29, 6.0), 2000.0),
                (at(29, 24.0), 1100.0),
            ],
            current_mg: 600.0,
            courses: None,
        },
        Case {
            // tests/history.rs and the pack case `model-history-3`: 400 mg
            // daily from 2 February, 600 mg from 11 March, three samples.
            id: "three samples of one patient",
            doses: [daily(0..37, 400.0), daily(37..53, 600.0)].concat(),
            levels: vec![
                (at(28, 0.0), 900.0),
                (at(46, 6.0), 2600.0),
                (at(53, 0.0), 1500.0),
            ],
            current_mg: 600.0,
            courses: None,
        },
    ];
    let mut ozbey = Model {
        id: "ozbey2021".into(),
        typical: Params::one_compartment(0.976, 0.458, 22.3),
        etas: vec![Param::Ka, Param::V1, Param::Cl],
        omega: vec![0.044521, 0.0, 0.0, 0.0, 0.061504, 0.0, 0.0, 0.0, 0.509796],
        residual: Residual::CombinedSum { a: 4900.0, b: 0.05 },
        metabolite_residual: None,
        covariates: vec![],
    };
    ozbey.typical.v1 *= (50.0f64 / 36.5).powf(-0.838);
    let pazopanib = vec![
        Case {
            id: "pazopanib one trough",
            doses: daily(0..30, 800.0),
            levels: vec![(at(29, 24.0), 30000.0)],
            current_mg: 800.0,
            courses: None,
        },
        Case {
            id: "pazopanib two levels",
            doses: daily(0..30, 800.0),
            levels: vec![(at(29, 4.0), 45000.0), (at(29, 24.0), 28000.0)],
            current_mg: 800.0,
            courses: None,
        },
        Case {
            id: "pazopanib dose change 800 -> 400 mg",
            doses: [daily(0..20, 800.0), daily(20..30, 400.0)].concat(),
            levels: vec![
                (at(19, 24.0), 52000.0),
                (at(29, 3.0), 30000.0),
                (at(29, 24.0), 21000.0),
            ],
            current_mg: 400.0,
            courses: None,
        },
        pazopanib_samples(),
    ];
    vec![(widmer, imatinib), (ozbey, pazopanib)]
}

fn model_json(m: &Model) -> serde_json::Value {
    let t = &m.typical;
    let residual = match m.residual {
        Residual::Proportional { b } => serde_json::json!({"kind": "proportional", "b": b}),
        Residual::CombinedSum { a, b } => {
            serde_json::json!({"kind": "combined_sum", "a": a, "b": b})
        }
        other => panic!("no fixture uses {other:?}"),
    };
    let n = m.etas.len();
    let omega: Vec<Vec<f64>> = (0..n)
        .map(|i| m.omega[i * n..(i + 1) * n].to_vec())
        .collect();
    serde_json::json!({
        "typical": {"ka": t.ka, "cl": t.cl, "v1": t.v1, "q": t.q, "v2": t.v2, "lag_h": t.lag_h, "f": t.f},
        "etas": m.etas.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "omega": omega,
        "residual": residual,
    })
}

/// The MAP fit agrees within 1 % with an independent implementation
/// (`tests/oracle/map_oracle.py`: scipy's matrix exponential and optimisers).
#[test]
fn map_agrees_with_the_independent_implementation() {
    let fixtures = fixtures();
    let input: Vec<serde_json::Value> =
        fixtures
            .iter()
            .map(|(m, cases)| {
                let patients: Vec<serde_json::Value> = cases
                .iter()
                .map(|c| serde_json::json!({
                    "id": c.id, "doses": c.doses, "levels": c.levels,
                    "current_dose_mg": c.current_mg, "tau_h": 24.0, "steady_state_doses": 80,
                }))
                .collect();
                serde_json::json!({"model": model_json(m), "patients": patients})
            })
            .collect();
    // `TDM_ORACLE_FIXTURES=FILE` keeps the fixtures, to time the oracle alone.
    if let Ok(path) = std::env::var("TDM_ORACLE_FIXTURES") {
        std::fs::write(path, serde_json::to_vec(&input).unwrap()).unwrap();
    }
    let oracle = common::oracle(&input);
    let (mut i, mut worst) = (0, 0.0f64);
    for (m, cases) in &fixtures {
        for c in cases {
            let o = &oracle[i];
            i += 1;
            let patient = Patient {
                typical: m.typical,
                dosing: c
                    .courses
                    .clone()
                    .map_or_else(|| Dosing::History(c.doses.clone()), Dosing::Courses),
                levels: c
                    .levels
                    .iter()
                    .map(|&(t_h, ng_ml)| Level {
                        t_h,
                        ng_ml,
                        analyte: Analyte::Parent,
                    })
                    .collect(),
            };
            let f = fit(m, &patient).unwrap();
            let regimen = Dosing::Regular {
                dose_mg: c.current_mg,
                tau_h: 24.0,
                count: None,
            };
            let trough = predict(m, &patient, &f, &regimen, 24.0);
            for (k, e) in f.eta.iter().enumerate() {
                let want = o["eta"][k].as_f64().unwrap();
                assert!(
                    (e - want).abs() < 0.01 * want.abs().max(0.1),
                    "{}: eta {k} {e} vs {want}",
                    c.id
                );
            }
            for (got, key) in [
                (trough.value, "trough"),
                (trough.sd_log, "sd_log"),
                (trough.prior_sd_log, "prior_sd_log"),
            ] {
                let want = o[key].as_f64().unwrap();
                worst = worst.max(((got - want) / want).abs());
                assert!(
                    ((got - want) / want).abs() < 0.01,
                    "{}: {key} {got} vs {want}",
                    c.id
                );
            }
        }
    }
    assert_eq!(i, oracle.len());
    eprintln!("{i} patients: largest relative difference in trough and its spread {worst:.1e}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Whatever the level, time and dose, the fit gives an error or finite
    /// numbers (no panic, no NaN reaching a result).
    #[test]
    fn a_fit_is_finite_or_refused(
        value in proptest::prop_oneof![1e-300f64..1e-3, 1e-3f64..1e7, 1e7f64..1e300],
        t in 0.0f64..200.0,
        dose in 1e-3f64..1e5,
        count in proptest::option::of(1u32..500),
    ) {
        let m = model(0.31);
        let dosing = Dosing::Regular { dose_mg: dose, tau_h: 24.0, count };
        let patient = Patient { typical: m.typical, dosing: dosing.clone(), levels: vec![Level { t_h: t, ng_ml: value, analyte: Analyte::Parent }] };
        if let Ok(f) = fit(&m, &patient) {
            proptest::prop_assert!(f.eta.iter().all(|e| e.is_finite()), "{f:?}");
            proptest::prop_assert!(f.covariance.iter().all(|c| c.is_finite()), "{f:?}");
            let p = predict(&m, &patient, &f, &dosing, 24.0);
            proptest::prop_assert!(p.value.is_finite() || p.value == 0.0, "{p:?}");
        }
    }
}

/// The sensitivity that carries inter-occasion variability into a next
/// level's interval: a concentration is proportional to F (exactly 1), and
/// falls as clearance rises.
#[test]
fn log_sensitivities_have_their_known_values() {
    let m = model(0.3);
    let (dosing, patient) = at_steady_state(
        &m,
        vec![Level {
            t_h: 24.0,
            ng_ml: 700.0,
            analyte: Analyte::Parent,
        }],
    );
    let f = fit(&m, &patient).unwrap();
    let to_f = tdm_core::pk::log_sensitivity(&m, &patient, &f, &dosing, 24.0, Param::F);
    assert!((to_f - 1.0).abs() < 1e-6, "{to_f}");
    let to_cl = tdm_core::pk::log_sensitivity(&m, &patient, &f, &dosing, 24.0, Param::Cl);
    assert!(to_cl < -0.5, "{to_cl}");
}

/// A course gives what its doses give one by one, at times before, inside
/// and after it (a course still running at a level counts only the doses
/// given by then); a course since long before is the limit of many doses.
#[test]
fn courses_are_the_doses_they_stand_for() {
    let two_compartments = Params {
        q: 8.0,
        v2: 300.0,
        lag_h: 0.75,
        f: 0.8,
        ..Params::one_compartment(1.1, 10.0, 120.0)
    };
    let courses = vec![
        Course {
            last_h: 240.0,
            dose_mg: 400.0,
            tau_h: 24.0,
            count: Some(11),
        },
        Course {
            last_h: 402.0,
            dose_mg: 200.0,
            tau_h: 12.0,
            count: Some(13),
        },
        Course {
            last_h: 500.0,
            dose_mg: 600.0,
            tau_h: 24.0,
            count: Some(3),
        },
    ];
    let doses = expand(&courses);
    for p in [model(0.1).typical, two_compartments] {
        for t in (0..560).map(|i| f64::from(i) * 0.97) {
            let by_course = Dosing::Courses(courses.clone()).concentration(&p, t);
            let one_by_one = Dosing::History(doses.clone()).concentration(&p, t);
            assert!(
                (by_course - one_by_one).abs() <= 1e-9 * one_by_one.max(1e-3),
                "t {t}: {by_course} vs {one_by_one}"
            );
        }
        // An irregular list: a missed dose, a dose change, a late dose, out
        // of order; merged into courses, it gives what it gives dose by dose.
        let mut irregular: Vec<(f64, f64)> = (0..40)
            .filter(|d| *d != 17)
            .map(|d| (f64::from(d) * 24.0, if d < 25 { 400.0 } else { 600.0 }))
            .collect();
        irregular.push((40.0 * 24.0 + 5.0, 600.0));
        irregular.reverse();
        let merged = tdm_core::pk::courses_of(&irregular);
        assert!(merged.len() <= 5, "{merged:?}");
        for t in (0..1000).map(|i| f64::from(i) * 1.01) {
            let a = Dosing::Courses(merged.clone()).concentration(&p, t);
            let b = Dosing::History(irregular.clone()).concentration(&p, t);
            assert!((a - b).abs() <= 1e-9 * b.max(1e-3), "t {t}: {a} vs {b}");
        }
        // Two courses on one grid join into one; a third off the grid stays.
        let split = vec![
            Course {
                last_h: 96.0,
                dose_mg: 400.0,
                tau_h: 24.0,
                count: None,
            },
            Course {
                last_h: 240.0,
                dose_mg: 400.0,
                tau_h: 24.0,
                count: Some(6),
            },
            Course {
                last_h: 250.0,
                dose_mg: 400.0,
                tau_h: 24.0,
                count: Some(1),
            },
        ];
        let one = tdm_core::pk::joined(split.clone());
        assert_eq!(one.len(), 2, "{one:?}");
        assert_eq!((one[0].last_h, one[0].count), (240.0, None));
        for t in [100.0, 240.0, 245.0, 251.0, 300.0] {
            let a = Dosing::Courses(one.clone()).concentration(&p, t);
            let b = Dosing::Courses(split.clone()).concentration(&p, t);
            assert!((a - b).abs() <= 1e-9 * b, "t {t}: {a} vs {b}");
        }
        let long_before = Course {
            last_h: 0.0,
            dose_mg: 400.0,
            tau_h: 24.0,
            count: None,
        };
        let many = Course {
            count: Some(3000),
            ..long_before
        };
        for t in [-30.0, -5.0, 0.5, 6.0, 24.0] {
            let a = Dosing::Courses(vec![long_before]).concentration(&p, t);
            let b = Dosing::History(expand(&[many])).concentration(&p, t);
            assert!((a - b).abs() <= 1e-9 * b, "t {t}: {a} vs {b}");
        }
    }
}

/// The probability that a patient's true trough reaches a target, from
/// importance sampling of the posterior, against the same probability by
/// quadrature of the posterior on a fine grid of the two etas (no sampling
/// at all): within 0.04 for one trough, a level 6 h after the dose, and two
/// levels, at targets below, at and above the predicted trough. The
/// Gaussian at the mode (Laplace, delta method) is printed beside them.
#[test]
fn target_probabilities_agree_with_quadrature_of_the_posterior() {
    let (widmer, cases) = fixtures().remove(0);
    let regimen = Dosing::Regular {
        dose_mg: 600.0,
        tau_h: 24.0,
        count: None,
    };
    let mut worst = 0.0f64;
    for c in cases.iter().take(3) {
        let patient = Patient {
            typical: widmer.typical,
            dosing: Dosing::History(c.doses.clone()),
            levels: c
                .levels
                .iter()
                .map(|&(t_h, ng_ml)| Level {
                    t_h,
                    ng_ml,
                    analyte: Analyte::Parent,
                })
                .collect(),
        };
        let f = fit(&widmer, &patient).unwrap();
        let post = tdm_core::pk::sir::posterior(&widmer, &patient, &f).unwrap();
        assert!(
            post.effective > 300.0,
            "{}: {} effective draws",
            c.id,
            post.effective
        );
        let j = tdm_core::pk::map::objective(&widmer, &patient).unwrap();
        let trough = |eta: &[f64]| {
            let p = widmer.individual(&patient.typical, eta);
            regimen.concentration(&p, 24.0)
        };
        // The grid: 6 posterior SDs either way, 241 points per eta.
        let sd: Vec<f64> = (0..2).map(|i| f.covariance[i * 2 + i].sqrt()).collect();
        let steps = 241;
        let mut grid = Vec::with_capacity(steps * steps);
        for a in 0..steps {
            for b in 0..steps {
                let at = |k: usize, i: usize| {
                    f.eta[i] + sd[i] * 6.0 * (2.0 * k as f64 / (steps - 1) as f64 - 1.0)
                };
                let eta = [at(a, 0), at(b, 1)];
                grid.push((eta, j(&eta)));
            }
        }
        let least = grid.iter().map(|g| g.1).fold(f64::INFINITY, f64::min);
        let weights: Vec<f64> = grid.iter().map(|g| (-0.5 * (g.1 - least)).exp()).collect();
        let total: f64 = weights.iter().sum();
        let predicted = predict(&widmer, &patient, &f, &regimen, 24.0);
        for scale in [0.7, 1.0, 1.3] {
            let target = predicted.value * scale;
            let exact: f64 = grid
                .iter()
                .zip(&weights)
                .filter(|(g, _)| trough(&g.0) >= target)
                .map(|(_, w)| w)
                .sum::<f64>()
                / total;
            let sampled = post.probability(&widmer, &patient, &regimen, 24.0, |v| v >= target);
            let z = (predicted.value / target).ln() / predicted.sd_log;
            let laplace = 0.5 * (1.0 + libm::erf(z / std::f64::consts::SQRT_2));
            eprintln!(
                "{} at {scale} x the prediction: quadrature {exact:.3}, importance sampling {sampled:.3}, Laplace {laplace:.3}",
                c.id
            );
            worst = worst.max((sampled - exact).abs());
            assert!(
                (sampled - exact).abs() < 0.04,
                "{}: {sampled} vs {exact}",
                c.id
            );
        }
    }
    eprintln!("largest difference from quadrature: {worst:.3}");
}
