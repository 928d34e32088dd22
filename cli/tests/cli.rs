//! The `tdm` binary end to end: formats, exit codes, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{root, stderr, stdout, tdm};

fn tdm_stdin(args: &[&str], input: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdm"));
    command.current_dir(root()).args(args);
    common::with_input(command, input)
}

/// `tdm eval` of standard input in `format`, NDJSON out.
fn eval_stdin(format: &str, input: &str) -> Output {
    tdm_stdin(
        &[
            "eval",
            "--pack",
            PACK,
            "--format",
            "ndjson",
            "--input-format",
            format,
            "-",
        ],
        input,
    )
}

fn ndjson(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const PACK: &str = "rules/ki-oncology";

#[test]
fn one_sample_from_flags_prints_a_table() {
    let o = tdm(&[
        "eval",
        "--pack",
        PACK,
        "--drug",
        "imatinib",
        "--indication",
        "CML",
        "--value",
        "850",
        "--unit",
        "ng/mL",
        "--dose-mg",
        "400",
        "--hours-since-dose",
        "24",
        "--days-on-dose",
        "30",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("ID "), "{out}");
    assert!(
        out.contains("increase_dose") && out.contains("600 mg q24h"),
        "{out}"
    );
    assert!(out.contains("1 record: 1 ok, 0 errors"), "{out}");
}

#[test]
fn one_sample_with_metabolite_flags_as_json() {
    let o = tdm(&[
        "eval",
        "--pack",
        PACK,
        "--format",
        "json",
        "--drug",
        "sunitinib",
        "--regimen",
        "intermittent",
        "--value",
        "30",
        "--unit",
        "ng/mL",
        "--metabolite",
        "SU12662=12",
        "--dose-mg",
        "50",
        "--hours-since-dose",
        "24",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["exposure"]["value"], 42.0);
    assert_eq!(v[0]["next_dose_mg"], 62.5);
    assert_eq!(v[0]["pack"]["name"], "ki-oncology");
    assert!(
        v[0]["pack"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn csv_batch_to_json_keeps_order_and_stamps_every_result() {
    let o = tdm(&[
        "eval",
        "--pack",
        PACK,
        "--format",
        "json",
        "examples/samples.csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = v.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=10).map(|i| format!("S-{i:03}")).collect();
    assert_eq!(ids, expected);
    for r in &v {
        assert_eq!(r["status"], "ok");
        assert_eq!(r["pack"]["version"], "1.5.0");
        // The engine is named beside the pack: the code as well as the rules.
        assert_eq!(r["engine"], concat!("tdm-core ", env!("CARGO_PKG_VERSION")));
        assert!(r["rationale"].as_str().is_some_and(|s| !s.is_empty()));
    }
    // The CSV metabolite column is summed for sunitinib.
    assert_eq!(v[2]["exposure"]["value"], 43.0);
    assert_eq!(stderr(&o).trim(), "10 records: 10 ok, 0 errors");
}

#[test]
fn ndjson_batch_to_csv_has_the_flattened_columns() {
    let o = tdm(&[
        "eval",
        "--pack",
        PACK,
        "--format",
        "csv",
        "examples/samples.ndjson",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut reader = csv::Reader::from_reader(o.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    assert!(headers.iter().any(|h| h == "pack_digest"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8);
    let advice = headers.iter().position(|h| h == "advice").unwrap();
    assert_eq!(&rows[0][advice], "increase_dose");
    // N-007 is on day 2 of its dose: not at steady state.
    assert_eq!(&rows[6][advice], "repeat_sample");
}

#[test]
fn ndjson_output_is_one_object_per_line() {
    let o = tdm(&[
        "eval",
        "--pack",
        PACK,
        "--format",
        "ndjson",
        "examples/samples.ndjson",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = ndjson(&o);
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[7]["target"]["id"], "rcc");
}

#[test]
fn a_bad_batch_gives_one_result_per_record_in_order_and_exit_1() {
    let o = tdm(&[
        "eval",
        "--pack",
        PACK,
        "--format",
        "ndjson",
        "examples/bad-batch.ndjson",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: Vec<serde_json::Value> = ndjson(&o);
    assert_eq!(r.len(), 6, "every record gives a result");
    assert_eq!(r[0]["status"], "ok");
    assert_eq!(r[1]["id"], "B-002");
    assert!(
        r[1]["error"]
            .as_str()
            .unwrap()
            .contains("did you mean `imatinib`")
    );
    assert!(
        r[2]["error"]
            .as_str()
            .unwrap()
            .contains("unknown unit `ng/dl`")
    );
    assert_eq!(r[3]["line"], 4);
    assert!(
        r[3]["error"]
            .as_str()
            .unwrap()
            .contains("line 4 is not valid JSON")
    );
    assert!(r[4]["error"].as_str().unwrap().contains("field `value`"));
    assert_eq!(r[5]["status"], "ok");
    assert!(
        r[5]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("did you mean `dose_mg`")
    );
    assert!(stderr(&o).contains("6 records: 2 ok, 4 errors"));
}

#[test]
fn a_malformed_csv_row_is_an_error_result_with_its_line() {
    let input = "id,drug,indication,value,unit\nC1,imatinib,CML,1200,ng/mL\nC2,imatinib,CML\nC3,imatinib,GIST,1200,ng/mL\n";
    let o = eval_stdin("csv", input);
    assert_eq!(o.status.code(), Some(1));
    let r: Vec<serde_json::Value> = ndjson(&o);
    assert_eq!(r.len(), 3);
    assert_eq!(r[1]["status"], "error");
    assert_eq!(r[1]["line"], 3);
    assert!(
        r[1]["error"]
            .as_str()
            .unwrap()
            .contains("3 fields where the header has 5")
    );
    assert_eq!(r[2]["id"], "C3");
}

/// A broken element is one error result and the array goes on; only the
/// array's own structure (here: never closed) stops the input, exit 4.
#[test]
fn a_json_array_streams_and_only_a_break_in_its_structure_stops_with_exit_4() {
    let input = r#"[{"id": "J1", "drug": "gefitinib", "value": 250, "unit": "ng/mL"},
 {"id": "J2", "drug": "gefitinib", "value": oops},
 {"id": "J3", "drug": "gefitinib", "value": 150, "unit": "ng/mL"}]"#;
    let o = eval_stdin("json", input);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: Vec<serde_json::Value> = ndjson(&o);
    assert_eq!(r.len(), 3, "one result per element");
    assert_eq!(r[1]["status"], "error");
    assert_eq!(r[1]["error_code"], "unreadable");
    assert_eq!(r[1]["line"], 2);
    assert!(
        r[1]["error"]
            .as_str()
            .unwrap()
            .contains("sample 2 (ending on line 2) is not valid JSON"),
        "{}",
        r[1]
    );
    assert_eq!(r[2]["id"], "J3");
    let unclosed = &input[..input.len() - 1];
    let o = eval_stdin("json", unclosed);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(
        ndjson(&o).len(),
        2,
        "records before the break are evaluated"
    );
    assert!(
        stderr(&o).contains("line 3") && stderr(&o).contains("the input ends before"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_single_json_object_is_one_sample() {
    let input = r#"{"id": "O1", "drug": "gefitinib", "value": 250, "unit": "ng/mL", "hours_since_dose": 24}"#;
    let o = tdm_stdin(
        &[
            "eval",
            "--pack",
            PACK,
            "--format",
            "json",
            "--input-format",
            "json",
            "-",
        ],
        input,
    );
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["advice"], "continue");
}

#[test]
fn usage_and_input_errors_have_their_own_exit_codes() {
    let o = tdm(&["eval", "--pack", PACK]);
    assert_eq!(o.status.code(), Some(2));
    let o = tdm(&["eval", "--pack", PACK, "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--input-format"));
    let o = tdm(&["eval", "--pack", PACK, "README.md"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tdm(&["eval", "--pack", PACK, "no-such-file.csv"]);
    assert_eq!(o.status.code(), Some(4));
    let o = tdm(&[
        "eval",
        "--pack",
        PACK,
        "--drug",
        "imatinib",
        "--value",
        "1",
        "--unit",
        "ng/mL",
        "--metabolite",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

fn copy_pack(to: &Path) {
    common::copy_dir(&root().join(PACK), to);
}

#[test]
fn a_broken_pack_is_refused_whole_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    copy_pack(dir.path());
    let file = dir.path().join("drugs/gefitinib.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("    lower: 200\n", "    lower: 200\n    lowr: 5\n"),
    )
    .unwrap();
    let pack = dir.path().to_str().unwrap();
    let o = tdm(&[
        "eval",
        "--pack",
        pack,
        "--drug",
        "imatinib",
        "--indication",
        "CML",
        "--value",
        "1",
        "--unit",
        "ng/mL",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stdout(&o).is_empty(),
        "nothing is evaluated against a refused pack"
    );
    let err = stderr(&o);
    assert!(err.contains("drugs/gefitinib.yaml:"), "{err}");
    assert!(err.contains("lowr"), "{err}");
}

#[test]
fn tdm_test_passes_the_shipped_pack_and_fails_a_wrong_expectation() {
    let o = tdm(&["test", PACK]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).trim_end().ends_with("passed, 0 failed"));

    let dir = tempfile::tempdir().unwrap();
    copy_pack(dir.path());
    let file = dir.path().join("tests/gefitinib.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("advice: continue", "advice: reduce_dose", 1),
    )
    .unwrap();
    let o = tdm(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL") && out.contains("advice: expected reduce_dose, got continue"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("1 failed"), "{out}");

    // The same for tooling.
    let o = tdm(&["test", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["failed"], 1);
    let cases = report["packs"][0]["cases"].as_array().unwrap();
    let failing: Vec<_> = cases.iter().filter(|c| c["passed"] == false).collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0]["file"], "tests/gefitinib.yaml");
    assert_eq!(
        failing[0]["failures"][0],
        "advice: expected reduce_dose, got continue"
    );
    assert_eq!(failing[0]["result"]["advice"], "continue");
}

fn broken_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_pack(dir.path());
    let file = dir.path().join("drugs/gefitinib.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace("    lower: 200\n", "    lowr: 200\n")
        .replace("evidence: promising", "evidence: promissing");
    std::fs::write(&file, text).unwrap();
    dir
}

#[test]
fn validate_accepts_the_shipped_pack() {
    let o = tdm(&["validate", PACK]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("valid — ki-oncology 1.5.0"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn validate_reports_every_problem_in_each_format() {
    let dir = broken_copy();
    let pack = dir.path().to_str().unwrap();

    let o = tdm(&["validate", pack]);
    assert_eq!(o.status.code(), Some(3));
    let human = stderr(&o);
    assert!(
        human.contains("did you mean `lower`?") && human.contains("did you mean `promising`?"),
        "{human}"
    );

    let o = tdm(&["validate", "--error-format", "plain", pack]);
    assert_eq!(o.status.code(), Some(3));
    let plain = stdout(&o);
    let located: Vec<&str> = plain
        .lines()
        .filter(|l| l.contains("drugs/gefitinib.yaml:"))
        .collect();
    assert_eq!(located.len(), 2, "{plain}");
    assert!(
        located.iter().all(|l| l
            .split(':')
            .nth(2)
            .is_some_and(|n| n.parse::<u32>().is_ok())),
        "{plain}"
    );

    let o = tdm(&["validate", "--error-format", "json", pack]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2);
    for p in problems {
        assert_eq!(p["file"], "drugs/gefitinib.yaml");
        // An unknown key and a value outside an enumeration: the file's shape.
        assert_eq!(p["kind"], "shape", "{p}");
        assert!(p["line"].as_u64().unwrap() > 0 && p["column"].as_u64().unwrap() > 0);
        assert!(p["help"].as_str().unwrap().starts_with("did you mean"));
    }
}

#[test]
fn schema_writes_the_committed_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let o = tdm(&["schema", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for name in ["pack", "drug", "tests", "sample", "result"] {
        let file = format!("{name}.schema.json");
        let written = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        let committed = std::fs::read_to_string(root().join("schemas").join(&file)).unwrap();
        assert_eq!(written, committed, "{file}");
        let v: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    }
}

#[test]
fn gen_samples_is_deterministic_and_evaluates_with_a_few_bad_records() {
    let a = tdm(&["gen-samples", "--n", "500", "--seed", "9"]);
    let b = tdm(&["gen-samples", "--n", "500", "--seed", "9"]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout, "the same seed gives the same samples");
    assert_ne!(
        a.stdout,
        tdm(&["gen-samples", "--n", "500", "--seed", "10"]).stdout
    );
    let o = tdm_stdin(
        &[
            "eval",
            "--pack",
            PACK,
            "--format",
            "ndjson",
            "--input-format",
            "ndjson",
            "-",
        ],
        &stdout(&a),
    );
    let results = ndjson(&o);
    assert_eq!(results.len(), 500);
    let errors = results.iter().filter(|r| r["status"] == "error").count();
    assert!(
        (1..=30).contains(&errors),
        "{errors} bad records of 500 at 2 %"
    );
    let drugs: std::collections::HashSet<_> =
        results.iter().filter_map(|r| r["drug"].as_str()).collect();
    assert!(
        drugs.len() >= 25,
        "samples cover the pack's drugs: {}",
        drugs.len()
    );
    let csv = tdm(&["gen-samples", "--n", "50", "--format", "csv"]);
    let o = tdm_stdin(
        &[
            "eval",
            "--pack",
            PACK,
            "--format",
            "ndjson",
            "--input-format",
            "csv",
            "-",
        ],
        &stdout(&csv),
    );
    assert_eq!(ndjson(&o).len(), 50);
}

/// Text from input never forges a table row or runs in a spreadsheet: in
/// the table control characters are escaped (a newline, an escape sequence
/// that clears the screen); in CSV a cell that starts like a formula is
/// prefixed with `'` (OWASP).
#[test]
fn input_text_is_shown_inert_in_the_table_and_in_csv() {
    let input = "{\"id\": \"=HYPERLINK(\\\"http://x\\\")\", \"drug\": \"imatinib\\nS-999      imatinib     1500 ng/mL  within   continue\\u001b[2J\", \"value\": 1, \"unit\": \"ng/mL\"}\n{\"id\": \"@SUM(A1)\", \"drug\": \"gefitinib\", \"value\": 250, \"unit\": \"ng/mL\\u001b[2J\"}\n";
    let o = tdm_stdin(
        &[
            "eval",
            "--pack",
            PACK,
            "-q",
            "--input-format",
            "ndjson",
            "-",
        ],
        input,
    );
    let table = stdout(&o);
    assert!(!table.contains('\u{1b}'), "{table}");
    assert!(
        !table.lines().any(|l| l.starts_with("S-999")),
        "a forged row: {table}"
    );
    assert!(
        table.contains("\\n") && table.contains("\\u{1b}"),
        "{table}"
    );
    let o = tdm_stdin(
        &[
            "eval",
            "--pack",
            PACK,
            "-q",
            "--format",
            "csv",
            "--input-format",
            "ndjson",
            "-",
        ],
        input,
    );
    let csv = stdout(&o);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)"]);
}

#[test]
fn the_version_names_the_commit_and_the_engine() {
    let o = tdm(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let rest = text
        .trim()
        .strip_prefix(concat!("tdm ", env!("CARGO_PKG_VERSION"), " (commit "))
        .unwrap_or_else(|| panic!("{text}"));
    let (commit, engine) = rest.split_once(", ").unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
    assert_eq!(
        engine,
        concat!("engine tdm-core ", env!("CARGO_PKG_VERSION"), ")")
    );
}

#[test]
fn completions_and_man_pages_cover_every_command() {
    let commands = [
        "eval",
        "test",
        "convert",
        "validate",
        "schema",
        "watch",
        "serve",
        "report",
        "gen-samples",
        "diff",
        "stats",
        "models",
        "show",
        "init",
        "sign",
        "verify",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish"] {
        let o = tdm(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let text = stdout(&o);
        for c in commands {
            assert!(text.contains(c), "{shell} completions lack `{c}`");
        }
    }
    assert!(stdout(&tdm(&["completions", "bash"])).contains("_tdm()"));
    assert_eq!(tdm(&["completions", "tcsh"]).status.code(), Some(2));

    let o = tdm(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let pages = stdout(&o);
    let titles: Vec<&str> = pages
        .lines()
        .filter_map(|l| l.strip_prefix(".TH "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(titles.len(), 1 + commands.len(), "{titles:?}");
    assert_eq!(titles[0], "tdm");
    for c in commands {
        assert!(
            titles.contains(&format!("tdm-{c}").as_str()),
            "no page for {c}"
        );
    }
}
