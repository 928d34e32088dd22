//! The `model` block of a result: what a drug's population PK model says
//! of this patient, beside the rule-based advice and never instead of it.

use schemars::JsonSchema;
use serde::Serialize;

/// A population PK model fitted to the patient's levels (Bayesian MAP).
/// Informational: the tree's advice is the one to act on.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelFit {
    /// The model's id in the pack.
    pub id: String,
    /// Its citation.
    pub source: String,
    /// What in it is secondary, conflicting or unconfirmed.
    pub unconfirmed: Option<String>,
    /// The dosing the fit assumed, in words.
    pub dosing: String,
    /// Levels the fit used (a sample's parent and metabolite are two).
    pub levels_used: usize,
    /// What the predicted trough and the dose table are of: the parent, or
    /// the parent and the model's metabolite summed (`sunitinib +
    /// SU12662`), as the target judges.
    pub analyte: String,
    /// The patient's parameters at the mode, beside the population's.
    pub parameters: Vec<ModelParameter>,
    /// For each level: observed and individually predicted, ng/mL.
    pub predictions: Vec<ModelPrediction>,
    /// `eta' Omega^-1 eta`: how unusual the patient's parameters are
    /// (beyond the chi-square 0.99 point, a warning).
    pub prior_distance: f64,
    /// The steady-state trough the current dose is predicted to give; null
    /// when the prediction is withheld (the warnings say why).
    pub trough: Option<ModelTrough>,
    /// The patient's terminal half-life, hours (the slowest rate of their
    /// curve).
    pub half_life_h: f64,
    /// Days on a new dose to its steady state: the pack's
    /// `steady_state_half_lives` times the patient's half-life.
    pub steady_state_days: f64,
    /// Each dose level of the drug within the doses the model was
    /// estimated on: the patient's predicted trough and the probability of
    /// reaching the target; empty when the trough is withheld.
    pub doses: Vec<ModelDose>,
    /// The lowest of them predicted to reach the target with the pack's
    /// probability; null when none does or the target has no fixed lower
    /// bound (the warnings say why).
    pub recommendation: Option<ModelRecommendation>,
    /// This sample's level as the patient's earlier levels alone predicted
    /// it: how well the model forecasts this patient (`tdm models check
    /// --history` sums it over a file); null without earlier levels.
    pub forecast: Option<ModelForecast>,
    /// The fit itself, for drawing the patient's curve (`tdm report`,
    /// [`crate::pk::curve`]); not part of the JSON contract.
    #[serde(skip)]
    #[schemars(skip)]
    pub detail: Option<Box<FitDetail>>,
}

/// What the patient's curve is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct FitDetail {
    /// The doses, levels and typical values fitted (hours on the dosing
    /// clock; the sample's own level is the last).
    pub patient: crate::pk::Patient,
    /// The MAP fit.
    pub fit: crate::pk::Fit,
    /// What the curve is of.
    pub analyte: crate::pk::Analyte,
}

/// One dose level for this patient.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelDose {
    /// mg per administration.
    pub dose_mg: f64,
    /// Hours.
    pub interval_h: f64,
    /// mg per day.
    pub daily_mg: f64,
    /// Predicted steady-state trough, ng/mL (at the mode).
    pub trough: f64,
    /// 5th and 95th percentiles of the patient's true trough.
    pub lower_90: f64,
    /// 95th percentile.
    pub upper_90: f64,
    /// Probability that the true trough reaches the target's lower bound
    /// (importance sampling of the posterior); null without a fixed lower
    /// bound.
    pub p_target: Option<f64>,
    /// Probability that it exceeds the target's upper bound, or the lowest
    /// toxicity signal where there is no upper bound; null without either.
    pub p_above_limit: Option<f64>,
}

/// The dose the model points to, beside the tree's advice.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelRecommendation {
    /// mg per administration.
    pub dose_mg: f64,
    /// Hours.
    pub interval_h: f64,
    /// Its probability of reaching the target.
    pub p_target: f64,
    /// The probability the pack asks for (`model_target_probability`).
    pub required_probability: f64,
    /// The tree's next dose is the same daily dose.
    pub agrees_with_advice: bool,
    /// How it stands to the tree's advice, in words.
    pub note: String,
    /// Days on it until its trough is worth drawing (its steady state).
    pub next_level_after_days: f64,
}

/// The level forecast from the earlier levels, beside the measured one.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelForecast {
    /// Earlier levels it rests on.
    pub from_levels: usize,
    /// The forecast, ng/mL (at the mode of the fit to the earlier levels).
    pub predicted: f64,
    /// 5th percentile of a measured level (parameter uncertainty, one
    /// occasion's variability and the residual error).
    pub lower_90: f64,
    /// 95th percentile.
    pub upper_90: f64,
    /// As measured, ng/mL.
    pub observed: f64,
    /// `(predicted - observed) / observed`, percent: the prediction error
    /// whose mean is a model's bias on local data.
    pub error_percent: f64,
}

/// One parameter of the patient.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelParameter {
    /// `cl`, `v1`, `ka`, ...
    pub name: String,
    /// The patient's value at the mode.
    pub value: f64,
    /// The population's typical value (covariates applied).
    pub typical: f64,
    /// `L/h`, `L`, `1/h`, `h`, `1`.
    pub unit: String,
    /// The eta at the mode (ln of value over typical); null without IIV.
    pub eta: Option<f64>,
    /// Its posterior SD (Laplace); null without IIV.
    pub eta_sd: Option<f64>,
}

/// One level, observed and predicted.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelPrediction {
    /// Of the parent or of the model's metabolite, as the drug names it.
    pub analyte: String,
    /// The sample's `id` (a patient's earlier samples are fitted too).
    pub sample: Option<String>,
    /// When it was drawn, as given.
    pub sampled_at: Option<String>,
    /// Hours after the last dose.
    pub hours_since_dose: f64,
    /// As measured, ng/mL (the parent).
    pub observed: f64,
    /// The individual prediction, ng/mL.
    pub predicted: f64,
    /// Standardised residual (observed minus predicted over the residual
    /// SD; beyond 3, the level is not explained and a warning says so).
    pub residual: f64,
}

/// The predicted steady-state trough on the current dose.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelTrough {
    /// ng/mL, at the mode.
    pub value: f64,
    /// 5th percentile of the patient's true trough (parameter uncertainty).
    pub lower_90: f64,
    /// 95th percentile.
    pub upper_90: f64,
    /// The dose and interval it is for.
    pub dose_mg: f64,
    /// Hours.
    pub interval_h: f64,
    /// Posterior SD over population SD of ln trough: 0 when the levels
    /// fixed it, 1 when they told nothing (the prior's answer).
    pub shrinkage: f64,
    /// 5th percentile of the next level measured at trough on this dose:
    /// the patient's uncertainty plus inter-occasion variability and
    /// residual error (assay and model misfit).
    pub next_level_lower_90: f64,
    /// 95th percentile of that next level.
    pub next_level_upper_90: f64,
}
