//! `tdm report`: the Markdown is snapshotted; the HTML's chart is checked
//! against the numbers it draws; nothing in the page is fetched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn report(format: &str, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args([
            "report",
            "--pack",
            "rules/ki-oncology",
            "--format",
            format,
            "--out",
        ])
        .arg(out)
        .arg("examples/history.csv")
        .output()
        .unwrap()
}

#[test]
fn the_markdown_report_of_each_patient() {
    let dir = tempfile::tempdir().unwrap();
    let o = report("md", dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for patient in ["P-101", "P-202"] {
        let text = std::fs::read_to_string(dir.path().join(format!("{patient}.md"))).unwrap();
        // The digest changes with any edit of the pack; it is checked elsewhere.
        let text = regex_free_redact(&text);
        insta::assert_snapshot!(format!("report-{patient}"), text);
    }
}

fn regex_free_redact(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("(sha256:") {
            Some(i) => format!("{}(sha256:[digest])", &l[..i]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `name="value"` of the first attribute `name` in `element`.
fn attr(element: &str, name: &str) -> Option<f64> {
    let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
    element[start..].split('"').next()?.parse().ok()
}

fn elements<'a>(svg: &'a str, tag_and_class: &str) -> Vec<&'a str> {
    svg.match_indices(tag_and_class)
        .map(|(i, _)| &svg[i..i + svg[i..].find('>').unwrap()])
        .collect()
}

#[test]
fn the_html_chart_draws_every_sample_and_the_target_at_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let o = report("html", dir.path());
    assert_eq!(o.status.code(), Some(0));
    let html = std::fs::read_to_string(dir.path().join("P-101.html")).unwrap();
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
    // One point at trough per sample; the extrapolated one also as measured.
    let troughs = elements(svg, "<circle class=\"trough\"");
    assert_eq!(troughs.len(), 5);
    assert_eq!(
        elements(svg, "<circle class=\"measured\"").len(),
        2,
        "samples H-02 and H-03 were corrected"
    );
    // The y axis is linear: two points fix it; the target line must sit at 1000.
    let (v1, y1) = (
        attr(troughs[0], "data-value").unwrap(),
        attr(troughs[0], "cy").unwrap(),
    );
    let (v2, y2) = (
        attr(troughs[3], "data-value").unwrap(),
        attr(troughs[3], "cy").unwrap(),
    );
    let y_of = |v: f64| y1 + (v - v1) * (y2 - y1) / (v2 - v1);
    let target = elements(svg, "<line class=\"target-lower\"")[0];
    assert_eq!(attr(target, "data-value"), Some(1000.0));
    assert!(
        (attr(target, "y1").unwrap() - y_of(1000.0)).abs() < 0.05,
        "{target}"
    );
    let mean = elements(svg, "<line class=\"population-mean\"")[0];
    assert!(
        (attr(mean, "y1").unwrap() - y_of(1170.0)).abs() < 0.05,
        "{mean}"
    );
    // Later samples lie further right; the grade 3 sample is marked.
    let xs: Vec<f64> = troughs.iter().map(|t| attr(t, "cx").unwrap()).collect();
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    assert_eq!(elements(svg, "<path class=\"toxicity\"").len(), 1);
    assert!(svg.contains("class=\"dose\""));
    // Self-contained: nothing is fetched.
    for needle in [" src=", " href=", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the page refers to something outside: {needle}"
        );
    }
    assert!(html.contains("@page { size: A4"));
    assert!(html.contains("Pack ki-oncology 1.5.0"));
}

#[test]
fn samples_without_patient_or_time_are_left_out_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args(["report", "--pack", "rules/ki-oncology", "--out"])
        .arg(dir.path())
        .arg("examples/samples.ndjson")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("a report needs `patient` and `sampled_at`")
    );
}

/// Every tag in `html`, by name.
fn tag_names(html: &str) -> Vec<String> {
    html.match_indices('<')
        .map(|(i, _)| {
            html[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!')
                .collect::<String>()
                .trim_start_matches('/')
                .to_lowercase()
        })
        .collect()
}

#[test]
fn every_text_from_the_input_is_escaped_in_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("hostile.ndjson");
    std::fs::write(
        &hostile,
        concat!(
            r#"{"id": "X\"><script>alert(1)</script>", "patient": "P<b>1</b>&\"", "sampled_at": "2026-03-02T09:10", "drug": "imatinib", "indication": "CML", "value": 900, "unit": "ng/mL", "dose_mg": 400, "hours_since_dose": 24, "days_on_dose": 30, "toxicity_grade": 0}"#,
            "\n",
            r#"{"id": "<img src=x onerror=alert(2)>", "patient": "P<b>1</b>&\"", "sampled_at": "2026-03-03T09:10", "drug": "<svg onload=alert(3)>", "indication": "CML<i>", "value": 1, "unit": "ng/mL"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args(["report", "--pack", "rules/ki-oncology", "--out"])
        .arg(&out)
        .arg(&hostile)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let page = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let html = std::fs::read_to_string(page).unwrap();
    let allowed = [
        "!doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2", "section", "svg",
        "rect", "line", "text", "g", "path", "circle", "p", "table", "tr", "th", "td", "div",
        "strong", "ul", "li",
    ];
    for tag in tag_names(&html) {
        assert!(
            allowed.contains(&tag.as_str()),
            "tag `{tag}` from the input:\n{html}"
        );
    }
    // The texts are there, escaped, in content and in attributes.
    assert!(html.contains("P&lt;b&gt;1&lt;/b&gt;&amp;&quot;"), "{html}");
    assert!(
        html.contains(r#"data-id="X&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;""#),
        "{html}"
    );
    assert!(html.contains("&lt;svg onload=alert(3)&gt;"), "{html}");
}

/// The (x, y) points of a path written `M x y L x y ...`.
fn path_points(element: &str) -> Vec<(f64, f64)> {
    let start = element.find(" d=\"").unwrap() + 4;
    let d = element[start..].split('"').next().unwrap();
    d.split(['M', 'L'])
        .filter_map(|p| {
            let mut it = p.split_whitespace();
            Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_chart_draws_the_patients_model_curve_and_the_recommended_regimen() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(report("html", dir.path()).status.code(), Some(0));
    let html = std::fs::read_to_string(dir.path().join("P-101.html")).unwrap();
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
    let troughs = elements(svg, "<circle class=\"trough\"");
    let point = |i: usize| {
        (
            attr(troughs[i], "data-value").unwrap(),
            attr(troughs[i], "cy").unwrap(),
        )
    };
    let ((v1, y1), (v2, y2)) = (point(0), point(3));
    let y_of = |v: f64| y1 + (v - v1) * (y2 - y1) / (v2 - v1);
    let last_x = attr(troughs[4], "cx").unwrap();

    // The latest fit's prediction at H-05, as `tdm eval` gives it.
    let o = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args([
            "eval",
            "--pack",
            "rules/ki-oncology",
            "--format",
            "ndjson",
            "-q",
            "examples/history.csv",
        ])
        .output()
        .unwrap();
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().nth(4).unwrap()).unwrap();
    let predicted = last["model"]["predictions"][4]["predicted"]
        .as_f64()
        .unwrap();
    let recommended = &last["model"]["recommendation"];

    let curve = path_points(elements(svg, "<path class=\"model-curve\"")[0]);
    assert!(curve.len() > 500, "{}", curve.len());
    let (x, y) = *curve.last().unwrap();
    assert!((x - last_x).abs() < 0.05, "{x} vs {last_x}");
    assert!(
        (y - y_of(predicted)).abs() < 0.05,
        "{y} vs {}",
        y_of(predicted)
    );
    let band = elements(svg, "<path class=\"model-band\"")[0];
    assert!(band.contains(" Z\""), "{band}");

    let projected = elements(svg, "<path class=\"model-projected\"")[0];
    assert_eq!(
        attr(projected, "data-dose"),
        recommended["dose_mg"].as_f64()
    );
    assert_eq!(
        attr(projected, "data-interval"),
        recommended["interval_h"].as_f64()
    );
    let points = path_points(projected);
    assert!((points[0].0 - last_x).abs() < 0.05);
    // Until its steady state (at least a week) after the next dose.
    let days_per_px = (attr(troughs[4], "cx").unwrap() - attr(troughs[0], "cx").unwrap()) / 140.0;
    let days = (points.last().unwrap().0 - last_x) / days_per_px;
    // (Coordinates are written to 0.01 px, about 0.003 days here.)
    assert!((6.99..8.5).contains(&days), "{days}");
    assert!(html.contains("Population model widmer2006-base (informational, 5 levels of the patient): 600 mg every 24 h"));
}

/// The texts of the `<text class="...">` elements of a class.
fn texts<'a>(svg: &'a str, class: &str) -> Vec<(&'a str, &'a str)> {
    svg.match_indices(&format!("<text class=\"{class}\""))
        .map(|(i, _)| {
            let rest = &svg[i..];
            let open = rest.find('>').unwrap();
            let close = rest.find("</text>").unwrap();
            (&rest[..open], &rest[open + 1..close])
        })
        .collect()
}

/// What users stumbled on: ticks at round numbers, labels over each other,
/// the dose inside the levels' area, a dose change at the last sample
/// outside the plot, "reduce dose" without the dose, no indication, date
/// or sign-off.
#[test]
fn the_report_reads_as_a_pharmacist_needs() {
    let dir = tempfile::tempdir().unwrap();
    // P-101 up to its fourth sample: grade 3 toxicity, reduce to 400 mg.
    let history = std::fs::read_to_string(root().join("examples/history.csv")).unwrap();
    let four: Vec<&str> = history.lines().take(5).collect();
    let csv = dir.path().join("four.csv");
    std::fs::write(&csv, four.join("\n") + "\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args(["report", "--pack", "rules/ki-oncology", "--out"])
        .arg(dir.path())
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("P-101.html")).unwrap();
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];

    let ticks: Vec<f64> = texts(svg, "y-tick")
        .iter()
        .map(|(_, t)| t.parse().unwrap())
        .collect();
    assert_eq!(ticks, [0.0, 1000.0, 2000.0, 3000.0, 4000.0]);
    let dose_ticks: Vec<&str> = texts(svg, "dose-tick").iter().map(|(_, t)| *t).collect();
    assert_eq!(dose_ticks, ["0", "200", "400", "600"]);
    let days: Vec<&str> = texts(svg, "x-tick").iter().map(|(_, t)| *t).collect();
    assert!(
        days.iter().all(|d| d.parse::<f64>().unwrap() % 10.0 == 0.0),
        "{days:?}"
    );

    // The target's and the mean's labels (1000 and 1170 ng/mL) do not overlap.
    let label_y = |class: &str| attr(texts(svg, class)[0].0, "y").unwrap();
    let (target, mean) = (
        label_y("target-lower-label"),
        label_y("population-mean-label"),
    );
    assert!((target - mean).abs() >= 13.0, "{target} vs {mean}");

    // The dose is drawn below every level.
    let lowest_level = elements(svg, "<circle class=")
        .iter()
        .map(|c| attr(c, "cy").unwrap())
        .fold(0.0, f64::max);
    let dose = elements(svg, "<path class=\"dose\"")[0];
    // `M x y H x V y H x ...`: the y of the move and of each vertical.
    let d = dose
        .split("d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let tokens: Vec<&str> = d.split_whitespace().collect();
    let dose_ys: Vec<f64> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t.chars().next() {
            Some('M') => tokens.get(i + 1)?.parse().ok(),
            Some('V') => t[1..].parse().ok(),
            _ => None,
        })
        .collect();
    assert!(
        !dose_ys.is_empty() && dose_ys.iter().all(|y| *y > lowest_level + 10.0),
        "{dose_ys:?}"
    );

    // The next dose from the last sample, inside the plot.
    let next = elements(svg, "<path class=\"dose-next\"")[0];
    assert_eq!(attr(next, "data-value"), Some(400.0));
    let last_x = attr(elements(svg, "<circle class=\"trough\"")[3], "cx").unwrap();
    let d = next.split("d=\"").nth(1).unwrap();
    let start_x: f64 = d[1..].split_whitespace().next().unwrap().parse().unwrap();
    assert!((start_x - last_x).abs() < 0.01, "{start_x} vs {last_x}");
    assert!(
        last_x < 600.0 - 10.0,
        "the last sample at {last_x} is inside the plot (ends at 600)"
    );

    // The table gives the new dose; the header the indication and the date.
    assert!(
        html.contains("<td>reduce dose</td><td>400 mg every 24 h</td>"),
        "{html}"
    );
    assert!(html.contains("indication CML"));
    assert!(html.contains("Report date 20"));
    assert!(html.contains("<th>Checked by</th>") && html.contains("<th>Signature</th>"));
}
