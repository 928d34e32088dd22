//! The checks of a drug's population PK models: parameters positive and
//! in their units, a positive-definite variance matrix, covariates declared
//! as sample inputs, a residual error whose parts fit its form, the model's
//! unit known; then [`crate::pk::Model`] in ng/mL.

use crate::input::units::Quantity;
use crate::pack::check::Checker;
use crate::pack::model::DrugModel;
use crate::pack::raw::RawDrug;
use crate::pack::raw_pk::{Equation, RawCovariate, RawModel, RawResidual, ResidualForm, Structure};
use crate::pack::yaml::{self, Spanned};
use crate::pk::{Covariate, Effect, Model, Param, Params, Residual};

impl Checker<'_> {
    pub(crate) fn models(&mut self, raw: &RawDrug) -> Vec<DrugModel> {
        let mut out: Vec<DrugModel> = Vec::new();
        for m in &raw.models {
            if out.iter().any(|o| o.model.id == m.id.value) {
                self.report(
                    yaml::position(&m.id),
                    format!("model id `{}` is used twice", m.id.value),
                    None,
                );
            }
            if let Some(model) = self.model(m, raw) {
                out.push(model);
            }
        }
        for (m, model) in raw.models.iter().zip(&out) {
            if let Some(f) = &m.fallback
                && (!out
                    .iter()
                    .any(|o| o.model.id == f.value && o.model.covariates.is_empty())
                    || f.value == model.model.id)
            {
                self.report(
                    yaml::position(f),
                    format!(
                        "fallback `{}` is not another model of this drug without covariates",
                        f.value
                    ),
                    None,
                );
            }
        }
        out
    }

    fn model(&mut self, m: &RawModel, raw: &RawDrug) -> Option<DrugModel> {
        let before = self.problems.len();
        self.source(&m.source);
        let unit = self.unit(&m.unit, Quantity::Concentration);
        // ng/mL per model unit (a molar unit needs the parent's molar mass).
        let molar = raw
            .analytes
            .first()
            .and_then(|a| a.molar_mass.as_ref())
            .map(|m| m.value);
        let per_unit = unit
            .and_then(|u| u.to_canonical(1.0, molar).ok())
            .unwrap_or(1.0);
        let typical = self.typical(m)?;
        let etas = self.params(&m.iiv.iter().map(|v| &v.param).collect::<Vec<_>>(), m);
        let omega = self.omega(m, &etas);
        let residual = self.residual(&m.residual, per_unit);
        let metabolite = self.metabolite(m, raw, per_unit);
        let covariates: Vec<Covariate> = m
            .covariates
            .iter()
            .filter_map(|c| self.covariate(c, raw, m))
            .collect();
        let iov_params = self.params(&m.iov.iter().map(|v| &v.param).collect::<Vec<_>>(), m);
        let iov = iov_params
            .into_iter()
            .zip(&m.iov)
            .map(|(p, v)| (p, self.positive(&v.variance, "an IOV variance")))
            .collect();
        let [low, high] = m.population.doses_mg.value;
        if !(low > 0.0 && high >= low) {
            self.report(
                yaml::position(&m.population.doses_mg),
                "the studied doses must be [lowest, highest] mg, both positive",
                None,
            );
        }
        if self.problems.len() > before {
            return None;
        }
        Some(DrugModel {
            model: Model {
                id: m.id.value.clone(),
                typical,
                etas,
                omega: omega?,
                residual: residual?,
                metabolite_residual: metabolite.map(|(_, r)| r),
                covariates,
            },
            source: m.source.value.clone(),
            unconfirmed: m.unconfirmed.clone(),
            population: format!(
                "{} patients ({}), {}-{} mg a day{}",
                m.population.n,
                m.population.indications.join(", "),
                low,
                high,
                m.population
                    .note
                    .as_ref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            ),
            doses_mg: (low, high),
            unit: m.unit.value.clone(),
            iov,
            fallback: m.fallback.as_ref().map(|f| f.value.clone()),
            metabolite: metabolite.map(|(i, _)| i),
        })
    }

    fn typical(&mut self, m: &RawModel) -> Option<Params> {
        let mut p = Params::one_compartment(0.0, 0.0, 0.0);
        for raw in &m.parameters {
            let Some(param) = Param::parse(&raw.name.value) else {
                self.report(
                    yaml::position(&raw.name),
                    format!("`{}` is not a model parameter", raw.name.value),
                    Some("use ka, cl, v1, q, v2, lag_h or f (and with the hepatic metabolite structure qh, fm, cl_m, v_m, q_m, v_mp)"),
                );
                continue;
            };
            let (name, unit) = (param.name(), param.unit());
            if raw.unit.value != unit {
                self.report(
                    yaml::position(&raw.unit),
                    format!("`{name}` is written in {unit}, not {}", raw.unit.value),
                    Some("convert the value to that unit"),
                );
            }
            let value = if param == Param::Lag {
                raw.value.value
            } else {
                self.positive(&raw.value, name)
            };
            if param == Param::Lag && !(0.0..24.0).contains(&value) {
                self.report(
                    yaml::position(&raw.value),
                    format!("lag_h must be at least 0 and under 24 h, got {value}"),
                    None,
                );
            }
            if param == Param::F && value > 1.0 {
                self.report(
                    yaml::position(&raw.value),
                    format!("f is a fraction of at most 1, got {value}"),
                    None,
                );
            }
            crate::pk::model::set(&mut p, param, value);
        }
        let given = |n: &str| m.parameters.iter().any(|p| p.name.value == n);
        let hepatic = m.structure == Structure::OneCompartmentHepaticMetabolite;
        let needed: &[&str] = match m.structure {
            Structure::OneCompartment => &["ka", "cl", "v1"],
            Structure::TwoCompartment => &["ka", "cl", "v1", "q", "v2"],
            Structure::OneCompartmentHepaticMetabolite => {
                &["ka", "cl", "v1", "qh", "fm", "cl_m", "v_m"]
            }
        };
        for n in needed {
            if !given(n) {
                self.report(
                    yaml::position(&m.id),
                    format!("model `{}` needs parameter `{n}`", m.id.value),
                    None,
                );
            }
        }
        if m.structure != Structure::TwoCompartment && (given("q") || given("v2")) {
            self.report(
                yaml::position(&m.id),
                "a one-compartment model has no `q` or `v2`",
                None,
            );
        }
        for raw in &m.parameters {
            let of_site = Param::parse(&raw.name.value)
                .is_some_and(|p| Param::HEPATIC_METABOLITE.contains(&p));
            if of_site && !hepatic {
                self.report(
                    yaml::position(&raw.name),
                    format!(
                        "`{}` belongs to the `one_compartment_hepatic_metabolite` structure",
                        raw.name.value
                    ),
                    None,
                );
            }
        }
        if hepatic && given("q_m") != given("v_mp") {
            self.report(
                yaml::position(&m.id),
                "the metabolite's second compartment needs both `q_m` and `v_mp`",
                None,
            );
        }
        if p.fm > 1.0 {
            self.report(
                yaml::position(&m.id),
                format!("fm is a fraction of at most 1, got {}", p.fm),
                None,
            );
        }
        Some(p)
    }

    /// The metabolite of a parent + metabolite structure: the analyte's
    /// index among the drug's analytes and its residual error; None (with
    /// a problem said where one is) otherwise.
    fn metabolite(
        &mut self,
        m: &RawModel,
        raw: &RawDrug,
        per_unit: f64,
    ) -> Option<(usize, Residual)> {
        let hepatic = m.structure == Structure::OneCompartmentHepaticMetabolite;
        let Some(given) = &m.metabolite else {
            if hepatic {
                self.report(
                    yaml::position(&m.id),
                    format!("model `{}` forms a metabolite: give `metabolite:` with its `analyte` and `residual`", m.id.value),
                    None,
                );
            }
            return None;
        };
        if !hepatic {
            self.report(
                yaml::position(&given.analyte),
                "only the `one_compartment_hepatic_metabolite` structure forms a metabolite",
                None,
            );
            return None;
        }
        let index = raw.analytes.iter().position(|a| {
            a.role == crate::pack::raw::Role::Metabolite
                && (a.name.value == given.analyte.value || a.aliases.contains(&given.analyte.value))
        });
        let residual = self.residual(&given.residual, per_unit);
        match index {
            Some(i) => Some((i, residual?)),
            None => {
                self.report(
                    yaml::position(&given.analyte),
                    format!(
                        "`{}` is not a metabolite among the drug's analytes",
                        given.analyte.value
                    ),
                    None,
                );
                None
            }
        }
    }

    fn params(&mut self, names: &[&Spanned<String>], m: &RawModel) -> Vec<Param> {
        let mut out = Vec::new();
        for name in names {
            match Param::parse(&name.value) {
                Some(p) if out.contains(&p) => {
                    self.report(
                        yaml::position(*name),
                        format!("`{}` has two variances", name.value),
                        None,
                    );
                }
                Some(p) if !m.parameters.iter().any(|x| x.name.value == name.value) => {
                    self.report(
                        yaml::position(*name),
                        format!("`{}` has a variance but no typical value", name.value),
                        None,
                    );
                    out.push(p);
                }
                Some(p) => out.push(p),
                None => self.report(
                    yaml::position(*name),
                    format!("`{}` is not a model parameter", name.value),
                    None,
                ),
            }
        }
        out
    }

    /// The variance matrix in the order of the etas, checked positive definite.
    fn omega(&mut self, m: &RawModel, etas: &[Param]) -> Option<Vec<f64>> {
        let n = etas.len();
        let mut omega = vec![0.0; n * n];
        for (i, v) in m.iiv.iter().enumerate().take(n) {
            omega[i * n + i] = self.positive(&v.variance, "a variance");
        }
        let index = |name: &str| Param::parse(name).and_then(|p| etas.iter().position(|e| *e == p));
        for c in &m.covariances {
            let [a, b] = &c.between.value;
            match (index(a), index(b)) {
                (Some(i), Some(j)) if i != j => {
                    omega[i * n + j] = c.value.value;
                    omega[j * n + i] = c.value.value;
                }
                _ => self.report(yaml::position(&c.between), format!("a covariance is between two different parameters with variances, not `{a}` and `{b}`"), None),
            }
        }
        if crate::pk::positive_definite(&omega, n) {
            Some(omega)
        } else {
            self.report(
                yaml::position(&m.id),
                format!(
                    "the variance matrix of model `{}` is not positive definite",
                    m.id.value
                ),
                Some("check each covariance against its two variances (|cov| < sqrt(var1 var2))"),
            );
            None
        }
    }

    fn residual(&mut self, r: &RawResidual, per_unit: f64) -> Option<Residual> {
        let need = |v: &Option<Spanned<f64>>, what: &str, this: &mut Self| match v {
            Some(v) => Some(this.positive(v, what)),
            None => {
                this.report(
                    yaml::position(&r.form),
                    format!("this residual error needs `{what}`"),
                    None,
                );
                None
            }
        };
        let form = r.form.value;
        let used = |v: &Option<Spanned<f64>>| v.is_some();
        let extra = match form {
            ResidualForm::Proportional => used(&r.additive) || used(&r.log_sd),
            ResidualForm::Additive => used(&r.proportional) || used(&r.log_sd),
            ResidualForm::CombinedSqrt | ResidualForm::CombinedSum => used(&r.log_sd),
            ResidualForm::Exponential => used(&r.additive) || used(&r.proportional),
        };
        if extra {
            self.report(
                yaml::position(&r.form),
                "a part is given that this residual form does not use",
                None,
            );
        }
        Some(match form {
            ResidualForm::Proportional => Residual::Proportional {
                b: need(&r.proportional, "proportional", self)?,
            },
            ResidualForm::Additive => Residual::Additive {
                a: need(&r.additive, "additive", self)? * per_unit,
            },
            ResidualForm::CombinedSqrt => Residual::CombinedSqrt {
                a: need(&r.additive, "additive", self)? * per_unit,
                b: need(&r.proportional, "proportional", self)?,
            },
            ResidualForm::CombinedSum => Residual::CombinedSum {
                a: need(&r.additive, "additive", self)? * per_unit,
                b: need(&r.proportional, "proportional", self)?,
            },
            ResidualForm::Exponential => Residual::Exponential {
                sd: need(&r.log_sd, "log_sd", self)?,
            },
        })
    }

    fn covariate(&mut self, c: &RawCovariate, raw: &RawDrug, m: &RawModel) -> Option<Covariate> {
        if !raw.inputs.contains(&c.input.value) {
            self.report(
                yaml::position(&c.input),
                format!(
                    "covariate `{}` is not declared under the drug's `inputs:`",
                    c.input.value
                ),
                Some("add it to `inputs:` so that samples may give it"),
            );
        }
        let param = self.params(&[&c.param], m).first().copied()?;
        let number = |v: &Option<Spanned<f64>>, what: &str, this: &mut Self| match v {
            Some(v) if v.value.is_finite() => Some(v.value),
            _ => {
                this.report(
                    yaml::position(&c.input),
                    format!("a {:?} covariate needs a finite `{what}`", c.equation).to_lowercase(),
                    None,
                );
                None
            }
        };
        let (effect, reference) = match c.equation {
            Equation::Categorical => {
                if c.factors.is_empty() {
                    self.report(
                        yaml::position(&c.input),
                        "a categorical covariate needs `factors`",
                        None,
                    );
                }
                let factors = c
                    .factors
                    .iter()
                    .map(|f| (f.category.clone(), self.positive(&f.factor, "a factor")))
                    .collect();
                (Effect::Categorical { factors }, 0.0)
            }
            equation => {
                let reference = number(&c.reference, "reference", self)?;
                let coefficient = number(&c.coefficient, "coefficient", self)?;
                let effect = match equation {
                    Equation::Power => Effect::Power {
                        exponent: coefficient,
                    },
                    Equation::Exponential => Effect::Exponential { coefficient },
                    _ => Effect::Linear { slope: coefficient },
                };
                if c.range.is_none() && c.range_unknown.is_none() {
                    self.report(yaml::position(&c.input), format!("covariate `{}` needs the `range` it was estimated on, or `range_unknown` saying why not", c.input.value), None);
                }
                (effect, reference)
            }
        };
        Some(Covariate {
            input: c.input.value.clone(),
            param,
            effect,
            reference,
            range: c.range.as_ref().map(|r| (r.value[0], r.value[1])),
        })
    }
}
