//! Calling a drug's script hooks and checking what they return. A hook
//! that returns `()` leaves the YAML rule in force; anything malformed is an
//! error for that sample, never a guess.

use rhai::{Dynamic, Map};
use serde_json::{Value, json};

use super::analytes::Values;
use crate::input::sample::Sample;
use crate::input::units::{Quantity, Unit};
use crate::pack::model::{Basis, Drug, Evidence, HookProvider, Lower, Pack, Target};
use crate::pack::script;
use crate::result::{Advice, Hook};

/// Whether the drug's script or plugin implements `hook`.
pub(crate) fn implements(drug: &Drug, hook: Hook) -> bool {
    match &drug.hooks {
        Some(HookProvider::Script(s)) => s.has(hook),
        Some(HookProvider::Plugin { plugin, .. }) => plugin.hooks().contains(&hook),
        None => false,
    }
}

/// Calls `hook` of the drug's script or plugin, if it implements it.
/// Answers with the returned value and who returned it (for messages).
fn call_hook(
    pack: &Pack,
    drug: &Drug,
    hook: Hook,
    args: Vec<Value>,
) -> Result<Option<(Dynamic, String)>, String> {
    match &drug.hooks {
        Some(HookProvider::Script(s)) if s.has(hook) => {
            let args = args.iter().map(script::to_dynamic).collect();
            let value = script::call(&pack.engine, s, hook.as_str(), args)?;
            Ok(Some((value, format!("script `{}`, fn {hook}", s.path))))
        }
        Some(HookProvider::Plugin { plugin, .. }) if plugin.hooks().contains(&hook) => {
            let who = format!("plugin `{}`, {hook}", plugin.name());
            let mut args = args.into_iter();
            let request = json!({"sample": args.next(), "result": args.next()});
            let value = plugin
                .call(hook.as_str(), &request)
                .map_err(|e| format!("{who}: {e}"))?;
            Ok(Some((script::to_dynamic(&value), who)))
        }
        _ => Ok(None),
    }
}

/// The sample as the `exposure` and `next_dose` hooks receive it: with the
/// analytes converted, and at trough where the timing stage corrects them.
pub(crate) fn measured_map(
    cx: &super::Context<'_>,
    measured: &super::analytes::Measured,
    timing: &super::timing::Timing,
) -> Value {
    sample_map(
        cx.sample,
        cx.drug,
        Some((
            &measured.values,
            timing.factors.as_deref(),
            timing.interval_h,
        )),
    )
}

/// The sample as hooks see it: every input field (absent ones are `()`),
/// extra fields passed through, and, once measured, `analytes` (name ->
/// ng/mL or ng*h/mL), `at_trough` (the same after trough correction) and
/// `interval_used_h`.
pub(crate) fn sample_map(
    sample: &Sample,
    drug: &Drug,
    measured: Option<(&Values, Option<&[f64]>, f64)>,
) -> Value {
    let mut value = json!({
        "id": sample.id, "patient": sample.patient, "drug": drug.name,
        "indication": sample.indication, "regimen": sample.regimen,
        "measure": match sample.measure { Some(Quantity::Auc) => "auc", _ => "concentration" },
        "value": sample.value, "unit": sample.unit,
        "metabolites": sample.metabolites.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "dose_mg": sample.dose_mg, "interval_h": sample.interval_h,
        "hours_since_dose": sample.hours_since_dose, "days_on_dose": sample.days_on_dose,
        "toxicity_grade": sample.toxicity_grade,
        "lloq": sample.lloq, "below_lloq": sample.below_lloq,
    });
    if let Some(map) = value.as_object_mut() {
        for (key, extra) in &sample.extra {
            map.entry(key.clone()).or_insert_with(|| extra.clone());
        }
        if let Some((measured, factors, interval)) = measured {
            let mut analytes = serde_json::Map::new();
            let mut at_trough = serde_json::Map::new();
            for (i, m) in measured.iter().enumerate() {
                if let Some((_, canonical)) = m {
                    let name = drug.analytes[i].name.clone();
                    analytes.insert(name.clone(), json!(canonical));
                    at_trough.insert(name, json!(canonical * factors.map_or(1.0, |f| f[i])));
                }
            }
            map.insert("analytes".into(), analytes.into());
            map.insert("at_trough".into(), at_trough.into());
            map.insert("interval_used_h".into(), json!(interval));
        }
    }
    value
}

fn as_map(value: Dynamic, what: &str) -> Result<Map, String> {
    let kind = value.type_name().to_owned();
    value
        .try_cast::<Map>()
        .ok_or_else(|| format!("{what} must return a map or (), got {kind}"))
}

fn in_canonical(
    map: &Map,
    key: &str,
    unit: Option<&Unit>,
    what: &str,
) -> Result<Option<f64>, String> {
    let Some(v) = script::field(map, key) else {
        return Ok(None);
    };
    let n = match script::number(v) {
        Some(n) if n.is_finite() && n >= 0.0 => n,
        Some(n) => {
            return Err(format!(
                "{what}: `{key}` must be a finite number of zero or more, got {n}"
            ));
        }
        None => {
            return Err(format!(
                "{what}: `{key}` must be a number, got {}",
                v.type_name()
            ));
        }
    };
    let unit =
        unit.ok_or_else(|| format!("{what}: `{key}` needs a `unit` (units are never guessed)"))?;
    unit.to_canonical(n, None)
        .map(Some)
        .map_err(|e| format!("{what}: {e}"))
}

fn unit_of(map: &Map, quantity: Quantity, what: &str) -> Result<Option<Unit>, String> {
    let Some(v) = script::field(map, "unit") else {
        return Ok(None);
    };
    let text = v
        .clone()
        .into_string()
        .map_err(|t| format!("{what}: `unit` must be text, got {t}"))?;
    let unit = Unit::parse(&text).map_err(|e| format!("{what}: {e}"))?;
    if unit.molar || unit.quantity != quantity {
        return Err(format!(
            "{what}: `unit` must be a mass unit of {}, got `{text}`",
            quantity.canonical()
        ));
    }
    Ok(Some(unit))
}

fn enum_field<T: serde::de::DeserializeOwned>(
    map: &Map,
    key: &str,
    what: &str,
) -> Result<Option<T>, String> {
    let Some(v) = script::field(map, key) else {
        return Ok(None);
    };
    let text = v
        .clone()
        .into_string()
        .map_err(|t| format!("{what}: `{key}` must be text, got {t}"))?;
    serde_json::from_value(json!(text))
        .map(Some)
        .map_err(|_| format!("{what}: `{key}` `{text}` is not an allowed value"))
}

/// `fn target(sample)`: replaces the bounds (and optionally basis and
/// evidence) of the target the YAML rule chose.
pub(crate) fn target(
    pack: &Pack,
    drug: &Drug,
    sample: &Sample,
    chosen: &Target,
) -> Result<Option<Target>, String> {
    if !implements(drug, Hook::Target) {
        return Ok(None);
    }
    let Some((returned, what)) = call_hook(
        pack,
        drug,
        Hook::Target,
        vec![sample_map(sample, drug, None)],
    )?
    else {
        return Ok(None);
    };
    if returned.is_unit() {
        return Ok(None);
    }
    let map = as_map(returned, &what)?;
    let unit = unit_of(&map, chosen.measure.quantity(), &what)?;
    let lower = in_canonical(&map, "lower", unit.as_ref(), &what)?;
    let upper = in_canonical(&map, "upper", unit.as_ref(), &what)?;
    if lower.is_none() && upper.is_none() {
        return Err(format!("{what}: the map needs `lower`, `upper` or both"));
    }
    if let (Some(l), Some(u)) = (lower, upper)
        && l >= u
    {
        return Err(format!("{what}: `upper` ({u}) must be above `lower` ({l})"));
    }
    let mut target = chosen.clone();
    target.lower = lower.map(Lower::Fixed);
    target.upper = upper;
    if script::field(&map, "references").is_some() {
        target.references =
            script::texts(&map, "references").map_err(|e| format!("{what}: {e}"))?;
    }
    if let Some(note) = script::field(&map, "note") {
        target.note = Some(
            note.clone()
                .into_string()
                .map_err(|t| format!("{what}: `note` must be text, got {t}"))?,
        );
    }
    target.basis = enum_field::<Basis>(&map, "basis", &what)?.unwrap_or(chosen.basis);
    target.evidence = enum_field::<Evidence>(&map, "evidence", &what)?.unwrap_or(chosen.evidence);
    Ok(Some(target))
}

/// What `fn exposure(sample)` returned.
pub(crate) struct ScriptedExposure {
    pub value: f64,
    /// The value is the trough whatever the sampling time (a model's
    /// prediction): the trough window of the YAML rule does not apply.
    pub at_trough: bool,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// `fn exposure(sample)`: the exposure to judge, from the analytes.
pub(crate) fn exposure(
    pack: &Pack,
    drug: &Drug,
    sample_map: Value,
    quantity: Quantity,
) -> Result<Option<ScriptedExposure>, String> {
    let Some((returned, what)) = call_hook(pack, drug, Hook::Exposure, vec![sample_map])? else {
        return Ok(None);
    };
    if returned.is_unit() {
        return Ok(None);
    }
    let map = as_map(returned, &what)?;
    let unit = unit_of(&map, quantity, &what)?;
    let value = in_canonical(&map, "value", unit.as_ref(), &what)?
        .ok_or_else(|| format!("{what}: the map needs `value`"))?;
    let at_trough = match script::field(&map, "at_trough") {
        None => false,
        Some(v) => v
            .as_bool()
            .map_err(|t| format!("{what}: `at_trough` must be true or false, got {t}"))?,
    };
    Ok(Some(ScriptedExposure {
        value,
        at_trough,
        warnings: script::texts(&map, "warnings").map_err(|e| format!("{what}: {e}"))?,
        notes: script::texts(&map, "notes").map_err(|e| format!("{what}: {e}"))?,
    }))
}

/// What `fn next_dose(sample, result)` changed.
#[derive(Default)]
pub(crate) struct DoseChange {
    pub advice: Option<Advice>,
    /// `Some(None)`: no next dose.
    pub next_dose_mg: Option<Option<f64>>,
    pub next_interval_h: Option<f64>,
    pub interventions: Vec<String>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// `fn next_dose(sample, result)`: a dose in mg, `()` for no change, or a
/// map that may also set the advice and add interventions and warnings.
pub(crate) fn next_dose(
    pack: &Pack,
    drug: &Drug,
    sample_map: Value,
    result: Value,
) -> Result<Option<DoseChange>, String> {
    let Some((returned, what)) = call_hook(pack, drug, Hook::NextDose, vec![sample_map, result])?
    else {
        return Ok(None);
    };
    if returned.is_unit() {
        return Ok(None);
    }
    if let Some(mg) = script::number(&returned) {
        if !(mg.is_finite() && mg > 0.0) {
            return Err(format!("{what}: the dose must be above zero, got {mg}"));
        }
        return Ok(Some(DoseChange {
            next_dose_mg: Some(Some(mg)),
            ..DoseChange::default()
        }));
    }
    let map = as_map(returned, &what)?;
    let next_dose_mg = match map.get("next_dose_mg") {
        None => None,
        Some(v) if v.is_unit() => Some(None),
        Some(v) => Some(Some(
            script::number(v)
                .filter(|n| n.is_finite() && *n > 0.0)
                .ok_or_else(|| {
                    format!(
                        "{what}: `next_dose_mg` must be a number above zero or (), got {}",
                        v.type_name()
                    )
                })?,
        )),
    };
    let next_interval_h = match script::field(&map, "next_interval_h") {
        None => None,
        Some(v) => Some(
            script::number(v)
                .filter(|n| n.is_finite() && *n > 0.0)
                .ok_or_else(|| format!("{what}: `next_interval_h` must be a number above zero"))?,
        ),
    };
    Ok(Some(DoseChange {
        advice: enum_field::<Advice>(&map, "advice", &what)?,
        next_dose_mg,
        next_interval_h,
        interventions: script::texts(&map, "interventions").map_err(|e| format!("{what}: {e}"))?,
        warnings: script::texts(&map, "warnings").map_err(|e| format!("{what}: {e}"))?,
        notes: script::texts(&map, "notes").map_err(|e| format!("{what}: {e}"))?,
    }))
}
