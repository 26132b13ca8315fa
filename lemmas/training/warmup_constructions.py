r"""The warm-up constructions of Paper A, Section 3 (non-ambiguous, :math:`(V,m)`-uniform RHMs).

**Construction 1** (access to intermediate nodes). With the tensor-product feature map
:math:`\Phi(h_1\circ\cdots\circ h_s)=h_1\otimes\cdots\otimes h_s`, one-hot tokens give orthonormal patch
embeddings, :math:`\langle x_\mu,x_{\mu'}\rangle=\mathbb 1\{\mu=\mu'\}`, and
:math:`W^{(l)}=\sum_{\mu\in P_l}e_{\nu(\mu)}x_\mu^\top` maps every patch to the one-hot vector of its parent;
repeated level by level, the network outputs :math:`e_\zeta` on every input.

**Construction 2** (conditional probabilities as a surrogate). :math:`W^{(l)}=m^{-1}\sum_{\mu\in P_l}q^{(l)}_\mu x_\mu^\top`
(the paper prints :math:`\sum_{\mu\in P_L}`; the sum is over the level's patches) with orthonormal
:math:`x_\mu` gives :math:`W^{(l)}x_\mu=m^{-1}q^{(l)}_\mu`, and the normalization (2) removes the scale:
:math:`h=q^{(l)}_\mu`. A clustering map then sends each :math:`q`-vector to the one-hot id of its
cluster; if non-synonyms have distinct :math:`q` (Assumption 6(b), :math:`K_\rho>0`) the clusters are the
parents, and at level 1 :math:`q^{(1)}_\mu=e_{\nu(\mu)}=e_\zeta`.

**Measured, exactly** (``Fraction``, every derivation of the grammar enumerated): the largest
:math:`\|h^{(0)}(x)-e_\zeta\|^2` over all inputs, and for Construction 2 also the largest
:math:`\|W^{(l)}x_\mu/\langle\mathbf 1,W^{(l)}x_\mu\rangle-q^{(l)}_\mu\|^2` over levels and patches. Bound: 0.

**Independent of the library's** :math:`q`. Construction 2's :math:`W^{(l)}` is built from *data*: the
co-occurrence counts of (first level-:math:`l` patch, label) over every derivation (each has the same
probability, so the counts give the population :math:`q^{(l)}_\mu` exactly); the first patch of a derivation is
found by reducing its input bottom-up through the rules (no parser, no :func:`verify.rhm.exact.conditional_q`).
The normalized outputs are then compared with :func:`~verify.rhm.exact.conditional_q` -- the cross-check of
that function -- and the clustering uses the data's :math:`q`. The tensor feature map is the learner's own
(:func:`verify.learners.layerwise_ridge.tensor_features`), so a bug there moves this claim.

**Negative controls.** Construction 1 with plain concatenation :math:`\Phi(h)=h_1\circ\cdots\circ h_s`
(not orthogonal: patches sharing a token overlap), and Construction 2 on a hand-made grammar whose two
level-1 symbols have the same :math:`q^{(2)}` (:math:`K_\rho=0`), so the clustering merges them.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.learners import layerwise_ridge
from verify.rhm import enumerate_derivations, exact

STATEMENT = (r"\text{C1: }\Phi=\otimes,\ W^{(l)}=\textstyle\sum_{\mu}e_{\nu(\mu)}x_\mu^\top\Rightarrow h^{(0)}=e_\zeta;"
             r"\quad\text{C2: }W^{(l)}=m^{-1}\textstyle\sum_\mu q^{(l)}_\mu x_\mu^\top\Rightarrow"
             r"\frac{W^{(l)}x_\mu}{\langle\mathbf 1,W^{(l)}x_\mu\rangle}=q^{(l)}_\mu,\ h^{(0)}=e_\zeta")


def degenerate_grammar() -> rhm.Grammar:
    """Both labels' level-1 patches start with both tokens: the first-token matrix has equal columns,
    so the two level-1 symbols (non-synonyms) get the same :math:`q^{(2)}`."""
    return rhm.Grammar.from_rules([np.array([[[0, 0], [1, 1]], [[0, 1], [1, 0]]]),
                                   np.array([[[0, 0], [0, 1]], [[1, 0], [1, 1]]])], 2, 2)


def grammar_of(p: dict) -> rhm.Grammar:
    if p.get("grammar") == "degenerate":
        return degenerate_grammar()
    return rhm.grammar_from_params(p)


def one_hot(idx: np.ndarray, d: int) -> np.ndarray:
    out = np.full(idx.shape + (d,), Fraction(0), dtype=object)
    for pos, i in np.ndenumerate(idx):
        out[pos + (int(i),)] = Fraction(1)
    return out


def patch_features(tokens: np.ndarray, s: int, features: str) -> np.ndarray:
    r"""Eq. (1) with :math:`\Phi=\otimes` (Construction 1) or plain concatenation: ``(n, s*k, d)`` → ``(n, k, d_x)``."""
    n, t, d = tokens.shape
    h = tokens.reshape(n, t // s, s, d)
    if features == "concat":
        return h.reshape(n, t // s, s * d)
    # the learner's Construction-1 map, in float64 (0/1 entries: exact), back to Fractions exactly
    f = layerwise_ridge.tensor_features(torch.tensor(h.astype(float), dtype=torch.float64)).numpy()
    out = np.empty(f.shape, dtype=object)
    out.ravel()[:] = [Fraction(v) for v in f.ravel()]
    return out


def first_patch_q(grammar: rhm.Grammar, x: np.ndarray, labels: np.ndarray, level: int) -> dict:
    r""":math:`q^{(l)}_\mu` from data: for each level-``level`` patch (a tuple of symbols), the label frequencies
    over the derivations whose first level-``level`` patch it is, as ``Fraction`` rows. The first patch is
    found by reducing the leftmost :math:`s^{L-l+1}` input tokens through the rules (each patch has one
    parent: non-ambiguity)."""
    s, L, n_c = grammar.tuple_size, grammar.num_layers, grammar.num_classes
    h = x[:, : s ** (L - level + 1)]
    for l in range(L, level, -1):
        parent = {tuple(int(a) for a in mu): int(nu) for mu, nu in zip(grammar.patches(l), grammar.parents(l))}
        h = np.array([[parent[tuple(int(a) for a in row[i:i + s])] for i in range(0, len(row), s)] for row in h])
    counts: dict = {}
    for row, z in zip(h, labels):
        counts.setdefault(tuple(int(a) for a in row), [0] * n_c)[int(z)] += 1
    return {mu: np.array([Fraction(c, sum(cs)) for c in cs], dtype=object) for mu, cs in counts.items()}


def _normalize(v: np.ndarray) -> np.ndarray:
    tot = v.sum(-1, keepdims=True)
    return v / tot


def run(grammar: rhm.Grammar, construction: int, features: str = "tensor"):
    r"""Build the construction's weights level by level and run every derivation through it.
    Returns (largest squared output error, largest squared error of a level's normalized output
    against :math:`q^{(l)}_\mu` -- Construction 2 only, and the number of inputs)."""
    der = enumerate_derivations(grammar)
    x = der.x.numpy()
    labels = der.labels.numpy()
    V, n_c, m, s, L = (grammar.num_features, grammar.num_classes, grammar.num_synonyms, grammar.tuple_size,
                       grammar.num_layers)
    tokens = one_hot(x, V)               # level-L tokens, one-hot
    q_err = Fraction(0)
    cluster_code = np.arange(V)          # level-L tokens are their own clusters
    for l in range(L, 0, -1):
        patches = np.array(grammar.patches(l))
        parents = np.array(grammar.parents(l))
        d_e = tokens.shape[-1]
        d_out = n_c if (l == 1 or construction == 2) else V
        if construction == 1:
            targets = one_hot(parents, d_out)
        else:
            q_data = first_patch_q(grammar, x, labels, l)        # from data, not from conditional_q
            missing = [tuple(int(a) for a in mu) for mu in patches if tuple(int(a) for a in mu) not in q_data]
            if missing:
                raise ValueError(f"level {l}: patches {missing} are never first; q is undefined there")
            targets = np.stack([q_data[tuple(int(a) for a in mu)] for mu in patches]) * Fraction(1, m)
            law = exact.conditional_q(grammar, l, "fraction")    # only compared with, below
        # x_mu of every patch, in the token code of this level (one-hot of the cluster ids)
        patch_tokens = one_hot(cluster_code[patches] if construction == 2 else patches, d_e)
        X = patch_features(patch_tokens.reshape(1, -1, d_e), s, features)[0]     # (|P_l|, d_x)
        W = targets.T @ X                                                        # sum_mu t_mu x_mu^T
        out = patch_features(tokens, s, features) @ W.T                          # (n, s^{l-1}, d_out)
        if construction == 1:
            tokens = out
        else:
            h = _normalize(out)
            law_q = np.stack([law.q[nu] for nu in parents])
            h_patch = _normalize(X @ W.T)
            q_err = max(q_err, max(sum((a - b) ** 2 for a, b in zip(r1, r2)) for r1, r2 in zip(h_patch, law_q)))
            if l == 1:
                tokens = h
                break
            # clustering: each distinct q-vector (of the level-(l-1) symbols, from the data) gets a one-hot id
            q_of = {int(nu): tuple(q_data[tuple(int(a) for a in mu)]) for mu, nu in zip(patches, parents)}
            q_rows = [q_of.get(nu, ("unreached", nu)) for nu in range(V)]
            ids = {}
            cluster_code = np.array([ids.setdefault(r, len(ids)) for r in q_rows])
            flat = h.reshape(-1, d_out)
            cl = np.array([ids.get(tuple(r), -1) for r in flat]).reshape(h.shape[:-1])
            tokens = one_hot(np.maximum(cl, 0), V)
    final = tokens[:, 0, :]
    target = one_hot(labels, n_c)
    err = max(sum((a - b) ** 2 for a, b in zip(r1, r2)) for r1, r2 in zip(final, target))
    return err, q_err, len(labels)


def exact_measure(case: Case) -> Measurement:
    p = case.params
    g = grammar_of(p)
    err, q_err, n = run(g, p["construction"], p.get("features", "tensor"))
    value = max(err, q_err)
    return Measurement(value=value, details={"grammar": repr(g), "inputs": n, "output_error_sq": str(err),
                                             "q_error_sq": str(q_err), "construction": p["construction"],
                                             "features": p.get("features", "tensor")})


def bound(case: Case):
    return Fraction(0)


_G = dict(V=4, n_c=4, m=2, s=2, L=3, grammar_seed=1, sampler="appendix_b")

CLAIM = Claim(
    name="warmup_constructions",
    paper="A",
    reference="Section 3, Constructions 1 and 2",
    page="p. 9",
    statements=("Construction 1", "Construction 2"),
    hypotheses=(
        r"\text{non-ambiguous, }(V,m)\text{-uniform RHM}",
        r"\text{Construction 1: access to intermediate nodes; }\Phi(h_1\circ\cdots\circ h_s)=h_1\otimes\cdots\otimes h_s\text{, one-hot tokens}",
        r"\text{Construction 2: orthonormal }x_\mu\text{ and a clustering map from outputs to one-hot cluster ids}",
    ),
    statement=STATEMENT,
    measured=r"\max_x\|h^{(0)}(x)-e_\zeta\|^2\ \vee\ \max_{l,\mu}\|\tfrac{W^{(l)}x_\mu}{\langle\mathbf 1,W^{(l)}x_\mu\rangle}-q^{(l)}_\mu\|^2"
             r"\ \text{(exact, all derivations)}",
    relation="<=",
    bound=bound,
    exact=exact_measure,
    cases=(
        Case("construction1_V4_m2_L3", dict(_G, construction=1)),
        Case("construction1_authors_V3_m3_L2", dict(V=3, n_c=3, m=3, s=2, L=2, grammar_seed=1, sampler="authors",
                                                    construction=1)),
        Case("construction2_V4_m2_L3", dict(_G, construction=2)),
        Case("construction2_authors_V3_m3_L2", dict(V=3, n_c=3, m=3, s=2, L=2, grammar_seed=1, sampler="authors",
                                                    construction=2)),
        Case("construction1_concatenation", dict(_G, construction=1, features="concat"), role="negative_control",
             note="Phi = concatenation: patches sharing a token have overlapping embeddings, W x_mu mixes parents"),
        Case("construction2_degenerate_grammar", dict(grammar="degenerate", construction=2), role="negative_control",
             note="K_rho = 0: two non-synonym level-1 symbols share q^(2), the clustering merges them"),
        Case("construction2_random_degenerate_V3_m3_L2", dict(V=3, n_c=3, m=3, s=2, L=2, grammar_seed=0,
                                                              sampler="authors", construction=2),
             role="negative_control",
             note="this random grammar (authors' sampler, seed 0) has K_rho = 0 (verify.rhm.assumptions): "
                  "the same failure as the hand-made one, arising at random"),
    ),
)
