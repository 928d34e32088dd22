//! Closed-form concentrations of linear compartment models after oral
//! doses: one or two compartments, first-order absorption, an optional lag
//! time, bioavailability. A single dose's curve is a sum of exponentials;
//! doses add (superposition, the models are linear), and a run of regular
//! doses is a geometric series per exponential, so steady state and "the
//! n-th dose" cost the same as one dose.

/// Individual parameters of one patient (apparent values when F is 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Absorption rate constant, 1/h.
    pub ka: f64,
    /// Clearance, L/h.
    pub cl: f64,
    /// Central volume, L.
    pub v1: f64,
    /// Inter-compartmental clearance, L/h (two compartments only).
    pub q: f64,
    /// Peripheral volume, L (two compartments only; 0 for one).
    pub v2: f64,
    /// Absorption lag time, h.
    pub lag_h: f64,
    /// Bioavailability, a fraction.
    pub f: f64,
    /// Hepatic blood flow through an enzyme site in quasi-steady state
    /// with the central compartment, L/h (Yu et al., Br J Clin Pharmacol
    /// 2015;79:809-819); 0 for none. With it, `cl` acts at that site: the
    /// parent sees a first pass `qh / (qh + cl)` and eliminates at
    /// `cl * qh / (qh + cl)` (one compartment only).
    pub qh: f64,
    /// A metabolite formed at the enzyme site (the fields below; `v_m` 0
    /// for none): the fraction `fm` of the parent's clearance there flows
    /// into the metabolite's central compartment. Its concentrations are in
    /// the units its parameters were estimated on (no molar-mass
    /// conversion is made).
    pub fm: f64,
    /// The metabolite's clearance, L/h.
    pub cl_m: f64,
    /// Its central volume, L (0: no metabolite).
    pub v_m: f64,
    /// Its inter-compartmental clearance, L/h (0 for one compartment).
    pub q_m: f64,
    /// Its peripheral volume, L (0 for one compartment).
    pub v_mp: f64,
}

/// Which concentration a curve gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analyte {
    /// The drug given.
    Parent,
    /// Its metabolite (0 where the model has none).
    Metabolite,
    /// The two summed (a target on the total).
    Total,
}

/// Relative distance under which two rate constants count as equal, where
/// the usual formula divides by their difference: above it the formula
/// loses at most 8 of 16 digits to cancellation.
const EQUAL_RATES: f64 = 1e-8;

/// A unit dose's curve after the lag: `sum of a_m * exp(-l_m * t)` in mg/L
/// per mg, or for one compartment with `ka` equal to `k` the limiting form
/// `a * t * exp(-k * t)`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Curve {
    Exponentials { a: [f64; 4], l: [f64; 4], n: usize },
    Coincident { a: f64, k: f64 },
}

/// Moves `rate` off each of `others` it nearly equals, by a relative 2e-8
/// (an error of that order in the curve; the exact limit is not worth its
/// code).
pub(super) fn apart(mut rate: f64, others: &[f64]) -> f64 {
    for &other in others {
        if (rate - other).abs() <= EQUAL_RATES * rate.max(other) {
            rate = other * (1.0 + 2.0 * EQUAL_RATES);
        }
    }
    rate
}

impl Params {
    /// A one-compartment model with first-order absorption: no lag, full
    /// bioavailability, no enzyme site, no metabolite; other structures set
    /// their fields on top (`..Params::one_compartment(ka, cl, v1)`).
    pub fn one_compartment(ka: f64, cl: f64, v1: f64) -> Params {
        Params {
            ka,
            cl,
            v1,
            q: 0.0,
            v2: 0.0,
            lag_h: 0.0,
            f: 1.0,
            qh: 0.0,
            fm: 0.0,
            cl_m: 0.0,
            v_m: 0.0,
            q_m: 0.0,
            v_mp: 0.0,
        }
    }

    /// The parent's bioavailability and clearance as a plain model sees
    /// them (through the enzyme site where there is one).
    pub(super) fn effective(&self) -> (f64, f64) {
        if self.qh > 0.0 {
            let through = self.qh / (self.qh + self.cl);
            (self.f * through, self.cl * through)
        } else {
            (self.f, self.cl)
        }
    }

    /// The curve of the parent or of the metabolite (a total is summed by
    /// the callers: its seven exponentials do not fit one curve).
    fn curve_of(&self, analyte: Analyte) -> Curve {
        match analyte {
            Analyte::Parent | Analyte::Total => self.curve(),
            Analyte::Metabolite if self.v_m > 0.0 => super::metabolite::curve(self),
            Analyte::Metabolite => Curve::Exponentials {
                a: [0.0; 4],
                l: [1.0; 4],
                n: 0,
            },
        }
    }

    fn curve(&self) -> Curve {
        let (f, cl) = self.effective();
        let unit = f * self.ka / self.v1;
        let k10 = cl / self.v1;
        if self.v2 <= 0.0 {
            if (self.ka - k10).abs() <= EQUAL_RATES * self.ka.max(k10) {
                return Curve::Coincident { a: unit, k: k10 };
            }
            let c = unit / (self.ka - k10);
            return Curve::Exponentials {
                a: [c, -c, 0.0, 0.0],
                l: [k10, self.ka, 0.0, 0.0],
                n: 2,
            };
        }
        let (k12, k21) = (self.q / self.v1, self.q / self.v2);
        let sum = k10 + k12 + k21;
        let root = (sum * sum - 4.0 * k10 * k21).max(0.0).sqrt();
        let (alpha, beta) = ((sum + root) / 2.0, (sum - root) / 2.0);
        let ka = apart(self.ka, &[alpha, beta]);
        let unit = f * ka / self.v1;
        Curve::Exponentials {
            a: [
                unit * (k21 - alpha) / ((ka - alpha) * (beta - alpha)),
                unit * (k21 - beta) / ((ka - beta) * (alpha - beta)),
                unit * (k21 - ka) / ((alpha - ka) * (beta - ka)),
                0.0,
            ],
            l: [alpha, beta, ka, 0.0],
            n: 3,
        }
    }

    /// The slowest rate of the curve, 1/h: elimination, or absorption where
    /// it is slower (flip-flop). It sets the terminal half-life and how
    /// fast a new steady state is reached.
    /// With a metabolite, the slower of the two curves' (the metabolite
    /// formed last sets when their sum is steady).
    pub fn slowest_rate(&self) -> f64 {
        let slowest = |c: Curve| match c {
            Curve::Exponentials { l, n, .. } => {
                l[..n].iter().copied().fold(f64::INFINITY, f64::min)
            }
            Curve::Coincident { k, .. } => k,
        };
        let parent = slowest(self.curve());
        if self.v_m > 0.0 {
            parent.min(slowest(super::metabolite::curve(self)))
        } else {
            parent
        }
    }

    /// The parent's concentration (mg/L) `t` hours after the last of `n`
    /// doses of `dose_mg` given every `tau` hours (`n` = None: steady
    /// state).
    pub fn regular(&self, dose_mg: f64, tau: f64, n: Option<u32>, t: f64) -> f64 {
        self.regular_of(Analyte::Parent, dose_mg, tau, n, t)
    }

    /// As [`Params::regular`], of `analyte`.
    pub fn regular_of(
        &self,
        analyte: Analyte,
        dose_mg: f64,
        tau: f64,
        n: Option<u32>,
        t: f64,
    ) -> f64 {
        if analyte == Analyte::Total {
            return self.regular_of(Analyte::Parent, dose_mg, tau, n, t)
                + self.regular_of(Analyte::Metabolite, dose_mg, tau, n, t);
        }
        let curve = self.curve_of(analyte);
        // The last dose counts only once its lag has passed; the earlier
        // ones, `tau` and more before, always have (lag < tau is checked).
        let (first, t0) = if t >= self.lag_h {
            (0, t - self.lag_h)
        } else {
            (1, t - self.lag_h + tau)
        };
        let count = n.map(|n| n.saturating_sub(first));
        if count == Some(0) {
            return 0.0;
        }
        dose_mg * series(curve, t0, tau, count)
    }

    /// The parent's concentration (mg/L) at time `t` of doses `(time, mg)`
    /// in any order.
    pub fn doses(&self, doses: &[(f64, f64)], t: f64) -> f64 {
        self.doses_of(Analyte::Parent, doses, t)
    }

    /// As [`Params::doses`], of `analyte`.
    pub fn doses_of(&self, analyte: Analyte, doses: &[(f64, f64)], t: f64) -> f64 {
        if analyte == Analyte::Total {
            return self.doses_of(Analyte::Parent, doses, t)
                + self.doses_of(Analyte::Metabolite, doses, t);
        }
        let curve = self.curve_of(analyte);
        doses
            .iter()
            .filter(|(at, _)| t - at > self.lag_h)
            .map(|(at, mg)| mg * series(curve, t - at - self.lag_h, 1.0, Some(1)))
            .sum()
    }
}

/// `sum over j < count of curve(t + j * tau)` (count None: to infinity).
fn series(curve: Curve, t: f64, tau: f64, count: Option<u32>) -> f64 {
    match curve {
        Curve::Exponentials { a, l, n } => (0..n)
            .map(|m| {
                let r = (-l[m] * tau).exp();
                a[m] * (-l[m] * t).exp() * geometric(r, count)
            })
            .sum(),
        Curve::Coincident { a, k } => {
            // sum of (t + j tau) r^j e^{-k t} = e^{-k t} (t S0 + tau S1).
            let r = (-k * tau).exp();
            let (s0, s1) = (geometric(r, count), weighted_geometric(r, count));
            a * (-k * t).exp() * (t * s0 + tau * s1)
        }
    }
}

/// `sum of r^j for j < n` (n None: to infinity), for 0 <= r < 1.
fn geometric(r: f64, n: Option<u32>) -> f64 {
    match n {
        None => 1.0 / (1.0 - r),
        Some(n) => (1.0 - r.powi(n as i32)) / (1.0 - r),
    }
}

/// `sum of j r^j for j < n` (n None: to infinity).
fn weighted_geometric(r: f64, n: Option<u32>) -> f64 {
    let d = (1.0 - r) * (1.0 - r);
    match n {
        None => r / d,
        Some(n) => {
            let n = n as i32;
            r * (1.0 - f64::from(n) * r.powi(n - 1) + f64::from(n - 1) * r.powi(n)) / d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same model as ODEs (depot, central, peripheral amounts),
    /// integrated with classic Runge-Kutta at a fine fixed step: an
    /// independent check of every closed form.
    fn integrate(p: &Params, doses: &[(f64, f64)], t_end: f64) -> f64 {
        let step: f64 = 1e-3;
        let (mut depot, mut central, mut peripheral) = (0.0, 0.0, 0.0);
        let k10 = p.cl / p.v1;
        let (k12, k21) = if p.v2 > 0.0 {
            (p.q / p.v1, p.q / p.v2)
        } else {
            (0.0, 0.0)
        };
        let derivative = |d: f64, c: f64, q: f64| {
            (
                -p.ka * d,
                p.ka * d - (k10 + k12) * c + k21 * q,
                k12 * c - k21 * q,
            )
        };
        let mut events: Vec<(f64, f64)> = doses.iter().map(|(t, mg)| (t + p.lag_h, *mg)).collect();
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut t = 0.0;
        let mut next = 0;
        while t < t_end - 1e-12 {
            while next < events.len() && events[next].0 <= t + 1e-12 {
                depot += p.f * events[next].1;
                next += 1;
            }
            let until = events.get(next).map_or(t_end, |e| e.0.min(t_end));
            let h = step.min(until - t);
            let (a1, b1, c1) = derivative(depot, central, peripheral);
            let (a2, b2, c2) = derivative(
                depot + h / 2.0 * a1,
                central + h / 2.0 * b1,
                peripheral + h / 2.0 * c1,
            );
            let (a3, b3, c3) = derivative(
                depot + h / 2.0 * a2,
                central + h / 2.0 * b2,
                peripheral + h / 2.0 * c2,
            );
            let (a4, b4, c4) = derivative(depot + h * a3, central + h * b3, peripheral + h * c3);
            depot += h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4);
            central += h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4);
            peripheral += h / 6.0 * (c1 + 2.0 * c2 + 2.0 * c3 + c4);
            t += h;
        }
        central / p.v1
    }

    fn one() -> Params {
        // Widmer 2006's typical imatinib values, with a lag for the test.
        Params {
            lag_h: 0.5,
            ..Params::one_compartment(0.61, 14.3, 347.0)
        }
    }

    fn two() -> Params {
        Params {
            q: 8.0,
            v2: 120.0,
            lag_h: 0.25,
            f: 0.8,
            ..Params::one_compartment(1.2, 5.0, 40.0)
        }
    }

    fn close(closed: f64, numeric: f64, what: &str) {
        let rel = ((closed - numeric) / numeric).abs();
        assert!(
            rel < 1e-6,
            "{what}: closed {closed} vs ODE {numeric} (relative {rel:e})"
        );
    }

    #[test]
    fn regular_doses_match_the_odes() {
        for (name, p) in [("one compartment", one()), ("two compartments", two())] {
            let (tau, n) = (24.0, 5u32);
            let doses: Vec<(f64, f64)> = (0..n).map(|j| (f64::from(j) * tau, 400.0)).collect();
            let last = f64::from(n - 1) * tau;
            for t in [0.2, 0.5, 1.0, 3.0, 6.0, 12.0, 23.9] {
                let numeric = integrate(&p, &doses, last + t);
                close(
                    p.regular(400.0, tau, Some(n), t),
                    numeric,
                    &format!("{name} at {t} h"),
                );
                close(
                    p.doses(&doses, last + t),
                    numeric,
                    &format!("{name} history at {t} h"),
                );
            }
        }
    }

    #[test]
    fn steady_state_is_the_limit_of_many_doses() {
        for p in [one(), two()] {
            let n = 400u32;
            let doses: Vec<(f64, f64)> = (0..n).map(|j| (f64::from(j) * 12.0, 200.0)).collect();
            let last = f64::from(n - 1) * 12.0;
            for t in [1.0, 6.0, 12.0] {
                close(
                    p.regular(200.0, 12.0, None, t),
                    p.doses(&doses, last + t),
                    "steady state",
                );
            }
        }
    }

    #[test]
    fn equal_absorption_and_elimination_rates_use_the_limit() {
        let mut p = one();
        p.ka = p.cl / p.v1;
        let doses: Vec<(f64, f64)> = (0..3).map(|j| (f64::from(j) * 24.0, 400.0)).collect();
        for t in [2.0, 12.0, 24.0] {
            let numeric = integrate(&p, &doses, 48.0 + t);
            close(
                p.regular(400.0, 24.0, Some(3), t),
                numeric,
                "coincident rates",
            );
        }
        // ka equal to the slower disposition rate, beta.
        let mut q = two();
        let (k10, k12, k21) = (q.cl / q.v1, q.q / q.v1, q.q / q.v2);
        let sum = k10 + k12 + k21;
        q.ka = (sum - (sum * sum - 4.0 * k10 * k21).sqrt()) / 2.0;
        let doses = [(0.0, 100.0)];
        close(
            q.doses(&doses, 10.0),
            integrate(&q, &doses, 10.0),
            "ka near a disposition rate",
        );
    }
}
