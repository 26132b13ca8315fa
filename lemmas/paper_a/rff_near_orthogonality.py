r"""Lemma 10 (near-orthogonality through the RBF random-feature layer), with Assumption 9 as its input
and Assumption 13 checked on its output.

**Assumption 9** (token embeddings at level :math:`l`): :math:`\exists\,0\le\tilde\varepsilon_S<\tilde\rho`
with :math:`\|h_\nu-h'_\nu\|\le\tilde\varepsilon_S` (two representations of one token) and
:math:`\|h_\nu-h_{\nu'}\|\ge\tilde\rho` (:math:`\nu\ne\nu'`).
**Lemma 10:** if moreover

.. math:: \sigma^2\le\frac{2\tilde\rho^2}{\log(2/\varepsilon_O)},\qquad
          M\gtrsim\frac{sd_e}{\varepsilon_O^2\wedge\varepsilon_S^4}\log\frac{sd_e\log(2/\varepsilon_O)}
          {\tilde\rho^2(\varepsilon_O^2\wedge\varepsilon_S^4)\delta_P},\qquad
          \tilde\varepsilon_S\le\frac{\varepsilon_S\sigma}{\sqrt s},

then w.p. :math:`\ge1-\delta_P`, eq. (7): :math:`|\langle\Phi(h_\mu),\Phi(h_{\mu'})\rangle|\le\varepsilon_O`
and :math:`\|\Phi(h_\mu)-\Phi(h'_\mu)\|\le\varepsilon_S` for all :math:`\mu\ne\mu'\in P_l` and all
representations. **Assumption 13** then asks :math:`\|x_\mu\|=1`, :math:`\varepsilon_O\lesssim1/|P_l|`, :math:`\varepsilon_S`.

**Set-up, level by level** of a small RHM (Appendix B sampler). At level :math:`L` the tokens are
one-hot (:math:`\tilde\varepsilon_S=0`, :math:`\tilde\rho=\sqrt2` in the exact embedding); at level
:math:`l<L` a token :math:`\nu\in V_l` is embedded by the exact :math:`q^{(l+1)}` of its patches (what a
perfectly trained level :math:`l+1` outputs, ``verify.rhm.exact.conditional_q``), whose separation is
the signal gap :math:`\rho_{l+1}`. Each token gets :math:`2J` representations
:math:`h_\nu\pm\frac{\tilde\varepsilon_S}2u_{\nu,j}` (:math:`u` random unit vectors), with
:math:`\tilde\varepsilon_S=\varepsilon_S\sigma/\sqrt s`, the largest the lemma allows; a patch's
:math:`j`-th representation concatenates its tokens' :math:`j`-th ones, so the :math:`\pm` pair of a
patch is :math:`\sqrt s\,\tilde\varepsilon_S` apart, the worst case. Then :math:`\tilde\rho=\rho-\tilde\varepsilon_S`
(both measured on the sets and reported), :math:`\varepsilon_O=c_O/|P_l|`, :math:`\sigma` from the
rule, :math:`M=\lceil C_M\cdot(\text{the expression above})\rceil` with the unspecified universal
constant :math:`C_M` a named parameter (``width_constant``).

**The σ condition as printed is 4× too permissive.** With :math:`\sigma^2=2\tilde\rho^2/\log(2/\varepsilon_O)`
the kernel at distance :math:`\tilde\rho` is :math:`e^{-\tilde\rho^2/(2\sigma^2)}=(\varepsilon_O/2)^{1/4}`,
not :math:`\le\varepsilon_O/2` as the proof needs; :math:`\sigma^2\le\tilde\rho^2/(2\log(2/\varepsilon_O))`
gives exactly :math:`\varepsilon_O/2`. (Lemma 11's proof takes :math:`\sigma^2=\rho^2/(2\log(2/\varepsilon_O))`
with :math:`\rho=2\tilde\rho`, which is the printed form; it works there only because its clusters are
in fact :math:`\approx\rho`, not :math:`\tilde\rho`, apart.) Cases use ``sigma_rule="corrected"``;
``"as_printed"`` is measured and expected to fail.

**Measured:** over :math:`R` draws of the features (fresh at every level), the fraction of draws in
which eq. (7) (or Assumption 13(a), :math:`|\|\Phi\|^2-1|\le10^{-12}` in float64) fails at some
level, against :math:`\delta_P`, with a 99% Clopper--Pearson interval.
Per level the details give the worst :math:`|\langle\Phi,\Phi'\rangle|` over distinct patches (and
over non-synonyms alone), the worst :math:`\|\Phi(h_\mu)-\Phi(h'_\mu)\|`, the Assumption 9 and 13
quantities, and (``search``) the smallest :math:`M` that met the targets in every one of
``search_repetitions`` draws, found by bisection.

**The universal constant and the ε_S margin.** The proof takes :math:`\varepsilon_{RF}=(\varepsilon_O\wedge
\varepsilon_S^2)/2` and then only gets :math:`\|\Phi(h_\mu)-\Phi(h'_\mu)\|\le\sqrt2\,\varepsilon_S`; in the
kernel limit the worst allowed pair gives :math:`\sqrt{2(1-e^{-\varepsilon_S^2/2})}`, below :math:`\varepsilon_S`
by a relative margin of only about :math:`\varepsilon_S^2/8`, which the random-feature noise must not
eat. The small cases use :math:`\varepsilon_S=1/2` (so :math:`\varepsilon_O^2\wedge\varepsilon_S^4=\varepsilon_O^2`)
and :math:`C_M=2`; the search reports the constant that was in fact needed
(``C_M_empirical``), and the one the near-orthogonality half alone needs.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.features import rff
from verify.rhm import assumptions
from verify.harness.stats import CONFIDENCE, quantile_limits, rate_limits, repetitions_to_decide

STATEMENT = (r"\sigma^2\le\tfrac{2\tilde\rho^2}{\log(2/\varepsilon_O)},\ M\gtrsim\tfrac{sd_e}{\varepsilon_O^2\wedge"
             r"\varepsilon_S^4}\log(\cdots),\ \tilde\varepsilon_S\le\tfrac{\varepsilon_S\sigma}{\sqrt s}\ \Rightarrow\ "
             r"|\langle\Phi(h_\mu),\Phi(h_{\mu'})\rangle|\le\varepsilon_O,\ \|\Phi(h_\mu)-\Phi(h'_\mu)\|\le"
             r"\varepsilon_S\ \ \forall\mu\ne\mu'\in P_l\ \text{w.p.}\ge1-\delta_P")
UNIT_NORM_TOLERANCE = 1e-12  # float64: |‖Φ(h)‖² - 1| is rounding only
SIGMA_RULES = ("corrected", "as_printed")


def grammar_of(params: dict) -> rhm.Grammar:
    return rhm.grammar_from_params(params, sampler="appendix_b")


# -- the lemma's parameter choices -------------------------------------------------------------
def sigma_factor(eps_O: float, rule: str) -> float:
    r""":math:`\sigma/\tilde\rho`: :math:`\sqrt{2/\log(2/\varepsilon_O)}` as printed,
    :math:`\sqrt{1/(2\log(2/\varepsilon_O))}` corrected (kernel :math:`\le\varepsilon_O/2` at distance :math:`\tilde\rho`)."""
    if rule not in SIGMA_RULES:
        raise ValueError(f"sigma_rule must be one of {SIGMA_RULES}; got {rule!r}")
    if not 0 < eps_O < 2:
        raise ValueError(f"eps_O must be in (0, 2); got {eps_O}")
    L = math.log(2 / eps_O)
    return math.sqrt(2 / L) if rule == "as_printed" else math.sqrt(1 / (2 * L))


def lemma10_width_expression(d_h: int, eps_O: float, eps_S: float, rho_tilde: float, delta_P: float) -> float:
    r""":math:`\frac{sd_e}{\varepsilon_O^2\wedge\varepsilon_S^4}\log\frac{sd_e\log(2/\varepsilon_O)}{\tilde\rho^2
    (\varepsilon_O^2\wedge\varepsilon_S^4)\delta_P}` (Lemma 10's width without its universal constant)."""
    e = min(eps_O**2, eps_S**4)
    return d_h / e * math.log(d_h * math.log(2 / eps_O) / (rho_tilde**2 * e * delta_P))


def lemma10_width(d_h, eps_O, eps_S, rho_tilde, delta_P, width_constant: float) -> int:
    """Lemma 10's :math:`M` with the universal constant ``width_constant`` (:math:`C_M`)."""
    if not width_constant > 0:
        raise ValueError(f"width_constant (C_M) must be > 0; got {width_constant}")
    return max(1, math.ceil(width_constant * lemma10_width_expression(d_h, eps_O, eps_S, rho_tilde, delta_P)))


# -- Assumption 9 inputs -----------------------------------------------------------------------
def token_embeddings(grammar: rhm.Grammar, level: int) -> tuple[np.ndarray, float]:
    r"""Exact token embeddings of :math:`V_l` and their separation :math:`\rho`: one-hot at
    :math:`l=L` (:math:`\rho=\sqrt2`), else :math:`q^{(l+1)}` of each token's patches (:math:`\rho=\rho_{l+1}`)."""
    V = grammar.vocabulary_size(level)
    if level == grammar.num_layers:
        return np.eye(V), math.sqrt(2)
    law = rhm.exact.conditional_q(grammar, level + 1, "float64")
    if not law.reachable.all():
        raise ValueError(f"some level-{level} token never heads the first level-{level + 1} patch: q undefined")
    gap = assumptions.signal_gap(grammar, level + 1, "float64")
    if gap.gap_sq is None or gap.gap == 0:
        raise ValueError(f"level {level + 1} has a zero signal gap: Assumption 9 fails (rho = 0)")
    return np.asarray(law.q, dtype=float), float(gap.gap)


def level_setup(grammar: rhm.Grammar, level: int, params: dict) -> dict:
    """Every quantity Lemma 10 needs at ``level``, and the perturbed representations (float64, CPU)."""
    emb, rho = token_embeddings(grammar, level)
    V, d_e = emb.shape
    s = grammar.tuple_size
    P = grammar.num_patches(level)
    eps_O = params["eps_O_constant"] / P
    eps_S = params["eps_S"]
    a = sigma_factor(eps_O, params.get("sigma_rule", "corrected")) * math.sqrt(params.get("sigma_scale", 1))
    # rho_tilde = rho - eps_tilde_S, sigma = a rho_tilde, eps_tilde_S = eps_S sigma / sqrt(s)
    rho_tilde = rho / (1 + eps_S * a / math.sqrt(s))
    sigma = a * rho_tilde
    eps_tilde_S = eps_S * sigma / math.sqrt(s)
    J = params["copies"]
    g = torch.Generator().manual_seed(params.get("perturbation_seed", 0) * 1000 + level)
    u = torch.randn(V, J, d_e, generator=g, dtype=torch.float64)
    u = u / u.norm(dim=-1, keepdim=True)
    half = eps_tilde_S / 2 * torch.cat([u, -u], dim=1)              # [V, 2J, d_e]
    reps = torch.as_tensor(emb)[:, None, :] + half                  # token representations
    patches = torch.as_tensor(np.array(grammar.patches(level)))     # [P, s]
    x = reps[patches]                                               # [P, s, 2J, d_e]
    x = rff.concatenate_tokens(x.transpose(1, 2))                   # [P, 2J, s d_e]
    d_h = x.shape[-1]
    # Assumption 9 measured on the sets
    flat = reps.reshape(-1, d_e)
    tok = torch.arange(V).repeat_interleave(2 * J)
    dist = torch.cdist(flat, flat, compute_mode="donot_use_mm_for_euclid_dist")
    same = tok[:, None] == tok[None, :]
    M = lemma10_width(d_h, eps_O, eps_S, rho_tilde, params["delta_P"], params["width_constant"])
    M = max(1, int(M * params.get("width_scale", 1)))
    return {"level": level, "points": x.reshape(-1, d_h), "patch": torch.arange(P).repeat_interleave(2 * J),
            "parent": torch.as_tensor(grammar.parents(level)).repeat_interleave(2 * J),
            "num_patches": P, "d_e": d_e, "d_h": d_h, "rho": rho, "rho_tilde": rho_tilde, "sigma": sigma,
            "eps_tilde_S": eps_tilde_S, "eps_O": eps_O, "eps_S": eps_S, "M": M,
            "assumption9_intra": float(dist[same].max()), "assumption9_inter": float(dist[~same].min()),
            "kernel_at_rho_tilde": math.exp(-rho_tilde**2 / (2 * sigma**2))}


def eq7_errors(setup: dict, M: int, repetitions: int, generator: torch.Generator, device) -> dict:
    r"""For ``repetitions`` draws of :math:`\Phi_{\sigma,M}`: worst :math:`|\langle\Phi,\Phi'\rangle|` over
    distinct patches (and non-synonyms), worst :math:`\|\Phi(h_\mu)-\Phi(h'_\mu)\|`, worst :math:`|\|\Phi\|^2-1|`."""
    x = setup["points"].to(device)
    patch, parent = setup["patch"].to(device), setup["parent"].to(device)
    same = patch[:, None] == patch[None, :]
    synonym = (parent[:, None] == parent[None, :]) & ~same
    non_syn = parent[:, None] != parent[None, :]
    n = len(x)
    chunk = max(1, min(M, (1 << 23) // (2 * n)))
    out = {"orth": [], "orth_non_synonym": [], "same": [], "norm": [], "orth_synonym": []}
    for _ in range(repetitions):
        w = rff.sample_frequencies(setup["d_h"], M, setup["sigma"], generator, device=device)
        G = rff.random_features_gram(x, w, chunk_size=chunk)
        out["orth"].append(float(G[~same].abs().max()))
        out["orth_non_synonym"].append(float(G[non_syn].abs().max()))
        out["orth_synonym"].append(float(G[synonym].abs().max()) if synonym.any() else 0.0)
        out["same"].append(float(torch.sqrt(torch.clamp(2 - 2 * G[same], min=0)).max()))
        out["norm"].append(float((torch.diagonal(G) - 1).abs().max()))
    return {k: np.array(v) for k, v in out.items()}


def _meets(errs: dict, setup: dict, part: str = "both") -> np.ndarray:
    orth = errs["orth"] <= setup["eps_O"]
    same = errs["same"] <= setup["eps_S"]
    unit = errs["norm"] <= UNIT_NORM_TOLERANCE  # Assumption 13(a)
    return {"both": orth & same & unit, "orth": orth, "same": same}[part]


def smallest_width(setup: dict, repetitions: int, generator, device, part: str = "both") -> int:
    r"""Bisection over :math:`M\in[1,M_{\rm lemma}]` for the smallest width whose ``repetitions``
    draws all met eq. (7) (``part``: ``"both"`` halves, or only the ``"orth"`` (:math:`\varepsilon_O`)
    or ``"same"`` (:math:`\varepsilon_S`) half), assuming monotonicity in :math:`M` up to sampling
    noise, to 2% resolution; :math:`M_{\rm lemma}+1` if even :math:`M_{\rm lemma}` did not."""
    lo, hi = 0, setup["M"]
    if not _meets(eq7_errors(setup, hi, repetitions, generator, device), setup, part).all():
        return hi + 1
    while hi - lo > max(1, hi // 50):  # 2% resolution
        mid = (lo + hi) // 2
        if _meets(eq7_errors(setup, max(mid, 1), repetitions, generator, device), setup, part).all():
            hi = mid
        else:
            lo = mid
    return hi


def device_generator(generator: torch.Generator, device) -> torch.Generator:
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    return torch.Generator(device=device).manual_seed(seed)


def _to_decide(k: int, R: int, case: Case) -> str | None:
    need = repetitions_to_decide(k, R, float(bound(case)))
    return None if need is None else f"about {need} repetitions at the observed rate {k / R:.3g}"


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    g = grammar_of(p)
    gen = device_generator(generator, device)
    R = p["repetitions"]
    fails = np.zeros(R, dtype=bool)
    worst = np.zeros(R)  # per draw: max over levels of max(orth / eps_O, same / eps_S); inf if ||Phi|| != 1
    rows = []
    for level in range(g.num_layers, 0, -1):
        st = level_setup(g, level, p)
        errs = eq7_errors(st, st["M"], R, gen, device)
        ok = _meets(errs, st)
        fails |= ~ok
        dev = np.maximum(errs["orth"] / st["eps_O"], errs["same"] / st["eps_S"])
        worst = np.maximum(worst, np.where(errs["norm"] <= UNIT_NORM_TOLERANCE, dev, np.inf))
        expr = lemma10_width_expression(st["d_h"], st["eps_O"], st["eps_S"], st["rho_tilde"], p["delta_P"])
        row = {k: st[k] for k in ("level", "num_patches", "d_e", "d_h", "rho", "rho_tilde", "sigma", "eps_tilde_S",
                                  "eps_O", "eps_S", "M", "assumption9_intra", "assumption9_inter",
                                  "kernel_at_rho_tilde")}
        row.update({
            "n_points": len(st["points"]),
            "assumption9_holds": bool(st["assumption9_intra"] <= st["eps_tilde_S"] * (1 + 1e-12)
                                      and st["assumption9_intra"] < st["assumption9_inter"]),
            "max_orth": float(errs["orth"].max()), "max_orth_non_synonym": float(errs["orth_non_synonym"].max()),
            "max_orth_synonym": float(errs["orth_synonym"].max()), "max_same": float(errs["same"].max()),
            "max_norm_deviation": float(errs["norm"].max()), "draws_failed": int((~ok).sum()),
            # Assumption 13 on the result: (a) unit norm, (b) eps_O |P_l| <= c_O, (c) eps_S
            "a13_unit_norm": bool(errs["norm"].max() <= UNIT_NORM_TOLERANCE),
            "a13_orth_times_P": float(errs["orth"].max()) * st["num_patches"],
            "a13_holds": bool(ok.all()),
            "width_expression": expr})
        if p.get("search"):
            m_min = smallest_width(st, p["search_repetitions"], gen, device, "both")
            m_orth = smallest_width(st, p["search_repetitions"], gen, device, "orth")
            row.update({"M_smallest": m_min, "C_M_empirical": m_min / expr, "M_lemma_over_smallest": st["M"] / m_min,
                        "M_smallest_orth_only": m_orth, "C_M_empirical_orth_only": m_orth / expr})
        rows.append(row)
    if p.get("kind") == "quantile":
        # the quantity behind the rate: the (1 - delta_P)-quantile of the normalised eq. (7) deviation
        qlo, qhi = quantile_limits(worst, 1 - p["delta_P"])
        # the empirical quantile as an order statistic (np.quantile interpolates inf - inf into NaN)
        value = float(np.sort(worst)[max(0, math.ceil((1 - p["delta_P"]) * R) - 1)])
        return Measurement(value=value, lower=qlo, upper=qhi,
                           confidence=CONFIDENCE,
                           to_decide=None if math.isfinite(qhi) else "more repetitions (>= 44 for a finite upper limit)",
                           details={"grammar": repr(g), "levels": rows, "repetitions": R,
                                    "worst_per_draw_max": float(worst.max()),
                                    "sigma_rule": p.get("sigma_rule", "corrected"),
                                    "width_constant": p["width_constant"]})
    k = int(fails.sum())
    lo, hi = rate_limits(k, R)
    rate = Fraction(k, R)
    return Measurement(value=rate, lower=lo, upper=hi, confidence=CONFIDENCE, to_decide=_to_decide(k, R, case),
                       details={"grammar": repr(g), "levels": rows, "repetitions": R, "failures": k,
                                "one_sided_limits_99": [lo, hi], "sigma_rule": p.get("sigma_rule", "corrected"),
                                "width_constant": p["width_constant"]})


def bound(case: Case):
    if case.params.get("kind") == "quantile":
        return 1  # deviations in units of eps_O and eps_S
    return Fraction(str(case.params["delta_P"]))


def kernel_matrices(params: dict, level: int, M: int, seed: int = 0) -> dict:
    r"""For the book's heat map: :math:`\langle\Phi(x_i),\Phi(x_j)\rangle` and :math:`\psi_\sigma(x_i,x_j)`
    over all representations of the level's patches (ordered by parent, patch, copy)."""
    g = grammar_of(params)
    st = level_setup(g, level, params)
    w = rff.sample_frequencies(st["d_h"], M, st["sigma"], torch.Generator().manual_seed(seed))
    G = rff.random_features_gram(st["points"], w)
    K = rff.rbf_kernel(st["points"], sigma=st["sigma"])
    return {"rf": G.numpy(), "kernel": K.numpy(), "parent": st["parent"].numpy(), "patch": st["patch"].numpy(),
            "setup": {k: v for k, v in st.items() if not isinstance(v, torch.Tensor)}, "grammar": repr(g)}


_SMALL = dict(V=4, n_c=4, m=2, s=2, L=3, grammar_seed=1, sampler="appendix_b", eps_O_constant=1.0, eps_S=0.5,
              delta_P=0.1, width_constant=2.0, copies=2, perturbation_seed=0, repetitions=20)
_LARGE = dict(V=8, n_c=8, m=4, s=2, L=3, grammar_seed=1, sampler="appendix_b", eps_O_constant=1.0, eps_S=0.5,
              delta_P=0.1, width_constant=2.0, copies=2, perturbation_seed=0, repetitions=100)

CLAIM = Claim(
    name="rff_near_orthogonality",
    paper="A",
    reference="Lemma 10, eq. (7); Assumptions 9 and 13",
    page="p. 12, proof pp. 21-22 (Lemma 10); p. 11 (Assumption 9); pp. 23-25 (Assumption 13)",
    statements=("Lemma 10", "Assumption 9", "Assumption 13"),
    hypotheses=(
        r"\delta_P\in(0,1)",
        r"\text{Assumption 9: }\exists\,0\le\tilde\varepsilon_S<\tilde\rho:\ \|h_\mu-h'_\mu\|\le\tilde\varepsilon_S,\ \|h_\mu-h_{\mu'}\|\ge\tilde\rho\ (\mu\ne\mu'\in V_l)",
        r"\sigma^2\le2\tilde\rho^2/\log(2/\varepsilon_O)",
        r"M\gtrsim\frac{sd_e}{\varepsilon_O^2\wedge\varepsilon_S^4}\log\frac{sd_e\log(2/\varepsilon_O)}{\tilde\rho^2(\varepsilon_O^2\wedge\varepsilon_S^4)\delta_P}",
        r"\tilde\varepsilon_S\le\varepsilon_S\sigma/\sqrt s",
    ),
    alias="Lemma 4.5 (inferred)",
    statement=STATEMENT,
    measured=(r"\Pr[\text{eq. (7) fails at some level}]\ \text{over draws of }\Phi\text{ (}\max|\langle\Phi(h_\mu),"
              r"\Phi(h_{\mu'})\rangle|>\varepsilon_O\text{ or }\max\|\Phi(h_\mu)-\Phi(h'_\mu)\|>\varepsilon_S)"),
    relation="<=",
    bound=bound,
    empirical=empirical,
    cases=(
        Case("V4_m2_L3_corrected_sigma", dict(_SMALL, sigma_rule="corrected", repetitions=60, search=True,
                                              search_repetitions=5),
             method="empirical", seed=101,
             note="60 draws: 0 failures would give a 99% upper limit 0.074 < delta_P = 0.1 (20 gave 0.21)"),
        Case("V4_m2_L3_quantile", dict(_SMALL, sigma_rule="corrected", repetitions=60, kind="quantile"),
             method="empirical", seed=106,
             note="the (1-delta_P)-quantile of max(|<Phi,Phi'>| / eps_O, ||Phi-Phi'|| / eps_S) against 1"),
        Case("quantile_sigma_as_printed", dict(_SMALL, sigma_rule="as_printed", repetitions=60, kind="quantile"),
             method="empirical", seed=107, role="negative_control",
             note="sigma as printed: the normalised deviation's quantile exceeds 1"),
        Case("V4_m2_L3_sigma_as_printed", dict(_SMALL, sigma_rule="as_printed", repetitions=10), method="empirical",
             seed=102,
             role="as_printed", expect=False,
             note="sigma^2 = 2 rho~^2/log(2/eps_O) leaves the kernel at distance rho~ equal to (eps_O/2)^(1/4) "
                  "= 0.5 > eps_O = 1/8: distinct patches one token apart are not near-orthogonal"),
        Case("sigma_4x_above_printed_limit", dict(_SMALL, sigma_rule="as_printed", sigma_scale=4, repetitions=10),
             method="empirical", seed=103, role="negative_control",
             note="sigma^2 four times the printed limit: kernel (eps_O/2)^(1/16) ~ 0.84 at distance rho~"),
        Case("width_1000x_below_lemma", dict(_SMALL, sigma_rule="corrected", width_scale=1e-3, repetitions=10),
             method="empirical", seed=104, role="negative_control",
             note="M a thousandth of Lemma 10's: random-feature error far above eps_O"),
        Case("V8_m4_L3_corrected_sigma", dict(_LARGE, sigma_rule="corrected", search=True, search_repetitions=10),
             scale="large", method="empirical", seed=105,
             cpu_params=dict(repetitions=50, search=False)),
    ),
)


def findings(records: dict) -> list[str]:
    """Lemma 10's bandwidth rule as printed, from the records (:mod:`verify.harness.findings`)."""
    r = next((r for r in records.values() if r["role"] == "as_printed"), None)
    if r is None:
        return []
    lv = r["details"]["levels"]
    worst = max(lv, key=lambda x: x["max_orth_non_synonym"] / x["eps_O"])
    fixed = [c for c in records.values() if c["role"] == "check" and c["details"].get("sigma_rule") == "corrected"
             and "failures" in c["details"]]
    line = (f"**Lemma 10's bandwidth rule as printed** ($\\sigma^2\\le2\\tilde\\rho^2/\\log(2/\\varepsilon_O)$) puts the kernel "
            f"at {worst['kernel_at_rho_tilde']:.3g} between non-synonyms at distance $\\tilde\\rho$, not $\\varepsilon_O/2$: "
            f"the largest non-synonym inner product measured is {worst['max_orth_non_synonym']:.3g} against "
            f"$\\varepsilon_O={worst['eps_O']:.3g}$ (level {worst['level']}), so eq. (7) fails in "
            f"{r['details']['failures']}/{r['details']['repetitions']} draws")
    if fixed:
        line += (f"; with $\\sigma^2\\le\\tilde\\rho^2/(2\\log(2/\\varepsilon_O))$ it holds "
                 "(" + ", ".join(f"{c['details']['failures']}/{c['details']['repetitions']} failures" for c in fixed) + ")")
    return [line + "."]
