r"""Lemma 11 (Paper A, §4.1, p. 13, proof p. 29; arXiv alias Lemma 4.6, inferred): training a single layer
of the chain recovers :math:`q^{(l)}_\mu`, given the level below trained to :math:`\varepsilon^{(l+1)}_*`.

**Lemma 11, as printed.** Target accuracy :math:`\varepsilon^{(l)}_*`; :math:`W^{(l)}\in\mathbb R^{d_y\times M^{(l)}}` trained by
GD on (3) with :math:`N^{(l)}` samples and :math:`T^{(l)}` steps. If **eq. (10)**

.. math:: \varepsilon^{(l+1)}_*\le\frac{\rho^{(l+1)}}{\sqrt{2000V^2m^2s\log(Vm\kappa/\varepsilon^{(l)}_*)}},\qquad
          N^{(l)}\ge20\big(\kappa\vee(\varepsilon^{(l)}_*)^{-2}\big)\log(Vm/\delta_P),

and :math:`M^{(l)},T^{(l)}` are large universal polynomials of the RHM parameters, :math:`\log(1/\delta_P)`,
:math:`\varepsilon^{(l)}_*,\varepsilon^{(l+1)}_*`, then w.p. :math:`\ge1-O(\delta_P)`:
:math:`W^{(l)}x_\mu/\langle\mathbf 1,W^{(l)}x_\mu\rangle=q^{(l)}_\mu\pm_2\varepsilon^{(l)}_*` for all :math:`\mu\in P_l`,
:math:`x_\mu\in P_{R,l,\mu}`. The proof (p. 29) applies Lemma 10 with :math:`\tilde\rho=\rho^{(l+1)}/2`,
:math:`\varepsilon_S=1/(4|P_l|)`, :math:`\varepsilon_O=\varepsilon^{(l)}_*/(600|P_l|^2\kappa\sqrt{d_y})` and then Lemma 17.

**The package's reading.** :math:`O(\delta_P)` is read as :math:`\delta_P` (the constant is not printed);
:math:`\rho^{(l+1)}` is the grammar's exact smallest non-synonym gap at level :math:`l+1` (the largest value
Assumption 6(b) admits at that level, so eq. (10)'s requirement is the most lenient one); :math:`\varepsilon^{(l+1)}_*`
is measured as the largest :math:`\|h-q^{(l+1)}\|` of the level-:math:`(l+1)` outputs on the test set. At level
:math:`l=L` there is no trained level below (one-hot inputs, Assumption 9's base case), so the first half of eq. (10)
does not apply. "Large universal polynomials" have no printed constants: whether :math:`M` and :math:`T` are large
enough is not decidable; the details give :math:`M`, :math:`T` and the :math:`\varepsilon_O`, :math:`\varepsilon_S`
that the proof's choices ask of the features (through Lemma 17), measured against them.

**Measured** (the functions of :mod:`lemmas.single_layer_training`): the failure rate of
:math:`\max_{\mu,x_\mu}\|Wx_\mu/\langle\mathbf 1,Wx_\mu\rangle-q_\mu\|>\varepsilon^{(l)}_*` over repetitions against
:math:`\delta_P` (one-sided 99% Clopper--Pearson limits), or (``measure="quantile"``) its :math:`(1-\delta_P)`-quantile
against :math:`\varepsilon^{(l)}_*` (order-statistic limits). Every case's details carry ``hypotheses`` (one row per
hypothesis: required, value, met / not met / undecidable).

Cases: orthonormal patch embeddings at level :math:`L` (the :math:`M\to\infty`, :math:`\sigma\to0` limit of the RBF
features on one-hot inputs) with eq. (10)'s :math:`N`; the learner (:meth:`LayerwiseRidge.fit`) with Construction 1's
tensor features at level :math:`L` and eq. (10)'s :math:`N` (small); the RBF learner at level 2 on top of a trained
level 3 (large). **Negative control:** the RBF learner at level 2 with :math:`N=|P_l|` samples.
"""
from __future__ import annotations

import math
import sys as _sys
from importlib import util as _util
from pathlib import Path as _Path

from verify.harness.claims import Case, Claim, Measurement
from verify.rhm import assumptions


def _single_layer():
    """The sibling claim module :mod:`lemmas.single_layer_training` (Lemma 17), whose measuring functions this
    claim uses."""
    name = "lemmas.single_layer_training"
    if name not in _sys.modules:
        spec = _util.spec_from_file_location(name, _Path(__file__).with_name("single_layer_training.py"))
        mod = _util.module_from_spec(spec)
        _sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return _sys.modules[name]


HYPOTHESES = (
    r"\text{target accuracy }\varepsilon^{(l)}_*;\ W^{(l)}\in\mathbb R^{d_y\times M^{(l)}}\text{ trained by GD on (3) with }"
    r"N^{(l)}\text{ samples, }T^{(l)}\text{ steps}",
    r"\text{eq. (10): }\varepsilon^{(l+1)}_*\le\rho^{(l+1)}\big/\sqrt{2000V^2m^2s\log(Vm\kappa/\varepsilon^{(l)}_*)}"
    r"\ \ (\varepsilon^{(l+1)}_*\text{: accuracy of level }l+1)",
    r"\text{eq. (10): }N^{(l)}\ge20\big(\kappa\vee(\varepsilon^{(l)}_*)^{-2}\big)\log(Vm/\delta_P)",
    r"M^{(l)},\,T^{(l)}\text{ large universal polynomials of the RHM parameters, }\log(1/\delta_P),\ "
    r"\varepsilon^{(l)}_*,\ \varepsilon^{(l+1)}_*",
)
STATEMENT = (r"\text{eq. (10)},\ M^{(l)},T^{(l)}\ \text{large}\ \Rightarrow\ \Pr\Big[\forall\mu\in P_l,x_\mu\in P_{R,l,\mu}:\ "
             r"\Big\|\tfrac{W^{(l)}x_\mu}{\langle\mathbf 1,W^{(l)}x_\mu\rangle}-q^{(l)}_\mu\Big\|\le\varepsilon^{(l)}_*\Big]"
             r"\ge1-O(\delta_P)")


def eq10_required_eps_below(g, level: int, kappa: float, eps: float) -> float | None:
    r"""Eq. (10)'s largest admissible :math:`\varepsilon^{(l+1)}_*`, with :math:`\rho^{(l+1)}` the exact level-:math:`(l+1)`
    gap; ``None`` at level :math:`L` (no trained level below)."""
    if level >= g.num_layers:
        return None
    rho_next = float(assumptions.signal_gap(g, level + 1, "float64").gap)
    V, m, s = g.num_features, g.num_synonyms, g.tuple_size
    return rho_next / math.sqrt(2000 * V**2 * m**2 * s * math.log(V * m * kappa / eps))


def lemma11_hypotheses(g, info: dict, p: dict) -> list[dict]:
    """One row per hypothesis of Lemma 11 (:data:`HYPOTHESES`), then the proof's choices for the features (via
    Lemma 17), with the case's values and whether each is met (``None``: not decidable)."""
    sl = _single_layer()
    P, kappa, eps, delta = info["num_patches"], info["kappa"], p["eps_star"], p["delta"]
    V, m = g.num_features, g.num_synonyms
    emb = info["embedding"]
    req_below = eq10_required_eps_below(g, info["level"], kappa, eps)
    n_min = sl.sample_size("lemma11", kappa, P, eps, delta, V, m)
    orth = p["embedding"] == "orthonormal"
    width = ("orthonormal x_mu (the M -> infinity, sigma -> 0 limit of RBF features on one-hot inputs)" if orth
             else f"M = {info['M']} ({info['features']} features)")
    steps = "any T >= 1 (orthonormal x_mu: the normalized output does not depend on T)" if orth else info["T"]
    eps_o_max = eps / (600 * P**2 * kappa * math.sqrt(info["d_y"]))
    return [
        sl._row("target eps^(l) and GD on (3), N^(l) samples, T^(l) steps", "GD from W_0 = 0 on (3)",
                f"eps^(l) = {eps}; GD" + ("" if orth else f", lambda_W = {info['lambda_w']:.4g}, step = "
                                                          f"{info['step_size']:.4g}"), True),
        sl._row("eq. (10): eps^(l+1) <= rho^(l+1)/sqrt(2000 V^2 m^2 s log(V m kappa/eps^(l)))",
                "n/a at level L (one-hot inputs)" if req_below is None else req_below,
                info["eps_below"], True if req_below is None else info["eps_below"] <= req_below,
                "level L: no trained level below; Assumption 9's base case" if req_below is None else
                "rho^(l+1): the exact level-(l+1) gap; eps^(l+1): the largest |h - q^(l+1)| on the test set"),
        sl._row("eq. (10): N^(l) >= 20(kappa v eps^-2) log(Vm/delta_P)", n_min, info["N"], info["N"] >= n_min),
        sl._row("M^(l), T^(l) large universal polynomials", "unspecified constants", f"{width}; T = {steps}", None,
                "no constant is printed: not decidable"),
        sl._row("proof's choice (via Lemma 17): eps_O <= eps^(l)/(600|P_l|^2 kappa sqrt(d_y))", eps_o_max, emb["eps_O"],
                emb["eps_O"] <= eps_o_max),
        sl._row("proof's choice (via Lemma 17): eps_S <= 1/(4|P_l|)", 1 / (4 * P), emb["eps_S"], emb["eps_S"] <= 1 / (4 * P)),
    ]


def empirical(case: Case, device, generator) -> Measurement:
    sl = _single_layer()
    p = case.params
    errs, info = sl.run(p, generator)
    if p["embedding"] == "orthonormal":
        info["eps_below"] = 0.0
    g, P, kappa = info["grammar"], info["num_patches"], info["kappa"]
    V, m = g.num_features, g.num_synonyms
    rows = lemma11_hypotheses(g, info, p)
    details = {"grammar": repr(g), "level": info["level"], "kappa": kappa, "num_patches": P, "N": info["N"],
               "N_rule": p["N_rule"], "embedding": p["embedding"],
               "N_lemma11": sl.sample_size("lemma11", kappa, P, p["eps_star"], p["delta"], V, m),
               "N_per_patch": sl.sample_size("per_patch", kappa, P, p["eps_star"], p["delta"], V, m),
               "eps_below_max": info["eps_below"],
               "eq10_required_eps_below": eq10_required_eps_below(g, info["level"], kappa, p["eps_star"]),
               "measured_embedding": info["embedding"], **sl.summarize(rows)}
    if p["embedding"] != "orthonormal" and info["level"] < g.num_layers:
        rho_next = float(assumptions.signal_gap(g, info["level"] + 1, "float64").gap)
        details.update(sigma_used=info["sigma"], sigma_proof=rho_next / math.sqrt(
            2 * math.log(1200 * P**2 * kappa * math.sqrt(info["d_y"]) / p["eps_star"])))
    return sl.measurement(errs, p, details)


bound = _single_layer().bound  # the same pair as Lemma 17: delta_P for the rate, eps_* for the quantile

# Lemma 11 has no upper limit on delta_P (Lemma 17's is the open interval (0, 0.1)): delta_P = 0.1 here
_ORTH = dict(_single_layer()._ORTH, delta=0.1)
_RFF = dict(_single_layer()._RFF, delta=0.1)

CLAIM = Claim(
    name="lemma11_one_layer",
    paper="A",
    reference="Lemma 11",
    page="p. 13, proof p. 29",
    statements=("Lemma 11",),
    alias="Lemma 4.6 (inferred)",
    hypotheses=HYPOTHESES,
    statement=STATEMENT,
    measured=(r"\Pr\big[\max_{\mu,x_\mu}\|W^{(l)}x_\mu/\langle\mathbf 1,W^{(l)}x_\mu\rangle-q^{(l)}_\mu\|>\varepsilon^{(l)}_*\big]"
              r"\ \text{(failure rate), or its }(1-\delta_P)\text{-quantile}"),
    relation="<=",
    bound=bound,
    empirical=empirical,
    cases=(
        Case("orthonormal_N_lemma11", dict(_ORTH, N_rule="lemma11"), method="empirical", seed=21,
             role="as_printed", expect=False,
             note="level L, orthonormal x_mu, eq. (10)'s N = 20(kappa v eps^-2) log(Vm/delta): kappa|P| = 341 > "
                  "eps^-2, so the rarest patch gets ~N/(kappa|P|) = 52 samples, too few for eps_*-accuracy of "
                  "q-hat (the same gap as Lemma 17's statement)"),
        Case("learner_tensor_level3_N_lemma11", dict(_RFF, level=3, N_rule="lemma11", features="tensor",
                                                     measure="quantile", repetitions=60, N_test=500),
             method="empirical", seed=22,
             note="the learner (LayerwiseRidge.fit, GD with Lemma 17's T) at level L with Construction 1's tensor "
                  "features (eps_O = eps_S = 0) and eq. (10)'s N (kappa|P| = 8 < eps^-2); the (1-delta)-quantile "
                  "of the max error against eps_*"),
        Case("learner_tensor_level3_N_lemma11_rate", dict(_RFF, level=3, N_rule="lemma11", features="tensor",
                                                          repetitions=60, N_test=500),
             method="empirical", seed=23, note="the same, as the lemma's failure rate against delta_P"),
        Case("rff_level2_lemma11", dict(_RFF, level=2, N_rule="per_patch", M=1024, N_below=20000, repetitions=120,
                                        measure="quantile"),
             method="empirical", scale="large",
             seed=5, note="level 2 on top of a trained level 3 with RBF features (details: the accuracy reached "
                          "below and eq. (10)'s requirement on it, which is not met; the features' eps_O, far above "
                          "the proof's choice): the width M matters -- at M = 512 this case fails about half the time"),
        Case("rff_level2_lemma11_repeated", dict(_RFF, level=2, N_rule="per_patch", M=2048, N_below=40000,
                                                 repetitions=100), method="empirical", seed=8, scale="large",
             cpu_params={"repetitions": 44},
             note="the level-2 case repeated, for a failure rate; at M = 1024, N_below = 20000 one of 6 "
                  "repetitions failed on a CPU (level-2 input error 0.059), so width and the level below "
                  "are doubled"),
        Case("rff_level2_N_equals_P", dict(_RFF, level=2, N_rule="fixed", N=8, repetitions=3), method="empirical",
             seed=7, role="negative_control",
             note="N = |P_l| = 8 samples for the level-2 learner (eq. (10)'s N not met)"),
    ),
)
