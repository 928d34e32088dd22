//! Population PK models set beside the review. `tdm validate` warns where
//! a model's typical steady-state trough at the standard dose is beyond a
//! factor of 2 of the drug's population mean from the tables (a likely
//! slip in transcription, or a real disagreement between sources to show
//! a reader, never to "fix"). `tdm models check` simulates each model's
//! population and sets its trough distribution beside the table's mean
//! and spread, like with like ([`population_checks`]), and sums how well
//! the models forecast a history file's levels ([`Forecasts`]).

use serde::Serialize;

use crate::pack::model::{Drug, DrugModel, Measure, Pack, Target};
use crate::pk::{Analyte, Dosing, simulate};
use crate::result::EvalResult;

/// Beyond this ratio either way, the model and the tables disagree.
const FACTOR: f64 = 2.0;

/// One warning per model whose typical trough and the tables' population
/// mean differ by more than a factor of 2: (drug, model id, message).
pub fn model_warnings(pack: &Pack) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for drug in pack.drugs() {
        let Some(target) = drug
            .targets
            .iter()
            .filter(|t| t.primary && t.measure == Measure::Cmin)
            .find(|t| t.population_mean.is_some())
        else {
            continue;
        };
        let Some(mean) = target.population_mean else {
            continue;
        };
        let standard = &drug.dosing.levels[drug.dosing.standard];
        let tau = standard.interval_h;
        for m in &drug.models {
            let Some(analyte) = predicts(target, m) else {
                continue;
            };
            let dosing = Dosing::Regular {
                dose_mg: standard.mg,
                tau_h: tau,
                count: None,
            };
            let trough = dosing.concentration_of(analyte, &m.model.typical, tau);
            let ratio = trough / mean;
            if !(1.0 / FACTOR..=FACTOR).contains(&ratio) {
                out.push((
                    drug.name.clone(),
                    m.model.id.clone(),
                    format!(
                        "{} model `{}`: the typical patient's steady-state trough at {} mg every {} h is {:.0} ng/mL, {:.1} times the tables' population mean of {:.0} ng/mL (a typical value is a median, the tables' a mean): a slip, or a disagreement to show",
                        drug.name, m.model.id, standard.mg, tau, trough, ratio, mean
                    ),
                ));
            }
        }
    }
    out
}

/// A distribution of troughs, ng/mL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// The middle value.
    pub median: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Geometric mean.
    pub geometric_mean: f64,
    /// Arithmetic CV (SD over mean), percent.
    pub cv_percent: f64,
    /// Geometric CV, `sqrt(exp(var ln) - 1)`, percent.
    pub geometric_cv_percent: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl Distribution {
    /// None for fewer than two values or any value not finite and above 0.
    fn of(mut values: Vec<f64>) -> Option<Self> {
        if values.len() < 2 || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let logs: Vec<f64> = values.iter().map(|v| v.ln()).collect();
        let log_mean = logs.iter().sum::<f64>() / n;
        let log_var = logs.iter().map(|l| (l - log_mean).powi(2)).sum::<f64>() / (n - 1.0);
        let at = |q: f64| values[((n - 1.0) * q).round() as usize];
        Some(Distribution {
            median: at(0.5),
            mean,
            geometric_mean: log_mean.exp(),
            cv_percent: sd / mean * 100.0,
            geometric_cv_percent: (log_var.exp() - 1.0).sqrt() * 100.0,
            p5: at(0.05),
            p95: at(0.95),
        })
    }
}

/// One model's simulated population beside one target's population
/// exposure from the tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationCheck {
    /// The drug.
    pub drug: String,
    /// The model's id.
    pub model: String,
    /// The target whose population exposure it is set beside.
    pub target: String,
    /// Its indications and regimens, where it has them.
    pub scope: Option<String>,
    /// The regimen simulated: the dose the table's exposure was observed
    /// at, else the standard dose.
    pub dose_mg: f64,
    /// Hours.
    pub interval_h: f64,
    /// Virtual patients drawn.
    pub draws: usize,
    /// The generator's seed (the same seed, the same numbers).
    pub seed: u64,
    /// Covariates, at the model's reference values: the pack does not hold
    /// their distribution in the population.
    pub covariates: Vec<String>,
    /// The troughs the patients' own parameters give.
    pub true_trough: Distribution,
    /// The troughs as measured (one occasion's variability and the
    /// residual error added): what the table's numbers are, measured
    /// levels.
    pub measured_trough: Distribution,
    /// Virtual patients whose measured level came out at 0 or below (an
    /// error added on the concentration scale), left out of
    /// `measured_trough`.
    pub unmeasurable: usize,
    /// The table's population mean, ng/mL.
    pub table_mean: f64,
    /// It is a geometric mean (compared with the simulated geometric mean,
    /// else with the arithmetic mean).
    pub table_geometric: bool,
    /// The table's CV, percent, where it gives one.
    pub table_cv_percent: Option<f64>,
    /// The simulated measured mean of the same kind over the table's.
    pub mean_ratio: f64,
    /// The same CV of the simulated measured troughs (geometric for a
    /// geometric table mean), percent.
    pub simulated_cv_percent: f64,
    /// Beyond a factor of 2 between the means, or of 1.5 between the CVs.
    pub disagrees: bool,
}

/// Beyond this ratio of CVs either way, the spreads disagree.
const CV_FACTOR: f64 = 1.5;

/// Each model of each drug against each primary trough target of the
/// parent with a population mean; `draws` virtual patients from `seed`.
pub fn population_checks(pack: &Pack, draws: usize, seed: u64) -> Vec<PopulationCheck> {
    let mut out = Vec::new();
    for drug in pack.drugs() {
        for target in drug
            .targets
            .iter()
            .filter(|t| t.primary && t.measure == Measure::Cmin)
        {
            for m in &drug.models {
                if let Some(analyte) = predicts(target, m) {
                    out.extend(population_check(drug, target, (m, analyte), draws, seed));
                }
            }
        }
    }
    out
}

/// What of `m`'s the target judges: the parent, or its total with the
/// model's metabolite; None when the model predicts neither.
fn predicts(target: &Target, m: &DrugModel) -> Option<Analyte> {
    match (target.sum_of.as_slice(), m.metabolite) {
        ([0], _) => Some(Analyte::Parent),
        ([0, a], Some(b)) if *a == b => Some(Analyte::Total),
        _ => None,
    }
}

fn population_check(
    drug: &Drug,
    target: &Target,
    (m, analyte): (&DrugModel, Analyte),
    draws: usize,
    seed: u64,
) -> Option<PopulationCheck> {
    let table_mean = target.population_mean?;
    let standard = &drug.dosing.levels[drug.dosing.standard];
    let dose_mg = target.spread.map_or(standard.mg, |s| s.dose_mg);
    let tau = standard.interval_h;
    let regimen = Dosing::Regular {
        dose_mg,
        tau_h: tau,
        count: None,
    };
    let people = simulate::population(&m.model, &m.iov, (&regimen, tau), analyte, draws, seed)?;
    let true_trough = Distribution::of(people.iter().map(|p| p.true_ng_ml).collect())?;
    let measured: Vec<f64> = people.iter().filter_map(|p| p.measured_ng_ml).collect();
    let unmeasurable = people.len() - measured.len();
    let measured_trough = Distribution::of(measured)?;
    let geometric = target.spread.is_some_and(|s| s.geometric);
    let (like, simulated_cv_percent) = if geometric {
        (
            measured_trough.geometric_mean,
            measured_trough.geometric_cv_percent,
        )
    } else {
        (measured_trough.mean, measured_trough.cv_percent)
    };
    let mean_ratio = like / table_mean;
    let table_cv_percent = target.spread.map(|s| s.cv * 100.0);
    let cv_off = table_cv_percent.is_some_and(|cv| {
        let r = simulated_cv_percent / cv;
        !(1.0 / CV_FACTOR..=CV_FACTOR).contains(&r)
    });
    Some(PopulationCheck {
        drug: drug.name.clone(),
        model: m.model.id.clone(),
        target: target.id.clone(),
        scope: target.scope(),
        dose_mg,
        interval_h: tau,
        draws,
        seed,
        covariates: m.model.covariates.iter().fold(Vec::new(), |mut seen, c| {
            // One input may scale several parameters: named once.
            let said = format!("{} at {} (reference)", c.input, c.reference);
            if !seen.contains(&said) {
                seen.push(said);
            }
            seen
        }),
        true_trough,
        measured_trough,
        unmeasurable,
        table_mean,
        table_geometric: geometric,
        table_cv_percent,
        mean_ratio,
        simulated_cv_percent,
        disagrees: !(1.0 / FACTOR..=FACTOR).contains(&mean_ratio) || cv_off,
    })
}

/// How well one model forecast a file's levels from each patient's
/// earlier ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastCheck {
    /// The drug.
    pub drug: String,
    /// The model's id.
    pub model: String,
    /// Levels forecast (each with at least one earlier level of its
    /// patient).
    pub levels: usize,
    /// Mean prediction error, percent: the bias (above 0, the model
    /// forecasts too high).
    pub bias_percent: f64,
    /// Root mean squared prediction error, percent: the imprecision.
    pub imprecision_percent: f64,
    /// Median absolute prediction error, percent.
    pub median_absolute_percent: f64,
    /// Share of measured levels inside their forecast's 90 % interval,
    /// percent (about 90 when the model's variability fits).
    pub within_90_percent: f64,
}

/// Prediction errors summed while a file is evaluated.
#[derive(Debug, Default)]
pub struct Forecasts {
    /// Per model, in the order first seen.
    seen: Vec<ModelErrors>,
}

/// One model's forecasts: each error (percent) and whether the measured
/// level lay in the 90 % interval.
#[derive(Debug)]
struct ModelErrors {
    drug: String,
    model: String,
    errors: Vec<(f64, bool)>,
}

impl Forecasts {
    /// Counts a result's forecast, if it has one.
    pub fn add(&mut self, r: &EvalResult) {
        let Some(m) = r.assessment.as_ref().and_then(|a| a.model.as_ref()) else {
            return;
        };
        let Some(f) = &m.forecast else { return };
        let drug = r.drug.as_deref().unwrap_or_default();
        let entry = (
            f.error_percent,
            (f.lower_90..=f.upper_90).contains(&f.observed),
        );
        match self
            .seen
            .iter_mut()
            .find(|s| s.drug == drug && s.model == m.id)
        {
            Some(s) => s.errors.push(entry),
            None => self.seen.push(ModelErrors {
                drug: drug.to_owned(),
                model: m.id.clone(),
                errors: vec![entry],
            }),
        }
    }

    /// One summary per model, in the order first seen.
    pub fn checks(&self) -> Vec<ForecastCheck> {
        self.seen
            .iter()
            .map(
                |ModelErrors {
                     drug,
                     model,
                     errors,
                 }| {
                    let n = errors.len() as f64;
                    let mut absolute: Vec<f64> = errors.iter().map(|(e, _)| e.abs()).collect();
                    absolute.sort_by(f64::total_cmp);
                    let mid = absolute.len() / 2;
                    let median = if absolute.len() % 2 == 1 {
                        absolute[mid]
                    } else {
                        (absolute[mid - 1] + absolute[mid]) / 2.0
                    };
                    ForecastCheck {
                        drug: drug.clone(),
                        model: model.clone(),
                        levels: errors.len(),
                        bias_percent: errors.iter().map(|(e, _)| e).sum::<f64>() / n,
                        imprecision_percent: (errors.iter().map(|(e, _)| e * e).sum::<f64>() / n)
                            .sqrt(),
                        median_absolute_percent: median,
                        within_90_percent: errors.iter().filter(|(_, inside)| *inside).count()
                            as f64
                            / n
                            * 100.0,
                    }
                },
            )
            .collect()
    }
}
