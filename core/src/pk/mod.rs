//! Population pharmacokinetic models: closed-form concentrations
//! ([`solution`]), the model as evaluation uses it ([`model`]) and Bayesian
//! MAP estimation of a patient's own parameters from measured levels
//! ([`map`]).

pub mod curve;
mod linalg;
pub mod map;
mod metabolite;
pub mod model;
pub mod simulate;
pub mod sir;
pub mod solution;

pub use map::{
    Course, Dosing, Fit, FitError, Level, Patient, Predicted, courses_of, fit, joined,
    log_sensitivity, log_sensitivity_of, predict, predict_of,
};
pub use model::{Covariate, CovariateValue, Effect, Model, Param, Residual};
pub use solution::{Analyte, Params};

/// The `n`-by-`n` symmetric matrix `a` (row-major) is positive definite.
pub fn positive_definite(a: &[f64], n: usize) -> bool {
    a.len() == n * n && linalg::cholesky(a, n).is_some()
}
