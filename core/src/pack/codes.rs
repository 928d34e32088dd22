//! The pack's code maps, checked: how a laboratory's and an EHR's codes
//! (LOINC, UCUM, ICD-10, SNOMED CT, a lab's own) name the pack's drugs,
//! analytes, units, indications and covariates. FHIR and HL7 v2 input
//! (`crate::interop`) read codes through these maps only: a code that is
//! not here is an error with a suggestion, never a guess.

use std::collections::BTreeMap;

use crate::input::Matrix;
use crate::input::units::Unit;
use crate::pack::check::Checker;
use crate::pack::model::Drug;
use crate::pack::raw_codes::RawCodes;
use crate::pack::yaml::{self, Spanned};

/// Every code map of the pack (all its `codes/*.yaml` files together).
#[derive(Debug, Clone, Default)]
pub struct Codes {
    /// Drug-level result codes.
    pub analytes: Vec<AnalyteCode>,
    /// UCUM code -> contract unit.
    pub units: Vec<(String, String)>,
    /// Diagnosis codes.
    pub indications: Vec<IndicationCode>,
    /// Dosing schedule code (system, code) -> the pack's regimen.
    pub regimens: Vec<(String, String, String)>,
    /// HL7 v2 coding system name -> code system URI.
    pub hl7v2_systems: Vec<(String, String)>,
    /// Covariate result codes.
    pub covariates: Vec<CovariateCode>,
    /// Extension URLs of a CTCAE grade on an `AdverseEvent`.
    pub toxicity_grade_extensions: Vec<String>,
    /// Codes of an `Observation` whose value is a CTCAE grade.
    pub toxicity_grade_observations: Vec<GradeCode>,
}

/// A drug-level result's code.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyteCode {
    /// Code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Its name at its source.
    pub display: String,
    /// The drug, as the pack names it.
    pub drug: String,
    /// The metabolite, as the pack names it; None for the parent drug.
    pub metabolite: Option<String>,
    /// What the code says was measured.
    pub matrix: Option<Matrix>,
    /// Where it was checked.
    pub source: String,
    /// What is not confirmed.
    pub unconfirmed: Option<String>,
}

/// The code of an `Observation` whose value is a CTCAE grade.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeCode {
    /// Code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Its name at its source.
    pub display: String,
    /// What is not confirmed.
    pub unconfirmed: Option<String>,
}

/// A diagnosis code.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicationCode {
    /// Code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Its name at its source.
    pub display: String,
    /// Codes below it count too.
    pub includes_subcodes: bool,
    /// The pack's indication.
    pub indication: String,
    /// Where it was checked.
    pub source: String,
    /// What is not confirmed.
    pub unconfirmed: Option<String>,
}

/// A covariate result's code.
#[derive(Debug, Clone, PartialEq)]
pub struct CovariateCode {
    /// Code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Its name at its source.
    pub display: String,
    /// The sample field it is read as.
    pub input: String,
    /// The UCUM unit its value must have.
    pub ucum: String,
}

impl Codes {
    /// The drug-level result a code stands for.
    pub fn analyte(&self, system: &str, code: &str) -> Option<&AnalyteCode> {
        self.analytes
            .iter()
            .find(|a| a.system == system && a.code == code)
    }

    /// The contract unit of a UCUM code (case sensitive, as UCUM is).
    pub fn unit(&self, ucum: &str) -> Option<&str> {
        self.units
            .iter()
            .find(|(u, _)| u == ucum)
            .map(|(_, unit)| unit.as_str())
    }

    /// The indication a diagnosis code stands for.
    pub fn indication(&self, system: &str, code: &str) -> Option<&IndicationCode> {
        self.indications.iter().find(|i| {
            i.system == system
                && (i.code == code || i.includes_subcodes && code.starts_with(i.code.as_str()))
        })
    }

    /// The regimen a dosing schedule's code stands for.
    pub fn regimen(&self, system: &str, code: &str) -> Option<&str> {
        self.regimens
            .iter()
            .find(|(s, c, _)| s == system && c == code)
            .map(|(_, _, r)| r.as_str())
    }

    /// The code system URI of an HL7 v2 coding system name.
    pub fn hl7v2_system(&self, name: &str) -> Option<&str> {
        self.hl7v2_systems
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_str())
    }

    /// The covariate a result code stands for.
    pub fn covariate(&self, system: &str, code: &str) -> Option<&CovariateCode> {
        self.covariates
            .iter()
            .find(|c| c.system == system && c.code == code)
    }

    /// Whether an `Observation` with this code carries a CTCAE grade.
    pub fn is_toxicity_observation(&self, system: &str, code: &str) -> bool {
        self.toxicity_grade_observations
            .iter()
            .any(|g| g.system == system && g.code == code)
    }

    /// The codes of `drug`'s analytes, for a suggestion.
    pub fn codes_of(&self, drug: &str) -> Vec<&AnalyteCode> {
        self.analytes.iter().filter(|a| a.drug == drug).collect()
    }
}

/// Where a code was first defined, to refuse it defined twice.
type Seen = BTreeMap<(String, String), String>;

/// Checks one codes file against the drugs and adds its maps to `codes`.
pub(crate) fn check(
    checker: &mut Checker<'_>,
    raw: &RawCodes,
    drugs: &[Drug],
    find: &dyn Fn(&str) -> Option<usize>,
    codes: &mut Codes,
    seen: &mut Seen,
) {
    for a in &raw.analytes {
        checker.source(&a.source);
        let place = format!("{}:{}", checker.file, yaml::position(&a.code).line);
        once(checker, seen, &a.system, &a.code, place);
        let Some(drug) = find(&a.drug.value).map(|i| &drugs[i]) else {
            checker.report(
                yaml::position(&a.drug),
                format!("`{}` is not a drug of the pack", a.drug.value),
                Some("name a drug by its name or an alias"),
            );
            continue;
        };
        let metabolite = match &a.analyte {
            None => None,
            Some(name) => match drug.analyte(&name.value) {
                Some(0) => None,
                Some(i) => Some(drug.analytes[i].name.clone()),
                None => {
                    let known: Vec<&str> = drug.analytes.iter().map(|x| x.name.as_str()).collect();
                    checker.report(
                        yaml::position(name),
                        format!("`{}` is not an analyte of {}", name.value, drug.name),
                        Some(&format!("its analytes: {}", known.join(", "))),
                    );
                    continue;
                }
            },
        };
        let matrix = a.matrix.as_ref().and_then(|m| {
            let read = Matrix::parse(&m.value);
            if read.is_none() {
                checker.report(
                    yaml::position(m),
                    format!("matrix `{}` is not plasma, serum or whole_blood", m.value),
                    Some("leave it out for a serum-or-plasma code"),
                );
            }
            read
        });
        codes.analytes.push(AnalyteCode {
            system: a.system.value.clone(),
            code: a.code.value.clone(),
            display: a.display.clone(),
            drug: drug.name.clone(),
            metabolite,
            matrix,
            source: a.source.value.clone(),
            unconfirmed: a.unconfirmed.clone(),
        });
    }
    for u in &raw.units {
        checker.source(&u.source);
        if Unit::parse(&u.unit.value).is_err() {
            checker.report(
                yaml::position(&u.unit),
                format!("`{}` is not a unit of the input contract", u.unit.value),
                Some(&format!(
                    "one of: {}",
                    Unit::all().collect::<Vec<_>>().join(", ")
                )),
            );
        } else if codes.unit(&u.ucum.value).is_some() {
            checker.report(
                yaml::position(&u.ucum),
                format!("UCUM code `{}` is mapped twice", u.ucum.value),
                None,
            );
        } else {
            codes
                .units
                .push((u.ucum.value.clone(), u.unit.value.clone()));
        }
    }
    indications(checker, raw, codes, seen);
    for r in &raw.regimens {
        checker.source(&r.source);
        let place = format!("{}:{}", checker.file, yaml::position(&r.code).line);
        once(checker, seen, &r.system, &r.code, place);
        let known = drugs
            .iter()
            .flat_map(every_rule)
            .flat_map(|d| &d.targets)
            .any(|t| {
                t.regimens
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&r.regimen.value))
            });
        if !known {
            checker.report(
                yaml::position(&r.regimen),
                format!(
                    "no target of the pack has the regimen `{}`",
                    r.regimen.value
                ),
                Some("name a regimen as the drugs' targets do (`intermittent`, `continuous`)"),
            );
        }
        codes.regimens.push((
            r.system.value.clone(),
            r.code.value.clone(),
            r.regimen.value.clone(),
        ));
    }
    for h in &raw.hl7v2_systems {
        checker.source(&h.source);
        if codes.hl7v2_system(&h.name.value).is_some() {
            checker.report(
                yaml::position(&h.name),
                format!("HL7 v2 coding system `{}` is mapped twice", h.name.value),
                None,
            );
        } else {
            codes
                .hl7v2_systems
                .push((h.name.value.clone(), h.system.value.clone()));
        }
    }
    for c in &raw.covariates {
        checker.source(&c.source);
        let place = format!("{}:{}", checker.file, yaml::position(&c.code).line);
        once(checker, seen, &c.system, &c.code, place);
        let read = drugs.iter().any(|d| {
            d.models
                .iter()
                .any(|m| m.model.covariates.iter().any(|x| x.input == c.input.value))
        });
        if !read {
            checker.report(
                yaml::position(&c.input),
                format!("no population model of the pack reads `{}`", c.input.value),
                Some("name the input a model's covariate reads, e.g. `weight_kg`"),
            );
        }
        codes.covariates.push(CovariateCode {
            system: c.system.value.clone(),
            code: c.code.value.clone(),
            display: c.display.clone(),
            input: c.input.value.clone(),
            ucum: c.ucum.value.clone(),
        });
    }
    for e in &raw.toxicity_grade_extensions {
        checker.source(&e.source);
        codes.toxicity_grade_extensions.push(e.url.value.clone());
    }
    for t in &raw.toxicity_grade_observations {
        checker.source(&t.source);
        let place = format!("{}:{}", checker.file, yaml::position(&t.code).line);
        once(checker, seen, &t.system, &t.code, place);
        codes.toxicity_grade_observations.push(GradeCode {
            system: t.system.value.clone(),
            code: t.code.value.clone(),
            display: t.display.clone(),
            unconfirmed: t.unconfirmed.clone(),
        });
    }
}

fn indications(checker: &mut Checker<'_>, raw: &RawCodes, codes: &mut Codes, seen: &mut Seen) {
    for i in &raw.indications {
        checker.source(&i.source);
        let place = format!("{}:{}", checker.file, yaml::position(&i.code).line);
        once(checker, seen, &i.system, &i.code, place);
        // An indication no drug names is not refused: an overlay may drop
        // a target its base's code maps still name, and a sample with that
        // indication is then refused by the target choice, which says why.
        let wanted = &i.indication.value;
        codes.indications.push(IndicationCode {
            system: i.system.value.clone(),
            code: i.code.value.clone(),
            display: i.display.clone(),
            includes_subcodes: i.includes_subcodes,
            indication: wanted.clone(),
            source: i.source.value.clone(),
            unconfirmed: i.unconfirmed.clone(),
        });
    }
}

/// A drug's rule and each of its products' rules.
fn every_rule(drug: &Drug) -> impl Iterator<Item = &Drug> {
    std::iter::once(drug).chain(drug.products.iter())
}

/// A (system, code) is mapped once in the whole pack.
fn once(
    checker: &mut Checker<'_>,
    seen: &mut Seen,
    system: &Spanned<String>,
    code: &Spanned<String>,
    place: String,
) {
    let key = (system.value.clone(), code.value.clone());
    if let Some(first) = seen.get(&key) {
        checker.report(
            yaml::position(code),
            format!(
                "code `{}` of `{}` is already mapped at {first}",
                code.value, system.value
            ),
            Some("map each code once: which meaning was intended cannot be told"),
        );
    } else {
        seen.insert(key, place);
    }
}
