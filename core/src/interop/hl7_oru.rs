//! HL7 v2.5.1 ORU^R01 results as samples: each OBX whose OBX-3 code the
//! pack maps to a drug's level is one result, in message order. The
//! patient is PID-3; the time of the draw OBR-7 (else OBX-14); the unit
//! OBX-6, a UCUM code; metabolites are OBX segments of the same OBR; the
//! indication a DG1 diagnosis; the dose an RXE order (RXE-3 in RXE-5 mg,
//! RXE-1's interval and start), the last intake the latest RXA before the
//! draw. A message of another type is one error, so that nothing sent is
//! passed over in silence.

use crate::interop::hl7::{Message, Segment, Split};
use crate::interop::{Built, Mapped, Refusal, UCUM, drug_named};
use crate::pack::codes::AnalyteCode;
use crate::pack::{Drug, Pack};

/// Result statuses judged (HL7 table 0085): final and corrected.
const FINAL: [&str; 2] = ["F", "C"];

/// The results of one message.
pub(crate) fn map_message(split: Split, number: usize, pack: &Pack) -> Vec<Mapped> {
    let message = match split {
        Ok(m) => m,
        Err((line, why)) => {
            return vec![error_at(line, String::new(), None, Refusal::invalid(why))];
        }
    };
    let msh = &message.segments[0];
    let kind = format!(
        "{}^{}",
        message.component(msh, 9, 1),
        message.component(msh, 9, 2)
    );
    let control = match message.component(msh, 10, 1) {
        id if id.is_empty() => format!("message-{number}"),
        id => id,
    };
    if kind != "ORU^R01" {
        let why = format!(
            "message {control} (line {}) is {kind}, not ORU^R01: it holds no result to judge",
            msh.line
        );
        return vec![error_at(
            msh.line,
            message.text.clone(),
            Some(control),
            Refusal::invalid(why),
        )];
    }
    let reader = Reader {
        message: &message,
        pack,
        control,
    };
    reader.results()
}

fn error_at(line: u64, given: String, id: Option<String>, refusal: Refusal) -> Mapped {
    Mapped {
        line,
        given,
        sample: Err(refusal.into_error(id, None, None)),
        read_from: Vec::new(),
    }
}

struct Reader<'a> {
    message: &'a Message,
    pack: &'a Pack,
    control: String,
}

/// An OBX that the code maps name, with the OBR it belongs to.
struct Level<'a> {
    obx: &'a Segment,
    obr: Option<&'a Segment>,
    code: &'a AnalyteCode,
}

impl<'a> Reader<'a> {
    fn c(&self, segment: &Segment, field: usize, component: usize) -> String {
        self.message.component(segment, field, component)
    }

    fn results(&self) -> Vec<Mapped> {
        let mut levels: Vec<Level<'a>> = Vec::new();
        let mut out = Vec::new();
        let mut obr = None;
        for segment in &self.message.segments {
            match segment.name.as_str() {
                "OBR" => obr = Some(segment),
                "OBX" => match self.analyte(segment) {
                    Some(code) => levels.push(Level {
                        obx: segment,
                        obr,
                        code,
                    }),
                    None => {
                        if let Some(refusal) = self.unknown(segment) {
                            out.push((segment.line, self.refused(segment, None, refusal)));
                        }
                    }
                },
                _ => {}
            }
        }
        for level in &levels {
            match &level.code.metabolite {
                None => out.push((level.obx.line, self.parent(level, &levels))),
                Some(m) => {
                    let has_parent = levels.iter().any(|l| {
                        l.code.metabolite.is_none()
                            && l.code.drug == level.code.drug
                            && same_obr(l, level)
                    });
                    if !has_parent {
                        let refusal = Refusal::invalid(format!(
                            "OBX-3 (line {}): a level of {m} without a level of {} in the same OBR: the metabolite alone is not judged",
                            level.obx.line, level.code.drug
                        ));
                        out.push((
                            level.obx.line,
                            self.refused(level.obx, Some(&level.code.drug), refusal),
                        ));
                    }
                }
            }
        }
        out.sort_by_key(|(line, _)| *line);
        out.into_iter().map(|(_, m)| m).collect()
    }

    /// The mapped analyte of OBX-3 (its identifier, then its alternate).
    fn analyte(&self, obx: &Segment) -> Option<&'a AnalyteCode> {
        let codes = self.pack.codes();
        [(1, 3), (4, 6)].into_iter().find_map(|(code, system)| {
            let uri = codes.hl7v2_system(&self.c(obx, 3, system))?;
            codes.analyte(uri, &self.c(obx, 3, code))
        })
    }

    fn unknown(&self, obx: &Segment) -> Option<Refusal> {
        let text = self.c(obx, 3, 2);
        let (drug, _) = drug_named(self.pack, &[&text])?;
        let given = vec![format!(
            "`{}` of `{}`",
            self.c(obx, 3, 1),
            self.c(obx, 3, 3)
        )];
        Some(crate::interop::unknown_code(
            &format!("OBX-3 (line {})", obx.line),
            &given,
            drug,
            self.pack,
        ))
    }

    fn id(&self, obx: &Segment) -> String {
        format!("{}/OBX-{}", self.control, self.c(obx, 1, 1))
    }

    fn patient(&self) -> Option<String> {
        let pid = self.message.all("PID").next()?;
        Some(self.c(pid, 3, 1)).filter(|p| !p.is_empty())
    }

    fn refused(&self, obx: &Segment, drug: Option<&str>, refusal: Refusal) -> Mapped {
        Mapped {
            line: obx.line,
            given: self.message.text.clone(),
            sample: Err(refusal.into_error(
                Some(self.id(obx)),
                self.patient(),
                drug.map(str::to_owned),
            )),
            read_from: Vec::new(),
        }
    }

    fn parent(&self, level: &Level<'_>, levels: &[Level<'_>]) -> Mapped {
        match self.sample(level, levels) {
            Ok(b) => Mapped {
                line: level.obx.line,
                given: self.message.text.clone(),
                sample: Ok(b.fields),
                read_from: b.read_from,
            },
            Err(r) => self.refused(level.obx, Some(&level.code.drug), r),
        }
    }

    fn sample(&self, level: &Level<'_>, levels: &[Level<'_>]) -> Result<Built, Refusal> {
        let obx = level.obx;
        let at = |field: &str| format!("{field} (line {})", obx.line);
        let mut b = Built::default();
        b.set("id", self.id(obx), &at("OBX-1"));
        let patient = self.patient().ok_or_else(|| {
            Refusal::missing(format!(
                "PID-3: missing: whose level {} is cannot be told",
                self.id(obx)
            ))
        })?;
        b.set("patient", patient, "PID-3");
        b.set("drug", level.code.drug.clone(), &at("OBX-3"));
        if let Some(m) = level.code.matrix {
            b.set("matrix", m.as_str(), &at("OBX-3"));
        }
        let (value, below) = self.value(obx)?;
        let unit = self.unit(obx)?;
        b.set("value", value, &at("OBX-5"));
        b.set("unit", unit.clone(), &at("OBX-6"));
        if below {
            b.set("below_lloq", true, &at("OBX-5"));
            b.set("lloq", value, &at("OBX-5"));
        }
        let time = self.time(level)?;
        if let Some((text, _)) = &time {
            b.set("sampled_at", text.clone(), &at("OBR-7"));
        }
        let mut metabolites = serde_json::Map::new();
        for m in levels.iter().filter(|l| {
            l.code.drug == level.code.drug && l.code.metabolite.is_some() && same_obr(l, level)
        }) {
            let name = m.code.metabolite.clone().unwrap_or_default();
            let (v, below) = self.value(m.obx)?;
            if below || self.unit(m.obx)? != unit {
                return Err(Refusal::unit(format!(
                    "OBX-5/OBX-6 (line {}): {name} must be a quantified level in {unit}, the unit of {}",
                    m.obx.line, level.code.drug
                )));
            }
            metabolites.insert(name, v.into());
        }
        if !metabolites.is_empty() {
            b.fields.insert("metabolites".into(), metabolites.into());
        }
        let drug = self
            .pack
            .drug(&level.code.drug)
            .ok_or_else(|| Refusal::invalid(format!("OBX-3: no drug `{}`", level.code.drug)))?;
        self.indication(&mut b)?;
        self.dose(&mut b, drug, time.map(|t| t.1))?;
        self.covariates(&mut b)?;
        Ok(b)
    }

    /// Covariates (body weight) from OBX segments the code maps name so,
    /// each in its UCUM unit.
    fn covariates(&self, b: &mut Built) -> Result<(), Refusal> {
        let codes = self.pack.codes();
        for obx in self.message.all("OBX") {
            let Some(c) = codes
                .hl7v2_system(&self.c(obx, 3, 3))
                .and_then(|system| codes.covariate(system, &self.c(obx, 3, 1)))
            else {
                continue;
            };
            let line = obx.line;
            let unit = self.c(obx, 6, 1);
            let value: Option<f64> = self.c(obx, 5, 1).trim().parse().ok();
            match value {
                Some(v) if unit == c.ucum && v.is_finite() => {
                    b.set(&c.input, v, &format!("OBX-5 (line {line})"))
                }
                _ => {
                    return Err(Refusal::unit(format!(
                        "OBX-5/OBX-6 (line {line}): {} is a number in UCUM `{}`, got `{}` `{unit}`",
                        c.input,
                        c.ucum,
                        self.c(obx, 5, 1)
                    )));
                }
            }
        }
        Ok(())
    }

    /// OBX-5 as a number: NM, or SN with `<` (below the limit of quantification).
    fn value(&self, obx: &Segment) -> Result<(f64, bool), Refusal> {
        let line = obx.line;
        let status = self.c(obx, 11, 1);
        if !FINAL.contains(&status.as_str()) {
            return Err(Refusal::invalid(format!(
                "OBX-11 (line {line}): result status `{status}`: only a final (F) or corrected (C) result is judged"
            )));
        }
        let number = |text: &str| {
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Refusal::invalid(format!("OBX-5 (line {line}): `{text}` is not a number"))
                })
        };
        match self.c(obx, 2, 1).as_str() {
            "NM" => Ok((number(&self.c(obx, 5, 1))?, false)),
            "SN" => {
                let comparator = self.c(obx, 5, 1);
                let value = number(&self.c(obx, 5, 2))?;
                match comparator.as_str() {
                    "" | "=" => Ok((value, false)),
                    "<" | "<=" => Ok((value, true)),
                    other => Err(Refusal::invalid(format!(
                        "OBX-5 (line {line}): `{other}`: a level above the assay's range is not a known level"
                    ))),
                }
            }
            other => Err(Refusal::invalid(format!(
                "OBX-2 (line {line}): value type `{other}`: a drug level is NM or SN"
            ))),
        }
    }

    /// OBX-6 as a contract unit: a UCUM code the pack maps.
    fn unit(&self, obx: &Segment) -> Result<String, Refusal> {
        let line = obx.line;
        let (code, system) = (self.c(obx, 6, 1), self.c(obx, 6, 3));
        if code.is_empty() {
            return Err(Refusal::unit(format!(
                "OBX-6 (line {line}): missing: units are never guessed"
            )));
        }
        let codes = self.pack.codes();
        if !system.is_empty() && codes.hl7v2_system(&system) != Some(UCUM) {
            return Err(Refusal::unit(format!(
                "OBX-6 (line {line}): coding system `{system}` is not UCUM: units are never guessed"
            )));
        }
        codes.unit(&code).map(str::to_owned).ok_or_else(|| {
            Refusal::unit(format!(
                "OBX-6 (line {line}): `{code}` is not a UCUM unit the pack reads"
            ))
        })
    }

    /// When the sample was drawn: OBR-7, else OBX-14.
    fn time(&self, level: &Level<'_>) -> Result<Option<(String, i64)>, Refusal> {
        let from_obr = level
            .obr
            .map(|obr| (self.c(obr, 7, 1), format!("OBR-7 (line {})", obr.line)));
        let from_obx = (
            self.c(level.obx, 14, 1),
            format!("OBX-14 (line {})", level.obx.line),
        );
        let (text, field) = match from_obr {
            Some((t, f)) if !t.is_empty() => (t, f),
            _ => from_obx,
        };
        if text.is_empty() {
            return Ok(None);
        }
        let iso = timestamp(&text).ok_or_else(|| {
            Refusal::invalid(format!(
                "{field}: `{text}` is not an HL7 date and time with hours and minutes (YYYYMMDDHHMM[SS][+ZZZZ])"
            ))
        })?;
        let t = crate::input::time::parse(&iso).ok_or_else(|| {
            Refusal::invalid(format!("{field}: `{text}` is not a valid date and time"))
        })?;
        Ok(Some((iso, t)))
    }

    fn indication(&self, b: &mut Built) -> Result<(), Refusal> {
        let codes = self.pack.codes();
        let mut found: Vec<(String, u64)> = Vec::new();
        for dg1 in self.message.all("DG1") {
            let Some(system) = codes.hl7v2_system(&self.c(dg1, 3, 3)) else {
                continue;
            };
            if let Some(i) = codes.indication(system, &self.c(dg1, 3, 1))
                && !found.iter().any(|(x, _)| x == &i.indication)
            {
                found.push((i.indication.clone(), dg1.line));
            }
        }
        match found.as_slice() {
            [] => Ok(()),
            [(indication, line)] => {
                b.set(
                    "indication",
                    indication.clone(),
                    &format!("DG1-3 (line {line})"),
                );
                Ok(())
            }
            [(a, la), (c, lc), ..] => Err(Refusal::invalid(format!(
                "DG1-3 (lines {la} and {lc}): {a} and {c} are both diagnoses in the message: which the level is judged for cannot be told"
            ))),
        }
    }

    /// The dose from the RXE order of the drug; the last intake from RXA.
    fn dose(&self, b: &mut Built, drug: &Drug, time: Option<i64>) -> Result<(), Refusal> {
        let of_drug = |s: &&Segment, field: usize| {
            let names = [self.c(s, field, 2), self.c(s, field, 1)];
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            drug_named(self.pack, &names).is_some_and(|(d, _)| d.name == drug.name)
        };
        let orders: Vec<&Segment> = self.message.all("RXE").filter(|s| of_drug(s, 2)).collect();
        if orders.len() > 1 {
            return Err(Refusal::invalid(format!(
                "RXE (lines {} and {}): two orders of {}: which applies cannot be told",
                orders[0].line, orders[1].line, drug.name
            )));
        }
        if let Some(rxe) = orders.first() {
            let line = rxe.line;
            if self.c(rxe, 5, 1) != "mg" {
                return Err(Refusal::unit(format!(
                    "RXE-5 (line {line}): `{}`: a dose is read in mg only",
                    self.c(rxe, 5, 1)
                )));
            }
            let mg: f64 = self.c(rxe, 3, 1).trim().parse().map_err(|_| {
                Refusal::invalid(format!(
                    "RXE-3 (line {line}): `{}` is not a dose",
                    self.c(rxe, 3, 1)
                ))
            })?;
            b.set("dose_mg", mg, &format!("RXE-3 (line {line})"));
            // RXE-7, the provider's administration instructions: a coded schedule.
            let codes = self.pack.codes();
            if let Some(regimen) = codes
                .hl7v2_system(&self.c(rxe, 7, 3))
                .and_then(|system| codes.regimen(system, &self.c(rxe, 7, 1)))
            {
                b.set("regimen", regimen, &format!("RXE-7 (line {line})"));
            }
            if let Some(h) = interval(&self.c(rxe, 1, 2)) {
                b.set("interval_h", h, &format!("RXE-1.2 (line {line})"));
            }
            let start = timestamp(&self.c(rxe, 1, 4)).and_then(|t| crate::input::time::parse(&t));
            if let (Some(start), Some(t)) = (start, time)
                && t >= start
            {
                let days = (t - start) as f64 / 86400.0;
                b.set(
                    "days_on_dose",
                    (days * 100.0).round() / 100.0,
                    &format!("RXE-1.4 (line {line})"),
                );
            }
        }
        let Some(t) = time else { return Ok(()) };
        let last = self
            .message
            .all("RXA")
            .filter(|s| of_drug(s, 5))
            .filter_map(|rxa| {
                timestamp(&self.c(rxa, 3, 1))
                    .and_then(|x| crate::input::time::parse(&x))
                    .map(|at| (at, rxa.line))
            })
            .filter(|(at, _)| *at <= t)
            .max();
        if let Some((at, line)) = last {
            let hours = (t - at) as f64 / 3600.0;
            b.set(
                "hours_since_dose",
                (hours * 100.0).round() / 100.0,
                &format!("RXA-3 (line {line})"),
            );
        }
        Ok(())
    }
}

fn same_obr(a: &Level<'_>, b: &Level<'_>) -> bool {
    match (a.obr, b.obr) {
        (Some(x), Some(y)) => x.line == y.line,
        (None, None) => true,
        _ => false,
    }
}

/// Hours between doses of an HL7 repeat pattern: `Q<n>H`, `Q<n>D`, `QD`,
/// `BID`, `TID`, `QID` (HL7 table 0335).
fn interval(pattern: &str) -> Option<f64> {
    let p = pattern.trim().to_ascii_uppercase();
    match p.as_str() {
        "QD" => return Some(24.0),
        "BID" => return Some(12.0),
        "TID" => return Some(8.0),
        "QID" => return Some(6.0),
        _ => {}
    }
    let body = p.strip_prefix('Q')?;
    let (n, unit) = body.split_at(body.len().checked_sub(1)?);
    let n: f64 = n.parse().ok().filter(|n: &f64| *n > 0.0)?;
    match unit {
        "H" => Some(n),
        "D" => Some(n * 24.0),
        _ => None,
    }
}

/// An HL7 TS (`YYYYMMDDHHMM[SS[.S…]][+/-ZZZZ]`) as the contract's date-time
/// (`YYYY-MM-DDTHH:MM[:SS][+HH:MM]`); None for a date alone or anything else.
pub(crate) fn timestamp(text: &str) -> Option<String> {
    let t = text.trim();
    let (clock, zone) = match t.find(['+', '-']) {
        Some(i) => (&t[..i], Some(&t[i..])),
        None => (t, None),
    };
    let clock = clock.split('.').next()?;
    if !(clock.len() == 12 || clock.len() == 14) || !clock.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut iso = format!(
        "{}-{}-{}T{}:{}",
        &clock[0..4],
        &clock[4..6],
        &clock[6..8],
        &clock[8..10],
        &clock[10..12]
    );
    if clock.len() == 14 {
        iso.push_str(&format!(":{}", &clock[12..14]));
    }
    if let Some(z) = zone {
        if z.len() != 5 || !z[1..].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        iso.push_str(&format!("{}:{}", &z[..3], &z[3..]));
    }
    Some(iso)
}

#[cfg(test)]
mod tests {
    use super::{interval, timestamp};

    #[test]
    fn hl7_times_become_contract_date_times() {
        assert_eq!(
            timestamp("202611240800").as_deref(),
            Some("2026-11-24T08:00")
        );
        assert_eq!(
            timestamp("20261124080030+0100").as_deref(),
            Some("2026-11-24T08:00:30+01:00")
        );
        assert_eq!(
            timestamp("20261124080030.25-0500").as_deref(),
            Some("2026-11-24T08:00:30-05:00")
        );
        assert_eq!(timestamp("20261124"), None);
        assert_eq!(timestamp("2026112408"), None);
        assert_eq!(timestamp("202611240800+01"), None);
    }

    #[test]
    fn repeat_patterns_give_hours() {
        assert_eq!(interval("Q24H"), Some(24.0));
        assert_eq!(interval("q12h"), Some(12.0));
        assert_eq!(interval("BID"), Some(12.0));
        assert_eq!(interval("Q2D"), Some(48.0));
        assert_eq!(interval("PRN"), None);
        assert_eq!(interval("Q0H"), None);
    }
}
