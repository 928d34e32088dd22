//! A population PK model as the evaluation uses it: typical values,
//! log-normal inter-individual variability, covariate effects and the
//! residual error, every concentration in ng/mL (the pack's canonical
//! unit; the model's own unit is converted once, when the pack loads).

use super::solution::Params;

/// A structural parameter that can carry an eta or a covariate effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Absorption rate constant.
    Ka,
    /// Clearance.
    Cl,
    /// Central volume.
    V1,
    /// Inter-compartmental clearance.
    Q,
    /// Peripheral volume.
    V2,
    /// Lag time.
    Lag,
    /// Bioavailability.
    F,
    /// Hepatic blood flow through the enzyme site.
    Qh,
    /// Fraction of the parent's clearance forming the metabolite.
    Fm,
    /// The metabolite's clearance.
    ClM,
    /// The metabolite's central volume.
    VM,
    /// The metabolite's inter-compartmental clearance.
    QM,
    /// The metabolite's peripheral volume.
    VMp,
}

impl Param {
    /// Every parameter, in the order packs list them.
    pub const ALL: [Param; 13] = [
        Param::Ka,
        Param::Cl,
        Param::V1,
        Param::Q,
        Param::V2,
        Param::Lag,
        Param::F,
        Param::Qh,
        Param::Fm,
        Param::ClM,
        Param::VM,
        Param::QM,
        Param::VMp,
    ];

    /// The parameters of the enzyme site and the metabolite formed there
    /// (`Params::qh`): only in the `one_compartment_hepatic_metabolite`
    /// structure.
    pub const HEPATIC_METABOLITE: [Param; 6] = [
        Param::Qh,
        Param::Fm,
        Param::ClM,
        Param::VM,
        Param::QM,
        Param::VMp,
    ];

    /// The parameter spelled `name` in a pack.
    pub fn parse(name: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The one unit a pack writes it in.
    pub fn unit(self) -> &'static str {
        match self {
            Param::Ka => "1/h",
            Param::Cl | Param::Q | Param::Qh | Param::ClM | Param::QM => "L/h",
            Param::V1 | Param::V2 | Param::VM | Param::VMp => "L",
            Param::Lag => "h",
            Param::F | Param::Fm => "1",
        }
    }

    /// Its value in `p`.
    pub fn get(self, p: &Params) -> f64 {
        let mut copy = *p;
        *self.of(&mut copy)
    }

    /// The parameter's name as packs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Param::Ka => "ka",
            Param::Cl => "cl",
            Param::V1 => "v1",
            Param::Q => "q",
            Param::V2 => "v2",
            Param::Lag => "lag_h",
            Param::F => "f",
            Param::Qh => "qh",
            Param::Fm => "fm",
            Param::ClM => "cl_m",
            Param::VM => "v_m",
            Param::QM => "q_m",
            Param::VMp => "v_mp",
        }
    }

    fn of(self, p: &mut Params) -> &mut f64 {
        match self {
            Param::Ka => &mut p.ka,
            Param::Cl => &mut p.cl,
            Param::V1 => &mut p.v1,
            Param::Q => &mut p.q,
            Param::V2 => &mut p.v2,
            Param::Qh => &mut p.qh,
            Param::Fm => &mut p.fm,
            Param::ClM => &mut p.cl_m,
            Param::VM => &mut p.v_m,
            Param::QM => &mut p.q_m,
            Param::VMp => &mut p.v_mp,
            Param::Lag => &mut p.lag_h,
            Param::F => &mut p.f,
        }
    }
}

/// The residual error model, concentrations in ng/mL. Sources differ in
/// the combined form, so both are kept apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Residual {
    /// SD = b * f.
    Proportional {
        /// Proportional SD, a fraction.
        b: f64,
    },
    /// SD = a.
    Additive {
        /// Additive SD, ng/mL.
        a: f64,
    },
    /// Variance = a^2 + b^2 f^2 (NONMEM's usual combined error).
    CombinedSqrt {
        /// Additive SD, ng/mL.
        a: f64,
        /// Proportional SD, a fraction.
        b: f64,
    },
    /// SD = a + b * f (Monolix "combined1").
    CombinedSum {
        /// Additive SD, ng/mL.
        a: f64,
        /// Proportional SD, a fraction.
        b: f64,
    },
    /// ln y ~ N(ln f, sd^2): fitted on the log scale.
    Exponential {
        /// SD on the log scale.
        sd: f64,
    },
}

impl std::fmt::Display for Residual {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Residual::Proportional { b } => {
                write!(f, "proportional, SD {} % of the prediction", b * 100.0)
            }
            Residual::Additive { a } => write!(f, "additive, SD {a} ng/mL"),
            Residual::CombinedSqrt { a, b } => {
                write!(
                    f,
                    "combined, variance {a}² + ({} % of the prediction)² (ng/mL)",
                    b * 100.0
                )
            }
            Residual::CombinedSum { a, b } => {
                write!(
                    f,
                    "combined, SD {a} ng/mL + {} % of the prediction",
                    b * 100.0
                )
            }
            Residual::Exponential { sd } => write!(f, "exponential, SD {sd} on the log scale"),
        }
    }
}

impl std::fmt::Display for Covariate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (x, r, p) = (&self.input, self.reference, self.param.name());
        match &self.effect {
            Effect::Power { exponent } => write!(f, "{p} times ({x} / {r})^{exponent}"),
            Effect::Exponential { coefficient } => {
                write!(f, "{p} times exp({coefficient} ({x} - {r}))")
            }
            Effect::Linear { slope } => write!(f, "{p} times (1 + {slope} ({x} - {r}))"),
            Effect::Categorical { factors } => {
                let each: Vec<String> = factors.iter().map(|(c, v)| format!("{c}: {v}")).collect();
                write!(f, "{p} times a factor by {x} ({})", each.join(", "))
            }
        }
    }
}

impl Residual {
    /// The error's variance on the log scale at prediction `f` (for the
    /// additive parts, to first order: variance over f squared).
    pub fn log_variance(&self, f: f64) -> f64 {
        match self {
            Residual::Exponential { sd } => sd * sd,
            _ => self.variance(f) / (f * f),
        }
    }

    /// The error's variance at prediction `f` (for the exponential form, on
    /// the log scale).
    pub fn variance(&self, f: f64) -> f64 {
        match *self {
            Residual::Proportional { b } => (b * f).powi(2),
            Residual::Additive { a } => a * a,
            Residual::CombinedSqrt { a, b } => a * a + (b * f).powi(2),
            Residual::CombinedSum { a, b } => (a + b * f).powi(2),
            Residual::Exponential { sd } => sd * sd,
        }
    }

    /// `-2 log` likelihood of observing `y` at prediction `f`, up to a
    /// constant; with the standardised residual.
    pub(crate) fn term(&self, y: f64, f: f64) -> (f64, f64) {
        let var = self.variance(f);
        let diff = match self {
            Residual::Exponential { .. } => y.ln() - f.ln(),
            _ => y - f,
        };
        (diff * diff / var + var.ln(), diff / var.sqrt())
    }
}

/// How a covariate scales a typical value.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `(x / reference)^exponent`.
    Power {
        /// The exponent.
        exponent: f64,
    },
    /// `exp(coefficient * (x - reference))`.
    Exponential {
        /// The coefficient.
        coefficient: f64,
    },
    /// `1 + slope * (x - reference)`.
    Linear {
        /// The slope.
        slope: f64,
    },
    /// A factor per category; the reference category has factor 1.
    Categorical {
        /// (category, factor).
        factors: Vec<(String, f64)>,
    },
}

/// A covariate effect on one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    /// The sample field that gives it (`weight_kg`, `ast_u_l`, `sex`).
    pub input: String,
    /// The parameter it scales.
    pub param: Param,
    /// The equation.
    pub effect: Effect,
    /// The reference value (numeric effects).
    pub reference: f64,
    /// The range the model was estimated on (numeric effects).
    pub range: Option<(f64, f64)>,
}

/// A covariate's value for one patient.
#[derive(Debug, Clone, PartialEq)]
pub enum CovariateValue {
    /// A number.
    Number(f64),
    /// A category.
    Category(String),
}

impl Covariate {
    /// The factor for `value`, or None when the category is unknown.
    pub fn factor(&self, value: &CovariateValue) -> Option<f64> {
        match (&self.effect, value) {
            (Effect::Power { exponent }, CovariateValue::Number(x)) => {
                Some((x / self.reference).powf(*exponent))
            }
            (Effect::Exponential { coefficient }, CovariateValue::Number(x)) => {
                Some((coefficient * (x - self.reference)).exp())
            }
            (Effect::Linear { slope }, CovariateValue::Number(x)) => {
                Some(1.0 + slope * (x - self.reference))
            }
            (Effect::Categorical { factors }, CovariateValue::Category(c)) => factors
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(c))
                .map(|(_, f)| *f),
            _ => None,
        }
    }
}

/// A population model, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The model's id in the pack, e.g. `widmer2006-base`.
    pub id: String,
    /// Typical values before covariate effects; volumes in L, clearances
    /// in L/h, rates in 1/h (F is 1 for apparent values).
    pub typical: Params,
    /// The parameters with an eta, in the order of `omega`.
    pub etas: Vec<Param>,
    /// The etas' variance-covariance matrix, row-major.
    pub omega: Vec<f64>,
    /// Residual error, ng/mL.
    pub residual: Residual,
    /// The metabolite's residual error, where its levels are fitted too
    /// (each analyte has its own).
    pub metabolite_residual: Option<Residual>,
    /// Covariate effects.
    pub covariates: Vec<Covariate>,
}

impl Model {
    /// The patient's typical values with every covariate effect applied,
    /// or the inputs that are missing (or an unknown category). A missing
    /// covariate is never replaced by its reference value: the caller
    /// falls back to a model without it.
    pub fn typical_for(&self, values: &[Option<CovariateValue>]) -> Result<Params, Vec<String>> {
        let mut p = self.typical;
        let mut missing = Vec::new();
        for (i, c) in self.covariates.iter().enumerate() {
            match values
                .get(i)
                .and_then(Option::as_ref)
                .and_then(|v| c.factor(v))
            {
                Some(factor) => *c.param.of(&mut p) *= factor,
                None if !missing.contains(&c.input) => missing.push(c.input.clone()),
                None => {}
            }
        }
        if missing.is_empty() {
            Ok(p)
        } else {
            Err(missing)
        }
    }

    /// The residual error of a level of `analyte`.
    pub fn residual_of(&self, analyte: super::solution::Analyte) -> &Residual {
        match (analyte, &self.metabolite_residual) {
            (super::solution::Analyte::Metabolite, Some(r)) => r,
            _ => &self.residual,
        }
    }

    /// Individual parameters: typical values times `exp(eta)`.
    pub fn individual(&self, typical: &Params, eta: &[f64]) -> Params {
        let mut p = *typical;
        for (param, e) in self.etas.iter().zip(eta) {
            *param.of(&mut p) *= e.exp();
        }
        p
    }
}

/// Multiplies one parameter of `p` by `factor`.
pub(crate) fn scale(p: &mut Params, param: Param, factor: f64) {
    *param.of(p) *= factor;
}

/// Sets one parameter of `p`.
pub(crate) fn set(p: &mut Params, param: Param, value: f64) {
    *param.of(p) = value;
}
