//! The metabolite's curve of a semi-physiological parent + metabolite
//! model (Yu et al., Br J Clin Pharmacol 2015;79:809-819, sunitinib and
//! SU12662): the dose is absorbed into an enzyme site in quasi-steady
//! state with the parent's central compartment through the hepatic blood
//! flow `qh`,
//!
//! `C_site = (ka * A_depot + qh * C_parent) / (qh + cl)`,
//!
//! and `fm * cl * C_site` flows into the metabolite's central compartment
//! (one or two compartments). The formation rate is a sum of two
//! exponentials (absorption and the parent's elimination), and each one's
//! convolution with the metabolite's disposition is closed, so a unit
//! dose's metabolite curve is a sum of four exponentials: superposition and
//! the geometric series of regular dosing apply unchanged.

use super::solution::{Curve, Params, apart};

/// The metabolite's unit-dose curve (mg/L per mg of parent).
pub(super) fn curve(p: &Params) -> Curve {
    let (f_parent, cl_parent) = p.effective();
    let k_parent = cl_parent / p.v1;
    // The metabolite's disposition after a unit amount in its central
    // compartment: sum of d_i exp(-lambda_i t).
    let k10 = p.cl_m / p.v_m;
    let (lambda, d, n_disposition) = if p.v_mp > 0.0 && p.q_m > 0.0 {
        let (k12, k21) = (p.q_m / p.v_m, p.q_m / p.v_mp);
        let sum = k10 + k12 + k21;
        let root = (sum * sum - 4.0 * k10 * k21).max(0.0).sqrt();
        let (alpha, beta) = ((sum + root) / 2.0, (sum - root) / 2.0);
        (
            [alpha, beta],
            [
                (alpha - k21) / ((alpha - beta) * p.v_m),
                (k21 - beta) / ((alpha - beta) * p.v_m),
            ],
            2,
        )
    } else {
        ([k10, 0.0], [1.0 / p.v_m, 0.0], 1)
    };
    // The formation rate per mg given: r_j exp(-rho_j t), from what is
    // absorbed into the site and what returns to it from the central
    // compartment. Rates equal to a disposition rate are moved apart.
    let ka = apart(p.ka, &lambda[..n_disposition]);
    let k_parent = apart(apart(k_parent, &[ka]), &lambda[..n_disposition]);
    let (qh, cl) = (p.qh, p.cl);
    let to_metabolite = p.fm * cl / (qh + cl);
    let b = f_parent * ka / (p.v1 * (ka - k_parent));
    let rho = [ka, k_parent];
    let r = [to_metabolite * (p.f * ka - qh * b), to_metabolite * qh * b];
    let mut a = [0.0; 4];
    let mut l = [0.0; 4];
    for i in 0..n_disposition {
        l[i] = lambda[i];
        for j in 0..2 {
            let c = r[j] * d[i] / (rho[j] - lambda[i]);
            a[i] += c;
            a[n_disposition + j] -= c;
        }
    }
    l[n_disposition] = rho[0];
    l[n_disposition + 1] = rho[1];
    Curve::Exponentials {
        a,
        l,
        n: n_disposition + 2,
    }
}

#[cfg(test)]
mod tests {
    use super::super::solution::{Analyte, Params};

    /// Yu 2015's typical values (nlmixr2lib Yu_2015_sunitinib.R): the
    /// parent and its metabolite with two compartments.
    fn sunitinib() -> Params {
        Params {
            ka: 0.34,
            cl: 35.7,
            v1: 1360.0,
            q: 0.0,
            v2: 0.0,
            lag_h: 0.0,
            f: 1.0,
            qh: 80.0,
            fm: 0.21,
            cl_m: 17.1,
            v_m: 635.0,
            q_m: 20.1,
            v_mp: 388.0,
        }
    }

    /// The model as its ODEs (depot, parent central, metabolite central and
    /// peripheral amounts; the enzyme site algebraic), integrated with
    /// classic Runge-Kutta at a fixed step: (parent, metabolite) in mg/L.
    fn integrate(p: &Params, doses: &[(f64, f64)], t_end: f64) -> (f64, f64) {
        let step = 1e-2;
        let derivative = |y: [f64; 4]| {
            let site = (p.ka * y[0] + p.qh * y[1] / p.v1) / (p.qh + p.cl);
            let (k12, k21) = if p.v_mp > 0.0 {
                (p.q_m / p.v_m, p.q_m / p.v_mp)
            } else {
                (0.0, 0.0)
            };
            [
                -p.ka * y[0],
                p.qh * site - p.qh * y[1] / p.v1,
                p.fm * p.cl * site - (p.cl_m / p.v_m + k12) * y[2] + k21 * y[3],
                k12 * y[2] - k21 * y[3],
            ]
        };
        let mut y = [0.0; 4];
        let mut events = doses.to_vec();
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut t, mut next) = (0.0, 0);
        while t < t_end - 1e-12 {
            while next < events.len() && events[next].0 <= t + 1e-12 {
                y[0] += p.f * events[next].1;
                next += 1;
            }
            let until = events.get(next).map_or(t_end, |e| e.0.min(t_end));
            let h = f64::min(step, until - t);
            let add = |y: [f64; 4], k: [f64; 4], s: f64| std::array::from_fn(|i| y[i] + s * k[i]);
            let k1 = derivative(y);
            let k2 = derivative(add(y, k1, h / 2.0));
            let k3 = derivative(add(y, k2, h / 2.0));
            let k4 = derivative(add(y, k3, h));
            y = std::array::from_fn(|i| {
                y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
            });
            t += h;
        }
        (y[1] / p.v1, y[2] / p.v_m)
    }

    fn close(closed: f64, numeric: f64, what: &str) {
        let rel = ((closed - numeric) / numeric).abs();
        assert!(
            rel < 1e-6,
            "{what}: closed {closed} vs ODE {numeric} ({rel:e})"
        );
    }

    #[test]
    fn parent_and_metabolite_match_the_odes() {
        let one_compartment = Params {
            q_m: 0.0,
            v_mp: 0.0,
            ..sunitinib()
        };
        for (name, p) in [("two", sunitinib()), ("one", one_compartment)] {
            let doses: Vec<(f64, f64)> = (0..7).map(|j| (f64::from(j) * 24.0, 50.0)).collect();
            for t in [1.0, 6.0, 24.0] {
                let at = 6.0 * 24.0 + t;
                let (parent, metabolite) = integrate(&p, &doses, at);
                close(
                    p.doses_of(Analyte::Parent, &doses, at),
                    parent,
                    &format!("{name}: parent at {t} h"),
                );
                close(
                    p.doses_of(Analyte::Metabolite, &doses, at),
                    metabolite,
                    &format!("{name}: metabolite at {t} h"),
                );
                close(
                    p.regular_of(Analyte::Metabolite, 50.0, 24.0, Some(7), t),
                    metabolite,
                    &format!("{name}: metabolite, regular, at {t} h"),
                );
            }
        }
    }

    #[test]
    fn the_typical_steady_state_troughs_of_50_mg() {
        // Yu 2015's typical patient on 50 mg daily: parent and metabolite
        // troughs at steady state, by 60 days of doses through the ODEs.
        let p = sunitinib();
        let doses: Vec<(f64, f64)> = (0..60).map(|j| (f64::from(j) * 24.0, 50.0)).collect();
        let (parent, metabolite) = integrate(&p, &doses, 60.0 * 24.0);
        close(
            p.regular_of(Analyte::Parent, 50.0, 24.0, None, 24.0),
            parent,
            "parent",
        );
        let rel =
            (p.regular_of(Analyte::Metabolite, 50.0, 24.0, None, 24.0) - metabolite) / metabolite;
        // 60 days is within 1e-4 of steady state for the metabolite's ~80 h.
        assert!(rel.abs() < 1e-4, "{rel:e}");
        // The slowest rate is the metabolite's terminal one.
        assert!(p.slowest_rate() < p.cl * p.qh / (p.qh + p.cl) / p.v1);
    }

    #[test]
    fn courses_and_the_total_read_the_same_doses() {
        use super::super::map::{Dosing, courses_of};
        let p = sunitinib();
        // 28 days on, then 14 off (the 4/2 schedule), and 3 days on again.
        let doses: Vec<(f64, f64)> = (0..28)
            .chain(42..45)
            .map(|d| (f64::from(d) * 24.0, 50.0))
            .collect();
        let listed = Dosing::History(doses.clone());
        let courses = Dosing::Courses(courses_of(&doses));
        for t in [27.0 * 24.0 + 24.0, 41.0 * 24.0, 44.0 * 24.0 + 6.0] {
            let m = listed.concentration_of(Analyte::Metabolite, &p, t);
            close(
                courses.concentration_of(Analyte::Metabolite, &p, t),
                m,
                "courses",
            );
            let total = courses.concentration_of(Analyte::Total, &p, t);
            close(total, m + listed.concentration(&p, t), "total");
        }
        // The metabolite outlasts the parent in the two weeks off.
        let off = 41.0 * 24.0;
        assert!(
            listed.concentration_of(Analyte::Metabolite, &p, off) > listed.concentration(&p, off)
        );
    }
}
