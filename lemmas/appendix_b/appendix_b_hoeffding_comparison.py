r"""Lemma 22 and Corollary 23 (Paper A, App. B; Hoeffding 1963, Thm. 4): sampling without replacement
is dominated in convex order by sampling with replacement.

For a finite population (here the multiset :math:`\{z_\mu\times m\}` of Lemma 21, :math:`mV` values,
mean :math:`\mu_Z`), :math:`n` draws without (:math:`X^{\rm wor}`) and with (:math:`X^{\rm wr}`)
replacement, and every convex :math:`g`:

.. math:: E\,g\Big(\sum_{i=1}^nX^{\rm wor}_i\Big)\ \le\ E\,g\Big(\sum_{i=1}^nX^{\rm wr}_i\Big),\qquad
          \Pr\Big[\pm\Big(\sum_iX^{\rm wor}_i-n\mu_Z\Big)\ge t\Big]\le\inf_{\lambda\ge0}e^{-\lambda t}
          \big(E e^{\pm\lambda(X^{\rm wr}_1-\mu_Z)}\big)^n .

**Measured** (bound 1): ``part="convex"``: :math:`\max_g E g(S^{\rm wor})/E g(S^{\rm wr})` over the
hinges :math:`(x-a)_+`, :math:`(a-x)_+` at every integer :math:`a` strictly inside the support
(outside it they are affine there and give equality) and the central
powers :math:`(x-n\mu_Z)^2,(x-n\mu_Z)^4` (exact ``Fraction``: both laws computed exactly, the
without-replacement one by a dynamic programme over colours). ``part="chernoff"``: the largest
ratio of the exact two-sided tails to Corollary 23's bound over every attainable :math:`t>0`
(the infimum over :math:`\lambda` numerically, float64).
**Empirical** (large population): the same ratios for the central powers and the tails, with the
without-replacement law sampled (:math:`R` multivariate hypergeometric draws) and the
with-replacement one exact; uncertainty = 3 standard errors.
**Negative controls**: a concave :math:`g(x)=K-(x-n\mu_Z)^2` (the inequality reverses), and the
Chernoff bound multiplied by 1/5.
"""
from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
from scipy import optimize

from scipy import stats as scipy_stats

from verify.harness.claims import Case, Claim, Measurement
from verify.harness.stats import CONFIDENCE, mean_limits
from verify.rhm import balls_into_bins as bb

STATEMENT = (r"E\,g\big(\textstyle\sum_{i\le n}X^{\rm wor}_i\big)\le E\,g\big(\sum_{i\le n}X^{\rm wr}_i\big)\ (g\text{ convex});"
             r"\quad \Pr[\pm(\textstyle\sum_iX^{\rm wor}_i-n\mu_Z)\ge t]\le\inf_{\lambda\ge0}e^{-\lambda t}(Ee^{\pm\lambda(X^{\rm wr}_1-\mu_Z)})^n")


def population(V: int, kind: str = "ramp") -> list[int]:
    """Integer, centred colour values z (each present m times)."""
    if kind == "ramp":
        return [2 * i - (V - 1) for i in range(V)]
    if kind == "pair":
        return [1, -1] + [0] * (V - 2)
    if kind == "skewed":
        return [V - 1] + [-1] * (V - 1)
    raise ValueError(f"unknown population {kind!r}")


def law_without_replacement(z, m: int, n: int) -> dict:
    """Exact law of the sum of n draws without replacement from {z_mu x m} (DP over colours)."""
    states = {(0, 0): 1}
    for v in z:
        new: dict = {}
        for (k, s), w in states.items():
            for j in range(0, min(m, n - k) + 1):
                key = (k + j, s + j * v)
                new[key] = new.get(key, 0) + w * comb(m, j)
        states = new
    total = comb(m * len(z), n)
    return {s: Fraction(w, total) for (k, s), w in states.items() if k == n}


def law_with_replacement(z, n: int) -> dict:
    """Exact law of the sum of n i.i.d. uniform draws from z."""
    law = {0: Fraction(1)}
    p = Fraction(1, len(z))
    for _ in range(n):
        new: dict = {}
        for s, w in law.items():
            for v in z:
                new[s + v] = new.get(s + v, 0) + w * p
        law = new
    return law


def expect(law: dict, g) -> Fraction:
    return sum((w * g(s) for s, w in law.items()), Fraction(0))


def convex_family(support, center):
    fam = {"(x-c)^2": lambda x: (x - center) ** 2, "(x-c)^4": lambda x: (x - center) ** 4}
    for a in range(min(support) + 1, max(support)):  # hinges affine on the support give equality
        fam[f"(x-{a})_+"] = lambda x, a=a: max(x - a, 0)
        fam[f"({a}-x)_+"] = lambda x, a=a: max(a - x, 0)
    return fam


def chernoff(z, n: int, t: float, sign: int) -> float:
    r""":math:`\inf_{\lambda\ge0}e^{-\lambda t}(Ee^{\pm\lambda(X-\mu)})^n` (float64)."""
    x = sign * (np.asarray(z, dtype=float) - np.mean(z))

    def log_bound(lam):
        a = lam * x
        return -lam * t + n * (np.log(np.mean(np.exp(a - a.max()))) + a.max())
    hi = 50.0 / max(np.abs(x).max(), 1e-12)
    res = optimize.minimize_scalar(log_bound, bounds=(0.0, hi), method="bounded", options={"xatol": 1e-10})
    return float(np.exp(min(res.fun, 0.0)))


def tail_ratios(law_wor: dict, z, n: int, mean: Fraction, scale: float = 1.0) -> list:
    rows = []
    devs = sorted({s - mean for s in law_wor})
    for sign in (1, -1):
        for t in devs:
            if sign * t <= 0:
                continue
            tail = sum(float(w) for s, w in law_wor.items() if sign * (s - mean) >= sign * t)
            b = scale * chernoff(z, n, float(sign * t), sign)
            rows.append([sign, float(sign * t), tail, b, tail / b])
    return rows


def exact(case: Case) -> Measurement:
    p = case.params
    V, m = p["V"], p["m"]
    n = p.get("n", m)
    z = population(V, p.get("population", "ramp"))
    wor, wr = law_without_replacement(z, m, n), law_with_replacement(z, n)
    center = n * Fraction(sum(z), V)
    if p["part"] in ("convex", "concave"):
        if p["part"] == "convex":
            fam = convex_family(wor.keys() | wr.keys(), center)
        else:
            K = max((s - center) ** 2 for s in wr)
            fam = {"K-(x-c)^2": lambda x: K - (x - center) ** 2}
        ratios = {}
        for name, g in fam.items():
            b = expect(wr, g)
            if b != 0:
                ratios[name] = expect(wor, g) / b
        worst = max(ratios, key=ratios.get)
        return Measurement(value=ratios[worst], details={
            "population": z, "m": m, "n": n, "functions": len(ratios), "worst_function": worst,
            "ratios": {k: float(v) for k, v in ratios.items()},
            "variance_ratio": float(ratios.get("(x-c)^2", float("nan")))})
    rows = tail_ratios(wor, z, n, center, p.get("scale", 1.0))
    worst = max(rows, key=lambda r: r[4])
    return Measurement(value=worst[4], details={"population": z, "m": m, "n": n, "tails": rows,
                                                "worst": {"sign": worst[0], "t": worst[1], "tail": worst[2],
                                                          "chernoff": worst[3]}})


FAMILY_LEVEL = 0.01


def sampled_vs_exact(case: Case, generator) -> Measurement:
    r"""Exact against sampled: the central moments :math:`E(S^{\rm wor}-n\mu_Z)^k`, :math:`k=2,4`, of
    :math:`R` sampled draws without replacement against the exact dynamic programme
    (:func:`law_without_replacement`); measured is the largest :math:`|\text{sampled}-\text{exact}|`
    over its Student-t radius, two-sided at level 1% for the family of both moments (Bonferroni;
    a test on this seeded draw; bound 1)."""
    p = case.params
    V, m, R = p["V"], p["m"], p["draws"]
    n = m
    zi = population(V, p.get("population", "ramp"))
    z = np.array(zi, dtype=float)
    rng = bb.numpy_rng(generator)
    S = rng.multivariate_hypergeometric([m] * V, n, size=R) @ z - n * z.mean()
    law = law_without_replacement(zi, m, n)
    centre = Fraction(n * sum(zi), len(zi))
    rows, worst = [], 0.0
    for k in (2, 4):
        exact_k = float(sum(w * (Fraction(s) - centre) ** k for s, w in law.items()))
        lo, hi = mean_limits(S**k, 1 - FAMILY_LEVEL / 4)  # two moments, two sides
        half = (hi - lo) / 2
        ratio = abs(float((S**k).mean()) - exact_k) / half
        rows.append({"moment": k, "exact": exact_k, "sampled": float((S**k).mean()), "radius_99": half,
                     "ratio": ratio})
        worst = max(worst, ratio)
    return Measurement(value=worst, details={"V": V, "m": m, "draws": R, "rows": rows, "test_level": FAMILY_LEVEL})


#: Draws held in memory at once (``[CHUNK, V]`` counts).
CHUNK = 1_000_000


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    if p.get("part") == "consistency":
        return sampled_vs_exact(case, generator)
    V, m, R = p["V"], p["m"], p["draws"]
    n = m
    z = np.array(population(V, p.get("population", "ramp")), dtype=float)
    rng = bb.numpy_rng(generator)
    # drawn in chunks of at most CHUNK (one chunk: exactly one batch); only the sums are kept
    S = np.concatenate([rng.multivariate_hypergeometric([m] * V, n, size=min(CHUNK, R - start)) @ z
                        for start in range(0, R, CHUNK)]) - n * z.mean()
    # with replacement: exact central moments of a sum of n i.i.d. draws
    x = z - z.mean()
    m2, m4 = (x**2).mean(), (x**4).mean()
    wr2, wr4 = n * m2, n * m4 + 3 * n * (n - 1) * m2**2
    rows = []
    for name, vals, ref in (("(x-c)^2", S**2, wr2), ("(x-c)^4", S**4, wr4)):
        rows.append([name, vals.mean() / ref, 3 * vals.std() / np.sqrt(R) / ref])
    sd = np.sqrt(wr2)
    for k in (1.0, 2.0):
        for sign in (1, -1):
            freq = float((sign * S >= k * sd).mean())
            b = chernoff(z, n, k * sd, sign)
            rows.append([f"tail {'+' if sign > 0 else '-'}{k:g}sd", freq / b,
                         3 * np.sqrt(max(freq * (1 - freq), 1.0 / R) / R) / b])
    worst = max(rows, key=lambda r: r[1])
    z99 = float(scipy_stats.norm.ppf(CONFIDENCE))  # rows carry 3 standard errors
    se = float(worst[2]) / 3
    return Measurement(value=float(worst[1]), lower=float(worst[1]) - z99 * se, upper=float(worst[1]) + z99 * se,
                       confidence=CONFIDENCE,
                       details={"V": V, "m": m, "draws": R, "rows": [[r[0], float(r[1]), float(r[2])] for r in rows],
                                "worst": worst[0]})


def bound(case: Case):
    return 1


CLAIM = Claim(
    name="appendix_b_hoeffding_comparison",
    paper="A",
    reference="Lemma 22 and Corollary 23 (App. B)",
    page="p. 32 (Lemma 22), p. 33 (Corollary 23)",
    statements=("Lemma 22", "Corollary 23"),
    hypotheses=(
        r"X^{wor}_i,\ X^{wr}_i:\ n\text{ draws without / with replacement from the same finite population}",
        r"\text{Lemma 22: }g\text{ convex}",
        r"\text{Corollary 23: }\lambda\ge0",
    ),
    alias="Lemma B.4, Corollary B.5 (inferred)",
    statement=STATEMENT,
    measured=(r"\max_g E g(S^{\rm wor})/E g(S^{\rm wr})\ \text{(convex }g)\ \text{or}\ "
              r"\max_t \Pr[\pm(S^{\rm wor}-n\mu_Z)\ge t]/\text{Chernoff}(t)"),
    relation="<=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        Case("convex_ramp_V4_m4", dict(V=4, m=4, part="convex")),
        Case("convex_skewed_V6_m5", dict(V=6, m=5, part="convex", population="skewed")),
        Case("convex_pair_V8_m6", dict(V=8, m=6, part="convex", population="pair")),
        Case("chernoff_ramp_V6_m6", dict(V=6, m=6, part="chernoff")),
        Case("chernoff_skewed_V8_m8", dict(V=8, m=8, part="chernoff", population="skewed")),
        Case("concave_ramp_V4_m4", dict(V=4, m=4, part="concave"), role="negative_control",
             note="g(x) = K - (x - n mu)^2 is concave: without replacement has the larger expectation"),
        Case("chernoff_fifth_V6_m6", dict(V=6, m=6, part="chernoff", scale=0.2), role="negative_control",
             note="Corollary 23's bound multiplied by 1/5: the tail at the smallest t exceeds it"),
        Case("sampled_ramp_V16_m16", dict(V=16, m=16, draws=200_000), method="empirical", seed=221),
        Case("sampled_vs_exact_ramp_V6_m6", dict(V=6, m=6, part="consistency", draws=200_000), method="empirical",
             seed=223, note="the sampled central moments of S without replacement against the exact law"),
        Case("sampled_ramp_V64_m32", dict(V=64, m=32, draws=20_000_000), scale="large", method="empirical",
             seed=222, cpu_params={"draws": 20_000_000},
             note="2e7 draws: the worst ratio (about 0.98, near the variance ratio (mV-n)/(mV-1) = 0.985 at "
                  "n/mV = 1/64) resolved to about 1e-3, and the tail ratios at 1 and 2 sd"),
    ),
)
