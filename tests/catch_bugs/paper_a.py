"""Injected bugs for the claims of lemmas/paper_a/ (see tests/catch_bugs/__init__.py).

Each bug is patched where the claim module looks the function up (``verify.rhm.exact`` and
``verify.features.rff`` attributes are read at call time; nothing on these paths is cached)."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from verify.features import rff
from verify.rhm import assumptions, exact, sampling

from . import Bug, lemma_module  # noqa: F401

_conditional_q = exact.conditional_q
_first_patch_law = exact.first_patch_law


def _q_scaled_at_levels_ge2(grammar, level, arithmetic="auto"):
    """q of levels >= 2 multiplied by 1.01 (a 1 % normalisation error)."""
    law = _conditional_q(grammar, level, arithmetic)
    return law if level < 2 else dataclasses.replace(law, q=law.q * 1.01)


def _q_mixed_with_uniform(grammar, level, arithmetic="auto"):
    """q of levels >= 2 mixed with 1 % of the uniform law (still a probability vector)."""
    law = _conditional_q(grammar, level, arithmetic)
    if level < 2:
        return law
    u = np.full(law.q.shape, 1.0 / law.q.shape[1])
    return dataclasses.replace(law, q=0.99 * law.q.astype(float) + 0.01 * u)


BUGS: list[Bug] = [
    Bug("signal_gap", "qhat_vs_exact_q_V8_m4_L3", "conditional_q 1% too large at levels >= 2",
        lambda mp: mp.setattr(exact, "conditional_q", _q_scaled_at_levels_ge2)),
    Bug("signal_gap", "qhat_vs_exact_q_authors_V8_m4_L3", "conditional_q mixed with 1% uniform at levels >= 2",
        lambda mp: mp.setattr(exact, "conditional_q", _q_mixed_with_uniform)),
]
