//! The sample input contract (design.md) and its checks. A sample arrives
//! as a JSON object (JSON, NDJSON, HTTP) or a CSV row; both are read through
//! the same field lookups (`fields.rs`), so every format gets the same
//! checks and messages.

use serde_json::{Map, Value};

pub use crate::input::clinical::{Comedication, Matrix};
pub use crate::input::fields::Cells;
use crate::input::fields::{CsvHeader, Field, Fields};
use crate::input::units::Quantity;
use crate::result::ErrorCode;

/// Every field of the input contract.
pub const FIELDS: &[&str] = &[
    "id",
    "patient",
    "drug",
    "indication",
    "regimen",
    "measure",
    "value",
    "unit",
    "metabolites",
    "dose_mg",
    "interval_h",
    "hours_since_dose",
    "days_on_dose",
    "toxicity_grade",
    "lloq",
    "below_lloq",
    "toxicity_type",
    "toxicity_intolerable",
    "matrix",
    "comedication",
    "doses",
    "product",
    "auc_interval_h",
    "sampled_at",
];

/// Bounds of the input numbers: far beyond any real sample or schedule,
/// well inside the double range so that no conversion (mg/L to ng/mL, a
/// molar mass) or correction overflows. 1e9 in any unit is a kilogram per
/// litre in ng/mL; 100 g a dose; a year in hours; a century in days. They
/// are technical limits, not clinical ones: the plausibility check
/// (`eval/plausibility.rs`) judges what lies within them.
const MAX_LEVEL: f64 = 1e9;
/// A microgram: less than any tablet or capsule.
const MIN_DOSE_MG: f64 = 1e-3;
/// An hour: more often than any oral kinase inhibitor is given.
const MIN_INTERVAL_H: f64 = 1.0;
const MAX_DOSE_MG: f64 = 1e5;
const MAX_HOURS: f64 = 8760.0;
const MAX_DAYS: f64 = 36500.0;

/// CSV columns named `metabolite:<name>` carry metabolite values.
pub const METABOLITE_COLUMN_PREFIX: &str = "metabolite:";

/// One checked sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    /// Echoed in the result.
    pub id: Option<String>,
    /// Echoed in the result.
    pub patient: Option<String>,
    /// INN or alias, any case.
    pub drug: String,
    /// Selects the target (`CML`, `GIST`).
    pub indication: Option<String>,
    /// Selects the target (`intermittent`, `continuous`).
    pub regimen: Option<String>,
    /// Concentration (default) or AUC.
    pub measure: Option<Quantity>,
    /// The parent drug's measured value.
    pub value: f64,
    /// Unit of `value` and of every metabolite value.
    pub unit: String,
    /// Metabolite name or alias -> value, in input order.
    pub metabolites: Vec<(String, f64)>,
    /// Current dose per administration, mg.
    pub dose_mg: Option<f64>,
    /// Dosing interval, hours.
    pub interval_h: Option<f64>,
    /// Hours from the last dose to sampling.
    pub hours_since_dose: Option<f64>,
    /// Days on the current dose.
    pub days_on_dose: Option<f64>,
    /// Worst current CTCAE grade, 0–5.
    pub toxicity_grade: Option<u8>,
    /// The assay's lower limit of quantification, in the sample's unit.
    pub lloq: Option<f64>,
    /// The laboratory reported the level as below its limit of quantification.
    pub below_lloq: Option<bool>,
    /// The adverse event behind `toxicity_grade` (`pneumonitis`,
    /// `haematological`, ...): lets the pack apply the label's exceptions.
    pub toxicity_type: Option<String>,
    /// The patient finds a grade 2 toxicity intolerable (it acts as grade 3).
    pub toxicity_intolerable: Option<bool>,
    /// What was measured: plasma, serum or whole blood.
    pub matrix: Option<Matrix>,
    /// Interacting co-medication the patient takes.
    pub comedication: Vec<Comedication>,
    /// The product (brand) taken, where a drug has products that differ.
    pub product: Option<String>,
    /// The interval an AUC covers, hours (AUC0-12 is 12, AUC0-24 is 24).
    pub auc_interval_h: Option<f64>,
    /// When the sample was drawn, as given (a checked date-time).
    pub sampled_at: Option<String>,
    /// The doses given before the sample, for a population model's fit.
    pub doses: Vec<crate::input::doses::Dose>,
    /// Fields outside the contract, kept for warnings and for rule hooks.
    pub extra: Vec<(String, Value)>,
}

/// A record that could not be read as a sample: the sentence names the field.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleError {
    /// The record's `id`, when it could be read.
    pub id: Option<String>,
    /// The record's `patient`, when it could be read.
    pub patient: Option<String>,
    /// The record's `drug`, when it could be read.
    pub drug: Option<String>,
    /// What kind of problem it is.
    pub code: ErrorCode,
    /// What is wrong.
    pub message: String,
}

/// A problem found while reading: of a field's value unless said otherwise.
struct Fail {
    code: ErrorCode,
    message: String,
}

impl Fail {
    fn missing(message: &str) -> Fail {
        Fail {
            code: ErrorCode::MissingField,
            message: message.to_owned(),
        }
    }
}

impl From<String> for Fail {
    fn from(message: String) -> Self {
        Fail {
            code: ErrorCode::InvalidField,
            message,
        }
    }
}

impl Sample {
    /// Reads a sample from a JSON object (or, with `Cells::Text`, a map of
    /// CSV cells).
    pub fn from_map(map: &Map<String, Value>, cells: Cells) -> Result<Sample, SampleError> {
        Reader {
            fields: Fields::Map(map, cells),
        }
        .sample()
    }

    /// Reads a sample from a CSV row, in place.
    pub(crate) fn from_row(
        header: &CsvHeader,
        row: &csv::StringRecord,
    ) -> Result<Sample, SampleError> {
        Reader {
            fields: Fields::Row(header, row),
        }
        .sample()
    }
}

struct Reader<'a> {
    fields: Fields<'a>,
}

impl<'a> Reader<'a> {
    /// The sample, or the error with whatever identifies the record.
    fn sample(&self) -> Result<Sample, SampleError> {
        self.read().map_err(|fail| SampleError {
            id: self.text("id").ok().flatten(),
            patient: self.text("patient").ok().flatten(),
            drug: self.text("drug").ok().flatten(),
            code: fail.code,
            message: fail.message,
        })
    }

    fn read(&self) -> Result<Sample, Fail> {
        let drug = self
            .text("drug")?
            .ok_or_else(|| Fail::missing("field `drug` is required"))?;
        let unit = self
            .text("unit")?
            .ok_or_else(|| Fail::missing("field `unit` is required (units are never guessed)"))?;
        let value = self
            .number("value")?
            .ok_or_else(|| Fail::missing("field `value` is required"))?;
        if value < 0.0 {
            return Err(format!("field `value` must not be negative, got {value}").into());
        }
        self.at_most(Some(value), "value", MAX_LEVEL)?;
        let measure = match self.text("measure")?.as_deref() {
            None => None,
            Some(m) if m.eq_ignore_ascii_case("concentration") => Some(Quantity::Concentration),
            Some(m) if m.eq_ignore_ascii_case("auc") => Some(Quantity::Auc),
            Some(m) => {
                return Err(
                    format!("field `measure` must be `concentration` or `auc`, got `{m}`").into(),
                );
            }
        };
        let toxicity_grade = match self.number("toxicity_grade")? {
            None => None,
            Some(g) if g.fract() == 0.0 && (0.0..=5.0).contains(&g) => Some(g as u8),
            Some(g) => {
                return Err(format!(
                    "field `toxicity_grade` must be a whole CTCAE grade from 0 to 5, got {g}"
                )
                .into());
            }
        };
        let mut sample = Sample {
            id: self.text("id")?,
            patient: self.text("patient")?,
            drug,
            indication: self.text("indication")?,
            regimen: self.text("regimen")?,
            measure,
            value,
            unit,
            metabolites: self.metabolites()?,
            dose_mg: self.within(
                self.positive("dose_mg")?,
                "dose_mg",
                MIN_DOSE_MG,
                MAX_DOSE_MG,
            )?,
            interval_h: self.within(
                self.positive("interval_h")?,
                "interval_h",
                MIN_INTERVAL_H,
                MAX_HOURS,
            )?,
            hours_since_dose: self.at_most(
                self.not_negative("hours_since_dose")?,
                "hours_since_dose",
                MAX_HOURS,
            )?,
            days_on_dose: self.at_most(
                self.not_negative("days_on_dose")?,
                "days_on_dose",
                MAX_DAYS,
            )?,
            toxicity_grade,
            lloq: self.at_most(self.not_negative("lloq")?, "lloq", MAX_LEVEL)?,
            below_lloq: self.boolean("below_lloq")?,
            toxicity_type: self.text("toxicity_type")?,
            toxicity_intolerable: self.boolean("toxicity_intolerable")?,
            matrix: self.matrix()?,
            comedication: self.comedication()?,
            product: self.text("product")?,
            auc_interval_h: self.positive("auc_interval_h")?,
            sampled_at: self.date_time("sampled_at")?,
            doses: Vec::new(),
            extra: Vec::new(),
        };
        sample.doses = crate::input::doses::read(
            self.get("doses"),
            sample.sampled_at.as_deref(),
            (MIN_DOSE_MG, MAX_DOSE_MG),
        )?;
        let cells = self.fields.are_cells();
        self.fields.each(|key, value| {
            let known =
                FIELDS.contains(&key) || (cells && key.starts_with(METABOLITE_COLUMN_PREFIX));
            if !(known || cells && value.is_empty_cell()) {
                sample.extra.push((key.to_owned(), value.to_value()));
            }
            Ok(())
        })?;
        Ok(sample)
    }

    fn get(&self, field: &str) -> Option<Field<'a>> {
        self.fields.get(field)
    }

    fn text(&self, field: &str) -> Result<Option<String>, String> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        match (value.as_str(), value) {
            (Some(s), _) if s.trim().is_empty() => Err(format!("field `{field}` is empty")),
            (Some(s), _) => Ok(Some(s.to_owned())),
            // Identifiers are often numeric in lab exports; they are kept verbatim.
            (None, Field::Json(Value::Number(n))) if field == "id" || field == "patient" => {
                Ok(Some(n.to_string()))
            }
            (None, other) => Err(format!(
                "field `{field}` must be text, got {}",
                other.describe()
            )),
        }
    }

    fn date_time(&self, field: &str) -> Result<Option<String>, String> {
        let Some(text) = self.text(field)? else {
            return Ok(None);
        };
        match crate::input::time::parse(&text) {
            Some(_) => Ok(Some(text)),
            None => Err(format!(
                "field `{field}` must be a date and time such as 2026-11-24T08:30 (or with seconds and a UTC offset), got \"{text}\""
            )),
        }
    }

    fn number(&self, field: &str) -> Result<Option<f64>, String> {
        let Some(given) = self.get(field) else {
            return Ok(None);
        };
        let value = match given {
            Field::Json(Value::Number(n)) => n.as_f64(),
            Field::Cell(s) => parse_number(s),
            other => {
                return Err(format!(
                    "field `{field}` must be a number, got {}",
                    other.describe()
                ));
            }
        };
        match value {
            Some(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(format!(
                "field `{field}` must be a finite number written with a decimal point, got {}",
                given.describe()
            )),
        }
    }

    /// `true` or `false` (in CSV, the text `true` or `false`).
    fn boolean(&self, field: &str) -> Result<Option<bool>, String> {
        let Some(given) = self.get(field) else {
            return Ok(None);
        };
        match given {
            Field::Json(Value::Bool(b)) => Ok(Some(*b)),
            Field::Cell(s) if s.trim() == "true" => Ok(Some(true)),
            Field::Cell(s) if s.trim() == "false" => Ok(Some(false)),
            other => Err(format!(
                "field `{field}` must be true or false, got {}",
                other.describe()
            )),
        }
    }

    fn positive(&self, field: &str) -> Result<Option<f64>, String> {
        match self.number(field)? {
            Some(v) if v <= 0.0 => Err(format!("field `{field}` must be above zero, got {v}")),
            v => Ok(v),
        }
    }

    /// A number beyond any measurement or dosing schedule, refused before
    /// conversions and corrections could overflow it to infinity.
    fn at_most(&self, value: Option<f64>, field: &str, max: f64) -> Result<Option<f64>, String> {
        match value {
            Some(v) if v > max => Err(format!(
                "field `{field}` is out of range: {v:e} is above {max:e}, more than any sample or schedule"
            )),
            v => Ok(v),
        }
    }

    fn within(
        &self,
        value: Option<f64>,
        field: &str,
        min: f64,
        max: f64,
    ) -> Result<Option<f64>, String> {
        match value {
            Some(v) if v < min => Err(format!(
                "field `{field}` is out of range: {v:e} is below {min:e}, less than any dose or schedule"
            )),
            v => self.at_most(v, field, max),
        }
    }

    fn not_negative(&self, field: &str) -> Result<Option<f64>, String> {
        match self.number(field)? {
            Some(v) if v < 0.0 => Err(format!("field `{field}` must not be negative, got {v}")),
            v => Ok(v),
        }
    }

    fn metabolites(&self) -> Result<Vec<(String, f64)>, String> {
        let mut out = Vec::new();
        match self.get("metabolites") {
            None => {}
            Some(Field::Json(Value::Object(map))) => {
                for (name, value) in map {
                    let v = match value {
                        Value::Number(n) => n.as_f64().filter(|v| v.is_finite()),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        format!(
                            "metabolite `{name}` must be a number, got {}",
                            Field::Json(value).describe()
                        )
                    })?;
                    out.push((name.clone(), check_metabolite(name, v)?));
                }
            }
            Some(other) => {
                return Err(format!(
                    "field `metabolites` must be an object of name -> value, got {}",
                    other.describe()
                ));
            }
        }
        if self.fields.are_cells() {
            self.fields.each(|key, value| {
                let Some(name) = key.strip_prefix(METABOLITE_COLUMN_PREFIX) else {
                    return Ok(());
                };
                if value.is_empty_cell() {
                    return Ok(());
                }
                let v = value
                    .as_str()
                    .and_then(parse_number)
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        format!("column `{key}` must be a number, got {}", value.describe())
                    })?;
                out.push((name.trim().to_owned(), check_metabolite(name, v)?));
                Ok(())
            })?;
        }
        Ok(out)
    }
}

impl Reader<'_> {
    fn matrix(&self) -> Result<Option<Matrix>, String> {
        let Some(text) = self.text("matrix")? else {
            return Ok(None);
        };
        Matrix::parse(&text).map(Some).ok_or_else(|| {
            format!("field `matrix` must be `plasma`, `serum` or `whole_blood`, got `{text}`")
        })
    }

    /// A JSON array of names, or in CSV one cell with names separated by `;`.
    fn comedication(&self) -> Result<Vec<Comedication>, String> {
        let names: Vec<String> = match self.get("comedication") {
            None => return Ok(Vec::new()),
            Some(Field::Json(Value::Array(items))) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_owned).ok_or_else(|| {
                        format!(
                            "field `comedication` must list names, got {}",
                            Field::Json(v).describe()
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(Field::Cell(s)) => s.split(';').map(|n| n.trim().to_owned()).collect(),
            Some(other) => {
                return Err(format!(
                    "field `comedication` must be a list of names, got {}",
                    other.describe()
                ));
            }
        };
        names
            .iter()
            .map(|n| {
                Comedication::parse(n).ok_or_else(|| {
                    format!(
                        "field `comedication`: `{n}` is not one of {}",
                        Comedication::ALL
                            .iter()
                            .map(|c| format!("`{}`", c.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            })
            .collect()
    }
}

fn check_metabolite(name: &str, value: f64) -> Result<f64, String> {
    if value > MAX_LEVEL {
        Err(format!(
            "metabolite `{name}` is out of range: {value:e} is above {MAX_LEVEL:e}, more than any sample"
        ))
    } else if value < 0.0 {
        Err(format!(
            "metabolite `{name}` must not be negative, got {value}"
        ))
    } else {
        Ok(value)
    }
}

/// A decimal number as a CSV cell holds it. Thousands separators and
/// decimal commas (`1.234,5`) are refused: reading them would be a guess.
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let plain = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !plain || t.is_empty() {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value, cells: Cells) -> Result<Sample, SampleError> {
        Sample::from_map(value.as_object().unwrap_or(&Map::new()), cells)
    }

    #[test]
    fn reads_every_contract_field() {
        let s = parse(
            json!({"id": "S1", "patient": "P1", "drug": "sunitinib", "regimen": "intermittent",
                   "value": 40.5, "unit": "ng/mL", "metabolites": {"SU12662": 15},
                   "dose_mg": 50, "hours_since_dose": 24, "days_on_dose": 15, "toxicity_grade": 1}),
            Cells::Typed,
        )
        .unwrap();
        assert_eq!(s.drug, "sunitinib");
        assert_eq!(s.metabolites, vec![("SU12662".to_owned(), 15.0)]);
        assert_eq!(s.toxicity_grade, Some(1));
        assert!(s.extra.is_empty());
    }

    #[test]
    fn csv_cells_are_parsed_and_empty_cells_are_absent() {
        let s = parse(
            json!({"drug": "imatinib", "value": "850", "unit": "ng/mL", "dose_mg": "",
                   "metabolite:N-desmethyl imatinib": "120"}),
            Cells::Text,
        )
        .unwrap();
        assert_eq!(s.value, 850.0);
        assert_eq!(s.dose_mg, None);
        assert_eq!(s.metabolites.len(), 1);
    }

    #[test]
    fn errors_name_the_field_and_keep_the_id() {
        let e = parse(
            json!({"id": "S9", "drug": "imatinib", "value": "850", "unit": "ng/mL"}),
            Cells::Typed,
        )
        .unwrap_err();
        assert_eq!(e.id.as_deref(), Some("S9"));
        assert!(
            e.message.contains("`value`") && e.message.contains("number"),
            "{}",
            e.message
        );
        let e = parse(json!({"drug": "imatinib", "value": 850}), Cells::Typed).unwrap_err();
        assert!(e.message.contains("`unit`"), "{}", e.message);
        let e = parse(
            json!({"drug": "imatinib", "value": 1, "unit": "ng/mL", "toxicity_grade": 7}),
            Cells::Typed,
        )
        .unwrap_err();
        assert!(e.message.contains("toxicity_grade"), "{}", e.message);
    }

    #[test]
    fn decimal_commas_are_refused_not_guessed() {
        let e = parse(
            json!({"drug": "imatinib", "value": "1.234,5", "unit": "ng/mL"}),
            Cells::Text,
        )
        .unwrap_err();
        assert!(e.message.contains("`value`"), "{}", e.message);
        assert!(
            parse(
                json!({"drug": "x", "value": "NaN", "unit": "ng/mL"}),
                Cells::Text
            )
            .is_err()
        );
    }

    #[test]
    fn unknown_fields_are_kept_for_warnings() {
        let s = parse(
            json!({"drug": "imatinib", "value": 1, "unit": "ng/mL", "dose_mgg": 400}),
            Cells::Typed,
        )
        .unwrap();
        assert_eq!(s.extra.len(), 1);
    }
}
