//! Whose signatures count: an OpenSSH allowed-signers file (the one
//! `ssh-keygen -Y verify -f` reads) and, optionally, a list of revoked
//! public keys (as `ssh-keygen -Y verify -r` takes, one key a line).
//!
//! A line of the allowed-signers file is
//! `principals [options] keytype base64 [comment]`: principals are
//! comma-separated patterns (`*` and `?` as wildcards) matched against the
//! statement's `signer`; the options understood are `namespaces="…"` (must
//! admit `tdm-pack`), `valid-after="…"` and `valid-before="…"`
//! (`YYYYMMDD[HHMM[SS]][Z]`, read as UTC: the machine's time zone is not
//! consulted). `cert-authority` lines are refused: certificates are not
//! supported, and silently ignoring such a line would trust nobody the
//! operator meant to trust.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use ssh_key::PublicKey;
use ssh_key::public::KeyData;

/// Signers trusted to approve packs, keys revoked, and how many valid
/// signatures a pack needs.
#[derive(Debug, Clone)]
pub struct Trust {
    signers: Vec<AllowedSigner>,
    revoked: Vec<KeyData>,
    /// Valid signatures by distinct keys a pack needs (at least 1).
    pub min_signatures: usize,
    /// The files it was read from, to read again on a reload.
    files: Option<(PathBuf, Option<PathBuf>)>,
}

/// One line of the allowed-signers file.
#[derive(Debug, Clone)]
struct AllowedSigner {
    principals: Vec<String>,
    namespaces: Option<Vec<String>>,
    valid_after: Option<Timestamp>,
    valid_before: Option<Timestamp>,
    key: KeyData,
}

/// An allowed-signers or revoked-keys file that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
pub struct TrustError {
    /// The file.
    pub file: String,
    /// Its line, 1-based (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The namespace of pack signatures (`ssh-keygen -Y sign -n tdm-pack`): a
/// signature made for another purpose (git commits, files) never counts.
pub const NAMESPACE: &str = "tdm-pack";

/// The largest trust file read.
const MAX_TRUST_BYTES: u64 = 1024 * 1024;

impl Trust {
    /// Reads the allowed-signers file and, if given, the revoked keys.
    pub fn read(
        allowed_signers: &Path,
        revoked: Option<&Path>,
        min_signatures: usize,
    ) -> Result<Trust, TrustError> {
        let allowed = read_capped(allowed_signers)?;
        let revoked_text = revoked.map(read_capped).transpose()?;
        let revoked_name = revoked.map(|p| p.display().to_string());
        let revoked_file = revoked_text.as_deref().zip(revoked_name.as_deref());
        let allowed_name = allowed_signers.display().to_string();
        let mut trust = Trust::parse(&allowed, &allowed_name, revoked_file, min_signatures)?;
        trust.files = Some((
            allowed_signers.to_path_buf(),
            revoked.map(Path::to_path_buf),
        ));
        Ok(trust)
    }

    /// The same trust read again from its files (a key added or revoked
    /// since); a trust parsed from texts is returned as it is.
    pub fn reread(&self) -> Result<Trust, TrustError> {
        match &self.files {
            Some((allowed, revoked)) => {
                Trust::read(allowed, revoked.as_deref(), self.min_signatures)
            }
            None => Ok(self.clone()),
        }
    }

    /// Parses the texts of an allowed-signers file (named `file` in
    /// messages) and of a revoked-keys file with its name.
    pub fn parse(
        allowed: &str,
        file: &str,
        revoked: Option<(&str, &str)>,
        min_signatures: usize,
    ) -> Result<Trust, TrustError> {
        let error = |file: &str, line, message: String| TrustError {
            file: file.to_owned(),
            line,
            message,
        };
        if min_signatures == 0 {
            return Err(error(
                file,
                0,
                "at least one signature must be required".into(),
            ));
        }
        let mut signers = Vec::new();
        for (i, line) in content_lines(allowed) {
            signers.push(parse_signer(line).map_err(|m| error(file, i, m))?);
        }
        if signers.is_empty() {
            return Err(error(
                file,
                0,
                "no signer is listed: nobody could approve a pack".into(),
            ));
        }
        let mut keys = Vec::new();
        if let Some((text, name)) = revoked {
            for (i, line) in content_lines(text) {
                let key = PublicKey::from_openssh(line)
                    .map_err(|e| error(name, i, format!("not an OpenSSH public key: {e}")))?;
                keys.push(key.key_data().clone());
            }
        }
        Ok(Trust {
            signers,
            revoked: keys,
            min_signatures,
            files: None,
        })
    }

    /// Whether `key` is on the revoked list.
    pub(crate) fn is_revoked(&self, key: &KeyData) -> bool {
        self.revoked.contains(key)
    }

    /// Why `key` may not sign for `signer` now, or `None` when it may.
    pub(crate) fn refuses(&self, key: &KeyData, signer: &str, now: Timestamp) -> Option<String> {
        let mut for_others = false;
        for entry in self.signers.iter().filter(|s| &s.key == key) {
            if !entry.principals.iter().any(|p| matches(p, signer)) {
                for_others = true;
                continue;
            }
            if let Some(ns) = &entry.namespaces
                && !ns.iter().any(|n| matches(n, NAMESPACE))
            {
                return Some(format!(
                    "the key is trusted only for namespaces {}",
                    ns.join(",")
                ));
            }
            if entry.valid_after.is_some_and(|t| now < t) {
                return Some("the key is not valid yet (valid-after)".into());
            }
            if entry.valid_before.is_some_and(|t| now >= t) {
                return Some("the key has expired (valid-before)".into());
            }
            return None;
        }
        Some(if for_others {
            format!("the key is trusted, but not for `{signer}`")
        } else {
            "the key is not among the trusted keys".into()
        })
    }
}

fn read_capped(path: &Path) -> Result<String, TrustError> {
    use std::io::Read as _;
    let error = |message: String| TrustError {
        file: path.display().to_string(),
        line: 0,
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| error(format!("cannot be read: {e}")))?;
    let mut text = String::new();
    file.take(MAX_TRUST_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| error(format!("cannot be read: {e}")))?;
    if text.len() as u64 > MAX_TRUST_BYTES {
        return Err(error(format!("is larger than {MAX_TRUST_BYTES} bytes")));
    }
    Ok(text)
}

/// Lines that are neither blank nor comments, numbered from 1.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn parse_signer(line: &str) -> Result<AllowedSigner, String> {
    let fields = split_fields(line)?;
    let mut fields = fields.iter().map(String::as_str);
    let principals = fields.next().unwrap_or_default();
    let mut rest: Vec<&str> = fields.collect();
    let options = match rest.first() {
        Some(first) if !is_key_type(first) => Some(rest.remove(0)),
        _ => None,
    };
    let key_text = rest.join(" ");
    let key = PublicKey::from_openssh(&key_text).map_err(|e| {
        format!("not `principals [options] keytype base64`: the key does not read ({e})")
    })?;
    let mut signer = AllowedSigner {
        principals: principals.split(',').map(str::to_owned).collect(),
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key: key.key_data().clone(),
    };
    for option in options.map(split_options).unwrap_or_default() {
        let (name, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
        let value = value.trim_matches('"');
        match name.to_ascii_lowercase().as_str() {
            "namespaces" => signer.namespaces = Some(value.split(',').map(str::to_owned).collect()),
            "valid-after" => signer.valid_after = Some(ssh_time(value)?),
            "valid-before" => signer.valid_before = Some(ssh_time(value)?),
            "cert-authority" => {
                return Err(
                    "cert-authority keys are not supported: list each signer's own key".into(),
                );
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(signer)
}

fn is_key_type(field: &str) -> bool {
    field.starts_with("ssh-") || field.starts_with("ecdsa-") || field.starts_with("sk-")
}

/// Splits on blanks outside double quotes.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let (fields, quoted) = split_outside_quotes(line, char::is_whitespace);
    if quoted {
        return Err("a quote is not closed".into());
    }
    Ok(fields)
}

/// Splits `a="x,y",b` on commas outside quotes.
fn split_options(options: &str) -> Vec<String> {
    split_outside_quotes(options, |c| c == ',').0
}

/// The non-empty pieces of `text` between separators that stand outside
/// double quotes (the quotes kept), and whether a quote was left open.
fn split_outside_quotes(text: &str, separator: impl Fn(char) -> bool) -> (Vec<String>, bool) {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if separator(c) && !quoted {
            pieces.push(std::mem::take(&mut piece));
        } else {
            piece.push(c);
        }
    }
    pieces.push(piece);
    pieces.retain(|p| !p.is_empty());
    (pieces, quoted)
}

/// `YYYYMMDD[HHMM[SS]][Z]`, as ssh-keygen writes key validity.
fn ssh_time(value: &str) -> Result<Timestamp, String> {
    let digits = value.strip_suffix(['Z', 'z']).unwrap_or(value);
    let bad = || format!("`{value}` is not a time of the form YYYYMMDD[HHMM[SS]][Z]");
    if !matches!(digits.len(), 8 | 12 | 14) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let part = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .and_then(|s| s.parse::<i16>().ok())
            .unwrap_or(0)
    };
    let date = jiff::civil::Date::new(part(0..4), part(4..6) as i8, part(6..8) as i8)
        .map_err(|_| bad())?;
    let time = jiff::civil::Time::new(part(8..10) as i8, part(10..12) as i8, part(12..14) as i8, 0)
        .map_err(|_| bad())?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(time))
        .map_err(|_| bad())
}

/// A principal pattern with `*` and `?`, as ssh's match_pattern.
fn matches(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    // Principals are short; the recursion is bounded by their lengths.
    pattern.len() <= 256 && text.len() <= 256 && go(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICT6mVUCnH08Qj9n1hxMustOx443A/qDqUqjmRAvP02w";

    #[test]
    fn a_line_with_options_and_wildcards_reads() {
        let text = format!(
            "# committee\n*@hospital.example,chair namespaces=\"tdm-pack,git\",valid-before=\"20300101Z\" {KEY} a.smit\n"
        );
        let trust = Trust::parse(&text, "allowed", None, 2).unwrap();
        let key = trust.signers[0].key.clone();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        assert_eq!(trust.refuses(&key, "a.smit@hospital.example", now), None);
        assert_eq!(trust.refuses(&key, "chair", now), None);
        assert!(
            trust
                .refuses(&key, "someone@elsewhere.example", now)
                .unwrap()
                .contains("not for")
        );
        let later = Timestamp::from_second(2_000_000_000).unwrap();
        assert!(
            trust
                .refuses(&key, "chair", later)
                .unwrap()
                .contains("expired")
        );
    }

    #[test]
    fn a_namespace_for_other_uses_is_refused() {
        let text = format!("chair namespaces=\"git\" {KEY}\n");
        let trust = Trust::parse(&text, "allowed", None, 1).unwrap();
        let key = trust.signers[0].key.clone();
        let why = trust.refuses(&key, "chair", Timestamp::UNIX_EPOCH).unwrap();
        assert!(why.contains("namespaces git"), "{why}");
    }

    #[test]
    fn broken_lines_name_their_line() {
        let e = Trust::parse("\nchair ssh-ed25519 AAAA\n", "allowed", None, 1).unwrap_err();
        assert_eq!((e.line, e.file.as_str()), (2, "allowed"));
        let e = Trust::parse(&format!("chair cert-authority {KEY}\n"), "a", None, 1).unwrap_err();
        assert!(e.message.contains("cert-authority"));
        let e =
            Trust::parse(&format!("chair valid-after=\"2030\" {KEY}\n"), "a", None, 1).unwrap_err();
        assert!(e.message.contains("YYYYMMDD"));
        assert!(
            Trust::parse("# nobody\n", "a", None, 1)
                .unwrap_err()
                .message
                .contains("no signer")
        );
        assert!(Trust::parse(&format!("c {KEY}\n"), "a", None, 0).is_err());
    }

    #[test]
    fn a_revoked_key_is_known() {
        let trust = Trust::parse(&format!("c {KEY}\n"), "a", Some((KEY, "revoked")), 1).unwrap();
        assert!(trust.is_revoked(&trust.signers[0].key));
    }

    #[test]
    fn wildcards_match_as_ssh_does() {
        assert!(matches("*@h.example", "a@h.example"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(!matches("*@h.example", "a@h.example.evil"));
    }
}
