//! `tdm models check`: the shipped models beside the review, the figure,
//! and the forecasts of a history file summed as `tdm eval` gives them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{stderr, stdout, tdm};

#[test]
fn the_models_beside_the_tables_and_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("models.svg");
    let o = tdm(&[
        "models",
        "check",
        "rules/ki-oncology",
        "--draws",
        "2000",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("imatinib     widmer2006-base  cml"), "{text}");
    // Sunitinib's model is set beside the table's total (with SU12662).
    assert!(
        text.contains("sunitinib    yu2015           intermittent"),
        "{text}"
    );
    let pazopanib = text.lines().find(|l| l.starts_with("pazopanib")).unwrap();
    assert!(pazopanib.ends_with("disagrees"), "{pazopanib}");
    assert!(text.contains("ast_u_l at 36.5 (reference)"), "{text}");
    let figure = std::fs::read_to_string(&svg).unwrap();
    assert!(figure.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(figure.matches("<g class=\"model\"").count(), 4, "{figure}");
    assert!(figure.contains("data-model=\"yu2015\""));
    assert!(figure.contains("data-model=\"ozbey2021\""));
    assert!(figure.trim_end().ends_with("</svg>"));
}

#[test]
fn a_history_files_forecasts_are_summed_as_eval_gives_them() {
    let o = tdm(&[
        "models",
        "check",
        "rules/ki-oncology",
        "--draws",
        "200",
        "--history",
        "examples/history.csv",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let forecasts = report["forecasts"].as_array().unwrap();
    let drugs: Vec<&str> = forecasts
        .iter()
        .map(|f| f["drug"].as_str().unwrap())
        .collect();
    assert_eq!(drugs, ["imatinib", "sunitinib"], "{report}");
    let f = &forecasts[0];

    // The same levels' forecasts, read from `tdm eval`.
    let o = tdm(&[
        "eval",
        "--pack",
        "rules/ki-oncology",
        "--format",
        "ndjson",
        "-q",
        "examples/history.csv",
    ]);
    let errors: Vec<f64> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["drug"] == "imatinib")
        .filter_map(|r| r["model"]["forecast"]["error_percent"].as_f64())
        .collect();
    assert_eq!(f["levels"], errors.len());
    assert!(errors.len() >= 3, "{errors:?}");
    let n = errors.len() as f64;
    let bias = errors.iter().sum::<f64>() / n;
    let rms = (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
    assert!((f["bias_percent"].as_f64().unwrap() - bias).abs() < 1e-9);
    assert!((f["imprecision_percent"].as_f64().unwrap() - rms).abs() < 1e-9);
}

#[test]
fn a_missing_history_file_is_an_input_error() {
    let o = tdm(&[
        "models",
        "check",
        "rules/ki-oncology",
        "--history",
        "no-such-file.csv",
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-file.csv"), "{}", stderr(&o));
}

#[test]
fn too_few_draws_are_refused() {
    let o = tdm(&["models", "check", "rules/ki-oncology", "--draws", "10"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
