//! `POST /v1/evaluate`: one sample object gives one result; an array gives
//! an array of results, one per element in order, streamed as they are
//! made, so that a large batch never sits in memory as a whole answer. A
//! FHIR Bundle or resource (declared `application/fhir+json`, or a JSON
//! object with a `resourceType`) gives an array of results, one per
//! drug-level Observation, as `tdm eval --input-format fhir` does.
//!
//! The array is first split without being evaluated: too many samples is
//! 413 and a break in the array's structure 400, before anything is sent.
//! Each element is then parsed on its own (a broken one is an error result)
//! and evaluated against one pack. Samples whose turn comes after the time
//! limit are answered with `error_code: time_limit`, not evaluated; a client
//! that goes away stops the work.

use std::io::{self, Cursor};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use serde_json::Value;
use tdm_core::eval::{Histories, evaluate_value};
use tdm_core::input::{InputError, InputFormat, RawRecord, read_raw_records};
use tdm_core::result::{ErrorCode, EvalResult};
use tdm_core::{Pack, Record};
use tokio::sync::mpsc;

use super::serve::{AppState, error};
use super::serve_checks::{FHIR_JSON, media_type};
use super::serve_guard::{Caller, DECISION_ID};
use crate::audit::{self, AuditLog, Given};

/// Results are sent in chunks of about this many bytes.
const CHUNK: usize = 64 * 1024;
/// Chunks made ahead of a slow reader: the answer held in memory is at
/// most about this many chunks.
const CHUNKS_AHEAD: usize = 8;

pub(crate) async fn evaluate(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let caller = caller(&request);
    let declared_fhir =
        media_type(request.headers()).is_some_and(|t| t.eq_ignore_ascii_case(FHIR_JSON));
    let body = match read_body(&state, request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    // A pack whose approval no longer holds (a key revoked since) answers
    // nothing until a newly signed pack replaces it.
    let pack = match state.live.usable_pack() {
        Ok(pack) => pack,
        Err(why) => return error(StatusCode::SERVICE_UNAVAILABLE, why),
    };
    let fhir = declared_fhir
        || InputFormat::sniff_json(&body[..body.len().min(SNIFF)]) == InputFormat::Fhir;
    if fhir {
        array(state, pack, body, caller, InputFormat::Fhir).await
    } else if is_array(&body) {
        array(state, pack, body, caller, InputFormat::Json).await
    } else {
        single(state, pack, body, caller).await
    }
}

/// How far into a body its `resourceType` is looked for.
const SNIFF: usize = 4096;

/// Who asked, as the guard established.
pub(crate) fn caller(request: &Request) -> String {
    request
        .extensions()
        .get::<Caller>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.clone())
}

/// The request's body. It must arrive within the request's time limit: a
/// client that sends half a body and stops holds nothing for longer.
pub(crate) async fn read_body(state: &AppState, request: Request) -> Result<Bytes, Response> {
    let read = axum::body::to_bytes(request.into_body(), state.max_body);
    match tokio::time::timeout(state.timeout, read).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body could not be read within --max-body: {e}"),
        )),
        Err(_) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            "the body did not arrive within the time limit",
        )),
    }
}

/// The first character other than blanks (and a byte-order mark) is `[`.
fn is_array(body: &[u8]) -> bool {
    let body = body.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(body);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

async fn single(state: Arc<AppState>, pack: Arc<Pack>, body: Bytes, caller: String) -> Response {
    let value: Value = match tdm_core::input::parse_json(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            );
        }
    };
    let log_ids = state.log_ids;
    let audit = state.audit.clone();
    let work = move || -> Result<(Vec<u8>, Option<String>), (StatusCode, String)> {
        let mut result = evaluate_value(&pack, &value);
        if log_ids {
            log(&[result.id.as_deref().unwrap_or("")]);
        }
        if let Some(audit) = &audit {
            let text = String::from_utf8_lossy(&body);
            let given = Given {
                text: &text,
                caller: &caller,
            };
            // Written before the answer: a decision that cannot be
            // recorded is not given.
            let id = audit.record(&result, &given).map_err(|e| {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the decision could not be written to the audit log ({e}); it is not given"
                    ),
                )
            })?;
            result.decision_id = Some(id);
        }
        let bytes = serde_json::to_vec(&result).map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot write the result: {e}"),
            )
        })?;
        Ok((bytes, result.decision_id))
    };
    match in_time(&state, work).await {
        Ok((body, decision_id)) => {
            let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
            if let Some(value) = decision_id.and_then(|id| header::HeaderValue::from_str(&id).ok())
            {
                response.headers_mut().insert(DECISION_ID, value);
            }
            response
        }
        Err(refused) => refused,
    }
}

/// Runs `work` off the async threads within the request's time limit: its
/// answer, or the error response of its refusal, its failure or the limit.
pub(crate) async fn in_time<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> Result<T, (StatusCode, String)> + Send + 'static,
) -> Result<T, Response> {
    match tokio::time::timeout(state.timeout, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(Ok(answer))) => Ok(answer),
        Ok(Ok(Err((status, why)))) => Err(error(status, why)),
        Ok(Err(e)) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("evaluation failed: {e}"),
        )),
        Err(_) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the evaluation took longer than the time limit",
        )),
    }
}

async fn array(
    state: Arc<AppState>,
    pack: Arc<Pack>,
    body: Bytes,
    caller: String,
    format: InputFormat,
) -> Response {
    let max = state.max_samples;
    let counted = {
        let body = body.clone();
        let pack = pack.clone();
        tokio::task::spawn_blocking(move || split(&body, max, &pack, format)).await
    };
    let records = match counted {
        Ok(Ok(records)) => records,
        Ok(Err(InputError::Stopped(_))) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "at most {max} samples per request (--max-samples); send the rest in further requests"
                ),
            );
        }
        Ok(Err(e)) => {
            let what = match format {
                InputFormat::Fhir => "a FHIR R4 Bundle or resource",
                _ => "a JSON array of samples",
            };
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not {what}: {e}"),
            );
        }
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the body could not be read: {e}"),
            );
        }
    };
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    let batch = Batch {
        // One pack for the whole request, even if a reload happens meanwhile.
        pack,
        deadline: Instant::now() + state.timeout,
        log_ids: state.log_ids,
        histories: Histories::default(),
        audit: state.audit.clone(),
        caller,
        format,
        records,
    };
    tokio::task::spawn_blocking(move || batch.run(&body, &tx));
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::new(Chunks(rx)),
    )
        .into_response()
}

/// Splits the body without evaluating it, or says why not (a break in its
/// structure; `Stopped` past `max` samples). A JSON array's elements are
/// split again as they are evaluated (cheap, and nothing is held twice); a
/// FHIR document's samples are kept, since reading one maps the whole
/// Bundle.
fn split(
    body: &[u8],
    max: usize,
    pack: &Pack,
    format: InputFormat,
) -> Result<Option<Vec<RawRecord>>, InputError> {
    let keep = format == InputFormat::Fhir;
    let (mut n, mut kept) = (0, Vec::new());
    read_raw_records(Cursor::new(body), format, pack, |raw| {
        n += 1;
        if n > max {
            return Err(io::Error::other("too many samples"));
        }
        if keep {
            kept.push(raw);
        }
        Ok(())
    })?;
    Ok(keep.then_some(kept))
}

struct Batch {
    pack: Arc<Pack>,
    deadline: Instant,
    log_ids: bool,
    /// The array is one batch: a patient's samples are fitted together.
    histories: Histories,
    audit: Option<Arc<AuditLog>>,
    caller: String,
    /// A JSON array of samples, or a FHIR document.
    format: InputFormat,
    /// The samples already read (a FHIR document's); else the body is split.
    records: Option<Vec<RawRecord>>,
}

impl Batch {
    /// Evaluates each element in order and sends the results as chunks of
    /// one JSON array.
    fn run(mut self, body: &[u8], tx: &mpsc::Sender<Bytes>) {
        let mut out = Vec::with_capacity(CHUNK + 4096);
        out.push(b'[');
        let mut ids = Vec::new();
        let mut first = true;
        let pack = self.pack.clone();
        let (format, records) = (self.format, self.records.take());
        let mut each = |raw: RawRecord| -> io::Result<()> {
            let given = self.audit.as_ref().map(|_| raw.as_given());
            let mut record = raw.check();
            // Lines of the request body are not part of the service's answer.
            record.line = 0;
            let result = self.result(record);
            // Each decision is recorded before it is sent; one that cannot
            // be is replaced by an error result in its place.
            let text = given.as_deref().unwrap_or("");
            let result = audit::recorded(
                self.audit.as_deref(),
                result,
                &Given {
                    text,
                    caller: &self.caller,
                },
            );
            if self.log_ids {
                ids.push(result.id.clone().unwrap_or_default());
            }
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &result).map_err(io::Error::other)?;
            if out.len() >= CHUNK {
                Self::send(tx, std::mem::take(&mut out))?;
            }
            Ok(())
        };
        let whole = match records {
            Some(records) => records.into_iter().try_for_each(&mut each).is_ok(),
            None => read_raw_records(Cursor::new(body), format, &pack, &mut each).is_ok(),
        };
        if whole {
            out.push(b']');
            let _ = Self::send(tx, out);
        }
        if self.log_ids {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            log(&ids);
        }
    }

    fn result(&mut self, record: Record) -> EvalResult {
        if Instant::now() < self.deadline {
            return self.histories.evaluate_record(&self.pack, record);
        }
        let (id, drug) = match record.sample {
            Ok(s) => (s.id, Some(s.drug)),
            Err(e) => (e.id, e.drug),
        };
        EvalResult::error(
            self.pack.id(),
            id,
            drug,
            ErrorCode::TimeLimit,
            "not evaluated: the request's time limit (--timeout) passed before this sample's turn; send it again",
        )
    }

    /// Waits for room in the channel; fails once the client has gone.
    fn send(tx: &mpsc::Sender<Bytes>, chunk: Vec<u8>) -> io::Result<()> {
        tx.blocking_send(Bytes::from(chunk))
            .map_err(|_| io::Error::other("the client has gone"))
    }
}

fn log(ids: &[&str]) {
    eprintln!("evaluated ids: {}", crate::output::shown(&ids.join(", ")));
}

/// The answer's body: chunks as the batch makes them.
struct Chunks(mpsc::Receiver<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}
