r"""Condition (i) of Informal Principle 2 (arXiv alias Informal Principle 1.2): the output is
*correlated* with its lower-level parts.

The paper's RHM instantiation (p. 9, p. 13): the label law given the first level-:math:`l` patch,
:math:`q^{(l)}_\mu` (eq. 4), **distinguishes non-synonyms**,

.. math:: \nu(\mu)\neq\nu(\mu')\ \Rightarrow\ q^{(l)}_\mu\neq q^{(l)}_{\mu'}\qquad\forall l\in[L],\ \mu,\mu'\in P_l,

the qualitative content of Assumption 6(b) (whose quantitative form, :math:`\|q_\mu-q_{\mu'}\|\ge
K_\rho m^{-l/2}`, is the claim ``signal_gap``). The principle prints no number: the package's reading
makes it falsifiable as "no pair of non-synonyms is confusable".

**Measured (exact):** the number of *confusable* pairs, i.e. unordered pairs of reachable
(:math:`p_\mu>0`) level-:math:`l` patches with different parents and :math:`q^{(l)}_\mu=q^{(l)}_{\mu'}`
exactly (rationals, ``verify.rhm.assumptions.confusable_pairs``), summed over levels; bound 0.
Details: per level the margin :math:`\rho_l=\min\|q_\mu-q_{\mu'}\|` over non-synonyms (an exact surd)
and its ratio to :math:`m^{-l/2}` (the per-level :math:`K_\rho`).

**Negative controls:** (1) a hand-made grammar in which two level-1 symbols are the first token of
the same labels' rules in the same proportions, so their level-2 patches share :math:`q^{(2)}`;
(2) the first random grammar (smallest seed) of a small size whose first-token matrix has two
proportional columns, found by a deterministic search over seeds (:func:`first_confusable_seed`).
"""
from __future__ import annotations

import numpy as np
import sympy

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.rhm import assumptions

STATEMENT = (r"\nu(\mu)\neq\nu(\mu')\ \Rightarrow\ q^{(l)}_\mu\neq q^{(l)}_{\mu'}"
             r"\qquad\forall l\in[L],\ \mu,\mu'\in P_l")
SEARCH_SEEDS = 1000


def shared_first_tokens_grammar() -> rhm.Grammar:
    r""":math:`V=n_c=3`, :math:`m=s=L=2`. Labels 0 and 1 each have one rule starting with symbol 0 and
    one starting with symbol 1, label 2 none: columns 0 and 1 of :math:`P_1` are equal, so the
    level-2 patches of symbols 0 and 1 -- non-synonyms -- share :math:`q^{(2)}=(1/2,1/2,0)`."""
    rules0 = np.array([[[0, 0], [1, 0]], [[0, 1], [1, 1]], [[2, 0], [2, 1]]])
    rules1 = np.array([[[0, 0], [0, 1]], [[1, 0], [1, 1]], [[2, 2], [2, 0]]])
    return rhm.Grammar.from_rules([rules0, rules1], num_features=3, num_classes=3)


def confusable_count(g: rhm.Grammar) -> int:
    return sum(assumptions.confusable_pairs(g, l).count for l in range(1, g.num_layers + 1))


def first_confusable_seed(V: int, n_c: int, m: int, s: int, L: int, sampler: str, seeds=range(SEARCH_SEEDS)) -> int:
    """The smallest seed whose ``sample_grammar(V, n_c, m, s, L, seed, sampler)`` has a confusable pair
    (deterministic); ``ValueError`` if none among ``seeds``."""
    for seed in seeds:
        if confusable_count(rhm.sample_grammar(V, n_c, m, s, L, seed=seed, sampler=sampler)):
            return seed
    raise ValueError(f"no grammar with a confusable pair among seeds {seeds} at V={V}, n_c={n_c}, m={m}, "
                     f"s={s}, L={L}, sampler={sampler!r}")


def grammar_of(params: dict) -> rhm.Grammar:
    if params.get("grammar") == "shared_first_tokens":
        return shared_first_tokens_grammar()
    if params.get("grammar_seed") == "search":
        p = dict(params, grammar_seed=first_confusable_seed(params["V"], params["n_c"], params["m"], params["s"],
                                                             params["L"], params["sampler"]))
        return rhm.grammar_from_params(p)
    return rhm.grammar_from_params(params)


def level_rows(g: rhm.Grammar) -> list[dict]:
    m, rows = g.num_synonyms, []
    for l in range(1, g.num_layers + 1):
        pp = assumptions.confusable_pairs(g, l)
        margin = pp.extreme if pp.extreme is not None else sympy.nan
        scale = sympy.sqrt(m) ** (-l)
        rows.append({"level": l, "confusable_pairs": pp.count, "pairs_compared": pp.compared,
                     "margin": float(margin), "margin_exact": sympy.sstr(margin), "m_power": float(scale),
                     "ratio_to_m_power": float(margin / scale), "unreachable_patches": pp.unreachable,
                     "examples": [list(p) for p in pp.pairs[:4]]})
    return rows


def exact(case: Case) -> Measurement:
    g = grammar_of(case.params)
    rows = level_rows(g)
    total = sum(r["confusable_pairs"] for r in rows)
    return Measurement(value=total, details={"grammar": repr(g), "seed": g.seed, "levels": rows})


def bound(case: Case):
    return 0


def survey(sampler: str, V: int, n_c: int, m: int, s: int, L: int, seeds) -> dict:
    """Over random grammars: the fraction with a confusable pair, and the per-level margins (float64)."""
    frac, margins = [], []
    for seed in seeds:
        g = rhm.sample_grammar(V, n_c, m, s, L, seed=seed, sampler=sampler)
        pairs = [assumptions.confusable_pairs(g, l, "float64", tolerance=1e-24) for l in range(1, L + 1)]
        frac.append(any(p.count for p in pairs))
        margins.append([p.extreme if p.extreme is not None else np.nan for p in pairs])
    return {"confusable": np.array(frac), "margins": np.array(margins, dtype=float)}


_B = dict(V=4, n_c=4, m=2, s=2, L=3, sampler="appendix_b")

CLAIM = Claim(
    name="principle_correlation",
    paper="A",
    reference="Informal Principle 2 (i); its RHM instantiation (Assumption 6(b), qualitative)",
    page="pp. 2-3 (Principle 2), p. 9, p. 13",
    statements=("Principle 2", "Assumption 6"),
    alias="Informal Principle 1.2 (i)",
    hypotheses=(r"\text{the data is hierarchical: an RHM (Definitions 3--4), non-ambiguous, }(V,m)\text{-uniform}",),
    statement=STATEMENT,
    measured=r"\#\{(\mu,\mu'):\ l\in[L],\ \nu(\mu)\ne\nu(\mu'),\ q^{(l)}_\mu=q^{(l)}_{\mu'}\}\ \text{(confusable pairs, exact)}",
    relation="<=",
    bound=bound,
    exact=exact,
    cases=(
        Case("appendix_b_V4_m2_L3", dict(_B, grammar_seed=1)),
        Case("authors_V8_m4_L3", dict(V=8, n_c=8, m=4, s=2, L=3, grammar_seed=1, sampler="authors")),
        Case("appendix_b_V8_m4_L4", dict(V=8, n_c=8, m=4, s=2, L=4, grammar_seed=0, sampler="appendix_b")),
        Case("appendix_b_V6_m3_s3_L3", dict(V=6, n_c=6, m=3, s=3, L=3, grammar_seed=3, sampler="appendix_b")),
        Case("shared_first_tokens", {"grammar": "shared_first_tokens"}, role="negative_control",
             note="hand-made: level-1 symbols 0 and 1 start the same labels' rules equally often, so their "
                  "level-2 patches share q^(2)"),
        Case("first_degenerate_seed_V4_m2_L3", dict(_B, grammar_seed="search"), role="negative_control",
             note="the smallest seed of the Appendix B sampler at V = 4, m = 2, L = 3 with proportional "
                  "columns in a first-token matrix (a deterministic search)"),
    ),
)
