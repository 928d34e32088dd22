//! MAP estimation for one patient: Widmer 2006's one-compartment imatinib
//! model with one, two and three levels under regular dosing, and three
//! levels after a dose change (30 doses superposed), fit and predicted
//! trough together. `cargo bench -p tdm-core --bench map`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tdm_core::pk::{Dosing, Level, Model, Param, Params, Patient, Residual, fit, predict};

fn widmer() -> Model {
    Model {
        id: "widmer2006-base".into(),
        typical: Params {
            ka: 0.61,
            cl: 14.3,
            v1: 347.0,
            q: 0.0,
            v2: 0.0,
            lag_h: 0.0,
            f: 1.0,
        },
        etas: vec![Param::Cl, Param::V1],
        omega: vec![0.1296, 0.0, 0.0, 0.3969],
        residual: Residual::Proportional { b: 0.31 },
        covariates: vec![],
    }
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
        },
        Level {
            t_h: 24.0,
            ng_ml: 900.0,
        },
        Level {
            t_h: 2.0,
            ng_ml: 1500.0,
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
    let patient = Patient {
        typical: m.typical,
        dosing: Dosing::History(history),
        levels: vec![
            Level {
                t_h: at(19.0, 24.0),
                ng_ml: 700.0,
            },
            Level {
                t_h: at(29.0, 6.0),
                ng_ml: 2000.0,
            },
            Level {
                t_h: at(29.0, 24.0),
                ng_ml: 1100.0,
            },
        ],
    };
    c.bench_function(
        "map: one compartment, 3 levels, 30 doses with a dose change",
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
