//! Errors of pack loading: every problem with its file, line and column.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use thiserror::Error;

/// Where a problem sits in a pack file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Line, 1-based; 0 when unknown.
    pub line: u64,
    /// Column, 1-based; 0 when unknown.
    pub column: u64,
}

/// What kind of problem it is: a stable code for tools, next to the
/// sentence for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file cannot be read as a pack file (not UTF-8, too large).
    File,
    /// YAML or Rhai syntax.
    Syntax,
    /// The file's shape: an unknown or missing key, a wrong type, a value
    /// outside an enumeration.
    Shape,
    /// A value that breaks a rule of the pack (a unit, bounds, dose levels,
    /// a source, a name used twice, a likely unit slip).
    Rule,
    /// A pack that extends another: the base, the version requirement.
    Overlay,
    /// A native plugin's pin or library.
    Plugin,
    /// A test case of the pack.
    Case,
    /// The approvers' signatures: missing, invalid, untrusted, too few.
    Signature,
}

impl ProblemKind {
    /// The spelling in machine-readable output: `file`, `syntax`, `shape`,
    /// `rule`, `overlay`, `plugin`, `case`, `signature`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::File => "file",
            ProblemKind::Syntax => "syntax",
            ProblemKind::Shape => "shape",
            ProblemKind::Rule => "rule",
            ProblemKind::Overlay => "overlay",
            ProblemKind::Plugin => "plugin",
            ProblemKind::Case => "case",
            ProblemKind::Signature => "signature",
        }
    }
}

/// One thing wrong with a pack file.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The file, relative to the pack directory when it is inside it.
    pub file: String,
    /// Line and column of the offending node.
    pub position: Position,
    /// What is wrong, in lower case without a final period.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
    /// The file's text, for the snippet in rendered reports.
    pub(crate) text: Option<Arc<str>>,
}

impl Problem {
    pub(crate) fn new(
        kind: ProblemKind,
        file: &str,
        position: Position,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            kind,
            file: file.to_owned(),
            position,
            message: message.into(),
            help: None,
            text: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Byte offset of the position in the file's text, for the snippet.
    fn offset(&self) -> Option<usize> {
        let text = self.text.as_deref()?;
        if self.position.line == 0 {
            return None;
        }
        let line_start = text
            .split_inclusive('\n')
            .take(self.position.line.saturating_sub(1) as usize)
            .map(str::len)
            .sum::<usize>();
        let line = text[line_start..].lines().next().unwrap_or("");
        let column_bytes = line
            .char_indices()
            .nth(self.position.column.saturating_sub(1) as usize)
            .map_or(line.len(), |(i, _)| i);
        Some(line_start + column_bytes)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.position.line, self.position.column, self.message
        )
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        // miette needs an owned NamedSource; the text itself is a cheap Arc.
        None
    }
}

/// At most this many problems are reported per file: a file with 10,000
/// unknown keys is one mistake repeated, and reporting each would cost
/// memory and time in proportion.
pub const MAX_PROBLEMS_PER_FILE: usize = 50;

/// The first [`MAX_PROBLEMS_PER_FILE`] problems of each file, in order, and
/// for a file with more, one problem saying how many more there are.
fn capped(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(problems.len().min(1000));
    let mut dropped: Vec<(String, usize, Problem)> = Vec::new();
    for p in problems {
        let n = seen.entry(p.file.clone()).or_insert(0);
        *n += 1;
        if *n <= MAX_PROBLEMS_PER_FILE {
            out.push(p);
        } else if let Some(d) = dropped.iter_mut().find(|d| d.0 == p.file) {
            d.1 += 1;
        } else {
            dropped.push((p.file.clone(), 1, p));
        }
    }
    for (file, more, first) in dropped {
        let mut p = Problem::new(
            first.kind,
            &file,
            first.position,
            format!("and {more} more problems in this file, from here on"),
        );
        p.help = Some(format!(
            "fix the ones above first; only {MAX_PROBLEMS_PER_FILE} per file are listed"
        ));
        p.text = first.text;
        out.push(p);
    }
    out
}

/// A [`Problem`] rendered with its snippet: what `miette` shows a person.
#[derive(Debug, Error)]
#[error("{}", problem.message)]
pub struct ProblemReport {
    problem: Problem,
    /// The file's text, shared with every other problem of the file.
    text: Option<NamedSource<Arc<str>>>,
}

impl From<&Problem> for ProblemReport {
    fn from(problem: &Problem) -> Self {
        let source = problem
            .text
            .as_ref()
            .map(|t| NamedSource::new(problem.file.clone(), t.clone()));
        ProblemReport {
            problem: problem.clone(),
            text: source,
        }
    }
}

impl Diagnostic for ProblemReport {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.help()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.text.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let offset = self.problem.offset()?;
        let label = format!(
            "{}:{}:{}",
            self.problem.file, self.problem.position.line, self.problem.position.column
        );
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label),
            offset,
            0,
        ))))
    }
}

/// Why a pack was refused. A pack is refused whole: nothing is evaluated
/// against a pack with any problem.
#[derive(Debug, Error, Diagnostic)]
pub enum PackError {
    /// The pack directory or one of its files could not be read.
    #[error("cannot read `{}`: {error}", path.display())]
    #[diagnostic(code(tdm::pack::io))]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The reason (the operating system's, or a size limit).
        error: std::io::Error,
    },
    /// The pack was read but has problems; every one is listed.
    #[error("pack `{}` is invalid: {}", path.display(), plural(problems.len(), "problem"))]
    #[diagnostic(
        code(tdm::pack::invalid),
        help("fix every problem listed; a pack is used only when all of it is valid")
    )]
    Invalid {
        /// The pack directory.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
        /// The same problems with their snippets, for rendering.
        #[related]
        reports: Vec<ProblemReport>,
    },
}

impl PackError {
    pub(crate) fn invalid(path: PathBuf, problems: Vec<Problem>) -> Self {
        let problems = capped(problems);
        let reports = problems.iter().map(ProblemReport::from).collect();
        PackError::Invalid {
            path,
            problems,
            reports,
        }
    }

    /// Every problem of an invalid pack (empty for an I/O error).
    pub fn problems(&self) -> &[Problem] {
        match self {
            PackError::Invalid { problems, .. } => problems,
            PackError::Io { .. } => &[],
        }
    }
}

/// `1 problem`, `3 problems`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
