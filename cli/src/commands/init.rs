//! `tdm init DIR --extends BASE`: a local pack on a published one, ready to
//! edit: a manifest that names the base, one example override, one test
//! case, and the schema lines editors use.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::context::CliError;
use crate::exit::Exit;
use clap::Args;

/// Arguments of `tdm init`.
#[derive(Args)]
pub(crate) struct InitArgs {
    /// The directory of the new pack (created; must not hold a pack.yaml).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The published pack it extends.
    #[arg(long, value_name = "PACK")]
    pub extends: PathBuf,
}

pub(crate) fn run(args: &InitArgs) -> Result<Exit, CliError> {
    match init(args) {
        Ok(written) => {
            for file in &written {
                println!("wrote {}", file.display());
            }
            println!(
                "\nnext: edit {0}/drugs/*.yaml (each top-level key replaces the base's), \
                 then `tdm validate {0}` and `tdm test {0}`; `tdm show --resolved {0}` prints the result",
                args.dir.display()
            );
            Ok(Exit::Ok)
        }
        Err(message) => Err(CliError::Usage(message)),
    }
}

fn init(args: &InitArgs) -> Result<Vec<PathBuf>, String> {
    let base = tdm_core::load_pack(&args.extends).map_err(|e| {
        format!(
            "the base pack `{}` cannot be used: {e}",
            args.extends.display()
        )
    })?;
    if args.dir.join("pack.yaml").exists() {
        return Err(format!("{} already holds a pack.yaml", args.dir.display()));
    }
    for sub in ["drugs", "tests"] {
        fs::create_dir_all(args.dir.join(sub))
            .map_err(|e| format!("cannot create {}: {e}", args.dir.join(sub).display()))?;
    }
    let dir = absolute(&args.dir)?;
    let base_dir = absolute(&args.extends)?;
    let to_base = relative(&dir, &base_dir);
    // The schemas the base's own manifest names, if they can be found.
    let schemas = fs::read_to_string(base_dir.join("pack.yaml"))
        .ok()
        .and_then(|t| {
            t.lines()
                .next()?
                .strip_prefix("# yaml-language-server: $schema=")
                .map(|p| base_dir.join(p))
        })
        .and_then(|p| fs::canonicalize(p.parent()?).ok())
        .filter(|p| p.join("overlay.schema.json").exists());
    let header = |from: &Path, schema: &str| match &schemas {
        Some(s) => format!(
            "# yaml-language-server: $schema={}\n",
            relative(from, s).join(schema).display()
        ),
        None => String::new(),
    };
    let name = dir
        .file_name()
        .map_or("local".into(), |n| n.to_string_lossy().to_lowercase());
    // The loader checked the base's version.
    let (major, minor) =
        semver::Version::parse(&base.id().version).map_or((1, 0), |v| (v.major, v.minor));
    let manifest = format!(
        "{header}# A local pack on {base_name} {base_version}: only what differs is written here.\n\
         name: {name}\n\
         version: \"0.1.0\"\n\
         title: Local pack on {base_name}\n\
         extends:\n  pack: {to_base}\n  version: \"^{major}.{minor}\"\n\
         changelog:\n  - version: \"0.1.0\"\n    date: \"{today}\"\n    changes: [\"first local version\"]\n\
         sources:\n  local:\n    citation: >-\n      Say who decided each local change and where it is minuted.\n\
         # policy:                  # give only the keys that differ, e.g.\n\
         #   act_on_population_mean: {{value: true, source: \"local: ...\"}}\n",
        header = header(&dir, "overlay.schema.json"),
        base_name = base.id().name,
        base_version = base.id().version,
        to_base = to_base.display(),
        today = tdm_core::input::today(),
    );
    let drug = base
        .drugs()
        .iter()
        .find(|d| d.name == "imatinib")
        .or(base.drugs().first())
        .map(|d| d.name.clone())
        .ok_or("the base pack has no drugs")?;
    let override_file = format!(
        "{header}# An override of {base_name}'s {drug}: each top-level key given here\n\
         # replaces the base's (e.g. `targets:` or `dosing:`); the rest stays the base's.\n\
         drug: {drug}\n\
         notes:\n  - \"local: replace this note with your institution's change\"\n",
        header = header(&dir.join("drugs"), "drug-override.schema.json"),
        base_name = base.id().name,
    );
    let case = first_case(&base_dir).unwrap_or_else(|| evaluated_case(&base, &drug));
    let tests = format!(
        "{header}# The local pack's own cases: add one for every local change.\ncases:\n{case}",
        header = header(&dir.join("tests"), "tests.schema.json"),
    );
    let files = [
        (dir.join("pack.yaml"), manifest),
        (
            dir.join("drugs").join(format!("{drug}.yaml")),
            override_file,
        ),
        (dir.join("tests/local.yaml"), tests),
    ];
    for (path, text) in &files {
        fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    // Named as the user named the directory.
    Ok(files
        .into_iter()
        .map(|(p, _)| args.dir.join(p.strip_prefix(&dir).unwrap_or(&p)))
        .collect())
}

/// A case for a base without cases: one sample of `drug`, expecting what
/// the base answers now (a case states its advice and next dose).
fn evaluated_case(base: &tdm_core::Pack, drug: &str) -> String {
    let sample = serde_json::json!({"drug": drug, "value": 1, "unit": "ng/mL"});
    let r = tdm_core::eval::evaluate_value(base, &sample);
    let expect = match &r.assessment {
        Some(a) => format!(
            "{{advice: {}, next_dose_mg: {}}}",
            a.advice,
            a.next_dose_mg
                .map_or("null".into(), tdm_core::result::fmt_num)
        ),
        None => format!(
            "{{status: error, error_contains: {:?}}}",
            r.error.unwrap_or_default()
        ),
    };
    format!(
        "  - name: {drug} is evaluated as the base evaluates it\n    sample: {{drug: {drug}, value: 1, unit: ng/mL}}\n    expect: {expect}\n"
    )
}

/// The first case of the base's first case file, as YAML lines: the local
/// pack starts with a case that must still pass.
fn first_case(base: &Path) -> Option<String> {
    let mut files: Vec<PathBuf> = fs::read_dir(base.join("tests"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let text = fs::read_to_string(files.first()?).ok()?;
    let mut lines = text.lines().skip_while(|l| !l.starts_with("  - "));
    let first = lines.next()?;
    let rest: Vec<&str> = lines.take_while(|l| !l.starts_with("  - ")).collect();
    let mut out = format!("{first}\n");
    for l in rest {
        out.push_str(l);
        out.push('\n');
    }
    Some(out)
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `to` relative to the directory `from` (both absolute).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
