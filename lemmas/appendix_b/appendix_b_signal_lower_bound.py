r"""Proposition 19 (Paper A, App. B; arXiv alias Proposition B.1, inferred): random rules give a signal.

Under Appendix B's rule sampler, if :math:`m,V=\Theta(\log d)`, :math:`L=O(\log d/\log\log d)` and
:math:`\min\{m,V\}\gg\log^3(1/\delta_P)`, then with probability :math:`\ge1-\delta_P`

.. math:: \|q^{(l)}_\mu-q^{(l)}_{\mu'}\|\ \ge\ (20m)^{-(l-1)/2}\qquad\forall l\in[L],\ \nu(\mu)\ne\nu(\mu').

The proof rests on the identity :math:`q^{(l)}_\mu=P_1\cdots P_{l-1}e_{\nu(\mu)}`, true because
every :math:`P_k` is doubly stochastic (then Lemma 30 and a union bound over pairs).

**Measured**: the constant in place of 20. For one grammar, with :math:`\rho_l` the exact per-level
gap of the signal-gap claim (``verify.rhm.assumptions.signal_gaps``),
:math:`C=\max_{l\ge2}\rho_l^{-2/(l-1)}/m` is the smallest :math:`c` with
:math:`\rho_l\ge(cm)^{-(l-1)/2}` at every level (level 1 is trivial: :math:`\rho_1=\sqrt2`).
``require_identity=True`` (the proposition *with its proof*) sets :math:`C=+\infty` when some
:math:`P_k` is not doubly stochastic, i.e. when the proof's identity does not hold.
**Exact**: :math:`C` in exact arithmetic (rationals and surds) for each grammar of a list of
seeds; measured = the largest (the constant that held for every one of them).
**Empirical** (over random grammars): the :math:`(1-\delta)`-quantile of :math:`C` over :math:`R`
grammars (float64 exact algorithm per grammar), with distribution-free one-sided 99% limits (order statistics).
**Cross-check** (``kind="identity"``, independent of ``verify.rhm.exact``): the first-token matrices
are counted directly from the grammar's rules, :math:`A_l=P_1\cdots P_{l-1}` is multiplied out in
rationals, and :math:`\min_{\nu\ne\nu'}\|A_l(e_\nu-e_{\nu'})\|^2` (the proof's identity) is compared
with the library's exact :math:`\rho_l^2` at every level; measured = the number of levels where the
two differ (bound 0). **Consistency** (``kind="float_vs_exact"``): the float64 :math:`C` of the
empirical method against the exact one on the same grammars; measured = the largest relative
difference (bound :math:`10^{-9}`).
**Both samplers**: Appendix B's (the proposition's) and the RHM authors' (not covered by it: its
:math:`P_k` are only row-stochastic, the gap is measured from the Bayes form of :math:`q`).
**Finite-size maps** (``kind="map"``): over a :math:`(V,m)` grid (:math:`m\le V`, :math:`n_c=V`, :math:`s=2`),
``grammars`` random grammars a point; a grammar *meets* the bound when :math:`\rho_l\ge(cm)^{-(l-1)/2}` at every
level (:math:`C\le c`, :math:`c=20`). Per point: the share meeting it with one-sided 99% Clopper--Pearson limits
and its verdict (holds when the upper limit of the share *violating* it is :math:`\le\delta`); the crossover per
row. Measured = the share violating it at the grid's largest point, bound :math:`\delta` -- the proposition's
"with probability :math:`\ge1-\delta`" there. The paper prints no value of :math:`\delta_P` and no constant in
:math:`\gg`: the map says where the conclusion holds at finite size, it does not test the hypothesis.
**Sweeps**: the large ``grammars_*`` cases also record :math:`c_\delta` along :math:`V=2m` (``details.sweep``).
**Negative controls**: the authors' sampler with ``require_identity`` (the doubly-stochastic
identity fails), and the bound multiplied past what holds (:math:`c=1/2`, also for the maps).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy
import torch

from verify import rhm
from verify.harness.findings import measured_constant
from verify.harness.claims import Case, Claim, Measurement
from verify.harness.stats import CONFIDENCE, quantile_limits, rate_limits, repetitions_to_decide
from verify.rhm import assumptions
from verify.rhm import balls_into_bins as bb
from verify.rhm.exact import transition_matrices

STATEMENT = r"\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|\ \ge\ (20m)^{-(l-1)/2}\quad\forall l\in[L],\ \nu(\mu)\neq\nu(\mu')\quad\text{w.p.}\ \ge1-\delta_P"


def doubly_stochastic(g: rhm.Grammar) -> bool:
    """Every first-token matrix P_k of the grammar is doubly stochastic (exact, from rule counts)."""
    return all(bb.is_doubly_stochastic(P) for P in transition_matrices(g, "float64"))


def grammar_constant(g: rhm.Grammar, arithmetic: str = "float64", require_identity: bool = False):
    r""":math:`C=\max_{l\ge2}\rho_l^{-2/(l-1)}/m` (exact sympy or float); ``(C, per-level, identity)``."""
    m = g.num_synonyms
    identity = doubly_stochastic(g)
    gaps = assumptions.signal_gaps(g, arithmetic)
    exact_ = arithmetic == "fraction"
    per_level, worst = [], (sympy.Integer(0) if exact_ else 0.0)
    for gl in gaps[1:]:
        l = gl.level
        if gl.gap_sq is None or gl.gap_sq == 0:
            c = sympy.oo if exact_ else float("inf")
        elif exact_:
            gs = sympy.Rational(gl.gap_sq.numerator, gl.gap_sq.denominator)
            c = gs ** sympy.Rational(-1, l - 1) / m
        else:
            c = float(gl.gap_sq) ** (-1.0 / (l - 1)) / m
        per_level.append({"level": l, "gap": float(gl.gap) if gl.gap_sq is not None else 0.0,
                          "prop19_bound": float(assumptions.prop19_bound(m, l)), "C_l": float(c)})
        worst = c if float(c) > float(worst) else worst
    if require_identity and not identity:
        worst = sympy.oo if exact_ else float("inf")
    return worst, per_level, identity


def grammar_of(p: dict, seed: int) -> rhm.Grammar:
    return rhm.sample_grammar(p["V"], p.get("n_c", p["V"]), p["m"], p.get("s", 2), p["L"], seed=seed,
                              sampler=p["sampler"])


#: Exact constants by grammar: ``exact_appendix_b_V16_m8_L3`` and ``exact_bound_halved_V16_m8_L3`` read the same
#: grammars' constants, as do the authors' sampler's cases with and without ``require_identity`` (issue 15). A test
#: that injects a bug empties every lemma module's ``RUNS_MEMO`` first (tests/test_claims_catch_bugs.py).
RUNS_MEMO: dict = {}


def exact_constant(p: dict, seed: int, require_identity: bool = False):
    """:func:`grammar_constant` in rationals of the grammar :func:`grammar_of` draws from ``p`` and ``seed``,
    memoised in :data:`RUNS_MEMO` (a grammar is a function of its parameters and seed)."""
    key = (p["V"], p.get("n_c", p["V"]), p["m"], p.get("s", 2), p["L"], p["sampler"], seed)
    if key not in RUNS_MEMO:
        RUNS_MEMO[key] = grammar_constant(grammar_of(p, seed), "fraction")
    c, levels, identity = RUNS_MEMO[key]
    if require_identity and not identity:  # as grammar_constant(..., require_identity=True)
        c = sympy.oo
    return c, [dict(r) for r in levels], identity


def exact(case: Case) -> Measurement:
    p = case.params
    if p.get("kind") in ("identity", "float_vs_exact"):
        return cross_check(case)
    rows, worst = [], sympy.Integer(0)
    for seed in p["seeds"]:
        c, levels, identity = exact_constant(p, seed, p.get("require_identity", False))
        rows.append({"seed": seed, "C": float(c), "C_exact": sympy.sstr(c), "identity_holds": identity,
                     "levels": levels})
        worst = c if float(c) > float(worst) else worst
    return Measurement(value=worst, details={"sampler": p["sampler"], "grammars": rows,
                                             "identity_fails_for": sum(not r["identity_holds"] for r in rows)})


def identity_gaps_sq(g: rhm.Grammar) -> list:
    r""":math:`\min_{\nu\ne\nu'}\|P_1\cdots P_{l-1}(e_\nu-e_{\nu'})\|^2` for :math:`l=2..L`, in rationals,
    from first-token counts taken directly from ``g.rules`` (no call into ``verify.rhm.exact``)."""
    m, out = g.num_synonyms, []
    A = None
    for l in range(1, g.num_layers):
        first = np.asarray(g.rules[l - 1])[:, :, 0]                       # [parents, m]
        P = np.full((first.shape[0], g.num_features), Fraction(0), dtype=object)
        for parent, row in enumerate(first):
            for child in row:
                P[parent, int(child)] += Fraction(1, m)
        A = P if A is None else A.dot(P)
        cols = A.T
        out.append(min(sum((a - b) ** 2 for a, b in zip(cols[i], cols[j]))
                       for i in range(len(cols)) for j in range(i + 1, len(cols))))
    return out


def cross_check(case: Case) -> Measurement:
    p = case.params
    rows, bad = [], 0
    for seed in p["seeds"]:
        g = grammar_of(p, seed)
        if p["kind"] == "identity":
            lib = [gl.gap_sq for gl in assumptions.signal_gaps(g, "fraction")[1:]]
            ind = identity_gaps_sq(g)
            diff = [a != b for a, b in zip(lib, ind)]
            bad += sum(diff)
            rows.append({"seed": seed, "library_gap_sq": [float(x) for x in lib],
                         "identity_gap_sq": [float(x) for x in ind], "levels_differing": sum(diff)})
        else:
            ce = float(exact_constant(p, seed)[0])
            cf = float(grammar_constant(g, "float64")[0])
            rel = 0.0 if ce == cf else abs(cf - ce) / abs(ce)
            bad = max(bad, rel)
            rows.append({"seed": seed, "C_exact": ce, "C_float64": cf, "relative_difference": rel})
    return Measurement(value=sympy.Integer(bad) if p["kind"] == "identity" else bad,
                       details={"kind": p["kind"], "grammars": rows})


def survey(p: dict, seeds) -> dict:
    """C per grammar (float64), with per-level C_l and whether the proof's identity holds."""
    C, Cl, ident = [], [], []
    for seed in seeds:
        c, levels, identity = grammar_constant(grammar_of(p, seed), "float64", p.get("require_identity", False))
        C.append(c)
        Cl.append([r["C_l"] for r in levels])
        ident.append(identity)
    return {"C": np.array(C), "C_l": np.array(Cl), "identity": np.array(ident)}


def _cell(p: dict, V: int, m: int, seeds) -> dict:
    """One (V, m) point of a sweep or map: C over the grammars ``seeds``; the share meeting the bound
    (``C <= c``) with its one-sided 99% Clopper--Pearson limits and the verdict of the share violating it
    against delta; the (1-delta)-quantile of C with its limits."""
    c, delta = p.get("c", 20), p["delta"]
    q = dict(p, V=V, m=m)
    q.pop("n_c", None)  # n_c = V at every point
    res = survey(q, seeds)
    C = res["C"]
    R = len(C)
    violating = int((C > c).sum())
    lo, hi = rate_limits(violating, R)
    status = "holds" if hi <= delta else ("fails" if lo > delta else "inconclusive")
    c_lo, c_hi = quantile_limits(C, 1 - delta)
    return {"V": V, "m": m, "L": p["L"], "grammars": R, "meeting": R - violating, "share_meeting": 1 - violating / R,
            "share_meeting_limits_99": [1 - hi, 1 - lo], "share_violating_limits_99": [lo, hi], "status": status,
            "c_delta": float(np.quantile(C, 1 - delta, method="inverted_cdf")), "c_delta_limits_99": [c_lo, c_hi],
            "median_C": float(np.median(C)), "fraction_C_infinite": float(np.isinf(C).mean()),
            "fraction_identity_fails": float((~res["identity"]).mean()),
            "min_mV_over_log3_1_over_delta": min(m, V) / math.log(1 / delta) ** 3}


def map_cells(p: dict) -> list[tuple[int, int]]:
    """The (V, m) points of a finite-size map: ``grid_V`` x ``grid_m`` with m <= V^(s-1) (an RHM needs
    V m <= V^s patches); the last is the grid's largest point."""
    s = p.get("s", 2)
    cells = [(V, m) for V in sorted(p["grid_V"]) for m in sorted(p["grid_m"]) if m <= V ** (s - 1)]
    if not cells:
        raise ValueError(f"grid_V x grid_m has no point with m <= V^(s-1); got {p['grid_V']} x {p['grid_m']}")
    return cells


def crossovers(rows: list[dict]) -> dict:
    """Where the map starts to hold: per V, the smallest m from which every larger-m point of the row holds
    at 99% (``None``: not even the row's largest); and the smallest m from which every point with that m or
    more holds, whatever V (m <= V, so this is min{m, V})."""
    per_V = []
    for V in sorted({r["V"] for r in rows}):
        row = sorted((r for r in rows if r["V"] == V), key=lambda r: r["m"])
        m_from = None
        for r in reversed(row):
            if r["status"] != "holds":
                break
            m_from = r["m"]
        per_V.append({"V": V, "m_from": m_from})
    ms = sorted({r["m"] for r in rows})
    m_all = None
    for m in reversed(ms):
        if any(r["status"] != "holds" for r in rows if r["m"] >= m):
            break
        m_all = m
    return {"per_V": per_V, "min_mV_from": m_all}


def finite_size_map(case: Case, generator) -> Measurement:
    r"""The share of random grammars meeting Proposition 19's bound (constant ``c``, printed 20) over a
    (V, m) grid, ``grammars`` per point; measured = the share **violating** it at the grid's largest
    point, with one-sided 99% Clopper--Pearson limits, against :math:`\delta` (the proposition: met with
    probability :math:`\ge1-\delta`)."""
    p = case.params
    R = p["grammars"]
    base = int(torch.randint(0, 2**31, (1,), generator=generator))
    rows = [_cell(p, V, m, range(base + i * R, base + (i + 1) * R)) for i, (V, m) in enumerate(map_cells(p))]
    top = rows[-1]
    k = top["grammars"] - top["meeting"]
    lo, hi = top["share_violating_limits_99"]
    need = repetitions_to_decide(k, R, p["delta"])
    return Measurement(value=k / R, lower=lo, upper=hi, confidence=CONFIDENCE,
                       to_decide=None if need is None else f"about {need} grammars at the largest point",
                       details={"kind": "map", "sampler": p["sampler"], "L": p["L"], "delta": p["delta"],
                                "c": p.get("c", 20), "grammars_per_point": R, "first_seed": base,
                                "largest_point": {"V": top["V"], "m": top["m"]},
                                "log3_1_over_delta": math.log(1 / p["delta"]) ** 3,
                                "crossover": crossovers(rows), "grid": rows})


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    if p.get("kind") == "map":
        return finite_size_map(case, generator)
    base = int(torch.randint(0, 2**31, (1,), generator=generator))
    res = survey(p, range(base, base + p["grammars"]))
    C, delta = res["C"], p["delta"]
    q = float(np.quantile(C, 1 - delta, method="inverted_cdf"))  # no interpolation: C may be +inf
    q_lo, q_hi = quantile_limits(C, 1 - delta)
    Cl = np.where(np.isfinite(res["C_l"]), res["C_l"], np.nan)
    sweep = []
    if p.get("sweep"):  # the constant as V, m grow (for the book): same sampler, L and delta, fresh grammars
        seed = base + p["grammars"]
        for V, m in p["sweep"]:
            sweep.append(_cell(p, V, m, range(seed, seed + p["sweep_grammars"])))
            seed += p["sweep_grammars"]
    return Measurement(value=q, lower=q_lo, upper=q_hi, confidence=CONFIDENCE, details={
        "sweep": sweep,
        "sampler": p["sampler"], "grammars": p["grammars"], "first_seed": base, "delta": delta,
        "c_delta": q, "c_delta_limits_99": [q_lo, q_hi], "c_max_in_sample": float(C.max()),
        "fraction_C_infinite": float(np.isinf(C).mean()), "fraction_identity_fails": float((~res["identity"]).mean()),
        "fraction_violating_20": float((C > 20).mean()),
        "median_C_l_per_level": [float(np.nanmedian(Cl[:, j])) for j in range(Cl.shape[1])]})


def bound(case: Case):
    kind = case.params.get("kind")
    if kind == "identity":
        return 0
    if kind == "float_vs_exact":
        return 1e-9
    if kind == "map":
        return case.params["delta"]
    return case.params.get("c", 20)


_SMALL = dict(V=16, m=8, L=3, seeds=tuple(range(10)))
_EMP = dict(V=16, m=8, L=4, grammars=200, delta=0.05)
#: Finite-size maps: Proposition 19 for every level 2..L of random grammars over a (V, m) grid (m <= V).
_MAP_SMALL = dict(kind="map", grid_V=(4, 8, 16, 32), grid_m=(2, 4, 8, 16), L=3, grammars=100, delta=0.05)
_MAP = dict(kind="map", grid_V=(4, 6, 8, 12, 16, 24, 32, 48, 64, 128),
            grid_m=(2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128), L=4, delta=0.01)
#: Where the constant settles: V = 2m from (8, 4) to (256, 128).
_DIAGONAL = ((8, 4), (16, 8), (32, 16), (64, 32), (128, 64), (256, 128))

CLAIM = Claim(
    name="appendix_b_signal_lower_bound",
    paper="A",
    reference="Proposition 19 (App. B)",
    page="p. 31, restated p. 39",
    statements=("Proposition 19",),
    hypotheses=(
        r"m,V=\Theta(\log d)",
        r"L=O(\log d/\log\log d)",
        r"\min\{m,V\}\gg\log^3(1/\delta_P)",
        r"\text{rules sampled as in App. B (uniform first-token marginal)}",
    ),
    alias="Proposition B.1 (inferred)",
    statement=STATEMENT,
    measured=(r"\max_{l\ge2}\rho_l^{-2/(l-1)}/m\ \text{(the constant in place of 20): largest over listed grammars "
              r"(exact) or its }(1-\delta)\text{-quantile over random grammars; maps: the share of random grammars "
              r"violating }(20m)^{-(l-1)/2}\text{ at the grid's largest }(V,m)\text{ (against }\delta)"),
    relation="<=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        Case("exact_appendix_b_V16_m8_L3", dict(_SMALL, sampler="appendix_b"),
             note="10 grammars (seeds 0-9), exact surds; at V=16, m=8 two columns of a first-token matrix "
                  "coincide rarely (Lemma 30's sampled worst-pair case at this size)"),
        Case("exact_appendix_b_V8_m4_L3", dict(_SMALL, V=8, m=4, sampler="appendix_b"), role="as_printed",
             expect=False,
             note="V=8, m=4 is far below min{m,V} >> log^3(1/delta): two of the 8 columns of P_1 or of P_1P_2 "
                  "coincide in some of seeds 0-9 (gap 0, C infinite; details list the grammar)"),
        Case("identity_cross_check_V16_m8_L3", dict(_SMALL, sampler="appendix_b", kind="identity", seeds=(0, 1, 2)),
             note="rho_l^2 of the library (Bayes form, verify.rhm.exact) against min ||P_1...P_{l-1}(e_nu-e_nu')||^2 "
                  "from rule counts (the proof's identity), exactly, levels 2..3"),
        Case("float_vs_exact_V16_m8_L3", dict(_SMALL, sampler="appendix_b", kind="float_vs_exact", seeds=(0, 1, 2)),
             note="the float64 constant of the empirical method against the exact one, same grammars"),
        Case("exact_authors_V16_m8_L3", dict(_SMALL, sampler="authors"), role="as_printed", expect=True,
             note="outside the proposition (authors' sampler); the Bayes-form gap is measured anyway"),
        Case("exact_authors_identity_V16_m8_L3", dict(_SMALL, sampler="authors", require_identity=True),
             role="negative_control",
             note="the authors' P_k are not column-stochastic: q != P_1...P_{l-1} e_nu, the proof does not apply"),
        Case("exact_bound_halved_V16_m8_L3", dict(_SMALL, sampler="appendix_b", c=0.5), role="negative_control",
             note="(m/2)^(-(l-1)/2) in place of (20m)^(-(l-1)/2)"),
        Case("grammars_appendix_b_V16_m8_L4", dict(_EMP, sampler="appendix_b"), method="empirical", seed=191),
        Case("grammars_authors_V16_m8_L4", dict(_EMP, sampler="authors"), method="empirical", seed=192,
             role="as_printed", expect=True,
             note="outside the proposition (authors' sampler); Bayes-form gap"),
        Case("grammars_authors_identity_V16_m8_L4", dict(_EMP, sampler="authors", require_identity=True,
                                                         grammars=50),
             method="empirical", seed=193, role="negative_control",
             note="doubly-stochastic identity of the proof fails for the authors' sampler"),
        Case("map_appendix_b_small", dict(_MAP_SMALL, sampler="appendix_b"), method="empirical", seed=196,
             note="a small finite-size map (V = 4..32, m = 2..16, L = 3, 100 grammars a point): the share meeting "
                  "(20m)^(-(l-1)/2) at every level; measured = the share violating it at V = 32, m = 16, against "
                  "delta = 0.05"),
        Case("map_bound_halved_small", dict(_MAP_SMALL, sampler="appendix_b", c=0.5, grid_V=(4, 16), grid_m=(2, 8)),
             method="empirical", seed=197,
             role="negative_control",
             note="the same map with (m/2)^(-(l-1)/2): every grammar violates it (C is about 1 or more)"),
        Case("grammars_appendix_b_V64_m32_L6", dict(V=64, m=32, L=6, grammars=20_000, delta=0.01,
                                                    sampler="appendix_b", sweep=_DIAGONAL, sweep_grammars=2000),
             scale="large", method="empirical", seed=194, cpu_params={"grammars": 5000, "sweep_grammars": 1000},
             note="where the constant settles: c_delta at V = 64, m = 32, L = 6 over 5000 grammars, and in "
                  "details.sweep along V = 2m from (8, 4) to (256, 128), 1000 grammars a point (delta = 0.01)"),
        Case("grammars_authors_V64_m32_L6", dict(V=64, m=32, L=6, grammars=20_000, delta=0.01, sampler="authors",
                                                 sweep=_DIAGONAL, sweep_grammars=2000),
             scale="large", method="empirical", seed=195, cpu_params={"grammars": 10_000, "sweep_grammars": 2000},
             role="as_printed", expect=True,
             note="outside the proposition (authors' sampler); Bayes-form gap; the same sweep along V = 2m"),
        Case("map_appendix_b_V4_to_128", dict(_MAP, sampler="appendix_b", grammars=2000), scale="large",
             method="empirical", seed=198, cpu_params={"grammars": 500},
             note="the finite-size map: the share of random grammars meeting (20m)^(-(l-1)/2) at levels 2..4, "
                  "over V = 4..128 x m = 2..128 (m <= V), 500 grammars a point on a CPU (2000 on a GPU machine); "
                  "measured = the share violating it at V = m = 128 (the only point with min{m, V} >= "
                  "log^3(1/delta) = 97.6), against delta = 0.01; details.crossover: where it starts to hold"),
        Case("map_bound_halved_V4_to_128", dict(_MAP, sampler="appendix_b", grammars=200, c=0.5,
                                                grid_V=(4, 16, 64, 128), grid_m=(2, 8, 32, 128)),
             scale="large", method="empirical", seed=199, role="negative_control",
             note="the map with (m/2)^(-(l-1)/2) in place of (20m)^(-(l-1)/2): violated by every grammar"),
    ),
)


def findings(records: dict) -> list[str]:
    """The measured constant in place of 20 (:func:`verify.harness.findings.measured_constant`)."""
    return measured_constant(records, "Proposition 19's constant in place of 20 (gap $\\ge(Cm)^{-(l-1)/2}$, sampled grammars)")
