//! The checks of what a drug rule takes from its label beyond the dose
//! ladder: products that are not interchangeable, indications without a
//! target, the management of grade 3 or 4 toxicity, interactions and food.
//! Each problem is recorded at its value, like the rest of the checker.

use crate::pack::check::Checker;
use crate::pack::model::{
    Drug, NoTarget, Product, ToxicityAction, ToxicityEvent, ToxicityManagement,
};
use crate::pack::raw::{self, FoodRule, RawDosing, RawDrug, RawTarget};
use crate::pack::yaml;

impl Checker<'_> {
    /// Each product as a complete rule: the drug's, with the product's own
    /// dose levels and only the targets that apply to it.
    pub(crate) fn products(&mut self, raw: &RawDrug, drug: &Drug) -> Vec<Drug> {
        let mut out: Vec<Drug> = Vec::new();
        for p in &raw.products {
            self.source(&p.source);
            let name = p.name.value.trim();
            let clash = out
                .iter()
                .filter_map(|d| d.product.as_ref())
                .any(|o| o.is_named(name))
                || name.eq_ignore_ascii_case(&drug.name);
            if clash {
                self.report(
                    yaml::position(&p.name),
                    format!("product name `{name}` is used twice (or is the drug's own name)"),
                    None,
                );
            }
            let mut targets = Vec::new();
            for id in &p.targets {
                match drug.targets.iter().find(|t| t.id == id.value) {
                    Some(t) => targets.push(t.clone()),
                    None => self.report(
                        yaml::position(id),
                        format!("`{}` is not a target id of `{}`", id.value, drug.name),
                        Some("list the ids of the drug's `targets:` that apply to this product"),
                    ),
                }
            }
            if targets.is_empty() && p.no_target.is_none() {
                self.report(
                    yaml::position(&p.name),
                    format!("product `{name}` has no target and does not say why"),
                    Some("list its `targets:`, or give `no_target:` with the reason"),
                );
            }
            let dosing = match (&p.dosing, &p.dose_levels_unknown) {
                (Some(_), Some(_)) => {
                    self.report(
                        yaml::position(&p.name),
                        format!("product `{name}` gives `dosing` and `dose_levels_unknown`"),
                        Some("keep one"),
                    );
                    None
                }
                (Some(d), None) => self.dosing(d),
                (None, Some(why)) => Some(crate::pack::model::Dosing {
                    levels: Vec::new(),
                    standard: 0,
                    unconfirmed: Some(why.clone()),
                    ..drug.dosing.clone()
                }),
                (None, None) => Some(drug.dosing.clone()),
            };
            let Some(dosing) = dosing else { continue };
            out.push(Drug {
                product: Some(Product {
                    name: name.to_owned(),
                    aliases: p.aliases.clone(),
                    form: p.form.clone(),
                    default: p.default,
                    indications: p.indications.clone(),
                    no_target: p.no_target.clone(),
                    note: p.note.clone(),
                }),
                targets,
                dosing,
                products: Vec::new(),
                ..drug.clone()
            });
        }
        if out
            .iter()
            .filter(|d| d.product.as_ref().is_some_and(|p| p.default))
            .count()
            > 1
        {
            self.report(
                yaml::position(&raw.drug),
                "at most one product may be the default",
                None,
            );
        }
        out
    }

    pub(crate) fn no_target(&mut self, raw: &RawDrug) -> Vec<NoTarget> {
        raw.no_target
            .iter()
            .map(|n| {
                self.source(&n.source);
                for i in &n.indications {
                    let targeted = raw.targets.iter().any(|t| {
                        t.indications
                            .iter()
                            .any(|x| x.eq_ignore_ascii_case(&i.value))
                    });
                    if targeted {
                        self.report(
                            yaml::position(i),
                            format!(
                                "`{}` has a target, so it cannot be under `no_target`",
                                i.value
                            ),
                            None,
                        );
                    }
                }
                NoTarget {
                    indications: n.indications.iter().map(|i| i.value.clone()).collect(),
                    reason: n.reason.clone(),
                }
            })
            .collect()
    }

    pub(crate) fn toxicity_management(&mut self, raw: &RawDrug) -> ToxicityManagement {
        let Some(m) = &raw.toxicity_management else {
            return ToxicityManagement::default();
        };
        self.source(&m.source);
        if m.at_lowest == Some(raw::ToxicityAction::ResumeLower) {
            self.report(
                yaml::position(&m.source),
                "`at_lowest` cannot be `resume_lower`: there is no lower level",
                Some("use `discontinue` or `resume_same_dose`"),
            );
        }
        let events: Vec<ToxicityEvent> = m
            .events
            .iter()
            .map(|e| {
                self.source(&e.source);
                ToxicityEvent {
                    kind: e.kind.value.clone(),
                    aliases: e.aliases.clone(),
                    indications: e.indications.clone(),
                    grades: e.grades.clone(),
                    action: action(e.action),
                    note: e.note.clone(),
                    unconfirmed: e.unconfirmed.clone(),
                }
            })
            .collect();
        for (i, e) in m.events.iter().enumerate() {
            if events[..i].iter().any(|o| {
                o.is_named(&e.kind.value) && o.indications == e.indications && o.grades == e.grades
            }) {
                self.report(
                    yaml::position(&e.kind),
                    format!("toxicity type `{}` is listed twice", e.kind.value),
                    None,
                );
            }
        }
        ToxicityManagement {
            at_lowest: m
                .at_lowest
                .map(action)
                .unwrap_or(ToxicityAction::Discontinue),
            at_lowest_note: m.at_lowest_note.clone(),
            events,
            unconfirmed: m.unconfirmed.clone(),
            given: true,
        }
    }

    pub(crate) fn interactions(&mut self, raw: &RawDrug) -> Option<String> {
        let acid = raw.interactions.as_ref()?.acid_reducers.as_ref()?;
        self.source(&acid.source);
        Some(acid.action.clone())
    }

    /// An AUC target's interval; refused on a concentration target.
    pub(crate) fn auc_interval(&mut self, t: &RawTarget) -> Option<f64> {
        let h = t.auc_interval_h.as_ref()?;
        if t.measure != crate::result::Measure::Auc {
            self.report(
                yaml::position(h),
                "`auc_interval_h` belongs to an AUC target (`measure: auc`)",
                None,
            );
        }
        Some(self.positive(h, "auc_interval_h"))
    }

    /// Whether the label says to take the drug fasting; then no step may
    /// say to take it with food.
    pub(crate) fn intake(&mut self, raw: &RawDosing) -> bool {
        let Some(intake) = &raw.intake else {
            return false;
        };
        self.source(&intake.source);
        let fasting = intake.food == FoodRule::Fasting;
        for i in &raw.interventions {
            if fasting && i.action.to_lowercase().contains("food") {
                self.report(
                    yaml::position(&i.source),
                    format!(
                        "`{}`: the label says to take this drug fasting, so no step may bring food",
                        i.action
                    ),
                    Some("remove the step, or correct `intake`"),
                );
            }
        }
        fasting
    }
}

fn action(a: raw::ToxicityAction) -> ToxicityAction {
    match a {
        raw::ToxicityAction::ResumeLower => ToxicityAction::ResumeLower,
        raw::ToxicityAction::ResumeSameDose => ToxicityAction::ResumeSameDose,
        raw::ToxicityAction::Discontinue => ToxicityAction::Discontinue,
    }
}
