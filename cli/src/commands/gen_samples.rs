//! `tdm gen-samples`: a deterministic stream of realistic mixed samples over
//! every drug of a pack — metabolites, timing, toxicity, and a small share of
//! bad records — for benchmarks and load tests.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value, json};
use tdm_core::{Pack, pack::Lower, pack::TroughCorrection, result::Measure};

use crate::context;
use crate::exit::Exit;

/// Arguments of `tdm gen-samples`.
/// The formats samples are written in.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Written {
    /// A JSON array of samples.
    Json,
    /// One JSON sample per line.
    Ndjson,
    /// CSV with contract field names as headers.
    Csv,
}

#[derive(Args)]
pub(crate) struct GenArgs {
    /// The pack whose drugs, targets and dose levels the samples follow.
    #[arg(long, value_name = "DIR", default_value = "rules/ki-oncology")]
    pub pack: PathBuf,
    /// How many samples.
    #[arg(long)]
    pub n: u64,
    /// Seed: the same seed gives the same samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Written::Ndjson)]
    pub format: Written,
    /// Share of deliberately bad records (unknown drug, bad unit, negative or text value).
    #[arg(long, default_value_t = 0.02)]
    pub bad_fraction: f64,
}

/// splitmix64: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn round(v: f64, decimals: i32) -> f64 {
    let s = 10f64.powi(decimals);
    (v * s).round() / s
}

/// One sample of `pack`'s drugs; `bad` breaks it in one of the usual ways.
fn sample(pack: &Pack, rng: &mut Rng, index: u64, bad: bool) -> Map<String, Value> {
    let mut drug = &pack.drugs()[rng.below(pack.drugs().len())];
    // A drug with products is sampled as one of the products that has a target.
    let products: Vec<_> = drug
        .products
        .iter()
        .filter(|p| !p.targets.is_empty())
        .collect();
    if !products.is_empty() {
        drug = products[rng.below(products.len())];
    }
    // Every primary target a sample can be judged against (an AUC of an
    // unknown interval cannot).
    let mut targets: Vec<_> = drug
        .targets
        .iter()
        .filter(|t| t.primary && t.auc_interval_unknown.is_none())
        .collect();
    if targets.is_empty() {
        targets = drug
            .targets
            .iter()
            .filter(|t| t.measure == Measure::Cmin)
            .collect();
    }
    let target = targets[rng.below(targets.len())];
    // A product without dose levels in the pack is sampled without a dose.
    let level = match drug.dosing.levels.len() {
        0 => None,
        n => Some(&drug.dosing.levels[rng.below(n)]),
    };
    let interval_h = level.map_or(drug.dosing.interval_h, |l| l.interval_h);
    let reference = match target.lower {
        Some(Lower::Fixed(v)) => v,
        _ => target.population_mean.unwrap_or(100.0),
    };
    // Levels vary several-fold between patients: 0.3x to 2.5x the reference.
    let value = reference * (0.3 + 2.2 * rng.unit());
    let mut s = Map::new();
    s.insert("id".into(), json!(format!("G{index:08}")));
    s.insert(
        "patient".into(),
        json!(format!("P{:06}", rng.below(100_000))),
    );
    s.insert("drug".into(), json!(drug.name));
    if let Some(p) = &drug.product {
        s.insert("product".into(), json!(p.name));
    }
    if let Some(i) = target.indications.first() {
        s.insert("indication".into(), json!(i));
    }
    if let Some(r) = target.regimens.first() {
        s.insert("regimen".into(), json!(r));
    }
    let parent_share = if target.sum_of.len() > 1 { 0.7 } else { 1.0 };
    if target.measure == Measure::Auc {
        s.insert("measure".into(), json!("auc"));
        s.insert("value".into(), json!(round(value, 1)));
        s.insert("unit".into(), json!("ng*h/mL"));
        if let Some(h) = target.auc_interval_h {
            s.insert("auc_interval_h".into(), json!(h));
        }
    } else if rng.unit() < 0.1 && value > 1000.0 {
        s.insert(
            "value".into(),
            json!(round(value * parent_share / 1000.0, 3)),
        );
        s.insert("unit".into(), json!("mg/L"));
    } else {
        s.insert("value".into(), json!(round(value * parent_share, 2)));
        s.insert("unit".into(), json!("ng/mL"));
    }
    if target.sum_of.len() > 1 {
        let mut metabolites = Map::new();
        for &i in &target.sum_of[1..] {
            metabolites.insert(
                drug.analytes[i].name.clone(),
                json!(round(value * (1.0 - parent_share), 2)),
            );
        }
        s.insert("metabolites".into(), Value::Object(metabolites));
    }
    if let Some(level) = level {
        s.insert("dose_mg".into(), json!(level.mg));
    }
    if interval_h != drug.dosing.interval_h {
        s.insert("interval_h".into(), json!(interval_h));
    }
    // Most samples are troughs; some are drawn earlier where that can be corrected.
    let hours = match (&drug.correction, rng.unit()) {
        (TroughCorrection::LogLinear { valid_from_h }, u) if u < 0.3 => {
            valid_from_h + (interval_h - valid_from_h) * rng.unit()
        }
        _ => interval_h,
    };
    s.insert("hours_since_dose".into(), json!(round(hours, 1)));
    s.insert("days_on_dose".into(), json!(7 + rng.below(114)));
    s.insert(
        "toxicity_grade".into(),
        json!([0, 0, 0, 1, 1, 2, 3][rng.below(7)]),
    );
    if bad {
        match rng.below(4) {
            0 => s.insert("drug".into(), json!(format!("{}x", drug.name))),
            1 => s.insert("unit".into(), json!("ng/dl")),
            2 => s.insert("value".into(), json!(-1)),
            _ => s.insert("value".into(), json!("n/a")),
        };
    }
    s
}

pub(crate) fn run(args: &GenArgs) -> Exit {
    let pack = match context::load_pack_with(&args.pack, tdm_core::Plugins::VerifyOnly) {
        Ok(p) => p,
        Err(e) => return e.report(),
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut rng = Rng(args.seed);
    let metabolite_columns: Vec<String> = {
        let mut names: Vec<String> = pack
            .drugs()
            .iter()
            .flat_map(|d| {
                d.targets.iter().flat_map(move |t| {
                    t.sum_of
                        .iter()
                        .skip(1)
                        .map(move |&i| d.analytes[i].name.clone())
                })
            })
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let columns: Vec<String> = tdm_core::input::FIELDS
        .iter()
        .filter(|f| **f != "metabolites" && **f != "sampled_at")
        .map(|f| (*f).to_owned())
        .chain(
            metabolite_columns
                .iter()
                .map(|m| format!("{}{m}", tdm_core::input::METABOLITE_COLUMN_PREFIX)),
        )
        .collect();
    let written = (|| -> io::Result<()> {
        match args.format {
            Written::Csv => writeln!(out, "{}", columns.join(","))?,
            Written::Json => out.write_all(b"[\n")?,
            Written::Ndjson => {}
        }
        for i in 0..args.n {
            let bad = rng.unit() < args.bad_fraction;
            let s = sample(&pack, &mut rng, i, bad);
            match args.format {
                Written::Ndjson => writeln!(out, "{}", Value::Object(s))?,
                Written::Json => {
                    let sep = if i + 1 < args.n { "," } else { "" };
                    writeln!(out, "{}{sep}", Value::Object(s))?;
                }
                Written::Csv => {
                    let cell = |v: Option<&Value>| match v {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(t)) => t.clone(),
                        Some(other) => other.to_string(),
                    };
                    let row: Vec<String> = columns
                        .iter()
                        .map(
                            |c| match c.strip_prefix(tdm_core::input::METABOLITE_COLUMN_PREFIX) {
                                Some(m) => cell(s.get("metabolites").and_then(|ms| ms.get(m))),
                                None => cell(s.get(c.as_str())),
                            },
                        )
                        .collect();
                    writeln!(out, "{}", row.join(","))?;
                }
            }
        }
        if args.format == Written::Json {
            out.write_all(b"]\n")?;
        }
        out.flush()
    })();
    match written {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!("error: cannot write the samples: {e}");
            Exit::OutputFailed
        }
    }
}
