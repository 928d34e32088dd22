//! `tdm serve`: evaluations over HTTP for laboratory systems, EHRs (CDS
//! Hooks) and browsers (the web pages), with the pack
//! reloaded when it changes (or on SIGHUP) and never served half-loaded.
//!
//! Safe defaults: loopback only unless a bearer token is configured, a body
//! limit, a time limit per request, and logs without sample values or
//! patient identifiers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use serde_json::json;
use tdm_core::{reload::LivePack, reload::ReloadOutcome, reload::WatchOptions};

use super::serve_checks::Token;
use super::serve_log::{self as log, LogFormat};
use crate::audit::AuditLog;
use crate::context::{self, CliError};
use crate::exit::Exit;

/// Arguments of `tdm serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The pack directory.
    #[arg(long, value_name = "DIR")]
    pub pack: PathBuf,
    /// Address to listen on. A non-loopback address needs --token-file.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub addr: String,
    /// File of the bearer tokens a request may carry, one a line (one per
    /// client system: the log and the audit log name which asked).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_body: usize,
    /// Seconds a request may take: its body must arrive in this time (else
    /// 408); one sample is answered 503 after it, and the samples of an
    /// array whose turn comes after it get `error_code: time_limit`.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Seconds a connection may wait for a request's headers, before its
    /// first request and between keep-alive requests; then it is closed.
    #[arg(long, default_value_t = 60)]
    pub idle_timeout: u64,
    /// Most samples in one request; a larger array is answered 413.
    #[arg(long, default_value_t = 10_000)]
    pub max_samples: usize,
    /// Poll every MS milliseconds instead of using file-system events.
    #[arg(long, value_name = "MS")]
    pub poll: Option<u64>,
    /// Log sample ids (never values or patients) with each request.
    #[arg(long)]
    pub log_ids: bool,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
    /// Another version of the pack the committee may compare with the one
    /// in use on the review page: a directory, or a directory at a git
    /// revision (`rules/ki-oncology@v1.4.0`). May be given several times.
    #[arg(long, value_name = "DIR")]
    pub compare: Vec<String>,
    /// The log on standard error: `text`, or `json` lines for a collector.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub trust: crate::trust::TrustArgs,
    #[command(flatten)]
    pub audit: crate::audit::AuditArgs,
}

pub(crate) struct AppState {
    pub(crate) live: Arc<LivePack>,
    /// No tokens: loopback only, every caller `loopback`.
    pub(crate) tokens: Vec<Token>,
    pub(crate) audit: Option<Arc<AuditLog>>,
    /// The OpenAPI document served at /openapi.json.
    openapi: axum::body::Bytes,
    pub(crate) timeout: Duration,
    pub(crate) log_ids: bool,
    pub(crate) max_samples: usize,
    pub(crate) max_body: usize,
    idle: Duration,
    /// The address the server listens on, once bound.
    pub(crate) local: std::sync::OnceLock<SocketAddr>,
    /// The other pack versions of the review page (`--compare`).
    pub(crate) compare: Vec<String>,
    pub(crate) allow_plugins: bool,
}

pub(crate) fn run(args: &ServeArgs) -> Result<Exit, CliError> {
    let addr: SocketAddr = args
        .addr
        .parse()
        .map_err(|e| CliError::Usage(format!("--addr `{}` is not an address: {e}", args.addr)))?;
    super::serve_log::set_format(args.log_format);
    let tokens = match &args.token_file {
        None => Vec::new(),
        Some(path) => read_tokens(path)?,
    };
    if !addr.ip().is_loopback() && tokens.is_empty() {
        return Err(CliError::Usage(format!(
            "refusing to listen on {addr} without a bearer token: give --token-file FILE, \
             or listen on a loopback address such as 127.0.0.1:7878"
        )));
    }
    let options = args
        .trust
        .load_options(context::plugins(args.allow_plugins))?;
    let live = LivePack::load(&args.pack, options)?;
    let watch_options = WatchOptions {
        debounce: Duration::from_millis(100),
        poll: args.poll.map(Duration::from_millis),
    };
    let _watcher =
        tdm_core::reload::watch(live.clone(), watch_options, log_reload).map_err(|message| {
            CliError::Open {
                path: args.pack.display().to_string(),
                error: std::io::Error::other(message),
            }
        })?;
    let audit = args.audit.open()?.map(Arc::new);
    let openapi = super::serve_openapi::document().map_err(|why| {
        CliError::Usage(format!("the built-in OpenAPI document is broken: {why}"))
    })?;
    let state = Arc::new(AppState {
        live,
        tokens,
        audit,
        openapi: axum::body::Bytes::from(openapi.to_string()),
        timeout: Duration::from_secs(args.timeout),
        log_ids: args.log_ids,
        max_samples: args.max_samples,
        max_body: args.max_body,
        idle: Duration::from_secs(args.idle_timeout),
        local: std::sync::OnceLock::new(),
        compare: args.compare.clone(),
        allow_plugins: args.allow_plugins,
    });
    let listen = |error| CliError::Listen {
        addr: args.addr.clone(),
        error,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(listen)?;
    runtime.block_on(serve(addr, state))?;
    Ok(Exit::Ok)
}

fn read_tokens(path: &Path) -> Result<Vec<Token>, CliError> {
    let tokens = |text: String| -> Vec<Token> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| Token::new(l.to_owned()))
            .collect()
    };
    match std::fs::read_to_string(path).map(tokens) {
        Ok(t) if !t.is_empty() => Ok(t),
        Ok(_) => Err(CliError::Usage(format!(
            "the token file `{}` holds no token",
            path.display()
        ))),
        Err(e) => Err(CliError::Usage(format!(
            "cannot read the token file `{}`: {e}",
            path.display()
        ))),
    }
}

fn log_reload(outcome: &ReloadOutcome) {
    match outcome {
        ReloadOutcome::Reloaded {
            old_digest,
            new_digest,
        } => log::event(
            "info",
            "reload",
            &format!("reload: {old_digest} -> {new_digest}"),
            json!({"old_digest": old_digest, "new_digest": new_digest}),
        ),
        ReloadOutcome::Unchanged => {
            log::event("info", "reload", "reload: no change in content", json!({}));
        }
        ReloadOutcome::Failed(message) => {
            let first = message.lines().next().unwrap_or("");
            log::event(
                "warn",
                "reload_refused",
                &format!("reload refused, the last good pack stays: {first}"),
                json!({"error": message}),
            );
        }
    }
}

async fn serve(addr: SocketAddr, state: Arc<AppState>) -> Result<(), CliError> {
    let listen = |error| CliError::Listen {
        addr: addr.to_string(),
        error,
    };
    let app = Router::new()
        .route("/v1/evaluate", post(super::serve_eval::evaluate))
        .route("/v1/pack", get(pack_info))
        .route("/cds-services", get(super::serve_cds::discovery))
        .route("/cds-services/{id}", post(super::serve_cds::call))
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route("/openapi.json", get(openapi))
        .merge(super::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.max_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::serve_guard::guard,
        ))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let local = listener.local_addr().map_err(listen)?;
    let _ = state.local.set(local);
    // SIGHUP forces a reload, as for other daemons. The handler is in place
    // before the server says it is listening: a SIGHUP sent right after
    // start must reload, not end the process.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    // SIGTERM shuts down like SIGINT, so that the pack, and a plugin's
    // staged copy, are dropped.
    let stop = super::serve_http::stop_signal();
    println!("listening on http://{local}");
    let id = state.live.pack().id().clone();
    log::event(
        "info",
        "start",
        &format!(
            "serving pack {} from {}",
            id.digest,
            state.live.dir().display()
        ),
        json!({"pack": id, "addr": local.to_string(), "engine": tdm_core::result::ENGINE}),
    );
    let live = state.live.clone();
    tokio::spawn(async move {
        if let Some(mut hup) = hangup {
            while hup.recv().await.is_some() {
                let live = live.clone();
                if let Ok(outcome) = tokio::task::spawn_blocking(move || live.reload()).await {
                    log_reload(&outcome);
                }
            }
        }
    });
    super::serve_http::serve(listener, app, state.idle, stop).await;
    // In-flight requests are done: what they recorded goes to the disk.
    if let Some(audit) = &state.audit
        && let Err(e) = audit.flush()
    {
        log::event(
            "error",
            "audit",
            &format!("the audit log could not be flushed: {e}"),
            json!({}),
        );
    }
    log::event("info", "stop", "stopped", json!({}));
    Ok(())
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn pack_info(State(state): State<Arc<AppState>>) -> Response {
    let pack = state.live.pack();
    let status = state.live.status();
    Json(json!({
        "name": pack.id().name,
        "version": pack.id().version,
        "digest": pack.id().digest,
        "loaded_at": status.loaded_at,
        "last_reload_error": status.last_reload_error,
        "pack_refused": status.pack_refused,
        "signatures": pack.signed_by().map(|s| &s.verdict),
    }))
    .into_response()
}

async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Ready to answer: a valid (and, with --require-signature, approved) pack
/// is active. It starts only with one and a reload that fails keeps the
/// last good one; only a pack whose approval stopped holding (a key revoked,
/// read again at a reload) makes the service unready: 503, with why.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let pack = state.live.pack();
    let signatures = match pack.signed_by() {
        None => "not required".to_owned(),
        Some(s) => format!(
            "{} valid of {} required",
            s.verdict.valid, s.verdict.required
        ),
    };
    match state.live.status().pack_refused {
        None => {
            Json(json!({ "status": "ready", "pack": pack.id().digest, "signatures": signatures }))
                .into_response()
        }
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unready", "pack": pack.id().digest, "error": why })),
        )
            .into_response(),
    }
}

const ROUTES: &str = "POST /v1/evaluate, GET /v1/pack, GET /cds-services, \
     POST /cds-services/{id}, GET /healthz, GET /readyz, GET /openapi.json";

async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        state.openapi.clone(),
    )
        .into_response()
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no such route: {} (the API has {ROUTES}); the web pages are at /ui",
            crate::output::shown(request.uri().path())
        ),
    )
}

async fn method_not_allowed(request: Request) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {} (the API has {ROUTES})",
            request.method(),
            crate::output::shown(request.uri().path())
        ),
    )
}
