//! A model's virtual population: patients drawn from its between-patient
//! variability, each with the trough their parameters give and a level as
//! a laboratory would measure it (one occasion's variability and the
//! residual error added). For a committee to set a model's predicted
//! distribution beside a review's population mean and spread.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::linalg;
use super::map::Dosing;
use super::model::{Model, Param, Residual, scale};
use super::solution::Analyte;

/// One virtual patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Virtual {
    /// The concentration their own parameters give, ng/mL.
    pub true_ng_ml: f64,
    /// The same with one occasion's variability and the residual error,
    /// ng/mL: what a measured level of such a population spreads like;
    /// None where the error drawn takes it to 0 or below (an additive
    /// error at a low level: a level under any limit of quantification).
    pub measured_ng_ml: Option<f64>,
}

/// `draws` virtual patients at the model's typical values (its covariates
/// at their reference values), on `dosing`, at `t_h`: the concentration
/// of `analyte`. The residual error
/// is drawn in the model's own form, as the fit reads it: on the log scale
/// for an exponential error, else added on the concentration scale. None
/// when the
/// model's variance matrix has no Cholesky factor (a validated pack's
/// always has).
pub fn population(
    model: &Model,
    iov: &[(Param, f64)],
    (dosing, t_h): (&Dosing, f64),
    analyte: Analyte,
    draws: usize,
    seed: u64,
) -> Option<Vec<Virtual>> {
    let n = model.etas.len();
    let l = if n == 0 {
        Vec::new()
    } else {
        linalg::cholesky(&model.omega, n)?
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut z = vec![0.0; n];
    let mut eta = vec![0.0; n];
    let out = (0..draws)
        .map(|_| {
            for zi in &mut z {
                *zi = rng.sample(StandardNormal);
            }
            for (i, e) in eta.iter_mut().enumerate() {
                *e = (0..=i).map(|k| l[i * n + k] * z[k]).sum();
            }
            let own = model.individual(&model.typical, &eta);
            let true_ng_ml = dosing.concentration_of(analyte, &own, t_h);
            let mut occasion = own;
            for (param, var) in iov {
                let kappa: f64 = rng.sample(StandardNormal);
                scale(&mut occasion, *param, (kappa * var.sqrt()).exp());
            }
            // A total is measured as its two analytes, each with its error.
            let parts: &[Analyte] = match analyte {
                Analyte::Total => &[Analyte::Parent, Analyte::Metabolite],
                Analyte::Parent => &[Analyte::Parent],
                Analyte::Metabolite => &[Analyte::Metabolite],
            };
            let measured: Option<f64> = parts
                .iter()
                .map(|a| {
                    let level = dosing.concentration_of(*a, &occasion, t_h);
                    let eps: f64 = rng.sample(StandardNormal);
                    let residual = model.residual_of(*a);
                    let m = match residual {
                        Residual::Exponential { sd } => level * (eps * sd).exp(),
                        _ => level + eps * residual.variance(level).sqrt(),
                    };
                    (m > 0.0).then_some(m)
                })
                .sum();
            let measured_ng_ml = measured;
            Virtual {
                true_ng_ml,
                measured_ng_ml,
            }
        })
        .collect();
    Some(out)
}
