//! `tdm validate`: every problem of one or more packs, for people or tools.

use serde_json::json;
use tdm_core::{LoadOptions, PackError, Plugins, load_cases, load_pack_with};

use crate::exit::Exit;
use crate::{ErrorFormat, ValidateArgs};

pub(crate) fn run(args: &ValidateArgs) -> Exit {
    let mut reports = Vec::new();
    let mut all_valid = true;
    for dir in &args.packs {
        // The pack and its test cases: a case file an editor flags must fail here too.
        // Plugins' pins are checked; the libraries are not loaded.
        let options = LoadOptions {
            plugins: Plugins::VerifyOnly,
        };
        let outcome = load_pack_with(dir, &options)
            .and_then(|pack| load_cases(dir).map(|cases| (pack, cases.len())));
        match outcome {
            Ok((pack, cases)) => match args.error_format {
                ErrorFormat::Json => reports.push(json!({
                    "pack": dir.display().to_string(), "valid": true, "name": pack.name,
                    "version": pack.version, "digest": pack.digest, "drugs": pack.drugs.len(),
                    "cases": cases, "problems": [],
                })),
                _ => println!(
                    "{}: valid — {} {} ({}), {} drugs, {} test cases",
                    dir.display(),
                    pack.name,
                    pack.version,
                    pack.digest,
                    pack.drugs.len(),
                    cases
                ),
            },
            Err(error) => {
                all_valid = false;
                match args.error_format {
                    ErrorFormat::Human => eprintln!("{:?}", miette::Report::new(error)),
                    ErrorFormat::Plain => print!("{}", plain(&error)),
                    ErrorFormat::Json => reports.push(as_json(dir, &error)),
                }
            }
        }
    }
    if args.error_format == ErrorFormat::Json {
        let out = if args.packs.len() == 1 {
            reports.remove(0)
        } else {
            json!(reports)
        };
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    if all_valid {
        Exit::Ok
    } else {
        Exit::PackRefused
    }
}

/// One line per problem: `file:line:column: message`, then its help indented.
pub(crate) fn plain(error: &PackError) -> String {
    let mut out = String::new();
    match error {
        PackError::Io { .. } => out.push_str(&format!("{error}\n")),
        PackError::Invalid { path, problems, .. } => {
            for p in problems {
                out.push_str(&format!("{}/{p}\n", path.display()));
                if let Some(help) = &p.help {
                    out.push_str(&format!("    help: {help}\n"));
                }
            }
            out.push_str(&format!("{error}\n"));
        }
    }
    out
}

fn as_json(dir: &std::path::Path, error: &PackError) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = match error {
        PackError::Io { path, error } => vec![json!({
            "file": path.display().to_string(), "line": null, "column": null,
            "message": format!("cannot read the file: {error}"), "help": null,
        })],
        PackError::Invalid { problems, .. } => problems
            .iter()
            .map(|p| {
                json!({
                    "file": p.file, "line": p.position.line, "column": p.position.column,
                    "message": p.message, "help": p.help,
                })
            })
            .collect(),
    };
    json!({"pack": dir.display().to_string(), "valid": false, "problems": problems})
}
