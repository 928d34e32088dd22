//! `EvalResult::write_json` writes exactly the bytes serde_json writes, for
//! every result of every shipped pack's cases and of every example and
//! adversarial input: the direct writer cannot drift from the contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use tdm_core::{
    EvalResult, InputFormat, LoadOptions, Pack, Plugins, eval::evaluate_value, evaluate_record,
    load_pack_with, read_records, tools::load_cases,
};

fn load(dir: &Path) -> Pack {
    let options = LoadOptions {
        plugins: Plugins::Load(Arc::new(tdm_plugin_host::HostLoader)),
        ..LoadOptions::default()
    };
    load_pack_with(dir, &options).unwrap()
}

fn assert_same_bytes(result: &EvalResult, what: &str) {
    let mut direct = Vec::new();
    result.write_json(&mut direct);
    let serde = serde_json::to_vec(result).unwrap();
    assert!(
        direct == serde,
        "{what}:\n direct: {}\n  serde: {}",
        String::from_utf8_lossy(&direct),
        String::from_utf8_lossy(&serde)
    );
}

#[test]
fn every_case_of_every_pack() {
    let rules = tdm_tests::tests_dir().join("../rules");
    let mut checked = 0;
    for dir in [
        rules.join("ki-oncology"),
        rules.join("examples/hospital-scripted"),
        rules.join("examples/plugin-ratio"),
    ] {
        let pack = load(&dir);
        for case in load_cases(&dir).unwrap() {
            let result = evaluate_value(&pack, &case.sample);
            assert_same_bytes(&result, &format!("{}: {}", case.file, case.name));
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} cases");
}

#[test]
fn every_example_and_adversarial_input() {
    let root = tdm_tests::tests_dir().join("..");
    let pack = load(&root.join("rules/ki-oncology"));
    let mut files: Vec<_> = fs::read_dir(root.join("examples"))
        .unwrap()
        .chain(fs::read_dir(root.join("tests/adversarial")).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    for path in files {
        let Some(format) = InputFormat::from_path(&path.to_string_lossy()) else {
            continue;
        };
        let input = BufReader::new(fs::File::open(&path).unwrap());
        let _ = read_records(input, format, &pack, |record| {
            let result = evaluate_record(&pack, record);
            assert_same_bytes(&result, &path.display().to_string());
            checked += 1;
            Ok(())
        });
    }
    assert!(checked > 50, "{checked} records");
}
