//! What every command shares: naming a pack (`DIR`, or `DIR@REV` for a git
//! revision) and loading it under the plugin policy; opening a sample file
//! in its format; and one error type whose kind decides the exit code.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use tdm_core::input::InputError;
use tdm_core::{InputFormat, LoadOptions, Pack, PackError, PackSource, Plugins};

use crate::batch::InputFormatArg;
use crate::exit::Exit;

/// Why a command could not do its job. Each kind has one exit code.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum CliError {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    #[diagnostic(code(tdm::usage))]
    Usage(String),
    /// The pack was refused: every problem is listed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pack(#[from] PackError),
    /// A file the command reads could not be opened.
    #[error("cannot open `{path}`: {error}")]
    #[diagnostic(code(tdm::input::open))]
    Open {
        /// The file as given.
        path: String,
        /// The operating system's reason.
        error: io::Error,
    },
    /// The input could not be read as a whole.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    /// Writing the output failed.
    #[error("cannot write {what}: {error}")]
    #[diagnostic(code(tdm::output))]
    Output {
        /// What was being written (`the output`, a file name).
        what: String,
        /// The reason.
        error: io::Error,
    },
    /// The trusted keys cannot be used: nothing could be approved.
    #[error(transparent)]
    #[diagnostic(code(tdm::trust))]
    Trust(#[from] tdm_core::pack::TrustError),
    /// The service could not start (the address is in use, not permitted).
    #[error("cannot listen on {addr}: {error}")]
    #[diagnostic(code(tdm::serve::listen))]
    Listen {
        /// The address given.
        addr: String,
        /// The reason.
        error: io::Error,
    },
}

impl CliError {
    /// Writing `what` failed.
    pub(crate) fn output(what: impl Into<String>, error: io::Error) -> Self {
        CliError::Output {
            what: what.into(),
            error,
        }
    }

    /// The exit code of this kind of failure.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Pack(_) | CliError::Trust(_) => Exit::PackRefused,
            CliError::Open { .. } | CliError::Input(_) => Exit::InputUnreadable,
            CliError::Output { .. } => Exit::OutputFailed,
            CliError::Listen { .. } => Exit::ServiceFailed,
        }
    }

    /// Prints the error on standard error and gives its exit code. A reader
    /// that went away (`| head`) is the reader's choice: nothing is printed.
    pub(crate) fn report(self) -> Exit {
        let exit = self.exit();
        match self {
            CliError::Output { error, .. } if error.kind() == io::ErrorKind::BrokenPipe => {}
            // Pack problems and broken input are shown with their snippets.
            CliError::Pack(e) => eprintln!("{:?}", miette::Report::new(e)),
            CliError::Input(e) => eprintln!("{:?}", miette::Report::new(e)),
            other => eprintln!("error: {other}"),
        }
        exit
    }
}

/// The plugin policy of a command: load them only when the operator opted in.
pub(crate) fn plugins(allow: bool) -> Plugins {
    if allow {
        Plugins::Load(Arc::new(tdm_plugin_host::HostLoader))
    } else {
        Plugins::Refuse
    }
}

/// Loads the pack a command names: a directory, or `DIR@REV`.
pub(crate) fn load_pack(spec: impl AsRef<Path>, allow_plugins: bool) -> Result<Pack, CliError> {
    load_pack_with(spec, plugins(allow_plugins))
}

/// Loads the pack a command names under an explicit plugin policy.
pub(crate) fn load_pack_with(spec: impl AsRef<Path>, plugins: Plugins) -> Result<Pack, CliError> {
    load_pack_under(
        spec,
        &LoadOptions {
            plugins,
            trust: None,
        },
    )
}

/// Loads the pack a command names with the operator's plugin policy and,
/// with --require-signature, only when its approvers' signatures hold.
pub(crate) fn load_pack_trusted(
    spec: impl AsRef<Path>,
    allow_plugins: bool,
    trust: &crate::trust::TrustArgs,
) -> Result<Pack, CliError> {
    load_pack_under(spec, &trust.load_options(plugins(allow_plugins))?)
}

fn load_pack_under(spec: impl AsRef<Path>, options: &LoadOptions) -> Result<Pack, CliError> {
    let source = PackSource::parse(&spec.as_ref().to_string_lossy());
    Ok(tdm_core::load_pack_with(source, options)?)
}

/// A sample file opened for reading, with its format.
pub(crate) struct SampleFile {
    pub format: InputFormat,
    pub reader: Box<dyn BufRead + Send>,
}

/// Opens `path` (`-` for standard input) in the format given, or the one
/// its extension names.
pub(crate) fn open_samples(
    path: &str,
    given: Option<InputFormatArg>,
) -> Result<SampleFile, CliError> {
    let format = match given {
        Some(f) => f.into(),
        None if path == "-" => {
            return Err(CliError::Usage(
                "reading standard input needs --input-format json|ndjson|csv|fhir|hl7".into(),
            ));
        }
        None => InputFormat::from_path(path).ok_or_else(|| {
            CliError::Usage(format!(
                "cannot tell the format of `{path}` from its extension (.json, .ndjson, .jsonl, .csv, .hl7); give --input-format"
            ))
        })?,
    };
    let mut reader: Box<dyn BufRead + Send> = if path == "-" {
        Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
    } else {
        let file = File::open(path).map_err(|error| CliError::Open {
            path: path.to_owned(),
            error,
        })?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    // A `.json` file that is a FHIR resource says so by its `resourceType`.
    let format = match (format, given) {
        (InputFormat::Json, None) => {
            let head = reader.fill_buf().map_err(|error| CliError::Open {
                path: path.to_owned(),
                error,
            })?;
            InputFormat::sniff_json(head)
        }
        _ => format,
    };
    Ok(SampleFile { format, reader })
}

impl From<InputFormatArg> for InputFormat {
    fn from(arg: InputFormatArg) -> Self {
        match arg {
            InputFormatArg::Json => InputFormat::Json,
            InputFormatArg::Ndjson => InputFormat::Ndjson,
            InputFormatArg::Csv => InputFormat::Csv,
            InputFormatArg::Fhir => InputFormat::Fhir,
            InputFormatArg::Hl7 => InputFormat::Hl7,
        }
    }
}
