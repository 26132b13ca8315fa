r"""Theorem 7 (Paper A, p. 10; proof p. 30) at finite size, with the proof's explicit constants.

The theorem bounds the samples by :math:`\mathrm{poly}(\kappa,m,V,s,L,\log\frac1{\delta_P})K_\rho^{-2}m^L` with an
unspecified exponent (Remark 8, p. 11), so no fitted exponent can confirm or refute it. Its **proof** (App. A.3,
p. 30) is explicit up to one "sufficiently large universal" constant :math:`C\ge1`, and with :math:`C=1`
(the smallest value it allows) it makes two falsifiable statements:

**(a) The chain.** Per level,

.. math:: \varepsilon^{(l)}_*=\frac{K_\rho m^{-l/2}}{\sqrt{CV^2m^2sL\log m}},\qquad
          N^{(l)}\ge20\big(\kappa\vee(\varepsilon^{(l)}_*)^{-2}\big)\log\frac{Vm}{\delta_P}\quad\text{(eq. 10, Lemma 11)},

and Lemma 11, applied from level :math:`L` down, gives w.p. :math:`\ge1-O(\delta_P)` at every level
:math:`\max_{\mu,x_\mu}\|W^{(l)}x_\mu/\langle\mathbf 1,W^{(l)}x_\mu\rangle-q^{(l)}_\mu\|\le\varepsilon^{(l)}_*`, hence the
top recovers every label (:math:`q^{(1)}_\mu=e_{\nu(\mu)}` and :math:`\varepsilon^{(1)}_*<1/\sqrt2`).
:func:`run_chain` trains the layerwise learner with these :math:`N^{(l)}` (fresh samples per stage, GD with
Lemma 17's :math:`T^{(l)}`) and measures both. The width Lemma 10 asks for to reach the chain's
:math:`\varepsilon_O=\varepsilon_*/(600|P_l|^2\kappa\sqrt{d_y})` and :math:`\varepsilon_S=1/(4|P_l|)` is out of
reach (:math:`M\sim10^{20}` at the smallest grammar), so the random features are replaced by the **oracle
embedding** that Lemma 10 is there to approximate: Construction 2's nearest-centre codes with the exact
:math:`q^{(l+1)}` as centres (:mod:`verify.features.clustering`; orthonormal patch embeddings,
:math:`\varepsilon_O=\varepsilon_S=0`, as long as the level below is accurate to half the distance between centres).

With orthonormal embeddings the stage's normalized output for patch :math:`\mu` is exactly
:math:`\hat q_\mu` (eq. 9: the scalar :math:`\hat p_\mu/(\hat p_\mu+\lambda_W)` and GD's factor cancel in eq. 2), a
function of the counts of (label, first patch) among the :math:`N^{(l)}` fresh samples, which are
:math:`\mathrm{Multinomial}(N^{(l)},(p_\mu q_\mu(\zeta))_{\mu,\zeta})`. Where :math:`N^{(l)}` runs to :math:`10^8`
samples and more, :func:`run_chain_counts` draws those counts directly: the same law, without forming the
samples (``tests/test_theorem7.py`` checks on common samples that the learner's outputs equal the count ratios).

**(b) The explicit total.** Summing the proof's :math:`N^{(l)}\le20C\kappa V^2m^2sL\log^2(Vm\kappa/\delta_P)
K_\rho^{-2}m^l` over :math:`l` bounds the samples by

.. math:: P\le B(m,L)\,K_\rho^{-2}m^L,\qquad B(m,L)=20C\kappa V^2m^2sL\log^2\frac{Vm\kappa}{\delta_P}
          \cdot\frac{m(m^L-1)}{(m-1)m^L}\quad(\le\ldots\cdot\tfrac m{m-1}),

so :math:`R(m,L)=P^*/(K_\rho^{-2}m^L)\le B(m,L)` at :math:`C=1`; it then holds for every :math:`C\ge1`.
:func:`scaling_point` measures :math:`P^*` of the package's RBF learner under both success notions:
90 % test accuracy, and the theorem's (footnote 2, p. 10): the output is :math:`e_\zeta\pm_2\varepsilon` on every
test input for every training seed, with :math:`\varepsilon=1/2` (the package's choice of the "o(1)": below
:math:`1/\sqrt2` the arg max is the label).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..learners.layerwise_ridge import LayerwiseRidge, LevelParams, practical_parameters
from ..rhm import Grammar, assumptions, exact, parse, sample
from ..validate import int_at_least as _int_at_least, numpy_generator as _numpy_generator, real_in as _real_in
from .sample_complexity import find_p_star, shuffle_labels

__all__ = ["N_RULES", "chain_parameters", "oracle_centres", "chain_levels", "run_chain", "run_chain_counts",
           "explicit_total_bound", "scaling_point", "spine_law"]

#: How each stage's :math:`N^{(l)}` is chosen: Lemma 11's eq. (10) (the chain as written); the per-patch size
#: :math:`2\kappa|P_l|\varepsilon_*^{-2}\log(4|P_l|/\delta_P)` that the Lemma 17/18 pages find sufficient (the
#: repaired chain); or a fixed number (``fixed``; the negative control's :math:`|P_l|`).
N_RULES = ("lemma11", "per_patch", "fixed")


def _constants(grammar: Grammar):
    kappa = float(assumptions.kappa(grammar, "float64")[0])
    gaps = assumptions.signal_gaps(grammar, "float64")
    k_rho = float(assumptions.instance_k_rho(gaps, grammar.num_synonyms))
    if not math.isfinite(kappa) or k_rho <= 0:
        raise ValueError(f"grammar violates Assumption 6 (kappa = {kappa}, K_rho = {k_rho}); Theorem 7's chain needs "
                         f"a finite kappa and K_rho > 0")
    return kappa, k_rho


def chain_parameters(grammar: Grammar, delta_p: float = 0.1, C: float = 1.0, N_rule: str = "lemma11",
                     fixed: int | None = None) -> list[dict]:
    r"""Per level :math:`l=1..L`: :math:`\varepsilon^{(l)}_*` (proof of Theorem 7, with ``C``; :math:`\log m`
    read as :math:`\log\max(m,2)`), :math:`\rho^{(l)}=K_\rho m^{-l/2}`, :math:`N^{(l)}` by ``N_rule``, Lemma 17's
    :math:`T^{(l)}=\lceil|P_l|\log(100|P_l|\kappa\sqrt{d_y}/\varepsilon_*)\rceil`, and the candidate sizes beside it."""
    delta_p = _real_in("delta_p", delta_p, 0, 1, lo_open=True, hi_open=True)
    C = _real_in("C (Theorem 7's universal constant)", C, 1)
    if N_rule not in N_RULES:
        raise ValueError(f"N_rule must be one of {N_RULES}; got {N_rule!r}")
    if N_rule == "fixed":
        fixed = _int_at_least("fixed (samples per stage)", fixed, 1)
    kappa, k_rho = _constants(grammar)
    V, m, s, L, d_y = (grammar.num_features, grammar.num_synonyms, grammar.tuple_size, grammar.num_layers,
                       grammar.num_classes)
    out = []
    for l in range(1, L + 1):
        P = grammar.num_patches(l)
        eps = k_rho * m ** (-l / 2) / math.sqrt(C * V**2 * m**2 * s * L * math.log(max(m, 2)))
        n11 = math.ceil(20 * max(kappa, eps**-2) * math.log(V * m / delta_p))
        npp = math.ceil(2 * kappa * P * eps**-2 * math.log(4 * P / delta_p))
        N = {"lemma11": n11, "per_patch": npp, "fixed": fixed}[N_rule]
        T = math.ceil(P * math.log(100 * P * kappa * math.sqrt(d_y) / eps))
        out.append(dict(level=l, num_patches=P, eps_star=eps, rho=k_rho * m ** (-l / 2), N=int(N), T=T,
                        N_lemma11=n11, N_per_patch=npp, kappa=kappa, K_rho=k_rho, N_rule=N_rule))
    return out


def oracle_centres(grammar: Grammar) -> dict[int, torch.Tensor]:
    r"""The centres of each level's tokens: one-hot :math:`e_v` at level :math:`L`; above, the exact
    :math:`q^{(l+1)}_\mu` of the patches each level-:math:`l` symbol generates (synonyms share it), row :math:`\nu`."""
    L = grammar.num_layers
    out = {L: torch.eye(grammar.num_features, dtype=torch.float64)}
    for l in range(1, L):
        law = exact.conditional_q(grammar, l + 1, "float64")
        if not law.reachable.all():
            raise ValueError(f"level-{l} symbols {np.flatnonzero(~law.reachable).tolist()} never start a level-{l + 1} "
                             f"first patch: q^({l + 1}) is undefined there (kappa = inf)")
        out[l] = torch.as_tensor(np.asarray(law.q, dtype=np.float64))
    return out


def chain_levels(params: list[dict]) -> list[LevelParams]:
    """The learner's stages for :func:`chain_parameters`' choices: oracle embedding, GD with :math:`T^{(l)}`."""
    return [LevelParams(level=p["level"], sigma=1.0, num_features=1, num_samples=p["N"], solver="gd",
                        num_steps=p["T"], features="cluster") for p in params]


def _top_and_levels(errors: list[float], params: list[dict], top_correct: bool, top_dev: float) -> dict:
    ok = [e <= p["eps_star"] for e, p in zip(errors, params)]
    return {"level_errors": errors, "eps_star": [p["eps_star"] for p in params], "level_ok": ok,
            "labels_recovered": bool(top_correct), "top_deviation": top_dev,
            "success": bool(all(ok) and top_correct)}


def run_chain(grammar: Grammar, params: list[dict], seed: int, num_test: int = 2000, device="cpu",
              test_seed: int = 0) -> dict:
    r"""Train the learner on the chain's :math:`N^{(l)}` (oracle embedding) and measure, on a test set, at every
    level :math:`\max\|W^{(l)}x/\langle\mathbf 1,W^{(l)}x\rangle-q^{(l)}_\mu\|` over every patch position, whether
    every test label is recovered, and :math:`\max_x\|h^{(0)}(x)-e_\zeta\|`. ``errors[l-1]`` is level :math:`l`."""
    num_test = _int_at_least("num_test", num_test, 1)
    model = LayerwiseRidge.for_grammar(grammar, chain_levels(params), centres=oracle_centres(grammar), device=device)
    model.fit(grammar, seed=seed, progress=False)
    x, y = sample(grammar, num_test, torch.Generator().manual_seed(test_seed), device)
    tree = parse(grammar, x)
    errors = []
    for l in range(1, grammar.num_layers + 1):
        q = torch.as_tensor(np.asarray(exact.conditional_q(grammar, l, "float64").q, dtype=np.float64), device=device)
        out = model.level_output(model.patch_features(model.embed(x, l), l), l)   # (n, s^{l-1}, d_y)
        target = q[tree.symbols[l - 1]]
        err = (out - target).norm(dim=-1)
        errors.append(float(torch.nan_to_num(err, nan=math.inf).max()))
    h0 = model.forward(x)
    top_dev = float(torch.nan_to_num((h0 - torch.nn.functional.one_hot(y, grammar.num_classes)).norm(dim=-1),
                                     nan=math.inf).max())
    return _top_and_levels(errors, params, bool((h0.argmax(-1) == y).all()), top_dev)


def spine_law(grammar: Grammar, level: int) -> np.ndarray:
    r""":math:`\Pr[\text{first level-}l\text{ patch}=\mu,\ \zeta]`, shape ``(|P_l|, n_c)``, by propagating the rules
    down the leftmost path (uniform label, each rule w.p. :math:`1/m`, the patch's first token starts the next
    level) -- the sampler's law, computed here on its own, not through :mod:`verify.rhm.exact`, so that the
    exact :math:`q^{(l)}` the chain is measured against is checked, not assumed."""
    m, n_c = grammar.num_synonyms, grammar.num_classes
    mass = np.eye(n_c) / n_c                                   # (label, level-0 symbol)
    for k in range(1, level + 1):
        patches = grammar.patches(k)                           # (|P_k|, s), patch i = rule i % m of parent i // m
        parent = np.repeat(np.arange(patches.shape[0] // m), m)
        joint = mass[:, parent] / m                            # (label, patch)
        if k == level:
            return joint.T.copy()
        nxt = np.zeros((n_c, grammar.vocabulary_size(k)))
        np.add.at(nxt.T, patches[:, 0], joint.T)
        mass = nxt
    raise ValueError(f"level must be an integer in [1, {grammar.num_layers}]; got {level!r}")


def run_chain_counts(grammar: Grammar, params: list[dict], rng: np.random.Generator) -> dict:
    r"""The same run through its sufficient statistic (module docstring): per level, counts of (first patch,
    label) drawn from :math:`\mathrm{Multinomial}(N^{(l)},(p_\mu q_\mu(\zeta)))` (:func:`spine_law`), :math:`\hat q_\mu` their row ratios
    (:math:`\infty` error for a patch never seen), the max over **every** :math:`\mu\in P_l`; the level's inputs
    are clustered right iff every :math:`\hat q^{(l+1)}_\mu` is nearest its own centre (else the run fails there:
    the chain is broken). Labels are recovered iff every :math:`\hat q^{(1)}_\mu` has its arg max at :math:`\nu(\mu)`."""
    _numpy_generator("rng", rng)
    m, L = grammar.num_synonyms, grammar.num_layers
    errors, top_correct, top_dev, broken = [math.inf] * L, False, math.inf, False
    for l in range(L, 0, -1):  # training order: bottom-up
        if broken:
            break
        law = exact.conditional_q(grammar, l, "float64")
        q = np.repeat(np.asarray(law.q, dtype=np.float64), m, axis=0)        # (|P_l|, n_c): the exact q under test
        joint = spine_law(grammar, l).ravel()                               # the sampler's law, computed apart
        counts = rng.multinomial(params[l - 1]["N"], joint / joint.sum()).reshape(q.shape).astype(np.float64)
        tot = counts.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            q_hat = counts / tot[:, None]
        err = np.where(tot > 0, np.linalg.norm(q_hat - q, axis=1), np.inf)
        errors[l - 1] = float(err.max())
        if l > 1:  # level l's outputs are level (l-1)'s tokens: nearest-centre clustering right?
            centres = np.asarray(law.q, dtype=np.float64)                   # row nu: centre of symbol nu
            seen = tot > 0
            d2 = ((q_hat[seen][:, None, :] - centres[None]) ** 2).sum(-1)
            own = np.repeat(np.arange(centres.shape[0]), m)[seen]
            broken = bool((~seen).any() or (d2.argmin(1) != own).any())
        else:
            parents = np.repeat(np.arange(q.shape[0] // m), m)
            seen = tot > 0
            top_correct = bool(seen.all() and (q_hat[seen].argmax(1) == parents[seen]).all())
            top_dev = float(err.max())
    return {**_top_and_levels(errors, params, top_correct and not broken, top_dev), "chain_broken": broken}


def explicit_total_bound(grammar: Grammar, delta_p: float = 0.1, C: float = 1.0) -> dict:
    r""":math:`B(m,L)` (module docstring) and its parts: the proof's explicit bound on :math:`P/(K_\rho^{-2}m^L)`."""
    delta_p = _real_in("delta_p", delta_p, 0, 1, lo_open=True, hi_open=True)
    kappa, k_rho = _constants(grammar)
    V, m, s, L = grammar.num_features, grammar.num_synonyms, grammar.tuple_size, grammar.num_layers
    geometric = sum(m**l for l in range(1, L + 1)) / m**L
    B = 20 * C * kappa * V**2 * m**2 * s * L * math.log(V * m * kappa / delta_p) ** 2 * geometric
    return {"B": B, "kappa": kappa, "K_rho": k_rho, "m_to_L": m**L, "K_rho_m_to_L": k_rho**-2 * m**L,
            "geometric_sum": geometric, "explicit_total": B * k_rho**-2 * m**L}


def scaling_point(grammar: Grammar, budget: int, trials: int = 2, seed: int = 0, num_features: int = 512,
                  sigma_scale: float = 0.5, eps_uniform: float = 0.5, target: float = 0.9, num_test: int = 2000,
                  refine: int = 3, device="cpu", shuffled: bool = False, delta_p: float = 0.1,
                  start: int | None = None) -> dict:
    r""":math:`P^*` of the RBF learner (:func:`practical_parameters`) under both success notions, from one pass of
    fits: ``P_star_accuracy`` (mean test accuracy over ``trials`` seeds :math:`\ge` ``target``) and
    ``P_star_uniform`` (every seed's :math:`\max_x\|h^{(0)}(x)-e_\zeta\|\le` ``eps_uniform`` on the test set);
    :math:`R=P^*/(K_\rho^{-2}m^L)` and :math:`B(m,L)` (:func:`explicit_total_bound`). ``shuffled`` permutes each
    stage's labels (negative control). The search doubles from ``start`` (default :math:`n_cm`) up to ``budget``."""
    trials = _int_at_least("trials", trials, 1)
    eps_uniform = _real_in("eps_uniform (below 1/sqrt(2), so that it implies the arg max)", eps_uniform, 0,
                           1 / math.sqrt(2), lo_open=True, hi_open=True)
    x, y = sample(grammar, _int_at_least("num_test", num_test, 1), torch.Generator().manual_seed(10_000 + seed), device)
    onehot = torch.nn.functional.one_hot(y, grammar.num_classes).double()
    cache: dict[int, tuple[float, bool]] = {}

    def evaluate(P):
        if P not in cache:
            accs, unif = [], []
            for t in range(trials):
                levels = practical_parameters(grammar, P, num_features=num_features, sigma_scale=sigma_scale)
                model = LayerwiseRidge.for_grammar(grammar, levels, device=device)
                model.fit(grammar, seed=1000 * seed + t, progress=False, transform=shuffle_labels if shuffled else None)
                h = model.forward(x)
                accs.append(float((h.argmax(-1) == y).double().mean()))
                dev = torch.nan_to_num((h - onehot).norm(dim=-1), nan=math.inf).max()
                unif.append(bool(dev <= eps_uniform))
            cache[P] = (float(np.mean(accs)), all(unif))
        return cache[P]

    first = max(grammar.num_classes * grammar.num_synonyms, grammar.num_layers)
    start = first if start is None else _int_at_least("start", start, first)
    budget = _int_at_least("budget", budget, start)
    p_acc, curve_acc = find_p_star(lambda P: evaluate(P)[0], start, budget, target, refine)
    p_uni, curve_uni = find_p_star(lambda P: float(evaluate(P)[1]), start, budget, 1.0, refine)
    bound = explicit_total_bound(grammar, delta_p)
    scale = bound["K_rho_m_to_L"]
    return {"m": grammar.num_synonyms, "L": grammar.num_layers, "grammar": repr(grammar), **bound,
            "P_star_accuracy": p_acc, "P_star_uniform": p_uni, "R_accuracy": p_acc / scale, "R_uniform": p_uni / scale,
            "budget": budget, "start": start, "curve": sorted((P, a, u) for P, (a, u) in cache.items()),
            "target_accuracy": target, "eps_uniform": eps_uniform, "trials": trials}
