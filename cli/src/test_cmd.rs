//! `tdm test`: run packs' own test cases, like `opa test`.

use tdm_core::{load_cases, run_case};

use crate::TestArgs;
use crate::exit::Exit;

pub(crate) fn run(args: &TestArgs) -> Exit {
    let (mut passed, mut failed) = (0u64, 0u64);
    for dir in &args.packs {
        let pack = match crate::load_pack(dir, crate::plugins(args.allow_plugins)) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let cases = match load_cases(dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return Exit::PackRefused;
            }
        };
        println!(
            "pack {} {} ({}): {} cases",
            pack.name,
            pack.version,
            pack.digest,
            cases.len()
        );
        if cases.is_empty() {
            println!("  no test cases: add tests/*.yaml to {}", dir.display());
        }
        for case in &cases {
            let outcome = run_case(&pack, case);
            if outcome.failures.is_empty() {
                passed += 1;
                if args.verbose {
                    println!("  ok    {} :: {}", case.file, case.name);
                }
            } else {
                failed += 1;
                println!("  FAIL  {} :: {}", case.file, case.name);
                for f in &outcome.failures {
                    println!("          {f}");
                }
                if let Some(r) = &outcome.result.rationale {
                    println!("          rationale: {r}");
                }
                if let Some(e) = &outcome.result.error {
                    println!("          error: {e}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 { Exit::Failures } else { Exit::Ok }
}
