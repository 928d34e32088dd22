//! Exit codes: each means one thing.

/// The process exit status of `tdm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// Everything evaluated ok; every test case passed.
    Ok = 0,
    /// Some records gave error results, or some test cases failed.
    Failures = 1,
    /// The command line was wrong (clap uses 2 as well).
    Usage = 2,
    /// The pack was refused (invalid or unreadable).
    PackRefused = 3,
    /// The input could not be read (missing file, broken JSON document).
    InputUnreadable = 4,
    /// The output could not be written.
    OutputFailed = 5,
    /// The service could not start (its address is in use or not permitted).
    ServiceFailed = 6,
}
