//! Inputs that have bitten real parsers, in `tests/adversarial/`: each file
//! gives its documented outcome (accepted, with warnings where due, or
//! refused with a clear error), snapshotted in
//! `tests/snapshots/adversarial/`. None panics, no record is lost, and the
//! generated giants (a 100 MB line, a 100 MB JSON element, deep nesting)
//! are refused without holding them in memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use tdm_core::{InputFormat, Pack, evaluate_record, load_pack, read_records, result::Status};

fn pack() -> Pack {
    load_pack(tdm_tests::tests_dir().join("../rules/ki-oncology")).unwrap()
}

/// One line per record: what came out, in order; or why the input stopped.
fn outcome(pack: &Pack, input: impl Read, format: InputFormat) -> String {
    let mut lines = Vec::new();
    let read = read_records(BufReader::new(input), format, pack, |record| {
        let index = record.index;
        let r = evaluate_record(pack, record);
        let what = match (&r.status, &r.assessment) {
            (Status::Ok, Some(a)) => format!(
                "ok: {} {} {} {}",
                a.exposure.value,
                a.exposure.unit,
                a.classification.map_or("-", |c| c.as_str()),
                a.advice.as_str()
            ),
            (Status::Ok, None) => "ok without assessment".into(),
            _ => format!("error: {}", r.error.as_deref().unwrap_or("")),
        };
        lines.push(format!(
            "#{index} line {} id {}: {what}",
            r.line.map_or("-".into(), |l| l.to_string()),
            r.id.as_deref().unwrap_or("-")
        ));
        for w in r
            .warnings
            .iter()
            .filter(|w| !w.contains("steady state") && !w.contains("taken to be a trough"))
        {
            lines.push(format!("    warning: {w}"));
        }
        Ok(())
    });
    if let Err(e) = read {
        lines.push(format!("input stopped: {e}"));
    }
    lines.join("\n") + "\n"
}

fn format_of(path: &Path) -> InputFormat {
    InputFormat::from_path(&path.to_string_lossy()).unwrap()
}

#[test]
fn every_adversarial_input_has_its_documented_outcome() {
    let pack = pack();
    let mut count = 0;
    // One snapshot per file; a failure names its file, and every file is checked.
    insta::glob!("adversarial/*", |file| {
        count += 1;
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = outcome(&pack, fs::File::open(file).unwrap(), format_of(file));
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/adversarial");
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.set_omit_expression(true);
        settings.set_description(format!("tests/adversarial/{name}"));
        settings.bind(|| insta::assert_snapshot!(name, text));
    });
    assert!(count >= 15, "the corpus has {count} files");
}

/// A reader of `size` bytes of `fill` between `head` and `tail`, made on
/// the fly: the test itself never holds the giant input.
fn giant(head: &str, fill: u8, size: usize, tail: &str) -> impl Read + use<> {
    Cursor::new(head.as_bytes().to_vec())
        .chain(std::io::repeat(fill).take(size as u64))
        .chain(Cursor::new(tail.as_bytes().to_vec()))
}

#[test]
fn a_100_mb_ndjson_line_is_one_error_record_and_the_next_line_is_read() {
    let pack = pack();
    let input = giant(
        "{\"id\": \"huge\", \"drug\": \"",
        b'x',
        100 * 1024 * 1024,
        "\"}\n{\"id\": \"after\", \"drug\": \"gefitinib\", \"value\": 250, \"unit\": \"ng/mL\"}\n",
    );
    let text = outcome(&pack, input, InputFormat::Ndjson);
    assert!(
        text.contains("#1 line 1 id -: error: line 1 is longer than 1048576 bytes"),
        "{text}"
    );
    assert!(text.contains("#2 line 2 id after: ok"), "{text}");
}

/// As with NDJSON, an over-long CSV record or JSON array element is one
/// error record, read past without being held, and the next one is read.
#[test]
fn a_100_mb_csv_record_or_json_element_is_one_error_record_and_the_next_is_read() {
    let pack = pack();
    let after = "after,gefitinib,250,ng/mL\n";
    let csv = giant(
        "id,drug,value,unit\nfirst,gefitinib,250,ng/mL\n",
        b'x',
        100 * 1024 * 1024,
        &format!(",gefitinib,250,ng/mL\n{after}"),
    );
    let text = outcome(&pack, csv, InputFormat::Csv);
    assert!(text.contains("#1 line 2 id first: ok"), "{text}");
    assert!(
        text.contains("#2 line 3 id -: error: CSV line 3: the record is longer than 1048576 bytes"),
        "{text}"
    );
    assert!(text.contains("#3 line 4 id after: ok"), "{text}");
    assert!(!text.contains("input stopped"), "{text}");
    let json = giant(
        "[{\"id\": \"first\", \"drug\": \"gefitinib\", \"value\": 250, \"unit\": \"ng/mL\"}, {\"id\": \"",
        b'x',
        100 * 1024 * 1024,
        "\"},\n {\"id\": \"after\", \"drug\": \"gefitinib\", \"value\": 250, \"unit\": \"ng/mL\"}]",
    );
    let text = outcome(&pack, json, InputFormat::Json);
    assert!(text.contains("#1 line 1 id first: ok"), "{text}");
    assert!(
        text.contains(
            "#2 line 1 id -: error: sample 2 (ending on line 1) is longer than 1048576 bytes"
        ),
        "{text}"
    );
    assert!(text.contains("#3 line 2 id after: ok"), "{text}");
    assert!(!text.contains("input stopped"), "{text}");
}

#[test]
fn deeply_nested_json_is_refused_not_recursed_into() {
    let pack = pack();
    let deep = format!(
        "{{\"id\": \"deep\", \"drug\": {}{}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let text = outcome(&pack, Cursor::new(deep.clone()), InputFormat::Ndjson);
    assert!(
        text.contains("error: line 1 is not valid JSON") && text.contains("recursion limit"),
        "{text}"
    );
    // In an array, the deep element alone is refused.
    let ok = r#"{"id": "next", "drug": "gefitinib", "value": 250, "unit": "ng/mL"}"#;
    let text = outcome(
        &pack,
        Cursor::new(format!("[{deep}, {ok}]")),
        InputFormat::Json,
    );
    assert!(
        text.contains("#1 line 2 id -: error: sample 1 (ending on line 2) is not valid JSON")
            && text.contains("recursion limit")
            && text.contains("#2 line 2 id next: ok"),
        "{text}"
    );
}

/// A CSV header of 80,000 columns with one named twice is refused, and
/// checked in linear time (it took seconds when every column was compared
/// with every earlier one).
#[test]
fn a_wide_csv_header_with_a_column_twice_is_refused() {
    let mut header: Vec<String> = (0..80_000).map(|i| format!("x{i}")).collect();
    header.push("x5".into());
    let text = format!("{}\n", header.join(","));
    let out = outcome(&pack(), Cursor::new(text.into_bytes()), InputFormat::Csv);
    assert!(out.contains("the column `x5` appears twice"), "{out}");
}

/// A quoted CSV cell of 3 MB with a newline every 100 bytes: every line is
/// short, but the record is not; the limit counts the record's bytes, and
/// the record after it is read at its own line.
#[test]
fn a_quoted_csv_cell_across_many_lines_counts_as_one_record() {
    let pack = pack();
    let line = format!("{}\n", "x".repeat(99));
    let lines = std::iter::repeat_n(line.as_bytes(), 32 * 1024)
        .flatten()
        .copied();
    let body: Vec<u8> = "id,drug,value,unit\nfirst,gefitinib,250,ng/mL\n\""
        .bytes()
        .chain(lines)
        .chain("\",gefitinib,250,ng/mL\nlast,gefitinib,250,ng/mL\n".bytes())
        .collect();
    let text = outcome(&pack, Cursor::new(body), InputFormat::Csv);
    assert!(text.contains("#1 line 2 id first: ok"), "{text}");
    assert!(
        text.contains("#2 line 3 id -: error: CSV line 3: the record is longer than 1048576 bytes"),
        "{text}"
    );
    let last = 3 + 32 * 1024 + 1;
    assert!(
        text.contains(&format!("#3 line {last} id last: ok")),
        "{text}"
    );
}
