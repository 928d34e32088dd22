//! Times the MAP fit (and the predicted trough with its spread) of the
//! oracle's fixture patients, for `tests/bench/map-vs-oracle.sh`, which
//! times the independent implementation on the same file in the same run.
//!
//! Usage: map_fixtures FIXTURES.json [REPEATS]   (fixtures as
//! `TDM_ORACLE_FIXTURES` writes them; prints one JSON line per patient)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use serde_json::Value;
use tdm_core::pk::{
    Analyte, Dosing, Level, Model, Param, Params, Patient, Residual, courses_of, fit, predict,
};

fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn model(m: &Value) -> Model {
    let t = &m["typical"];
    let typical = Params {
        q: number(&t["q"]),
        v2: number(&t["v2"]),
        lag_h: number(&t["lag_h"]),
        f: number(&t["f"]),
        ..Params::one_compartment(number(&t["ka"]), number(&t["cl"]), number(&t["v1"]))
    };
    let residual = &m["residual"];
    let residual = match residual["kind"].as_str() {
        Some("proportional") => Residual::Proportional {
            b: number(&residual["b"]),
        },
        Some("combined_sum") => Residual::CombinedSum {
            a: number(&residual["a"]),
            b: number(&residual["b"]),
        },
        other => panic!("no fixture uses the residual {other:?}"),
    };
    Model {
        id: "fixture".into(),
        typical,
        etas: m["etas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Param::parse(e.as_str().unwrap()).unwrap())
            .collect(),
        omega: m["omega"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(number))
            .collect(),
        residual,
        metabolite_residual: None,
        covariates: vec![],
    }
}

fn pairs(v: &Value) -> Vec<(f64, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (number(&p[0]), number(&p[1])))
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: map_fixtures FIXTURES.json [REPEATS]");
    let repeats: u32 = args.next().map_or(200, |r| r.parse().expect("REPEATS"));
    let fixtures: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in &fixtures {
        let m = model(&case["model"]);
        for p in case["patients"].as_array().unwrap() {
            let patient = Patient {
                typical: m.typical,
                // As evaluation fits a dose list: runs merged into courses.
                dosing: Dosing::Courses(courses_of(&pairs(&p["doses"]))),
                levels: pairs(&p["levels"])
                    .into_iter()
                    .map(|(t_h, ng_ml)| Level {
                        t_h,
                        ng_ml,
                        analyte: Analyte::Parent,
                    })
                    .collect(),
            };
            let regimen = Dosing::Regular {
                dose_mg: number(&p["current_dose_mg"]),
                tau_h: number(&p["tau_h"]),
                count: None,
            };
            let started = Instant::now();
            let mut trough = 0.0;
            for _ in 0..repeats {
                let f = fit(&m, &patient).expect("the fixture fits");
                trough = predict(&m, &patient, &f, &regimen, number(&p["tau_h"])).value;
            }
            let seconds = started.elapsed().as_secs_f64() / f64::from(repeats);
            println!(
                "{}",
                serde_json::json!({"id": p["id"], "seconds": seconds, "trough": trough})
            );
        }
    }
}
