//! `tdm completions SHELL` and `tdm man`: shell completions and the man
//! page, generated from the same command definitions as `--help`, so they
//! cannot drift from it.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::exit::Exit;

/// Arguments of `tdm completions`.
#[derive(Args)]
pub(crate) struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

/// Arguments of `tdm man`.
#[derive(Args)]
pub(crate) struct ManArgs {}

pub(crate) fn completions(args: &CompletionsArgs) -> Exit {
    let mut command = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "tdm", &mut out);
    write(&out)
}

/// The page of `tdm` and of each command, one after another (`man -l -`
/// reads them; packagers split them with `--help` as the reference).
pub(crate) fn man(_: &ManArgs) -> Exit {
    let command = crate::Cli::command();
    let mut out = Vec::new();
    if clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .is_err()
    {
        return Exit::OutputFailed;
    }
    for sub in command.get_subcommands() {
        let page = clap_mangen::Man::new(sub.clone()).title(format!("tdm-{}", sub.get_name()));
        if page.render(&mut out).is_err() {
            return Exit::OutputFailed;
        }
    }
    write(&out)
}

fn write(bytes: &[u8]) -> Exit {
    match std::io::stdout().lock().write_all(bytes) {
        Ok(()) => Exit::Ok,
        Err(_) => Exit::OutputFailed,
    }
}
