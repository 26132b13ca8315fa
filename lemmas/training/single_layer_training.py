r"""Lemma 17 (Paper A, App. A, pp. 27-28; arXiv-style number not seen): training :math:`W` on one
level recovers :math:`q_\mu` for every patch.

**Lemma 17, as printed.** Assumption 13 (:math:`\|x_\mu\|=1`, :math:`|x_\mu\cdot x_{\mu'}|\le\varepsilon_O`,
:math:`\|x_\mu-x'_\mu\|\le\varepsilon_S`); :math:`\delta_P,\varepsilon_*\in(0,0.1)`; GD as in Lemma 15
(:math:`W_0=0`, step :math:`2|P_l|/(|P_l|+1)`, :math:`\lambda_W=1/|P_l|`). If
:math:`N\ge8(\kappa\vee\varepsilon_*^{-2})\log(4|P_l|/\delta_P)`, :math:`T\ge|P_l|\log(100|P_l|\kappa\sqrt{d_y}/\varepsilon_*)`,
:math:`\varepsilon_S\le\lambda_W/4=1/(4|P_l|)` and :math:`\varepsilon_O\le\varepsilon_*/(600|P_l|^2\kappa\sqrt{d_y})`, then w.p.
:math:`\ge1-\delta_P`, :math:`W_{N,T}x_\mu/\langle\mathbf 1,W_{N,T}x_\mu\rangle=q_\mu\pm_2\varepsilon_*` for all :math:`\mu,x_\mu`.
Its proof uses :math:`N\ge8\kappa|P_l|\log(4|P_l|/\delta_P)` (an extra :math:`|P_l|`) for the concentration of
:math:`\hat p_\mu`. Lemma 11 (one layer of the chain, eq. (10)) is its own claim, :mod:`lemmas.lemma11_one_layer`,
which reuses this module's measuring functions.

**Which hypotheses a case meets** is computed, never assumed: every case's details carry
``hypotheses`` (one row per hypothesis of Lemma 17: what it requires, the value the case has, met or not)
and the lists ``hypotheses_met`` / ``hypotheses_not_met``. :math:`\varepsilon_O`, :math:`\varepsilon_S` and
:math:`\max|\|x\|-1|` are measured on the patch embeddings (every patch for the orthonormal cases; every
realization in the test set, every repetition, for the learner); :math:`\lambda_W`, the step size and
:math:`T` are read from the learner (:meth:`LayerwiseRidge.regularization`, its ``LevelParams``);
:math:`\kappa` is the grammar's exact one (Assumption 6(a)). All cases take :math:`\delta_P=0.09`,
:math:`\varepsilon_*=0.09`, inside :math:`(0,0.1)`.

**Which N suffices** is measured. With orthonormal patch embeddings (Construction 1's tensor features at
level :math:`L`: :math:`\varepsilon_O=\varepsilon_S=0`), Lemma 14 is exact and the normalized output is
:math:`\hat q_\mu` itself for every :math:`T\ge1`, so the lemma's event is
:math:`\max_\mu\|\hat q_\mu-q_\mu\|\le\varepsilon_*` -- a pure sampling question, computed exactly from the
sampled counts, over :math:`R` repetitions. :math:`\hat q_\mu` averages :math:`N\hat p_\mu\approx N/(\kappa|P_l|)`
samples for the rarest patch (see the Lemma 18 page), so the three candidate sizes are: the statement's
:math:`8(\kappa\vee\varepsilon_*^{-2})\log(4|P_l|/\delta_P)`, the proof's :math:`8(\kappa|P_l|\vee\varepsilon_*^{-2})\log(\cdot)`,
and the per-patch size :math:`2\kappa|P_l|\varepsilon_*^{-2}\log(4|P_l|/\delta_P)`.

**Measured:** failure rate of :math:`\max_{\mu,x_\mu}\|W x_\mu/\langle\mathbf 1,Wx_\mu\rangle-q_\mu\|>\varepsilon_*` over
:math:`R` repetitions (every patch of every position of a fresh test set for the trained learner; every
patch for the orthonormal case), against :math:`\delta_P`, with its one-sided 99% Clopper--Pearson limits; or
(``measure="quantile"``) the :math:`(1-\delta_P)`-quantile of that max error against :math:`\varepsilon_*`, with its
order-statistic limits (a finite upper limit needs :math:`n\ge\log0.01/\log0.91\approx49` repetitions).
The learner cases run :meth:`LayerwiseRidge.fit` itself (stopped after the stage under test), so a bug in how
it draws a stage's samples moves this claim. Small scale: the learner with Construction 1's tensor features
at level :math:`L` (Lemma 17's hypotheses all met); the RBF learner's case (60 repetitions) is large and does
not meet the :math:`\varepsilon_O` hypothesis (its details give the measured and the required value).
**Negative controls:** :math:`N=|P_l|` samples (orthonormal embeddings, and the learner).
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import torch

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.learners import layerwise_ridge
from verify.learners.layerwise_ridge import LayerwiseRidge, LevelParams, practical_parameters
from verify.rhm import assumptions, exact
from verify.harness.stats import CONFIDENCE, quantile_limits, rate_limits, repetitions_to_decide

HYPOTHESES = (
    r"\text{Assumption 13 (a): }\|x_\mu\|=1",
    r"\text{Assumption 13 (b): }|x_\mu\cdot x_{\mu'}|\le\varepsilon_O\ (\mu\ne\mu'),\ \varepsilon_O\lesssim1/|P_l|",
    r"\text{Assumption 13 (c): }\|x_\mu-x'_\mu\|\le\varepsilon_S",
    r"\delta_P,\ \varepsilon_*\in(0,0.1)",
    r"\text{GD as in Lemma 15: }W_0=0,\ \text{step }2|P_l|/(|P_l|+1),\ \lambda_W=1/|P_l|",
    r"N\ge8(\kappa\vee\varepsilon_*^{-2})\log(4|P_l|/\delta_P)",
    r"T\ge|P_l|\log\big(100|P_l|\kappa\sqrt{d_y}/\varepsilon_*\big)",
    r"\varepsilon_S\le\lambda_W/4=1/(4|P_l|)",
    r"\varepsilon_O\le\varepsilon_*/(600|P_l|^2\kappa\sqrt{d_y})",
)
STATEMENT = (r"\text{Assumption 13},\ \delta_P,\varepsilon_*\in(0,0.1),\ \lambda_W=\tfrac1{|P_l|},\ \eta=\tfrac{2|P_l|}{|P_l|+1},\ "
             r"N\ge8(\kappa\vee\varepsilon_*^{-2})\log\tfrac{4|P_l|}{\delta_P},\ T\ge|P_l|\log\tfrac{100|P_l|\kappa\sqrt{d_y}}"
             r"{\varepsilon_*},\ \varepsilon_S\le\tfrac1{4|P_l|},\ \varepsilon_O\le\tfrac{\varepsilon_*}{600|P_l|^2\kappa\sqrt{d_y}}"
             r"\ \Rightarrow\ \Pr\Big[\forall\mu,x_\mu:\ \Big\|\tfrac{W_{N,T}x_\mu}{\langle\mathbf 1,W_{N,T}x_\mu\rangle}"
             r"-q_\mu\Big\|\le\varepsilon_*\Big]\ge1-\delta_P")
N_RULES = ("statement", "proof", "per_patch", "lemma11", "fixed")
UNIT_NORM_TOLERANCE = 1e-12  # float64: |‖x‖ - 1| is rounding only


grammar_of = rhm.grammar_from_params


def sample_size(rule: str, kappa: float, num_patches: int, eps: float, delta: float, V: int, m: int,
                fixed: int | None = None) -> int:
    """The candidate N of each rule (module docstring; ``lemma11``: eq. (10))."""
    log4 = math.log(4 * num_patches / delta)
    if rule == "statement":
        return math.ceil(8 * max(kappa, eps**-2) * log4)
    if rule == "proof":
        return math.ceil(8 * max(kappa * num_patches, eps**-2) * log4)
    if rule == "per_patch":
        return math.ceil(2 * kappa * num_patches * eps**-2 * log4)
    if rule == "lemma11":
        return math.ceil(20 * max(kappa, eps**-2) * math.log(V * m / delta))
    if rule == "fixed":
        return int(fixed)
    raise ValueError(f"rule must be one of {N_RULES}; got {rule!r}")


def lemma17_steps(num_patches: int, kappa: float, d_y: int, eps: float) -> int:
    r"""Lemma 17's :math:`T=\lceil|P_l|\log(100|P_l|\kappa\sqrt{d_y}/\varepsilon_*)\rceil`."""
    return math.ceil(num_patches * math.log(100 * num_patches * kappa * math.sqrt(d_y) / eps))


def _setup(p):
    g = grammar_of(p)
    level = p["level"]
    kappa = float(assumptions.kappa(g, "float64")[0])
    P = g.num_patches(level)
    n = sample_size(p["N_rule"], kappa, P, p["eps_star"], p["delta"], g.num_features, g.num_synonyms,
                    p.get("N", P))
    law = exact.conditional_q(g, level, "float64")
    return g, level, kappa, P, n, law


def embedding_constants(X: torch.Tensor, mu: torch.Tensor) -> dict:
    r"""Assumption 13's quantities of patch embeddings ``X`` ``(n, d)`` with patch ids ``mu`` ``(n,)``, over the
    distinct realizations: :math:`\max|\|x\|-1|`, :math:`\varepsilon_O=\max_{\mu\ne\mu'}|x_\mu\cdot x_{\mu'}|`,
    :math:`\varepsilon_S=\max\|x_\mu-x'_\mu\|` (float64; rows equal to 12 decimals count as one realization)."""
    X = X.reshape(-1, X.shape[-1]).double().cpu()
    mu = mu.reshape(-1).cpu()
    # distinct (patch, realization): sort by patch id, then by a fixed random projection of the rounded row
    proj = (torch.round(X * 1e12) @ torch.linspace(1, 2, X.shape[1], dtype=torch.float64).sin()).numpy()
    order = np.lexsort((proj, mu.numpy()))
    keys = np.stack([mu.numpy()[order], proj[order]], 1)
    first = torch.as_tensor(order[np.r_[True, (np.diff(keys, axis=0) != 0).any(1)]])
    Xu, mu_u = X[first], mu[first]
    G = Xu @ Xu.T
    other = mu_u[:, None] != mu_u[None, :]
    sq = Xu.pow(2).sum(1)
    D2 = (sq[:, None] + sq[None, :] - 2 * G).clamp_min(0)
    D2.fill_diagonal_(0)  # a realization's distance to itself is 0, not the Gram form's rounding
    return dict(norm_deviation=float((sq.sqrt() - 1).abs().max()),
                eps_O=float(G[other].abs().max()) if other.any() else 0.0,
                eps_S=float(D2[~other].max().sqrt()), realizations=int(len(first)))


def _row(name, required, value, met, note=""):
    out = dict(hypothesis=name, required=required, value=value, met=None if met is None else bool(met))
    if note:
        out["note"] = note
    return out


def summarize(rows: list[dict]) -> dict:
    """``hypotheses`` rows and the lists of those met, not met, and not decidable (``met`` None)."""
    return dict(hypotheses=rows, hypotheses_met=[r["hypothesis"] for r in rows if r["met"] is True],
                hypotheses_not_met=[r["hypothesis"] for r in rows if r["met"] is False],
                hypotheses_undecided=[r["hypothesis"] for r in rows if r["met"] is None])


def lemma17_hypotheses(*, kappa, num_patches, d_y, eps_star, delta, N, T, lambda_w, step_size, emb: dict,
                       T_note: str = "") -> list[dict]:
    """One row per hypothesis of Lemma 17 (:data:`HYPOTHESES`), with the case's value and whether it is met."""
    P = num_patches
    eps_o_max = eps_star / (600 * P**2 * kappa * math.sqrt(d_y))
    n_min = sample_size("statement", kappa, P, eps_star, delta, 0, 0)
    t_min = lemma17_steps(P, kappa, d_y, eps_star)
    return [
        _row("A13(a): |x_mu| = 1", f"max| |x| - 1 | <= {UNIT_NORM_TOLERANCE:g}", emb["norm_deviation"],
             emb["norm_deviation"] <= UNIT_NORM_TOLERANCE),
        _row("delta_P in (0, 0.1)", "(0, 0.1)", delta, 0 < delta < 0.1),
        _row("eps_* in (0, 0.1)", "(0, 0.1)", eps_star, 0 < eps_star < 0.1),
        _row("lambda_W = 1/|P_l|", 1 / P, lambda_w, math.isclose(lambda_w, 1 / P, rel_tol=1e-12)),
        _row("step 2|P_l|/(|P_l|+1), W_0 = 0", 2 * P / (P + 1), step_size,
             math.isclose(step_size, 2 * P / (P + 1), rel_tol=1e-12)),
        _row("N >= 8(kappa v eps^-2) log(4|P_l|/delta_P)", n_min, N, N >= n_min),
        _row("T >= |P_l| log(100|P_l| kappa sqrt(d_y)/eps_*)", t_min, T, None if T is None else T >= t_min, T_note),
        _row("eps_S <= 1/(4|P_l|)", 1 / (4 * P), emb["eps_S"], emb["eps_S"] <= 1 / (4 * P)),
        _row("eps_O <= eps_*/(600|P_l|^2 kappa sqrt(d_y))", eps_o_max, emb["eps_O"], emb["eps_O"] <= eps_o_max),
    ]


def orthonormal_embeddings(g, level) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Construction 1's tensor features of one-hot tokens for every patch of :math:`P_l` (orthonormal when the
    tokens are one-hot, i.e. at level :math:`L`): ``(X, mu)``."""
    tokens = torch.nn.functional.one_hot(torch.tensor(np.array(g.patches(level))), g.vocabulary_size(level)).double()
    return layerwise_ridge.tensor_features(tokens), torch.arange(g.num_patches(level))


def orthonormal_errors(g, level, n, law, reps, generator) -> np.ndarray:
    r""":math:`\max_\mu\|\hat q_\mu-q_\mu\|` per repetition (:math:`\infty` if some patch is never first)."""
    P, n_c = g.num_patches(level), g.num_classes
    q = np.repeat(law.q, g.num_synonyms, axis=0)
    out = np.empty(reps)
    for r in range(reps):
        y, first = rhm.sample_spine(g, n, generator)
        c = torch.bincount(first[:, level - 1] * n_c + y, minlength=P * n_c).reshape(P, n_c).double().numpy()
        cnt = c.sum(1)
        if (cnt == 0).any():
            out[r] = np.inf
            continue
        out[r] = np.linalg.norm(c / cnt[:, None] - q, axis=1).max()
    return out


class _StageDone(Exception):
    """Raised by the ``fit`` callback once the stage under test is trained (the stages above are not needed)."""


def _stop_after(level):
    def callback(model, l):
        if l == level:
            raise _StageDone
    return callback


def learner_errors(g, level, n, law, reps, p, generator) -> tuple[np.ndarray, dict]:
    r"""Train stage ``level`` with :meth:`LayerwiseRidge.fit` (fresh samples and features per repetition, GD with
    Lemma 17's :math:`T`) on top of the levels below, trained **once** (Lemma 11 holds conditionally on the
    level below); the max error over every patch of a test set, per repetition, and ``info``: the learner's
    :math:`\lambda_W`, step, :math:`T`, :math:`M`, Assumption 13's quantities of its patch embeddings on the test
    set (worst over repetitions) and the accuracy reached by the level below."""
    P = g.num_patches(level)
    kappa = float(assumptions.kappa(g, "float64")[0])
    T = lemma17_steps(P, kappa, g.num_classes, p["eps_star"])
    base = practical_parameters(g, p["N_below"] * g.num_layers, num_features=p["M"], sigma_scale=p["sigma_scale"])
    levels = [LevelParams(l, sigma=base[l - 1].sigma, num_features=p["M"],
                          num_samples=n if l == level else (p["N_below"] if l > level else 1),
                          solver="gd" if l == level else "closed_form", num_steps=T if l == level else 0,
                          features=p.get("features", "rff") if l == level else "rff")
              for l in range(1, g.num_layers + 1)]

    def seed():
        return int(torch.randint(0, 2**31 - 1, (1,), generator=generator))

    state = None
    if level < g.num_layers:  # the levels below, once
        below = LayerwiseRidge.for_grammar(g, levels)
        try:
            below.fit(g, seed=seed(), progress=False, callback=_stop_after(level + 1))
        except _StageDone:
            pass
        state = below.state()
    x, _ = rhm.sample(g, p["N_test"], generator)
    tree = rhm.parse(g, x)
    target = torch.as_tensor(law.q)[tree.symbols[level - 1]]
    errs, emb = [], dict(norm_deviation=0.0, eps_O=0.0, eps_S=0.0, realizations=0)
    for rep in range(reps):
        model = LayerwiseRidge.for_grammar(g, levels)
        if state is not None:
            model.load_state(state)
        try:
            model.fit(g, seed=seed(), progress=False, callback=_stop_after(level))
        except _StageDone:
            pass
        h = model.embed(x, level)
        feats = model.patch_features(h, level)                               # (n, s^{l-1}, d_x)
        out = model.level_output(feats, level)                               # (n, s^{l-1}, d_y)
        err = float((out - target).norm(dim=-1).max())
        errs.append(math.inf if math.isnan(err) else err)  # an unseen patch (tensor features): 0/0, a failure
        if rep == 0 or model.levels[level].features != "tensor":  # tensor features are the same every repetition
            e = embedding_constants(feats, tree.patch_index[level])
            emb = {k: max(emb[k], e[k]) for k in emb}
    lam, eta = model.regularization(level, P)
    info = dict(lambda_w=lam, step_size=eta, T=model.levels[level].num_steps, M=p["M"],
                features=model.levels[level].features, sigma=model.levels[level].sigma, embedding=emb,
                eps_below=0.0)
    if level < g.num_layers:  # accuracy reached by the level below (Lemma 11's eps^(l+1))
        qb = torch.as_tensor(exact.conditional_q(g, level + 1, "float64").q)[tree.symbols[level]]
        info["eps_below"] = float((model.embed(x, level) - qb).norm(dim=-1).max())
    return np.array(errs), info


def run(p: dict, generator) -> tuple[np.ndarray, dict]:
    """The errors of a case's repetitions and what was used: ``info`` with the grammar's constants, N, the
    learner's (or the orthonormal case's) lambda_W, step, T and Assumption 13's measured quantities."""
    g, level, kappa, P, n, law = _setup(p)
    base = dict(grammar=g, level=level, kappa=kappa, num_patches=P, N=n, d_y=g.num_classes)
    if p["embedding"] == "orthonormal":
        errs = orthonormal_errors(g, level, n, law, p["repetitions"], generator)
        X, mu = orthonormal_embeddings(g, level)
        return errs, dict(base, lambda_w=1 / P, step_size=2 * P / (P + 1), T=None, embedding=embedding_constants(X, mu),
                          T_note="orthonormal x_mu: W_T x_mu is a positive multiple of q-hat_mu for every T >= 1, so "
                                 "the normalized output (computed from the counts) is the same for any T >= 1")
    errs, info = learner_errors(g, level, n, law, p["repetitions"], p, generator)
    return errs, dict(base, **info)


def measurement(errs: np.ndarray, p: dict, details: dict) -> Measurement:
    """The case's verdict quantity from the repetitions' max errors: the failure rate against delta_P, or
    (``measure="quantile"``) the (1-delta_P)-quantile against eps_*, with one-sided 99% limits."""
    reps = len(errs)
    fails = int((errs > p["eps_star"]).sum())
    lo, hi = rate_limits(fails, reps)
    rate = fails / reps
    need = repetitions_to_decide(fails, reps, p["delta"])
    q = 1 - p["delta"]
    q_lo, q_hi = quantile_limits(errs, q)
    # the smallest number of repetitions whose largest error is a 99% upper limit of the (1-delta)-quantile
    n_q = math.ceil(math.log(1 - CONFIDENCE) / math.log(q))
    details = dict(details, eps_star=p["eps_star"], delta=p["delta"], repetitions=reps,
                   max_error_median=float(np.median(errs)), max_error_max=float(errs.max()),
                   one_sided_limits_99=[lo, hi], quantile_level=q,
                   error_quantile=float(np.quantile(errs, q, method="higher")), error_quantile_limits=[q_lo, q_hi],
                   failures=fails)
    if p.get("measure") == "quantile":  # the deviation's (1-delta)-quantile against eps_*
        return Measurement(value=details["error_quantile"], lower=q_lo, upper=q_hi, confidence=CONFIDENCE,
                           details=details, to_decide=f"at least {n_q} repetitions for a finite upper limit; more "
                                                      f"when the quantile is near eps_*")
    return Measurement(value=rate, lower=lo, upper=hi, confidence=CONFIDENCE, details=details,
                       to_decide=None if need is None else f"about {need} repetitions at the observed rate {rate:.3g}")


#: Runs by (parameters other than ``measure``, generator state): ``orthonormal_N_per_patch`` and its ``_quantile``
#: read one set of draws two ways, so the second case reuses the first's run (issue 15). A test that injects a bug
#: empties every lemma module's ``RUNS_MEMO`` first (tests/test_claims_catch_bugs.py).
RUNS_MEMO: dict = {}


def run_memoised(p: dict, generator) -> tuple[np.ndarray, dict]:
    """:func:`run`, memoised in :data:`RUNS_MEMO` (the same parameters and generator state give the same draws)."""
    key = (repr(sorted((k, v) for k, v in p.items() if k != "measure")),
           hashlib.sha256(generator.get_state().cpu().numpy().tobytes()).hexdigest())
    if key not in RUNS_MEMO:
        RUNS_MEMO[key] = run(p, generator)
    errs, info = RUNS_MEMO[key]
    return errs.copy(), dict(info)


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    errs, info = run_memoised(p, generator)
    g, P, kappa = info["grammar"], info["num_patches"], info["kappa"]
    rows = lemma17_hypotheses(kappa=kappa, num_patches=P, d_y=info["d_y"], eps_star=p["eps_star"], delta=p["delta"],
                              N=info["N"], T=info["T"], lambda_w=info["lambda_w"], step_size=info["step_size"],
                              emb=info["embedding"], T_note=info.get("T_note", ""))
    if info["T"] is None:  # orthonormal: the computation stands for every T >= 1, Lemma 17's T included
        for r in rows:
            if r["hypothesis"].startswith("T >="):
                r.update(value="any T >= 1", met=True)
    V, m = g.num_features, g.num_synonyms
    details = {"grammar": repr(g), "level": info["level"], "kappa": kappa, "num_patches": P, "N": info["N"],
               "N_rule": p["N_rule"], "embedding": p["embedding"],
               "N_statement": sample_size("statement", kappa, P, p["eps_star"], p["delta"], V, m),
               "N_proof": sample_size("proof", kappa, P, p["eps_star"], p["delta"], V, m),
               "N_per_patch": sample_size("per_patch", kappa, P, p["eps_star"], p["delta"], V, m),
               "measured_embedding": info["embedding"], **summarize(rows)}
    return measurement(errs, p, details)


def bound(case: Case):
    p = case.params
    return p["eps_star"] if p.get("measure") == "quantile" else p["delta"]


_ORTH = dict(V=16, n_c=16, m=8, s=2, L=2, grammar_seed=1, sampler="authors", level=2, eps_star=0.09, delta=0.09,
             embedding="orthonormal", repetitions=100)
_RFF = dict(V=4, n_c=4, m=2, s=2, L=3, grammar_seed=1, sampler="appendix_b", eps_star=0.09, delta=0.09,
            embedding="rff", M=512, sigma_scale=0.35, N_below=4000, N_test=2000, repetitions=4)

CLAIM = Claim(
    name="single_layer_training",
    paper="A",
    reference="Lemma 17",
    page="pp. 27-28",
    statements=("Lemma 17",),
    alias="Lemma A.x (arXiv-style number not seen)",
    hypotheses=HYPOTHESES,
    statement=STATEMENT,
    measured=r"\Pr\big[\max_{\mu,x_\mu}\|Wx_\mu/\langle\mathbf 1,Wx_\mu\rangle-q_\mu\|>\varepsilon_*\big]\ \text{(failure rate)}",
    relation="<=",
    bound=bound,
    empirical=empirical,
    cases=(
        Case("orthonormal_N_per_patch", dict(_ORTH, N_rule="per_patch"), method="empirical", seed=1,
             note="orthonormal x_mu (all hypotheses met); N = 2 kappa |P| eps^-2 log(4|P|/delta): enough samples of "
                  "the rarest patch"),
        Case("orthonormal_N_per_patch_quantile", dict(_ORTH, N_rule="per_patch", measure="quantile"), method="empirical",
             seed=1, note="the same draws: the (1-delta)-quantile of max_mu |q-hat_mu - q_mu| against eps_*"),
        Case("orthonormal_N_statement", dict(_ORTH, N_rule="statement"), method="empirical", seed=2,
             role="as_printed", expect=False,
             note="every hypothesis met, N at the statement's minimum: kappa|P| = 341 > eps^-2, so the rarest patch "
                  "gets ~N/(kappa|P|) = 25 samples, an error ~ sqrt(tr Cov(e_zeta|mu)/25) well above eps_*"),
        Case("orthonormal_N_proof", dict(_ORTH, N_rule="proof"), method="empirical", seed=3,
             role="as_printed", expect=False,
             note="the proof's N = 8 kappa|P| log(4|P|/delta) still gives the rarest patch only ~8 log(4|P|/delta) "
                  "= 69 samples, not the ~eps^-2 that q-hat needs"),
        Case("learner_tensor_level3_N_statement", dict(_RFF, level=3, N_rule="statement", features="tensor",
                                                       measure="quantile", repetitions=60, N_test=500),
             method="empirical", seed=11,
             note="the learner (LayerwiseRidge.fit, GD with Lemma 17's T, lambda_W and step of Lemma 15) with "
                  "Construction 1's tensor features at level L: eps_O = eps_S = 0, every hypothesis of Lemma 17 met "
                  "(details); the (1-delta)-quantile of the max error against eps_* (kappa|P| = 8 < eps^-2: the "
                  "statement's N suffices)"),
        Case("learner_tensor_level3_N_statement_rate", dict(_RFF, level=3, N_rule="statement", features="tensor",
                                                            repetitions=60, N_test=500),
             method="empirical", seed=12, note="the same, as the lemma's failure rate against delta_P"),
        Case("rff_level3_lemma17_N_per_patch", dict(_RFF, level=3, N_rule="per_patch", measure="quantile",
                                                    repetitions=60), method="empirical", seed=4, scale="large",
             note="the learner with RBF features (M = 512, GD with Lemma 17's T) at the bottom level: the eps_O "
                  "hypothesis is NOT met (details: measured eps_O vs the required eps_*/(600|P|^2 kappa sqrt d_y)); "
                  "the conclusion is measured anyway"),
        Case("orthonormal_N_proof_V32_m8", dict(_ORTH, V=32, n_c=32, N_rule="proof", repetitions=400), scale="large",
             method="empirical", seed=9, role="as_printed", expect=False, cpu_params={"repetitions": 100},
             note="as orthonormal_N_proof, at |P| = 256"),
        Case("orthonormal_N_equals_P", dict(_ORTH, N_rule="fixed", N=128), method="empirical", seed=6,
             role="negative_control", note="N = |P_l| samples (the N hypothesis not met): most patches are seen "
                                           "once or never"),
        Case("learner_tensor_level3_N_equals_P", dict(_RFF, level=3, N_rule="fixed", N=8, features="tensor",
                                                      repetitions=3, N_test=500),
             method="empirical", seed=13, role="negative_control",
             note="the learner with N = |P_l| = 8 samples (the N hypothesis not met)"),
    ),
)
