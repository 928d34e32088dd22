//! MAP estimation against what must hold whatever the implementation:
//! known etas are recovered from nearly error-free simulated levels, and
//! with no level the posterior is the prior.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tdm_core::pk::{Dosing, Level, Model, Param, Params, Patient, Residual, fit, predict};

/// A one-compartment model with etas on CL, V and ka, and a CL-V
/// correlation.
fn model(sigma: f64) -> Model {
    Model {
        id: "test".into(),
        typical: Params {
            ka: 0.6,
            cl: 14.0,
            v1: 350.0,
            q: 0.0,
            v2: 0.0,
            lag_h: 0.0,
            f: 1.0,
        },
        etas: vec![Param::Cl, Param::V1, Param::Ka],
        omega: vec![0.13, 0.09, 0.0, 0.09, 0.40, 0.0, 0.0, 0.0, 0.2],
        residual: Residual::Proportional { b: sigma },
        covariates: vec![],
    }
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
    let dosing = Dosing::Regular {
        dose_mg: 400.0,
        tau_h: 24.0,
        count: None,
    };
    let patient = Patient {
        typical: m.typical,
        dosing: dosing.clone(),
        levels: vec![],
    };
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
    let dosing = Dosing::Regular {
        dose_mg: 400.0,
        tau_h: 24.0,
        count: None,
    };
    let levels = vec![Level {
        t_h: 23.0,
        ng_ml: 600.0,
    }];
    let patient = Patient {
        typical: m.typical,
        dosing: dosing.clone(),
        levels,
    };
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
