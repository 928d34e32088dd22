//! Evaluation cost: one sample through the YAML path and through a scripted
//! hook expressing the same rule, samples of the shipped pack, and pack load.
//! Run with `cargo bench -p tdm-core --bench evaluate`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
// The allocator of the `tdm` binary, so that the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use tdm_core::{
    Sample, eval::evaluate_value, evaluate, input::Cells, load_pack, pack::content_digest,
    pack::yaml_to_json,
};

const MANIFEST: &str = r#"
name: bench
version: "0.1.0"
title: benchmark pack
sources: {s: {citation: benchmark}}
policy:
  toxicity_grade: {value: 3, source: s}
  act_on_population_mean: {value: false, source: s}
  steady_state_half_lives: {value: 5, source: s}
  trough_tolerance_h: {value: 1, source: s}
  interventions_before_increase: [{action: check adherence, source: s}]
"#;

/// The same rule twice: a dose-normalised lower bound of 2.5 ng/mL per mg,
/// once as YAML (`lower_per_mg_dose`) and once as a `target` script.
fn drug(script: bool) -> String {
    let (script_line, bound) = if script {
        ("script: scripts/target.rhai\n", "lower: 1000")
    } else {
        ("", "lower_per_mg_dose: 2.5")
    };
    format!(
        r#"
drug: benchinib
group: bench
{script_line}analytes: [{{name: benchinib, role: parent, molar_mass: 500, source: s}}]
pk: {{half_life_h: 20, source: s}}
trough_correction: {{method: log_linear, valid_from_h: 3, source: s}}
targets:
  - {{id: main, use: primary, measure: cmin, {bound}, unit: ng/mL, basis: threshold, evidence: viable, source: s}}
dosing: {{interval_h: 24, standard_mg: 400, levels: [{{mg: 300}}, {{mg: 400}}, {{mg: 600}}], source: s}}
"#
    )
}

fn write_pack(dir: &Path, script: bool) {
    fs::create_dir_all(dir.join("drugs")).unwrap();
    fs::create_dir_all(dir.join("scripts")).unwrap();
    fs::write(dir.join("pack.yaml"), MANIFEST).unwrap();
    fs::write(dir.join("drugs/benchinib.yaml"), drug(script)).unwrap();
    if script {
        fs::write(
            dir.join("scripts/target.rhai"),
            "fn target(sample) { #{ lower: 2.5 * sample.dose_mg, unit: \"ng/mL\" } }\n",
        )
        .unwrap();
    }
}

/// The pack's files as the digest sees them: YAML parsed, scripts as text.
fn pack_files(root: &Path) -> Vec<(String, serde_json::Value)> {
    let mut files = Vec::new();
    for dir in ["", "drugs", "scripts"] {
        for entry in fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let text = fs::read_to_string(&path).unwrap_or_default();
            if dir == "scripts" {
                files.push((name, serde_json::Value::String(text)));
            } else if name.ends_with(".yaml") {
                let value = yaml_to_json(&text, &name).unwrap();
                files.push((name, value));
            }
        }
    }
    files
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    write_pack(&tmp.path().join("yaml"), false);
    write_pack(&tmp.path().join("script"), true);
    let yaml = load_pack(tmp.path().join("yaml")).unwrap();
    let scripted = load_pack(tmp.path().join("script")).unwrap();
    let sample = json!({"id": "b", "drug": "benchinib", "value": 900, "unit": "ng/mL", "dose_mg": 400,
                        "hours_since_dose": 20, "days_on_dose": 30, "toxicity_grade": 0});
    let a = evaluate_value(&yaml, &sample);
    let b = evaluate_value(&scripted, &sample);
    assert_eq!(
        a.assessment.as_ref().map(|x| x.advice),
        b.assessment.as_ref().map(|x| x.advice)
    );
    assert_eq!(
        a.assessment.as_ref().and_then(|x| x.target.lower),
        Some(1000.0)
    );
    assert_eq!(
        b.assessment.as_ref().and_then(|x| x.target.lower),
        Some(1000.0)
    );

    let mut group = c.benchmark_group("same rule");
    group.bench_function("yaml", |bench| {
        bench.iter(|| evaluate_value(&yaml, black_box(&sample)))
    });
    group.bench_function("script target hook", |bench| {
        bench.iter(|| evaluate_value(&scripted, black_box(&sample)))
    });
    let parsed_sample = Sample::from_map(sample.as_object().unwrap(), Cells::Typed).unwrap();
    group.bench_function("yaml (parsed sample)", |bench| {
        bench.iter(|| evaluate(&yaml, black_box(&parsed_sample)))
    });
    group.bench_function("script target hook (parsed sample)", |bench| {
        bench.iter(|| evaluate(&scripted, black_box(&parsed_sample)))
    });
    group.finish();

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/ki-oncology");
    let pack = load_pack(&root).unwrap();
    let imatinib = json!({"drug": "imatinib", "indication": "CML", "value": 1400, "unit": "ng/mL",
                          "dose_mg": 400, "hours_since_dose": 10, "days_on_dose": 30});
    let sunitinib = json!({"drug": "sunitinib", "regimen": "intermittent", "value": 30, "unit": "ng/mL",
                           "metabolites": {"SU12662": 12}, "dose_mg": 50, "days_on_dose": 28});
    let erlotinib = json!({"drug": "erlotinib", "value": 800, "unit": "ng/mL",
                           "metabolites": {"OSI-420": 95}, "hours_since_dose": 18, "days_on_dose": 30});
    // Evaluation proper: the sample already read and checked, as a batch
    // reader hands it over.
    let parsed =
        |v: &serde_json::Value| Sample::from_map(v.as_object().unwrap(), Cells::Typed).unwrap();
    let (imatinib_sample, sunitinib_sample) = (parsed(&imatinib), parsed(&sunitinib));
    let mut group = c.benchmark_group("evaluate (parsed sample)");
    group.bench_function("imatinib (yaml, extrapolated)", |bench| {
        bench.iter(|| evaluate(&pack, black_box(&imatinib_sample)))
    });
    group.bench_function("sunitinib (yaml, total)", |bench| {
        bench.iter(|| evaluate(&pack, black_box(&sunitinib_sample)))
    });
    group.finish();

    let mut group = c.benchmark_group("ki-oncology");
    group.bench_function("imatinib (yaml, extrapolated)", |bench| {
        bench.iter(|| evaluate_value(&pack, black_box(&imatinib)))
    });
    group.bench_function("sunitinib (yaml, total)", |bench| {
        bench.iter(|| evaluate_value(&pack, black_box(&sunitinib)))
    });
    group.bench_function("erlotinib (exposure script)", |bench| {
        bench.iter(|| evaluate_value(&pack, black_box(&erlotinib)))
    });
    group.bench_function("load pack", |bench| {
        bench.iter(|| load_pack(black_box(&root)).unwrap())
    });
    // The digest alone: canonical form and sha256 of the parsed files.
    let files = pack_files(&root);
    let refs: Vec<(&str, &serde_json::Value)> =
        files.iter().map(|(n, v)| (n.as_str(), v)).collect();
    assert_eq!(content_digest(refs.iter().copied()), pack.id().digest);
    group.bench_function("digest", |bench| {
        bench.iter(|| content_digest(black_box(&refs).iter().copied()))
    });
    group.finish();
}

criterion_group!(evaluation, benches);
criterion_main!(evaluation);
