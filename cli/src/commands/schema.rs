//! `tdm schema`: write the JSON Schemas of packs, samples and results.

use std::fs;
use std::path::PathBuf;

use crate::exit::Exit;
use clap::Args;

/// Arguments of `tdm schema`.
#[derive(Args)]
pub(crate) struct SchemaArgs {
    /// Directory to write the schemas into.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
}

pub(crate) fn run(args: &SchemaArgs) -> Exit {
    if let Err(e) = fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create `{}`: {e}", args.out.display());
        return Exit::OutputFailed;
    }
    for (name, schema) in tdm_core::tools::schemas() {
        let path = args.out.join(name);
        let text = match serde_json::to_string_pretty(&schema) {
            Ok(t) => t + "\n",
            Err(e) => {
                eprintln!("error: cannot render {name}: {e}");
                return Exit::OutputFailed;
            }
        };
        if let Err(e) = fs::write(&path, text) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return Exit::OutputFailed;
        }
        println!("wrote {}", path.display());
    }
    Exit::Ok
}
