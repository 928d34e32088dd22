//! The input contract as a JSON Schema type: what `schemas/sample.schema.json`
//! is generated from. Samples themselves are read by `sample.rs`.

use crate::input::clinical::{Comedication, Matrix};
use crate::input::units::Quantity;

/// The input contract as a JSON Schema (`schemas/sample.schema.json`). Fields
/// outside it are accepted with a warning, so the schema allows them.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)] // describes the JSON form; samples are read by `Sample::from_map`
#[schemars(title = "TDM sample")]
pub struct SampleInput {
    /// Echoed in the result.
    pub id: Option<String>,
    /// Echoed in the result. In a batch, a drug's population model is fitted
    /// to this sample with the patient's samples listed before it (each with
    /// `sampled_at`, in time order).
    pub patient: Option<String>,
    /// INN or alias of the drug, any case.
    pub drug: String,
    /// Selects the target, e.g. `CML` or `GIST`.
    pub indication: Option<String>,
    /// Selects the target, e.g. `intermittent` or `continuous`.
    pub regimen: Option<String>,
    /// What `value` measures; `concentration` when absent.
    pub measure: Option<Quantity>,
    /// The parent drug's measured value.
    #[schemars(range(min = 0))]
    pub value: f64,
    /// Unit of `value` and of every metabolite: ng/mL, ng/ml, ug/L, µg/L, mg/L,
    /// ug/mL, µg/mL, nmol/L, nM, umol/L, µM; AUC: ng*h/mL, mg*h/L, ug*h/mL.
    pub unit: String,
    /// Metabolite name or alias -> value in the same unit.
    pub metabolites: Option<std::collections::BTreeMap<String, f64>>,
    /// Current dose per administration, mg.
    #[schemars(range(min = 0))]
    pub dose_mg: Option<f64>,
    /// Dosing interval, hours; default from the pack.
    #[schemars(range(min = 0))]
    pub interval_h: Option<f64>,
    /// Hours from the last dose to sampling.
    #[schemars(range(min = 0))]
    pub hours_since_dose: Option<f64>,
    /// Days on the current dose.
    #[schemars(range(min = 0))]
    pub days_on_dose: Option<f64>,
    /// Worst current CTCAE grade.
    #[schemars(range(min = 0, max = 5))]
    pub toxicity_grade: Option<u8>,
    /// The assay's lower limit of quantification, in the sample's `unit`; a
    /// `value` below it is undetectable.
    #[schemars(range(min = 0))]
    pub lloq: Option<f64>,
    /// The laboratory reported the level as below its limit of
    /// quantification (then `value` is what it reported, often the LLOQ).
    pub below_lloq: Option<bool>,
    /// The adverse event behind `toxicity_grade`, e.g. `pneumonitis`,
    /// `haematological`, `hepatotoxicity_hys_law`: lets the pack apply the
    /// label's exceptions (resume at the same dose, stop for good).
    pub toxicity_type: Option<String>,
    /// The patient finds a grade 2 toxicity intolerable: it is acted on as
    /// grade 3 (Verheijen 2017, Figure 1).
    pub toxicity_intolerable: Option<bool>,
    /// What was measured; a whole-blood target refuses a plasma or serum
    /// level and the reverse. Absent: the target's own matrix is assumed,
    /// with a warning.
    pub matrix: Option<Matrix>,
    /// Interacting co-medication; in CSV one cell, names separated by `;`.
    pub comedication: Option<Vec<Comedication>>,
    /// The product taken, where a drug's products differ (Cometriq or
    /// Cabometyx); the brand may also be given as `drug`.
    pub product: Option<String>,
    /// The interval an AUC covers, hours: 12 for AUC0-12, 24 for AUC0-24.
    /// Required where the target is an AUC.
    #[schemars(range(min = 0))]
    pub auc_interval_h: Option<f64>,
    /// When the sample was drawn: `2026-11-24T08:30`, with optional seconds
    /// and UTC offset (`Z`, `+01:00`); used by `tdm report`.
    pub sampled_at: Option<String>,
    /// The doses given before the sample (JSON and NDJSON only; needs
    /// `sampled_at`): a population model is then fitted to them as given
    /// instead of to regular dosing.
    #[schemars(length(max = 730))]
    pub doses: Option<Vec<DoseInput>>,
}

/// One dose given before the sample.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)] // describes the JSON form
#[serde(deny_unknown_fields)]
pub struct DoseInput {
    /// When it was taken, a date and time like `sampled_at`.
    pub at: String,
    /// mg.
    #[schemars(range(min = 0))]
    pub mg: f64,
}
