//! Bayesian MAP estimation of one patient's etas from measured levels: the
//! objective of mapbayr and NONMEM's POSTHOC step (FOCE-INTERACTION),
//!
//! `J(eta) = sum over levels of (y - f)^2 / var + ln var  +  eta' Omega^-1 eta`
//!
//! (`-2 log` posterior up to a constant; on the log scale for exponential
//! error), minimised with argmin's BFGS from several starts (and, where
//! BFGS's line search fails from a start, Nelder-Mead first). The posterior
//! covariance is the Laplace approximation at the mode, `2 H^-1` on this
//! `-2 log` scale (H^-1 alone would understate every SD by sqrt 2).

use argmin::core::{CostFunction, Error, Executor, Gradient, State, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::BFGS;

use super::linalg;
use super::model::Model;
use super::solution::{Analyte, Params};

/// ng/mL per mg/L: the closed forms give mg/L (mg over L).
const NG_PER_MG: f64 = 1000.0;

/// How the patient was dosed.
#[derive(Debug, Clone, PartialEq)]
pub enum Dosing {
    /// The same dose every `tau_h` hours: `count` doses, or None for
    /// steady state. Observation times are hours after the last dose.
    Regular {
        /// mg per dose.
        dose_mg: f64,
        /// Dosing interval, h.
        tau_h: f64,
        /// Doses given, or None for steady state.
        count: Option<u32>,
    },
    /// Each dose (time h, mg); observation times on the same clock.
    History(Vec<(f64, f64)>),
    /// Courses of regular doses one after another (a patient's regimens
    /// between samples); observation times on the courses' clock.
    Courses(Vec<Course>),
}

/// Regular doses: `count` doses of `dose_mg` every `tau_h` hours, the last
/// at `last_h`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Course {
    /// The time of the course's last dose, h.
    pub last_h: f64,
    /// mg per dose.
    pub dose_mg: f64,
    /// Dosing interval, h.
    pub tau_h: f64,
    /// Doses in the course, or None: since long before (steady state).
    pub count: Option<u32>,
}

/// `doses` (time h, mg, any order) as courses: each run of equal doses at
/// equal intervals becomes one course, so a dose list costs what its
/// regimens cost (a geometric series per course, not a term per dose: 30
/// daily doses fitted in a fifth of the time).
pub fn courses_of(doses: &[(f64, f64)]) -> Vec<Course> {
    let mut sorted = doses.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Course> = Vec::new();
    for (at, mg) in sorted {
        if let Some(c) = out.last_mut()
            && c.dose_mg == mg
            && c.count
                .is_some_and(|n| n == 1 || ((at - c.last_h) - c.tau_h).abs() < 1e-6)
            && at > c.last_h
        {
            if c.count == Some(1) {
                c.tau_h = at - c.last_h;
            }
            c.last_h = at;
            c.count = c.count.map(|n| n + 1);
            continue;
        }
        out.push(Course {
            last_h: at,
            dose_mg: mg,
            tau_h: 1.0,
            count: Some(1),
        });
    }
    out
}

/// Courses (in time order) with each one that continues the one before it
/// on the same grid (same dose and interval, its first dose one interval
/// after the other's last) joined to it: the same doses, fewer series.
pub fn joined(courses: Vec<Course>) -> Vec<Course> {
    let mut out: Vec<Course> = Vec::with_capacity(courses.len());
    for c in courses {
        if let (Some(p), Some(n)) = (out.last_mut(), c.count) {
            let first = c.last_h - f64::from(n.saturating_sub(1)) * c.tau_h;
            if p.dose_mg == c.dose_mg
                && p.tau_h == c.tau_h
                && (first - (p.last_h + p.tau_h)).abs() < 1e-6
            {
                p.last_h = c.last_h;
                p.count = p.count.map(|m| m.saturating_add(n));
                continue;
            }
        }
        out.push(c);
    }
    out
}

impl Course {
    /// Concentration (mg/L) at `t_h` of the doses given by then: a course
    /// still running at `t_h` counts only its doses at or before it.
    fn concentration(&self, analyte: Analyte, p: &Params, t_h: f64) -> f64 {
        let ahead = ((self.last_h - t_h) / self.tau_h).ceil().max(0.0);
        let count = match self.count {
            Some(n) if ahead >= f64::from(n) => return 0.0,
            Some(n) => Some(n - ahead as u32),
            None => None,
        };
        let last = self.last_h - ahead * self.tau_h;
        p.regular_of(analyte, self.dose_mg, self.tau_h, count, t_h - last)
    }
}

/// A measured level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// When it was drawn, h (see [`Dosing`]).
    pub t_h: f64,
    /// The concentration, ng/mL.
    pub ng_ml: f64,
    /// Of the parent or of the metabolite (never a total: each has its
    /// own residual error).
    pub analyte: Analyte,
}

/// What the fit needs of a patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    /// Typical values with the patient's covariates applied.
    pub typical: Params,
    /// The doses.
    pub dosing: Dosing,
    /// The levels, each above 0 (none: the prior is the answer).
    pub levels: Vec<Level>,
}

/// The MAP estimate and what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The etas at the mode, in the model's order.
    pub eta: Vec<f64>,
    /// Individual parameters at the mode.
    pub params: Params,
    /// Posterior covariance of the etas (Laplace, `2 H^-1`), row-major.
    pub covariance: Vec<f64>,
    /// `J` at the mode.
    pub objective: f64,
    /// For each level: the individual prediction (ng/mL) and the
    /// standardised residual.
    pub predictions: Vec<(f64, f64)>,
    /// `eta' Omega^-1 eta`: how far the patient lies from the population
    /// (chi-square with as many degrees of freedom as etas).
    pub prior_distance: f64,
    /// BFGS iterations of the best start.
    pub iterations: u64,
}

/// Why there is no estimate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A level is not above 0 (undetectable levels are not fitted).
    #[error("a level is not above 0: an undetectable level is not fitted")]
    NoLevel,
    /// No start converged to a mode with a positive-definite curvature.
    #[error("the fit did not converge (no mode with a positive-definite curvature)")]
    NotConverged,
}

impl Dosing {
    /// The parent's concentration (ng/mL) at `t_h` with parameters `p`.
    pub fn concentration(&self, p: &Params, t_h: f64) -> f64 {
        self.concentration_of(Analyte::Parent, p, t_h)
    }

    /// The concentration of `analyte` (ng/mL) at `t_h`.
    pub fn concentration_of(&self, analyte: Analyte, p: &Params, t_h: f64) -> f64 {
        NG_PER_MG
            * match self {
                Dosing::Regular {
                    dose_mg,
                    tau_h,
                    count,
                } => p.regular_of(analyte, *dose_mg, *tau_h, *count, t_h),
                Dosing::History(doses) => p.doses_of(analyte, doses, t_h),
                Dosing::Courses(courses) => courses
                    .iter()
                    .map(|c| c.concentration(analyte, p, t_h))
                    .sum(),
            }
    }
}

#[derive(Clone)]
struct Objective<'a> {
    model: &'a Model,
    patient: &'a Patient,
    omega_inv: &'a [f64],
    /// Beyond this many prior SDs an eta is implausible; the objective
    /// rises steeply there so the search stays in a finite region.
    bound: &'a [f64],
}

impl Objective<'_> {
    fn value(&self, eta: &[f64]) -> f64 {
        let p = self.model.individual(&self.patient.typical, eta);
        let mut j = linalg::quadratic(self.omega_inv, eta);
        for level in &self.patient.levels {
            let f = self
                .patient
                .dosing
                .concentration_of(level.analyte, &p, level.t_h);
            j += self
                .model
                .residual_of(level.analyte)
                .term(level.ng_ml, f.max(1e-12))
                .0;
        }
        let outside: f64 = eta
            .iter()
            .zip(self.bound)
            .map(|(e, b)| (e.abs() - b).max(0.0))
            .sum();
        if j.is_finite() {
            j + 1e6 * outside * outside
        } else {
            1e300
        }
    }

    fn gradient(&self, eta: &[f64]) -> Vec<f64> {
        let mut x = eta.to_vec();
        (0..eta.len())
            .map(|i| {
                let h = 1e-6 * (1.0 + eta[i].abs());
                x[i] = eta[i] + h;
                let up = self.value(&x);
                x[i] = eta[i] - h;
                let down = self.value(&x);
                x[i] = eta[i];
                (up - down) / (2.0 * h)
            })
            .collect()
    }

    /// The Hessian by central differences.
    fn hessian(&self, eta: &[f64]) -> Vec<f64> {
        let n = eta.len();
        let h = 1e-4;
        let mut out = vec![0.0; n * n];
        let mut x = eta.to_vec();
        let f0 = self.value(eta);
        for i in 0..n {
            for j in 0..=i {
                let at = |x: &mut Vec<f64>, di: f64, dj: f64| {
                    x[i] += di;
                    x[j] += dj;
                    let v = self.value(x);
                    x[i] -= di;
                    x[j] -= dj;
                    v
                };
                let v = if i == j {
                    (at(&mut x, h, 0.0) - 2.0 * f0 + at(&mut x, -h, 0.0)) / (h * h)
                } else {
                    (at(&mut x, h, h) - at(&mut x, h, -h) - at(&mut x, -h, h) + at(&mut x, -h, -h))
                        / (4.0 * h * h)
                };
                out[i * n + j] = v;
                out[j * n + i] = v;
            }
        }
        out
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, eta: &Self::Param) -> Result<f64, Error> {
        Ok(self.value(eta))
    }
}

impl Gradient for Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, eta: &Self::Param) -> Result<Vec<f64>, Error> {
        Ok(Objective::gradient(self, eta))
    }
}

/// The MAP estimate of `patient`'s etas under `model`.
pub fn fit(model: &Model, patient: &Patient) -> Result<Fit, FitError> {
    // No level at all is allowed: the answer is then the prior's.
    if patient
        .levels
        .iter()
        .any(|l| l.ng_ml.is_nan() || l.ng_ml <= 0.0)
    {
        return Err(FitError::NoLevel);
    }
    let n = model.etas.len();
    let omega_inv = linalg::inverse(&model.omega, n).ok_or(FitError::NotConverged)?;
    let sd: Vec<f64> = (0..n).map(|i| model.omega[i * n + i].sqrt()).collect();
    let bound: Vec<f64> = sd.iter().map(|s| 6.0 * s).collect();
    let objective = Objective {
        model,
        patient,
        omega_inv: &omega_inv,
        bound: &bound,
    };
    let mut best: Option<(Vec<f64>, f64, u64)> = None;
    for start in starts(model, &sd) {
        let Some((eta, cost, iterations)) = from_start(&objective, model, &start)
            .or_else(|| via_simplex(&objective, model, &start, &sd))
        else {
            continue;
        };
        if best.as_ref().is_none_or(|b| cost < b.1 - 1e-9) {
            best = Some((eta, cost, iterations));
        }
    }
    let (eta, cost, iterations) = best.ok_or(FitError::NotConverged)?;
    let hessian = objective.hessian(&eta);
    let inverse = linalg::inverse(&hessian, n).ok_or(FitError::NotConverged)?;
    let covariance: Vec<f64> = inverse.iter().map(|v| 2.0 * v).collect();
    let params = model.individual(&patient.typical, &eta);
    let predictions = patient
        .levels
        .iter()
        .map(|l| {
            let f = patient.dosing.concentration_of(l.analyte, &params, l.t_h);
            (
                f,
                model.residual_of(l.analyte).term(l.ng_ml, f.max(1e-12)).1,
            )
        })
        .collect();
    Ok(Fit {
        prior_distance: linalg::quadratic(&omega_inv, &eta),
        eta,
        params,
        covariance,
        objective: cost,
        predictions,
        iterations,
    })
}

/// `J(eta)`, the `-2 log` posterior the fit minimises (up to a constant):
/// for what integrates over the posterior (importance sampling, and the
/// quadrature that checks it). None when Omega is not invertible.
pub fn objective<'a>(
    model: &'a Model,
    patient: &'a Patient,
) -> Option<impl Fn(&[f64]) -> f64 + 'a> {
    let n = model.etas.len();
    let omega_inv = linalg::inverse(&model.omega, n)?;
    let bound: Vec<f64> = (0..n)
        .map(|i| 6.0 * model.omega[i * n + i].sqrt())
        .collect();
    Some(move |eta: &[f64]| {
        Objective {
            model,
            patient,
            omega_inv: &omega_inv,
            bound: &bound,
        }
        .value(eta)
    })
}

/// First inverse Hessians for BFGS, tried in turn until one converges.
/// The prior's, `Omega / 2`, bounds the posterior's from above (the levels
/// only add curvature), so the first step never leaves the prior's scale;
/// with many levels the objective is much steeper than that, and the
/// inverse of the curvature at the start is the step that fits it. Either
/// can end in a failed line search (overshooting into the 6 SD wall, or
/// a direction that no longer descends), which the other then avoids.
fn first_steps(objective: &Objective, model: &Model, start: &[f64]) -> Vec<Vec<f64>> {
    let n = start.len();
    let mut out = vec![model.omega.iter().map(|v| v / 2.0).collect::<Vec<f64>>()];
    if let Some(inverse) = linalg::inverse(&objective.hessian(start), n)
        .filter(|inverse| super::positive_definite(inverse, n))
    {
        out.push(inverse);
    }
    out
}

/// BFGS from `start` with each first step in turn.
fn from_start(objective: &Objective, model: &Model, start: &[f64]) -> Option<(Vec<f64>, f64, u64)> {
    first_steps(objective, model, start)
        .iter()
        .find_map(|first| minimise(objective, start.to_vec(), first))
}

/// Nelder-Mead from a simplex of half a prior SD around `start`, then BFGS
/// from where it ends. Nelder-Mead has no line search to fail: where a
/// level far from the others makes the objective's curvature change
/// abruptly, BFGS's update can stop giving a descent direction (seen with
/// four levels from 0.26 to 4.8 times the typical), and the simplex walks
/// on. Its end is kept only if the gradient there is as small as a
/// converged BFGS's.
fn via_simplex(
    objective: &Objective,
    model: &Model,
    start: &[f64],
    sd: &[f64],
) -> Option<(Vec<f64>, f64, u64)> {
    let mut simplex = vec![start.to_vec()];
    for (i, s) in sd.iter().enumerate() {
        let mut point = start.to_vec();
        point[i] += 0.5 * s;
        simplex.push(point);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-12).ok()?;
    let result = Executor::new(objective.clone(), solver)
        .configure(|s| s.max_iters(2000))
        .run()
        .ok()?;
    let state = result.state();
    let end = state.get_best_param()?.clone();
    let walked = state.get_iter();
    if let Some((eta, cost, iterations)) = from_start(objective, model, &end) {
        return Some((eta, cost, walked + iterations));
    }
    converged(objective, &end, state.get_best_cost()).then(|| (end, state.get_best_cost(), walked))
}

/// The gradient at `eta` is small against the objective's size.
fn converged(objective: &Objective, eta: &[f64], cost: f64) -> bool {
    let gradient = Objective::gradient(objective, eta);
    let scale = 1e-3 * (1.0 + cost.abs());
    gradient.iter().all(|g| g.abs() < scale)
}

/// The typical patient; and where absorption has an eta, absorption faster
/// and slower than typical, since flip-flop kinetics (ka near or below k)
/// can give two modes. Without an eta on ka the objective has one mode in
/// the models shipped, and every further start would cost a whole search.
fn starts(model: &Model, sd: &[f64]) -> Vec<Vec<f64>> {
    let n = sd.len();
    let mut starts = vec![vec![0.0; n]];
    if let Some(i) = model
        .etas
        .iter()
        .position(|p| *p == super::model::Param::Ka)
    {
        for sign in [-1.5, 1.5] {
            let mut s = vec![0.0; n];
            s[i] = sign * sd[i];
            starts.push(s);
        }
    }
    starts
}

/// BFGS from `start`, its first inverse Hessian `first` (row-major).
fn minimise(objective: &Objective, start: Vec<f64>, first: &[f64]) -> Option<(Vec<f64>, f64, u64)> {
    let n = start.len();
    let first: Vec<Vec<f64>> = first.chunks(n).map(<[f64]>::to_vec).collect();
    let solver = BFGS::new(MoreThuenteLineSearch::new())
        .with_tolerance_grad(1e-7)
        .ok()?
        .with_tolerance_cost(1e-14)
        .ok()?;
    let result = Executor::new(objective.clone(), solver)
        .configure(|s| s.param(start).inv_hessian(first).max_iters(200))
        .run()
        .ok()?;
    let state = result.state();
    if matches!(
        state.get_termination_status(),
        TerminationStatus::NotTerminated
    ) {
        return None;
    }
    let eta = state.get_best_param()?.clone();
    converged(objective, &eta, state.get_best_cost())
        .then(|| (eta, state.get_best_cost(), state.get_iter()))
}

/// A prediction of the log of a concentration at the mode, with its
/// posterior and prior spread (delta method on the etas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predicted {
    /// At the mode, ng/mL.
    pub value: f64,
    /// Posterior SD of ln value (the patient's true value, parameter
    /// uncertainty only).
    pub sd_log: f64,
    /// Prior SD of ln value (the population's spread, same dosing, both
    /// linearised at the mode).
    pub prior_sd_log: f64,
}

impl Predicted {
    /// The central interval holding `coverage` of the posterior (log-normal).
    pub fn interval(&self, z: f64) -> (f64, f64) {
        (
            self.value * (-z * self.sd_log).exp(),
            self.value * (z * self.sd_log).exp(),
        )
    }

    /// Posterior SD over prior SD: near 1, the levels told little and the
    /// answer is the population's.
    pub fn shrinkage(&self) -> f64 {
        self.sd_log / self.prior_sd_log
    }
}

/// The parent's concentration that `dosing` gives at `t_h` for the fitted
/// patient.
pub fn predict(
    model: &Model,
    patient: &Patient,
    fit: &Fit,
    dosing: &Dosing,
    t_h: f64,
) -> Predicted {
    predict_of(Analyte::Parent, model, patient, fit, dosing, t_h)
}

/// As [`predict`], of `analyte` (a total: the parent and its metabolite).
pub fn predict_of(
    analyte: Analyte,
    model: &Model,
    patient: &Patient,
    fit: &Fit,
    dosing: &Dosing,
    t_h: f64,
) -> Predicted {
    let n = fit.eta.len();
    let ln_c = |eta: &[f64]| {
        let p = model.individual(&patient.typical, eta);
        dosing.concentration_of(analyte, &p, t_h).ln()
    };
    let gradient = |at: &[f64]| -> Vec<f64> {
        let mut x = at.to_vec();
        (0..n)
            .map(|i| {
                let h = 1e-5;
                x[i] = at[i] + h;
                let up = ln_c(&x);
                x[i] = at[i] - h;
                let down = ln_c(&x);
                x[i] = at[i];
                (up - down) / (2.0 * h)
            })
            .collect()
    };
    // Both spreads linearised at the mode, so that their ratio is what the
    // levels took away from the population's uncertainty (at most 1 where
    // the posterior is tighter than the prior).
    let g = gradient(&fit.eta);
    Predicted {
        value: ln_c(&fit.eta).exp(),
        sd_log: linalg::quadratic(&fit.covariance, &g).max(0.0).sqrt(),
        prior_sd_log: linalg::quadratic(&model.omega, &g).max(0.0).sqrt(),
    }
}

/// `d ln C / d ln param` at the mode: how a relative change of one
/// parameter moves the concentration (for variability the fit does not
/// estimate, such as inter-occasion variability).
pub fn log_sensitivity(
    model: &Model,
    patient: &Patient,
    fit: &Fit,
    dosing: &Dosing,
    t_h: f64,
    param: super::model::Param,
) -> f64 {
    log_sensitivity_of(Analyte::Parent, model, patient, fit, dosing, t_h, param)
}

/// As [`log_sensitivity`], of `analyte`.
pub fn log_sensitivity_of(
    analyte: Analyte,
    model: &Model,
    patient: &Patient,
    fit: &Fit,
    dosing: &Dosing,
    t_h: f64,
    param: super::model::Param,
) -> f64 {
    let h: f64 = 1e-5;
    let at = |scale: f64| {
        let mut p = model.individual(&patient.typical, &fit.eta);
        super::model::scale(&mut p, param, scale);
        dosing.concentration_of(analyte, &p, t_h).ln()
    };
    (at(h.exp()) - at((-h).exp())) / (2.0 * h)
}
