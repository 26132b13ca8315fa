r"""Condition (iii) of Informal Principle 2 (arXiv alias Informal Principle 1.2): the lower-level
features are *(weakly) identifiable*.

The paper's RHM instantiation (p. 9, p. 13): :math:`q^{(l)}_\mu` is a proxy for the parent symbol
:math:`\nu(\mu)` -- synonyms share it exactly (remark under eq. 4) -- and the RBF random features
(eq. 6) turn these proxies into separated features; Assumption 9 (p. 11) is the form the proof uses,
at every level :math:`l` the token representations cluster by token:

.. math:: \exists\,0\le\tilde\varepsilon_S<\tilde\rho:\quad
          \|h_\mu-h'_\mu\|\le\tilde\varepsilon_S\ \ (h_\mu,h'_\mu\in\tilde P_{R,l,\mu}),\qquad
          \|h_\mu-h_{\mu'}\|\ge\tilde\rho\ \ (\mu\ne\mu'\in V_l).

**(a) Exact:** the largest :math:`\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|` over synonym pairs and levels, in
rationals (``verify.rhm.assumptions.synonym_spread``); bound 0.

**(b) Learned features:** the layerwise learner (``LayerwiseRidge`` with ``practical_parameters``) is
trained bottom-up on a small grammar up to level 2; for every level :math:`l\in[L-1]` the tokens
:math:`h^{(l)}` it produces (the outputs of trained level :math:`l+1`, which level :math:`l` reads)
are computed on **every** subtree below a level-:math:`l` symbol (the whole set
:math:`\tilde P_{R,l,\mu}` for this trained learner, enumerated) or, where that is too large, on
a sampled test set (every position). Per training seed the measured ratio is
:math:`\max_l \tilde\varepsilon_S/\tilde\rho` with the tightest :math:`\tilde\varepsilon_S`
(largest within-token distance) and :math:`\tilde\rho` (smallest between-token distance)
(``verify.rhm.assumptions.cluster_separation``); Assumption 9 holds for that learner iff it is
:math:`<1`. Level :math:`L` (one-hot, ratio 0) is not counted. Over :math:`R` training seeds, the
measured value is the :math:`(1-\delta)`-quantile of the ratio, :math:`\delta=0.1`, with
distribution-free order-statistic limits at 99% (``quantile_limits``; :math:`R\ge44` for a finite
upper limit); bound 1.

**The package's reading.** The paper prints no probability and no parameters for which the
learner's tokens satisfy Assumption 9 other than the proof's (Lemma 11: :math:`\tilde\rho=\rho^{(l+1)}/2`,
astronomically wide layers); here the learner runs at practical sizes, and "holds" means that at
least 90% of training draws give separated clusters, at 99% confidence.

**Negative controls:** (a) the label leaks into the rule chosen at the parent of the first
level-2 patch (rule :math:`=\zeta\bmod m`; not context-free, Definition 4), computed by
enumerating the leaked model's derivations: synonyms get different :math:`q^{(2)}`; (b) learners whose
clusters overlap: too few training samples, a bandwidth ten times too wide, two random features.
"""
from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

import numpy as np
import sympy
import torch

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.harness.stats import CONFIDENCE, quantile_limits
from verify.learners.layerwise_ridge import LayerwiseRidge, practical_parameters
from verify.rhm import assumptions

STATEMENT = (r"\nu(\mu)=\nu(\mu')\Rightarrow q^{(l)}_\mu=q^{(l)}_{\mu'};\qquad"
             r"\max_{\mu\in V_l}\max_{h,h'\in\tilde P_{R,l,\mu}}\|h-h'\|=\tilde\varepsilon_S<\tilde\rho="
             r"\min_{\mu\ne\mu'}\|h_\mu-h_{\mu'}\|\quad\forall l")

grammar_of = rhm.grammar_from_params


# -- (a) exact: synonyms share q ------------------------------------------------------------------
def leaked_q(g: rhm.Grammar, level: int, leak_level: int) -> tuple[list, np.ndarray]:
    r""":math:`q^{(level)}_\mu` of every patch (``None`` if never first) of the model in which the rule
    used at the first level-:math:`(\text{leak\_level}-1)` token is :math:`\zeta\bmod m` (the label leaks
    into it), by enumerating every derivation and parsing it; and the patches' parents."""
    d = rhm.enumerate_derivations(g)
    choices = [c.clone() for c in d.choices]
    choices[leak_level - 1][:, 0] = d.labels % g.num_synonyms
    parsed = rhm.parse(g, rhm.expand(g, d.labels, choices))
    joint = defaultdict(Fraction)
    for mu, z in zip(parsed.patch_index[level][:, 0].tolist(), parsed.labels.tolist()):
        joint[(mu, z)] += d.probability
    rows = []
    for mu in range(g.num_patches(level)):
        p = sum(joint.get((mu, z), Fraction(0)) for z in range(g.num_classes))
        rows.append(None if p == 0 else [joint.get((mu, z), Fraction(0)) / p for z in range(g.num_classes)])
    return rows, np.asarray(g.parents(level))


def _spread_of_rows(rows, parents) -> Fraction:
    worst = Fraction(0)
    for a in range(len(rows)):
        for b in range(a + 1, len(rows)):
            if parents[a] == parents[b] and rows[a] is not None and rows[b] is not None:
                worst = max(worst, sum((x - y) ** 2 for x, y in zip(rows[a], rows[b])))
    return worst


def exact(case: Case) -> Measurement:
    p = case.params
    g = grammar_of(p)
    worst, rows = Fraction(0), []
    for l in range(1, g.num_layers + 1):
        if p.get("leak_level"):
            sq = _spread_of_rows(*leaked_q(g, l, p["leak_level"]))
            compared = None
        else:
            sp = assumptions.synonym_spread(g, l)
            sq, compared = (sp.extreme_sq if sp.extreme_sq is not None else Fraction(0)), sp.compared
        rows.append({"level": l, "max_synonym_distance": float(sympy.sqrt(sympy.Rational(sq.numerator, sq.denominator))),
                     "max_synonym_distance_sq": str(sq), "synonym_pairs_compared": compared})
        worst = max(worst, sq)
    value = sympy.sqrt(sympy.Rational(worst.numerator, worst.denominator))
    return Measurement(value=value, details={"grammar": repr(g), "levels": rows})


# -- (b) learned features: Assumption 9 on the learner's tokens ----------------------------------------
class _Trained(Exception):
    """Raised by the ``fit`` callback once level 2 is trained (level 1's tokens are then known)."""


def _stop_after(level: int):
    def callback(model, l):
        if l == level:
            raise _Trained
    return callback


def subtrees(g: rhm.Grammar, level: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Every subtree below a level-``level`` symbol: its leaves ``[n, s^(L-level)]`` and the symbol ``[n]``
    (the derivations of the grammar made of levels ``level..L-1``'s rules, with :math:`V_{level}` as labels)."""
    sub = rhm.Grammar.from_rules(list(g.rules[level:]), num_features=g.num_features, num_classes=g.num_features)
    d = rhm.enumerate_derivations(sub)
    return d.x, d.labels


def token_representations(model: LayerwiseRidge, g: rhm.Grammar, level: int, test_inputs: torch.Tensor | None = None):
    r"""The level-``level`` tokens :math:`h^{(level)}` the trained learner produces, ``[n, d_e]``, and their
    symbols ``[n]``: over every subtree (``test_inputs=None``) or over every position of the test inputs."""
    if test_inputs is None:
        x, tok = subtrees(g, level)
        return model.embed(x, level)[:, 0], tok.to(model.device)
    h = model.embed(test_inputs, level)                                     # [n, s^level, d_e]
    tok = rhm.parse(g, test_inputs).symbols[level].to(model.device)        # [n, s^level]
    return h.reshape(-1, h.shape[-1]), tok.reshape(-1)


def train(g: rhm.Grammar, p: dict, seed: int, device) -> LayerwiseRidge:
    """The learner of the case, trained on levels L..2 (fresh samples per stage, seed ``seed``)."""
    levels = practical_parameters(g, p["total"], num_features=p["M"], sigma_scale=p["sigma_scale"])
    model = LayerwiseRidge.for_grammar(g, levels, device=device)
    try:
        model.fit(g, seed=seed, progress=False, callback=_stop_after(2))
    except _Trained:
        pass
    return model


def learned_separation(g: rhm.Grammar, p: dict, seed: int, device, test_inputs=None) -> list[dict]:
    """Per level l = L-1..1: Assumption 9's intra and inter distances of the trained learner's tokens."""
    model = train(g, p, seed, device)
    rows = []
    for level in range(g.num_layers - 1, 0, -1):
        h, tok = token_representations(model, g, level, test_inputs)
        q = torch.as_tensor(np.asarray(rhm.exact.conditional_q(g, level + 1, "float64").q, dtype=float),
                            device=h.device)[tok]
        row = {"level": level, "points": int(h.shape[0]),
               "proxy_error": float((h - q).norm(dim=-1).max()) if torch.isfinite(h).all() else math.inf}
        if torch.isfinite(h).all():
            cs = assumptions.cluster_separation(h, tok)
            row.update(intra=cs.intra, inter=cs.inter, ratio=cs.ratio)
        else:  # a normaliser <1, Wx> = 0: the representation is not even finite
            row.update(intra=math.inf, inter=0.0, ratio=math.inf)
        rows.append(row)
    return rows


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    g = grammar_of(p)
    if g.num_layers < 2:
        raise ValueError(f"L must be >= 2 for learned tokens (level L is one-hot); got L = {g.num_layers}")
    R, delta = p["repetitions"], p.get("delta", 0.1)
    test_inputs = None
    if p.get("test_inputs"):
        test_inputs, _ = rhm.sample(g, p["test_inputs"], generator, device)
    per_seed, per_level = [], defaultdict(lambda: defaultdict(list))
    for _ in range(R):
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        rows = learned_separation(g, p, seed, device, test_inputs)
        per_seed.append(max(r["ratio"] for r in rows))
        for r in rows:
            for k in ("intra", "inter", "ratio", "proxy_error"):
                per_level[r["level"]][k].append(r[k])
    ratios = np.array(per_seed, dtype=float)
    q = 1 - delta
    lo, hi = quantile_limits(ratios, q)
    value = float(np.sort(ratios)[max(0, math.ceil(q * R) - 1)])
    rho = {l: float(assumptions.signal_gap(g, l + 1, "float64").gap) for l in per_level}
    levels = [{"level": l, "rho_exact": rho[l], **{k: list(map(float, v)) for k, v in d.items()}}
              for l, d in sorted(per_level.items())]
    n_q = math.ceil(math.log(1 - CONFIDENCE) / math.log(q))
    return Measurement(value=value, lower=lo, upper=hi, confidence=CONFIDENCE,
                       to_decide=None if math.isfinite(hi) else f"at least {n_q} repetitions for a finite upper limit",
                       details={"grammar": repr(g), "repetitions": R, "quantile_level": q, "ratios": ratios.tolist(),
                                "max_ratio": float(ratios.max()), "levels": levels,
                                "support": "test set" if test_inputs is not None else "every subtree",
                                "test_inputs": p.get("test_inputs")})


def bound(case: Case):
    return 0 if case.method == "exact" else 1


_TINY = dict(V=4, n_c=4, m=2, s=2, grammar_seed=1, sampler="appendix_b")
_L2 = dict(_TINY, L=2, total=4000, M=128, sigma_scale=0.5, repetitions=44)
_L3 = dict(_TINY, L=3, total=6000, M=256, sigma_scale=0.35, repetitions=44)

CLAIM = Claim(
    name="principle_identifiability",
    paper="A",
    reference="Informal Principle 2 (iii); its RHM instantiation (eq. (4) remark, Assumption 9 (a)-(b))",
    page="pp. 2-3 (Principle 2), p. 9, p. 13; p. 11 (Assumption 9)",
    statements=("Principle 2", "eq. (4)", "Assumption 9"),
    alias="Informal Principle 1.2 (iii); Assumption 9 = Assumption 4.4 (inferred)",
    hypotheses=(r"\text{an RHM induced by production rules (Definition 4)}",
                r"\text{level }l+1\text{ trained (eqs. (1)--(3), RBF features (6))}"),
    statement=STATEMENT,
    measured=(r"\max_{l,\ \nu(\mu)=\nu(\mu')}\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|\ \text{(exact)};\ "
              r"(1-\delta)\text{-quantile over training seeds of }\max_l\tilde\varepsilon_S/\tilde\rho\ \text{(learned)}"),
    relation="<=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        Case("synonyms_appendix_b_V4_m2_L3", dict(_TINY, L=3)),
        Case("synonyms_authors_V8_m4_L3", dict(V=8, n_c=8, m=4, s=2, L=3, grammar_seed=1, sampler="authors")),
        Case("synonyms_appendix_b_V6_m3_s3_L3", dict(V=6, n_c=6, m=3, s=3, L=3, grammar_seed=3, sampler="appendix_b")),
        Case("synonyms_label_leak", dict(_TINY, L=3, leak_level=2), role="negative_control",
             note="the rule at the first level-1 token is the label mod m: synonyms of level 2 get different q"),
        Case("learned_V4_m2_L2", _L2, method="empirical", seed=201,
             note="one trained level (level 2's outputs = level-1 tokens), every subtree, 44 training seeds"),
        Case("learned_V4_m2_L3", _L3, method="empirical", seed=202,
             note="two trained levels (tokens of levels 2 and 1), every subtree, 44 training seeds"),
        Case("too_few_samples", dict(_L3, total=60, repetitions=8), method="empirical", seed=203,
             role="negative_control", note="60 training samples for three levels: q-hat is noise, clusters overlap"),
        Case("bandwidth_10x_wide", dict(_L3, sigma_scale=3.5, repetitions=8), method="empirical", seed=204,
             role="negative_control", note="sigma ten times the check's: distinct patches look alike to Phi"),
        Case("two_features", dict(_L3, M=2, repetitions=8), method="empirical", seed=205,
             role="negative_control", note="M = 2 random frequencies: W cannot tell the patches apart"),
        Case("learned_V4_m2_L4", dict(_TINY, L=4, total=80_000, M=1024, sigma_scale=0.35, repetitions=44),
             scale="large", method="empirical", seed=206,
             note="a four-level chain: tokens of levels 3, 2 and 1 learned, every subtree, 44 training seeds "
                  "(one size on every device: seconds on a CPU since the learner works on distinct patches)"),
    ),
)
