#!/usr/bin/env python3
"""An independent implementation of MAP estimation for tdm's fixtures.

Reads fixtures (JSON) on stdin and writes, for each patient, the MAP etas,
the individual prediction of the steady-state trough on the current dose,
its posterior and prior SD on the log scale, and the seconds it took. Written apart from the Rust
code (closed forms, objective, optimiser, Hessian) so that the two can only
agree by being right: concentrations come from the model's ODEs solved by
the matrix exponential (scipy.linalg.expm) dose by dose, not from closed
forms; the mode from scipy.optimize (Nelder-Mead polished by BFGS); the
curvature from central differences.
"""
import json
import sys
import time

import numpy as np
from scipy.linalg import expm
from scipy.optimize import minimize


def individual(model, eta):
    p = dict(model["typical"])
    for name, e in zip(model["etas"], eta):
        p[name] = p[name] * np.exp(e)
    return p


def rate_matrix(p):
    """The model's linear ODEs as a matrix over the amounts (depot,
    central, peripheral, metabolite central, metabolite peripheral). With a
    hepatic enzyme site (qh > 0), the site's concentration is algebraic,
    (ka * depot + qh * central / v1) / (qh + cl): the central compartment
    gains qh * site and loses qh * central / v1, and fm * cl * site forms
    the metabolite (Yu et al. 2015)."""
    rates = np.zeros((5, 5))
    ka, cl, v1 = p["ka"], p["cl"], p["v1"]
    qh = p.get("qh", 0.0)
    rates[0, 0] = -ka
    if qh > 0.0:
        site_depot, site_central = ka / (qh + cl), qh / v1 / (qh + cl)
        rates[1, 0] = qh * site_depot
        rates[1, 1] = qh * site_central - qh / v1
        rates[3, 0] = p["fm"] * cl * site_depot
        rates[3, 1] = p["fm"] * cl * site_central
    else:
        two = p.get("v2", 0.0) > 0.0
        k12 = p["q"] / v1 if two else 0.0
        k21 = p["q"] / p["v2"] if two else 0.0
        rates[1, 0] = ka
        rates[1, 1] = -(cl / v1 + k12)
        rates[1, 2] = k21
        rates[2, 1] = k12
        rates[2, 2] = -k21
    v_m = p.get("v_m", 0.0)
    if v_m > 0.0:
        two = p.get("v_mp", 0.0) > 0.0
        k12 = p["q_m"] / v_m if two else 0.0
        k21 = p["q_m"] / p["v_mp"] if two else 0.0
        rates[3, 3] = -(p["cl_m"] / v_m + k12)
        rates[3, 4] = k21
        rates[4, 3] = k12
        rates[4, 4] = -k21
    return rates


def concentrations(p, doses, times, analytes=None):
    """ng/mL at each time, of the parent, the metabolite or their total:
    the model's linear ODEs solved between doses by the matrix exponential."""
    rates = rate_matrix(p)
    cache = {}

    def advance(y, dt):
        key = round(dt, 9)
        if key not in cache:
            cache[key] = expm(rates * dt)
        return cache[key] @ y

    events = sorted((t + p.get("lag_h", 0.0), mg * p.get("f", 1.0)) for t, mg in doses)
    out = []
    for k, t_obs in enumerate(times):
        y = np.zeros(5)
        t = events[0][0] if events else t_obs
        for at, amount in events:
            if at >= t_obs:
                break
            y = advance(y, at - t)
            t = at
            y[0] += amount
        y = advance(y, t_obs - t)
        parent = 1000.0 * y[1] / p["v1"]
        metabolite = 1000.0 * y[3] / p["v_m"] if p.get("v_m", 0.0) > 0.0 else 0.0
        analyte = analytes[k] if analytes else "parent"
        out.append({"parent": parent, "metabolite": metabolite, "total": parent + metabolite}[analyte])
    return np.array(out)


def variance(residual, f):
    kind = residual["kind"]
    if kind == "proportional":
        return (residual["b"] * f) ** 2
    if kind == "additive":
        return residual["a"] ** 2 + 0.0 * f
    if kind == "combined_sqrt":
        return residual["a"] ** 2 + (residual["b"] * f) ** 2
    if kind == "combined_sum":
        return (residual["a"] + residual["b"] * f) ** 2
    if kind == "exponential":
        return residual["sd"] ** 2 + 0.0 * f
    raise ValueError(kind)


def objective(model, patient, omega_inv, eta):
    p = individual(model, eta)
    levels = patient["levels"]
    times = [level[0] for level in levels]
    analytes = [level[2] if len(level) > 2 else "parent" for level in levels]
    f_all = np.maximum(concentrations(p, patient["doses"], times, analytes), 1e-12)
    total = float(eta @ omega_inv @ eta)
    for level, analyte, f in zip(levels, analytes, f_all):
        residual = model["metabolite_residual"] if analyte == "metabolite" else model["residual"]
        var = variance(residual, f)
        y = level[1]
        resid = np.log(y) - np.log(f) if residual["kind"] == "exponential" else y - f
        total += float(resid**2 / var + np.log(var))
    return total


def hessian(fun, x, h=1e-4):
    n = len(x)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            e_i = np.eye(n)[i] * h
            e_j = np.eye(n)[j] * h
            out[i, j] = (fun(x + e_i + e_j) - fun(x + e_i - e_j) - fun(x - e_i + e_j) + fun(x - e_i - e_j)) / (4 * h * h)
    return (out + out.T) / 2


def gradient(fun, x, h=1e-5):
    n = len(x)
    return np.array([(fun(x + np.eye(n)[i] * h) - fun(x - np.eye(n)[i] * h)) / (2 * h) for i in range(n)])


def trough_doses(patient, n_doses):
    """Enough doses of the current regimen for steady state (the last one at 0)."""
    dose, tau = patient["current_dose_mg"], patient["tau_h"]
    return [(-k * tau, dose) for k in range(n_doses)], tau


def solve(model, patient):
    omega = np.array(model["omega"])
    omega_inv = np.linalg.inv(omega)
    n = len(model["etas"])
    fun = lambda eta: objective(model, patient, omega_inv, np.asarray(eta))
    first = minimize(fun, np.zeros(n), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    best = minimize(fun, first.x, method="BFGS", options={"gtol": 1e-9})
    eta = best.x if best.fun <= first.fun else first.x
    cov = 2.0 * np.linalg.inv(hessian(fun, eta))
    doses, tau = trough_doses(patient, patient["steady_state_doses"])

    trough_of = patient.get("trough_of", "parent")

    def ln_trough(e):
        return float(np.log(concentrations(individual(model, e), doses, [tau], [trough_of])[0]))

    g = gradient(ln_trough, eta)
    return {
        "id": patient["id"],
        "eta": eta.tolist(),
        "trough": float(np.exp(ln_trough(eta))),
        "sd_log": float(np.sqrt(g @ cov @ g)),
        "prior_sd_log": float(np.sqrt(g @ omega @ g)),
    }


def main():
    fixtures = json.load(sys.stdin)
    out = []
    for case in fixtures:
        for patient in case["patients"]:
            started = time.perf_counter()
            solved = solve(case["model"], patient)
            solved["seconds"] = time.perf_counter() - started
            out.append(solved)
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
