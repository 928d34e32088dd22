//! The patient's curve as `tdm report` draws it: on the history's doses it
//! passes through the fit's predictions at the levels; a switch to a new
//! regimen is the same as the doses written out one by one (superposition,
//! another path through the closed forms), and it settles on the new
//! regimen's steady state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use tdm_core::pk::curve::curve;
use tdm_core::pk::{Analyte, Dosing, Level, Model, Param, Params, Patient, Residual, fit};

fn model() -> Model {
    Model {
        id: "test".into(),
        typical: Params::one_compartment(0.6, 14.0, 350.0),
        etas: vec![Param::Cl, Param::V1],
        omega: vec![0.13, 0.0, 0.0, 0.4],
        residual: Residual::Proportional { b: 0.3 },
        metabolite_residual: None,
        covariates: vec![],
    }
}

/// 400 mg at 08:00 for 20 days (day 0 to 19), levels on days 10 and 19.
fn patient(m: &Model) -> Patient {
    let doses: Vec<(f64, f64)> = (0..20).map(|d| (f64::from(d) * 24.0, 400.0)).collect();
    Patient {
        typical: m.typical,
        dosing: Dosing::History(doses),
        levels: vec![
            Level {
                t_h: 10.0 * 24.0 + 23.0,
                ng_ml: 700.0,
                analyte: Analyte::Parent,
            },
            Level {
                t_h: 19.0 * 24.0 + 4.0,
                ng_ml: 1900.0,
                analyte: Analyte::Parent,
            },
        ],
    }
}

#[test]
fn the_curve_passes_through_the_fits_predictions() {
    let m = model();
    let p = patient(&m);
    let f = fit(&m, &p).unwrap();
    let points = curve(
        Analyte::Parent,
        &m,
        &p,
        &f,
        &p.dosing,
        (0.0, 20.0 * 24.0),
        24.0,
    );
    assert_eq!(points.len(), 20 * 8 + 1);
    for (level, (predicted, _)) in p.levels.iter().zip(&f.predictions) {
        let at = curve(
            Analyte::Parent,
            &m,
            &p,
            &f,
            &p.dosing,
            (level.t_h, level.t_h + 1.0),
            24.0,
        )[0];
        assert!(
            (at.value - predicted).abs() < 1e-9 * predicted,
            "{at:?} {predicted}"
        );
        assert!(at.lower_90 < at.value && at.value < at.upper_90);
    }
    // Before the first dose, nothing.
    assert_eq!(points[0].value, 0.0);
}

#[test]
fn a_switch_is_the_doses_written_out_and_settles_on_the_new_steady_state() {
    let m = model();
    let p = patient(&m);
    let f = fit(&m, &p).unwrap();
    // From day 20 on, 300 mg every 12 h, 40 doses.
    let switched = p.dosing.then(20.0 * 24.0, 300.0, 12.0, 40);
    let mut by_hand: Vec<(f64, f64)> = (0..20).map(|d| (f64::from(d) * 24.0, 400.0)).collect();
    by_hand.extend((0..40).map(|k| (20.0 * 24.0 + f64::from(k) * 12.0, 300.0)));
    let by_hand = Dosing::History(by_hand);
    for t in [100.0, 479.0, 480.0, 481.5, 500.0, 700.0, 719.9, 900.0] {
        let (a, b) = (
            switched.concentration(&f.params, t),
            by_hand.concentration(&f.params, t),
        );
        assert!((a - b).abs() < 1e-9 * b.max(1.0), "t {t}: {a} vs {b}");
    }
    // The last dose at 480 + 39 * 12 = 948 h; its trough 12 h later is
    // the steady-state trough of 300 mg every 12 h (40 doses: 1 - 1e-6 of it).
    let steady = Dosing::Regular {
        dose_mg: 300.0,
        tau_h: 12.0,
        count: None,
    }
    .concentration(&f.params, 12.0);
    let end = switched.concentration(&f.params, 960.0);
    assert!((end - steady).abs() < 1e-3 * steady, "{end} vs {steady}");
    // A switch in the middle of a course drops the doses from then on.
    let early = p.dosing.then(10.0 * 24.0, 300.0, 12.0, 1);
    let mut written: Vec<(f64, f64)> = (0..10).map(|d| (f64::from(d) * 24.0, 400.0)).collect();
    written.push((240.0, 300.0));
    let written = Dosing::History(written);
    for t in [239.0, 250.0, 400.0] {
        let (a, b) = (
            early.concentration(&f.params, t),
            written.concentration(&f.params, t),
        );
        assert!((a - b).abs() < 1e-9 * b.max(1.0), "t {t}: {a} vs {b}");
    }
}

#[test]
fn a_steady_state_regimen_switched_keeps_its_past_doses() {
    let m = model();
    let steady = Dosing::Regular {
        dose_mg: 400.0,
        tau_h: 24.0,
        count: None,
    };
    // The regular regimen's last dose at 0; the next is replaced at 24 h.
    let switched = steady.then(24.0, 600.0, 24.0, 1);
    let p = m.typical;
    let before = steady.concentration(&p, 23.0);
    assert!((switched.concentration(&p, 23.0) - before).abs() < 1e-9 * before);
    // At 48 h: the old regimen's doses up to 0 h and 600 mg at 24 h.
    let old = steady.concentration(&p, 48.0);
    let new_dose = Dosing::Regular {
        dose_mg: 600.0,
        tau_h: 24.0,
        count: Some(1),
    }
    .concentration(&p, 24.0);
    let both = switched.concentration(&p, 48.0);
    assert!(
        (both - (old + new_dose)).abs() < 1e-9 * both,
        "{both} vs {}",
        old + new_dose
    );
}
