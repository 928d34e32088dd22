//! A batch on several threads, in input order and in bounded memory.
//!
//! This thread splits the input into records (sequential by nature: a CSV
//! field may hold a newline). Chunks of records go to `jobs` workers, which
//! check, evaluate and write each chunk's results as text; between checking
//! and evaluating, each chunk in its turn takes its patients' earlier
//! samples (`Histories`), so results do not depend on `jobs`. A writer thread
//! puts the chunks out in input order. At most `WINDOW_PER_JOB * jobs`
//! chunks are in flight, so memory does not grow with the input.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use tdm_core::eval::{Earlier, Histories};
use tdm_core::{
    EvalResult, InputFormat, Pack, Record, input::InputError, input::RawRecord, result::Status,
};

use crate::audit::{self, AuditLog, Given};
use crate::output::OutputFormat;
use crate::output::{continuation, writer_for};

/// Input formats of `tdm eval`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InputFormatArg {
    /// A JSON array of samples, or one sample object.
    Json,
    /// One JSON sample per line.
    Ndjson,
    /// CSV with contract field names as headers.
    Csv,
    /// A FHIR R4 Bundle or resource (JSON): one sample per drug-level Observation.
    Fhir,
    /// HL7 v2.5.1 ORU^R01 messages: one sample per drug-level OBX segment.
    Hl7,
}

/// Records per chunk: large enough that handing chunks between threads
/// costs nothing measurable, small enough that a chunk's text (about
/// 1.5 kB per result as NDJSON) stays under a megabyte.
const CHUNK: usize = 512;
/// Chunks in flight per worker.
const WINDOW_PER_JOB: u64 = 4;

/// Results written, by status.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub ok: u64,
    pub errors: u64,
}

impl Tally {
    pub(crate) fn count(&mut self, result: &EvalResult) {
        if result.status == Status::Ok {
            self.ok += 1;
        } else {
            self.errors += 1;
        }
    }

    fn add(&mut self, other: Tally) {
        self.ok += other.ok;
        self.errors += other.errors;
    }

    pub(crate) fn summary(&self) -> String {
        let total = self.ok + self.errors;
        format!(
            "{total} record{}: {} ok, {} error{}",
            if total == 1 { "" } else { "s" },
            self.ok,
            self.errors,
            if self.errors == 1 { "" } else { "s" }
        )
    }
}

/// Why a batch stopped early.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The input broke; what came before it was evaluated and written.
    Input(InputError),
    /// The output could not be written.
    Output(io::Error),
}

/// How a batch runs: threads, progress, the audit log.
pub(crate) struct Run<'a> {
    /// Threads that evaluate.
    pub jobs: usize,
    /// A progress line on standard error.
    pub progress: bool,
    /// Where each decision is recorded before it is written.
    pub audit: Option<&'a AuditLog>,
}

/// Evaluates every record of `input` and writes the results to `out` in
/// `output` format, in input order. Answers the tally of what was written.
pub(crate) fn run(
    pack: &Pack,
    input: impl BufRead,
    format: InputFormat,
    output: OutputFormat,
    out: &mut (dyn Write + Send),
    how: &Run<'_>,
) -> (Tally, Result<(), Failure>) {
    let (jobs, progress, audit) = (how.jobs.max(1), how.progress, how.audit);
    let window = Window::new(WINDOW_PER_JOB * jobs as u64);
    // The window bounds both queues: no send ever blocks.
    let (work_tx, work_rx) = channel::<Chunk>();
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = channel::<Done>();
    let turns = Turns::new();

    thread::scope(|s| {
        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let (work_rx, turns) = (&work_rx, &turns);
            s.spawn(move || work(pack, output, work_rx, turns, done_tx, audit));
        }
        drop(done_tx);
        let writer = s.spawn(|| write_in_order(output, out, done_rx, &window, progress));

        let mut sent = 0u64;
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut before = 0u64;
        let mut send = |records: Vec<RawRecord>| -> io::Result<()> {
            window.wait_for_room(sent)?;
            let len = records.len() as u64;
            let chunk = Chunk {
                seq: sent,
                before,
                records,
            };
            work_tx
                .send(chunk)
                .map_err(|_| io::Error::other("the evaluation threads stopped"))?;
            sent += 1;
            before += len;
            Ok(())
        };
        let read = tdm_core::input::read_raw_records(input, format, pack, |record| {
            chunk.push(record);
            if chunk.len() == CHUNK {
                send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))?;
            }
            Ok(())
        });
        // What was read before the end (or before a break in the input) is
        // still evaluated and written.
        let rest = match (&read, chunk.is_empty()) {
            (Err(InputError::Stopped(_)), _) | (_, true) => Ok(()),
            _ => send(chunk),
        };
        window.close_input(sent);
        drop(work_tx);
        let (tally, written) = writer
            .join()
            .unwrap_or_else(|_| (Tally::default(), Err(io::Error::other("the writer failed"))));
        let outcome = match (read, rest, written) {
            (_, _, Err(e)) | (Err(InputError::Stopped(e)), _, _) | (_, Err(e), _) => {
                Err(Failure::Output(e))
            }
            (Err(other), Ok(()), Ok(())) => Err(Failure::Input(other)),
            (Ok(()), Ok(()), Ok(())) => Ok(()),
        };
        (tally, outcome)
    })
}

/// Records `before` results into the input, numbered `seq` among chunks.
struct Chunk {
    seq: u64,
    before: u64,
    records: Vec<RawRecord>,
}

/// A chunk's results as text.
struct Done {
    seq: u64,
    text: io::Result<Vec<u8>>,
    tally: Tally,
}

fn work(
    pack: &Pack,
    output: OutputFormat,
    queue: &Mutex<Receiver<Chunk>>,
    turns: &Turns,
    done: Sender<Done>,
    audit: Option<&AuditLog>,
) {
    let caller = cli_caller();
    loop {
        // The lock is held only to take the next chunk.
        let next = match queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(chunk) = next else { return };
        // Checking runs on every worker; the patients' histories are then
        // taken chunk after chunk, in input order, so that each sample's
        // fit sees exactly the samples listed before it, whatever `jobs`.
        // The records as given, for the audit log only.
        let given: Vec<String> = match audit {
            Some(_) => chunk.records.iter().map(RawRecord::as_given).collect(),
            None => Vec::new(),
        };
        let checked: Vec<(u64, Option<Record>)> = chunk
            .records
            .into_iter()
            .map(|raw| {
                (
                    raw.line,
                    catch_unwind(AssertUnwindSafe(|| raw.check())).ok(),
                )
            })
            .collect();
        let earlier = turns.take(chunk.seq, |histories| {
            checked
                .iter()
                .map(|(_, record)| match record.as_ref().map(|r| &r.sample) {
                    Some(Ok(sample)) => histories.take(pack, sample),
                    _ => Earlier::default(),
                })
                .collect::<Vec<_>>()
        });
        let mut text = Vec::with_capacity(checked.len() * 1536);
        let mut tally = Tally::default();
        let written = {
            let mut writer = continuation(output, &mut text, chunk.before);
            checked
                .into_iter()
                .zip(
                    earlier
                        .unwrap_or_default()
                        .into_iter()
                        .chain(std::iter::repeat_with(Earlier::default)),
                )
                .enumerate()
                .try_for_each(|(i, ((line, record), earlier))| {
                    let result = evaluate(pack, line, record, &earlier);
                    let text = given.get(i).map_or("", String::as_str);
                    let result = audit::recorded(
                        audit,
                        result,
                        &Given {
                            text,
                            caller: &caller,
                        },
                    );
                    tally.count(&result);
                    writer.write(&result)
                })
                .and_then(|()| writer.flush())
        };
        let part = Done {
            seq: chunk.seq,
            text: written.map(|()| text),
            tally,
        };
        if done.send(part).is_err() {
            return;
        }
    }
}

/// The patients' histories, taken by one chunk at a time in input order.
struct Turns {
    state: Mutex<(u64, Histories)>,
    turn: Condvar,
}

impl Turns {
    fn new() -> Self {
        Turns {
            state: Mutex::new((0, Histories::default())),
            turn: Condvar::new(),
        }
    }

    /// Runs `f` on the histories once every chunk before `seq` has; the
    /// turn passes on even if `f` panics (None), so no worker waits forever.
    fn take<R>(&self, seq: u64, f: impl FnOnce(&mut Histories) -> R) -> Option<R> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.0 != seq {
            state = self.turn.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let out = catch_unwind(AssertUnwindSafe(|| f(&mut state.1))).ok();
        state.0 += 1;
        self.turn.notify_all();
        out
    }
}

/// One record's result. The core does not panic (its lints forbid the
/// means, and fuzzing checks it); were it to, the record still gets a
/// result, in its place, rather than the batch losing it.
fn evaluate(pack: &Pack, line: u64, record: Option<Record>, earlier: &Earlier) -> EvalResult {
    record
        .and_then(|record| {
            catch_unwind(AssertUnwindSafe(|| {
                tdm_core::eval::evaluate_record_with(pack, record, earlier)
            }))
            .ok()
        })
        .unwrap_or_else(|| {
            let mut result = EvalResult::error(
                pack.id(),
                None,
                None,
                tdm_core::result::ErrorCode::Internal,
                "internal error while evaluating this record: please report it with the record",
            );
            result.line = (line > 0).then_some(line);
            result
        })
}

/// Writes the header, each chunk in input order, and the footer.
fn write_in_order(
    output: OutputFormat,
    out: &mut (dyn Write + Send),
    done: Receiver<Done>,
    window: &Window,
    progress: bool,
) -> (Tally, io::Result<()>) {
    let mut progress = Progress::new(progress);
    let mut tally = Tally::default();
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Done> = BTreeMap::new();
    let mut written = (|| -> io::Result<()> {
        let mut header = writer_for(output, &mut *out);
        header.begin()?;
        header.flush()?;
        drop(header);
        for part in &done {
            waiting.insert(part.seq, part);
            while let Some(part) = waiting.remove(&next) {
                out.write_all(&part.text?)?;
                tally.add(part.tally);
                next += 1;
                window.written(next);
                progress.update(&tally);
            }
        }
        Ok(())
    })();
    progress.clear();
    if written.is_ok() && (next != window.sent() || !waiting.is_empty()) {
        // Evaluation does not panic; were a worker to die, no record may go
        // missing silently.
        written = Err(io::Error::other(
            "an evaluation thread failed: the output is incomplete",
        ));
    }
    if written.is_err() {
        window.fail();
        return (tally, written);
    }
    let mut footer = continuation(output, &mut *out, tally.ok + tally.errors);
    (tally, footer.finish(&tally.summary()))
}

/// A line on standard error, renewed every second, while a long batch runs
/// and somebody watches (a terminal, without `-q`); erased at the end.
struct Progress {
    enabled: bool,
    shown: bool,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        let now = Instant::now();
        Progress {
            enabled,
            shown: false,
            start: now,
            last: now,
        }
    }

    fn update(&mut self, tally: &Tally) {
        let now = Instant::now();
        if !self.enabled || now.duration_since(self.last) < Duration::from_secs(1) {
            return;
        }
        self.last = now;
        self.shown = true;
        let done = tally.ok + tally.errors;
        let rate = done as f64 / now.duration_since(self.start).as_secs_f64();
        eprint!(
            "\r{done} records evaluated, {} errors ({rate:.0} records/s)...",
            tally.errors
        );
    }

    fn clear(&mut self) {
        if self.shown {
            // Back to the start of the line, and erase it.
            eprint!("\r\x1b[2K");
        }
    }
}

/// How far the writer has come, so that the reader stays at most `size`
/// chunks ahead of it.
struct Window {
    size: u64,
    state: Mutex<WindowState>,
    moved: Condvar,
}

#[derive(Default)]
struct WindowState {
    written: u64,
    sent: Option<u64>,
    failed: bool,
}

impl Window {
    fn new(size: u64) -> Self {
        Window {
            size,
            state: Mutex::new(WindowState::default()),
            moved: Condvar::new(),
        }
    }

    fn wait_for_room(&self, seq: u64) -> io::Result<()> {
        let stopped = || io::Error::other("the output stopped");
        let mut state = self.state.lock().map_err(|_| stopped())?;
        while !state.failed && seq >= state.written + self.size {
            state = self.moved.wait(state).map_err(|_| stopped())?;
        }
        if state.failed { Err(stopped()) } else { Ok(()) }
    }

    fn written(&self, count: u64) {
        if let Ok(mut state) = self.state.lock() {
            state.written = count;
        }
        self.moved.notify_all();
    }

    fn fail(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.failed = true;
        }
        self.moved.notify_all();
    }

    fn close_input(&self, sent: u64) {
        if let Ok(mut state) = self.state.lock() {
            state.sent = Some(sent);
        }
    }

    /// Chunks the reader sent; called once every worker has finished.
    fn sent(&self) -> u64 {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.sent)
            .unwrap_or(u64::MAX)
    }
}

/// Who runs `tdm eval`, as the audit log names the caller.
pub(crate) fn cli_caller() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}
