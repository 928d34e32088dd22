//! Loading a pack from its source: parse every file, check every value, and build
//! the validated [`Pack`]. All problems are collected, then the pack is
//! refused whole if there is any.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;
use std::sync::Arc;

use crate::pack::check::{Checker, PluginState};
use crate::pack::codes::Codes;
use crate::pack::error::{PackError, Position, Problem, ProblemKind};
use crate::pack::model::*;
use crate::pack::overlay::ResolvedFile;
use crate::pack::plugin::{LoadOptions, MAX_PLUGIN_BYTES, Plugins, sha256_hex};
use crate::pack::raw::*;
use crate::pack::raw_codes::RawCodes;
use crate::pack::source::{PackFiles, PackSource};
use crate::pack::trust::Trust;
use crate::pack::{schema, yaml};
use crate::result::PackId;

/// Loads and validates a pack: a directory (`&str`, `&Path`), or any
/// [`PackSource`]. A pack whose drugs need native plugins is refused: use
/// [`load_pack_with`] to opt in.
///
/// ```
/// let pack = tdm_core::load_pack("../rules/ki-oncology")?;
/// assert_eq!(pack.id().name, "ki-oncology");
/// # Ok::<(), tdm_core::PackError>(())
/// ```
pub fn load_pack(source: impl Into<PackSource>) -> Result<Pack, PackError> {
    load_pack_with(source, &LoadOptions::default())
}

/// Loads and validates a pack with `options`. A pack that `extends`
/// another is resolved first (see [`resolve_pack`]).
pub fn load_pack_with(
    source: impl Into<PackSource>,
    options: &LoadOptions,
) -> Result<Pack, PackError> {
    let source = source.into();
    let files = source.read()?;
    let mut pack = if !crate::pack::overlay::is_overlay(&files[0].1) {
        load_from_texts(&source, &files, options)?
    } else {
        let check = |base: &PackSource, files: &PackFiles| check_base(base, files, options);
        let resolved = crate::pack::overlay::resolve(&source, files, 0, "", &check)?;
        let texts: Vec<(String, String)> = resolved
            .iter()
            .map(|f| (f.name.clone(), f.text.clone()))
            .collect();
        load_from_texts(&source, &texts, options).map_err(|e| {
            let original = |file: &str| source.read_text(file).map(Arc::from);
            crate::pack::overlay::relocate(e, &resolved, &original)
        })?
    };
    if let Some(trust) = &options.trust {
        pack.signatures = Some(require_signatures(&source, &pack, trust)?);
    }
    Ok(pack)
}

/// The pack's signatures, when they satisfy `trust`; else the pack is refused.
fn require_signatures(
    source: &PackSource,
    pack: &Pack,
    trust: &Trust,
) -> Result<SignedBy, PackError> {
    crate::pack::signature::require(source, pack.id(), trust)
        .map(|(signatures, verdict)| SignedBy {
            signatures,
            verdict,
        })
        .map_err(|problem| PackError::invalid(source.location(), vec![problem]))
}

/// The files of a pack as the loader reads them, each line with the file
/// it comes from: for a pack that `extends` another, the resolved files
/// (the base's, with the overlay's keys laid over them).
pub fn resolve_pack(source: impl Into<PackSource>) -> Result<Vec<ResolvedFile>, PackError> {
    let source = source.into();
    let files = source.read()?;
    if crate::pack::overlay::is_overlay(&files[0].1) {
        let check =
            |base: &PackSource, files: &PackFiles| check_base(base, files, &LoadOptions::default());
        return crate::pack::overlay::resolve(&source, files, 0, "", &check);
    }
    Ok(files
        .iter()
        .map(|(name, text)| ResolvedFile::as_is(name, text, ""))
        .collect())
}

/// An overlay's base must be valid on its own, and signed when signatures
/// are required: its version, when it is.
fn check_base(
    source: &PackSource,
    files: &PackFiles,
    options: &LoadOptions,
) -> Result<String, PackError> {
    let base = load_from_texts(source, files, &LoadOptions::default())?;
    if let Some(trust) = &options.trust {
        require_signatures(source, &base, trust)?;
    }
    Ok(base.id().version.clone())
}

/// Builds a pack from `(relative file name, text)` pairs; the first is the manifest.
pub(crate) fn load_from_texts(
    source: &PackSource,
    files: &[(String, String)],
    options: &LoadOptions,
) -> Result<Pack, PackError> {
    let dir = source.location();
    let mut problems = Vec::new();
    let mut values = Vec::new();
    let mut manifest = None;
    let mut raw_drugs = Vec::new();
    let mut raw_codes = Vec::new();
    let engine = Arc::new(crate::pack::script::ScriptEngine::default());
    let mut scripts = HashMap::new();
    for (i, (name, text)) in files.iter().enumerate() {
        if name.starts_with("scripts/") {
            match crate::pack::script::compile(&engine, name, text) {
                Ok(script) => {
                    scripts.insert(name.clone(), script);
                }
                Err(mut p) => problems.append(&mut p),
            }
            values.push((name.as_str(), serde_json::Value::String(text.clone())));
        } else if i == 0 {
            match parse_checked::<RawManifest>(text, name, schema::for_file(name)) {
                Ok((m, value)) => {
                    manifest = Some(m);
                    values.push((name.as_str(), value));
                }
                Err(mut p) => problems.append(&mut p),
            }
        } else if name.starts_with("codes/") {
            match parse_checked::<RawCodes>(text, name, schema::for_file(name)) {
                Ok((c, value)) => {
                    raw_codes.push((name.as_str(), text.as_str(), c));
                    values.push((name.as_str(), value));
                }
                Err(mut p) => problems.append(&mut p),
            }
        } else {
            match parse_checked::<RawDrug>(text, name, schema::for_file(name)) {
                Ok((d, value)) => {
                    raw_drugs.push((name.as_str(), text.as_str(), d));
                    values.push((name.as_str(), value));
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
    }
    let Some(manifest) = manifest else {
        return Err(PackError::invalid(dir, problems));
    };
    let manifest_text = files.first().map(|f| f.1.as_str()).unwrap_or_default();
    let plugins = verify_plugins(
        source.dir(),
        &manifest,
        options,
        manifest_text,
        &mut problems,
    );
    let mut checker = Checker {
        problems: &mut problems,
        file: "pack.yaml",
        text: Arc::from(manifest_text),
        sources: manifest.sources.keys().cloned().collect(),
        scripts,
        plugins,
    };
    let policy = checker.policy(&manifest);
    checker.version(&manifest.version);
    let (changelog, approval) = checker.history(&manifest);
    let mut drugs: Vec<Drug> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen_in: HashMap<String, String> = HashMap::new();
    for (file, text, raw) in &raw_drugs {
        checker.file = file;
        checker.text = Arc::from(*text);
        let Some(drug) = checker.drug(raw) else {
            continue;
        };
        let product_names = drug
            .products
            .iter()
            .filter_map(|p| p.product.as_ref())
            .flat_map(|p| std::iter::once(&p.name).chain(&p.aliases));
        for name in std::iter::once(&drug.name)
            .chain(&drug.aliases)
            .chain(product_names)
        {
            let key = name.to_ascii_lowercase();
            if let Some(other) = seen_in.get(&key) {
                checker.report(
                    yaml::position(&raw.drug),
                    format!("drug name or alias `{name}` is already used in `{other}`"),
                    Some("each drug and alias may appear in one drug file only"),
                );
            } else {
                seen_in.insert(key.clone(), (*file).to_owned());
                index.insert(key, drugs.len());
            }
        }
        drugs.push(drug);
    }
    let mut codes = Codes::default();
    let mut seen = BTreeMap::new();
    let find = |name: &str| index.get(&name.to_ascii_lowercase()).copied();
    for (file, text, raw) in &raw_codes {
        checker.file = file;
        checker.text = Arc::from(*text);
        crate::pack::codes::check(&mut checker, raw, &drugs, &find, &mut codes, &mut seen);
    }
    if raw_drugs.is_empty() && problems.is_empty() {
        problems.push(
            Problem::new(
                ProblemKind::Rule,
                "drugs/",
                Position::default(),
                "the pack has no drug files",
            )
            .with_help("add one YAML file per drug under `drugs/`"),
        );
    }
    if !problems.is_empty() {
        return Err(PackError::invalid(dir, problems));
    }
    let digest = crate::pack::digest::digest(values.iter().map(|(n, v)| (*n, v)));
    Ok(Pack {
        id: PackId {
            name: manifest.name.value.clone(),
            version: manifest.version.value.clone(),
            digest,
        },
        title: manifest.title.clone(),
        description: manifest.description.clone(),
        effective: manifest.effective.as_ref().map(|e| e.value.clone()),
        changelog,
        approval,
        signatures: None,
        policy,
        drugs,
        sources: manifest
            .sources
            .iter()
            .map(|(k, v)| (k.clone(), v.citation.clone()))
            .collect(),
        index,
        codes,
        engine,
    })
}

/// Reads one pack file: syntax first, then its shape against the schema of
/// its kind (every unknown key, missing key and wrong type at once); only a
/// file of the right shape is read into the raw types. Also returns the plain
/// value, for the digest.
pub(crate) fn parse_checked<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &str,
    schema: &serde_json::Value,
) -> Result<(T, serde_json::Value), Vec<Problem>> {
    let node = yaml::parse_node(text, file).map_err(|p| vec![*p])?;
    let shape = crate::pack::shape::check(&node, schema);
    if !shape.is_empty() {
        let text: Arc<str> = Arc::from(text);
        return Err(shape
            .into_iter()
            .map(|s| {
                let mut p = Problem::new(ProblemKind::Shape, file, s.position, s.message);
                p.help = s.help;
                p.text = Some(text.clone());
                p
            })
            .collect());
    }
    let typed = yaml::parse(text, file).map_err(|p| vec![*p])?;
    Ok((typed, node.value.to_json()))
}

/// Test-only access to building a pack from in-memory files.
#[cfg(test)]
pub(crate) fn from_files(files: &[(&str, &str)]) -> Result<Pack, PackError> {
    let owned: Vec<(String, String)> = files
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect();
    load_from_texts(
        &PackSource::Dir("test-pack".into()),
        &owned,
        &LoadOptions::default(),
    )
}

/// Checks every declared plugin's pin against the library's bytes and, with
/// the operator's opt-in, loads it. A library is never loaded (which runs its
/// code) before its bytes matched the pin.
fn verify_plugins(
    dir: Option<&Path>,
    manifest: &RawManifest,
    options: &LoadOptions,
    text: &str,
    problems: &mut Vec<Problem>,
) -> HashMap<String, PluginState> {
    let text: Arc<str> = Arc::from(text);
    let mut report = |at: &yaml::Spanned<String>, message: String, help: &str| {
        let mut p = Problem::new(
            ProblemKind::Plugin,
            "pack.yaml",
            yaml::position(at),
            message,
        )
        .with_help(help);
        p.text = Some(text.clone());
        problems.push(p);
    };
    let mut out = HashMap::new();
    for (name, pin) in &manifest.plugins {
        let path = &pin.path.value;
        let inside = !path.is_empty()
            && !path.starts_with('/')
            && !path.contains("..")
            && !path.contains('\\');
        if !inside {
            report(
                &pin.path,
                format!("plugin `{name}`: `{path}` is not a path inside the pack"),
                "put the library in the pack, e.g. `plugins/libratio.so`",
            );
            out.insert(name.clone(), PluginState::Refused);
            continue;
        }
        let expected = pin.sha256.value.to_lowercase();
        if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
            report(
                &pin.sha256,
                format!("plugin `{name}`: sha256 must be 64 hexadecimal digits"),
                "compute it with `sha256sum` and paste the digest",
            );
            out.insert(name.clone(), PluginState::Refused);
            continue;
        }
        let Some(dir) = dir else {
            report(
                &pin.path,
                format!("plugin `{name}`: native plugins are loaded from a pack directory only"),
                "check the pack out into a directory to use its plugins",
            );
            out.insert(name.clone(), PluginState::Refused);
            continue;
        };
        let file = dir.join(path);
        let bytes = match fs::metadata(&file) {
            Ok(m) if m.len() > MAX_PLUGIN_BYTES => {
                Err(format!("the file is larger than {MAX_PLUGIN_BYTES} bytes"))
            }
            Ok(_) => fs::read(&file).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => {
                report(
                    &pin.path,
                    format!("plugin `{name}`: cannot read `{path}`: {e}"),
                    "build the plugin and copy the library into the pack",
                );
                out.insert(name.clone(), PluginState::Refused);
                continue;
            }
        };
        let actual = sha256_hex(&bytes);
        if actual != expected {
            report(
                &pin.sha256,
                format!(
                    "plugin `{name}`: `{path}` has sha256 {actual}, but the pack pins {expected}; it was not loaded"
                ),
                "the library changed since the pack was approved: check where it came from before pinning a new digest",
            );
            out.insert(name.clone(), PluginState::Refused);
            continue;
        }
        let state = match &options.plugins {
            Plugins::Refuse => PluginState::NeedsOptIn(path.clone()),
            Plugins::VerifyOnly => PluginState::Verified,
            Plugins::Load(loader) => match loader.load(&file, &bytes) {
                Ok(plugin) => PluginState::Loaded(path.clone(), plugin),
                Err(e) => {
                    report(
                        &pin.path,
                        format!("plugin `{name}`: {e}"),
                        "rebuild the plugin against this version of tdm-plugin-api",
                    );
                    PluginState::Refused
                }
            },
        };
        out.insert(name.clone(), state);
    }
    out
}
