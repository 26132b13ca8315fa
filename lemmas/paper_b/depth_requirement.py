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
- :math:`\rho=\bar\rho` the per-block rate the reconstructed loss-decay mechanism implies
  (:mod:`lemmas.loss_decay`), computed from θ, λ, :math:`\epsilon_{opt}`, β and the number of labels
  **before the run** (the analogue of :math:`\gamma m`).

The run (shared with ``loss_decay``) trains :math:`D+1` blocks, capped at ``max_blocks`` = 40 for
CPU time (the record's ``blocks_trained`` and ``capped`` say whether the cap bit), so a depth beyond
the formula's is observed as such rather than only as "never".

**Measured:** the number of blocks of Algorithm 4.2 (reconstructed) until every label has margin
:math:`\ge\theta` on every training example (∞ if that never happens within the blocks trained).
**Bound:** :math:`D(r,\rho)`, r the hierarchy's number of levels. **Negative controls:** (i) the
same run, counting also a parity of 6 inputs (degree 6, beyond what a block fits at this width): it
never gets margin, so no depth suffices; (ii) the hierarchy held to the depth of a one-level model
with a perfect rate (r = 1, ρ = ∞: D = 1): the measured depth is finite and exceeds it.
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


def depth_formula(r: int, m: int, theta: float, rho: float):
    """Theorem 4.3's depth, reconstructed (defined in :mod:`lemmas.loss_decay`, which plans the run)."""
    return _loss_decay().depth_formula(r, m, theta, rho)


def _run(p: dict):
    ld = _loss_decay()
    ex = ld.experiment(p)
    k0 = blocks_until_margin(ex["history"]["train_margin"], p["theta"])
    levels = ex["label_levels"]
    parity = np.zeros(len(k0), dtype=bool)
    if p.get("extra_parity"):
        parity[len(ex["hierarchy"].levels[0]) - 1] = True
    counted = np.ones(len(k0), dtype=bool) if p["count"] == "all" else ~parity
    return k0, counted, levels, ex


def formula(p: dict):
    """The bound: :math:`D(r,\bar\rho)` from quantities fixed before the run (``bound_r``/``bound_rho``
    override r and the rate, for the negative control)."""
    ld = _loss_decay()
    r = p.get("bound_r", len(p["level_sizes"]))
    rho = p.get("bound_rho", ld.a_priori_rate(p))
    return r, rho, depth_formula(r, p["m"], p["theta"], rho)


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    k0, counted, levels, ex = _run(p)
    ks = k0[counted]
    value = math.inf if (ks < 0).any() else int(ks.max())
    per_level = {int(l): [int(k) for k in k0[(levels == l) & counted]] for l in np.unique(levels[counted])}
    r, rho, D = formula(p)
    trained = int(ex["margins"].shape[0] - 1)
    return Measurement(value=value, details={
        "blocks_until_margin": k0.tolist(), "per_level": per_level, "rho": rho, "r": r, "formula": D,
        "blocks_trained": trained, "capped": bool(trained < D + 1)})


def bound(case: Case):
    return formula(case.params)[2]


BASE = dict(d=10, level_sizes=[6, 2], extra_parity=6, m=1000, m_test=1000, q=256, beta=0.25, reg=1e-4,
            eps_opt=1e-4, blocks="depth_formula", max_blocks=40, theta=0.5, window=3)  # the same run as lemmas/loss_decay.py (shared cache)
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
        Case("flat_model_depth", dict(BASE, count="hierarchy", bound_r=1, bound_rho=math.inf), method="empirical",
             seed=0, role="negative_control",
             note="the two-level hierarchy held to D = 1, the depth of a one-level model with a perfect rate: "
                  "the measured (finite) depth exceeds it"),
        Case("majority_hierarchy_r3_large", dict(BASE, d=16, level_sizes=[12, 4, 2], m=20000, q=2048,
                                                 count="hierarchy"),
             scale="large", method="empirical", seed=0,
             note="GPU size not yet run; on a CPU a 2-level hierarchy on 12 bits (r = 2)",
             cpu_params=dict(d=12, level_sizes=[8, 3], m=2000, q=384)),
    ),
)
