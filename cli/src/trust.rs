//! `--require-signature`: the options every command that answers with a
//! pack shares (eval, test, watch, serve), so each refuses an unsigned pack
//! the same way.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tdm_core::pack::Trust;
use tdm_core::{LoadOptions, Plugins};

use crate::context::CliError;

/// Which approvers' signatures a pack needs before it is used.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct TrustArgs {
    /// Refuse a pack unless enough trusted approvers signed its content
    /// (its signatures.yaml; see `tdm sign`). For an overlay, its base too.
    #[arg(long, requires = "trusted_keys", help_heading = "Signatures")]
    pub require_signature: bool,
    /// The allowed-signers file of the approvers' public keys, in the form
    /// `ssh-keygen -Y verify -f` reads.
    #[arg(
        long,
        value_name = "FILE",
        requires = "require_signature",
        help_heading = "Signatures"
    )]
    pub trusted_keys: Option<PathBuf>,
    /// Revoked public keys, one a line: their signatures never count.
    #[arg(
        long,
        value_name = "FILE",
        requires = "require_signature",
        help_heading = "Signatures"
    )]
    pub revoked_keys: Option<PathBuf>,
    /// Valid signatures by distinct trusted keys a pack needs.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        help_heading = "Signatures"
    )]
    pub min_signatures: usize,
}

impl TrustArgs {
    /// The trust to check packs against; `None` without --require-signature.
    pub(crate) fn trust(&self) -> Result<Option<Arc<Trust>>, CliError> {
        let Some(keys) = self
            .trusted_keys
            .as_deref()
            .filter(|_| self.require_signature)
        else {
            return Ok(None);
        };
        let trust = Trust::read(keys, self.revoked_keys.as_deref(), self.min_signatures)?;
        Ok(Some(Arc::new(trust)))
    }

    /// Load options under this trust and plugin policy.
    pub(crate) fn load_options(&self, plugins: Plugins) -> Result<LoadOptions, CliError> {
        Ok(LoadOptions {
            plugins,
            trust: self.trust()?,
        })
    }
}
