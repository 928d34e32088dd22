//! What the evaluate form asks for a drug, read from the pack: only the
//! indications, regimens, products, metabolites and covariates that drug
//! has, units of the contract for what its targets measure, its dose
//! levels; and a posted form as a contract sample (a JSON object), which
//! the core then checks as it checks every other sample.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use tdm_core::pack::Drug;
use tdm_core::result::Measure;

/// Concentration units of the contract, mass then molar.
const MASS_UNITS: [&str; 4] = ["ng/mL", "ug/L", "mg/L", "ug/mL"];
const MOLAR_UNITS: [&str; 2] = ["nmol/L", "umol/L"];
const AUC_UNITS: [&str; 3] = ["ng*h/mL", "mg*h/L", "ug*h/mL"];

/// Fields given as numbers (others are text).
const NUMBERS: [&str; 7] = [
    "value",
    "dose_mg",
    "interval_h",
    "hours_since_dose",
    "days_on_dose",
    "toxicity_grade",
    "lloq",
];

/// The form of one drug.
pub(crate) struct DrugForm {
    pub indications: Vec<String>,
    pub regimens: Vec<String>,
    pub products: Vec<String>,
    pub metabolites: Vec<String>,
    /// The model covariates' sample fields (`weight_kg`).
    pub covariates: Vec<String>,
    pub units: Vec<&'static str>,
    /// `cmin`, and `auc` when a target is an AUC.
    pub measures: Vec<&'static str>,
    /// Doses per administration of the ladder (and the products'), mg.
    pub doses_mg: Vec<f64>,
    pub interval_h: f64,
}

impl DrugForm {
    pub(crate) fn of(drug: &Drug) -> DrugForm {
        let rules: Vec<&Drug> = std::iter::once(drug).chain(&drug.products).collect();
        let mut indications = BTreeSet::new();
        let mut regimens = BTreeSet::new();
        let mut measures: Vec<Measure> = Vec::new();
        for rule in &rules {
            for t in &rule.targets {
                indications.extend(t.indications.iter().cloned());
                regimens.extend(t.regimens.iter().cloned());
                if !measures.contains(&t.measure) {
                    measures.push(t.measure);
                }
            }
            for n in &rule.no_target {
                indications.extend(n.indications.iter().cloned());
            }
            if let Some(p) = &rule.product {
                indications.extend(p.indications.iter().cloned());
            }
        }
        let molar = drug.analytes.iter().all(|a| a.molar_mass.is_some());
        let mut units: Vec<&'static str> = MASS_UNITS.to_vec();
        if molar {
            units.extend(MOLAR_UNITS);
        }
        if measures.contains(&Measure::Auc) {
            units.extend(AUC_UNITS);
        }
        let mut doses: Vec<f64> = rules
            .iter()
            .flat_map(|r| r.dosing.levels.iter().map(|l| l.mg))
            .collect();
        doses.sort_by(f64::total_cmp);
        doses.dedup();
        let covariates: BTreeSet<String> = drug
            .models
            .iter()
            .flat_map(|m| m.model.covariates.iter().map(|c| c.input.clone()))
            .collect();
        DrugForm {
            indications: indications.into_iter().collect(),
            regimens: regimens.into_iter().collect(),
            products: drug
                .products
                .iter()
                .filter_map(|p| p.product.as_ref().map(|p| p.name.clone()))
                .collect(),
            metabolites: drug
                .analytes
                .iter()
                .skip(1)
                .map(|a| a.name.clone())
                .collect(),
            covariates: covariates.into_iter().collect(),
            units,
            measures: measures.iter().map(|m| m.as_str()).collect(),
            doses_mg: doses,
            interval_h: drug.dosing.interval_h,
        }
    }
}

/// The form's fields as posted, in order; empty ones left out.
pub(crate) struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The contract sample: numbers where the field is a number and the
    /// text reads as one (else the text, for the core to refuse with its
    /// message), metabolites as `metabolite:NAME`, ticked boxes as true.
    /// `measure` is only sent when it is not a trough.
    pub(crate) fn sample(&self, covariates: &[String]) -> Value {
        let mut sample = Map::new();
        let mut metabolites = Map::new();
        for (key, value) in &self.0 {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if let Some(name) = key.strip_prefix("metabolite:") {
                metabolites.insert(name.to_owned(), number_or_text(value));
            } else if key == "measure" {
                if value == "auc" {
                    sample.insert("measure".into(), "auc".into());
                }
            } else if key == "toxicity_intolerable" || key == "below_lloq" {
                sample.insert(key.clone(), Value::Bool(value == "on" || value == "true"));
            } else if NUMBERS.contains(&key.as_str()) || covariates.contains(key) {
                sample.insert(key.clone(), number_or_text(value));
            } else {
                sample.insert(key.clone(), value.into());
            }
        }
        if !metabolites.is_empty() {
            sample.insert("metabolites".into(), Value::Object(metabolites));
        }
        Value::Object(sample)
    }
}

/// `12.5` as a number (a decimal comma read as a point), else the text.
fn number_or_text(text: &str) -> Value {
    let normal = text.replace(',', ".");
    if let Ok(n) = normal.parse::<u64>() {
        return n.into();
    }
    match normal.parse::<f64>() {
        Ok(n) if n.is_finite() => n.into(),
        _ => text.into(),
    }
}

/// The field an error message of the core names (`field \`value\`: ...`).
pub(crate) fn field_of(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("field `")?;
    let name = &rest[..rest.find('`')?];
    Some(name.strip_prefix("metabolites.").map_or(name, |m| m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_posted_form_is_a_contract_sample() {
        let posted = Posted(
            [
                ("drug", "imatinib"),
                ("value", "1 400"),
                ("dose_mg", "400"),
                ("hours_since_dose", "10,5"),
                ("metabolite:SU12662", "11"),
                ("measure", "cmin"),
                ("toxicity_intolerable", "on"),
                ("weight_kg", "74"),
                ("patient", ""),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        );
        assert_eq!(
            posted.sample(&["weight_kg".to_owned()]),
            json!({"drug": "imatinib", "value": "1 400", "dose_mg": 400, "hours_since_dose": 10.5,
                   "metabolites": {"SU12662": 11}, "toxicity_intolerable": true, "weight_kg": 74})
        );
    }

    #[test]
    fn the_field_of_a_message() {
        assert_eq!(field_of("field `value`: not a number"), Some("value"));
        assert_eq!(field_of("field `metabolites.SU12662`: x"), Some("SU12662"));
        assert_eq!(field_of("the pack has no target"), None);
    }
}
