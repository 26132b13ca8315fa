r"""The depth Theorem 4.3 needs against the hierarchy's number of levels r.

**Which form.** Theorem 4.3 exists [PAPER]; [SUMMARY-ONLY] it needs
:math:`D\ge r\cdot(\lceil\log(8m|G|/\xi)/\gamma m\rceil+1)` blocks, with m, |G|, γ undefined in any
source seen. The algebraic reading (digest §3, an inference): per level, enough blocks for a
loss-like quantity starting at most :math:`8m|G|` to contract by :math:`e^{-\gamma m}` per block
below ξ, plus one block, times r levels. The package **reconstructs** the formula with quantities
it can compute, and states each one:

.. math:: D(r,\rho)=r\cdot\Big(\Big\lceil\frac{\log\big(m\,\ell(0)/\ell(\theta)\big)}{\rho}\Big\rceil+1\Big),

- :math:`m` the sample size and :math:`\ell` the logistic loss: a label whose mean training loss is
  below :math:`\ell(\theta)/m` has margin :math:`\ge\theta` on every example (the analogue of
  :math:`8m|G|/\xi`; the loss starts at :math:`\ell(0)=\log2`);
- :math:`\rho` the per-block rate the reconstructed loss-decay mechanism implies
  (:mod:`lemmas.loss_decay`, :math:`\min_j\bar\rho_j` over labels with margin, the analogue of
  :math:`\gamma m`).

**Measured:** the number of blocks of Algorithm 4.2 (reconstructed) until every label has margin
:math:`\ge\theta` on every training example (∞ if that never happens within the blocks trained).
**Bound:** :math:`D(r,\rho)`. **Negative control:** the same run, counting also a parity of 6
inputs (degree 6, beyond what a block fits at this width): it never gets margin, so no depth
suffices.
"""
from __future__ import annotations

import math

import numpy as np

from verify.harness.claims import Case, Claim, Measurement
import sys as _sys
from importlib import util as _util
from pathlib import Path as _Path

from verify.learners.layerwise_resnet import blocks_until_margin


def _loss_decay():
    """The sibling claim module (shares its cached training run)."""
    name = "lemmas.loss_decay"
    if name not in _sys.modules:
        spec = _util.spec_from_file_location(name, _Path(__file__).with_name("loss_decay.py"))
        mod = _util.module_from_spec(spec)
        _sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return _sys.modules[name]


STATEMENT = (r"\min\{k:\ y_{ij}\hat y^{(k)}_{ij}\ge\theta\ \forall i,j\}\ \le\ "
             r"r\Big(\Big\lceil\tfrac{\log(m\,\ell(0)/\ell(\theta))}{\rho}\Big\rceil+1\Big)")


def depth_formula(r: int, m: int, theta: float, rho: float) -> int:
    if rho <= 0:
        return math.inf
    return r * (math.ceil(math.log(m * math.log(2) / math.log1p(math.exp(-theta))) / rho) + 1)


def _run(p: dict):
    ld = _loss_decay()
    a = ld.analyse(p)
    ex = ld.experiment(p)
    k0 = blocks_until_margin(ex["history"]["train_margin"], p["theta"])
    levels = ex["label_levels"]
    parity = np.zeros(len(k0), dtype=bool)
    if p.get("extra_parity"):
        parity[len(ex["hierarchy"].levels[0]) - 1] = True
    counted = np.ones(len(k0), dtype=bool) if p["count"] == "all" else ~parity
    rho = min(r["rho_bar"] for r in a["rows"] if r["complete"] and r["k0"] >= 0)
    r_levels = int(levels[~parity].max())
    return k0, counted, rho, r_levels, levels, ex


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    k0, counted, rho, r_levels, levels, ex = _run(p)
    ks = k0[counted]
    value = math.inf if (ks < 0).any() else int(ks.max())
    per_level = {int(l): [int(k) for k in k0[(levels == l) & counted]] for l in np.unique(levels[counted])}
    return Measurement(value=value, details={
        "blocks_until_margin": k0.tolist(), "per_level": per_level, "rho": rho, "r": r_levels,
        "blocks_trained": int(ex["margins"].shape[0] - 1), "formula": depth_formula(r_levels, p["m"], p["theta"], rho)})


def bound(case: Case):
    p = case.params
    _, _, rho, r_levels, _, _ = _run(p)
    return depth_formula(r_levels, p["m"], p["theta"], rho)


BASE = dict(d=10, level_sizes=[6, 2], extra_parity=6, m=1000, m_test=1000, q=256, beta=0.25, reg=1e-4,
            eps_opt=1e-4, blocks=7, theta=0.5, window=3)  # the same run as lemmas/loss_decay.py (shared cache)
CLAIM = Claim(
    name="depth_requirement",
    paper="B",
    reference="Theorem 4.3, depth condition (summary's form; constants reconstructed)",
    statement=STATEMENT,
    measured="blocks of layerwise training until every counted label has margin θ on every training example",
    relation="<=",
    bound=bound,
    empirical=empirical,
    cases=(
        Case("majority_hierarchy_r2", dict(BASE, count="hierarchy"), method="empirical", seed=0),
        Case("with_parity6_label", dict(BASE, count="all"), method="empirical", seed=0, role="negative_control",
             note="the degree-6 parity label never reaches margin: no number of blocks suffices"),
        Case("majority_hierarchy_r3_large", dict(BASE, d=16, level_sizes=[12, 4, 2], m=20000, q=2048, blocks=24,
                                                 count="hierarchy"),
             scale="large", method="empirical", seed=0,
             note="GPU size not yet run; on a CPU a 2-level hierarchy on 12 bits (r = 2)",
             cpu_params=dict(d=12, level_sizes=[8, 3], m=2000, q=384, blocks=10)),
    ),
)
