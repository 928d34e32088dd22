//! Every command example of README.md and docs/*.md (the ```console blocks)
//! runs as shown, on a copy of the repository's packs, examples and docs:
//! commands that write (`tdm init`, `tdm report`, `tdm schema`) write into
//! the copy. `TRYCMD=overwrite cargo test -p tdm-cli --test docs` rewrites
//! the outputs in the repository's files after a deliberate change; review
//! the diff before committing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use common::{copy_dir, root};

const COPIED: [&str; 5] = ["rules", "examples", "schemas", "docs", "README.md"];

fn documents(dir: &Path) -> Vec<String> {
    let mut docs = vec!["README.md".to_owned()];
    for entry in fs::read_dir(dir.join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    docs.sort();
    docs
}

#[test]
fn every_command_example_runs_as_shown() {
    let copy = tempfile::tempdir().unwrap();
    for name in COPIED {
        let from = root().join(name);
        if from.is_dir() {
            copy_dir(&from, &copy.path().join(name));
        } else {
            fs::copy(&from, copy.path().join(name)).unwrap();
        }
    }
    // The examples' paths are relative to the repository root, as a reader
    // types them there; this test is the only one in its process.
    std::env::set_current_dir(copy.path()).unwrap();
    let docs = documents(copy.path());
    let cases = trycmd::TestCases::new();
    cases.register_bin("tdm", trycmd::cargo::cargo_bin!("tdm"));
    for doc in &docs {
        cases.case(doc);
    }
    let overwrite = std::env::var("TRYCMD").is_ok_and(|v| v == "overwrite");
    if overwrite {
        // Outputs rewritten in the copy go back to the repository's files.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cases.run()));
        for doc in &docs {
            fs::copy(copy.path().join(doc), root().join(doc)).unwrap();
        }
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    } else {
        cases.run();
    }
}
