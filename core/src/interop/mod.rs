//! What hospital systems send, read into the input contract: FHIR R4 JSON
//! (`fhir.rs`, with the patient's medication, diagnoses, toxicity and
//! covariates in `fhir_context.rs`) and HL7 v2.5.1 result messages
//! (`hl7.rs`, `hl7_oru.rs`). Each drug-level result becomes one contract
//! sample (a JSON object), read then by the same checks as every other
//! format. Codes are read through the pack's code maps only; what cannot
//! be mapped is an error naming the resource and element
//! (`Observation/abc.valueQuantity.code`) or the segment and field
//! (`OBX-6`), never a guess.

pub(crate) mod fhir;
mod fhir_context;
mod fhir_read;
pub(crate) mod hl7;
mod hl7_oru;

use serde_json::{Map, Value};

use crate::input::SampleError;
use crate::result::ErrorCode;

pub use fhir::ordered_drug;

/// The code system of UCUM units.
pub const UCUM: &str = "http://unitsofmeasure.org";

/// One drug-level result read from a FHIR document or an HL7 message, as a
/// contract sample, with the element each field was read from.
#[derive(Debug, Clone)]
pub(crate) struct Mapped {
    /// Line of the result (an HL7 OBX segment); 0 when it has none.
    pub line: u64,
    /// The result as it was given (the resource's JSON, the segment's text).
    pub given: String,
    /// The contract sample, or why the result could not be read.
    pub sample: Result<Map<String, Value>, SampleError>,
    /// Contract field -> the element it was read from, for messages.
    pub read_from: Vec<(String, String)>,
}

/// An error that stops one result: what kind, and the sentence naming the element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub(crate) fn missing(message: String) -> Refusal {
        Refusal {
            code: ErrorCode::MissingField,
            message,
        }
    }

    pub(crate) fn invalid(message: String) -> Refusal {
        Refusal {
            code: ErrorCode::InvalidField,
            message,
        }
    }

    pub(crate) fn unit(message: String) -> Refusal {
        Refusal {
            code: ErrorCode::Unit,
            message,
        }
    }

    pub(crate) fn unknown_code(message: String) -> Refusal {
        Refusal {
            code: ErrorCode::UnknownCode,
            message,
        }
    }

    /// The error result of the record `id` of `patient`.
    pub(crate) fn into_error(
        self,
        id: Option<String>,
        patient: Option<String>,
        drug: Option<String>,
    ) -> SampleError {
        SampleError {
            id,
            patient,
            drug,
            code: self.code,
            message: self.message,
        }
    }
}

/// A contract sample being built, with where each field came from.
#[derive(Debug, Default)]
pub(crate) struct Built {
    pub fields: Map<String, Value>,
    pub read_from: Vec<(String, String)>,
}

impl Built {
    /// Sets `field` to `value`, read from `element`.
    pub(crate) fn set(&mut self, field: &str, value: impl Into<Value>, element: &str) {
        self.fields.insert(field.to_owned(), value.into());
        self.read_from.push((field.to_owned(), element.to_owned()));
    }
}

/// Adds to a contract check's message the element its field was read from:
/// "field `dose_mg` must be ... (read from MedicationRequest/m1.dosageInstruction[0])".
pub(crate) fn name_element(mut error: SampleError, read_from: &[(String, String)]) -> SampleError {
    if let Some((_, element)) = read_from
        .iter()
        .find(|(field, _)| error.message.contains(&format!("`{field}`")))
    {
        error.message = format!("{} (read from {element})", error.message);
    }
    error
}

/// The pack's drug a medication's names (code displays, text) name: each
/// word is looked up as a drug name, alias or product; answers the drug and
/// the product when a product's name was used. None when no word names a
/// drug of the pack, or when words name two different drugs.
pub(crate) fn drug_named<'a>(
    pack: &'a crate::Pack,
    names: &[&str],
) -> Option<(&'a crate::pack::Drug, Option<String>)> {
    let mut found: Option<(&crate::pack::Drug, Option<String>)> = None;
    for word in names
        .iter()
        .flat_map(|n| n.split(|c: char| !(c.is_alphanumeric() || c == '-')))
        .filter(|w| w.len() > 2)
    {
        let Some(drug) = pack.drug(word) else {
            continue;
        };
        let product = drug
            .products
            .iter()
            .filter_map(|p| p.product.as_ref())
            .find(|p| p.is_named(word))
            .map(|p| p.name.clone());
        match &found {
            Some((d, _)) if d.name != drug.name => return None,
            Some((_, Some(_))) => {}
            _ => found = Some((drug, product)),
        }
    }
    found
}

/// The refusal of a result whose code is not mapped but whose name reads
/// like `drug`: it names the codes the pack does map for the drug.
pub(crate) fn unknown_code(
    element: &str,
    given: &[String],
    drug: &crate::pack::Drug,
    pack: &crate::Pack,
) -> Refusal {
    let mapped: Vec<String> = pack
        .codes()
        .codes_of(&drug.name)
        .iter()
        .map(|a| format!("{} of {} ({})", a.code, a.system, a.display))
        .collect();
    let suggestion = if mapped.is_empty() {
        format!("the pack maps no code for {}", drug.name)
    } else {
        format!("the pack maps {} for {}", mapped.join(", "), drug.name)
    };
    let given = if given.is_empty() {
        "no code".to_owned()
    } else {
        given.join(", ")
    };
    Refusal::unknown_code(format!(
        "{element}: {given} is not in the pack's code maps, yet the result reads like {}: {suggestion}; add the laboratory's code to an overlay's codes/ file",
        drug.name
    ))
}
