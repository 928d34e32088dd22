//! An example `tdm` plugin that does real work: it predicts the trough of
//! imatinib from a sample drawn at any time after the dose, by the ratio
//! method (Janssen et al. 2020, in tdm-practice):
//!
//! `Cmin = Cobs / Cpop(t) * Cpop(tau)`
//!
//! where `Cpop` is the steady-state concentration–time curve of a
//! one-compartment model with first-order absorption. Dose, bioavailability
//! and volume cancel in the ratio, so only the absorption and elimination
//! rate constants shape the prediction. Unlike log-linear extrapolation, the
//! method is usable inside the absorption phase.
//!
//! Population parameters (one-compartment, first-order absorption and
//! elimination; Pharmacogenomics 2019;20(4):251-260, PMID 30767712, abstract):
//! ka 0.329 /h, CL/F 9.25 L/h x (body weight / 70 kg)^0.228, V/F 222 L.

use tdm_plugin_api::{Plugin, Value, json};

/// Absorption rate constant, 1/h.
pub const KA: f64 = 0.329;
/// Apparent clearance at 70 kg, L/h.
pub const CL: f64 = 9.25;
/// Apparent volume of distribution, L.
pub const V: f64 = 222.0;

/// The shape of the steady-state curve at `t` hours after a dose given every
/// `tau` hours (proportional to the concentration; dose, F and V cancel).
pub fn steady_state_shape(t: f64, tau: f64, ka: f64, ke: f64) -> f64 {
    let accumulate = |k: f64| (-k * t).exp() / (1.0 - (-k * tau).exp());
    (ka / (ka - ke)) * (accumulate(ke) - accumulate(ka))
}

/// The predicted trough from `observed` at `t` hours of an interval `tau`.
pub fn predicted_trough(observed: f64, t: f64, tau: f64, weight_kg: f64) -> f64 {
    let ke = CL * (weight_kg / 70.0).powf(0.228) / V;
    observed * steady_state_shape(tau, tau, KA, ke) / steady_state_shape(t, tau, KA, ke)
}

/// The plugin: the `exposure` hook for imatinib.
#[derive(Default)]
pub struct RatioMethod;

fn number(sample: &Value, key: &str) -> Option<f64> {
    sample.get(key).and_then(Value::as_f64)
}

impl Plugin for RatioMethod {
    const NAME: &'static str = "imatinib-ratio-method";
    const HOOKS: &'static [&'static str] = &["exposure"];

    fn exposure(&self, sample: &Value) -> Result<Value, String> {
        let observed = sample
            .get("analytes")
            .and_then(|a| a.get("imatinib"))
            .and_then(Value::as_f64)
            .ok_or("the sample has no imatinib concentration")?;
        let Some(t) = number(sample, "hours_since_dose") else {
            // Taken as a trough by the core: nothing to predict.
            return Ok(Value::Null);
        };
        let tau = number(sample, "interval_h").unwrap_or(24.0);
        if !(t > 0.0 && t <= tau) {
            return Err(format!(
                "the ratio method needs 0 < hours_since_dose <= interval ({tau} h), got {t} h"
            ));
        }
        let weight = number(sample, "weight_kg").unwrap_or(70.0);
        if !(30.0..=200.0).contains(&weight) {
            return Err(format!("weight_kg {weight} is outside 30–200 kg"));
        }
        let trough = predicted_trough(observed, t, tau, weight);
        Ok(json!({
            "value": trough,
            "unit": "ng/mL",
            "at_trough": true,
            "notes": [format!(
                "trough predicted by the ratio method (one-compartment oral model, ka {KA}/h, CL/F {CL} L/h at 70 kg, V/F {V} L; weight {weight} kg) from {observed} ng/mL at {t} h"
            )],
        }))
    }
}

tdm_plugin_api::export_plugin!(RatioMethod);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trough_is_the_observed_value_at_the_end_of_the_interval() {
        assert!((predicted_trough(1000.0, 24.0, 24.0, 70.0) - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn a_peak_sample_predicts_a_lower_trough_and_an_early_one_a_higher_trough() {
        // Around tmax the curve is highest: the trough is lower than the sample.
        assert!(predicted_trough(2000.0, 4.0, 24.0, 70.0) < 2000.0);
        // Half an hour after the dose absorption has already lifted the curve
        // about 20 % above the trough (ka 0.329/h): the trough is ~0.83 x.
        let early = predicted_trough(1000.0, 0.5, 24.0, 70.0);
        assert!(early > 800.0 && early < 860.0, "{early}");
        // Later in the interval the curve falls towards the trough again.
        assert!(predicted_trough(1000.0, 20.0, 24.0, 70.0) > 800.0);
    }

    #[test]
    fn samples_outside_the_interval_are_refused() {
        let r = RatioMethod
            .exposure(&json!({"analytes": {"imatinib": 900.0}, "hours_since_dose": 30.0}));
        assert!(r.is_err());
        let r = RatioMethod.exposure(&json!({"analytes": {"imatinib": 900.0}}));
        assert_eq!(r, Ok(Value::Null));
    }
}
