"""Injected bugs for Remark 8's comparison (lemmas/training/shallow_comparison.py; see tests/catch_bugs/__init__.py)."""
from verify.learners import layerwise_ridge

from . import Bug

_sample_allocation = layerwise_ridge.sample_allocation


def _allocation_levels_reversed(total, grammar):
    """N^(l) proportional to m^(L-l+1) instead of m^l: the levels' shares swapped end for end, so the bottom
    stage (the most patches to tell apart) gets the smallest share of the samples."""
    alloc = _sample_allocation(total, grammar)
    L = grammar.num_layers
    return {l: alloc[L + 1 - l] for l in alloc}


BUGS = [
    Bug("shallow_comparison", "V4_m3_L3_gaussian_kernel", "sample_allocation gives level l the share of level L+1-l",
        lambda mp: mp.setattr(layerwise_ridge, "sample_allocation", _allocation_levels_reversed)),
]
