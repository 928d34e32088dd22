//! Raw population PK models of a drug file (`models:`), as authors write
//! them. The checker (`pack/pk.rs`) turns them into [`crate::pk::Model`].

use schemars::JsonSchema;
use serde::Deserialize;

use crate::pack::yaml::Spanned;

/// A population pharmacokinetic model from one paper.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    /// The model's id within the drug, e.g. `widmer2006-base`.
    pub id: Spanned<String>,
    /// The citation of every number below: a source id, then where in it.
    pub source: Spanned<String>,
    /// What in the model is secondary, conflicting or not confirmed.
    #[serde(default)]
    pub unconfirmed: Option<String>,
    /// The patients it was estimated on.
    pub population: RawPopulation,
    /// `one_compartment`, `two_compartment`, or
    /// `one_compartment_hepatic_metabolite` (an enzyme site in
    /// quasi-steady state with the central compartment through the hepatic
    /// blood flow `qh`, where the clearance acts and the fraction `fm` of
    /// it forms a metabolite with `cl_m`, `v_m` and optionally `q_m`,
    /// `v_mp`: Yu et al. 2015); absorption is first order.
    pub structure: Structure,
    /// The metabolite the structure forms: which of the drug's analytes it
    /// is, and its own residual error (its levels are fitted beside the
    /// parent's). Only with `one_compartment_hepatic_metabolite`.
    #[serde(default)]
    pub metabolite: Option<RawMetabolite>,
    /// The concentration unit the model predicts in (`ng/mL`, `mg/L`, ...).
    pub unit: Spanned<String>,
    /// Typical values: `ka`, `cl`, `v1`, and `q`, `v2` (two compartments),
    /// `lag_h`, `f`, each with its unit.
    pub parameters: Vec<RawParameter>,
    /// Inter-individual variability: log-normal etas, their variances.
    pub iiv: Vec<RawVariance>,
    /// Covariances between etas (correlations allowed).
    #[serde(default)]
    pub covariances: Vec<RawCovariance>,
    /// Inter-occasion variability, variances: added to the spread of a
    /// next measured level, never to the patient's own parameters.
    #[serde(default)]
    pub iov: Vec<RawVariance>,
    /// The residual error.
    pub residual: RawResidual,
    /// Covariate effects on typical values.
    #[serde(default)]
    pub covariates: Vec<RawCovariate>,
    /// The model to use when a covariate of this one is missing (never
    /// its reference value): the id of a model of the same drug.
    #[serde(default)]
    pub fallback: Option<Spanned<String>>,
}

/// Who the model was estimated on.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPopulation {
    /// Patients.
    pub n: u32,
    /// Indications.
    pub indications: Vec<String>,
    /// Lowest and highest daily dose studied, mg.
    pub doses_mg: Spanned<[f64; 2]>,
    /// Anything else about the population.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Structure {
    OneCompartment,
    TwoCompartment,
    OneCompartmentHepaticMetabolite,
}

/// The metabolite of a parent + metabolite structure.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMetabolite {
    /// The drug's analyte (role `metabolite`) it predicts, e.g. `SU12662`.
    pub analyte: Spanned<String>,
    /// Its residual error, additive parts in the model's unit.
    pub residual: RawResidual,
}

/// One typical value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParameter {
    /// `ka`, `cl`, `v1`, `q`, `v2`, `lag_h`, `f`; with the hepatic
    /// metabolite structure also `qh`, `fm`, `cl_m`, `v_m`, `q_m`, `v_mp`.
    pub name: Spanned<String>,
    /// The typical value.
    pub value: Spanned<f64>,
    /// `1/h`, `L/h`, `L`, `h`, or `1` for `f` and `fm`.
    pub unit: Spanned<String>,
}

/// A variance of a log-normal eta on a parameter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVariance {
    /// The parameter.
    pub param: Spanned<String>,
    /// The variance (omega squared), as the source codes it.
    pub variance: Spanned<f64>,
}

/// A covariance between two etas.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCovariance {
    /// The two parameters.
    pub between: Spanned<[String; 2]>,
    /// The covariance.
    pub value: Spanned<f64>,
}

/// The residual error; additive parts in the model's unit.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawResidual {
    /// `proportional`, `additive`, `combined_sqrt` (variance a² + b²f²),
    /// `combined_sum` (SD a + b·f, Monolix combined1) or `exponential`
    /// (log scale).
    pub form: Spanned<ResidualForm>,
    /// Additive SD, in the model's unit.
    #[serde(default)]
    pub additive: Option<Spanned<f64>>,
    /// Proportional SD, a fraction.
    #[serde(default)]
    pub proportional: Option<Spanned<f64>>,
    /// SD on the log scale (exponential error).
    #[serde(default)]
    pub log_sd: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ResidualForm {
    Proportional,
    Additive,
    CombinedSqrt,
    CombinedSum,
    Exponential,
}

/// A covariate effect on one typical value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCovariate {
    /// The sample field that gives the value; declared under `inputs:`.
    pub input: Spanned<String>,
    /// The parameter it scales.
    pub param: Spanned<String>,
    /// `power` ((x/ref)^c), `exponential` (exp(c (x - ref))), `linear`
    /// (1 + c (x - ref)) or `categorical` (a factor per category).
    pub equation: Equation,
    /// The reference value (numeric equations).
    #[serde(default)]
    pub reference: Option<Spanned<f64>>,
    /// The exponent, coefficient or slope (numeric equations).
    #[serde(default)]
    pub coefficient: Option<Spanned<f64>>,
    /// Factors by category (categorical).
    #[serde(default)]
    pub factors: Vec<RawFactor>,
    /// The range the model was estimated on; outside it a warning.
    #[serde(default)]
    pub range: Option<Spanned<[f64; 2]>>,
    /// Why the range is not given, when it is not.
    #[serde(default)]
    pub range_unknown: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Equation {
    Power,
    Exponential,
    Linear,
    Categorical,
}

/// One category's factor.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFactor {
    /// The category as the sample gives it.
    pub category: String,
    /// The factor on the typical value.
    pub factor: Spanned<f64>,
}
