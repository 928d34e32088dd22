//! A sample through the example native plugin (`rules/examples/plugin-ratio`:
//! the imatinib trough predicted by the ratio method), next to the same
//! sample through the YAML rule of ki-oncology (log-linear extrapolation).
//! Run with `cargo bench -p tdm-plugin-host --bench plugin`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tdm_core::{LoadOptions, Plugins, Sample, evaluate, input::Cells, load_pack, load_pack_with};
use tdm_plugin_host::HostLoader;

// The allocator of the `tdm` binary, so that the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn benches(c: &mut Criterion) {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let options = LoadOptions {
        plugins: Plugins::Load(Arc::new(HostLoader)),
        ..LoadOptions::default()
    };
    let plugin_pack = load_pack_with(rules.join("examples/plugin-ratio"), &options).unwrap();
    let yaml_pack = load_pack(rules.join("ki-oncology")).unwrap();
    let value = json!({"drug": "imatinib", "indication": "CML", "value": 1400, "unit": "ng/mL",
                       "dose_mg": 400, "hours_since_dose": 10, "days_on_dose": 30});
    let sample = Sample::from_map(value.as_object().unwrap(), Cells::Typed).unwrap();

    // Both answer, and differently: the plugin's trough is its own (809.68,
    // the pack's test case), the YAML rule's is log-linear (816.6).
    let by_plugin = evaluate(&plugin_pack, &sample);
    let by_yaml = evaluate(&yaml_pack, &sample);
    let exposure = |r: &tdm_core::EvalResult| r.assessment.as_ref().unwrap().exposure.value;
    assert!((exposure(&by_plugin) - 809.68).abs() < 0.01);
    assert!((exposure(&by_yaml) - 816.6).abs() < 0.1);

    let mut group = c.benchmark_group("imatinib at 10 h");
    group.bench_function("yaml (log-linear)", |b| {
        b.iter(|| evaluate(&yaml_pack, black_box(&sample)))
    });
    group.bench_function("native plugin (ratio method)", |b| {
        b.iter(|| evaluate(&plugin_pack, black_box(&sample)))
    });
    group.finish();
}

criterion_group!(plugin, benches);
criterion_main!(plugin);
