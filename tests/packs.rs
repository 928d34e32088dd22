#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
//! Every pack under `rules/` runs its own test cases; the full results are
//! snapshotted per case file, so any change to a rule shows up as a
//! snapshot diff to review (`cargo insta review`). The cases' explicit
//! expectations must also hold: a snapshot alone never approves advice.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use std::collections::BTreeMap;

use tdm_core::tools::{Case, load_cases, run_case};
use tdm_core::{LoadOptions, Pack, PackError, Plugins};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

/// Every directory under `rules/` (one level, or two for `rules/examples/*`) with a `pack.yaml`.
fn packs() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![rules_dir()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join("pack.yaml").is_file() {
                found.push(path);
            } else if path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|n| n != "tests" && n != "drugs")
            {
                dirs.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Packs in the repository are trusted: their pinned plugins may load.
fn load_pack(dir: &Path) -> Result<Pack, PackError> {
    let options = LoadOptions {
        plugins: Plugins::Load(Arc::new(tdm_plugin_host::HostLoader)),
        ..LoadOptions::default()
    };
    tdm_core::load_pack_with(dir, &options)
}

#[test]
fn every_pack_loads_and_passes_its_cases() {
    let packs = packs();
    assert!(!packs.is_empty(), "no pack found under rules/");
    for dir in packs {
        let pack = load_pack(&dir).unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
        let cases = load_cases(&dir).unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
        assert!(!cases.is_empty(), "{} has no test cases", dir.display());
        let mut failures = Vec::new();
        for case in &cases {
            let outcome = run_case(&pack, case);
            for f in &outcome.failures {
                failures.push(format!("{} :: {} :: {f}", case.file, case.name));
            }
        }
        assert!(
            failures.is_empty(),
            "{}:\n{}",
            dir.display(),
            failures.join("\n")
        );
    }
}

#[test]
fn every_case_file_has_a_reviewed_snapshot() {
    let mut loaded: BTreeMap<PathBuf, (Pack, Vec<Case>)> = BTreeMap::new();
    // One snapshot per case file of every pack; a failure names its file.
    insta::glob!("../rules", "**/tests/*.yaml", |path| {
        let dir = path.parent().and_then(Path::parent).unwrap().to_path_buf();
        let (pack, cases) = loaded.entry(dir.clone()).or_insert_with(|| {
            let pack = load_pack(&dir).unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
            let cases = load_cases(&dir).unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
            (pack, cases)
        });
        let pack_name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let file = format!("tests/{}", path.file_name().unwrap().to_string_lossy());
        let results: Vec<_> = cases
            .iter()
            .filter(|c| c.file == file)
            .map(|c| {
                let outcome = run_case(pack, c);
                serde_json::json!({"case": c.name, "result": outcome.result})
            })
            .collect();
        let name = file.trim_start_matches("tests/").trim_end_matches(".yaml");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(format!("snapshots/{pack_name}"));
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.set_description(format!("{pack_name}/{file}: every case's full result"));
        settings.set_omit_expression(true);
        // The digest changes with any file of the pack; it is checked on its own below.
        settings.add_redaction("[].result.pack.digest", "[digest]");
        settings.bind(|| insta::assert_yaml_snapshot!(name, results));
    });
    assert_eq!(loaded.len(), packs().len(), "every pack has case files");
}

#[test]
fn the_digest_identifies_the_content() {
    let dir = rules_dir().join("ki-oncology");
    let pack = load_pack(&dir).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(pack.id().digest.starts_with("sha256:") && pack.id().digest.len() == 7 + 64);
    // Loading twice gives the same digest; the test cases are not part of it.
    let again = load_pack(&dir).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pack.id().digest, again.id().digest);
}

/// `rules/ki-oncology/SOURCES.md` lists exactly the sources `pack.yaml`
/// declares, each with its citation, so a reader finds every document the
/// pack cites without opening the YAML.
#[test]
fn the_sources_list_names_every_source_of_the_pack() {
    let dir = rules_dir().join("ki-oncology");
    let pack = load_pack(&dir).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    let mut listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .collect();
    let mut declared: Vec<&str> = pack.sources().iter().map(|(id, _)| id.as_str()).collect();
    listed.sort_unstable();
    declared.sort_unstable();
    assert_eq!(listed, declared, "SOURCES.md and pack.yaml differ");
    for (id, citation) in pack.sources() {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| `{id}` |")))
            .unwrap();
        let words: String = citation.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            row.contains(&words.replace('|', "\\|")),
            "{id}: the citation differs"
        );
    }
}
