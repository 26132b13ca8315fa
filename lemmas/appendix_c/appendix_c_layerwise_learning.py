r"""Layerwise learning of deep quadratic Boolean functions from samples (Paper A, Appendix C, p. 42).

The paper: "as long as the nonzero coefficients :math:`\hat f_S` are bounded away from 0, we can
approximately recover this population solution using polynomially many samples, and then form a
feature mapping similar to (14)". It prints **no number**: no sample size, no constant, no failure
probability, and no support-selection rule. **The package's reading** (a qualitative statement made
falsifiable): for the package's random class members (:func:`verify.boolean.sample_deep_quadratic`,
:math:`|\hat f_S|\in[c,1]`), layerwise least squares (:func:`verify.boolean.learn_layerwise`) with
the support-selection rule :math:`|w|\ge\tau=c/2` recovers :math:`\mathrm{supp}\hat f` exactly from
:math:`n=4d^2` samples (the package's polynomial) with failure probability at most
:math:`\delta=0.1`.

**Empirical.** :math:`R` repetitions, each a fresh target and fresh samples (seeded); measured: the
failure rate with one-sided 99% Clopper-Pearson limits, bound :math:`\delta` (holds when the upper
limit is :math:`\le\delta`: with :math:`R=100`, at most 3 failures). **Descriptive** (no bound to
compare with): :math:`n^*(d)`, the smallest :math:`n` at which at most :math:`\lfloor\delta R\rfloor`
of :math:`R=44` repetitions fail (doubling, then bisection; :func:`verify.boolean.sample_complexity`),
against :math:`d` and :math:`c` in the details.
**Negative control**: :math:`n=\lfloor p/2\rfloor` with :math:`p=d(d-1)/2` pair features at level 1
(underdetermined; the minimum-norm solution).
"""
from __future__ import annotations

import math
import time
from fractions import Fraction

import torch

from verify.boolean import deep_quadratic as dq
from verify.boolean import layerwise as lw
from verify.boolean.network import num_pairs
from verify.harness.claims import Case, Claim, Measurement
from verify.harness.stats import CONFIDENCE, rate_limits, repetitions_to_decide

DELTA = 0.1
SWEEP_REPETITIONS = 44
N_MAX_OVER_P = 64
"""The n* search stops at 64 p (p = d(d-1)/2); n* is then reported as not reached (None)."""


def package_sample_size(d: int) -> int:
    """The package's polynomial sample size for the check: :math:`n=4d^2`."""
    return 4 * d * d


def default_depth(d: int) -> int:
    r"""The depth the cases use: :math:`\max(1,\lfloor\log_2d\rfloor-1)`."""
    return max(1, int(math.log2(d)) - 1)


def targets_for(d: int, depth: int, c, count: int, seed: int) -> list:
    g = torch.Generator().manual_seed(seed)
    return [dq.sample_deep_quadratic(d, depth, g, min_coefficient=c) for _ in range(count)]


def n_star_row(d: int, c, seed: int, device) -> dict:
    depth = default_depth(d)
    targets = targets_for(d, depth, c, SWEEP_REPETITIONS, seed)
    tau = float(dq.as_fraction("c", c)) / 2
    t0 = time.perf_counter()
    p = num_pairs(d)
    sc = lw.sample_complexity(targets, DELTA, seed, threshold=tau, n_max=N_MAX_OVER_P * p, device=device)
    return {"d": d, "depth": depth, "c": str(dq.as_fraction("c", c)), "pair_features": p,
            "n_star": sc.n_star, "n_below": sc.n_below,
            "n_star_over_p": None if sc.n_star is None else sc.n_star / p,
            "min_abs_coefficient": str(min(f.min_coefficient for f in targets)),
            "support_sizes": [min(len(f.support) for f in targets), max(len(f.support) for f in targets)],
            "evaluations": len(sc.trace), "seconds": round(time.perf_counter() - t0, 2)}


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    d, c, R = p["d"], p.get("c", Fraction(1, 2)), p["repetitions"]
    depth = p.get("depth", default_depth(d))
    n = p["n"] if "n" in p else package_sample_size(d)
    seed = int(torch.randint(0, 2 ** 31 - 1, (1,), generator=generator))
    targets = targets_for(d, depth, c, R, seed)
    tau = float(dq.as_fraction("c", c)) / 2
    failures, ran = lw.recovery_failures(targets, n, seed, threshold=tau, device=device)
    lower, upper = rate_limits(failures, ran)
    reps = repetitions_to_decide(failures, ran, DELTA)
    sweep = [n_star_row(dd, cc, seed + 17 * dd, device) for dd, cc in p.get("sweep", ())]
    return Measurement(
        value=failures / ran, lower=lower, upper=upper, confidence=CONFIDENCE,
        to_decide=None if reps is None else f">= {reps} repetitions at the observed rate",
        details={"d": d, "depth": depth, "c": str(dq.as_fraction("c", c)), "threshold": tau, "n": n,
                 "pair_features_level_1": num_pairs(d), "n_over_p": n / num_pairs(d), "repetitions": ran,
                 "failures": failures, "delta": DELTA,
                 "support_selection": "keep the pair features with |w| >= tau = c/2 (c: the class's bound on |f_S|)",
                 "n_star_sweep": sweep, "sweep_repetitions": SWEEP_REPETITIONS})


_HALF = Fraction(1, 2)
_SMALL_SWEEP = ((8, _HALF), (12, _HALF), (16, _HALF))
_CPU_SWEEP = ((8, _HALF), (12, _HALF), (16, _HALF), (24, _HALF), (32, _HALF),
              (16, Fraction(1, 4)), (16, Fraction(1, 8)))
_GPU_SWEEP = _CPU_SWEEP + ((48, _HALF), (64, _HALF))

CLAIM = Claim(
    name="appendix_c_layerwise_learning",
    paper="A",
    reference="App. C, layerwise learning (Informal Principle 2 applied)",
    page="p. 42",
    statements=("Principle 2",),
    hypotheses=(r"f_*\text{ deep quadratic (Definition 31)},\ \min_S|\hat f_S|\ge c>0",
                r"x\sim\mathrm{Unif}(\{\pm1\}^d),\ n\text{ samples }(x,f_*(x))"),
    statement=(r"\text{layerwise least squares on }\mathcal L^{(l)}\text{ recovers }\mathrm{supp}\hat f_*"
               r"\text{ from polynomially many samples}\ \text{(package's reading: }n=4d^2,\ "
               r"\tau=c/2,\ \Pr[\text{failure}]\le\delta=0.1)"),
    measured=r"\Pr[\text{recovered support}\ne\mathrm{supp}\hat f_*]\text{ over }R\text{ repetitions}",
    relation="<=",
    bound=lambda case: DELTA,
    empirical=empirical,
    cases=(
        Case("d12_n4d2", dict(d=12, repetitions=100, sweep=_SMALL_SWEEP), method="empirical", seed=12,
             note="n = 4 d^2 = 576 (8.7 x the 66 level-1 pair features); n* for d = 8, 12, 16 in the details"),
        Case("d12_underdetermined", dict(d=12, repetitions=100, n=num_pairs(12) // 2), method="empirical",
             seed=13, role="negative_control",
             note="n = 33 < 66 pair features: the minimum-norm least-squares solution misses the support"),
        Case("large_n4d2", dict(d=64, repetitions=100, sweep=_GPU_SWEEP), method="empirical", seed=32,
             scale="large", cpu_params={"d": 32, "sweep": _CPU_SWEEP},
             note="n = 4 d^2 at d = 64 on a GPU, d = 32 on a CPU (about 2 min on 2 busy cores); the n*(d) "
                  "table for d = 8..32 (..64 on a GPU) and c = 1/2, 1/4, 1/8 at d = 16"),
    ),
)
