//! `POST /v1/evaluate`: one sample object gives one result; an array gives
//! an array of results, one per element in order, streamed as they are
//! made, so that a large batch never sits in memory as a whole answer.
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
use tdm_core::input::{InputError, InputFormat, read_raw_records};
use tdm_core::result::{ErrorCode, EvalResult};
use tdm_core::{Pack, Record};
use tokio::sync::mpsc;

use super::serve::{AppState, error};

/// Results are sent in chunks of about this many bytes.
const CHUNK: usize = 64 * 1024;
/// Chunks made ahead of a slow reader: the answer held in memory is at
/// most about this many chunks.
const CHUNKS_AHEAD: usize = 8;

pub(crate) async fn evaluate(State(state): State<Arc<AppState>>, request: Request) -> Response {
    // The body must arrive within the request's time limit: a client that
    // sends half a body and stops holds nothing for longer.
    let read = axum::body::to_bytes(request.into_body(), state.max_body);
    let body: Bytes = match tokio::time::timeout(state.timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body could not be read within --max-body: {e}"),
            );
        }
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive within the time limit",
            );
        }
    };
    if is_array(&body) {
        array(state, body).await
    } else {
        single(state, &body).await
    }
}

/// The first character other than blanks (and a byte-order mark) is `[`.
fn is_array(body: &[u8]) -> bool {
    let body = body.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(body);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

async fn single(state: Arc<AppState>, body: &[u8]) -> Response {
    let value: Value = match tdm_core::input::parse_json(body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            );
        }
    };
    let pack = state.live.pack();
    let log_ids = state.log_ids;
    let work = move || {
        let result = evaluate_value(&pack, &value);
        if log_ids {
            log(&[result.id.as_deref().unwrap_or("")]);
        }
        serde_json::to_vec(&result)
    };
    match tokio::time::timeout(state.timeout, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(Ok(body))) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Ok(Err(e))) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the result: {e}"),
        ),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("evaluation failed: {e}"),
        ),
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the evaluation took longer than the time limit",
        ),
    }
}

async fn array(state: Arc<AppState>, body: Bytes) -> Response {
    let max = state.max_samples;
    let counted = {
        let body = body.clone();
        tokio::task::spawn_blocking(move || count(&body, max)).await
    };
    match counted {
        Ok(Ok(_)) => {}
        Ok(Err(InputError::Stopped(_))) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "at most {max} samples per request (--max-samples); send the rest in further requests"
                ),
            );
        }
        Ok(Err(e)) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not a JSON array of samples: {e}"),
            );
        }
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the body could not be read: {e}"),
            );
        }
    }
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    let batch = Batch {
        // One pack for the whole request, even if a reload happens meanwhile.
        pack: state.live.pack(),
        deadline: Instant::now() + state.timeout,
        log_ids: state.log_ids,
        histories: Histories::default(),
    };
    tokio::task::spawn_blocking(move || batch.run(&body, &tx));
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::new(Chunks(rx)),
    )
        .into_response()
}

/// Splits the array without evaluating it: its elements, or why not (a
/// break in its structure; `Stopped` past `max` elements).
fn count(body: &[u8], max: usize) -> Result<usize, InputError> {
    let mut n = 0;
    read_raw_records(Cursor::new(body), InputFormat::Json, |_| {
        n += 1;
        if n > max {
            return Err(io::Error::other("too many samples"));
        }
        Ok(())
    })?;
    Ok(n)
}

struct Batch {
    pack: Arc<Pack>,
    deadline: Instant,
    log_ids: bool,
    /// The array is one batch: a patient's samples are fitted together.
    histories: Histories,
}

impl Batch {
    /// Evaluates each element in order and sends the results as chunks of
    /// one JSON array.
    fn run(mut self, body: &[u8], tx: &mpsc::Sender<Bytes>) {
        let mut out = Vec::with_capacity(CHUNK + 4096);
        out.push(b'[');
        let mut ids = Vec::new();
        let mut first = true;
        let outcome = read_raw_records(Cursor::new(body), InputFormat::Json, |raw| {
            let mut record = raw.check();
            // Lines of the request body are not part of the service's answer.
            record.line = 0;
            let result = self.result(record);
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
        });
        if outcome.is_ok() {
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
