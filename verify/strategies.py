"""Hypothesis strategies, public API: draw valid RHM grammars of both samplers and PTF hierarchies
so that a user adding a claim can property-test it::

    from hypothesis import given
    from verify.strategies import grammars

    @given(grammars(sampler="appendix_b", max_layers=3))
    def test_my_claim(g): ...
"""
from __future__ import annotations

from hypothesis import strategies as st

from .rhm.grammar import SAMPLERS, Grammar, sample_grammar


@st.composite
def rhm_parameters(draw, sampler: str | None = None, max_features: int = 8, max_synonyms: int = 4,
                   max_tuple_size: int = 3, max_layers: int = 3):
    """Parameters ``(V, n_c, m, s, L, sampler)`` for which ``sample_grammar`` must succeed."""
    sampler = draw(st.sampled_from(SAMPLERS)) if sampler is None else sampler
    s = draw(st.integers(2, max_tuple_size))
    L = draw(st.integers(1, max_layers))
    V = draw(st.integers(2, max_features))
    if sampler == "appendix_b":
        m = draw(st.integers(1, min(max_synonyms, V ** (s - 1))))
        # n_c * m must be a multiple of V, with at most V**(s-1) patches per first token
        choices = [n for n in range(2, 2 * V + 1) if (n * m) % V == 0 and n * m // V <= V ** (s - 1)]
        n_c = draw(st.sampled_from(choices)) if choices else V
    else:
        m = draw(st.integers(1, min(max_synonyms, V ** (s - 1))))
        n_c = draw(st.integers(2, max(2, min(2 * V, V**s // m))))
    return V, n_c, m, s, L, sampler


@st.composite
def grammars(draw, sampler: str | None = None, **limits) -> Grammar:
    """Random valid grammars (both samplers unless ``sampler`` is given), seeded by hypothesis."""
    V, n_c, m, s, L, sampler = draw(rhm_parameters(sampler=sampler, **limits))
    seed = draw(st.integers(0, 2**31 - 1))
    return sample_grammar(V, n_c, m, s, L, seed=seed, sampler=sampler)


@st.composite
def ptf_hierarchies(draw, max_d: int = 8, max_levels: int = 3, max_width: int = 4, max_fan_in: int = 3):
    """Random PTF hierarchies of Paper B (``verify.ptf.random_hierarchy``): ``d`` inputs, up to
    ``max_levels`` levels of up to ``max_width`` labels, each a majority, parity, junta or random
    low-degree PTF of ``fan_in`` labels of the level below, wired at random; seeded by hypothesis."""
    import numpy as np

    from .ptf import KINDS, random_hierarchy

    d = draw(st.integers(2, max_d))
    fan_in = draw(st.integers(1, min(max_fan_in, d)))
    levels = draw(st.integers(1, max_levels))
    sizes = [draw(st.integers(fan_in if i < levels - 1 else 1, max(fan_in, max_width))) for i in range(levels)]
    allowed = [k for k in KINDS if k != "majority" or fan_in % 2]  # a majority needs an odd fan-in
    kinds = [draw(st.sampled_from(allowed)) for _ in range(levels)]
    seed = draw(st.integers(0, 2**31 - 1))
    return random_hierarchy(d, sizes, fan_in, kinds, "random", rng=np.random.default_rng(seed))
