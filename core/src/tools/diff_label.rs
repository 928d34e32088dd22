//! The facts of a drug rule that come from its label beyond the dose
//! ladder (products, indications without a target, the management of
//! toxicity, interactions, food) and a target's matrix and spread, for the
//! semantic diff: a committee sees each of them change. A population
//! model's typical values, variances and residual error are clinical
//! changes too (they move every model-based number).

use super::diff::{Collector, Impact};
use crate::pack::model::{Drug, Target, ToxicityAction};
use crate::result::num::Num;

fn action(a: ToxicityAction) -> &'static str {
    match a {
        ToxicityAction::ResumeLower => "withhold, then resume one level down",
        ToxicityAction::ResumeSameDose => "withhold, then resume at the same dose",
        ToxicityAction::Discontinue => "stop for good",
    }
}

pub(super) fn label_facts(c: &mut Collector, d: &Drug) {
    use Impact::*;
    c.group = None;
    c.list(
        "conditions of an increase",
        &d.dosing.escalation_conditions,
        Clinical,
    );
    c.text(
        "above the highest level",
        d.dosing.above_highest.as_deref(),
        Clinical,
    );
    c.text(
        "taken fasting (no step brings food)",
        d.dosing.fasting.then_some("yes"),
        Clinical,
    );
    for n in &d.no_target {
        let key = format!("no target for {}", n.indications.join(", "));
        c.text(key, Some(&n.reason), Major);
    }
    let m = &d.toxicity;
    if m.given {
        c.text(
            "toxicity at the lowest level",
            Some(action(m.at_lowest)),
            Major,
        );
        c.text(
            "toxicity at the lowest level, label",
            m.at_lowest_note.as_deref(),
            Clinical,
        );
        c.text(
            "toxicity management unconfirmed",
            m.unconfirmed.as_deref(),
            Clinical,
        );
    }
    for e in &m.events {
        let mut scope = if e.indications.is_empty() {
            String::new()
        } else {
            format!(" in {}", e.indications.join(", "))
        };
        if !e.grades.is_empty() {
            let grades: Vec<String> = e.grades.iter().map(u8::to_string).collect();
            scope.push_str(&format!(", grade {}", grades.join(" or ")));
        }
        let key = format!("toxicity `{}`{scope}", e.kind);
        c.text(key.clone(), Some(action(e.action)), Major);
        c.list(format!("{key} aliases"), &e.aliases, Clinical);
        c.text(format!("{key} label"), e.note.as_deref(), Clinical);
        c.text(
            format!("{key} unconfirmed"),
            e.unconfirmed.as_deref(),
            Clinical,
        );
    }
    c.text("acid reducers", d.acid_reducers.as_deref(), Clinical);
    c.text(
        "near assay limits",
        d.near_assay_limits.as_ref().map(|(r, _)| r.as_str()),
        Clinical,
    );
}

pub(super) fn target_extras(c: &mut Collector, name: &str, t: &Target) {
    use Impact::*;
    let matrix = (t.matrix == crate::input::Matrix::WholeBlood).then_some("whole blood");
    c.text(format!("{name} matrix"), matrix, Major);
    c.num(format!("{name} AUC interval"), t.auc_interval_h, "h", Major);
    c.text(
        format!("{name} AUC interval unknown"),
        t.auc_interval_unknown.as_deref(),
        Major,
    );
    if let Some(s) = &t.spread {
        let kind = if s.geometric {
            "geometric"
        } else {
            "arithmetic"
        };
        let spread = format!(
            "CV {} % ({kind} mean) at {} mg",
            Num(s.cv * 100.0),
            Num(s.dose_mg)
        );
        c.text(format!("{name} population spread"), Some(&spread), Clinical);
    }
}

/// A product's own facts, each key named by the product.
pub(super) fn product_facts(c: &mut Collector, p: &Drug) {
    use Impact::*;
    let Some(product) = &p.product else { return };
    let name = format!("product `{}`", product.name);
    c.group = Some(name.clone());
    c.list(format!("{name} aliases"), &product.aliases, Clinical);
    c.text(format!("{name} form"), product.form.as_deref(), Editorial);
    c.text(
        format!("{name} default"),
        product.default.then_some("yes"),
        Major,
    );
    c.list(format!("{name} indications"), &product.indications, Major);
    let targets: Vec<String> = p.targets.iter().map(|t| t.id.clone()).collect();
    c.list(format!("{name} targets"), &targets, Major);
    c.text(
        format!("{name} no target"),
        product.no_target.as_deref(),
        Major,
    );
    let levels: Vec<String> = p.dosing.levels.iter().map(|l| l.describe()).collect();
    c.list(format!("{name} dose levels"), &levels, Major);
    c.text(
        format!("{name} dose levels unconfirmed"),
        p.dosing.unconfirmed.as_deref(),
        Clinical,
    );
    c.text(format!("{name} note"), product.note.as_deref(), Editorial);
    c.group = None;
}

/// Every number of each population model, and its source.
pub(super) fn model_facts(c: &mut Collector, d: &Drug) {
    use Impact::*;
    for m in &d.models {
        let name = format!("model `{}`", m.model.id);
        c.text(format!("{name} source"), Some(&m.source), Clinical);
        c.text(
            format!("{name} unconfirmed"),
            m.unconfirmed.as_deref(),
            Clinical,
        );
        c.text(format!("{name} population"), Some(&m.population), Clinical);
        for param in crate::pk::Param::ALL {
            let value = param.get(&m.model.typical);
            let default = if param == crate::pk::Param::F {
                1.0
            } else {
                0.0
            };
            // A fraction (f, fm) is shown without a unit.
            let unit = if param.unit() == "1" {
                ""
            } else {
                param.unit()
            };
            c.num(
                format!("{name} {}", param.name()),
                (value != default).then_some(value),
                unit,
                Clinical,
            );
        }
        let n = m.model.etas.len();
        for (i, a) in m.model.etas.iter().enumerate() {
            for (j, b) in m.model.etas.iter().enumerate().take(i + 1) {
                let v = m.model.omega[i * n + j];
                let key = if i == j {
                    format!("{name} variance of {}", a.name())
                } else {
                    format!("{name} covariance of {} and {}", b.name(), a.name())
                };
                c.num(key, (i == j || v != 0.0).then_some(v), "", Clinical);
            }
        }
        c.text(
            format!("{name} residual error"),
            Some(&m.model.residual.to_string()),
            Clinical,
        );
        if let Some(r) = &m.model.metabolite_residual {
            c.text(
                format!("{name} metabolite's residual error"),
                Some(&r.to_string()),
                Clinical,
            );
        }
        for cov in &m.model.covariates {
            c.text(
                format!("{name} covariate {}", cov.input),
                Some(&cov.to_string()),
                Clinical,
            );
        }
        for (param, v) in &m.iov {
            c.num(
                format!("{name} inter-occasion variance of {}", param.name()),
                Some(*v),
                "",
                Clinical,
            );
        }
    }
}
