//! A `tdm serve` started for a test, and the requests sent to it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// A running `tdm serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(pack: &Path, extra: &[&str]) -> Server {
    start_in(pack, extra, &std::env::temp_dir())
}

/// A server whose temporary files go to `tmp`.
pub fn start_in(pack: &Path, extra: &[&str], tmp: &Path) -> Server {
    start_with(pack, extra, tmp, Stdio::null())
}

/// A server whose log (standard error) goes to the file `log`.
pub fn start_logged(pack: &Path, extra: &[&str], log: &Path) -> Server {
    let file = std::fs::File::create(log).unwrap();
    start_with(pack, extra, &std::env::temp_dir(), Stdio::from(file))
}

fn start_with(pack: &Path, extra: &[&str], tmp: &Path, stderr: Stdio) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdm"));
    command
        .args(["serve", "--pack"])
        .arg(pack)
        .args(["--addr", "127.0.0.1:0"])
        .args(extra)
        .env("TMPDIR", tmp)
        .stderr(stderr);
    spawn(command)
}

/// Runs `command` (a `tdm serve`) and waits until it says where it listens.
pub fn spawn(mut command: Command) -> Server {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    Server { child, base }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

pub fn post(base: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
    let mut req = agent().post(format!("{base}/v1/evaluate"));
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.send_json(body).unwrap();
    let status = resp.status().as_u16();
    // Large arrays are answered: past ureq's default limit of 10 MB.
    let answer = resp.body_mut().with_config().limit(1 << 30).read_json();
    (status, answer.unwrap_or(Value::Null))
}

pub fn get(base: &str, path: &str) -> (u16, Value) {
    let mut resp = agent().get(format!("{base}{path}")).call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_json().unwrap_or(Value::Null),
    )
}

pub fn sample() -> Value {
    json!({"id": "S1", "drug": "imatinib", "indication": "CML", "value": 850, "unit": "ng/mL", "dose_mg": 400, "hours_since_dose": 24})
}

/// A raw HTTP/1.1 exchange, for requests a client library would not send.
pub fn raw(base: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(request.replace("{addr}", addr).as_bytes())
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}
