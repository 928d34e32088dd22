//! MAP estimation for one patient: the one-compartment imatinib model
//! ki-oncology ships (Widmer 2006), with one, two and three levels under
//! regular dosing, and three levels after a dose change (30 doses
//! superposed), fit and predicted trough together.
//! `cargo bench -p tdm-core --bench map`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tdm_core::pk::{Analyte, Dosing, Level, Model, Patient, courses_of, fit, predict};

/// The model as ki-oncology ships it.
fn widmer() -> Model {
    let pack =
        tdm_core::load_pack(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/ki-oncology")).unwrap();
    pack.drug("imatinib").unwrap().models[0].model.clone()
}

fn bench(c: &mut Criterion) {
    let m = widmer();
    let regular = Dosing::Regular {
        dose_mg: 400.0,
        tau_h: 24.0,
        count: Some(30),
    };
    let levels = [
        Level {
            t_h: 6.0,
            ng_ml: 1800.0,
            analyte: Analyte::Parent,
        },
        Level {
            t_h: 24.0,
            ng_ml: 900.0,
            analyte: Analyte::Parent,
        },
        Level {
            t_h: 2.0,
            ng_ml: 1500.0,
            analyte: Analyte::Parent,
        },
    ];
    let next = Dosing::Regular {
        dose_mg: 400.0,
        tau_h: 24.0,
        count: None,
    };
    for n in 1..=3 {
        let patient = Patient {
            typical: m.typical,
            dosing: regular.clone(),
            levels: levels[..n].to_vec(),
        };
        c.bench_function(
            &format!("map: one compartment, {n} level(s), regular dosing"),
            |b| {
                b.iter(|| {
                    let f = fit(&m, black_box(&patient)).unwrap();
                    predict(&m, &patient, &f, &next, 24.0)
                })
            },
        );
    }
    let history: Vec<(f64, f64)> = (0..30)
        .map(|d| (f64::from(d) * 24.0, if d < 20 { 400.0 } else { 600.0 }))
        .collect();
    let at = |day: f64, h: f64| day * 24.0 + h;
    let mut patient = Patient {
        typical: m.typical,
        dosing: Dosing::History(history.clone()),
        levels: vec![
            Level {
                t_h: at(19.0, 24.0),
                ng_ml: 700.0,
                analyte: Analyte::Parent,
            },
            Level {
                t_h: at(29.0, 6.0),
                ng_ml: 2000.0,
                analyte: Analyte::Parent,
            },
            Level {
                t_h: at(29.0, 24.0),
                ng_ml: 1100.0,
                analyte: Analyte::Parent,
            },
        ],
    };
    c.bench_function(
        "map: one compartment, 3 levels, 30 doses with a dose change, dose by dose",
        |b| {
            b.iter(|| {
                let f = fit(&m, black_box(&patient)).unwrap();
                predict(&m, &patient, &f, &next, 24.0)
            })
        },
    );
    // What evaluation does with a sample's `doses`: runs merged into courses.
    patient.dosing = Dosing::Courses(courses_of(&history));
    c.bench_function(
        "map: one compartment, 3 levels, 30 doses with a dose change, as courses",
        |b| {
            b.iter(|| {
                let f = fit(&m, black_box(&patient)).unwrap();
                predict(&m, &patient, &f, &next, 24.0)
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
