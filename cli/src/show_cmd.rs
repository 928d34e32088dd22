//! `tdm show PACK`: what a pack is (identity, history, drugs); with
//! `--resolved`, the files a pack that extends another resolves to, each
//! stretch of lines marked with the file it came from.

use tdm_core::pack::resolve_pack;

use crate::ShowArgs;
use crate::exit::Exit;

pub(crate) fn run(args: &ShowArgs) -> Exit {
    if args.resolved {
        let files = match resolve_pack(&args.pack) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return Exit::PackRefused;
            }
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
    let pack = match crate::load_pack(&args.pack, crate::plugins(args.allow_plugins)) {
        Ok(p) => p,
        Err(e) => return e,
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
    Exit::Ok
}
