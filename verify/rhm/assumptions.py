r"""The quantities of Assumption 6 (Paper A; arXiv alias Assumption 4.1) for a given grammar.

* (a) non-degeneracy: the smallest :math:`\kappa` with :math:`p_\mu\ge(\kappa|P_l|)^{-1}` for every
  level and patch, :math:`\kappa=\max_{l,\mu}1/(|P_l|p_\mu)` (:math:`\infty` if some :math:`p_\mu=0`);
* (b) nontrivial signal, eq. (5): the per-level gap
  :math:`\rho_l=\min_{\nu(\mu)\ne\nu(\mu')}\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|` and the instance's
  :math:`K_\rho=\min_l \rho_l\,m^{l/2}`.

Exact (``Fraction``/sympy) for small grammars, float64 otherwise, from :mod:`verify.rhm.exact`.

Also, for Informal Principle 2 (pp. 2-3; RHM instantiation p. 9, p. 13) and the definitions:

* (i) :func:`confusable_pairs`: non-synonym patches that :math:`q^{(l)}` fails to distinguish;
* (iii) :func:`synonym_spread`: synonyms share :math:`q^{(l)}`; :func:`cluster_separation`: Assumption
  9 (a)-(b) (p. 11) of a set of token representations, :math:`\tilde\varepsilon_S` against :math:`\tilde\rho`;
* Definitions 3-4 and Remark 5 (pp. 5-6): :func:`definition_violations` on rule arrays (which need not
  form a valid :class:`~verify.rhm.grammar.Grammar`), :func:`production_law` (:math:`Q_l`),
  :func:`languages` (the inputs of each label, by brute force).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
from fractions import Fraction

import numpy as np
import sympy
import torch

from . import exact
from .grammar import Grammar


def _sym(x):
    return sympy.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else x


@dataclasses.dataclass(frozen=True)
class LevelGap:
    r"""Signal gap at one level: ``gap_sq`` = :math:`\rho_l^2` (exact or float), the parents of
    the closest non-synonym pair, and how many parents are unreachable (excluded)."""
    level: int
    gap_sq: object
    pair: tuple[int, int] | None
    unreachable: int

    @property
    def gap(self):
        """:math:`\\rho_l`, a sympy number in exact arithmetic, else a float."""
        return sympy.sqrt(_sym(self.gap_sq)) if isinstance(self.gap_sq, Fraction) else float(np.sqrt(self.gap_sq))


def _check_laws(grammar: Grammar, laws, arithmetic: str):
    """``laws`` (from :func:`verify.rhm.exact.first_patch_laws`): one law a level, of ``arithmetic``."""
    if not isinstance(laws, (tuple, list)) or len(laws) != grammar.num_layers or not all(
            isinstance(law, exact.FirstPatchLaw) and law.level == l for l, law in enumerate(laws, start=1)):
        raise ValueError(f"laws must be exact.first_patch_laws(grammar): one FirstPatchLaw per level 1.."
                         f"{grammar.num_layers}; got {type(laws).__name__}")
    arith = exact._arith(grammar, arithmetic)
    if any(law.arithmetic != arith for law in laws):
        raise ValueError(f"laws must be computed in arithmetic {arith!r} (arithmetic={arithmetic!r}); got "
                         f"{sorted({law.arithmetic for law in laws})}")
    return laws


def signal_gap(grammar: Grammar, level: int, arithmetic: str = "auto", law=None) -> LevelGap:
    r"""Minimum distance :math:`\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|` over non-synonym patches whose
    first-patch probability is positive (eq. 5). ``law``: the level's :class:`~verify.rhm.exact.FirstPatchLaw`
    when the caller has it (else :func:`verify.rhm.exact.conditional_q` computes it)."""
    if law is None:
        law = exact.conditional_q(grammar, level, arithmetic)
    elif not isinstance(law, exact.FirstPatchLaw) or law.level != level:
        raise ValueError(f"law must be the FirstPatchLaw of level {level}; got "
                         f"{getattr(law, 'level', type(law).__name__)!r}")
    idx = np.flatnonzero(law.reachable)
    q = law.q[idx]
    if len(idx) < 2:
        return LevelGap(level, None, None, int((~law.reachable).sum()))
    if law.arithmetic == "fraction":
        best, pair = None, None
        for a in range(len(idx)):
            diff = q[a + 1:] - q[a]
            d2 = (diff * diff).sum(axis=1)
            for b, val in enumerate(d2, start=a + 1):
                if best is None or val < best:
                    best, pair = val, (int(idx[a]), int(idx[b]))
        return LevelGap(level, Fraction(best), pair, int((~law.reachable).sum()))
    sq = (q * q).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * q @ q.T, 0.0)
    np.fill_diagonal(d2, np.inf)
    a, b = np.unravel_index(np.argmin(d2), d2.shape)
    # recompute the argmin pair directly: the Gram form loses precision for nearly equal rows
    exact_d2 = float(((q[a] - q[b]) ** 2).sum())
    return LevelGap(level, exact_d2, (int(idx[a]), int(idx[b])), int((~law.reachable).sum()))


def signal_gaps(grammar: Grammar, arithmetic: str = "auto", laws=None) -> list[LevelGap]:
    """:func:`signal_gap` at every level :math:`l=1..L`. ``laws``: :func:`verify.rhm.exact.first_patch_laws`
    of the grammar, to share its products with :func:`kappa` (without, each level's law comes from
    :func:`verify.rhm.exact.conditional_q`)."""
    if laws is None:
        return [signal_gap(grammar, l, arithmetic) for l in range(1, grammar.num_layers + 1)]
    laws = _check_laws(grammar, laws, arithmetic)
    return [signal_gap(grammar, l, arithmetic, law=laws[l - 1]) for l in range(1, grammar.num_layers + 1)]


def instance_k_rho(gaps: list[LevelGap], num_synonyms: int):
    r""":math:`K_\rho=\min_l\rho_l m^{l/2}` (0 if some level has a zero gap or fewer than two
    reachable parents)."""
    vals = []
    for g in gaps:
        if g.gap_sq is None:
            return 0
        vals.append(g.gap * sympy.sqrt(num_synonyms) ** g.level if isinstance(g.gap_sq, Fraction)
                    else g.gap * num_synonyms ** (g.level / 2))
    return min(vals, key=float)


def prop19_bound(num_synonyms: int, level: int):
    r"""Proposition 19's per-level gap :math:`(20m)^{-(l-1)/2}`, exact (sympy)."""
    return (20 * sympy.Integer(num_synonyms)) ** (-sympy.Rational(level - 1, 2))


def kappa(grammar: Grammar, arithmetic: str = "auto", laws=None):
    r"""Smallest :math:`\kappa` of Assumption 6(a): :math:`\max_{l,\mu}1/(|P_l|p_\mu)`; ``sympy.oo``
    if some patch is never first (:math:`p_\mu=0`). Also returns, per level, the minimum of
    :math:`|P_l|p_\mu` (exact or float). ``laws``: :func:`verify.rhm.exact.first_patch_laws` of the grammar,
    to share its products with :func:`signal_gaps` (without, :func:`verify.rhm.exact.p_first_patch` per level)."""
    if laws is not None:
        laws = _check_laws(grammar, laws, arithmetic)
    per_level = []
    for l in range(1, grammar.num_layers + 1):
        p = exact.p_first_patch(grammar, l, arithmetic) if laws is None else laws[l - 1].p
        per_level.append(min(p) * grammar.num_patches(l))
    worst = min(per_level)
    if worst == 0:
        return sympy.oo, per_level
    return (1 / _sym(worst) if isinstance(worst, Fraction) else 1.0 / float(worst)), per_level


# -- Informal Principle 2 (i) and (iii): q^(l) distinguishes non-synonyms, synonyms share it -------
@dataclasses.dataclass(frozen=True)
class PatchPairs:
    r"""Pairs of level-:math:`l` patches compared through :math:`q^{(l)}` (eq. 4).

    ``pairs``: the patch-index pairs (into ``grammar.patches(level)``) that the function selects
    (confusable non-synonyms, or synonyms whose :math:`q` differ); ``compared``: how many pairs were
    compared; ``extreme_sq``: the smallest (non-synonyms) or largest (synonyms) squared distance
    :math:`\|q_\mu-q_{\mu'}\|^2` over the compared pairs (``None`` if none); ``unreachable``: patches
    with :math:`p_\mu=0` (:math:`q_\mu` undefined), left out."""
    level: int
    pairs: tuple
    compared: int
    extreme_sq: object
    unreachable: int

    @property
    def count(self) -> int:
        return len(self.pairs)

    @property
    def extreme(self):
        r""":math:`\sqrt{\text{extreme\_sq}}`: a sympy number in exact arithmetic, else a float (``None`` if no pair)."""
        if self.extreme_sq is None:
            return None
        return sympy.sqrt(_sym(self.extreme_sq)) if isinstance(self.extreme_sq, Fraction) else float(np.sqrt(self.extreme_sq))


def _patch_q_rows(grammar: Grammar, level: int, arithmetic: str):
    """:math:`q^{(l)}_\\mu` of every patch (``None`` where :math:`p_\\mu=0`) and the patches' parents."""
    law = exact.conditional_q(grammar, level, arithmetic)
    rows = [law.patch_q(mu) for mu in range(grammar.num_patches(level))]
    return rows, np.asarray(grammar.parents(level)), law.arithmetic


def _check_tolerance(tolerance, arith: str):
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, Fraction)) or not tolerance >= 0:
        raise ValueError(f"tolerance (on the squared distance) must be a real number >= 0; got {tolerance!r}")
    if arith == "fraction" and not isinstance(tolerance, (int, Fraction)):
        raise ValueError(f"tolerance must be an int or Fraction in exact arithmetic; got {tolerance!r}")
    return tolerance


def confusable_pairs(grammar: Grammar, level: int, arithmetic: str = "auto", tolerance=0) -> PatchPairs:
    r"""Informal Principle 2 (i) in the RHM (pp. 2-3, p. 9): non-synonym patches
    :math:`\nu(\mu)\ne\nu(\mu')` that :math:`q^{(l)}` does **not** distinguish,
    :math:`\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|^2\le` ``tolerance`` (0: equal, decided exactly in rationals).

    Every unordered pair of reachable patches (:math:`p_\mu>0`) with different parents is compared;
    ``extreme_sq`` is the smallest squared distance among them (:math:`\rho_l^2` of eq. 5)."""
    rows, parents, arith = _patch_q_rows(grammar, level, arithmetic)
    tolerance = _check_tolerance(tolerance, arith)
    live = [mu for mu, q in enumerate(rows) if q is not None]
    pairs, best, compared = [], None, 0
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            if parents[a] == parents[b]:
                continue
            d2 = sum((x - y) ** 2 for x, y in zip(rows[a], rows[b]))
            compared += 1
            best = d2 if best is None or d2 < best else best
            if d2 <= tolerance:
                pairs.append((a, b))
    if best is not None:
        best = Fraction(best) if arith == "fraction" else float(best)
    return PatchPairs(level, tuple(pairs), compared, best, len(rows) - len(live))


def synonym_spread(grammar: Grammar, level: int, arithmetic: str = "auto") -> PatchPairs:
    r"""Informal Principle 2 (iii) in the RHM (p. 9, p. 13; remark under eq. 4): synonyms share
    :math:`q^{(l)}`. ``pairs``: synonym pairs (same parent, both reachable) whose :math:`q` differ;
    ``extreme_sq``: the largest :math:`\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|^2` over synonym pairs (0 exactly
    for a context-free grammar)."""
    rows, parents, arith = _patch_q_rows(grammar, level, arithmetic)
    live = [mu for mu, q in enumerate(rows) if q is not None]
    pairs, worst, compared = [], None, 0
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            if parents[a] != parents[b]:
                continue
            d2 = sum((x - y) ** 2 for x, y in zip(rows[a], rows[b]))
            compared += 1
            worst = d2 if worst is None or d2 > worst else worst
            if d2 != 0:
                pairs.append((a, b))
    if worst is not None:
        worst = Fraction(worst) if arith == "fraction" else float(worst)
    return PatchPairs(level, tuple(pairs), compared, worst, len(rows) - len(live))


# -- Assumption 9 (a)-(b): clusters of token embeddings ---------------------------------------------
@dataclasses.dataclass(frozen=True)
class ClusterSeparation:
    r"""Assumption 9 on a finite set of token representations: ``intra`` = the tightest
    :math:`\tilde\varepsilon_S=\max_\mu\max_{h,h'\in\tilde P_{R,l,\mu}}\|h-h'\|` (a), ``inter`` = the
    largest :math:`\tilde\rho=\min_{\mu\ne\mu'}\min\|h_\mu-h_{\mu'}\|` (b); ``diameter[token]`` per
    cluster, ``closest`` the two tokens at distance ``inter``, ``distinct[token]`` the number of
    distinct representations. Assumption 9 holds iff ``intra < inter`` (``ratio < 1``)."""
    intra: float
    inter: float
    diameter: dict
    closest: tuple
    distinct: dict

    @property
    def ratio(self) -> float:
        r""":math:`\tilde\varepsilon_S/\tilde\rho` (``inf`` if two clusters touch)."""
        return math.inf if self.inter == 0 else self.intra / self.inter


def cluster_separation(h, tokens, chunk_size: int = 4096) -> ClusterSeparation:
    r"""Assumption 9 (a)-(b) (p. 11) of representations ``h`` (``[n, d_e]``, float) of tokens ``tokens``
    (``[n]``, int, at least two distinct): the largest within-token distance and the smallest
    between-token distance, exactly over all pairs (duplicates removed first; distances computed
    directly, not through the Gram matrix, in chunks of ``chunk_size`` rows)."""
    if not isinstance(h, torch.Tensor) or h.ndim != 2 or not h.is_floating_point() or h.shape[0] == 0:
        raise ValueError(f"h (token representations) must be a non-empty float tensor [n, d_e]; got "
                         f"{type(h).__name__} {tuple(getattr(h, 'shape', ()))}")
    if not bool(torch.isfinite(h).all()):
        raise ValueError("h (token representations) must hold finite numbers (no NaN or infinity)")
    if (not isinstance(tokens, torch.Tensor) or tokens.shape != (h.shape[0],) or tokens.is_floating_point()
            or tokens.dtype == torch.bool):
        raise ValueError(f"tokens must be an integer tensor [n = {h.shape[0]}] (one token per row of h); got "
                         f"{type(tokens).__name__} {tuple(getattr(tokens, 'shape', ()))}")
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}")
    ids = sorted(set(tokens.tolist()))
    if len(ids) < 2:
        raise ValueError(f"tokens must hold at least two distinct tokens (Assumption 9(b) compares clusters); got {ids}")
    groups = {t: torch.unique(h[tokens == t], dim=0) for t in ids}

    def dist(a, b):
        return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")

    diameter = {}
    for t, pts in groups.items():
        worst = 0.0
        for i in range(0, len(pts), chunk_size):
            worst = max(worst, float(dist(pts[i:i + chunk_size], pts).max()))
        diameter[t] = worst
    inter, closest = math.inf, None
    for a_i, a in enumerate(ids):
        for b in ids[a_i + 1:]:
            pa, pb = groups[a], groups[b]
            for i in range(0, len(pa), chunk_size):
                d = float(dist(pa[i:i + chunk_size], pb).min())
                if d < inter:
                    inter, closest = d, (a, b)
    return ClusterSeparation(intra=max(diameter.values()), inter=inter, diameter=diameter, closest=closest,
                             distinct={t: len(p) for t, p in groups.items()})


# -- Definitions 3-4 and Remark 5 on production rules given as arrays ------------------------------
DEFINITION_CONDITIONS = ("repeated_rules", "ambiguous_patches", "patch_set_size", "inputs_with_two_labels")


def _as_rule_arrays(rules, num_features: int, num_classes: int) -> list[np.ndarray]:
    if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) or num_features < 1:
        raise ValueError(f"num_features (V) must be an integer >= 1; got {num_features!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"num_classes (n_c = |V_0|) must be an integer >= 1; got {num_classes!r}")
    if not isinstance(rules, (list, tuple)) or len(rules) == 0:
        raise ValueError("rules must be a non-empty list of int arrays, one per level (rules[l]: |V_l| x m x s)")
    arrays = [np.asarray(r) for r in rules]
    shape0 = arrays[0].shape
    if arrays[0].ndim != 3 or 0 in shape0:
        raise ValueError(f"rules[0] must have shape (num_classes, m, s) with m, s >= 1; got {shape0}")
    _, m, s = shape0
    for l, r in enumerate(arrays):
        want = (num_classes if l == 0 else num_features, m, s)
        if r.shape != want:
            raise ValueError(f"rules[{l}] must have shape {want} (|V_{l}| x m x s); got {r.shape}")
        if not np.issubdtype(r.dtype, np.integer):
            raise ValueError(f"rules[{l}] must hold integers; got dtype {r.dtype}")
        if r.min() < 0 or r.max() >= num_features:
            raise ValueError(f"rules[{l}] holds symbols outside [0, num_features-1] = [0, {num_features - 1}]")
    return arrays


def production_law(rules, level: int, num_features: int, num_classes: int) -> list[dict]:
    r"""The transition kernel :math:`Q_l(\nu,\cdot)` that choosing one of the :math:`m` listed rules of
    :math:`\nu` uniformly at random induces (Definition 3): ``out[nu][patch] = #{r : rules[level][nu, r]
    = patch} / m`` in rationals. Definition 4 (CFG-induced) asks that it be uniform over its support."""
    arrays = _as_rule_arrays(rules, num_features, num_classes)
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not 0 <= level < len(arrays):
        raise ValueError(f"level must be an integer in [0, {len(arrays) - 1}] (Q_l maps level l to l+1); got {level!r}")
    r = arrays[level]
    m = r.shape[1]
    out = []
    for nu in range(r.shape[0]):
        law: dict = {}
        for patch in map(tuple, r[nu].tolist()):
            law[patch] = law.get(patch, Fraction(0)) + Fraction(1, m)
        out.append(law)
    return out


def languages(rules, num_features: int, num_classes: int, limit: int = 200_000) -> list[set]:
    r"""The set of inputs (tuples of :math:`s^L` tokens) each label :math:`\zeta\in V_0` generates,
    top-down over the rule arrays (a brute force that needs no non-ambiguity); ``ValueError`` if the
    grammar has more than ``limit`` derivations."""
    arrays = _as_rule_arrays(rules, num_features, num_classes)
    n_c, m, s = arrays[0].shape
    L = len(arrays)
    total = n_c * m ** ((s**L - 1) // (s - 1)) if s > 1 else n_c * m**L
    if total > limit:
        raise ValueError(f"rules have {total} derivations, more than limit={limit}: the languages are only "
                         f"enumerated for tiny grammars")
    memo: dict = {}

    def strings(depth, symbol):
        key = (depth, symbol)
        if key not in memo:
            if depth == L:
                memo[key] = {(symbol,)}
            else:
                out = set()
                for rule in arrays[depth][symbol].tolist():
                    parts = [strings(depth + 1, c) for c in rule]
                    for combo in itertools.product(*parts):
                        out.add(tuple(t for part in combo for t in part))
                memo[key] = out
        return memo[key]

    return [strings(0, zeta) for zeta in range(n_c)]


@dataclasses.dataclass(frozen=True)
class DefinitionCheck:
    r"""Violations of Definitions 3-4 / Remark 5 (pp. 5-6) by production rules, condition by condition
    (:data:`DEFINITION_CONDITIONS`); ``counts[c]`` is ``None`` where condition ``c`` was not checked
    (languages too large to enumerate). ``details`` names the offending symbols/patches/inputs."""
    counts: dict
    details: dict

    @property
    def total(self) -> int:
        return sum(v for v in self.counts.values() if v is not None)


def definition_violations(rules, num_features: int, num_classes: int, language_limit: int = 200_000) -> DefinitionCheck:
    r"""Count the violations of the RHM's defining conditions by rule arrays (``rules[l]``: ``(|V_l|, m, s)``,
    row ``rules[l][nu, r]`` the :math:`r`-th rule of :math:`\nu`), with :math:`D_0` and the rule choice
    uniform (Definition 3's sampling process):

    * ``repeated_rules`` -- :math:`(l,\nu)` whose :math:`m` listed rules are not :math:`m` distinct
      patches: :math:`\nu` has fewer than :math:`m` rules ((V,m)-uniformity, Remark 5) and the uniform
      choice gives a repeated rule weight :math:`2/m`, so :math:`Q_l(\nu,\cdot)` is not uniform over
      its support (Definition 4);
    * ``ambiguous_patches`` -- :math:`(l,\mu)` produced by two symbols, :math:`|\{(\nu',\mu')\in R_l:\mu'=\mu\}|>1`
      (non-ambiguity, Remark 5);
    * ``patch_set_size`` -- levels with :math:`|P_{l+1}|\ne|V_l|\,m` (:math:`|P_l|=Vm`, Remark 5; the package
      allows :math:`|V_0|=n_c\neq V`, so :math:`|P_1|=n_c m`);
    * ``inputs_with_two_labels`` -- inputs generated by two labels (the label is then not a function of
      the input, Remark 5), from :func:`languages` (``None`` beyond ``language_limit`` derivations).
    """
    arrays = _as_rule_arrays(rules, num_features, num_classes)
    m = arrays[0].shape[1]
    counts = dict.fromkeys(DEFINITION_CONDITIONS, 0)
    details: dict = {c: [] for c in DEFINITION_CONDITIONS}
    for l, r in enumerate(arrays):
        parents_of: dict = {}
        for nu in range(r.shape[0]):
            patches = [tuple(p) for p in r[nu].tolist()]
            if len(set(patches)) != m:
                counts["repeated_rules"] += 1
                details["repeated_rules"].append({"level": l, "symbol": nu})
            for p in set(patches):
                parents_of.setdefault(p, set()).add(nu)
        for p, who in parents_of.items():
            if len(who) > 1:
                counts["ambiguous_patches"] += 1
                details["ambiguous_patches"].append({"level": l + 1, "patch": list(p), "parents": sorted(who)})
        if len(parents_of) != r.shape[0] * m:
            counts["patch_set_size"] += 1
            details["patch_set_size"].append({"level": l + 1, "size": len(parents_of), "expected": r.shape[0] * m})
    try:
        langs = languages(arrays, num_features, num_classes, language_limit)
    except ValueError:
        counts["inputs_with_two_labels"] = None
    else:
        seen: dict = {}
        for zeta, lang in enumerate(langs):
            for x in lang:
                seen.setdefault(x, []).append(zeta)
        bad = {x: z for x, z in seen.items() if len(z) > 1}
        counts["inputs_with_two_labels"] = len(bad)
        details["inputs_with_two_labels"] = [{"input": list(x), "labels": z} for x, z in list(bad.items())[:10]]
        details["language_size"] = len(seen)
    return DefinitionCheck(counts=counts, details=details)
