//! MAP with a parent and its metabolite, both measured: Yu 2015's
//! semi-physiological sunitinib + SU12662 model, fitted to the two
//! analytes' levels (each with its own residual error) and predicting the
//! total trough, against the independent implementation
//! (`tests/oracle/map_oracle.py`: the ODEs with the enzyme site, by the
//! matrix exponential, and scipy's optimisers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use tdm_core::pk::{
    Analyte, Dosing, Level, Model, Param, Params, Patient, Residual, fit, predict_of,
};

/// Yu et al., Br J Clin Pharmacol 2015;79:809-819, as nlmixr2lib's
/// Yu_2015_sunitinib.R gives it (70 kg): etas on Vc, the metabolite's Vc
/// and CL, and CL, with their covariances.
fn yu2015() -> Model {
    Model {
        id: "yu2015".into(),
        typical: Params {
            ka: 0.34,
            cl: 35.7,
            v1: 1360.0,
            q: 0.0,
            v2: 0.0,
            lag_h: 0.0,
            f: 1.0,
            qh: 80.0,
            fm: 0.21,
            cl_m: 17.1,
            v_m: 635.0,
            q_m: 20.1,
            v_mp: 388.0,
        },
        etas: vec![Param::V1, Param::VM, Param::ClM, Param::Cl],
        omega: vec![
            0.0998, 0.0816, 0.0, 0.0, //
            0.0816, 0.2891, 0.0978, 0.0, //
            0.0, 0.0978, 0.1632, 0.0706, //
            0.0, 0.0, 0.0706, 0.1087,
        ],
        residual: Residual::Proportional { b: 0.2449 },
        metabolite_residual: Some(Residual::Proportional { b: 0.1732 }),
        covariates: vec![],
    }
}

struct Case {
    id: &'static str,
    doses: Vec<(f64, f64)>,
    /// (time h, ng/mL, of the metabolite)
    levels: Vec<(f64, f64, bool)>,
    current_mg: f64,
}

fn daily(days: std::ops::Range<u32>, mg: f64) -> Vec<(f64, f64)> {
    days.map(|d| (f64::from(d) * 24.0, mg)).collect()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            id: "a trough of both on day 28 of 50 mg",
            doses: daily(0..28, 50.0),
            levels: vec![(28.0 * 24.0, 62.0, false), (28.0 * 24.0, 24.0, true)],
            current_mg: 50.0,
        },
        Case {
            id: "37.5 mg 4 weeks on: a level 6 h after a dose and one in the week off",
            doses: daily(0..28, 37.5),
            levels: vec![
                (27.0 * 24.0 + 6.0, 75.0, false),
                (27.0 * 24.0 + 6.0, 19.0, true),
                (34.0 * 24.0, 3.0, false),
                (34.0 * 24.0, 6.5, true),
            ],
            current_mg: 37.5,
        },
        Case {
            id: "a high metabolite share",
            doses: daily(0..21, 50.0),
            levels: vec![(21.0 * 24.0, 40.0, false), (21.0 * 24.0, 45.0, true)],
            current_mg: 50.0,
        },
    ]
}

fn model_json(m: &Model) -> serde_json::Value {
    let t = &m.typical;
    let n = m.etas.len();
    let omega: Vec<Vec<f64>> = (0..n)
        .map(|i| m.omega[i * n..(i + 1) * n].to_vec())
        .collect();
    serde_json::json!({
        "typical": {
            "ka": t.ka, "cl": t.cl, "v1": t.v1, "q": t.q, "v2": t.v2, "lag_h": t.lag_h, "f": t.f,
            "qh": t.qh, "fm": t.fm, "cl_m": t.cl_m, "v_m": t.v_m, "q_m": t.q_m, "v_mp": t.v_mp,
        },
        "etas": m.etas.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "omega": omega,
        "residual": {"kind": "proportional", "b": 0.2449},
        "metabolite_residual": {"kind": "proportional", "b": 0.1732},
    })
}

#[test]
fn a_parent_and_metabolite_fit_agrees_with_the_independent_implementation() {
    let m = yu2015();
    let cases = cases();
    let patients: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            let levels: Vec<serde_json::Value> = c
                .levels
                .iter()
                .map(|&(t, v, metabolite)| {
                    serde_json::json!([t, v, if metabolite { "metabolite" } else { "parent" }])
                })
                .collect();
            serde_json::json!({
                "id": c.id, "doses": c.doses, "levels": levels, "current_dose_mg": c.current_mg,
                "tau_h": 24.0, "steady_state_doses": 120, "trough_of": "total",
            })
        })
        .collect();
    let oracle =
        common::oracle(&[serde_json::json!({"model": model_json(&m), "patients": patients})]);
    assert_eq!(oracle.len(), cases.len());
    let mut worst = 0.0f64;
    for (c, o) in cases.iter().zip(&oracle) {
        let patient = Patient {
            typical: m.typical,
            dosing: Dosing::History(c.doses.clone()),
            levels: c
                .levels
                .iter()
                .map(|&(t_h, ng_ml, metabolite)| Level {
                    t_h,
                    ng_ml,
                    analyte: if metabolite {
                        Analyte::Metabolite
                    } else {
                        Analyte::Parent
                    },
                })
                .collect(),
        };
        let f = fit(&m, &patient).unwrap();
        for (k, e) in f.eta.iter().enumerate() {
            let want = o["eta"][k].as_f64().unwrap();
            assert!(
                (e - want).abs() < 0.01 * want.abs().max(0.1),
                "{}: eta {k} {e} vs {want}",
                c.id
            );
        }
        let regimen = Dosing::Regular {
            dose_mg: c.current_mg,
            tau_h: 24.0,
            count: None,
        };
        let total = predict_of(Analyte::Total, &m, &patient, &f, &regimen, 24.0);
        for (got, key) in [
            (total.value, "trough"),
            (total.sd_log, "sd_log"),
            (total.prior_sd_log, "prior_sd_log"),
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
    eprintln!("largest relative difference in the total trough and its spreads {worst:.1e}");
}

/// A pack giving the parent + metabolite structure loads, and a sample
/// with both analytes measured against a target on their total is fitted
/// to both levels and judged on the predicted total: the same numbers as
/// the fit of those two levels written out here.
#[test]
fn a_packs_parent_and_metabolite_model_fits_both_levels_and_predicts_the_total() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/broken");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("drugs")).unwrap();
    std::fs::copy(root.join("_base/pack.yaml"), dir.path().join("pack.yaml")).unwrap();
    let drug = std::fs::read_to_string(
        root.join("38-model-parameter-in-another-unit/drugs/testinib.yaml"),
    )
    .unwrap();
    let head = drug[..drug.find("models:").unwrap()].replace(
        "    population_mean: 1200\n",
        "    population_mean: 1200\n    sum_of: [testinib, M1]\n",
    );
    let model = "models:
  - id: m
    source: base
    population: {n: 10, indications: [any], doses_mg: [100, 800]}
    structure: one_compartment_hepatic_metabolite
    unit: ng/mL
    parameters:
      - {name: ka, value: 0.34, unit: 1/h}
      - {name: cl, value: 35.7, unit: L/h}
      - {name: v1, value: 1360, unit: L}
      - {name: qh, value: 80, unit: L/h}
      - {name: fm, value: 0.21, unit: \"1\"}
      - {name: cl_m, value: 17.1, unit: L/h}
      - {name: v_m, value: 635, unit: L}
      - {name: q_m, value: 20.1, unit: L/h}
      - {name: v_mp, value: 388, unit: L}
    iiv:
      - {param: cl, variance: 0.1087}
      - {param: cl_m, variance: 0.1632}
    covariances:
      - {between: [cl, cl_m], value: 0.0706}
    residual: {form: proportional, proportional: 0.2449}
    metabolite:
      analyte: M1
      residual: {form: proportional, proportional: 0.1732}
";
    std::fs::write(
        dir.path().join("drugs/testinib.yaml"),
        format!("{head}{model}"),
    )
    .unwrap();
    let pack = tdm_core::load_pack(dir.path()).unwrap();
    let m = &pack.drug("testinib").unwrap().models[0];
    assert_eq!(m.metabolite, Some(1));
    assert_eq!(m.model.typical.qh, 80.0);
    assert_eq!(m.model.etas, [Param::Cl, Param::ClM]);
    assert_eq!(
        m.model.metabolite_residual,
        Some(Residual::Proportional { b: 0.1732 })
    );
    let fields = serde_json::json!({
        "drug": "testinib", "value": 900, "unit": "ng/mL", "metabolites": {"M1": 400},
        "dose_mg": 400, "hours_since_dose": 24, "days_on_dose": 30, "toxicity_grade": 0,
    });
    let sample =
        tdm_core::Sample::from_map(fields.as_object().unwrap(), tdm_core::input::Cells::Typed)
            .unwrap();
    let r = tdm_core::evaluate(&pack, &sample);
    let block = r
        .assessment
        .as_ref()
        .unwrap()
        .model
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", r.warnings));
    assert_eq!(block.analyte, "testinib + M1");
    assert_eq!(block.levels_used, 2);
    let analytes: Vec<&str> = block
        .predictions
        .iter()
        .map(|p| p.analyte.as_str())
        .collect();
    assert_eq!(analytes, ["testinib", "M1"]);

    // By hand: 30 daily doses of 400 mg, both levels 24 h after the last.
    let patient = Patient {
        typical: m.model.typical,
        dosing: Dosing::Regular {
            dose_mg: 400.0,
            tau_h: 24.0,
            count: Some(30),
        },
        levels: vec![
            Level {
                t_h: 24.0,
                ng_ml: 900.0,
                analyte: Analyte::Parent,
            },
            Level {
                t_h: 24.0,
                ng_ml: 400.0,
                analyte: Analyte::Metabolite,
            },
        ],
    };
    let by_hand = fit(&m.model, &patient).unwrap();
    let steady = Dosing::Regular {
        dose_mg: 400.0,
        tau_h: 24.0,
        count: None,
    };
    let total = predict_of(Analyte::Total, &m.model, &patient, &by_hand, &steady, 24.0);
    let trough = block.trough.as_ref().unwrap();
    assert!(
        (trough.value - total.value).abs() < 1e-6 * total.value,
        "{} vs {}",
        trough.value,
        total.value
    );
    for (p, (f, _)) in block.predictions.iter().zip(&by_hand.predictions) {
        assert!((p.predicted - f).abs() < 1e-6 * f, "{p:?} vs {f}");
    }
    // The dose table is of the total too: the current dose's row is the trough.
    let row = block.doses.iter().find(|d| d.dose_mg == 400.0).unwrap();
    assert!((row.trough - trough.value).abs() < 1e-9 * trough.value);
}
