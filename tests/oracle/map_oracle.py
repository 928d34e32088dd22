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


def concentrations(p, doses, times):
    """ng/mL at each time: the model's linear ODEs (depot, central,
    peripheral amounts) solved between doses by the matrix exponential."""
    k10 = p["cl"] / p["v1"]
    two = p.get("v2", 0.0) > 0.0
    k12 = p["q"] / p["v1"] if two else 0.0
    k21 = p["q"] / p["v2"] if two else 0.0
    rates = np.array([
        [-p["ka"], 0.0, 0.0],
        [p["ka"], -(k10 + k12), k21],
        [0.0, k12, -k21],
    ])
    cache = {}

    def advance(y, dt):
        key = round(dt, 9)
        if key not in cache:
            cache[key] = expm(rates * dt)
        return cache[key] @ y

    events = sorted((t + p.get("lag_h", 0.0), mg * p.get("f", 1.0)) for t, mg in doses)
    out = []
    for t_obs in times:
        y = np.zeros(3)
        t = events[0][0] if events else t_obs
        for at, amount in events:
            if at >= t_obs:
                break
            y = advance(y, at - t)
            t = at
            y[0] += amount
        y = advance(y, t_obs - t)
        out.append(1000.0 * y[1] / p["v1"])
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
    times = [level[0] for level in patient["levels"]]
    y = np.array([level[1] for level in patient["levels"]])
    f = np.maximum(concentrations(p, patient["doses"], times), 1e-12)
    var = variance(model["residual"], f)
    if model["residual"]["kind"] == "exponential":
        resid = np.log(y) - np.log(f)
    else:
        resid = y - f
    return float(np.sum(resid**2 / var + np.log(var)) + eta @ omega_inv @ eta)


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

    def ln_trough(e):
        return float(np.log(concentrations(individual(model, e), doses, [tau])[0]))

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
