//! `tdm show PACK`: what a pack is (identity, history, drugs); with
//! `--resolved`, the files a pack that extends another resolves to, each
//! stretch of lines marked with the file it came from.

use clap::Args;
use std::path::PathBuf;
use tdm_core::pack::resolve_pack;

use crate::context::{self, CliError};
use crate::exit::Exit;

/// Arguments of `tdm show`.
#[derive(Args)]
pub(crate) struct ShowArgs {
    /// The pack directory.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// Print the resolved files, each stretch of lines with the file it came from (base or overlay).
    #[arg(long)]
    pub resolved: bool,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

pub(crate) fn run(args: &ShowArgs) -> Exit {
    if args.resolved {
        let source = tdm_core::PackSource::parse(&args.pack.to_string_lossy());
        let files = match resolve_pack(source) {
            Ok(f) => f,
            Err(e) => return CliError::from(e).report(),
        };
        for file in &files {
            println!("== {}", file.name);
            let mut from: Option<&str> = None;
            for (line, origin) in file.text.lines().zip(&file.origins) {
                if from != Some(origin.file.as_str()) {
                    from = Some(&origin.file);
                    println!("# from {}:{}", origin.file, origin.line);
                }
                println!("{line}");
            }
            println!();
        }
        return Exit::Ok;
    }
    let pack = match context::load_pack(&args.pack, args.allow_plugins) {
        Ok(p) => p,
        Err(e) => return e.report(),
    };
    println!(
        "{} {} — {}",
        pack.id().name,
        pack.id().version,
        pack.title()
    );
    println!("digest: {}", pack.id().digest);
    if let Some(date) = &pack.effective() {
        println!("effective: {date}");
    }
    match &pack.approval() {
        Some(a) => println!(
            "approved by {} on {}{}",
            a.by,
            a.on,
            a.note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
        None => println!("approval: none recorded"),
    }
    for entry in pack.changelog() {
        println!("{} ({}):", entry.version, entry.date);
        for change in &entry.changes {
            println!("  - {change}");
        }
    }
    let names: Vec<&str> = pack.drugs().iter().map(|d| d.name.as_str()).collect();
    println!("{} drugs: {}", names.len(), names.join(", "));
    let models: Vec<String> = pack
        .drugs()
        .iter()
        .flat_map(|d| d.models.iter().map(move |m| model_line(&d.name, m)))
        .collect();
    if !models.is_empty() {
        println!("population PK models (informational, beside the advice):");
        for m in models {
            println!("  - {m}");
        }
    }
    Exit::Ok
}

/// A model in one line: whose, from where, its typical values and spread.
fn model_line(drug: &str, m: &tdm_core::pack::DrugModel) -> String {
    let t = &m.model.typical;
    let n = m.model.etas.len();
    let iiv: Vec<String> = m
        .model
        .etas
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{} {}", p.name(), m.model.omega[i * n + i]))
        .collect();
    format!(
        "{drug}: `{}` ({}): CL {} L/h, V1 {} L, ka {} 1/h; IIV variances {}; residual {}; {}",
        m.model.id,
        m.source.split_whitespace().next().unwrap_or(""),
        t.cl,
        t.v1,
        t.ka,
        iiv.join(", "),
        m.model.residual,
        m.population
    )
}
