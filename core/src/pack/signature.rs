//! A committee's approval as signatures that cannot be forged.
//!
//! Each approver signs a short statement naming the pack, its version and
//! its content digest, themselves and their role, and the time:
//!
//! ```text
//! tdm pack approval v1
//! pack: ki-oncology
//! version: 1.5.0
//! digest: sha256:c16f…
//! signer: a.smit@hospital.example
//! role: hospital pharmacist
//! signed_at: 2026-12-02T16:30:00Z
//! ```
//!
//! The signature is OpenSSH's `sshsig` in the `tdm-pack` namespace, so
//! `ssh-keygen -Y sign` makes one and `ssh-keygen -Y verify` checks one
//! without this program. Statement and signature are kept in the pack's
//! `signatures.yaml`, which the digest leaves out. Since the digest covers
//! every file the loader reads, a signature holds exactly as long as the
//! content it was made for.

use std::fmt::Write as _;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use ssh_key::public::KeyData;
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::pack::error::{Position, Problem, ProblemKind};
use crate::pack::raw::RawSignatures;
use crate::pack::source::PackSource;
use crate::pack::trust::{NAMESPACE, Trust};
use crate::result::PackId;

/// The file of a pack that holds its signatures.
pub const FILE: &str = "signatures.yaml";

/// The most entries a signatures file may hold: a committee is a few
/// people, and each entry costs a signature check at every load.
pub const MAX_SIGNATURES: usize = 64;

/// The first line of every statement; a later format gets a new one.
const HEADER: &str = "tdm pack approval v1";

/// What an approver signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Pack name.
    pub pack: String,
    /// Pack version.
    pub version: String,
    /// The content digest signed for.
    pub digest: String,
    /// Who signs: the principal of the allowed-signers file.
    pub signer: String,
    /// In what role (pharmacist, clinical pharmacologist, ...).
    pub role: String,
    /// When, RFC 3339 UTC.
    pub signed_at: String,
}

const FIELDS: [&str; 6] = ["pack", "version", "digest", "signer", "role", "signed_at"];

impl Statement {
    /// The statement of `signer` approving the pack `id` now.
    pub fn new(id: &PackId, signer: &str, role: &str, at: Timestamp) -> Result<Statement, String> {
        for (what, value) in [("signer", signer), ("role", role)] {
            if value.trim().is_empty() || value.trim() != value {
                return Err(format!(
                    "the {what} must be given, without blanks around it"
                ));
            }
            if value.chars().any(char::is_control) || value.len() > 200 {
                return Err(format!(
                    "the {what} must be one line of at most 200 characters"
                ));
            }
        }
        Ok(Statement {
            pack: id.name.clone(),
            version: id.version.clone(),
            digest: id.digest.clone(),
            signer: signer.to_owned(),
            role: role.to_owned(),
            signed_at: at.round(jiff::Unit::Second).unwrap_or(at).to_string(),
        })
    }

    /// The exact text signed: the header, then one `field: value` line
    /// each, every line ending in a newline.
    pub fn text(&self) -> String {
        let mut text = format!("{HEADER}\n");
        for (name, value) in FIELDS.iter().zip(self.values()) {
            let _ = writeln!(text, "{name}: {value}");
        }
        text
    }

    fn values(&self) -> [&str; 6] {
        [
            &self.pack,
            &self.version,
            &self.digest,
            &self.signer,
            &self.role,
            &self.signed_at,
        ]
    }

    /// Reads a statement; it must be exactly what [`Statement::text`] writes.
    pub fn parse(text: &str) -> Result<Statement, String> {
        let mut lines = text.split_inclusive('\n');
        if lines.next() != Some(&format!("{HEADER}\n")) {
            return Err(format!("a statement starts with the line `{HEADER}`"));
        }
        let mut values = Vec::with_capacity(FIELDS.len());
        for name in FIELDS {
            let line = lines.next().unwrap_or_default();
            let value = line
                .strip_suffix('\n')
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(": "))
                .ok_or_else(|| format!("the statement's next line must be `{name}: ...`"))?;
            values.push(value.to_owned());
        }
        if lines.next().is_some() {
            return Err("the statement has lines after `signed_at`".into());
        }
        let [pack, version, digest, signer, role, signed_at] = <[String; 6]>::try_from(values)
            .map_err(|_| "the statement is incomplete".to_owned())?;
        signed_at
            .parse::<Timestamp>()
            .map_err(|e| format!("signed_at `{signed_at}` is not an RFC 3339 time: {e}"))?;
        Ok(Statement {
            pack,
            version,
            digest,
            signer,
            role,
            signed_at,
        })
    }
}

/// One entry of `signatures.yaml` and what checking it found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureCheck {
    /// Its line in `signatures.yaml`.
    pub line: u64,
    /// The statement, when it reads.
    pub statement: Option<Statement>,
    /// The signing key, `SHA256:…` as `ssh-keygen -l` shows it.
    pub key: Option<String>,
    /// Why it does not count; `None` for a valid signature.
    pub problem: Option<String>,
}

/// All the signatures of a pack, checked against a [`Trust`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Each entry, in file order.
    pub signatures: Vec<SignatureCheck>,
    /// Valid signatures by distinct keys.
    pub valid: usize,
    /// How many are required.
    pub required: usize,
}

impl Verdict {
    /// Enough valid signatures.
    pub fn accepted(&self) -> bool {
        self.valid >= self.required
    }

    /// Why the pack is refused, in one sentence; `None` when accepted.
    pub fn refusal(&self) -> Option<String> {
        if self.accepted() {
            return None;
        }
        if self.signatures.is_empty() {
            return Some(format!("the pack is not signed (no entry in {FILE})"));
        }
        let why: Vec<String> = self
            .signatures
            .iter()
            .filter_map(|c| {
                let who = c.statement.as_ref().map_or("?", |s| s.signer.as_str());
                c.problem
                    .as_ref()
                    .map(|p| format!("{who} (line {}): {p}", c.line))
            })
            .collect();
        Some(format!(
            "{} valid signature{} of {} required{}{}",
            self.valid,
            if self.valid == 1 { "" } else { "s" },
            self.required,
            if why.is_empty() { "" } else { "; " },
            why.join("; ")
        ))
    }
}

/// The signatures file as read: kept with the pack, so that a changed
/// trust (a key revoked) can be checked against it again.
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    entries: Vec<Entry>,
    /// The file's text, for the snippet of a refusal.
    text: Option<Arc<str>>,
}

#[derive(Debug, Clone)]
struct Entry {
    position: Position,
    statement: String,
    signature: String,
}

impl Signatures {
    /// Reads `signatures.yaml` of a pack; none is an empty set.
    fn read(source: &PackSource) -> Result<Signatures, Problem> {
        let Some(text) = source.read_optional(FILE)? else {
            return Ok(Signatures::default());
        };
        let raw: RawSignatures = crate::pack::yaml::parse(&text, FILE).map_err(|p| *p)?;
        if raw.signatures.len() > MAX_SIGNATURES {
            return Err(Problem::new(
                ProblemKind::Signature,
                FILE,
                Position { line: 1, column: 1 },
                format!(
                    "{} signatures; at most {MAX_SIGNATURES} are read (the signatures of earlier contents can go: `tdm sign` drops them)",
                    raw.signatures.len()
                ),
            ));
        }
        let entries = raw
            .signatures
            .into_iter()
            .map(|s| Entry {
                position: s.position,
                statement: s.value.statement,
                signature: s.value.signature,
            })
            .collect();
        Ok(Signatures {
            entries,
            text: Some(Arc::from(text)),
        })
    }

    /// The statements of `text` (a rendered file) as they read back: what
    /// a reader of the file will check the signatures against.
    pub fn statements_of(text: &str) -> Result<Vec<String>, String> {
        let raw: RawSignatures = crate::pack::yaml::parse(text, FILE).map_err(|p| p.message)?;
        Ok(raw
            .signatures
            .into_iter()
            .map(|s| s.value.statement)
            .collect())
    }

    /// How many entries the file has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the file has no entry (or there is no file).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks every entry for the pack `id` against `trust` at `now`.
    pub fn check(&self, id: &PackId, trust: &Trust, now: Timestamp) -> Verdict {
        let signatures: Vec<SignatureCheck> = self
            .entries
            .iter()
            .map(|e| check_entry(e, id, trust, now))
            .collect();
        let mut keys: Vec<&str> = signatures
            .iter()
            .filter(|c| c.problem.is_none())
            .filter_map(|c| c.key.as_deref())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        Verdict {
            valid: keys.len(),
            required: trust.min_signatures,
            signatures,
        }
    }

    /// The entries written as `signatures.yaml`, with `added` last; entries
    /// signed for another content than `digest` are dropped (they can
    /// never count again) and their number given.
    pub fn render_with(&self, added: (&str, &str), digest: &str) -> (String, usize) {
        // An editor's schema line (yaml-language-server) is kept: where the
        // schema lies depends on where the pack lies.
        let schema_line = self
            .text
            .as_deref()
            .and_then(|t| t.lines().next())
            .filter(|l| l.starts_with("# yaml-language-server:"));
        let mut text = schema_line.map(|l| format!("{l}\n")).unwrap_or_default();
        text.push_str(
            "# Approvers' signatures of this pack (tdm sign, or ssh-keygen -Y sign -n tdm-pack;\n\
             # see docs/signing.md). Not part of the pack's digest.\nsignatures:\n",
        );
        let mut dropped = 0;
        for e in &self.entries {
            if Statement::parse(&e.statement).is_ok_and(|s| s.digest == digest) {
                write_entry(&mut text, &e.statement, &e.signature);
            } else {
                dropped += 1;
            }
        }
        write_entry(&mut text, added.0, added.1);
        (text, dropped)
    }
}

fn write_entry(out: &mut String, statement: &str, signature: &str) {
    out.push_str("  - statement: |\n");
    for line in statement.lines() {
        let _ = writeln!(out, "      {line}");
    }
    out.push_str("    signature: |\n");
    for line in signature.lines() {
        let _ = writeln!(out, "      {line}");
    }
}

fn check_entry(entry: &Entry, id: &PackId, trust: &Trust, now: Timestamp) -> SignatureCheck {
    let parsed = Statement::parse(&entry.statement);
    let mut key = None;
    let problem = match &parsed {
        Err(why) => Some(format!("the statement does not read: {why}")),
        Ok(statement) => problem_of(entry, statement, &mut key, id, trust, now).err(),
    };
    SignatureCheck {
        line: entry.position.line,
        statement: parsed.ok(),
        key,
        problem,
    }
}

/// The first reason the entry does not count, checked in the order that
/// makes the reason true: an inauthentic statement says nothing about
/// which pack it names.
fn problem_of(
    entry: &Entry,
    statement: &Statement,
    fingerprint: &mut Option<String>,
    id: &PackId,
    trust: &Trust,
    now: Timestamp,
) -> Result<(), String> {
    let key = authentic(&entry.statement, &entry.signature, fingerprint)?;
    let shown = fingerprint.as_deref().unwrap_or("");
    if trust.is_revoked(&key) {
        return Err(format!("the key {shown} is revoked"));
    }
    if let Some(why) = trust.refuses(&key, &statement.signer, now) {
        return Err(format!("{why} ({shown})"));
    }
    if (statement.pack.as_str(), statement.version.as_str())
        != (id.name.as_str(), id.version.as_str())
    {
        return Err(format!(
            "signed for {} {}, not for {} {}",
            statement.pack, statement.version, id.name, id.version
        ));
    }
    if statement.digest != id.digest {
        return Err(format!(
            "signed for content {}, but the pack's content is now {}: it changed after it was signed",
            statement.digest, id.digest
        ));
    }
    Ok(())
}

/// Signs the statement with an OpenSSH private key (its file's text), as
/// `ssh-keygen -Y sign -n tdm-pack` would; gives the armoured signature.
pub fn sign(statement: &Statement, private_key: &str) -> Result<String, String> {
    let key = PrivateKey::from_openssh(private_key)
        .map_err(|e| format!("not an OpenSSH private key: {e}"))?;
    if key.is_encrypted() {
        return Err(
            "the key is protected by a passphrase: sign the statement with \
                    `ssh-keygen -Y sign -n tdm-pack -f KEY`, which asks for it (docs/signing.md)"
                .into(),
        );
    }
    key.sign(NAMESPACE, HashAlg::Sha512, statement.text().as_bytes())
        .and_then(|sig| sig.to_pem(LineEnding::LF))
        .map_err(|e| format!("the key cannot sign: {e}"))
}

/// The signatures of the loaded `pack` (read from `source`) checked
/// against `trust` now, each with what its check found.
pub fn check_pack(
    source: &PackSource,
    pack: &crate::Pack,
    trust: &Trust,
) -> Result<Verdict, Problem> {
    Ok(Signatures::read(source)?.check(pack.id(), trust, Timestamp::now()))
}

/// The signatures of a pack as read from `source` (none: an empty set).
pub fn read_signatures(source: &PackSource) -> Result<Signatures, Problem> {
    Signatures::read(source)
}

/// Checks that `signature` (armoured) is an SSH signature in the
/// `tdm-pack` namespace of exactly `statement`, by the key it carries;
/// gives that key's fingerprint. Whether the key is trusted is for
/// [`Trust`] to say when the pack is loaded.
pub fn check_authentic(statement: &str, signature: &str) -> Result<String, String> {
    let mut fingerprint = None;
    authentic(statement, signature, &mut fingerprint)?;
    Ok(fingerprint.unwrap_or_default())
}

/// The key of an SSH signature of exactly `statement` in the `tdm-pack`
/// namespace; `fingerprint` is set as soon as the key is known, so that a
/// refusal can name it.
fn authentic(
    statement: &str,
    signature: &str,
    fingerprint: &mut Option<String>,
) -> Result<KeyData, String> {
    let sig = SshSig::from_pem(signature.trim())
        .map_err(|e| format!("the signature does not read as an SSH signature: {e}"))?;
    let key = sig.public_key().clone();
    *fingerprint = Some(key.fingerprint(HashAlg::Sha256).to_string());
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "signed in namespace `{}`, not `{NAMESPACE}` (ssh-keygen -Y sign -n {NAMESPACE})",
            sig.namespace()
        ));
    }
    PublicKey::from(key.clone())
        .verify(NAMESPACE, statement.as_bytes(), &sig)
        .map_err(|_| {
            "the signature does not match the statement: it was altered, or not made for it"
                .to_owned()
        })?;
    Ok(key)
}

/// The signatures of a pack checked against `trust`, as a problem of
/// `signatures.yaml` when they do not suffice.
pub(crate) fn require(
    source: &PackSource,
    id: &PackId,
    trust: &Trust,
) -> Result<(Arc<Signatures>, Verdict), Problem> {
    let signatures = Signatures::read(source)?;
    let verdict = signatures.check(id, trust, Timestamp::now());
    match verdict.refusal() {
        None => Ok((Arc::new(signatures), verdict)),
        Some(why) => {
            let line = verdict.signatures.first().map_or(0, |c| c.line);
            let mut problem = Problem::new(
                ProblemKind::Signature,
                FILE,
                Position { line, column: 1 },
                why,
            );
            problem.text = signatures.text.clone();
            Err(problem
                .with_help(format!(
                    "a committee member signs this content with `tdm sign {} --key KEY --signer WHO --role ROLE` \
                     (or ssh-keygen -Y sign -n {NAMESPACE}); its key must be in the trusted keys",
                    source
                )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key made with `ssh-keygen -t ed25519 -N ""` for these tests only.
    const PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACAk+plVApx9PEI/Z9YcTLrLTseONwP6g6lKo5kQLz9NsAAAAIjAfrF+wH6x
fgAAAAtzc2gtZWQyNTUxOQAAACAk+plVApx9PEI/Z9YcTLrLTseONwP6g6lKo5kQLz9NsA
AAAEBtOUD0VVrsIe/gpTWdiRfxdmMX40gP1p1cJ2ZaWV3omiT6mVUCnH08Qj9n1hxMustO
x443A/qDqUqjmRAvP02wAAAABHRlc3QB
-----END OPENSSH PRIVATE KEY-----
";
    const PUBLIC: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICT6mVUCnH08Qj9n1hxMustOx443A/qDqUqjmRAvP02w test";
    /// `ssh-keygen -Y sign -n tdm-pack -f <that key>` of the text "hello\n".
    const SSH_KEYGEN_SIGNATURE: &str = "-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgJPqZVQKcfTxCP2fWHEy6y07Hjj
cD+oOpSqOZEC8/TbAAAAAIdGRtLXBhY2sAAAAAAAAABnNoYTUxMgAAAFMAAAALc3NoLWVk
MjU1MTkAAABA22vnEUND1lUSvE5EV8YCV8c/ZMD3NLL4Oj/xMWCji+62/m442aEU+ppyoS
tziclqVDOoxdp58ZRTo1/O3B4rBw==
-----END SSH SIGNATURE-----
";

    fn id(digest: &str) -> PackId {
        PackId {
            name: "p".into(),
            version: "1.0.0".into(),
            digest: digest.into(),
        }
    }

    fn trust(min: usize) -> Trust {
        Trust::parse(&format!("a@h.example {PUBLIC}\n"), "allowed", None, min).unwrap()
    }

    fn signed(digest: &str) -> Signatures {
        let at = "2026-12-02T16:30:00Z".parse().unwrap();
        let statement = Statement::new(&id(digest), "a@h.example", "pharmacist", at).unwrap();
        let signature = sign(&statement, PRIVATE).unwrap();
        Signatures {
            entries: vec![Entry {
                position: Position { line: 4, column: 5 },
                statement: statement.text(),
                signature,
            }],
            text: None,
        }
    }

    #[test]
    fn a_statement_reads_back_as_written() {
        let at = "2026-12-02T16:30:00.7Z".parse().unwrap();
        let s = Statement::new(
            &id("sha256:ab"),
            "a@h.example",
            "clinical pharmacologist",
            at,
        )
        .unwrap();
        assert_eq!(s.signed_at, "2026-12-02T16:30:01Z");
        assert_eq!(Statement::parse(&s.text()).unwrap(), s);
        assert!(
            s.text()
                .starts_with("tdm pack approval v1\npack: p\nversion: 1.0.0\n")
        );
        let extra = format!("{}note: x\n", s.text());
        assert!(Statement::parse(&extra).unwrap_err().contains("after"));
        assert!(Statement::new(&id("d"), "a\nb", "r", at).is_err());
        assert!(Statement::new(&id("d"), "a", " ", at).is_err());
    }

    #[test]
    fn a_signature_counts_for_its_content_only() {
        let now = Timestamp::now();
        let verdict = signed("sha256:ab").check(&id("sha256:ab"), &trust(1), now);
        assert!(verdict.accepted(), "{verdict:?}");
        assert_eq!(
            verdict.signatures[0].key.as_deref().map(|k| &k[..7]),
            Some("SHA256:")
        );
        let changed = signed("sha256:ab").check(&id("sha256:cd"), &trust(1), now);
        let why = changed.refusal().unwrap();
        assert!(
            why.contains("changed after it was signed") && why.contains("line 4"),
            "{why}"
        );
    }

    #[test]
    fn an_altered_statement_or_a_foreign_key_is_refused() {
        let now = Timestamp::now();
        let mut s = signed("sha256:ab");
        s.entries[0].statement = s.entries[0].statement.replace("pharmacist", "chair");
        let why = s.check(&id("sha256:ab"), &trust(1), now).refusal().unwrap();
        assert!(why.contains("does not match the statement"), "{why}");

        // Another key made with ssh-keygen.
        let other = Trust::parse("b@h.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFfaiWT8y74oabY909LRZUGuUBLZDCySiXxA/kKl2eCa\n", "allowed", None, 1).unwrap();
        let why = signed("sha256:ab")
            .check(&id("sha256:ab"), &other, now)
            .refusal()
            .unwrap();
        assert!(why.contains("not among the trusted keys"), "{why}");
        let for_b = Trust::parse(&format!("b@h.example {PUBLIC}\n"), "allowed", None, 1).unwrap();
        let why = signed("sha256:ab")
            .check(&id("sha256:ab"), &for_b, now)
            .refusal()
            .unwrap();
        assert!(why.contains("trusted, but not for `a@h.example`"), "{why}");
        let revoked = Trust::parse(
            &format!("a@h.example {PUBLIC}\n"),
            "a",
            Some((PUBLIC, "r")),
            1,
        )
        .unwrap();
        let why = signed("sha256:ab")
            .check(&id("sha256:ab"), &revoked, now)
            .refusal()
            .unwrap();
        assert!(why.contains("revoked"), "{why}");
    }

    #[test]
    fn one_key_signing_twice_is_one_signature() {
        let mut s = signed("sha256:ab");
        s.entries.push(s.entries[0].clone());
        let verdict = s.check(&id("sha256:ab"), &trust(2), Timestamp::now());
        assert_eq!((verdict.valid, verdict.accepted()), (1, false));
        assert!(
            verdict
                .refusal()
                .unwrap()
                .starts_with("1 valid signature of 2 required")
        );
    }

    #[test]
    fn ssh_keygen_signatures_verify_and_ours_have_its_form() {
        let sig = SshSig::from_pem(SSH_KEYGEN_SIGNATURE).unwrap();
        let key = PublicKey::from_openssh(PUBLIC).unwrap();
        assert!(key.verify(NAMESPACE, b"hello\n", &sig).is_ok());
        assert!(key.verify(NAMESPACE, b"hello", &sig).is_err());
        let ours = signed("sha256:ab").entries[0].signature.clone();
        assert!(ours.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
    }

    #[test]
    fn the_file_is_written_with_stale_entries_dropped() {
        let s = signed("sha256:old");
        let (text, dropped) = s.render_with(("tdm pack approval v1\n", "SIG\n"), "sha256:new");
        assert_eq!(dropped, 1);
        let raw: RawSignatures = crate::pack::yaml::parse(&text, FILE).unwrap();
        assert_eq!(raw.signatures.len(), 1);
        assert_eq!(raw.signatures[0].value.statement, "tdm pack approval v1\n");
        let (text, dropped) = s.render_with(("x\n", "y\n"), "sha256:old");
        let raw: RawSignatures = crate::pack::yaml::parse(&text, FILE).unwrap();
        assert_eq!((raw.signatures.len(), dropped), (2, 0));
        assert_eq!(raw.signatures[0].value.statement, s.entries[0].statement);
    }

    #[test]
    fn the_editors_schema_line_is_kept() {
        let mut s = signed("sha256:a");
        s.text = Some(Arc::from(
            "# yaml-language-server: $schema=../x.json\nsignatures: []\n",
        ));
        let (text, _) = s.render_with(("x\n", "y\n"), "sha256:a");
        assert!(text.starts_with("# yaml-language-server: $schema=../x.json\n# Approvers'"));
        s.text = Some(Arc::from("signatures: []\n"));
        assert!(
            s.render_with(("x\n", "y\n"), "sha256:a")
                .0
                .starts_with("# Approvers'")
        );
    }

    #[test]
    fn a_file_of_too_many_signatures_is_refused() {
        let entry = "  - statement: |\n      x\n    signature: |\n      y\n";
        let text = format!("signatures:\n{}", entry.repeat(MAX_SIGNATURES + 1));
        let source = PackSource::texts(vec![(FILE.to_owned(), text)]);
        let problem = Signatures::read(&source).unwrap_err();
        assert!(
            problem.message.contains("at most 64"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn what_is_not_a_key_is_named() {
        let s = Statement::new(&id("d"), "a", "r", Timestamp::now()).unwrap();
        assert!(
            sign(&s, "not a key")
                .unwrap_err()
                .contains("not an OpenSSH private key")
        );
    }
}
