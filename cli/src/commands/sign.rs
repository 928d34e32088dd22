//! `tdm sign` and `tdm verify`: a committee member's approval of a pack
//! version as an SSH signature in the pack's `signatures.yaml`, and the
//! check a service makes before it uses the pack.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use tdm_core::pack::Trust;
use tdm_core::pack::signature::{self, Statement, Verdict};
use tdm_core::{Pack, PackSource, Plugins};

use crate::context::{self, CliError};
use crate::exit::Exit;

/// Arguments of `tdm sign`.
#[derive(Args)]
pub(crate) struct SignArgs {
    /// The pack directory.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// Who signs: the principal the allowed-signers file lists for the key.
    #[arg(long, value_name = "WHO")]
    pub signer: String,
    /// The signer's role, e.g. "hospital pharmacist".
    #[arg(long)]
    pub role: String,
    /// The OpenSSH private key to sign with (without a passphrase; for a
    /// key with one, use --statement and ssh-keygen).
    #[arg(long, value_name = "KEY", conflicts_with_all = ["statement", "signature_file"])]
    pub key: Option<PathBuf>,
    /// Print the statement to sign and stop: sign it with
    /// `ssh-keygen -Y sign -n tdm-pack -f KEY FILE`, then add it with
    /// --statement-file and --signature-file.
    #[arg(long)]
    pub statement: bool,
    /// A statement printed by --statement (with the same --signer and --role).
    #[arg(long, value_name = "FILE", requires = "signature_file")]
    pub statement_file: Option<PathBuf>,
    /// Its signature as ssh-keygen wrote it (FILE.sig).
    #[arg(long, value_name = "FILE", requires = "statement_file")]
    pub signature_file: Option<PathBuf>,
}

/// Arguments of `tdm verify`.
#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The pack directory, or `DIR@REV`.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// The allowed-signers file of the approvers' public keys.
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: PathBuf,
    /// Revoked public keys, one a line.
    #[arg(long, value_name = "FILE")]
    pub revoked_keys: Option<PathBuf>,
    /// Valid signatures by distinct trusted keys the pack needs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_signatures: usize,
    /// `human`, or `json` for tools.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,
}

/// Renderings of `tdm verify`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum VerifyFormat {
    /// A line per signature and the verdict.
    Human,
    /// One JSON object.
    Json,
}

pub(crate) fn sign(args: &SignArgs) -> Result<Exit, CliError> {
    let pack = context::load_pack_with(&args.pack, Plugins::VerifyOnly)?;
    let now = jiff::Timestamp::now();
    let statement =
        Statement::new(pack.id(), &args.signer, &args.role, now).map_err(CliError::Usage)?;
    if args.statement {
        print!("{}", statement.text());
        return Ok(Exit::Ok);
    }
    let (text, armoured) = match (&args.key, &args.statement_file, &args.signature_file) {
        (Some(key), None, None) => {
            let private = read(key)?;
            let armoured = signature::sign(&statement, &private).map_err(|why| {
                CliError::Usage(format!("cannot sign with `{}`: {why}", key.display()))
            })?;
            (statement.text(), armoured)
        }
        (None, Some(statement_file), Some(signature_file)) => {
            let text = read(statement_file)?;
            check_statement(&text, &pack, args)?;
            (text, read(signature_file)?)
        }
        _ => {
            return Err(CliError::Usage(
                "give --key KEY, or --statement-file and --signature-file (or --statement to print one)".into(),
            ));
        }
    };
    let key = signature::check_authentic(&text, &armoured).map_err(CliError::Usage)?;
    let dir = match PackSource::parse(&args.pack.to_string_lossy()) {
        PackSource::Dir(dir) => dir,
        other => {
            return Err(CliError::Usage(format!(
                "{other} is not a directory: only a pack on disk can be signed"
            )));
        }
    };
    let existing = signature::read_signatures(&PackSource::Dir(dir.clone()))
        .map_err(|p| CliError::Usage(format!("{} cannot be read: {p}", signature::FILE)))?;
    let (file, dropped) = existing.render_with((&text, &armoured), &pack.id().digest);
    // The file must give back the very bytes that were signed (a statement
    // with Windows line ends, or blanks at a line's end, would not).
    let read_back = signature::Signatures::statements_of(&file).map_err(CliError::Usage)?;
    if read_back.last() != Some(&text) {
        return Err(CliError::Usage(
            "the statement cannot be kept as signed (Windows line ends, or blanks at the end of a line?): \
             print it again with --statement into a file, sign that file, and add it unchanged"
                .into(),
        ));
    }
    write_atomically(&dir.join(signature::FILE), &file)?;
    let id = pack.id();
    println!(
        "signed {} {} ({}) as {} ({}) with key {key}",
        id.name, id.version, id.digest, args.signer, args.role
    );
    if dropped > 0 {
        println!(
            "removed {}: {} can no longer count",
            plural(dropped, "signature of an earlier content"),
            if dropped == 1 { "it" } else { "they" }
        );
    }
    println!(
        "{} holds {} of this content",
        dir.join(signature::FILE).display(),
        plural(existing.len() + 1 - dropped, "signature")
    );
    Ok(Exit::Ok)
}

/// A statement brought from ssh-keygen must be the one --statement prints
/// for this pack and these names (its time aside).
fn check_statement(text: &str, pack: &Pack, args: &SignArgs) -> Result<(), CliError> {
    if text.contains('\r') {
        return Err(CliError::Usage(
            "the statement file has Windows line ends (CR LF), which signatures.yaml cannot keep as \
             signed: print it again with --statement on this machine, and sign that file unchanged"
                .into(),
        ));
    }
    let given = Statement::parse(text)
        .map_err(|why| CliError::Usage(format!("the statement file does not read: {why}")))?;
    let id = pack.id();
    let expected = [&id.name, &id.version, &id.digest, &args.signer, &args.role];
    let found = [
        &given.pack,
        &given.version,
        &given.digest,
        &given.signer,
        &given.role,
    ];
    if expected != found {
        return Err(CliError::Usage(format!(
            "the statement is for {} {} ({}) by {} ({}), not for this pack's content by --signer and --role: \
             print a new one with --statement",
            given.pack, given.version, given.digest, given.signer, given.role
        )));
    }
    Ok(())
}

pub(crate) fn verify(args: &VerifyArgs) -> Result<Exit, CliError> {
    let trust = Trust::read(
        &args.trusted_keys,
        args.revoked_keys.as_deref(),
        args.min_signatures,
    )?;
    let source = PackSource::parse(&args.pack.to_string_lossy());
    let pack = context::load_pack_with(&args.pack, Plugins::VerifyOnly)?;
    let verdict = signature::check_pack(&source, &pack, &trust).map_err(|p| {
        CliError::Pack(tdm_core::PackError::Io {
            path: source.location().join(signature::FILE),
            error: std::io::Error::other(p.message),
        })
    })?;
    // An overlay is approved only with its base: loading under the trust
    // checks both.
    let base_refusal = if verdict.accepted() {
        let options = tdm_core::LoadOptions {
            plugins: Plugins::VerifyOnly,
            trust: Some(std::sync::Arc::new(trust)),
        };
        tdm_core::load_pack_with(source, &options).err().map(|e| {
            let first = e.problems().first().map(ToString::to_string);
            first.unwrap_or_else(|| e.to_string())
        })
    } else {
        None
    };
    match args.format {
        VerifyFormat::Json => print_json(&pack, &verdict, base_refusal.as_deref()),
        VerifyFormat::Human => print_human(&pack, &verdict, base_refusal.as_deref()),
    }
    Ok(if verdict.accepted() && base_refusal.is_none() {
        Exit::Ok
    } else {
        Exit::PackRefused
    })
}

fn print_human(pack: &Pack, verdict: &Verdict, base_refusal: Option<&str>) {
    let id = pack.id();
    println!("{} {} {}", id.name, id.version, id.digest);
    if verdict.signatures.is_empty() {
        println!("  no signatures ({} is missing or empty)", signature::FILE);
    }
    for check in &verdict.signatures {
        let who = check.statement.as_ref().map_or_else(
            || "?".to_owned(),
            |s| format!("{}, {}, {}", s.signer, s.role, s.signed_at),
        );
        let key = check.key.as_deref().unwrap_or("no key");
        match &check.problem {
            None => println!("  valid    line {}: {who} ({key})", check.line),
            Some(why) => println!("  invalid  line {}: {who}: {why}", check.line),
        }
    }
    let counted = format!(
        "{} valid signature{} of {} required",
        verdict.valid,
        if verdict.valid == 1 { "" } else { "s" },
        verdict.required
    );
    match (verdict.accepted(), base_refusal) {
        (true, None) => println!("approved: {counted}"),
        (true, Some(why)) => {
            println!("refused: {counted}, but the pack it extends is not approved: {why}")
        }
        (false, _) => println!("refused: {counted}"),
    }
}

fn print_json(pack: &Pack, verdict: &Verdict, base_refusal: Option<&str>) {
    let out = serde_json::json!({
        "pack": pack.id(),
        "approved": verdict.accepted() && base_refusal.is_none(),
        "valid": verdict.valid,
        "required": verdict.required,
        "signatures": verdict.signatures,
        "base_refusal": base_refusal,
    });
    println!("{out}");
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|error| CliError::Open {
        path: path.display().to_string(),
        error,
    })
}

/// Written beside, then renamed: a reader (a service reloading) sees the
/// old file or the new one, never half of it.
fn write_atomically(path: &Path, text: &str) -> Result<(), CliError> {
    let temporary = path.with_extension("yaml.new");
    let written = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    written.map_err(|error| CliError::output(path.display().to_string(), error))
}

/// `1 signature`, `2 signatures`: the noun's first word takes the plural.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    match noun.split_once(' ') {
        Some((first, rest)) => format!("{n} {first}s {rest}"),
        None => format!("{n} {noun}s"),
    }
}
