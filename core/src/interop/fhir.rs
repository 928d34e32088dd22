//! FHIR R4 JSON in: a Bundle (any type) or a single resource. Each
//! drug-level `Observation` (its code in the pack's code maps) is one
//! result, in document order; its metabolites come from its components or
//! from metabolite Observations of the same patient at the same time; the
//! dose, indication, toxicity and covariates from the patient's other
//! resources (`fhir_context.rs`). An Observation whose code is not mapped
//! but whose name reads like a drug of the pack is an error with a
//! suggestion; other Observations (a creatinine, a blood count) are not
//! drug levels and give no result.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use serde_json::{Map, Value};

use crate::input::InputError;
use crate::interop::fhir_context::Context;
use crate::interop::fhir_read::{self, Res, codings, names};
use crate::interop::{Built, Mapped, Refusal, drug_named};
use crate::pack::Pack;
use crate::pack::codes::AnalyteCode;

/// The largest FHIR document read: it is read whole (a Bundle's references
/// point anywhere in it). 64 MiB holds tens of thousands of Observations.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Statuses of a result that is judged (FHIR R4 ObservationStatus).
const FINAL: [&str; 3] = ["final", "amended", "corrected"];

/// Reads a FHIR document and hands each drug-level result to `each`.
pub(crate) fn read<R: BufRead>(
    mut input: R,
    pack: &Pack,
    each: &mut dyn FnMut(Mapped) -> io::Result<()>,
) -> Result<(), InputError> {
    let mut bytes = Vec::new();
    (&mut input)
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(InputError::Document(format!(
            "the FHIR document is larger than {} MiB: split the Bundle",
            MAX_DOCUMENT_BYTES >> 20
        )));
    }
    let doc = crate::input::strict::from_slice(&bytes).map_err(|e| InputError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if let Some(key) = doc
        .get(crate::input::strict::DUPLICATE)
        .and_then(Value::as_str)
    {
        return Err(InputError::Document(format!(
            "the FHIR document gives the key `{key}` twice in one object: which value was meant cannot be told"
        )));
    }
    let resources = resources(&doc)?;
    for mapped in map_resources(&resources, pack) {
        each(mapped).map_err(InputError::Stopped)?;
    }
    Ok(())
}

/// The resources of a Bundle (each entry's `resource`), or the one resource.
fn resources(doc: &Value) -> Result<Vec<Res<'_>>, InputError> {
    let kind = doc.get("resourceType").and_then(Value::as_str);
    match kind {
        Some("Bundle") => Ok(doc
            .get("entry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(place, entry)| {
                Some(Res {
                    value: entry.get("resource")?,
                    full_url: entry.get("fullUrl").and_then(Value::as_str),
                    place,
                })
            })
            .collect()),
        Some(_) => Ok(vec![Res {
            value: doc,
            full_url: None,
            place: 0,
        }]),
        None => Err(InputError::Document(
            "not a FHIR resource: the document has no `resourceType`".into(),
        )),
    }
}

/// The pack's drug a medication order names (a MedicationRequest of a CDS
/// Hooks `order-select` call): by its `medicationCodeableConcept`, or by the
/// `Medication` its `medicationReference` points at among `others` (the
/// resources beside it). None when it names no drug of the pack, or two.
pub fn ordered_drug(pack: &Pack, order: &Value, others: &[&Value]) -> Option<String> {
    let concept = match order.get("medicationCodeableConcept") {
        Some(c) => Some(c),
        None => {
            let target = fhir_read::reference(order.get("medicationReference"))?;
            others
                .iter()
                .find(|r| {
                    r.get("resourceType").and_then(Value::as_str) == Some("Medication")
                        && r.get("id")
                            .and_then(Value::as_str)
                            .is_some_and(|id| target == format!("Medication/{id}"))
                })
                .and_then(|m| m.get("code"))
        }
    };
    drug_named(pack, &names(concept)).map(|(drug, _)| drug.name.clone())
}

/// Every drug-level result of the resources, in order.
pub(crate) fn map_resources(resources: &[Res<'_>], pack: &Pack) -> Vec<Mapped> {
    let context = Context::new(resources, pack);
    // Each Observation's code and draw, read once.
    let observations: Vec<Obs<'_, '_>> = resources
        .iter()
        .filter(|r| r.kind() == "Observation")
        .map(|r| Obs {
            res: *r,
            code: analyte_of(r, pack),
            draw: draw_of(r),
        })
        .collect();
    // The Observations of each draw, so a level finds its metabolites
    // without a scan of the whole document.
    let mut draws: HashMap<&(String, i64), Vec<&Obs<'_, '_>>> = HashMap::new();
    for o in &observations {
        if let Some(d) = &o.draw {
            draws.entry(d).or_default().push(o);
        }
    }
    let same_draw = |o: &Obs<'_, '_>| -> Vec<&Obs<'_, '_>> {
        o.draw
            .as_ref()
            .and_then(|d| draws.get(d))
            .cloned()
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for o in &observations {
        let obs = &o.res;
        match o.code {
            Some(code) if code.metabolite.is_none() => {
                out.push(parent(o, code, &same_draw(o), &context, pack));
            }
            Some(code) => {
                let has_parent = same_draw(o).iter().any(|other| {
                    other
                        .code
                        .is_some_and(|c| c.drug == code.drug && c.metabolite.is_none())
                });
                if !has_parent {
                    let refusal = Refusal::invalid(format!(
                        "{}: a level of {} without a level of {} drawn at the same time from the same patient: the metabolite alone is not judged",
                        obs.path(),
                        code.metabolite.as_deref().unwrap_or_default(),
                        code.drug
                    ));
                    out.push(refused(obs, Some(&code.drug), refusal));
                }
            }
            None => {
                if let Some(refusal) = unknown_code(obs, pack) {
                    out.push(refused(obs, None, refusal));
                }
            }
        }
    }
    out
}

/// The mapped analyte of an Observation's code, if any.
fn analyte_of<'p>(obs: &Res<'_>, pack: &'p Pack) -> Option<&'p AnalyteCode> {
    codings(obs.get("code"))
        .into_iter()
        .find_map(|(system, code)| pack.codes().analyte(system, code))
}

/// An Observation that looks like a drug level (a quantity whose name
/// reads like a drug of the pack) under a code the maps do not hold.
fn unknown_code(obs: &Res<'_>, pack: &Pack) -> Option<Refusal> {
    obs.get("valueQuantity")?;
    let words = names(obs.get("code"));
    let (drug, _) = drug_named(pack, &words)?;
    let given: Vec<String> = codings(obs.get("code"))
        .iter()
        .map(|(s, c)| format!("`{c}` of `{s}`"))
        .collect();
    Some(crate::interop::unknown_code(
        &format!("{}.code", obs.path()),
        &given,
        drug,
        pack,
    ))
}

/// An Observation with its mapped code and its draw (patient and time).
struct Obs<'r, 'p> {
    res: Res<'r>,
    code: Option<&'p AnalyteCode>,
    draw: Option<(String, i64)>,
}

/// The patient and effective time of an Observation, when it has both.
fn draw_of(obs: &Res<'_>) -> Option<(String, i64)> {
    let time = effective(obs).ok().flatten()?.1;
    Some((obs.patient()?, time))
}

/// The Observation's time, as given and as an instant.
fn effective(obs: &Res<'_>) -> Result<Option<(String, i64)>, Refusal> {
    let path = obs.path();
    for key in ["effectiveDateTime", "effectiveInstant"] {
        if let Some(text) = obs.str(key) {
            return fhir_read::date_time(text, &format!("{path}.{key}")).map(Some);
        }
    }
    if obs.get("effectivePeriod").is_some() {
        return Err(Refusal::invalid(format!(
            "{path}.effectivePeriod: a level is drawn at one time: give effectiveDateTime"
        )));
    }
    Ok(None)
}

fn refused(obs: &Res<'_>, drug: Option<&str>, refusal: Refusal) -> Mapped {
    Mapped {
        line: 0,
        given: obs.value.to_string(),
        sample: Err(refusal.into_error(Some(obs.path()), obs.patient(), drug.map(str::to_owned))),
        read_from: Vec::new(),
    }
}

/// The result of a parent drug's level Observation.
fn parent(
    o: &Obs<'_, '_>,
    code: &AnalyteCode,
    drawn_with: &[&Obs<'_, '_>],
    context: &Context<'_>,
    pack: &Pack,
) -> Mapped {
    let obs = &o.res;
    match parent_sample(o, code, drawn_with, context, pack) {
        Ok(built) => Mapped {
            line: 0,
            given: obs.value.to_string(),
            sample: Ok(built.fields),
            read_from: built.read_from,
        },
        Err(refusal) => refused(obs, Some(&code.drug), refusal),
    }
}

fn parent_sample(
    o: &Obs<'_, '_>,
    code: &AnalyteCode,
    drawn_with: &[&Obs<'_, '_>],
    context: &Context<'_>,
    pack: &Pack,
) -> Result<Built, Refusal> {
    let obs = &o.res;
    let path = obs.path();
    let status = obs.str("status").unwrap_or("missing");
    if !FINAL.contains(&status) {
        return Err(Refusal::invalid(format!(
            "{path}.status: `{status}`: only a final, amended or corrected result is judged"
        )));
    }
    let patient = obs.patient().ok_or_else(|| {
        Refusal::missing(format!(
            "{path}.subject: missing: whose level it is cannot be told"
        ))
    })?;
    let mut b = Built::default();
    b.set("id", path.clone(), &path);
    b.set("patient", patient.clone(), &format!("{path}.subject"));
    b.set("drug", code.drug.clone(), &format!("{path}.code"));
    let time = effective(obs)?;
    if let Some((text, _)) = &time {
        b.set(
            "sampled_at",
            text.clone(),
            &format!("{path}.effectiveDateTime"),
        );
    }
    let level = fhir_read::level(obs.value, &path, pack.codes())?;
    let value_at = format!("{path}.valueQuantity");
    b.set("value", level.value, &value_at);
    b.set("unit", level.unit.clone(), &value_at);
    if level.below {
        b.set("below_lloq", true, &format!("{value_at}.comparator"));
        b.set("lloq", level.value, &value_at);
    }
    if let Some(m) = code.matrix {
        b.set("matrix", m.as_str(), &format!("{path}.code"));
    }
    let metabolites = metabolites(o, code, &level.unit, drawn_with, pack)?;
    if !metabolites.is_empty() {
        b.fields
            .insert("metabolites".into(), Value::Object(metabolites));
    }
    let drug = pack
        .drug(&code.drug)
        .ok_or_else(|| Refusal::invalid(format!("{path}.code: no drug `{}`", code.drug)))?;
    context.apply(&mut b, &patient, drug, time.map(|(_, t)| t))?;
    Ok(b)
}

/// The metabolite levels that go with a parent's level: its components,
/// and metabolite Observations of the same draw; in the parent's unit.
fn metabolites(
    o: &Obs<'_, '_>,
    code: &AnalyteCode,
    unit: &str,
    drawn_with: &[&Obs<'_, '_>],
    pack: &Pack,
) -> Result<Map<String, Value>, Refusal> {
    let obs = &o.res;
    let path = obs.path();
    let mut found: Vec<(String, &Value, String)> = Vec::new();
    for (i, component) in obs
        .get("component")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let mapped = codings(component.get("code"))
            .into_iter()
            .find_map(|(s, c)| pack.codes().analyte(s, c));
        if let Some(m) = mapped.filter(|m| m.drug == code.drug) {
            let name = m.metabolite.clone().unwrap_or_else(|| m.drug.clone());
            found.push((name, component, format!("{path}.component[{i}]")));
        }
    }
    // The Observations drawn with this one (the same patient and time).
    for other in drawn_with {
        if let Some(m) = other
            .code
            .filter(|m| m.drug == code.drug && m.metabolite.is_some())
        {
            let other = &other.res;
            let status = other.str("status").unwrap_or("missing");
            if !FINAL.contains(&status) {
                return Err(Refusal::invalid(format!(
                    "{}.status: `{status}`: the metabolite's result is not final",
                    other.path()
                )));
            }
            found.push((
                m.metabolite.clone().unwrap_or_default(),
                other.value,
                other.path(),
            ));
        }
    }
    let mut out = Map::new();
    for (name, holder, at) in found {
        let level = fhir_read::level(holder, &at, pack.codes())?;
        if level.unit != unit {
            return Err(Refusal::unit(format!(
                "{at}.valueQuantity.code: {name} is in {}, {} in {unit}: the input contract reads a drug and its metabolites in one unit",
                level.unit, code.drug
            )));
        }
        if level.below {
            return Err(Refusal::invalid(format!(
                "{at}.valueQuantity.comparator: {name} below the limit of quantification: the total cannot be told"
            )));
        }
        if out.insert(name.clone(), level.value.into()).is_some() {
            return Err(Refusal::invalid(format!(
                "{at}: a second level of {name} for the same draw: which one was meant cannot be told"
            )));
        }
    }
    Ok(out)
}
