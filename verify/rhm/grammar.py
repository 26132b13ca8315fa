r"""Random Hierarchy Model grammars (Paper A, Definitions 3--4 and Remark 5).

An :math:`L`-level RHM with branching factor :math:`s` is a context-free grammar on a complete
:math:`s`-ary tree. A label :math:`\zeta\in V_0` is rewritten into a level-1 patch of :math:`s`
symbols, each symbol of level :math:`l` into a level-:math:`(l+1)` patch, until level :math:`L`,
whose :math:`d=s^L` symbols are the input.

Conventions (the RHM community's names, paper symbols beside them):

==================  =====================  ==============================================
``num_features``    :math:`V=|V_l|`        symbols per level :math:`l\ge 1`
``num_classes``     :math:`n_c=|V_0|`      labels (the paper takes :math:`n_c=V`)
``num_synonyms``    :math:`m`              rules (synonymous patches) per symbol
``tuple_size``      :math:`s`              branching factor, patch length
``num_layers``      :math:`L`              depth; input length :math:`s^L`
==================  =====================  ==============================================

``rules[0]`` is an int array of shape ``(num_classes, m, s)``: row ``rules[0][zeta, r]`` is the
:math:`r`-th level-1 patch of label :math:`\zeta`. For :math:`l\ge1`, ``rules[l]`` has shape
``(num_features, m, s)`` and maps level-:math:`l` symbols to level-:math:`(l+1)` patches. Every grammar
here is :math:`(V,m)`-uniform and non-ambiguous (Remark 5): no patch is produced by two symbols of
one level, so :math:`|P_l| = |V_{l-1}|\,m` and the label is a function of the input.

Two rule samplers:

``"authors"``
    the RHM authors' generator (Cagnetta et al. 2024): each level's :math:`|V_{l-1}|m` patches are
    drawn uniformly **without replacement** from :math:`V^s` and dealt :math:`m` to each parent.
``"appendix_b"``
    Paper A, Appendix B (the sampler of Proposition 19): for every token :math:`\mu` of level
    :math:`l`, :math:`k` suffixes are drawn without replacement from :math:`V^{s-1}` and the
    candidate patches :math:`(\mu,\text{suffix})` are dealt at random, :math:`m` to each parent.
    Every token starts exactly :math:`k` patches, so each first-token transition matrix is doubly
    stochastic (:math:`k=m`; at level 1, :math:`k = n_c m / V`, which the paper's :math:`n_c = V`
    makes :math:`m`).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Mapping, Sequence

import numpy as np

from ..validate import check_memory, int_at_least

__all__ = ["SAMPLERS", "Grammar", "check_parameters", "decode_patches", "encode_patches", "grammar_from_params",
           "sample_grammar"]

SAMPLERS = ("authors", "appendix_b")

# Patches are coded as base-V integers; keep V**s inside int64 with room for arithmetic.
_MAX_PATCH_CODE = 2**62


def _log2_below(base: int, exponent: int, bound_log2: int) -> bool:
    """``base**exponent < 2**bound_log2`` without computing a huge power."""
    if exponent * math.log2(base) > bound_log2 + 1:
        return False
    return base**exponent < 2**bound_log2


def _check_int(name: str, value, lo: int, hint: str = "") -> int:
    """Return ``value`` as an int, or raise a ValueError naming the parameter and its range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {lo}{hint}; got {value!r}")
    value = int(value)
    if value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}{hint}; got {value}")
    return value


def check_parameters(num_features, num_classes, num_synonyms, tuple_size, num_layers,
                     sampler: str = "authors") -> tuple[int, int, int, int, int]:
    """Validate RHM parameters; return them as ints.

    Raises ``ValueError`` naming the parameter and its valid range for every impossible set:
    non-integers, :math:`V<2`, :math:`n_c<2`, :math:`m<1`, :math:`s<2`, :math:`L<1`,
    :math:`mV>V^s` or :math:`m n_c > V^s` (non-ambiguity is then impossible), an unknown sampler,
    and for ``"appendix_b"`` a first-token count :math:`n_c m/V` that is not an integer or exceeds
    :math:`V^{s-1}`.
    """
    v = _check_int("num_features", num_features, 2, " (V, symbols per level)")
    n_c = _check_int("num_classes", num_classes, 2, " (n_c, labels)")
    m = _check_int("num_synonyms", num_synonyms, 1, " (m, rules per symbol)")
    s = _check_int("tuple_size", tuple_size, 2, " (s, branching factor)")
    L = _check_int("num_layers", num_layers, 1, " (L, depth)")
    if not isinstance(sampler, str) or sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}; got {sampler!r}")
    if not _log2_below(v, s, 62):
        raise ValueError(f"num_features**tuple_size must be < 2**62 (patches are coded as int64); "
                         f"got {v}**{s}")
    if not _log2_below(s, L, 62):
        raise ValueError(f"tuple_size**num_layers (the input length) must be < 2**62; got {s}**{L}")
    if m * n_c > v**s:
        raise ValueError(f"num_synonyms * num_classes must be <= num_features**tuple_size = {v**s} "
                         f"for non-ambiguous rules; got m={m}, n_c={n_c}, so m*n_c={m * n_c}")
    if L >= 2 and m * v > v**s:
        raise ValueError(f"num_synonyms * num_features must be <= num_features**tuple_size = {v**s} "
                         f"for non-ambiguous rules; got m={m}, V={v}, so m*V={m * v}")
    if sampler == "appendix_b":
        if (n_c * m) % v:
            raise ValueError(f"sampler='appendix_b' deals n_c*m level-1 patches equally over the V first "
                             f"tokens: num_classes*num_synonyms must be a multiple of num_features; got "
                             f"{n_c}*{m} = {n_c * m}, V = {v}")
        if max(n_c * m // v, m if L >= 2 else 0) > v ** (s - 1):
            raise ValueError(f"sampler='appendix_b' needs at most num_features**(tuple_size-1) = "
                             f"{v ** (s - 1)} patches per first token; got "
                             f"{max(n_c * m // v, m if L >= 2 else 0)}")
    return v, n_c, m, s, L


def _int_array(name: str, x, lo: int, hi: int) -> np.ndarray:
    """An int64 array of integers in ``[lo, hi)``: integer dtypes only (a float would be truncated)."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError, OverflowError) as err:
        raise ValueError(f"{name} must be an integer array; got {type(x).__name__} ({err})") from None
    if a.dtype == object and a.size and all(isinstance(c, numbers.Integral) and not isinstance(c, bool)
                                            for c in a.ravel().tolist()):
        if min(a.ravel().tolist()) < lo or max(a.ravel().tolist()) >= hi:
            raise ValueError(f"{name} must hold integers in [{lo}, {hi - 1}]")
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
        raise ValueError(f"{name} must hold integers (an integer dtype); got dtype {a.dtype}")
    if a.size and (int(a.min()) < lo or int(a.max()) >= hi):
        raise ValueError(f"{name} must hold integers in [{lo}, {hi - 1}]; got min {a.min()}, max {a.max()}")
    return a.astype(np.int64)


def encode_patches(patches: np.ndarray, num_features: int) -> np.ndarray:
    r"""Base-:math:`V` code :math:`\sum_i \mu_i V^{s-1-i}` of patches along the last axis.

    ``patches``: an integer array ``(..., s)`` of symbols in :math:`[0, V)`; :math:`V^s < 2^{62}`."""
    v = int_at_least("num_features (V)", num_features, 2)
    a = _as_array("patches", patches)
    if np.ndim(a) < 1:
        raise ValueError(f"patches must have at least one dimension (the last holds the s symbols); got {patches!r}")
    s = np.shape(a)[-1]
    if not _log2_below(v, s, 62):
        raise ValueError(f"num_features**s must be < 2**62 (codes are int64); got {v}**{s}, s = patches.shape[-1]")
    patches = _int_array("patches", patches, 0, v)
    weights = v ** np.arange(s - 1, -1, -1, dtype=np.int64)
    return patches @ weights


def decode_patches(codes: np.ndarray, num_features: int, tuple_size: int) -> np.ndarray:
    """Inverse of :func:`encode_patches`: int codes in :math:`[0, V^s)` -> ``(..., tuple_size)`` symbol arrays."""
    v = int_at_least("num_features (V)", num_features, 2)
    s = int_at_least("tuple_size (s)", tuple_size, 1)
    if not _log2_below(v, s, 62):
        raise ValueError(f"num_features**tuple_size must be < 2**62 (codes are int64); got {v}**{s}")
    codes = _int_array("codes", codes, 0, v**s)
    check_memory(f"decode_patches({codes.size} codes, tuple_size={s})", 3 * 8 * codes.size * s)
    weights = v ** np.arange(s - 1, -1, -1, dtype=np.int64)
    return (codes[..., None] // weights) % v


@dataclasses.dataclass(frozen=True, eq=False)
class Grammar:
    """A (V, m)-uniform, non-ambiguous RHM grammar. Build with :func:`sample_grammar` or
    :meth:`Grammar.from_rules`; the constructor validates every field."""

    num_features: int
    num_classes: int
    num_synonyms: int
    tuple_size: int
    num_layers: int
    rules: tuple
    sampler: str = "hand"
    seed: int | None = None

    def __post_init__(self):
        if not isinstance(self.sampler, str) or self.sampler not in SAMPLERS + ("hand",):
            raise ValueError(f"sampler must be one of {SAMPLERS + ('hand',)}; got {self.sampler!r}")
        if self.seed is not None:
            int_at_least("seed", self.seed, 0)
        _validate_rules(self.rules, self.num_features, self.num_classes)
        _, m, s = np.shape(self.rules[0])
        for name, field, want in (("num_synonyms", self.num_synonyms, m), ("tuple_size", self.tuple_size, s),
                                  ("num_layers", self.num_layers, len(self.rules))):
            if isinstance(field, bool) or not isinstance(field, numbers.Integral) or field != want:
                raise ValueError(f"{name} must equal the rules' {want} (rules[0] has shape (n_c, m, s) = "
                                 f"{np.shape(self.rules[0])}, {len(self.rules)} levels); got {field!r}")
        frozen = []
        for r in self.rules:
            r = np.array(r, dtype=np.int64, copy=True)
            r.setflags(write=False)
            frozen.append(r)
        object.__setattr__(self, "rules", tuple(frozen))
        if self.sampler == "appendix_b":
            _check_appendix_b(self)

    @classmethod
    def from_rules(cls, rules: Sequence, num_features: int, num_classes: int) -> "Grammar":
        """Validate a hand-made grammar. ``rules[0]``: ``(num_classes, m, s)``; ``rules[l]``,
        :math:`l\\ge1`: ``(num_features, m, s)``. Raises ``ValueError`` naming what is wrong."""
        if not isinstance(rules, (list, tuple)) or len(rules) == 0:
            raise ValueError("rules must be a non-empty list of int arrays, one per level")
        arrays = [_as_array(f"rules[{l}]", r) for l, r in enumerate(rules)]
        if arrays[0].ndim != 3:
            raise ValueError(f"rules[0] must have shape (num_classes, m, s); got shape {arrays[0].shape}")
        _, m, s = arrays[0].shape
        return cls(num_features=num_features, num_classes=num_classes, num_synonyms=m, tuple_size=s,
                   num_layers=len(arrays), rules=tuple(arrays))

    # -- derived quantities -------------------------------------------------------------------
    @property
    def input_length(self) -> int:
        """:math:`d = s^L`."""
        return self.tuple_size**self.num_layers

    def vocabulary_size(self, level: int) -> int:
        """:math:`|V_l|`: ``num_classes`` at level 0, ``num_features`` below."""
        self._check_level(level, lo=0)
        return self.num_classes if level == 0 else self.num_features

    def num_patches(self, level: int) -> int:
        r""":math:`|P_l| = |V_{l-1}|\,m` (Remark 5), for :math:`l\in[L]`."""
        self._check_level(level)
        return self.vocabulary_size(level - 1) * self.num_synonyms

    def patches(self, level: int) -> np.ndarray:
        r"""The level-:math:`l` patches :math:`P_l`, shape ``(|P_l|, s)``; patch ``i`` is rule
        ``i % m`` of parent ``i // m``, so synonyms are consecutive."""
        self._check_level(level)
        return self.rules[level - 1].reshape(-1, self.tuple_size)

    def parents(self, level: int) -> np.ndarray:
        r""":math:`\nu(\mu)` for each patch of :meth:`patches` (its generating level-:math:`(l-1)` symbol)."""
        self._check_level(level)
        return np.repeat(np.arange(self.vocabulary_size(level - 1)), self.num_synonyms)

    def _check_level(self, level, lo: int = 1):
        if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not lo <= level <= self.num_layers:
            raise ValueError(f"level must be an integer in [{lo}, {self.num_layers}] (num_layers={self.num_layers}); "
                             f"got {level!r}")

    def __repr__(self):
        return (f"Grammar(V={self.num_features}, n_c={self.num_classes}, m={self.num_synonyms}, "
                f"s={self.tuple_size}, L={self.num_layers}, sampler={self.sampler!r}, seed={self.seed})")


def _as_array(name: str, r) -> np.ndarray:
    try:
        return np.asarray(r)
    except (ValueError, TypeError, OverflowError) as err:
        raise ValueError(f"{name} must be an integer array; got {type(r).__name__} ({err})") from None


def _check_appendix_b(g: "Grammar") -> None:
    """A grammar labelled ``sampler="appendix_b"`` must have the sampler's structure: at every level each
    token starts the same number of patches (so each first-token transition matrix is doubly stochastic)."""
    for l, r in enumerate(g.rules):
        counts = np.bincount(r[:, :, 0].ravel(), minlength=g.num_features)
        if (counts != counts[0]).any():
            raise ValueError(f"sampler='appendix_b' grammars start patches with each of the num_features = "
                             f"{g.num_features} tokens equally often; rules[{l}] starts them {counts.min()} to "
                             f"{counts.max()} times (use sampler='hand')")


def _validate_rules(rules, num_features, num_classes) -> None:
    if not isinstance(rules, tuple) or len(rules) == 0:
        raise ValueError("rules must be a non-empty tuple of int arrays, one per level")
    arrays = [_as_array(f"rules[{l}]", r) for l, r in enumerate(rules)]
    if arrays[0].ndim != 3:
        raise ValueError(f"rules[0] must have shape (num_classes, m, s); got shape {arrays[0].shape}")
    _, m, s = arrays[0].shape
    check_parameters(num_features, num_classes, m, s, len(arrays))
    for l, r in enumerate(arrays):
        want = (num_classes if l == 0 else num_features, m, s)
        if r.shape != want:
            raise ValueError(f"rules[{l}] must have shape {want} (({'num_classes' if l == 0 else 'num_features'}, m, s)); "
                             f"got {r.shape}: the rules and num_features / num_classes disagree")
        if not np.issubdtype(r.dtype, np.integer):
            raise ValueError(f"rules[{l}] must hold integers; got dtype {r.dtype}")
        if r.min() < 0 or r.max() >= num_features:
            raise ValueError(f"rules[{l}] holds symbols outside [0, num_features-1] = [0, {num_features - 1}]: "
                             f"min {r.min()}, max {r.max()}")
        codes = encode_patches(r.reshape(-1, s), num_features)
        uniq, counts = np.unique(codes, return_counts=True)
        if (counts > 1).any():
            dup = decode_patches(uniq[counts > 1][0], num_features, s)
            raise ValueError(f"rules[{l}] is ambiguous: patch {tuple(int(t) for t in dup)} is produced "
                             f"{int(counts[counts > 1][0])} times (each patch must have one parent and rule)")


def _distinct_codes(rng: np.random.Generator, population: int, size: int) -> np.ndarray:
    """``size`` distinct integers drawn uniformly without replacement from ``range(population)``,
    in random order (sequential rejection of repeats is sampling without replacement)."""
    if population <= 1 << 24:
        return rng.choice(population, size=size, replace=False).astype(np.int64)
    out: list[int] = []
    seen: set[int] = set()
    while len(out) < size:
        for c in rng.integers(0, population, size=2 * (size - len(out)) + 8).tolist():
            if c not in seen:
                seen.add(c)
                out.append(c)
                if len(out) == size:
                    break
    return np.asarray(out, dtype=np.int64)


def _level_rules_authors(rng, n_parents, v, m, s):
    codes = _distinct_codes(rng, v**s, n_parents * m)
    return decode_patches(codes, v, s).reshape(n_parents, m, s)


def _level_rules_appendix_b(rng, n_parents, v, m, s):
    per_token = n_parents * m // v  # patches starting with each token (= m when n_parents = V)
    candidates = np.empty((v, per_token, s), dtype=np.int64)
    candidates[:, :, 0] = np.arange(v)[:, None]
    for mu in range(v):
        suffixes = _distinct_codes(rng, v ** (s - 1), per_token)
        candidates[mu, :, 1:] = decode_patches(suffixes, v, s - 1)
    candidates = candidates.reshape(-1, s)[rng.permutation(v * per_token)]
    return candidates.reshape(n_parents, m, s)


def sample_grammar(num_features: int, num_classes: int, num_synonyms: int, tuple_size: int,
                   num_layers: int, seed: int, sampler: str = "authors") -> Grammar:
    r"""Draw a random :math:`(V,m)`-uniform, non-ambiguous RHM grammar.

    ``sampler="authors"``: rules uniform without replacement from :math:`V^s` (Cagnetta et al.
    2024). ``sampler="appendix_b"``: Paper A's Appendix B sampler (uniform first-token marginal;
    every first-token transition matrix :math:`P_l` doubly stochastic, so :math:`p_\mu=1/|P_l|`).
    Deterministic in ``seed`` (a fresh ``numpy`` generator; no global RNG is touched).
    """
    v, n_c, m, s, L = check_parameters(num_features, num_classes, num_synonyms, tuple_size, num_layers, sampler)
    seed = _check_int("seed", seed, 0)
    check_memory(f"sample_grammar(num_features={v}, num_classes={n_c}, num_synonyms={m}, tuple_size={s}, "
                 f"num_layers={L})", _grammar_bytes(v, n_c, m, s, L, sampler))
    rng = np.random.default_rng(seed)
    draw = _level_rules_authors if sampler == "authors" else _level_rules_appendix_b
    rules = tuple(draw(rng, n_c if l == 0 else v, v, m, s) for l in range(L))
    return Grammar(num_features=v, num_classes=n_c, num_synonyms=m, tuple_size=s, num_layers=L,
                   rules=rules, sampler=sampler, seed=seed)


def _grammar_bytes(v: int, n_c: int, m: int, s: int, L: int, sampler: str) -> int:
    """Peak bytes of :func:`sample_grammar`: the rules (int64, a few copies while drawn and decoded) and the
    codes drawn for one level (a numpy permutation up to 2**24 codes, a Python set above)."""
    rules = 8 * s * m * (n_c + (L - 1) * v)
    parents = max(n_c, v if L >= 2 else 0)
    if sampler == "authors":
        pop, size = v**s, parents * m
    else:
        pop, size = v ** (s - 1), max(n_c * m // v, m if L >= 2 else 0)
    codes = 16 * pop if pop <= 1 << 24 else 120 * size
    return 4 * rules + codes + 4 * 8 * s * parents * m


def grammar_from_params(params, sampler: str | None = None) -> Grammar:
    r""":func:`sample_grammar` from a claim case's parameters: keys ``V``, ``n_c``, ``m``, ``s``, ``L``,
    ``grammar_seed`` and ``sampler`` (``sampler`` falls back to the argument when the key is absent)."""
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping with keys V, n_c, m, s, L, grammar_seed; got {type(params).__name__}")
    if sampler is not None and (not isinstance(sampler, str) or sampler not in SAMPLERS):
        raise ValueError(f"sampler must be None or one of {SAMPLERS}; got {sampler!r}")
    missing = [k for k in ("V", "n_c", "m", "s", "L", "grammar_seed") if k not in params]
    sampler = params.get("sampler", sampler)
    if missing or sampler is None:
        raise ValueError(f"params must hold the keys V, n_c, m, s, L, grammar_seed and sampler; "
                         f"missing {missing + ([] if sampler else ['sampler'])}")
    return sample_grammar(params["V"], params["n_c"], params["m"], params["s"], params["L"],
                          seed=params["grammar_seed"], sampler=sampler)
