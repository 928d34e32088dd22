//! A plugin that misbehaves on request, for the host's tests: the sample's
//! `behaviour` field chooses what the `exposure` hook does, and the
//! environment variable `TDM_TEST_PLUGIN_ABI` changes the ABI version it
//! reports.

use tdm_plugin_api::{Plugin, Value, json};

/// The misbehaving plugin.
#[derive(Default)]
pub struct Misbehaving;

impl Plugin for Misbehaving {
    const NAME: &'static str = "misbehaving";
    const HOOKS: &'static [&'static str] = &["exposure"];
    const THREAD_SAFE: bool = false;

    #[allow(clippy::panic)]
    fn exposure(&self, sample: &Value) -> Result<Value, String> {
        // The parent is the first analyte, whatever the drug is called.
        let value = sample["analytes"]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        match sample["behaviour"].as_str().unwrap_or("") {
            "panic" => panic!("the plugin was asked to panic"),
            "nan" => Ok(json!({"value": f64::NAN, "unit": "ng/mL"})),
            "negative" => Ok(json!({"value": -5.0, "unit": "ng/mL"})),
            "wrong-unit" => Ok(json!({"value": value, "unit": "furlongs"})),
            "not-a-map" => Ok(json!("a string")),
            "error" => Err("the plugin reports an error".into()),
            _ => Ok(json!({"value": value * 2.0, "unit": "ng/mL"})),
        }
    }
}

fn abi() -> u32 {
    std::env::var("TDM_TEST_PLUGIN_ABI")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(tdm_plugin_api::ABI_VERSION)
}

tdm_plugin_api::export_plugin!(Misbehaving, abi = abi());
