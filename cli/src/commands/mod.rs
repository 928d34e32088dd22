//! One module per command: its arguments and what it does.

pub(crate) mod convert;
pub(crate) mod diff;
pub(crate) mod eval;
pub(crate) mod gen_samples;
pub(crate) mod init;
pub(crate) mod models;
pub(crate) mod report;
pub(crate) mod schema;
pub(crate) mod serve;
mod serve_cds;
mod serve_cds_cards;
mod serve_checks;
mod serve_eval;
mod serve_guard;
mod serve_http;
mod serve_log;
mod serve_openapi;
pub(crate) mod shell;
pub(crate) mod show;
pub(crate) mod sign;
pub(crate) mod stats;
pub(crate) mod test;
pub(crate) mod validate;
pub(crate) mod watch;
mod web;
