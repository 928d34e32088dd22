//! The audit log: one NDJSON record per decision, written before the
//! decision is given, so that every answer can be traced afterwards to the
//! exact pack, engine and input that produced it.
//!
//! A record holds the decision id (also in the answer), the time, the
//! caller, the pack's name, version and digest, the engine, the sha256 of
//! the input as given, and the outcome (drug, status, advice, next dose).
//! Patient identifiers and sample values stay out unless
//! `--audit-include-input` is given: then the input and the whole result
//! are recorded too. A record that cannot be written fails its decision:
//! the answer is an error, never an advice without its record.
//!
//! Each record is one `write` to a file opened for appending, so records of
//! concurrent requests never interleave and a crash of the process loses
//! none that were answered; `--audit-sync` also flushes each to the disk.
//! Past `--audit-max-bytes` the file is renamed `FILE.1` (`FILE.1` to
//! `FILE.2`, ..., the oldest beyond `--audit-keep` removed) and a new one
//! started.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::Args;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tdm_core::EvalResult;

use crate::context::CliError;

/// Options of the audit log.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct AuditArgs {
    /// Append one NDJSON record per decision to FILE before the decision
    /// is given; a decision that cannot be recorded is not given.
    #[arg(long, value_name = "FILE", help_heading = "Audit log")]
    pub audit_log: Option<PathBuf>,
    /// Record each sample as given and its whole result (patient
    /// identifiers and values); by default only the input's sha256.
    #[arg(long, requires = "audit_log", help_heading = "Audit log")]
    pub audit_include_input: bool,
    /// Start a new file when the log would pass this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 100 * 1024 * 1024, help_heading = "Audit log")]
    pub audit_max_bytes: u64,
    /// Rotated files kept (FILE.1 the newest).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10,
        help_heading = "Audit log"
    )]
    pub audit_keep: usize,
    /// Flush each record to the disk (fdatasync) before answering.
    #[arg(long, requires = "audit_log", help_heading = "Audit log")]
    pub audit_sync: bool,
}

impl AuditArgs {
    /// The log these options ask for, opened; `None` without --audit-log.
    pub(crate) fn open(&self) -> Result<Option<AuditLog>, CliError> {
        let Some(path) = &self.audit_log else {
            return Ok(None);
        };
        let file = open_append(path).map_err(|error| CliError::Open {
            path: path.display().to_string(),
            error,
        })?;
        let meta = file.metadata().map_err(|error| CliError::Open {
            path: path.display().to_string(),
            error,
        })?;
        Ok(Some(AuditLog {
            path: path.clone(),
            // Only a regular file is renamed: /dev/stdout or a pipe is
            // written to as it is.
            rotate: meta.is_file(),
            state: Mutex::new(State {
                file,
                size: meta.len(),
            }),
            include_input: self.audit_include_input,
            sync: self.audit_sync,
            max_bytes: self.audit_max_bytes.max(1),
            keep: self.audit_keep,
        }))
    }
}

/// An open audit log, shared by the threads that decide.
#[derive(Debug)]
pub(crate) struct AuditLog {
    path: PathBuf,
    rotate: bool,
    state: Mutex<State>,
    include_input: bool,
    sync: bool,
    max_bytes: u64,
    keep: usize,
}

#[derive(Debug)]
struct State {
    file: File,
    size: u64,
}

/// What a decision was made on.
pub(crate) struct Given<'a> {
    /// The input as given (a request body, a record's text).
    pub text: &'a str,
    /// Who asked: a token's name, `cli:<user>`.
    pub caller: &'a str,
}

impl AuditLog {
    /// Writes the record of `result` and gives its decision id.
    pub(crate) fn record(&self, result: &EvalResult, given: &Given<'_>) -> io::Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        let mut line =
            serde_json::to_vec(&self.entry(&id, result, given)).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.rotate && state.size > 0 && state.size + line.len() as u64 > self.max_bytes {
            self.rotate_files(&mut state)?;
        }
        state.file.write_all(&line)?;
        if self.sync {
            state.file.sync_data()?;
        }
        state.size += line.len() as u64;
        Ok(id)
    }

    fn entry(&self, id: &str, result: &EvalResult, given: &Given<'_>) -> Value {
        let assessment = result.assessment.as_ref();
        let mut entry = json!({
            "decision_id": id,
            "time": jiff::Timestamp::now().round(jiff::Unit::Millisecond).unwrap_or_else(|_| jiff::Timestamp::now()).to_string(),
            "caller": given.caller,
            "pack": result.pack,
            "engine": result.engine,
            // The binary's commit: the results name the engine's version
            // only, so that they stay the same across builds.
            "engine_commit": env!("TDM_COMMIT"),
            "input_sha256": sha256(given.text.as_bytes()),
            "drug": result.drug,
            "status": result.status,
            "error_code": result.error_code,
            "advice": assessment.map(|a| a.advice),
            "next_dose_mg": assessment.and_then(|a| a.next_dose_mg),
            "next_interval_h": assessment.and_then(|a| a.next_interval_h),
        });
        if self.include_input {
            entry["input"] = serde_json::from_str(given.text)
                .unwrap_or_else(|_| Value::String(given.text.to_owned()));
            entry["result"] = serde_json::to_value(result).unwrap_or(Value::Null);
        }
        entry
    }

    /// FILE -> FILE.1 -> ... -> FILE.keep (dropped), then a new FILE.
    fn rotate_files(&self, state: &mut State) -> io::Result<()> {
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.keep == 0 {
            fs::remove_file(&self.path)?;
        } else {
            let _ = fs::remove_file(numbered(self.keep));
            for n in (1..self.keep).rev() {
                if numbered(n).exists() {
                    fs::rename(numbered(n), numbered(n + 1))?;
                }
            }
            fs::rename(&self.path, numbered(1))?;
        }
        state.file = open_append(&self.path)?;
        state.size = 0;
        Ok(())
    }

    /// Flushes what was written to the disk (at the end, at shutdown); a
    /// device or a pipe has nothing to flush.
    pub(crate) fn flush(&self) -> io::Result<()> {
        if !self.rotate {
            return Ok(());
        }
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.file.sync_data()
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Decisions about patients: readable by the service's user only.
        options.mode(0o600);
    }
    options.open(path)
}

/// `sha256:<hex>` of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("sha256:");
    for b in Sha256::digest(bytes) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The result that replaces a decision whose record could not be written.
pub(crate) fn not_recorded(result: &EvalResult, error: &io::Error) -> EvalResult {
    let mut refused = EvalResult::error(
        &result.pack,
        result.id.clone(),
        result.drug.clone(),
        tdm_core::result::ErrorCode::Audit,
        format!(
            "not given: the decision could not be written to the audit log ({error}); a decision without its record is not given"
        ),
    );
    refused.line = result.line;
    refused
}

/// Records `result` when there is a log: the result with its decision
/// id, or the error result that replaces it.
pub(crate) fn recorded(
    log: Option<&AuditLog>,
    result: EvalResult,
    given: &Given<'_>,
) -> EvalResult {
    let Some(log) = log else { return result };
    match log.record(&result, given) {
        Ok(id) => EvalResult {
            decision_id: Some(id),
            ..result
        },
        Err(e) => not_recorded(&result, &e),
    }
}
