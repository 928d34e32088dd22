//! Broken packs: every kind of authoring mistake in `tests/broken/*` (each
//! case overrides files of the valid `_base` pack) is refused whole, never
//! panics, and renders an error with file, line, column and help. The
//! rendering is snapshotted (`tests/snapshots/broken/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use miette::{GraphicalReportHandler, GraphicalTheme};
use tdm_core::{PackError, load_pack};

fn broken_dir() -> PathBuf {
    tdm_tests::tests_dir().join("broken")
}

fn assemble(case: &Path) -> tempfile::TempDir {
    tdm_tests::assemble(Some(case))
}

fn render(error: &PackError, pack: &Path) -> String {
    let mut out = String::from("plain:\n");
    for p in error.problems() {
        out.push_str(&format!("  {p}\n"));
        if let Some(help) = &p.help {
            out.push_str(&format!("    help: {help}\n"));
        }
    }
    out.push_str("\nhuman:\n");
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    handler.render_report(&mut out, error).unwrap();
    out.replace(&pack.display().to_string(), "<pack>")
}

#[test]
fn every_broken_pack_is_refused_with_a_located_error() {
    let mut count = 0;
    // Each case is a directory holding the one file it breaks; one snapshot
    // per case, a failure names its file, and every case is checked.
    insta::glob!("broken/[0-9]*/**/*.yaml", |file| {
        count += 1;
        let relative = file.strip_prefix(broken_dir()).unwrap();
        let case = broken_dir().join(relative.components().next().unwrap());
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let dir = assemble(&case);
        let rendered = match load_pack(dir.path()) {
            Ok(pack) => format!(
                "accepted: {} {} with {} drugs\n",
                pack.id().name,
                pack.id().version,
                pack.drugs().len()
            ),
            Err(error) => {
                if let PackError::Invalid { problems, .. } = &error {
                    for p in problems {
                        assert!(p.position.line > 0, "{name}: a problem without a line: {p}");
                    }
                }
                render(&error, dir.path())
            }
        };
        // A BOM at the start of a file is allowed by YAML and is accepted;
        // everything else in the corpus is a mistake and must be refused.
        if name != "16-bom" {
            assert!(!rendered.starts_with("accepted"), "{name} was accepted");
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/broken");
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.set_omit_expression(true);
        settings.set_description(format!("tests/broken/{name}"));
        settings.bind(|| insta::assert_snapshot!(name, rendered));
    });
    assert!(count >= 20, "the corpus has {count} cases");
}

#[test]
fn a_50_mb_file_is_refused_before_it_is_read() {
    let dir = assemble(&broken_dir().join("_base"));
    let file = dir.path().join("drugs/huge.yaml");
    let line = "# padding to make the file large\n";
    let mut text = String::with_capacity(50 * 1024 * 1024 + line.len());
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    fs::write(&file, text).unwrap();
    let error = load_pack(dir.path()).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, PackError::Io { .. }), "{message}");
    assert!(
        message.contains("huge.yaml") && message.contains("limited to 1048576 bytes"),
        "{message}"
    );
}

#[test]
fn the_alias_bomb_is_stopped_by_the_parser_budget() {
    let dir = assemble(&broken_dir().join("18-alias-bomb"));
    let error = load_pack(dir.path()).unwrap_err();
    let problem = &error.problems()[0];
    assert_eq!(problem.file, "drugs/testinib.yaml");
    let m = problem.message.to_lowercase();
    assert!(
        m.contains("alias") || m.contains("budget") || m.contains("limit"),
        "{problem}"
    );
}

/// 10,000 unknown keys in one drug file are one mistake repeated: the
/// first 50 are reported, then one problem says how many more (each report
/// had held a copy of the whole file: 2.3 GB for this file, 24 GB for 40,000).
#[test]
fn problems_are_capped_per_file() {
    let dir = assemble(&broken_dir().join("_base"));
    let file = dir.path().join("drugs/testinib.yaml");
    let mut text = fs::read_to_string(&file).unwrap();
    for i in 0..10_000 {
        text.push_str(&format!("unknown_key_{i}: 1\n"));
    }
    fs::write(&file, text).unwrap();
    let error = load_pack(dir.path()).unwrap_err();
    let problems = error.problems();
    assert_eq!(problems.len(), tdm_core::pack::MAX_PROBLEMS_PER_FILE + 1);
    let last = problems.last().unwrap();
    assert!(
        last.message.contains("and 9950 more problems in this file"),
        "{}",
        last.message
    );
    // The rendered report shows the capped list, each with its snippet.
    let rendered = render(&error, dir.path());
    assert_eq!(rendered.matches("unknown key `unknown_key_").count(), 100);
}
