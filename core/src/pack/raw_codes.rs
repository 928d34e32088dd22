//! Raw code maps (`codes/*.yaml`) as authors write them: how the codes a
//! laboratory or an EHR sends (LOINC, UCUM, ICD-10, SNOMED CT, a lab's own)
//! name what the pack knows. Checked into [`crate::pack::codes::Codes`].

use schemars::JsonSchema;
use serde::Deserialize;

use crate::pack::yaml::Spanned;

/// One file of code maps. Every list is optional; an overlay adds its own
/// file (`codes/local.yaml`) for the codes of its laboratory.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCodes {
    /// Codes of a drug-level result: which drug, and which of its analytes.
    #[serde(default)]
    pub analytes: Vec<RawAnalyteCode>,
    /// UCUM unit codes and the contract unit each is read as.
    #[serde(default)]
    pub units: Vec<RawUnitCode>,
    /// Diagnosis codes and the pack indication each stands for.
    #[serde(default)]
    pub indications: Vec<RawIndicationCode>,
    /// Codes of a dosing schedule (in a FHIR Dosage's `additionalInstruction`)
    /// and the pack regimen each stands for (`intermittent`, `continuous`).
    #[serde(default)]
    pub regimens: Vec<RawRegimenCode>,
    /// HL7 v2 coding system names (table 0396, or a laboratory's `99…`
    /// names) and the code system URI each is read as.
    #[serde(default)]
    pub hl7v2_systems: Vec<RawHl7System>,
    /// Codes of results that are a population model's covariates (body weight).
    #[serde(default)]
    pub covariates: Vec<RawCovariateCode>,
    /// Extensions that carry a CTCAE grade on a FHIR `AdverseEvent`.
    #[serde(default)]
    pub toxicity_grade_extensions: Vec<RawExtension>,
    /// Codes of an `Observation` whose value is a CTCAE grade.
    #[serde(default)]
    pub toxicity_grade_observations: Vec<RawCoded>,
}

/// A drug-level result's code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnalyteCode {
    /// The code system: `http://loinc.org`, or a laboratory's own URI (in
    /// HL7 v2, the coding system of OBX-3, e.g. `LN`, is mapped to it).
    pub system: Spanned<String>,
    /// The code, e.g. `57844-3`.
    pub code: Spanned<String>,
    /// The code's name at its source, e.g. `Imatinib [Mass/volume] in Serum or Plasma`.
    pub display: String,
    /// The pack's drug (name or alias).
    pub drug: Spanned<String>,
    /// The analyte measured: the parent drug when absent, else a metabolite
    /// of the drug (`SU12662`).
    #[serde(default)]
    pub analyte: Option<Spanned<String>>,
    /// What was measured, when the code says it: `plasma`, `serum`,
    /// `whole_blood`. A serum-or-plasma code leaves it out.
    #[serde(default)]
    pub matrix: Option<Spanned<String>>,
    /// Where the code was checked: a source id of `pack.yaml` and the place.
    pub source: Spanned<String>,
    /// What about the code is not confirmed at its source.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

/// A UCUM unit code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUnitCode {
    /// The UCUM code as sent (case sensitive), e.g. `ng/mL`, `nmol/L`, `ng.h/mL`.
    pub ucum: Spanned<String>,
    /// The contract unit it is read as, e.g. `ng/mL`, `ng*h/mL`.
    pub unit: Spanned<String>,
    /// Where the code was checked.
    pub source: Spanned<String>,
}

/// A diagnosis code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIndicationCode {
    /// The code system, e.g. `http://hl7.org/fhir/sid/icd-10-cm` or `http://snomed.info/sct`.
    pub system: Spanned<String>,
    /// The code, e.g. `C92.1`.
    pub code: Spanned<String>,
    /// The code's name at its source.
    pub display: String,
    /// Codes below it in the classification count too (`C92.10`, `C92.11`
    /// under `C92.1`): for ICD-10's hierarchical codes.
    #[serde(default)]
    pub includes_subcodes: bool,
    /// The pack's indication, as the drugs' targets name it (`CML`).
    pub indication: Spanned<String>,
    /// Where the code was checked.
    pub source: Spanned<String>,
    /// What about the code is not confirmed at its source.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

/// A dosing schedule's code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegimenCode {
    /// The code system.
    pub system: Spanned<String>,
    /// The code.
    pub code: Spanned<String>,
    /// The code's name at its source (for the file's readers; required
    /// so that a bare code is never written).
    #[allow(dead_code)]
    pub display: String,
    /// The pack regimen, as the drugs' targets name it.
    pub regimen: Spanned<String>,
    /// Where the code was checked.
    pub source: Spanned<String>,
}

/// An HL7 v2 coding system name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHl7System {
    /// The name as a CE/CWE field's third component gives it: `LN`, `99LAB`.
    pub name: Spanned<String>,
    /// The code system URI the pack's maps use for it.
    pub system: Spanned<String>,
    /// Where the name is defined.
    pub source: Spanned<String>,
}

/// A covariate result's code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCovariateCode {
    /// The code system.
    pub system: Spanned<String>,
    /// The code, e.g. `29463-7` (body weight).
    pub code: Spanned<String>,
    /// The code's name at its source.
    pub display: String,
    /// The sample field a model reads it as, e.g. `weight_kg`.
    pub input: Spanned<String>,
    /// The UCUM unit the value must have, e.g. `kg`.
    pub ucum: Spanned<String>,
    /// Where the code was checked.
    pub source: Spanned<String>,
}

/// An extension URL.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExtension {
    /// The extension's canonical URL.
    pub url: Spanned<String>,
    /// Where it is defined.
    pub source: Spanned<String>,
}

/// A code and where it was checked.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCoded {
    /// The code system.
    pub system: Spanned<String>,
    /// The code.
    pub code: Spanned<String>,
    /// The code's name at its source.
    pub display: String,
    /// Where the code was checked.
    pub source: Spanned<String>,
    /// What about the code is not confirmed at its source.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}
