//! `tdm diff` on real edits to copies of ki-oncology: what a committee sees,
//! the exit codes, and which patients' advice would change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{copy_dir, root, stdout, tdm};

/// A copy of ki-oncology with `edit` applied to it.
fn edited(edit: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules/ki-oncology"), dir.path());
    edit(dir.path());
    dir
}

/// Replaces `old` (which must be there) with `new` in a file of the pack.
fn replace(pack: &Path, file: &str, old: &str, new: &str) {
    let path = pack.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{file} has no `{old}`");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// `tdm diff ki-oncology EDITED`; the first line (the two packs' versions
/// and digests, one of them a temporary directory) is left out of the text
/// compared and snapshotted.
fn diff(edited: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["diff", "rules/ki-oncology", edited.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = tdm(&args);
    let text = stdout(&o);
    assert!(text.starts_with("ki-oncology 1.5.0 (sha256:"), "{text}");
    let body = text
        .split_once('\n')
        .map_or("", |(_, rest)| rest)
        .to_owned();
    (o.status.code().unwrap(), body)
}

#[test]
fn a_moved_target_is_a_major_change_with_its_percentage() {
    let pack = edited(|p| replace(p, "drugs/imatinib.yaml", "lower: 1000\n", "lower: 1100\n"));
    let (code, text) = diff(pack.path(), &[]);
    assert_eq!(code, 1);
    assert!(text.contains("target `cml` lower bound: 1000 ng/mL -> 1100 ng/mL (+10 %) [major]"));
    insta::assert_snapshot!("target_moved", text);
}

#[test]
fn a_unit_rewrite_of_the_same_value_is_no_clinical_change() {
    // 1000 ng/mL written as 1 mg/L, and its population mean with it.
    let pack = edited(|p| {
        replace(
            p,
            "drugs/imatinib.yaml",
            "lower: 1000\n    unit: ng/mL",
            "lower: 1\n    unit: mg/L",
        );
        replace(
            p,
            "drugs/imatinib.yaml",
            "population_mean: 1170\n",
            "population_mean: 1.17\n",
        );
    });
    let (code, text) = diff(pack.path(), &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no differences"), "{text}");
}

#[test]
fn reordering_reindenting_and_comments_change_nothing() {
    let pack = edited(|p| {
        // Keys of the first target swapped, a comment added.
        replace(
            p,
            "drugs/imatinib.yaml",
            "    measure: cmin\n    lower: 1000\n",
            "    lower: 1000 # from Table 2\n    measure: cmin\n",
        );
        // A flow list rewritten as a block list.
        replace(
            p,
            "drugs/imatinib.yaml",
            "    indications: [CML]\n",
            "    indications:\n      - CML\n",
        );
    });
    let (code, text) = diff(pack.path(), &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no differences"), "{text}");
    // And the digest is the same: the content did not change.
    let o = tdm(&[
        "diff",
        "--format",
        "json",
        "rules/ki-oncology",
        pack.path().to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["old"]["digest"], v["new"]["digest"]);
}

#[test]
fn an_evidence_upgrade_a_drug_removed_and_a_script_changed() {
    let pack = edited(|p| {
        replace(
            p,
            "drugs/pazopanib.yaml",
            "evidence: viable",
            "evidence: standard_of_care",
        );
        fs::remove_file(p.join("drugs/vandetanib.yaml")).unwrap();
        replace(
            p,
            "scripts/erlotinib.rhai",
            "* 100.0).round() / 100.0",
            "* 1000.0).round() / 1000.0",
        );
    });
    let (code, text) = diff(pack.path(), &[]);
    assert_eq!(code, 1);
    assert!(text.contains("~ target `threshold` evidence: viable -> standard_of_care [clinical]"));
    assert!(text.contains("- drug: "), "{text}");
    assert!(text.contains("~ script text [major]"), "{text}");
    insta::assert_snapshot!("evidence_drug_script", text);
    // The other way round, the drug is added.
    let o = tdm(&["diff", pack.path().to_str().unwrap(), "rules/ki-oncology"]);
    assert!(stdout(&o).contains("+ drug: "), "{}", stdout(&o));
}

#[test]
fn a_metabolite_parameter_of_a_model_is_a_clinical_change() {
    let pack = edited(|p| {
        replace(
            p,
            "drugs/sunitinib.yaml",
            "{name: fm, value: 0.21, unit: \"1\"}",
            "{name: fm, value: 0.25, unit: \"1\"}",
        );
        replace(
            p,
            "drugs/sunitinib.yaml",
            "residual: {form: proportional, proportional: 0.1732}",
            "residual: {form: proportional, proportional: 0.2}",
        );
    });
    let (code, text) = diff(pack.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("~ model `yu2015` fm: 0.21 -> 0.25 (+19 %) [clinical]"),
        "{text}"
    );
    assert!(
        text.contains("~ model `yu2015` metabolite's residual error: proportional, SD 17.32 % of the prediction -> proportional, SD 20 % of the prediction [clinical]"),
        "{text}"
    );
}

#[test]
fn the_patients_whose_model_dose_would_change() {
    // The probability a model's dose must reach the target, raised from
    // the default 0.5 to 0.9: the tree's advice stays, the model's dose
    // moves up for the patients whose prediction is near the target.
    let pack = edited(|p| {
        replace(
            p,
            "pack.yaml",
            "policy:\n",
            "policy:\n  model_target_probability:\n    value: 0.9\n    source: \"local-convention: a committee's choice\"\n",
        )
    });
    let samples = pack.path().join("samples.csv");
    fs::write(
        &samples,
        "id,drug,indication,value,unit,dose_mg,hours_since_dose,days_on_dose\n\
         B,imatinib,CML,1500,ng/mL,400,24,30\n\
         C,imatinib,CML,900,ng/mL,400,24,30\n\
         D,sunitinib,,40,ng/mL,50,24,30\n\
         E,imatinib,CML,3000,ng/mL,600,24,30\n\
         F,imatinib,CML,300,ng/mL,400,24,30\n",
    )
    .unwrap();
    let (code, text) = diff(pack.path(), &["--samples", samples.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("~ policy: probability a model's dose must reach the target with: 0.5 -> 0.9 (+80 %) [clinical]"),
        "{text}"
    );
    assert!(
        text.contains("4 of 5 samples would get another result"),
        "{text}"
    );
    assert!(
        text.contains("B imatinib: within continue (model: 400 mg q24h) -> within continue (model: 600 mg q24h)"),
        "{text}"
    );
    assert!(
        text.contains("E imatinib: within continue (model: 300 mg q24h) -> within continue (model: 400 mg q24h)"),
        "{text}"
    );
    // F is far below the target: no dose within the studied ones reaches
    // it with a probability of 0.9.
    assert!(
        text.contains("F imatinib: below increase_dose, 600 mg q24h (model: 400 mg q12h) -> below increase_dose, 600 mg q24h (model: no dose)"),
        "{text}"
    );
    // Sunitinib has no model: its result is the same.
    assert!(!text.contains("D sunitinib"), "{text}");
}

#[test]
fn the_samples_whose_advice_would_change() {
    let pack = edited(|p| replace(p, "drugs/imatinib.yaml", "lower: 1000\n", "lower: 1100\n"));
    let samples = pack.path().join("samples.csv");
    fs::write(
        &samples,
        "id,drug,indication,value,unit,dose_mg,hours_since_dose,days_on_dose\n\
         A,imatinib,CML,1050,ng/mL,400,24,30\n\
         B,imatinib,CML,1500,ng/mL,400,24,30\n\
         C,imatinib,CML,900,ng/mL,400,24,30\n\
         D,sunitinib,,40,ng/mL,50,24,30\n",
    )
    .unwrap();
    let (code, text) = diff(pack.path(), &["--samples", samples.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        text.contains("1 of 4 samples would get another result"),
        "{text}"
    );
    assert!(
        text.contains("A imatinib: within continue (model: 600 mg q24h) -> below increase_dose, 600 mg q24h (model: 600 mg q24h)"),
        "{text}"
    );
    insta::assert_snapshot!("impact_on_samples", text);

    let o = tdm(&[
        "diff",
        "--format",
        "json",
        "--samples",
        samples.to_str().unwrap(),
        "rules/ki-oncology",
        pack.path().to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["clinical"], true);
    assert_eq!(v["samples"]["samples"], 4);
    assert_eq!(v["samples"]["changed"][0]["id"], "A");
    assert_eq!(v["samples"]["changed"][0]["new"]["advice"], "increase_dose");
    assert_eq!(v["changes"][0]["percent"], 10.0);

    let o = tdm(&[
        "diff",
        "--format",
        "markdown",
        "--samples",
        samples.to_str().unwrap(),
        "rules/ki-oncology",
        pack.path().to_str().unwrap(),
    ]);
    let md = stdout(&o);
    assert!(
        md.contains(
            "| imatinib | ~ target `cml` lower bound | 1000 ng/mL | 1100 ng/mL | 10 | major |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| A | imatinib | within continue (model: 600 mg q24h) | below increase_dose, 600 mg q24h (model: 600 mg q24h) |"),
        "{md}"
    );
}

#[test]
fn a_git_revision_is_read_without_checking_it_out() {
    let in_git = Command::new("git")
        .current_dir(root())
        .args(["rev-parse", "--verify", "HEAD"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !in_git {
        eprintln!("not a git checkout: skipped");
        return;
    }
    // The committed pack against itself, and against the working tree
    // (which may hold edits: same or different, but readable).
    let o = tdm(&["diff", "rules/ki-oncology@HEAD", "rules/ki-oncology@HEAD"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{}{err}", stdout(&o));
    assert!(stdout(&o).contains("no differences"));
    let o = tdm(&["diff", "rules/ki-oncology@HEAD", "rules/ki-oncology"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
    let o = tdm(&[
        "diff",
        "rules/ki-oncology@no-such-revision",
        "rules/ki-oncology",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("git ls-tree"));
}

#[test]
fn a_broken_pack_is_trouble_exit_2() {
    let o = tdm(&["diff", "rules/ki-oncology", "no/such/pack"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Sets the version of an edited pack, with a changelog entry for it.
fn release(pack: &Path, version: &str) {
    replace(
        pack,
        "pack.yaml",
        "version: \"1.5.0\"",
        &format!("version: \"{version}\""),
    );
    replace(
        pack,
        "pack.yaml",
        "changelog:\n",
        &format!(
            "changelog:\n  - version: \"{version}\"\n    date: \"2026-12-01\"\n    changes: [\"imatinib CML target raised\"]\n"
        ),
    );
}

fn validate_against(pack: &Path) -> (i32, String) {
    let o = tdm(&[
        "validate",
        pack.to_str().unwrap(),
        "--against",
        "rules/ki-oncology",
    ]);
    let text = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap(), text)
}

#[test]
fn validate_against_flags_content_changed_under_the_same_version() {
    let pack = edited(|p| replace(p, "drugs/imatinib.yaml", "lower: 1000\n", "lower: 1100\n"));
    let (code, text) = validate_against(pack.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("but the version is still 1.5.0: raise it"),
        "{text}"
    );
}

#[test]
fn validate_against_flags_a_moved_target_under_a_patch_bump() {
    let pack = edited(|p| {
        replace(p, "drugs/imatinib.yaml", "lower: 1000\n", "lower: 1100\n");
        release(p, "1.5.1");
    });
    let (code, text) = validate_against(pack.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("a major clinical change under a patch-level bump (1.5.0 -> 1.5.1): imatinib: target `cml` lower bound"),
        "{text}"
    );
}

#[test]
fn validate_against_accepts_a_minor_bump_with_its_changelog() {
    let pack = edited(|p| {
        replace(p, "drugs/imatinib.yaml", "lower: 1000\n", "lower: 1100\n");
        release(p, "1.6.0");
    });
    let (code, text) = validate_against(pack.path());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("version 1.6.0 against 1.5.0: consistent"),
        "{text}"
    );
    // An editorial fix under a patch bump is fine too.
    let pack = edited(|p| {
        replace(
            p,
            "drugs/imatinib.yaml",
            "outcome: improved MMR, CCyR",
            "outcome: improved MMR and CCyR",
        );
        release(p, "1.5.1");
    });
    assert_eq!(validate_against(pack.path()).0, 0);
}

#[test]
fn validate_against_flags_a_version_that_went_down() {
    let pack = edited(|p| release(p, "0.9.0"));
    let (code, text) = validate_against(pack.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("the version went down: 1.5.0 -> 0.9.0"),
        "{text}"
    );
}

#[test]
fn validate_against_wants_a_changelog_entry_for_a_new_version() {
    let pack = edited(|p| {
        let manifest = p.join("pack.yaml");
        let text = fs::read_to_string(&manifest).unwrap();
        // The whole changelog block removed, the version raised.
        let start = text.find("changelog:\n").unwrap();
        let end = text[start..].find("\nsources:").unwrap() + start + 1;
        let text = format!("{}{}", &text[..start], &text[end..])
            .replace("version: \"1.5.0\"", "version: \"1.6.0\"");
        fs::write(&manifest, text).unwrap();
        replace(p, "drugs/imatinib.yaml", "lower: 1000\n", "lower: 1100\n");
    });
    let (code, text) = validate_against(pack.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("version 1.6.0 has no changelog entry saying what changed"),
        "{text}"
    );
}

/// `git ARGS` in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_pack_at_a_git_revision_is_the_pack_on_disk_yml_files_and_overlays_included() {
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("git is not installed: skipped");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    copy_dir(
        &root().join("rules/ki-oncology"),
        &repo.path().join("rules/ki-oncology"),
    );
    copy_dir(
        &root().join("rules/examples/hospital-overlay"),
        &repo.path().join("rules/examples/hospital-overlay"),
    );
    // A drug file spelt `.yml` is a drug file at a revision too.
    let drugs = repo.path().join("rules/ki-oncology/drugs");
    fs::rename(drugs.join("gefitinib.yaml"), drugs.join("gefitinib.yml")).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "packs"]);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tdm"))
            .current_dir(repo.path())
            .args(args)
            .output()
            .unwrap()
    };
    for pack in ["rules/ki-oncology", "rules/examples/hospital-overlay"] {
        let o = run(&["diff", &format!("{pack}@HEAD"), pack]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(0), "{pack}: {}{err}", stdout(&o));
        assert!(
            stdout(&o).contains("no differences"),
            "{pack}: {}",
            stdout(&o)
        );
    }
    // And evaluation reads the revision the same way.
    let o = run(&[
        "eval",
        "--pack",
        "rules/ki-oncology@HEAD",
        "--format",
        "json",
        "--drug",
        "gefitinib",
        "--value",
        "250",
        "--unit",
        "ng/mL",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains("\"drug\": \"gefitinib\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn colour_is_asked_for_or_not_and_no_color_is_honoured() {
    let run = |extra: &[&str], no_color: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tdm"));
        c.current_dir(root())
            .args([
                "diff",
                "rules/ki-oncology",
                "examples/packs/ki-oncology-next",
            ])
            .args(extra);
        c.env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        String::from_utf8(c.output().unwrap().stdout).unwrap()
    };
    assert!(run(&["--color", "always"], None).contains("\u{1b}[1mimatinib\u{1b}[0m"));
    assert!(!run(&["--color", "never"], None).contains('\u{1b}'));
    // Not a terminal: no colour; NO_COLOR set: none either, `always` wins.
    assert!(!run(&[], None).contains('\u{1b}'));
    assert!(!run(&["--color", "auto"], Some("1")).contains('\u{1b}'));
    assert!(run(&["--color", "always"], Some("1")).contains('\u{1b}'));
}
